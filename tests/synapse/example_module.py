"""A demo spam checker, loaded by the Synapse subprocess (never by the test process).

The harness tests configure it as ``{"module": "example_module.DemoSpamChecker"}`` with
this folder on the subprocess's PYTHONPATH. It rejects every message whose body
contains ``config["word"]`` (default "forbidden-word") with M_FORBIDDEN and an extra
``org.example.reason`` field in the error body.
"""

from __future__ import annotations

from typing import Any

from synapse.module_api import NOT_SPAM, ModuleApi
from synapse.module_api.errors import Codes


class DemoSpamChecker:
    def __init__(self, config: dict[str, Any], api: ModuleApi) -> None:
        self.word = str(config.get("word", "forbidden-word"))
        self.api = api
        api.register_spam_checker_callbacks(check_event_for_spam=self.check_event_for_spam)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> dict[str, Any]:
        return dict(config or {})

    async def check_event_for_spam(self, event: Any) -> Any:
        if event.type != "m.room.message":
            return NOT_SPAM
        body = event.content.get("body")
        if isinstance(body, str) and self.word in body:
            return Codes.FORBIDDEN, {"org.example.reason": "demo"}
        return NOT_SPAM
