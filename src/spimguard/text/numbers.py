"""Numbers by shape and context, so the model learns *which* numbers mean spam.

The SMS spam the model learns from is full of prize amounts, premium-rate
numbers and short codes; its ham has few digits. Masking every digit to ``0``
(as the model did until 0.1) taught it "digits mean spam": a bare "2010" was
blocked. Chat is full of harmless numbers: years, times, dates, scores,
prices between friends, flight and order numbers, phone numbers. So each
number becomes one pseudo-word naming its kind (``#year``, ``#time``,
``#premium``, ...) and the model learns a weight per kind, from the data.

A number's kind comes from its shape and what touches it (a currency sign, a
unit, "am"/"pm", "to" before a short code). Digits of every script count
("۱۴۰۲", "२०२४", fullwidth): they are read as ASCII digits first.

Only text that holds a digit pays for this (one ``search`` otherwise).
Pseudo-words start with ``#``, which no word token can (see
:mod:`spimguard.learning.features`).
"""

from __future__ import annotations

import re
import sys

__all__ = ["KIND_MARK", "NUMBER_KINDS", "ascii_digits", "number_kinds", "replace_numbers"]

#: Marks a kind in the rewritten text (a private-use character, so a user who
#: types "#premium" does not produce the pseudo-word); the tokenizer turns
#: it into ``#``.
KIND_MARK = "\ue000"

#: Every pseudo-word this module emits, for documentation and tests.
NUMBER_KINDS = (
    "#premium", "#freephone", "#phone", "#short", "#time", "#date", "#ordinal",
    "#price_s", "#price_m", "#price_l", "#price_xl", "#rate", "#pct", "#measure",
    "#score", "#ip", "#version", "#decimal", "#year", "#hex", "#ref", "#n1", "#n2",
    "#n3", "#n4", "#n5", "#nlong",
)

_DIGIT_TABLE = {c: str(int(chr(c))) for c in range(sys.maxunicode + 1)
                if chr(c).isdecimal() and not chr(c).isascii()}
_TO_ASCII = str.maketrans(_DIGIT_TABLE)
_HAS_DIGIT = re.compile(r"\d")

_CUR_PRE = r"[£$€¥₹₽₩₺₴₦₱฿₪]"
_CUR_POST = (r"(?:[£$€¥₹₽₩₺₴₦₱฿₪元円]|eur|euros?|usd|dollars?|pounds?|quid|bucks|gbp|"
             r"руб\w*|грн|rs|inr|yen|rmb|yuan|lira|tl|tomans?|تومان|ریال|درهم|لایر)")
_UNIT = (r"(?:km/h|kmh|kms?|mi|miles?|mph|m|cm|mm|kg|kgs|g|lbs?|oz|ml|l|mb|gb|tb|kb|"
         r"ghz|mhz|k|mins?|minutes?|secs?|h|hrs?|hours?|days?|d|wks?|weeks?|months?|"
         r"yrs?|years?|x|kcal|cal|°c?|°f?|c|f|км|кг|м|мин|ч|дн\w*|лет|год\w*)")
_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|"
          r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|"
          r"ноября|декабря")
_B = r"(?<![\w.,])"   # not glued to a word or to a longer number
_E = r"(?![\w])"

#: Every repetition is bounded, so the scan is linear whatever the input
#: ("1 1 1 ..." made an unbounded look-ahead quadratic).
#: Alternatives are tried left to right at each position, so the specific
#: shapes come before the generic ones.
_NUMBER_RE = re.compile(
    # every alternative starts where no word, dot or comma touches it, at a digit, a
    # currency sign, "+", "(" or a word holding a digit: checked once, cheaply, before
    # the alternatives are tried (halves the cost on chat text)
    rf"(?<![\w.,])(?=[\d{_CUR_PRE[1:-1]}+(]|[^\W\d]\w*?\d)(?:"
    rf"(?P<price_pre>{_B}{_CUR_PRE}\s?\d[\d,.' ]{{0,20}}\d(?:k|m)?{_E}"
    rf"|{_B}{_CUR_PRE}\s?\d(?:k|m)?{_E})"
    rf"(?P<per>(?<=\d)/(?:min|msg|txt|sms|wk|week|m)\b)?"
    rf"|(?P<ip>{_B}\d{{1,3}}(?:\.\d{{1,3}}){{3}}{_E})"
    rf"|(?P<date>{_B}\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:\d{{4}}|\d{{2}}){_E}"
    rf"|{_B}\d{{4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}}{_E}"
    rf"|{_B}\d{{1,2}}(?:st|nd|rd|th|er|e|º|ª)?\s(?:{_MONTH}){_E})"
    rf"|(?P<version>{_B}v?\d+(?:\.\d+){{2,}}{_E}|{_B}v\d+(?:\.\d+)?{_E})"
    rf"|(?P<time>{_B}(?:[01]?\d|2[0-3])[:h][0-5]\d(?::[0-5]\d)?(?:\s?(?:am|pm|h))?{_E}"
    rf"|{_B}[01]?\d(?:[.:][0-5]\d)?\s?(?:am|pm|a\.m\.|p\.m\.)(?![a-z]))"
    rf"|(?P<rate>{_B}\d+\s?p(?:pm|/?min|/?msg|/?txt|/?wk|/?m)?{_E})"
    rf"|(?P<price_post>{_B}\d[\d,.']{{0,20}}\s?{_CUR_POST}(?![^\W\d_]))"
    rf"|(?P<phone>{_B}(?=[+(]?(?:\d[ \-.()]{{0,2}}){{6}}\d)"
    rf"\+?\(?\d{{1,5}}\)?(?:[ \-.]?\(?\d{{2,5}}\)?){{0,5}}{_E})"
    rf"|(?P<pct>{_B}\d+(?:[.,]\d+)?\s?%)"
    rf"|(?P<ordinal>{_B}\d+(?:st|nd|rd|th|er|ème|e|º|ª|-?й|-?я|-?е){_E})"
    rf"|(?P<measure>{_B}\d+(?:[.,]\d+)?\s?{_UNIT}{_E}|{_B}x\d+{_E})"
    rf"|(?P<score>{_B}\d{{1,3}}\s?[-–:]\s?\d{{1,3}}{_E})"
    rf"|(?P<date2>{_B}\d{{1,2}}/\d{{1,2}}{_E})"
    rf"|(?P<decimal>{_B}\d+[.,]\d+{_E})"
    rf"|(?P<alnum>{_B}(?=\w*\d)(?=\w*[^\W\d_])\w+)"
    rf"|(?P<int>{_B}\d+{_E})"
    rf")"
)

#: Words after which a 4-6 digit number is a short code to text ("txt WIN to 87121").
_SHORT_BEFORE = re.compile(r"(?:\bto|\bon|\bat)\s+$")
_SMS_VERB = re.compile(r"\b(?:txt|text|sms|send|reply|msg)\b")


def ascii_digits(text: str) -> str:
    """Decimal digits of any script as ASCII digits ("۱۴۰۲" -> "1402")."""
    return text if text.isascii() else text.translate(_TO_ASCII)


def _amount(chunk: str) -> float:
    digits = re.sub(r"[^\d.,]", "", chunk)
    # "1,000" and "1.000" group thousands; "12,50" and "12.50" are decimals
    digits = re.sub(r"[.,'](?=\d{3}(?!\d))", "", digits).replace(",", ".")
    whole, _, frac = digits.partition(".")
    if not whole:
        return 0.0
    value = float(whole + "." + frac.replace(".", "")) if frac else float(whole)
    return value * 1000.0 if chunk.rstrip().endswith("k") else value


def _price(chunk: str) -> str:
    amount = _amount(chunk)
    if amount < 10:
        return "#price_s"
    if amount < 100:
        return "#price_m"
    if amount < 1000:
        return "#price_l"
    return "#price_xl"


def _phone(chunk: str) -> str:
    digits = re.sub(r"\D", "", chunk)
    national = digits[2:] if digits.startswith("44") and chunk.lstrip().startswith("+") else \
        digits
    if national.startswith("0"):
        national = national[1:]
    if re.match(r"9\d{8,9}$", national) or national.startswith(("871", "870", "872", "844",
                                                                "845", "900")) \
            or digits.startswith("1900"):
        return "#premium"
    if national.startswith(("800", "808")) or digits.startswith(("1800", "1888", "1877")):
        return "#freephone"
    return "#phone"


def _integer(digits: str, before: str, text: str) -> str:
    n = len(digits)
    if n == 0:
        return "#n1"
    if n == 4 and digits[:2] in ("19", "20"):
        return "#year"
    if 4 <= n <= 6 and _SHORT_BEFORE.search(before) and _SMS_VERB.search(text):
        return "#short"
    if n <= 3:
        return f"#n{n}"
    if n == 4:
        return "#n4"
    if n <= 6:
        return "#n5"
    return _phone(digits)


def _alnum(chunk: str) -> str | None:
    """Letters and digits in one token; ``None`` keeps it as a (digit-masked) word."""
    letters = sum(c.isalpha() for c in chunk)
    digits = len(chunk) - letters - chunk.count("_")
    if len(chunk) >= 7 and re.fullmatch(r"[0-9a-f]+", chunk):
        return "#hex"
    if letters >= digits and len(chunk) <= 6:
        return None  # texting words: "4u", "2nite", "gr8", "b4"
    return "#ref"


def _kind(match: re.Match[str], text: str) -> str | None:
    group = match.lastgroup
    chunk = match.group()
    if group == "per" or (group == "price_pre" and match.group("per")):
        return "#rate"
    if group in ("price_pre", "price_post"):
        return _price(chunk)
    if group in ("date", "date2"):
        return "#date"
    if group == "phone":
        return _phone(chunk)
    if group == "int":
        return _integer(chunk, text[max(0, match.start() - 8):match.start()], text)
    if group == "alnum":
        return _alnum(chunk)
    return f"#{group}"


def replace_numbers(match_text: str) -> str:
    """``match_text`` with every number replaced by its kind (`` #time ``)."""
    if _HAS_DIGIT.search(match_text) is None:
        return match_text
    text = ascii_digits(match_text)

    def sub(m: re.Match[str]) -> str:
        kind = _kind(m, text)
        return m.group() if kind is None else f" {KIND_MARK}{kind[1:]} "

    return _NUMBER_RE.sub(sub, text)


def number_kinds(match_text: str) -> list[str]:
    """The kinds of the numbers in ``match_text``, in order (for tests and traces)."""
    return ["#" + t[1:] for t in replace_numbers(match_text).split() if t[0] == KIND_MARK]
