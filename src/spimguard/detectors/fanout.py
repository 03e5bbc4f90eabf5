"""Fan-out: the same message, above all the same link, to many people at once.

The compromised-account attack in one line: the attacker logs in and sends a
link to every contact of the victim. Per sender, the detector remembers the
last minutes of (key, recipient) pairs, where a key is a linked domain or the
shape of the text (digits masked, links reduced to their domains), and counts
distinct recipients per key. ``NEW_DEVICE_BURST`` adds the login: links sent
to several people shortly after a login from a device or IP the account never
used.

Not fan-out: text without a link or a premium-rate number or short code
("happy new year!" or "my new number is ..." to every friend is ordinary),
and a reply to someone who wrote to the sender in the last ``REPLY_WINDOW``
(a conversation the recipient started; the recipient is left out of the
count).

Blind spot: a slow attacker (a few messages an hour, to frequent contacts)
stays under the window; the profile and campaign detectors are meant for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.events import Event, MessageEvent
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.shared import ALL_LINKS_WELL_KNOWN, message_domains, people_strength
from spimguard.state.packed import hash32, pack_ts, pack_u32, unpack_u32
from spimguard.state.profiles import profile_key, profile_of
from spimguard.text.contacts import PAID_NUMBER, contact_details

__all__ = ["FanoutDetector"]

WINDOW = 15 * 60.0
#: Recipient entries remembered per sender (bounds memory for a 100k-recipient blast).
MAX_ENTRIES = 256
#: Links sent within this long of a new-device login count (an attacker may
#: wait hours before using a stolen session) ...
NEW_LOGIN_WINDOW = 24 * 3600.0
#: ... at full strength in the first two hours, and at LATE_FACTOR after.
FRESH_LOGIN = 2 * 3600.0
LATE_FACTOR = 0.6
#: Links that all go to well-known sites (the links detector's allowlist) are
#: what people share from a new phone; a stolen session needs a phishing page.
WELL_KNOWN_FACTOR = 0.5
#: A recipient who wrote to the sender this recently is being answered.
REPLY_WINDOW = 3600.0
#: Recipients whose profiles are read to find replies (direct and small chats).
MAX_REPLY_CHECKED = 4
_DIGITS = re.compile(r"\d+")
_URL = re.compile(r"\S*\.\S+")


def _key(user: str) -> str:
    return f"fanout:{user}"


#: Keys of linked domains have the top bit set; keys of text shapes have it clear.
_DOMAIN_BIT = 0x80000000


def _shape(match_text: str) -> int:
    s = _URL.sub("<l>", _DIGITS.sub("0", match_text[:500]))
    digest = hashlib.blake2b(s.encode("utf-8", "replace"), digest_size=4).digest()
    return int.from_bytes(digest, "little") & ~_DOMAIN_BIT


#: One remembered send: (time, key, recipient hash), packed as three u32.
Entry = tuple[int, int, int]


def _pack(entries: list[Entry]) -> bytes:
    return pack_u32([x for e in entries for x in e])


def _unpack(raw: bytes) -> list[Entry]:
    flat = unpack_u32(raw, 0, len(raw) // 4 - (len(raw) // 4) % 3)
    return [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)]


class FanoutDetector(DetectorBase):
    name = "fanout"
    signals = (
        SignalSpec("FANOUT_BURST", 10.0, "The same link (or the same text) went to many "
                   "people within 15 minutes: 0.4 from 3 recipients, 0.7 from 5, 1 from 8; "
                   "six-tenths of that for text without a link, which counts only when it "
                   "carries a premium-rate number or short code; recipients who wrote "
                   "to the sender in the last hour are being answered and not counted."),
        SignalSpec("NEW_DEVICE_BURST", 8.0, "Links to several people after a login from a "
                   "device or IP the account never used: 0.5 from the second recipient (in the "
                   "window or since the login), +0.25 per further one, within 2 hours; "
                   "six-tenths of that up to 24 hours; half when every link goes to a "
                   "well-known (allowlisted) site."),
    )

    def __init__(self) -> None:
        #: (message id, its keys, the window as read in check): observe() adds to it
        #: without reading and decoding it again.
        self._pending: tuple[str, list[int], list[Entry], set[int]] | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FanoutDetector:
        return cls()

    def _keys(self, ctx: MessageContext) -> list[tuple[int, str | None]]:
        """(key, linked domain or None for the text's shape) of the message."""
        keys: list[tuple[int, str | None]] = [
            (hash32(d) | _DOMAIN_BIT, d) for d in message_domains(ctx)[:5]]
        if ctx.text is not None and len(ctx.text.match) >= 12 and (
                keys or PAID_NUMBER in contact_details(ctx.text.match[:4096])):
            keys.append((_shape(ctx.text.match), None))
        return keys

    def prefetch(self, message: MessageEvent) -> list[str]:
        return [_key(message.sender)] + [
            profile_key(r) for r in message.recipients[:MAX_REPLY_CHECKED]]

    def _replies(self, ctx: MessageContext) -> set[int]:
        """Hashes of recipients who opened a conversation with the sender within
        REPLY_WINDOW: they wrote, and the sender had not written to them in the
        REPLY_WINDOW before that (an exchange the sender started, then a link to
        everyone in it, is still fan-out: that is the worm)."""
        msg = ctx.message
        own = profile_of(ctx.store, msg.sender, ctx.now, ctx.memo)
        out: set[int] = set()
        for r in msg.recipients[:MAX_REPLY_CHECKED]:
            rp = profile_of(ctx.store, r, ctx.now, ctx.memo)
            wrote = rp.last_wrote(msg.sender) if rp is not None else None
            if wrote is None or not 0.0 <= ctx.now - wrote <= REPLY_WINDOW:
                continue
            mine = own.last_wrote(r) if own is not None else None
            # they wrote first (the sender's last message to them is older than the
            # window before theirs), or the sender is already answering them
            if mine is None or mine < wrote - REPLY_WINDOW or mine > wrote:
                out.add(hash32(r))
        return out

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.text is None:
            raise Abstain("no readable text (encrypted): counted by recipients only")
        msg = ctx.message
        recent = self._recent(ctx.store, msg.sender, ctx.now)
        hits: list[Hit] = []
        best = (0.0, "")
        keys = self._keys(ctx)
        replies = self._replies(ctx) if keys else set()
        self._pending = (msg.id, [k for k, _ in keys], recent, replies)
        now_rcpts = {hash32(r) for r in msg.recipients[:MAX_ENTRIES]} - replies
        for key, domain in keys:
            rcpts = {r for t, k, r in recent if k == key} | now_rcpts
            s = people_strength(len(rcpts))
            if domain is None:
                s *= 0.6
            if s > best[0]:
                what = f"link to {domain}" if domain is not None else "same text"
                best = (s, f"{what} to {len(rcpts)} people in {int(WINDOW // 60)} min")
        if best[0] > 0:
            hits.append(Hit("FANOUT_BURST", best[0], best[1]))
        has_link = any(domain is not None for _, domain in keys)
        prof = profile_of(ctx.store, msg.sender, ctx.now, ctx.memo)
        if (has_link and prof is not None and prof.new_login_ts is not None
                and ctx.now - prof.new_login_ts < NEW_LOGIN_WINDOW):
            rcpts = {r for t, k, r in recent if k & _DOMAIN_BIT} | now_rcpts
            # people sent a link since the login, also beyond the 15-minute window
            n = max(len(rcpts), prof.login_links + prof.new_since_login(msg.recipients))
            # one link to one person from a new phone is sharing, not a burst
            strength = 0.0 if n < 2 else min(1.0, 0.5 + 0.25 * (n - 2))
            if ctx.now - prof.new_login_ts > FRESH_LOGIN:
                strength *= LATE_FACTOR  # an attacker who waits is still an attacker
            if ctx.memo.get(ALL_LINKS_WELL_KNOWN):
                strength *= WELL_KNOWN_FACTOR
            if strength > 0:
                minutes = int((ctx.now - prof.new_login_ts) // 60)
                hits.append(Hit("NEW_DEVICE_BURST", strength,
                                f"links to {n} people {minutes} min after a login from a "
                                f"new {prof.new_login_detail}"))
        return hits

    def _recent(self, store: Any, user: str, now: float) -> list[Entry]:
        raw = store.get(_key(user), now)
        if not isinstance(raw, bytes | bytearray):
            return []
        return [e for e in _unpack(bytes(raw)) if now - e[0] <= WINDOW]

    def observe(self, event: Event, now: float) -> None:
        if not isinstance(event, MessageEvent) or self.store is None or event.text is None:
            return
        if self._pending is None or self._pending[0] != event.id:
            return  # not checked by this engine (a replayed history is learned by profile)
        _, keys, recent, replies = self._pending
        self._pending = None
        recent = list(recent)
        t = pack_ts(now)
        rcpts = [h for r in event.recipients[:MAX_ENTRIES] if (h := hash32(r)) not in replies]
        for key in keys:
            recent.extend((t, key, r) for r in rcpts)
        self.store.set(_key(event.sender), _pack(recent[-MAX_ENTRIES:]), now, WINDOW)
