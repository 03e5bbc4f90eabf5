"""One campaign state per engine, found through the engine's store.

The ``campaigns`` and ``decoys`` detectors are separate objects built by
separate registry factories from separate settings tables, yet a decoy hit
must confirm the campaign the other detector matches. Both detectors see the
engine's store in every ``MessageContext``, so the state is kept per store:
the first detector to touch a store creates it, the other finds it, and two
engines (two stores) never share campaigns. Operators reach it the same way:
``campaigns_for(engine.store)``.

The map holds stores weakly, so a dropped engine's campaigns go with it. A
store that cannot be weakly referenced is held for the life of the process.
"""

from __future__ import annotations

import weakref
from typing import Any

from spimguard.campaigns.settings import CampaignSettings
from spimguard.campaigns.state import Campaigns

__all__ = ["campaigns_for"]

_BY_STORE: weakref.WeakKeyDictionary[Any, Campaigns] = weakref.WeakKeyDictionary()
_PINNED: dict[int, tuple[Any, Campaigns]] = {}


def campaigns_for(store: object, settings: CampaignSettings | None = None) -> Campaigns:
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
        state = Campaigns(settings)
        try:
            _BY_STORE[store] = state
        except TypeError:
            _PINNED[id(store)] = (store, state)
    elif settings is not None and settings != state.settings:
        state.settings = settings
    return state
