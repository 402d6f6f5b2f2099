"""Suites are TOML data files: pairs of datasets, seeds, budgets, strategies, hyperparameters.

    name = "quickstart"
    citation = "@misc{...}"         # optional, here, in a [model] and in a dataset table: BibTeX, and
    licence = "CC-BY-4.0"           # an SPDX id or free text (benchmark.suite.credits; transferbench cite)
    protocol = "transfer"           # or "episodic"
    seeds = [0, 1, 2]
    budgets = [1, 5, "all"]         # labelled target examples per class (shots when episodic)
    input = { channels = 1, size = [16, 16] }

    [[pairs]]
    name = "digits→rotated"
    source = { provider = "sklearn-digits", split = "train[:50%]" }
    target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test",
               shifts = [{ rotate = 90 }] }

    [hparams."*"]                   # every strategy that has the hyperparameter ...
    batch_size = 32

    [hparams.finetune]              # ... unless its own table (or "finetune:variant"'s) says otherwise
    adapt_steps = 50

    assets = ["elpv"]               # optional: files from assets.toml the providers read (transferbench fetch)

    [model]                         # optional, here or in a pair: the model to start from
    provider = "torchvision"        # (see benchmark/models); with a model, a pair's source is
    name = "resnet18"               # optional and its input defaults to what the weights expect
    weights = "IMAGENET1K_V1"

A relative path is relative to the suite file; a dataset's ``root`` is under the data root, and so is
any other path that begins with "{data_root}/" (``benchmark.suite.paths`` holds the rule).
Every error names the file (and line where it can) and the key at fault (``benchmark.suite.check``).
"""

import re
import tomllib
from pathlib import Path

from benchmark.data.providers import DatasetSpec, InputSpec
from benchmark.errors import SuiteError, did_you_mean
from benchmark.estimators.suite import parse as parse_estimators
from benchmark.selection.config import parse_search, parse_selection
from benchmark.suite.check import SuiteChecker, is_count, parse_assets, parse_budgets
from benchmark.suite import credits
from benchmark.suite.spec import PAIR_KEYS, SOURCE_KEYS, SUITE_KEYS, TARGET_KEYS, TASK_PROTOCOLS, Pair, Suite
from benchmark.suite.user_file import read_text


def load_suite(path, assets_manifest: Path | None = None) -> Suite:
    """Read and validate a suite file; its ``assets`` are checked against ``assets_manifest``
    (default: ``benchmark.assets.manifest.default_path()``)."""
    path = Path(path)
    text = read_text(path, "suite file", SuiteError, suffix=".toml")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        raise SuiteError(f"{path}:{line.group(1) if line else '?'}: not valid TOML: {error}") from None
    check = SuiteChecker(path, text)
    check.keys(raw, SUITE_KEYS, "the suite")
    for required in ("name", "pairs"):
        if required not in raw:
            check.fail(f"missing required key '{required}'")
    protocol = raw.get("protocol", "transfer")
    if protocol not in TASK_PROTOCOLS:
        check.fail(f"protocol must be one of {TASK_PROTOCOLS}, got '{protocol}'{did_you_mean(protocol, TASK_PROTOCOLS)}",
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
            source=DatasetSpec(**check.dataset(table["source"], f"{where}.source", SOURCE_KEYS))
            if "source" in table else None,
            target=DatasetSpec(**target),
            target_test=DatasetSpec(**{**target, "split": test_split, "stands_in_for": test_note}),
            input=check.input(table.get("input"), f"{where}.input", suite_input, model=model is not None),
            ways=ways, queries=int(table.get("queries", 15)), notes=table.get("notes", ""),
            model=model, input_keys=frozenset(raw.get("input", {})) | frozenset(table.get("input", {})),
            credits=credits.unique([credits.of_model(table.get("model", raw.get("model")), check.fail),
                                    *(credits.of_dataset(table[side], check.fail)
                                      for side in ("source", "target") if side in table)]),
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
    for name in hparams:  # a variant's table without its entry would never run (benchmark.suite.check)
        if ":" in name and name not in (strategies or ()):
            check.fail(f'[hparams."{name}"] sets a variant the suite does not run: add "{name}" to strategies',
                       f"hparams.{name}")
    selection = parse_selection(raw.get("selection"), check)
    if selection.searches and protocol != "transfer":
        check.fail(f"[selection] protocol '{selection.protocol}' needs the transfer protocol", "selection")
    episodes = raw.get("episodes", 600)
    if not is_count(episodes):
        check.fail(f"episodes must be a positive integer, got {episodes!r}", "episodes")
    estimators, estimator_options = parse_estimators(raw, check)
    return Suite(
        name=raw["name"], path=path, protocol=protocol, pairs=tuple(pairs), seeds=tuple(seeds),
        estimators=estimators, estimator_options=estimator_options,
        budgets=parse_budgets(raw.get("budgets", ["all"]), protocol, check),
        strategies=tuple(strategies) if strategies else None, listed=tuple(strategies) if strategies else None,
        hparams=hparams, credit=credits.parse(raw, f"suite {raw['name']}", check.fail),
        episodes=episodes, description=raw.get("description", ""), notes=raw.get("notes", ""),
        selection=selection, search=parse_search(raw.get("search"), check),
        assets=parse_assets(raw.get("assets", []), check, assets_manifest),
    )
