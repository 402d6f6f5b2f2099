"""Turning the images libraries hand out (PIL images, numpy arrays, tensors) into one [N, C, H, W] tensor,
as a person sees them.

Shared by the torchvision, hf, learn2learn and imagefolder providers. Images of one
size are kept as uint8 (the loader resizes them later, in chunks); images of mixed
sizes are resized one by one to the pair's declared size on the way in, as floats.

The scale of a pixel value follows from what the library hands out (see ``to_chw``):

- uint8 (and PIL's 8-bit modes): 0..255.
- Integer arrays of any other dtype (int64 from a Hugging Face column of nested lists,
  int32, uint16, PIL mode "I"): one rule for the whole set, since the dtype is often lost
  on the way (Hugging Face hands uint8 arrays back as lists of ints): values all within
  0..255 are 8-bit pixels, read exactly as the same images in uint8 or PNG; else values
  within 0..65535 are 16-bit, divided by 65535; anything else (negative, larger) has no
  known scale and is refused.
- PIL's 16-bit modes ("I;16", e.g. a 16-bit PNG): 16-bit by declaration, divided by 65535.
  (PIL's own ``convert("L")`` clips them at 255, which makes nearly every pixel white.)
- PIL "F" (float32): PIL's own scale, 0..255 (what ``convert("L")`` and viewers show).
- Float arrays and tensors: torchvision's [0, 1], kept as they are.
- Bool: False 0, True 255.

Stored orientation and colour are undone: EXIF orientation is applied, palette ("P"),
CMYK, YCbCr, LAB and HSV images become RGB, and alpha is dropped.
"""

import numpy as np
import torch

from benchmark import DataError, to_shape

GREY_MODES = {"1", "L", "LA"}                            # 8-bit grey: read through PIL's "L"
PALETTE_MODES = {"P", "PA"}                              # colours through the palette, via RGBA (below)
SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}  # unsigned 16-bit grey, 0..65535
EXIF_ORIENTATION = 0x0112


def pil_to_array(image) -> np.ndarray:
    """A PIL image -> [H, W] or [H, W, 3] array, upright and in PIL's scale for its mode (see the module doc)."""
    from PIL import ImageOps

    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:   # e.g. a phone photo stored sideways
        image = ImageOps.exif_transpose(image)
    if image.mode in SIXTEEN_BIT_MODES:
        return np.asarray(image).astype(np.float32) / 65535.0
    if image.mode == "F":
        return np.clip(np.asarray(image, dtype=np.float32) / 255.0, 0.0, 1.0)
    if image.mode == "I":                               # int32 of no declared depth: the integer rule
        return np.asarray(image)
    # Palette images go through RGBA: PIL warns when a palette's transparency would be lost in RGB
    # (to_chw drops the alpha channel either way).
    return np.asarray(image.convert("L" if image.mode in GREY_MODES else
                                    "RGBA" if image.mode in PALETTE_MODES else "RGB"))


def read_image_file(path, data: bytes | None = None, mode: str | None = None) -> torch.Tensor:
    """An image file (or its ``data``, bytes read from ``path``) -> [C, H, W] (see ``to_chw``), decoded
    now, after PIL's ``convert(mode)`` when a mode is given; a file that is missing (a dangling link),
    unreadable, truncated or not an image is a DataError naming it, in one line."""
    import io
    import struct
    from pathlib import Path

    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as image:
            image.load()  # PIL decodes lazily: a truncated file fails here, inside the try, not later
            return to_chw(image.convert(mode) if mode and mode != image.mode else image)
    except DataError as error:  # decoded, but of no known shape or scale
        raise DataError(f"image {path}: {error}") from None
    except FileNotFoundError:
        where = f"a link to {path.readlink()}, which does not exist" if path.is_symlink() else "no such file"
        raise DataError(f"cannot read image {path}: {where}") from None
    # What PIL raises on damaged files: OSError ("cannot identify image file", "image file is truncated"),
    # SyntaxError (a broken chunk), EOFError, struct.error, ValueError, and its decompression-bomb guard.
    except (OSError, SyntaxError, EOFError, ValueError, struct.error, Image.DecompressionBombError) as error:
        reason = "not an image file PIL can identify" if isinstance(error, UnidentifiedImageError) else \
            error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise DataError(f"cannot read image {path}: {reason or type(error).__name__}") from None


def to_chw(image) -> torch.Tensor:
    """One image -> [C, H, W], C in {1, 3}: uint8 in [0, 255]; float32 in [0, 1]; or, for integer
    input of another dtype, int32 in [0, 65535], which ``stack_images`` scales with the whole set."""
    from_pil = hasattr(image, "convert") and hasattr(image, "mode")
    if from_pil:
        image = pil_to_array(image)                                # [H, W] or [H, W, C], always
    # A copy: library arrays may be read-only (a tensor through numpy: np.array warns on torch's __array__).
    array = image.detach().cpu().numpy().copy() if torch.is_tensor(image) else np.array(image)
    if array.dtype.kind in "iu" and array.dtype != np.uint8:
        low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
        if low < 0 or high > 65535:
            raise DataError(f"an integer image with values {low}..{high} has no known scale "
                            f"(0..255 is 8-bit, 0..65535 16-bit)")
        array = array.astype(np.int32)
    array = torch.from_numpy(array)
    if array.ndim == 2:
        array = array[None]                                        # [H, W] -> [1, H, W]
    elif array.ndim == 3 and (from_pil or array.shape[-1] in (1, 3, 4) and array.shape[0] not in (1, 3, 4)):
        array = array.permute(2, 0, 1)                             # [H, W, C] -> [C, H, W] (a guess for arrays)
    if array.ndim != 3 or array.shape[0] not in (1, 3, 4):
        raise DataError(f"cannot read an image of shape {tuple(array.shape)} as [C, H, W]")
    array = array[:3]                                              # drop an alpha channel
    if array.dtype == torch.bool:
        return array.to(torch.uint8) * 255
    return array if array.dtype in (torch.uint8, torch.int32) else array.float()


def scale_integers(images: list[torch.Tensor]) -> list[torch.Tensor]:
    """The int32 images of ``to_chw`` as uint8 (every value of the set within 0..255) or as
    float32 / 65535 (16-bit); one decision for the set, so one dark 16-bit image is not read as 8-bit."""
    integer = [image for image in images if image.dtype == torch.int32]
    if not integer:
        return images
    eight_bit = max(int(image.max()) if image.numel() else 0 for image in integer) <= 255
    return [image if image.dtype != torch.int32 else image.to(torch.uint8) if eight_bit else image / 65535.0
            for image in images]


def stack_images(images, size: tuple[int, int]) -> torch.Tensor:
    """[C, H, W] tensors (see ``to_chw``) -> [N, C, H, W]; grey ones get 3 channels if any is in colour."""
    images = scale_integers(list(images))
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
