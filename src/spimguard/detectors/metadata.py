"""What the metadata detectors share about one message, worked out once.

The session, dormancy, burst and correlation detectors all need the same
few facts (which session sent it, is that session new, which recipients had
gone quiet, how big it is, what the account sent in the last hour). They
are computed on first use and kept in the message context's memo, so four
detectors cost one read of each record. Nothing here reads the text: every
fact exists for an encrypted message too.
"""

from __future__ import annotations

from dataclasses import dataclass

from spimguard.core.context import MessageContext
from spimguard.state.packed import hash32
from spimguard.state.profiles import AccountProfile, contacts_of, profile_of
from spimguard.state.sessions import Outreach, SessionBook, outreach_of, sessions_of

__all__ = ["DAY", "DORMANT_AFTER", "FRESH", "IDLE", "ONE_NEW", "MetaFacts", "facts"]

DAY = 86_400.0
#: A session counts as new for a day, at full strength for its first two hours.
FRESH = 2 * 3600.0
#: Weight of a new session whose login was new in device or network, not both.
ONE_NEW = 0.5
#: An old session that sent within this long is still in use (seconds).
PARALLEL_WINDOW = 3600.0
#: An account silent this long is itself waking up.
IDLE = 14 * DAY
#: A contact not written to for this long has gone quiet.
DORMANT_AFTER = 30 * DAY
#: Accounts need this many messages before "never wrote to them" means anything.
MIN_HISTORY = 5
#: Recipients looked at per message (a room message is not a wake-up).
MAX_LOOKED_AT = 32
#: Recipients whose own profiles and contact lists are read (whether they wrote
#: first, whether they know the sender); later recipients of a larger message
#: are not dormant.
MAX_REPLY_CHECKED = 4
#: Someone who wrote to the sender this recently is being answered, not woken.
REPLY_WINDOW = 3600.0
#: A message to at most this many people is a direct chat.
DIRECT_MAX = 2
_MEMO = "metadata.facts"


@dataclass(frozen=True, slots=True)
class MetaFacts:
    #: Hash of the sending device (0: the transport did not say).
    session: int
    #: The session is new for the account (appeared after others), or, without a
    #: device id, the account logged in from a new device or network lately.
    new_session: bool
    #: Seconds since the session (or the new login) first appeared.
    session_age: float
    #: A login from a device, client or network never seen came in the last day ...
    new_login: bool
    #: ... from a new device and a new network at once.
    new_everywhere: bool
    #: Sessions that appeared as new in the last day (device ids that churn).
    churn: int
    #: Recipients (hashes) the sender had not written to in DORMANT_AFTER.
    dormant: frozenset[int]
    #: Recipients (hashes) who wrote to the sender in the last REPLY_WINDOW and got
    #: no answer since: the sender is answering them (a conversation, not outreach).
    answering: frozenset[int]
    size: int | None
    direct: bool
    #: Seconds since the account last sent anything (None: never seen sending).
    idle: float | None
    #: The account's sends in the last hour, from this session only when the
    #: message names its session (the owner's own phone is not the attacker's burst).
    #: Recorded and read for new sessions (and waking accounts) only: empty otherwise.
    outreach: Outreach
    #: How much a finding from this session counts: 1 for a new session after a login
    #: from a new device *and* a new network, ONE_NEW when only one of them was new
    #: (a new phone at home, a trip with one's own laptop), 0 for a known session.
    suspicion: float
    #: Another session of the account, not new, sent within PARALLEL_WINDOW while
    #: this new one is active: the owner is still there, on their own device.
    parallel: bool
    #: All of the account's sends in the last hour (what is stored back).
    everything: Outreach
    book: SessionBook | None


def facts(ctx: MessageContext) -> MetaFacts:
    got = ctx.memo.get(_MEMO)
    if got is None:
        got = ctx.memo[_MEMO] = _compute(ctx)
    return got


def _compute(ctx: MessageContext) -> MetaFacts:
    msg, now, store = ctx.message, ctx.now, ctx.store
    prof = profile_of(store, msg.sender, now, ctx.memo)
    book = sessions_of(store, msg.sender, now)
    login_ts = prof.new_login_ts if prof is not None else None
    new_login = login_ts is not None and 0.0 <= now - login_ts < DAY
    session = hash32(msg.device) if msg.device else 0
    churn = book.new_in(now - DAY) if book is not None else 0
    if session:
        known = book.sessions.get(session) if book is not None else None
        if known is None:
            # the account's first device id is new when a new login just came in
            new = (book is not None and bool(book.sessions)) or new_login
            age = 0.0
        else:
            new, age = known.new, max(now - known.first_seen, 0.0)
        new = new and age < DAY
    else:
        new = new_login
        age = max(now - login_ts, 0.0) if new and login_ts is not None else 0.0
    idle = None
    if book is not None and book.last_message is not None:
        idle = max(now - book.last_message, 0.0)
    # who is dormant, who is being answered and what the session sent lately matter
    # only for a new session (or an account waking up): for the owner's own sessions,
    # nearly every message, none of it is read
    looking = new or (idle is not None and idle >= IDLE)
    dormant: set[int] = set()
    answering: set[int] = set()
    if looking:
        answering = {hash32(r) for r in msg.recipients[:MAX_REPLY_CHECKED]
                     if _awaits_answer(ctx, prof, r)}
        dormant = _dormant(ctx, prof, answering)
    size = msg.size
    if size is None and msg.text is not None:
        size = len(msg.text.encode("utf-8", "replace"))
    outreach = outreach_of(store, msg.sender, now) if looking else Outreach()
    mine = outreach if not session else Outreach(
        [e for e in outreach.entries if e.session == session])
    everywhere = new_login and prof is not None and prof.new_login_everywhere
    suspicion = (1.0 if everywhere else ONE_NEW) if new else 0.0
    parallel = bool(new and session and book is not None and any(
        k != session and not s.new and 0.0 <= now - s.last_seen <= PARALLEL_WINDOW
        for k, s in book.sessions.items()))
    return MetaFacts(session, new, age, new_login, everywhere, churn, frozenset(dormant),
                     frozenset(answering), size, len(msg.recipients) <= DIRECT_MAX, idle,
                     mine, suspicion, parallel, outreach, book)


def _dormant(ctx: MessageContext, prof: AccountProfile | None, answering: set[int]
             ) -> set[int]:
    msg, now = ctx.message, ctx.now
    out: set[int] = set()
    if prof is None or prof.messages < MIN_HISTORY or len(msg.recipients) > DIRECT_MAX * 4:
        return out
    for i, r in enumerate(msg.recipients[:MAX_LOOKED_AT]):
        wrote = prof.last_wrote(r)
        if wrote is not None and now - wrote <= DORMANT_AFTER:
            continue
        h = hash32(r)
        if i < MAX_REPLY_CHECKED and (h in answering or not _knows(ctx, r)):
            continue
        out.add(h)
    return out


def _knows(ctx: MessageContext, recipient: str) -> bool:
    """The recipient had added the sender: an old acquaintance, not someone new (people
    write to new acquaintances all the time; a worm writes to the whole contact list)."""
    contacts = contacts_of(ctx.store, recipient, ctx.now)
    return contacts is not None and ctx.message.sender in contacts


def _awaits_answer(ctx: MessageContext, prof: AccountProfile | None, recipient: str) -> bool:
    """The recipient wrote to the sender in the last REPLY_WINDOW and has had no answer
    since: this message answers them. (Once answered, the next message to them is the
    sender's own initiative again: a thief writing to friends who had just written is
    still writing to each of them.)"""
    rp = profile_of(ctx.store, recipient, ctx.now, ctx.memo)
    wrote = rp.last_wrote(ctx.message.sender) if rp is not None else None
    if wrote is None or not 0.0 <= ctx.now - wrote <= REPLY_WINDOW:
        return False
    mine = prof.last_wrote(recipient) if prof is not None else None
    # stored times are whole seconds: an answer within the same second counts as given
    return mine is None or mine < wrote
