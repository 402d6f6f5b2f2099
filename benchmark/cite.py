"""`transferbench cite`: BibTeX for transferbench, every dataset of a suite or results, and each strategy.

Citations come through the plugin contract: each ``Strategy`` and ``DatasetProvider``
class carries a ``citation`` (BibTeX) class attribute, so a third-party plugin cites
its own paper the same way the built-ins do. A results directory cites what ran
(strategies with at least one successful record); a suite file cites what it would run.
"""

import re
from pathlib import Path

import benchmark
from benchmark import records
from benchmark.errors import TransferbenchError
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


def bibtex_key(entry: str) -> str | None:
    match = _KEY.match(entry)
    return match.group(1) if match and entry.count("{") == entry.count("}") else None


def what_ran(path: Path) -> tuple[str, dict, set, set]:
    """(description, {strategy: (dist, version) recorded}, {dataset provider}, {asset}) of a results dir or a suite."""
    records_path = path / "records.jsonl" if path.is_dir() else path
    if path.suffix == ".toml":
        suite = load_suite(path)
        providers = {spec.provider for pair in suite.pairs for spec in (pair.source, pair.target, pair.target_test)
                     if spec is not None}  # a pair that starts from its model has no source
        # "name:variant" runs strategy 'name' again with other hyperparameters: it cites 'name'
        strategies = {name.partition(":")[0]: None for name in suite.strategies or ()}
        return f"suite {suite.name} ({path})", strategies, providers, set(suite.assets)
    found = records.read(records_path)
    if not found and path.is_dir() and records.suite_folders(path):  # results/ rather than results/<suite>
        raise TransferbenchError(records.no_records_here(path, "cite"))
    if not found:
        raise TransferbenchError(f"{records_path}: no records to cite (give a results directory or a suite .toml)")
    strategies = {r["strategy"]: ((r.get("plugin") or {}).get("dist"), (r.get("plugin") or {}).get("version"))
                  for r in found if r.get("status") == "ok"}
    providers = {(r.get(role) or {}).get("provider") for r in found for role in ("source", "target", "target_test")}
    assets = {name for r in found for name in (r.get("assets") or {})}
    return f"the records in {records_path}", strategies, providers - {None}, assets


def cite(path, registry) -> str:
    """The BibTeX text for ``path`` (a results directory, its records.jsonl, or a suite .toml)."""
    path = Path(path)
    if not path.exists():
        raise TransferbenchError(f"{path}: no such suite file or results directory")
    described, strategies, providers, assets = what_ran(path)
    if not strategies and path.suffix == ".toml":
        strategies = {name: None for name in registry.strategies}  # a suite without a list runs every one
    out = [f"% BibTeX for {described}, from `transferbench cite`", f"% transferbench {benchmark.__version__}",
           TRANSFERBENCH_BIBTEX]
    printed = {"transferbench"}
    for kind, table, names in (("dataset provider", registry.datasets, sorted(providers)),
                               ("strategy", registry.strategies, sorted(strategies))):
        for name in names:
            out.append("")
            provided = table.get(name)
            if provided is None:
                ran = strategies.get(name) if kind == "strategy" else None
                out.append(f"% {kind} '{name}'{f' ({ran[0]} {ran[1]})' if ran else ''}: not installed here, "
                           f"so its citation is unknown; install its plugin (or pass its file with --plugin) and cite again")
                continue
            header = f"% {kind} '{name}' ({provided.dist} {provided.version})"
            ran = strategies.get(name) if kind == "strategy" else None
            if ran and ran[1] and str(ran[1]) != provided.version:
                header += f"; the records were made with {ran[0]} {ran[1]}"
            entry = (provided.cls.citation or "").strip()
            key = bibtex_key(entry)
            if not entry:
                out.append(f"{header}: no citation (it cites no paper)")
            elif key is None:
                out.append(f"{header}: its citation is not a BibTeX entry: " + " ".join(entry.split())[:200])
            elif key in printed:
                out.append(f"{header}: cites {key}, above")
            else:
                printed.add(key)
                out += [header, entry]
    out += asset_citations(sorted(assets), printed)
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
        entry, key = asset.citation.strip(), bibtex_key(asset.citation.strip())
        header = f"% asset '{name}' (licence: {asset.licence})"
        out += [f"{header}: cites {key}, above"] if key in printed else [header, entry] if entry else \
            [f"{header}: no citation declared"]
        printed.add(key)
    return out
