"""The preprocessing cache: datasets brought to a pair's shape once, kept as tensors on disk.

Where: one directory per user, shared by every results directory (each ``--out`` used to
build its own copy: Omniglot alone is 390 MB): ``--dataset-cache DIR``, else
``$TRANSFERBENCH_DATASET_CACHE``, else ``$XDG_CACHE_HOME/transferbench/datasets`` (the XDG
Base Directory spec; ``~/.cache/transferbench/datasets`` when it is unset). Sharing is safe
because entries are keyed by content, and deleting the directory is always safe.

An entry is keyed by a content fingerprint of everything that decides its pixels: the
bytes of the provider's source files, the dataset table (provider, options, split,
classes, shifts) and the declared input shape, plus the code that reads and preprocesses
them (the provider's package and transferbench's, hashed as the pretrain cache does).
So an entry can never be stale: change a file, a shift, the size or the code and the key changes.

    <cache dir>/<key>.pt       {"inputs": [N, C, H, W] float32, "labels": [N], "classes", "texts" (or None),
                                "groups" ([N] or None), "group_source", "fingerprint"}
    <cache dir>/digests.json   path -> (size, mtime_ns, sha256): a file is re-hashed only when it changed

Entries are written to a temporary file and renamed, so a crash never leaves half an
entry; an entry that does not load is rebuilt (with a warning), never trusted.
"""

import hashlib
import json
import os
import warnings
from pathlib import Path

import torch

from benchmark.data.files import write_cache_file
from benchmark.data.labelled import LabelledData

CACHE_ENV = "TRANSFERBENCH_DATASET_CACHE"

# Bump when preprocessing changes what it produces (resizing, channel conversion, shifts),
# so every cached entry made by older code is missed instead of reused.
PREPROCESS_VERSION = 1


def default_dir(explicit: Path | str | None = None) -> Path:
    """Where preprocessed datasets live: ``explicit`` (``--dataset-cache``), else
    ``$TRANSFERBENCH_DATASET_CACHE``, else ``$XDG_CACHE_HOME/transferbench/datasets``, else
    ``~/.cache/transferbench/datasets``; read when called, never at import."""
    chosen = explicit or os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"  # the spec: relative values are invalid
    base = Path(base) if Path(base).is_absolute() else Path.home() / ".cache"
    return base / "transferbench" / "datasets"


def walk(paths) -> list[Path]:
    """Every file under ``paths`` (files as given, directories walked), sorted for a stable order."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file())
        else:
            found.append(path)
    return sorted(found)


class FileDigests:
    """sha256 of files, remembered by (size, mtime) so unchanged files are hashed once."""

    def __init__(self, memo_path: Path | None):
        self.memo_path = memo_path
        self.memo, self.changed = {}, False
        if memo_path is not None and memo_path.exists():
            try:
                self.memo = json.loads(memo_path.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                self.memo = {}  # a damaged memo only costs re-hashing

    def digest(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        known = self.memo.get(key)
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            return known[2]
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        self.memo[key] = [stat.st_size, stat.st_mtime_ns, sha.hexdigest()]
        self.changed = True
        return sha.hexdigest()

    def of_files(self, paths, relative_to: Path) -> str:
        """One digest over the names (relative to ``relative_to``) and contents of every file."""
        combined = hashlib.sha256()
        for path in walk(paths):
            name = os.path.relpath(path, relative_to)
            combined.update(f"{name}\0{self.digest(path)}\n".encode())
        self.save()
        return combined.hexdigest()

    def save(self) -> None:
        if self.memo_path is None or not self.changed:
            return
        if write_cache_file(self.memo_path, lambda handle: handle.write(json.dumps(self.memo).encode())):
            self.changed = False


def cache_key(*parts) -> str:
    """A key from plain data (dicts are sorted, so table key order never matters)."""
    text = json.dumps([PREPROCESS_VERSION, torch.__version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class TensorCache:
    """Preprocessed datasets on disk, one file per key. ``directory=None`` disables caching."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory is not None else None

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.pt"

    def get(self, key: str | None, name: str) -> tuple[LabelledData, str] | None:
        if self.directory is None or key is None or not self.path(key).exists():
            return None
        try:
            entry = torch.load(self.path(key), weights_only=True)
            texts = tuple(entry["texts"]) if entry.get("texts") is not None else None
            groups = tuple(entry["groups"]) if entry.get("groups") is not None else None
            data = LabelledData(entry["inputs"], entry["labels"], tuple(entry["classes"]), name, texts,
                                groups, entry.get("group_source", ""))
            return data, entry["fingerprint"]
        except Exception as error:  # truncated, corrupt or from an incompatible version: rebuild it
            warnings.warn(f"{self.path(key)}: ignoring an unreadable preprocessing cache entry "
                          f"({type(error).__name__}: {error}); it will be rebuilt")
            return None

    def put(self, key: str | None, data: LabelledData, fingerprint: str) -> None:
        if self.directory is None or key is None:
            return
        entry = {"inputs": data.inputs.cpu(), "labels": data.labels.cpu(), "classes": list(data.classes),
                 "texts": list(data.texts) if data.texts is not None else None,
                 "groups": list(data.groups) if data.groups is not None else None, "group_source": data.group_source,
                 "fingerprint": fingerprint}
        write_cache_file(self.path(key), lambda handle: torch.save(entry, handle))
