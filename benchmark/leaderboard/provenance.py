"""The footer every table carries, built from the records alone (never from the clock or the checkout).

A reader traces each number to: how many records, which schema, transferbench and
torch versions, git commits, plugin versions, dataset fingerprints, when the records
were written, and how many runs failed or were skipped.
"""

from collections import Counter, defaultdict

SHORT_COMMIT = 12
SHORT_FINGERPRINT = 8


def _joined(values) -> str:
    return ", ".join(sorted({str(v) for v in values if v is not None})) or "unknown"


def _commit(commit: str | None, dirty: bool) -> str | None:
    return commit and commit[:SHORT_COMMIT] + (" (with uncommitted changes)" if dirty else "")


def fingerprints(seen: set) -> tuple[list[str], list[str]]:
    """One line per pair with its datasets' short fingerprints, from {(pair, ((role, fingerprint), ...))};
    a warning where a role's data differ between records."""
    by_pair = defaultdict(lambda: defaultdict(set))
    for pair, roles in seen:
        for role, value in roles:
            if value is not None:  # e.g. no source: the pair starts from a model
                by_pair[pair][role].add(value[:SHORT_FINGERPRINT])
    lines, warnings = [], []
    for pair in sorted(by_pair):
        roles = by_pair[pair]
        lines.append(f"{pair}: " + ", ".join(f"{role} {'/'.join(sorted(roles[role]))}" for role in sorted(roles)))
        warnings += [f"pair '{pair}': the {role} data differ between records (fingerprints {', '.join(sorted(fps))}); "
                     f"records on each are separate rows (data version 1, 2, ...), never averaged" for role, fps in sorted(roles.items()) if len(fps) > 1]
    return lines, warnings


def footer(cells) -> tuple[dict, list[str]]:
    """The footer as {label: text} in display order, and warnings where a pair's data changed."""
    status, suites, schemas, versions, commits, data, dates = Counter(), set(), set(), set(), set(), set(), set()
    models = set()
    for record in cells.used:  # one pass: a results file can hold 100,000 records
        status[record["status"]] += 1
        suites.add((record.get("suite"), record.get("protocol")))
        schemas.add(record.get("schema"))
        found = record.get("versions") or {}
        versions.add((found.get("transferbench"), found.get("torch")))
        git = record.get("git") or {}
        commits.add((git.get("commit"), bool(git.get("dirty"))))
        data.add((record["pair"], tuple((record.get("fingerprints") or {}).items())))
        dates.add(record.get("finished_at"))
        model = record.get("model") or {}
        if model.get("key"):
            models.add((model["key"], model.get("sha256") or "no checkpoint", model.get("library"),
                        model.get("library_version")))
    dates.discard(None)
    data_lines, data_warnings = fingerprints(data)
    plugins = sorted({f"{v.strategy} ({v.dist} {v.version})" for v in cells.variants.values()})
    return {
        "suite": _joined(suite for suite, _ in suites),
        "protocol": _joined(protocol for _, protocol in suites),
        "records": f"{len(cells.used)} runs rendered, the latest record of each ({cells.superseded} older "
                   f"record{'s' if cells.superseded != 1 else ''} of the same runs superseded, e.g. failures rerun)",
        "status": f"{status['ok']} ok, {status['failed']} failed, {status['skipped']} skipped",
        **({"models": "; ".join(f"{key} (sha256 {sha[:16]}, {library} {version})"
                                for key, sha, library, version in sorted(models))} if models else {}),
        "schema": _joined(schemas),
        "transferbench": _joined(v[0] for v in versions),
        "git commit": _joined(_commit(*c) for c in commits),
        "torch": _joined(v[1] for v in versions),
        "plugins": "; ".join(plugins),
        "datasets": "; ".join(data_lines) or "unknown",
        "records dated": f"{min(dates)} to {max(dates)}" if dates else "unknown",
    }, data_warnings
