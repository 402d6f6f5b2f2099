"""transfer_matrix.{md,tex,csv}: a starting point x target matrix of the gain over training from scratch.

In the manner of Taskonomy's transfer matrix (Zamir et al. 2018), from any suite whose pairs share a
target: a row per starting point (a source split, a checkpoint), a column per target, per budget:

    gain[row, target, budget] = mean over seeds of (accuracy of --against from that start
                                                    - accuracy from scratch, the same seed)

"From scratch" is the same architecture trained on the target's support alone: the ``target-only``
record of the same pair where the suite ran it, else the --against strategy's record on the pair of
the same target whose model is that architecture from random initialisation (a model zoo's random
candidates; a record's model has no checkpoint). The 95% CI is Student's t over the seeds' paired
differences; "▼" marks negative transfer (the whole CI below 0), "▲" a gain whose CI excludes 0.
A pure function of the records; written only where some target has two starting points or more.
"""

import csv
import io
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

from benchmark.leaderboard.collect import budget_order
from benchmark.leaderboard.transferability import target_of

FILE = "transfer_matrix"
BASELINE = "target-only"


def architecture(record: dict) -> tuple | None:
    """(provider, name) of the network a record's model builds; None without a [model]."""
    model = record.get("model")
    if not model:
        return None
    built = model.get("architecture") or {}
    return built.get("provider", model.get("provider")), built.get("name", model.get("name"))


def from_scratch(record: dict) -> bool:
    """A model with no checkpoint read is a random initialisation (records since issue 25 say so)."""
    return bool(record.get("model")) and not record["model"].get("checkpoint")


def start_of(record: dict) -> str:
    """The row: the source split (and the model it trained), else the checkpoint the pair starts from."""
    source, model = record.get("source"), record.get("model") or {}
    if source:
        label = " ".join(str(source.get(k)) for k in ("provider", "name", "split") if source.get(k))
        return label + (f" from {model['name']}" if model.get("name") else "")
    return str(model.get("name") or record["pair"])


def gains(all_records: list[dict], against: str, metric: str) -> dict:
    """{(budget, start, target): [paired differences over seeds]}; the latest record of a cell wins."""
    measured, scratch = {}, {}
    for record in all_records:
        if record.get("status") != "ok" or metric not in (record.get("metrics") or {}):
            continue
        value = float(record["metrics"][metric]["mean"])
        target, budget, seed = target_of(record), str(record["budget"]), record["seed"]
        if record["strategy"] == BASELINE:
            scratch[("pair", record["pair"], budget, seed)] = value
        elif record["strategy"] == against:
            if from_scratch(record):
                scratch[("architecture", architecture(record), target, budget, seed)] = value
            else:
                measured[(record["pair"], budget, seed)] = (record, value)
    found = defaultdict(list)
    for (pair, budget, seed), (record, value) in sorted(measured.items(), key=lambda item: str(item[0])):
        base = scratch.get(("pair", pair, budget, seed),
                           scratch.get(("architecture", architecture(record), target_of(record), budget, seed)))
        if base is not None:
            found[(budget, start_of(record), target_of(record))].append(value - base)
    return found


def matrix(all_records: list[dict], against: str = "finetune", metric: str = "accuracy") -> dict:
    """{budget: {(start, target): (mean gain, (low, high) or None, seeds)}}, only budgets where some
    target has two starting points or more."""
    by_budget = defaultdict(dict)
    for (budget, start, target), differences in gains(all_records, against, metric).items():
        d = np.array(differences)
        ci = None
        if len(d) > 1:
            half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
            ci = (float(d.mean() - half), float(d.mean() + half))
        by_budget[budget][(start, target)] = (float(d.mean()), ci, len(d))
    shared = {}
    for budget, cells in by_budget.items():
        per_target = defaultdict(int)
        for _, target in cells:
            per_target[target] += 1
        if max(per_target.values()) >= 2:
            shared[budget] = cells
    return shared


def shown(cell) -> str:
    if cell is None:
        return ""
    mean, ci, _ = cell
    mark = "" if ci is None else " ▼" if ci[1] < 0 else " ▲" if ci[0] > 0 else ""
    return f"{100 * mean:+.1f}" + (f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]" if ci else "") + mark


def caption(against: str, metric: str) -> str:
    return (f"Gain in {metric} points of {against} from each starting point (row) over the same architecture "
            f"trained from scratch on the target's support ({BASELINE}, or the suite's random initialisation of "
            f"it), mean over seeds [95% t-interval of the paired differences]. ▼ negative transfer: the whole "
            f"interval below 0; ▲ the whole interval above 0; unmarked: no evidence either way.")


def render(found: dict, fmt: str, against: str, metric: str) -> str:
    sections = []
    for budget, cells in sorted(found.items(), key=lambda item: budget_order(item[0])):
        starts = sorted({s for s, _ in cells})
        targets = sorted({t for _, t in cells})
        rows = [[start, *(shown(cells.get((start, t))) for t in targets)] for start in starts]
        sections.append((budget, ["start \\ target", *targets], rows))
    if fmt == "md":
        out = [f"# Transfer matrix (against {against})", "", caption(against, metric)]
        for budget, header, rows in sections:
            out += ["", f"## budget {budget}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["budget", "start", "target", "against", "gain", "low", "high", "seeds"])
        for budget, cells in sorted(found.items(), key=lambda item: budget_order(item[0])):
            for (start, target), (mean, ci, seeds) in sorted(cells.items()):
                writer.writerow([budget, start, target, against, f"{mean:.6g}",
                                 *(("", "") if ci is None else (f"{ci[0]:.6g}", f"{ci[1]:.6g}")), seeds])
        return out.getvalue()
    if fmt == "tex":
        def tex(text: str) -> str:
            return (text.replace("\\", "\\textbackslash{}").replace("%", "\\%").replace("_", "\\_")
                    .replace("&", "\\&").replace("#", "\\#").replace("▼", "$\\blacktriangledown$")
                    .replace("▲", "$\\blacktriangle$").replace("→", "$\\to$"))
        out = []
        for budget, header, rows in sections:
            out += ["\\begin{table}", "\\centering", f"\\caption{{{tex(caption(against, metric))} Budget {budget}.}}",
                    "\\begin{tabular}{l" + "r" * (len(header) - 1) + "}", "\\toprule",
                    " & ".join(tex(h) for h in header) + " \\\\", "\\midrule",
                    *(" & ".join(tex(c) for c in r) + " \\\\" for r in rows), "\\bottomrule", "\\end{tabular}",
                    "\\end{table}", ""]
        return "\n".join(out)
    raise ValueError(f"unknown format '{fmt}'")


def write(all_records: list[dict], out_dir: Path, formats, against: str = "finetune",
          metric: str = "accuracy") -> list[Path]:
    """transfer_matrix.FMT for md, tex and csv in ``formats``; [] where no target has two starting points."""
    found = matrix(all_records, against, metric)
    if not found:
        return []
    written = []
    for fmt in (f for f in formats if f in ("md", "tex", "csv")):
        path = Path(out_dir) / f"{FILE}.{fmt}"
        path.write_text(render(found, fmt, against, metric), encoding="utf-8")
        written.append(path)
    return written
