"""Where a path written in a suite file points: one rule, and the data root as its one named exception.

1. **A relative path is relative to the suite file** (its folder), whatever the working directory:
   a model's ``file``, ``path`` and ``tokenizer``, a transformers model's folder (its ``path``, else
   its ``name``), a checkpoint's sidecar. ``run suites/x.toml`` from anywhere reads the same files.
2. **The data root is the one exception.** It is ``--data-root``, else ``$TRANSFERBENCH_DATA``, else
   ``./data`` in the working directory (the data of a machine, not of a suite file). A dataset table's
   ``root`` is under it (``root = "office31/amazon/images"``), as is the provider's own folder when
   the table names none (``mnist`` for DATA_ROOT/mnist), and ``transferbench fetch`` lays every asset
   out at DATA_ROOT/NAME. Any other path reaches the data root only by saying so, with the prefix
   ``{data_root}/``: ``file = "{data_root}/efficientnet-lite0/efficientnet-lite0-57934424.pth"``.
3. An absolute path (or one starting with ``~``) is used as it is, in either place.

A path inside a file that a dataset reads (an image column of a manifest) is the provider's to
resolve; by convention it is relative to that file's folder. Every missing-file error says which
base was used: "relative to the suite file's folder /x" or "under the data root /d (from --data-root)".
"""

import os
from dataclasses import dataclass
from pathlib import Path

from benchmark.errors import SuiteError

MARK = "{data_root}"  # begins a path that lies under the data root instead of beside the suite file
DEFAULT_DATA_ROOT = "data"  # relative to the working directory
ENVIRONMENT = "TRANSFERBENCH_DATA"


@dataclass(frozen=True)
class DataRoot(os.PathLike):
    """The data root and where it was chosen, so an error can say both. Used as a path: ``Path(root)``,
    ``root / "mnist"`` (a ``Path``) and ``str(root)`` are the folder's."""

    path: Path
    origin: str = ""  # e.g. "from --data-root"; "" when a caller passed a bare path

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __truediv__(self, other) -> Path:
        return self.path / other

    def describe(self) -> str:
        """'under the data root /abs/data (from --data-root)'."""
        return f"under the data root {self.path.absolute()}" + (f" ({self.origin})" if self.origin else "")


def data_root(given=None, option: str = "--data-root") -> DataRoot:
    """``given`` (what ``option`` said), else $TRANSFERBENCH_DATA, else ./data in the working directory."""
    if given:
        return DataRoot(Path(given), f"from {option}")
    if os.environ.get(ENVIRONMENT):
        return DataRoot(Path(os.environ[ENVIRONMENT]), f"from ${ENVIRONMENT}")
    return DataRoot(Path(DEFAULT_DATA_ROOT), f"the default, ./{DEFAULT_DATA_ROOT} in the working directory")


def as_data_root(root) -> DataRoot:
    """A ``DataRoot`` as is; a bare path (a caller's own ``Path``) as a data root of unknown origin."""
    return root if isinstance(root, DataRoot) else DataRoot(Path(root))


def describe_data_root(root) -> str:
    return as_data_root(root).describe()


def marked(path) -> str | None:
    """The part after ``{data_root}/`` of a marked path; None for any other path.

    :raises SuiteError: the mark appears elsewhere than at the start (it would be read as a folder name).
    """
    text = str(path)
    if text == MARK or text.startswith((MARK + "/", MARK + "\\")):
        return text[len(MARK):].lstrip("/\\")
    if MARK in text:
        raise SuiteError(f"'{text}': {MARK} can only begin a path (\"{MARK}/folder/file\")")
    return None


def under_data_root(path, root) -> Path:
    """A dataset root: under the data root ``root`` unless absolute (``{data_root}/`` may begin it too)."""
    rest = marked(path)
    if rest is not None:
        return Path(root) / rest
    path = Path(path).expanduser()
    return path if path.is_absolute() else Path(root) / path


def beside_suite(path, suite_dir, root=None) -> Path:
    """Any other path of a suite file: relative to the suite file's folder ``suite_dir`` unless absolute;
    under the data root ``root`` when it begins with ``{data_root}/``.

    :raises SuiteError: a marked path where no data root is known (a model loaded outside a run).
    """
    rest = marked(path)
    if rest is not None:
        if root is None:
            raise SuiteError(f"'{path}' lies under the data root, and none is known here (give data_root=)")
        return (Path(root) / rest).resolve()
    path = Path(path).expanduser()
    return path if path.is_absolute() else (Path(suite_dir) / path).resolve()


def base_of(found: Path, suite_dir, root=None) -> str:
    """Which base a resolved path came from, in words, for a missing-file error ('' for a path under
    neither: an absolute one, a library's cache); and, for a path beside the suite file that is missing
    there but present under the data root, how to write it."""
    found = Path(found).resolve()
    if root is not None and found.is_relative_to(Path(root).resolve()):
        return describe_data_root(root)
    suite_dir = Path(suite_dir).resolve()
    if found.is_relative_to(suite_dir):
        words = f"relative to the suite file's folder {suite_dir}"
        relative = found.relative_to(suite_dir).as_posix()
        if root is not None and (Path(root) / relative).exists():
            words += f"; it is {describe_data_root(root)}: begin the path with \"{MARK}/\""
        return words
    return ""
