"""`transferbench export`: the pretrained state a run produced, as a checkpoint the ``file`` provider reads.

    transferbench export results/digits --strategy finetune --pair "mnist→usps" --seed 0 --out mnist-lenet.safetensors

writes ``mnist-lenet.safetensors`` (the trunk's ``state_dict``; the source head under
``head.``) and ``mnist-lenet.safetensors.json`` (the architecture, as a model table, and the
preprocessing the trunk was trained with), from the pretrain cache entry of that cell. The
entry is found by what the cell's record says: the seed, the source fingerprint, the model
and the hyperparameters the strategy's pretraining read.
"""

import json
from pathlib import Path

from benchmark import records
from benchmark.errors import TransferbenchError

TRUNK, HEAD = "trunk.", "head."


def find_record(results: Path, strategy: str, pair: str, seed: int) -> dict:
    path = results / "records.jsonl"
    if not path.is_file():
        raise TransferbenchError(f"{path}: no records (is {results} a results directory like results/digits?)")
    found = [r for r in records.read(path) if r["strategy"] == strategy and r["pair"] == pair and r["seed"] == seed
             and r["status"] == "ok"]
    if not found:
        raise TransferbenchError(f"{path}: no ok record of strategy '{strategy}' on pair '{pair}' with seed {seed}")
    return found[-1]


def find_entry(cache: Path, record: dict) -> Path:
    """The newest cache entry (.pt) whose key matches the record's cell."""
    model_key = records.model_key(record)
    matches = []
    for meta_path in cache.glob("*.json"):
        payload = json.loads(meta_path.read_text(encoding="utf-8")).get("payload", {})
        if (payload.get("seed") == record["seed"] and payload.get("source") == record["fingerprints"]["source"]
                and payload.get("model", "") == (model_key or payload.get("model", ""))
                and all(record["hparams"].get(k) == v for k, v in payload.get("hparams", {}).items())
                and (not record.get("input") or payload.get("input_shape") == [record["input"]["channels"],
                                                                             *record["input"]["size"]])):
            matches.append(meta_path.with_suffix(".pt"))
    matches = [m for m in matches if m.is_file()]
    if not matches:
        raise TransferbenchError(f"no pretrained state of {record['strategy']} / {record['pair']} / seed "
                                 f"{record['seed']} in {cache}: the strategy stored none (no source split to "
                                 f"train on, or it does not cache), or the cache was deleted; rerun that cell")
    return max(matches, key=lambda p: p.stat().st_mtime)


def architecture_of(record: dict) -> dict:
    """The model table that rebuilds the record's trunk."""
    model, shape = record.get("model") or {}, record.get("input") or {}
    if model.get("provider") == "file":
        return dict(model["architecture"])
    if model.get("provider") == "builtin" or not model:
        hparams = record["hparams"]
        return {"provider": "builtin", "name": model.get("name") or hparams.get("backbone"),
                "channels": shape.get("channels", 1), "size": shape.get("size", [28, 28]),
                "hidden": hparams.get("hidden", 64), "norm": hparams.get("norm", "batch")}
    return {"provider": model["provider"], "name": model["checkpoint"] if model["provider"] == "transformers"
            else model["name"]}


def export(results: Path, strategy: str, pair: str, seed: int, out: Path, cache: Path | None = None) -> list[Path]:
    import torch
    from safetensors.torch import save_file

    results = Path(results)
    record = find_record(results, strategy, pair, seed)
    cache = Path(cache) if cache else results.parent / ".pretrain-cache"
    entry = find_entry(cache, record)
    state = torch.load(entry, map_location="cpu", weights_only=True)
    weights = state.get("state_dict") if isinstance(state, dict) else None
    if not isinstance(weights, dict) or not any(k.startswith(TRUNK) for k in weights):
        raise TransferbenchError(f"{entry}: the state of '{strategy}' holds no trunk (a state_dict with "
                                 f"'{TRUNK}' keys); it cannot be exported as a model")
    tensors = {k[len(TRUNK):] if k.startswith(TRUNK) else k: v.contiguous().clone() for k, v in weights.items()
               if k.startswith((TRUNK, HEAD))}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={"format": "pt"})
    shape = record.get("input") or {}
    sidecar = out.with_suffix(out.suffix + ".json")
    sidecar.write_text(json.dumps({
        "architecture": architecture_of(record),
        "preprocessing": {key: shape.get(key) for key in ("channels", "size", "mean", "std")} if shape else None,
        "exported_from": {"results": str(results), "strategy": strategy, "pair": pair, "seed": seed,
                          "source": record["source"], "hparams": record["hparams"], "model": record.get("model"),
                          "cache_entry": entry.name},
    }, indent=1) + "\n", encoding="utf-8")
    return [out, sidecar]
