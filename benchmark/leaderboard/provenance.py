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


def _commit(record: dict) -> str | None:
    git = record.get("git") or {}
    if not git.get("commit"):
        return None
    return git["commit"][:SHORT_COMMIT] + (" (with uncommitted changes)" if git.get("dirty") else "")


def fingerprints(used: list[dict]) -> tuple[list[str], list[str]]:
    """One line per pair with its datasets' short fingerprints; a warning where they differ between records."""
    seen = defaultdict(lambda: defaultdict(set))
    for record in used:
        for role, value in (record.get("fingerprints") or {}).items():
            seen[record["pair"]][role].add(value[:SHORT_FINGERPRINT])
    lines, warnings = [], []
    for pair, roles in seen.items():
        lines.append(f"{pair}: " + ", ".join(f"{role} {'/'.join(sorted(fps))}" for role, fps in roles.items()))
        for role, fps in roles.items():
            if len(fps) > 1:
                warnings.append(f"pair '{pair}': the {role} data differ between records (fingerprints "
                                f"{', '.join(sorted(fps))}); its rows mix results on different data")
    return lines, warnings


def footer(cells) -> tuple[dict, list[str]]:
    """The footer as {label: text} in display order, and warnings where a pair's data changed."""
    used = cells.used
    status = Counter(r["status"] for r in used)
    dates = sorted(r["finished_at"] for r in used if r.get("finished_at"))
    plugins = sorted({f"{r['strategy']} ({(r.get('plugin') or {}).get('dist', 'unknown')} "
                      f"{(r.get('plugin') or {}).get('version', 'unknown')})" for r in used})
    data_lines, data_warnings = fingerprints(used)
    return {
        "records": f"{len(used)} runs rendered (the latest record of each; {cells.superseded} older records "
                   f"superseded by reruns)",
        "status": f"{status['ok']} ok, {status['failed']} failed, {status['skipped']} skipped",
        "schema": _joined(r.get("schema") for r in used),
        "transferbench": _joined((r.get("versions") or {}).get("transferbench") for r in used),
        "git commit": _joined(_commit(r) for r in used),
        "torch": _joined((r.get("versions") or {}).get("torch") for r in used),
        "plugins": "; ".join(plugins),
        "datasets": "; ".join(data_lines) or "unknown",
        "records dated": f"{dates[0]} to {dates[-1]}" if dates else "unknown",
    }, data_warnings
