"""The module's options, read from the ``config:`` block of ``homeserver.yaml``.

Synapse calls ``parse_config`` at start-up; a mistake stops the homeserver
with a message naming the option, rather than failing on the first message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "SynapseConfig", "parse_config"]


class ConfigError(ValueError):
    """An option of the spimguard module is missing or wrong."""


@dataclass(frozen=True, slots=True)
class SynapseConfig:
    #: ``embedded``: the engine runs inside Synapse; ``remote``: ``spimguard serve`` does.
    mode: str = "embedded"
    #: What happens when spimguard cannot decide (service down, an error):
    #: ``open`` delivers the message, ``closed`` refuses it.
    fail_mode: str = "open"
    # -- embedded --
    #: Folder of the state, verdict log and review queue.
    data_dir: Path = Path("spimguard-data")
    #: ``sqlite`` (default), ``memory`` or ``redis://...`` (several Synapse workers).
    store: str = "sqlite"
    #: Policy TOML merged over the shipped defaults.
    policy: Path | None = None
    # -- remote --
    url: str | None = None
    api_key: str | None = None
    #: Seconds to wait for the service before following ``fail_mode``.
    timeout: float = 0.5
    # -- what users see --
    #: Local user the module acts as (notices, and the admin API when it locks);
    #: created as a server admin on first use.
    bot_user: str = "spimguard"
    #: Post a notice in the room after a message the policy says ``warn`` for.
    warn_notice: bool = True
    #: Who posts it: ``sender`` (no change to the room) or ``bot`` (``bot_user`` is
    #: invited by the sender and joins the room first, once).
    notice_from: str = "sender"
    #: A locked account is also ``suspend``-ed or ``shadow_ban``-ned through Synapse's
    #: admin API (``none``: the module alone refuses its messages and invites).
    on_lock: str = "suspend"
    #: When the engine challenges one session (a hijacked device): ``logout`` deletes
    #: that device through the admin API (its token dies; the owner's other devices go
    #: on), ``none`` only refuses its messages.
    on_session: str = "logout"
    #: Seconds between reads of new Matrix event reports (admin API); 0: never.
    poll_reports: float = 10.0
    #: Base URL of this homeserver's client API for the admin calls (default: public_baseurl).
    admin_api_url: str | None = None
    #: Redact the delivered copies of a campaign once it is taken down.
    redact_campaigns: bool = True
    #: Check invites (invite spam from strangers).
    check_invites: bool = True
    #: Rooms with at most this many members count as direct chats: their members are contacts.
    dm_max_members: int = 2
    #: Registrations allowed per client IP per hour before new accounts are shadow-banned
    #: (botnets of throwaway accounts); 0 turns it off. Counted per Synapse process. Behind
    #: a reverse proxy, Synapse must see client IPs (``x_forwarded``).
    registrations_per_ip_hour: int = 0


_MODES = ("embedded", "remote")
_FAIL = ("open", "closed")
_LOCK = ("suspend", "shadow_ban", "none")


def parse_config(raw: Any) -> SynapseConfig:
    """``SynapseConfig`` from the YAML mapping; ``ConfigError`` names what is wrong."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("spimguard: the module's config must be a mapping")
    known = set(SynapseConfig.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"spimguard: unknown option(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")
    out: dict[str, Any] = {}
    for name in ("mode", "fail_mode", "store", "url", "api_key", "bot_user", "on_lock",
                 "on_session", "admin_api_url", "notice_from"):
        if name in raw and raw[name] is not None:
            if not isinstance(raw[name], str) or not raw[name]:
                raise ConfigError(f"spimguard: {name} must be a non-empty string")
            out[name] = raw[name]
    for name in ("data_dir", "policy"):
        if raw.get(name) is not None:
            if not isinstance(raw[name], str):
                raise ConfigError(f"spimguard: {name} must be a path")
            out[name] = Path(raw[name])
    for name in ("warn_notice", "redact_campaigns", "check_invites"):
        if name in raw:
            if not isinstance(raw[name], bool):
                raise ConfigError(f"spimguard: {name} must be true or false")
            out[name] = raw[name]
    if "poll_reports" in raw:
        t = raw["poll_reports"]
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 3600:
            raise ConfigError("spimguard: poll_reports must be seconds in [0, 3600]")
        out["poll_reports"] = float(t)
    if "timeout" in raw:
        t = raw["timeout"]
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 60:
            raise ConfigError("spimguard: timeout must be a number of seconds in (0, 60]")
        out["timeout"] = float(t)
    if "registrations_per_ip_hour" in raw:
        n = raw["registrations_per_ip_hour"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError("spimguard: registrations_per_ip_hour must be an integer >= 0")
        out["registrations_per_ip_hour"] = n
    if "dm_max_members" in raw:
        n = raw["dm_max_members"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ConfigError("spimguard: dm_max_members must be an integer >= 2")
        out["dm_max_members"] = n
    cfg = SynapseConfig(**out)
    if cfg.mode not in _MODES:
        raise ConfigError(f"spimguard: mode must be one of {', '.join(_MODES)}")
    if cfg.fail_mode not in _FAIL:
        raise ConfigError(f"spimguard: fail_mode must be one of {', '.join(_FAIL)}")
    if cfg.notice_from not in ("sender", "bot"):
        raise ConfigError("spimguard: notice_from must be sender or bot")
    if cfg.on_lock not in _LOCK:
        raise ConfigError(f"spimguard: on_lock must be one of {', '.join(_LOCK)}")
    if cfg.on_session not in ("logout", "none"):
        raise ConfigError("spimguard: on_session must be logout or none")
    if cfg.mode == "remote" and not cfg.url:
        raise ConfigError("spimguard: mode remote needs url (of `spimguard serve`)")
    if cfg.url and not cfg.url.startswith(("http://", "https://")):
        raise ConfigError("spimguard: url must start with http:// or https://")
    return cfg
