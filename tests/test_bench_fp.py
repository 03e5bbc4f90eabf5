"""The false-positive bench's chat day: built right, without ../shared or the data sets."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import fp_data  # noqa: E402  (bench/ is not a package)

from spimguard import AccountEvent, ContactEvent, MessageEvent  # noqa: E402

HAM = [f"ordinary message number {i}, see you later" for i in range(19)] + ["Привет, как дела?"]


def _stream() -> fp_data.Stream:
    items = [fp_data.Item(t, "cyrillic" if t[0] == "П" else "latin") for t in HAM]
    return fp_data.build_stream(items, ["ok", "see you", "Ну ладно"], seed=7, n_users=40,
                                per_user=10)


def test_stream_events() -> None:
    s = _stream()
    accounts = [e for e in s.events if isinstance(e, AccountEvent)]
    contacts = {(e.user, e.contact) for e in s.events if isinstance(e, ContactEvent)}
    messages = [e for e in s.events if isinstance(e, MessageEvent)]
    assert len(accounts) == len(s.friends) == 40
    assert all(a.created_ts is not None and fp_data.START - a.created_ts == 60 * 86_400
               for a in accounts)
    assert all(5 <= len(fs) <= 20 for fs in s.friends.values())
    assert contacts == {(u, v) for u, fs in s.friends.items() for v in fs}
    assert all((v, u) in contacts for u, v in contacts)  # both ways
    stamps = [e.ts for e in s.events]
    assert stamps == sorted(stamps)
    assert all(a.ts < b.ts for a, b in zip(messages, messages[1:], strict=False))
    for m in messages:
        assert len(m.recipients) == 1 and m.recipients[0] in s.friends[m.sender]
    counted = [m for m in messages if m.id in s.counted]
    assert [m.text for m in counted] == HAM  # every line once, in order, after the history
    assert len(messages) - len(counted) == 40 * 10
    assert all(m.ts < fp_data.START for m in messages if m.id not in s.counted)
    assert counted[0].ts == fp_data.START
    assert s.counted[counted[-1].id].category == "cyrillic"


def test_stream_is_deterministic() -> None:
    assert _stream().events == _stream().events


def test_greetings_stream() -> None:
    s = fp_data.greetings_stream(["ok"], seed=1, n_users=60, greetings=("ok", "thanks"))
    sent = [e for e in s.events if isinstance(e, MessageEvent) and e.id in s.counted]
    assert len(sent) == 2 * 50 * 3
    for text in ("ok", "thanks"):
        copies = [m for m in sent if m.text == text]
        assert len({m.sender for m in copies}) == 50
        assert max(m.ts for m in copies) - min(m.ts for m in copies) <= 600
        assert all(m.recipients[0] in s.friends[m.sender] for m in copies)
