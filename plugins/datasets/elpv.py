"""elpv: electroluminescence images of solar cells, labelled by how likely each cell is defective.

    { provider = "elpv", split = "pool", options = { label = "defect", types = ["mono"] } }

The ELPV dataset (Buerhop-Lutz et al. 2018; Deitsch et al. 2019): 2,624 grey 300 x 300 images
of cells cut from 44 photovoltaic modules, each rated by an expert as defective with probability
0, 1/3, 2/3 or 1, and typed as a mono- or polycrystalline cell. Read from the dataset's own layout
in the data root's ``elpv/`` (``transferbench fetch elpv`` lays it out from its pinned wheel)::

    labels.csv          whitespace-separated: images/cellNNNN.png  probability  mono|poly
    images/cellNNNN.png

Options:
- ``label``: ``"defect"`` (functional = probability 0, defective = probability >= 0.5; the
  uncertain 1/3 is left out unless ``uncertain`` says where it goes), ``"probability"`` (the four
  levels as classes "0", "1/3", "2/3", "1") or ``"type"`` (mono / poly).
- ``uncertain``: for ``label = "defect"``, ``"drop"`` (default), ``"functional"`` or ``"defective"``.
- ``types``: keep only these cell types (default both).

Splits are deterministic and stratified by class *and* cell type: mono and poly cells are spread
unevenly over the file names, so halving each class in file-name order would put a hidden type
shift between the halves. Within every (class, type) group, in file-name order, the first half
is ``pool`` and the second half ``test``; ``all`` is every kept image. Within a class, images
are ordered by their relative position in their (class, type) group, so a per-class slice such as
``test[:50%]`` keeps the split's mix of types too.
"""

from pathlib import Path

import numpy as np
import torch

from benchmark import DataError, DatasetProvider, LabelledData, did_you_mean

SPLITS = ("pool", "test", "all")
LABELS = ("defect", "probability", "type")
UNCERTAIN = ("drop", "functional", "defective")
TYPES = ("mono", "poly")
LEVELS = {0.0: "0", 1 / 3: "1/3", 2 / 3: "2/3", 1.0: "1"}


class ELPV(DatasetProvider):
    name = "elpv"
    description = "ELPV solar-cell electroluminescence images (300x300 grey): defect, probability or cell type."
    citation = """@article{deitsch2019automatic,
  title = {Automatic classification of defective photovoltaic module cells in electroluminescence images},
  author = {Deitsch, Sergiu and Christlein, Vincent and Berger, Stephan and Buerhop-Lutz, Claudia and
            Maier, Andreas and Gallwitz, Florian and Riess, Christian},
  journal = {Solar Energy}, volume = {185}, pages = {455--468}, year = {2019}
}
@inproceedings{buerhop2018benchmark,
  title = {A Benchmark for Visual Identification of Defective Solar Cells in Electroluminescence Imagery},
  author = {Buerhop-Lutz, Claudia and Deitsch, Sergiu and Maier, Andreas and Gallwitz, Florian and
            Berger, Stephan and Doll, Bernd and Hauch, Jens and Camus, Christian and Brabec, Christoph J.},
  booktitle = {35th European PV Solar Energy Conference and Exhibition}, pages = {1287--1289}, year = {2018}
}"""
    how_to_get = "Run `transferbench fetch elpv --data-root DATA_ROOT` (the pinned elpv-dataset wheel)."
    default_root = "elpv"

    def __init__(self, label="defect", uncertain="drop", types=TYPES):
        for option, value, allowed in (("label", label, LABELS), ("uncertain", uncertain, UNCERTAIN)):
            if value not in allowed:
                raise DataError(f"dataset 'elpv': {option} must be one of {allowed}, not '{value}'"
                                f"{did_you_mean(str(value), allowed)}")
        unknown = [t for t in types if t not in TYPES]
        if unknown:
            raise DataError(f"dataset 'elpv': types must be among {TYPES}, not '{unknown[0]}'")
        self.label, self.uncertain, self.types = label, uncertain, tuple(types)

    def files(self, split, root):
        if split not in SPLITS:
            raise DataError(f"dataset 'elpv' has splits {SPLITS}, not '{split}'{did_you_mean(split, SPLITS)}")
        return [Path(root) / "labels.csv", Path(root) / "images"]

    def table(self, root: Path) -> tuple[list[str], np.ndarray, list[str]]:
        """labels.csv -> (relative image paths, probabilities [N] float, types [N])."""
        path = root / "labels.csv"
        rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
        bad = next((i for i, row in enumerate(rows, 1) if len(row) != 3 or row[2] not in TYPES), None)
        if bad is not None:
            raise DataError(f"{path} line {bad}: expected 'images/cellNNNN.png PROBABILITY mono|poly'")
        return [r[0] for r in rows], np.array([float(r[1]) for r in rows]), [r[2] for r in rows]

    def classes_of(self, probability: float, cell_type: str) -> tuple[tuple[str, ...], str | None]:
        """The class names and this cell's class (None: left out)."""
        if self.label == "type":
            return TYPES, cell_type
        if self.label == "probability":
            return tuple(LEVELS.values()), LEVELS[min(LEVELS, key=lambda level: abs(level - probability))]
        if abs(probability - 1 / 3) < 1e-6:
            return ("functional", "defective"), None if self.uncertain == "drop" else self.uncertain
        return ("functional", "defective"), "defective" if probability >= 0.5 else "functional"

    def load(self, split, root, size=None) -> LabelledData:
        from PIL import Image

        self.files(split, root)
        root = Path(root)
        paths, probabilities, types = self.table(root)
        kept = []  # (class index, type, path), in file-name order
        for path, probability, cell_type in zip(paths, probabilities, types):
            classes, name = self.classes_of(probability, cell_type)
            if name is not None and cell_type in self.types:
                kept.append((classes.index(name), cell_type, path))
        if split != "all":
            kept = half_of_each_group(kept, first=split == "pool")
        kept = spread_types(kept)
        images = []
        for _, _, path in kept:
            try:
                with Image.open(root / path) as image:
                    images.append(np.asarray(image.convert("L")))  # [300, 300] uint8
            except OSError as error:
                raise DataError(f"dataset 'elpv': cannot read image {root / path}: {error}") from None
        inputs = torch.from_numpy(np.stack(images))[:, None]      # [N, 1, 300, 300] uint8
        labels = torch.tensor([label for label, _, _ in kept], dtype=torch.long)
        return LabelledData(inputs, labels, classes, f"elpv:{split}")


def by_group(rows: list[tuple]) -> dict[tuple, list]:
    """rows (class index, type, path) grouped by (class, type), each group in the rows' order."""
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault(row[:2], []).append(row)
    return groups


def half_of_each_group(rows: list[tuple], first: bool) -> list[tuple]:
    """The first (or second) half of every (class, type) group of ``rows``, keeping their order."""
    chosen = {id(row) for group in by_group(rows).values()
              for row in (group[:len(group) // 2] if first else group[len(group) // 2:])}
    return [row for row in rows if id(row) in chosen]


def spread_types(rows: list[tuple]) -> list[tuple]:
    """``rows`` ordered by their relative position in their (class, type) group: a per-class slice of the
    result takes about the same share of every type (file order would take mostly one type)."""
    position = {id(row): (index + 0.5) / len(group) for group in by_group(rows).values()
                for index, row in enumerate(group)}
    return sorted(rows, key=lambda row: (position[id(row)], row[1]))
