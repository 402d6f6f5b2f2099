"""torchvision: any ``torchvision.models`` classification builder, weights through torchvision's weights API.

    [model]
    provider = "torchvision"
    name = "resnet50"
    weights = "IMAGENET1K_V2"    # a member of the builder's weights enum; "none": random initialisation

The weights are loaded by the builder itself (``builder(weights=...)``: strictly, with what
torchvision renames first), from torchvision's cache ``$TORCH_HOME/hub/checkpoints/<file name of
weights.url>`` (``torch.hub.get_dir()``), checked to exist first: nothing is downloaded. A file that
does not fit is a one-line error naming the first mismatched keys. Preprocessing comes from the weights'
own ``transforms()`` (crop size, mean, std). The trunk is the network with its classifier
replaced by ``nn.Identity`` (``fc``, ``classifier`` or ``heads``), so it returns the
features the classifier read.
"""

from pathlib import Path

from torch import nn

from benchmark import ModelError, ModelProvider, Preprocessing, did_you_mean, load_matching

CLASSIFIER_ATTRIBUTES = ("fc", "classifier", "heads", "head")


def strip_classifier(net: nn.Module) -> tuple[nn.Module, int]:
    """Replace the network's last classifier layer by ``nn.Identity``; (net, features it read)."""
    for attribute in CLASSIFIER_ATTRIBUTES:
        layer = getattr(net, attribute, None)
        if layer is None:
            continue
        if isinstance(layer, nn.Linear):
            setattr(net, attribute, nn.Identity())
            return net, layer.in_features
        if isinstance(layer, nn.Sequential):  # e.g. vgg/mobilenet "classifier", vit "heads": keep all but the last Linear
            last = max(i for i, m in enumerate(layer) if isinstance(m, nn.Linear))
            in_features = layer[last].in_features
            layer[last] = nn.Identity()
            return net, in_features
    raise ModelError(f"cannot find the classifier of {type(net).__name__} (looked for {', '.join(CLASSIFIER_ATTRIBUTES)})")


class TorchvisionModels(ModelProvider):
    name = "torchvision"
    description = "torchvision.models builders; weights from torchvision's cache ($TORCH_HOME/hub/checkpoints)."
    library = "torchvision"
    recipe = {"adapt_lr": 1e-4, "pretrain_lr": 1e-4}  # as timm's ImageNet CNNs (plugins/models/timm_models.py)
    recipe_source = ("Li et al. 2020, Rethinking the Hyperparameters for Fine-tuning (ICLR): fine-tuning rates "
                     "an order below from-scratch ones; Adam 1e-4")

    def __init__(self, name, weights=None, base_dir="."):
        super().__init__(name, weights, base_dir)

    def _weights(self):
        """The weights enum member, or None for random initialisation."""
        import torchvision

        names = torchvision.models.list_models(module=torchvision.models)  # classification models only
        if self.model_name not in names:
            raise ModelError(f"torchvision has no classification model '{self.model_name}'"
                             f"{did_you_mean(self.model_name, names)}")
        if self.weights in (None, "none"):
            return None
        enum = torchvision.models.get_model_weights(self.model_name)
        if self.weights not in enum.__members__:
            raise ModelError(f"torchvision model '{self.model_name}' has no weights '{self.weights}'"
                             f"{did_you_mean(self.weights, enum.__members__)}; it has "
                             f"{', '.join(enum.__members__)} (or \"none\")")
        return enum[self.weights]

    def checkpoint(self):
        import torch

        weights = self._weights()
        if weights is None:
            return None
        return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name

    def check(self):
        path = self.checkpoint()
        if path is not None and not path.is_file():
            raise self.missing(path, f"Put the file there (download {self._weights().url} on a machine with "
                                     f"internet, or set $TORCH_HOME to a directory whose hub/checkpoints holds it).")

    def build(self, pretrained=True):
        import torchvision

        weights = self._weights() if pretrained else None
        builder = torchvision.models.get_model_builder(self.model_name)
        if weights is None:
            return strip_classifier(builder(weights=None))
        self.check()  # the file is there: torchvision reads it and never downloads (nor checks its hash)
        try:
            # The builder loads as torchvision means its files to be loaded, strictly, including what it
            # renames or drops first (DenseNet's old 'norm.1' keys, GoogLeNet's and Inception's aux heads).
            net = builder(weights=weights, progress=False)
        except RuntimeError as error:  # torch's strict load: every key on many lines; ours names the first
            load_matching(builder(weights=None, num_classes=len(weights.meta["categories"])),
                          weights.get_state_dict(progress=False, check_hash=False), f"checkpoint {self.checkpoint()}")
            raise ModelError(f"checkpoint {self.checkpoint()} does not fit the architecture: "
                             f"{str(error).splitlines()[0][:200]}") from None
        return strip_classifier(net)

    def preprocessing(self):
        weights = self._weights()
        if weights is None:  # random initialisation: ImageNet's shape, no standardisation
            return Preprocessing(3, (224, 224), source="torchvision default (no weights)")
        transform = weights.transforms()
        size = transform.crop_size[0] if isinstance(transform.crop_size, (list, tuple)) else transform.crop_size
        return Preprocessing(3, (size, size), tuple(transform.mean), tuple(transform.std),
                             source=f"{self.model_name} {self.weights}.transforms()")

    def classes(self):
        weights = self._weights()
        return tuple(weights.meta["categories"]) if weights is not None else None
