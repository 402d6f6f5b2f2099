"""mnist: MNIST-format IDX files (``.gz`` or plain), e.g. MNIST itself, Fashion-MNIST, KMNIST's IDX release.

    DATA/mnist/train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz     split "train" (60,000)
    DATA/mnist/t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz      split "test"  (10,000)

An IDX file is a 4-byte magic (0, 0, element type, number of dimensions), one
big-endian uint32 per dimension, then the elements (here uint8) in row-major order.
"""

import gzip
from pathlib import Path

import numpy as np
import torch

from benchmark import DataError, DatasetProvider, LabelledData
from plugins.datasets.images import class_names

PREFIX = {"train": "train", "test": "t10k"}
UBYTE = 0x08


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes as an array of its declared shape."""
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != UBYTE:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataError(f"{path}: header declares shape {shape} but holds {body.size} values")
    return body.reshape(shape)


class MNIST(DatasetProvider):
    name = "mnist"
    description = "MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST IDX): 28x28 grey, 10 classes."
    citation = """@article{lecun1998gradient,
  title = {Gradient-based learning applied to document recognition},
  author = {LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua and Haffner, Patrick},
  journal = {Proceedings of the IEEE},
  volume = {86}, number = {11}, pages = {2278--2324},
  year = {1998}
}"""
    how_to_get = ("Put the four IDX files (train-/t10k-images-idx3-ubyte.gz, train-/t10k-labels-idx1-ubyte.gz; "
                  "torchvision.datasets.MNIST(root, download=True) fetches them into root/MNIST/raw/ on a machine "
                  "with internet) in that directory. ../shared/data/mnist has only the 10,000 test images: "
                  "use split \"test\" with stands_in_for = \"train\" and slices such as \"test[:50%]\".")
    default_root = "mnist"

    def __init__(self, class_names=None):
        self.class_names = class_names  # e.g. Fashion-MNIST's ["T-shirt/top", ...]; default "0".."9"

    def paths(self, split: str, root: Path) -> tuple[Path, Path]:
        if split not in PREFIX:
            raise DataError(f"dataset 'mnist' has splits {sorted(PREFIX)}, not '{split}'")
        found = []
        for kind in ("images-idx3", "labels-idx1"):
            plain = root / f"{PREFIX[split]}-{kind}-ubyte"
            gz = plain.with_name(plain.name + ".gz")
            found.append(gz if gz.exists() or not plain.exists() else plain)
        return found[0], found[1]

    def files(self, split, root):
        return list(self.paths(split, root))

    def load(self, split, root, size=None) -> LabelledData:
        images_path, labels_path = self.paths(split, root)
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.shape != (len(images),):
            raise DataError(f"{images_path}: {images.shape} images do not match {labels.shape} labels")
        labels = torch.from_numpy(labels.astype(np.int64))
        needed = len(class_names(labels))  # "0" .. the largest label
        if self.class_names is not None and len(self.class_names) < needed:
            # class_names() would quietly fall back to "0", "1", ...: names the suite gives must cover every label
            raise DataError(f"dataset 'mnist': option class_names names {len(self.class_names)} classes, but "
                            f"{labels_path} has {needed}")
        return LabelledData(torch.from_numpy(images.copy()).unsqueeze(1),  # [N, 1, 28, 28] uint8
                            labels, class_names(labels, self.class_names), f"mnist:{split}")
