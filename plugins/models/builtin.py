"""builtin: the backbones of ``benchmark.toolkit.backbones`` (lenet, conv4, resnet18), random initialisation.

What strategies build when a suite names no model; as a ``[model]`` table it makes the
architecture explicit (and gives the ``file`` provider an architecture to load exports into)::

    [model]
    provider = "builtin"
    name = "lenet"               # lenet, conv4 or resnet18
    channels = 1                 # the input the trunk is built for (default 1 x 28 x 28)
    size = [28, 28]
"""

import benchmark
from benchmark import BACKBONES, NORMS, ModelError, ModelProvider, Preprocessing, build_trunk, did_you_mean


class BuiltinModels(ModelProvider):
    name = "builtin"
    description = "lenet / conv4 / resnet18 from benchmark.toolkit.backbones, random initialisation (no weights)."
    library = "transferbench"

    def __init__(self, name="lenet", weights=None, base_dir=".", channels=1, size=(28, 28), hidden=64,
                 norm="batch"):
        super().__init__(name, weights, base_dir)
        self.channels, self.hidden, self.norm = int(channels), int(hidden), norm
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def check(self):
        if self.model_name not in BACKBONES:
            raise ModelError(f"builtin has no model '{self.model_name}'{did_you_mean(self.model_name, BACKBONES)};"
                             f" it has {', '.join(BACKBONES)}")
        if self.weights not in (None, "none"):
            raise ModelError(f"builtin models have no weights (got weights = '{self.weights}'); to start from a "
                             f"checkpoint of one, use provider = \"file\"")
        if self.norm not in NORMS:
            raise ModelError(f"builtin: unknown norm '{self.norm}'{did_you_mean(self.norm, NORMS)}")

    def build(self, pretrained=True):
        self.check()
        return build_trunk((self.channels, *self.size), self.model_name, self.hidden, self.norm)

    def preprocessing(self):
        return Preprocessing(self.channels, self.size, source="the builtin model's channels and size")

    def identity(self):
        return {**super().identity(), "library_version": benchmark.__version__,
                "architecture": {"channels": self.channels, "size": list(self.size), "hidden": self.hidden,
                                 "norm": self.norm}}
