"""Per-message work that several detectors need, done once and memoised on the context."""

from __future__ import annotations

from spimguard.core.context import MessageContext
from spimguard.links.extract import Extraction, extract_links

__all__ = ["ALL_LINKS_WELL_KNOWN", "LINK_LIMIT", "message_domains", "message_links",
           "people_strength"]

#: Memo key set by the links detector (which runs first): True when every link
#: of the message goes to an allowlisted, well-known site.
ALL_LINKS_WELL_KNOWN = "links.all_well_known"

#: Links extracted per message (the links detector analyses at most its own max).
LINK_LIMIT = 50


def message_links(ctx: MessageContext) -> Extraction | None:
    """The message's links (``None`` when it has no readable text)."""
    if ctx.text is None:
        return None
    ex = ctx.memo.get("links")
    if ex is None:  # extract_links returns at once for text without a dot-word
        ex = ctx.memo["links"] = extract_links(ctx.text.links, ctx.message.html,
                                               limit=LINK_LIMIT)
    return ex


def message_domains(ctx: MessageContext) -> tuple[str, ...]:
    """Distinct registrable domains linked by the message, in order (worked out once per
    message: four detectors ask)."""
    domains: tuple[str, ...] | None = ctx.memo.get("domains")
    if domains is None:
        ex = message_links(ctx)
        if ex is None:
            return ()
        domains = ctx.memo["domains"] = tuple(dict.fromkeys(
            link.parts.registrable for link in ex.links))
    return domains


def people_strength(n: int) -> float:
    """How much "n people at once" weighs, the same for fan-out and wake-ups: 0.4 from
    3, 0.7 from 5, 1 from 8 (two people is a conversation, not a crowd)."""
    if n >= 8:
        return 1.0
    if n >= 5:
        return 0.7
    if n >= 3:
        return 0.4
    return 0.0
