"""manifest: images listed in a table (CSV, TSV or JSON Lines), one row per image, with its label and
any other columns; no folder tree to build.

    [pairs.target]                       # a dataset table; TOML keeps an inline { ... } on one line
    provider = "manifest"
    root = "solar/cells.csv"
    split = "all[:50%]"
    options = { label_column = "label", where = { type = "mono" }, group_column = "module" }

``root`` is the manifest file, under the data root. Options (read by ``manifest_table``, with pandas):

- ``path_column`` (default "path"): the image file, relative to the manifest's folder, or absolute.
- the label, one of: ``label_column`` (default "label"; its distinct values, sorted, are the classes)
  or a rule on a numeric column, e.g. ELPV's defect probabilities::

      label_rule = { column = "defect_probability", threshold = 0.5, names = ["functional", "defective"] }

  (a value at or above the threshold takes the next name; a list of ascending thresholds makes
  len + 1 classes).
- ``where = { type = "mono" }``: only the rows whose column holds this value (or one of a list).
- ``split_column``: split "train" is the rows whose ``split_column`` says "train"; "all" is every
  row. Without it the manifest has one split, "all" (cut it with ``all[:50%]`` / ``all[50%:]``).
- ``group_column``: the group of each image (a solar module, a patient): ``[a%:b%]`` slices take
  whole groups, and the overlap check counts groups on both sides (``benchmark.data.groups``).
- ``sep``: the separator, from the suffix by default ("," for .csv, a tab for .tsv, JSON Lines
  for .jsonl); "whitespace" for runs of spaces. ``columns``: names for a file without a header.

Images are read as a person sees them, by the rules every image provider shares
(``plugins.datasets.images``: 16-bit, palettes, CMYK, EXIF orientation) and resized one by one
to the pair's size when their sizes differ. An image that is missing or damaged stops the run
in one line naming it and its manifest row, before anything is trained.
"""

from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, LabelledData
from plugins.datasets.images import read_image_file, stack_images
from plugins.datasets.manifest_table import LabelRule, Rows, choose, read_table


class Manifest(DatasetProvider):
    name = "manifest"
    description = "Images listed in a CSV, TSV or JSON Lines file: a path column, a label column or rule, filters, groups."
    how_to_get = ("Set root to the manifest file (CSV, TSV or JSON Lines) under the data root; its image paths "
                  "are relative to its folder.")
    default_root = None  # no default: the table's root names the manifest file

    def __init__(self, path_column="path", label_column=None, label_rule=None, where=None, split_column=None,
                 group_column=None, sep=None, columns=None):
        if label_column is not None and label_rule is not None:
            raise DataError("manifest: set label_column or label_rule, not both")
        if where is not None and not isinstance(where, dict):
            raise DataError('manifest: where is a table of column = value (or [values]), e.g. where = { type = "mono" }')
        if columns is not None and not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
            raise DataError('manifest: columns is a list of names, e.g. columns = ["path", "label"]')
        self.path_column = path_column
        self.label_rule = LabelRule.parse(label_rule) if label_rule is not None else None
        self.label_column = None if self.label_rule else label_column or "label"
        self.where = dict(where or {})
        self.split_column, self.group_column = split_column, group_column
        self.sep, self.columns = sep, columns

    def rows(self, split: str, root: Path) -> Rows:
        """The split's rows: their image paths, labels and groups (``manifest_table.choose``)."""
        if root is None:
            raise DataError(f"provider 'manifest' needs root = the manifest file under the data root. {self.how_to_get}")
        root = Path(root)
        if root.is_dir():
            listed = sorted(p.name for p in root.iterdir() if p.suffix.lower() in (".csv", ".tsv", ".jsonl"))[:5]
            raise DataError(f"manifest root {root} is a folder: name the manifest file in it"
                            f"{', e.g. ' + str(root / listed[0]) if listed else ''}")
        if not root.exists():
            raise self.missing(split, root)
        return choose(read_table(root, self.sep, self.columns), root, split, self)

    def files(self, split, root):
        """The manifest and the images of the split: their bytes key the preprocessing cache."""
        if root is None or not Path(root).is_file():
            return [root] if root is not None else None
        return [Path(root), *self.rows(split, root).paths]

    def check(self, split, root):
        """The manifest reads, names its columns and rows, and every image of the split exists."""
        rows = self.rows(split, root)
        for path, row in zip(rows.paths, rows.rows):
            if not path.exists():
                self.read(path, row, root)  # raises the image's own one-line reason (no such file, a dangling link)

    def read(self, path: Path, row: int, root: Path) -> torch.Tensor:
        """One row's image, [C, H, W]; a DataError naming the manifest row when it cannot be read."""
        try:
            return read_image_file(path)
        except DataError as error:
            raise DataError(f"manifest {root} row {row}: {error}") from None

    def load(self, split, root, size) -> LabelledData:
        rows = self.rows(split, root)
        images = [self.read(path, row, root) for path, row in zip(rows.paths, rows.rows)]
        return LabelledData(stack_images(images, size), torch.tensor(rows.labels, dtype=torch.long), rows.classes,
                            f"manifest:{Path(root).name}:{split}", groups=rows.groups,
                            group_source=self.group_column or "")
