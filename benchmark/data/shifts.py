"""Preprocessing: bring images to the declared shape, then apply derived shifts.

Every function maps float images [N, C, H, W] in [0, 1] to the same layout. Shifts
are plain data in a suite file, e.g. ``shifts = [{ rotate = 90 }, { noise = 0.2 }]``.
"""

import torch
import torch.nn.functional as F

from benchmark.errors import DataError, did_you_mean

# torchvision's functional transforms are imported where used: importing torchvision costs
# about a second, which a run that stops at a missing file should not pay.


def to_shape(images: torch.Tensor, channels: int, size: tuple[int, int]) -> torch.Tensor:
    """Resize (antialiased bilinear) and convert channels: 1->3 repeats grey, 3->1 takes luminance."""
    if tuple(images.shape[-2:]) != tuple(size):
        images = F.interpolate(images, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    if images.shape[1] != channels:
        if images.shape[1] == 1:
            images = images.repeat(1, channels, 1, 1)
        elif images.shape[1] == 3 and channels == 1:
            import torchvision.transforms.v2.functional as TF

            images = TF.rgb_to_grayscale(images)
        else:
            raise DataError(f"cannot convert {images.shape[1]} channels to {channels}")
    return images.clamp_(0.0, 1.0)


def rotate(images, degrees: float):
    import torchvision.transforms.v2.functional as TF

    return TF.rotate(images, float(degrees), interpolation=TF.InterpolationMode.BILINEAR)


def invert(images, enabled: bool = True):
    return 1.0 - images if enabled else images


def noise(images, std: float, seed: int = 0):
    """Additive Gaussian noise with a fixed seed, so the shifted dataset is the same every run."""
    generator = torch.Generator().manual_seed(seed)
    return (images + std * torch.randn(images.shape, generator=generator)).clamp(0.0, 1.0)


def colourise(images, enabled: bool = True, seed: int = 0):
    """Tint each grey image with a random colour (as in coloured-MNIST shifts); needs 3 channels."""
    if not enabled:
        return images
    if images.shape[1] != 3:
        raise DataError("the 'colourise' shift needs channels = 3 in the pair's input shape")
    generator = torch.Generator().manual_seed(seed)
    tint = torch.rand(len(images), 3, 1, 1, generator=generator) * 0.8 + 0.2
    return images * tint


SHIFTS = {"rotate": rotate, "invert": invert, "noise": noise, "colourise": colourise}


def apply_shift(images: torch.Tensor, shift: dict, where: str) -> torch.Tensor:
    """Apply one shift table like ``{ rotate = 90 }`` or ``{ noise = 0.2, seed = 3 }``."""
    kinds = [key for key in shift if key in SHIFTS]
    if len(kinds) != 1:
        unknown = next((k for k in shift if k not in SHIFTS and k != "seed"), None)
        hint = did_you_mean(unknown, SHIFTS) if unknown else ""
        raise DataError(f"{where}: a shift names exactly one of {sorted(SHIFTS)}, got {sorted(shift)}{hint}")
    kind = kinds[0]
    extra = {k: v for k, v in shift.items() if k != kind}
    try:
        return SHIFTS[kind](images, shift[kind], **extra)
    except TypeError as error:
        raise DataError(f"{where}: bad arguments for shift '{kind}': {error}") from None
