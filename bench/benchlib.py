"""What every bench/ script shares: the machine it ran on, and its figures written to bench/results/<name>.json.

Figures are wall-clock seconds on a machine that may be shared: each script measures the
things it compares side by side in one run, and records the load average it started
under so a reader can tell a quiet run from a noisy one.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent


def parser(description: str) -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=description)
    arguments.add_argument("--threads", type=int, help="torch threads for the in-process runs (default: torch's)")
    return arguments


def machine() -> dict:
    """Call it when the measurement starts: the load average tells how busy the machine was."""
    return {"cores": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_1m": round(os.getloadavg()[0], 2)}


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def write(name: str, figures: dict, command: str, started_on: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    report = {"bench": name, "command": command, "machine_at_start": started_on,
              "load_average_1m_at_end": round(os.getloadavg()[0], 2), **figures}
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"-> {path.relative_to(REPO)}")
    return path
