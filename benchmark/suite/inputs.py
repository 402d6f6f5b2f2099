"""What a suite's ``input`` table may say, checked before any data is read.

    channels   1 or 3 (a source of either is converted: grey repeated, colour to luminance)
    size       [H, W] (or one integer for a square), each ≥ 1
    mean, std  both or neither; each a number or one number per channel (ImageNet's
               ``[0.485, 0.456, 0.406]`` / ``[0.229, 0.224, 0.225]`` with channels = 3);
               every std > 0. Inputs become (x − mean) / std after the shifts.

The suite parser calls ``input_problem`` on each table it reads (its errors carry file:line),
and the model resolver on each input a model's preprocessing completed (what the suite leaves
out follows the weights, so a mismatch can only show once both are known).
"""

from numbers import Real

CHANNELS = (1, 3)  # what benchmark.shifts.to_shape converts between


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def input_problem(spec) -> tuple[str, str] | None:
    """(key at fault, message) for the first problem of an image ``InputSpec``; None when it is valid."""
    if spec.modality != "image":
        return None
    if not (isinstance(spec.channels, int) and not isinstance(spec.channels, bool) and spec.channels in CHANNELS):
        return "channels", f"channels must be 1 or 3, got {spec.channels!r}"
    size = spec.size
    if not (isinstance(size, tuple) and len(size) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in size)):
        return "size", f"size must be [height, width] (integers ≥ 1) or one integer, got {_shown(size)}"
    if (spec.mean is None) != (spec.std is None):
        given, missing = ("mean", "std") if spec.std is None else ("std", "mean")
        return given, f"{given} is set but {missing} is not: standardising needs both"
    for key in ("mean", "std"):
        value = getattr(spec, key)
        if value is None:
            continue
        values = value if isinstance(value, tuple) else (value,)
        if not all(_is_number(v) for v in values) or not values:
            return key, f"{key} must be a number or a list with one number per channel ({spec.channels}), " \
                        f"got {_shown(value)}"
        if isinstance(value, tuple) and len(value) != spec.channels:
            return key, f"{key} has {len(value)} values but the input has {spec.channels} channel" \
                        f"{'s' if spec.channels != 1 else ''}: give one per channel, or one number for all"
        if key == "std" and not all(v > 0 for v in values):
            return key, f"std must be > 0 (inputs are divided by it), got {_shown(value)}"
    return None


def _shown(value) -> str:
    return str(list(value)) if isinstance(value, tuple) else repr(value)
