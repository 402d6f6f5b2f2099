"""Tiny datasets written in the real on-disk formats, so the providers' real code paths run offline.

Every writer returns the uint8 images [N, H, W, C] and labels it wrote, so a test can
check that the provider reads back exactly those pixels. Pixels are random per image.
"""

import gzip
import pickle
from pathlib import Path

import numpy as np

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
STL10_CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def images(n_classes: int, per_class: int, height: int, width: int, channels: int, seed: int):
    """Random uint8 images [N, H, W, C] with labels 0..n_classes-1, classes interleaved."""
    rng = np.random.default_rng(seed)
    labels = np.tile(np.arange(n_classes), per_class)
    return rng.integers(0, 256, (len(labels), height, width, channels), dtype=np.uint8), labels


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with (gzip.open if compress else open)(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def write_mnist(directory: Path, prefix: str, per_class: int, seed: int = 0, compress: bool = True):
    """{prefix}-images-idx3-ubyte[.gz] and {prefix}-labels-idx1-ubyte[.gz] (prefix "train" or "t10k")."""
    directory.mkdir(parents=True, exist_ok=True)
    pixels, labels = images(10, per_class, 28, 28, 1, seed)
    suffix = ".gz" if compress else ""
    write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", pixels[..., 0], compress)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress)
    return pixels, labels


def write_emnist(directory: Path, variant: str, part: str, per_class: int, seed: int = 0):
    """emnist-{variant}-{part}-images-idx3-ubyte and -labels-idx1-ubyte (part "train" or "test"), unzipped
    as torchvision reads them from EMNIST/raw/."""
    directory.mkdir(parents=True, exist_ok=True)
    pixels, labels = images(10, per_class, 28, 28, 1, seed)
    write_idx(directory / f"emnist-{variant}-{part}-images-idx3-ubyte", pixels[..., 0], compress=False)
    write_idx(directory / f"emnist-{variant}-{part}-labels-idx1-ubyte", labels, compress=False)
    return pixels, labels


def write_cifar10(root: Path, per_class: int, seed: int = 0):
    """root/cifar-10-batches-py/: data_batch_1..5 and test_batch (pickled dicts, rows C-major), batches.meta."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for index, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        pixels, labels = images(10, per_class, 32, 32, 3, seed + index)
        rows = pixels.transpose(0, 3, 1, 2).reshape(len(pixels), -1)  # [N, 3*32*32], as CIFAR stores them
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": rows, "labels": labels.tolist()}, handle)
        written[name] = (pixels, labels)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": CIFAR10_CLASSES}, handle)
    return written


def write_stl10(root: Path, per_class: int, seed: int = 0):
    """root/stl10_binary/: {train,test}_X.bin (uint8 [N, 3, 96, 96], column-major images), _y.bin (1..10)."""
    folder = root / "stl10_binary"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for index, split in enumerate(("train", "test")):
        pixels, labels = images(10, per_class, 96, 96, 3, seed + index)
        (folder / f"{split}_X.bin").write_bytes(pixels.transpose(0, 3, 2, 1).tobytes())  # [N, C, W, H]
        (folder / f"{split}_y.bin").write_bytes((labels + 1).astype(np.uint8).tobytes())
        written[split] = (pixels, labels)
    (folder / "unlabeled_X.bin").write_bytes(b"")  # no unlabeled images: torchvision only checks it exists
    (folder / "class_names.txt").write_text("\n".join(STL10_CLASSES) + "\n")
    return written


def write_hf(path: Path, splits: dict, channels: int, size: int, seed: int = 0, names=None):
    """A DatasetDict with columns image (PIL) and label (ClassLabel), written with save_to_disk."""
    import datasets
    from PIL import Image

    written, parts = {}, {}
    names = names or [str(c) for c in range(10)]
    for index, (split, per_class) in enumerate(splits.items()):
        pixels, labels = images(len(names), per_class, size, size, channels, seed + index)
        mode = "L" if channels == 1 else "RGB"
        pil = [Image.fromarray(p[..., 0] if channels == 1 else p, mode) for p in pixels]
        features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=names)})
        parts[split] = datasets.Dataset.from_dict({"image": pil, "label": labels.tolist()}, features=features)
        written[split] = (pixels, labels)
    datasets.DatasetDict(parts).save_to_disk(str(path))
    return written


def write_imagefolder(root: Path, classes, per_class: int, sizes=((40, 40),), seed: int = 0, suffix=".png"):
    """root/<class>/<n>.png, RGB; image i of a class has size sizes[i % len(sizes)]."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            height, width = sizes[i % len(sizes)]
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").save(root / name / f"frame_{i:04d}{suffix}")


def write_miniimagenet(root: Path, mode: str, n_classes: int, per_class: int, seed: int = 0):
    """root/mini-imagenet-cache-{mode}.pkl: {"image_data": uint8 [N, 84, 84, 3], "class_dict": {wnid: [rows]}}."""
    root.mkdir(parents=True, exist_ok=True)
    pixels, labels = images(n_classes, per_class, 84, 84, 3, seed)
    class_dict = {f"n{c:08d}": np.nonzero(labels == c)[0].tolist() for c in range(n_classes)}
    with open(root / f"mini-imagenet-cache-{mode}.pkl", "wb") as handle:
        pickle.dump({"image_data": pixels, "class_dict": class_dict}, handle)
    return pixels, labels
