"""Shared test set-up: tests name shipped files (examples/, benchmarks/) relative to the repository
root, so every test runs from there, wherever pytest was started."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _run_from_repository_root():
    import os

    before = os.getcwd()
    os.chdir(ROOT)
    yield
    os.chdir(before)
