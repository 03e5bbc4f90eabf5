"""Attack texts: templates written for the simulator, unlike the training spam.

The SMS corpus's spam is "WINNER!! claim your prize, call 0906..."; the
messages that hurt an IM network read like a friend ("lol is this you?
<link>"). Every template here was written for spimguard, in several languages,
with ``{a|b|c}`` alternatives and a ``{link}`` slot. Stranger bots and botnet
campaigns add the usual evasion: synonyms (the alternatives), look-alike
letters from Cyrillic, zero-width characters inside words, and links that
rotate over a pool of freshly generated domains (brand combinations, cheap
suffixes, free hosting subdomains, a few shorteners).
"""

from __future__ import annotations

import random
import re
import string

from spimguard.simulate.templates import BOTNET, SLOW_WORM, STRANGER, WORM

__all__ = ["BOTNET", "SLOW_WORM", "STRANGER", "WORM", "DomainPool", "homoglyphs", "pick_template",
           "spin", "vary_lightly", "zero_width"]

_SLOT = re.compile(r"\{([^{}]*)\}")

#: Latin letters and the Cyrillic letters that look the same.
_HOMOGLYPHS = {"a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х",
               "y": "у", "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К",
               "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х"}
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")

_BRANDS = ("instagram", "facebook", "tiktok", "telegram", "whatsapp", "snapchat", "youtube",
           "discord", "steam", "paypal", "apple", "netflix", "google", "vk")
_WORDS = ("photo", "video", "album", "view", "secure", "login", "verify", "share", "clip",
          "moments", "gallery", "vote", "contest", "gift", "bonus", "drop", "media", "cloud",
          "story", "watch", "free", "promo", "reward", "club", "star", "pics", "files", "doc")
_CHEAP_TLDS = ("xyz", "top", "click", "icu", "live", "site", "online", "shop", "buzz", "cfd",
               "sbs", "lol", "fun", "monster", "rest", "quest")
_PLAIN_TLDS = ("com", "net", "org", "info", "me", "co")
_HOSTING = ("web.app", "pages.dev", "netlify.app", "vercel.app", "firebaseapp.com", "github.io",
            "glitch.me", "herokuapp.com", "weebly.com", "blogspot.com", "r2.dev")
_SHORTENERS = ("bit.ly", "tinyurl.com", "cutt.ly", "is.gd", "t.ly")
_PATHS = ("/v/{id}", "/photo/{id}", "/album?id={id}", "/s/{id}", "/login?next=%2F{id}",
          "/watch/{id}", "/{id}", "/vote/{id}", "/id/{id}/view", "/gift/{id}")


def spin(template: str, rng: random.Random, **slots: str) -> str:
    """Fill ``{a|b|c}`` with one alternative and ``{name}`` with ``slots[name]``.

    An unknown ``{name}`` without alternatives is left as it is.
    """
    def pick(m: re.Match[str]) -> str:
        body: str = m.group(1)
        if "|" in body:
            return rng.choice(body.split("|"))
        whole: str = m.group(0)
        return slots.get(body, whole)

    return _SLOT.sub(pick, template)


def pick_template(pool: dict[str, tuple[str, ...]], language: str, rng: random.Random,
                  other_languages: float = 0.0) -> tuple[str, str]:
    """(language, template): in ``language`` if the pool has it, sometimes in another."""
    langs = sorted(pool)
    lang = language if language in pool else "en"
    if other_languages and rng.random() < other_languages:
        lang = rng.choice(langs)
    return lang, rng.choice(pool[lang])


def _is_link(token: str) -> bool:
    return "://" in token or ("." in token.strip(".,!?") and "/" in token)


def homoglyphs(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Swap some Latin letters for Cyrillic look-alikes; links are left intact."""
    out = []
    for tok in text.split(" "):
        if _is_link(tok):
            out.append(tok)
            continue
        out.append("".join(
            _HOMOGLYPHS[c] if c in _HOMOGLYPHS and rng.random() < rate else c for c in tok))
    return " ".join(out)


def zero_width(text: str, rng: random.Random, rate: float = 0.15) -> str:
    """Insert invisible characters inside some words (never inside a link)."""
    out = []
    for tok in text.split(" "):
        if _is_link(tok) or len(tok) < 4 or rng.random() >= rate * 3:
            out.append(tok)
            continue
        cut = rng.randrange(1, len(tok) - 1)
        out.append(tok[:cut] + rng.choice(_ZERO_WIDTH) + tok[cut:])
    return " ".join(out)


def vary_lightly(text: str, rng: random.Random) -> str:
    """How a worm makes each copy a little different: case, punctuation, an emoji."""
    r = rng.random()
    if r < 0.25 and text[:1].isupper():
        text = text[0].lower() + text[1:]
    elif r < 0.4:
        text = text.replace("?", "??", 1)
    if rng.random() < 0.3:
        text += " " + rng.choice(("😂", "😳", "😮", "🙏", "👀", "😅", "!!", "))"))
    return text


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))


class DomainPool:
    """Phishing-like hosts for one campaign, rotated link by link.

    ``styles`` weights the kinds: ``brand`` (instagram-photo-view.xyz),
    ``random`` (lovelymoments24.click), ``hosting`` (album-x7k2.web.app) and
    ``short`` (bit.ly/Ab3x9Q). Each link gets a fresh random path.
    """

    def __init__(self, rng: random.Random, size: int = 6,
                 styles: dict[str, float] | None = None) -> None:
        self.rng = rng
        weights = styles or {"brand": 0.35, "random": 0.3, "hosting": 0.3, "short": 0.05}
        kinds = sorted(weights)
        self.hosts = [self._host(rng.choices(kinds, [weights[k] for k in kinds])[0])
                      for _ in range(max(1, size))]
        self._next = 0

    def _host(self, kind: str) -> str:
        r = self.rng
        if kind == "brand":
            brand, word = r.choice(_BRANDS), r.choice(_WORDS)
            name = r.choice((f"{brand}-{word}", f"{word}-{brand}",
                             f"{brand}{word}{r.randint(1, 99)}",
                             f"{brand}-{word}-{r.choice(_WORDS)}"))
            return f"{name}.{r.choice(_CHEAP_TLDS + _PLAIN_TLDS)}"
        if kind == "random":
            name = f"{r.choice(_WORDS)}{r.choice(_WORDS)}{r.choice(('', str(r.randint(2, 99))))}"
            return f"{name}.{r.choice(_CHEAP_TLDS)}"
        if kind == "hosting":
            return f"{r.choice(_WORDS)}-{_token(r, 4)}.{r.choice(_HOSTING)}"
        return r.choice(_SHORTENERS)

    def url(self) -> str:
        """The next host of the rotation, with a fresh path."""
        host = self.hosts[self._next % len(self.hosts)]
        self._next += 1
        r = self.rng
        if host in _SHORTENERS:
            return f"https://{host}/{_token(r, 7)}"
        path = r.choice(_PATHS).replace("{id}", _token(r, r.randint(5, 9)))
        return f"{r.choice(('https://', 'https://', 'http://', ''))}{host}{path}"
