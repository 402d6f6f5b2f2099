"""Suites are TOML data files: pairs of datasets, seeds, budgets, strategies, hyperparameters.

    name = "quickstart"
    protocol = "transfer"           # or "episodic"
    seeds = [0, 1, 2]
    budgets = [1, 5, "all"]         # labelled target examples per class (shots when episodic)
    input = { channels = 1, size = [16, 16] }

    [[pairs]]
    name = "digits→rotated"
    source = { provider = "sklearn-digits", split = "train[:50%]" }
    target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test",
               shifts = [{ rotate = 90 }] }

    [hparams.finetune]
    adapt_steps = 50

    [model]                         # optional, here or in a pair: the model to start from
    provider = "torchvision"        # (see benchmark/models); with a model, a pair's source is
    name = "resnet18"               # optional and its input defaults to what the weights expect
    weights = "IMAGENET1K_V1"

Every error names the file (and line where it can) and the key at fault.
"""

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmark.datasets import MODALITIES, DatasetSpec, InputSpec, parse_split
from benchmark.errors import DataError, SuiteError, did_you_mean
from benchmark.input_check import input_problem
from benchmark.models.base import ModelSpec
from benchmark.selection.config import Selection, check_selection, parse_search, parse_selection

PROTOCOLS = ("transfer", "episodic")
SUITE_KEYS = {"name", "description", "protocol", "seeds", "budgets", "strategies", "episodes",
              "input", "hparams", "pairs", "notes", "model", "selection", "search", "allow_overlap"}
PAIR_KEYS = {"name", "source", "target", "input", "ways", "queries", "notes", "model", "allow_overlap"}
DATASET_KEYS = {"provider", "name", "split", "root", "options", "classes", "rename", "shifts", "stands_in_for"}
TARGET_KEYS = DATASET_KEYS | {"test_split", "test_stands_in_for"}
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
    allow_overlap: bool = False           # score on examples also learned from, on purpose (benchmark.overlap)


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    protocol: str
    pairs: tuple[Pair, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    budgets: tuple[int | None, ...] = (None,)  # None = all labelled target examples
    strategies: tuple[str, ...] | None = None  # None = every installed strategy
    hparams: dict = field(default_factory=dict)  # {strategy: {hyperparameter: value}}
    episodes: int = 600
    description: str = ""
    notes: str = ""
    selection: Selection = Selection()  # how hyperparameters are chosen (benchmark.selection)
    search: dict = field(default_factory=dict)  # {strategy: {hyperparameter: distribution or fixed value}}

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


class _Checker:
    """Validates one parsed file, raising errors that carry the file and line."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    def fail(self, message: str, key: str | None = None):
        line = self.line_of(key) if key else None
        where = f"{self.path}:{line}" if line else str(self.path)
        raise SuiteError(f"{where}: {message}")

    def line_of(self, key: str) -> int | None:
        pattern = re.compile(rf'(^|[{{,\s]){re.escape(key)}\s*=|^\s*\[+\s*{re.escape(key)}[\].]')
        for number, line in enumerate(self.lines, start=1):
            if pattern.search(line):
                return number
        return None

    def keys(self, table, allowed: set, where: str):
        if not isinstance(table, dict):
            self.fail(f"{where} must be a table, got {type(table).__name__}")
        for key in table:
            if key not in allowed:
                self.fail(f"unknown key '{key}' in {where}{did_you_mean(key, allowed)}", key)

    def dataset(self, table, where: str, allowed: set) -> dict:
        self.keys(table, allowed, where)
        if "provider" not in table:
            self.fail(f"{where} needs a 'provider'")
        fields = {k: table[k] for k in DATASET_KEYS if k in table}
        if "split" in fields:
            self.split(fields["split"], f"{where}.split", "split")
        if "classes" in fields:
            fields["classes"] = tuple(str(c) for c in fields["classes"])
        if "rename" in fields:
            if not isinstance(fields["rename"], dict):
                self.fail(f"{where}.rename must be a table like {{ automobile = \"car\" }}", "rename")
            fields["rename"] = {str(k): str(v) for k, v in fields["rename"].items()}
        if "shifts" in fields:
            if not all(isinstance(s, dict) for s in fields["shifts"]):
                self.fail(f"{where}.shifts must be a list of tables like {{ rotate = 90 }}", "shifts")
            fields["shifts"] = tuple(fields["shifts"])
        return fields

    def split(self, value, where: str, key: str) -> str:
        """A split name, with a slice that parses: a bad slice fails here, with its line, not at load time."""
        if not isinstance(value, str):
            self.fail(f"{where} must be a string like \"train\" or \"train[:50%]\", got {value!r}", key)
        try:
            parse_split(value)
        except DataError as error:
            self.fail(f"{where}: {error}", key)
        return value

    def input(self, table, where: str, default: InputSpec, model: bool = False) -> InputSpec:
        """The input table over ``default``; checked here unless a ``model`` completes it (then resolve does)."""
        if table is None:
            table, where = {}, "input"  # the suite's own table, not checked there when another pair has a model
        self.keys(table, INPUT_KEYS, where)
        size = table.get("size", default.size)
        size = (size, size) if isinstance(size, int) and not isinstance(size, bool) else \
            tuple(size) if isinstance(size, (list, tuple)) else size
        mean, std = (tuple(v) if isinstance(v, list) else v  # per-channel lists stay hashable
                     for v in (table.get("mean", default.mean), table.get("std", default.std)))
        modality = table.get("modality", default.modality)
        if modality not in MODALITIES:
            self.fail(f"{where}.modality must be one of {MODALITIES}, got {modality!r}"
                      f"{did_you_mean(str(modality), MODALITIES)}", "modality")
        max_tokens = table.get("max_tokens", default.max_tokens)
        if not is_count(max_tokens):
            self.fail(f"{where}.max_tokens must be an integer ≥ 1, got {max_tokens!r}", "max_tokens")
        spec = InputSpec(channels=table.get("channels", default.channels), size=size, mean=mean, std=std,
                         modality=modality, max_tokens=max_tokens)
        if not model:  # with a model, what the table leaves out follows the weights: checked once resolved
            problem = input_problem(spec)
            if problem:
                key, message = problem
                self.fail(f"{where}.{message}", key if key in table else "input")
        return spec

    def model(self, table, where: str, index: int) -> ModelSpec | None:
        """A [model] table; ``index`` counts model tables in file order, to find its line."""
        if table is None:
            return None
        if not isinstance(table, dict) or "provider" not in table:
            self.fail(f"{where} must be a table with a 'provider', e.g. {{ provider = \"torchvision\", "
                      f"name = \"resnet18\", weights = \"IMAGENET1K_V1\" }}", "model")
        headers = [n for n, line in enumerate(self.lines, start=1)
                   if re.search(r'^\s*\[\s*(pairs\.)?model\s*\]|(^|[{,\s])model\s*=', line)]
        line = headers[index] if index < len(headers) else None
        options = {k: v for k, v in table.items() if k not in ("provider", "name", "weights")}
        return ModelSpec(str(table["provider"]), table.get("name"), table.get("weights"), options,
                         base_dir=str(self.path.parent.resolve()),
                         where=f"{self.path}:{line}" if line else f"{self.path}: {where}")


def is_count(value, least: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def parse_budgets(values, protocol: str, check: _Checker) -> tuple[int | None, ...]:
    if not (isinstance(values, list) and values):
        check.fail("budgets must be a non-empty list", "budgets")
    budgets = []
    for value in values:
        if value == "all" and protocol == "episodic":  # an episode's support holds k shots, never the whole pool
            check.fail("budgets of an episodic suite are shots per class; \"all\" has no meaning there", "budgets")
        elif value == "all":
            budgets.append(None)
        elif is_count(value):
            budgets.append(value)
        else:
            check.fail(f"budgets must be positive integers or \"all\", got {value!r}", "budgets")
        if budgets.count(budgets[-1]) > 1:  # a repeated budget would run its cells twice and keep one
            check.fail(f"budget {value!r} is listed twice", "budgets")
    return tuple(budgets)


def load_suite(path) -> Suite:
    """Read and validate a suite file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"{path}: no such suite file") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        raise SuiteError(f"{path}:{line.group(1) if line else '?'}: not valid TOML: {error}") from None
    check = _Checker(path, text)
    check.keys(raw, SUITE_KEYS, "the suite")
    for required in ("name", "pairs"):
        if required not in raw:
            check.fail(f"missing required key '{required}'")
    protocol = raw.get("protocol", "transfer")
    if protocol not in PROTOCOLS:
        check.fail(f"protocol must be one of {PROTOCOLS}, got '{protocol}'{did_you_mean(protocol, PROTOCOLS)}",
                   "protocol")
    suite_model = check.model(raw.get("model"), "model", 0)
    any_model = suite_model is not None or any(isinstance(t, dict) and "model" in t for t in raw["pairs"])
    suite_input = check.input(raw.get("input"), "input", InputSpec(), model=any_model)
    models_seen = 1 if suite_model else 0
    pairs, names = [], set()
    for index, table in enumerate(raw["pairs"]):
        where = f"pairs[{index}]"
        check.keys(table, PAIR_KEYS, where)
        model = check.model(table.get("model"), f"{where}.model", models_seen) or suite_model
        models_seen += "model" in table
        for side in ("source", "target") if model is None else ("target",):
            if side not in table:
                check.fail(f"{where} needs a '{side}' dataset table"
                           f"{' (or a [model] to start from)' if side == 'source' else ''}")
        name = table.get("name", f"pair{index}")
        if name in names:
            check.fail(f"two pairs are named '{name}'", "name")
        names.add(name)
        target = check.dataset(table["target"], f"{where}.target", TARGET_KEYS)
        test_split = check.split(table["target"].get("test_split", "test"), f"{where}.target.test_split", "test_split")
        test_note = table["target"].get("test_stands_in_for")
        ways = table.get("ways")
        if protocol == "episodic" and not is_count(ways, least=2):
            check.fail(f"{where}: the episodic protocol needs 'ways' (an integer ≥ 2)", "ways")
        if not is_count(table.get("queries", 15)):
            check.fail(f"{where}: queries must be a positive integer (query examples per class)", "queries")
        allow_overlap = table.get("allow_overlap", raw.get("allow_overlap", False))
        if not isinstance(allow_overlap, bool):
            check.fail(f"{where}: allow_overlap must be true or false, got {allow_overlap!r}", "allow_overlap")
        pairs.append(Pair(
            name=name, allow_overlap=allow_overlap,
            source=DatasetSpec(**check.dataset(table["source"], f"{where}.source", DATASET_KEYS))
            if "source" in table else None,
            target=DatasetSpec(**target),
            target_test=DatasetSpec(**{**target, "split": test_split, "stands_in_for": test_note}),
            input=check.input(table.get("input"), f"{where}.input", suite_input, model=model is not None),
            ways=ways, queries=int(table.get("queries", 15)), notes=table.get("notes", ""),
            model=model, input_keys=frozenset(raw.get("input", {})) | frozenset(table.get("input", {})),
        ))
    hparams = raw.get("hparams", {})
    if not (isinstance(hparams, dict) and all(isinstance(v, dict) for v in hparams.values())):
        check.fail("hparams must hold one table per strategy, e.g. [hparams.finetune]", "hparams")
    seeds = raw.get("seeds", [0, 1, 2])
    if not (isinstance(seeds, list) and seeds and all(is_count(s, least=0) for s in seeds)):
        check.fail("seeds must be a non-empty list of integers ≥ 0", "seeds")
    if len(set(seeds)) < len(seeds):
        check.fail("a seed is listed twice", "seeds")
    strategies = raw.get("strategies")
    if strategies is not None and not (isinstance(strategies, list) and all(isinstance(n, str) for n in strategies)):
        check.fail('strategies must be a list of names, e.g. ["finetune", "maml"]', "strategies")
    selection = parse_selection(raw.get("selection"), check)
    if selection.searches and protocol != "transfer":
        check.fail(f"[selection] protocol '{selection.protocol}' needs the transfer protocol", "selection")
    episodes = raw.get("episodes", 600)
    if not is_count(episodes):
        check.fail(f"episodes must be a positive integer, got {episodes!r}", "episodes")
    return Suite(
        name=raw["name"], path=path, protocol=protocol, pairs=tuple(pairs), seeds=tuple(seeds),
        budgets=parse_budgets(raw.get("budgets", ["all"]), protocol, check),
        strategies=tuple(strategies) if strategies else None, hparams=hparams,
        episodes=episodes, description=raw.get("description", ""), notes=raw.get("notes", ""),
        selection=selection, search=parse_search(raw.get("search"), check),
    )
