"""A real image set listed in a manifest, for the manifest provider's and the grouped splits' tests.

scikit-learn's first 400 digits, written as 8-bit grey PNGs (their 0..16 scaled to 0..255), stand in
for solar cells: ``cells.csv`` lists one row per image, as a user's spreadsheet would::

    path               label   defect_probability  type  module     split  leaky_split
    images/c0000.png   zero    0.0                 mono  module_00  train  train
    ...

- ``label``: the digit's English name; ``defect_probability``: digit / 9.
- ``type``: "mono" for even rows, "poly" for odd ones.
- ``module``: 40 groups of 10 consecutive images (every group holds several digits).
- ``split``: module 30..39 are "test", the rest "train" (groups never on both sides);
  ``leaky_split``: rows alternate, so every module is on both sides.
"""

from pathlib import Path

import numpy as np

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
COUNT = 400


def digits() -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [COUNT, 8, 8] pixels, int [COUNT] digits)."""
    from sklearn.datasets import load_digits

    loaded = load_digits()
    return np.round(loaded.images[:COUNT] * 255 / 16).astype(np.uint8), loaded.target[:COUNT]


def table(images_dir: str = "images"):
    """The manifest as a pandas DataFrame (paths relative to the folder the manifest is written in)."""
    import pandas as pd

    _, labels = digits()
    rows = np.arange(COUNT)
    return pd.DataFrame({
        "path": [f"{images_dir}/c{i:04d}.png" for i in rows],
        "label": [NAMES[d] for d in labels],
        "defect_probability": labels / 9,
        "type": np.where(rows % 2 == 0, "mono", "poly"),
        "module": [f"module_{i // 10:02d}" for i in rows],
        "split": np.where(rows // 10 >= 30, "test", "train"),
        "leaky_split": np.where(rows % 2 == 0, "train", "test"),
    })


def write_cells(root: Path) -> Path:
    """root/images/c*.png and root/cells.csv; returns the manifest's path."""
    from PIL import Image

    pixels, _ = digits()
    (root / "images").mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(pixels):
        Image.fromarray(image, "L").save(root / "images" / f"c{i:04d}.png")
    table().to_csv(root / "cells.csv", index=False)
    return root / "cells.csv"
