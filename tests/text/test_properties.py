"""Properties that hold for any input, checked on generated text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spimguard.text import ALL_TRICKS, normalize
from spimguard.text.invisible import _REMOVE_RE

ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=200)
CHAT_TEXT = st.text(
    alphabet=st.sampled_from(list("abcxyz0134@$!.:/[](){}-_* \tаре\u200bｅ𝐟")), max_size=80
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(ANY_TEXT, CHAT_TEXT))
def test_any_text_normalises_to_tidy_views(text: str) -> None:
    result = normalize(text)
    assert result.original is text
    assert result.tricks <= ALL_TRICKS
    for view in (result.clean, result.match):
        assert view == " ".join(view.split())
        assert _REMOVE_RE.search(view) is None
        view.encode("utf-8")


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=120))
def test_ascii_clean_is_stable(text: str) -> None:
    clean = normalize(text).clean
    assert clean.isascii()
    assert normalize(clean).clean == clean
