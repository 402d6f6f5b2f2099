"""examples/plugin-example installed as a real package: listed, checked and run with no change to the core."""

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
