"""Where a runner episode's time goes: cProfile of serial and batched Omniglot cells, per strategy.

    .venv/bin/python bench/episode_profile.py [--data-root DIR] [--setting 5w1s] [--episodes 32]
                                              [--serial-episodes 8] [--strategies a,b] [--out adapt_after]

The cells of bench/episodes.py (same suite, episodes and hyperparameters) but pretrained on a
slice of the source (``--source-split``, default 10% of each class: 2 drawings, what maml's
1-shot meta-training needs): what an episode costs does not depend on how well the model was
trained, and the slice keeps a profile's pretrain to seconds. For each strategy: seconds per episode serial (``--serial-episodes``, one
``adapt`` at a time) and batched (``--episodes``, ``adapt_episodes``), and the functions
taking the most time of their own. Writes bench/results/episodes_profile_<out>.txt.
"""

import cProfile
import io
import pstats
import sys
import time

import benchlib
import episodes

TOP = 12


def profiled(function, *args, **kwargs) -> tuple[float, str]:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(function, *args, **kwargs)
    seconds = time.perf_counter() - started
    text = io.StringIO()
    pstats.Stats(profile, stream=text).strip_dirs().sort_stats("tottime").print_stats(TOP)
    lines = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    return seconds, "\n".join(lines[start:start + TOP + 1])


def main() -> int:
    parser = episodes.arguments()
    parser.add_argument("--setting", default="5w1s", choices=list(episodes.SETTINGS))
    parser.add_argument("--source-split", default="trainval[:10%]")
    parser.add_argument("--out", default="adapt_after")
    args = parser.parse_args()
    args.strategies = args.strategies.replace("nearest-class-mean,", "")
    if args.threads:
        episodes.torch.set_num_threads(args.threads)
    started_on = benchlib.machine()
    bench = episodes.Bench(args)
    report = [f"python {' '.join(sys.argv)}", f"machine at start: {started_on}", ""]
    for name in args.strategies.split(","):
        cell = bench.cell(name, args.setting)
        cell.runner(2, batched=False), cell.runner(2)  # warm-up
        for side, count, batched in (("serial", args.serial_episodes, False), ("batched", args.episodes, True)):
            seconds, top = profiled(cell.runner, count, batched=batched)
            heading = f"== {name} {args.setting} {side}: {count} episodes, {1000 * seconds / count:.1f} ms per episode"
            print(heading, flush=True)
            report += [heading, top, ""]
            path = benchlib.RESULTS / f"episodes_profile_{args.out}.txt"
            path.write_text("\n".join(report) + "\n")  # after every cell: a run stopped early keeps its profiles
    print(f"-> {path.relative_to(benchlib.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
