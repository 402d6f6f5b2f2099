"""Shared fixtures. Tests import the installed distribution (editable install), never the repo root."""

from pathlib import Path

import pytest

from benchmark.plugins import discover

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def registry():
    return discover()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout: real MNIST, USPS, KMNIST and Omniglot files."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (a checkout with ../shared/data beside it has them)")
    return SHARED_DATA
