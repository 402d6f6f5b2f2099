"""sklearn-digits: the 1,797 8x8 handwritten digits that ship inside scikit-learn (UCI optdigits test set)."""

from importlib import resources
from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, LabelledData, slice_each_class


class SklearnDigits(DatasetProvider):
    name = "sklearn-digits"
    description = "scikit-learn's load_digits: 1,797 grey 8x8 digits, 10 classes; ships with scikit-learn."
    citation = """@misc{alpaydin1998optdigits,
  title = {Optical Recognition of Handwritten Digits},
  author = {Alpaydin, E. and Kaynak, C.},
  year = {1998},
  howpublished = {UCI Machine Learning Repository},
  doi = {10.24432/C50P49}
}"""
    how_to_get = "it ships with scikit-learn: pip install scikit-learn"
    # Fixed split, no randomness: in every class the first 2/3 of examples (in the
    # file's order) are "train", the rest "test"; "all" is everything.
    splits = ("train", "test", "all")

    def files(self, split, root):
        # The data ships inside scikit-learn, not under the data root.
        return [Path(str(resources.files("sklearn.datasets.data") / "digits.csv.gz"))]

    def load(self, split: str, root: Path, size=None) -> LabelledData:
        if split not in self.splits:
            raise DataError(f"sklearn-digits has splits {self.splits}, not '{split}'")
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # [1797, 1, 8, 8] in [0, 1]
        labels = torch.tensor(digits.target, dtype=torch.long)
        data = LabelledData(images, labels, tuple(str(c) for c in range(10)), f"sklearn-digits:{split}")
        if split == "all":
            return data

        def train_or_test(size: int) -> tuple[int, int]:
            cut = (2 * size) // 3  # rounded down, unlike a "[:66.67%]" slice: the committed results use this cut
            return (0, cut) if split == "train" else (cut, size)

        return slice_each_class(data, train_or_test)
