"""Built-in dataset providers, registered through the same hook a third party uses.

Each provider module imports its library (torchvision, datasets, learn2learn) only
when a dataset is loaded, so listing plugins stays fast.
"""

from benchmark import hookimpl
from plugins.datasets.elpv import ELPV
from plugins.datasets.hf import HuggingFace
from plugins.datasets.imagefolder import ImageFolderTree
from plugins.datasets.kmnist import KMNIST
from plugins.datasets.learn2learn_datasets import Learn2LearnDatasets
from plugins.datasets.manifest import Manifest
from plugins.datasets.mnist import MNIST
from plugins.datasets.omniglot import Omniglot
from plugins.datasets.sklearn_digits import SklearnDigits
from plugins.datasets.spamassassin import SpamAssassin
from plugins.datasets.textfiles import TextFiles
from plugins.datasets.torchvision_datasets import TorchvisionDatasets
from plugins.datasets.usps import USPS
from plugins.datasets.vader import VADER


@hookimpl
def transferbench_datasets():
    return [SklearnDigits, MNIST, USPS, KMNIST, Omniglot, TorchvisionDatasets, HuggingFace, Learn2LearnDatasets,
            ImageFolderTree, Manifest, SpamAssassin, TextFiles, ELPV, VADER]
