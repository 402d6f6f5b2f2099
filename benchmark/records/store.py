"""records.jsonl, the append-only store every leaderboard is rendered from.

One JSON object per line, one line per cell. Appends hold an exclusive file lock and
are flushed and fsynced, so a crash loses at most the line being written; that
partial line is repaired (with a warning) before the next append. An append the system
refuses (disk full, a file-size limit, a read-only directory) is cut back to the last whole
line and raises ``WriteError`` naming the file and the cause: the run stops, nothing recorded
is lost, and a rerun resumes once the cause is gone. A runner keeps a
``Log``: it re-reads only what other runners appended and never writes a cell twice. A record
whose cell kept its predictions has them written to their own file first
(``benchmark.records.prediction_files``), so a line never names a file that is not there.
"""

import fcntl
import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import orjson

from benchmark.errors import WriteError, did_you_mean
from benchmark.records import prediction_files
from benchmark.records.identity import CELL_FIELDS, cell_key


def write_error(path: Path, error: OSError) -> WriteError:
    """One line: the file, what the system said and what to do; for any results file that cannot be written."""
    where = error.filename if getattr(error, "filename", None) else path
    return WriteError(f"{where}: cannot write ({error.strerror or error}); every record written before is "
                      f"kept; free space or make it writable and run again to resume")


@contextmanager
def writing(path: Path):
    """Turn an OSError while writing ``path`` (or its lock file, or its folder) into ``WriteError``."""
    try:
        yield
    except OSError as error:
        raise write_error(path, error) from None


@contextmanager
def locked(path: Path):
    """An exclusive lock on ``path``'s lock file, so two runners never interleave lines."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a")
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_writable(path: Path) -> None:
    """Raise ``WriteError`` now if ``path`` (records.jsonl) could not be appended to: its folder
    or lock file cannot be created, or the file exists read-only. Creates no records file."""
    with locked(path), writing(path):
        if path.exists():
            open(path, "ab").close()


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


def _write_locked(path: Path, line: bytes) -> None:
    """One write of one whole line, flushed and fsynced; the caller holds the lock.

    When the system refuses part of it (ENOSPC, EFBIG under a file-size limit; Python ignores
    SIGXFSZ, so the limit is an OSError here), the file is cut back to its size before, so it
    ends in a whole line, and ``WriteError`` is raised.
    """
    with writing(path), open(path, "ab", buffering=0) as handle:  # unbuffered: nothing left to flush at close
        before = handle.tell()
        try:
            written = 0
            while written < len(line):  # a raw write may take only part of the line
                written += handle.write(line[written:])
            os.fsync(handle.fileno())
        except OSError:
            try:
                os.ftruncate(handle.fileno(), before)  # shrinking needs no space and passes any size limit
            except OSError:
                pass  # a torn last line, which every reader skips and the next append repairs
            raise


def settled(path: Path, record: dict) -> dict:
    """``record`` with its pending predictions written to their file beside ``path`` (``prediction_files``):
    the file before the line, so a line never names a file that is not there."""
    with writing(path):
        return prediction_files.settle(record, path.parent)


def append(path: Path, record: dict) -> None:
    with locked(path):
        with writing(path):
            _repair_partial_last_line(path)
        _write_locked(path, to_line(settled(path, record)).encode("utf-8"))


def parse_line(line: bytes | str) -> dict:
    """One record from one line; ValueError when the line is not a record.

    orjson parses twice as fast as the standard library (a leaderboard of 100,000 records
    spends half its time here); it rejects the NaN / Infinity literals json.dumps may
    write, so those lines fall back to json, and no record is ever lost to speed.
    """
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        record = json.loads(line)
    if not isinstance(record, dict) or "schema" not in record:
        raise ValueError("not a transferbench record")
    missing = [key for key in CELL_FIELDS if key not in record]
    if missing:
        raise ValueError(f"a record without {', '.join(missing)}")
    return record


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
        except ValueError as error:
            partial = number == len(lines)  # no newline after it: an interrupted write
            warnings.warn(f"{path}:{number}: skipped {'a partial last line' if partial else 'a line that is not a record'}"
                          f" ({error})")
            continue
        records.append(record)
    return records


class Log:
    """records.jsonl as one runner sees it, kept current by reading only what was appended since.

    ``done`` holds the cells with an ok, skipped or estimate record (a failed one, or an estimate with an
    error, is retried). ``append``
    reads the tail again under the lock and refuses a cell another runner recorded meanwhile,
    so two runners on one results directory never interleave or duplicate a line.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.done: set[tuple] = set()
        self._offset = 0  # bytes of complete lines read so far
        self._lines = 0   # lines read so far, for the line numbers in warnings

    def refresh(self) -> None:
        """Read the complete lines appended since the last call; a partial last line waits."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size < self._offset:  # cut by hand: read it all again
                self.done, self._offset, self._lines = set(), 0, 0
            handle.seek(self._offset)
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]
        for raw in complete.split(b"\n")[:-1]:
            self._lines += 1
            if not raw.strip():
                continue
            try:
                record = parse_line(raw)
            except ValueError as error:  # UnicodeDecodeError is a ValueError too
                warnings.warn(f"{self.path}:{self._lines}: skipped a line that is not a record ({error})")
                continue
            self._note(record)
        self._offset += len(complete)

    def _note(self, record: dict) -> None:
        # A failed cell is retried, and so is an estimate whose estimator raised (status "estimate", an error).
        if record.get("status") != "failed" and not (record.get("status") == "estimate" and record.get("error")):
            self.done.add(cell_key(record))

    def append(self, record: dict) -> bool:
        """Append ``record`` (its predictions file first); False (nothing written) when its cell was already done."""
        with locked(self.path):
            with writing(self.path):
                _repair_partial_last_line(self.path)
            self.refresh()
            if cell_key(record) in self.done:
                return False
            line = to_line(settled(self.path, record)).encode("utf-8")
            _write_locked(self.path, line)
            self._offset, self._lines = self._offset + len(line), self._lines + 1
            self._note(record)
        return True


def suite_folders(directory: Path) -> list[Path]:
    """The folders right under ``directory`` that hold a records.jsonl (an ``--out`` directory's
    suites), sorted; for errors that point from ``results/`` to ``results/<suite>``."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p.parent for p in directory.glob("*/records.jsonl"))


def no_records_here(directory: Path, doing: str) -> str:
    """'DIR/records.jsonl: no records to DOING' and, when DIR is an --out directory, its suite folders."""
    directory = Path(directory)
    if not directory.exists():
        siblings = [p.name for p in directory.parent.iterdir() if p.is_dir()] if directory.parent.is_dir() else []
        return f"{directory}: no such directory{did_you_mean(directory.name, siblings)}"
    path = directory / "records.jsonl"
    found = suite_folders(directory) if not path.exists() else []
    if not found:
        return f"{path}: no records to {doing}"
    return (f"{directory} holds no records.jsonl; it is a results directory with the suite folder"
            f"{'s' if len(found) > 1 else ''} {', '.join(str(p) for p in found)}: give one of those")
