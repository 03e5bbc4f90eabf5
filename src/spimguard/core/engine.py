"""The engine: runs the detectors on a message and asks the policy for a verdict.

No I/O of its own, no knowledge of transports. Every interface (CLI, HTTP,
Synapse) builds one with :func:`spimguard.build.build_engine` and calls
:meth:`Engine.check` for messages and :meth:`Engine.observe` for the other
events. A detector that raises leaves an ``error`` in the verdict's trace and
emits nothing; one broken detector never breaks delivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from spimguard.core.context import MessageContext
from spimguard.core.detector import Detector
from spimguard.core.escalation import Escalation, Finding, sessions_key
from spimguard.core.events import Event, FeedbackEvent, MessageEvent, TruthEvent, UnlockEvent
from spimguard.core.policy import Policy
from spimguard.core.signals import Abstain, Hit, Signal, SignalSpec
from spimguard.core.verdicts import AccountAction, AccountNotice, Action, TraceEntry, Verdict
from spimguard.state.base import Store
from spimguard.state.batch import BatchedStore
from spimguard.state.feedback import negative_feedback
from spimguard.state.memory import MemoryStore
from spimguard.state.packed import hash32
from spimguard.text import NormalizedText, normalize

__all__ = ["ENGINE_SIGNALS", "MAX_ANALYSED_CHARS", "Engine"]

log = logging.getLogger("spimguard.engine")

#: Text beyond this many characters is not analysed (a 1 MB message is judged
#: on its first 64 K characters, and the verdict says so).
MAX_ANALYSED_CHARS = 65_536

ENGINE_SIGNALS = (
    SignalSpec("TEXT_TRUNCATED", 0.0, "The message was longer than the engine analyses."),
    SignalSpec("ACCOUNT_LOCKED", 0.0, "The sender's account is locked until an unlock event."),
    SignalSpec("ACCOUNT_CHALLENGED", 0.0,
               "The sender's account must re-authenticate (until an unlock event)."),
    SignalSpec("SESSION_CHALLENGED", 0.0,
               "The sending session was challenged (hijack suspected), or is a new session "
               "of an account whose session was hijacked lately; until an unlock event."),
    SignalSpec("ESCALATED", 0.0, "This message completed an account escalation rule "
               "(stopped messages in a row, or a hijacked session); see core.escalation."),
)

#: Detectors whose signals read the text: left out of a session's metadata evidence.
TEXT_DETECTORS = frozenset({"content", "links", "obfuscation", "campaigns", "decoys"})
#: Signals about who the sender is rather than what the session does: a new
#: session is the rule's precondition, not evidence for it (a new phone sends
#: many messages), and an account's age is not its session's behaviour.
NOT_SESSION_EVIDENCE = frozenset({"NEW_SESSION", "YOUNG_ACCOUNT",
                                  # these read the links or the wording too
                                  "STRANGER_LINK", "NEW_DEVICE_BURST", "FANOUT_BURST",
                                  "PROFILE_DEVIATION"})
#: NEW_SESSION's strength in a session's first two hours is at least this (later: 0.6
#: times its factors, below it).
FRESH_STRENGTH = 0.3
#: Account notices kept until an interface drains them.
MAX_NOTICES = 10_000


class Engine:
    def __init__(
        self,
        detectors: Sequence[Detector],
        policy: Policy | None = None,
        store: Store | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.policy = policy or Policy()
        base: Store = store if store is not None else MemoryStore()
        #: A store across the network is batched per message (few round trips).
        batched = getattr(base, "remote", False) or getattr(base, "batched", False)
        self.store: Store = BatchedStore(base) if batched else base
        self._clock = clock
        self.detectors = [d for d in detectors if d.name not in self.policy.disabled]
        specs: dict[str, SignalSpec] = {s.name: s for s in ENGINE_SIGNALS}
        for d in detectors:  # disabled ones too: their names stay valid in policy files
            for s in d.signals:
                specs[s.name] = s
        self.specs = specs
        self.policy.check_signals(specs)
        for d in self.detectors:
            bind = getattr(d, "bind", None)
            if bind is not None:
                bind(self.store)
        #: Detectors that learn from messages or verdicts (a no-op hook, marked ``noop``
        #: as the base class's are, is not called twice per message for nothing).
        self._learners = [d for d in self.detectors if not _noop(getattr(d, "observe", None))]
        self._verdict_hooks = [d for d in self.detectors
                               if not _noop(getattr(d, "on_verdict", None))]
        self.escalation = Escalation(self.policy.escalation)
        self._not_session = frozenset(s.name for d in detectors if d.name in TEXT_DETECTORS
                                      for s in d.signals) | NOT_SESSION_EVIDENCE | {
                                          s.name for s in ENGINE_SIGNALS}
        self._notices: list[AccountNotice] = []

    # -- public API ----------------------------------------------------------

    def check(self, message: MessageEvent) -> Verdict:
        """Judge one message; updates state (account actions, detector memory).

        Ground truth never reaches a detector: a ``label`` is stripped first.
        """
        if message.label is not None:
            message = replace(message, label=None)
        now = message.ts if self._clock is None else self._clock()
        text = message.text
        truncated = False
        normalized = None
        if text is not None and not message.encrypted:
            if len(text) > MAX_ANALYSED_CHARS:
                truncated = True
                text = text[:MAX_ANALYSED_CHARS]
            normalized = normalize(text)
        batch = self.store if isinstance(self.store, BatchedStore) else None
        if batch is not None:
            batch.begin(now, self._prefetch(message))
        try:
            return self._check(message, now, normalized, truncated)
        finally:
            if batch is not None:
                batch.commit()

    def _prefetch(self, message: MessageEvent) -> list[str]:
        """Keys the detectors will read for this message (fetched in one round trip)."""
        keys = [_account_key(message.sender), sessions_key(message.sender),
                f"account:{message.sender}:escalation"]
        for det in self.detectors:
            announce = getattr(det, "prefetch", None)
            if announce is not None:
                try:
                    keys.extend(announce(message))
                except Exception:  # a hint only: the reads still happen one by one
                    log.exception("detector %s failed to list its keys", det.name)
        return keys

    def _check(self, message: MessageEvent, now: float, normalized: NormalizedText | None,
               truncated: bool) -> Verdict:
        ctx = MessageContext(message, normalized, self.store, now, truncated)
        hits: list[Hit] = []
        trace: list[TraceEntry] = []
        if truncated:
            hits.append(Hit("TEXT_TRUNCATED", 0.0,
                            f"analysed the first {MAX_ANALYSED_CHARS} of "
                            f"{len(message.text or '')} characters"))
        for det in self.detectors:
            trace.append(self._run(det, ctx, hits))
        state = self.account_state(message.sender, now)
        if state is not None:
            name = "ACCOUNT_LOCKED" if state is AccountAction.LOCK else "ACCOUNT_CHALLENGED"
            done = "locked" if state is AccountAction.LOCK else "challenged"
            hits.append(Hit(name, 0.0, f"account {done} earlier; waiting for unlock"))
        session = hash32(message.device) if message.device else 0
        new_session = any(h.name == "NEW_SESSION" for h in hits)
        held_session = self._session_standing(message, session, new_session, now, hits)
        decision = self.policy.decide(hits, self.specs)
        action = decision.action
        floor: Action | None = None
        if state is not None:
            floor = (self.policy.locked_messages if state is AccountAction.LOCK
                     else self.policy.challenged_messages)
        elif held_session is not None:
            floor = self.policy.challenged_messages
        account = decision.account_action
        if account is not None and state is not None and (
                state is AccountAction.LOCK or account is AccountAction.CHALLENGE):
            account = None  # already challenged or locked: no new action to report
        if account is AccountAction.CHALLENGE and held_session == "held":
            account = None  # the session is challenged already
        signals = decision.signals
        target: str | None = None
        if held_session == "new":  # a new session of a guarded account: challenged at once
            account, target = AccountAction.CHALLENGE, message.device
        elif account is AccountAction.CHALLENGE and new_session and message.device:
            target = message.device  # the session, not the owner's other devices
        if account is not None and target is None:
            self._escalate(message.sender, account, now)
        elif account is None and state is None and held_session is None:
            stopped = max(action, floor or action, key=lambda a: a.rank).stops
            meta = sum(sig.score for sig in decision.signals
                       if sig.score > 0 and sig.name not in self._not_session)
            first = hash32(message.recipients[0]) if message.recipients else 0
            fresh = any(h.name == "NEW_SESSION" and h.strength >= FRESH_STRENGTH
                        for h in hits)
            finding = self.escalation.after_message(self.store, message.sender, session,
                                                    first, new_session, stopped, meta, now,
                                                    fresh)
            if finding is not None:
                account, target = self._apply(message.sender, finding, message.device, now)
                floor = self.policy.challenged_messages
                signals = (*signals, Signal("ESCALATED", 0.0, finding.reason))
        if target is not None:
            self.escalation.challenge_session(self.store, message.sender, session, now)
            floor = self.policy.challenged_messages  # this message too: the session is out
        if floor is not None and floor.rank > action.rank:
            action = floor
        if new_session and message.device:
            self.store.set(_last_new_key(message.sender), message.device, now, 86_400.0)
        campaign = next((h.campaign for h in hits if h.campaign is not None), None)
        verdict = Verdict(
            id=message.id,
            action=action,
            score=decision.score,
            signals=signals,
            account_action=account,
            campaign=campaign,
            trace=tuple(trace),
            session=target,
        )
        for det in self._learners:
            self._observe(det, message, now)
        for det in self._verdict_hooks:
            self._on_verdict(det, message, verdict, now)
        return verdict

    def observe(self, event: Event) -> Verdict | None:
        """Feed any event; messages are checked and return their verdict."""
        if isinstance(event, MessageEvent):
            return self.check(event)
        if isinstance(event, TruthEvent):
            return None  # ground truth is for scoring only
        now = event.ts if self._clock is None else self._clock()
        if isinstance(event, UnlockEvent):
            self.store.delete(_account_key(event.user))
            self.store.delete(sessions_key(event.user))
            self.store.delete(f"account:{event.user}:escalation")
        for det in self._learners:
            self._observe(det, event, now)
        if isinstance(event, FeedbackEvent) and event.op != "unblock":
            self._after_feedback(event.sender, now)
        return None

    def drain_notices(self) -> list[AccountNotice]:
        """Account actions taken since the last call outside any verdict (feedback that
        escalated an account): the interface enforces them (logs the session out)."""
        out, self._notices = self._notices, []
        return out

    def account_state(self, user: str, now: float | None = None) -> AccountAction | None:
        """The account's standing action (challenge or lock), if any."""
        t = time.time() if now is None else now
        v = self.store.get(_account_key(user), t)
        return AccountAction(v) if v else None

    def restore_account_action(self, user: str, action: AccountAction, now: float) -> None:
        """Re-apply a standing challenge or lock (e.g. from a durable ledger after a restart)."""
        self._escalate(user, action, now)

    def explain_signals(self) -> Iterable[SignalSpec]:
        """Every signal the engine can emit, with its effective weight."""
        for spec in sorted(self.specs.values(), key=lambda s: s.name):
            yield SignalSpec(spec.name, self.policy.weight(spec), spec.description)

    # -- internals -----------------------------------------------------------

    def _run(self, det: Detector, ctx: MessageContext, hits: list[Hit]) -> TraceEntry:
        name = det.name
        try:
            found = list(det.check(ctx))
        except Abstain as why:
            return TraceEntry(name, "abstained", str(why))
        except Exception as exc:  # a broken detector must not break delivery
            log.exception("detector %s failed on message %s", name, ctx.message.id)
            return TraceEntry(name, "error", f"{type(exc).__name__}: {exc}")
        hits.extend(found)
        return TraceEntry(name, "ran", ", ".join(h.name for h in found))

    def _observe(self, det: Detector, event: Event, now: float) -> None:
        try:
            det.observe(event, now)
        except Exception:
            log.exception("detector %s failed to observe %s", det.name, type(event).__name__)

    def _on_verdict(self, det: Detector, message: MessageEvent, verdict: Verdict,
                    now: float) -> None:
        hook = getattr(det, "on_verdict", None)
        if hook is None:
            return
        try:
            hook(message, verdict, now)
        except Exception:
            log.exception("detector %s failed on the verdict of %s", det.name, message.id)

    def _session_standing(self, message: MessageEvent, session: int, new_session: bool,
                          now: float, hits: list[Hit]) -> str | None:
        """"held" if the sending session is challenged, "new" if it is a new session of an
        account whose session was hijacked lately (the attacker has the password)."""
        ids, guard = self.escalation.challenged_sessions(self.store, message.sender, now)
        if not ids:
            return None
        if session and session in ids:
            hits.append(Hit("SESSION_CHALLENGED", 0.0, "this session was challenged earlier; "
                            "waiting for unlock"))
            return "held"
        if guard is not None and new_session and session:
            hits.append(Hit("SESSION_CHALLENGED", 0.0, "a new session of an account whose "
                            "session was challenged lately"))
            return "new"
        return None

    def _apply(self, user: str, finding: Finding, device: str | None, now: float
               ) -> tuple[AccountAction, str | None]:
        """Challenge the session the finding names (when its device id is known), else the
        account."""
        if finding.session is not None and device is not None and \
                hash32(device) == finding.session:
            return AccountAction.CHALLENGE, device
        self._escalate(user, AccountAction.CHALLENGE, now)
        return AccountAction.CHALLENGE, None

    def _after_feedback(self, sender: str, now: float) -> None:
        if self.account_state(sender, now) is not None:
            return
        counts = negative_feedback(self.store, sender, now, self.escalation.settings
                                   .session_window)
        finding = self.escalation.after_feedback(self.store, sender, sum(counts.values()), now)
        if finding is None:
            return
        device = self.store.get(_last_new_key(sender), now)
        device = device if isinstance(device, str) else None
        if finding.session is not None and finding.session in \
                self.escalation.challenged_sessions(self.store, sender, now)[0]:
            return  # that session is challenged already
        action, device = self._apply(sender, finding, device, now)
        if device is not None:
            self.escalation.challenge_session(self.store, sender, hash32(device), now)
        self._notices.append(AccountNotice(now, sender, action, finding.reason, device))
        del self._notices[:-MAX_NOTICES]

    def _escalate(self, user: str, action: AccountAction, now: float) -> None:
        current = self.account_state(user, now)
        if current is AccountAction.LOCK:
            return
        self.store.set(_account_key(user), action.value, now)


def _noop(hook: object) -> bool:
    return hook is None or bool(getattr(hook, "noop", False))


def _account_key(user: str) -> str:
    return f"account:{user}:action"


def _last_new_key(user: str) -> str:
    """The device id of the account's latest new session (feedback names it)."""
    return f"account:{user}:new-device"
