"""A strategy without a package: ``--plugin PATH_OR_MODULE`` and ``benchmark.run.api.run_suite``."""

import hashlib
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from benchmark import Strategy, records, run_suite
from benchmark.cli import main
from benchmark.errors import PluginError

TINY = Path(__file__).parent / "suites" / "tiny.toml"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plugin-example" / "nearest_centroid.py"

CLASS_ONLY = '''
import torch
from benchmark import Strategy


class Centroids(Strategy):
    name = "file-centroids"
    description = "Nearest class mean of the support pixels, from a plain file."

    def __init__(self, scale=1.0):
        self.scale = scale

    def adapt(self, support, ctx):
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ support.inputs.flatten(1)) / one_hot.sum(0)[:, None]
        return lambda inputs: -self.scale * torch.cdist(inputs.flatten(1), centroids)
'''


@pytest.fixture
def write(tmp_path, monkeypatch):
    """write(name, source) -> the path of a new module file; it is forgotten by sys.modules afterwards."""
    names = []

    def _write(name, source):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        names.append(name)
        return path
    yield _write
    for name in names + ["nearest_centroid"]:  # only modules loaded from those files (not the real torch)
        if Path(getattr(sys.modules.get(name), "__file__", None) or "/").parent in (tmp_path, EXAMPLE.parent):
            del sys.modules[name]


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("transferbench: error: --plugin ") or err.startswith("transferbench: error: duplicate")
    assert "\n" not in err
    return err


def test_a_file_with_only_a_strategy_class_is_listed_with_its_path_and_sha256(write, capsys):
    path = write("centroids_plugin", CLASS_ONLY)
    assert main(["list", "--plugin", str(path)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("file-centroids"))
    assert str(path) in line and sha256(path)[:19] in line


def test_a_run_records_the_file_and_its_sha256(write, tmp_path, capsys):
    path = write("centroids_plugin", CLASS_ONLY)
    assert main(["run", str(TINY), "--plugin", str(path), "--strategies", "file-centroids", "--seeds", "1",
                 "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    written = records.read(tmp_path / "out" / "tiny" / "records.jsonl")
    assert len(written) == 4 and {r["status"] for r in written} == {"ok"}
    assert {(r["plugin"]["name"], r["plugin"]["dist"], r["plugin"]["version"]) for r in written} == \
        {("centroids_plugin", str(path), sha256(path))}
    assert "centroids_plugin (" in capsys.readouterr().out  # the run's header names it


def test_the_readme_example_loads_through_its_hook_and_passes_check(write, capsys):
    assert main(["check", "nearest-centroid", "--plugin", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert f"from {EXAMPLE} sha256:" in out and "checks passed" in out


def test_an_importable_module_name_is_a_plugin_too(write, monkeypatch, capsys):
    path = write("centroids_module", CLASS_ONLY)
    monkeypatch.syspath_prepend(str(path.parent))
    assert main(["list", "--plugin", "centroids_module"]) == 0
    assert "file-centroids" in capsys.readouterr().out


def test_a_missing_file_or_module_is_one_line(capsys, tmp_path):
    assert "no such file" in one_line_error(capsys, "list", "--plugin", str(tmp_path / "absent.py"))
    err = one_line_error(capsys, "list", "--plugin", "no_such_module_here")
    assert "no importable module of that name" in err


def test_a_module_without_a_strategy_is_one_line(write, capsys):
    path = write("helpers_only", "def helper():\n    return 1\n")
    err = one_line_error(capsys, "run", str(TINY), "--plugin", str(path))
    assert str(path) in err and "defines no Strategy subclass" in err


def test_a_module_that_raises_on_import_is_one_line(write, capsys):
    path = write("broken_plugin", "raise RuntimeError('no GPU here')\n")
    err = one_line_error(capsys, "check", "x", "--plugin", str(path))
    assert "RuntimeError: no GPU here" in err


def test_a_strategy_named_as_a_builtin_names_both(write, capsys):
    path = write("shadow", CLASS_ONLY.replace('"file-centroids"', '"target-only"'))
    err = one_line_error(capsys, "list", "--plugin", str(path))
    assert "duplicate name 'target-only'" in err and "(transferbench " in err and str(path) in err


def test_a_module_named_as_an_installed_plugin_or_an_imported_module_is_refused(write, capsys):
    err = one_line_error(capsys, "list", "--plugin", str(write("finetune", CLASS_ONLY)))
    assert "'finetune' is already a plugin's name" in err
    err = one_line_error(capsys, "list", "--plugin", str(write("torch", CLASS_ONLY)))
    assert "a module named 'torch' is already imported" in err


class InNotebook(Strategy):
    """Stands for a class defined in a notebook: it lives in no plugin."""

    name = "api-centroids"
    description = "Nearest class mean, handed to run_suite as a class."

    def __init__(self, scale=1.0):
        self.scale = scale

    def adapt(self, support, ctx):
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ support.inputs.flatten(1)) / one_hot.sum(0)[:, None]
        return lambda inputs: -self.scale * torch.cdist(inputs.flatten(1), centroids)


def test_run_suite_returns_the_records_and_resumes(tmp_path):
    frame = run_suite(TINY, strategies=[InNotebook], out=tmp_path, seeds=1, show_progress=False, log=lambda *a: 0)
    assert len(frame) == 4 and set(frame["status"]) == {"ok"} and set(frame["strategy"]) == {"api-centroids"}
    assert frame["metrics.accuracy.mean"].between(0, 1).all()
    assert set(frame["plugin.version"]) == {sha256(Path(__file__))}  # a class from a file: that file's sha256
    lines = (tmp_path / "tiny" / "records.jsonl").read_text().count("\n")
    again = run_suite(TINY, strategies=[InNotebook], out=tmp_path, seeds=1, show_progress=False, log=lambda *a: 0)
    assert (tmp_path / "tiny" / "records.jsonl").read_text().count("\n") == lines  # nothing rerun
    assert again["finished_at"].tolist() == frame["finished_at"].tolist()


def test_run_suite_takes_hparams_and_names_from_a_plugin_file(write, tmp_path):
    path = write("centroids_plugin", CLASS_ONLY)
    frame = run_suite(TINY, strategies=["file-centroids"], plugins=[str(path)], hparams={"file-centroids":
                      {"scale": 2.0}}, out=tmp_path, seeds=1, threads=1, show_progress=False, log=lambda *a: 0)
    assert frame["hparams.scale"].tolist() == [2.0] * 4 and set(frame["plugin.name"]) == {"centroids_plugin"}
    assert frame["metrics.accuracy.mean"].between(0, 1).all()  # fractions; tables show percentages


def test_run_suite_refuses_a_class_named_as_an_installed_strategy(tmp_path):
    class Impostor(InNotebook):
        name = "finetune"
    with pytest.raises(PluginError, match="is named 'finetune', as is the strategy of plugin 'finetune'"):
        run_suite(TINY, strategies=[Impostor], out=tmp_path, show_progress=False)
    with pytest.raises(PluginError, match="neither a strategy name nor a Strategy subclass"):
        run_suite(TINY, strategies=[object], out=tmp_path, show_progress=False)


def test_a_plugin_file_reaches_a_ray_worker_by_value(write, tmp_path):
    """A Ray worker cannot import a --plugin file by its module name: its classes are sent by value."""
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'transferbench[ray]'")
    import subprocess

    from ray import cloudpickle

    from benchmark.discovery.registry import discover
    from benchmark.run.ray_executor import send_by_value

    provided = discover(plugins=[str(write("centroids_far_away", CLASS_ONLY))]).strategy("file-centroids")
    send_by_value(provided)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "cls.pkl").write_bytes(cloudpickle.dumps(provided.cls))
    load = "import pickle; print(pickle.load(open('cls.pkl', 'rb'))(scale=2.0).get_params())"
    loaded = subprocess.run([sys.executable, "-c", load], cwd=tmp_path / "elsewhere", capture_output=True,
                            text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr[-500:]
    assert loaded.stdout.strip() == "{'scale': 2.0}"


SCRIPT = '''
import sys
import torch
from benchmark import Strategy, run_suite


class MeanImage(Strategy):
    """Defined in a script's __main__, as in a notebook, and caching its pretrained state."""

    name = "script-mean-image"
    description = "Subtracts the source's mean image, then nearest class mean."

    def __init__(self, shift=1.0):
        self.shift = shift

    def pretrain(self, source, ctx):
        self.mean_ = source.inputs.mean(0) * self.shift

    def pretrained_state(self):
        return {"mean": self.mean_}

    def load_pretrained_state(self, state, ctx):
        self.mean_ = state["mean"].to(ctx.device)

    def adapt(self, support, ctx):
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ (support.inputs - self.mean_).flatten(1)) / one_hot.sum(0)[:, None]
        return lambda inputs: -torch.cdist((inputs - self.mean_).flatten(1), centroids)


frame = run_suite(sys.argv[1], strategies=[MeanImage], out=sys.argv[2], seeds=1, show_progress=False)
print(len(frame), sorted(set(frame["status"])), frame["plugin.dist"].iloc[0], frame["pretrain_cache"].tolist())
'''


def test_run_suite_from_a_script_main_with_the_pretrain_cache(tmp_path):
    import subprocess

    script = tmp_path / "notebook.py"
    script.write_text(SCRIPT)
    ran = subprocess.run([sys.executable, str(script), str(TINY), str(tmp_path / "out")], capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-1000:]
    assert ran.stdout.strip().endswith("4 ['ok'] <__main__> ['stored', 'stored', 'stored', 'stored']")
