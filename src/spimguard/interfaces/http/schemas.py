"""Request and response bodies of the HTTP API, as pydantic models.

They mirror the event and verdict formats of ``shared/spec/formats.md`` so
the OpenAPI document tells integrators exactly what to send, and they bound
every field (lengths, counts) so a hostile body is a 422, never a crash or a
slow request. The engine's own parser (:func:`spimguard.core.events.parse_event`)
still has the last word on what an event means.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

__all__ = ["AccountOut", "ListIn", "ListName", "MessageIn", "ReportIn", "ReportOut",
           "SignalOut", "VerdictOut"]

#: Bounds of one message; the engine analyses at most 64 K characters anyway.
MAX_TEXT = 100_000
MAX_NAME = 512
MAX_RECIPIENTS = 100_000

Name = Field(min_length=1, max_length=MAX_NAME)


class MessageIn(BaseModel):
    """One ``message`` event (spec §2); ``ts`` defaults to the time of arrival."""

    model_config = ConfigDict(extra="ignore")

    ts: float | None = Field(default=None, allow_inf_nan=False)
    id: str = Field(min_length=1, max_length=MAX_NAME)
    sender: str = Field(min_length=1, max_length=MAX_NAME)
    recipients: list[str] = Field(max_length=MAX_RECIPIENTS)
    room: str | None = Field(default=None, max_length=MAX_NAME)
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    formatted_body: str | None = Field(default=None, max_length=MAX_TEXT)
    encrypted: StrictBool = False
    #: The sending device or session (beyond spec §2): sessions are judged apart.
    device: str | None = Field(default=None, max_length=MAX_NAME)
    #: Bytes of the content (an encrypted message's ciphertext).
    size: int | None = Field(default=None, ge=0, le=2**31, strict=True)

    def event(self, now: float) -> dict[str, Any]:
        d = self.model_dump(exclude_none=True)
        d["type"] = "message"
        d.setdefault("ts", now)
        return d


class ReportIn(BaseModel):
    """A report about a message; ``moderator`` reports need the ``admin`` scope."""

    ts: float | None = Field(default=None, allow_inf_nan=False)
    reporter: str = Field(min_length=1, max_length=MAX_NAME)
    message_id: str = Field(min_length=1, max_length=MAX_NAME)
    label: Literal["spam", "ham"]
    #: Strict: "yes" is not a moderator's decision (the event parser says the same).
    moderator: StrictBool = False
    #: Who sent the reported message (optional): attributes the report even on a
    #: worker that did not check the message, or after the sender was forgotten.
    sender: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    #: The message's text as the reporter's client decrypted it (encrypted rooms):
    #: learned from once a moderator confirms the report, marked as reported plaintext.
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    reason: str | None = Field(default=None, max_length=MAX_NAME)


class ReportOut(BaseModel):
    id: int
    campaign: str | None = None


class SignalOut(BaseModel):
    name: str
    score: float
    detail: str


class VerdictOut(BaseModel):
    """A verdict (spec §3)."""

    id: str
    action: Literal["allow", "warn", "hold", "block"]
    score: float
    signals: list[SignalOut]
    account_action: Literal["challenge", "lock"] | None = None
    campaign: str | None = None
    #: The device id the account action targets, when it targets one session.
    session: str | None = None


class AccountOut(BaseModel):
    user: str
    action: Literal["challenge", "lock"] | None
    profile: dict[str, Any] | None
    history: list[dict[str, Any]]


ListName = Literal["block", "allow", "decoys"]
#: One list entry: a host, IP, URL or user id on one line.
Entry = Annotated[str, StringConstraints(min_length=1, max_length=2048,
                                         pattern=r"^[^\r\n\x00]+$")]


class ListIn(BaseModel):
    """The whole new content of a list (it replaces the old one)."""

    entries: list[Entry] = Field(max_length=1_000_000)
