"""Something to act on: a phone number, a handle or an e-mail address.

Spam exists to make people do something: click, call, text, write to
someone. A text without a link and without any of these ("happy new year!",
"on my way") gives a recipient nothing to act on, so many people sending it
is a crowd, not a campaign, and one person sending it to many friends is a
greeting, not fan-out. The campaign and fan-out detectors ask this module
(fan-out only counts paid numbers: someone sending their new phone number or
handle to every friend is ordinary life).
"""

from __future__ import annotations

import re
from functools import lru_cache

from spimguard.text.numbers import number_kinds

__all__ = ["CONTACT_NUMBER_KINDS", "PAID_NUMBER", "contact_details"]

#: Number kinds that reach a person or a paid service.
CONTACT_NUMBER_KINDS = frozenset({"#phone", "#premium", "#freephone", "#short"})
#: Premium-rate numbers and short codes earn the spammer money per contact.
PAID_NUMBER = "premium-rate number"
_PAID_KINDS = frozenset({"#premium", "#short"})
_EMAIL_RE = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
#: "@name" handles (Telegram, Instagram, X); not an e-mail's domain part.
_HANDLE_RE = re.compile(r"(?<![\w.@])@[a-z][a-z0-9_]{3,31}\b")


@lru_cache(maxsize=2048)
def contact_details(match_text: str) -> tuple[str, ...]:
    """What the normalised text gives to act on, besides links ("phone number", ...).

    Remembered per text: the fan-out detector and the campaign fingerprint ask about
    the same message, and campaign copies repeat it."""
    found: list[str] = []
    if "@" in match_text:
        if _EMAIL_RE.search(match_text) is not None:
            found.append("e-mail address")
        if _HANDLE_RE.search(_EMAIL_RE.sub(" ", match_text)) is not None:
            found.append("handle")
    kinds = set(number_kinds(match_text[:4096]))  # no digit: returns at once
    if kinds & _PAID_KINDS:
        found.append(PAID_NUMBER)
    elif kinds & CONTACT_NUMBER_KINDS:
        found.append("phone number")
    return tuple(found)
