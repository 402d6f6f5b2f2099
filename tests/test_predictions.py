"""Per-example predictions are kept beside the records, and any installed metric is computed from them.

The run tests: a transfer suite (a ten-class and a two-class pair) and an episodic cell record their
predictions; recomputing every recorded metric from them gives the recorded value exactly (AUROC to
float16 rounding); a metric no record carries (balanced accuracy, ECE) renders a leaderboard.
"""

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmark import Metric, records
from benchmark.cli import main
from benchmark.leaderboard import load, write_leaderboard
from benchmark.leaderboard.collect import LeaderboardError
from benchmark.leaderboard.recompute import complete
from benchmark.leaderboard.summary import build
from benchmark.leaderboard.synthetic import record, write
from benchmark.records import prediction_files
from benchmark.run.runner import Runner
from benchmark.scoring import predictions
from benchmark.scoring.registered import resolve
from benchmark.suite.load import load_suite

TINY = Path(__file__).parent / "suites" / "tiny.toml"
# tiny.toml's ten-class pair and a two-class one (its cells record AUROC too), seed 0, two strategies.
SUITE = """
name = "tiny"
protocol = "transfer"
seeds = [0]
budgets = [2, "all"]
input = { channels = 1, size = [16, 16] }
strategies = ["finetune", "target-only"]

[[pairs]]
name = "digits→rotated"
source = { provider = "sklearn-digits", split = "train[:50%]" }
target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test", shifts = [{ rotate = 30 }] }

[[pairs]]
name = "digits 0-4 → 3 vs 8"
source = { provider = "sklearn-digits", split = "train", classes = [0, 1, 2, 4] }
target = { provider = "sklearn-digits", split = "train", test_split = "test", classes = [3, 8] }

[hparams.finetune]
pretrain_epochs = 1
adapt_steps = 5

[hparams.target-only]
adapt_steps = 5
"""


def installed(registry) -> dict:
    return {name: provided.cls for name, provided in registry.metrics.items()}


@pytest.fixture(scope="module")
def transfer_run(registry, tmp_path_factory) -> Path:
    """The results folder of SUITE: 2 strategies x 2 pairs x 2 budgets, every cell ok."""
    out = tmp_path_factory.mktemp("predictions")
    (out / "tiny.toml").write_text(SUITE)
    summary = Runner(load_suite(out / "tiny.toml"), registry, out, out / "data", show_progress=False).run()
    assert summary.ok == 8 and not summary.failed
    return out / "tiny"


def without(all_records: list[dict], name: str) -> list[dict]:
    """The records as an older run would have written them: without metric ``name``."""
    return [{**r, "metrics": {k: v for k, v in (r["metrics"] or {}).items() if k != name},
             "per_episode": {k: v for k, v in (r.get("per_episode") or {}).items() if k != name} or None}
            for r in all_records]


# -- the stored file


def test_float16_scores_keep_the_runners_decision_where_rounding_ties_them():
    scores = np.array([[[1.0001, 1.0002, -3.0], [7.0, 7.0, 7.0], [2.0, 69999.0, 70000.0]]], dtype=np.float32)
    kept = predictions.from_scores(scores, np.array([[1, 0, 2]]))
    assert kept.kind == "scores" and kept.scores.dtype == np.float16
    assert np.float16(1.0001) == np.float16(1.0002)  # rounding alone would tie the first row
    assert kept.dense().argmax(-1).tolist() == scores.argmax(-1).tolist() == [[1, 0, 2]]
    assert np.isfinite(kept.dense()).all()  # 70,000 is clipped inside float16's range, and stays finite when raised


def test_many_classes_keep_the_top_five_with_the_decision_first_and_the_softmax_mass():
    generator = np.random.default_rng(0)
    scores = generator.normal(0, 2, size=(3, 40, 50)).astype(np.float32)   # [T, Q, C]
    scores[0, 0, [7, 9]] = 30.0                                             # a tie: the first maximum decides
    kept = predictions.from_scores(scores, generator.integers(0, 50, size=(3, 40)))
    assert kept.kind == "topk" and kept.top_classes.shape == (3, 40, predictions.TOPK)
    dense = kept.dense()
    assert (dense.argmax(-1) == scores.argmax(-1)).all() and dense.argmax(-1)[0, 0] == 7
    probabilities = np.exp(dense - dense.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    true = np.exp(scores - scores.max(-1, keepdims=True))
    true /= true.sum(-1, keepdims=True)
    assert np.abs(probabilities.max(-1) - true.max(-1)).max() < 1e-2  # the confidence ECE reads, to float16


def test_the_bytes_are_deterministic_and_read_back_whole(tmp_path):
    generator = np.random.default_rng(1)
    scores, labels = generator.normal(size=(1, 30, 3)).astype(np.float32), generator.integers(0, 3, size=(1, 30))
    first = predictions.from_scores(scores, labels, ["ham", "spam", "phish"])
    assert first.to_bytes() == predictions.from_scores(scores, labels, ["ham", "spam", "phish"]).to_bytes()
    back = predictions.Predictions.from_bytes(first.to_bytes())
    assert back.classes == ("ham", "spam", "phish") and back.num_classes == 3 and back.examples == 30
    assert (back.labels == labels).all() and (back.scores == first.scores).all()
    with pytest.raises(ValueError, match="not a predictions file"):
        predictions.Predictions.from_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")


def test_a_file_is_written_once_under_its_hash_and_a_changed_file_is_refused(tmp_path):
    kept = predictions.from_scores(np.zeros((1, 4, 2), dtype=np.float32), np.array([[0, 1, 0, 1]]))
    field = prediction_files.pending(kept)
    settled = prediction_files.settle({"status": "ok", "predictions": field}, tmp_path)
    path = tmp_path / settled["predictions"]["file"]
    assert "bytes" not in settled["predictions"] and "bytes" in field  # the record is copied, never edited
    assert path.name == f"{field['sha256']}.safetensors" and path.parent.name == "predictions"
    assert records.to_line(settled)  # JSON again: the bytes stayed behind
    written = path.stat().st_mtime_ns
    prediction_files.settle({"predictions": prediction_files.pending(kept)}, tmp_path)
    assert path.stat().st_mtime_ns == written and [p.name for p in path.parent.iterdir()] == [path.name]
    assert prediction_files.read(tmp_path, settled["predictions"]).examples == 4
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match=r"its sha256 is not the one its record names"):
        prediction_files.read(tmp_path, settled["predictions"])
    with pytest.raises(TypeError):  # a pending field must be settled before its line is written
        records.to_line({"predictions": field})


# -- a run keeps them, and they give back what was recorded


def test_every_ok_cell_names_its_file_and_its_labels_are_the_test_split(transfer_run):
    ok = [r for r in records.read(transfer_run / "records.jsonl") if r["status"] == "ok"]
    assert len(ok) == 8
    for made in ok:
        field = made["predictions"]
        assert set(field) == {"file", "sha256", "kind", "examples", "tasks"} and field["tasks"] == 1
        kept = prediction_files.read(transfer_run, field)
        counts = np.bincount(kept.labels[0], minlength=kept.num_classes).tolist()
        assert dict(zip(kept.classes, counts)) == made["test_classes"] and field["examples"] == sum(counts)
        assert field["kind"] == "scores" and kept.scores.shape == (1, field["examples"], len(counts))


def test_recomputing_the_recorded_metrics_from_the_predictions_reproduces_them(transfer_run, registry):
    ok = [r for r in records.read(transfer_run / "records.jsonl") if r["status"] == "ok"]
    names = sorted({name for r in ok for name in r["metrics"]})
    assert "recall[8]" in names and "auroc" in names  # per-class recall everywhere, AUROC on the two-class pair
    for name in names:
        having = [r for r in ok if name in r["metrics"]]
        computed, higher = complete(without(having, name), name, transfer_run, lambda: installed(registry))
        assert higher
        for recorded, again in zip(having, computed):
            if name == "auroc":  # threshold-free: float16 scores may tie two examples the float32 ones ordered
                assert again["metrics"][name]["mean"] == pytest.approx(recorded["metrics"][name]["mean"], abs=5e-3)
            else:  # decided by the argmax, which float16 storage keeps exactly
                assert again["metrics"][name] == recorded["metrics"][name], (name, recorded["pair"])


def test_a_metric_no_record_carries_renders_a_leaderboard(transfer_run, registry, tmp_path):
    for name, phrase in (("balanced_accuracy", "## balanced_accuracy, k = 2"),
                         ("ece", "## ece (lower is better), k = 2"),
                         ("recall[3]", "## recall[3], k = 2")):
        written, _ = write_leaderboard(transfer_run, metric=name, formats=["md", "csv"], out_dir=tmp_path / name,
                                       metrics=lambda: installed(registry))
        assert phrase in (tmp_path / name / "leaderboard.md").read_text()
    board = load(transfer_run, metric="ece", metrics=lambda: installed(registry))
    values = [e.score.mean for t in board.tables for e in t.scored()]
    assert not board.higher_is_better and all(0.0 <= v <= 1.0 for v in values)
    assert records.read(transfer_run / "records.jsonl")[0]["metrics"].keys() >= {"accuracy"}  # records untouched


def test_the_console_script_lists_metrics_and_computes_one(transfer_run, capsys):
    assert main(["list", "--metrics"]) == 0
    listed = capsys.readouterr().out
    assert "ece" in listed and "balanced_accuracy" in listed and "recall[CLASS]" in listed and "lower" in listed
    assert main(["leaderboard", str(transfer_run), "--metric", "balanced_accuracy", "--format", "md"]) == 0
    assert "## balanced_accuracy" in (transfer_run / "leaderboard.md").read_text()
    assert main(["leaderboard", str(transfer_run), "--metric", "recall[88]", "--format", "md"]) == 2
    assert "no class '88' in the test split" in capsys.readouterr().err


def test_an_episodic_cell_keeps_every_episode_and_recomputes_its_mean_and_interval(registry, tmp_path):
    suite = load_suite(TINY)
    pair = replace(suite.pairs[1], ways=5, queries=3)  # digits 0-4 -> 5-9
    suite = replace(suite, protocol="episodic", pairs=(pair,), budgets=(2,), seeds=(0,), episodes=7,
                    strategies=("finetune",), hparams={"finetune": {"pretrain_epochs": 1, "adapt_steps": 3}})
    assert Runner(suite, registry, tmp_path, tmp_path, show_progress=False, pretrain_cache=False).run().ok == 1
    folder = tmp_path / suite.name
    (made,) = records.read(folder / "records.jsonl")
    assert made["predictions"]["tasks"] == 7 and made["predictions"]["examples"] == 7 * 5 * 3
    assert prediction_files.read(folder, made["predictions"]).classes == ()  # renumbered per episode
    (again,), _ = complete(without([made], "accuracy"), "accuracy", folder, lambda: installed(registry))
    assert again["metrics"]["accuracy"] == made["metrics"]["accuracy"]
    assert again["per_episode"]["accuracy"] == made["per_episode"]["accuracy"]
    with pytest.raises(LeaderboardError, match=r"'recall\[CLASS\]' is per class, and the episodic cell"):
        complete([made], "recall[5]", folder, lambda: installed(registry))


# -- records without predictions, and the leaderboard's direction


def test_records_without_predictions_say_how_many_cells_lack_them(tmp_path, registry):
    write(tmp_path / "records.jsonl", [record("a", "p", 0, 1, 0.5), record("b", "p", 0, 1, 0.7),
                                       record("b", "p", 1, 1, status="failed")])
    board = load(tmp_path, metric="macro_f1")  # a recorded metric: no predictions needed
    assert board.higher_is_better
    with pytest.raises(LeaderboardError) as caught:
        load(tmp_path, metric="ece", metrics=lambda: installed(registry))
    message = str(caught.value)
    assert "2 of 2 ok cells have no 'ece' and no stored predictions" in message and "\n" not in message
    with pytest.raises(LeaderboardError, match=r"'balanced_acuracy' is not a metric \(did you mean 'balanced_accuracy'"):
        load(tmp_path, metric="balanced_acuracy", metrics=lambda: installed(registry))


def test_a_lower_is_better_metric_is_best_at_its_lowest():
    made = [record(name, "p", seed, 1, value + seed / 100) for name, value in (("a", 0.1), ("b", 0.3))
            for seed in (0, 1, 2)]
    (table,) = build(made, "accuracy", higher_is_better=False).tables
    assert table.entries[("a", "p")].best and table.rows[0] == "a" and table.entries[("a", "p")].rank == 1
    (table,) = build(made, "accuracy").tables
    assert table.entries[("b", "p")].best and table.rows[0] == "b"


# -- the metric contract, over every installed metric


def test_every_installed_metric_keeps_the_contract(registry):
    generator = np.random.default_rng(2)
    assert {"accuracy", "macro_f1", "macro_recall", "recall[CLASS]", "balanced_accuracy", "auroc", "ece"} \
        <= set(registry.metrics)
    for name, provided in registry.metrics.items():
        metric = provided.cls
        assert isinstance(metric, Metric) and metric.name == name and name.strip() == name and name
        assert isinstance(metric.higher_is_better, bool) and isinstance(metric.citation, str)
        assert resolve(name.replace("[CLASS]", "[x]"), installed(registry))[0] is metric
        for classes in (2, 5, 30):
            labels = generator.integers(0, classes, size=64).astype(np.int64)          # [N]
            scores = generator.normal(size=(64, classes)).astype(np.float32)           # [N, C]
            copies = labels.copy(), scores.copy()
            index = (1,) if metric.per_class else ()
            value = metric(labels, scores, *index)
            assert isinstance(value, float) and (math.isnan(value) or math.isfinite(value)), (name, classes)
            assert value == metric(labels, scores, *index) or math.isnan(value), f"{name} is not deterministic"
            assert (labels == copies[0]).all() and (scores == copies[1]).all(), f"{name} changed its inputs"
            if provided.dist == "transferbench":  # the built-ins are rates
                assert math.isnan(value) or 0.0 <= value <= 1.0, (name, classes, value)


def test_the_builtins_agree_with_their_references():
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    from plugins import metrics as builtin

    generator = np.random.default_rng(3)
    labels = generator.integers(0, 2, size=200)
    scores = np.stack([np.zeros(200), labels + generator.normal(0, 1, 200)], axis=1).astype(np.float32)
    assert builtin.auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores[:, 1]))
    assert builtin.balanced_accuracy(labels, scores) == balanced_accuracy_score(labels, scores.argmax(1))
    # ECE: a predictor whose confidence is always 0.9 and which is right 60% of the time is off by 0.3
    confident = np.log(np.array([[9.0, 1.0]] * 10, dtype=np.float32))  # softmax: 0.9, 0.1
    assert builtin.expected_calibration_error(np.array([0] * 6 + [1] * 4), confident) == pytest.approx(0.3)
    assert builtin.expected_calibration_error(np.array([0] * 9 + [1]), confident) == pytest.approx(0.0, abs=1e-6)
