"""The seed cases' dataset providers (elpv, vader) on files written in each dataset's own layout,
and on the real fetched assets when they are present (``transferbench fetch elpv vader``)."""

import csv
import gzip
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark import DataError
from benchmark.data.providers import stratified_slice
from plugins.datasets.elpv import ELPV
from plugins.datasets.vader import VADER

REAL_ELPV, REAL_VADER = Path("data/elpv"), Path("data/vader")


def write_elpv(root: Path, rows) -> Path:
    """labels.csv and images/cellNNNN.png as the dataset lays them out; pixel value = the row's index."""
    (root / "images").mkdir(parents=True)
    lines = []
    for index, (probability, cell_type) in enumerate(rows):
        name = f"images/cell{index + 1:04d}.png"
        Image.fromarray(np.full((6, 6), index, dtype=np.uint8)).save(root / name)
        lines.append(f"{name}  {probability}                 {cell_type}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def elpv(tmp_path):
    # Types spread unevenly over file names, as in the real data: mono first, poly after.
    rows = [(p, "mono") for p in (0.0, 1.0, 0.0, 0.3333333333333333, 1.0, 0.0, 0.6666666666666666, 0.0)] + \
           [(p, "poly") for p in (0.0, 0.0, 1.0, 0.0, 1.0, 0.3333333333333333, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0)]
    return write_elpv(tmp_path / "elpv", rows), rows


def row_indices(data) -> list[int]:
    return [int(image[0, 0, 0]) for image in data.inputs]


def test_elpv_pool_and_test_are_disjoint_halves_of_every_class_and_type(elpv):
    root, rows = elpv
    pool, test, every = (ELPV().load(split, root) for split in ("pool", "test", "all"))
    assert pool.classes == ("functional", "defective")
    assert set(row_indices(pool)).isdisjoint(row_indices(test))
    assert sorted(row_indices(pool) + row_indices(test)) == sorted(row_indices(every))
    uncertain = {i for i, (p, _) in enumerate(rows) if abs(p - 1 / 3) < 1e-6}
    assert uncertain.isdisjoint(row_indices(every)) and len(every) == len(rows) - len(uncertain)
    for data in (pool, test):  # the label of each image follows its probability (>= 0.5: defective)
        for index, label in zip(row_indices(data), data.labels.tolist()):
            assert label == int(rows[index][0] >= 0.5)
    groups = Counter((rows[i][1], int(rows[i][0] >= 0.5)) for i in row_indices(every))
    in_pool = Counter((rows[i][1], int(rows[i][0] >= 0.5)) for i in row_indices(pool))
    assert in_pool == {group: count // 2 for group, count in groups.items() if count // 2}


def test_elpv_a_per_class_slice_keeps_the_mix_of_cell_types(elpv):
    root, rows = elpv
    every = ELPV().load("all", root)
    half = stratified_slice(every, "all[:50%]")
    types = Counter(rows[i][1] for i in row_indices(half) if every.labels[row_indices(every).index(i)] == 0)
    assert types["mono"] >= 1 and types["poly"] >= 2  # file order would give the first half to mono alone


def test_elpv_label_options_and_type_filter(elpv):
    root, rows = elpv
    levels = ELPV(label="probability").load("all", root)
    assert levels.classes == ("0", "1/3", "2/3", "1") and len(levels) == len(rows)
    types = ELPV(label="type").load("all", root)
    assert Counter(types.labels.tolist()) == Counter(0 if t == "mono" else 1 for _, t in rows)
    poly = ELPV(types=["poly"]).load("all", root)
    assert all(rows[i][1] == "poly" for i in row_indices(poly))
    kept = ELPV(uncertain="defective").load("all", root)
    assert len(kept) == len(rows)


@pytest.mark.parametrize("options, match", [({"label": "defects"}, "did you mean 'defect'"),
                                            ({"uncertain": "keep"}, "uncertain must be one of"),
                                            ({"types": ["mono", "cigs"]}, "not 'cigs'")])
def test_elpv_bad_options_are_one_line_errors(options, match):
    with pytest.raises(DataError, match=match):
        ELPV(**options)


def test_elpv_a_bad_labels_line_or_unreadable_image_names_the_file(elpv):
    root, _ = elpv
    with pytest.raises(DataError, match="has splits"):
        ELPV().load("train", root)
    (root / "images" / "cell0002.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"cannot read image .*cell0002\.png"):
        ELPV().load("all", root)
    (root / "labels.csv").write_text("images/cell0001.png 0.0 cigs\n")
    with pytest.raises(DataError, match=r"labels\.csv line 1"):
        ELPV().load("all", root)


@pytest.mark.skipif(not (REAL_ELPV / "labels.csv").is_file(),
                    reason=f"{REAL_ELPV} absent: run `transferbench fetch elpv`")
def test_real_elpv_splits():
    pool, test = ELPV().load("pool", REAL_ELPV), ELPV().load("test", REAL_ELPV)
    assert pool.inputs.shape[1:] == (1, 300, 300) and len(pool) + len(test) == 2624 - 295  # 1/3 left out
    assert abs(len(pool) - len(test)) <= 4


def write_vader(root: Path, domain: str, ratings) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["id", "sentiment", "text"])
    for index, (rating, words) in enumerate(ratings, 1):
        writer.writerow([index, rating, words])
    with gzip.open(root / f"{domain}_GroundTruth.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(text.getvalue())
    return root


@pytest.fixture
def vader(tmp_path):
    ratings = [(2.5, "great day"), (-1.2, "awful, really"), (0.2, "it is tuesday"), (3.0, "love it"),
               (-2.0, "hate this"), (1.0, "nice enough"), (-0.7, "meh, bad"), (0.6, "fine, good"),
               (-3.1, "worst ever"), (2.0, "Great  Day")]  # the last repeats the first, up to case and spacing
    return write_vader(tmp_path / "vader", "tweets", ratings), ratings


def test_vader_polarity_leaves_the_neutral_band_out_and_keeps_a_repeated_text_once(vader):
    root, _ = vader
    every = VADER("tweets").load("all", root)
    assert every.classes == ("negative", "positive")
    assert "it is tuesday" not in every.texts and "Great  Day" not in every.texts
    assert Counter(every.labels.tolist()) == {0: 4, 1: 4}
    wide = VADER("tweets", neutral=1.1).load("all", root)
    assert "nice enough" not in wide.texts and "meh, bad" not in wide.texts and "awful, really" in wide.texts


def test_vader_pool_and_test_are_the_halves_of_each_class_in_file_order(vader):
    root, _ = vader
    pool, test = VADER("tweets").load("pool", root), VADER("tweets").load("test", root)
    assert set(pool.texts).isdisjoint(test.texts)
    assert pool.texts == ("awful, really", "hate this", "great day", "love it")
    three = VADER("tweets", labels="three").load("all", root)
    assert three.classes == ("negative", "neutral", "positive") and "it is tuesday" in three.texts


@pytest.mark.parametrize("options, match", [({"dataset": "tweet"}, "did you mean 'tweets'"),
                                            ({"labels": "binary"}, "labels must be one of"),
                                            ({"neutral": -1}, "neutral must be a number")])
def test_vader_bad_options_are_one_line_errors(options, match):
    with pytest.raises(DataError, match=match):
        VADER(**options)


def test_vader_a_bad_row_names_the_file_and_line(tmp_path):
    root = write_vader(tmp_path / "vader", "tweets", [(1.0, "ok"), ("very", "not a number")])
    with pytest.raises(DataError, match=r"tweets_GroundTruth\.csv\.gz line 3"):
        VADER("tweets").load("all", root)


@pytest.mark.skipif(not (REAL_VADER / "tweets_GroundTruth.csv.gz").is_file(),
                    reason=f"{REAL_VADER} absent: run `transferbench fetch vader`")
@pytest.mark.parametrize("domain", ["nyt", "tweets", "movies", "amazon"])
def test_real_vader_domains_split_into_disjoint_halves(domain):
    pool, test = VADER(domain).load("pool", REAL_VADER), VADER(domain).load("test", REAL_VADER)
    assert len(pool) > 1000 and set(pool.texts).isdisjoint(test.texts) and abs(len(pool) - len(test)) <= 2
