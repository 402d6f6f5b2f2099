"""The transferability section on synthetic records with known correlations."""

import numpy as np
import pytest
from scipy import stats

from benchmark.leaderboard import synthetic, transferability

ACCURACY = {"m1": 0.5, "m2": 0.6, "m3": 0.7, "m4": 0.8, "m5": 0.9}  # finetune's accuracy per model (pair)


def estimate(name, pair, seed, score, budget="5", wall_s=0.01, hparams=None):
    made = synthetic.record(name, pair, seed, budget, status="skipped")
    return {**made, "status": "estimate", "reason": None, "hparams": hparams or {}, "wall_s": wall_s,
            "metrics": {"score": {"mean": score, "n": 50, "ci95": None, "ci": None}}}


def records(scores_of, seeds=(0, 1, 2), finetune_s=1.0, noise=0.01):
    rng = np.random.default_rng(0)
    made = []
    for seed in seeds:
        for pair, acc in ACCURACY.items():
            made.append(synthetic.record("finetune", pair, seed, "5", acc + noise * rng.normal(), wall_s=finetune_s))
            for name, score in scores_of.items():
                made.append(estimate(name, pair, seed, score(acc, rng)))
    return made


def by_name(rows):
    return {r.estimator: r for r in rows}


def test_a_perfect_and_a_reversed_estimator():
    rows = by_name(transferability.build(records({"perfect": lambda a, rng: 10 * a, "reversed": lambda a, rng: -a})))
    perfect, reversed_ = rows["perfect"], rows["reversed"]
    assert perfect.models == 5 and perfect.seeds == 3
    assert perfect.tau == pytest.approx(1.0) and perfect.rho == pytest.approx(1.0) and perfect.regret == 0.0
    assert reversed_.tau == pytest.approx(-1.0) and reversed_.rho == pytest.approx(-1.0)
    assert reversed_.regret == pytest.approx(0.4, abs=0.03)  # picks m1 (0.5) instead of m5 (0.9)
    low, high = perfect.tau_ci
    assert low <= perfect.tau <= high and high <= 1.0
    assert perfect.cost == pytest.approx(0.01)  # 0.01 s against a 1 s finetune cell


def test_the_statistics_are_scipys_on_seed_means():
    made = records({"noisy": lambda a, rng: a + 0.2 * rng.normal()})
    row = transferability.build(made)[0]
    score = {p: np.mean([r["metrics"]["score"]["mean"] for r in made if r["pair"] == p and r["status"] == "estimate"])
             for p in ACCURACY}
    acc = {p: np.mean([r["metrics"]["accuracy"]["mean"] for r in made if r["pair"] == p and r["status"] == "ok"])
           for p in ACCURACY}
    s, a = np.array([score[p] for p in sorted(ACCURACY)]), np.array([acc[p] for p in sorted(ACCURACY)])
    assert row.tau == pytest.approx(stats.weightedtau(s, a).statistic)
    assert row.rho == pytest.approx(stats.spearmanr(s, a).statistic)
    assert row.regret == pytest.approx(a.max() - a[np.argmax(s)])


def test_one_seed_has_no_interval_and_two_models_no_correlation():
    one_seed = by_name(transferability.build(records({"perfect": lambda a, rng: a}, seeds=(0,))))["perfect"]
    assert one_seed.tau == pytest.approx(1.0) and one_seed.tau_ci is None
    two = [r for r in records({"perfect": lambda a, rng: a}) if r["pair"] in ("m1", "m2")]
    row = transferability.build(two)[0]
    assert row.models == 2 and row.tau is None and row.regret == pytest.approx(0.0, abs=0.05)


def test_against_another_strategy_and_the_files(tmp_path):
    made = records({"perfect": lambda a, rng: a})
    made += [synthetic.record("linear-probe", p, s, "5", 1 - a) for s in (0, 1, 2) for p, a in ACCURACY.items()]
    row = transferability.build(made, against="linear-probe")[0]
    assert row.tau == pytest.approx(-1.0)
    written, warnings = transferability.write(made, tmp_path, ["md", "tex", "csv", "html", "png"])
    assert sorted(p.name for p in written) == [f"transferability.{f}" for f in ("csv", "html", "md", "tex")]
    assert not warnings
    md = (tmp_path / "transferability.md").read_text()
    assert "| perfect |" in md.replace(" 5 | perfect", "| perfect") and "1.00 [" in md
    assert "weighted_tau" in (tmp_path / "transferability.csv").read_text().splitlines()[0]
    assert "\\tau_w" in (tmp_path / "transferability.tex").read_text()
    _, warnings = transferability.write(made, tmp_path, ["md"], against="maml")
    assert "no ok record of strategy 'maml'" in warnings[0]
    transferability.write(made, tmp_path, ["md", "csv", "html"], against="finetune,linear-probe")
    md = (tmp_path / "transferability.md").read_text()
    assert md.count("# Which model should I start from?") == 2 and "(against linear-probe)" in md
    assert {row.split(",")[3] for row in (tmp_path / "transferability.csv").read_text().splitlines()[1:]} == {
        "finetune", "linear-probe"}
    assert (tmp_path / "transferability.html").read_text().count("<table>") == 2


def test_no_estimates_no_section(tmp_path):
    made = [synthetic.record("finetune", p, 0, "5", a) for p, a in ACCURACY.items()]
    assert transferability.write(made, tmp_path, ["md"]) == ([], [])


def test_options_that_differ_label_the_rows():
    made = records({})
    for seed in (0, 1, 2):
        for pair, acc in ACCURACY.items():
            made.append(estimate("hscore", pair, seed, acc, hparams={"shrinkage": False}))
            made.append(estimate("hscore", pair, seed, -acc, hparams={"shrinkage": True}))
    rows = by_name(transferability.build(made))
    assert rows["hscore (shrinkage=false)"].tau == pytest.approx(1.0)
    assert rows["hscore (shrinkage=true)"].tau == pytest.approx(-1.0)


def test_the_score_vs_accuracy_plot_is_a_pure_function_of_the_records(tmp_path):
    """One panel per estimator x target, a point per model; the same records give the same bytes."""
    from benchmark.leaderboard import transferability_plot

    made = records({"perfect": lambda a, rng: a, "noisy": lambda a, rng: a + 0.3 * rng.normal()})
    panels = transferability_plot.panels(made, "finetune", "accuracy")
    assert set(panels) == {"5"} and {label for label, _ in panels["5"]} == {"perfect", "noisy"}
    points = panels["5"][("perfect", transferability.target_of(made[0]))]
    assert len(points) == 5 and [p[0] for p in points] == sorted(p[0] for p in points)  # m1..m5: scores rise
    assert all(half > 0 for _, _, half in points)  # three seeds: a t-interval
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = (transferability_plot.write(made, tmp_path / d) for d in ("a", "b"))
    assert [p.name for p in first] == ["transferability_finetune_k5.png"]
    assert first[0].read_bytes() == second[0].read_bytes() and first[0].read_bytes()[:4] == b"\x89PNG"


def test_the_leaderboard_writes_a_plot_per_against_strategy(tmp_path):
    from benchmark.leaderboard import write_leaderboard

    made = records({"perfect": lambda a, rng: a})
    made += [synthetic.record("linear-probe", p, s, "5", 1 - a) for s in (0, 1, 2) for p, a in ACCURACY.items()]
    synthetic.write(tmp_path / "records.jsonl", made)
    written, _ = write_leaderboard(tmp_path, formats=["md", "png"], against="finetune,linear-probe")
    assert {"transferability_finetune_k5.png", "transferability_linear-probe_k5.png"} <= {p.name for p in written}
