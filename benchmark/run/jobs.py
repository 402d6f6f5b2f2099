"""What the runner plans and hands an executor: the run's ``Settings`` and its ``Job``s.

A job is the cells that share one pretrained strategy: one strategy, pair and seed, and the
budgets whose pretraining reads the same of the task. Both are plain data, cheap to send to a
Ray worker.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmark import records
from benchmark.discovery.registry import Provided
from benchmark.run.prepare import PreparedPair
from benchmark.selection.plan import Plan
from benchmark.suite.spec import budget_label


@dataclass(frozen=True)
class Settings:
    """What every job of one run shares."""

    suite: str
    protocol: str
    episodes: int
    device: str
    scratch_dir: Path                  # ctx.cache_dir: a strategy's own scratch space
    pretrain_cache: Path | None        # None: pretrain every time
    cell_timeout: float | None = None  # seconds for the pretrain and for each cell; None: no limit
    threads: int | None = None         # torch threads for this job (a Ray worker's budget); None: torch's default
    batched: bool = True               # episodic: hand strategies that implement adapt_episodes chunks of episodes
    episode_chunk: int | None = None   # episodes per chunk; None: as many as benchmark.scoring.episodes' memory bound holds
    assets: dict | None = None         # {name: digest} of the suite's verified assets (records' "assets")
    licences: dict = field(default_factory=dict)  # {pair: {what: licence}} (records' "licences": suite.credits)


@dataclass(frozen=True, eq=False)  # compared by identity: the driver tracks jobs in flight
class Job:
    provided: Provided
    hparams: dict               # the full hyperparameters: defaults and the suite's overrides
    pair: str
    seed: int
    budgets: tuple              # cells of this job, one per budget (None = all)
    task_key: tuple             # what of the task its pretrain reads (Strategy.pretrain_task_key)
    pretrain_key: dict | None   # the pretrain cache's key payload; None: nothing to cache
    model: dict | None = None   # the pair's model identity (records' "model"); None: the strategy's own backbone
    selection: Plan | None = None  # trials pick the hyperparameters (benchmark.selection); None: fixed
    setup: dict = field(default_factory=dict)  # setup_fields(): protocol, its settings, the data's fingerprints
    recipe: dict | None = None  # origin_notes(): values a model family's recipe or [hparams."*"] set (records' selection)

    def identity(self, budget) -> dict:
        """The fields of a cell's record that make its key (``records.cell_key``), before it runs."""
        return {"pair": self.pair, "strategy": self.provided.name, "hparams": self.hparams, "seed": self.seed,
                "budget": budget_label(budget), "model": self.model,
                "selection": {"cell": self.selection.cell} if self.selection else None,
                "plugin": {"dist": self.provided.dist, "version": self.provided.version}, **self.setup}

    def cell_key(self, budget) -> tuple:
        return records.cell_key(self.identity(budget))

    def remaining(self, done: set) -> "Job | None":
        """This job without the cells in ``done``; None when nothing is left."""
        todo = tuple(b for b in self.budgets if self.cell_key(b) not in done)
        return None if not todo else self if todo == self.budgets else replace(self, budgets=todo)

    def describe(self, budget) -> str:
        name = f"{self.provided.name}:{self.provided.variant}" if self.provided.variant else self.provided.name
        return f"{name} / {self.pair} / seed {self.seed} / budget {budget_label(budget)}"


def setup_fields(settings: Settings, prepared: PreparedPair) -> dict:
    """The record fields that say which task a cell's strategy faced (part of records.cell_key):
    the protocol, its settings (episodic: episodes, ways, queries per class) and the data's fingerprints."""
    pair = prepared.pair
    protocol_settings = {"episodes": settings.episodes, "ways": pair.ways, "queries": pair.queries} \
        if settings.protocol == "episodic" else {}
    return {"protocol": settings.protocol, "protocol_settings": protocol_settings,
            "fingerprints": prepared.fingerprints}
