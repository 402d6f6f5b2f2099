"""Dataset pipeline figures: preprocessing cold vs from the disk cache, and how fast missing data fails.

Measured side by side in one run, so the ratios hold even on a busy machine (the absolute
seconds do not: say so when quoting them). Writes bench/results/datasets.json.

    .venv/bin/python bench/datasets.py [--data-root ../shared/data]

  cold      every dataset of the suite read and preprocessed (as prepare_pairs does), empty cache
  warm      the same with the cache the cold pass left (a later run of the suite)
  missing   the suite against an empty data root: time until the error, in process (the file
            check alone) and for the whole `transferbench run` command (Python start and imports included)
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark import MissingDataError
from benchmark.data.loader import DatasetLoader
from benchmark.discovery.registry import discover
from benchmark.run.prepare import prepare_pairs
from benchmark.suite.load import load_suite

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "datasets.json"


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--suites", default="digits,omniglot-fewshot")
    args = parser.parse_args()
    registry, figures = discover(), {}
    for name in args.suites.split(","):
        suite = load_suite(REPO / "suites" / f"{name}.toml")
        with tempfile.TemporaryDirectory() as cache:
            cold, prepared = timed(lambda: prepare_pairs(suite, DatasetLoader(registry, Path(args.data_root), Path(cache))))
            warm, _ = timed(lambda: prepare_pairs(suite, DatasetLoader(registry, Path(args.data_root), Path(cache))))
            cache_bytes = sum(p.stat().st_size for p in Path(cache).glob("*.pt"))
        images = sum(len(p.source) + len(p.pool) + (len(p.test) if p.test is not p.pool else 0)
                     for p in prepared.values())
        with tempfile.TemporaryDirectory() as empty:
            started = time.perf_counter()
            try:
                prepare_pairs(suite, DatasetLoader(registry, Path(empty)))
                raise AssertionError("an empty data root must fail")
            except MissingDataError:
                check = time.perf_counter() - started
            command = [str(Path(sys.executable).parent / "transferbench"), "run", str(suite.path), "--data-root", empty,
                       "--out", str(Path(empty) / "out"), "--no-progress", "--strategies", "target-only"]
            cli, result = timed(lambda: subprocess.run(command, capture_output=True, text=True))
            assert result.returncode == 2 and "not found at" in result.stderr, result.stderr
        figures[name] = {"cold_s": round(cold, 3), "warm_s": round(warm, 3), "speedup": round(cold / warm, 1),
                         "images_prepared": images, "cache_mb": round(cache_bytes / 2**20, 1),
                         "missing_check_s": round(check, 4), "missing_cli_s": round(cli, 2)}
        print(f"{name}: prepare {images:,} images cold {cold:.2f} s, warm (disk cache) {warm:.3f} s "
              f"-> {cold / warm:.0f}x; cache {cache_bytes / 2**20:.0f} MB; missing data: check fails after "
              f"{check * 1000:.1f} ms, `transferbench run` exits after {cli:.2f} s (imports included)", flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None
    figures["machine"] = {"load_average": load, "note": "2 shared cores: absolute seconds are noisy, ratios less so"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
