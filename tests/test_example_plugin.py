"""examples/plugin-example installed as a real package: listed, checked and run with no change to the core."""

import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plugin-example"
TINY = Path(__file__).parent / "suites" / "tiny.toml"


@pytest.fixture(scope="module")
def installed(pip_install_example):
    return pip_install_example(EXAMPLE)


def test_listed_with_its_distribution(installed, transferbench_cli):
    out = transferbench_cli(installed, "list").stdout
    assert "nearest-centroid" in out and "transferbench-nearest-centroid 1.0.0" in out


def test_passes_the_contract_battery(installed, transferbench_cli):
    result = transferbench_cli(installed, "check", "nearest-centroid")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout


def test_runs_in_a_suite(installed, tmp_path, transferbench_cli):
    result = transferbench_cli(installed, "run", str(TINY), "--strategies", "nearest-centroid,target-only",
                           "--seeds", "1", "--out", str(tmp_path), "--no-progress")
    assert result.returncode == 0, result.stderr
    records = (tmp_path / "tiny" / "records.jsonl").read_text()
    assert records.count('"strategy": "nearest-centroid"') == 4
    assert '"dist": "transferbench-nearest-centroid"' in records


def test_its_estimator_is_listed_checked_and_run_with_no_change_to_the_core(installed, tmp_path, transferbench_cli):
    listed = transferbench_cli(installed, "list", "--estimators").stdout
    assert "gbc" in listed and "transferbench-nearest-centroid 1.0.0" in listed.split("gbc", 1)[1].splitlines()[0]
    result = transferbench_cli(installed, "check", "gbc")
    assert result.returncode == 0 and "all checks passed (7 checks)" in result.stdout, result.stdout + result.stderr
    suite = tmp_path / "gbc.toml"
    suite.write_text(TINY.read_text().replace('strategies = ', 'estimators = ["gbc", "logme"]\nstrategies = ', 1)
                     + '\n[model]\nprovider = "builtin"\nname = "lenet"\nchannels = 1\nsize = [16, 16]\n')
    result = transferbench_cli(installed, "run", str(suite), "--strategies", "target-only", "--seeds", "1",
                               "--out", str(tmp_path), "--no-progress")
    assert result.returncode == 0, result.stderr
    estimates = [json.loads(line) for line in (tmp_path / "tiny" / "records.jsonl").read_text().splitlines()
                 if '"status": "estimate"' in line and '"strategy": "gbc"' in line]
    assert estimates and all(r["metrics"] and r["plugin"]["dist"] == "transferbench-nearest-centroid" for r in estimates)


def test_gbc_is_the_papers_formula():
    """GBC against the Bhattacharyya distance of two Gaussians written with full (diagonal) matrices."""
    import importlib.util

    import numpy as np

    spec = importlib.util.spec_from_file_location("gbc_example", EXAMPLE / "gbc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 6)
    features = rng.normal(size=(18, 4)) + labels[:, None] * np.array([1.0, 0.5, 0.0, 0.2])
    estimator = module.GaussianBhattacharyya(dims=4)
    centred = features - features.mean(axis=0)
    reduced = centred @ np.linalg.svd(centred, full_matrices=False)[2].T  # all 4 directions: a rotation
    expected = 0.0
    for i in range(3):
        for j in range(3):
            if i != j:
                a, b = reduced[labels == i], reduced[labels == j]
                Si, Sj = np.diag(a.var(axis=0) + module.EPS), np.diag(b.var(axis=0) + module.EPS)
                S, dmu = (Si + Sj) / 2, a.mean(axis=0) - b.mean(axis=0)
                distance = dmu @ np.linalg.inv(S) @ dmu / 8 + 0.5 * np.log(np.linalg.det(S) / np.sqrt(
                    np.linalg.det(Si) * np.linalg.det(Sj)))
                expected -= np.exp(-distance)
    assert estimator.score(features, labels) == pytest.approx(expected, rel=1e-10)
    assert estimator.score(features, labels) > module.GaussianBhattacharyya(dims=4).score(features, rng.permutation(labels))  # labels that ignore the shift
