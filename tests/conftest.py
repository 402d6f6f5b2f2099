"""Shared fixtures. Tests import the installed distribution (editable install), never the repo root."""

import os
import subprocess
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


@pytest.fixture(scope="session")
def pip_install_example(tmp_path_factory):
    """pip_install_example(folder): pip-install an examples/ package into its own directory; returns
    the environment that puts it on PYTHONPATH (the venv stays clean)."""
    def _install(folder: Path) -> dict:
        target = tmp_path_factory.mktemp("site")
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                              "--no-index", "--quiet", "--target", str(target), str(folder)],
                             capture_output=True, text=True, timeout=300)
        assert pip.returncode == 0, pip.stderr
        return {**os.environ, "PYTHONPATH": str(target)}
    return _install


@pytest.fixture(scope="session")
def transferbench_cli():
    """transferbench_cli(env, *args): the installed ``transferbench`` command run with ``env``."""
    def _run(env, *args) -> subprocess.CompletedProcess:
        script = Path(sys.executable).parent / "transferbench"
        return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, timeout=300)
    return _run


WORDS = {"spam": "cheap pills win money offer click free prize".split(),
         "ham": "meeting lunch noon report project team agenda notes".split()}


@pytest.fixture
def text_files(tmp_path):
    """tok.json (word level), emb.safetensors (8-d) and old/new.jsonl: 40 short mails each, spam and ham
    written with disjoint words (WORDS)."""
    import json

    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocabulary = {"[PAD]": 0, "[UNK]": 1}
    for words in WORDS.values():
        for word in words:
            vocabulary.setdefault(word, len(vocabulary))
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tok.json"))
    save_file({"embedding.weight": torch.randn(len(vocabulary), 8)}, str(tmp_path / "emb.safetensors"))
    draw = torch.Generator().manual_seed(0)
    for split in ("old", "new"):
        with open(tmp_path / f"{split}.jsonl", "w") as out:
            for i in range(40):
                label = "spam" if i % 2 else "ham"
                picks = torch.randint(0, 8, (6,), generator=draw).tolist()
                out.write(json.dumps({"text": " ".join(WORDS[label][p] for p in picks), "label": label}) + "\n")
    return tmp_path
