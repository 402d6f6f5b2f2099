"""An input size far from the one the weights were trained at: said, not silently accepted.

Pretrained features are scale-specific: ImageNet weights given 64 px images instead of their
224 px see objects a quarter of the size they learnt them at (on scikit-image's coffee photo the
EfficientNet-Lite0 top class is "espresso" at 224 px and something else at 64 px;
tests/test_checkpoint_science.py). A suite may still mean it (small images, a quick test): the
run warns once per pair and every record carries the weights' size and the note.
"""

# Beyond this factor between the pair's input and the weights' own size, in height or width, either way.
# 1.5 lets through the usual evaluation-time resizes (timm's test_input_size, 224 -> 288 is 1.29x) and
# catches a size that changes what the receptive fields see (224 -> 128 is 1.75x).
FAR_FACTOR = 1.5


def weights_size(model) -> tuple[int, int] | None:
    """(H, W) in pixels the loaded weights expect, from the provider's preprocessing (timm's
    resolve_data_config, torchvision's weights.transforms(), the saved AutoImageProcessor, an export's
    sidecar); None for text models and random initialisation, which were trained at no size."""
    if model is None or model.provider.kind != "image" or model.identity.get("weights") in (None, "none"):
        return None
    return tuple(model.preprocessing.size)


def size_note(model, shape) -> str | None:
    """One line when ``shape.size`` (H, W) is more than FAR_FACTOR from the weights' own size, else None."""
    own = weights_size(model)
    if own is None:
        return None
    given = tuple(shape.size)
    factor = max(max(g / o, o / g) for g, o in zip(given, own))
    if factor <= FAR_FACTOR:
        return None
    direction = "smaller" if given[0] * given[1] < own[0] * own[1] else "larger"
    return (f"input {given[0]}x{given[1]} is {factor:.1f}x {direction} than the {own[0]}x{own[1]} the weights "
            f"expect ({model.preprocessing.source or 'the provider'}); features learnt at one scale may not "
            f"transfer to another (more than {FAR_FACTOR}x apart)")
