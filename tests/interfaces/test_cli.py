"""The ``spimguard`` command line, driven in-process with Typer's CliRunner.

JSON goes to stdout and notes to stderr (click >= 8.2 keeps them apart in
``result.stdout`` / ``result.stderr``; older click needs ``mix_stderr=False``).
Only tests/fixtures and the package's shipped data are used.
"""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from spimguard import Policy, build_engine
from spimguard.core.engine import MAX_ANALYSED_CHARS
from spimguard.interfaces.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EVENTS = FIXTURES / "events-small.jsonl"
EVENTS_BAD = FIXTURES / "events-bad.jsonl"
TSV = FIXTURES / "corpus-small.tsv"
CSV = FIXTURES / "corpus-small.csv"

SPAM = "WINNER!! You have won a £1000 prize. Call 09061701461 now to claim"
HAM = "ok see you at 6, bring the charger"

VERDICT_KEYS = {"id", "action", "score", "signals", "account_action", "campaign"}
SCORE_KEYS = {
    "spam_stopped", "spam_flagged", "ham_stopped", "ham_stopped_compromised", "ham_warned",
    "compromised_accounts", "compromised_caught", "median_spam_before_action",
    "accounts_falsely_actioned",
}
EVAL_KEYS = {
    "n", "spam", "accuracy", "precision", "recall", "blocked_ham", "f1", "mcc", "roc_auc",
    "recall_at_fpr_0.001", "recall_at_fpr_0.01",
}
BAD_LINES = [2, 4, 6, 8]  # see tests/core/test_replay.py for the fixture's layout


def _runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # click < 8.2
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def run(*args: str | Path, input: bytes | str | None = None, columns: int = 200) -> Result:
    # a fixed terminal width: rich (tables, notes) otherwise follows the caller's terminal
    return _runner().invoke(app, [str(a) for a in args], input=input,
                            env={"COLUMNS": str(columns), "NO_COLOR": "1"})


def ok(result: Result) -> Result:
    assert result.exception is None or (
        isinstance(result.exception, SystemExit) and result.exit_code == 0
    ), (result.exception, result.stderr)
    assert result.exit_code == 0, result.stderr
    return result


def one_json(result: Result) -> dict[str, Any]:
    lines = [x for x in ok(result).stdout.splitlines() if x.strip()]
    assert len(lines) == 1, result.stdout
    obj = json.loads(lines[0])
    assert isinstance(obj, dict)
    return obj


def fails_cleanly(result: Result, code: int = 2) -> str:
    """Exit ``code`` through typer.Exit, with no traceback and nothing on stdout."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr,
                                      result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == ""
    return result.stderr


def corpus_rows(path: Path) -> list[tuple[bool, str]]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        label, text = line.split("\t", 1)
        rows.append((label.lower() == "spam", text))
    return rows


def fixture_events(path: Path = EVENTS) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


# -- check -------------------------------------------------------------------------


def test_check_obvious_spam() -> None:
    v = one_json(run("check", SPAM))
    assert set(v) == VERDICT_KEYS
    assert v["action"] in ("hold", "block")
    assert "CONTENT_SPAM" in [s["name"] for s in v["signals"]]
    spam_signal = next(s for s in v["signals"] if s["name"] == "CONTENT_SPAM")
    assert spam_signal["detail"].startswith("classifier p=")
    assert v["score"] == pytest.approx(sum(s["score"] for s in v["signals"]), abs=0.01)


def test_check_ordinary_ham_is_allowed() -> None:
    v = one_json(run("check", HAM))
    assert set(v) == VERDICT_KEYS
    assert v["action"] == "allow"
    assert "CONTENT_SPAM" not in [s["name"] for s in v["signals"]]


def test_check_trace_lists_every_detector() -> None:
    v = one_json(run("check", "--trace", SPAM))
    assert set(v) == VERDICT_KEYS | {"trace"}
    detectors = [getattr(d, "name", "") for d in build_engine().detectors]
    assert [t["detector"] for t in v["trace"]] == detectors
    for t in v["trace"]:
        assert set(t) == {"detector", "status", "note"}
        assert t["status"] in ("ran", "skipped", "abstained", "error")
    content = next(t for t in v["trace"] if t["detector"] == "content")
    assert content["status"] == "ran" and "CONTENT_SPAM" in content["note"]


def test_check_without_trace_has_no_trace() -> None:
    assert "trace" not in one_json(run("check", HAM))


def test_check_with_several_recipients() -> None:
    v = one_json(run("check", HAM, "--sender", "s1", "--recipient", "a", "--recipient", "b"))
    assert v["action"] == "allow"


def test_check_honours_policy_file(tmp_path: Path) -> None:
    pol = tmp_path / "local.toml"
    pol.write_text('[forced]\nCONTENT_SPAM = "block"\n', encoding="utf-8")
    assert one_json(run("check", SPAM, "--policy", pol))["action"] == "block"
    from spimguard.detectors import REGISTRY

    names = ", ".join(f'"{n}"' for n in REGISTRY)
    pol.write_text(f"[detectors]\ndisabled = [{names}]\n", encoding="utf-8")
    v = one_json(run("check", SPAM, "--policy", pol))
    assert v["action"] == "allow" and v["signals"] == []


def test_check_one_megabyte_text_is_truncated_and_says_so() -> None:
    text = ("see you later at the station, bring snacks " * 25_000)[:1_000_000]
    assert len(text) == 1_000_000
    v = one_json(run("check", text))
    assert set(v) == VERDICT_KEYS
    trunc = [s for s in v["signals"] if s["name"] == "TEXT_TRUNCATED"]
    assert len(trunc) == 1
    assert str(MAX_ANALYSED_CHARS) in trunc[0]["detail"]
    assert str(len(text)) in trunc[0]["detail"]


def test_check_short_text_is_not_truncated() -> None:
    names = [s["name"] for s in one_json(run("check", SPAM))["signals"]]
    assert "TEXT_TRUNCATED" not in names


@pytest.mark.parametrize("text", [
    "\ud800",
    "hello \udfff there, call me",
    SPAM[:20] + "\ud83d" + SPAM[20:],
    "nul\x00in\x00the middle",
    "\x00\x00\x00",
    SPAM.replace(" ", "\x00"),
    "\ud800\x00\udc00 mixed",
])
def test_check_survives_lone_surrogates_and_nul(text: str) -> None:
    v = one_json(run("check", text))
    assert set(v) == VERDICT_KEYS
    assert v["action"] in ("allow", "warn", "hold", "block")


# -- replay ------------------------------------------------------------------------


def test_replay_prints_one_verdict_line_per_message() -> None:
    res = ok(run("replay", EVENTS))
    lines = res.stdout.splitlines()
    expected = [e["id"] for e in fixture_events() if e["type"] == "message"]
    assert len(lines) == len(expected)
    verdicts = [json.loads(x) for x in lines]
    assert [v["id"] for v in verdicts] == expected
    for v in verdicts:
        assert set(v) == VERDICT_KEYS
    assert res.stderr.strip() == ""


def test_replay_from_stdin() -> None:
    res = ok(run("replay", "-", input=EVENTS.read_bytes()))
    expected = [e["id"] for e in fixture_events() if e["type"] == "message"]
    assert [json.loads(x)["id"] for x in res.stdout.splitlines()] == expected


def test_replay_survives_hostile_lines() -> None:
    """Issue 20: one line with a lone surrogate, deep nesting or a 4,301-digit number
    crashed ``replay -`` with a traceback."""
    good = b'{"type": "message", "ts": 5, "id": "g1", "sender": "a", "recipients": ["b"], ' \
        b'"text": "ok see you"}'
    hostile = [b'{"type": "message", "ts": 1, "id": "\\ud800", "sender": "a", "recipients": '
               b'["b"], "text": "x"}', b"[" * 1000 + b"]" * 1000,
               b'{"type": "unlock", "ts": ' + b"9" * 4301 + b', "user": "a"}']
    res = ok(run("replay", "-", input=b"\n".join([*hostile, good]) + b"\n"))
    assert [json.loads(x)["id"] for x in res.stdout.splitlines()] == ["g1"]
    assert [line.split(":")[1] for line in res.stderr.splitlines()
            if "skipped" in line] == ["1", "2", "3"]


def test_replay_matches_check_for_obvious_spam() -> None:
    verdicts = {json.loads(x)["id"]: json.loads(x) for x in
                ok(run("replay", EVENTS)).stdout.splitlines()}
    spam_id = next(e["id"] for e in fixture_events()
                   if e["type"] == "message" and e.get("text") == SPAM)
    assert verdicts[spam_id]["action"] in ("hold", "block")
    assert "CONTENT_SPAM" in [s["name"] for s in verdicts[spam_id]["signals"]]


def test_replay_policy_is_applied(tmp_path: Path) -> None:
    pol = tmp_path / "off.toml"
    from spimguard.detectors import REGISTRY

    names = ", ".join(f'"{n}"' for n in REGISTRY)
    pol.write_text(f"[detectors]\ndisabled = [{names}]\n", encoding="utf-8")
    verdicts = [json.loads(x) for x in ok(run("replay", EVENTS, "--policy", pol))
                .stdout.splitlines()]
    assert verdicts and all(v["action"] == "allow" and v["signals"] == [] for v in verdicts)


def _expected_scores(events: list[dict[str, Any]], actions: dict[str, str]) -> dict[str, Any]:
    """The spec's message shares, computed independently from the fixture and the verdicts."""
    compromised: dict[str, bool] = {}
    spam = spam_stopped = spam_flagged = 0
    ham = ham_stopped = ham_warned = ham_comp = ham_comp_stopped = 0
    for e in events:
        if e["type"] == "truth":
            compromised[e["user"]] = e["compromised"]
        if e["type"] != "message":
            continue
        act = actions[e["id"]]
        stopped = act in ("hold", "block")
        if e.get("label") == "spam":
            spam += 1
            spam_stopped += stopped
            spam_flagged += act != "allow"
        elif compromised.get(e["sender"], False):
            ham_comp += 1
            ham_comp_stopped += stopped
        else:
            ham += 1
            ham_stopped += stopped
            ham_warned += act == "warn"
    return {
        "spam_stopped": spam_stopped / spam, "spam_flagged": spam_flagged / spam,
        "ham_stopped": ham_stopped / ham, "ham_warned": ham_warned / ham,
        "ham_stopped_compromised": ham_comp_stopped / ham_comp,
        "compromised_accounts": len(compromised),
    }


def test_replay_score_prints_the_spec_metrics() -> None:
    result = one_json(run("replay", EVENTS, "--score"))
    assert SCORE_KEYS <= set(result)
    events = fixture_events()
    actions = {json.loads(x)["id"]: json.loads(x)["action"]
               for x in ok(run("replay", EVENTS)).stdout.splitlines()}
    for key, want in _expected_scores(events, actions).items():
        assert result[key] == pytest.approx(want, abs=1e-6), key
    assert result["events"] == len(events)
    assert result["bad_lines"] == 0 and result["unknown_events"] == 0


def test_replay_score_counts_bad_and_unknown_lines() -> None:
    result = one_json(run("replay", EVENTS_BAD, "--score"))
    assert SCORE_KEYS <= set(result)
    assert result["bad_lines"] == len(BAD_LINES)
    assert result["unknown_events"] == 1


def test_replay_bad_lines_go_to_stderr_with_line_numbers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)  # short path in the notes, whatever the clone's location
    res = ok(run("replay", EVENTS_BAD.name))
    verdicts = [json.loads(x) for x in res.stdout.splitlines()]
    assert [v["id"] for v in verdicts] == ["b2", "b6", "b7"]
    reported = [int(n) for n in re.findall(r"events-bad\.jsonl:(\d+): skipped", res.stderr)]
    assert reported == BAD_LINES
    assert "typing" in res.stderr
    assert all(line.startswith("{") for line in res.stdout.splitlines())


def test_replay_each_skipped_line_is_one_stderr_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    res = ok(run("replay", EVENTS_BAD.name, columns=80))
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    skipped = [x for x in lines if not x.startswith("skipped unknown event types")]
    assert len(skipped) == len(BAD_LINES)
    assert all(re.match(r"^events-bad\.jsonl:\d+: skipped: .+$", x) for x in skipped), skipped


def test_replay_bad_line_with_markup_is_reported(tmp_path: Path) -> None:
    stream = tmp_path / "s.jsonl"
    stream.write_text(
        '{"type": "message", "ts": 1, "id": "m1", "sender": "a", "recipients": ["b"], '
        '"text": "x", "label": "[/red]"}\n'
        '{"type": "message", "ts": 2, "id": "m2", "sender": "a", "recipients": ["b"], '
        '"text": "hi"}\n', encoding="utf-8")
    res = ok(run("replay", stream, "--score"))
    assert "[/red]" in res.stderr and ":1: skipped" in res.stderr
    assert one_json(res)["bad_lines"] == 1


def test_eval_bad_label_with_markup_is_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "c.tsv"
    corpus.write_text(TSV.read_text("utf-8") + "[/b]\thello\n", encoding="utf-8")
    res = run("eval", "--data", corpus, "--model", "shipped")
    m = one_json(res)
    assert m["skipped_lines"] == 1
    assert "[/b]" in res.stderr


def test_replay_missing_file_in_bracketed_dir_exits_2(tmp_path: Path) -> None:
    err = fails_cleanly(run("replay", tmp_path / "[/x]" / "missing.jsonl"))
    assert "[/x]" in err


def test_replay_missing_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    err = fails_cleanly(run("replay", missing))
    assert "cannot read" in err and "nope.jsonl" in err


# -- eval --------------------------------------------------------------------------


def _check_eval(m: dict[str, Any]) -> None:
    assert EVAL_KEYS <= set(m)
    for k in ("accuracy", "precision", "recall", "blocked_ham", "f1"):
        assert 0.0 <= m[k] <= 1.0, k
    assert -1.0 <= m["mcc"] <= 1.0
    for k in ("roc_auc", "recall_at_fpr_0.001", "recall_at_fpr_0.01"):
        assert m[k] is None or 0.0 <= m[k] <= 1.0, k
    c = m["confusion"]
    assert c["tp"] + c["fp"] + c["fn"] + c["tn"] == m["n"]
    assert c["tp"] + c["fn"] == m["spam"]
    assert m["accuracy"] == pytest.approx((c["tp"] + c["tn"]) / m["n"], abs=1e-5)
    p, r = m["precision"], m["recall"]
    assert m["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0, abs=1e-5)


def test_eval_almeida_split() -> None:
    rows = corpus_rows(TSV)
    cut = int(len(rows) * 0.3)
    m = one_json(run("eval", "--data", TSV, "--split", "almeida"))
    _check_eval(m)
    assert m["n"] == len(rows) - cut
    assert m["spam"] == sum(s for s, _ in rows[cut:])
    assert m["train_n"] == cut


def test_eval_default_split_is_almeida() -> None:
    a = one_json(run("eval", "--data", TSV))
    b = one_json(run("eval", "--data", TSV, "--split", "almeida"))
    assert a == b


def test_eval_cv5_deduplicates() -> None:
    rows = corpus_rows(TSV)
    unique = dict.fromkeys(t for _, t in rows)
    assert len(unique) < len(rows)  # the fixture has a duplicate on purpose
    m = one_json(run("eval", "--data", TSV, "--split", "cv5"))
    _check_eval(m)
    assert m["n"] == len(unique)
    spam_texts = {t for s, t in rows if s}
    assert m["spam"] == len(spam_texts)


def test_eval_shipped_model_scores_the_whole_file() -> None:
    rows = corpus_rows(TSV)
    m = one_json(run("eval", "--data", TSV, "--model", "shipped"))
    _check_eval(m)
    assert m["n"] == len(rows)
    assert m["spam"] == sum(s for s, _ in rows)
    # obvious SMS spam and chat: the shipped model gets most of it right
    assert m["accuracy"] >= 0.8


def test_eval_perturb() -> None:
    plain = one_json(run("eval", "--data", TSV, "--model", "shipped"))
    m = one_json(run("eval", "--data", TSV, "--model", "shipped", "--perturb"))
    _check_eval(m)
    assert m["n"] == plain["n"] and m["spam"] == plain["spam"]
    assert m.get("perturb") is True and plain.get("perturb") is False
    _check_eval(one_json(run("eval", "--data", TSV, "--split", "almeida", "--perturb")))


def test_eval_csv_reports_bad_row_with_its_line() -> None:
    res = run("eval", "--data", CSV, "--model", "shipped")
    m = one_json(res)
    _check_eval(m)
    # 10 data rows, one with the label "maybe" (row 6, file line 7; row 8 spans two lines)
    assert m["n"] == 9
    assert m["spam"] == 4
    assert re.search(r"corpus-small\.csv:7: skipped", res.stderr), res.stderr
    assert m["skipped_lines"] == 1


def test_eval_bad_split_exits_2() -> None:
    err = fails_cleanly(run("eval", "--data", TSV, "--split", "cv10"))
    assert "split" in err and "cv10" in err


def test_eval_missing_corpus_exits_2(tmp_path: Path) -> None:
    err = fails_cleanly(run("eval", "--data", tmp_path / "none.tsv"))
    assert "none.tsv" in err


def test_eval_unreadable_model_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"not a zip file")
    err = fails_cleanly(run("eval", "--data", TSV, "--model", bogus))
    assert "bogus.npz" in err


# -- train -------------------------------------------------------------------------


def test_train_then_eval_with_the_model(tmp_path: Path) -> None:
    out = tmp_path / "tmp" / "model.npz"  # parent directory does not exist yet
    res = ok(run("train", "--data", TSV, "--out", out))
    assert out.is_file() and out.stat().st_size > 0
    rows = corpus_rows(TSV)
    assert f"{len(rows)} messages" in res.stderr
    assert f"{sum(s for s, _ in rows)} spam" in res.stderr
    m = one_json(run("eval", "--data", TSV, "--model", out))
    _check_eval(m)
    assert m["n"] == len(rows)
    # scored on its own training data, the model separates the classes
    assert m["accuracy"] >= 0.9


def test_train_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "model.npz", tmp_path / "b" / "model.npz"
    ok(run("train", "--data", TSV, "--out", a))
    ok(run("train", "--data", TSV, "--out", b))
    assert a.read_bytes() == b.read_bytes()


def test_train_on_different_data_differs(tmp_path: Path) -> None:
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    ok(run("train", "--data", TSV, "--out", a))
    ok(run("train", "--data", TSV, "--data", CSV, "--out", b))
    assert a.read_bytes() != b.read_bytes()


def test_train_model_usable_by_policy(tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    ok(run("train", "--data", TSV, "--out", model))
    pol = tmp_path / "p.toml"
    pol.write_text(f"[detectors.content]\nmodel = {json.dumps(str(model))}\n", encoding="utf-8")
    v = one_json(run("check", SPAM, "--policy", pol))
    assert "CONTENT_SPAM" in [s["name"] for s in v["signals"]]


def test_train_missing_data_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "m.npz"
    fails_cleanly(run("train", "--data", tmp_path / "none.tsv", "--out", out))
    assert not out.exists()


def test_train_single_class_exits_2(tmp_path: Path) -> None:
    only_ham = tmp_path / "ham.tsv"
    only_ham.write_text("ham\thello\nham\tsee you\n", encoding="utf-8")
    out = tmp_path / "m.npz"
    fails_cleanly(run("train", "--data", only_ham, "--out", out))
    assert not out.exists()


def test_train_unwritable_out_exits_2(tmp_path: Path) -> None:
    err = fails_cleanly(run("train", "--data", TSV, "--out", tmp_path))
    assert str(tmp_path.name) in err


def test_eval_almeida_with_one_class_training_part_exits_2(tmp_path: Path) -> None:
    rows = corpus_rows(TSV)
    ordered = [r for r in rows if not r[0]] + [r for r in rows if r[0]]  # all ham first
    corpus = tmp_path / "sorted.tsv"
    corpus.write_text("".join(f"{'spam' if s else 'ham'}\t{t}\n" for s, t in ordered),
                      encoding="utf-8")
    assert "spam" in fails_cleanly(run("eval", "--data", corpus, "--split", "almeida"))


# -- policy show -------------------------------------------------------------------


def _shown_policy(stdout: str) -> dict[str, Any]:
    head, sep, _ = stdout.partition("signals (weight")
    assert sep, stdout
    return tomllib.loads(head)


def test_policy_show_prints_thresholds_and_signals() -> None:
    res = ok(run("policy", "show"))
    shown = _shown_policy(res.stdout)
    assert shown == Policy.load().as_dict()
    assert {"warn", "hold", "block"} <= set(shown["actions"])
    assert "CONTENT_SPAM" in res.stdout
    for spec in build_engine().explain_signals():
        assert spec.name in res.stdout


def test_policy_show_merges_local_file(tmp_path: Path) -> None:
    pol = tmp_path / "local.toml"
    pol.write_text("[actions]\nwarn = 3.5\n\n[weights]\nCONTENT_SPAM = 7.0\n", encoding="utf-8")
    res = ok(run("policy", "show", "--policy", pol))
    shown = _shown_policy(res.stdout)
    defaults = Policy.load()
    assert shown["actions"] == {"warn": 3.5, "hold": defaults.hold, "block": defaults.block}
    assert shown["weights"] == {"CONTENT_SPAM": 7.0}
    assert str(pol) in res.stdout.splitlines()[0]
    row = next(x for x in res.stdout.splitlines() if "CONTENT_SPAM" in x and "│" in x)
    assert re.search(r"│\s*7\s*│", row), row


def test_policy_show_without_signals() -> None:
    res = ok(run("policy", "show", "--no-signals"))
    assert "CONTENT_SPAM" not in res.stdout
    assert tomllib.loads(res.stdout) == Policy.load().as_dict()


@pytest.mark.parametrize("body,needle", [
    ('[actions]\nwarn = "high"\n', "actions.warn"),
    ("[actions]\nwarnn = 3.0\n", "actions.warnn"),
    ("[actions]\nwarn = 7.0\nhold = 6.0\n", "actions.warn"),
    ("[account]\nlocked_messages = \"explode\"\n", "account.locked_messages"),
    ("[bogus]\nx = 1\n", "[bogus]"),
    ("[actions\nwarn = 1\n", "TOML"),
    ("[detectors]\ndisabled = \"content\"\n", "detectors.disabled"),
    ("[weights]\nCONTENT_SPAMM = 3.0\n", "CONTENT_SPAMM"),
    ("[forced]\nNO_SUCH_SIGNAL = \"block\"\n", "NO_SUCH_SIGNAL"),
    ("[detectors.content]\nhold_at = 2.0\n", "hold_at"),
    ("[detectors.content]\nmodel = \"/nonexistent/model.npz\"\n", "model"),
])
def test_policy_show_invalid_policy_exits_2(tmp_path: Path, body: str, needle: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(body, encoding="utf-8")
    err = fails_cleanly(run("policy", "show", "--policy", bad))
    assert needle in err, err


def test_invalid_policy_fails_check_and_replay_too(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[actions]\nhold = "soon"\n', encoding="utf-8")
    assert "actions.hold" in fails_cleanly(run("check", HAM, "--policy", bad))
    assert "actions.hold" in fails_cleanly(run("replay", EVENTS, "--policy", bad))


def test_missing_policy_file_exits_2(tmp_path: Path) -> None:
    err = fails_cleanly(run("policy", "show", "--policy", tmp_path / "absent.toml"))
    assert "absent.toml" in err


# -- info --------------------------------------------------------------------------


def test_info_names_the_shipped_model() -> None:
    info = one_json(run("info"))
    assert Path(info["model"]).is_file()
    assert info["model"].endswith(".npz")


def test_no_nan_in_json_output(tmp_path: Path) -> None:
    """NaN is not JSON: metrics undefined on a one-class corpus are printed as null."""
    only_ham = tmp_path / "ham.tsv"
    only_ham.write_text(f"ham\t{HAM}\nham\tsee you tomorrow\n", encoding="utf-8")
    text = ok(run("eval", "--data", only_ham, "--model", "shipped")).stdout
    assert "NaN" not in text
    m = json.loads(text)
    assert m["n"] == 2 and m["spam"] == 0
    assert m["roc_auc"] is None


def test_replay_into_a_sqlite_state_unlocks_an_account(tmp_path: Path) -> None:
    """How an operator unlocks an account in the Synapse module's embedded state."""
    from spimguard.core.verdicts import AccountAction
    from spimguard.state.sqlite import SqliteStore

    path = tmp_path / "state.sqlite"
    store = SqliteStore(path)
    eng = build_engine(store=store)
    eng.restore_account_action("@a:x", AccountAction.LOCK, 1_700_000_000.0)
    store.close()
    unlock = json.dumps({"type": "unlock", "ts": 1_700_000_100.0, "user": "@a:x"}) + "\n"
    r = run("replay", "-", "--store", f"sqlite:{path}", input=unlock)
    assert r.exit_code == 0, r.output
    store = SqliteStore(path)
    assert build_engine(store=store).account_state("@a:x", 1_700_000_200.0) is None
    store.close()
    r = run("replay", "-", "--store", "mysql://x", input=unlock)
    assert r.exit_code != 0 and "cannot open store" in r.stderr
