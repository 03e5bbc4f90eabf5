"""The manual (README and docs/) documents every signal and every policy setting
(after Datasette's test_docs)."""

from pathlib import Path

import pytest

from spimguard import build_engine
from spimguard.core.policy import load_policy_dict

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MANUAL = README + "".join(p.read_text(encoding="utf-8")
                           for p in sorted((ROOT / "docs").glob("*.md")))


@pytest.mark.parametrize("name", sorted(s.name for s in build_engine().explain_signals()))
def test_every_signal_is_documented(name: str) -> None:
    assert f"`{name}`" in MANUAL


def _settings() -> list[str]:
    out = []
    for section, table in load_policy_dict().items():
        for key, value in table.items():
            if isinstance(value, dict):
                out += [f"{section}.{key}.{k}" for k in value]
            else:
                out.append(f"{section}.{key}")
    return out


@pytest.mark.parametrize("setting", _settings())
def test_every_setting_is_documented(setting: str) -> None:
    assert f"`{setting}`" in MANUAL


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci/run").read_text(encoding="utf-8")
    command = "python -m pip install -e '.[dev]' && python -m pytest -q"
    assert command in README and command in ci


def test_readme_is_a_front_page_that_maps_the_manual() -> None:
    assert len(README.splitlines()) < 120
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in README
