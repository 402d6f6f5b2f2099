"""Turning the images libraries hand out (PIL images, numpy arrays, tensors) into one [N, C, H, W] tensor.

Shared by the torchvision, hf, learn2learn and imagefolder providers. Images of one
size are kept as uint8 (the loader resizes them later, in chunks); images of mixed
sizes are resized one by one to the pair's declared size on the way in, as floats.
"""

import numpy as np
import torch

from benchmark import DataError, to_shape

GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


def to_chw(image) -> torch.Tensor:
    """One image -> [C, H, W], C in {1, 3}: uint8 in [0, 255], or float32 in [0, 1] for float input."""
    if hasattr(image, "convert") and hasattr(image, "mode"):  # a PIL image
        image = np.asarray(image.convert("L" if image.mode in GREY_MODES else "RGB"))
    array = torch.from_numpy(np.array(image))  # a copy: library arrays may be read-only
    if array.ndim == 2:
        array = array[None]                                        # [H, W] -> [1, H, W]
    elif array.ndim == 3 and array.shape[-1] in (1, 3, 4) and array.shape[0] not in (1, 3, 4):
        array = array.permute(2, 0, 1)                             # [H, W, C] -> [C, H, W]
    if array.ndim != 3 or array.shape[0] not in (1, 3, 4):
        raise DataError(f"cannot read an image of shape {tuple(array.shape)} as [C, H, W]")
    array = array[:3]                                              # drop an alpha channel
    if array.dtype == torch.bool:
        return array.to(torch.uint8) * 255
    return array if array.dtype == torch.uint8 else array.float()


def stack_images(images, size: tuple[int, int]) -> torch.Tensor:
    """[C, H, W] tensors (see ``to_chw``) -> [N, C, H, W]; grey ones get 3 channels if any is in colour."""
    images = list(images)
    if not images:
        raise DataError("no images to stack")
    channels = max(image.shape[0] for image in images)
    same_size = len({tuple(image.shape[1:]) for image in images}) == 1
    if same_size and all(image.dtype == torch.uint8 for image in images):
        return torch.stack([image.expand(channels, -1, -1) for image in images])
    out = torch.empty((len(images), channels, *size), dtype=torch.float32)
    for i, image in enumerate(images):
        image = image.float() / 255.0 if image.dtype == torch.uint8 else image
        out[i] = to_shape(image[None], channels, tuple(size))[0]
    return out


def class_names(labels: torch.Tensor, names=None) -> tuple[str, ...]:
    """Names for labels 0..max: the library's own when they cover every label, else "0", "1", ..."""
    count = int(labels.max()) + 1 if len(labels) else 0
    if names is not None and len(names) >= count:
        return tuple(str(name) for name in names)
    return tuple(str(c) for c in range(count))
