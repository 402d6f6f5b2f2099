"""What a record says about the model a cell started from and the input it was given."""

import benchmark
from benchmark.toolkit.backbones import default_backbone


def model_fields(prepared, hparams: dict) -> dict:
    """``model``: the pair's model identity (provider, name, weights, checkpoint sha256, library and
    version, and ``key``, which enters the cell key), or, without a [model] table, the builtin backbone
    the strategy built itself (``key`` ""). ``input``: the shape and standardisation the images were
    brought to, and where they came from."""
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
    return {"model": model, "input": described}
