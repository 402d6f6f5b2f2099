"""Issue 26.5b: images of one group (a solar module, a patient, a speaker) never on both sides of a split.

On scikit-learn's digits written as PNGs with a manifest whose ``module`` column groups them
(tests/manifest_cells.py): percentage slices take whole groups and split the groups between
them; the overlap check names groups found on both sides and refuses them unless the pair
allows overlap; source-val holds out whole groups; imagefolder's ``group_pattern`` and hf's
``group_column`` give groups the same way.
"""

import itertools
from pathlib import Path

import pytest
import torch
from manifest_cells import write_cells

from benchmark import records
from benchmark.cli import main
from benchmark.data import overlap
from benchmark.data.labelled import LabelledData
from benchmark.data.providers import stratified_slice
from benchmark.selection.plan import split_source
from plugins.datasets.hf import HuggingFace
from plugins.datasets.imagefolder import ImageFolderTree
from plugins.datasets.manifest import Manifest


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_cells(root / "cells")
    return root


@pytest.fixture(scope="module")
def grouped(data_root) -> LabelledData:
    return Manifest(group_column="module").load("all", data_root / "cells" / "cells.csv", (8, 8))


@pytest.mark.parametrize("cuts", [(0.5,), (0.3, 0.7), (0.2, 0.4, 0.6, 0.8), (0.01,)])
def test_slices_with_complementary_bounds_split_the_groups_between_them(grouped, cuts):
    bounds = list(zip((0.0, *cuts), (*cuts, 1.0)))
    parts = [stratified_slice(grouped, f"all[{low * 100:g}%:{high * 100:g}%]") for low, high in bounds]
    assert sum(len(part) for part in parts) == len(grouped)  # every image in exactly one slice
    for a, b in itertools.combinations(parts, 2):
        assert not set(a.groups) & set(b.groups)  # no group on both sides
    for part in parts:  # whole groups: every group keeps all 10 of its images
        assert all(part.groups.count(name) == 10 for name in set(part.groups))


def test_a_grouped_half_keeps_about_half_of_every_class(grouped):
    half = stratified_slice(grouped, "all[:50%]")
    whole, kept = torch.bincount(grouped.labels), torch.bincount(half.labels, minlength=10)
    assert 180 <= len(half) <= 220 and ((kept / whole) - 0.5).abs().max() < 0.2


def test_without_groups_a_slice_is_per_class_as_before(grouped):
    plain = LabelledData(grouped.inputs, grouped.labels, grouped.classes)
    half = stratified_slice(plain, "all[:50%]")
    assert torch.equal(torch.bincount(half.labels), (torch.bincount(grouped.labels).float() / 2).round().long())


def suite(tmp_path: Path, target: str, extra: str = "") -> Path:
    path = tmp_path / "grouped.toml"
    path.write_text(f"""
name = "grouped"
seeds = [0]
budgets = [2]
strategies = ["target-only"]
input = {{ channels = 1, size = [8, 8] }}
{extra}
[[pairs]]
name = "cells"
source = {{ provider = "sklearn-digits", split = "train" }}
target = {{ provider = "manifest", root = "cells/cells.csv", {target} }}
[hparams.target-only]
adapt_steps = 1
""")
    return path


def run(path: Path, data_root: Path, out: Path, *extra) -> int:
    return main(["run", str(path), "--data-root", str(data_root), "--out", str(out), "--no-progress",
                 "--threads", "1", *extra])


@pytest.mark.parametrize("target", [
    'split = "all[:50%]", test_split = "all[50%:]", options = { group_column = "module" }',
    'split = "train", test_split = "test", options = { split_column = "split", group_column = "module" }',
])
def test_a_grouped_split_passes_the_overlap_check(tmp_path, data_root, target):
    assert run(suite(tmp_path, target), data_root, tmp_path / "out") == 0
    (record,) = records.read(tmp_path / "out" / "grouped" / "records.jsonl")
    assert record["status"] == "ok" and record["overlap"] is None


def test_groups_on_both_sides_are_refused_naming_them(tmp_path, data_root, capsys):
    """leaky_split alternates rows, so each of the 40 modules has images in the pool and in the test split:
    no image is shared, and before groups nothing was said."""
    target = 'split = "train", test_split = "test", options = { split_column = "leaky_split", group_column = "module" }'
    path = suite(tmp_path, target)
    assert run(path, data_root, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"transferbench: error: {path}: pair 'cells': scored examples that are also training "
                          f"data, compared by content (target pool ∩ target test: 40 groups are on both sides: "
                          f"module_00, module_01, module_02, module_03, module_04, ...); nothing was trained.")
    assert err.count("\n") == 1 and not (tmp_path / "out" / "grouped" / "records.jsonl").exists()


def test_allowed_shared_groups_are_counted_in_the_records(tmp_path, data_root):
    target = 'split = "train", test_split = "test", options = { split_column = "leaky_split", group_column = "module" }'
    assert run(suite(tmp_path, target, "allow_overlap = true"), data_root, tmp_path / "out") == 0
    (record,) = records.read(tmp_path / "out" / "grouped" / "records.jsonl")
    assert record["overlap"] == {"target pool ∩ target test" + overlap.GROUPS: 40}
    assert overlap.describe(record["overlap"]) == "target pool ∩ target test: 40 groups are on both sides"


def test_groups_are_compared_only_between_sets_whose_groups_name_the_same_thing(grouped):
    pool, test = grouped.subset(torch.arange(10, 400)), grouped.subset(torch.arange(10))  # test: module_00 only
    other_images = grouped.inputs[:10] + 1                                               # no image shared
    speakers = LabelledData(other_images, test.labels, test.classes, groups=test.groups, group_source="speaker")
    assert overlap.find("transfer", speakers, pool, test) == {}  # speaker "module_00" is not module_00
    modules = LabelledData(other_images, test.labels, test.classes, groups=test.groups, group_source="module")
    found = overlap.find("transfer", modules, pool, test)
    assert found == {"source ∩ target test" + overlap.GROUPS: 1}
    assert overlap.describe(found) == "source ∩ target test: 1 group is on both sides: module_00"


def test_source_val_holds_out_whole_groups(grouped):
    for seed in range(3):
        train, held = split_source(grouped, seed)
        assert len(train) + len(held) == len(grouped)
        assert not set(train.groups) & set(held.groups)
        assert 0.1 < len(held) / len(grouped) < 0.3


def test_imagefolder_groups_come_from_a_pattern_on_the_file_path(tmp_path):
    from PIL import Image

    for index in range(24):
        folder = tmp_path / ("defective" if index % 3 == 0 else "functional")
        folder.mkdir(exist_ok=True)
        Image.new("L", (4, 4), color=index).save(folder / f"module{index // 4}_cell{index}.png")
    data = ImageFolderTree(group_pattern=r"(module\d+)_").load("all", tmp_path, (4, 4))
    assert set(data.groups) == {f"module{k}" for k in range(6)} and data.group_source == "group_pattern"
    first, second = stratified_slice(data, "all[:50%]"), stratified_slice(data, "all[50%:]")
    assert not set(first.groups) & set(second.groups) and len(first) + len(second) == 24
    with pytest.raises(Exception, match=r"group_pattern 'panel\\d' finds no group in defective/module0_cell0\.png"):
        ImageFolderTree(group_pattern=r"panel\d").load("all", tmp_path, (4, 4))


def test_hf_groups_come_from_a_column(tmp_path):
    import datasets
    import numpy as np

    images = np.arange(12 * 16, dtype=np.uint8).reshape(12, 4, 4)
    datasets.Dataset.from_dict({"image": list(images), "label": [i % 2 for i in range(12)],
                                "speaker": [f"s{i // 3}" for i in range(12)]}).save_to_disk(str(tmp_path / "hf"))
    data = HuggingFace(group_column="speaker").load("all", tmp_path / "hf", (4, 4))
    assert data.groups == tuple(f"s{i // 3}" for i in range(12)) and data.group_source == "speaker"
    with pytest.raises(Exception, match=r"no column 'speakr' \(did you mean 'speaker'\?\)"):
        HuggingFace(group_column="speakr").load("all", tmp_path / "hf", (4, 4))
