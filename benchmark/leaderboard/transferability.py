"""The transferability section: how well each estimator's scores rank the models by the transfer measured.

    estimate records (status "estimate")          ok records of the --against strategy (finetune)
        score[estimator, pair, budget, seed]          accuracy[pair, budget, seed]
                      \\ per target (pairs sharing a target: one candidate model or source each) and budget /
        weighted Kendall tau (scipy.stats.weightedtau, as TLlib's model-selection benchmark) and Spearman
        between the seed-mean scores and seed-mean accuracies over the candidates, with a 95% percentile
        bootstrap CI over seeds (seeds resampled with replacement, both means recomputed);
        top-1 regret: best accuracy - accuracy of the estimator's favourite (points);
        cost: the estimator's mean wall seconds / the strategy's mean cell wall seconds on those pairs.

Written beside the leaderboard as transferability.{md,tex,csv,html} (the plots: ``transferability_plot``),
only where estimate records exist.
A pure function of the records, like every leaderboard file.
"""

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
from scipy import stats

from benchmark.leaderboard.collect import budget_order

BOOTSTRAP = 2000      # resamples of the seeds
BOOTSTRAP_SEED = 0    # the same records give the same intervals
MIN_MODELS = 3        # below three candidates a rank correlation is +-1 by construction
FILE = "transferability"


@dataclass(frozen=True)
class Row:
    target: str
    budget: str
    estimator: str
    models: int            # candidates with both a score and an accuracy
    seeds: int
    tau: float | None      # weighted Kendall tau of seed means; None: fewer than MIN_MODELS or constant
    tau_ci: tuple | None   # (low, high), 95% bootstrap over seeds; None: one seed
    rho: float | None      # Spearman
    rho_ci: tuple | None
    regret: float | None   # accuracy points lost by the estimator's top-1 pick
    regret_ci: tuple | None
    cost: float | None     # estimator seconds / the strategy's cell seconds


def target_of(record: dict) -> str:
    """A target's label: what its records say of the labelled pool and test split (pairs share it by content)."""
    target = record.get("target") or {}
    parts = [target.get("provider", "?"), target.get("name") or "", target.get("split") or ""]
    classes = target.get("classes")
    options = ", ".join(f"{key}={json.dumps(value, separators=(',', ':'))}"
                        for key, value in sorted((target.get("options") or {}).items()))
    return " ".join(p for p in parts if p) + (f" classes {classes}" if classes else "") + (f" ({options})" if options else "")


def estimator_label(record: dict, options_by_name: dict) -> str:
    """The estimator's name, with the options that differ between its records (``hscore (shrinkage=true)``)."""
    name, params = record["strategy"], record.get("hparams") or {}
    differing = sorted(k for k in params if len(options_by_name[name].get(k, ())) > 1)
    return name if not differing else f"{name} ({', '.join(f'{k}={json.dumps(params[k])}' for k in differing)})"


def gather(all_records: list[dict], against: str, metric: str):
    """(scores {(estimator, target, budget): {pair: {seed: score}}}, accuracy {(target, budget): {pair: {seed: acc}}},
    seconds {(estimator, target, budget): [s]}, strategy seconds {(target, budget): [s]}); latest record wins."""
    options = defaultdict(lambda: defaultdict(set))
    for record in all_records:
        if record.get("status") == "estimate":
            for key, value in (record.get("hparams") or {}).items():
                options[record["strategy"]][key].add(json.dumps(value))
    scores, accuracy = defaultdict(lambda: defaultdict(dict)), defaultdict(lambda: defaultdict(dict))
    seconds, strategy_s = defaultdict(dict), defaultdict(dict)
    for record in all_records:
        target, budget, seed, pair = target_of(record), str(record["budget"]), record["seed"], record["pair"]
        if record.get("status") == "estimate" and record.get("metrics"):
            label = estimator_label(record, options)
            scores[(label, target, budget)][pair][seed] = float(record["metrics"]["score"]["mean"])
            seconds[(label, target, budget)][(pair, seed)] = float(record["wall_s"])
        elif record.get("status") == "ok" and record["strategy"] == against and metric in (record.get("metrics") or {}):
            accuracy[(target, budget)][pair][seed] = float(record["metrics"][metric]["mean"])
            strategy_s[(target, budget)][(pair, seed)] = float(record["wall_s"])
    return scores, accuracy, seconds, strategy_s


def statistics(score: np.ndarray, acc: np.ndarray) -> tuple[float | None, float | None, float]:
    """(weighted tau, Spearman, top-1 regret) of score [M] and accuracy [M] over M candidates."""
    regret = float(acc.max() - acc[int(np.argmax(score))])
    if len(score) < MIN_MODELS or np.ptp(score) == 0 or np.ptp(acc) == 0:
        return None, None, regret
    return float(stats.weightedtau(score, acc).statistic), float(stats.spearmanr(score, acc).statistic), regret


def interval(values: list) -> tuple | None:
    finite = np.array([v for v in values if v is not None and np.isfinite(v)])
    if len(finite) < len(values) * 0.9 or not len(finite):  # most resamples undefined: no honest interval
        return None
    return float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))


def row(label: str, target: str, budget: str, by_pair: dict, accuracy: dict, cost: float | None) -> Row | None:
    """One estimator on one target and budget, over the candidates and seeds both sides recorded."""
    pairs = sorted(p for p in by_pair if p in accuracy)
    seeds = sorted(set.intersection(*(set(by_pair[p]) & set(accuracy[p]) for p in pairs))) if pairs else []
    if not pairs or not seeds:
        return None
    S = np.array([[by_pair[p][s] for s in seeds] for p in pairs])   # [M, seeds]
    A = np.array([[accuracy[p][s] for s in seeds] for p in pairs])  # [M, seeds]
    tau, rho, regret = statistics(S.mean(axis=1), A.mean(axis=1))
    cis = (None, None, None)
    if len(seeds) > 1:
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        drawn = [statistics(S[:, pick].mean(axis=1), A[:, pick].mean(axis=1))
                 for pick in rng.integers(0, len(seeds), size=(BOOTSTRAP, len(seeds)))]
        cis = tuple(interval([d[i] for d in drawn]) if point is not None else None
                    for i, point in enumerate((tau, rho, regret)))
    return Row(target, budget, label, len(pairs), len(seeds), tau, cis[0], rho, cis[1], regret, cis[2], cost)


def build(all_records: list[dict], against: str = "finetune", metric: str = "accuracy") -> list[Row]:
    """Every estimator × target × budget row; [] where no estimate record exists."""
    scores, accuracy, seconds, strategy_s = gather(all_records, against, metric)
    rows = []
    for (label, target, budget), by_pair in sorted(scores.items(),
                                                   key=lambda item: (item[0][1], budget_order(item[0][2]), item[0][0])):
        measured = accuracy.get((target, budget), {})
        spent = [s for (pair, _), s in strategy_s.get((target, budget), {}).items() if pair in by_pair]
        cost = float(np.mean(list(seconds[(label, target, budget)].values())) / np.mean(spent)) \
            if spent and np.mean(spent) > 0 else None
        found = row(label, target, budget, by_pair, measured, cost)
        if found is not None:
            rows.append(found)
    return rows


def shown(value: float | None, ci: tuple | None = None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" + (f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else "")


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.3g}%"


HEADER = ["target", "budget", "estimator", "models", "seeds", "weighted τ [95% CI]", "Spearman ρ [95% CI]",
          "top-1 regret (points)", "cost / cell"]


def cells(r: Row) -> list[str]:
    return [r.target, r.budget, r.estimator, str(r.models), str(r.seeds), shown(r.tau, r.tau_ci),
            shown(r.rho, r.rho_ci), shown(None if r.regret is None else 100 * r.regret,
                                          None if r.regret_ci is None else tuple(100 * v for v in r.regret_ci), 1),
            percent(r.cost)]


def caption(against: str, metric: str) -> str:
    return (f"Rank correlation between each estimator's scores and the {metric} {against} reached, over the "
            f"models (pairs) of each target; 95% percentile bootstrap over seeds. Top-1 regret: {metric} lost by "
            f"starting from the estimator's favourite instead of the best model. Cost: the estimator's seconds "
            f"as a fraction of one {against} cell's. n/a: fewer than {MIN_MODELS} models, or constant scores.")


def render(sections: list[tuple[str, list[Row]]], fmt: str, metric: str) -> str:
    """md, tex, csv or html of ``sections``: (the strategy ranked against, its rows), one table each."""
    if fmt == "md":
        lines = []
        for against, rows in sections:
            lines += [f"# Which model should I start from? (against {against})", "", caption(against, metric), "",
                      "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
            lines += ["| " + " | ".join(cells(r)) + " |" for r in rows] + [""]
        return "\n".join(lines)
    if fmt == "tex":
        def tex(text: str) -> str:
            return text.replace("\\", "\\textbackslash{}").replace("%", "\\%").replace("_", "\\_") \
                .replace("&", "\\&").replace("#", "\\#").replace("τ", "$\\tau_w$").replace("ρ", "$\\rho$")
        out = []
        for against, rows in sections:
            body = [" & ".join(tex(c) for c in cells(r)) + " \\\\" for r in rows]
            out += ["\\begin{table}", "\\centering", f"\\caption{{{tex(caption(against, metric))}}}",
                    "\\begin{tabular}{lllrrllll}", "\\toprule", " & ".join(tex(h) for h in HEADER) + " \\\\",
                    "\\midrule", *body, "\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
        return "\n".join(out)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["target", "budget", "estimator", "against", "models", "seeds", "weighted_tau", "tau_low",
                         "tau_high", "spearman", "spearman_low", "spearman_high", "top1_regret", "regret_low",
                         "regret_high", "cost_fraction"])
        for against, rows in sections:
            for r in rows:
                writer.writerow([r.target, r.budget, r.estimator, against, r.models, r.seeds,
                                 *[("" if v is None else f"{v:.6g}") for v in
                                   (r.tau, *(r.tau_ci or (None, None)), r.rho, *(r.rho_ci or (None, None)),
                                    r.regret, *(r.regret_ci or (None, None)), r.cost)]])
        return out.getvalue()
    if fmt == "html":
        head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
        tables = ""
        for against, rows in sections:
            body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells(r)) + "</tr>\n" for r in rows)
            tables += (f"<h1>Which model should I start from? (against {escape(against)})</h1>\n"
                       f"<p>{escape(caption(against, metric))}</p>\n<table>\n<tr>{head}</tr>\n{body}</table>\n")
        return (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>transferability</title></head><body>\n"
                f"{tables}</body></html>\n")
    raise ValueError(f"unknown format '{fmt}'")


def write(all_records: list[dict], out_dir: Path, formats, against: str = "finetune",
          metric: str = "accuracy") -> tuple[list[Path], list[str]]:
    """transferability.FMT for each of md, tex, csv, html in ``formats``, a table per strategy of ``against``
    (comma-separated: "finetune,frozen-feature"); ([], []) without estimate records. The warnings say
    when no ok record of one of them exists to compare with."""
    if not any(r.get("status") == "estimate" for r in all_records):
        return [], []
    names = [name.strip() for name in against.split(",") if name.strip()]
    warnings = [f"transferability: no ok record of strategy '{name}' to compare the estimates with; choose "
                f"another with --against" for name in names
                if not any(r.get("status") == "ok" and r.get("strategy") == name for r in all_records)]
    sections = [(name, build(all_records, name, metric)) for name in names]
    written = []
    for fmt in (f for f in formats if f in ("md", "tex", "csv", "html")):
        path = Path(out_dir) / f"{FILE}.{fmt}"
        path.write_text(render(sections, fmt, metric), encoding="utf-8")
        written.append(path)
    return written, warnings
