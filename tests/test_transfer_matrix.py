"""The transfer matrix: gain over training from scratch per starting point x target, on synthetic records."""

import numpy as np
import pytest
from scipy import stats

from benchmark.leaderboard import synthetic, transfer_matrix

SEEDS = (0, 1, 2)
TARGET = {"provider": "usps", "split": "train"}


def made(strategy, pair, seed, value, source=None, model=None, budget="5", target=TARGET):
    record = synthetic.record(strategy, pair, seed, budget, value)
    return {**record, "source": source, "model": model, "target": target}


def lenet(checkpoint):
    return {"provider": "file" if checkpoint else "builtin", "name": "lenet-mnist" if checkpoint else "lenet",
            "checkpoint": checkpoint, "architecture": {"provider": "builtin", "name": "lenet"} if checkpoint else
            {"channels": 1}}


def test_sources_against_target_only_with_paired_intervals_and_negative_transfer_marked():
    good, bad, scratch = [0.80, 0.85, 0.90], [0.30, 0.32, 0.35], [0.50, 0.55, 0.60]
    records = []
    for seed in SEEDS:
        records += [made("finetune", "mnist→usps", seed, good[seed], source={"provider": "mnist", "split": "test"}),
                    made("finetune", "omniglot→usps", seed, bad[seed], source={"provider": "omniglot", "split": "background"}),
                    made("target-only", "mnist→usps", seed, scratch[seed]),
                    made("target-only", "omniglot→usps", seed, scratch[seed])]
    found = transfer_matrix.matrix(records)
    cells = found["5"]
    mean, ci, seeds = cells[("mnist test", "usps train")]
    d = np.subtract(good, scratch)
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert seeds == 3 and mean == pytest.approx(d.mean()) and ci == pytest.approx((d.mean() - half, d.mean() + half))
    md = transfer_matrix.render(found, "md", "finetune", "accuracy")
    assert "+30.0 [+30.0, +30.0] ▲" in md and "-22.7 [" in md and "▼" in md  # omniglot: negative transfer


def test_a_zoo_compares_each_checkpoint_with_its_architecture_from_random_initialisation():
    records = []
    for seed in SEEDS:
        records += [made("finetune", "lenet-mnist→usps", seed, 0.9, model=lenet("/c/lenet-mnist.safetensors")),
                    made("finetune", "lenet-random→usps", seed, 0.6 + 0.01 * seed, model=lenet(None)),
                    made("finetune", "lite0→usps", seed, 0.7, model={"provider": "timm", "name": "lite0",
                                                                       "checkpoint": "/c/lite0.pth"})]
    cells = transfer_matrix.matrix(records)
    assert cells == {}  # one row per target (lite0 has no random twin here): nothing shared to show
    for seed in SEEDS:
        records.append(made("finetune", "lite0-random→usps", seed, 0.5, model={"provider": "timm", "name": "lite0",
                                                                               "checkpoint": None}))
    cells = transfer_matrix.matrix(records)["5"]
    assert set(cells) == {("lenet-mnist", "usps train"), ("lite0", "usps train")}
    assert cells[("lenet-mnist", "usps train")][0] == pytest.approx(0.29)
    assert cells[("lite0", "usps train")][0] == pytest.approx(0.2)


def test_targets_differ_by_their_options_and_the_files_are_written(tmp_path):
    poly = {**TARGET, "options": {"types": ["poly"]}}
    records = [made("finetune", p, s, 0.8, source={"provider": "x", "split": p}, target=t)
               for s in SEEDS for p, t in (("a", TARGET), ("b", poly))]
    records += [made("target-only", p, s, 0.5, target=t) for s in SEEDS for p, t in (("a", TARGET), ("b", poly))]
    assert transfer_matrix.matrix(records) == {}  # two targets with one start each
    records += [made("finetune", "c", s, 0.7, source={"provider": "x", "split": "c"}, target=poly) for s in SEEDS]
    records += [made("target-only", "c", s, 0.5, target=poly) for s in SEEDS]
    written = transfer_matrix.write(records, tmp_path, ["md", "csv", "tex", "png"])
    assert sorted(p.name for p in written) == ["transfer_matrix.csv", "transfer_matrix.md", "transfer_matrix.tex"]
    assert 'usps train (types=["poly"])' in (tmp_path / "transfer_matrix.md").read_text()
    assert "$\\blacktriangle$" in (tmp_path / "transfer_matrix.tex").read_text()
