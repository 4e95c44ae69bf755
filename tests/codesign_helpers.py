"""Shared by the co-design tests: a per-session cache directory for the trained digits CNNs."""

import pytest


@pytest.fixture(scope="session")
def digits_cache(tmp_path_factory):
    """LOOPNEST_CACHE_DIR pointed at one directory of this test session: each digits CNN is
    trained at most once per session, and never read from or written to the user's cache."""
    path = tmp_path_factory.getbasetemp() / "loopnest-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOOPNEST_CACHE_DIR", str(path))
        yield path
