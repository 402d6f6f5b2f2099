"""imagefolder: class-per-folder image trees, e.g. Office-31 (``amazon/images/<class>/*.jpg``).

    root/<class>/<image>                   split "all": every image under root
    root/<split>/<class>/<image>           split "train", "test", ...: the tree root/<split>

Class names are the folder names, sorted (torchvision's ``ImageFolder`` rules, which
also decide the image extensions). Images of different sizes are resized one by one
to the pair's declared size as they are read. Files are read as a person sees them
(``plugins.datasets.images``: 16-bit PNGs, palettes, CMYK, EXIF orientation), not through
torchvision's loader, whose ``convert("RGB")`` clips 16-bit images at 255; a file that
cannot be read stops the load with one line naming it.

``options = { group_pattern = '(module\\d+)_' }`` (a TOML literal string): the group of
each image (a solar module, a patient) is what this regular expression finds in its path below
the tree, e.g. ``defective/module12_cell3.png`` (the first parenthesised part, else the whole
match); ``[a%:b%]`` slices then take whole groups (``benchmark.data.groups``). A file the
pattern does not match is an error naming it.
"""

import re
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

    def __init__(self, group_pattern=None):
        try:
            self.group_pattern = re.compile(group_pattern) if group_pattern is not None else None
        except (re.error, TypeError) as error:
            raise DataError(f"imagefolder: group_pattern {group_pattern!r} is not a regular expression: {error}") from None

    def groups(self, tree: Path, paths: list[str]) -> tuple[str, ...] | None:
        """[N] the group each file's path below ``tree`` (with /) shows to ``group_pattern``; None without one."""
        if self.group_pattern is None:
            return None
        found = []
        for path in paths:
            relative = Path(path).relative_to(tree).as_posix()
            match = self.group_pattern.search(relative)
            if match is None:
                raise DataError(f"imagefolder {tree}: group_pattern '{self.group_pattern.pattern}' finds no group "
                                f"in {relative}")
            found.append(match.group(1) if self.group_pattern.groups else match.group(0))
        return tuple(found)

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
        return LabelledData(stack_images(images, size), labels, tuple(folder.classes), f"imagefolder:{tree.name}",
                            groups=self.groups(tree, [path for path, _ in folder.samples]),
                            group_source="group_pattern" if self.group_pattern else "")
