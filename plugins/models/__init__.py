"""Built-in model providers, registered through the ``transferbench`` entry-point group like any plugin."""

from benchmark import hookimpl


@hookimpl
def transferbench_models():
    # Imported here: the providers import their libraries lazily, but listing should not even load them.
    from plugins.models.builtin import BuiltinModels
    from plugins.models.file import FileModels
    from plugins.models.static_embedding import StaticEmbeddingModels
    from plugins.models.timm_models import TimmModels
    from plugins.models.torchvision_models import TorchvisionModels
    from plugins.models.transformers_models import TransformersModels

    return [BuiltinModels, TorchvisionModels, TimmModels, TransformersModels, FileModels, StaticEmbeddingModels]
