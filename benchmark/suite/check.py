"""Every check of a suite, each error one line naming the file (and line where it can) and the key.

    SuiteChecker        the file itself: keys, tables, splits, budgets, inputs (``load_suite`` calls it)
    input_problem       an image input table (also once a model's preprocessing completed it)
    check_strategies    strategy names and [hparams] keys against the installed strategies
    check_providers     every dataset provider a pair names is installed
    check_search        [search.<strategy>] names an installed strategy and its hyperparameters
    check_model_options a [model] table's options against its provider's
    check_pool          a pair's loaded target pool holds its budgets (and episodes), its test split its classes
    parse_assets        the suite's assets are names assets.toml declares
    check_assets        each of them laid out under the data root, unaltered (before any data is read)
"""

import inspect
import re
from dataclasses import replace
from numbers import Real
from pathlib import Path

from benchmark.assets import manifest
from benchmark.assets.verify import verify
from benchmark.data import overlap
from benchmark.data.labelled import LabelledData
from benchmark.data.providers import MODALITIES, InputSpec, parse_split
from benchmark.errors import DataError, PluginError, SuiteError, did_you_mean
from benchmark.models.base import ModelSpec
from benchmark.scoring.tasks import ClassIndex
from benchmark.selection.config import space_for
from benchmark.strategy.base import init_param_names
from benchmark.suite.spec import CREDIT_KEYS, DATASET_KEYS, INPUT_KEYS, SUITE_WIDE, Pair, Suite


class SuiteChecker:
    """Validates one parsed file, raising errors that carry the file and line."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    @classmethod
    def of(cls, suite: Suite) -> "SuiteChecker":
        """A checker of a loaded suite's file, for errors found once the plugins are known."""
        return cls(suite.path, suite.path.read_text(encoding="utf-8") if suite.path.is_file() else "")

    def fail(self, message: str, key: str | None = None, line: int | None = None):
        line = line or (self.line_of(key) if key else None)
        where = f"{self.path}:{line}" if line else str(self.path)
        raise SuiteError(f"{where}: {message}")

    def line_of(self, key: str) -> int | None:
        pattern = re.compile(rf'(^|[{{,\s]){re.escape(key)}\s*=|^\s*\[+\s*{re.escape(key)}[\].]')
        for number, line in enumerate(self.lines, start=1):
            if pattern.search(line):
                return number
        return None

    def line_in_table(self, header: str, key: str) -> int | None:
        """The line of the first ``key =`` after the table header matching the regex ``header`` (e.g.
        [hparams."*"]) and before the next table; None when there is none."""
        start = next((n for n, line in enumerate(self.lines) if re.match(rf"^\s*\[\s*{header}\s*\]", line)), None)
        for number in range(start + 1, len(self.lines)) if start is not None else ():
            if self.lines[number].lstrip().startswith("["):
                return None
            if re.match(rf"^\s*{re.escape(key)}\s*=", self.lines[number]):
                return number + 1
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
        options = {k: v for k, v in table.items() if k not in ("provider", "name", "weights", *CREDIT_KEYS)}
        return ModelSpec(str(table["provider"]), table.get("name"), table.get("weights"), options,
                         base_dir=str(self.path.parent.resolve()),
                         where=f"{self.path}:{line}" if line else f"{self.path}: {where}")


def is_count(value, least: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def parse_budgets(values, protocol: str, check: SuiteChecker) -> tuple[int | None, ...]:
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


CHANNELS = (1, 3)  # what benchmark.data.shifts.to_shape converts between


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def input_problem(spec) -> tuple[str, str] | None:
    """(key at fault, message) for the first problem of an image ``InputSpec``; None when it is valid."""
    if spec.modality != "image":
        return None
    if not (isinstance(spec.channels, int) and not isinstance(spec.channels, bool) and spec.channels in CHANNELS):
        return "channels", f"channels must be 1 or 3, got {spec.channels!r}"
    size = spec.size
    if not (isinstance(size, tuple) and len(size) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in size)):
        return "size", f"size must be [height, width] (integers ≥ 1) or one integer, got {_shown(size)}"
    if (spec.mean is None) != (spec.std is None):
        given, missing = ("mean", "std") if spec.std is None else ("std", "mean")
        return given, f"{given} is set but {missing} is not: standardising needs both"
    for key in ("mean", "std"):
        value = getattr(spec, key)
        if value is None:
            continue
        values = value if isinstance(value, tuple) else (value,)
        if not all(_is_number(v) for v in values) or not values:
            return key, f"{key} must be a number or a list with one number per channel ({spec.channels}), " \
                        f"got {_shown(value)}"
        if isinstance(value, tuple) and len(value) != spec.channels:
            return key, f"{key} has {len(value)} values but the input has {spec.channels} channel" \
                        f"{'s' if spec.channels != 1 else ''}: give one per channel, or one number for all"
        if key == "std" and not all(v > 0 for v in values):
            return key, f"std must be > 0 (inputs are divided by it), got {_shown(value)}"
    return None


def _shown(value) -> str:
    return str(list(value)) if isinstance(value, tuple) else repr(value)


def parse_assets(value, check: SuiteChecker, path: Path | None = None) -> tuple[str, ...]:
    """The suite's ``assets``: a list of names that the manifest at ``path`` (default: assets.toml) declares, each once."""
    if not (isinstance(value, list) and all(isinstance(name, str) for name in value)):
        check.fail('assets must be a list of names from assets.toml, e.g. ["elpv", "efficientnet-lite0"]', "assets")
    if value:
        declared = manifest.load(path)
        for name in value:
            if name not in declared:
                check.fail(f"assets: {path or manifest.default_path()} declares no asset '{name}'"
                           f"{did_you_mean(name, declared)}", "assets")
            if value.count(name) > 1:
                check.fail(f"assets: '{name}' is listed twice", "assets")
    return tuple(value)


def check_assets(suite: Suite, data_root: Path) -> dict | None:
    """Every asset the suite declares is laid out under ``data_root``, every file's sha256 as declared.

    :return: {name: the asset's digest (``Asset.digest``)} for the records; None when it declares none
    :raises MissingAssetError: a file missing, altered or undeclared (names the asset, the file and
        the ``transferbench fetch`` command)
    """
    if not suite.assets:
        return None
    declared = manifest.load()
    used = {}
    for name in suite.assets:
        asset = manifest.named(declared, name)
        verify(asset, data_root)
        used[name] = asset.digest
    return used


def check_strategies(suite: Suite, registry) -> list:
    """The suite's strategies (else every installed one), each installed, and its [hparams] keys theirs.

    An entry "name:variant" runs strategy ``name`` once more, with [hparams."name:variant"] over
    [hparams.name] (e.g. "frozen-feature:head" with source_training = "head"); its records differ
    from the plain entry's by those hyperparameters. [hparams."*"] may set what any strategy of the
    suite has (``strategy_overrides``); a key none of them has is an error.
    """
    check = SuiteChecker.of(suite)
    names = suite.strategies or sorted(registry.strategies)
    try:
        chosen = [replace(registry.strategy(name.partition(":")[0]), variant=name.partition(":")[2])
                  for name in names]
    except PluginError as error:  # the names came from the suite file (the CLI checks --strategies itself)
        raise SuiteError(f"{suite.path}: {error}") from None
    for name, overrides in suite.hparams.items():
        if name == SUITE_WIDE:
            check_suite_wide(check, overrides, chosen, suite.listed or (), registry)
            continue
        base = name.partition(":")[0]
        if base not in registry.strategies:
            check.fail(f"[hparams.{name}] names no installed strategy{registry.strategy_hint(base)}",
                       f"hparams.{name}")
        known = registry.strategies[base].cls.param_names()
        for key in overrides:
            if key not in known:
                check.fail(f"[hparams.{name}] has unknown hyperparameter '{key}'{did_you_mean(key, known)}; "
                           f"it has {', '.join(known)}", key)
    return chosen


def check_suite_wide(check: SuiteChecker, overrides: dict, chosen: list, listed, registry) -> None:
    """Every key of [hparams."*"] is a hyperparameter of some strategy of the suite: those that run, and
    those its file lists (``--strategies`` may run a few, and the table is still the file's)."""
    classes = [provided.cls for provided in chosen] + \
        [registry.strategies[n.partition(":")[0]].cls for n in listed if n.partition(":")[0] in registry.strategies]
    known = sorted({key for cls in classes for key in cls.param_names()})
    for key in overrides:
        if key not in known:
            close = did_you_mean(key, known)
            check.fail(f'[hparams."{SUITE_WIDE}"] sets \'{key}\', which none of the suite\'s strategies has'
                       f"{close or '; theirs: ' + ', '.join(known)}",
                       line=check.line_in_table(r'hparams\s*\.\s*"\*"', key) or check.line_of('hparams."*"'))


def strategy_overrides(suite: Suite, provided) -> dict:
    """The suite's hyperparameters for one entry (a strategy, or "name:variant"), later tables winning:

        [hparams."*"]              # every strategy of the suite that has the hyperparameter
        adapt_steps = 30
        batch_size = 16

        [hparams.finetune]         # this strategy, over "*"
        adapt_steps = 50

        [hparams."finetune:head"]  # this entry of the suite's strategies, over both
        source_training = "head"

    A "*" key a strategy does not have is simply not its (source-only has no adapt_steps); a key that
    no strategy of the suite has is an error naming the closest one. A search's draw and a fixed
    [search] value win over all of these (benchmark.selection); a model family's recipe fills only what
    none of them sets (a "*" value counts as set by the suite). Records hold every resolved value in
    ``hparams``, and ``selection.suite_wide`` names the values the "*" table set.
    """
    return {**suite_wide(suite, provided), **own_overrides(suite, provided)}


def own_overrides(suite: Suite, provided) -> dict:
    """[hparams.name], then [hparams."name:variant"] over them."""
    overrides = dict(suite.hparams.get(provided.name, {}))
    if provided.variant:
        overrides.update(suite.hparams.get(f"{provided.name}:{provided.variant}", {}))
    return overrides


def suite_wide(suite: Suite, provided) -> dict:
    """The [hparams."*"] values an entry takes: its own hyperparameters that its own tables leave unset."""
    own, names = own_overrides(suite, provided), provided.cls.param_names()
    return {key: value for key, value in suite.hparams.get(SUITE_WIDE, {}).items() if key in names and key not in own}


def check_providers(suite: Suite, registry) -> None:
    """Every dataset provider a pair names is installed, checked before any data is loaded."""
    for pair in suite.pairs:
        for side, spec in (("source", pair.source), ("target", pair.target)):
            if spec is None:  # no source: the pair starts from its model
                continue
            try:
                registry.dataset(spec.provider)
            except PluginError as error:
                raise SuiteError(f"{suite.path}: pair '{pair.name}' {side}: {error}") from None


def check_search(suite, registry) -> None:
    """Every [search.<strategy>] names an installed strategy and its hyperparameters (SuiteError, file:line)."""
    if not suite.search:
        return
    check = SuiteChecker.of(suite)
    for name, overrides in suite.search.items():
        if name not in registry.strategies:
            check.fail(f"[search.{name}] names no installed strategy{registry.strategy_hint(name)}",
                       f"search.{name}")
        try:
            space_for(registry.strategies[name].cls, overrides)
        except ValueError as error:
            check.fail(str(error), next(iter(k for k in overrides if k not in
                                             registry.strategies[name].cls.param_names()), None))


def check_model_options(spec: ModelSpec, cls) -> None:
    """A [model] table's options are ``cls``'s keyword parameters, and every required one is given."""
    where = spec.where or "[model]"
    known = [k for k in init_param_names(cls) if k not in ("name", "weights", "base_dir")]
    unknown = [k for k in spec.options if k not in known]
    if unknown:
        raise SuiteError(f"{where}: model provider '{spec.provider}' has no option '{unknown[0]}'"
                         f"{did_you_mean(unknown[0], known)}; it takes name, weights"
                         f"{', ' + ', '.join(known) if known else ''}")
    required = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.default is inspect.Parameter.empty and p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]
    absent = [name for name in required if name not in ("name", "weights") and name not in spec.options
              or name == "name" and spec.name is None]
    if absent:
        raise SuiteError(f"{where}: model provider '{spec.provider}' needs '{absent[0]}'")


def check_pool(suite: Suite, pair: Pair, source: LabelledData | None, pool: LabelledData, test: LabelledData,
               index: ClassIndex) -> dict[str, int]:
    """A pair's loaded data can be scored as the suite asks: the target pool holds the largest budget
    (and the queries) in every class, the test split has the pool's classes, episodes have enough
    classes, and no scored example is training data unless the pair allows it.

    :return: the overlap counts (``benchmark.data.overlap.find``) the pair allows; ``{}`` without any.
    """
    where = f"{suite.path}: pair '{pair.name}'"
    fewest = index.min_count()
    largest_budget = max((b for b in suite.budgets if b is not None), default=0)
    needed = largest_budget + (pair.queries if suite.protocol == "episodic" else 0)
    if needed > fewest:
        raise SuiteError(f"{where}: budget {largest_budget}{' + ' + str(pair.queries) + ' queries' if suite.protocol == 'episodic' else ''}"
                         f" needs {needed} examples per class but the target pool has only {fewest} in its smallest class")
    if test.classes != pool.classes:  # predictions index the pool's classes, scores the test's labels
        raise SuiteError(f"{where}: the target test split's classes differ from the target pool's "
                         f"({describe_class_difference(pool.classes, test.classes)}); scores would be wrong")
    if suite.protocol == "episodic" and pair.ways > pool.num_classes:
        raise SuiteError(f"{where}: {pair.ways}-way episodes but the target pool has {pool.num_classes} classes")
    found = overlap.find(suite.protocol, source, pool, test)
    if found and not pair.allow_overlap:
        raise SuiteError(f"{where}: scored examples that are also training data, compared by content "
                         f"({overlap.describe(found)}); nothing was trained. Choose disjoint splits, or set "
                         f"allow_overlap = true in the pair to score on them on purpose (records and tables say so)")
    return found


def describe_class_difference(pool: tuple, test: tuple) -> str:
    only_pool, only_test = [c for c in pool if c not in test], [c for c in test if c not in pool]
    if not only_pool and not only_test:
        return "same classes, other order"
    return "; ".join(f"only in the {side}: {', '.join(map(str, names[:5]))}{' ...' if len(names) > 5 else ''}"
                     for side, names in (("pool", only_pool), ("test split", only_test)) if names)
