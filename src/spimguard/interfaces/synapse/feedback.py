"""What recipients do, as the module sees it: leaving a direct chat, ignoring a user,
reporting a message.

Leaving and ignoring are recipients' feedback (``feedback`` events) about the
people who wrote to them; the engine may answer with a notice that challenges
a new session, which is then logged out before it sends again. Matrix reports
(``POST /rooms/{room}/report/{event}``, with a reason) reach no module
callback, so the module reads new ones from the admin API every
``poll_reports`` seconds and feeds them as user reports: they work in
encrypted rooms too, where the report names the event and the sender. The
offset read so far is kept in ``data_dir/reports.offset``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spimguard.core.events import Event, FeedbackEvent, ReportEvent

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
        self._offset_file = Path(module.config.data_dir) / "reports.offset"
        self._offset = _read_offset(self._offset_file)

    async def poll_reports(self) -> None:
        """Feed the reports made since the last poll (oldest first) as users' reports."""
        try:
            admin = self.module.admin
            while True:
                url = admin.url(f"/_synapse/admin/v1/event_reports?from={self._offset}"
                                "&limit=100&dir=f")
                page = await self.module.api.http_client.get_json(
                    url, headers=await admin.headers())
                reports = page.get("event_reports", []) if isinstance(page, dict) else []
                for r in reports:
                    event = _report_event(r)
                    if event is not None:
                        await self.module.backend.report(event)
                self._offset += len(reports)
                if reports:
                    _write_offset(self._offset_file, self._offset)
                if len(reports) < 100:
                    return
        except Exception as e:
            log.warning("spimguard: could not read Matrix reports (%s: %s)", type(e).__name__,
                        e)

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


def _report_event(r: Any) -> ReportEvent | None:
    """A Matrix event report (admin API row) as a user's spam report; None if malformed."""
    if not isinstance(r, dict):
        return None
    reporter, event_id = r.get("user_id"), r.get("event_id")
    if not isinstance(reporter, str) or not isinstance(event_id, str):
        return None
    ts = r.get("received_ts")
    sender, reason = r.get("sender"), r.get("reason")
    return ReportEvent(ts=ts / 1000.0 if isinstance(ts, int | float) else time.time(),
                       reporter=reporter, message_id=event_id, label="spam",
                       sender=sender if isinstance(sender, str) and sender else None,
                       reason=reason[:512] if isinstance(reason, str) and reason else None)


def _read_offset(path: Path) -> int:
    try:
        return max(int(path.read_text(encoding="ascii").strip() or 0), 0)
    except (OSError, ValueError):
        return 0


def _write_offset(path: Path, offset: int) -> None:
    try:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(str(offset), encoding="ascii")
        tmp.replace(path)
    except OSError as e:
        log.warning("spimguard: could not save the reports offset (%s)", e)
