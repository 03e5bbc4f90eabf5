"""End-to-end encrypted (Megolm) clients for the real-Synapse tests.

What a spam checker gets from an encrypted room is an ``m.room.encrypted`` event: a
ciphertext, the algorithm, a session id and the sender's device, never the text. The
tests that show what the module does with that need clients that really encrypt, as
Element or any other client would, rather than hand-written ``m.room.encrypted``
contents. These helpers give them: matrix-nio with its vodozemac backend (the
``e2e`` extra of matrix-nio >= 0.26; no libolm). Like homeserver.py, this module
imports nio only when a helper runs, so it imports (and the tests skip) without it.

Each client has its own on-disk nio store (its Olm account and Megolm sessions), in
a folder the caller gives, so two logins never share keys by accident.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeserver import HTTP_TIMEOUT, HarnessError, Homeserver, _nio, text_content

if TYPE_CHECKING:
    from nio import AsyncClient, RoomSendError, RoomSendResponse

MEGOLM = "m.megolm.v1.aes-sha2"
ENCRYPTION_STATE: dict[str, Any] = {"type": "m.room.encryption", "state_key": "",
                                    "content": {"algorithm": MEGOLM}}


def encryption_unavailable() -> str | None:
    """Why these helpers cannot run here, or None when they can.

    nio installs without its crypto backend (plain ``matrix-nio``, no ``e2e`` extra);
    a client config asking for encryption then raises ImportWarning, so tests ask
    first and skip with a reason instead of failing on setup.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            crypto = importlib.import_module("nio.crypto")
    except ImportError:
        return "matrix-nio is not installed (pip install -e '.[dev]')"
    if not getattr(crypto, "ENCRYPTION_ENABLED", False):
        return ("matrix-nio has no encryption backend "
                "(pip install 'matrix-nio[e2e]>=0.26' brings vodozemac)")
    return None


@contextlib.asynccontextmanager
async def encrypted_client(hs: Homeserver, user_id: str, password: str, store_dir: Path,
                           device_name: str = "phone", user_agent: str | None = None,
                           timeout: float = HTTP_TIMEOUT) -> AsyncIterator[AsyncClient]:
    """A new device of ``user_id`` with its device keys published, ready to encrypt.

    ``client.device_id`` is the id the server assigned at login; Synapse puts that same
    id in ``event.internal_metadata.device_id`` of everything this client sends, which
    is what lets a test tie a checked event to a device. ``user_agent`` is sent on every
    request, as with homeserver.login(). The client never retries (a 429 or a timeout
    comes back as the error it is). Closed, store included, on exit.
    """
    reason = encryption_unavailable()
    if reason is not None:
        raise HarnessError(reason)
    nio = _nio()
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    config = nio.AsyncClientConfig(
        max_limit_exceeded=0, max_timeouts=0, request_timeout=timeout,
        encryption_enabled=True, store_sync_tokens=True,
        custom_headers=None if user_agent is None else {"User-Agent": user_agent})
    client = nio.AsyncClient(hs.url, user_id, store_path=str(store_dir), config=config)
    try:
        resp = await client.login(password, device_name=device_name)
        if not isinstance(resp, nio.LoginResponse):
            raise HarnessError(f"login of {user_id} failed: {resp}")
        if client.olm is None:
            raise HarnessError(f"{user_id}: nio loaded no Olm account after login")
        await _sync(client)
        await _exchange_keys(client)
        yield client
    finally:
        await client.close()
        store = client.store
        if store is not None:
            store.database.close()


async def open_encrypted_dm(a: AsyncClient, b: AsyncClient) -> str:
    """``a`` creates a direct Megolm room inviting ``b``; ``b`` joins. Returns its id.

    The encryption state is part of the room from its creation (as Element does), so
    no message in it can go out in clear. Both clients sync afterwards: nio decides
    whether to encrypt from what its last sync said about the room, and shares the
    room key only with devices whose keys it has queried; a send before that would be
    plaintext, or unreadable to the other side.
    """
    nio = _nio()
    created = await a.room_create(is_direct=True, invite=[b.user_id],
                                  preset=nio.RoomPreset.trusted_private_chat,
                                  initial_state=[ENCRYPTION_STATE])
    if not isinstance(created, nio.RoomCreateResponse):
        raise HarnessError(f"{a.user_id} could not create an encrypted DM with "
                           f"{b.user_id}: {created}")
    room_id: str = created.room_id
    await _sync(b)
    joined = await b.join(room_id)
    if not isinstance(joined, nio.JoinResponse):
        raise HarnessError(f"{b.user_id} could not join {room_id}: {joined}")
    for client in (a, b):
        await _sync(client)
        await _exchange_keys(client)
        room = client.rooms.get(room_id)
        if room is None or not room.encrypted:
            raise HarnessError(f"{client.user_id} does not see {room_id} as encrypted")
        if {a.user_id, b.user_id} - set(room.users):
            raise HarnessError(f"{client.user_id} does not see both users in {room_id}: "
                               f"{sorted(room.users)}")
    return room_id


async def send_encrypted_text(client: AsyncClient, room_id: str, body: str,
                              formatted_body: str | None = None
                              ) -> RoomSendResponse | RoomSendError:
    """Send an m.text message as Megolm ciphertext, as a real client would.

    Devices are not verified in these tests, hence ``ignore_unverified_devices``. A
    spam checker's refusal comes back as a ``RoomSendError`` (errcode in
    ``status_code``; homeserver.send_error() gives the HTTP status and body), not as
    an exception. Raises HarnessError if nio does not know the room as encrypted,
    because it would then send the text in clear and the test would prove nothing.
    """
    room = client.rooms.get(room_id)
    if room is None or not room.encrypted:
        raise HarnessError(f"{client.user_id} does not know {room_id} as encrypted: "
                           "sync after joining (open_encrypted_dm does)")
    resp: RoomSendResponse | RoomSendError = await client.room_send(
        room_id, "m.room.message", text_content(body, formatted_body),
        ignore_unverified_devices=True)
    return resp


async def received_plaintexts(client: AsyncClient, room_id: str) -> list[str]:
    """Bodies of the m.text messages in the room this client could decrypt, oldest first.

    Syncs first: room keys arrive as to-device messages, which only /sync delivers.
    Then reads /messages backwards from "now" (nio decrypts each page), so everything
    persisted by then is there, not only what one sync's timeline held. A message the
    client cannot decrypt (a key never shared with it) is left out, as a user sees it
    as "unable to decrypt" rather than as text; a plaintext message is left out too.
    """
    nio = _nio()
    since = await _sync(client)
    bodies: list[str] = []
    start = since
    for _page in range(100):
        page = await client.room_messages(room_id, start=start,
                                          direction=nio.MessageDirection.back, limit=100)
        if not isinstance(page, nio.RoomMessagesResponse):
            raise HarnessError(f"/messages failed for {client.user_id} in {room_id}: {page}")
        for event in page.chunk:
            if isinstance(event, nio.RoomMessageText) and event.decrypted:
                bodies.append(event.body)
        if not page.chunk or not page.end or page.end == start:
            break
        start = page.end
    bodies.reverse()
    return bodies


async def _sync(client: AsyncClient) -> str:
    """One sync without waiting; returns its next_batch (nio also keeps it in its store)."""
    nio = _nio()
    resp = await client.sync(timeout=0, full_state=False)
    if not isinstance(resp, nio.SyncResponse):
        raise HarnessError(f"sync failed for {client.user_id}: {resp}")
    token: str = resp.next_batch
    return token


async def _exchange_keys(client: AsyncClient) -> None:
    """Publish this device's keys and fetch the devices of the users it shares rooms with.

    nio tracks both needs itself (``should_upload_keys``, ``should_query_keys``) but
    acts on them by itself only in ``sync_forever``, which these tests do not run
    (``room_send`` queries too, but only for a room whose members it never loaded).
    """
    nio = _nio()
    if client.should_upload_keys:
        up = await client.keys_upload()
        if not isinstance(up, nio.KeysUploadResponse):
            raise HarnessError(f"keys upload failed for {client.user_id}: {up}")
    if client.should_query_keys:
        query = await client.keys_query()
        if not isinstance(query, nio.KeysQueryResponse):
            raise HarnessError(f"keys query failed for {client.user_id}: {query}")
