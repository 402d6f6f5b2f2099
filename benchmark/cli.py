"""The one console script, with verbs like git's: list, check, run, leaderboard, cite."""

import argparse
import os
import sys
import warnings
from pathlib import Path

from benchmark.errors import TransferbenchError

DEFAULT_DATA_ROOT = "data"  # relative to the working directory; see --data-root


def data_root(args) -> Path:
    """--data-root, then $TRANSFERBENCH_DATA, then ./data."""
    return Path(args.data_root or os.environ.get("TRANSFERBENCH_DATA") or DEFAULT_DATA_ROOT)


def registry_for(args):
    from benchmark.plugins import discover

    disabled = {name for value in args.disable for name in value.split(",") if name}
    registry = discover(disabled)
    for problem in registry.problems:
        print(f"transferbench: warning: {problem}", file=sys.stderr)
    return registry


def cmd_list(args) -> int:
    from tabulate import tabulate

    registry = registry_for(args)
    rows = [(p.name, f"{p.dist} {p.version}", p.cls.description) for p in sorted(registry.strategies.values(),
                                                                             key=lambda p: p.name)]
    print(tabulate(rows, ["strategy", "provided by", "description"], tablefmt="simple"))
    if args.datasets:
        rows = [(p.name, f"{p.dist} {p.version}", p.cls.description) for p in sorted(registry.datasets.values(),
                                                                                 key=lambda p: p.name)]
        print()
        print(tabulate(rows, ["dataset provider", "provided by", "description"], tablefmt="simple"))
    if args.models:
        rows = [(p.name, f"{p.dist} {p.version}", p.cls.description) for p in sorted(registry.models.values(),
                                                                                 key=lambda p: p.name)]
        print()
        print(tabulate(rows, ["model provider", "provided by", "description"], tablefmt="simple"))
    return 0


def cmd_check(args) -> int:
    from benchmark.testing import ContractError, check_strategy

    provided = registry_for(args).strategy(args.name)
    print(f"checking '{provided.name}' from {provided.dist} {provided.version}")

    def report(name, error):
        print(f"  {'ok  ' if error is None else 'FAIL'} {name}")

    try:
        check_strategy(provided.cls, report=report, device=args.device)
    except ContractError as error:
        print(error, file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


def cmd_run(args) -> int:
    from benchmark.runner import Runner
    from benchmark.suite import load_suite

    chosen = [s for s in args.strategies.split(",") if s] if args.strategies else None
    suite = load_suite(args.suite).with_overrides(seeds=args.seeds, episodes=args.episodes, strategies=chosen,
                                                  selection=args.selection, trials=args.trials)
    registry = registry_for(args)
    for name in chosen or ():
        registry.strategy(name)  # an unknown --strategies name is the option's fault, not the suite file's
    plugins = ", ".join(f"{name}-{version}" if dist == name else f"{name} ({dist}-{version})"
                        for name, dist, version in registry.plugins)
    print(f"suite {suite.name} ({suite.protocol}): {len(suite.pairs)} pairs, seeds {list(suite.seeds)}, "
          f"budgets {[b or 'all' for b in suite.budgets]}\nplugins: {plugins}")
    if suite.selection.searches:
        print(f"hyperparameters chosen by {suite.selection.protocol}: {suite.selection.trials} trials per cell, "
              f"{suite.selection.sampler} sampler, seed {suite.selection.seed}")
    cache_dir = args.pretrain_cache or os.environ.get("TRANSFERBENCH_PRETRAIN_CACHE")
    runner = Runner(suite, registry, Path(args.out), data_root(args), device=args.device,
                    show_progress=not args.no_progress, executor=args.executor, workers=args.workers,
                    threads=args.threads, cell_timeout=args.cell_timeout,
                    pretrain_cache=not args.no_pretrain_cache, pretrain_cache_dir=Path(cache_dir) if cache_dir else None)
    summary = runner.run()
    print(f"{summary.ok} ok, {len(summary.failed)} failed, {summary.skipped} skipped, "
          f"{f'{summary.trials} trials, ' if summary.trials else ''}"
          f"{summary.already} already recorded -> {runner.records_path}")
    for note, cells in summary.skip_notes.items():
        print(f"  skipped ({cells} cells): {note}")
    for line in summary.failed:
        print(f"  failed: {line}", file=sys.stderr)
    return summary.exit_code


def comma_list(value: str | None) -> list[str] | None:
    return [part for part in value.split(",") if part] if value else None


def cmd_leaderboard(args) -> int:
    import warnings

    from benchmark.leaderboard import write_leaderboard

    with warnings.catch_warnings(record=True) as caught:  # e.g. a garbage line in records.jsonl
        warnings.simplefilter("always")
        written, board_warnings = write_leaderboard(
            Path(args.results), metric=args.metric, formats=comma_list(args.format),
            strategies=comma_list(args.strategies), budgets=comma_list(args.budget))
    for message in [str(w.message) for w in caught] + board_warnings:
        print(f"warning: {message}", file=sys.stderr)
    for path in written:
        print(path)
    return 0


def cmd_cite(args) -> int:
    from benchmark.cite import cite

    print(cite(Path(args.path), registry_for(args)), end="")
    return 0


def cmd_export(args) -> int:
    from benchmark.models.export import export

    for path in export(Path(args.results), args.strategy, args.pair, args.seed, Path(args.out), args.pretrain_cache):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--disable", action="append", default=[], metavar="PLUGIN",
                        help="leave out a plugin: its entry-point name, or DIST:NAME for one distribution's; "
                             "repeat or comma-separate")
    parser = argparse.ArgumentParser(prog="transferbench", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)

    listing = verbs.add_parser("list", parents=[common], help="strategies with the distribution providing each")
    listing.add_argument("--datasets", action="store_true", help="also list dataset providers")
    listing.add_argument("--models", action="store_true", help="also list model providers")
    listing.set_defaults(func=cmd_list)

    check = verbs.add_parser("check", parents=[common], help="run the contract battery on one strategy")
    check.add_argument("name")
    check.add_argument("--device", default="cpu", help="torch device the checks run on, e.g. cpu, cuda, cuda:1")
    check.set_defaults(func=cmd_check)

    run = verbs.add_parser("run", parents=[common], help="run a suite, appending one record per cell")
    run.add_argument("suite", help="a suite TOML file")
    run.add_argument("--strategies", help="comma-separated strategy names (default: the suite's, else all)")
    run.add_argument("--seeds", type=int, help="use seeds 0..N-1 instead of the suite's")
    run.add_argument("--episodes", type=int, help="evaluation episodes per cell (episodic protocol)")
    run.add_argument("--selection", metavar="PROTOCOL", help="how hyperparameters are chosen: fixed, source-val, "
                     "target-val or oracle (default: the suite's [selection], else fixed); results of another "
                     "protocol than the suite's go to <suite>-<protocol>/")
    run.add_argument("--trials", type=int, help="trials per cell of the search (default: the suite's, else 8)")
    run.add_argument("--out", default="results", help="results directory (default: results/)")
    run.add_argument("--data-root", help="where datasets live (default: $TRANSFERBENCH_DATA, else ./data)")
    run.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda, cuda:1")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--executor", default="local", choices=("local", "ray"),
                     help="local: in this process (default); ray: cells as Ray tasks ($RAY_ADDRESS, else a local Ray)")
    run.add_argument("--workers", type=int, help="Ray tasks at once (default: the cluster's CPUs / --threads)")
    run.add_argument("--threads", type=int, help="torch threads of each Ray task (default 1), or of the "
                     "in-process run (default: torch's)")
    run.add_argument("--cell-timeout", type=float, metavar="SECONDS",
                     help="fail a cell (or a pretrain) that runs longer than this; the suite goes on")
    run.add_argument("--pretrain-cache", metavar="DIR", help="where pretrained states are kept "
                     "(default: $TRANSFERBENCH_PRETRAIN_CACHE, else OUT/.pretrain-cache)")
    run.add_argument("--no-pretrain-cache", action="store_true", help="pretrain every time; read and write no cache")
    run.set_defaults(func=cmd_run)

    board = verbs.add_parser("leaderboard", help="render leaderboards from DIR/records.jsonl (never trains)")
    board.add_argument("results", help="a results directory, e.g. results/quickstart")
    board.add_argument("--metric", default="accuracy", choices=("accuracy", "macro_f1", "macro_recall"))
    board.add_argument("--format", default="md,tex,csv,html,png",
                       help="comma-separated formats of md, tex, csv, html, png (default: all)")
    board.add_argument("--budget", help="comma-separated budgets to show, e.g. 1,5,all (default: every recorded)")
    board.add_argument("--strategies", help="comma-separated strategies to show (default: every recorded)")
    board.set_defaults(func=cmd_leaderboard)

    exporting = verbs.add_parser("export", help="a run's pretrained trunk as .safetensors + architecture JSON "
                                 "(read back by the 'file' model provider)")
    exporting.add_argument("results", help="a results directory, e.g. results/digits")
    exporting.add_argument("--strategy", required=True)
    exporting.add_argument("--pair", required=True)
    exporting.add_argument("--seed", type=int, required=True)
    exporting.add_argument("--out", required=True, help="the .safetensors file to write (its .json beside it)")
    exporting.add_argument("--pretrain-cache", metavar="DIR", help="default: RESULTS/../.pretrain-cache")
    exporting.set_defaults(func=cmd_export)

    citing = verbs.add_parser("cite", parents=[common],
                              help="BibTeX for transferbench, the datasets and the strategies of a suite or results")
    citing.add_argument("path", metavar="SUITE_OR_RESULTS_DIR",
                        help="a suite .toml (what it would run) or a results directory (what ran)")
    citing.set_defaults(func=cmd_cite)
    return parser


def one_line_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as the one line the user needs (it names its own file and line), not Python's two."""
    print(f"transferbench: warning: {message}", file=file or sys.stderr)


def main(argv=None) -> int:
    # Nothing is ever downloaded at run time: Hugging Face libraries must fail fast offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores the warnings machinery when we return
            warnings.showwarning = one_line_warning
            return args.func(args)
    except TransferbenchError as error:
        print(f"transferbench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("transferbench: interrupted; every finished cell is recorded", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
