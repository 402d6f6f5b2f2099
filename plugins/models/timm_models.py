"""timm: ``timm.create_model`` with a local weights file, never the hub.

    [model]
    provider = "timm"
    name = "resnet50.a1_in1k"          # any timm model name (with its pretrained tag)
    file = "checkpoints/resnet50_a1.safetensors"   # relative to the suite file, or absolute
    # weights = "none": random initialisation (no file needed)
    # key_mapping = "order": the file's tensors are the architecture's, in order, under other names

The file (.safetensors, or a state dict .pth) is read by ``timm.models.load_state_dict`` and
loaded **strictly** into the trunk, ``timm.create_model(name)`` without its classifier (a classifier
in the file is dropped: strategies fit their own heads): every key present,
every shape equal, no unexpected key, else one line naming the first mismatched keys, so a
checkpoint that does not fit is never presented as pretrained while its weights stay random.
The trunk returns its pooled features [N, num_features].

``key_mapping = "order"`` is for a checkpoint converted by another library whose names differ
but whose tensors correspond one to one, in order and shape, to timm's: e.g. the EfficientNet-
Lite0 weights in the ``efficientnet_pytorch`` naming (``_conv_stem``, ``_blocks.N``), whose 296
tensors are ``tf_efficientnet_lite0``'s. The count and every shape must still match; records
carry the mapping. The order is the file's: a .pth state dict keeps its insertion order (a .safetensors
file does not keep one, so it cannot be mapped this way). Preprocessing is ``timm.data.resolve_data_config`` of the model.
"""

from benchmark import ModelError, ModelProvider, Preprocessing, did_you_mean, load_matching

KEY_MAPPINGS = (None, "order")


def by_order(state: dict, model_state: dict, what: str) -> dict:
    """The checkpoint's tensors under the model's key names, paired in order; counts and shapes must match."""
    if len(state) != len(model_state):
        raise ModelError(f"{what}: key_mapping = \"order\" needs as many tensors as the architecture has, "
                         f"got {len(state)} for its {len(model_state)}")
    for (theirs, tensor), (ours, own) in zip(state.items(), model_state.items()):
        if tuple(tensor.shape) != tuple(own.shape):
            raise ModelError(f"{what}: key_mapping = \"order\" pairs '{theirs}' {tuple(tensor.shape)} with "
                             f"'{ours}' {tuple(own.shape)}: the tensors are not the architecture's in order")
    return {ours: tensor for (ours, _), tensor in zip(model_state.items(), state.values())}


class TimmModels(ModelProvider):
    name = "timm"
    description = "timm.create_model(name, pretrained=True, pretrained_cfg_overlay={'file': FILE}); local file only."
    library = "timm"
    # ImageNet CNNs fine-tune at a learning rate well below training from scratch: the shared Adam 1e-3
    # left EfficientNet-Lite0 below the majority-class rate on ELPV (issue 24); 1e-4 is what solar-defects runs.
    recipe = {"adapt_lr": 1e-4, "pretrain_lr": 1e-4}
    recipe_source = ("Li et al. 2020, Rethinking the Hyperparameters for Fine-tuning (ICLR): fine-tuning rates "
                     "an order below from-scratch ones; Adam 1e-4, as suites/solar-defects.toml")
    how_to_get = ("Save the weights there, e.g. on a machine with internet: "
                  "torch.save(timm.create_model(NAME, pretrained=True).state_dict(), FILE), or download the "
                  "model's model.safetensors from its Hugging Face page.")

    def __init__(self, name, weights=None, base_dir=".", file=None, key_mapping=None):
        super().__init__(name, weights, base_dir)
        self.file, self.key_mapping = file, key_mapping

    @property
    def random(self) -> bool:
        return self.weights == "none"

    def check(self):
        import timm

        architecture = self.model_name.split(".")[0]
        if not timm.is_model(architecture):
            raise ModelError(f"timm has no model '{architecture}'{did_you_mean(architecture, timm.list_models())}")
        if self.weights not in (None, "none"):
            raise ModelError(f"timm: weights = '{self.weights}' is not read; name the pretrained tag in name "
                             f"(e.g. resnet50.a1_in1k) and the file in file = \"...\", or weights = \"none\"")
        if self.key_mapping not in KEY_MAPPINGS:
            raise ModelError(f"timm: key_mapping must be \"order\" or left out, not '{self.key_mapping}'")
        if self.random:
            return
        if self.file is None:
            raise self.missing("(no file given)", f"Add file = \"PATH\" to the [model] table. {self.how_to_get}")
        if not self.checkpoint().is_file():
            raise self.missing(self.checkpoint())

    def checkpoint(self):
        return None if self.random or self.file is None else self.resolve(self.file)

    def build(self, pretrained=True):
        import timm

        self.check()
        net = timm.create_model(self.model_name, pretrained=False)
        full = net.state_dict()
        net.reset_classifier(0)  # the model returns pooled features [N, num_features]; strategies add heads
        if pretrained and not self.random:
            what = f"timm model '{self.model_name}' checkpoint {self.checkpoint()}"
            own = net.state_dict()
            state = self.read(full, own, what)
            # the checkpoint's own classifier (ImageNet's 1000 classes) is not part of the trunk
            try:
                load_matching(net, {key: value for key, value in state.items() if key in own or key not in full},
                              what)
            except ModelError as error:
                # Another library's names for the same tensors (the Lite0 wheel's _conv_stem, _blocks.N):
                # say what fixes it when the count and the shapes in order say it would.
                if self.key_mapping is None and len(state) in (len(full), len(own)):
                    try:
                        by_order(state, full if len(state) == len(full) else own, what)
                    except ModelError:
                        raise error from None
                    raise ModelError(f"{error}; the file holds the architecture's {len(state)} tensors in order "
                                     f"under other names: add key_mapping = \"order\" to the [model] table") from None
                raise
        return net, int(net.num_features)

    def read(self, full: dict, own: dict, what: str) -> dict:
        """The checkpoint's tensors, under timm's names when ``key_mapping = "order"``."""
        import timm

        try:
            state = timm.models.load_state_dict(str(self.checkpoint()))
        except Exception as error:  # a pickle, a truncated file: the library's own message, one line
            raise ModelError(f"{what}: cannot be read: {error}") from None
        if self.key_mapping == "order":
            state = by_order(state, full if len(state) == len(full) else own, what)
        return state

    def head(self):
        """The file's own classifier (ImageNet's for the Lite wheels), under timm's ``classifier`` name."""
        import timm

        if self.random:
            return None
        net = timm.create_model(self.model_name, pretrained=False)
        full = net.state_dict()
        net.reset_classifier(0)
        prefix = net.pretrained_cfg["classifier"] + "."
        state = self.read(full, net.state_dict(), f"timm model '{self.model_name}' checkpoint {self.checkpoint()}")
        found = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
        return found if set(found) == {"weight", "bias"} and found["weight"].ndim == 2 else None

    def identity(self):
        identity = super().identity()
        return identity if self.key_mapping is None else {**identity, "key_mapping": self.key_mapping}

    def preprocessing(self):
        import timm
        from timm.data import resolve_data_config

        config = resolve_data_config({}, model=timm.create_model(self.model_name, pretrained=False, num_classes=0))
        channels, height, width = config["input_size"]
        return Preprocessing(channels, (height, width), tuple(config["mean"]), tuple(config["std"]),
                             source="timm.data.resolve_data_config")
