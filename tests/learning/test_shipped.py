"""The shipped model is exactly what ``spimguard train`` makes from the shipped data."""

from pathlib import Path

from typer.testing import CliRunner

from spimguard.interfaces.cli import app
from spimguard.learning.shipped import SHIPPED_CORPORA, shipped_model_path, shipped_path


def test_shipped_model_is_reproducible(tmp_path: Path) -> None:
    out = tmp_path / "content.npz"
    args = ["train", "--out", str(out)]
    for rel in SHIPPED_CORPORA:
        args += ["--data", str(shipped_path(rel))]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == shipped_model_path().read_bytes()


def test_shipped_data_has_attribution() -> None:
    notice = shipped_path("NOTICE.md").read_text(encoding="utf-8")
    for rel in SHIPPED_CORPORA:
        assert Path(rel).name in notice
        assert shipped_path(rel).exists()
    assert "Almeida" in notice and "MIT" in notice
    assert shipped_path("corpus/LICENSE.tg-spam").exists()
