"""file: an architecture from another provider, with the weights of a local checkpoint.

    [model]
    provider = "file"
    path = "checkpoints/mnist-lenet.safetensors"       # relative to the suite file, or absolute
    architecture = { provider = "builtin", name = "lenet", channels = 1, size = [28, 28] }
    # without 'architecture', it is read from PATH's sidecar PATH.json (what `transferbench export` writes)

``.safetensors`` (preferred) are read with ``safetensors.torch.load_file``; ``.pt``/``.pth``
state dicts with ``torch.load(weights_only=True)`` only: a file that needs pickle is
refused, because unpickling runs arbitrary code. Keys are the trunk's ``state_dict`` keys, loaded
strictly (every key, every shape, nothing else: else a one-line error naming the first mismatched
keys); keys starting with ``head.`` that the trunk lacks (an exported classifier head) are kept apart.
"""

import json
from pathlib import Path

import torch

from benchmark import ModelError, ModelProvider, Preprocessing, load_matching

HEAD_PREFIX = "head."


def read_state(path: Path) -> dict:
    """The tensors of a checkpoint file, refusing anything that needs pickle."""
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as error:  # truncated, another format, a bad header
            raise ModelError(f"checkpoint {path}: not a readable safetensors file ({error})") from None
    if path.suffix in (".pt", ".pth", ".bin"):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # pickle.UnpicklingError, with torch's explanation
            raise ModelError(f"checkpoint {path} refused: it needs pickle to load (it holds Python objects, not "
                             f"only tensors), and unpickling can run arbitrary code; re-save it as a state dict or "
                             f"with safetensors ({str(error).splitlines()[0][:120]})") from None
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        if not (isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())):
            raise ModelError(f"checkpoint {path} is not a state dict of tensors")
        return state
    raise ModelError(f"checkpoint {path}: unknown format '{path.suffix}'; use .safetensors, or a .pt/.pth state dict")


class FileModels(ModelProvider):
    name = "file"
    description = "Another provider's architecture + a local .safetensors (or weights-only .pt) checkpoint."
    library = "safetensors"
    how_to_get = "Export one with `transferbench export`, or save a trunk's state_dict with safetensors."

    def __init__(self, name=None, weights=None, base_dir=".", path=None, architecture=None):
        # weights: the checkpoint's file name (identity and cell keys also carry its sha256); "none": random init
        super().__init__(name or (Path(path).stem if path else None), weights or (Path(path).name if path else None),
                         base_dir)
        self.path, self.architecture = path, architecture

    def checkpoint(self):
        return self.resolve(self.path) if self.path else None

    def sidecar(self) -> dict:
        """The architecture table and metadata: the table's own, else PATH.json."""
        if self.architecture is not None:
            return {"architecture": dict(self.architecture)}
        sidecar = self.checkpoint().with_suffix(self.checkpoint().suffix + ".json")
        if not sidecar.is_file():
            raise ModelError(f"file model '{self.model_name}': no architecture: add architecture = "
                             f"{{ provider = \"...\", name = \"...\" }} to the [model] table, or put {sidecar} "
                             f"beside the checkpoint (`transferbench export` writes it)")
        try:
            return json.loads(sidecar.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as error:  # unreadable, not UTF-8 (a ValueError too), not JSON
            raise ModelError(f"{sidecar}: not a readable JSON checkpoint sidecar ({error})") from None

    def inner(self) -> ModelProvider:
        """The provider that builds the architecture (random initialisation)."""
        from plugins.models import transferbench_models

        table = dict(self.sidecar()["architecture"])
        providers = {cls.name: cls for cls in transferbench_models() if cls is not FileModels}
        kind = table.pop("provider", None)
        if kind not in providers:
            raise ModelError(f"file model '{self.model_name}': architecture provider '{kind}' is not one of "
                             f"{', '.join(providers)}")
        return providers[kind](base_dir=str(self.base_dir), **{**table, "weights": "none"})

    def check(self):
        if self.path is None:
            raise ModelError("file model: needs path = \"...\" (a .safetensors or .pt checkpoint)")
        if not self.checkpoint().is_file():
            raise self.missing(self.checkpoint())
        self.inner().check()

    def build(self, pretrained=True):
        trunk, dim = self.inner().build(pretrained=False)
        if pretrained and self.weights != "none":
            own = trunk.state_dict()
            # An exported classifier (head.*) is set apart; an architecture's own head.* tensors (timm's
            # ConvNeXt keeps head.norm in its trunk) are the trunk's and must load like every other key.
            state = {k: v for k, v in read_state(self.checkpoint()).items()
                     if not k.startswith(HEAD_PREFIX) or k in own}
            load_matching(trunk, state, f"checkpoint {self.checkpoint()}")
        return trunk, dim

    def preprocessing(self):
        stored = self.sidecar().get("preprocessing")
        if stored:
            return Preprocessing(stored["channels"], tuple(stored["size"]),
                                 tuple(stored["mean"]) if stored.get("mean") is not None else None,
                                 tuple(stored["std"]) if stored.get("std") is not None else None,
                                 source=f"{self.checkpoint().name}.json")
        return self.inner().preprocessing()

    def classes(self):
        return tuple(self.sidecar().get("classes") or ()) or None

    def head(self):
        """The exported classifier (``head.weight`` [C, D], ``head.bias`` [C]), when the file holds one."""
        if self.weights == "none":
            return None
        state = read_state(self.checkpoint())
        found = {key[len(HEAD_PREFIX):]: state[key] for key in (f"{HEAD_PREFIX}weight", f"{HEAD_PREFIX}bias")
                 if key in state}
        return found if len(found) == 2 and found["weight"].ndim == 2 else None

    def identity(self):
        return {**super().identity(), "architecture": self.sidecar()["architecture"]}
