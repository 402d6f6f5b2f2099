"""Issue 26.5a: images listed in a manifest (CSV, TSV or JSON Lines), read without building a folder tree.

On scikit-learn's digits written as PNGs and listed in a CSV (tests/manifest_cells.py): the provider
hands out the same pixels and labels as the arrays, whatever the manifest's format and path style;
labels come from a column or a rule on a numeric column; ``where`` and ``split_column`` choose rows;
every mistake is one line naming the manifest (and the row at fault). On the real ELPV labels.csv
(when fetched): the manifest provider reads what the elpv provider reads.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from manifest_cells import NAMES, digits, table, write_cells

from benchmark import DataError, MissingDataError
from benchmark.cli import main
from plugins.datasets.elpv import ELPV
from plugins.datasets.manifest import Manifest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> Path:
    return write_cells(tmp_path_factory.mktemp("cells"))


def expected(rows=slice(None)):
    """(pixels uint8 [N, 1, 8, 8], digit names [N]) of the manifest's rows ``rows``."""
    pixels, labels = digits()
    return torch.from_numpy(pixels[rows])[:, None], [NAMES[d] for d in labels[rows]]


def names_of(data) -> list[str]:
    return [data.classes[label] for label in data.labels.tolist()]


def rewrite(cells: Path, tmp_path: Path, form: str) -> Path:
    """The manifest of ``cells`` in another ``form``: csv as written, tsv, jsonl, or csv with absolute paths."""
    frame = table()
    if form == "tsv":
        frame.to_csv(cells.parent / "cells.tsv", sep="\t", index=False)
        return cells.parent / "cells.tsv"
    if form == "jsonl":
        frame.to_json(cells.parent / "cells.jsonl", orient="records", lines=True)
        return cells.parent / "cells.jsonl"
    if form == "absolute paths":
        frame["path"] = [str(cells.parent / path) for path in frame["path"]]
        frame.to_csv(tmp_path / "elsewhere.csv", index=False)
        return tmp_path / "elsewhere.csv"
    return cells


@pytest.mark.parametrize("form", ["csv", "tsv", "jsonl", "absolute paths"])
def test_a_manifest_hands_out_the_images_and_labels_it_lists(cells, tmp_path, form):
    data = Manifest().load("all", rewrite(cells, tmp_path, form), (8, 8))
    pixels, names = expected()
    assert data.inputs.dtype == torch.uint8 and torch.equal(data.inputs, pixels)
    assert data.classes == tuple(sorted(NAMES)) and names_of(data) == names
    assert data.groups is None  # no group_column: every image its own group


def test_a_label_rule_cuts_a_numeric_column(cells):
    rule = {"column": "defect_probability", "threshold": 0.5, "names": ["functional", "defective"]}
    data = Manifest(label_rule=rule).load("all", cells, (8, 8))
    _, labels = digits()
    assert data.classes == ("functional", "defective")
    assert data.labels.tolist() == (labels / 9 >= 0.5).astype(int).tolist()
    three = Manifest(label_rule={"column": "defect_probability", "threshold": [0.3, 0.7]}).load("all", cells, (8, 8))
    assert three.classes == ("<0.3", "0.3-0.7", ">=0.7")
    assert three.labels.tolist() == np.searchsorted([0.3, 0.7], labels / 9, side="right").tolist()


def test_where_and_split_column_choose_the_rows(cells):
    data = Manifest(where={"type": "mono"}, split_column="split").load("test", cells, (8, 8))
    rows = [i for i in range(400) if i % 2 == 0 and i // 10 >= 30]
    pixels, names = expected(rows)
    assert torch.equal(data.inputs, pixels) and names_of(data) == names
    assert data.classes == tuple(sorted(NAMES))  # the classes after where, so train and test share them
    both = Manifest(where={"type": ["mono", "poly"]}, split_column="split").load("all", cells, (8, 8))
    assert len(both) == 400


def test_groups_come_from_the_group_column(cells):
    data = Manifest(group_column="module", split_column="split").load("train", cells, (8, 8))
    assert data.groups == tuple(f"module_{i // 10:02d}" for i in range(300)) and data.group_source == "module"


@pytest.mark.parametrize("options, split, message", [
    ({"label_column": "labl"}, "all", r"manifest .*cells\.csv: no column 'labl' \(did you mean 'label'\?\); it has "
                                      r"\['path', 'label', .*\] \(set options label_column\)"),
    ({"where": {"typ": "mono"}}, "all", r"no column 'typ' \(did you mean 'type'\?\)"),
    ({"group_column": "modul"}, "all", r"no column 'modul' \(did you mean 'module'\?\).* \(set options group_column\)"),
    ({"where": {"type": "mon"}}, "all", r"no row is left of its 400 after where = \{'type': 'mon'\} "
                                        r"\(type has \['mono', 'poly'\]\)"),
    ({"split_column": "split"}, "tset", r"no row has split = 'tset' \(did you mean 'test'\?\)"),
    ({}, "train", r"has one split, 'all', not 'train' \(set options split_column"),
    ({"label_rule": {"column": "type", "threshold": 0.5}}, "all", r"row 1: type = 'mono' is not a number"),
])
def test_a_mistake_is_one_line_naming_the_manifest(cells, options, split, message):
    with pytest.raises(DataError, match=message) as error:
        Manifest(**options).check(split, cells)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("options, message", [
    ({"label_column": "label", "label_rule": {"column": "x", "threshold": 1}}, "set label_column or label_rule"),
    ({"label_rule": {"column": "x", "threshold": [2, 1]}}, "a list of ascending numbers"),
    ({"label_rule": {"column": "x", "threshold": 1, "names": ["one"]}}, "needs 2 distinct names"),
    ({"label_rule": {"col": "x"}}, "label_rule takes column, threshold and names"),
    ({"where": "type = mono"}, "where is a table"),
])
def test_options_that_cannot_work_are_refused_when_the_provider_is_made(options, message):
    with pytest.raises(DataError, match=message):
        Manifest(**options)


def test_a_missing_or_damaged_image_names_the_file_and_its_manifest_row(tmp_path):
    manifest = write_cells(tmp_path)
    (tmp_path / "images" / "c0007.png").unlink()
    with pytest.raises(DataError, match=rf"^manifest {manifest} row 8: cannot read image "
                                        rf"{tmp_path / 'images' / 'c0007.png'}: no such file$"):
        Manifest().check("all", manifest)  # before anything is decoded
    (tmp_path / "images" / "c0007.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"^manifest .* row 8: cannot read image .*c0007\.png: not an image file"):
        Manifest().load("all", manifest, (8, 8))


def test_a_missing_manifest_or_a_folder_root_says_what_to_name(tmp_path):
    with pytest.raises(MissingDataError, match=r"dataset 'manifest' split 'all' not found at .*absent\.csv"):
        Manifest().check("all", tmp_path / "absent.csv")
    (tmp_path / "labels.csv").write_text("path,label\n")
    with pytest.raises(DataError, match=rf"manifest root {tmp_path} is a folder: name the manifest file in it, "
                                        rf"e.g. {tmp_path / 'labels.csv'}"):
        Manifest().check("all", tmp_path)


def test_a_suite_reads_a_manifest_under_the_data_root(tmp_path, capsys):
    write_cells(tmp_path / "data" / "cells")
    suite = tmp_path / "cells.toml"
    suite.write_text("""
name = "cells"
seeds = [0]
budgets = [2]
strategies = ["target-only"]
input = { channels = 1, size = [8, 8] }
[[pairs]]
name = "mono→poly"
source = { provider = "manifest", root = "cells/cells.csv", split = "all", options = { where = { type = "mono" } } }
[pairs.target]
provider = "manifest"
root = "cells/cells.csv"
split = "train"
test_split = "test"
options = { where = { type = "poly" }, split_column = "split", group_column = "module" }
[hparams.target-only]
adapt_steps = 1
""")
    assert main(["run", str(suite), "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
                 "--no-progress", "--threads", "1"]) == 0


ELPV_ROOT = REPO / "data" / "elpv"


@pytest.mark.skipif(not (ELPV_ROOT / "labels.csv").exists(), reason="ELPV is not fetched (transferbench fetch elpv)")
def test_elpv_s_own_labels_file_read_as_a_manifest_is_what_the_elpv_provider_reads():
    """ELPV's labels.csv has no header, spaces between columns and probabilities for labels."""
    manifest = Manifest(sep="whitespace", columns=["path", "defect_probability", "type"], where={"type": "mono"},
                        label_rule={"column": "defect_probability", "threshold": 0.5,
                                    "names": ["functional", "defective"]})
    read = manifest.load("all", ELPV_ROOT / "labels.csv", (300, 300))
    reference = ELPV(uncertain="functional", types=["mono"]).load("all", ELPV_ROOT)
    assert read.classes == reference.classes and len(read) == len(reference)
    assert label_and_sum(read) == label_and_sum(reference)  # the elpv provider orders cells by type


def label_and_sum(data) -> list[tuple[int, int]]:
    """(label, pixel sum) of every image, sorted: the set of labelled images, whatever their order."""
    return sorted(zip(data.labels.tolist(), data.inputs.flatten(1).long().sum(1).tolist()))
