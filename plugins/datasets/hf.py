"""hf: Hugging Face ``datasets``, read offline from a local directory or the local cache.

    { provider = "hf", root = "hf/mnist", split = "test" }     # a save_to_disk directory (load_from_disk),
                                                               # or any local dataset load_dataset reads
    { provider = "hf", name = "ylecun/mnist", split = "test" } # a Hub id, from the local HF cache only
    options = { config = "cropped_digits", image_column = "image", label_column = "label" }
    options = { text_column = "text", label_column = "label" }  # texts: the pair's input is modality "text"
    options = { group_column = "speaker_id" }  # slices take whole groups (benchmark.data.groups)

The Hub is never contacted: loading runs with Hugging Face's offline switches on
(``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``), so data that is not on disk fails at
once instead of retrying a network that is not there.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, LabelledData, TextData, did_you_mean
from plugins.datasets.images import read_image_file, stack_images, to_chw


@contextmanager
def offline():
    """Hugging Face's offline switches, on for the duration and restored after.

    Both libraries read $HF_HUB_OFFLINE / $HF_DATASETS_OFFLINE once, at import, into these
    module constants, and check only the constants when they would reach the network; so
    setting the environment here would change nothing, and would outlive the call.
    """
    import datasets.config
    import huggingface_hub.constants

    saved = datasets.config.HF_HUB_OFFLINE, huggingface_hub.constants.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = huggingface_hub.constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, huggingface_hub.constants.HF_HUB_OFFLINE = saved


def is_saved_to_disk(path: Path) -> bool:
    return (path / "dataset_dict.json").exists() or (path / "state.json").exists()


def refuse_dangling_links(root: Path) -> None:
    """A link under ``root`` to a file that is gone is a DataError naming it: the library's file
    listing skips such links, so a local image folder would silently lose those images."""
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() and not path.exists():
                raise DataError(f"hf {root}: cannot read {path}: a link to {path.readlink()}, which does not exist")


class HuggingFace(DatasetProvider):
    name = "hf"
    description = "Hugging Face datasets: a save_to_disk / local dataset directory, or a Hub id from the local cache."
    how_to_get = ("On a machine with internet run datasets.load_dataset(ID).save_to_disk(DIR) and copy DIR to "
                  "that path (or copy the Hugging Face cache, $HF_HOME, and name the dataset by its Hub id).")
    default_root = None  # no root: the table's `name` is a Hub id read from the local cache

    def __init__(self, dataset=None, config=None, image_column="image", label_column="label", text_column=None,
                 group_column=None):
        self.dataset = dataset          # a Hub id, from the table's `name`
        self.config = config
        self.image_column = image_column
        self.label_column = label_column
        self.text_column = text_column  # set: a text dataset
        self.group_column = group_column  # set: the group of each example (a speaker, a patient)
        self.modality = "text" if text_column else "image"

    def files(self, split, root):
        return [root] if root is not None else None  # the Hub cache has its own fingerprints

    def check(self, split, root):
        if root is None and not self.dataset:
            raise DataError("provider 'hf' needs root = a local dataset directory or name = a Hub id")
        if root is not None and not Path(root).exists():
            raise self.missing(split, root)

    def open(self, split: str, root: Path | None):
        import datasets

        with offline():
            try:
                if root is not None and is_saved_to_disk(root):
                    loaded = datasets.load_from_disk(str(root))
                    splits = sorted(loaded) if isinstance(loaded, datasets.DatasetDict) else ["all"]
                    if split not in splits:  # a saved single Dataset is one split, "all"
                        raise DataError(f"hf {root}: no split '{split}'; it has {splits}")
                    return loaded[split] if isinstance(loaded, datasets.DatasetDict) else loaded
                if root is not None and root.is_dir():
                    refuse_dangling_links(root)
                return datasets.load_dataset(str(root) if root is not None else self.dataset, self.config,
                                             split=split)
            except DataError:
                raise
            except Exception as error:  # offline misses surface as ConnectionError, FileNotFoundError, ...
                where = root if root is not None else f"the Hugging Face cache ({datasets.config.HF_DATASETS_CACHE})"
                raise self.missing(split, f"{where}: {type(error).__name__}: {str(error).splitlines()[0]}") from None

    def load(self, split, root, size) -> LabelledData | TextData:
        dataset = self.open(split, root)
        for column in (self.text_column or self.image_column, self.label_column, self.group_column):
            if column is not None and column not in dataset.column_names:
                raise DataError(f"hf {root or self.dataset} split '{split}': no column '{column}'"
                                f"{did_you_mean(column, dataset.column_names)}; it has {dataset.column_names} "
                                f"(set options {'text' if self.text_column else 'image'}_column / label_column"
                                f"{' / group_column' if self.group_column else ''})")
        groups = tuple(str(value) for value in dataset[self.group_column]) if self.group_column else None
        grouping = {"groups": groups, "group_source": self.group_column or ""}
        feature = dataset.features[self.label_column]
        raw_labels = list(dataset[self.label_column])
        if hasattr(feature, "names"):                        # a ClassLabel: integers with names
            classes, labels = tuple(feature.names), raw_labels
        else:                                                # plain values: their sorted distinct values
            classes = tuple(str(v) for v in sorted(set(raw_labels)))
            lookup = {value: i for i, value in enumerate(sorted(set(raw_labels)))}
            labels = [lookup[value] for value in raw_labels]
        name = f"hf:{root.name if root is not None else self.dataset}:{split}"
        if self.text_column:
            texts = tuple(dataset[self.text_column])
            empty = next((i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()), None)
            if empty is not None:
                raise DataError(f"hf {root or self.dataset} split '{split}': row {empty} has an empty "
                                f"'{self.text_column}'")
            return TextData(texts, torch.tensor(labels, dtype=torch.long), classes, name, **grouping)
        return LabelledData(self.images(dataset, split, root, size), torch.tensor(labels, dtype=torch.long), classes,
                            name, **grouping)

    def images(self, dataset, split, root, size) -> torch.Tensor:
        """The image column as [N, C, H, W] (``stack_images``). Image features are decoded here, not by the
        library, so that a damaged or missing file is one line naming it (and its row), not a traceback."""
        import datasets

        feature = dataset.features[self.image_column]
        column = dataset.select_columns([self.image_column])
        if not isinstance(feature, datasets.Image) or not feature.decode:  # arrays, nested lists, tensors
            return stack_images((to_chw(row[self.image_column]) for row in column), size)
        column = column.cast_column(self.image_column, datasets.Image(decode=False))  # {"bytes", "path"}

        def decoded(index, stored):
            path = stored["path"] or f"(bytes of row {index})"
            try:
                return read_image_file(path, stored["bytes"], feature.mode)
            except DataError as error:
                raise DataError(f"hf {root or self.dataset} split '{split}' row {index}: {error}") from None

        return stack_images((decoded(index, row[self.image_column]) for index, row in enumerate(column)), size)
