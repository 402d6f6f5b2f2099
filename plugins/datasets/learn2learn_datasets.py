"""learn2learn: the few-shot benchmark datasets of ``learn2learn.vision.datasets``, from local files.

    { provider = "learn2learn", name = "MiniImagenet", split = "train" }   # DATA/mini-imagenet-cache-train.pkl
    { provider = "learn2learn", name = "FC100", split = "test" }           # DATA/FC100_test.pickle

The split is learn2learn's ``mode`` ("train", "validation" (or "val"), "test"; "all"
where the class has it), so the class splits are learn2learn's (Ravi & Larochelle's
for mini-ImageNet, Bertinetto et al.'s for CIFAR-FS, ...). FullOmniglot has no mode: it
is all 1,623 characters, so its only split is "all" (slice it, or use the ``omniglot``
provider for class-disjoint splits). ``download=False`` always; the files are looked for
before the class is built, because learn2learn's classes create their root directory
and may start unpacking archives.
"""

from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, LabelledData, did_you_mean
from plugins.datasets.images import class_names, stack_images, to_chw

MODES = {"train": "train", "validation": "validation", "val": "validation", "test": "test", "all": "all"}


def expected_files(dataset: str, mode: str, root: Path) -> list[Path] | None:
    """The files each learn2learn class reads for ``mode`` (None: not known here, only root is checked)."""
    short = "val" if mode == "validation" else mode
    known = {
        "MiniImagenet": [root / f"mini-imagenet-cache-{mode}.pkl"],
        "TieredImagenet": [root / "tiered-imagenet" / f"{short}_images_png.pkl",
                           root / "tiered-imagenet" / f"{short}_labels.pkl"],
        "FC100": [root / f"FC100_{short}.pickle"],
        "CIFARFS": [root / "cifarfs" / "processed" / short],
        "FullOmniglot": [root / "omniglot-py" / "images_background", root / "omniglot-py" / "images_evaluation"],
    }
    return known.get(dataset)


class Learn2LearnDatasets(DatasetProvider):
    name = "learn2learn"
    description = "learn2learn.vision.datasets (MiniImagenet, TieredImagenet, CIFARFS, FC100, ...) from local files."
    citation = """@article{arnold2020learn2learn,
  title = {learn2learn: A Library for Meta-Learning Research},
  author = {Arnold, S{\\'e}bastien M. R. and Mahajan, Praateek and Datta, Debajyoti and Bunner, Ian and Zarkias, Konstantinos Saitas},
  journal = {arXiv preprint arXiv:2008.12284},
  year = {2020}
}"""
    how_to_get = ("Fetch it once on a machine with internet with learn2learn itself, e.g. "
                  "learn2learn.vision.datasets.MiniImagenet(root, mode='train', download=True), and copy root's files.")
    default_root = ""

    def __init__(self, dataset=None, kwargs=None):
        self.dataset = dataset    # the class name, from the table's `name`
        self.kwargs = kwargs      # extra constructor arguments

    def mode(self, split: str) -> str:
        if self.dataset == "FullOmniglot" and split != "all":  # it takes no mode: "train" would equal "test"
            raise DataError(f"learn2learn FullOmniglot has one split, \"all\" (all 1,623 classes), not '{split}': "
                            f"take per-class slices such as \"all[:80%]\" and \"all[80%:]\", or use provider "
                            f"\"omniglot\" for class-disjoint splits (Lake's background/evaluation, Vinyals et al.'s "
                            f"train/val/test)")
        if split not in MODES:
            raise DataError(f"learn2learn {self.dataset}: split must be one of {sorted(MODES)}, not '{split}'")
        return MODES[split]

    def dataset_class(self):
        try:
            import learn2learn.vision.datasets as l2l_datasets
        except ModuleNotFoundError as error:  # not a pip requirement: see pyproject.toml
            raise DataError(f"provider 'learn2learn' needs learn2learn 0.2.0 ({error}): scripts/setup.sh "
                            "installs it, the README's Setup section says how elsewhere") from error

        names = [n for n in dir(l2l_datasets) if n[0].isupper()]
        if self.dataset not in names:
            raise DataError(f"provider 'learn2learn' needs name = a learn2learn.vision.datasets class, got "
                            f"{self.dataset!r}{did_you_mean(str(self.dataset), names)}")
        return getattr(l2l_datasets, self.dataset)

    def files(self, split, root):
        return expected_files(self.dataset, self.mode(split), root)

    def load(self, split, root, size) -> LabelledData:
        cls = self.dataset_class()
        mode = self.mode(split)
        reserved = [key for key in ("mode", "download") if key in (self.kwargs or {})]
        if reserved:
            raise DataError(f"learn2learn {self.dataset}: options kwargs may not set '{reserved[0]}' (the suite's "
                            f"split sets mode, and nothing is downloaded)")
        arguments = {} if self.dataset == "FullOmniglot" else {"mode": mode}
        try:
            dataset = cls(str(root), download=False, **arguments, **(self.kwargs or {}))
        except (RuntimeError, FileNotFoundError, OSError, ValueError) as error:
            raise DataError(f"learn2learn {self.dataset} split '{split}' could not be read from {root}: "
                            f"{type(error).__name__}: {error}. {self.how_to_get}") from None
        if torch.is_tensor(getattr(dataset, "x", None)):
            # MiniImagenet keeps every image as float 0..255 in .x [N, 3, 84, 84]; its labels in .y
            images = dataset.x.round().clamp_(0, 255).to(torch.uint8)
            labels = torch.as_tensor(dataset.y).long()
            names = sorted(dataset.class_idx, key=dataset.class_idx.get) if hasattr(dataset, "class_idx") else None
        else:
            pairs = [dataset[i] for i in range(len(dataset))]
            images = stack_images((to_chw(image) for image, _ in pairs), size)
            labels = torch.tensor([int(label) for _, label in pairs], dtype=torch.long)
            names = getattr(dataset, "classes", None)
        return LabelledData(images, labels, class_names(labels, names), f"learn2learn:{self.dataset}:{split}")
