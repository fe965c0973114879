"""Shared fixtures: the shipped analyzer (loaded once) and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLIENTSENSE_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def analyzer():  # type: ignore[no-untyped-def]
    import clientsense

    return clientsense.default_analyzer()


@pytest.fixture(scope="session")
def shared_root() -> Path:
    if not (SHARED / "corpora").is_dir():
        pytest.skip("../shared is not beside the checkout")
    return SHARED
