"""Fixtures that start real Synapse homeservers (see homeserver.py).

This folder deliberately has no ``__init__.py``: with one, pytest's default "prepend"
import mode would put ``tests/`` on sys.path and make this folder the top-level
package ``synapse``, shadowing the real Synapse for the whole test session. Without
it, this folder itself goes on sys.path, and its modules import as ``homeserver``,
``example_module`` and so on.

- ``synapse_template`` (session): config, signing key and a migrated SQLite database,
  generated once; skips everything here when matrix-synapse or matrix-nio is missing.
- ``homeserver_factory`` (function): ``homeserver_factory(modules=[...], env={...},
  extra_config={...}) -> Homeserver``; each call starts one in its own directory,
  and all are stopped at teardown (SIGTERM, then SIGKILL). When the test failed, the
  tail of each homeserver's log is printed in the teardown section of the report.
- ``plain_homeserver`` (function): a homeserver without modules.
- ``tests_synapse_dir``: this folder, to put on the subprocess's PYTHONPATH so that
  modules written next to the tests (``example_module``) can be loaded by Synapse.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from homeserver import (
    Homeserver,
    HomeserverFactory,
    SynapseTemplate,
    make_template,
    start_homeserver,
)

HERE = Path(__file__).resolve().parent


def _missing_distributions() -> list[str]:
    missing = []
    for dist in ("matrix-synapse", "matrix-nio"):
        try:
            importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            missing.append(dist)
    return missing


def _synapse_is_shadowed() -> str | None:
    """Where ``import synapse`` would lead, if not to the installed Synapse."""
    spec = importlib.util.find_spec("synapse")
    origin = spec.origin if spec is not None else None
    if origin and Path(origin).resolve().is_relative_to(HERE.parent):
        return origin
    return None


@pytest.fixture(scope="session")
def synapse_template(tmp_path_factory: pytest.TempPathFactory) -> SynapseTemplate:
    missing = _missing_distributions()
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed "
                    "(pip install -e '.[dev]' brings them): no end-to-end Synapse tests")
    shadow = _synapse_is_shadowed()
    if shadow:
        pytest.fail(f"'import synapse' resolves to {shadow}: tests/synapse must not "
                    "have an __init__.py (it would shadow the real Synapse)")
    return make_template(tmp_path_factory.mktemp("synapse-template"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        item.stash[_FAILED] = True


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def homeserver_factory(synapse_template: SynapseTemplate, tmp_path: Path,
                       request: pytest.FixtureRequest) -> Iterator[HomeserverFactory]:
    started: list[Homeserver] = []

    def factory(modules: Sequence[Mapping[str, Any]] = (),
                env: Mapping[str, str] | None = None,
                extra_config: Mapping[str, Any] | None = None) -> Homeserver:
        hs = start_homeserver(tmp_path / f"hs{len(started)}", modules, env=env,
                              extra_config=extra_config, template=synapse_template)
        started.append(hs)
        return hs

    try:
        yield factory
    finally:
        failed = request.node.stash.get(_FAILED, False)
        for hs in reversed(started):
            hs.stop()
            if failed:
                print(f"\n----- {hs.dir} (exit {hs.returncode}): log tail -----\n"
                      f"{hs.log_tail(80)}")


@pytest.fixture
def plain_homeserver(homeserver_factory: HomeserverFactory) -> Homeserver:
    return homeserver_factory()


@pytest.fixture
def tests_synapse_dir() -> Path:
    return HERE
