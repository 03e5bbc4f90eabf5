"""Code, quoted text and markup, told apart from what the sender wrote.

A pasted stack trace, a shell command or a quoted earlier message is not the
sender's wording, and read as words it looks like nothing the content model
has seen in chat ("sudo", "0x7f", "{"). :func:`prose` returns the text the
model should read, with code blocks, inline code and HTML tags removed and,
when the sender also wrote something of their own, the quoted lines too.

Evasion: a spammer could wrap a lure in backticks or quote marks. So a
message that is *only* quotation keeps its quoted text, and code is replaced
by nothing rather than by a word the model would learn to trust. Links are
untouched by this module: the links detector reads every link wherever it is.
"""

from __future__ import annotations

import re

__all__ = ["has_markup", "prose"]

_FENCE_RE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
_INLINE_RE = re.compile(r"`[^`\n]{1,400}`")
_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]{0,20}(?:\s[^<>]{0,300})?/?>")
_QUOTE_RE = re.compile(r"^[ \t]*(?:>|&gt;)")
#: Characters that prose rarely has many of, and code always has.
_CODE_CHARS = frozenset("{}[]()<>=;$_\\|&*^~`\"'")
_CODE_START_RE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |return\b|if \(|for \(|while \(|"
    r"function\b|const |let |var |public |private |#include|select .* from |"
    r"insert into |update \S+ set |\$ |sudo |git |pip |npm |docker |kubectl |curl |"
    r"traceback \(|file \"|at [\w.$]+\(|error:|exception|\w+error:|[{}\]]\s*$)",
    re.IGNORECASE,
)
_MARKERS_RE = re.compile(r"```|~~~|`|<[a-zA-Z/]|^[ \t]*(?:>|&gt;)|[{};\n]", re.MULTILINE)


_MARKER_CHARS = "`~<>{};\n&"


def has_markup(text: str) -> bool:
    """Cheap test: could :func:`prose` change anything?"""
    if not any(c in text for c in _MARKER_CHARS):
        return False
    return _MARKERS_RE.search(text) is not None


def _code_line(line: str) -> bool:
    stripped = line.strip()
    if len(stripped) < 4:
        return stripped in ("}", "};", "]", ")", "});")
    if _CODE_START_RE.match(stripped):
        return True
    symbols = sum(c in _CODE_CHARS for c in stripped)
    letters = sum(c.isalpha() for c in stripped)
    return symbols >= 4 and symbols * 4 >= letters


def prose(text: str) -> str:
    """The sender's own words: ``text`` without code, markup tags and (if there is
    anything else) quoted lines. Newlines are kept."""
    if not has_markup(text):
        return text
    out = _FENCE_RE.sub("\n", text)
    out = _INLINE_RE.sub(" ", out)
    out = _TAG_RE.sub(" ", out)
    lines = out.split("\n")
    own = [ln for ln in lines if not _QUOTE_RE.match(ln)]
    if any(ln.strip() for ln in own):
        lines = own
    if len(lines) > 1 or any(c in text for c in "{};"):
        kept = [ln for ln in lines if not _code_line(ln)]
        if any(ln.strip() for ln in kept) or len(kept) < len(lines):
            lines = kept
    return "\n".join(lines)
