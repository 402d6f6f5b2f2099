"""The pretrain cache: a pretrained state is computed once and reused by every cell that may share it.

Where: ``<out>/.pretrain-cache/`` by default (``results/.pretrain-cache/``), beside every
suite's records, so suites that share a source (several targets per source, new budgets,
a rerun after a crash) reuse one pretraining. ``--pretrain-cache DIR`` (or
``$TRANSFERBENCH_PRETRAIN_CACHE``) moves it, ``--no-pretrain-cache`` turns it off; deleting
the directory is always safe. Entries are keyed by a hash of everything pretraining may
depend on (``key_payload``). Each entry is two files:

    <hash>.pt    torch.save(state): only tensors and plain data, read back with weights_only=True
    <hash>.json  the key payload in clear, the size and sha256 of <hash>.pt

An entry is trusted only when its .json matches the key and the .pt matches the checksum;
anything else (a torn write, a flipped bit, a state the strategy refuses) is removed with
a warning and rebuilt.
"""

import hashlib
import io
import json
import warnings
from pathlib import Path

import torch

import benchmark
from benchmark.data.files import code_fingerprint, write_cache_file
from benchmark.strategy.base import Strategy
from benchmark.strategy.context import TaskSpec

FORMAT = 1


def caches_state(cls: type) -> bool:
    """True when the strategy pretrains and can hand over what it learned."""
    return cls.pretrain is not Strategy.pretrain and cls.pretrained_state is not Strategy.pretrained_state


def key_payload(provided, identity: tuple[str, dict], source_fingerprint: str, seed: int, task: TaskSpec, device,
                task_key: tuple = ()) -> dict:
    """Everything a pretrained state may depend on, as plain data. ``identity`` is the
    strategy's ``pretrain_identity()``: what pretrains and the hyperparameters it reads."""
    pretrainer, hparams = identity
    payload = {
        "format": FORMAT, "pretrainer": pretrainer, "dist": provided.dist, "dist_version": provided.version,
        # The code itself, not only the version: editable installs keep one version while the code changes.
        "code": {"strategy": code_fingerprint(provided.cls.__module__),
                 "benchmark": code_fingerprint(benchmark.__name__)},
        "hparams": hparams, "source": source_fingerprint, "seed": seed,
        "input_shape": list(task.input_shape),
        "device": torch.device(device).type, "torch": torch.__version__,
    }
    if task.model:  # the checkpoint pretraining starts from (its provider, name, weights and sha256)
        payload["model"] = task.model
    if task_key:  # e.g. MAML pretrains on episodes of the target's shape (Strategy.pretrain_task_key)
        payload["task"] = list(task_key)
    return json.loads(json.dumps(payload, sort_keys=True))  # as it reads back from the .json (tuples -> lists)


def key_of(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


class PretrainCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.pt", self.root / f"{key}.json"

    def load(self, payload: dict) -> dict | None:
        """The stored state for ``payload``, or None when absent or not trustworthy (then removed)."""
        entry = self.load_entry(payload)
        return entry[0] if entry is not None else None

    def load_entry(self, payload: dict) -> tuple[dict, dict] | None:
        """(state, what its pretraining recorded: {"wall_s", "reported"}, {} for entries older
        than those fields), or None when absent or not trustworthy (then removed)."""
        key = key_of(payload)
        state_path, meta_path = self._paths(key)
        if not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            blob = state_path.read_bytes()
            if meta.get("payload") != payload:
                raise ValueError("its key does not match")
            if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
                raise ValueError("its checksum does not match")
            return torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu"), meta.get("pretrain") or {}
        except Exception as error:  # any failure to read means: do not trust it, pretrain again
            self.discard(payload, f"{type(error).__name__}: {error}")
            return None

    def discard(self, payload: dict, reason: str) -> None:
        state_path, meta_path = self._paths(key_of(payload))
        warnings.warn(f"pretrain cache entry {meta_path} is unusable ({reason}); rebuilding it")
        for path in (meta_path, state_path):
            path.unlink(missing_ok=True)

    def store(self, payload: dict, state: dict, pretrain: dict | None = None) -> None:
        """Write the state, then its description: an entry without a valid .json is never read.
        ``pretrain``: what its pretraining cost and reported ({"wall_s", "reported"}), handed
        to every cell that restores it so a pretraining is counted once, wherever it ran."""
        buffer = io.BytesIO()
        torch.save(state, buffer)
        blob = buffer.getvalue()
        state_path, meta_path = self._paths(key_of(payload))
        meta = {"payload": payload, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(),
                **({"pretrain": pretrain} if pretrain else {})}
        # The state first: a .json is written only beside a whole state (a cache write may fail: a warning).
        if write_cache_file(state_path, lambda handle: handle.write(blob)):
            write_cache_file(meta_path, lambda handle: handle.write(json.dumps(meta, indent=1, sort_keys=True).encode()))
