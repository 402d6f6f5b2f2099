"""The runner: every strategy × pair × seed × budget cell not yet recorded, scored and appended.

    plan: one job per strategy, pair, seed (and budget, for task-shaped pretraining),
          minus the cells records.jsonl already holds
    for job in jobs, as the executor has room (in-process, or Ray tasks):
        pretrain once, or restore it from the pretrain cache     (benchmark.run.execute)
        for budget: for task in tasks(pair, budget, seed): adapt, predict, score
        -> records, appended by this driver alone, one locked + fsynced line per cell

Strategies are called directly, not through hooks, so an exception, bad scores or a
timeout become a ``failed`` record and the suite goes on. A cell that kills its process does
too: in a worker process (``--executor process``) at once; in-process, after it has done so
``max_deaths`` times (``benchmark.run.journal``). A second runner on the same
results directory takes other jobs (``benchmark.run.claims``) and never duplicates a line.
"""

import itertools
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from benchmark import records
from benchmark.data.cache import default_dir as default_dataset_cache
from benchmark.data.loader import DatasetLoader
from benchmark.errors import TransferbenchError
from benchmark.estimators.run import run_estimates
from benchmark.estimators.suite import check as check_estimators
from benchmark.models.resolve import model_identity, resolve_models
from benchmark.run.cell import STRATEGY_FAILURES
from benchmark.run.claims import Claims
from benchmark.run.executors import check_executor, make_executor
from benchmark.run.jobs import Job, Settings, setup_fields
from benchmark.run.journal import Journal, ProcessDied, cell_id, died_message
from benchmark.run.prepare import PreparedPair, prepare_pairs
from benchmark.run.pretrain_cache import caches_state, key_of, key_payload
from benchmark.run.progress import Progress
from benchmark.run.recording import Outcome, cell_record, failed_records
from benchmark.selection import plan as selection
from benchmark.suite.check import check_assets, check_providers, check_search, check_strategies, \
    strategy_overrides, suite_wide
from benchmark.suite.credits import licences_by_pair
from benchmark.suite.spec import Suite

PRETRAIN_CACHE_DIR = ".pretrain-cache"  # under the results directory: shared by every suite written there
CLAIM_POLL_S = 0.5  # how often a runner looks again at jobs another runner holds
MAX_DEATHS = 2  # in-process: a cell that took the process down this often is recorded as failed


@dataclass
class Summary:
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    already: int = 0
    trials: int = 0   # trial records of hyperparameter searches (benchmark.selection)
    estimates: int = 0  # estimate records: an estimator's score of a pair's model (benchmark.estimators)
    skip_notes: dict[str, int] = field(default_factory=dict)  # "strategy on pair: reason" -> cells

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def model_recipe(cls, model, chosen) -> dict:
    """The pair's model family's recipe (``ModelProvider.recipe``) for the hyperparameters ``cls`` has
    that are not ``chosen`` (set by the suite, or searched); {} for a pair without a model."""
    recipe = getattr(model.provider, "recipe", {}) if model is not None else {}
    names = cls.param_names()
    return {key: value for key, value in recipe.items() if key in names and key not in chosen}


def recipe_note(recipe: dict, model) -> dict | None:
    """What records say of the values a recipe set: {"model_recipe": {name: value}, "recipe_source": ...}."""
    if not recipe:
        return None
    return {"model_recipe": dict(recipe), "recipe_source": getattr(model.provider, "recipe_source", "")}


def origin_notes(recipe: dict, model, wide: dict) -> dict | None:
    """Where values of a record's hparams came from besides the strategy's defaults and its own [hparams]
    tables, for its ``selection``: ``recipe_note`` and {"suite_wide": {name: value}} of [hparams."*"]."""
    notes = {**(recipe_note(recipe, model) or {}), **({"suite_wide": dict(wide)} if wide else {})}
    return notes or None


class Runner:
    """The driver: plans jobs, hands them to an executor, and alone appends their records."""

    def __init__(self, suite: Suite, registry, out_dir: Path, data_root: Path, device="cpu",
                 show_progress: bool = True, log=print, executor: str = "local", workers: int | None = None,
                 threads: int | None = None, cell_timeout: float | None = None, pretrain_cache: bool = True,
                 pretrain_cache_dir: Path | None = None, dataset_cache_dir: Path | None = None,
                 max_deaths: int = MAX_DEATHS, retries: int | None = None):
        self.suite, self.registry = suite, registry
        out_dir = Path(out_dir).absolute()  # workers may run elsewhere: no path relative to our cwd
        self.records_path = out_dir / suite.name / "records.jsonl"
        # Shared by every results directory (benchmark.data.cache): entries are keyed by content.
        self.loader = DatasetLoader(registry, data_root, cache_dir=default_dataset_cache(dataset_cache_dir))
        self.device = torch.device(device)
        self.show_progress, self.log = show_progress, log
        self.executor, self.workers = executor, workers
        self.recorded_trials = {}  # trials recorded before this run, read by run() (benchmark.selection)
        if cell_timeout is not None and cell_timeout <= 0:
            raise TransferbenchError(f"--cell-timeout must be a positive number of seconds, got {cell_timeout:g}")
        self.max_deaths, self.retries = max_deaths, retries
        if retries is not None and retries < 0:
            raise TransferbenchError(f"--retries must be 0 or more, got {retries}")
        for option, value in (("--workers", workers), ("--threads", threads), ("--max-deaths", max_deaths)):
            if value is not None and value < 1:
                raise TransferbenchError(f"{option} must be at least 1, got {value}")
        check_executor(executor, workers)
        cache_dir = Path(pretrain_cache_dir or out_dir / PRETRAIN_CACHE_DIR).absolute() if pretrain_cache else None
        self.settings = Settings(suite.name, suite.protocol, suite.episodes, str(self.device),
                                 scratch_dir=out_dir / suite.name / ".cache", pretrain_cache=cache_dir,
                                 cell_timeout=cell_timeout, threads=threads)

    def run(self) -> Summary:
        with Progress(self.suite.name, enabled=self.show_progress) as bar:
            return self._run(bar)

    def pending(self) -> tuple[list[tuple[Job, object, str]], int]:
        """The cells a run would run now, as (job, budget, why), and how many are recorded already, with
        the current code's cell identities (``run --dry-run``). ``why`` is "" for a cell never recorded,
        else what differs from its record (``records.identity_difference``). Loads the data; trains nothing."""
        strategies, pairs, log = self._prepare(Progress(self.suite.name, enabled=False))
        jobs, broken, already = self.plan(strategies, pairs, log.done)
        recorded = {}
        for record in records.read(self.records_path):
            if record.get("status") not in ("trial", "estimate"):
                recorded[(record["pair"], record["strategy"], record["seed"], record["budget"])] = record
        cells = []
        for job in jobs + [job for job, _ in broken]:
            for budget in job.budgets:
                planned = job.identity(budget)
                earlier = recorded.get((job.pair, job.provided.name, job.seed, planned["budget"]))
                cells.append((job, budget, records.identity_difference(planned, earlier) if earlier else ""))
        return cells, already

    def _prepare(self, bar: Progress) -> tuple[list, dict[str, PreparedPair], records.Log]:
        """The suite's assets verified, the suite checked against the plugins, its models resolved, its pairs
        loaded, its records read."""
        # A results folder that cannot be written stops the run before hours of training, not after.
        records.check_writable(self.records_path)
        # Before anything else reads the data root: a missing or altered asset stops the run in one line.
        self.settings = replace(self.settings, assets=check_assets(self.suite, self.loader.data_root),
                                licences=licences_by_pair(self.suite))
        strategies = check_strategies(self.suite, self.registry)
        check_estimators(self.suite, self.registry)
        check_providers(self.suite, self.registry)
        check_search(self.suite, self.registry)
        # Checkpoints are checked before any data is read.
        self.suite, models = resolve_models(self.suite, self.registry, self.loader.data_root)
        bar.phase("data: loading and preprocessing the pairs")
        pairs = selection.prepare_pairs(self.suite.selection, prepare_pairs(self.suite, self.loader, models))
        log = records.Log(self.records_path)
        log.refresh()
        self.recorded_trials = selection.recorded_trials(self.records_path) if self.suite.selection.searches else {}
        return strategies, pairs, log

    def _run(self, bar: Progress) -> Summary:
        strategies, pairs, log = self._prepare(bar)
        jobs, broken, already = self.plan(strategies, pairs, log.done)
        summary = Summary(already=already)
        bar.set_total(sum(len(job.budgets) for job in jobs + [job for job, _ in broken]))
        for job, error in broken:
            for record in failed_records(job, pairs[job.pair], self.settings, error):
                self.write(log, record, summary, bar)
        run_estimates(self.suite, self.registry, self.settings, pairs, log, summary, bar.phase)  # in the driver
        claims = Claims(self.records_path.parent / ".claims")
        # In-process, a cell that kills the process kills the run: the journal lets a rerun get past it.
        journal = Journal(self.records_path.parent, claims) if self.executor == "local" else None
        if journal is not None:
            jobs = self.past_deaths(jobs, journal.deaths(), pairs, log, summary, bar)
        try:  # local and process executors show each job's phase (pretrain fraction, cell); Ray's run elsewhere
            with make_executor(self.executor, pairs, self.settings, self.workers, progress=bar,
                               journal=journal, retries=self.retries) as executor:
                self.drive(deque(jobs), pairs, log, claims, executor, summary, bar)
        finally:
            claims.release_all()
        return summary

    def plan(self, strategies, pairs, done) -> tuple[list[Job], list[tuple[Job, BaseException]], int]:
        """Jobs (cells sharing one pretrain) minus recorded cells; jobs whose strategy could not
        even be planned (its constructor, ``pretrain_identity`` or ``pretrain_task_key`` raised),
        each with its error; and how many cells were recorded already."""
        jobs, broken, already = [], [], 0

        def add(job: Job, error=None):
            nonlocal already
            remaining = job.remaining(done)
            already += len(job.budgets) - (len(remaining.budgets) if remaining else 0)
            if remaining and error:
                broken.append((remaining, error))
            elif remaining:
                jobs.append(remaining)

        for provided, (name, prepared) in itertools.product(strategies, pairs.items()):
            overrides = strategy_overrides(self.suite, provided)
            searched = set(provided.cls.search_space) if self.suite.selection.searches else set()
            recipe = model_recipe(provided.cls, prepared.model, overrides.keys() | searched)  # what the suite leaves
            wide = {k: v for k, v in suite_wide(self.suite, provided).items() if k not in searched}
            try:
                strategy = provided.cls(**{**recipe, **overrides})
                hparams, identity = strategy.get_params(), strategy.pretrain_identity()
                # Budgets share one pretrain unless it reads the task's shape (e.g. MAML's episodes).
                groups = self.budget_groups(strategy, prepared)
            except STRATEGY_FAILURES as error:  # plugin code: it fails its own cells, not the suite
                for seed in self.suite.seeds:
                    add(Job(provided, dict(overrides), name, seed, self.suite.budgets, (), None,
                            model_identity(prepared), setup=setup_fields(self.settings, prepared)), error)
                continue
            for seed in self.suite.seeds:
                setup = setup_fields(self.settings, prepared)
                plan = selection.job_plan(self.suite, provided, hparams, name, seed, self.recorded_trials,
                                          records.setup_key(setup))
                for task_key, budgets in groups.items():
                    add(Job(provided, hparams, name, seed, budgets, task_key,
                            self.pretrain_key(provided, identity, prepared, seed, budgets[0], task_key),
                            model=model_identity(prepared), selection=plan, setup=setup,
                            recipe=origin_notes(recipe, prepared.model, wide)))
        return jobs, broken, already

    def past_deaths(self, jobs: list[Job], deaths: dict, pairs, log, summary: Summary, bar) -> list[Job]:
        """``jobs`` without the cells that took the process down ``max_deaths`` times (``deaths``:
        ``Journal.deaths()``), each of those recorded as failed; a cell that died fewer times runs
        again, with a note saying so."""
        kept = []
        for job in jobs:
            alive = []
            for budget in job.budgets:
                died = deaths.get(cell_id(job.cell_key(budget)), [])
                if len(died) >= self.max_deaths:
                    error = ProcessDied(died_message(died, self.max_deaths))
                    for record in failed_records(replace(job, budgets=(budget,)), pairs[job.pair], self.settings,
                                                 error):
                        self.write(log, record, summary, bar)
                    continue
                if died:
                    bar.write(f"note: {job.describe(budget)} took the process down {len(died)} time(s) before "
                              f"({died[-1].describe()}); running it again, recorded as failed after "
                              f"{self.max_deaths} (--max-deaths)")
                alive.append(budget)
            if alive:
                kept.append(job if len(alive) == len(job.budgets) else replace(job, budgets=tuple(alive)))
        return kept

    def budget_groups(self, strategy, prepared: PreparedPair) -> dict[tuple, tuple]:
        """The suite's budgets grouped by what of the task the strategy's pretrain reads."""
        groups = {}
        for budget in self.suite.budgets:
            task = prepared.task_spec(self.suite.protocol, budget)
            groups.setdefault(strategy.pretrain_task_key(task), []).append(budget)
        return {key: tuple(budgets) for key, budgets in groups.items()}

    def pretrain_key(self, provided, identity, prepared: PreparedPair, seed, budget, task_key) -> dict | None:
        if self.settings.pretrain_cache is None or not caches_state(provided.cls):
            return None
        return key_payload(provided, identity, prepared.fingerprints["source"], seed,
                           prepared.task_spec(self.suite.protocol, budget), self.device, task_key)

    def drive(self, pending: deque, pairs, log, claims: Claims, executor, summary: Summary, bar) -> None:
        """Submit jobs while the executor has room; write each record as it comes back.

        A job waits while another runner holds its claim, or while a running job computes
        the same pretrained state (once that is stored, the waiting job restores it).
        """
        computing = {}  # job -> its pretrain cache key, for jobs running now
        while pending or executor.busy():
            for _ in range(len(pending)):
                if not executor.has_room():
                    break
                job = pending.popleft()
                key = key_of(job.pretrain_key) if job.pretrain_key else None
                if (key and key in computing.values()) or not claims.acquire(job):
                    pending.append(job)
                    continue
                # Only now that we hold it: the runner that held it before may have just recorded it.
                remaining = self.still_to_do(job, log, summary, bar)
                runnable = remaining and self.supported(remaining, pairs[job.pair], log, summary, bar)
                if not runnable:
                    claims.release(job)
                    continue
                claims.rename(job, runnable)
                computing[runnable] = key
                executor.submit(runnable)
            if executor.busy():
                for job, produced, done in executor.finished():
                    for record in produced:
                        self.write(log, record, summary, bar)
                    if done:
                        claims.release(job)
                        computing.pop(job, None)
            elif pending:
                time.sleep(CLAIM_POLL_S)  # every job left is another runner's: wait until it records or dies

    def supported(self, job: Job, prepared: PreparedPair, log, summary: Summary, bar) -> Job | None:
        """``job`` cut to the budgets its strategy supports; the other cells recorded as skipped
        (or failed, when ``supports`` itself raises). None when no cell is left to run."""
        runnable = []
        for budget in job.budgets:
            try:
                reason = job.provided.cls.supports(prepared.task_spec(self.suite.protocol, budget))
            except STRATEGY_FAILURES as error:
                produced = failed_records(replace(job, budgets=(budget,)), prepared, self.settings, error)
            else:
                if not reason:
                    runnable.append(budget)
                    continue
                produced = [cell_record(self.settings, job, prepared, budget, Outcome("skipped", reason=reason))]
            for record in produced:
                self.write(log, record, summary, bar)
        if not runnable:
            return None
        return job if len(runnable) == len(job.budgets) else replace(job, budgets=tuple(runnable))

    def still_to_do(self, job: Job, log, summary: Summary, bar) -> Job | None:
        """``job`` minus the cells another runner recorded since we planned."""
        log.refresh()
        remaining = job.remaining(log.done)
        dropped = len(job.budgets) - (len(remaining.budgets) if remaining else 0)
        summary.already += dropped
        bar.update(dropped)
        return remaining

    def write(self, log, record: dict, summary: Summary, bar) -> None:
        bar.update(1)
        if not log.append(record):  # another runner recorded this cell first
            summary.already += 1
            return
        if record["status"] == "ok":
            summary.ok += 1
        elif record["status"] == "trial":
            summary.trials += 1
        elif record["status"] == "skipped":
            summary.skipped += 1
            note = f"{record['strategy']} on {record['pair']}: {record['reason']}"
            summary.skip_notes[note] = summary.skip_notes.get(note, 0) + 1
        else:
            cell = f"{record['strategy']} / {record['pair']} / seed {record['seed']} / budget {record['budget']}"
            summary.failed.append(f"{cell}: {record['error']['type']}: {record['error']['message']}")
            bar.write(f"FAILED {summary.failed[-1]}")
