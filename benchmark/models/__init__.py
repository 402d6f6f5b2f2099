"""Models a suite starts from: providers (the ``transferbench_models`` hook), their trunks and identities.

    base.py      the ModelProvider contract, ModelSpec (a suite's [model] table), Preprocessing, errors
    loaded.py    PretrainedModel: what ``ctx.model`` is (fresh trunks, identity, a feature cache)
    resolve.py   suite tables -> checked PretrainedModel objects, and the pair's input they imply
    export.py    a pretrained state of a run -> .safetensors + architecture JSON (`transferbench export`)

The built-in providers live in ``plugins/models`` and register through the entry-point
group like any third-party plugin.
"""

from benchmark.models.base import MissingModelError, ModelError, ModelProvider, ModelSpec, Preprocessing

__all__ = ["MissingModelError", "ModelError", "ModelProvider", "ModelSpec", "Preprocessing"]
