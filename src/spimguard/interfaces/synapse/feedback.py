"""What recipients do, as the module sees it: leaving a direct chat, ignoring a user.

Both are recipients' feedback (``feedback`` events) about the people who wrote
to them; the engine may answer with a notice that challenges a new session,
which is then logged out before it sends again.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from spimguard.core.events import Event, FeedbackEvent

if TYPE_CHECKING:
    from spimguard.interfaces.synapse.module import SpimguardModule

__all__ = ["FeedbackHooks"]

log = logging.getLogger("spimguard.synapse")

#: Ignore lists remembered (one per local user who changed theirs).
REMEMBER_IGNORE_LISTS = 200_000


class FeedbackHooks:
    def __init__(self, module: SpimguardModule) -> None:
        self.module = module
        #: Who each local user ignores (Matrix's block), to tell new blocks from old.
        self._ignored: OrderedDict[str, frozenset[str]] = OrderedDict()

    async def on_new_event(self, event: Any, state: Any) -> None:
        """A local user leaving a direct chat is feedback about the others in it (they may
        have just written a lure there): the engine may challenge their new session."""
        try:
            if event.type != "m.room.member" or not self.module.api.is_mine(event.state_key):
                return
            if event.content.get("membership") != "leave" or event.sender != event.state_key:
                return
            members = await self.module._members(event.room_id)
            others = [u for u, m in members.items() if m == "join" and u != event.state_key]
            if not 1 <= len(others) < self.module.config.dm_max_members:
                return
            now = time.time()
            await self._feedback([FeedbackEvent(now, event.state_key, other, "leave",
                                                event.room_id) for other in others])
        except Exception as e:
            log.warning("spimguard: could not read a leave (%s: %s)", type(e).__name__, e)

    async def on_account_data(self, user_id: str, room_id: str | None, account_data_type: str,
                              content: Any) -> None:
        """``m.ignored_user_list`` is Matrix's block: each newly ignored user is blocked by
        ``user_id``, each one dropped from the list unblocked."""
        try:
            if room_id is not None or account_data_type != "m.ignored_user_list":
                return
            ignored = content.get("ignored_users") if hasattr(content, "get") else None
            now_set = frozenset(u for u in (ignored or {}) if isinstance(u, str))
            before = self._ignored.get(user_id, frozenset())
            self.module._bounded(self._ignored, user_id, now_set, REMEMBER_IGNORE_LISTS)
            now = time.time()
            events = [FeedbackEvent(now, user_id, u, "block") for u in sorted(now_set - before)]
            events += [FeedbackEvent(now, user_id, u, "unblock")
                       for u in sorted(before - now_set)]
            if events:
                await self._feedback(events)
        except Exception as e:
            log.warning("spimguard: could not read the ignore list of %s (%s: %s)", user_id,
                        type(e).__name__, e)

    async def _feedback(self, events: Sequence[Event]) -> None:
        for notice in await self.module.backend.observe(list(events)):
            await self._on_notice(notice)

    async def _on_notice(self, notice: dict[str, Any]) -> None:
        """An account action outside a message (recipients' feedback): a challenged session
        is logged out at once, before it sends again."""
        user, session = notice.get("user"), notice.get("session")
        if isinstance(user, str) and isinstance(session, str):
            await self.module.admin.logout(user, session)
