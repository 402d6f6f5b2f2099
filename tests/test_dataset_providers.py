"""The library-backed providers (torchvision, hf, learn2learn, imagefolder) and the IDX reader,
on tiny data written in each library's real on-disk format: pixels must come back exactly."""

import numpy as np
import pytest
import torch
from tiny_formats import (CIFAR10_CLASSES, STL10_CLASSES, write_cifar10, write_emnist, write_hf, write_imagefolder,
                          write_miniimagenet, write_mnist, write_stl10)

from benchmark import DataError, MissingDataError
from plugins.datasets.hf import HuggingFace
from plugins.datasets.imagefolder import ImageFolderTree
from plugins.datasets.learn2learn_datasets import Learn2LearnDatasets
from plugins.datasets.mnist import MNIST
from plugins.datasets.torchvision_datasets import TorchvisionDatasets


def as_nchw(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels).permute(0, 3, 1, 2)


@pytest.fixture
def no_md5(monkeypatch):
    """torchvision checks CIFAR/STL files against the official md5s, which tiny files cannot match:
    only that check is replaced (by "the file exists"); the reading code is torchvision's own."""
    import os

    import torchvision.datasets.cifar
    import torchvision.datasets.stl10

    for module in (torchvision.datasets.cifar, torchvision.datasets.stl10):
        monkeypatch.setattr(module, "check_integrity", lambda path, md5=None: os.path.isfile(path))


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_idx_reads_gzip_and_plain_files(tmp_path, compress):
    pixels, labels = write_mnist(tmp_path, "train", per_class=3, compress=compress)
    data = MNIST().load("train", tmp_path)
    assert torch.equal(data.inputs, as_nchw(pixels))
    assert data.labels.tolist() == labels.tolist()


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_idx_closes_its_files(tmp_path, compress):
    import warnings

    write_mnist(tmp_path, "train", per_class=1, compress=compress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)  # an unclosed file warns when it is collected
        MNIST().load("train", tmp_path)
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_mnist_class_names_option_names_the_classes_and_must_cover_the_labels(tmp_path):
    write_mnist(tmp_path, "train", per_class=1)
    assert MNIST().load("train", tmp_path).classes == tuple("0123456789")
    fashion = [f"c{i}" for i in range(10)]
    assert MNIST(class_names=fashion).load("train", tmp_path).classes == tuple(fashion)
    with pytest.raises(DataError, match="option class_names names 3 classes, but .*train-labels-idx1-ubyte.gz has 10"):
        MNIST(class_names=["a", "b", "c"]).load("train", tmp_path)


def test_mnist_idx_rejects_a_file_that_is_not_idx(tmp_path):
    write_mnist(tmp_path, "t10k", per_class=1)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(Exception):
        MNIST().load("test", tmp_path)
    with pytest.raises(DataError, match="splits"):
        MNIST().files("validation", tmp_path)


def test_torchvision_mnist_from_its_raw_folder(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", "train", per_class=1, compress=False)  # torchvision wants all four
    pixels, labels = write_mnist(tmp_path / "MNIST" / "raw", "t10k", per_class=2, compress=False)
    provider = TorchvisionDatasets(dataset="MNIST")
    assert provider.files("test", tmp_path) == [tmp_path / "MNIST" / "raw"]
    data = provider.load("test", tmp_path, (28, 28))
    assert torch.equal(data.inputs, as_nchw(pixels)) and data.labels.tolist() == labels.tolist()
    assert data.classes[0] == "0 - zero"  # torchvision's own class names


def test_torchvision_emnist_reads_the_test_files_for_split_test(tmp_path):
    """EMNIST's own `split` (in kwargs) is its variant: train / test must still come from the suite's split."""
    raw = tmp_path / "EMNIST" / "raw"
    written = {"train": write_emnist(raw, "digits", "train", per_class=2, seed=0),
               "test": write_emnist(raw, "digits", "test", per_class=1, seed=1)}
    provider = TorchvisionDatasets(dataset="EMNIST", kwargs={"split": "digits"})
    for split, (pixels, labels) in written.items():
        data = provider.load(split, tmp_path, (28, 28))
        upright = as_nchw(pixels).transpose(2, 3)  # the files hold each image transposed (test_storage_conventions)
        assert torch.equal(data.inputs, upright) and data.labels.tolist() == labels.tolist(), split
    assert data.classes == tuple("0123456789")
    with pytest.raises(DataError, match="splits"):
        provider.load("validation", tmp_path, (28, 28))
    with pytest.raises(DataError, match=r"EMNIST: cannot be built .*'split'"):  # no variant given
        TorchvisionDatasets(dataset="EMNIST").load("train", tmp_path, (28, 28))


@pytest.mark.parametrize("name, kwargs", [("EMNIST", {"split": "digits", "train": True}), ("CIFAR10", {"train": True}),
                                          ("STL10", {"split": "train"}), ("QMNIST", {"what": "train"})])
def test_torchvision_kwargs_may_not_override_the_split(tmp_path, name, kwargs):
    """Else split "test" would silently read the training data."""
    overridden = "what" if name == "QMNIST" else "split" if name == "STL10" else "train"
    with pytest.raises(DataError, match=f"kwargs sets '{overridden}', which the suite's split decides"):
        TorchvisionDatasets(dataset=name, kwargs=kwargs).load("test", tmp_path, (28, 28))


def test_torchvision_cifar10_and_stl10_in_their_real_layouts(tmp_path, no_md5):
    cifar = write_cifar10(tmp_path, per_class=2)
    data = TorchvisionDatasets(dataset="CIFAR10").load("test", tmp_path, (32, 32))
    assert torch.equal(data.inputs, as_nchw(cifar["test_batch"][0]))
    assert data.classes == tuple(CIFAR10_CLASSES)
    train = TorchvisionDatasets(dataset="CIFAR10").load("train", tmp_path, (32, 32))
    assert len(train) == 5 * 20  # the five training batches

    stl = write_stl10(tmp_path, per_class=2)
    data = TorchvisionDatasets(dataset="STL10").load("train", tmp_path, (96, 96))
    assert torch.equal(data.inputs, as_nchw(stl["train"][0])) and data.labels.tolist() == stl["train"][1].tolist()
    assert data.classes == tuple(STL10_CLASSES)


def test_torchvision_errors_name_the_class_split_and_path(tmp_path):
    with pytest.raises(DataError, match="did you mean 'CIFAR10'"):
        TorchvisionDatasets(dataset="CIFAR-10").files("train", tmp_path)
    with pytest.raises(DataError, match="splits"):
        TorchvisionDatasets(dataset="CIFAR10").split_arguments(__import__("torchvision").datasets.CIFAR10, "val")
    with pytest.raises(MissingDataError, match="cifar-10-batches-py"):
        TorchvisionDatasets(dataset="CIFAR10").check("train", tmp_path)
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(DataError, match=r"torchvision CIFAR10 split 'train' could not be read .*not found or corrupted"):
        TorchvisionDatasets(dataset="CIFAR10").load("train", tmp_path, (32, 32))


def test_hf_save_to_disk_directory(tmp_path):
    written = write_hf(tmp_path / "digits", {"train": 3, "test": 2}, channels=1, size=28)
    provider = HuggingFace()
    data = provider.load("test", tmp_path / "digits", (28, 28))
    assert torch.equal(data.inputs, as_nchw(written["test"][0]))
    assert data.labels.tolist() == written["test"][1].tolist() and data.classes == tuple("0123456789")
    with pytest.raises(DataError, match=r"no split 'validation'; it has \['test', 'train'\]"):
        provider.load("validation", tmp_path / "digits", (28, 28))
    with pytest.raises(DataError, match="no column 'img'"):
        HuggingFace(image_column="img").load("train", tmp_path / "digits", (28, 28))


def test_hf_single_saved_dataset_with_plain_string_labels(tmp_path):
    import datasets
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (3, 10, 10), dtype=np.uint8)
    features = datasets.Features({"img": datasets.Image(), "animal": datasets.Value("string")})
    datasets.Dataset.from_dict({"img": [Image.fromarray(p, "L") for p in pixels], "animal": ["dog", "cat", "dog"]},
                               features=features).save_to_disk(str(tmp_path / "pets"))
    data = HuggingFace(image_column="img", label_column="animal").load("all", tmp_path / "pets", (10, 10))
    assert data.classes == ("cat", "dog") and data.labels.tolist() == [1, 0, 1]
    assert torch.equal(data.inputs[:, 0], torch.from_numpy(pixels))
    with pytest.raises(DataError, match=r"no split 'train'; it has \['all'\]"):
        HuggingFace(image_column="img", label_column="animal").load("train", tmp_path / "pets", (10, 10))


def test_hf_load_dataset_from_a_local_image_folder(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")  # keep ~/.cache clean
    write_imagefolder(tmp_path / "folder" / "train", ["cat", "dog"], per_class=3, sizes=((20, 24), (30, 30)))
    data = HuggingFace().load("train", tmp_path / "folder", (16, 16))
    # mixed sizes are resized one by one to the declared size on the way in
    assert data.inputs.shape == (6, 3, 16, 16) and data.inputs.dtype == torch.float32
    assert data.classes == ("cat", "dog") and torch.bincount(data.labels).tolist() == [3, 3]


@pytest.fixture
def connection_attempts(monkeypatch) -> list:
    """Every connection attempted while the test runs; each one fails (no network here)."""
    import socket

    attempts = []

    def no_network(self, address):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: no_network(None, address))
    return attempts


def test_hf_hub_id_not_in_the_cache_fails_offline_without_touching_the_network(tmp_path, monkeypatch,
                                                                              connection_attempts):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "empty-cache")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-home"))
    with pytest.raises(MissingDataError) as caught:
        HuggingFace(dataset="nobody/no-such-dataset").load("train", None, (28, 28))
    assert connection_attempts == [], "offline switches on: no connection may even be attempted"
    assert "dataset 'hf' split 'train' not found" in str(caught.value) and "Hugging Face cache" in str(caught.value)
    with pytest.raises(DataError, match="needs root"):
        HuggingFace().check("train", None)


def test_hf_offline_is_the_libraries_constants_on_for_the_call_and_leaves_the_environment_alone(
        tmp_path, monkeypatch, connection_attempts):
    """Both libraries read the environment once, at import: only their constants switch them offline."""
    import os

    import datasets
    import huggingface_hub.constants

    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)  # as imported with the switches off
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "empty-cache")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-home"))
    with pytest.raises(MissingDataError):
        HuggingFace(dataset="nobody/no-such-dataset").load("train", None, (28, 28))
    assert connection_attempts == []
    assert datasets.config.HF_HUB_OFFLINE is False and huggingface_hub.constants.HF_HUB_OFFLINE is False  # restored
    assert "HF_HUB_OFFLINE" not in os.environ and "HF_DATASETS_OFFLINE" not in os.environ  # never set


def test_imagefolder_split_folders_and_mixed_sizes(tmp_path):
    write_imagefolder(tmp_path / "office" / "train", ["back_pack", "bike"], per_class=2, sizes=((40, 40),))
    write_imagefolder(tmp_path / "office" / "test", ["back_pack", "bike"], per_class=3, sizes=((30, 40), (50, 20)))
    provider = ImageFolderTree()
    same = provider.load("train", tmp_path / "office", (32, 32))
    assert same.inputs.dtype == torch.uint8 and same.inputs.shape == (4, 3, 40, 40)  # one size: kept as is
    mixed = provider.load("test", tmp_path / "office", (32, 32))
    assert mixed.inputs.shape == (6, 3, 32, 32) and mixed.classes == ("back_pack", "bike")
    everything = provider.load("all", tmp_path / "office" / "train", (32, 32))
    assert torch.equal(everything.inputs, same.inputs)
    with pytest.raises(MissingDataError, match="validation"):
        provider.check("validation", tmp_path / "office")


def test_learn2learn_miniimagenet_pickle(tmp_path):
    pixels, labels = write_miniimagenet(tmp_path, "test", n_classes=3, per_class=2)
    data = Learn2LearnDatasets(dataset="MiniImagenet").load("test", tmp_path, (84, 84))
    assert torch.equal(data.inputs, as_nchw(pixels)) and data.labels.tolist() == labels.tolist()
    assert data.classes == ("n00000000", "n00000001", "n00000002")


def test_learn2learn_missing_files_fail_before_learn2learn_creates_anything(tmp_path):
    root = tmp_path / "nothing-here"
    provider = Learn2LearnDatasets(dataset="MiniImagenet")
    with pytest.raises(MissingDataError, match="nothing-here"):
        provider.check("train", root)
    tmp_path.joinpath("empty").mkdir()
    with pytest.raises(MissingDataError, match="mini-imagenet-cache-validation.pkl"):
        provider.check("val", tmp_path / "empty")
    assert not root.exists()
    with pytest.raises(DataError, match="did you mean 'MiniImagenet'"):
        Learn2LearnDatasets(dataset="MiniImageNet").dataset_class()


@pytest.mark.parametrize("split", ["train", "test", "validation"])
def test_learn2learn_fullomniglot_has_only_split_all(tmp_path, split):
    """It takes no mode, so every split was all 1,623 classes: "train" and "test" were the same data."""
    provider = Learn2LearnDatasets(dataset="FullOmniglot")
    with pytest.raises(DataError, match=r"FullOmniglot has one split, \"all\".*all\[:80%\].*provider \"omniglot\""):
        provider.files(split, tmp_path)
    with pytest.raises(DataError, match="one split"):
        provider.load(split, tmp_path, (28, 28))
    assert provider.files("all", tmp_path)[0] == tmp_path / "omniglot-py" / "images_background"


def test_learn2learn_kwargs_may_not_set_the_mode(tmp_path):
    with pytest.raises(DataError, match="kwargs may not set 'mode'"):
        Learn2LearnDatasets(dataset="MiniImagenet", kwargs={"mode": "train"}).load("test", tmp_path, (84, 84))


def test_sklearn_digits_splits_are_disjoint_and_cover_the_1797_images():
    from plugins.datasets.sklearn_digits import SklearnDigits

    provider = SklearnDigits()
    train, test, everything = (provider.load(split, None) for split in ("train", "test", "all"))
    assert len(everything) == 1797 and len(train) + len(test) == 1797
    assert everything.inputs.shape[1:] == (1, 8, 8) and int(everything.labels.max()) == 9
    assert all(path.exists() for path in provider.files("train", None))  # the file its cache key hashes


def test_sklearn_digits_train_is_the_first_two_thirds_of_each_class_rounded_down():
    """The committed quickstart results were made with this exact split (2n // 3 per class, not round(2n / 3))."""
    from plugins.datasets.sklearn_digits import SklearnDigits

    everything = SklearnDigits().load("all", None)
    labels = everything.labels.numpy()
    expected = {"train": [], "test": []}
    for label in range(10):
        members = np.flatnonzero(labels == label)
        expected["train"].extend(members[:2 * len(members) // 3])
        expected["test"].extend(members[2 * len(members) // 3:])
    for split, index in expected.items():
        data = SklearnDigits().load(split, None)
        assert torch.equal(data.inputs, everything.inputs[sorted(index)]), split
        assert data.labels.tolist() == labels[sorted(index)].tolist()
    assert len(expected["train"]) == 1195  # e.g. 178 zeros: 118 train (rounding would give 119; 1,198 in all)
