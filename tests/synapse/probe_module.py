"""A spam checker that only records what it was shown, loaded by the Synapse subprocess.

Configured as ``{"module": "probe_module.EventProbe", "config": {"path": ...}}`` with
this folder on the subprocess's PYTHONPATH, after the module under test: Synapse
calls the spam checkers in order, with the same event, so the probe sees what that
module saw (for every event it let through). It appends one JSON line per
``check_event_for_spam`` call: type, sender, sorted content keys and the sending
device from ``internal_metadata``, never the content itself, and always says NOT_SPAM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synapse.module_api import NOT_SPAM, ModuleApi


class EventProbe:
    def __init__(self, config: dict[str, Any], api: ModuleApi) -> None:
        self.path = Path(config["path"])
        api.register_spam_checker_callbacks(check_event_for_spam=self.check_event_for_spam)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> dict[str, Any]:
        if not isinstance((config or {}).get("path"), str):
            raise ValueError("probe_module.EventProbe needs config.path (a file to append to)")
        return dict(config)

    async def check_event_for_spam(self, event: Any) -> Any:
        content = event.content
        record = {
            "type": event.type,
            "sender": event.sender,
            "room_id": event.room_id,
            "content_keys": sorted(content),
            "ciphertext_is_text": isinstance(content.get("ciphertext"), str)
            and bool(content.get("ciphertext")),
            # Rust EventInternalMetadata: unset fields raise AttributeError on access
            "device_id": getattr(event.internal_metadata, "device_id", None),
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return NOT_SPAM
