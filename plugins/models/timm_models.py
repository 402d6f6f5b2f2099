"""timm: ``timm.create_model`` with a local weights file, never the hub.

    [model]
    provider = "timm"
    name = "resnet50.a1_in1k"          # any timm model name (with its pretrained tag)
    file = "checkpoints/resnet50_a1.safetensors"   # relative to the suite file, or absolute
    # weights = "none": random initialisation (no file needed)

Loaded as ``timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": file},
num_classes=0)``: timm's own loader reads the file (.safetensors or a state dict .pth) and
drops the classifier; ``num_classes=0`` makes the model return its pooled features
[N, num_features]. Preprocessing is ``timm.data.resolve_data_config`` of the model.
"""

from benchmark import ModelError, ModelProvider, Preprocessing, did_you_mean


class TimmModels(ModelProvider):
    name = "timm"
    description = "timm.create_model(name, pretrained=True, pretrained_cfg_overlay={'file': FILE}); local file only."
    library = "timm"
    how_to_get = ("Save the weights there, e.g. on a machine with internet: "
                  "torch.save(timm.create_model(NAME, pretrained=True).state_dict(), FILE), or download the "
                  "model's model.safetensors from its Hugging Face page.")

    def __init__(self, name, weights=None, base_dir=".", file=None):
        super().__init__(name, weights, base_dir)
        self.file = file

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
        if pretrained and not self.random:
            net = timm.create_model(self.model_name, pretrained=True, num_classes=0,
                                    pretrained_cfg_overlay={"file": str(self.checkpoint())})
        else:
            net = timm.create_model(self.model_name, pretrained=False, num_classes=0)
        return net, int(net.num_features)

    def preprocessing(self):
        import timm
        from timm.data import resolve_data_config

        config = resolve_data_config({}, model=timm.create_model(self.model_name, pretrained=False, num_classes=0))
        channels, height, width = config["input_size"]
        return Preprocessing(channels, (height, width), tuple(config["mean"]), tuple(config["std"]),
                             source="timm.data.resolve_data_config")
