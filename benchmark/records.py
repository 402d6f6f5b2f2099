"""records.jsonl: the append-only truth every leaderboard is rendered from.

One JSON object per line, one line per cell. Appends hold an exclusive file lock and
are flushed and fsynced, so a crash loses at most the line being written; that
partial line is repaired (with a warning) before the next append.
"""

import fcntl
import json
import os
import platform
import subprocess
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import orjson

import benchmark

SCHEMA = 1


def cell_key(record: dict) -> tuple:
    """What makes two records the same cell: rerunning it is skipped."""
    return (record["pair"], record["strategy"], json.dumps(record["hparams"], sort_keys=True),
            record["seed"], record["budget"])


@contextmanager
def locked(path: Path):
    """An exclusive lock on ``path``'s lock file, so two runners never interleave lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _repair_partial_last_line(path: Path) -> None:
    """Cut a last line that has no newline (a write interrupted by a crash)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        handle.seek(0)
        data = handle.read()
        cut = data.rfind(b"\n") + 1
        line_number = data.count(b"\n") + 1
        warnings.warn(f"{path}:{line_number}: removed a partial last line "
                      f"({len(data) - cut} bytes) left by an interrupted write")
        handle.truncate(cut)


def to_line(record: dict) -> str:
    """A record as its one line of records.jsonl."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"


def append(path: Path, record: dict) -> None:
    line = to_line(record)
    with locked(path):
        _repair_partial_last_line(path)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())


def parse_line(line: bytes):
    """One line of JSON. orjson parses twice as fast as the standard library (a leaderboard of
    100,000 records spends half its time here); it rejects the NaN / Infinity literals that
    json.dumps may write, so those lines fall back to json, and no record is ever lost to speed."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def read(path: Path) -> list[dict]:
    """Every valid record; a garbage line is skipped with a warning naming file and line."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    # Bytes, decoded line by line: a line of bad UTF-8 is skipped like any garbage line, not fatal.
    lines = path.read_bytes().split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = parse_line(line)
            if not isinstance(record, dict) or "schema" not in record:
                raise ValueError("not a transferbench record")
        except ValueError as error:
            partial = number == len(lines)  # no newline after it: an interrupted write
            warnings.warn(f"{path}:{number}: skipped {'a partial last line' if partial else 'a line that is not a record'}"
                          f" ({error})")
            continue
        records.append(record)
    return records


@lru_cache(maxsize=1)
def environment() -> dict:
    """Library versions and the git commit of the transferbench checkout, for every record."""
    import torch  # here, not at the top: reading records (leaderboards, cite) need not import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "transferbench": benchmark.__version__}
    checkout = Path(benchmark.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
        dirty = bool(commit) and bool(subprocess.run(
            ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, False
    return {"versions": versions, "git": {"commit": commit, "dirty": dirty} if commit else None}
