"""examples/plugin-example installed as a real package: listed, checked and run with no change to the core."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plugin-example"
TINY = Path(__file__).parent / "suites" / "tiny.toml"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """pip-install the example into its own directory and put that on PYTHONPATH (the venv stays clean)."""
    target = tmp_path_factory.mktemp("site")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                          "--no-index", "--quiet", "--target", str(target), str(EXAMPLE)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    return {**os.environ, "PYTHONPATH": str(target)}


def transferbench(env, *args):
    script = Path(sys.executable).parent / "transferbench"
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, timeout=300)


def test_listed_with_its_distribution(installed):
    out = transferbench(installed, "list").stdout
    assert "nearest-centroid" in out and "transferbench-nearest-centroid 1.0.0" in out


def test_passes_the_contract_battery(installed):
    result = transferbench(installed, "check", "nearest-centroid")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout


def test_runs_in_a_suite(installed, tmp_path):
    result = transferbench(installed, "run", str(TINY), "--strategies", "nearest-centroid,target-only",
                           "--seeds", "1", "--out", str(tmp_path), "--no-progress")
    assert result.returncode == 0, result.stderr
    records = (tmp_path / "tiny" / "records.jsonl").read_text()
    assert records.count('"strategy": "nearest-centroid"') == 4
    assert '"dist": "transferbench-nearest-centroid"' in records
