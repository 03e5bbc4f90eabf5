"""The curated public surface (after httpx's test_exported_members)."""

import pkgutil

import spimguard


def test_all_is_sorted_and_complete() -> None:
    names = spimguard.__all__
    assert list(names) == sorted(names)
    for name in names:
        assert hasattr(spimguard, name), name
    public = {n for n in dir(spimguard) if not n.startswith("_")}
    # submodules become attributes once anything imports them; they are not API
    packages = {m.name for m in pkgutil.iter_modules(spimguard.__path__)}
    assert public - set(names) - packages == set()
