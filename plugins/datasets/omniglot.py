"""omniglot: Lake et al.'s 1,623 handwritten characters (20 drawers each), from the ``.npz`` copies.

    DATA/omniglot/images_background.npz   images bool (964, 20, 105, 105), True = paper, False = ink
    DATA/omniglot/images_evaluation.npz   images bool (659, 20, 105, 105)
    DATA/omniglot/alphabets.csv           set, alphabet, first/last character id, n_characters, npz_first_index
    DATA/omniglot/splits/vinyals/{train,val,test,trainval}.txt    lines "Alphabet/characterNN/rotDDD"

Splits:
    background, evaluation       Lake et al.'s sets: 964 / 659 classes "Alphabet/characterNN"
    train, val, test, trainval   Vinyals et al. (2016): 1,028 / 172 / 423 / 1,200 characters, each in
                                 4 rotations (0, 90, 180, 270 degrees) that are separate classes
                                 "Alphabet/characterNN/rotDDD": 4,112 / 688 / 1,692 / 4,800 classes

Images come out as uint8 [N, 1, 105, 105] with ink 255 on a black background (ink = 1 after
scaling, as in Finn et al.'s and Snell et al.'s loaders); when the pair's size is another, as
float [N, 1, H, W] in [0, 1], each character's drawings resized as the loader resizes every
split (``benchmark.data.shifts.to_shape``: the same values), so the 105x105 split is never held
whole (trainval: 1.06 GB as uint8, 0.30 GB at 28x28 in float). A rotation turns the image counter-
clockwise (as PIL's ``Image.rotate`` does in Snell et al.'s loader), exactly, by ``torch.rot90``.
"""

import csv
from pathlib import Path

import numpy as np
import torch

from benchmark import DataError, DatasetProvider, LabelledData, to_shape

LAKE_SPLITS = ("background", "evaluation")
VINYALS_SPLITS = ("train", "val", "test", "trainval")
DRAWERS = 20


class Omniglot(DatasetProvider):
    name = "omniglot"
    description = "Omniglot from .npz: Lake's background/evaluation sets, Vinyals et al.'s split x 4 rotations."
    citation = """@article{lake2015human,
  title = {Human-level concept learning through probabilistic program induction},
  author = {Lake, Brenden M. and Salakhutdinov, Ruslan and Tenenbaum, Joshua B.},
  journal = {Science},
  volume = {350}, number = {6266}, pages = {1332--1338},
  year = {2015}
}
@inproceedings{vinyals2016matching,
  title = {Matching Networks for One Shot Learning},
  author = {Vinyals, Oriol and Blundell, Charles and Lillicrap, Timothy and Kavukcuoglu, Koray and Wierstra, Daan},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2016}
}"""
    how_to_get = ("It needs images_background.npz and images_evaluation.npz (each official zip's PNGs as a bool "
                  "array [characters, 20, 105, 105]), alphabets.csv and splits/vinyals/*.txt (from Snell et al.'s "
                  "prototypical-networks repository); ../shared/data/omniglot has them all, see its SOURCES.md.")
    default_root = "omniglot"

    def __init__(self, split_dir="splits/vinyals"):
        self.split_dir = split_dir

    def files(self, split, root):
        sets = [root / f"images_{s}.npz" for s in LAKE_SPLITS]
        if split in LAKE_SPLITS:
            return [root / f"images_{split}.npz", root / "alphabets.csv"]
        if split in VINYALS_SPLITS:
            return [*sets, root / "alphabets.csv", root / self.split_dir / f"{split}.txt"]
        raise DataError(f"dataset 'omniglot' has splits {LAKE_SPLITS + VINYALS_SPLITS}, not '{split}'")

    def alphabets(self, root: Path) -> dict[str, tuple[str, int, int]]:
        """alphabet -> (set, row of its first character in the set's npz, number of characters)."""
        with open(root / "alphabets.csv", newline="", encoding="utf-8") as handle:
            return {row["alphabet"]: (row["set"], int(row["npz_first_index"]), int(row["n_characters"]))
                    for row in csv.DictReader(handle)}

    def load(self, split, root, size=None) -> LabelledData:
        self.files(split, root)  # validates the split name
        alphabets = self.alphabets(root)
        if split in LAKE_SPLITS:
            # Every character of the set, in npz order: (alphabet, NN, rotation 0)
            wanted = [(name, nn, 0) for name, (kind, _, count) in alphabets.items() if kind == split
                      for nn in range(1, count + 1)]
            wanted.sort(key=lambda w: alphabets[w[0]][1] + w[1])
            names = [f"{name}/character{nn:02d}" for name, nn, _ in wanted]
        else:
            lines = (root / self.split_dir / f"{split}.txt").read_text(encoding="utf-8").split()
            wanted = [self.parse(line, alphabets, split) for line in lines]
            names = lines
        sets = {kind: np.load(root / f"images_{kind}.npz", allow_pickle=False)["images"]
                for kind in {alphabets[name][0] for name, _, _ in wanted}}
        height, width = size = tuple(size) if size is not None else (105, 105)
        resize = size != (105, 105)
        images = torch.empty((len(wanted), DRAWERS, height, width), dtype=torch.float32 if resize else torch.uint8)
        for position, (name, nn, degrees) in enumerate(wanted):
            kind, first, _ = alphabets[name]
            ink = torch.from_numpy(~sets[kind][first + nn - 1])            # [20, 105, 105] bool, True = ink
            drawings = torch.rot90(ink, k=degrees // 90, dims=(1, 2)).to(torch.uint8) * 255
            if resize:  # what the loader's to_float_shape does to every split, here one character at a time
                drawings = to_shape(drawings[:, None].float() / 255.0, 1, size)[:, 0]
            images[position] = drawings
        labels = torch.arange(len(wanted)).repeat_interleave(DRAWERS)
        return LabelledData(images.reshape(-1, 1, height, width), labels, tuple(names), f"omniglot:{split}")

    @staticmethod
    def parse(line: str, alphabets: dict, split: str) -> tuple[str, int, int]:
        """'Alphabet/characterNN/rotDDD' -> (alphabet, NN, DDD), checked against alphabets.csv."""
        try:
            alphabet, character, rotation = line.split("/")
            nn, degrees = int(character.removeprefix("character")), int(rotation.removeprefix("rot"))
        except ValueError:
            raise DataError(f"omniglot split '{split}': cannot parse line '{line}'") from None
        if alphabet not in alphabets or not 1 <= nn <= alphabets[alphabet][2] or degrees % 90:
            raise DataError(f"omniglot split '{split}': '{line}' names no character in alphabets.csv")
        return alphabet, nn, degrees
