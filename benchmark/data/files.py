"""What the pretrain and dataset caches share: writes a reader never sees half of, and a
fingerprint of code, so an edited (editable-installed) plugin invalidates its entries."""

import hashlib
import importlib.util
import os
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path


def write_atomically(path: Path, write) -> None:
    """``write(handle)`` into a temporary file beside ``path``, fsync it, then rename it over ``path``.

    The temporary name is unique (several hosts may share a cache directory) and is removed
    when writing fails (a full disk leaves no model-sized debris).
    """
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_cache_file(path: Path, write) -> bool:
    """``write_atomically`` for a cache: a cache is only a shortcut, so a file the system refuses
    (disk full, a size limit, a read-only directory) is a warning naming it, and the run goes on
    without it. False when it was not written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, write)
        return True
    except OSError as error:
        warnings.warn(f"{path}: not cached ({error.strerror or error}); going on without it")
        return False


@lru_cache(maxsize=None)
def code_fingerprint(module: str) -> str:
    """A hash of the source of ``module``'s top-level package (every .py file in it).

    Part of the key so that editing a strategy (or a helper beside it) during development
    invalidates its entries even though its distribution's version did not change.
    """
    top = module.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except ValueError:  # a module without a spec: __main__ of a script or notebook (benchmark.run.api)
        return "unknown"
    if spec is None or spec.origin is None:
        return "unknown"
    origin = Path(spec.origin)
    files = sorted(origin.parent.rglob("*.py")) if spec.submodule_search_locations else [origin]
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(origin.parent)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
