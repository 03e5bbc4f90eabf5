"""The shipped model is what ``spimguard train`` makes from the shipped data.

Vocabulary, IDF and metadata must match exactly; the weights to within
rounding, since the solver's last bits differ between numpy/scikit-learn
releases and BLAS builds (seen: 4e-8 between scikit-learn 1.8 and 1.9, and up
to 1.9e-5 on the bias after a fresh install of the same lower bounds).
"""

from pathlib import Path

from typer.testing import CliRunner

from spimguard.interfaces.cli import app
from spimguard.learning.npz import npz_differences
from spimguard.learning.shipped import (
    CHAT_SOURCES,
    SHIPPED_CORPORA,
    shipped_model_path,
    shipped_path,
)


def test_shipped_model_is_reproducible(tmp_path: Path) -> None:
    out = tmp_path / "content.npz"
    args = ["train", "--out", str(out), "--shipped"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert npz_differences(out, shipped_model_path(), atol=1e-4) == []


def test_shipped_data_has_attribution() -> None:
    notice = shipped_path("NOTICE.md").read_text(encoding="utf-8")
    for rel in SHIPPED_CORPORA:
        assert Path(rel).name in notice
        assert shipped_path(rel).exists()
    assert "Almeida" in notice and "MIT" in notice
    assert shipped_path("corpus/LICENSE.tg-spam").exists()
    assert "corpus/chat/README.md" in notice or "chat/README.md" in notice
    chat = shipped_path("corpus/chat/README.md").read_text(encoding="utf-8")
    for name in CHAT_SOURCES:
        assert f"`{name}`" in chat and shipped_path(f"corpus/chat/LICENSE.{name}").exists()
        for split in ("train", "dev", "test"):
            assert shipped_path(f"corpus/chat/{name}.{split}.tsv").exists()
