"""What a suite is: pairs of datasets, seeds, budgets, strategies, hyperparameters, a selection
protocol, as plain frozen data (``benchmark.suite.load`` reads one from TOML; ``check`` checks it).
The keys below are everything a suite file may say.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmark.data.providers import DatasetSpec, InputSpec
from benchmark.errors import SuiteError
from benchmark.models.base import ModelSpec
from benchmark.selection.config import Selection, check_selection
from benchmark.suite.credits import Credit, unique

TASK_PROTOCOLS = ("transfer", "episodic")  # how a cell is scored: one transfer task, or N-way K-shot episodes
SUITE_KEYS = {"name", "description", "protocol", "seeds", "budgets", "strategies", "episodes",
              "input", "hparams", "pairs", "notes", "model", "selection", "search", "allow_overlap", "assets",
              "estimators", "estimator_options", "citation", "licence"}
PAIR_KEYS = {"name", "source", "target", "input", "ways", "queries", "notes", "model", "allow_overlap"}
DATASET_KEYS = {"provider", "name", "split", "root", "options", "classes", "rename", "shifts", "stands_in_for"}
CREDIT_KEYS = {"citation", "licence"}  # the suite, a [model] and a dataset table may state them (benchmark.suite.credits)
SOURCE_KEYS = DATASET_KEYS | CREDIT_KEYS
TARGET_KEYS = SOURCE_KEYS | {"test_split", "test_stands_in_for"}
SUITE_WIDE = "*"  # [hparams."*"]: values for every strategy of the suite that has the hyperparameter
INPUT_KEYS = {"channels", "size", "mean", "std", "modality", "max_tokens"}


@dataclass(frozen=True)
class Pair:
    name: str
    source: DatasetSpec | None  # the source train split; None: start from the model's checkpoint alone
    target: DatasetSpec         # the labelled target pool: budgets / episodes are drawn from it
    target_test: DatasetSpec    # transfer protocol: the split every prediction is scored on
    input: InputSpec
    ways: int | None = None     # episodic: classes per episode
    queries: int = 15           # episodic: query examples per class
    notes: str = ""
    model: ModelSpec | None = None        # None: each strategy builds its own backbone, as before
    input_keys: frozenset = frozenset()   # input keys the suite set itself (the rest follow the model)
    allow_overlap: bool = False           # score on examples also learned from, on purpose (benchmark.data.overlap)
    credits: tuple[Credit, ...] = ()      # what its model and dataset tables say to cite, and their licences


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    protocol: str
    pairs: tuple[Pair, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    budgets: tuple[int | None, ...] = (None,)  # None = all labelled target examples
    strategies: tuple[str, ...] | None = None  # None = every installed strategy
    # {strategy: {hyperparameter: value}}; "*": every strategy that has it (benchmark.suite.check.strategy_overrides)
    hparams: dict = field(default_factory=dict)
    episodes: int = 600
    description: str = ""
    notes: str = ""
    selection: Selection = Selection()  # how hyperparameters are chosen (benchmark.selection)
    search: dict = field(default_factory=dict)  # {strategy: {hyperparameter: distribution or fixed value}}
    assets: tuple[str, ...] = ()  # names in assets.toml: verified under the data root before any data is read
    estimators: tuple[str, ...] = ()  # transferability estimators scoring each pair's model (benchmark.estimators)
    estimator_options: dict = field(default_factory=dict)  # {"name" or "name:variant": {option: value}}
    listed: tuple[str, ...] | None = None  # the file's own strategies, kept when --strategies replaces them
    credit: Credit | None = None  # the suite's own citation and licence (top-level keys)

    @property
    def credits(self) -> tuple[Credit, ...]:
        """Every citation and licence the file states: the suite's own, then its pairs' models' and datasets'."""
        return unique([self.credit, *(c for pair in self.pairs for c in pair.credits)])

    def with_overrides(self, seeds=None, strategies=None, episodes=None, selection=None, trials=None) -> "Suite":
        for option, value in (("--seeds", seeds), ("--episodes", episodes)):
            if value is not None and value < 1:
                raise SuiteError(f"{option} must be at least 1, got {value}")
        try:
            check_selection(selection, trials)
        except ValueError as error:
            raise SuiteError(str(error)) from None
        chosen = replace(self.selection, protocol=selection or self.selection.protocol,
                         trials=trials or self.selection.trials)
        if chosen.searches and self.protocol != "transfer":
            raise SuiteError(f"{self.path}: selection protocol '{chosen.protocol}' needs the transfer protocol")
        # Records of another protocol than the file's go to their own results directory: never mixed.
        name = self.name if chosen.protocol == self.selection.protocol else f"{self.name}-{chosen.protocol}"
        return replace(self, name=name, selection=chosen,
                       seeds=tuple(range(seeds)) if seeds is not None else self.seeds,
                       strategies=tuple(strategies) if strategies is not None else self.strategies,
                       episodes=episodes if episodes is not None else self.episodes)


def budget_label(budget: int | None) -> str:
    return "all" if budget is None else str(budget)
