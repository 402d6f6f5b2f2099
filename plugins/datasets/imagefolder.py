"""imagefolder: class-per-folder image trees, e.g. Office-31 (``amazon/images/<class>/*.jpg``).

    root/<class>/<image>                   split "all": every image under root
    root/<split>/<class>/<image>           split "train", "test", ...: the tree root/<split>

Class names are the folder names, sorted (torchvision's ``ImageFolder`` rules, which
also decide the image extensions). Images of different sizes are resized one by one
to the pair's declared size as they are read. Files are read as a person sees them
(``plugins.datasets.images``: 16-bit PNGs, palettes, CMYK, EXIF orientation), not through
torchvision's loader, whose ``convert("RGB")`` clips 16-bit images at 255; a file that
cannot be read stops the load with one line naming it.
"""

from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, LabelledData
from plugins.datasets.images import read_image_file, stack_images


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

        tree = self.tree(split, root)
        try:
            # The tree's classes and files by torchvision's rules; each file is read below, by read_image_file.
            folder = ImageFolder(str(tree), loader=lambda path: None)
        except (FileNotFoundError, OSError) as error:  # e.g. "Found no valid file for the classes ..."
            raise DataError(f"imagefolder {tree}: {error}") from None
        try:
            images = [read_image_file(path) for path, _ in folder.samples]
        except DataError as error:
            raise DataError(f"imagefolder {tree}: {error}") from None
        labels = torch.tensor(folder.targets, dtype=torch.long)
        return LabelledData(stack_images(images, size), labels, tuple(folder.classes), f"imagefolder:{tree.name}")
