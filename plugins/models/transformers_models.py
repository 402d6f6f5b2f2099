"""transformers: a vision encoder saved with ``save_pretrained`` (ViT, ConvNeXt, DINOv2, ...), offline.

    [model]
    provider = "transformers"
    name = "checkpoints/vit-base-patch16-224"   # a directory holding config.json and the weights
    # or a name with the directory apart: name = "all-minilm-l6-v2", path = "{data_root}/all-minilm-l6-v2"
    # partial = true: load a checkpoint that covers only part of the model, on purpose (recorded)

Loaded as ``AutoModel.from_pretrained(dir, local_files_only=True)``, strictly: a weight the
checkpoint lacks, a shape that differs or a key outside the checkpoint's own task head is a one-line
error (``plugins/models/transformers_strict.py``), never a partly random network. Preprocessing from
``AutoImageProcessor.from_pretrained(dir, local_files_only=True)`` (size, mean, std). The
trunk returns the encoder's pooled output, or the first token of its last hidden state
when it has no pooler ([N, hidden size]). A directory with a tokenizer and no image processor
is a text encoder (``kind = "text"``): see ``plugins/models/transformers_text.py``.
"""

from torch import nn

from benchmark import ModelError, ModelProvider, Preprocessing, feature_dim_of
from plugins.models.transformers_strict import load_strictly
from plugins.models.transformers_text import TextEncoder, check_text, is_text_encoder, text_tokenizer


class VisionEncoder(nn.Module):
    """A transformers vision model as a trunk: pixel_values [N, 3, H, W] -> features [N, D]."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        outputs = self.model(pixel_values=inputs)
        pooled = getattr(outputs, "pooler_output", None)
        if pooled is not None:
            return pooled.flatten(1)
        return outputs.last_hidden_state[:, 0]


class TransformersModels(ModelProvider):
    name = "transformers"
    description = ("AutoModel.from_pretrained(DIR, local_files_only=True): vision encoders + AutoImageProcessor, "
                   "text encoders + AutoTokenizer.")
    library = "transformers"
    # BERT-family encoders: Devlin et al.'s fine-tuning grid (lr 5e-5 / 3e-5 / 2e-5, batch 16 / 32, weight decay 0.01)
    recipe = {"adapt_lr": 5e-5, "pretrain_lr": 5e-5, "batch_size": 16, "weight_decay": 0.01}
    recipe_source = ("Devlin et al. 2019, BERT (NAACL), appendix A.3: fine-tuning with Adam at 5e-5, 3e-5 or 2e-5, "
                     "batch 16 or 32, weight decay 0.01")
    how_to_get = ("Save the model there on a machine with internet: AutoModel.from_pretrained(ID).save_pretrained(DIR) "
                  "and AutoImageProcessor.from_pretrained(ID).save_pretrained(DIR), or "
                  "`hf download ID --local-dir DIR`.")

    def __init__(self, name, weights=None, base_dir=".", pooling="cls", partial=False, path=None):
        super().__init__(name, weights, base_dir)
        self.path = path  # the directory, when the name is not it (benchmark.suite.paths: relative to the suite)
        self.pooling = pooling  # text encoders: "cls" or "mean" (plugins/models/transformers_text.py)
        self.partial = bool(partial)  # the suite loads a checkpoint that covers part of the model, on purpose

    @property
    def kind(self) -> str:
        # Looked up when asked, not at construction: the runner sets data_root afterwards, and a
        # directory under the data root (a fetched asset) is found only then.
        return "text" if is_text_encoder(self.checkpoint()) else "image"

    def checkpoint(self):
        return self.resolve(self.path or self.model_name)

    def check(self):
        path = self.checkpoint()
        if not (path / "config.json").is_file():
            raise self.missing(path / "config.json")
        if self.kind == "text":
            check_text(path, self.pooling)
        elif not (path / "preprocessor_config.json").is_file():
            raise self.missing(path / "preprocessor_config.json", "The preprocessing is read from the saved "
                               "AutoImageProcessor: AutoImageProcessor.from_pretrained(ID).save_pretrained(DIR).")
        if self.weights not in (None, "none"):
            raise ModelError(f"transformers: weights = '{self.weights}' is not read; the directory holds the weights"
                             f" (or weights = \"none\" for random initialisation)")

    def build(self, pretrained=True):
        from transformers import AutoConfig, AutoModel

        self.check()
        if pretrained and self.weights != "none":
            model = load_strictly(self.checkpoint(), self.partial)
        else:
            model = AutoModel.from_config(AutoConfig.from_pretrained(self.checkpoint(), local_files_only=True))
        if self.kind == "text":
            return TextEncoder(model, self.pooling), model.config.hidden_size
        trunk = VisionEncoder(model)
        return trunk, feature_dim_of(trunk, (3, *self.preprocessing().size))

    def tokenizer(self):
        return text_tokenizer(self.checkpoint()) if self.kind == "text" else None

    def identity(self):
        identity = super().identity()
        if self.partial:  # another model than the strict load of the same files: another key
            identity = {**identity, "partial": True, "key": f"{identity['key']}:partial"}
        if self.kind != "text":
            return identity
        return {**identity, "pooling": self.pooling, "key": f"{identity['key']}:{self.pooling}"}

    def preprocessing(self):
        if self.kind == "text":
            return Preprocessing(2, (1, 1), source="AutoTokenizer")
        from transformers import AutoImageProcessor

        processor = AutoImageProcessor.from_pretrained(self.checkpoint(), local_files_only=True)
        size = getattr(processor, "crop_size", None) or processor.size
        size = (size["height"], size["width"]) if "height" in size else (size["shortest_edge"],) * 2
        return Preprocessing(3, tuple(size), tuple(processor.image_mean), tuple(processor.image_std),
                             source="AutoImageProcessor")
