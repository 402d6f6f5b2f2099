"""Which records are the same cell: everything that decides a cell's result is part of its key,
so a rerun after any change runs the cell anew and never reuses a stale record."""

import json

CELL_FIELDS = ("pair", "strategy", "hparams", "seed", "budget")


def hparams_key(hparams: dict) -> str:
    """Hyperparameters as they identify a cell: JSON, so 1, 1.0 and True are three settings."""
    return json.dumps(hparams, sort_keys=True)


def model_key(record: dict) -> str:
    """The model a cell starts from ("" when the strategy built its own backbone, as all records before models)."""
    return (record.get("model") or {}).get("key") or ""


# What the protocol's own settings were; the transfer protocol has none (its task is the data).
UNRECORDED = "unrecorded"


def protocol_settings_key(record: dict) -> str:
    """The protocol and its settings as they identify a cell: ``episodic {"episodes": 600, ...}``.

    Episodic records written before issue 16 did not record episodes, ways and queries: they are
    ``unrecorded``, never equal to a record that has them (a rerun runs such a cell anew, and a
    leaderboard shows the two as separate rows). Transfer records had no settings to record.
    """
    protocol = record.get("protocol") or UNRECORDED
    settings = record.get("protocol_settings")
    if settings == {} or settings is None and protocol == "transfer":
        return f"{protocol} {{}}"  # no json.dumps: a leaderboard calls this for each of 100,000 records
    return f"{protocol} {json.dumps(UNRECORDED if settings is None else settings, sort_keys=True)}"


def data_key(record: dict) -> tuple:
    """The data as the strategy saw it: the content fingerprints of source, target pool and test split."""
    return tuple(sorted((record.get("fingerprints") or {}).items()))


def setup_key(record: dict) -> tuple:
    """Everything of the task behind a cell beyond its pair's name: protocol settings and data."""
    return protocol_settings_key(record), data_key(record)


def cell_key(record: dict) -> tuple:
    """What makes two records the same cell: rerunning it is skipped. Everything that decides the
    result: pair, strategy (or estimator) and its plugin version, hyperparameters, seed, budget, model, protocol
    settings and the data's fingerprints.

    A cell whose hyperparameters a search selects (benchmark.selection) is identified by what
    was searched (``selection.cell``), not by the outcome; each of its trials is a cell of its own.
    """
    searched = (record.get("selection") or {}).get("cell")
    trial = (record.get("trial") or {}).get("index")
    plugin = record.get("plugin") or {}
    # An estimator's record (status "estimate", benchmark.estimators.run) is never a strategy's cell of the same name.
    strategy = f"estimate {record['strategy']}" if record.get("status") == "estimate" else record["strategy"]
    return (record["pair"], strategy, searched or hparams_key(record["hparams"]), record["seed"],
            record["budget"], trial, model_key(record), *setup_key(record),
            plugin.get("dist", "unknown"), str(plugin.get("version", "unknown")))


def identity_difference(planned: dict, recorded: dict) -> str:
    """What makes ``planned`` another cell than ``recorded`` (same pair, strategy, seed and budget),
    e.g. "hyperparameters +head +probe_steps; plugin version 0.1.0 -> 0.2.0"; "" when nothing does."""
    parts = []
    new, old = planned.get("hparams") or {}, recorded.get("hparams") or {}
    changed = [f"+{k}" for k in new if k not in old] + [f"-{k}" for k in old if k not in new] + \
        [f"{k} {old[k]!r} -> {new[k]!r}" for k in new if k in old and hparams_key(new[k]) != hparams_key(old[k])]
    if changed and not (planned.get("selection") or {}).get("cell"):
        parts.append("hyperparameters " + " ".join(changed))
    checks = (("selection", lambda r: (r.get("selection") or {}).get("cell")), ("model", model_key),
              ("protocol settings", protocol_settings_key), ("data fingerprints", data_key),
              ("plugin", lambda r: (r.get("plugin") or {}).get("dist")),
              ("plugin version", lambda r: str((r.get("plugin") or {}).get("version", "unknown"))))
    parts += [f"{name} {describe(recorded)} -> {describe(planned)}" if name == "plugin version" else name
              for name, describe in checks if describe(planned) != describe(recorded)]
    return "; ".join(parts)
