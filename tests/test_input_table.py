"""Issue 16.4: everything in a suite's ``input`` is checked with the suite, before any data is read.

Per-channel mean / std (ImageNet's, the most common case) are valid; a wrong length, a missing
half, a zero std, a bad size or channel count is one line naming the file, line and key, never a
traceback from the preprocessing. With a model, what the suite leaves out follows the weights, so
the completed input is checked when the model is resolved (still before any dataset is read).
"""

from pathlib import Path

import pytest
import torch

from benchmark.data.loader import DatasetLoader
from benchmark.errors import SuiteError
from benchmark.models.resolve import resolve_models
from benchmark.run.prepare import prepare_pairs
from benchmark.suite.load import load_suite

IMAGENET = "mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225]"
PAIR = """
[[pairs]]
name = "p"
source = { provider = "sklearn-digits", split = "train[:50%]" }
target = { provider = "sklearn-digits", split = "train[50%:]", test_split = "test" }
"""


def suite_with(tmp_path, table: str, pair_input: str = "", model: str = "") -> Path:
    path = tmp_path / "suite.toml"
    pair = PAIR + (f"input = {{ {pair_input} }}\n" if pair_input else "") + model
    path.write_text(f'name = "s"\nbudgets = [1]\ninput = {{ {table} }}\n{pair}')
    return path


def test_imagenet_per_channel_normalisation_is_applied_per_channel(tmp_path, registry):
    suite = load_suite(suite_with(tmp_path, f"channels = 3, size = [8, 8], {IMAGENET}"))
    prepared = prepare_pairs(suite, DatasetLoader(registry, tmp_path))["p"]
    raw = prepare_pairs(load_suite(suite_with(tmp_path, "channels = 3, size = [8, 8]")),
                        DatasetLoader(registry, tmp_path))["p"]
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    assert torch.allclose(prepared.pool.inputs, (raw.pool.inputs - mean) / std, atol=1e-6)


@pytest.mark.parametrize("table, message", [
    ("channels = 3, size = [8, 8], mean = [0.485, 0.456], std = [0.229, 0.224, 0.225]",
     "input.mean has 2 values but the input has 3 channels"),
    ("channels = 1, size = [8, 8], " + IMAGENET, "input.mean has 3 values but the input has 1 channel:"),
    ("channels = 3, size = [8, 8], mean = [0.485, 0.456, 0.406]", "input.mean is set but std is not"),
    ("channels = 1, size = [8, 8], std = 0.5", "input.std is set but mean is not"),
    ("channels = 1, size = [8, 8], mean = 0.5, std = 0", "input.std must be > 0"),
    ("channels = 3, size = [8, 8], mean = 0.5, std = [0.2, -0.1, 0.2]", "input.std must be > 0"),
    ("channels = 1, size = [8, 8], mean = \"a\", std = 1", "input.mean must be a number or a list"),
    ("channels = 2, size = [8, 8]", "input.channels must be 1 or 3, got 2"),
    ("channels = \"3\", size = [8, 8]", "input.channels must be 1 or 3, got '3'"),
    ("channels = 1, size = [8, 8, 3]", "input.size must be [height, width]"),
    ("channels = 1, size = [0, 8]", "input.size must be [height, width]"),
    ("channels = 1, size = \"big\"", "input.size must be [height, width]"),
])
def test_every_input_key_is_checked_with_the_suite_naming_file_and_line(tmp_path, table, message):
    path = suite_with(tmp_path, table)
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    assert str(caught.value).startswith(f"{path}:3: {message}"), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_pair_input_is_checked_too_and_names_its_own_line(tmp_path):
    path = suite_with(tmp_path, "channels = 3, size = [8, 8]", pair_input="mean = [0.5, 0.5], std = [0.2, 0.2]")
    with pytest.raises(SuiteError, match=rf"^{path}:9: pairs\[0\]\.input\.mean has 2 values"):
        load_suite(path)


def test_a_model_input_completed_by_the_weights_is_checked_before_any_data_is_read(tmp_path, registry):
    # With a model the parser leaves the table to the resolver (the weights fill in what it omits);
    # the completed input is then checked there, still before any dataset is read.
    model = '[pairs.model]\nprovider = "torchvision"\nname = "resnet18"\nweights = "none"\n'
    suite = load_suite(suite_with(tmp_path, f"channels = 1, {IMAGENET}", model=model))
    with pytest.raises(SuiteError, match=r"suite\.toml:\d+: pair 'p': input\.mean has 3 values but the input has "
                                         r"1 channel.*\(input from the weights, with channels, mean, std from the suite\)"):
        resolve_models(suite, registry, tmp_path)
