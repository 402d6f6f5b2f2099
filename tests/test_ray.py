"""The Ray executor on a local 2-CPU Ray: same records, resume and failure isolation as in-process.

Ray takes seconds to start, so one test covers the executor end to end.
"""

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark import Strategy, records
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"


class CrashingInWorker(Strategy):
    name = "crashing-in-worker"
    description = "Raises in adapt."

    def adapt(self, support, ctx):
        raise RuntimeError("boom in a worker")


class SleepingInWorker(Strategy):
    name = "sleeping-in-worker"
    description = "Adapts for a minute."

    def adapt(self, support, ctx):
        time.sleep(60)
        return lambda inputs: torch.zeros(len(inputs), support.num_classes)


def test_ray_runs_the_remaining_cells_with_the_same_metrics_and_isolates_failures(registry, with_strategies, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'transferbench[ray]'")
    registry = with_strategies(registry, CrashingInWorker, SleepingInWorker)
    tiny = load_suite(TINY)
    suite = replace(tiny.with_overrides(seeds=1, strategies=["finetune", "target-only"]), pairs=tiny.pairs[:1])
    reference = tmp_path / "local"
    Runner(suite, registry, reference, tmp_path, show_progress=False, threads=1).run()
    expected = {records.cell_key(r): r["metrics"] for r in records.read(reference / "tiny" / "records.jsonl")}

    # The target-only cells are already recorded (by the in-process executor): Ray runs only the rest,
    # finetune's pretraining included.
    out = tmp_path / "ray"
    (out / "tiny").mkdir(parents=True)
    local_lines = (reference / "tiny" / "records.jsonl").read_bytes().splitlines(keepends=True)
    recorded = b"".join(line for line in local_lines if b'"strategy": "target-only"' in line)
    (out / "tiny" / "records.jsonl").write_bytes(recorded)
    everything = replace(suite, strategies=("finetune", "target-only", "crashing-in-worker", "sleeping-in-worker"))
    summary = Runner(everything, registry, out, tmp_path, show_progress=False, executor="ray", workers=2, threads=1,
                     cell_timeout=3).run()

    written = records.read(out / "tiny" / "records.jsonl")
    assert (out / "tiny" / "records.jsonl").read_bytes().startswith(recorded) and recorded.count(b"\n") == 2
    assert summary.already == 2 and summary.ok == 2 and len(written) == 8
    assert len({records.cell_key(r) for r in written}) == 8
    ok = {records.cell_key(r): r["metrics"] for r in written if r["status"] == "ok"}
    assert {r["strategy"] for r in written[2:] if r["status"] == "ok"} == {"finetune"}
    assert ok == expected  # bit-identical to the in-process run on the same thread count
    crashed = [r for r in written if r["strategy"] == "crashing-in-worker"]
    assert [(r["status"], r["error"]["type"], r["error"]["message"]) for r in crashed] == \
        [("failed", "RuntimeError", "boom in a worker")] * 2
    slept = [r for r in written if r["strategy"] == "sleeping-in-worker"]
    assert [(r["status"], r["error"]["type"]) for r in slept] == [("failed", "CellTimeout")] * 2
    assert summary.exit_code == 1 and len(summary.failed) == 4


def test_the_in_process_executor_never_imports_ray(tmp_path):
    program = f"""
import sys
from benchmark.cli import main
code = main(["run", {str(TINY)!r}, "--strategies", "target-only", "--seeds", "1", "--out", {str(tmp_path)!r},
             "--no-progress", "--threads", "1"])
assert code == 0, code
print("ray imported" if any(name == "ray" or name.startswith("ray.") for name in sys.modules) else "no ray")
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("no ray")
