"""Model providers on checkpoints the tests write in each library's own format and place.

Each loaded trunk is compared bit for bit with what the library's own loader returns for
that file; every bad input (missing file, unknown name, mismatched keys, a pickle) is an
error of one line naming what is at fault. Nothing is downloaded: the network is off.
"""

import hashlib
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from benchmark import ModelError
from benchmark.cli import main
from benchmark.data.providers import InputSpec
from benchmark.errors import SuiteError
from benchmark.models.base import MissingModelError, ModelSpec
from benchmark.models.resolve import input_for, load_model


@pytest.fixture
def offline(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", lambda self, address: refuse(address))
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """A TORCH_HOME whose hub cache holds a random resnet18 under torchvision's IMAGENET1K_V1 file name."""
    import torchvision

    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    path = home / "hub" / "checkpoints" / Path(weights.url).name
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    state = torchvision.models.resnet18(weights=None).state_dict()
    torch.save(state, path)
    return path, state


def spec(provider, name=None, weights=None, base_dir=".", **options):
    return ModelSpec(provider, name, weights, options, base_dir=str(base_dir), where="suite.toml:7")


def assert_same_state(module: nn.Module, expected: dict, skip=()):
    own = module.state_dict()
    assert set(own) == {k for k in expected if not k.startswith(skip)} if skip else set(own) == set(expected)
    for key, tensor in own.items():
        assert torch.equal(tensor, expected[key]), key


def test_list_models_shows_every_builtin_provider_with_its_distribution(capsys):
    assert main(["list", "--models"]) == 0
    out = capsys.readouterr().out
    for name in ("builtin", "torchvision", "timm", "transformers", "file"):
        assert any(line.startswith(name) and "transferbench" in line for line in out.splitlines()), name


def test_torchvision_weights_load_from_its_cache_bit_identical(registry, torch_home, offline):
    import torchvision

    path, saved = torch_home
    model = load_model(spec("torchvision", "resnet18", "IMAGENET1K_V1"), registry)
    trunk = model.trunk()
    assert_same_state(trunk, saved, skip=("fc.",))
    # torchvision's own reader of that cache file gives the same tensors
    library = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    assert all(torch.equal(trunk.state_dict()[k], library[k]) for k in trunk.state_dict())
    assert model.feature_dim == 512
    assert model.identity["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.identity["checkpoint"] == str(path) and model.identity["library"] == "torchvision"
    transform = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.transforms()
    assert model.preprocessing.mean == tuple(transform.mean) and model.preprocessing.size == (224, 224)
    assert model.trunk() is not model.trunk()  # a fresh copy each time
    assert offline == []


def test_a_missing_torchvision_checkpoint_fails_fast_naming_the_cache_file(registry, tmp_path, monkeypatch, offline):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    started = time.perf_counter()
    with pytest.raises(MissingModelError) as caught:
        load_model(spec("torchvision", "resnet50", "IMAGENET1K_V2"), registry)
    assert time.perf_counter() - started < 2
    message = str(caught.value)
    assert "\n" not in message and "suite.toml:7" in message and "resnet50" in message
    assert str(tmp_path / "hub" / "checkpoints" / "resnet50-11ad3fa6.pth") in message
    assert "download" in message and "TORCH_HOME" in message and offline == []


@pytest.mark.parametrize("table, expected", [
    (("torchvison", "resnet18", None), "did you mean 'torchvision'"),
    (("torchvision", "resnet181", None), "did you mean 'resnet18'"),
    (("torchvision", "resnet18", "IMAGENET1K_V2"), "did you mean 'IMAGENET1K_V1'"),
    (("builtin", "lenett", None), "did you mean 'lenet'"),
    (("timm", "resnet5O", None), "did you mean"),
])
def test_unknown_provider_model_or_weights_say_did_you_mean_with_file_and_line(registry, table, expected):
    with pytest.raises((SuiteError, ModelError)) as caught:
        load_model(spec(*table), registry)
    assert expected in str(caught.value) and "suite.toml:7" in str(caught.value)


def test_random_weights_need_no_file_and_target_only_gets_the_same_architecture(registry):
    model = load_model(spec("torchvision", "resnet18", "none"), registry)
    assert model.identity["sha256"] is None and model.identity["weights"] == "none"
    torch.manual_seed(1)
    first = model.random_trunk()
    assert type(first) is type(model.trunk()) and set(first.state_dict()) == set(model.trunk().state_dict())


def test_timm_loads_through_pretrained_cfg_overlay_bit_identical(registry, tmp_path, offline):
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = timm.create_model("test_resnet")
    save_file(net.state_dict(), str(tmp_path / "test_resnet.safetensors"))
    model = load_model(spec("timm", "test_resnet", base_dir=tmp_path, file="test_resnet.safetensors"), registry)
    library = timm.create_model("test_resnet", pretrained=True, num_classes=0,
                                pretrained_cfg_overlay={"file": str(tmp_path / "test_resnet.safetensors")})
    assert_same_state(model.trunk(), library.state_dict())
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in model.trunk().state_dict().items())
    assert model.feature_dim == library.num_features
    assert model.preprocessing.size == (160, 160) and model.preprocessing.mean == (0.5, 0.5, 0.5)
    assert offline == []


def test_timm_loads_strictly_a_file_whose_keys_do_not_fit_is_an_error_not_a_random_network(registry, tmp_path):
    import timm
    from safetensors.torch import save_file

    state = {f"_renamed.{key}": value for key, value in timm.create_model("test_resnet").state_dict().items()}
    save_file(state, str(tmp_path / "renamed.safetensors"))
    with pytest.raises(ModelError, match="does not fit the architecture: missing keys: .*unexpected keys: _renamed"):
        load_model(spec("timm", "test_resnet", base_dir=tmp_path, file="renamed.safetensors"), registry).trunk()


def test_timm_key_mapping_order_pairs_renamed_tensors_and_checks_every_shape(registry, tmp_path):
    import timm

    torch.manual_seed(1)
    net = timm.create_model("test_resnet")
    renamed = {f"other.{i:03d}": value for i, value in enumerate(net.state_dict().values())}
    torch.save(renamed, tmp_path / "renamed.pth")  # a .pth keeps its order
    model = load_model(spec("timm", "test_resnet", base_dir=tmp_path, file="renamed.pth",
                            key_mapping="order"), registry)
    expected = {k: v for k, v in net.state_dict().items() if k in model.trunk().state_dict()}
    assert_same_state(model.trunk(), expected)
    assert model.identity["key_mapping"] == "order"

    values = list(renamed.values())
    swapped = dict(zip(renamed, [values[1], values[0], *values[2:]]))  # two tensors out of order
    torch.save(swapped, tmp_path / "swapped.pth")
    with pytest.raises(ModelError, match="pairs .other.000. .* not the architecture's in order"):
        load_model(spec("timm", "test_resnet", base_dir=tmp_path, file="swapped.pth",
                        key_mapping="order"), registry).trunk()


LITE2 = Path("data/efficientnet-lite2/efficientnet-lite2-9656183e.pth")
LITE0 = Path("data/efficientnet-lite0/efficientnet-lite0-57934424.pth")


@pytest.mark.parametrize("name, file, tensors, sha", [("tf_efficientnet_lite0", LITE0, 296, "579344248a93e230"),
                                                      ("tf_efficientnet_lite2", LITE2, 386, "9656183eaeafe8cb")])
def test_imagenet_efficientnet_lite_names_real_photos_through_the_providers_preprocessing(registry, name, file,
                                                                                         tensors, sha):
    """The pinned Lite0 and Lite2 weights, mapped into timm's architecture and preprocessed as the provider
    says (bicubic resize to the weights' size, mean = std = 0.5), recognise scikit-image's coffee and cat
    photos through the provider's trunk and its ``head()`` (the ImageNet classifier): a wrong key mapping,
    normalisation or head does not."""
    if not file.is_file():
        pytest.skip(f"{file} absent: run `transferbench fetch {file.parent.name}`")
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image is not installed (the test extra)")
    import timm
    from PIL import Image
    from timm.data import ImageNetInfo

    model = load_model(spec("timm", name, base_dir=".", file=str(file.resolve()), key_mapping="order"), registry)
    state = torch.load(file, map_location="cpu", weights_only=True)
    assert len(state) == tensors and model.identity["sha256"].startswith(sha)
    net = timm.create_model(name)
    net.load_state_dict(dict(zip(net.state_dict(), state.values())))  # the ImageNet classifier too
    assert_same_state(model.trunk(), {k: v for k, v in net.state_dict().items() if not k.startswith("classifier")})
    head = model.head()
    assert torch.equal(head["weight"], net.classifier.weight) and torch.equal(head["bias"], net.classifier.bias)
    pre = model.preprocessing
    mean, std = torch.tensor(pre.mean)[:, None, None], torch.tensor(pre.std)[:, None, None]
    info, trunk = ImageNetInfo(), model.trunk().eval()
    for photo, wanted in (("coffee", {"espresso"}), ("chelsea", {"tabby, tabby cat", "tiger cat", "Egyptian cat"})):
        image = Image.fromarray(getattr(skimage_data, photo)()).resize(pre.size[::-1], Image.BICUBIC)
        pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255  # [3, H, W] in [0, 1]
        with torch.no_grad():
            features = trunk(((pixels - mean) / std)[None])                     # [1, D]
            top5 = (features @ head["weight"].T + head["bias"]).topk(5).indices[0]
        names = {info.index_to_description(int(i)) for i in top5}
        assert names & wanted, (photo, names)


def test_a_missing_timm_file_names_the_path_and_how_to_save_one(registry, tmp_path):
    with pytest.raises(MissingModelError, match="nothing is downloaded") as caught:
        load_model(spec("timm", "resnet50.a1_in1k", base_dir=tmp_path, file="r50.safetensors"), registry)
    assert str(tmp_path / "r50.safetensors") in str(caught.value) and "torch.save" in str(caught.value)


@pytest.fixture
def tiny_vit(tmp_path):
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    torch.manual_seed(0)
    config = ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                       image_size=32, patch_size=8)
    directory = tmp_path / "tiny-vit"
    ViTModel(config).save_pretrained(directory)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    return directory


def test_random_initialisation_of_a_described_architecture_is_never_the_pretrained_models_key(registry, tiny_vit):
    """weights = "none" with a folder (a transformers config) reads no weights: its key, which keys the
    pretrain and feature caches, differs from the pretrained model's, and no checkpoint is named."""
    pretrained = load_model(spec("transformers", "tiny-vit", base_dir=tiny_vit.parent), registry)
    random = load_model(spec("transformers", "tiny-vit", base_dir=tiny_vit.parent, weights="none"), registry)
    assert pretrained.key != random.key and ":random:" in random.key
    assert random.identity["checkpoint"] is None and random.identity["sha256"] is None
    assert random.identity["architecture_sha256"] == pretrained.identity["sha256"]


def test_transformers_vision_encoder_from_save_pretrained_bit_identical(registry, tiny_vit, offline):
    from transformers import AutoModel

    model = load_model(spec("transformers", "tiny-vit", base_dir=tiny_vit.parent), registry)
    library = AutoModel.from_pretrained(tiny_vit, local_files_only=True)
    assert_same_state(model.trunk().model, library.state_dict())
    assert model.feature_dim == 32 and model.preprocessing.size == (32, 32)
    assert model.trunk().eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 32)
    assert offline == []


def test_a_missing_transformers_directory_names_config_json(registry, tmp_path):
    with pytest.raises(MissingModelError) as caught:
        load_model(spec("transformers", "vit-base", base_dir=tmp_path), registry)
    assert str(tmp_path / "vit-base" / "config.json") in str(caught.value) and "save_pretrained" in str(caught.value)


LENET = {"provider": "builtin", "name": "lenet", "channels": 1, "size": [16, 16]}


def lenet_state(seed=0) -> dict:
    from benchmark import build_trunk

    torch.manual_seed(seed)
    return build_trunk((1, 16, 16), "lenet")[0].state_dict()


def test_file_provider_reads_safetensors_and_weights_only_state_dicts(registry, tmp_path):
    from safetensors.torch import save_file

    state = lenet_state()
    save_file(state, str(tmp_path / "lenet.safetensors"))
    torch.save(state, tmp_path / "lenet.pt")
    for name in ("lenet.safetensors", "lenet.pt"):
        model = load_model(spec("file", base_dir=tmp_path, path=name, architecture=LENET), registry)
        assert_same_state(model.trunk(), state)
        assert model.identity["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()


def test_file_provider_refuses_a_pickle_and_names_mismatched_keys(registry, tmp_path):
    from safetensors.torch import save_file

    torch.save({"trunk": nn.Linear(2, 2)}, tmp_path / "pickled.pt")  # a module object: needs pickle
    with pytest.raises(ModelError, match="needs pickle") as caught:
        load_model(spec("file", base_dir=tmp_path, path="pickled.pt", architecture=LENET), registry).trunk()
    assert "arbitrary code" in str(caught.value) and "\n" not in str(caught.value)
    state = lenet_state()
    state["renamed.weight"] = state.pop("0.0.weight")
    state["4.weight"] = torch.zeros(128, 7)
    save_file(state, str(tmp_path / "bad.safetensors"))
    with pytest.raises(ModelError) as caught:
        load_model(spec("file", base_dir=tmp_path, path="bad.safetensors", architecture=LENET), registry).trunk()
    message = str(caught.value)
    assert "missing keys: 0.0.weight" in message and "unexpected keys: renamed.weight" in message
    assert "4.weight (128, 7) vs (128, 1024)" in message and "\n" not in message


def test_the_pair_input_follows_the_weights_unless_the_suite_sets_it(registry, torch_home):
    model = load_model(spec("torchvision", "resnet18", "IMAGENET1K_V1"), registry)
    shape, origin = input_for(model, InputSpec(), frozenset())
    assert shape.shape == (3, 224, 224) and shape.mean == (0.485, 0.456, 0.406) and origin == "the weights"
    shape, origin = input_for(model, InputSpec(channels=1, size=(64, 64)), frozenset({"size"}))
    assert shape.shape == (3, 64, 64) and shape.std == (0.229, 0.224, 0.225) and "size from the suite" in origin
