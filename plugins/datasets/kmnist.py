"""kmnist: Kuzushiji-MNIST from its ``.npz`` release: 28x28 grey cursive hiragana, 10 classes.

    DATA/kmnist/kmnist-train-imgs.npz  kmnist-train-labels.npz   split "train" (60,000)
    DATA/kmnist/kmnist-test-imgs.npz   kmnist-test-labels.npz    split "test"  (10,000)

Each file holds one array ``arr_0``. Class names are the romanised hiragana of the
official kmnist_classmap.csv (0 = お o ... 9 = を wo).
"""

import numpy as np
import torch

from benchmark import DataError, DatasetProvider, LabelledData

CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
SPLITS = ("train", "test")


class KMNIST(DatasetProvider):
    name = "kmnist"
    description = "Kuzushiji-MNIST from kmnist-{train,test}-{imgs,labels}.npz: 28x28 grey hiragana, 10 classes."
    citation = """@article{clanuwat2018deep,
  title = {Deep Learning for Classical Japanese Literature},
  author = {Clanuwat, Tarin and Bober-Irizar, Mikel and Kitamoto, Asanobu and Lamb, Alex and Yamamoto, Kazuaki and Ha, David},
  journal = {arXiv preprint arXiv:1812.01718},
  year = {2018}
}"""
    how_to_get = ("Put kmnist-{train,test}-imgs.npz and kmnist-{train,test}-labels.npz from the KMNIST release "
                  "(github.com/rois-codh/kmnist) in that directory. ../shared/data/kmnist has only the test split.")
    default_root = "kmnist"

    def files(self, split, root):
        if split not in SPLITS:
            raise DataError(f"dataset 'kmnist' has splits {SPLITS}, not '{split}'")
        return [root / f"kmnist-{split}-imgs.npz", root / f"kmnist-{split}-labels.npz"]

    def load(self, split, root, size=None) -> LabelledData:
        images_path, labels_path = self.files(split, root)
        images, labels = (np.load(p, allow_pickle=False)["arr_0"] for p in (images_path, labels_path))
        if images.ndim != 3 or labels.shape != (len(images),):
            raise DataError(f"{images_path}: {images.shape} images do not match {labels.shape} labels")
        return LabelledData(torch.from_numpy(images).unsqueeze(1),  # [N, 1, 28, 28] uint8
                            torch.from_numpy(labels.astype(np.int64)), CLASSES, f"kmnist:{split}")
