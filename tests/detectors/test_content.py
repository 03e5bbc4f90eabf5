"""The content detector's score cache: repeated texts are scored once, per model."""

from __future__ import annotations

from spimguard import Engine, MessageEvent, Policy
from spimguard.detectors.content import CACHE_TEXTS, ContentDetector
from spimguard.learning.shipped import load_shipped_model
from spimguard.learning.train import train
from spimguard.text import normalize


class Counting:
    """A model that counts how often it is asked (wrapping a real one)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls = 0

    def judge(self, match: str, original: str | None = None) -> object:
        self.calls += 1
        return self.inner.judge(match, original)  # type: ignore[attr-defined]


def check(eng: Engine, i: int, text: str) -> set[str]:
    v = eng.check(MessageEvent(float(i), f"m{i}", "a", ("b",), text))
    return {s.name for s in v.signals}


def test_repeated_texts_are_scored_once_and_a_new_model_clears_the_cache() -> None:
    counting = Counting(load_shipped_model())
    det = ContentDetector(counting)  # type: ignore[arg-type]
    eng = Engine([det], Policy())
    spam = "WINNER!! You have won a 1000 prize. Call 09061701461 now to claim"
    first = check(eng, 0, spam)
    for i in range(1, 5):
        assert check(eng, i, spam) == first
    check(eng, 9, "ok see you at 6")
    assert counting.calls == 2 and "CONTENT_SPAM" in first
    # a model that has learned the opposite: the cached verdict must not survive the swap
    texts = [spam, "ok see you at 6", "free prize call now", "lunch at noon?"]
    flipped = train([normalize(t).match for t in texts], [False, True, False, True],
                    originals=texts)
    det.model = flipped
    assert "CONTENT_SPAM" not in check(eng, 10, spam)


def test_the_cache_is_bounded_and_long_texts_are_not_kept() -> None:
    det = ContentDetector(load_shipped_model())
    eng = Engine([det], Policy())
    for i in range(CACHE_TEXTS + 50):
        check(eng, i, f"note number {i} about the meeting")
    check(eng, 10**6, "long " * 200)
    assert len(det._scores) == CACHE_TEXTS  # noqa: SLF001
    assert ("long " * 200) not in det._scores  # noqa: SLF001
