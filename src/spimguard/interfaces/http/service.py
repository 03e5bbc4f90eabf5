"""What the HTTP API does, without HTTP: one engine, its store, the ledger, metrics.

Kept apart from the routes so the rules (what is durable before an answer,
which account changes are recorded, how a restart restores locks) read in one
place and can be tested without a server. The engine is not thread-safe, so
every call into it takes one lock; a check costs a fraction of a millisecond,
so one process serves thousands a second this way, and more workers share
state through Redis.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from spimguard.build import build_engine
from spimguard.campaigns import Campaign, campaigns_for
from spimguard.core.events import Event, MessageEvent, ReportEvent, UnlockEvent
from spimguard.core.policy import Policy
from spimguard.core.verdicts import AccountAction, Verdict
from spimguard.detectors.content import ContentDetector
from spimguard.detectors.decoys import DecoysDetector
from spimguard.detectors.links import LinksDetector
from spimguard.learning.feedback import retrain, shipped_corpus, version_path
from spimguard.learning.guard import GuardSettings, Validation, guard_texts, validate
from spimguard.learning.model import ContentModel, ModelError
from spimguard.state.ledger import Ledger, LedgerError
from spimguard.state.open import open_store
from spimguard.state.profiles import profile_of
from spimguard.state.verdict_log import VerdictLog

__all__ = ["LISTS", "Service", "ServiceConfig"]

#: Lists an operator edits through the API: link block and allow lists (hosts,
#: IPs or URLs, as in the policy's list files) and decoy accounts.
LISTS = ("block", "allow", "decoys")
#: The engine's signals for an account's standing action.
_STANDING = {"ACCOUNT_LOCKED": AccountAction.LOCK, "ACCOUNT_CHALLENGED": AccountAction.CHALLENGE}
#: Seconds between checks of the list files for edits made by another worker.
LIST_CHECK_EVERY = 5.0

log = logging.getLogger("spimguard.service")

#: (ts, user, action, reason) of an account action the ledger must record.
PendingAction = tuple[float, str, str, str]


@dataclass(slots=True)
class ServiceConfig:
    #: Folder of the ledger (and of the state file with ``store="sqlite"``).
    data_dir: Path = field(default_factory=lambda: Path("spimguard-data"))
    #: ``sqlite`` (default, kept across restarts), ``memory`` or a ``redis://`` URL.
    store: str = "sqlite"
    policy: Path | None = None
    #: Bearer keys required (``spimguard keys create``); off only for local trials.
    auth: bool = True
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 1000
    #: Retrain the content model after this many new moderator labels (0: only on request).
    retrain_every: int = 10
    #: Texts of this many recent messages are kept, so a report can name its text.
    recent_texts: int = 50_000
    #: What a retrain starts from (default: the shipped corpora).
    base_corpus: Callable[[], tuple[list[str], list[bool]]] = shipped_corpus
    #: Add the shipped chat ham corpora to every retrain, as the shipped model has them.
    chat_ham: bool = True
    #: Validate every retrained model before it goes live (learning.guard).
    guard: bool = True
    guard_settings: GuardSettings = field(default_factory=GuardSettings)


#: Seconds between reads of new account actions from the ledger (locks taken by
#: other workers are enforced here within this time).
STANDING_REFRESH = 1.0


def _status_value(log: VerdictLog, key: str) -> float:
    return float(log.status()[key])


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.checks = Counter("spimguard_checks", "Messages checked, by action", ["action"],
                              registry=r)
        self.account_actions = Counter("spimguard_account_actions",
                                       "Accounts challenged, locked or unlocked", ["action"],
                                       registry=r)
        self.latency = Histogram("spimguard_check_seconds", "Engine time per message",
                                 buckets=(.0005, .001, .002, .005, .01, .02, .05, .1, .5),
                                 registry=r)
        self.store_errors = Counter("spimguard_store_errors",
                                    "Calls the shared store failed (served locally)",
                                    registry=r)
        self.model_rejected = Gauge("spimguard_model_rejected",
                                    "1 when the last retrained model failed validation and "
                                    "stayed inactive", registry=r)
        self.degraded = Gauge("spimguard_store_degraded",
                              "1 while the shared store is unreachable", registry=r)
        self.reports = Counter("spimguard_reports", "Reports received", ["label"], registry=r)

    def watch_verdict_log(self, log: VerdictLog) -> None:
        """Gauges read from the verdict log at scrape time (its writer is its own thread)."""
        r = self.registry
        for key, doc in (("pending", "Verdicts waiting to be written"),
                         ("quarantined", "Verdicts that could not be written even repaired"),
                         ("repaired", "Verdicts written with lone surrogates replaced"),
                         ("dropped", "Verdicts dropped after the disk refused them too long"),
                         ("restarts", "Times the verdict log writer was started again")):
            g = Gauge(f"spimguard_verdict_log_{key}", doc, registry=r)
            g.set_function(functools.partial(_status_value, log, key))
        ok = Gauge("spimguard_verdict_log_ok", "1 while the verdict log writes normally",
                   registry=r)
        ok.set_function(lambda: float(log.status()["ok"]))


class Service:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(config.data_dir / "ledger.sqlite")
        self.verdicts = VerdictLog(config.data_dir / "verdicts.sqlite")
        self.store = open_store(config.store, config.data_dir)
        self.lists_dir = config.data_dir / "lists"
        self.lists_dir.mkdir(exist_ok=True)
        for name in LISTS:
            self.list_path(name).touch(exist_ok=True)
        self.engine = build_engine(self._policy_with_lists(), store=self.store)
        self.metrics = _Metrics()
        self.metrics.watch_verdict_log(self.verdicts)
        self._errors_counted = 0  # the store's failures already in the metric
        self._lock = threading.Lock()
        self._texts: OrderedDict[str, str] = OrderedDict()
        #: Texts that reporters' clients decrypted and sent with a report.
        self._reported: OrderedDict[str, str] = OrderedDict()
        self._new_examples = 0
        self._training: threading.Thread | None = None
        self._train_lock = threading.Lock()
        self._retrain_again = False
        self._guard_texts: tuple[list[str], list[str]] | None = None
        self.last_training_error: str | None = None
        #: Standing locks and challenges as the ledger says, followed every
        #: STANDING_REFRESH seconds: enforced even when the shared store lost them.
        self._standing: dict[str, AccountAction] = {}
        #: Account notices from feedback, until /v1/events answers them.
        self._notices: list[dict[str, Any]] = []
        self._standing_id = 0
        self._standing_read = 0.0
        self._restore()
        self._restore_model()
        self._decoys_seen = -1
        self._decoys_checked = 0.0
        #: The policy's decoys: kept whatever the operator's list says.
        self._policy_decoys = frozenset(u for d in self.engine.detectors
                                        if isinstance(d, DecoysDetector) for u in d.decoys)
        self._sync_decoys(force=True)
        self._commit()  # restored locks are written before the first request

    def _restore(self) -> None:
        """Standing locks and challenges from the ledger win over whatever the store lost."""
        now = time.time()
        self._refresh_standing(force=True)
        for user, action in self._standing.items():
            self.engine.restore_account_action(user, action, now)
        if self._standing:
            log.info("restored %d standing account action(s) from the ledger",
                     len(self._standing))

    def _refresh_standing(self, force: bool = False) -> None:
        """Follow the ledger's locks and unlocks (this worker's and the others'), at most
        every STANDING_REFRESH seconds: a cheap indexed read of the new rows."""
        mono = time.monotonic()
        if not force and mono - self._standing_read < STANDING_REFRESH:
            return
        self._standing_read = mono
        try:
            rows = self.ledger.actions_after(self._standing_id)
        except LedgerError as e:  # the ledger is local; keep the cache we have
            log.error("cannot read account actions from the ledger: %s", e)
            return
        for rid, user, action in rows:
            self._standing_id = max(self._standing_id, rid)
            if action == "unlock":
                self._standing.pop(user, None)
            elif action in ("challenge", "lock"):
                self._standing[user] = AccountAction(action)

    def _enforce_standing(self, user: str, ts: float) -> None:
        """A standing lock or challenge holds whatever the store lost (a Redis outage, a
        Redis that came back empty): re-applied before the account's message is judged."""
        action = self._standing.get(user)
        if action is None:
            return
        current = self.engine.account_state(user, ts)
        if current is None or (current is AccountAction.CHALLENGE
                               and action is AccountAction.LOCK):
            self.engine.restore_account_action(user, action, time.time())

    # -- events ----------------------------------------------------------------

    def check(self, message: MessageEvent) -> Verdict:
        verdict, _, action = self.judge(message)
        if action is not None:
            self.record_action(*action)
        return verdict

    async def check_json(self, message: MessageEvent) -> dict[str, Any]:
        """:meth:`check` for the event loop, answering the verdict's JSON dict (the one the
        verdict log keeps): the account action, when there is one, is written (an fsync,
        milliseconds) on a thread, so other checks go on meanwhile; the verdict is still
        answered only once the action is on disk."""
        _, out, action = self.judge(message)
        if action is not None:
            await asyncio.to_thread(self.record_action, *action)
        return out

    def judge(self, message: MessageEvent
              ) -> tuple[Verdict, dict[str, Any], PendingAction | None]:
        """The verdict, its JSON dict, and the account action it took that the ledger must
        record."""
        self._sync_decoys()
        if message.text is not None and self.config.recent_texts > 0:
            self._texts[message.id] = message.text[:10_000]
            if len(self._texts) > self.config.recent_texts:
                self._texts.popitem(last=False)
        with self._lock:
            self._refresh_standing()
            self._enforce_standing(message.sender, message.ts)
            start = time.perf_counter()
            verdict = self.engine.check(message)
            self.metrics.latency.observe(time.perf_counter() - start)
            # the standing action before the message is in the verdict's signals; the
            # store is read again only when the verdict acted on the account (rare), so
            # a check costs no extra round trip to a shared store
            before = _STANDING.get(next((s.name for s in verdict.signals
                                         if s.name in _STANDING), ""))
            after = before if verdict.account_action is None else \
                self.engine.account_state(message.sender, message.ts)
        out = verdict.to_dict()  # once: for the answer and the verdict log
        self.verdicts.add(message.ts, message.sender, out)
        self._commit()
        self.metrics.checks.labels(verdict.action.value).inc()
        self._store_health()
        reason = ", ".join(s.name for s in verdict.signals[:4])
        if verdict.session is not None:  # one session challenged, the owner's others not
            return verdict, out, (message.ts, message.sender, "session-challenge",
                                  f"message {message.id}: {reason}; session {verdict.session}")
        if after is not None and after is not before:
            return verdict, out, (message.ts, message.sender, after.value,
                                  f"message {message.id}: {reason}")
        return verdict, out, None

    def record_action(self, ts: float, user: str, action: str, reason: str,
                      standing: bool = True) -> None:
        """Durable on return (the ledger syncs every write). ``standing=False`` for an
        action on one session: in the ledger for the audit, not re-applied to the whole
        account (the engine's store keeps the session's challenge)."""
        self.ledger.add_action(ts, user, action, reason)
        if standing and action != "session-challenge":
            self._standing[user] = AccountAction(action)
        self.metrics.account_actions.labels(action).inc()

    def observe(self, event: Event) -> Verdict | None:
        if isinstance(event, MessageEvent):
            return self.check(event)
        if isinstance(event, ReportEvent):
            # a batch needs only the check scope: its reports are users' reports
            self.report(replace(event, moderator=False), moderator=False)
            return None
        if isinstance(event, UnlockEvent):
            self.unlock(event.user, event.ts, "unlock event")
            return None
        with self._lock:
            self.engine.observe(event)
            notices = self.engine.drain_notices()
        self._commit()
        for n in notices:  # feedback that challenged an account (or one of its sessions)
            where = f" session {n.session}" if n.session else ""
            self.record_action(n.ts, n.user, "session-challenge" if n.session else
                               n.action.value, f"{n.reason}{where}",
                               standing=n.session is None)
            self._notices.append(n.to_dict())
        return None

    def _bounded_put(self, d: OrderedDict[str, str], key: str, value: str) -> None:
        d[key] = value
        d.move_to_end(key)
        if len(d) > max(self.config.recent_texts, 1):
            d.popitem(last=False)

    def drain_notices(self) -> list[dict[str, Any]]:
        """Account actions that events other than messages took since the last call."""
        out, self._notices = self._notices, []
        return out

    def _commit(self) -> None:
        """End the request's writes: a SQLite file shared by several workers must not stay
        locked by one between requests (one commit per request, no fsync). The verdict
        log writes on its own thread."""
        flush = getattr(self.store, "flush", None)
        if flush is not None:
            with self._lock:
                flush()

    def report(self, event: ReportEvent, moderator: bool) -> tuple[int, str | None]:
        """Durable first (the id returned is on disk), then applied to the engine."""
        if moderator and not event.moderator:
            event = replace(event, moderator=True)
        rid = self.ledger.add_report(event.ts, event.reporter, event.message_id, event.label,
                                     moderator)
        self.metrics.reports.labels(event.label).inc()
        text = self._texts.get(event.message_id)
        source = f"moderator {event.reporter}"
        if text is None and event.text is not None:
            # an encrypted message: the reporter's client sent the text it decrypted. It
            # is kept until a moderator confirms it, and learned as reported plaintext.
            self._bounded_put(self._reported, event.message_id, event.text[:10_000])
        if text is None and event.message_id in self._reported:
            text = self._reported[event.message_id]
            source += " (reported plaintext)"
        if moderator and text is not None:
            self.ledger.add_example(event.message_id, text, event.label == "spam", source)
            self._new_examples += 1
            every = self.config.retrain_every
            if every > 0 and self._new_examples >= every:
                self.start_retrain("after moderator reports")
        with self._lock:
            self.engine.observe(event)
            state = campaigns_for(self.engine.store)
            cid = state.campaign_of(event.message_id)
            if moderator and cid is not None:
                why = f"moderator {event.reporter}: {event.label}"
                if event.label == "spam":
                    state.confirm(cid, why, event.ts)
                else:
                    state.clear(cid, why, event.ts)
        self._commit()
        return rid, cid

    def unlock(self, user: str, ts: float, reason: str) -> None:
        self.ledger.add_action(ts, user, "unlock", reason)
        self._standing.pop(user, None)
        with self._lock:
            self.engine.observe(UnlockEvent(ts, user))
        self._commit()
        self.metrics.account_actions.labels("unlock").inc()

    # -- the content model --------------------------------------------------------

    @property
    def models_dir(self) -> Path:
        return self.config.data_dir / "models"

    def _content(self) -> ContentDetector | None:
        return next((d for d in self.engine.detectors if isinstance(d, ContentDetector)), None)

    @property
    def content_model(self) -> ContentModel | None:
        det = self._content()
        return None if det is None else det.model

    def _swap(self, model: ContentModel) -> None:
        det = self._content()
        if det is not None:
            with self._lock:
                det.model = model

    def _restore_model(self) -> None:
        version = self.ledger.active_model()
        if version is None:
            return
        try:
            self._swap(ContentModel.load(version_path(self.models_dir, version)))
            log.info("content model v%d restored", version)
        except ModelError as e:  # keep serving with the shipped model, say why
            log.error("content model v%d cannot be loaded, using the shipped one: %s",
                      version, e)

    def start_retrain(self, note: str) -> bool:
        """Retrain in the background; False when one is running, which then runs again as
        soon as it ends (labels that arrive during a run are never left out)."""
        with self._train_lock:
            if self._training is not None and self._training.is_alive():
                self._retrain_again = True
                return False
            self._retrain_again = False
        self._new_examples = 0
        self._training = threading.Thread(target=self._retrain, args=(note,),
                                          name="spimguard-retrain", daemon=True)
        self._training.start()
        return True

    def wait_for_training(self, timeout: float | None = None) -> None:
        if self._training is not None:
            self._training.join(timeout)

    def _retrain(self, note: str) -> None:
        while True:
            self._retrain_once(note)
            with self._train_lock:
                if not self._retrain_again:
                    return
                self._retrain_again = False
            note = "labels that arrived during the previous run"

    def _retrain_once(self, note: str) -> None:
        try:
            examples = self.ledger.examples()
            texts, labels = self.config.base_corpus()
            model = retrain(texts, labels, examples, note=note, chat_ham=self.config.chat_ham)
            self.models_dir.mkdir(parents=True, exist_ok=True)
            version = self.ledger.add_model_version(len(examples), note)
            path = version_path(self.models_dir, version)
            model.save(path)
            check = self._validate(model, examples)
            if check is not None:
                self.ledger.add_model_check(version, check.ok, check.reason, check.figures)
                self.metrics.model_rejected.set(0.0 if check.ok else 1.0)
                if not check.ok:
                    log.warning("content model v%d stays inactive: %s", version, check.reason)
                    self.last_training_error = None
                    return
            self.ledger.set_active_model(version)
            self._swap(model)
            self.last_training_error = None
            log.info("content model v%d trained on %d moderator labels", version,
                     len(examples))
        except Exception as e:  # a failed retrain leaves the current model in place
            self.last_training_error = f"{type(e).__name__}: {e}"
            log.exception("retraining the content model failed")

    def _validate(self, candidate: ContentModel,
                  examples: list[tuple[str, bool]]) -> Validation | None:
        current = self.content_model
        if not self.config.guard or current is None:
            return None
        if self._guard_texts is None:
            self._guard_texts = guard_texts()
        ham, spam = self._guard_texts
        own_ham = [t for t, s in examples if not s]
        own_spam = [t for t, s in examples if s]
        content = self._content()
        hold_at = content.hold_at if content is not None else 0.9
        return validate(candidate, current, ham + own_ham, spam + own_spam, hold_at,
                        self.config.guard_settings)

    def activate_model(self, version: int | None) -> None:
        """Use model ``version`` (None: the shipped one); ``ModelError`` if it can't load."""
        from spimguard.learning.shipped import load_shipped_model

        model = (load_shipped_model() if version is None
                 else ContentModel.load(version_path(self.models_dir, version)))
        self._swap(model)
        self.ledger.set_active_model(version)

    def rollback(self) -> int | None:
        """Back to the version before the active one (or to the shipped model)."""
        active = self.ledger.active_model()
        older = [v["version"] for v in self.ledger.model_versions()
                 if active is None or v["version"] < active]
        target = older[-1] if older and active is not None else None
        self.activate_model(target)
        return target

    # -- operator lists ------------------------------------------------------------
    # Kept as files in the data folder, so every worker on the machine serves the
    # same lists: the links detector's lists reload on change, decoys are re-read.

    def list_path(self, name: str) -> Path:
        if name not in LISTS:
            raise KeyError(name)
        return self.lists_dir / f"{name}.txt"

    def read_list(self, name: str) -> list[str]:
        path = self.list_path(name)
        if not path.exists():
            return []
        return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]

    def write_list(self, name: str, entries: list[str]) -> None:
        """Replace a list; written to a temporary file and renamed, so readers never see half."""
        path = self.list_path(name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(e + "\n" for e in entries), encoding="utf-8")
        tmp.replace(path)
        with self._lock:
            for det in self.engine.detectors:
                if isinstance(det, LinksDetector):
                    for lst in (det.analyzer.blocklist, det.analyzer.allowlist):
                        lst.reload_if_changed(force_check=True)
        self._sync_decoys(force=True)

    def _policy_with_lists(self) -> Policy:
        """The policy, with the operator's list files added to the links detector's lists."""
        from spimguard.links.shipped import DEFAULT_ALLOW, DEFAULT_BLOCK, data_path

        pol = Policy.load(self.config.policy)
        links = dict(pol.detector_settings.get("links", {}))
        for key, name, defaults in (("block_lists", "block", DEFAULT_BLOCK),
                                    ("allow_lists", "allow", DEFAULT_ALLOW)):
            base = links.get(key)
            if base is None:
                base = [str(data_path(n)) for n in defaults]
            links[key] = [*base, str(self.list_path(name))]
        return replace(pol, detector_settings={**pol.detector_settings, "links": links})

    def _sync_decoys(self, force: bool = False) -> None:
        """Decoys from the file (another worker may have changed it) plus the policy's."""
        now = time.monotonic()
        if not force and now - self._decoys_checked < LIST_CHECK_EVERY:
            return
        self._decoys_checked = now
        path = self.list_path("decoys")
        stamp = path.stat().st_mtime_ns if path.exists() else -1
        if stamp == self._decoys_seen:
            return
        self._decoys_seen = stamp
        users = self.read_list("decoys")
        with self._lock:
            for det in self.engine.detectors:
                if isinstance(det, DecoysDetector):
                    det.replace(users, keep=self._policy_decoys)

    def sender_of(self, message_id: str) -> str | None:
        """Who sent a message this machine checked (from the verdict log)."""
        found = self.verdicts.query(message_id=message_id, limit=1)
        return str(found[0]["sender"]) if found else None

    # -- reading ---------------------------------------------------------------

    def account(self, user: str) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            action = self.engine.account_state(user, now)
            prof = profile_of(self.store, user, now)
        summary = None if prof is None else {
            "messages": prof.messages, "first_seen": prof.first_seen,
            "created_ts": prof.created_ts, "link_rate": round(prof.link_rate, 3),
            "recent_recipients": len(prof.recipients), "devices": len(prof.devices),
            "ips": len(prof.ips), "last_new_login": prof.new_login_ts,
        }
        return {"user": user, "action": None if action is None else action.value,
                "profile": summary, "history": self.ledger.actions(user)}

    def campaigns(self, status: str | None = None) -> list[Campaign]:
        from spimguard.campaigns import CampaignStatus

        with self._lock:
            state = campaigns_for(self.engine.store)
            return state.campaigns(CampaignStatus(status) if status else None)

    def campaign(self, cid: str) -> tuple[Campaign, list[str]] | None:
        with self._lock:
            state = campaigns_for(self.engine.store)
            camp = state.get(cid)
            return None if camp is None else (camp, state.delivered(cid))

    def takedown(self, cid: str) -> list[str] | None:
        """Confirm and take down; the delivered copies' ids, for the caller to retract."""
        with self._lock:
            state = campaigns_for(self.engine.store)
            if state.get(cid) is None:
                return None
            return state.retract(cid)

    def _store_health(self) -> None:
        degraded = getattr(self.store, "degraded", None)
        if degraded is not None:
            self.metrics.degraded.set(1 if degraded else 0)
            errors = int(getattr(self.store, "errors", 0))
            if errors > self._errors_counted:
                self.metrics.store_errors.inc(errors - self._errors_counted)
                self._errors_counted = errors

    def flush(self) -> None:
        """Write buffered behaviour state and verdicts (the ledger never buffers)."""
        flush = getattr(self.store, "flush", None)
        if flush is not None:
            with self._lock:
                flush()
        self.verdicts.flush()

    def close(self) -> None:
        close = getattr(self.store, "close", None)
        if close is not None:
            close()
        self.ledger.close()
        self.verdicts.close()
