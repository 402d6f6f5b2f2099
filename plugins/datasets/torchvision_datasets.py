"""torchvision: any dataset class of ``torchvision.datasets``, read from local files (``download=False``).

    { provider = "torchvision", name = "CIFAR10", split = "train" }      # DATA/cifar-10-batches-py/
    { provider = "torchvision", name = "STL10", split = "test" }         # DATA/stl10_binary/
    { provider = "torchvision", name = "EMNIST", options = { kwargs = { split = "digits" } } }

``root`` (default: the data root itself) is passed to the class as its ``root``; the
class adds its own folder, as it would when downloading. The suite's split is passed
as the class expects it: ``train=`` for "train" / "test" in the MNIST family (EMNIST's
own ``split`` is its variant, "digits", "letters", ..., given in ``kwargs``), ``what=``
for QMNIST (its "train", "test", "test10k", "test50k", "nist"), else ``split=`` where the
class takes one, ``train=`` for "train" / "test", ``background=`` for Omniglot's
"background" / "evaluation"; a class with no split takes split "all". ``kwargs`` may not
set the argument the split decides. Nothing is ever downloaded.

Images are handed out as a person sees them (``plugins.datasets.images``), including where a
class hands them out as stored: EMNIST's files, and torchvision's class, keep every image
transposed (column-major, as NIST's originals were converted), so its letters and digits
would lie on their side; they are transposed back here.
"""

import inspect
import numbers

import torch

from benchmark import DataError, DatasetProvider, LabelledData, did_you_mean
from plugins.datasets.images import class_names, stack_images, to_chw


def stored_transposed(cls) -> bool:
    """Whether ``cls`` hands out images transposed, H and W swapped (EMNIST: see the module doc)."""
    import torchvision.datasets

    return issubclass(cls, torchvision.datasets.EMNIST)


BOOLEAN_SPLITS = {"train": {"train": True, "test": False}, "background": {"background": True, "evaluation": False}}


class TorchvisionDatasets(DatasetProvider):
    name = "torchvision"
    description = "Any torchvision.datasets class from local files (download=False); name = the class name."
    how_to_get = ("Fetch it once on a machine with internet, e.g. torchvision.datasets.CIFAR10(root, download=True), "
                  "and copy root's contents to that directory.")
    default_root = ""  # the data root: each class adds its own folder (cifar-10-batches-py, MNIST/raw, ...)

    def __init__(self, dataset=None, kwargs=None):
        self.dataset = dataset    # the class name, from the table's `name`
        self.kwargs = kwargs      # extra constructor arguments

    def dataset_class(self):
        import torchvision.datasets

        names = [n for n in torchvision.datasets.__all__ if n[0].isupper()]
        if self.dataset not in names:
            raise DataError(f"provider 'torchvision' needs name = a torchvision.datasets class, got "
                            f"{self.dataset!r}{did_you_mean(str(self.dataset), names)}")
        return getattr(torchvision.datasets, self.dataset)

    def split_arguments(self, cls, split: str) -> dict:
        import torchvision.datasets

        parameters = inspect.signature(cls.__init__).parameters
        # The MNIST family first: EMNIST takes a `split` that is its variant, not train or test
        # (which it takes as `train=` through **kwargs), and QMNIST's `what` overrides `train`.
        if issubclass(cls, torchvision.datasets.QMNIST):
            if split not in cls.subsets:
                raise DataError(f"torchvision QMNIST has splits {sorted(cls.subsets)}, not '{split}'")
            return {"what": split}
        if issubclass(cls, torchvision.datasets.MNIST):
            if split not in BOOLEAN_SPLITS["train"]:
                raise DataError(f"torchvision {self.dataset} has splits {sorted(BOOLEAN_SPLITS['train'])}, not '{split}'")
            return {"train": BOOLEAN_SPLITS["train"][split]}
        if "split" in parameters:
            return {"split": split}
        for argument, values in BOOLEAN_SPLITS.items():
            if argument in parameters:
                if split not in values:
                    raise DataError(f"torchvision {self.dataset} has splits {sorted(values)}, not '{split}'")
                return {argument: values[split]}
        if split != "all":
            raise DataError(f"torchvision {self.dataset} has no splits: use split = \"all\" (and slices of it)")
        return {}

    def files(self, split, root):
        import torchvision.datasets

        cls = self.dataset_class()
        if getattr(cls, "base_folder", None):                 # CIFAR10/100, STL10, ...
            return [root / cls.base_folder]
        if issubclass(cls, torchvision.datasets.MNIST):        # MNIST, FashionMNIST, KMNIST, EMNIST, QMNIST
            return [root / cls.__name__ / "raw"]
        return None  # unknown layout: not cached, and only the root is checked

    def load(self, split, root, size) -> LabelledData:
        cls = self.dataset_class()
        derived, kwargs = self.split_arguments(cls, split), self.kwargs or {}
        overridden = [key for key in derived if key in kwargs]
        if overridden:  # else "train" and "test" could both read the same files: testing on the training data
            raise DataError(f"torchvision {self.dataset}: options kwargs sets '{overridden[0]}', which the suite's "
                            f"split decides (split '{split}' gives {overridden[0]} = {derived[overridden[0]]!r}); "
                            f"remove it from kwargs")
        arguments = {**derived, **kwargs}
        if "download" in inspect.signature(cls.__init__).parameters:
            arguments["download"] = False
        try:
            dataset = cls(str(root), **arguments)
        except (RuntimeError, FileNotFoundError, OSError) as error:  # torchvision's "Dataset not found or corrupted"
            raise DataError(f"torchvision {self.dataset} split '{split}' could not be read from {root}: {error}. "
                            f"{self.how_to_get}") from None
        except (TypeError, ValueError) as error:  # a missing or unknown argument, e.g. EMNIST without its variant
            raise DataError(f"torchvision {self.dataset}: cannot be built with {arguments}: {error}") from None
        images, labels, transposed = [], [], stored_transposed(cls)
        for index in range(len(dataset)):
            image, label = dataset[index]
            if not isinstance(label, numbers.Integral) and not (torch.is_tensor(label) and label.numel() == 1):
                raise DataError(f"torchvision {self.dataset}: targets must be class indices, got {type(label).__name__}")
            image = to_chw(image)                          # [C, H, W]
            images.append(image.transpose(1, 2) if transposed else image)
            labels.append(int(label))
        labels = torch.tensor(labels, dtype=torch.long)
        if len(labels) and int(labels.min()) < 0:  # e.g. STL10's "unlabeled" split marks every image -1
            raise DataError(f"torchvision {self.dataset} split '{split}' has unlabelled images (label -1)")
        return LabelledData(stack_images(images, size), labels, class_names(labels, getattr(dataset, "classes", None)),
                            f"torchvision:{self.dataset}:{split}")
