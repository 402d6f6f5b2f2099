"""The record: one JSON line per cell in records.jsonl, the truth every leaderboard is rendered from.

``record`` defines the ``Record`` type (every field, documented) and is the one place a record is
made; ``identity`` says which fields make two records the same cell; ``store`` appends and reads.
The names below are the package's whole surface (``records.read``, ``records.cell_key``, ...).
"""

from benchmark.records.identity import (CELL_FIELDS, UNRECORDED, cell_key, data_key, hparams_key, identity_difference,
                                        model_key, protocol_settings_key, setup_key)
from benchmark.records.record import FIELDS, SCHEMA, Record, environment, make
from benchmark.records.store import Log, append, check_writable, locked, no_records_here, parse_line, read, suite_folders, to_line

__all__ = ["CELL_FIELDS", "FIELDS", "SCHEMA", "UNRECORDED", "Log", "Record", "append", "cell_key", "check_writable", "data_key",
           "environment", "hparams_key", "identity_difference", "locked", "make", "model_key", "no_records_here",
           "parse_line", "protocol_settings_key", "read", "setup_key", "suite_folders", "to_line"]
