"""Moderators teach the content model a campaign it has never seen, through the API.

Honest setup: the engine starts from the held-out model (trained on 70% of
the shipped corpora), retrains from that same 70% plus the moderators'
labels, and ham is measured on the other 30%, which neither model saw. The
campaign ("a friend stuck abroad needs money, pay through this link") is
written here, unlike anything in the corpora: the starting model catches
none of it.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from fastapi.testclient import TestClient

from spimguard.interfaces.http import ServiceConfig, create_app
from spimguard.learning.model import ContentModel
from spimguard.simulate.texts import heldout_model, split_shipped
from spimguard.text import normalize

OPEN = ["hey", "hi", "hey it's me", "omg", "sorry to bother you", "hiii", "yo"]
MID = ["i'm stuck at the airport in {city} and my card got blocked",
       "my wallet was stolen here in {city}, i can't pay the hotel",
       "i'm in {city} and the bank froze my account",
       "lost my phone and cards in {city}, using a friend's"]
ASK = ["can you lend me {n} till monday?", "could you send {n} quickly? i'll pay you back tomorrow",
       "pls help with {n}, will return it asap", "need {n} for the ticket home, pay back tmrw"]
HOW = ["use this page it's instant: {link}", "send it through {link}",
       "here's the transfer link {link}", "it only works via {link}"]


def campaign(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        city = rng.choice(["Lisbon", "Istanbul", "Bangkok", "Dubai", "Prague", "Warsaw"])
        amount = rng.choice(["50", "80", "100", "120", "€60", "$75"])
        link = (f"https://{rng.choice(['quick', 'fast', 'safe', 'easy'])}-"
                f"{rng.choice(['pay', 'transfer', 'send'])}{rng.randint(1, 99)}."
                f"{rng.choice(['com', 'net', 'info'])}/t/{rng.randint(1000, 9999)}")
        out.append(f"{rng.choice(OPEN)} {rng.choice(MID).format(city=city)}. "
                   f"{rng.choice(ASK).format(n=amount)} {rng.choice(HOW).format(link=link)}")
    return out


def flagged(model: ContentModel, texts: list[str], hold_at: float = 0.9) -> float:
    """Share of texts the model alone would hold (p >= the default hold_at)."""
    hits = 0
    for t in texts:
        s = model.score(normalize(t).match, t)
        hits += s is not None and s.p_spam >= hold_at
    return hits / len(texts)


def test_moderator_reports_teach_a_new_campaign_without_more_false_alarms(
        tmp_path: Path) -> None:
    split = split_shipped()
    ham = [t for texts in split.sim_ham.values() for t in texts]
    app = create_app(ServiceConfig(
        data_dir=tmp_path, store="memory", retrain_every=10,
        base_corpus=lambda: (list(split.model_texts), list(split.model_labels))))
    svc = app.state.service
    svc._swap(heldout_model())  # noqa: SLF001 - start from the honest model
    _, token = svc.ledger.create_key("mod", ["check", "admin"])
    h = {"Authorization": f"Bearer {token}"}
    texts = campaign(200)
    before = svc.content_model
    assert before is not None
    recall_before, ham_before = flagged(before, texts[10:]), flagged(before, ham)
    assert recall_before < 0.05  # the campaign is new to the model

    with TestClient(app) as c:
        for i, text in enumerate(texts[:10]):
            r = c.post("/v1/check", json={"id": f"c{i}", "sender": f"@friend{i}:x",
                                          "recipients": ["@me:x"], "text": text}, headers=h)
            assert r.status_code == 200
        for i in range(10):  # the tenth label starts a retrain in the background
            r = c.post("/v1/reports", json={"reporter": "mod", "message_id": f"c{i}",
                                            "label": "spam", "moderator": True}, headers=h)
            assert r.status_code == 200
        svc.wait_for_training(timeout=300)
        info = c.get("/v1/model", headers=h).json()
        assert info["last_error"] is None and info["active"] == 1 and info["examples"] == 10
        after = svc.content_model
        assert after is not None and after is not before
        recall_after, ham_after = flagged(after, texts[10:]), flagged(after, ham)
        assert recall_after >= 0.8, recall_after
        # at most one more of 1,552 held-out ham texts crosses the line (seen: 0 -> 1)
        assert ham_after <= ham_before + 0.001, (ham_before, ham_after)

        # the version survives a restart, and rollback returns to the shipped model
        assert (tmp_path / "models" / "content-v1.npz").exists()
        r = c.post("/v1/model/rollback", headers=h)
        assert r.status_code == 200 and r.json() == {"active": None}
        assert flagged(svc.content_model, texts[10:]) < 0.05
    app2 = create_app(ServiceConfig(data_dir=tmp_path, store="memory", retrain_every=0))
    assert app2.state.service.ledger.active_model() is None
    app2.state.service.activate_model(1)
    assert flagged(app2.state.service.content_model, texts[10:]) == recall_after
    app3 = create_app(ServiceConfig(data_dir=tmp_path, store="memory", retrain_every=0))
    assert flagged(app3.state.service.content_model, texts[10:]) == recall_after


def _small_base() -> tuple[list[str], list[bool]]:
    """A quick base corpus (part of the held-out model's), so these tests retrain in seconds."""
    split = split_shipped()
    return list(split.model_texts[:2000]), list(split.model_labels[:2000])


def _quick_service(tmp_path: Path, **kw: object) -> tuple[TestClient, dict[str, str], object]:
    from spimguard.learning.feedback import retrain

    app = create_app(ServiceConfig(data_dir=tmp_path, store="memory", base_corpus=_small_base,
                                   chat_ham=False, **kw))  # type: ignore[arg-type]
    svc = app.state.service
    svc._swap(retrain(*_small_base(), [], chat_ham=False))  # noqa: SLF001 - same base
    _, token = svc.ledger.create_key("mod", ["check", "admin"])
    return TestClient(app), {"Authorization": f"Bearer {token}"}, svc


def _label(c: TestClient, h: dict[str, str], texts: list[str], label: str,
           prefix: str) -> None:
    for i, text in enumerate(texts):
        r = c.post("/v1/check", json={"id": f"{prefix}{i}", "sender": f"@s{i}:x",
                                      "recipients": ["@me:x"], "text": text}, headers=h)
        assert r.status_code == 200
    for i in range(len(texts)):
        r = c.post("/v1/reports", json={"reporter": "mod", "message_id": f"{prefix}{i}",
                                        "label": label, "moderator": True}, headers=h)
        assert r.status_code == 200


def _settle(svc: object) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        svc.wait_for_training(timeout=300)  # type: ignore[attr-defined]
        training = svc._training  # type: ignore[attr-defined]  # noqa: SLF001
        if not (training is not None and training.is_alive()) \
                and not svc._retrain_again:  # type: ignore[attr-defined]  # noqa: SLF001
            return
        time.sleep(0.05)


def test_labels_that_arrive_during_a_retrain_start_the_next_one(tmp_path: Path) -> None:
    """Issue 19: of 50 labels in a burst, the automatic retrain used 10."""
    c, h, svc = _quick_service(tmp_path, retrain_every=10, guard=False)
    with c:
        _label(c, h, campaign(200, seed=3), "spam", "b")
        _settle(svc)
        versions = svc.ledger.model_versions()  # type: ignore[attr-defined]
        assert versions[-1]["examples"] == 200, versions
        assert svc.ledger.active_model() == versions[-1]["version"]  # type: ignore[attr-defined]
        assert c.get("/v1/model", headers=h).json()["training"] is False


def test_a_model_that_learned_to_hold_ordinary_chat_stays_inactive(tmp_path: Path) -> None:
    """Issue 19: 'a new version is activated whatever it does to ham'. One moderator key
    labels 60 ordinary chat lines as spam; the candidate holds more validation ham."""
    from spimguard.learning.corpus import read_corpus
    from spimguard.learning.shipped import chat_corpora

    chat = [t for t in read_corpus(chat_corpora("train")[0]).texts if len(t.split()) >= 5][:60]
    c, h, svc = _quick_service(tmp_path, retrain_every=0)
    with c:
        before = svc.content_model  # type: ignore[attr-defined]
        _label(c, h, chat, "spam", "p")
        assert c.post("/v1/model/retrain", headers=h).json()["started"] is True
        _settle(svc)
        info = c.get("/v1/model", headers=h).json()
        check = info["versions"][-1]["validation"]
        assert check is not None and check["ok"] is False, info
        assert "validation ham" in check["reason"]
        assert info["active"] is None and svc.content_model is before  # type: ignore[attr-defined]
        assert "spimguard_model_rejected 1.0" in c.get("/metrics").text


def test_a_poisoned_batch_of_not_spam_labels_is_refused(tmp_path: Path) -> None:
    """Issue 19: 50 'ham' labels on obvious spam from one moderator key must not go live."""
    from spimguard.learning.corpus import read_corpus
    from spimguard.learning.shipped import shipped_path
    from spimguard.simulate.texts import in_model_part

    sms = read_corpus(shipped_path("corpus/sms-spam-collection.tsv"))
    spam = [t for t, s in zip(sms.texts, sms.labels, strict=True)
            if s and not in_model_part(t)][:50]
    c, h, svc = _quick_service(tmp_path, retrain_every=0)
    with c:
        _label(c, h, spam, "ham", "q")
        c.post("/v1/model/retrain", headers=h)
        _settle(svc)
        info = c.get("/v1/model", headers=h).json()
        check = info["versions"][-1]["validation"]
        assert check["ok"] is False and "validation spam" in check["reason"], check
        assert info["active"] is None
