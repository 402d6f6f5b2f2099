"""Every file-format provider on the real files in ../shared/data, against the official counts
in ../shared/data/SOURCES.md (skipped, saying so, where the files are absent)."""

import pytest
import torch

from benchmark import MissingDataError
from plugins.datasets.kmnist import KMNIST
from plugins.datasets.mnist import MNIST
from plugins.datasets.omniglot import Omniglot
from plugins.datasets.usps import USPS

MNIST_TEST_PER_CLASS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
USPS_PER_CLASS = {"train": [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644],
                  "test": [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]}


def test_mnist_idx_test_split_has_the_official_counts(shared_data):
    data = MNIST().load("test", shared_data / "mnist")
    assert data.inputs.shape == (10_000, 1, 28, 28) and data.inputs.dtype == torch.uint8
    assert torch.bincount(data.labels).tolist() == MNIST_TEST_PER_CLASS
    assert data.classes == tuple("0123456789")
    # real digits: mostly black background, white strokes, the full byte range used
    assert int(data.inputs.max()) == 255 and 0.08 < data.inputs.float().mean().item() / 255 < 0.2


def test_mnist_train_split_is_missing_offline_and_the_error_says_where_and_how(shared_data):
    with pytest.raises(MissingDataError) as caught:
        MNIST().check("train", shared_data / "mnist")
    message = str(caught.value)
    assert "dataset 'mnist' split 'train'" in message
    assert str(shared_data / "mnist" / "train-images-idx3-ubyte.gz") in message
    assert "stands_in_for" in message and "\n" not in message


@pytest.mark.parametrize("split", ["train", "test"])
def test_usps_h5_and_esl_files_hold_the_same_official_split(shared_data, split):
    h5 = USPS(format="h5").load(split, shared_data / "usps")
    esl = USPS(format="esl").load(split, shared_data / "usps")
    assert h5.inputs.shape == (sum(USPS_PER_CLASS[split]), 1, 16, 16)
    assert torch.bincount(h5.labels).tolist() == USPS_PER_CLASS[split]
    assert torch.equal(h5.labels, esl.labels)
    assert (h5.inputs - esl.inputs).abs().max() < 1e-6  # usps.h5 = (ESL + 1) / 2
    assert 0.0 <= float(h5.inputs.min()) and float(h5.inputs.max()) <= 1.0


def test_kmnist_test_split_has_1000_per_class_and_hiragana_names(shared_data):
    data = KMNIST().load("test", shared_data / "kmnist")
    assert data.inputs.shape == (10_000, 1, 28, 28)
    assert torch.bincount(data.labels).tolist() == [1000] * 10
    assert data.classes[0] == "o" and data.classes[-1] == "wo"


def test_omniglot_lake_sets_have_964_and_659_characters_of_20_drawers(shared_data):
    root = shared_data / "omniglot"
    background, evaluation = Omniglot().load("background", root), Omniglot().load("evaluation", root)
    assert (background.num_classes, evaluation.num_classes) == (964, 659)
    for data in (background, evaluation):
        assert data.inputs.shape == (20 * data.num_classes, 1, 105, 105)
        assert torch.bincount(data.labels).tolist() == [20] * data.num_classes
        assert ((data.inputs == 0) | (data.inputs == 255)).all()  # 1-bit drawings
        assert data.inputs.float().mean() / 255 < 0.2  # ink (255) is the minority: not inverted
    assert len({name.split("/")[0] for name in background.classes}) == 30
    assert len({name.split("/")[0] for name in evaluation.classes}) == 20
    assert background.classes[107].startswith("Balinese/")  # character id 108 (SOURCES.md)


def test_omniglot_vinyals_split_counts_and_rotations(shared_data):
    root = shared_data / "omniglot"
    counts = {}
    for split in ("train", "val", "test"):
        data = Omniglot().load(split, root)
        characters = {name.rsplit("/", 1)[0] for name in data.classes}
        counts[split] = len(characters)
        assert data.num_classes == 4 * len(characters) and len(data) == 20 * data.num_classes
        assert label_range_ok(data)
        if split == "test":
            test = data
    assert counts == {"train": 1028, "val": 172, "test": 423}
    # rot090 of a character is exactly its rot000 drawings turned a quarter counterclockwise
    assert test.classes[0].endswith("/rot000")
    base = test.inputs[test.labels == 0]
    turned = test.inputs[test.labels == test.classes.index(test.classes[0].replace("rot000", "rot090"))]
    assert torch.equal(turned, torch.rot90(base, 1, dims=(2, 3)))
    assert not torch.equal(turned, base)


def label_range_ok(data) -> bool:
    return int(data.labels.min()) == 0 and int(data.labels.max()) == data.num_classes - 1


def test_omniglot_resized_at_load_has_the_values_the_loader_would_make(shared_data, tmp_path):
    """At the pair's size the provider resizes character by character (never holding the 105 px
    split: 1 GB for trainval); the values are exactly those the loader's whole-split resize makes."""
    from benchmark.data.loader import to_float_shape
    from benchmark.data.providers import InputSpec

    root = shared_data / "omniglot"
    lines = (root / "splits" / "vinyals" / "test.txt").read_text().split()
    (tmp_path / "test.txt").write_text("\n".join(lines[:6] + lines[-2:]))  # a few characters, rotations included
    provider = Omniglot(split_dir=str(tmp_path))  # an absolute split_dir replaces root / split_dir
    full, small = provider.load("test", root), provider.load("test", root, (28, 28))
    assert small.inputs.shape == (160, 1, 28, 28) and small.inputs.dtype == torch.float32
    assert torch.equal(small.inputs, to_float_shape(full.inputs, InputSpec(channels=1, size=(28, 28))))
    assert torch.equal(small.labels, full.labels) and small.classes == full.classes
