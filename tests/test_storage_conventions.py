"""Images are handed out as a person sees them, whatever the way a library or a file format stores them.

Each case writes real files in the convention at fault (with PIL, Hugging Face's save_to_disk,
or the raw IDX files torchvision reads) and checks the provider's tensor against the same
pixels read the ordinary way: integer arrays of any dtype against PIL images, 16-bit PNGs
against 8-bit ones, EMNIST's transposed files against MNIST's upright digits, BMP's BGR,
palette, CMYK, grey+alpha and EXIF-rotated files against the RGB a viewer shows.
"""

import numpy as np
import pytest
import torch
from tiny_formats import write_idx

from benchmark import DataError
from plugins.datasets.hf import HuggingFace
from plugins.datasets.imagefolder import ImageFolderTree
from plugins.datasets.images import stack_images, to_chw
from plugins.datasets.mnist import MNIST, read_idx
from plugins.datasets.torchvision_datasets import TorchvisionDatasets


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's digits as 8-bit pixels: uint8 [1797, 8, 8] (its 0..16 scaled to 0..255), labels [1797]."""
    from sklearn.datasets import load_digits

    loaded = load_digits()
    return np.round(loaded.images * 255 / 16).astype(np.uint8), loaded.target


def save_hf(path, images, labels, image_feature=None):
    """A Dataset {image, label} written with save_to_disk; image_feature None: as the values come (arrays)."""
    import datasets

    features = None
    if image_feature is not None:
        features = datasets.Features({"image": image_feature, "label": datasets.Value("int64")})
    datasets.Dataset.from_dict({"image": list(images), "label": labels.tolist()}, features=features) \
        .save_to_disk(str(path))
    return path


# --- integer arrays: the same pixels as the PIL copy -------------------------------------------------------------

@pytest.mark.parametrize("as_stored", [np.uint8, np.int64, np.int32, np.uint16])
def test_hf_integer_array_images_read_as_the_same_pixels_as_the_pil_images(tmp_path, digits, as_stored):
    """The field report: digits stored as datasets.Image() and as integer arrays (read back as nested lists
    of ints) must be one dataset; the array copy was read as floats 0..255 instead of pixels 0..255."""
    import datasets
    from PIL import Image

    images, labels = digits
    pil = save_hf(tmp_path / "pil", [Image.fromarray(image, "L") for image in images], labels, datasets.Image())
    arrays = save_hf(tmp_path / "arrays", images.astype(as_stored), labels)
    expected = HuggingFace().load("all", pil, (8, 8)).inputs
    read = HuggingFace().load("all", arrays, (8, 8)).inputs
    assert expected.dtype == torch.uint8 and expected.shape == (1797, 1, 8, 8)
    assert read.dtype == torch.uint8 and torch.equal(read, expected)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, np.uint32, np.int16])
def test_integer_arrays_of_any_dtype_with_8_bit_values_are_the_uint8_pixels(dtype):
    pixels = np.random.default_rng(0).integers(0, 256, (3, 5, 6, 3), dtype=np.uint8)
    expected = stack_images([to_chw(p) for p in pixels], (5, 6))
    assert torch.equal(stack_images([to_chw(p.astype(dtype)) for p in pixels], (5, 6)), expected)
    assert torch.equal(stack_images([to_chw(torch.from_numpy(p.astype(np.int64))) for p in pixels], (5, 6)), expected)


def test_integer_arrays_with_16_bit_values_are_scaled_by_65535_as_one_set():
    """One rule for the set: a dark 16-bit image (every value <= 255) beside bright ones is 16-bit too."""
    bright = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    dark = np.array([[0, 255], [100, 1]], dtype=np.uint16)
    stacked = stack_images([to_chw(bright), to_chw(dark.astype(np.int64))], (2, 2))
    assert stacked.dtype == torch.float32
    assert torch.allclose(stacked[:, 0], torch.from_numpy(np.stack([bright, dark]) / 65535.0).float())


@pytest.mark.parametrize("values", [[-1, 3], [0, 70000]])
def test_integer_arrays_outside_0_to_65535_have_no_known_scale(values):
    with pytest.raises(DataError, match=rf"values {values[0]}\.\.{values[1]} has no known scale"):
        to_chw(np.array([values, values], dtype=np.int64))


def test_floats_stay_in_0_to_1_and_bools_are_0_or_255():
    assert torch.equal(to_chw(np.array([[0.0, 0.5]], dtype=np.float64)), torch.tensor([[[0.0, 0.5]]]))
    assert torch.equal(to_chw(np.array([[False, True]])), torch.tensor([[[0, 255]]], dtype=torch.uint8))


# --- 16-bit PNGs --------------------------------------------------------------------------------------------------

def write_folder(root, images, labels, mode=None, suffix=".png", **save):
    """root/<label>/<i><suffix>: each image written by PIL (from its array, in ``mode`` when given)."""
    from PIL import Image

    for i, (image, label) in enumerate(zip(images, labels)):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        pil = image if isinstance(image, Image.Image) else Image.fromarray(image, mode) if mode else \
            Image.fromarray(image)
        pil.save(root / str(label) / f"{i:04d}{suffix}", **save)
    return root


def test_a_16_bit_png_is_read_as_a_person_sees_it_not_clipped_at_255(tmp_path, digits):
    """PIL opens a 16-bit PNG as mode "I;16" and its convert("L") clips at 255, which made every inked pixel
    white; the same digits as 8-bit and as 16-bit PNGs (value * 257) must be the same picture."""
    from PIL import Image

    images, labels = digits[0][:40], digits[1][:40]
    eight = write_folder(tmp_path / "eight", images, labels)
    sixteen = write_folder(tmp_path / "sixteen", images.astype(np.uint16) * 257, labels)
    assert Image.open(next(sixteen.rglob("*.png"))).mode == "I;16"  # a real 16-bit file
    expected = ImageFolderTree().load("all", eight, (8, 8)).inputs.float() / 255
    read = ImageFolderTree().load("all", sixteen, (8, 8)).inputs
    assert read.dtype == torch.float32 and torch.allclose(read, expected, atol=1e-6)


def test_16_bit_png_values_keep_their_16_bits_through_the_folder_and_hf_providers(tmp_path):
    import datasets

    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1021 + 7)   # not multiples of 257: real 16-bit data
    folder = write_folder(tmp_path / "folder", [ramp, ramp[::-1]], [0, 1])
    expected = torch.from_numpy(np.stack([ramp, ramp[::-1]]) / 65535.0).float()[:, None]
    assert torch.allclose(ImageFolderTree().load("all", folder, (8, 8)).inputs, expected)
    from PIL import Image

    hf = save_hf(tmp_path / "hf", [Image.fromarray(ramp), Image.fromarray(ramp[::-1])], np.array([0, 1]),
                 datasets.Image())
    assert torch.allclose(HuggingFace().load("all", hf, (8, 8)).inputs, expected)


# --- EMNIST: stored transposed ------------------------------------------------------------------------------------

def test_torchvision_emnist_hands_out_the_digits_upright(tmp_path, shared_data):
    """MNIST's real test digits stored the EMNIST way (each image transposed, in the unzipped IDX files
    torchvision's EMNIST reads) come out of the torchvision provider equal to MNIST's upright digits."""
    mnist = MNIST().load("test", shared_data / "mnist")
    pixels = read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")[:500]
    labels = read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")[:500]
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    stored = np.ascontiguousarray(pixels.transpose(0, 2, 1))           # column-major, as EMNIST's files hold them
    write_idx(raw / "emnist-digits-test-images-idx3-ubyte", stored, compress=False)
    write_idx(raw / "emnist-digits-test-labels-idx1-ubyte", labels, compress=False)
    data = TorchvisionDatasets(dataset="EMNIST", kwargs={"split": "digits"}).load("test", tmp_path, (28, 28))
    assert torch.equal(data.inputs, mnist.inputs[:500]) and torch.equal(data.labels, mnist.labels[:500])
    assert not torch.equal(data.inputs, torch.from_numpy(stored)[:, None])  # the digits are not symmetric


# --- file formats whose stored pixels are not the RGB a viewer shows -----------------------------------------------

@pytest.fixture
def rgb():
    """Six distinct colours as uint8 [2, 3, 3] RGB: no two channels equal, so any channel swap shows."""
    return np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
                     [[250, 120, 10], [10, 200, 90], [60, 30, 220]]], dtype=np.uint8)


def read_folder(tmp_path, pil_image, suffix, **save):
    """One image written by PIL into an image folder, read back by the imagefolder provider: [C, H, W]."""
    write_folder(tmp_path / "tree", [pil_image], [0], suffix=suffix, **save)
    data = ImageFolderTree().load("all", tmp_path / "tree", pil_image.size[::-1])
    return data.inputs[0]


def test_bmp_stores_bgr_and_is_handed_out_as_rgb(tmp_path, rgb):
    from PIL import Image

    image = read_folder(tmp_path, Image.fromarray(rgb), ".bmp")
    stored = (tmp_path / "tree" / "0" / "0000.bmp").read_bytes()
    offset = int.from_bytes(stored[10:14], "little")                   # pixel data; rows bottom-up, padded to 4
    assert tuple(stored[offset:offset + 3]) == tuple(rgb[1, 0, ::-1])  # the file really is BGR
    assert torch.equal(image, torch.from_numpy(rgb).permute(2, 0, 1))


def test_palette_images_are_handed_out_in_their_palette_colours(tmp_path, rgb):
    import warnings

    from PIL import Image

    palette = rgb.reshape(-1, 3)
    indices = np.array([[5, 4, 3], [2, 1, 0]], dtype=np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(palette.flatten().tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                # PIL warns when transparency is dropped badly
        read = read_folder(tmp_path, image, ".png", transparency=0)
    assert torch.equal(read, torch.from_numpy(palette[indices]).permute(2, 0, 1))  # colours, not indices


def test_cmyk_is_handed_out_as_rgb(tmp_path):
    from PIL import Image

    inks = np.array([[[255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0], [0, 0, 0, 0], [0, 0, 0, 255]]], np.uint8)
    read = read_folder(tmp_path, Image.fromarray(inks, "CMYK"), ".tiff")
    cyan, magenta, yellow, white, black = [0, 255, 255], [255, 0, 255], [255, 255, 0], [255] * 3, [0] * 3
    assert read.permute(1, 2, 0).tolist() == [[cyan, magenta, yellow, white, black]]


def test_grey_with_alpha_is_grey(tmp_path):
    from PIL import Image

    grey = np.array([[0, 80], [160, 255]], dtype=np.uint8)
    alpha = np.array([[255, 0], [128, 255]], dtype=np.uint8)
    read = read_folder(tmp_path, Image.fromarray(np.stack([grey, alpha], -1), "LA"), ".png")
    assert torch.equal(read, torch.from_numpy(grey)[None])


def test_exif_orientation_is_applied(tmp_path, rgb):
    """A camera stores the sensor's rows and an EXIF Orientation tag; 6 = turn 90 degrees clockwise to view."""
    from PIL import Image

    stored = Image.fromarray(np.ascontiguousarray(np.rot90(rgb, k=1)))  # upright turned a quarter anticlockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    read = read_folder(tmp_path, stored, ".png", exif=exif.tobytes())
    assert torch.equal(read, torch.from_numpy(rgb).permute(2, 0, 1))


# --- image files that cannot be read: one line naming the file ----------------------------------------------------

@pytest.fixture
def damaged_folder(tmp_path):
    """An image folder of good PNGs, and what goes wrong with folders: a cut-off file, a file that is not an
    image, a link to a file since removed. Returns (root, {case: path})."""
    from tiny_formats import write_imagefolder

    root = tmp_path / "office"
    write_imagefolder(root, ["bike", "mug"], per_class=2, sizes=((12, 12),))
    whole = (root / "bike" / "frame_0000.png").read_bytes()
    cases = {"truncated": root / "bike" / "frame_0002.png", "garbage": root / "mug" / "frame_0002.png",
             "dangling": root / "mug" / "frame_0003.png"}
    cases["truncated"].write_bytes(whole[:len(whole) // 2])
    cases["garbage"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    cases["dangling"].symlink_to(tmp_path / "removed.png")
    return root, cases


@pytest.mark.parametrize("case, reason", [("truncated", "image file is truncated"),
                                          ("garbage", "not an image file PIL can identify"),
                                          ("dangling", "a link to .*removed.png, which does not exist")])
def test_an_unreadable_image_in_an_image_folder_is_a_data_error_naming_the_file(damaged_folder, case, reason):
    root, cases = damaged_folder
    for other, path in cases.items():  # one damaged file at a time, so the message is this case's
        if other != case:
            path.unlink()
    with pytest.raises(DataError) as error:
        ImageFolderTree().load("all", root, (12, 12))
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"imagefolder {root}: cannot read image {cases[case]}: ")
    assert __import__("re").search(reason, message), message


def test_run_on_an_image_folder_with_a_dangling_link_ends_in_one_line(damaged_folder, tmp_path, capsys):
    from benchmark.cli import main

    root, cases = damaged_folder
    cases["truncated"].unlink()
    cases["garbage"].unlink()
    suite = tmp_path / "office.toml"
    suite.write_text('name = "office"\nseeds = [0]\nbudgets = [1]\nstrategies = ["target-only"]\n'
                     'input = { channels = 3, size = [12, 12] }\n[[pairs]]\nname = "p"\n'
                     f'source = {{ provider = "imagefolder", root = "{root}", split = "all" }}\n'
                     f'target = {{ provider = "imagefolder", root = "{root}", split = "all", test_split = "all" }}\n',
                     encoding="utf-8")
    code = main(["run", str(suite), "--out", str(tmp_path / "out"), "--no-progress", "--threads", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("transferbench: error: ") and f"cannot read image {cases['dangling']}: a link to" in err


def test_hf_local_image_folder_with_a_damaged_file_or_a_dangling_link_is_one_line(damaged_folder, tmp_path,
                                                                                 monkeypatch):
    """The hf provider reads image folders too (load_dataset on a local directory); the library's own decoding
    ended in a traceback, and its file listing silently skipped a dangling link, losing that image."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")  # keep ~/.cache clean
    root, cases = damaged_folder
    with pytest.raises(DataError, match=rf"^hf {root}: cannot read {cases['dangling']}: a link to .*removed.png, "
                                        r"which does not exist$"):
        HuggingFace().load("train", root, (12, 12))
    cases["dangling"].unlink()
    cases["truncated"].unlink()
    with pytest.raises(DataError, match=rf"^hf {root} split 'train' row \d+: cannot read image {cases['garbage']}: "
                                        r"not an image file PIL can identify$"):
        HuggingFace().load("train", root, (12, 12))


def test_hf_saved_images_decode_with_their_declared_mode_and_damaged_bytes_name_their_row(tmp_path):
    import io

    import datasets
    from PIL import Image

    grey = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    png = io.BytesIO()
    Image.fromarray(grey).save(png, format="PNG")
    rows = [{"bytes": png.getvalue(), "path": None}, {"bytes": png.getvalue()[:-30], "path": None}]
    saved = save_hf(tmp_path / "saved", rows, np.array([0, 1]), datasets.Image(mode="RGB"))
    with pytest.raises(DataError, match=r"split 'all' row 1: cannot read image \(bytes of row 1\): "):
        HuggingFace().load("all", saved, (4, 4))
    first = HuggingFace().load("all", save_hf(tmp_path / "one", rows[:1], np.array([0]), datasets.Image(mode="RGB")),
                               (4, 4)).inputs
    assert torch.equal(first, torch.from_numpy(grey).expand(1, 3, 4, 4))  # mode "RGB": three equal channels
