"""Shared fixtures. Tests import the installed distribution (editable install), never the repo root."""

import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from benchmark.discovery.registry import Provided, Registry, discover

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def private_caches(tmp_path_factory):
    """Tests never write to the user's own caches: the shared preprocessing cache
    (benchmark.data.cache.default_dir) goes to a temporary directory for the session,
    inherited by the CLI subprocesses tests start."""
    with pytest.MonkeyPatch.context() as patch:
        caches = tmp_path_factory.mktemp("user-cache")
        patch.setenv("XDG_CACHE_HOME", str(caches))
        patch.setenv("TRANSFERBENCH_DATASET_CACHE", str(caches / "transferbench" / "datasets"))
        yield caches


@pytest.fixture(scope="session")
def registry():
    return discover()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout: real MNIST, USPS, KMNIST and Omniglot files."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (a checkout with ../shared/data beside it has them)")
    return SHARED_DATA


@pytest.fixture
def install(tmp_path, monkeypatch):
    """install(dist, entry_point, module, source): a minimal dist-info that importlib.metadata finds.

    The module is forgotten afterwards, so another test may install other code under its name.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = []

    def _install(dist, entry_point, module, source):
        info = tmp_path / f"{dist.replace('-', '_')}-1.2.3.dist-info"  # the wheel spec's escaping
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[transferbench]\n{entry_point} = {module}\n")
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        modules.append(module)
    yield _install
    for module in modules:
        sys.modules.pop(module, None)


@pytest.fixture(scope="session")
def with_strategies():
    """with_strategies(registry, *classes): the registry plus strategy classes defined in a test."""
    def _with(registry, *classes) -> Registry:
        added = {cls.name: Provided(cls.name, cls, "test", "tests", "0") for cls in classes}
        return replace(registry, strategies={**registry.strategies, **added})
    return _with
