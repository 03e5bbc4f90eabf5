"""One campaign state per engine, found through the engine's store.

The ``campaigns`` and ``decoys`` detectors are separate objects built by
separate registry factories from separate settings tables, yet a decoy hit
must confirm the campaign the other detector matches. Both detectors see the
engine's store in every ``MessageContext``, so the state is kept per store:
the first detector to touch a store creates it, the other finds it, and two
engines (two stores) never share campaigns. Operators reach it the same way:
``campaigns_for(engine.store)``.

A store on Redis (a :class:`~spimguard.state.redis.RedisStore`, or one
behind wrappers: a :class:`~spimguard.state.redis.FallbackStore`'s
``primary``, as ``open_store("redis://...")`` builds, or the ``inner`` store
of the engine's per-message batch) is shared by several workers, and so are
its campaigns: the state is then a
:class:`~spimguard.campaigns.replicated.ReplicatedCampaigns` on the stream
``<prefix>campaigns:log`` of the store's client. Every other store gets a
plain, in-memory :class:`Campaigns`, except a :class:`~spimguard.state.sqlite.SqliteStore`
on a file: its campaigns are replicated through a fact log in a SQLite file
beside it (:mod:`spimguard.campaigns.sqlite_log`), so they survive a restart
and are shared by the workers of one machine.

The map holds stores weakly, so a dropped engine's campaigns go with it. A
store that cannot be weakly referenced is held for the life of the process.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

from spimguard.campaigns.replicated import CampaignState, ReplicatedCampaigns
from spimguard.campaigns.settings import CampaignSettings
from spimguard.campaigns.sqlite_log import SqliteCampaignLog, log_path_for
from spimguard.campaigns.state import Campaigns

__all__ = ["LOG_KEY", "CampaignState", "campaigns_for"]

#: The stream of campaign facts, under the store's key prefix.
LOG_KEY = "campaigns:log"

#: Wrappers looked through to find a store on Redis.
_MAX_WRAPPERS = 4

_BY_STORE: weakref.WeakKeyDictionary[Any, CampaignState] = weakref.WeakKeyDictionary()
_PINNED: dict[int, tuple[Any, CampaignState]] = {}


def campaigns_for(store: object, settings: CampaignSettings | None = None) -> CampaignState:
    """The campaign state of ``store``, created on first use.

    ``settings`` (given by the ``campaigns`` detector, which owns them) replace
    the current ones; ``None`` keeps whatever the state has.
    """
    try:
        state = _BY_STORE.get(store)
    except TypeError:  # not weak-referenceable
        pinned = _PINNED.get(id(store))
        state = pinned[1] if pinned is not None and pinned[0] is store else None
    if state is None:
        state = _new_state(store, settings)
        try:
            _BY_STORE[store] = state
        except TypeError:
            _PINNED[id(store)] = (store, state)
    elif settings is not None and settings != state.settings:
        state.settings = settings
    return state


def _new_state(store: object, settings: CampaignSettings | None) -> CampaignState:
    if "spimguard.state.sqlite" in sys.modules:  # campaigns kept next to a state file
        from spimguard.state.sqlite import SqliteStore

        local = store if isinstance(store, SqliteStore) else getattr(store, "inner", None)
        if isinstance(local, SqliteStore) and local.path not in ("", ":memory:"):
            log = SqliteCampaignLog(log_path_for(local.path))
            return ReplicatedCampaigns(log, settings)
    if "spimguard.state.redis" in sys.modules:  # else no store can be on Redis
        from spimguard.state.redis import FallbackStore, RedisStore

        target: object = store
        for _ in range(_MAX_WRAPPERS):
            if isinstance(target, RedisStore):
                return ReplicatedCampaigns.on_redis(target.client, target.key(LOG_KEY), settings)
            if isinstance(target, FallbackStore):
                target = target.primary
            else:
                target = getattr(target, "inner", None)
                if target is None:
                    break
    return Campaigns(settings)
