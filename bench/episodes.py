"""Few-shot episodes per second: through the runner, serial and batched, against a bare PyTorch loop.

    .venv/bin/python bench/episodes.py [--data-root DIR] [--episodes 600] [--serial-episodes 60]
                                       [--ncm-episodes 600] [--strategies a,b] [--settings 5w1s,20w5s]
                                       [--threads N] [--rss finetune] [--rss-chunks 1,600]

Omniglot as the shipped suite prepares it (suites/omniglot-fewshot.toml: Vinyals split,
28x28, 15 queries per class), seed 0, the suite's hyperparameters. The strategy's pretrained
state is made (or restored from ``--pretrain-cache``) before any clock starts, so only
evaluation is timed: drawing episodes, adapting, predicting, scoring. For every strategy and
setting (5w1s, 5w5s, 20w1s, 20w5s), side by side in one run:

    serial_eps   episodes/s of ``run_cell`` adapting one episode at a time (``adapt``)
    batched_eps  episodes/s of ``run_cell`` handing chunks of episodes to ``adapt_episodes``
    bare_eps     episodes/s of a plain PyTorch loop doing the same sampling, adaptation and
                 prediction on the same episodes, with no runner around it
    speedup      batched_eps / serial_eps
    max_abs_diff the largest |score difference| between serial and batched adaptation, over
                 every query of the first ``--serial-episodes`` episodes (the equality contract)
    gflops_*     FLOP/s achieved by the serial and batched sides (the FLOPs of one serial episode,
                 adaptation and prediction, counted by torch.utils.flop_counter, times episodes/s),
                 against ``conv_ceiling_gflops``: what this CPU's convolutions achieve at all (a
                 conv4 training step on 256 images, one model). ``flops_bound`` = ceiling / serial:
                 the most any batching could gain when the FLOPs themselves are the work
    peak_rss_mb  peak resident memory of a fresh process that loads the pair, restores the
                 pretrain and runs one ``--episodes`` cell at the chunk size the runner picks for
                 a 600-episode cell (getrusage; data loading included: rss_before_cell_mb is what
                 it held before the cell). Memory is bounded per chunk, not per cell: the records
                 of 600 episodes are a few kB

The slow sides (serial, bare) run the first ``--serial-episodes`` episodes, except the
runner-overhead goal's cell (nearest-class-mean 5w1s: ``--ncm-episodes``, 600, the runner
and the bare loop alternating ``--repeats`` times, the fastest of each kept); the batched
side runs ``--episodes``. Rates are per episode, so they compare. ``nearest-class-mean`` is
a minimal metric-based strategy defined here (the class mean of the frozen source features
per support class; a query scores minus its squared distance to each mean: SimpleShot
without normalisation): it adapts in milliseconds, so its runner ÷ bare ratio is the
runner's own per-episode cost. ``maml`` is meta-trained for ``--maml-iterations`` only: the
cost of test-time adaptation does not depend on how well it was meta-trained.

Absolute rates move with the machine's load (the JSON says what it was); the ratios, measured
side by side in one run, are the figures. Writes bench/results/episodes.json.
"""

import argparse
import copy
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import benchlib
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from benchmark import Classifier, Context, build_classifier
from benchmark.data.cache import default_dir as default_dataset_cache
from benchmark.data.loader import DatasetLoader
from benchmark.discovery.registry import Provided, discover
from benchmark.run import cell as cells
from benchmark.run.prepare import prepare_pairs
from benchmark.run.pretraining import pretrained
from benchmark.run.recording import cell_record
from benchmark.run.runner import Runner
from benchmark.scoring import episodes as episodes_module
from benchmark.scoring import tasks as protocol
from benchmark.suite.load import load_suite
from plugins.finetune import FineTune

SETTINGS = {"5w1s": ("omniglot 5-way", 1), "5w5s": ("omniglot 5-way", 5),
            "20w1s": ("omniglot 20-way", 1), "20w5s": ("omniglot 20-way", 5)}
STRATEGIES = ("nearest-class-mean", "frozen-feature", "finetune", "target-only", "maml")


class NearestClassMean(FineTune):
    """Nearest class mean of frozen source features (finetune's source training, so it shares its pretrain)."""

    name = "nearest-class-mean"
    description = "Nearest class mean of the frozen source features."

    def adapt(self, support, ctx):
        trunk = self.model_.trunk.eval()
        with torch.no_grad():
            means = class_means(trunk(support.inputs), support.labels, support.num_classes)  # [N, D]
        return lambda queries: nearest_mean_scores(trunk(queries), means)


def class_means(features: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """[S, D] features, [S] labels -> [n_classes, D] per-class means."""
    sums = torch.zeros(n_classes, features.shape[1]).index_add_(0, labels, features)
    return sums / torch.bincount(labels, minlength=n_classes)[:, None]


def nearest_mean_scores(features: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """[Q, D], [N, D] -> [Q, N]: minus the squared Euclidean distance to each class mean."""
    return -torch.cdist(features, means).square()


# --- the bare loops: the same episodes, sampling inline, no runner ---------------------------------------

def bare_episodes(pool, index, pair, n_way: int, k_shot: int, n_query: int, episodes: int):
    """(support inputs, support labels, query inputs, query labels) per episode, drawn exactly as
    ``benchmark.scoring.tasks.episodic_tasks`` draws them, with nothing around the draws."""
    labels = torch.arange(n_way)
    for episode in range(episodes):
        seed = protocol.derive_seed("episode", pair, n_way, k_shot, n_query, 0, episode)
        generator = torch.Generator().manual_seed(seed)
        classes = torch.randperm(pool.num_classes, generator=generator)[:n_way].tolist()
        picked = torch.stack([index.members[c][torch.randperm(len(index.members[c]), generator=generator)
                                               [:k_shot + n_query]] for c in classes])  # [N, K+Q]
        yield (seed, pool.inputs[picked[:, :k_shot].flatten()], labels.repeat_interleave(k_shot),
               pool.inputs[picked[:, k_shot:].flatten()], labels.repeat_interleave(n_query))


def bare_nearest_class_mean(strategy, episodes) -> float:
    trunk, correct, total = strategy.model_.trunk.eval(), 0, 0
    with torch.no_grad():
        for _, support, support_labels, queries, query_labels in episodes:
            means = class_means(trunk(support), support_labels, int(support_labels.max()) + 1)
            predicted = nearest_mean_scores(trunk(queries), means).argmax(1)
            correct, total = correct + int((predicted == query_labels).sum()), total + len(query_labels)
    return correct / total


def bare_train(model, parameters, inputs, labels, strategy, seed: int) -> None:
    """The serial fit: Adam on cross-entropy, whole support set per step, or per-epoch
    permutations drawn from the episode's generator when it exceeds a batch."""
    optimiser = torch.optim.Adam(parameters, lr=strategy.adapt_lr, weight_decay=strategy.weight_decay)
    generator, batch = torch.Generator().manual_seed(seed), min(strategy.batch_size, len(labels))
    order, position = torch.randperm(len(labels), generator=generator) if len(labels) > batch else None, 0
    model.train()
    for _ in range(strategy.adapt_steps):
        if order is None:
            batch_inputs, batch_labels = inputs, labels
        else:
            if position + batch > len(labels):
                order, position = torch.randperm(len(labels), generator=generator), 0
            index = order[position:position + batch]
            position += batch
            batch_inputs, batch_labels = inputs[index], labels[index]
        loss = F.cross_entropy(model(batch_inputs), batch_labels)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    model.eval()


def accuracy_of(predict, episodes) -> float:
    correct = total = 0
    for seed, support, support_labels, queries, query_labels in episodes:
        torch.manual_seed(seed)
        predicted = predict(support, support_labels, queries, seed).argmax(1)
        correct, total = correct + int((predicted == query_labels).sum()), total + len(query_labels)
    return correct / total


def bare_finetune(strategy, episodes) -> float:
    source = strategy.model_

    def predict(support, labels, queries, seed):
        model = Classifier(copy.deepcopy(source.trunk), source.feature_dim, int(labels.max()) + 1)
        bare_train(model, model.parameters(), support, labels, strategy, seed)
        with torch.no_grad():
            return model(queries)
    return accuracy_of(predict, episodes)


def bare_target_only(strategy, episodes) -> float:
    def predict(support, labels, queries, seed):
        model = build_classifier(tuple(support.shape[1:]), int(labels.max()) + 1, strategy.backbone)
        bare_train(model, model.parameters(), support, labels, strategy, seed)
        with torch.no_grad():
            return model(queries)
    return accuracy_of(predict, episodes)


def bare_frozen_feature(strategy, episodes) -> float:
    trunk = strategy.model_.trunk.eval()

    def predict(support, labels, queries, seed):
        head = torch.nn.Linear(strategy.model_.feature_dim, int(labels.max()) + 1)
        with torch.no_grad():
            features = trunk(support)
        bare_train(head, head.parameters(), features, labels, strategy, seed)
        with torch.no_grad():
            return head(trunk(queries))
    return accuracy_of(predict, episodes)


def bare_maml(strategy, episodes) -> float:
    def predict(support, labels, queries, seed):
        clone = strategy.maml_.clone(first_order=True)
        clone.train()
        for _ in range(strategy.adapt_steps):
            clone.adapt(F.cross_entropy(clone(support), labels))
        with torch.no_grad():
            clone(support)  # the support set's statistics (SupportBatchNorm)
            return clone.eval()(queries)
    return accuracy_of(predict, episodes)


BARE = {"nearest-class-mean": bare_nearest_class_mean, "finetune": bare_finetune, "target-only": bare_target_only,
        "frozen-feature": bare_frozen_feature, "maml": bare_maml}


# --- one cell: the runner's serial and batched paths, and the bare loop ----------------------------------

class Cell:
    def __init__(self, bench: "Bench", strategy_name: str, setting: str, state: dict | None = None):
        """``state``: a pretrained state to restore instead of pretraining, where none is held yet
        (bench/suite_bound.py counts FLOPs, which do not depend on the weights)."""
        self.bench, self.name, self.setting = bench, strategy_name, setting
        pair, self.budget = SETTINGS[setting]
        self.prepared = bench.pairs[pair]
        cls = NearestClassMean if strategy_name == NearestClassMean.name else bench.registry.strategy(strategy_name).cls
        provided = Provided(strategy_name, cls, "bench", "bench", "0")
        (self.job,) = [job for job in bench.runner.plan([provided], {pair: self.prepared}, set())[0]
                       if self.budget in job.budgets]
        self.job = replace(self.job, budgets=(self.budget,))
        # Strategies that pretrain alike (nearest-class-mean, finetune, frozen-feature: one source model)
        # restore one state, as the runner's pretrain cache would share it.
        identity = bench.identity(cls, self.job)
        if state is not None:
            bench.states.setdefault(identity, state)
        if identity in bench.states:
            settings, seed = bench.runner.settings, self.job.seed
            torch.manual_seed(seed)
            self.strategy = cls(**self.job.hparams)
            self.ctx = Context(torch.device(settings.device), seed, torch.Generator().manual_seed(seed),
                               self.prepared.task_spec("episodic", self.budget), settings.scratch_dir)
            self.strategy.load_pretrained_state(bench.states[identity], self.ctx)
        else:
            self.strategy, self.ctx, _ = pretrained(self.job, self.prepared, bench.runner.settings)
            if (state := self.strategy.pretrained_state()) is not None:  # target-only keeps none
                bench.states[identity] = state

    def settings(self, episodes: int, **fields):
        return replace(self.bench.runner.settings, episodes=episodes, **fields)

    def runner(self, episodes: int, **fields) -> dict:
        settings = self.settings(episodes, **fields)
        outcome = cells.run_cell(self.strategy, self.ctx, self.job, self.prepared, settings, self.budget, 0.0, "hit")
        record = cell_record(settings, self.job, self.prepared, self.budget, outcome)
        if record["status"] != "ok":
            raise RuntimeError(f"{self.name} {self.setting}: {record['error']}")
        return record

    def bare(self, episodes: int) -> float:
        pair = self.prepared.pair
        return BARE[self.name](self.strategy, bare_episodes(self.prepared.pool, self.prepared.pool_index, pair.name,
                                                            pair.ways, self.budget, pair.queries, episodes))


class Bench:
    def __init__(self, args, pair: str | None = None):
        self.args = args
        suite = load_suite(benchlib.REPO / "suites" / "omniglot-fewshot.toml")
        if pair:  # only the pair one cell needs (the peak-RSS child)
            suite = replace(suite, pairs=tuple(p for p in suite.pairs if p.name == pair))
        if getattr(args, "source_split", None):  # bench/episode_profile.py: a quick pretrain, same episodes
            suite = replace(suite, pairs=tuple(replace(p, source=replace(p.source, split=args.source_split))
                                               for p in suite.pairs))
        hparams = {**suite.hparams, NearestClassMean.name: suite.hparams["finetune"],
                   "maml": {**suite.hparams["maml"], "meta_iterations": args.maml_iterations}}
        self.suite = replace(suite, hparams=hparams)
        self.registry = discover()
        self.scratch = tempfile.TemporaryDirectory()
        self.runner = Runner(self.suite, self.registry, Path(self.scratch.name), args.data_root, show_progress=False,
                             pretrain_cache_dir=args.pretrain_cache)
        # the preprocessed tensors the real runs use (the user's dataset cache), not a cold load per run
        self.runner.loader = DatasetLoader(self.registry, args.data_root, cache_dir=args.dataset_cache)
        self.pairs = prepare_pairs(self.suite, self.runner.loader)
        self.states = {}  # pretrain identity -> pretrained state, shared by the cells that pretrain alike

    def cell(self, strategy: str, setting: str, state: dict | None = None) -> Cell:
        return Cell(self, strategy, setting, state)

    @staticmethod
    def identity(cls, job) -> str:
        """The key of ``states``: cells whose pretrains are the same training share one state."""
        return json.dumps([cls(**job.hparams).pretrain_identity(), list(job.task_key)], default=str)


def arguments() -> argparse.ArgumentParser:
    parser = benchlib.parser(__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=benchlib.REPO.parent / "shared" / "data")
    parser.add_argument("--episodes", type=int, default=600, help="episodes of the batched side (and of the peak "
                                                                  "RSS cells)")
    parser.add_argument("--ncm-episodes", type=int, default=600, help="episodes of the nearest-class-mean cells")
    parser.add_argument("--serial-episodes", type=int, default=60,
                        help="episodes of the serial and bare sides of the adapting strategies")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--maml-iterations", type=int, default=20)
    parser.add_argument("--pretrain-cache", type=Path, default=benchlib.REPO / ".cache" / "bench-episodes")
    parser.add_argument("--dataset-cache", type=Path, default=default_dataset_cache())
    parser.add_argument("--source-split", help="pretrain on this split of the Omniglot source instead of the "
                                               "suite's (e.g. 'trainval[:50%%]': half the pretrain time; rates "
                                               "do not depend on it, the accuracy columns do)")
    return parser


class Recorder:
    """Wraps the runner's ``cells.predict`` to keep every episode's scores, in order (both sides alike)."""

    def __init__(self):
        self.scores, self.original, self.seconds = [], cells.predict, 0.0

    def __enter__(self):
        def predict(*args, **kwargs):
            started = time.perf_counter()
            scores = self.original(*args, **kwargs)
            self.seconds += time.perf_counter() - started
            self.scores.append(scores)
            return scores
        cells.predict = predict
        return self

    def __exit__(self, *exc):
        cells.predict = self.original

    def take(self) -> list[torch.Tensor]:
        taken, self.scores = self.scores, []
        return taken

    def take_seconds(self) -> float:
        """Seconds spent predicting (the queries' forward passes) since the last call."""
        taken, self.seconds = self.seconds, 0.0
        return taken


def episode_flops(cell: "Cell") -> float:
    """FLOPs of one serial runner episode (adaptation and prediction; convolutions and matrix products)."""
    counter = FlopCounterMode(display=False)
    with counter:
        cell.runner(1, batched=False)
    return float(counter.get_total_flops())


def conv_ceiling_gflops(repeats: int = 5) -> float:
    """GFLOP/s of a conv4 training step (forward and backward) on 256 Omniglot-sized images, one model,
    channels-last: as much work per kernel call as batching could ever give; the fastest of ``repeats``."""
    torch.manual_seed(0)
    model = build_classifier((1, 28, 28), 20).train()
    inputs, labels = torch.rand(256, 1, 28, 28), torch.randint(0, 20, (256,))

    def step():
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(inputs), labels).backward()
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    seconds = min(benchlib.timed(step)[0] for _ in range(repeats))
    return round(counter.get_total_flops() / seconds / 1e9, 2)


def measure(bench: Bench, name: str, setting: str, args) -> dict:
    cell = bench.cell(name, setting)
    batches = episodes_module.batches_episodes(type(cell.strategy))
    # The runner-overhead goal's cell (5w1s) runs --ncm-episodes; every other serial side --serial-episodes.
    serial_n = args.ncm_episodes if (name, setting) == (NearestClassMean.name, "5w1s") else args.serial_episodes
    row = {"strategy": name, "setting": setting, "episodes_serial": serial_n,
           "episodes_batched": args.episodes if batches else None}
    goal_cell = (name, setting) == (NearestClassMean.name, "5w1s")
    cell.runner(1, batched=False), cell.bare(1), cell.runner(1)  # untimed warm-up of every side
    with Recorder() as recorder:
        serial_s, record = benchlib.timed(cell.runner, serial_n, batched=False)
        serial = recorder.take()
        bare_s, bare_accuracy = benchlib.timed(cell.bare, serial_n)
        for _ in range(args.repeats - 1 if goal_cell else 0):  # alternating; the fastest of each is the least disturbed
            serial_s = min(serial_s, benchlib.timed(cell.runner, serial_n, batched=False)[0])
            bare_s = min(bare_s, benchlib.timed(cell.bare, serial_n)[0])
            recorder.take()
        if batches:
            recorder.take_seconds()
            batched_s, batched_record = benchlib.timed(cell.runner, args.episodes)
            # Predicting the queries is the same work serial or batched: it bounds the speedup at
            # serial time / prediction time (adaptation for free).
            predict_s = recorder.take_seconds()
            row.update(predict_share_of_batched=round(predict_s / batched_s, 3),
                       speedup_bound=round((serial_s / serial_n) / (predict_s / args.episodes), 2))
            together = recorder.take()[:serial_n]
            differences = torch.stack([(a - b).abs().max() for a, b in zip(serial, together)])
            same = sum(int((a.argmax(1) == b.argmax(1)).sum()) for a, b in zip(serial, together))
            row.update(chunk=cells.episode_chunk(cell.settings(args.episodes), cell.prepared, cell.budget),
                       max_abs_diff=float(differences.max()),
                       same_predictions=round(same / sum(len(a) for a in serial), 6),
                       batched_accuracy=batched_record["metrics"]["accuracy"]["mean"])
    row.update(serial_eps=round(serial_n / serial_s, 3),
               batched_eps=round(args.episodes / batched_s, 3) if batches else None,
               bare_eps=round(serial_n / bare_s, 3))
    row.update(speedup=round(row["batched_eps"] / row["serial_eps"], 3) if batches else None,
               runner_over_bare=round(row["bare_eps"] / row["serial_eps"], 3),
               serial_accuracy=sum(record["per_episode"]["accuracy"][:serial_n]) / serial_n if serial_n > 1 else None,
               bare_accuracy=bare_accuracy)
    row.setdefault("max_abs_diff", None)
    flops = episode_flops(cell)
    row.update(gflop_per_episode=round(flops / 1e9, 3), gflops_serial=round(flops * row["serial_eps"] / 1e9, 2),
               gflops_batched=round(flops * row["batched_eps"] / 1e9, 2) if batches else None,
               flops_bound=round(args.ceiling_gflops / (flops * row["serial_eps"] / 1e9), 2))
    if name in args.rss.split(","):  # at the chunk size the runner picks for a 600-episode cell, whatever --episodes is
        chunk = cells.episode_chunk(cell.settings(600), cell.prepared, cell.budget) if batches else None
        memory = peak_rss(args, name, setting, chunk)
        row["rss_chunk"] = chunk
        row.update(peak_rss_mb=memory["peak_rss_mb"], rss_before_cell_mb=memory["rss_before_cell_mb"])
    return row


def peak_rss(args, name: str, setting: str, chunk: int | None) -> float:
    """Peak resident MB of a fresh process that loads the data, restores the pretrain and runs one
    ``--episodes`` cell through the runner (batched where the strategy batches)."""
    command = [sys.executable, __file__, "--child", name, setting, str(chunk or 0),
               "--episodes", str(args.rss_episodes or args.episodes),
               "--data-root", str(args.data_root), "--pretrain-cache", str(args.pretrain_cache),
               "--dataset-cache", str(args.dataset_cache), "--maml-iterations", str(args.maml_iterations)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.source_split:
        command += ["--source-split", args.source_split]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def child(args) -> int:
    name, setting, chunk = args.child
    bench = Bench(args, pair=SETTINGS[setting][0])
    if name in ("finetune", "frozen-feature"):
        bench.cell(NearestClassMean.name, setting)  # restores the source model they share from the disk cache
    cell = bench.cell(name, setting)
    loaded_mb = resident_mb()
    cell.runner(args.episodes, episode_chunk=int(chunk) or None)
    print(json.dumps({"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "rss_before_cell_mb": loaded_mb}))
    return 0


def resident_mb() -> float:
    """This process's resident memory now (MB), from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return round(pages * resource.getpagesize() / 2 ** 20, 1)


def main() -> int:
    parser = arguments()
    parser.add_argument("--repeats", type=int, default=3,
                        help="runner and bare loop alternate this many times on the nearest-class-mean 5w1s cell")
    parser.add_argument("--rss", default=",".join(STRATEGIES),
                        help="strategies whose rows' peak RSS is measured, each in a fresh process ('' for none)")
    parser.add_argument("--rss-episodes", type=int, help="episodes of the peak-RSS cells (default --episodes): "
                                                             "a whole chunk shows a chunk's memory")
    parser.add_argument("--rss-chunks", default="",
                        help="also: peak RSS of finetune 5w1s at these forced chunk sizes, e.g. 1,600")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        return child(args)
    started_on = benchlib.machine()
    started = time.perf_counter()
    bench = Bench(args)
    args.ceiling_gflops = conv_ceiling_gflops()
    print(f"conv4 training step on 256 images: {args.ceiling_gflops} GFLOP/s (the ceiling)", flush=True)
    rows = []
    for name in args.strategies.split(","):
        for setting in args.settings.split(","):
            row = measure(bench, name, setting, args)
            rows.append(row)
            print(f"{name:19s} {setting:6s} serial {row['serial_eps']:8.2f} eps  batched "
                  f"{row['batched_eps'] or float('nan'):8.2f} eps  bare {row['bare_eps']:8.2f} eps  "
                  f"speedup {row['speedup'] or float('nan'):5.2f}x  runner/bare {row['runner_over_bare']:.3f}  "
                  f"max|diff| {row['max_abs_diff'] if row['max_abs_diff'] is not None else float('nan'):.1e}  "
                  f"RSS {row.get('peak_rss_mb', float('nan'))} MB  GFLOP/s serial {row['gflops_serial']} "
                  f"batched {row['gflops_batched']} (ceiling {args.ceiling_gflops})", flush=True)
            write(rows, {}, started_on, complete=False, ceiling=args.ceiling_gflops)  # after every row: a long run stopped early keeps its rows
    by_chunk = {chunk: peak_rss(args, "finetune", "5w1s", int(chunk)) for chunk in filter(None, args.rss_chunks.split(","))}
    if by_chunk:
        print(f"finetune 5w1s peak RSS by forced chunk size: {by_chunk}")
    # measured again at the end: a shared machine's load moves it; the higher is the ceiling's best estimate
    args.ceiling_gflops = max(args.ceiling_gflops, conv_ceiling_gflops())
    for row in rows:
        row["flops_bound"] = round(args.ceiling_gflops / row["gflops_serial"], 2)
    write(rows, by_chunk, started_on, complete=True, ceiling=args.ceiling_gflops)
    print(f"conv ceiling {args.ceiling_gflops} GFLOP/s; {time.perf_counter() - started:.0f} s in all")
    return 0


def write(rows: list[dict], by_chunk: dict, started_on: dict, complete: bool, ceiling: float) -> None:
    # how busy the machine was is in machine_at_start and load_average_1m_at_end (benchlib.write)
    benchlib.write("episodes", {"complete": complete, "conv_ceiling_gflops": ceiling, "rows": rows,
                                "finetune_5w1s_peak_rss_mb_by_chunk": by_chunk},
                   "python " + " ".join(sys.argv), started_on)


if __name__ == "__main__":
    # Run as the module "episodes" (bench/ is on sys.path): the pretrain cache fingerprints a
    # strategy's module by name, and "__main__" has none to find.
    import episodes

    sys.exit(episodes.main())
