"""`transferbench cite`: BibTeX for transferbench, every dataset of a suite or results, each strategy and
transferability estimator, the models and assets, and the licences of all of it.

Citations come through the plugin contract: each ``Strategy``, ``Estimator`` and ``DatasetProvider``
class carries a ``citation`` (BibTeX) class attribute, so a third-party plugin cites
its own paper the same way the built-ins do. A suite file states the rest (``citation`` and
``licence`` on the suite, a [model] table, a dataset table: ``benchmark.suite.credits``), and
assets.toml each asset's. A results directory cites what ran (strategies with at least one
successful record, estimators with a score, and the licences its records carry); a suite file cites
what it would run.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import benchmark
from benchmark import records
from benchmark.errors import TransferbenchError
from benchmark.suite.credits import licences_by_pair, non_commercial
from benchmark.suite.load import load_suite

# Keep in step with CITATION.cff at the repository root (a test compares them).
TITLE = "transferbench: a plugin-based benchmark for transfer learning and meta-learning"
YEAR = 2026
TRANSFERBENCH_BIBTEX = f"""@software{{transferbench,
  title = {{{{{TITLE}}}}},
  author = {{{{The transferbench authors}}}},
  version = {{{benchmark.__version__}}},
  year = {{{YEAR}}}
}}"""

_KEY = re.compile(r"\s*@\w+\s*\{\s*([^,\s]+)\s*,")
_ENTRY_START = re.compile(r"^[ \t]*@\w+\s*\{", re.MULTILINE)  # an entry begins a line


def bibtex_key(entry: str) -> str | None:
    match = _KEY.match(entry)
    return match.group(1) if match and entry.count("{") == entry.count("}") else None


@dataclass
class Used:
    """What a suite would use, or a results directory's records used: what ``cite`` cites."""

    described: str
    strategies: dict                            # {strategy: (dist, version) recorded, or None for a suite}
    providers: set                              # dataset provider names
    assets: set                                 # asset names (assets.toml)
    credits: tuple = ()                         # what the suite file states (benchmark.suite.credits); a suite only
    licences: dict = field(default_factory=dict)  # {what: licence}
    estimators: set = field(default_factory=set)  # transferability estimators that scored (or would)


def what_ran(path: Path) -> Used:
    """What a results directory's records used (strategies with at least one successful record), or a suite would."""
    records_path = path / "records.jsonl" if path.is_dir() else path
    if path.suffix == ".toml":
        suite = load_suite(path)
        providers = {spec.provider for pair in suite.pairs for spec in (pair.source, pair.target, pair.target_test)
                     if spec is not None}  # a pair that starts from its model has no source
        # "name:variant" runs strategy 'name' again with other hyperparameters: it cites 'name'
        strategies = {name.partition(":")[0]: None for name in suite.strategies or ()}
        licences = {what: licence for by_pair in licences_by_pair(suite).values() for what, licence in by_pair.items()}
        return Used(f"suite {suite.name} ({path})", strategies, providers, set(suite.assets), suite.credits,
                    dict(sorted(licences.items())), {name.partition(":")[0] for name in suite.estimators})
    found = records.read(records_path)
    if not found and path.is_dir() and records.suite_folders(path):  # results/ rather than results/<suite>
        raise TransferbenchError(records.no_records_here(path, "cite"))
    if not found:
        raise TransferbenchError(f"{records_path}: no records to cite (give a results directory or a suite .toml)")
    strategies = {r["strategy"]: ((r.get("plugin") or {}).get("dist"), (r.get("plugin") or {}).get("version"))
                  for r in found if r.get("status") == "ok"}
    providers = {(r.get(role) or {}).get("provider") for r in found for role in ("source", "target", "target_test")}
    assets = {name for r in found for name in (r.get("assets") or {})}
    from benchmark.leaderboard.licences import of_records  # what the leaderboard lists: one reading of records

    return Used(f"the records in {records_path}", strategies, providers - {None}, assets,
                licences=of_records(found),
                estimators={r["strategy"] for r in found if r.get("status") == "estimate" and r.get("metrics")})


def split_entries(text: str) -> list[tuple[str | None, str]]:
    """A BibTeX string cut into its entries, each with its key (None: not a BibTeX entry)."""
    starts = [match.start() for match in _ENTRY_START.finditer(text)]
    if not starts or text[:starts[0]].strip():
        return [(None, text)]
    return [(bibtex_key(chunk), chunk) for chunk in
            (text[a:b].strip() for a, b in zip(starts, starts[1:] + [len(text)]))]


def cited(header: str, text: str, printed: set, none: str = "no citation (it cites no paper)") -> list[str]:
    """``header`` and the entries of ``text`` (BibTeX, one entry or several) not printed yet; an entry
    printed before is named instead, so each paper appears once whoever cites it."""
    text = (text or "").strip()
    if not text:
        return [f"{header}: {none}"]
    entries = split_entries(text)
    if any(key is None for key, _ in entries):
        return [f"{header}: its citation is not a BibTeX entry: " + " ".join(text.split())[:200]]
    above = [key for key, _ in entries if key in printed]
    new = [(key, entry) for key, entry in entries if key not in printed]
    printed.update(key for key, _ in new)
    if not new:
        return [f"{header}: cites {', '.join(above)}, above"]
    return [header + (f"; also cites {', '.join(above)}, above" if above else ""), *(entry for _, entry in new)]


def licence_lines(licences: dict) -> list[str]:
    """The licences of what is cited, first: their terms bind what is published with it."""
    if not licences:
        return []
    out = ["% Licences of what it uses (their terms apply to what you publish with it):"]
    out += [f"%   {what}: {licence}{' (non-commercial: no commercial use)' if non_commercial(licence) else ''}"
            for what, licence in licences.items()]
    if any(re.search(r"CC[-\s]BY", licence, re.IGNORECASE) for licence in licences.values()):
        out.append("% A CC BY licence requires attribution: cite the entries below for what it covers.")
    return out


def cite(path, registry) -> str:
    """The BibTeX text for ``path`` (a results directory, its records.jsonl, or a suite .toml): the licences
    of what it uses, then transferbench, what the suite file states (its own, its models', its datasets'),
    the dataset providers, the strategies, the transferability estimators and the assets, each paper once."""
    path = Path(path)
    if not path.exists():
        raise TransferbenchError(f"{path}: no such suite file or results directory")
    used = what_ran(path)
    strategies = used.strategies
    if not strategies and path.suffix == ".toml":
        strategies = {name: None for name in registry.strategies}  # a suite without a list runs every one
    out = [f"% BibTeX for {used.described}, from `transferbench cite`", f"% transferbench {benchmark.__version__}",
           *licence_lines(used.licences), TRANSFERBENCH_BIBTEX]
    printed = {"transferbench"}
    for credit in used.credits:
        out.append("")
        out += cited(f"% {credit.what}{f' (licence: {credit.licence})' if credit.licence else ''}, as the suite "
                     f"states", credit.citation, printed, none="no citation stated")
    for kind, table, names in (("dataset provider", registry.datasets, sorted(used.providers)),
                               ("strategy", registry.strategies, sorted(strategies)),
                               ("estimator", registry.estimators, sorted(used.estimators))):
        for name in names:
            out.append("")
            provided = table.get(name)
            ran = strategies.get(name) if kind == "strategy" else None
            if provided is None:
                out.append(f"% {kind} '{name}'{f' ({ran[0]} {ran[1]})' if ran else ''}: not installed here, "
                           f"so its citation is unknown; install its plugin (or pass its file with --plugin) and cite again")
                continue
            header = f"% {kind} '{name}' ({provided.dist} {provided.version})"
            if ran and ran[1] and str(ran[1]) != provided.version:
                header += f"; the records were made with {ran[0]} {ran[1]}"
            out += cited(header, provided.cls.citation, printed)
    out += asset_citations(sorted(used.assets), printed)
    return "\n".join(out) + "\n"


def asset_citations(names: list[str], printed: set) -> list[str]:
    """Each asset's licence and BibTeX, from assets.toml (weights and data carry their own terms)."""
    from benchmark.assets import manifest

    declared = manifest.load() if names else {}
    out = []
    for name in names:
        asset = declared.get(name)
        out.append("")
        if asset is None:
            out.append(f"% asset '{name}': not in {manifest.default_path()}, so its citation is unknown")
            continue
        out += cited(f"% asset '{name}' (licence: {asset.licence})", asset.citation, printed,
                     none="no citation declared")
    return out
