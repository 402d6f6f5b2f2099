"""What a record says about the model a cell started from and the input it was given."""

import benchmark
from benchmark.models.input_size import size_note, weights_size
from benchmark.toolkit.backbones import default_backbone


def model_fields(prepared, hparams: dict) -> dict:
    """``model``: the pair's model identity (provider, name, weights, checkpoint sha256, library and
    version, and ``key``, which enters the cell key), or, without a [model] table, the builtin backbone
    the strategy built itself (``key`` ""). ``input``: the shape and standardisation the images were
    brought to, and where they came from; with loaded image weights also ``weights_size`` (the [H, W]
    they expect) and, when the input is far from it (benchmark.models.input_size), ``size_note``."""
    pair = prepared.pair
    shape = pair.input
    if prepared.model is None:
        backbone = hparams.get("backbone") or default_backbone(shape.shape) if "backbone" in hparams else None
        model = {"provider": "builtin", "name": backbone, "weights": "none", "checkpoint": None, "sha256": None,
                 "library": "transferbench", "library_version": benchmark.__version__, "key": ""}
    else:
        model = prepared.model.identity
    described = {"channels": shape.channels, "size": list(shape.size),
                 "mean": list(shape.mean) if isinstance(shape.mean, tuple) else shape.mean,
                 "std": list(shape.std) if isinstance(shape.std, tuple) else shape.std,
                 "from": prepared.input_origin}
    own = weights_size(prepared.model)
    if own is not None:  # what the reader needs to judge the input; not part of the cell key
        described["weights_size"] = list(own)
        note = size_note(prepared.model, shape)
        if note:
            described["size_note"] = note
    return {"model": model, "input": described}
