"""``AutoModel.from_pretrained`` made strict: what it would initialise at random is an error.

``from_pretrained`` loads what matches, initialises every weight the checkpoint lacks at random
and only logs a table of the rest, so a checkpoint in other key names (or a task model whose base
has a pooler it never saved) becomes a partly random network that records would call pretrained.
Here the library's own loading report (``output_loading_info=True``) decides:

* a missing key (random initialisation) or a shape mismatch is an error of one line;
* an unexpected key is an error unless it lies outside the base model, i.e. it is the checkpoint's
  own task head (``classifier.*`` of a ViTForImageClassification, ``cls.*`` of a BERT pretraining
  checkpoint): dropped, as timm drops a checkpoint's classifier, because strategies fit their own heads.

``partial = true`` in the suite's model table declares a partial load on purpose: missing weights start
from random initialisation (seeded by the caller), unexpected ones are dropped, shapes must still
match; it is recorded in the model's identity and key, and the load says in one warning what it did.
"""

import warnings
from contextlib import contextmanager
from pathlib import Path

from benchmark import ModelError, ModelProvider

PARTIAL_HINT = "set partial = true in the [model] table to load it in part on purpose (recorded)"


@contextmanager
def quiet_transformers():
    """transformers' loading table and progress bar off: its verdict is ours to give, in one line."""
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


def load_strictly(path: Path, partial: bool = False):
    """The ``AutoModel`` saved in directory ``path``, every weight read from it (see the module docstring).

    Raises ModelError (one line, naming the first mismatched keys) when the checkpoint does not fit.
    """
    from transformers import AutoModel

    what = f"transformers checkpoint {path}"
    with quiet_transformers():
        try:
            # ignore_mismatched_sizes: the library would raise after printing a table; we name the keys
            model, info = AutoModel.from_pretrained(path, local_files_only=True, output_loading_info=True,
                                                    ignore_mismatched_sizes=True)
        except (OSError, ValueError, RuntimeError) as error:  # unreadable weights, an unknown model type
            raise ModelError(f"{what}: cannot be read: {str(error).splitlines()[0][:200]}") from None
    base = {name for name, _ in model.named_children()}
    missing = sorted(info.get("missing_keys") or ())
    # With nothing missing, keys outside the base model are the checkpoint's task head; with weights missing
    # every unexpected key may be one of them under another name, so all are named.
    unexpected = sorted(k for k in info.get("unexpected_keys") or () if missing or k.split(".")[0] in base)
    shapes = [f"{key} {tuple(theirs)} vs {tuple(ours)}" for key, theirs, ours in
              sorted(info.get("mismatched_keys") or (), key=lambda m: m[0])]
    errors = list(info.get("error_msgs") or ())
    if errors:
        raise ModelError(f"{what}: {str(errors[0]).splitlines()[0][:200]}")
    problem = ModelProvider.mismatch(what, [] if partial else missing, [] if partial else unexpected, shapes,
                                     "" if partial else PARTIAL_HINT)
    if problem:
        raise ModelError(problem)
    if partial and (missing or unexpected):
        warnings.warn(f"{what}: partial = true: {len(missing)} tensors it lacks start from random initialisation"
                      f"{' (' + ', '.join(missing[:3]) + (' ...' if len(missing) > 3 else '') + ')' if missing else ''}"
                      f", {len(unexpected)} of its tensors are not used", stacklevel=2)
    return model
