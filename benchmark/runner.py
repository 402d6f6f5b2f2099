"""The runner: every strategy × pair × seed × budget cell not yet recorded, scored and appended.

    for strategy, pair, seed (and budget, for task-shaped pretraining):
        s = Strategy(**hparams); s.pretrain(source, ctx)      # once per group of cells
        for budget: for task in tasks(pair, budget, seed):     # 1 task, or E episodes
            predictor = s.adapt(task.support, ctx)
            metrics(predictor(task.query_inputs), task.query_labels)
        append one record per cell

Strategies are called directly, not through hooks, so an exception becomes a
``failed`` record and the suite goes on.
"""

import json
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
from tqdm.auto import tqdm

from benchmark import metrics as metric_fns
from benchmark import protocol, records, stats
from benchmark.data import LabelledData
from benchmark.datasets import DATASET_CACHE_DIR, DatasetLoader
from benchmark.errors import SuiteError, did_you_mean
from benchmark.strategy import Context, TaskSpec
from benchmark.suite import Pair, Suite, budget_label

PREDICT_BATCH = 1024  # query rows per predictor call; bounds memory on large test splits


@dataclass
class PreparedPair:
    """A pair's datasets as strategies see them, loaded once per run."""

    pair: Pair
    source: LabelledData
    pool: LabelledData      # labelled target examples: budgets or episodes are drawn from it
    test: LabelledData      # transfer: the target test split; episodic: the pool itself
    pool_index: protocol.ClassIndex
    fingerprints: dict

    def task_spec(self, protocol_name: str, budget) -> TaskSpec:
        n_way = self.pair.ways if protocol_name == "episodic" else self.pool.num_classes
        return TaskSpec(protocol_name, self.pair.input.shape, self.source.classes, self.pool.classes, n_way, budget)


@dataclass
class Summary:
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    already: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def prepare_pairs(suite: Suite, loader: DatasetLoader) -> dict[str, PreparedPair]:
    """Load every pair before any training, so missing data or a bad budget fails in seconds."""
    for pair in suite.pairs:  # first only look for every file, so missing data fails before anything is read
        sides = {"source": pair.source, "target": pair.target}
        if suite.protocol == "transfer":
            sides["target test"] = pair.target_test
        for side, spec in sides.items():
            loader.check(spec, f"{suite.path}: pair '{pair.name}' {side}")
    prepared = {}
    for pair in suite.pairs:
        where = f"{suite.path}: pair '{pair.name}'"
        source, source_fp = loader.load(pair.source, pair.input, f"{where} source")
        pool, pool_fp = loader.load(pair.target, pair.input, f"{where} target")
        test, test_fp = (pool, pool_fp) if suite.protocol == "episodic" else \
            loader.load(pair.target_test, pair.input, f"{where} target test")
        index = protocol.ClassIndex(pool)
        fewest = index.min_count()
        largest_budget = max((b for b in suite.budgets if b is not None), default=0)
        needed = largest_budget + (pair.queries if suite.protocol == "episodic" else 0)
        if needed > fewest:
            raise SuiteError(f"{where}: budget {largest_budget}{' + ' + str(pair.queries) + ' queries' if suite.protocol == 'episodic' else ''}"
                             f" needs {needed} examples per class but the target pool has only {fewest} in its smallest class")
        if suite.protocol == "episodic" and pair.ways > pool.num_classes:
            raise SuiteError(f"{where}: {pair.ways}-way episodes but the target pool has {pool.num_classes} classes")
        prepared[pair.name] = PreparedPair(pair, source, pool, test, index,
                                           {"source": source_fp, "target": pool_fp, "target_test": test_fp})
    return prepared


def resolve_strategies(suite: Suite, registry) -> list:
    names = suite.strategies or sorted(registry.strategies)
    chosen = [registry.strategy(name) for name in names]
    for name, overrides in suite.hparams.items():
        if name not in registry.strategies:
            raise SuiteError(f"{suite.path}: [hparams.{name}] names no installed strategy"
                             f"{did_you_mean(name, registry.strategies)}")
        known = registry.strategies[name].cls.param_names()
        for key in overrides:
            if key not in known:
                raise SuiteError(f"{suite.path}: [hparams.{name}] has unknown hyperparameter '{key}'"
                                 f"{did_you_mean(key, known)}; it has {', '.join(known)}")
    return chosen


def predict(predictor, inputs: torch.Tensor, n_classes: int, device) -> torch.Tensor:
    """Scores [N, n_classes] on CPU, computed in batches without gradients; checked for shape and NaN."""
    with torch.no_grad():
        scores = torch.cat([predictor(inputs[i:i + PREDICT_BATCH].to(device)).detach().float().cpu()
                            for i in range(0, len(inputs), PREDICT_BATCH)])
    if scores.shape != (len(inputs), n_classes):
        raise ValueError(f"predictor returned scores of shape {tuple(scores.shape)}, "
                         f"expected {(len(inputs), n_classes)}")
    if not torch.isfinite(scores).all():
        raise ValueError("predictor returned NaN or infinite scores")
    return scores


def summarise(per_task: list[dict], protocol_name: str) -> dict:
    """Per-cell metrics: the single task's value, or the mean over episodes with a normal CI."""
    summary = {}
    for name in metric_fns.METRICS:
        values = [task[name] for task in per_task]
        if len(values) == 1:
            summary[name] = {"mean": values[0], "ci95": None, "n": 1, "ci": None}
        else:
            mean, low, high = stats.mean_ci_normal(values)
            summary[name] = {"mean": mean, "ci95": [low, high], "n": len(values), "ci": stats.NORMAL_OVER_EPISODES}
    return summary


class Runner:
    def __init__(self, suite: Suite, registry, out_dir: Path, data_root: Path, device="cpu",
                 show_progress: bool = True, log=print):
        self.suite, self.registry = suite, registry
        self.records_path = Path(out_dir) / suite.name / "records.jsonl"
        self.cache_dir = Path(out_dir) / suite.name / ".cache"
        self.loader = DatasetLoader(registry, data_root, cache_dir=Path(out_dir) / DATASET_CACHE_DIR)
        self.device = torch.device(device)
        self.show_progress, self.log = show_progress, log

    def run(self) -> Summary:
        strategies = resolve_strategies(self.suite, self.registry)
        pairs = prepare_pairs(self.suite, self.loader)
        done = {records.cell_key(r) for r in records.read(self.records_path) if r.get("status") != "failed"}
        plan, already = self.plan(strategies, pairs, done)
        summary = Summary(already=already)
        bar = tqdm(total=sum(len(g[3]) for g in plan), unit="cell", disable=not self.show_progress,
                   desc=self.suite.name, dynamic_ncols=True)
        with bar:
            for provided, prepared, seed, budgets in plan:
                self.run_group(provided, prepared, seed, budgets, summary, bar)
        return summary

    def hparams(self, provided) -> dict:
        return provided.cls(**self.suite.hparams.get(provided.name, {})).get_params()

    def plan(self, strategies, pairs, done) -> list:
        """Groups (strategy, pair, seed, [budgets]) that share one pretrain, minus recorded cells;
        and how many cells were already recorded."""
        groups, already = [], 0
        for provided in strategies:
            hparams = json.dumps(self.hparams(provided), sort_keys=True)
            for prepared in pairs.values():
                for seed in self.suite.seeds:
                    todo = [b for b in self.suite.budgets
                            if (prepared.pair.name, provided.name, hparams, seed, budget_label(b)) not in done]
                    already += len(self.suite.budgets) - len(todo)
                    if not todo:
                        continue
                    if provided.cls.pretrain_depends_on_task:
                        groups.extend((provided, prepared, seed, [b]) for b in todo)
                    else:
                        groups.append((provided, prepared, seed, todo))
        return groups, already

    def record(self, provided, prepared: PreparedPair, seed, budget, **fields) -> dict:
        pair = prepared.pair
        return {
            "schema": records.SCHEMA, "suite": self.suite.name, "protocol": self.suite.protocol,
            "pair": pair.name, "source": pair.source.describe(), "target": pair.target.describe(),
            "target_test": pair.target_test.describe() if self.suite.protocol == "transfer" else None,
            "strategy": provided.name,
            "plugin": {"name": provided.plugin, "dist": provided.dist, "version": provided.version},
            "hparams": self.hparams(provided), "seed": seed, "budget": budget_label(budget),
            "n_way": prepared.task_spec(self.suite.protocol, budget).n_way,
            "fingerprints": prepared.fingerprints, "device": str(self.device),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **records.environment(), **fields,
        }

    def write(self, record: dict, summary: Summary, bar) -> None:
        records.append(self.records_path, record)
        bar.update(1)
        cell = f"{record['strategy']} / {record['pair']} / seed {record['seed']} / budget {record['budget']}"
        if record["status"] == "ok":
            summary.ok += 1
        elif record["status"] == "skipped":
            summary.skipped += 1
        else:
            summary.failed.append(f"{cell}: {record['error']['type']}: {record['error']['message']}")
            bar.write(f"FAILED {summary.failed[-1]}")

    def run_group(self, provided, prepared: PreparedPair, seed: int, budgets: list, summary: Summary, bar):
        suite = self.suite
        spec = prepared.task_spec(suite.protocol, budgets[0])
        reason = provided.cls.supports(spec)
        if reason:
            for budget in budgets:
                self.write(self.record(provided, prepared, seed, budget, status="skipped", reason=reason,
                                       metrics=None, error=None, wall_s=0.0), summary, bar)
            return
        started = time.perf_counter()
        try:
            strategy = provided.cls(**suite.hparams.get(provided.name, {}))
            ctx = Context(self.device, seed, torch.Generator().manual_seed(seed), spec, self.cache_dir)
            torch.manual_seed(seed)  # layer initialisers draw from torch's global generator
            strategy.pretrain(prepared.source.to(self.device), ctx)
        except Exception as error:
            failure = error_fields(error)
            for budget in budgets:
                self.write(self.record(provided, prepared, seed, budget, status="failed", metrics=None,
                                       wall_s=time.perf_counter() - started, **failure), summary, bar)
            return
        pretrain_s = time.perf_counter() - started
        for budget in budgets:
            self.write(self.run_cell(provided, strategy, ctx, prepared, seed, budget, pretrain_s / len(budgets)),
                       summary, bar)

    def tasks(self, prepared: PreparedPair, seed: int, budget):
        if self.suite.protocol == "episodic":
            return protocol.episodic_tasks(prepared.pool, prepared.pool_index, prepared.pair.ways, budget,
                                           prepared.pair.queries, self.suite.episodes, seed, prepared.pair.name)
        return protocol.transfer_tasks(prepared.pool, prepared.pool_index, prepared.test, budget, seed,
                                       prepared.pair.name)

    def run_cell(self, provided, strategy, ctx: Context, prepared: PreparedPair, seed, budget, pretrain_share):
        started = time.perf_counter()
        spec = prepared.task_spec(self.suite.protocol, budget)
        per_task = []
        try:
            for task in self.tasks(prepared, seed, budget):
                task_ctx = ctx.fork(task.seed, spec)
                torch.manual_seed(task.seed)
                predictor = strategy.adapt(task.support.to(self.device), task_ctx)
                scores = predict(predictor, task.query_inputs, task.support.num_classes, self.device)
                per_task.append(metric_fns.score(scores.argmax(dim=1), task.query_labels, task.support.num_classes))
        except Exception as error:
            return self.record(provided, prepared, seed, budget, status="failed", metrics=None,
                               wall_s=time.perf_counter() - started + pretrain_share, **error_fields(error))
        fields = {"status": "ok", "error": None, "metrics": summarise(per_task, self.suite.protocol),
                  "wall_s": round(time.perf_counter() - started + pretrain_share, 4),
                  "pretrain_s": round(pretrain_share, 4)}
        if len(per_task) > 1:
            fields["per_episode"] = {"accuracy": [round(t["accuracy"], 6) for t in per_task]}
        return self.record(provided, prepared, seed, budget, **fields)


def error_fields(error: BaseException) -> dict:
    tail = traceback.format_exception(error)[-6:]
    return {"error": {"type": type(error).__name__, "message": str(error).splitlines()[0] if str(error) else "",
                      "traceback": "".join(tail)[-2000:]}}
