"""Redis backend: behaviour state shared by worker processes on one or many machines.

Layout of a value (one Redis string per key, under ``prefix``)::

    8 bytes   logical expiry, big-endian IEEE double (+inf: never)
    n bytes   codec.encode(value): the same bytes every backend stores

Times are *logical* (the event time given by the caller), so expiry is
decided by comparing that header with ``now``, exactly as :class:`MemoryStore`
does, and never by Redis' clock: a replay of last month's events expires keys
as live traffic would. Redis' own expiry (``PX`` = ttl + :attr:`NATIVE_MARGIN`
of wall clock) only collects keys that nobody touches any more; the margin
keeps it from firing before the logical expiry while logical time keeps up
with the wall clock. A replay slower than real time can outlive the margin,
and then a key disappears early (it reads as absent, the safe direction).

A plain string per key keeps ``get`` at one ``GET`` and ``get_many`` at one
``MGET``; ``incr`` is one ``EVALSHA`` of a Lua script, so counters are atomic
across processes. Driver errors become :class:`StoreError`;
:class:`FallbackStore` turns them into answers from local state.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from spimguard.state.base import Store, StoreError
from spimguard.state.batch import get_many, write_many
from spimguard.state.codec import decode, encode
from spimguard.state.outage import Outage, OutageStatus

__all__ = ["FallbackStore", "RedisStore"]

log = logging.getLogger("spimguard.state")

_T = TypeVar("_T")
_HEADER = struct.Struct(">d")
_NEVER = float("inf")
#: Damaged keys remembered so each is logged once (bounded: a flood of damage
#: must not grow memory; past the bound, damage is counted but not logged).
_MAX_DAMAGE_LOGGED = 1024
#: Native expiries longer than this are not set (Redis refuses expiry times
#: that overflow; a century is "never" for a cache of evidence).
_MAX_NATIVE_SECONDS = 100 * 365 * 86400.0
_NOT_A_NUMBER = "SPIMGUARD_NOT_A_NUMBER"
_NOT_FINITE = "SPIMGUARD_NOT_FINITE"

# KEYS[1] key; ARGV: amount (Python repr), now (packed), header of a new key
# (packed expiry), native expiry in ms ("0": none). Mirrors MemoryStore.incr:
# absent, logically expired, JSON null or damaged (as ``get`` reads it: absent)
# -> created at 0 with the new expiry; a live number (or bool) keeps its expiry
# and its native TTL (KEEPTTL); other live JSON or bytes -> TypeError, as
# ``"text" + 1.0`` is in Python.
# The result is written as the shortest of %.15g/%.16g/%.17g that reads back
# as the same double (with ".0" added to integers, so it decodes as a float):
# the same float Python would store, if not always the same digits (1e+15 for
# Python's 1000000000000000.0). It is returned as a string because Lua numbers
# come back from scripts truncated to integers.
# One message's writes as one command: a pipeline of N SETs costs redis-py N commands to
# pack and N replies to parse, most of a check's client time. Keys of one call must live
# on one node (plain Redis or Sentinel; a cluster would need hash tags).
# ARGV, per key: op ("s" set, "d" delete), payload, native expiry in ms ("0": none).
_WRITE_LUA = """
for i, key in ipairs(KEYS) do
  local base = 3 * (i - 1)
  if ARGV[base + 1] == "s" then
    local px = tonumber(ARGV[base + 3])
    if px > 0 then
      redis.call("SET", key, ARGV[base + 2], "PX", px)
    else
      redis.call("SET", key, ARGV[base + 2])
    end
  else
    redis.call("DEL", key)
  end
end
return #KEYS
"""
_INCR_LUA = """
local raw = redis.pcall('GET', KEYS[1])
if type(raw) == 'table' then raw = false end
local now = struct.unpack('>d', ARGV[2])
local current = 0
local header = nil
if raw and #raw >= 9 then
  local expiry = struct.unpack('>d', string.sub(raw, 1, 8))
  if not (expiry <= now) then
    local tag = string.sub(raw, 9, 9)
    local body = string.sub(raw, 10)
    if tag == 'j' then
      if body == 'true' then
        current = 1; header = string.sub(raw, 1, 8)
      elseif body == 'false' then
        header = string.sub(raw, 1, 8)
      elseif body ~= 'null' then
        local n = tonumber(body)
        if n ~= nil then
          current = n; header = string.sub(raw, 1, 8)
        elseif pcall(cjson.decode, body) then
          return redis.error_reply('""" + _NOT_A_NUMBER + """')
        end
      end
    elseif tag == 'b' then
      return redis.error_reply('""" + _NOT_A_NUMBER + """')
    end
  end
end
local v = current + tonumber(ARGV[1])
if v ~= v or v == math.huge or v == -math.huge then
  return redis.error_reply('""" + _NOT_FINITE + """')
end
local s
for p = 15, 17 do
  s = string.format('%.' .. p .. 'g', v)
  if tonumber(s) == v then break end
end
if not string.find(s, '[%.eEn]') then s = s .. '.0' end
if header then
  redis.call('SET', KEYS[1], header .. 'j' .. s, 'KEEPTTL')
elseif ARGV[4] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[3] .. 'j' .. s, 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[3] .. 'j' .. s)
end
return s
"""


def _safe_url(url: str) -> str:
    """``url`` without its password (and query, which may carry one) for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<unparsable redis url>"


def _client_url(client: redis.Redis) -> str:
    kw = client.connection_pool.connection_kwargs
    if kw.get("path"):
        return f"unix://{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{kw.get('host', '?')}:{kw.get('port', '?')}/{kw.get('db', 0)}"


def _native_px(ttl: float | None, margin: float) -> int | None:
    """Redis' own expiry in ms, or None for none (no ttl, or too far to matter)."""
    if ttl is None:
        return None
    total = ttl + margin
    if total != total or total > _MAX_NATIVE_SECONDS:
        return None
    if total <= 0:
        return 1  # logically expired already: let Redis drop it at once
    return max(1, math.ceil(total * 1000))


class RedisStore:
    """The :class:`Store` contract on Redis, with ``get_many`` to save round trips.

    Use one instance per process (it holds a connection pool and is thread
    safe); every process using the same URL and ``prefix`` shares state. A
    ``client`` given by the caller must keep ``decode_responses=False`` and is
    not closed by :meth:`close`. A call fails within about two
    ``socket_timeout`` (one reconnect, no back-off): a worker must not stall
    on a dead Redis, and :class:`FallbackStore` answers instead.
    """

    SCHEME = "redis"
    #: Across the network: the engine batches each message's calls (state/batch.py).
    remote = True
    #: Wall-clock seconds Redis keeps a key past its ttl before collecting it.
    NATIVE_MARGIN = 3600.0

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "spimguard:",
        socket_timeout: float = 0.25,
        client: redis.Redis | None = None,
    ) -> None:
        self.prefix = prefix
        if client is None:
            self.url = _safe_url(url)
            self._owns_client = True
            self._client: redis.Redis = redis.Redis.from_url(
                url,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 1),
            )
        else:
            if client.connection_pool.connection_kwargs.get("decode_responses"):
                raise ValueError("RedisStore needs a client with decode_responses=False")
            self.url = _client_url(client)
            self._owns_client = False
            self._client = client
        self._incr = self._client.register_script(_INCR_LUA)
        self._write = self._client.register_script(_WRITE_LUA)
        self._damaged: set[str] = set()
        #: Values that failed to decode (each key is logged once).
        self.damaged = 0

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, prefix={self.prefix!r})"

    @property
    def client(self) -> redis.Redis:
        """The redis-py client (for tests and operations, e.g. ``pttl``)."""
        return self._client

    def key(self, key: str) -> str:
        """The Redis key holding ``key`` (the prefix keeps deployments apart)."""
        return self.prefix + key

    # -- the Store protocol ---------------------------------------------------

    def get(self, key: str, now: float) -> Any | None:
        try:
            raw = self._client.get(self.key(key))
        except redis.ResponseError as e:
            if "WRONGTYPE" not in str(e):
                raise self._error("GET", e) from e
            self._damage(key, "not a string")  # someone else's data under our prefix
            return None
        except redis.RedisError as e:
            raise self._error("GET", e) from e
        return self._value(key, raw, now)

    def get_many(self, keys: list[str], now: float) -> list[Any | None]:
        """Values of ``keys`` in order (None for absent or expired), in one ``MGET``."""
        if not keys:
            return []
        try:
            raws = self._client.mget([self.key(k) for k in keys])
        except redis.RedisError as e:
            raise self._error("MGET", e) from e
        return [self._value(k, raw, now) for k, raw in zip(keys, raws, strict=True)]

    def write_many(self, writes: list[tuple[str, str, Any, float, float | None]]) -> None:
        """Sets and deletes, in order, in one script call (one round trip, one command)."""
        if not writes:
            return
        keys: list[str] = []
        args: list[bytes | str] = []
        for op, key, value, now, ttl in writes:
            keys.append(self.key(key))
            if op == "set":
                expires = _NEVER if ttl is None else now + ttl
                args += ["s", _HEADER.pack(expires) + encode(value),
                         str(_native_px(ttl, self.NATIVE_MARGIN) or 0)]
            else:
                args += ["d", "", "0"]
        try:
            self._write(keys=keys, args=args)
        except redis.RedisError as e:
            raise self._error("EVALSHA", e) from e

    def set(self, key: str, value: Any, now: float, ttl: float | None = None) -> None:
        expires = _NEVER if ttl is None else now + ttl
        payload = _HEADER.pack(expires) + encode(value)  # TypeError before any I/O
        try:
            self._client.set(self.key(key), payload, px=_native_px(ttl, self.NATIVE_MARGIN))
        except redis.RedisError as e:
            raise self._error("SET", e) from e

    def delete(self, key: str) -> None:
        try:
            self._client.delete(self.key(key))
        except redis.RedisError as e:
            raise self._error("DEL", e) from e

    def incr(self, key: str, amount: float, now: float, ttl: float | None = None) -> float:
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise TypeError(f"incr amount must be a number, got {type(amount).__name__}")
        if not math.isfinite(amount):
            raise TypeError(f"incr amount must be finite (JSON has no {amount!r})")
        expires = _NEVER if ttl is None else now + ttl
        px = _native_px(ttl, self.NATIVE_MARGIN)
        args: list[bytes | str] = [repr(float(amount)), _HEADER.pack(now),
                                   _HEADER.pack(expires), str(px or 0)]
        try:
            result = self._incr(keys=[self.key(key)], args=args)
        except redis.ResponseError as e:
            if _NOT_A_NUMBER in str(e):
                raise TypeError(f"store value under {key!r} is not a number") from None
            if _NOT_FINITE in str(e):
                raise TypeError(f"counter {key!r} would leave the finite range") from None
            raise self._error("EVALSHA", e) from e
        except redis.RedisError as e:
            raise self._error("EVALSHA", e) from e
        return float(result)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except (redis.RedisError, OSError):
            return False

    def close(self) -> None:
        """Drop the connections (only those of a client this store created)."""
        if self._owns_client:
            self._client.close()

    # -- internals ------------------------------------------------------------

    def _value(self, key: str, raw: Any, now: float) -> Any | None:
        if raw is None:
            return None
        if not isinstance(raw, bytes) or len(raw) <= _HEADER.size:
            self._damage(key, "too short for a header and a value")
            return None
        if _HEADER.unpack_from(raw)[0] <= now:
            return None
        try:
            return decode(raw[_HEADER.size:])
        except ValueError as e:
            self._damage(key, str(e))
            return None

    def _damage(self, key: str, why: str) -> None:
        self.damaged += 1
        if key in self._damaged or len(self._damaged) >= _MAX_DAMAGE_LOGGED:
            return
        self._damaged.add(key)
        log.warning("damaged value under %r in %s (%s): read as absent", self.key(key),
                    self.url, why)

    def _error(self, command: str, e: redis.RedisError) -> StoreError:
        return StoreError(f"redis {self.url} failed on {command}: {type(e).__name__}: {e}")


class FallbackStore(OutageStatus):
    """Keeps answering from local state while the primary store is failing.

    Every call goes to ``primary``; on :class:`StoreError` it is served by
    ``fallback`` instead (normally a :class:`MemoryStore`), ``errors`` counts
    the failure and ``degraded`` turns on, with one warning for the whole
    outage. While degraded, the primary is tried again at most once every
    ``retry_after`` seconds (monotonic wall clock), so a dead Redis costs one
    failed call per second rather than a timeout per message; the first call
    that succeeds ends the outage, with a "recovered" warning.

    What is lost: writes made while degraded stay in the fallback and are
    **not** replayed to the primary (replaying a stale counter or profile over
    what other workers wrote meanwhile would be worse than forgetting it), and
    the fallback starts without the shared state, so behaviour detectors see
    each account afresh during an outage. On recovery the keys written locally
    are deleted from the fallback, so a later outage does not resurrect them.
    """

    def __init__(self, primary: Store, fallback: Store, *, retry_after: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.primary = primary
        self.fallback = fallback
        self._outage = Outage(retry_after, clock)
        self._local_keys: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FallbackStore({self.primary!r}, {self.fallback!r})"

    @property
    def remote(self) -> bool:
        return bool(getattr(self.primary, "remote", False))

    def get(self, key: str, now: float) -> Any | None:
        return self._call(lambda s: s.get(key, now))

    def get_many(self, keys: list[str], now: float) -> list[Any | None]:
        return self._call(lambda s: get_many(s, keys, now))

    def write_many(self, writes: list[tuple[str, str, Any, float, float | None]]) -> None:
        self._call(lambda s: write_many(s, writes), [w[1] for w in writes])

    def set(self, key: str, value: Any, now: float, ttl: float | None = None) -> None:
        self._call(lambda s: s.set(key, value, now, ttl), (key,))

    def delete(self, key: str) -> None:
        self._call(lambda s: s.delete(key), (key,))

    def incr(self, key: str, amount: float, now: float, ttl: float | None = None) -> float:
        return self._call(lambda s: s.incr(key, amount, now, ttl), (key,))

    def ping(self) -> bool:
        """True while the store can answer, from either side (see ``degraded``)."""
        return self.primary.ping() or self.fallback.ping()

    def close(self) -> None:
        for store in (self.primary, self.fallback):
            close = getattr(store, "close", None)
            if close is not None:
                close()

    def _call(self, op: Callable[[Store], _T], written: Iterable[str] = ()) -> _T:
        if not self._outage.due():
            return self._local(op, written)
        try:
            result = op(self.primary)
        except StoreError as e:
            self._failed(e)
            return self._local(op, written)
        if self.degraded:
            self._recovered()
        return result

    def _local(self, op: Callable[[Store], _T], written: Iterable[str]) -> _T:
        with self._lock:
            self._local_keys.update(written)
        return op(self.fallback)

    def _failed(self, e: StoreError) -> None:
        if not self._outage.failed():
            return
        log.warning("state store %r failed (%s); answering from local state until it "
                    "recovers; writes meanwhile stay local", self.primary, e)

    def _recovered(self) -> None:
        failed = self._outage.recovered()
        if failed is None:
            return
        with self._lock:
            keys, self._local_keys = self._local_keys, set()
        for k in keys:
            self.fallback.delete(k)
        log.warning("state store %r recovered after %d failed calls; %d keys written "
                    "locally meanwhile were dropped", self.primary, failed, len(keys))
