"""Cost fields and reported facts: a pretraining is counted once per pretrained state, whichever
cell ran it; what a strategy reports about its pretraining reaches every record and the leaderboard."""

import time
from pathlib import Path

import pytest

from benchmark import Context, TaskSpec, records
from benchmark.leaderboard import load
from benchmark.leaderboard.synthetic import record as synthetic_record
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite
from plugins.finetune import FineTune

TINY = Path(__file__).parent / "suites" / "tiny.toml"
PRETRAIN_S = 0.3


class Reporting(FineTune):
    """finetune whose pretraining lasts at least PRETRAIN_S and reports what it did."""

    name = "reporting-finetune"
    quick_hparams = {}

    def pretrain(self, source, ctx):
        time.sleep(PRETRAIN_S)
        super().pretrain(source, ctx)
        ctx.report(epochs_run=self.pretrain_epochs, stopped_by="epochs", final_loss=0.5)


def run(tmp_path, registry, out: str, name: str = "tiny") -> list[dict]:
    path = tmp_path / f"{name}.toml"
    path.write_text(TINY.read_text().replace('name = "tiny"', f'name = "{name}"')
                    + "\n[hparams.reporting-finetune]\npretrain_epochs = 1\nadapt_steps = 5\n", encoding="utf-8")
    suite = load_suite(path).with_overrides(seeds=1, strategies=["reporting-finetune", "target-only"])
    Runner(suite, registry, tmp_path / out, tmp_path, show_progress=False, threads=1,
           pretrain_cache_dir=tmp_path / "pretrain-cache").run()
    return records.read(tmp_path / out / name / "records.jsonl")


def test_the_pretraining_is_counted_once_and_cells_restoring_it_point_at_it(registry, with_strategies, tmp_path):
    registry = with_strategies(registry, Reporting)
    cold = [r for r in run(tmp_path, registry, "first") if r["strategy"] == "reporting-finetune"]
    # the tiny suite's two pairs have different sources: one pretrained state each, shared by two budgets
    by_state = {}
    for record in cold:
        by_state.setdefault(record["cost"]["pretrain_id"], []).append(record)
    assert len(by_state) == 2 and all(len(cells) == 2 for cells in by_state.values())  # two budgets per state
    for cells in by_state.values():
        assert len({c["cost"]["pretrain_s"] for c in cells}) == 1  # the same cost, not split between budgets
        assert cells[0]["cost"]["pretrain_s"] >= PRETRAIN_S
        assert all(c["cost"]["pretrained_here"] for c in cells)
        assert all(0 < c["cost"]["adapt_s"] < c["wall_s"] for c in cells)
        assert all(c["reported"] == {"epochs_run": 1, "stopped_by": "epochs", "final_loss": 0.5} for c in cells)

    warm = [r for r in run(tmp_path, registry, "second") if r["strategy"] == "reporting-finetune"]
    assert {r["pretrain_cache"] for r in warm} == {"hit"}
    assert not any(r["cost"]["pretrained_here"] for r in warm)
    for record in warm:  # restored: the state's own cost and facts, from the cache entry
        first = by_state[record["cost"]["pretrain_id"]][0]
        assert record["cost"]["pretrain_s"] == first["cost"]["pretrain_s"]
        assert record["reported"] == first["reported"]
        assert record["cost"]["restore_s"] < PRETRAIN_S

    board = load(tmp_path / "second" / "tiny")
    table = board.tables[0]
    expected = sum(cells[0]["cost"]["pretrain_s"] for cells in by_state.values()) / 2
    assert table.pretrain_s["reporting-finetune"] == pytest.approx(expected)  # per state, not per cell
    assert table.adapt_s["reporting-finetune"] > 0
    assert "reporting-finetune: epochs_run 1, final_loss 0.5, stopped_by epochs (2 pretrained states)" \
        in board.footer["reported by strategies"]


def test_records_older_than_the_cost_fields_render_as_not_recorded(tmp_path):
    old = [synthetic_record("finetune", "a→b", seed, "5", 0.5 + seed / 100) for seed in range(3)]
    for r in old:
        r.pop("cost", None)  # as every record before the field
    derived = [dict(r, seed=r["seed"] + 3, wall_s=3.0, pretrain_s=1.0) for r in old]  # wall_s - pretrain_s
    (tmp_path / "records.jsonl").write_text("".join(records.to_line(r) for r in old), encoding="utf-8")
    table = load(tmp_path).tables[0]
    assert table.pretrain_s["finetune"] is None and table.adapt_s["finetune"] is None
    from benchmark.leaderboard import markdown

    assert "| not recorded | not recorded |" in markdown.render(load(tmp_path))
    (tmp_path / "records.jsonl").write_text("".join(records.to_line(r) for r in derived), encoding="utf-8")
    table = load(tmp_path).tables[0]
    assert table.pretrain_s["finetune"] is None and table.adapt_s["finetune"] == pytest.approx(2.0)


def test_report_takes_plain_data_only_and_adapting_reports_are_not_recorded():
    task = TaskSpec("transfer", (1, 8, 8), ("a",), ("a",), 1, 1)
    ctx = Context(None, 0, None, task, Path("."))
    ctx.report(episodes_run=546, losses=[0.5, 0.4], note="time budget", done=True, missing=None)
    ctx.report(episodes_run=600)
    assert ctx.reported == {"episodes_run": 600, "losses": [0.5, 0.4], "note": "time budget", "done": True,
                            "missing": None}
    import torch

    with pytest.raises(TypeError, match=r"ctx.report\(final_loss=...\): a Tensor is not plain data"):
        ctx.report(final_loss=torch.tensor(0.3))
    forked = Context(torch.device("cpu"), 0, torch.Generator(), task, Path(".")).fork(1)
    forked.report(x=1)
    assert ctx.reported["episodes_run"] == 600 and "x" not in ctx.reported
