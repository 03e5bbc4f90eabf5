"""``spimguard urls``, ``spimguard eval-urls`` and link signals in ``spimguard check``."""

import json
from pathlib import Path

from typer.testing import CliRunner

from spimguard.interfaces.cli import app

LINKS = Path(__file__).resolve().parents[1] / "fixtures" / "links"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    return r.exit_code, r.stdout, r.stderr


def test_urls_json_lists_each_link_with_signals() -> None:
    code, out, _ = run("urls", "--json", "hi http://paypal.com.account-verify.xyz/login and "
                       "https://www.bbc.co.uk/news and [paypal.com](http://evil.example.xyz/)")
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["registrable"] for r in rows] == ["account-verify.xyz", "bbc.co.uk",
                                                "example.xyz"]
    names = [{s["name"] for s in r["signals"]} for r in rows]
    assert {"LOOKALIKE_DOMAIN", "CREDENTIAL_LURE"} <= names[0]
    assert names[1] == {"URL_ALLOWLISTED"}
    assert "LINK_TEXT_MISMATCH" in names[2]
    assert rows[2]["shown_text"] == "paypal.com" and rows[2]["source"] == "markdown"


def test_urls_table_and_notes() -> None:
    code, out, err = run("urls", "see аррӏе.com/x and javascript:alert(1)")
    assert code == 0
    assert "MIXED_SCRIPT_DOMAIN" in out and "LOOKALIKE_DOMAIN" in out
    assert "odd scheme link: javascript:" in err


def test_urls_without_links() -> None:
    code, out, _ = run("urls", "--json", "see you at 5.30")
    assert code == 0 and out == ""


def test_check_shows_link_signals() -> None:
    code, out, _ = run("check", "lol is this you? http://paypal.com.account-verify.xyz/login")
    v = json.loads(out)
    assert code == 0 and v["action"] in ("hold", "block")
    assert "LOOKALIKE_DOMAIN" in {s["name"] for s in v["signals"]}


def test_eval_urls_on_fixtures() -> None:
    code, out, _ = run("eval-urls", "--phish", str(LINKS / "phish-first-seen.tsv"),
                       "--benign", str(LINKS / "benign-domains.txt"),
                       "--blocklist", str(LINKS / "blocklist.txt"))
    assert code == 0, out
    result = json.loads(out)
    model = result["unseen"]["model"]
    assert {"roc_auc", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01"} <= set(model)
    assert result["n_test_urls_on_blocklist"] >= 1
    assert 0.0 <= model["tpr_at_fpr_0.01"] <= 1.0


def test_eval_urls_missing_file(tmp_path: Path) -> None:
    code, _, err = run("eval-urls", "--phish", str(tmp_path / "nope.tsv"),
                       "--benign", str(LINKS / "benign-domains.txt"))
    assert code == 2 and "nope.tsv" in err
