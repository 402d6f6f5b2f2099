"""Quickstart wall time: the README's quickstart command, timed end to end as a user runs it.

    .venv/bin/python bench/quickstart_wall.py [-- extra `transferbench run` options, e.g. --threads 1]

Runs `transferbench run suites/quickstart.toml` (every installed strategy, 3 seeds,
budgets 1, 5 and all) into a fresh results directory, so nothing is recorded or cached
yet, then `transferbench leaderboard`. Goal: ≤ 5 minutes on 2 cores.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib

GOAL_S = 300


def main() -> int:
    extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    started_on = benchlib.machine()
    script = str(Path(sys.executable).parent / "transferbench")
    with tempfile.TemporaryDirectory() as out:
        run = [script, "run", str(benchlib.REPO / "suites" / "quickstart.toml"), "--out", out, "--no-progress", *extra]
        seconds, result = benchlib.timed(subprocess.run, run, capture_output=True, text=True)
        print(result.stdout.strip())
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return result.returncode
        board_seconds, board = benchlib.timed(subprocess.run, [script, "leaderboard", str(Path(out) / "quickstart")],
                                              capture_output=True, text=True)
        leaderboard = (Path(out) / "quickstart" / "leaderboard.md").read_text()
    print(f"quickstart: {seconds:.1f} s run + {board_seconds:.1f} s leaderboard (goal <= {GOAL_S} s)")
    benchlib.write("quickstart_wall", {"run_s": round(seconds, 2), "leaderboard_s": round(board_seconds, 2),
                                       "goal_s": GOAL_S, "extra_options": extra,
                                       "summary": [line for line in result.stdout.splitlines() if " ok, " in line],
                                       "leaderboard": leaderboard},
                   "python " + " ".join(sys.argv), started_on)
    return board.returncode


if __name__ == "__main__":
    sys.exit(main())
