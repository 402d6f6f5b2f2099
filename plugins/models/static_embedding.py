"""static-embedding: a token-embedding matrix (safetensors) + its ``tokenizers`` JSON, mean-pooled.

    [model]
    provider = "static-embedding"
    name = "wordllama-l2-supercat-256"
    path = "wordllama/l2_supercat_256.safetensors"          # relative to the data root or the suite file
    tokenizer = "wordllama/l2_supercat_tokenizer_config.json"
    key = "embedding.weight"                               # the tensor in the file; default: the only one
    trainable = true                                       # false: the embedding is frozen in every strategy
    # weights = "none": the same architecture (vocabulary x dim) from random initialisation (N(0, 1))

The trunk (``benchmark.data.text.StaticEmbeddingTrunk``) maps packed text [N, 2, L] to the
mask-weighted mean of its token vectors [N, D], as WordLlama (Miller 2024) does. The
tokenizer's vocabulary must have as many tokens as the matrix has rows.
"""

from safetensors import safe_open

from benchmark import ModelError, ModelProvider, Preprocessing, StaticEmbeddingTrunk, tokenizer_from_file


class StaticEmbeddingModels(ModelProvider):
    name = "static-embedding"
    description = "Token embeddings from a .safetensors file + a tokenizers JSON, mask-weighted mean pooling (text)."
    library = "safetensors"
    kind = "text"
    how_to_get = ("Put the embedding matrix (.safetensors) and its tokenizers JSON there; WordLlama's ship in the "
                  "`wordllama` wheel (wordllama/weights/*.safetensors, wordllama/tokenizers/*.json).")

    def __init__(self, name="static-embedding", weights=None, base_dir=".", path=None, tokenizer=None, key=None,
                 trainable=True):
        super().__init__(name, weights, base_dir)
        self.path, self.tokenizer_path, self.key, self.trainable = path, tokenizer, key, bool(trainable)

    def matrix_file(self):
        return self.resolve(self.path) if self.path else None

    def checkpoint(self):
        """The weights read: none for a random initialisation (the file then only gives the shape)."""
        return None if self.weights == "none" else self.matrix_file()

    def check(self):
        for option, value in (("path", self.path), ("tokenizer", self.tokenizer_path)):
            if value is None:
                raise ModelError(f"static-embedding model '{self.model_name}' needs {option} = \"...\"")
        for path in (self.matrix_file(), self.resolve(self.tokenizer_path)):
            if not path.is_file():
                raise self.missing(path)
        rows, _ = self.matrix_shape()
        vocabulary = self.tokenizer().vocab_size
        if vocabulary != rows:
            raise ModelError(f"static-embedding model '{self.model_name}': tokenizer {self.tokenizer_path} has "
                             f"{vocabulary} tokens but the embedding {self.path} has {rows} rows; they must match")

    def tensor_name(self, handle) -> str:
        names = list(handle.keys())
        if self.key is not None:
            if self.key not in names:
                raise ModelError(f"static-embedding: no tensor '{self.key}' in {self.matrix_file()}; it has {names}")
            return self.key
        if len(names) != 1:
            raise ModelError(f"static-embedding: {self.matrix_file()} holds {names}; name one with key = \"...\"")
        return names[0]

    def matrix_shape(self) -> tuple[int, int]:
        with safe_open(str(self.matrix_file()), "pt") as handle:
            shape = handle.get_slice(self.tensor_name(handle)).get_shape()
        if len(shape) != 2:
            raise ModelError(f"static-embedding: tensor in {self.matrix_file()} has shape {shape}, expected [V, D]")
        return tuple(shape)

    def tokenizer(self):
        return tokenizer_from_file(self.resolve(self.tokenizer_path))

    def build(self, pretrained=True):
        import torch

        if pretrained and self.weights != "none":
            with safe_open(str(self.matrix_file()), "pt") as handle:
                weight = handle.get_tensor(self.tensor_name(handle))
        else:
            weight = torch.randn(*self.matrix_shape())  # torch's global generator, seeded by the caller
        trunk = StaticEmbeddingTrunk(weight, trainable=self.trainable)
        return trunk, trunk.feature_dim

    def identity(self):
        """The base identity plus the tokenizer's sha256, whether the embedding trains and the tensor read;
        all enter ``key`` (the tensor only when the suite names one: a file's only tensor is the file)."""
        identity = super().identity()
        tokenizer = self.tokenizer().identity
        with safe_open(str(self.matrix_file()), "pt") as handle:
            tensor = self.tensor_name(handle)
        # Two tensors of one file are two models: without the name their cells were one cell.
        key = f"{identity['key']}:tok-{tokenizer['sha256'][:16]}" + ("" if self.trainable else ":frozen") + \
            (f":tensor-{tensor}" if self.key is not None else "")
        return {**identity, "tokenizer": tokenizer, "trainable": self.trainable, "tensor": tensor, "key": key}

    def preprocessing(self):
        return Preprocessing(2, (1, 1), source="the model's tokenizer")
