"""Prediction files beside the records: ``<suite>/predictions/<sha256>.safetensors``, written once, never edited.

An ok cell's record names the file of its per-example test predictions
(``benchmark.scoring.predictions``)::

    "predictions": {"file": "predictions/<sha256>.safetensors", "sha256": "<sha256>",
                    "kind": "scores" | "topk", "examples": T x Q, "tasks": T}

``file`` is relative to the folder of the records.jsonl. A file is named by the sha256 of its
bytes, so it is never rewritten with other content, two cells that predicted the same share it,
and a reader checks what it read. Records without the field (written before predictions were
kept, or not ok) stay valid: the field is optional for every reader.

From where a cell ran (a worker process, a Ray task on another node) to the driver, the field also
carries the file's bytes under ``"bytes"`` (``pending``); the driver alone writes results:
``records.Log.append`` writes the file (``settle``, atomically) and then the record's line, so a
record never names a file that is not there, and a cell another runner recorded first writes none.
"""

import hashlib
import os
from pathlib import Path

FOLDER = "predictions"
SUFFIX = ".safetensors"


def pending(predictions) -> dict:
    """The record field of ``predictions`` (``benchmark.scoring.predictions.Predictions``), with its bytes."""
    data = predictions.to_bytes()
    digest = hashlib.sha256(data).hexdigest()
    return {"file": f"{FOLDER}/{digest}{SUFFIX}", "sha256": digest, "kind": predictions.kind,
            "examples": predictions.examples, "tasks": predictions.tasks, "bytes": data}


def write_once(path: Path, data: bytes) -> None:
    """``data`` at ``path`` unless a file is there already (its name is its content's hash): written to
    a temporary name, fsynced and renamed, so no reader ever sees part of it.
    :raises OSError: the folder or file cannot be written (``records.store`` makes it one line)."""
    if path.exists():
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def settle(record: dict, folder: Path) -> dict:
    """``record`` as it is appended to ``folder``/records.jsonl: its predictions file written (once)
    and the bytes dropped from its field. A record without pending bytes is returned as it is."""
    field = record.get("predictions")
    if not field or "bytes" not in field:
        return record
    reference = {key: value for key, value in field.items() if key != "bytes"}
    write_once(Path(folder) / reference["file"], field["bytes"])
    return {**record, "predictions": reference}


def read(folder: Path, reference: dict):
    """The ``Predictions`` a record's field names, checked against its sha256.

    :raises ValueError: the file is missing, damaged or not a predictions file (one line naming it).
    """
    from benchmark.scoring.predictions import Predictions

    path = Path(folder) / reference["file"]
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: cannot read the cell's predictions ({error.strerror or error})") from None
    if hashlib.sha256(data).hexdigest() != reference.get("sha256"):
        raise ValueError(f"{path}: its sha256 is not the one its record names; the file was changed or damaged")
    try:
        return Predictions.from_bytes(data)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
