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


# -- 1. strict loading, in every provider ---------------------------------------------------------------------

@pytest.mark.skipif(not LITE0.is_file(), reason=NO_LITE0)
def test_the_lite0_wheel_in_its_own_names_given_to_timm_stops_the_run_in_one_line(registry, tmp_path, capsys):
    """The issue's case: EfficientNet-Lite0 in efficientnet_pytorch's names (_conv_stem, _blocks.N), as
    ``file`` to timm with no key mapping. The run stops before any data is read; no cell is recorded."""
    suite = suite_file(tmp_path, f'[model]\nprovider = "timm"\nname = "tf_efficientnet_lite0"\nfile = "{LITE0}"')
    code = main(["run", str(suite), "--out", str(tmp_path / "out"), "--no-progress"])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and len(error[0]) < 600, error
    assert "own.toml:" in error[0] and "does not fit the architecture" in error[0]
    assert "missing keys: conv_stem.weight" in error[0] and "unexpected keys: _conv_stem.weight" in error[0]
    # and what fixes it: the file's tensors are the architecture's, in order, under other names
    assert error[0].endswith('add key_mapping = "order" to the [model] table'), error[0]
    assert not (tmp_path / "out" / "own" / "records.jsonl").exists() or \
        not records.read(tmp_path / "out" / "own" / "records.jsonl")


def test_a_renamed_timm_checkpoint_is_refused_when_the_model_is_resolved(registry, tmp_path):
    path = timm_checkpoint(tmp_path, rename=lambda key: f"backbone.{key}")  # timm itself strips only "module."
    with pytest.raises(ModelError) as caught:  # at resolve time: before any data is read or any cell runs
        load_model(spec("timm", "test_resnet", file=str(path)), registry)
    assert "suite.toml:7" in one_line(caught) and "missing keys: conv1.0.weight" in one_line(caught)
    # no key_mapping hint: a .safetensors file keeps no order, so "the same tensors in order" cannot be told
    assert 'key_mapping' not in one_line(caught)


def test_torchvision_refuses_a_cache_file_whose_keys_do_not_fit(registry, tmp_path, monkeypatch):
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    path = tmp_path / "torch" / "hub" / "checkpoints" / Path(weights.url).name
    path.parent.mkdir(parents=True)
    state = torchvision.models.resnet18().state_dict()
    state["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)  # a shape that does not fit
    torch.save(state, path)
    with pytest.raises(ModelError) as caught:
        load_model(spec("torchvision", "resnet18", "IMAGENET1K_V1"), registry)
    assert "layer1.0.conv1.weight (64, 64, 1, 1) vs (64, 64, 3, 3)" in one_line(caught)


def test_torchvision_densenet_weights_load_as_torchvision_loads_them(registry, tmp_path, monkeypatch):
    """Neighbour: strict loading must not refuse a checkpoint torchvision itself reads. DenseNet's
    published files use the old key names (norm.1, conv.1) that torchvision renames on load."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = torchvision.models.DenseNet121_Weights.IMAGENET1K_V1
    path = tmp_path / "torch" / "hub" / "checkpoints" / Path(weights.url).name
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    state = torchvision.models.densenet121().state_dict()
    # as the published file: old names, and no BatchNorm step counters (saved before PyTorch 0.4.1)
    old = {key.replace("norm1.", "norm.1.").replace("conv1.", "conv.1.").replace("norm2.", "norm.2.")
           .replace("conv2.", "conv.2.") if ".denselayer" in key else key: value for key, value in state.items()
           if not key.endswith("num_batches_tracked")}
    assert old != state
    torch.save(old, path)
    trunk = load_model(spec("torchvision", "densenet121", "IMAGENET1K_V1"), registry).trunk()
    assert all(torch.equal(value, state[key]) for key, value in trunk.state_dict().items())


@pytest.fixture
def vit_dirs(tmp_path):
    """Tiny ViTs saved with save_pretrained: ``base`` (a ViTModel), ``classifier`` (a ViTForImageClassification,
    whose checkpoint has no pooler), ``renamed`` (base's tensors under other names), ``wider`` (one shape off)."""
    from safetensors.torch import load_file, save_file
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor, ViTModel

    torch.manual_seed(0)
    config = ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                       image_size=32, patch_size=8, num_labels=3)
    dirs = {name: tmp_path / name for name in ("base", "classifier", "renamed", "wider")}
    ViTModel(config).save_pretrained(dirs["base"])
    ViTForImageClassification(config).save_pretrained(dirs["classifier"])
    for name in ("renamed", "wider"):
        ViTModel(config).save_pretrained(dirs[name])
    for directory in dirs.values():
        ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    state = load_file(str(dirs["renamed"] / "model.safetensors"))
    save_file({f"x.{k}": v for k, v in state.items()}, str(dirs["renamed"] / "model.safetensors"),
              metadata={"format": "pt"})
    state = load_file(str(dirs["wider"] / "model.safetensors"))
    key = next(k for k in state if k.endswith(("o_proj.weight", "output.dense.weight")))
    state[key] = torch.zeros(32, 33)
    save_file(state, str(dirs["wider"] / "model.safetensors"), metadata={"format": "pt"})
    return dirs


def test_transformers_refuses_what_from_pretrained_would_initialise_at_random(registry, vit_dirs):
    """from_pretrained only logs the weights it had to initialise at random; here each is a one-line error."""
    for name, expected in (("renamed", r"missing keys: \S+.*unexpected keys: x\."),
                           ("classifier", r"missing keys: pooler\.dense\.(weight|bias)"),
                           ("wider", r"shape mismatch .*\(32, 33\) vs \(32, 32\)")):
        with pytest.raises(ModelError, match=expected) as caught:
            load_model(spec("transformers", name, base_dir=vit_dirs[name].parent), registry)
        assert "does not fit the architecture" in one_line(caught) and "partial = true" in one_line(caught)
    # A checkpoint's own task head (the classifier's 'classifier.*') is dropped as timm drops its classifier:
    # that alone is no error; the missing pooler is.
    loaded = load_model(spec("transformers", "base", base_dir=vit_dirs["base"].parent), registry)
    assert "partial" not in loaded.identity


def test_a_declared_partial_load_is_recorded_in_the_model_identity(registry, vit_dirs):
    with pytest.warns(UserWarning, match=r"partial = true: 2 tensors it lacks start from random initialisation "
                                         r"\(pooler\.dense\.bias, pooler\.dense\.weight\), 2 of its tensors are not used"):
        model = load_model(spec("transformers", "classifier", base_dir=vit_dirs["classifier"].parent,
                                partial=True), registry)
    strict = load_model(spec("transformers", "base", base_dir=vit_dirs["base"].parent), registry)
    assert model.identity["partial"] is True and model.identity["key"].endswith(":partial")
    assert strict.identity["key"] != model.identity["key"].removesuffix(":partial")  # other files anyway
    assert model.trunk().eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 32)


def test_a_text_encoder_with_renamed_weights_is_refused(registry, tmp_path):
    """The text side reads through the same from_pretrained: a BERT saved under other names is an error."""
    from safetensors.torch import load_file, save_file
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory = tmp_path / "bert"
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=20)).save_pretrained(directory)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\n")
    BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt")).save_pretrained(directory)
    assert load_model(spec("transformers", str(directory)), registry).provider.kind == "text"
    state = load_file(str(directory / "model.safetensors"))
    save_file({k.replace("encoder.", "enc."): v for k, v in state.items()}, str(directory / "model.safetensors"),
              metadata={"format": "pt"})
    with pytest.raises(ModelError, match=r"missing keys: encoder\.layer\.0.*unexpected keys: enc\.") as caught:
        load_model(spec("transformers", str(directory)), registry)
    one_line(caught)


@pytest.mark.skipif(not (MINILM / "model.safetensors").is_file(), reason=f"{MINILM} absent: transferbench fetch "
                    "all-minilm-l6-v2")
def test_the_real_minilm_loads_strictly_and_its_renamed_copy_does_not(registry, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    model = load_model(spec("transformers", str(MINILM), pooling="mean"), registry)
    assert model.feature_dim == 384 and model.identity["weights"] == "all-minilm-l6-v2"
    copy = tmp_path / "minilm-renamed"
    shutil.copytree(MINILM, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    state = load_file(str(MINILM / "model.safetensors"))
    save_file({k.replace("encoder.", "enc.", 1): v for k, v in state.items()},
              str(copy / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ModelError, match="missing keys: encoder.layer.0") as caught:
        load_model(spec("transformers", str(copy), pooling="mean"), registry)
    one_line(caught)


def test_the_file_provider_keeps_an_architecture_s_own_head_keys(registry, tmp_path):
    """Neighbour: ``file`` set apart every 'head.' key as an exported classifier, so an architecture whose
    trunk has head.* tensors (timm's ConvNeXt: head.norm) could never load strictly. Only keys the trunk
    does not have are set apart."""
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = timm.create_model("test_convnext")
    net.reset_classifier(0)
    state = {**net.state_dict(), "head.fc.weight": torch.zeros(5, 8), "head.fc.bias": torch.zeros(5)}
    save_file(state, str(tmp_path / "convnext.safetensors"))
    model = load_model(spec("file", base_dir=tmp_path, path="convnext.safetensors",
                            architecture={"provider": "timm", "name": "test_convnext", "weights": "none"}), registry)
    trunk = model.trunk().state_dict()
    assert "head.norm.weight" in trunk and all(torch.equal(v, state[k]) for k, v in trunk.items())


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


# -- 3. an input size far from the weights' own ---------------------------------------------------------------

def test_an_input_far_from_the_weights_size_warns_once_and_is_recorded(registry, tmp_path):
    path = timm_checkpoint(tmp_path)
    table = f'[model]\nprovider = "timm"\nname = "test_resnet"\nfile = "{path.name}"'
    with pytest.warns(UserWarning) as caught:
        assert run(suite_file(tmp_path, table, name="small", size=32), registry, tmp_path / "out").ok == 1
    said = [str(w.message) for w in caught if "weights" in str(w.message)]
    assert len(said) == 1 and "32x32" in said[0] and "160x160" in said[0] and "5.0x" in said[0], said
    shape = records.read(tmp_path / "out" / "small" / "records.jsonl")[0]["input"]
    assert shape["size"] == [32, 32] and shape["weights_size"] == [160, 160] and "160x160" in shape["size_note"]

    with warnings.catch_warnings():  # near the weights' own size (within the factor): no warning, no note
        warnings.simplefilter("error")
        assert run(suite_file(tmp_path, table, name="near", size=128), registry, tmp_path / "out").ok == 1
    shape = records.read(tmp_path / "out" / "near" / "records.jsonl")[0]["input"]
    assert shape["weights_size"] == [160, 160] and "size_note" not in shape


def test_the_warning_is_one_line_on_stderr_from_the_cli(registry, tmp_path, capsys):
    path = timm_checkpoint(tmp_path)
    suite = suite_file(tmp_path, f'[model]\nprovider = "timm"\nname = "test_resnet"\nfile = "{path.name}"',
                       name="cli", size=64)
    assert main(["run", str(suite), "--out", str(tmp_path / "out"), "--no-progress", "--dry-run"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "weights" in line]
    assert len(said) == 1 and said[0].startswith("transferbench: warning: ") and "64x64" in said[0], said


def test_random_init_has_no_weights_size_to_be_far_from(registry, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        suite = suite_file(tmp_path, '[model]\nprovider = "timm"\nname = "test_resnet"\nweights = "none"',
                           name="random", size=32)
        assert run(suite, registry, tmp_path / "out").ok == 1
    assert "weights_size" not in records.read(tmp_path / "out" / "random" / "records.jsonl")[0]["input"]


@pytest.mark.skipif(not LITE0.is_file(), reason=NO_LITE0)
def test_why_it_matters_lite0_misnames_a_real_photo_at_64_px(registry):
    """The science behind the warning: the real ImageNet Lite0 names scikit-image's coffee photo at its
    own 224 px and no longer at 64 px (the issue saw daisy -> acorn on a flower)."""
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image is not installed (the test extra)")
    import timm
    from PIL import Image
    from timm.data import ImageNetInfo

    net = timm.create_model("tf_efficientnet_lite0").eval()
    net.load_state_dict(dict(zip(net.state_dict(), torch.load(LITE0, map_location="cpu", weights_only=True)
                                 .values())))
    top = {}
    for size in (224, 64):
        image = Image.fromarray(skimage_data.coffee()).resize((size, size), Image.BICUBIC)
        pixels = (torch.from_numpy(__import__("numpy").array(image)).permute(2, 0, 1).float() / 255 - 0.5) / 0.5
        with torch.no_grad():
            top[size] = ImageNetInfo().index_to_description(int(net(pixels[None]).argmax()))
    assert top[224] == "espresso" and top[64] != "espresso", top


# -- 4. cite on every shipped suite ----------------------------------------------------------------------------

@pytest.mark.parametrize("suite", sorted(p.name for p in (REPO / "suites").glob("*.toml")))
def test_cite_works_on_every_shipped_suite_and_knows_every_strategy(suite, registry, capsys):
    assert main(["cite", str(REPO / "suites" / suite)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"% BibTeX for suite {suite.removesuffix('.toml')}")
    assert "not installed here" not in text  # a "name:variant" entry is the installed strategy 'name'


def test_cite_of_the_shipped_no_source_suite_names_its_datasets(registry, capsys):
    assert main(["cite", str(REPO / "suites" / "pretrained-digits.toml")]) == 0
    text = capsys.readouterr().out
    assert "% dataset provider 'usps'" in text and "% dataset provider 'kmnist'" in text


# -- 5. captions of pairs without a source -----------------------------------------------------------------------

PUBLISHED = REPO / "results" / "pretrained-digits" / "records.jsonl"


def test_a_no_source_pair_s_caption_says_the_strategy_starts_from_the_pretrained_model(tmp_path):
    from benchmark.leaderboard import write_leaderboard

    (tmp_path / "records.jsonl").write_bytes(PUBLISHED.read_bytes())
    write_leaderboard(tmp_path, formats=("md",))
    text = (tmp_path / "leaderboard.md").read_text(encoding="utf-8")
    assert "source-only scores as is" not in text and "source head reused in 0" not in text
    assert "bitfit starts from the pretrained model itself with a new head (no source to train it on) " \
           "in its 18 cells here." in text


def test_a_board_of_both_kinds_of_pair_words_each_kind_apart():
    from benchmark.leaderboard.selected import starts_from_note

    def cell(source, head):
        return {"status": "ok", "strategy": "finetune", "source": source,
                "adapt_notes": {"starts_from": "source-only", "head": head}}
    note = starts_from_note([cell({"provider": "x"}, "reuse"), cell({"provider": "x"}, "new"), cell(None, "new")])
    assert note == ("finetune starts from the model source-only scores as is (source head reused in 1 of its 2 "
                    "cells with a source here), and from the pretrained model itself with a new head (no source "
                    "to train it on) in its 1 cell without a source.")


def no_source_folders() -> list[str]:
    """Published results folders with a strategy that noted a start on a pair without a source."""
    found = []
    for path in sorted((REPO / "results").glob("*/records.jsonl")):
        if any(r.get("source") is None and (r.get("adapt_notes") or {}).get("starts_from")
               for r in records.read(path)):
            found.append(path.parent.name)
    return found


@pytest.mark.parametrize("folder", no_source_folders())
def test_published_leaderboards_of_no_source_pairs_carry_today_s_captions(folder, tmp_path):
    """The published tables were rendered with the caption this issue found false: they are rendered again
    (`transferbench leaderboard results/FOLDER`) from their unchanged records."""
    from benchmark.leaderboard import write_leaderboard

    (tmp_path / "records.jsonl").write_bytes((REPO / "results" / folder / "records.jsonl").read_bytes())
    write_leaderboard(tmp_path, formats=("md",))
    published = (REPO / "results" / folder / "leaderboard.md").read_text(encoding="utf-8")
    assert published == (tmp_path / "leaderboard.md").read_text(encoding="utf-8"), \
        f"results/{folder}/leaderboard.md is stale: run `transferbench leaderboard results/{folder}`"
