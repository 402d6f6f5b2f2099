"""The preprocessing pipeline and its disk cache: keyed by content, never stale, never trusted when corrupt."""

import importlib
import re
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark import DataError, DatasetProvider, LabelledData, MissingDataError
from benchmark.data.files import code_fingerprint
from benchmark.data.loader import DatasetLoader
from benchmark.data.providers import DatasetSpec, InputSpec, select_classes
from benchmark.discovery.registry import Provided, Registry


class Counting(DatasetProvider):
    """Reads root/pixels.npy (uint8 [N, 12, 12]) with labels i % 3, and counts its loads."""

    name = "counting"
    description = "test provider"
    how_to_get = "write pixels.npy"
    loads = 0

    def files(self, split, root):
        return [root / "pixels.npy"]

    def load(self, split, root, size):
        Counting.loads += 1
        pixels = torch.from_numpy(np.load(root / "pixels.npy"))
        return LabelledData(pixels[:, None], torch.arange(len(pixels)) % 3, ("a", "b", "c"), "counting")


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "pixels.npy", np.random.default_rng(0).integers(0, 256, (12, 12, 12), dtype=np.uint8))
    registry = Registry(datasets={"counting": Provided("counting", Counting, "test", "tests", "0")})
    Counting.loads = 0
    return registry, tmp_path


def loader(setup) -> DatasetLoader:
    registry, tmp_path = setup
    return DatasetLoader(registry, tmp_path / "data", cache_dir=tmp_path / "cache")  # a fresh loader: no memory


SPEC = DatasetSpec("counting", split="train[:50%]", shifts=({"rotate": 90},))
SHAPE = InputSpec(channels=1, size=(8, 8))


def test_a_second_run_reads_the_cache_not_the_files(setup):
    first, first_fp = loader(setup).load(SPEC, SHAPE, "here")
    again, again_fp = loader(setup).load(SPEC, SHAPE, "here")
    assert Counting.loads == 1
    assert first_fp == again_fp and torch.equal(first.inputs, again.inputs) and torch.equal(first.labels, again.labels)
    assert first.input_shape == (1, 8, 8) and first.inputs.dtype == torch.float32 and len(first) == 6
    assert first.classes == again.classes == ("a", "b", "c")


def test_the_key_follows_the_file_contents_the_table_and_the_shape_but_not_labels_in_records(setup):
    _, base = loader(setup).load(SPEC, SHAPE, "here")
    loader(setup).load(SPEC, InputSpec(channels=1, size=(6, 6)), "here")
    loader(setup).load(DatasetSpec("counting", split="train[:50%]"), SHAPE, "here")
    assert Counting.loads == 3
    loader(setup).load(DatasetSpec("counting", split="train[:50%]", shifts=({"rotate": 90},), stands_in_for="test"),
                       SHAPE, "here")
    assert Counting.loads == 3  # stands_in_for labels the data, it does not change a pixel
    _, tmp_path = setup
    np.save(tmp_path / "data" / "pixels.npy", np.zeros((12, 12, 12), dtype=np.uint8))
    _, changed = loader(setup).load(SPEC, SHAPE, "here")
    assert Counting.loads == 4 and changed != base


EDITABLE_PROVIDER = textwrap.dedent("""
    import numpy as np
    import torch

    from benchmark import LabelledData
    from benchmark import DatasetProvider


    class Edited(DatasetProvider):
        name = "edited"
        loads = 0

        def files(self, split, root):
            return [root / "pixels.npy"]

        def load(self, split, root, size):
            Edited.loads += 1
            pixels = torch.from_numpy(np.load(root / "pixels.npy"))
            return LabelledData(pixels[:, None], torch.arange(len(pixels)) % 3, ("a", "b", "c"), "edited")
""")


def test_a_dataset_prepared_twice_is_one_object_and_raw_splits_are_released(setup):
    """Two pairs reading the same split (Omniglot's 5-way and 20-way) hold one copy, not two."""
    shared = loader(setup)
    first, first_fp = shared.load(SPEC, SHAPE, "pair a")
    second, second_fp = shared.load(SPEC, SHAPE, "pair b")
    assert second is first and second_fp == first_fp
    other, _ = shared.load(DatasetSpec("counting", split="train[50%:]"), SHAPE, "pair c")  # another slice: its own
    assert other is not first and len(shared._raw) == 1
    shared.release_raw()
    assert len(shared._raw) == 0 and shared.load(SPEC, SHAPE, "pair a")[0] is first
    assert Counting.loads == 1  # one raw read for all of it


def test_editing_a_providers_code_misses_its_entries_though_the_version_is_the_same(setup, tmp_path, monkeypatch):
    """An editable install: the provider's load() changes, its distribution's version does not."""
    (tmp_path / "code").mkdir()
    source = tmp_path / "code" / "edited_provider.py"
    source.write_text(EDITABLE_PROVIDER)
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    edited = importlib.import_module("edited_provider").Edited
    registry = Registry(datasets={"edited": Provided("edited", edited, "test", "tests", "0")})
    spec = DatasetSpec("edited", split="train")
    try:
        for _ in range(2):
            DatasetLoader(registry, tmp_path / "data", cache_dir=tmp_path / "cache").load(spec, SHAPE, "here")
        assert edited.loads == 1
        source.write_text(EDITABLE_PROVIDER.replace("% 3", "% 3  # an edit that may change the labels"))
        code_fingerprint.cache_clear()  # as a new process would: it hashes the code once
        DatasetLoader(registry, tmp_path / "data", cache_dir=tmp_path / "cache").load(spec, SHAPE, "here")
        assert edited.loads == 2, "the entry made by the old code was served"
    finally:
        code_fingerprint.cache_clear()
        sys.modules.pop("edited_provider", None)


def test_a_corrupt_entry_is_rebuilt_with_a_warning(setup):
    _, tmp_path = setup
    _, fingerprint = loader(setup).load(SPEC, SHAPE, "here")
    for entry in (tmp_path / "cache").glob("*.pt"):
        entry.write_bytes(entry.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable preprocessing cache entry"):
        _, again = loader(setup).load(SPEC, SHAPE, "here")
    assert Counting.loads == 2 and again == fingerprint
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt entry is good again
        loader(setup).load(SPEC, SHAPE, "here")


def test_preprocessing_converts_uint8_resizes_and_standardises(setup):
    registry, tmp_path = setup
    data, _ = DatasetLoader(registry, tmp_path / "data").load(DatasetSpec("counting", split="train"),
                                                             InputSpec(channels=3, size=(12, 12), mean=0.5, std=0.25),
                                                             "here")
    raw = torch.from_numpy(np.load(tmp_path / "data" / "pixels.npy")).float() / 255
    assert data.input_shape == (3, 12, 12)
    assert torch.allclose(data.inputs[:, 0], (raw - 0.5) / 0.25, atol=1e-6)


def test_missing_files_raise_at_check_naming_dataset_path_and_data_root(setup):
    registry, tmp_path = setup
    empty = DatasetLoader(registry, tmp_path / "elsewhere")
    with pytest.raises(MissingDataError) as caught:
        empty.check(DatasetSpec("counting", root="sub"), "suite.toml: pair 'p' source")
    message = str(caught.value)
    assert message.startswith("suite.toml: pair 'p' source: dataset 'counting' split 'train' not found at ")
    assert str(tmp_path / "elsewhere" / "sub" / "pixels.npy") in message
    assert "write pixels.npy" in message and "--data-root" in message and "TRANSFERBENCH_DATA" in message
    with pytest.raises(DataError, match="serves one dataset"):
        empty.check(DatasetSpec("counting", name="other"), "here")


def test_the_cli_reports_missing_data_in_one_line_before_any_training(tmp_path):
    """The digits suite against an empty data root: exit 2, one line naming the file and the fix."""
    script = Path(sys.executable).parent / "transferbench"
    suite = Path(__file__).resolve().parent.parent / "suites" / "digits.toml"
    started = time.perf_counter()
    result = subprocess.run([str(script), "run", str(suite), "--data-root", str(tmp_path / "nowhere"),
                             "--out", str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True,
                            timeout=120)
    elapsed = time.perf_counter() - started
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("transferbench: error: ")
    assert "pair 'mnist→usps' source: dataset 'mnist' split 'test' not found at" in lines[0]
    assert str(tmp_path / "nowhere" / "mnist" / "t10k-images-idx3-ubyte.gz") in lines[0]
    assert not (tmp_path / "out" / "digits" / "records.jsonl").exists()
    print(f"missing-data error after {elapsed:.2f} s (process start to exit, imports included)")


def test_shifts_are_data_and_deterministic(setup):
    registry, tmp_path = setup
    load = DatasetLoader(registry, tmp_path / "data").load
    colour = InputSpec(channels=3, size=(12, 12))
    noisy, noisy_fp = load(DatasetSpec("counting", shifts=({"noise": 0.3, "seed": 1},)), colour, "here")
    again, again_fp = load(DatasetSpec("counting", shifts=({"noise": 0.3, "seed": 1},)), colour, "here")
    other, other_fp = load(DatasetSpec("counting", shifts=({"noise": 0.3, "seed": 2},)), colour, "here")
    assert noisy_fp == again_fp != other_fp and torch.equal(noisy.inputs, again.inputs)
    tinted, _ = load(DatasetSpec("counting", shifts=({"colourise": True},)), colour, "here")
    assert not torch.equal(tinted.inputs[:, 0], tinted.inputs[:, 1])  # grey became colour
    with pytest.raises(DataError, match="'colourise' shift needs channels = 3"):
        load(DatasetSpec("counting", shifts=({"colourise": True},)), SHAPE, "here")
    with pytest.raises(DataError, match="did you mean 'rotate'"):
        load(DatasetSpec("counting", shifts=({"rotat": 3},)), SHAPE, "here")


def test_rename_and_classes_align_label_spaces(setup):
    registry, tmp_path = setup
    data, _ = DatasetLoader(registry, tmp_path / "data").load(
        DatasetSpec("counting", rename={"a": "x"}, classes=("c", "x")), SHAPE, "here")
    assert data.classes == ("c", "x") and sorted(set(data.labels.tolist())) == [0, 1] and len(data) == 8
    with pytest.raises(DataError, match="cannot rename class 'z'"):
        DatasetLoader(registry, tmp_path / "data").load(DatasetSpec("counting", rename={"z": "y"}), SHAPE, "here")


def test_a_slice_without_percent_signs_is_an_error_not_the_whole_split(setup):
    """"train[:6]" (Hugging Face's first 6 examples) used to be read as 6%, and "train[:1000]" as everything."""
    registry, tmp_path = setup
    load = DatasetLoader(registry, tmp_path / "data").load
    for split in ("train[:6]", "train[:1000]", "train[2:4]"):
        with pytest.raises(DataError, match=rf"^here: split '{re.escape(split)}': a slice takes per-class percentages"):
            load(DatasetSpec("counting", split=split), SHAPE, "here")
    half, _ = load(DatasetSpec("counting", split="train[:50%]"), SHAPE, "here")
    assert len(half) == 6


def test_rename_and_classes_may_not_make_two_classes_share_a_name(setup):
    """rename a -> b made ("b", "b", "c"), and classes = ["b"] then kept only one of the two: a class dropped silently."""
    registry, tmp_path = setup
    load = DatasetLoader(registry, tmp_path / "data").load
    with pytest.raises(DataError, match=r"^here: rename gives classes \['a', 'b'\] the one name 'b'; class names must"):
        load(DatasetSpec("counting", rename={"a": "b"}, classes=("b", "c")), SHAPE, "here")
    with pytest.raises(DataError, match=r"rename gives classes \['a', 'c'\] the one name 'x'"):
        load(DatasetSpec("counting", rename={"a": "x", "c": "x"}), SHAPE, "here")
    with pytest.raises(DataError, match="^here: classes lists 'a' more than once"):
        load(DatasetSpec("counting", classes=("a", "b", "a")), SHAPE, "here")
    swapped, _ = load(DatasetSpec("counting", rename={"a": "b", "b": "a"}), SHAPE, "here")  # still unique: fine
    assert swapped.classes == ("b", "a", "c")
    twice = LabelledData(torch.zeros(3, 1, 2, 2), torch.arange(3), ("a", "a", "c"))  # a provider's own duplicate
    with pytest.raises(DataError, match="^here: class 'a' names 2 classes of the dataset, so it cannot pick one"):
        select_classes(twice, ("a", "c"), "here")


def test_the_cache_dir_is_the_flag_then_the_env_var_then_xdg_then_home(monkeypatch, tmp_path):
    from benchmark.data.cache import default_dir

    monkeypatch.setenv("TRANSFERBENCH_DATASET_CACHE", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir(tmp_path / "flag") == tmp_path / "flag"
    assert default_dir() == tmp_path / "env"
    monkeypatch.delenv("TRANSFERBENCH_DATASET_CACHE")
    assert default_dir() == tmp_path / "xdg" / "transferbench" / "datasets"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == tmp_path / "home" / ".cache" / "transferbench" / "datasets"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # invalid by the XDG spec: ignored
    assert default_dir() == tmp_path / "home" / ".cache" / "transferbench" / "datasets"


def test_two_results_directories_share_one_preprocessing_cache(tmp_path, monkeypatch):
    """The second --out reads the first one's preprocessed tensors; neither holds its own copy."""
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("TRANSFERBENCH_DATASET_CACHE", str(cache))
    suite = Path(__file__).parent / "suites" / "tiny.toml"
    for out in ("a", "b"):
        done = subprocess.run([sys.executable, "-m", "benchmark.cli", "run", str(suite), "--out", str(tmp_path / out),
                               "--strategies", "target-only", "--seeds", "1", "--no-progress"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        if out == "a":
            entries = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.pt")}
            assert entries  # the first run filled the shared cache
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.pt")} == entries  # the second only read it
    assert not list(tmp_path.glob("*/.dataset-cache"))
    flag = subprocess.run([sys.executable, "-m", "benchmark.cli", "run", str(suite), "--out", str(tmp_path / "c"),
                           "--strategies", "target-only", "--seeds", "1", "--no-progress",
                           "--dataset-cache", str(tmp_path / "flagged")], capture_output=True, text=True, timeout=300)
    assert flag.returncode == 0, flag.stderr
    assert list((tmp_path / "flagged").glob("*.pt"))
