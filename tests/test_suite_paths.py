"""One path rule (benchmark.suite.paths): a relative path in a suite file is relative to the suite file,
from any working directory; the data root (--data-root, else $TRANSFERBENCH_DATA, else ./data) is the
one exception: dataset roots, and a path that begins with "{data_root}/". Every missing-file error says
which base it used."""

import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.errors import SuiteError
from benchmark.models.base import MissingModelError
from benchmark.models.base import ModelSpec
from benchmark.models.resolve import load_model
from benchmark.suite import paths
from benchmark.suite.load import load_suite

REPO = Path(__file__).resolve().parent.parent
CHECKPOINT = REPO / "checkpoints" / "mnist-lenet.safetensors"


def checkpoint_in(folder: Path) -> Path:
    """The shipped LeNet checkpoint and its sidecar, copied into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in (CHECKPOINT, CHECKPOINT.with_suffix(".safetensors.json")):
        shutil.copy(source, folder / source.name)
    return folder / CHECKPOINT.name


def suite_with_model(folder: Path, path: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.toml").write_text(f'''name = "paths"
seeds = [0]
budgets = [2]
strategies = ["target-only"]
[model]
provider = "file"
path = "{path}"
[[pairs]]
name = "digits"
target = {{ provider = "sklearn-digits", split = "train", test_split = "test" }}
[hparams.target-only]
adapt_steps = 1
''')
    return folder / "suite.toml"


def model_of(suite_path: Path, registry, data_root=None):
    return load_model(load_suite(suite_path).pairs[0].model, registry, data_root)


def test_a_model_file_is_relative_to_the_suite_file_from_any_working_directory(tmp_path, registry, monkeypatch):
    checkpoint_in(tmp_path / "suites" / "weights")
    suite = suite_with_model(tmp_path / "suites", "weights/mnist-lenet.safetensors")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    model = model_of(Path("../suites/suite.toml"), registry)
    assert model.identity["checkpoint"] == str((tmp_path / "suites" / "weights" / CHECKPOINT.name).resolve())


def test_data_root_paths_say_so_and_a_file_only_there_is_named_with_the_fix(tmp_path, registry):
    root = paths.DataRoot(tmp_path / "data", "from --data-root")
    checkpoint_in(tmp_path / "data" / "lenet")
    marked = suite_with_model(tmp_path / "a", "{data_root}/lenet/mnist-lenet.safetensors")
    assert model_of(marked, registry, root).identity["checkpoint"] == \
        str((tmp_path / "data" / "lenet" / CHECKPOINT.name).resolve())
    # the same path without the mark is beside the suite file, where it is not: the error says so, and the fix
    plain = suite_with_model(tmp_path / "b", "lenet/mnist-lenet.safetensors")
    with pytest.raises(MissingModelError) as caught:
        model_of(plain, registry, root)
    message = str(caught.value)
    assert message.startswith(f"{plain}:5: file model 'mnist-lenet'")
    assert f"checkpoint not found at {(tmp_path / 'b' / 'lenet' / CHECKPOINT.name).resolve()} (relative to the " \
           f"suite file's folder {(tmp_path / 'b').resolve()}; it is under the data root {tmp_path / 'data'} " \
           f"(from --data-root): begin the path with \"{{data_root}}/\")" in message
    # a marked path missing under the data root names the data root and where it was chosen
    gone = suite_with_model(tmp_path / "c", "{data_root}/nothing/here.safetensors")
    with pytest.raises(MissingModelError, match=r"here\.safetensors \(under the data root .*data \(from --data-root\)\)"):
        model_of(gone, registry, root)


def test_the_mark_only_begins_a_path_and_needs_a_data_root(tmp_path, registry):
    with pytest.raises(SuiteError, match=r"\{data_root\} can only begin a path"):
        model_of(suite_with_model(tmp_path / "a", "weights/{data_root}/x.safetensors"), registry, tmp_path)
    with pytest.raises(SuiteError, match="lies under the data root, and none is known here"):
        model_of(suite_with_model(tmp_path / "b", "{data_root}/x.safetensors"), registry)


def test_where_the_data_root_came_from(tmp_path, monkeypatch):
    monkeypatch.delenv("TRANSFERBENCH_DATA", raising=False)
    assert paths.data_root(None).describe() == \
        f"under the data root {Path('data').absolute()} (the default, ./data in the working directory)"
    monkeypatch.setenv("TRANSFERBENCH_DATA", str(tmp_path))
    assert paths.data_root(None) == paths.DataRoot(tmp_path, "from $TRANSFERBENCH_DATA")
    assert paths.data_root("d").origin == "from --data-root"
    assert str(paths.data_root("d")) == "d" and Path(paths.data_root("d")) / "x" == Path("d/x")


def test_dataset_roots_are_under_the_data_root_and_missing_data_says_which_root_and_why(tmp_path, capsys,
                                                                                          monkeypatch):
    suite = REPO / "suites" / "digits.toml"
    nowhere = tmp_path / "nowhere"
    assert main(["run", str(suite), "--data-root", str(nowhere), "--out", str(tmp_path / "out"), "--dry-run",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(nowhere / "mnist" / "t10k-images-idx3-ubyte.gz") in err
    assert f"(looked for under the data root {nowhere} (from --data-root); set it with --data-root or " \
           f"$TRANSFERBENCH_DATA)" in err
    monkeypatch.setenv("TRANSFERBENCH_DATA", str(nowhere))
    assert main(["run", str(suite), "--out", str(tmp_path / "out"), "--dry-run", "--no-progress"]) == 2
    assert f"under the data root {nowhere} (from $TRANSFERBENCH_DATA)" in capsys.readouterr().err


def test_an_absolute_dataset_root_says_the_data_root_is_not_used(tmp_path, registry):
    from benchmark.data.loader import DatasetLoader
    from benchmark.data.providers import DatasetSpec
    from benchmark.errors import MissingDataError

    loader = DatasetLoader(registry, paths.DataRoot(tmp_path / "data", "from --data-root"), tmp_path / "cache")
    with pytest.raises(MissingDataError, match=r"\(root is an absolute path: the data root is not used\)$"):
        loader.check(DatasetSpec("imagefolder", split="all", root=str(tmp_path / "images")), "suite.toml: pair 'p'")
    assert loader.root(DatasetSpec("imagefolder", root="{data_root}/images"), None) == tmp_path / "data" / "images"

