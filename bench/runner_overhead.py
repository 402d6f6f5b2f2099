"""Runner overhead: one finetune cell through the runner vs the same training as a bare PyTorch loop.

    .venv/bin/python bench/runner_overhead.py [--repeats 5] [--threads N]

The cell is the quickstart's digits→rotated pair, seed 0, every labelled target example,
finetune's default hyperparameters (20 source epochs, 100 fine-tuning steps), no pretrain
cache. The runner side is everything `transferbench run` does for it: loading and
preprocessing, fingerprints, the training, scoring and the fsynced record. The bare side
loads the same digits and runs the same number of Adam steps of the same network
(benchmark.toolkit.backbones, which is the work being timed, not overhead) in a plain loop. The two
alternate, after one untimed warm-up of each; the ratio is of the fastest repeats (the
least disturbed on a shared machine), the median ratio is reported too. Goal: ≤ 1.05.
"""

import copy
import math
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import benchlib
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF

from benchmark import Classifier, build_classifier, records
from benchmark.discovery.registry import discover
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite
from plugins.finetune import FineTune

DEFAULTS = FineTune()  # the hyperparameters both sides use


def runner_cell() -> float:
    quickstart = load_suite(benchlib.REPO / "suites" / "quickstart.toml")
    suite = replace(quickstart, pairs=quickstart.pairs[:1], seeds=(0,), budgets=(None,), strategies=("finetune",),
                    hparams={})
    with tempfile.TemporaryDirectory() as out:
        Runner(suite, discover(), Path(out), Path(out), show_progress=False, pretrain_cache=False).run()
        (record,) = records.read(Path(out) / suite.name / "records.jsonl")
    return record["metrics"]["accuracy"]["mean"]


def per_class_rows(labels: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Rows from low to high (fractions) of every class, in file order."""
    rows = []
    for label in range(10):
        members = torch.nonzero(labels == label).flatten()
        rows.append(members[round(low * len(members)):round(high * len(members))])
    return torch.sort(torch.cat(rows)).values


def train(model, inputs, labels, steps: int, lr: float, generator) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=DEFAULTS.weight_decay)
    batch = min(DEFAULTS.batch_size, len(inputs))
    order, position = torch.randperm(len(inputs), generator=generator), 0
    model.train()
    for _ in range(steps):
        if position + batch > len(inputs):
            order, position = torch.randperm(len(inputs), generator=generator), 0
        index = order[position:position + batch]
        position += batch
        loss = F.cross_entropy(model(inputs[index]), labels[index])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    model.eval()


def bare_cell() -> float:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # [1797, 1, 8, 8]
    labels = torch.tensor(digits.target)
    # sklearn-digits' split: the first 2/3 of every class are "train"; the suite halves train per class.
    train_rows, test_rows = per_class_rows(labels, 0, 2 / 3), per_class_rows(labels, 2 / 3, 1)
    source_rows = train_rows[per_class_rows(labels[train_rows], 0, 0.5)]
    pool_rows = train_rows[per_class_rows(labels[train_rows], 0.5, 1)]

    def prepare(rows, rotate=False):  # [N, 1, 8, 8] -> [N, 1, 16, 16]
        x = F.interpolate(images[rows], size=(16, 16), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
        return TF.rotate(x, 30.0, interpolation=TF.InterpolationMode.BILINEAR) if rotate else x

    source, pool, test = prepare(source_rows), prepare(pool_rows, True), prepare(test_rows, True)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    model = build_classifier((1, 16, 16), 10)
    train(model, source, labels[source_rows], DEFAULTS.pretrain_epochs * math.ceil(len(source) / DEFAULTS.batch_size),
          DEFAULTS.pretrain_lr, generator)
    tuned = Classifier(copy.deepcopy(model.trunk), model.feature_dim, 10)
    train(tuned, pool, labels[pool_rows], DEFAULTS.adapt_steps, DEFAULTS.adapt_lr,
          torch.Generator().manual_seed(1))
    with torch.no_grad():
        return float((tuned(test).argmax(1) == labels[test_rows]).float().mean())


def main() -> int:
    arguments = benchlib.parser(__doc__.splitlines()[0])
    arguments.add_argument("--repeats", type=int, default=5)
    args = arguments.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    started_on = benchlib.machine()
    runner_cell(), bare_cell()  # warm-up: imports, file caches
    times = {"runner": [], "bare": []}
    accuracy = {}
    for repeat in range(args.repeats):
        for side, cell in (("runner", runner_cell), ("bare", bare_cell)):
            seconds, accuracy[side] = benchlib.timed(cell)
            times[side].append(round(seconds, 3))
            print(f"repeat {repeat + 1}: {side:6s} {seconds:7.2f} s  accuracy {accuracy[side]:.3f}", flush=True)
    # The fastest of the repeats is the least disturbed by other work on a shared machine
    # (as timeit reports it); the median ratio is printed beside it.
    fastest = {side: min(values) for side, values in times.items()}
    medians = {side: statistics.median(values) for side, values in times.items()}
    ratio, median_ratio = fastest["runner"] / fastest["bare"], medians["runner"] / medians["bare"]
    print(f"fastest runner {fastest['runner']:.2f} s / bare {fastest['bare']:.2f} s = {ratio:.3f} (goal <= 1.05); "
          f"median ratio {median_ratio:.3f}")
    benchlib.write("runner_overhead", {"seconds": times, "fastest_s": fastest, "median_s": medians,
                                       "ratio": round(ratio, 4), "median_ratio": round(median_ratio, 4),
                                       "goal": "ratio <= 1.05", "accuracy": accuracy},
                   "python " + " ".join(sys.argv), started_on)
    return 0


if __name__ == "__main__":
    sys.exit(main())
