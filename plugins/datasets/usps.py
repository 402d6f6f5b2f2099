"""usps: the USPS handwritten digits, 16x16 grey: 7,291 train + 2,007 test (Le Cun et al. 1990).

Reads either of the two common files in the data root's ``usps/`` directory:

    usps.h5             train/data, test/data float (N, 256) in [0, 1]; train/target, test/target
    zip.train.gz / zip.test.gz   the ESL text files: per line a label, then 256 values in [-1, 1]

Both hold the same images (usps.h5 = (ESL + 1) / 2), so ``format = "auto"`` takes whichever is there.
"""

import gzip
from pathlib import Path

import numpy as np
import torch

from benchmark import DataError, DatasetProvider, LabelledData

SPLITS = ("train", "test")
FORMATS = ("auto", "h5", "esl")


class USPS(DatasetProvider):
    name = "usps"
    description = "USPS digits from usps.h5 or the ESL zip.train.gz / zip.test.gz: 16x16 grey, 10 classes."
    citation = """@article{hull1994database,
  title = {A database for handwritten text recognition research},
  author = {Hull, Jonathan J.},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume = {16}, number = {5}, pages = {550--554},
  year = {1994}
}"""
    how_to_get = ("Put usps.h5, or the zip.train.gz and zip.test.gz files that ship with The Elements of "
                  "Statistical Learning's data sets, in that directory.")
    default_root = "usps"

    def __init__(self, format="auto"):
        self.format = format

    def path(self, split: str, root: Path) -> Path:
        if split not in SPLITS:
            raise DataError(f"dataset 'usps' has splits {SPLITS}, not '{split}'")
        if self.format not in FORMATS:
            raise DataError(f"dataset 'usps': format must be one of {FORMATS}, not '{self.format}'")
        h5, esl = root / "usps.h5", root / f"zip.{split}.gz"
        if self.format == "auto":
            return h5 if h5.exists() or not esl.exists() else esl
        return h5 if self.format == "h5" else esl

    def files(self, split, root):
        return [self.path(split, root)]

    def load(self, split, root, size=None) -> LabelledData:
        path = self.path(split, root)
        if path.suffix == ".h5":
            import h5py

            with h5py.File(path, "r") as handle:
                pixels = np.asarray(handle[f"{split}/data"], dtype=np.float32)  # [N, 256] in [0, 1]
                labels = np.asarray(handle[f"{split}/target"], dtype=np.int64)
        else:
            with gzip.open(path, "rt") as handle:
                rows = np.loadtxt(handle, dtype=np.float32)                     # [N, 1 + 256]
            labels, pixels = rows[:, 0].astype(np.int64), (rows[:, 1:] + 1.0) / 2.0
        if pixels.shape[1:] != (256,) or len(labels) != len(pixels):
            raise DataError(f"{path}: expected (N, 256) pixels and N labels, got {pixels.shape} and {labels.shape}")
        images = torch.from_numpy(pixels).reshape(-1, 1, 16, 16).clamp_(0.0, 1.0)
        return LabelledData(images, torch.from_numpy(labels), tuple(str(c) for c in range(10)), f"usps:{split}")
