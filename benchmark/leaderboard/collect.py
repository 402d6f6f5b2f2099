"""Records → cells: the latest record of each run, grouped by strategy variant, pair and budget.

A *variant* is one strategy at one plugin version with one set of hyperparameters, on one
setup: the protocol's settings (episodes, ways, queries) and the data it saw (fingerprints).
Records of different variants are never averaged together: each becomes its own row,
labelled by what differs (``finetune (adapt_steps=5)``, ``finetune (episodes=200)``,
``finetune (data version 2)``), with a warning.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from benchmark import records
from benchmark.errors import TransferbenchError, did_you_mean
from benchmark.leaderboard.costs import record_costs
from benchmark.leaderboard.selected import ORACLE, protocol_of, search_cost, searched_hparams

TRANSDUCTIVE = "transductive"
SOURCE_TRAINING_DEFAULT = "full"  # records from before the hyperparameter trained the whole model on the source
REQUIRED = frozenset({"strategy", "pair", "hparams", "seed", "budget", "status"})


class LeaderboardError(TransferbenchError):
    """Records that cannot be rendered, or options that select nothing."""


class Variant(NamedTuple):  # a tuple, so that hashing 100,000 of them stays cheap
    strategy: str
    dist: str
    version: str
    hparams: str    # JSON with sorted keys (a selected row: what the search started from)
    label: str = ""  # the row label, unique across variants
    model: str = ""  # records.model_key: the model the cells started from ("" = the strategy's own backbone)
    selection: str = "fixed"  # the model-selection protocol of its records (benchmark.selection)
    setup: str = ""  # setup_labels: the protocol settings or data where they differ between records ("" = same)
    transductive: bool = False  # scores queries jointly (Strategy.transductive): ranked only among its kind

    @property
    def oracle(self) -> bool:
        return self.selection == ORACLE


@dataclass
class Runs:
    """The latest records of one variant × pair × budget, keyed by seed."""

    values: dict = field(default_factory=dict)     # seed -> metric value (ok records)
    episodes: dict = field(default_factory=dict)   # seed -> [E] per-episode values, where recorded
    stored_ci: dict = field(default_factory=dict)  # seed -> (low, high, n, method) the record's CI over episodes
    adapt_s: list = field(default_factory=list)    # ok records' adaptation seconds (None: not recorded)
    pretrain_s: dict = field(default_factory=dict)  # pretrained state id -> its pretraining seconds (leaderboard.costs)
    failed: int = 0
    skipped: int = 0
    trials: int = 0          # trials behind the ok records (0: nothing was searched)
    search_wall_s: float = 0.0
    reused_from: set = field(default_factory=set)      # strategies whose head ok records reused (adapt_notes)
    source_training: set = field(default_factory=set)  # ok records' hparams["source_training"] (absent: "full")


@dataclass
class Cells:
    runs: dict             # (label, pair, budget) -> Runs
    variants: dict         # label -> Variant, in first-seen order
    pairs: list            # in first-seen order (the suite's order)
    budgets: list          # ascending, "all" last
    used: list             # the latest records that fed the cells
    superseded: int        # older records of the same run (e.g. failures a rerun replaced)
    warnings: list
    trials: int = 0        # trial records of hyperparameter searches, not runs themselves


def budget_order(budget: str):
    return (1, 0) if budget == "all" else (0, int(budget))


def hparams_json(hparams: dict, memo: dict) -> str:
    """records.hparams_key(hparams), remembered per distinct set: a suite has few, records many.

    Keyed by repr, which tells 1, 1.0 and True apart (and 0.0 from -0.0) as JSON does;
    == and hash do not, and would merge cells that records.cell_key keeps apart.
    """
    key = repr(hparams)
    if key not in memo:
        memo[key] = records.hparams_key(hparams)
    return memo[key]


def variant_of(record: dict, memo: dict | None = None, setups: dict | None = None) -> Variant:
    plugin = record.get("plugin") or {}
    setup = setups.get((record["pair"], records.setup_key(record)), "") if setups else ""
    return Variant(record["strategy"], plugin.get("dist", "unknown"), str(plugin.get("version", "unknown")),
                   hparams_json(searched_hparams(record), {} if memo is None else memo),
                   model=records.model_key(record), selection=protocol_of(record), setup=setup,
                   transductive=bool(record.get("transductive")))


def _settings_of(protocol_key: str) -> dict:
    """records.protocol_settings_key back to {"protocol": ..., "episodes": ..., ...}; unrecorded ones say so."""
    protocol, settings = protocol_key.split(" ", 1)
    settings = json.loads(settings)
    return {"protocol": protocol, **(settings if isinstance(settings, dict) else
                                     {k: records.UNRECORDED for k in ("episodes", "ways", "queries")})}


def setup_labels(all_records: list[dict]) -> dict:
    """{(pair, records.setup_key): label part} for the setups that differ within some pair; else empty.

    Protocol settings that differ within any pair are named in every row (``episodes=5`` /
    ``episodes=200``), so a row holds one setting across its columns. Data are per pair: the data
    first recorded for a pair are its row's, later different data ``data version 2``, 3, ...
    """
    by_pair: dict = defaultdict(dict)  # pair -> {setup key: None}, in first-seen order
    for record in all_records:
        by_pair[record.get("pair")].setdefault(records.setup_key(record))  # checked by collect
    varying = []
    for setups in by_pair.values():
        settings = [_settings_of(protocol) for protocol, _ in setups]
        varying += [k for k in settings[0] if len({json.dumps(s.get(k)) for s in settings}) > 1 and k not in varying]
    labels = {}
    for pair, setups in by_pair.items():
        data_versions = list(dict.fromkeys(data for _, data in setups))
        if not varying and len(data_versions) == 1:
            continue
        for protocol, data in setups:
            settings = _settings_of(protocol)
            parts = [f"{k} {records.UNRECORDED}" if settings.get(k) == records.UNRECORDED else f"{k}={settings.get(k)}"
                     for k in varying]
            version = data_versions.index(data)
            labels[(pair, (protocol, data))] = ", ".join(parts + ([f"data version {version + 1}"] if version else []))
    return labels


def run_key(record: dict, variant: Variant) -> tuple:
    """What identifies one run: records.cell_key's fields (the hyperparameters inside the variant)
    plus the plugin version that produced it. Takes the variant so hparams are dumped once per record."""
    return record["pair"], variant, record["seed"], str(record["budget"])


def check(record: dict, where: str, number: int, metric: str) -> None:
    if not REQUIRED <= record.keys():
        raise LeaderboardError(f"{where} (record {number}): a record lacks {', '.join(sorted(REQUIRED - record.keys()))}")
    where = f"{where} (record {number})"
    if record["schema"] > records.SCHEMA:
        raise LeaderboardError(f"{where}: schema {record['schema']} was written by a newer transferbench "
                               f"(this one reads schema ≤ {records.SCHEMA})")
    if record["status"] != "ok":
        return
    scored = (record.get("metrics") or {}).get(metric)
    if scored is None:
        raise LeaderboardError(f"{where}: the ok record of {record['strategy']} / {record['pair']} / seed "
                               f"{record['seed']} has no metric '{metric}'; it has "
                               f"{', '.join(record.get('metrics') or {}) or 'none'}")
    if scored.get("ci95") and not scored.get("ci"):  # a CI is shown with its method, never a guessed one
        raise LeaderboardError(f"{where}: the '{metric}' of {record['strategy']} / {record['pair']} / seed "
                               f"{record['seed']} has a ci95 but no 'ci' naming its method")


def shown(params: dict, key: str) -> str:
    """One hyperparameter as a label shows it; a missing one (an older plugin had none) is not null."""
    return f"{key}={json.dumps(params[key])}" if key in params else f"{key} absent"


def label_variants(variants: list[Variant]) -> tuple[list[Variant], list[str]]:
    """Give each variant a unique row label; warn about every strategy split into several rows."""
    by_strategy = defaultdict(list)
    for variant in variants:
        by_strategy[variant.strategy].append(variant)
    labelled, warnings = {}, []
    for strategy, group in by_strategy.items():
        if len(group) == 1:
            marks = [ORACLE] * group[0].oracle + [TRANSDUCTIVE] * group[0].transductive
            labelled[group[0]] = f"{strategy} ({', '.join(marks)})" if marks else strategy
            continue
        params = [json.loads(v.hparams) for v in group]
        differing = sorted({k for p in params for k in p if len({shown(q, k) for q in params}) > 1})
        versions_differ = len({(v.dist, v.version) for v in group}) > 1
        models_differ = len({v.model for v in group}) > 1  # two checkpoints are never one row
        protocols_differ = len({v.selection for v in group}) > 1
        setups_differ = len({v.setup for v in group}) > 1  # protocol settings or data: never one row
        for variant, p in zip(group, params):
            parts = ([f"{variant.dist} {variant.version}"] if versions_differ else []) + \
                    ([f"model {variant.model or 'own backbone'}"] if models_differ else []) + \
                    ([variant.selection] if protocols_differ or variant.oracle else []) + \
                    ([variant.setup or "data version 1"] if setups_differ else []) + \
                    ([TRANSDUCTIVE] if variant.transductive else []) + \
                    [shown(p, k) for k in differing]
            labelled[variant] = f"{strategy} ({', '.join(parts)})"
        what = "plugin versions, hyperparameter settings, protocol settings or data" if setups_differ else \
            "plugin versions or hyperparameter settings"
        warnings.append(f"strategy '{strategy}' has records from {len(group)} {what}; they are separate rows, "
                        f"never averaged: {'; '.join(labelled[v] for v in group)}")
    return [v._replace(label=labelled[v]) for v in variants], warnings


def note_start(cell: Runs, record: dict) -> None:
    """What the leaderboard needs to compare a cell with the model it started from (summary.start_row):
    the strategy whose model and head it took on as is, and how that model was trained on the source."""
    notes = record.get("adapt_notes") or {}
    if notes.get("head") == "reuse" and notes.get("starts_from"):  # a new head starts elsewhere: not comparable
        cell.reused_from.add(notes["starts_from"])
    cell.source_training.add((record.get("hparams") or {}).get("source_training", SOURCE_TRAINING_DEFAULT))


def collect(all_records: list[dict], metric: str, where: str, strategies=None, budgets=None, seeds=None) -> Cells:
    """Group the latest record of every run; ``strategies`` / ``budgets`` / ``seeds`` keep only those (None = all)."""
    latest, memo, trials, estimates = {}, {}, 0, 0
    setups = setup_labels(all_records)
    for number, record in enumerate(all_records, start=1):
        check(record, where, number, metric)
        if record["status"] == "trial":  # a search's own record: its cost is on the selected cell's record
            trials += 1
            continue
        if record["status"] == "estimate":  # an estimator's score, not a strategy's run (leaderboard.transferability)
            estimates += 1
            continue
        variant = variant_of(record, memo, setups)
        latest[run_key(record, variant)] = (variant, record)  # a later record of a run supersedes the earlier
    chosen = list(latest.values())
    for wanted, key in ((strategies, "strategy"), (budgets, "budget"), (seeds, "seed")):
        if wanted is None:
            continue
        present, wanted = {str(r[key]) for _, r in chosen}, {str(w) for w in wanted}
        missing = sorted(wanted - present)
        if missing:
            raise LeaderboardError(f"{where}: no record has {key} '{missing[0]}'{did_you_mean(missing[0], present)}; "
                                   f"recorded: {', '.join(sorted(present))}")
        chosen = [(v, r) for v, r in chosen if str(r[key]) in wanted]

    variants, warnings = label_variants(list(dict.fromkeys(v for v, _ in chosen)))
    label = {v._replace(label=""): v.label for v in variants}
    runs = defaultdict(Runs)
    for variant, record in chosen:
        cell = runs[(label[variant], record["pair"], str(record["budget"]))]
        if record["status"] == "ok":
            scored = record["metrics"][metric]
            cell.values[record["seed"]] = float(scored["mean"])
            adapt_s, state = record_costs(record)
            cell.adapt_s.append(adapt_s)
            if state is not None:
                cell.pretrain_s[state[0]] = state[1]
            searched, seconds = search_cost(record)
            cell.trials, cell.search_wall_s = cell.trials + searched, cell.search_wall_s + seconds
            note_start(cell, record)
            if scored.get("ci95"):
                cell.stored_ci[record["seed"]] = (*map(float, scored["ci95"]), int(scored.get("n") or 0),
                                                  scored["ci"])
            per_episode = (record.get("per_episode") or {}).get(metric)
            if per_episode:
                cell.episodes[record["seed"]] = np.asarray(per_episode, dtype=float)
        elif record["status"] == "skipped":
            cell.skipped += 1
        else:
            cell.failed += 1
    used = [r for _, r in chosen]
    return Cells(dict(runs), {v.label: v for v in variants}, list(dict.fromkeys(r["pair"] for r in used)),
                 sorted({str(r["budget"]) for r in used}, key=budget_order), used,
                 len(all_records) - trials - estimates - len(latest), warnings, trials)
