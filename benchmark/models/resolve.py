"""From a suite's model tables to ``PretrainedModel`` objects, checked before any data is read."""

import warnings
from dataclasses import replace

from benchmark.data.providers import InputSpec
from benchmark.errors import PluginError, SuiteError
from benchmark.models.base import ModelError, ModelSpec
from benchmark.models.input_size import size_note
from benchmark.models.loaded import PretrainedModel
from benchmark.suite.check import check_model_options, input_problem


def provider_for(spec: ModelSpec, registry):
    """The provider instance a model table names; errors carry the table's file:line."""
    where = spec.where or "[model]"
    try:
        cls = registry.model(spec.provider).cls
    except PluginError as error:
        raise SuiteError(f"{where}: {error}") from None
    check_model_options(spec, cls)
    kwargs = {"weights": spec.weights, "base_dir": spec.base_dir, **spec.options}
    if spec.name is not None:
        kwargs["name"] = spec.name
    return cls(**kwargs)


def load_model(spec: ModelSpec, registry, data_root=None) -> PretrainedModel:
    """Check the table and the checkpoint's presence, describe the model, then read its weights once.

    The weights are read here, not in the first cell: a checkpoint that does not fit its architecture
    (strict loading: benchmark.models.base.load_matching) stops the run in one line, naming the suite's
    [model] line, before any data is read, instead of failing every cell. The loaded trunk is the
    template later cells copy, so it is read once either way (a Ray worker reads it again itself).
    Raises ModelError / MissingModelError.
    """
    provider = provider_for(spec, registry)
    provider.data_root = data_root
    try:
        provider.check()
        model = PretrainedModel(provider, provider.identity(), provider.preprocessing())
        model.feature_dim  # noqa: B018  (builds the template: reads and checks the weights)
        return model
    except (ModelError, SuiteError) as error:  # SuiteError: a path the rule of benchmark.suite.paths refuses
        raise type(error)(f"{spec.where or '[model]'}: {error}") from None


def input_for(model: PretrainedModel, given: InputSpec, given_keys: frozenset) -> tuple[InputSpec, str]:
    """The pair's input: the weights' preprocessing, except what the suite sets itself; and where it came from.

    A text model's input is its tokenizer's ids, ``max_tokens`` long (the suite's, else 256).
    Raises ModelError when the suite's modality is not the model's.
    """
    if given.modality != model.provider.kind and "modality" in given_keys or \
            model.provider.kind == "image" and given.modality == "text":
        raise ModelError(f"the pair's input is {given.modality} but model '{model.key}' takes {model.provider.kind}s")
    if model.provider.kind == "text":
        origin = "the model's tokenizer" + (", max_tokens from the suite" if "max_tokens" in given_keys else "")
        return InputSpec(modality="text", max_tokens=given.max_tokens), origin
    expected = model.preprocessing
    chosen = InputSpec(channels=expected.channels, size=tuple(expected.size),
                       mean=tuple(expected.mean) if expected.mean is not None else None,
                       std=tuple(expected.std) if expected.std is not None else None)
    chosen = replace(chosen, **{key: getattr(given, key) for key in given_keys})
    origin = "the weights" if not given_keys else \
        "the suite" if given_keys >= {"channels", "size", "mean", "std"} else \
        f"the weights, with {', '.join(sorted(given_keys))} from the suite"
    return chosen, origin


def resolve_models(suite, registry, data_root=None) -> tuple:
    """(the suite with each modelled pair's input set, {pair name: (PretrainedModel, input origin)}).

    Every model table is checked (provider, name, weights, checkpoint present) before any
    dataset is read; pairs that share a table share one PretrainedModel (one feature cache).
    """
    loaded, models, pairs = {}, {}, []
    for pair in suite.pairs:
        if pair.model is None:
            pairs.append(pair)
            continue
        table = repr(pair.model)  # a ModelSpec holds a dict: not hashable itself
        if table not in loaded:
            loaded[table] = load_model(pair.model, registry, data_root)
        model = loaded[table]
        try:
            shape, origin = input_for(model, pair.input, pair.input_keys)
        except ModelError as error:
            raise ModelError(f"{pair.model.where or suite.path}: pair '{pair.name}': {error}") from None
        problem = input_problem(shape)
        if problem:  # the suite's keys and the weights' preprocessing may disagree (3 means, 1 channel)
            raise SuiteError(f"{pair.model.where or suite.path}: pair '{pair.name}': input.{problem[1]} "
                             f"(input from {origin})")
        note = size_note(model, shape)
        if note:  # still run: a suite may mean it (small images, a quick test), but the table must say so
            warnings.warn(f"{pair.model.where or suite.path}: pair '{pair.name}': {note}", stacklevel=2)
        pairs.append(replace(pair, input=shape))
        models[pair.name] = (model, origin)
    return replace(suite, pairs=tuple(pairs)), models


def model_identity(prepared) -> dict | None:
    """A prepared pair's model identity, or None when its strategies build their own backbone."""
    return prepared.model.identity if prepared.model is not None else None
