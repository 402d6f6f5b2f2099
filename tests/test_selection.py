"""Hyperparameter selection: which split each protocol reads, resumable trials, suites, head reuse."""

import hashlib
import math
from dataclasses import replace
from pathlib import Path

import optuna.distributions as D
import pytest
import torch

from benchmark import Strategy, records
from benchmark.errors import SuiteError
from benchmark.run.prepare import prepare_pairs
from benchmark.run.runner import Runner
from benchmark.scoring import query_independence
from benchmark.selection import plan as selection_plan
from benchmark.selection.protocols import SELECTION_PROTOCOLS, Evidence, Protocol, evidence_for
from benchmark.suite.check import check_search
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"


def row_hashes(inputs: torch.Tensor) -> set:
    return {hashlib.sha1(row.contiguous().numpy().tobytes()).hexdigest() for row in inputs}


class Spy(Strategy):
    """Scores its own inputs by a trivial rule; remembers every batch its predictors were scored on."""

    name = "spy"
    search_space = {"bias": D.FloatDistribution(0.0, 1.0)}
    seen: list = []  # one entry per predict batch, in call order (a test resets it)
    adapted: list = []
    explode_after = None  # adapt calls before a simulated kill (None: never)

    def __init__(self, bias=0.5):
        self.bias = bias

    def adapt(self, support, ctx):
        if Spy.explode_after is not None and len(Spy.adapted) >= Spy.explode_after:
            raise KeyboardInterrupt  # a kill: stops the run, keeps what was recorded
        Spy.adapted.append(self.bias)
        n_classes, bias = support.num_classes, self.bias

        def predictor(inputs):
            Spy.seen.append(row_hashes(inputs))
            return torch.zeros(len(inputs), n_classes) + torch.arange(n_classes) * bias
        return predictor


def spy_suite(tmp_path, protocol, trials=2, budgets=(5,)) -> object:
    suite = load_suite(TINY)
    return replace(suite, pairs=suite.pairs[:1], seeds=(0,), budgets=budgets, strategies=("spy",),
                   hparams={}).with_overrides(selection=protocol, trials=trials)


def splits(suite, registry, tmp_path) -> dict:
    runner = Runner(suite, registry, tmp_path, tmp_path / "data", show_progress=False)
    prepared = selection_plan.prepare_pairs(suite.selection, prepare_pairs(suite, runner.loader))
    pair = next(iter(prepared.values()))
    return {"source": row_hashes(pair.source.inputs) | row_hashes((pair.validation or pair.source).inputs),
            "target labelled budget": row_hashes(pair.pool.inputs), "target test": row_hashes(pair.test.inputs)}


def which(batch: set, named: dict) -> str:
    found = [name for name, rows in named.items() if batch <= rows]
    assert len(found) == 1, f"a scored batch belongs to {found or 'no split'}"
    return found[0]


@pytest.mark.parametrize("protocol, trial_split, folds", [("source-val", "source", 1),
                                                          ("target-val", "target labelled budget", 5),
                                                          ("oracle", "target test", 1)])
def test_each_protocol_scores_trials_on_its_own_split_and_the_cell_on_the_target_test(
        protocol, trial_split, folds, registry, with_strategies, tmp_path):
    Spy.seen, Spy.adapted = [], []
    suite = spy_suite(tmp_path, protocol)
    registry = with_strategies(registry, Spy)
    summary = Runner(suite, registry, tmp_path, tmp_path / "data", show_progress=False).run()
    assert summary.ok == 1 and summary.trials == 2 and not summary.failed
    named = splits(suite, registry, tmp_path)
    scored = [which(batch, named) for batch in Spy.seen]
    # trials (× folds), then the selected cell, whose first task the runner also checks for query
    # independence: ALONE test queries one at a time and one reordered batch (benchmark.scoring.query_independence)
    assert scored == [trial_split] * (2 * folds) + ["target test"] * (1 + query_independence.ALONE + 1)
    written = records.read(tmp_path / f"tiny-{protocol}" / "records.jsonl")
    assert [r["status"] for r in written] == ["trial", "trial", "ok"]
    final = written[-1]["selection"]
    assert final["protocol"] == protocol and final["trials"] == 2 and final["selected_trial"] in (0, 1)
    assert written[-1]["hparams"] == written[final["selected_trial"]]["hparams"]


def test_no_protocol_but_oracle_is_given_the_target_test_split():
    support = test = object()
    for name, cls in SELECTION_PROTOCOLS.items():
        evidence = evidence_for(cls(), support, None, test)
        assert (evidence.target_test is test) == (name == "oracle")
    with pytest.raises(TypeError, match="only 'oracle' may read the target test split"):
        type("Sneaky", (Protocol,), {"name": "sneaky-val", "reads_target_test": True})
    assert Evidence.__dataclass_fields__["target_test"].default is None


def test_target_val_at_one_shot_says_it_could_not_and_uses_the_defaults(registry, with_strategies, tmp_path):
    Spy.seen, Spy.adapted = [], []
    suite = spy_suite(tmp_path, "target-val", budgets=(1,))
    Runner(suite, with_strategies(registry, Spy), tmp_path, tmp_path / "data", show_progress=False).run()
    (record,) = records.read(tmp_path / "tiny-target-val" / "records.jsonl")
    assert record["status"] == "ok" and record["hparams"]["bias"] == 0.5
    assert record["selection"]["protocol"] == "fixed" and record["selection"]["requested"] == "target-val"
    assert "k = 1" in record["selection"]["reason"]


def test_a_killed_search_resumes_its_trials_and_selects_what_a_clean_run_selects(registry, with_strategies,
                                                                                 tmp_path):
    suite = spy_suite(tmp_path, "source-val", trials=4)
    Spy.seen, Spy.adapted = [], []
    Runner(suite, with_strategies(registry, Spy), tmp_path / "clean", tmp_path / "data", show_progress=False).run()
    clean = records.read(tmp_path / "clean" / "tiny-source-val" / "records.jsonl")

    Spy.seen, Spy.adapted, Spy.explode_after = [], [], 2
    try:
        with pytest.raises(KeyboardInterrupt):
            Runner(suite, with_strategies(registry, Spy), tmp_path / "resumed", tmp_path / "data",
                   show_progress=False).run()
    finally:
        Spy.explode_after = None
    path = tmp_path / "resumed" / "tiny-source-val" / "records.jsonl"
    assert [r["status"] for r in records.read(path)] == ["trial", "trial"]
    Spy.seen, Spy.adapted = [], []
    Runner(suite, with_strategies(registry, Spy), tmp_path / "resumed", tmp_path / "data", show_progress=False).run()
    assert len(Spy.adapted) == 2 + 1  # the two missing trials and the selected cell; no recorded trial again
    resumed = records.read(path)
    assert [r["status"] for r in resumed] == ["trial"] * 4 + ["ok"]
    keep = ("hparams", "trial", "metrics")
    assert [{k: r.get(k) for k in keep} for r in resumed] == [{k: r.get(k) for k in keep} for r in clean]
    assert resumed[-1]["selection"]["selected_trial"] == clean[-1]["selection"]["selected_trial"]


def test_selection_errors_name_the_file_and_line(tmp_path):
    text = TINY.read_text()
    for extra, expected in [('\n[selection]\nprotocol = "orcale"\n', r":\d+: .*oracle"),
                            ('\n[selection]\ntrials = 0\n', r":\d+: \[selection\] trials must be a positive integer"),
                            ('\n[search.finetune]\nadapt_lr = { low = 1.0, high = 0.1 }\n', r":\d+: .*adapt_lr")]:
        path = tmp_path / "bad.toml"
        path.write_text(text + extra)
        with pytest.raises(SuiteError, match=expected):
            load_suite(path)


def test_bad_selection_options_fail_in_one_line_naming_the_option():
    suite = load_suite(TINY)
    with pytest.raises(SuiteError, match=r"^--selection must be one of fixed, source-val, target-val, oracle, "
                                         r"got 'orcale'.*oracle"):
        suite.with_overrides(selection="orcale")
    with pytest.raises(SuiteError, match=r"^--trials must be a positive integer, got 0"):
        suite.with_overrides(selection="oracle", trials=0)
    assert suite.with_overrides(selection="oracle").name == "tiny-oracle"  # never beside the fixed records


def test_a_suite_narrows_a_search_space_and_fixes_a_hyperparameter(registry, tmp_path):
    path = tmp_path / "narrow.toml"
    path.write_text(TINY.read_text() + '\n[selection]\nprotocol = "source-val"\ntrials = 3\n'
                    '[search.finetune]\nadapt_lr = { low = 1e-4, high = 1e-3, log = true }\nprobe_steps = 0\n')
    suite = load_suite(path)
    provided = registry.strategies["finetune"]
    plan = selection_plan.job_plan(suite, provided, provided.cls().get_params(), "p", 0, {})
    assert plan.space["adapt_lr"] == D.FloatDistribution(1e-4, 1e-3, log=True)
    assert "probe_steps" not in plan.space and plan.base["probe_steps"] == 0
    assert "adapt_steps" in plan.space  # the strategy's own entry, not replaced
    path.write_text(path.read_text() + "lr = 3\n")
    with pytest.raises(SuiteError, match=r"narrow.toml:\d+: .*unknown hyperparameter 'lr'"):
        check_search(load_suite(path), registry)


def test_every_strategy_declares_its_search_space_in_optuna_distributions_over_its_own_hyperparameters(registry):
    for name, provided in registry.strategies.items():
        for key, distribution in provided.cls.search_space.items():
            assert key in provided.cls.param_names(), f"{name}: searches '{key}', not a hyperparameter"
            assert isinstance(distribution, D.BaseDistribution), f"{name}: '{key}' is not an optuna distribution"


def selected(strategy, pair, seed, value, protocol, chosen_lr, base=None, trials=8, wall=10.0, **extra):
    """A selected cell's ok record as search.selected_cell writes it, and its trial records."""
    from benchmark.leaderboard import synthetic

    base = base or {"lr": 0.001}
    cell = "selected:" + records.hparams_key({"protocol": protocol, "base": base, "trials": trials})
    selection = {"protocol": protocol, "trials": trials, "sampler": "random", "seed": 0, "cell": cell,
                 "search_wall_s": wall, "selected_trial": 0, **extra}
    made = synthetic.record(strategy, pair, seed, 1, value, hparams={**base, "lr": chosen_lr})
    made["selection"] = selection
    trial_records = []
    for index in range(trials):
        trial = synthetic.record(strategy, pair, seed, 1, None, status="trial", hparams={**base, "lr": index})
        trial.update(selection=selection, trial={"index": index, "score": 0.5})
        trial_records.append(trial)
    return trial_records + [made]


def test_the_leaderboard_shows_the_selected_cell_with_its_protocol_cost_and_oracle_apart(tmp_path):
    from benchmark.leaderboard import load, markdown, synthetic, tidy

    made = []
    for seed in range(3):  # the selected lr differs per seed: still one row
        made += selected("finetune", "a→b", seed, 0.6 + seed / 100, "source-val", 10.0 ** -seed)
        made += selected("target-only", "a→b", seed, 0.5, "source-val", 0.01)
        made += selected("finetune", "a→b", seed, 0.9, "oracle", 0.1)
        made.append(synthetic.record("source-only", "a→b", seed, 1, 0.7,
                                     hparams={"lr": 0.001}) | {"selection": {
                                         "protocol": "fixed", "requested": "source-val", "trials": 0,
                                         "reason": "source-only declares no search space", "cell": "selected:" +
                                         records.hparams_key({"base": {"lr": 0.001}})}})
    synthetic.write(tmp_path / "records.jsonl", made)
    board = load(tmp_path)
    (table,) = board.tables
    assert sorted(table.rows) == ["finetune (oracle)", "finetune (source-val)", "source-only", "target-only"]
    assert math.isnan(table.entries[("finetune (oracle)", "a→b")].rank)
    assert math.isnan(table.mean_rank["finetune (oracle)"]) and table.mean_rank["source-only"] == 1.0
    assert table.entries[("source-only", "a→b")].best  # the oracle's 90% is not "best"
    assert table.search["finetune (source-val)"] == (24, 30.0) and table.search["source-only"] == (0, 0.0)
    text = markdown.render(board)
    assert "Hyperparameters chosen by source-val" in text and "8 trials per strategy × pair × budget × seed" in text
    assert "ORACLE: Hyperparameters chosen by oracle" in text and "never ranked" in text
    assert "3 source-val cells here used the defaults (fixed) instead: source-only declares no search space" in text
    oracle_line = next(line for line in text.splitlines() if line.startswith("| finetune (oracle)"))
    assert "oracle" in oracle_line.split("|")[2] and "24 trials, 30 s" in oracle_line
    frame = tidy.frame(board)
    assert set(frame[frame.variant == "finetune (oracle)"].selection) == {"oracle"}
    assert list(frame[frame.variant == "finetune (source-val)"].search_trials) == [24]
    from benchmark.leaderboard import latex, webpage
    tex_row = next(line for line in latex.render(board).splitlines() if line.startswith("finetune (oracle)"))
    assert tex_row.count("oracle") == 2 and "24 trials" in tex_row  # the label and the cell
    html = webpage.render(board)
    assert '<span class="note">oracle</span>' in html and "ORACLE: Hyperparameters chosen by oracle" in html


@pytest.mark.slow
def test_a_search_on_the_ray_executor_records_what_the_in_process_executor_records(registry, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'transferbench[ray]'")
    tiny = load_suite(TINY)
    suite = replace(tiny, pairs=tiny.pairs[:1], seeds=(0,), budgets=(2,), strategies=("finetune",)) \
        .with_overrides(selection="source-val", trials=3)
    written = {}
    for executor in ("local", "ray"):
        out = tmp_path / executor
        summary = Runner(suite, registry, out, tmp_path, show_progress=False, executor=executor, threads=1).run()
        assert summary.ok == 1 and summary.trials == 3 and not summary.failed
        written[executor] = [{k: r.get(k) for k in ("status", "hparams", "trial", "metrics")}
                             for r in records.read(out / "tiny-source-val" / "records.jsonl")]
    assert written["ray"] == written["local"]
