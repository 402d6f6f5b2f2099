"""PNG plots (matplotlib, Agg, no pyplot state): a gain heat map and accuracy-vs-budget curves.

Saved without the "Software" PNG text chunk, so the same records give byte-identical files.
"""

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from benchmark.leaderboard import wording as text
from benchmark.leaderboard.summary import Board

DPI = 110
MAX_PANEL_COLUMNS = 4  # accuracy-vs-budget panels per row
PNG_METADATA = {"Software": None}  # matplotlib would write its version; nothing here may vary per run


def _footer(figure: Figure, footer: dict) -> None:
    """Provenance in small print under the plot, in a strip the constrained layout leaves free."""
    line = " · ".join(f"{key}: {footer[key]}" for key in ("status", "git commit", "records dated"))
    strip = 0.3 / figure.get_figheight()  # 0.3 inch, whatever the figure's height
    figure.get_layout_engine().set(rect=(0, strip, 1, 1 - strip))
    figure.text(0.01, strip / 3, line, fontsize=6.5, color="#666", ha="left", va="bottom")


def gain_heatmap(board: Board, path: Path) -> Path | None:
    """Strategy × pair heat map of the gain over target-only, one panel per budget; None without a baseline."""
    tables = [t for t in board.tables if text.gain_rows(board, t)]
    if not board.baseline or not tables:
        return None
    gains = [[[t.entries[(v, p)].gain.mean * 100 if (v, p) in t.entries and t.entries[(v, p)].gain else math.nan
               for p in t.pairs] for v in text.gain_rows(board, t)] for t in tables]
    finite = [abs(g) for panel in gains for row in panel for g in row if not math.isnan(g)]
    limit = max(finite, default=1.0) or 1.0
    widest = max(len(t.pairs) for t in tables)
    rows_total = sum(len(text.gain_rows(board, t)) for t in tables)
    # one panel per budget, stacked, so the figure stays as wide as the pairs need
    figure = Figure(figsize=(3.2 + 1.5 * widest, 1.0 + 0.45 * rows_total + 0.9 * len(tables)), layout="constrained")
    axes = figure.subplots(len(tables), 1, squeeze=False,
                           height_ratios=[len(text.gain_rows(board, t)) for t in tables])[:, 0]
    for ax, table, panel in zip(axes, tables, gains):
        rows = text.gain_rows(board, table)
        image = ax.imshow(np.array(panel, dtype=float), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
        for i, variant in enumerate(rows):
            for j, pair in enumerate(table.pairs):
                e = table.entries.get((variant, pair))
                if text.no_value(e, gain=True):
                    ax.text(j, i, text.no_value(e, gain=True), ha="center", va="center", fontsize=8, color="#777",
                            style="italic")
                    continue
                label = text.points(e.gain.mean) + (f" {text.gain_marks(e)}" if text.gain_marks(e) else "")
                strong = abs(e.gain.mean * 100) > 0.6 * limit
                ax.text(j, i, label, ha="center", va="center", fontsize=9, color="white" if strong else "black",
                        fontweight="bold" if e.negative_transfer else "normal")
        shared = all(t.pairs == table.pairs for t in tables)  # then only the bottom panel names the pairs
        ax.set_xticks(range(len(table.pairs)), table.pairs if ax is axes[-1] or not shared else [],
                      rotation=20, ha="right", fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_title(text.budget_phrase(board, table.budget), fontsize=9)
    figure.colorbar(image, ax=list(axes), label=f"{board.metric} gain (points)", shrink=0.9)
    figure.suptitle(f"{text.title(board)}: gain over {board.baseline} ({text.NEGATIVE} negative transfer)",
                    fontsize=10)
    _footer(figure, board.footer)
    figure.savefig(path, dpi=DPI, metadata=PNG_METADATA)
    return path


def budget_curves(board: Board, path: Path) -> Path:
    """Mean ± 95% CI against budget, one panel per pair and one line per strategy variant."""
    budgets = [t.budget for t in board.tables]
    pairs = list(dict.fromkeys(p for t in board.tables for p in t.pairs))
    variants = list(dict.fromkeys(v for t in board.tables for v in t.rows))
    columns = min(len(pairs), MAX_PANEL_COLUMNS)
    rows = math.ceil(len(pairs) / columns)
    figure = Figure(figsize=(2.2 + 3.2 * columns, 0.6 + 3.0 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False, sharey=True).flatten()
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    for ax, pair in zip(axes, pairs):
        for index, variant in enumerate(variants):
            xs, means, errors = [], [], []
            for x, table in enumerate(board.tables):
                e = table.entries.get((variant, pair))
                if e is not None and e.score is not None:
                    xs.append(x)
                    means.append(100 * e.score.mean)
                    errors.append(100 * (e.score.high - e.score.mean) if e.score.has_ci else 0.0)
            if xs:
                dodge = 0.04 * (index - (len(variants) - 1) / 2)  # side by side, so error bars do not overlap
                ax.errorbar([x + dodge for x in xs], means, yerr=errors, marker="o", markersize=4, capsize=3, linewidth=1.2,
                            label=variant, color=f"C{index % 10}")  # one colour per variant in every panel
        ax.set_xticks(range(len(budgets)), budgets)
        ax.set_xlabel("shots per class" if "episodic" in board.protocol else "labelled target examples per class")
        ax.set_title(pair, fontsize=9)
        ax.grid(alpha=0.3)
    low, high = axes[0].get_ylim()  # shared by every panel
    axes[0].set_ylim(max(low, -2.0), min(high, 102.0))  # a t interval on 2 seeds can pass 0 or 100: show the range
    for ax in axes[::columns]:
        ax.set_ylabel(f"{board.metric} (%), mean ± 95% CI")
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:len(pairs)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="outside right upper", fontsize=8)
    figure.suptitle(f"{text.title(board)}: {board.metric} against budget", fontsize=10)
    _footer(figure, board.footer)
    figure.savefig(path, dpi=DPI, metadata=PNG_METADATA)
    return path
