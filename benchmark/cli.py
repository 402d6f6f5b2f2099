"""The one console script, with verbs like git's: list, check, fetch, run, leaderboard, cite."""

import argparse
import os
import signal
import sys
import threading
import warnings
from collections import Counter
from pathlib import Path

from benchmark.errors import TransferbenchError

DEFAULT_OUT = "runs"        # a user's runs; results/ holds what the repository publishes (written with --out results)


def data_root(args):
    """--data-root, then $TRANSFERBENCH_DATA, then ./data, saying which (``benchmark.suite.paths.DataRoot``)."""
    from benchmark.suite.paths import data_root as chosen

    return chosen(args.data_root)


def registry_for(args):
    from benchmark.discovery.registry import discover

    disabled = {name for value in args.disable for name in value.split(",") if name}
    registry = discover(disabled, args.plugin)
    for problem in registry.problems:
        print(f"transferbench: warning: {problem}", file=sys.stderr)
    return registry


def short(version: str) -> str:
    """A version for display: a ``--plugin`` file's sha256 cut to 12 digits (records keep it whole)."""
    return version[:len("sha256:") + 12] if version.startswith("sha256:") else version


def cmd_list(args) -> int:
    from tabulate import tabulate

    registry = registry_for(args)
    rows = [(p.name, f"{p.dist} {short(p.version)}", p.cls.description) for p in sorted(registry.strategies.values(),
                                                                             key=lambda p: p.name)]
    print(tabulate(rows, ["strategy", "provided by", "description"], tablefmt="simple"))
    if args.datasets:
        rows = [(p.name, f"{p.dist} {short(p.version)}", p.cls.description) for p in sorted(registry.datasets.values(),
                                                                                 key=lambda p: p.name)]
        print()
        print(tabulate(rows, ["dataset provider", "provided by", "description"], tablefmt="simple"))
    if args.estimators:  # a suite's estimators = [...] (benchmark.estimators)
        rows = [(p.name, f"{p.dist} {short(p.version)}", "yes" if p.cls.needs_source_predictions else "no",
                 p.cls.description) for p in sorted(registry.estimators.values(), key=lambda p: p.name)]
        print()
        print(tabulate(rows, ["estimator", "provided by", "source predictions", "description"], tablefmt="simple"))
    if args.models:
        rows = [(p.name, f"{p.dist} {short(p.version)}", p.cls.description) for p in sorted(registry.models.values(),
                                                                                 key=lambda p: p.name)]
        print()
        print(tabulate(rows, ["model provider", "provided by", "description"], tablefmt="simple"))
    if args.metrics:
        rows = [(p.name, f"{p.dist} {short(p.version)}", "higher" if p.cls.higher_is_better else "lower",
                 p.cls.description) for p in sorted(registry.metrics.values(), key=lambda p: p.name)]
        print()
        print(tabulate(rows, ["metric", "provided by", "better", "description"], tablefmt="simple"))
    return 0


def cmd_check(args) -> int:
    from benchmark.checks.contract import ContractError, check_strategy
    from benchmark.checks.printer import CheckPrinter, check_hparams

    registry = registry_for(args)
    if args.name in registry.estimators and args.name not in registry.strategies:
        return check_an_estimator(registry.estimators[args.name])
    provided = registry.strategy(args.name)
    if args.timeout is not None and args.timeout <= 0:
        raise TransferbenchError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    hparams, full, notes = check_hparams(provided.cls, args.hparams, args.full)
    print(f"checking '{provided.name}' from {provided.dist} {short(provided.version)}")
    for note in notes:
        print(note)
    printer = CheckPrinter()
    try:
        ran = check_strategy(provided.cls, hparams, report=printer.finished, device=args.device,
                             started=printer.started, progress=printer.progress, timeout=args.timeout, full=full)
    except ContractError as error:
        print(error, file=sys.stderr)
        return 1
    print_clock_warning(provided.cls, args.device)
    print(f"all checks passed ({len(ran)} checks)")
    return 0


def check_an_estimator(provided) -> int:
    """`check NAME` for a transferability estimator: its contract (benchmark.checks.estimator_contract)."""
    from benchmark.checks.estimator_contract import EstimatorContractError, check_estimator

    print(f"checking estimator '{provided.name}' from {provided.dist} {short(provided.version)}")
    try:
        ran = check_estimator(provided.cls)
    except EstimatorContractError as error:
        print(error, file=sys.stderr)
        return 1
    for rule in ran:
        print(f"  ok   {rule}")
    print(f"all checks passed ({len(ran)} checks)")
    return 0


def print_clock_warning(cls, device) -> None:
    """`check`'s warning when the pretraining follows wall time (benchmark.checks.wallclock); not a failure."""
    from benchmark.checks.wallclock import clock_dependence

    warning = clock_dependence(cls, device=device)
    if warning:
        print(f"  warn wall-clock: {warning}")


def cmd_fetch(args) -> int:
    """Lay out assets (by name, or a suite's ``assets``) under the data root; ``--list`` lists the manifest's."""
    from benchmark.assets import manifest
    from benchmark.assets.fetch import fetch

    path = Path(args.manifest) if args.manifest else manifest.default_path()
    declared = manifest.load(path)
    if args.list:
        from tabulate import tabulate

        rows = [(a.name, a.licence if len(a.licence) <= 40 else a.licence[:37] + "...",
                 megabytes(a.size) if a.size is not None else "?", ", ".join(s.describe() for s in a.sources))
                for a in declared.values()]
        print(tabulate(rows, ["asset", "licence", "size", "sources"], tablefmt="simple"))
        return 0
    if not args.targets:
        raise TransferbenchError("fetch needs asset names or suite files (or --list); "
                                 f"{path} declares {', '.join(declared) or 'none'}")
    names = []
    for target in args.targets:
        if target.endswith(".toml") or os.sep in target or "/" in target:  # asset names have no "/"
            from benchmark.suite.load import load_suite

            declares = load_suite(target, assets_manifest=path).assets
            if not declares:
                print(f"{target}: the suite declares no assets")
            names += [name for name in declares if name not in names]
        elif target not in names:
            names.append(manifest.named(declared, target, path).name)
    root = data_root(args)
    for name in names:
        done = fetch(declared[name], root)
        print(f"{name}: {done.action}, {megabytes(done.bytes)}, {done.seconds:.1f} s"
              f"{f' (from {done.source})' if done.source else ''} -> {root / name}"
              f"{f'; replaced the folder there, where {done.replaced}' if done.replaced else ''}")
    return 0


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def cmd_run(args) -> int:
    from benchmark.suite.check import check_assets
    from benchmark.suite.load import load_suite

    chosen = [s for s in args.strategies.split(",") if s] if args.strategies else None
    suite = load_suite(args.suite).with_overrides(seeds=args.seeds, episodes=args.episodes, strategies=chosen,
                                                  selection=args.selection, trials=args.trials)
    # A missing or altered asset stops the run now, before torch and the plugins load (seconds); the
    # runner verifies again before it reads any data (hashing is cheap: ELPV's 90 MB take 0.2 s).
    check_assets(suite, data_root(args))
    from benchmark.run.runner import Runner

    registry = registry_for(args)
    for name in chosen or ():
        registry.strategy(name.partition(":")[0])  # an unknown --strategies name is the option's fault, not the suite file's
    plugins = ", ".join(f"{name}-{version}" if dist == name else f"{name} ({dist} {short(version)})"
                        if version.startswith("sha256:") else f"{name} ({dist}-{version})"
                        for name, dist, version in registry.plugins)
    print(f"suite {suite.name} ({suite.protocol}): {plural(len(suite.pairs), 'pair')}, seeds {list(suite.seeds)}, "
          f"budgets {[b or 'all' for b in suite.budgets]}\nplugins: {plugins}")
    if suite.selection.searches:
        print(f"hyperparameters chosen by {suite.selection.protocol}: {suite.selection.trials} trials per cell, "
              f"{suite.selection.sampler} sampler, seed {suite.selection.seed}")
    cache_dir = args.pretrain_cache or os.environ.get("TRANSFERBENCH_PRETRAIN_CACHE")
    runner = Runner(suite, registry, Path(args.out), data_root(args), device=args.device,
                    show_progress=not args.no_progress, executor=args.executor, workers=args.workers,
                    threads=args.threads, cell_timeout=args.cell_timeout, max_deaths=args.max_deaths,
                    retries=args.retries,
                    pretrain_cache=not args.no_pretrain_cache, pretrain_cache_dir=Path(cache_dir) if cache_dir else None,
                    dataset_cache_dir=args.dataset_cache)
    if is_published(Path(args.out)):
        print(f"note: --out {args.out} is what this repository publishes (results/published.toml); "
              f"a run of your own belongs in {DEFAULT_OUT}/, the default")
    if args.dry_run:
        return print_pending(*runner.pending(), runner.records_path)
    summary = runner.run()
    print(f"{summary.ok} ok, {len(summary.failed)} failed, {summary.skipped} skipped, "
          f"{f'{summary.trials} trials, ' if summary.trials else ''}"
          f"{f'{summary.estimates} estimates, ' if summary.estimates else ''}"
          f"{summary.already} already recorded -> {runner.records_path}")
    for note, cells in summary.skip_notes.items():
        print(f"  skipped ({cells} cells): {note}")
    for line in summary.failed:
        print(f"  failed: {line}", file=sys.stderr)
    return summary.exit_code


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def is_published(out: Path) -> bool:
    """Whether ``out`` is the results/ folder of the transferbench checkout (what it publishes)."""
    checkout = Path(__file__).resolve().parent.parent
    return out.resolve() == checkout / "results" and (checkout / "results" / "published.toml").exists()


def print_pending(cells: list, already: int, records_path: Path) -> int:
    """``run --dry-run``: how many cells would run, per strategy, and why recorded ones would run again."""
    print(f"{plural(len(cells), 'cell')} to run, {already} already recorded -> {records_path}")
    for strategy in sorted({job.provided.name for job, _, _ in cells}):
        mine = [why for job, _, why in cells if job.provided.name == strategy]
        again = Counter(why for why in mine if why)
        print(f"  {strategy}: {plural(len(mine), 'cell')}" + "".join(f"; {count} recorded before under other settings: {why}"
                                                          for why, count in again.most_common()))
    return 0


def comma_list(value: str | None) -> list[str] | None:
    return [part for part in value.split(",") if part] if value else None


def cmd_leaderboard(args) -> int:
    import warnings

    from benchmark.leaderboard import write_leaderboard

    with warnings.catch_warnings(record=True) as caught:  # e.g. a garbage line in records.jsonl
        warnings.simplefilter("always")
        written, board_warnings = write_leaderboard(
            Path(args.results), metric=args.metric, formats=comma_list(args.format),
            strategies=comma_list(args.strategies), budgets=comma_list(args.budget), seeds=comma_list(args.seeds),
            out_dir=Path(args.out) if args.out else None,
            # discovered only if a record lacks the metric: it is then computed from the stored predictions
            metrics=lambda: {name: p.cls for name, p in registry_for(args).metrics.items()}, against=args.against)
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
    common.add_argument("--plugin", action="append", default=[], metavar="PATH_OR_MODULE",
                        help="also load this .py file or importable module as a plugin, without a package "
                        "(recorded with the file's sha256 as its version); repeat for several")
    parser = argparse.ArgumentParser(prog="transferbench", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)

    listing = verbs.add_parser("list", parents=[common], help="strategies with the distribution providing each")
    listing.add_argument("--datasets", action="store_true", help="also list dataset providers")
    listing.add_argument("--models", action="store_true", help="also list model providers")
    listing.add_argument("--estimators", action="store_true", help="also list transferability estimators")
    listing.add_argument("--metrics", action="store_true", help="also list metrics (leaderboard --metric)")
    listing.set_defaults(func=cmd_list)

    check = verbs.add_parser("check", parents=[common], help="run the contract battery on one strategy (or estimator)")
    check.add_argument("name")
    check.add_argument("--device", default="cpu", help="torch device the checks run on, e.g. cpu, cuda, cuda:1")
    check.add_argument("--hparams", nargs="+", default=[], metavar="KEY=VALUE",
                       help="hyperparameters over the strategy's quick_hparams; VALUE is read as a TOML value "
                       "(2, 1e-3, true, [1, 2]), else as a string")
    check.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="fail a check that runs longer than this; the other checks still run")
    check.add_argument("--full", action="store_true",
                       help="also run the determinism check with the strategy's real pretraining "
                       "(its defaults, with --hparams over them), not only the quick one")
    check.set_defaults(func=cmd_check)

    fetching = verbs.add_parser("fetch", help="download assets (assets.toml) once, by pinned sha256, and lay them "
                                "out under the data root, verified; run reads them and downloads nothing")
    fetching.add_argument("targets", nargs="*", metavar="SUITE_OR_ASSET",
                          help="asset names, or suite files whose `assets` to fetch")
    fetching.add_argument("--data-root", help="where assets are laid out, DATA_ROOT/NAME (default: "
                          "$TRANSFERBENCH_DATA, else ./data)")
    fetching.add_argument("--manifest", metavar="FILE", help="the asset manifest (default: $TRANSFERBENCH_ASSETS, "
                          "else assets.toml of the transferbench checkout)")
    fetching.add_argument("--list", action="store_true", help="list the manifest's assets: licence, size, sources")
    fetching.set_defaults(func=cmd_fetch)

    run = verbs.add_parser("run", parents=[common], help="run a suite, appending one record per cell")
    run.add_argument("suite", help="a suite TOML file")
    run.add_argument("--strategies", help="comma-separated strategy names (default: the suite's, else all)")
    run.add_argument("--seeds", type=int, help="use seeds 0..N-1 instead of the suite's")
    run.add_argument("--episodes", type=int, help="evaluation episodes per cell (episodic protocol)")
    run.add_argument("--selection", metavar="PROTOCOL", help="how hyperparameters are chosen: fixed, source-val, "
                     "target-val or oracle (default: the suite's [selection], else fixed); results of another "
                     "protocol than the suite's go to <suite>-<protocol>/")
    run.add_argument("--trials", type=int, help="trials per cell of the search (default: the suite's, else 8)")
    run.add_argument("--out", default=DEFAULT_OUT, help=f"results directory (default: {DEFAULT_OUT}/, which git "
                     f"ignores; results/ holds what the repository publishes)")
    run.add_argument("--dry-run", action="store_true", help="load the data and say which cells would run; train "
                     "nothing")
    run.add_argument("--data-root", help="where datasets live (default: $TRANSFERBENCH_DATA, else ./data in the "
                     "working directory): dataset roots and \"{data_root}/...\" paths of the suite are under it; "
                     "every other relative path of a suite is relative to the suite file")
    run.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda, cuda:1")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--executor", default="local", choices=("local", "process", "ray"),
                     help="local: in this process (default); process: in a pool of worker processes, so a cell "
                          "that kills its process (a segfault, the OOM killer) is a failed record at once; "
                          "ray: cells as Ray tasks ($RAY_ADDRESS, else a local Ray)")
    run.add_argument("--workers", type=int, help="worker processes or Ray tasks at once (default: 1 process; "
                     "Ray: the cluster's CPUs / --threads)")
    run.add_argument("--retries", type=int, metavar="N", help="Ray: runs again a task lost to a dead worker or "
                     "node, up to N times (default 3); a strategy's own exception is never retried")
    run.add_argument("--max-deaths", type=int, default=2, metavar="N",
                     help="local executor: record a cell that took the whole process down N times as failed and "
                          "go on (default 2; the journal results/<suite>/.journal.jsonl counts them)")
    run.add_argument("--threads", type=int, help="torch threads of each Ray task (default 1), or of the "
                     "in-process run (default: torch's)")
    run.add_argument("--cell-timeout", type=float, metavar="SECONDS",
                     help="fail a cell (or a pretrain) that runs longer than this; the suite goes on")
    run.add_argument("--pretrain-cache", metavar="DIR", help="where pretrained states are kept "
                     "(default: $TRANSFERBENCH_PRETRAIN_CACHE, else OUT/.pretrain-cache)")
    run.add_argument("--no-pretrain-cache", action="store_true", help="pretrain every time; read and write no cache")
    run.add_argument("--dataset-cache", metavar="DIR", help="where preprocessed datasets are kept, shared by every "
                     "results directory (default: $TRANSFERBENCH_DATASET_CACHE, else "
                     "$XDG_CACHE_HOME/transferbench/datasets, else ~/.cache/transferbench/datasets)")
    run.set_defaults(func=cmd_run)

    board = verbs.add_parser("leaderboard", parents=[common],
                             help="render leaderboards from DIR/records.jsonl (never trains)")
    board.add_argument("results", help="a results directory, e.g. results/quickstart")
    board.add_argument("--metric", default="accuracy",
                       help="a recorded metric (accuracy, macro_f1, macro_recall, auroc, one class's recall in a "
                            "transfer suite: 'recall[spam]'), or any installed one (list --metrics: "
                            "balanced_accuracy, ece, ...), computed from the cells' stored predictions where a "
                            "record lacks it (default: accuracy)")
    board.add_argument("--format", default="md,tex,csv,html,png",
                       help="comma-separated formats of md, tex, csv, html, png (default: all)")
    board.add_argument("--budget", help="comma-separated budgets to show, e.g. 1,5,all (default: every recorded)")
    board.add_argument("--strategies", help="comma-separated strategies to show (default: every recorded)")
    board.add_argument("--seeds", help="comma-separated seeds to use, e.g. 0,1,2 (default: every recorded)")
    board.add_argument("--out", metavar="DIR", help="where the rendered files go (default: beside records.jsonl)")
    board.add_argument("--against", default="finetune", metavar="STRATEGY[,STRATEGY]", help="the strategies whose "
                       "measured metric estimators are ranked against in transferability.*, a table each; the "
                       "first's is the transfer matrix's (default: finetune)")
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


def warning_source(filename: str) -> str | None:
    """The module a warning was raised in, found by its file; None for transferbench's own code."""
    path = os.path.abspath(filename)
    for name, module in list(sys.modules.items()):
        found = getattr(module, "__file__", None)
        if found and os.path.abspath(found) == path:
            return None if name == "benchmark" or name.startswith("benchmark.") else name
    return None if path.startswith(os.path.dirname(os.path.abspath(__file__))) else filename


def one_line_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as the one line the user needs, not Python's two; one raised outside
    transferbench (a plugin, a library) names the module it came from."""
    source = warning_source(filename)
    print(f"transferbench: warning{f' from {source}' if source else ''}: {message}", file=file or sys.stderr)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a batch scheduler's end of job), raised where the run is, so that it
    stops as Ctrl-C does: finished cells are recorded, the running one is not."""


def on_sigterm(signum, frame):
    raise Terminated()


def main(argv=None) -> int:
    # Nothing is ever downloaded at run time: Hugging Face libraries must fail fast offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    on_main_thread = threading.current_thread() is threading.main_thread()  # signals can only be set there
    previous = signal.signal(signal.SIGTERM, on_sigterm) if on_main_thread else None
    try:
        with warnings.catch_warnings():  # restores the warnings machinery when we return
            warnings.showwarning = one_line_warning
            # A plugin's old import path warns from the plugin's module, where Python hides
            # DeprecationWarnings by default: its author should see the public name to use.
            warnings.filterwarnings("default", category=DeprecationWarning, message=r"benchmark\.\S+ is deprecated")
            return args.func(args)
    except TransferbenchError as error:
        print(f"transferbench: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.filename is None:  # not about a file: a bug, whose traceback is worth reporting
            raise
        # A file a command opens that is a directory, a socket or unreadable (a records.jsonl, a
        # checkpoint, a cache): named in one line, as every other bad input is.
        print(f"transferbench: error: {error.filename}: {error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        kept = "; every finished cell is recorded, a pretraining that was running is not kept" \
            if args.verb == "run" else ""
        print(f"transferbench: {'terminated (SIGTERM)' if terminated else 'interrupted'}{kept}", file=sys.stderr)
        return 128 + signal.SIGTERM if terminated else 130  # the shell's codes for the two signals
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
