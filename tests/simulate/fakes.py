"""Shared helpers: a fake defence built from a real engine and one scripted detector."""

from __future__ import annotations

import re
from collections.abc import Iterable

from spimguard import Engine, Policy
from spimguard.core.context import MessageContext
from spimguard.core.signals import Hit, SignalSpec
from spimguard.detectors.base import DetectorBase

#: A link as the simulator writes them: with a scheme, or a bare host/path.
LINK = re.compile(r"https?://|\b[\w-]+\.[a-z]{2,}(\.[a-z]{2,})?/")


class LinkBan(DetectorBase):
    """Flags every message with a link; the policy decides what that costs."""

    name = "linkban"
    signals = (SignalSpec("HAS_LINK", 10.0, "the message carries a link"),)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        text = ctx.message.text or ""
        if LINK.search(text):
            yield Hit("HAS_LINK", 1.0, "link")


def link_blocker(lock: bool = False) -> Engine:
    """Blocks every message with a link; with ``lock``, also locks its sender."""
    data: dict[str, object] = {"forced": {"HAS_LINK": "block"}}
    if lock:
        data["account"] = {"forced": {"HAS_LINK": "lock"}}
    return Engine([LinkBan()], policy=Policy.from_dict(data))
