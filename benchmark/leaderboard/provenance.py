"""The footer every table carries, built from the records alone (never from the clock or the checkout).

A reader traces each number to: how many records, which schema, transferbench and
torch versions, git commits, plugin versions, dataset fingerprints, the licences of what
was used (``benchmark.leaderboard.licences``), when the records were written, how many runs
failed or were skipped, and what strategies reported about their own pretraining
(``ctx.report``, e.g. the episodes a wall-clock budget allowed).
"""

import json
from collections import Counter, defaultdict

from benchmark.leaderboard.licences import listed, of_records

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


def _fact_range(values: list) -> str:
    """'546–2106' for numbers (bools and strings: their distinct values), the one value when all agree."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if numbers and len(numbers) == len(values):
        low, high = min(numbers), max(numbers)
        return f"{low:g}" if low == high else f"{low:g}–{high:g}"
    return "/".join(sorted({json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v for v in values}))


def reported_facts(used: list[dict]) -> str:
    """What strategies reported about their own pretraining (``ctx.report``), once per pretrained
    state: 'protonet: episodes_run 546–2106, final_loss 0.31–0.45 (4 pretrained states)'; '' when none."""
    by_strategy = defaultdict(dict)  # strategy -> {state id: facts}
    for record in used:
        facts = record.get("reported")
        if facts:
            state = (record.get("cost") or {}).get("pretrain_id") or id(record)
            by_strategy[record["strategy"]][state] = facts
    parts = []
    for strategy in sorted(by_strategy):
        states = by_strategy[strategy]
        names = sorted({name for facts in states.values() for name in facts})
        shown = ", ".join(f"{name} {_fact_range([f[name] for f in states.values() if name in f])}" for name in names)
        parts.append(f"{strategy}: {shown} ({len(states)} pretrained state{'s' if len(states) != 1 else ''})")
    return "; ".join(parts)


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
        **({"reported by strategies": facts} if (facts := reported_facts(cells.used)) else {}),
        "datasets": "; ".join(data_lines) or "unknown",
        **({"licences": listed(stated)} if (stated := of_records(cells.used)) else {}),
        "records dated": f"{min(dates)} to {max(dates)}" if dates else "unknown",
    }, data_warnings
