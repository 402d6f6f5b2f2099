"""textfiles: labelled texts from a CSV / TSV / JSON-lines file or a class-per-folder tree.

    { provider = "textfiles", root = "news/train.csv", options = { text_column = "text", label_column = "label" } }
    { provider = "textfiles", root = "reviews", split = "train" }   # reviews/train/<class>/*.txt

A file root is one split (any split name reads it; slice it per class with ``[a%:b%]``); a
directory root holds one sub-directory per split, each with one folder per class.
"""

from pathlib import Path

import torch

from benchmark import DatasetProvider, TextData
from plugins.datasets.text_sources import read_folders, read_table


class TextFiles(DatasetProvider):
    name = "textfiles"
    description = "Labelled texts from CSV / TSV / JSONL files or class-per-folder trees of .txt files."
    modality = "text"
    how_to_get = "Point root at a .csv/.tsv/.jsonl file, or at a directory <root>/<split>/<class>/*.txt."
    default_root = None

    def __init__(self, text_column="text", label_column="label"):
        self.text_column = text_column
        self.label_column = label_column

    def path(self, split: str, root: Path) -> Path:
        return root if root.suffix else root / split

    def files(self, split, root):
        return [self.path(split, Path(root))] if root is not None else None

    def check(self, split, root):
        if root is None:
            raise self.missing(split, "(no root: name the file or directory with root = ...)")
        super().check(split, root)

    def load(self, split, root, size=None) -> TextData:
        path = self.path(split, Path(root))
        texts, labels, classes = (read_folders(path) if path.is_dir()
                                  else read_table(path, self.text_column, self.label_column))
        return TextData(tuple(texts), torch.tensor(labels, dtype=torch.long), classes, f"textfiles:{path.name}")
