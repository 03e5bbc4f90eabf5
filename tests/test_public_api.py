"""The curated public surface (after httpx's test_exported_members)."""

import spimguard


def test_all_is_sorted_and_complete() -> None:
    names = spimguard.__all__
    assert list(names) == sorted(names)
    for name in names:
        assert hasattr(spimguard, name), name
    public = {n for n in dir(spimguard) if not n.startswith("_")}
    # sub-packages are reachable as attributes after import; they are not API
    packages = {"build", "core", "detectors", "learning", "state", "text"}
    assert public - set(names) - packages == set()
