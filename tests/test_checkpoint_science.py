"""Issue 25, point 5: what a new user bringing their own checkpoint met, where the table said
something that did not happen. Each test reproduces one fault on real inputs (real checkpoints
when they are here, else checkpoints the test writes in the library's own format):

* a checkpoint that does not fit its architecture is refused in one line, by every provider,
  before any data is read (never a random network recorded as the pretrained one);
* records of a model read from a checkpoint say which file, never ``weights = "none"``;
* an input size far from the weights' own warns once and is recorded;
* ``transferbench cite`` works on every shipped suite;
* a leaderboard caption says what a strategy started from on a pair with no source.
"""

import hashlib
import json
import warnings
from pathlib import Path

import pytest
import torch

from benchmark import ModelError, records
from benchmark.cli import main
from benchmark.models.base import ModelSpec
from benchmark.models.resolve import load_model
from benchmark.run.runner import Runner
from benchmark.suite.load import load_suite

REPO = Path(__file__).resolve().parent.parent
LITE0 = REPO / "data" / "efficientnet-lite0" / "efficientnet-lite0-57934424.pth"
MINILM = REPO / "data" / "all-minilm-l6-v2"
NO_LITE0 = f"{LITE0} absent: run `transferbench fetch efficientnet-lite0`"
TARGET = ('target = { provider = "sklearn-digits", split = "train", test_split = "test[:20%]", '
          'classes = [5, 6, 7, 8, 9] }')


def spec(provider, name=None, weights=None, base_dir=".", **options):
    return ModelSpec(provider, name, weights, options, base_dir=str(base_dir), where="suite.toml:7")


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message and len(message) < 600, message
    return message


def suite_file(tmp_path, model_table: str, name="own", strategies=("frozen-feature",), size=None) -> Path:
    """A seconds-long suite: one no-source pair on scikit-learn's digits, budget 1, seed 0."""
    path = tmp_path / f"{name}.toml"
    lines = [f'name = "{name}"', "seeds = [0]", "budgets = [1]", f"strategies = {json.dumps(list(strategies))}",
             f"input = {{ size = [{size}, {size}] }}" if size else "", model_table, "[[pairs]]",
             'name = "to5-9"', TARGET]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(path, registry, out):
    return Runner(load_suite(path), registry, out, out / "data", show_progress=False).run()


def timm_checkpoint(tmp_path, name="test_resnet", rename=None, seed=0) -> Path:
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    state = timm.create_model(name).state_dict()
    if rename:
        state = {rename(key): value for key, value in state.items()}
    path = tmp_path / f"{name}{'-renamed' if rename else ''}.safetensors"
    save_file(state, str(path))
    return path


# -- 2. what the records say was loaded ---------------------------------------------------------------------

def test_records_of_a_timm_checkpoint_name_the_file_not_none(registry, tmp_path):
    path = timm_checkpoint(tmp_path)
    suite = suite_file(tmp_path, f'[model]\nprovider = "timm"\nname = "test_resnet"\nfile = "{path.name}"',
                       name="named", size=160)
    assert run(suite, registry, tmp_path / "out").ok == 1
    model = records.read(tmp_path / "out" / "named" / "records.jsonl")[0]["model"]
    assert model["weights"] == "test_resnet.safetensors" and model["checkpoint"] == str(path)
    assert model["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    # the key keeps its spelling, so published cells of such a model stay the same cells
    assert model["key"] == f"timm:test_resnet:none:{model['sha256'][:16]}"


def test_every_provider_says_which_weights_it_read_and_none_only_for_random_init(registry, tmp_path, text_files):
    path = timm_checkpoint(tmp_path)
    read = {"timm": spec("timm", "test_resnet", file=str(path)),
            "static-embedding": spec("static-embedding", base_dir=text_files, path="emb.safetensors",
                                     tokenizer="tok.json")}
    random = {"timm": spec("timm", "test_resnet", "none"),
              "static-embedding": spec("static-embedding", "x", "none", base_dir=text_files,
                                       path="emb.safetensors", tokenizer="tok.json")}
    assert {name: load_model(s, registry).identity["weights"] for name, s in read.items()} == \
        {"timm": "test_resnet.safetensors", "static-embedding": "emb.safetensors"}
    assert {load_model(s, registry).identity["weights"] for s in random.values()} == {"none"}


def test_static_embedding_s_chosen_tensor_is_part_of_the_model_s_key(registry, text_files):
    """Neighbour: two tensors of one file (``key = ...``) were one model, so their cells were one cell."""
    from safetensors.torch import save_file

    save_file({"a": torch.randn(18, 8), "b": torch.randn(18, 8)}, str(text_files / "two.safetensors"))
    keys = {name: load_model(spec("static-embedding", base_dir=text_files, path="two.safetensors",
                                  tokenizer="tok.json", key=name), registry).identity for name in "ab"}
    assert keys["a"]["key"] != keys["b"]["key"] and keys["a"]["tensor"] == "a"
