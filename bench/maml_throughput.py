"""Meta-training throughput: the maml plugin's pretrain against a plain learn2learn loop.

Both meta-train the same network (the plugin's default: conv4, 64 channels, support-set
BatchNorm) on the same episode shape (N-way K-shot, K queries per class, one inner step,
second order) from the same source (sklearn digits at 16x16), with the same torch thread
count. The plugin is timed end to end (model build, episode sampling, meta-updates); the
plain loop is learn2learn's example loop with the leanest sampler we could write. Runs
alternate (plugin, plain, plugin, ...) after one warm-up each, and the medians are compared,
so a change in machine load hits both. Tasks/s is episodes meta-trained per second.

    .venv/bin/python bench/maml_throughput.py [--threads 1] [--iterations 30] [--repeats 5]

Prints both rates and their ratio and writes bench/results/maml_throughput.json.
"""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmark import Context, LabelledData, TaskSpec, build_classifier
from benchmark.data import shifts
from plugins.datasets.sklearn_digits import SklearnDigits
from plugins.maml import ModelAgnosticMetaLearning, meta_learner

RESULTS = Path(__file__).resolve().parent / "results"
SIZE = 16


def digits() -> LabelledData:
    data = SklearnDigits().load("train", root=None)
    return LabelledData(shifts.to_shape(data.inputs, 1, (SIZE, SIZE)), data.labels, data.classes, "digits 16px")


def plugin_run(source, args, seed: int) -> tuple[float, float]:
    """(wall s, CPU s) of the plugin's whole pretrain."""
    strategy = ModelAgnosticMetaLearning(ways=args.ways, shots=args.shots, meta_iterations=args.iterations,
                                         meta_batch=args.meta_batch)
    task = TaskSpec("episodic", (1, SIZE, SIZE), source.classes, source.classes, args.ways, args.shots)
    ctx = Context(torch.device("cpu"), seed, torch.Generator().manual_seed(seed), task, Path("/tmp"))
    torch.manual_seed(seed)
    wall, cpu = time.perf_counter(), time.process_time()
    strategy.pretrain(source, ctx)
    return time.perf_counter() - wall, time.process_time() - cpu


def plain_run(source, args, seed: int) -> tuple[float, float]:
    """(wall s, CPU s) of learn2learn's example loop on the same network and episodes shape."""
    defaults = ModelAgnosticMetaLearning()
    torch.manual_seed(seed)
    wall, cpu = time.perf_counter(), time.process_time()
    model = build_classifier((1, SIZE, SIZE), args.ways, "conv4", defaults.hidden, defaults.norm)
    maml = meta_learner(model, defaults.inner_lr, first_order=False)  # learn2learn.algorithms.MAML
    optimiser = torch.optim.Adam(maml.parameters(), lr=defaults.meta_lr)
    generator = torch.Generator().manual_seed(seed)
    members = [torch.nonzero(source.labels == c).flatten() for c in range(source.num_classes)]
    labels = torch.arange(args.ways).repeat_interleave(args.shots)  # [N*K], support and query alike
    for _ in range(args.iterations):
        optimiser.zero_grad()
        for _ in range(args.meta_batch):
            classes = torch.randperm(source.num_classes, generator=generator)[:args.ways].tolist()
            rows = torch.stack([members[c][torch.randperm(len(members[c]), generator=generator)[:2 * args.shots]]
                                for c in classes])  # [N, 2K]
            support = source.inputs[rows[:, :args.shots].flatten()]
            query = source.inputs[rows[:, args.shots:].flatten()]
            learner = maml.clone()
            learner.train()
            learner.adapt(F.cross_entropy(learner(support), labels))
            learner(support)  # the support statistics the network's SupportBatchNorm normalises queries with
            learner.eval()
            (F.cross_entropy(learner(query), labels) / args.meta_batch).backward()
        optimiser.step()
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--threads", type=int, default=1)
    arguments.add_argument("--iterations", type=int, default=30, help="meta-updates per timed run")
    arguments.add_argument("--meta-batch", type=int, default=32, help="episodes per meta-update (the paper's 32)")
    arguments.add_argument("--ways", type=int, default=5)
    arguments.add_argument("--shots", type=int, default=1)
    arguments.add_argument("--repeats", type=int, default=5, help="timed runs of each, alternating")
    args = arguments.parse_args()
    torch.set_num_threads(args.threads)
    machine = {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
               "python": platform.python_version(), "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    source = digits()
    tasks = args.iterations * args.meta_batch
    plugin_run(source, argparse.Namespace(**{**vars(args), "iterations": 1}), 0)  # warm-up (and learn2learn import)
    plain_run(source, argparse.Namespace(**{**vars(args), "iterations": 1}), 0)
    samples = {"plugin": [], "plain": []}
    for repeat in range(args.repeats):
        samples["plugin"].append(plugin_run(source, args, repeat))
        samples["plain"].append(plain_run(source, args, repeat))
    rates = {name: {"tasks_per_s_wall": tasks / statistics.median(w for w, _ in runs),
                    "tasks_per_cpu_s": tasks / statistics.median(c for _, c in runs),
                    "runs_wall_s": [round(w, 3) for w, _ in runs], "runs_cpu_s": [round(c, 3) for _, c in runs]}
             for name, runs in samples.items()}
    ratio = rates["plugin"]["tasks_per_s_wall"] / rates["plain"]["tasks_per_s_wall"]
    cpu_ratio = rates["plugin"]["tasks_per_cpu_s"] / rates["plain"]["tasks_per_cpu_s"]
    print(f"{args.ways}-way {args.shots}-shot, meta-batch {args.meta_batch}, {args.iterations} meta-updates per run, "
          f"{args.threads} thread(s), median of {args.repeats} alternating runs")
    print(f"  maml plugin pretrain : {rates['plugin']['tasks_per_s_wall']:7.1f} tasks/s "
          f"({rates['plugin']['tasks_per_cpu_s']:.1f} per CPU-second)")
    print(f"  plain learn2learn    : {rates['plain']['tasks_per_s_wall']:7.1f} tasks/s "
          f"({rates['plain']['tasks_per_cpu_s']:.1f} per CPU-second)")
    print(f"  ratio plugin / plain : {ratio:.3f} wall, {cpu_ratio:.3f} CPU (goal >= 0.95)")
    machine["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "maml_throughput.json"
    path.write_text(json.dumps({"bench": "maml_throughput", "settings": vars(args), "machine": machine,
                                "tasks_per_run": tasks, **rates, "ratio_wall": round(ratio, 4),
                                "ratio_cpu": round(cpu_ratio, 4)}, indent=2) + "\n")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
