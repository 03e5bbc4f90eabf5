"""The private Redis servers of ``tests/state`` (one per session, prefixes per test).

Loaded from ``tests/state/conftest.py`` by path: a conftest's fixtures only
reach its own folder, and the two folders should start servers the same way.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_NAME = "_spimguard_state_redis_fixtures"
if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        _NAME, Path(__file__).resolve().parents[1] / "state" / "conftest.py")
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _module
    _spec.loader.exec_module(_module)
_fixtures = sys.modules[_NAME]

RedisServer = _fixtures.RedisServer
redis_workdir = _fixtures.redis_workdir
redis_server = _fixtures.redis_server
redis_url = _fixtures.redis_url
redis_server_factory = _fixtures.redis_server_factory
redis_prefix = _fixtures.redis_prefix
