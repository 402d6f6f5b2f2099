"""A Ray node that dies in the middle of a run: Ray runs its tasks again elsewhere, the driver
writes each record once, and the suite ends with nothing lost, duplicated or failed."""

import os
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark import Strategy, records
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"


class SlowCentroid(Strategy):
    """Nearest centroid that adapts for a few seconds: long enough for a node to die under it."""

    name = "slow-centroid"
    description = "Sleeps 4 s, then classifies by the nearest support centroid."

    def adapt(self, support, ctx):
        import ray

        # Say where this task runs, for the test to know when the worker node has tasks to lose.
        marks = Path(os.environ["NODE_LOSS_MARKS"])
        (marks / f"{ray.get_runtime_context().get_node_id()}-{uuid.uuid4().hex}").touch()
        time.sleep(4)
        flat = support.inputs.flatten(1)
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ flat) / one_hot.sum(0)[:, None]
        return lambda inputs: -torch.cdist(inputs.flatten(1), centroids)


@pytest.mark.slow
def test_a_node_that_dies_mid_run_loses_duplicates_and_fails_nothing(registry, with_strategies, tmp_path):
    ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'transferbench[ray]'")
    from ray.cluster_utils import Cluster

    registry = with_strategies(registry, SlowCentroid)
    tiny = load_suite(TINY)
    suite = replace(tiny.with_overrides(seeds=3, strategies=["slow-centroid"]), pairs=tiny.pairs[:1])
    cells = 3 * len(suite.budgets)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker_node = cluster.add_node(num_cpus=2)
    marks = tmp_path / "marks"
    marks.mkdir()
    # As RayExecutor's own local Ray does: the workers import what the driver can (this module).
    ray.init(address=cluster.address, runtime_env={"env_vars": {
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "NODE_LOSS_MARKS": str(marks)}})
    out = tmp_path / "out"
    path = out / "tiny" / "records.jsonl"
    removed = threading.Event()

    def remove_the_worker_node():
        # Once tasks on the worker node are adapting and no record is written yet, take the node
        # away under them.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not removed.is_set():
            on_worker = [mark for mark in marks.iterdir() if mark.name.startswith(worker_node.node_id)]
            if on_worker and not path.exists():
                cluster.remove_node(worker_node, allow_graceful=False)
                removed.set()
                return
            time.sleep(0.2)

    remover = threading.Thread(target=remove_the_worker_node, daemon=True)
    try:
        remover.start()
        summary = Runner(suite, registry, out, tmp_path, show_progress=False, executor="ray", threads=1,
                         workers=3, pretrain_cache=False).run()
        remover.join(timeout=5)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert removed.is_set(), "the worker node must die while its tasks run"
    written = records.read(path)
    keys = [records.cell_key(r) for r in written]
    assert len(keys) == len(set(keys)) == cells                   # 0 lost, 0 duplicated
    assert [r["status"] for r in written] == ["ok"] * cells, [r.get("error") for r in written]  # 0 failed
    assert summary.exit_code == 0 and summary.ok == cells
