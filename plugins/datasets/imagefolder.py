"""imagefolder: class-per-folder image trees, e.g. Office-31 (``amazon/images/<class>/*.jpg``).

    root/<class>/<image>                   split "all": every image under root
    root/<split>/<class>/<image>           split "train", "test", ...: the tree root/<split>

Class names are the folder names, sorted (torchvision's ``ImageFolder`` rules, which
also decide the image extensions). Images of different sizes are resized one by one
to the pair's declared size as they are read.
"""

from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, LabelledData
from plugins.datasets.images import stack_images, to_chw


class ImageFolderTree(DatasetProvider):
    name = "imagefolder"
    description = "Class-per-folder image trees (root/<class>/<image>, or root/<split>/<class>/<image>)."
    how_to_get = ("Lay the images out as <root>/<class name>/<image file> (split \"all\") or "
                  "<root>/<split>/<class name>/<image file>, e.g. Office-31's <domain>/images/<class>/.")
    default_root = ""

    def tree(self, split: str, root: Path) -> Path:
        return root if split == "all" else root / split

    def files(self, split, root):
        return [self.tree(split, root)]

    def check(self, split, root):
        tree = self.tree(split, root)
        if not tree.is_dir():
            raise self.missing(split, tree)

    def load(self, split, root, size) -> LabelledData:
        from torchvision.datasets import ImageFolder
        from torchvision.datasets.folder import pil_loader

        tree = self.tree(split, root)
        try:
            folder = ImageFolder(str(tree), loader=pil_loader)
        except (FileNotFoundError, OSError) as error:  # e.g. "Found no valid file for the classes ..."
            raise DataError(f"imagefolder {tree}: {error}") from None
        images = [to_chw(folder.loader(path)) for path, _ in folder.samples]
        labels = torch.tensor(folder.targets, dtype=torch.long)
        return LabelledData(stack_images(images, size), labels, tuple(folder.classes), f"imagefolder:{tree.name}")
