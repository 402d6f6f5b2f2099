"""The pipeline from a suite's dataset table to ``LabelledData``: provider -> slice -> classes ->
shape -> shifts -> normalise (images) or text shifts -> tokenise (texts), cached by content."""

import weakref
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import torch

from benchmark.data import cache as dataset_cache
from benchmark.data import shifts, text
from benchmark.data.cache import FileDigests, TensorCache
from benchmark.data.files import code_fingerprint
from benchmark.data.labelled import LabelledData, fingerprint
from benchmark.data.providers import (DatasetProvider, DatasetSpec, InputSpec, rename_classes, select_classes,
                                      stratified_slice)
from benchmark.errors import DataError, MissingDataError, did_you_mean
from benchmark.suite.paths import as_data_root, marked, under_data_root
from benchmark.strategy.base import init_param_names

DATASET_CACHE_DIR = ".dataset-cache"  # the per-results-directory place of older runs (bench/ scripts still use it)
PREPROCESS_CHUNK = 4096  # images converted and resized at a time: bounds memory on large raw splits


def to_float_shape(images: torch.Tensor, shape: InputSpec) -> torch.Tensor:
    """uint8 [0, 255] / bool / float [0, 1] images of any size -> float32 [N, *shape.shape], chunk by chunk."""
    out = torch.empty((len(images), *shape.shape), dtype=torch.float32)
    for start in range(0, len(images), PREPROCESS_CHUNK):
        chunk = images[start:start + PREPROCESS_CHUNK]
        chunk = chunk.float() / 255.0 if chunk.dtype == torch.uint8 else chunk.float()
        out[start:start + len(chunk)] = shifts.to_shape(chunk, shape.channels, shape.size)
    return out


class DatasetLoader:
    """Loads and preprocesses datasets: provider -> slice -> classes -> shape -> shifts -> normalise.

    The last few raw splits stay in memory (slices of one split, e.g. a pool and a test
    half, are prepared one after the other and read the file once) but no more: a raw
    split can be large (Omniglot's base classes are 1 GB of 105x105 drawings).
    Preprocessed datasets go to ``cache_dir`` (see ``benchmark.data.cache``), so a
    later run with the same files, table and shape skips reading and resizing. A dataset
    prepared twice (the same files, table and shape: e.g. Omniglot's 5-way and 20-way pairs
    read the same splits) is one object while anyone holds it, not two copies in memory.
    """

    RAW_KEPT = 2

    def __init__(self, registry, data_root: Path, cache_dir: Path | None = None):
        self.registry = registry
        self.data_root = as_data_root(data_root)  # a path that also says where it was chosen (errors say it)
        self.cache = TensorCache(cache_dir)
        self.digests = FileDigests(Path(cache_dir) / "digests.json" if cache_dir is not None else None)
        self._raw: OrderedDict = OrderedDict()
        # cache key -> (prepared data, fingerprint), kept only while a pair holds the data
        self._prepared: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._fingerprints: dict[str, str] = {}

    def provider(self, spec: DatasetSpec, where: str) -> DatasetProvider:
        cls = self.registry.dataset(spec.provider).cls
        known = init_param_names(cls)
        unknown = [k for k in spec.options if k not in known or k == "dataset"]
        if unknown:
            raise DataError(f"{where}: provider '{spec.provider}' has no option '{unknown[0]}'"
                            f"{did_you_mean(unknown[0], [k for k in known if k != 'dataset'])}")
        options = dict(spec.options)
        if "dataset" in known:
            options["dataset"] = spec.name
        elif spec.name is not None:
            raise DataError(f"{where}: provider '{spec.provider}' serves one dataset; remove name = '{spec.name}'")
        return cls(**options)

    def root(self, spec: DatasetSpec, provider: DatasetProvider) -> Path | None:
        """The table's ``root`` (else the provider's ``default_root``) under the data root, unless absolute
        (``benchmark.suite.paths``: the data root is the one exception to paths beside the suite file)."""
        relative = spec.root if spec.root is not None else provider.default_root
        return None if relative is None else under_data_root(relative, self.data_root)

    def check(self, spec: DatasetSpec, where: str) -> None:
        """Raise at once when the spec's files are missing: nothing is read."""
        provider = self.provider(spec, where)
        with self.context(where, spec):
            provider.check(spec.base_split, self.root(spec, provider))

    @contextmanager
    def context(self, where: str, spec: DatasetSpec | None = None):
        """Prefix a provider's data error with the suite position, and say which base its root was under."""
        try:
            yield
        except MissingDataError as error:
            raise MissingDataError(f"{where}: {error} ({self.base_words(spec)})") from None
        except DataError as error:
            raise DataError(f"{where}: {error}") from None

    def base_words(self, spec: DatasetSpec | None) -> str:
        """Where a dataset's files were looked for, in words: the data root and how to choose it."""
        if spec is not None and spec.root is not None and marked(spec.root) is None \
                and Path(spec.root).expanduser().is_absolute():
            return "root is an absolute path: the data root is not used"
        return f"looked for {self.data_root.describe()}; set it with --data-root or $TRANSFERBENCH_DATA"

    def raw(self, spec: DatasetSpec, shape: InputSpec, where: str) -> LabelledData:
        provider = self.provider(spec, where)
        root = self.root(spec, provider)
        key = (spec.provider, spec.name, repr(sorted(spec.options.items())), spec.base_split, str(root), shape.size)
        if key not in self._raw:
            with self.context(where, spec):
                provider.check(spec.base_split, root)
                self._raw[key] = provider.load(spec.base_split, root, tuple(shape.size))
            while len(self._raw) > self.RAW_KEPT:
                self._raw.popitem(last=False)
        self._raw.move_to_end(key)
        return self._raw[key]

    def release_raw(self) -> None:
        """Forget the raw splits kept for the next slice: once every pair is prepared they are
        only memory (Omniglot's two Vinyals splits: 0.4 GB at 28x28)."""
        self._raw.clear()

    def check_modality(self, spec: DatasetSpec, shape: InputSpec, where: str, tokenizer) -> None:
        provided = self.provider(spec, where).modality  # an instance may choose (hf: text_column)
        if provided != shape.modality:
            raise DataError(f"{where}: provider '{spec.provider}' gives {provided}s but the pair's input is "
                            f"{shape.modality} (set input = {{ modality = \"{provided}\" }})")
        if shape.modality == "text" and tokenizer is None:
            raise DataError(f"{where}: texts are tokenised by the pair's model, and it has no text model: add a "
                            f"[model] table such as {{ provider = \"static-embedding\", ... }}")

    def cache_key(self, spec: DatasetSpec, shape: InputSpec, where: str) -> str | None:
        provider = self.provider(spec, where)
        root = self.root(spec, provider)
        with self.context(where, spec):
            files = provider.files(spec.base_split, root)
        if files is None:
            return None
        try:
            content = self.digests.of_files(files, relative_to=root)
        except OSError:
            return None  # a file is missing: loading will raise the provider's own error
        provided = self.registry.dataset(spec.provider)
        table = {**spec.describe(), "stands_in_for": None}  # a label in records, not an input to the pixels
        # The code itself, not only the version: an editable install keeps one version while the
        # provider's load() or the preprocessing (resizing, shifts) changes what comes out.
        code = {"provider": code_fingerprint(provided.cls.__module__), "benchmark": code_fingerprint("benchmark")}
        return dataset_cache.cache_key(provided.dist, provided.version, code, table, asdict(shape), content)

    def load(self, spec: DatasetSpec, shape: InputSpec, where: str,
             tokenizer: "text.PairTokenizer | None" = None) -> tuple[LabelledData, str]:
        """The dataset as strategies see it, and its content fingerprint.

        Texts are tokenised by ``tokenizer`` (the pair's model's own); its identity is part of
        the cache key and of the fingerprint, so another tokenizer never reuses these ids.
        """
        name = f"{spec.provider}{':' + spec.name if spec.name else ''}:{spec.split}"
        self.check_modality(spec, shape, where, tokenizer)
        key = self.cache_key(spec, shape, where)
        if key is not None and tokenizer is not None:
            key = dataset_cache.cache_key(key, tokenizer.identity)
        if key is not None and key in self._prepared:
            return self._prepared[key], self._fingerprints[key]
        cached = self.cache.get(key, name)
        if cached is not None:
            return self.remember(key, *cached)
        data = stratified_slice(self.raw(spec, shape, where), spec.split)
        if spec.rename:
            data = rename_classes(data, spec.rename, where)
        if spec.classes is not None:
            data = select_classes(data, spec.classes, where)
        if shape.modality == "text":
            texts = data.texts
            for shift in spec.shifts:
                texts = text.apply_text_shift(texts, shift, where)
            with self.context(where):
                inputs = text.tokenise(list(texts), tokenizer.tokenizer, shape.max_tokens, tokenizer.pad_id)
        else:
            inputs = to_float_shape(data.inputs, shape)
            for shift in spec.shifts:
                inputs = shifts.apply_shift(inputs, shift, where)
            if isinstance(shape.mean, tuple):  # one per channel (e.g. what pretrained weights expect)
                inputs = (inputs - torch.tensor(shape.mean).view(-1, 1, 1)) / torch.tensor(shape.std).view(-1, 1, 1)
            elif shape.mean is not None:
                inputs = (inputs - shape.mean) / (shape.std or 1.0)
        raw_texts = tuple(texts) if shape.modality == "text" else None
        prepared = LabelledData(inputs.contiguous(), data.labels.clone(), data.classes, name, raw_texts,
                                data.groups, data.group_source)
        content = fingerprint(prepared)
        self.cache.put(key, prepared, content)
        return self.remember(key, prepared, content)

    def remember(self, key: str | None, data: LabelledData, content: str) -> tuple[LabelledData, str]:
        if key is not None:
            self._prepared[key], self._fingerprints[key] = data, content
        return data, content
