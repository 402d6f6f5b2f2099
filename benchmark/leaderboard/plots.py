"""PNG plots (matplotlib, Agg, no pyplot state): a gain heat map and accuracy-vs-budget curves.

Laid out for a paper at the size written: matplotlib's constrained layout places panels, colour
bar, title and legend (outside the axes, under the panels, never over the title); the title and
the footer are wrapped at word breaks to the figure's width, measured with the Agg renderer, and
the footer gets a strip of its own under the plots. So no text covers another or leaves the
canvas (``tests/test_plot_layout.py`` measures every text's box in the written figures).

In the heat map only a gain whose 95% CI excludes 0 is coloured; a gain whose CI includes 0, or
that has no CI (one paired run), is hatched grey with its number in grey: a wide CI (±100 points
on three seeds is common) says nothing about the sign. The footer says so.

Saved without the "Software" PNG text chunk, so the same records give byte-identical files.
"""

import math
import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

from benchmark.leaderboard import wording as text
from benchmark.leaderboard.summary import Board, Entry

DPI = 110
MAX_PANEL_COLUMNS = 4  # accuracy-vs-budget panels per row
PNG_METADATA = {"Software": None}  # matplotlib would write its version; nothing here may vary per run
MARGIN = 0.08          # inch between wrapped text and the canvas's edge
FOOTER_KEYS = ("status", "git commit", "records dated")  # provenance shown under a plot (the rest is in the tables)
UNCLEAR = {"facecolor": "#ececec", "edgecolor": "#b4b4b4", "hatch": "////", "linewidth": 0}  # a CI that includes 0
LABEL_WIDTH = 3.2      # inch: a heat map's row labels (variant names with model keys) wrap at this width
PIECES = re.compile(r"[^\s\-_/:,=]*[\-_/:,=]+|\S+|\s+")  # the text between break opportunities, in order
UNCLEAR_NOTE = ("Coloured: the gain's 95% CI excludes 0. Hatched grey: its CI includes 0, or it has no CI "
                "(one paired run): no evidence of a gain or a loss.")


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure of ``width`` x ``height`` inches at the written DPI, with an Agg
    canvas (``figure.canvas.get_renderer()``) to measure text on before it is drawn."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def wrapped(line_width, text: str, room: float) -> str:
    """``text`` broken into lines no wider than ``room`` (as ``line_width`` measures a string): at spaces,
    else after - _ / : , = (model keys are long words), else, for a longer piece, between characters."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for piece in PIECES.findall(paragraph):
            if not line or line_width((line + piece).rstrip()) <= room:
                line += piece
                continue
            lines.append(line.rstrip())
            line = piece.lstrip()
            while line_width(line) > room and len(line) > 1:  # one piece wider than the room: cut it
                cut = max(i for i in range(1, len(line) + 1) if i == 1 or line_width(line[:i]) <= room)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return "\n".join(lines)


def measurer(figure: Figure, fontproperties):
    """line -> its width in pixels in ``fontproperties`` at the figure's DPI (the Agg renderer's metrics)."""
    renderer = figure.canvas.get_renderer()
    return lambda line: renderer.get_text_width_height_descent(line, fontproperties, ismath=False)[0]


def wrap(figure: Figure, artist, room: float | None = None) -> None:
    """Break ``artist``'s text so that every line fits ``room`` pixels (default: the figure's width less
    two margins)."""
    room = room or figure.bbox.width - 2 * MARGIN * figure.dpi
    artist.set_text(wrapped(measurer(figure, artist.get_fontproperties()), artist.get_text(), room))


def add_title(figure: Figure, title: str) -> None:
    wrap(figure, figure.suptitle(title, fontsize=10))


def add_footer(figure: Figure, footer: dict, note: str = "", legend=None) -> None:
    """``note`` and the provenance in small print at the bottom, and ``legend`` (if any) on top of
    them: the figure grows by their height, and the constrained layout keeps that strip free."""
    renderer = figure.canvas.get_renderer()
    provenance = " · ".join(f"{key}: {footer[key]}" for key in FOOTER_KEYS if key in footer)
    small = figure.text(MARGIN, MARGIN, "\n".join(part for part in (note, provenance) if part), fontsize=6.5,
                        color="#666", ha="left", va="bottom", transform=figure.dpi_scale_trans)  # inches
    wrap(figure, small)
    width, height = figure.get_size_inches()
    strip = small.get_window_extent(renderer).height / figure.dpi + 2 * MARGIN  # inches
    if legend is not None:  # its lower centre on the footer's top, in inches from the bottom left
        legend.set_bbox_to_anchor((width / 2, strip), transform=figure.dpi_scale_trans)
        strip += legend.get_window_extent(renderer).height / figure.dpi + MARGIN
    figure.set_size_inches(width, height + strip)
    figure.get_layout_engine().set(rect=(0, strip / (height + strip), 1, 1 - strip / (height + strip)))


def clear_gain(entry: Entry) -> bool:
    """The gain's CI lies wholly on one side of 0."""
    return entry.gain is not None and entry.gain.has_ci and (entry.gain.low > 0 or entry.gain.high < 0)


def heatmap_figure(board: Board) -> Figure | None:
    """Strategy × pair heat map of the gain over target-only, one panel per budget; None without a baseline."""
    tables = [t for t in board.tables if text.gain_rows(board, t)]
    if not board.baseline or not tables:
        return None
    entries = [[[t.entries.get((v, p)) for p in t.pairs] for v in text.gain_rows(board, t)] for t in tables]
    # [panel][row][column] gain in points; NaN where there is none or its CI includes 0 (drawn hatched)
    gains = [[[e.gain.mean * 100 if e is not None and clear_gain(e) else math.nan for e in row] for row in panel]
             for panel in entries]
    finite = [abs(g) for panel in gains for row in panel for g in row if not math.isnan(g)]
    limit = max(finite, default=1.0) or 1.0
    widest = max(len(t.pairs) for t in tables)
    rows_total = sum(len(text.gain_rows(board, t)) for t in tables)
    # one panel per budget, stacked, so the figure stays as wide as the pairs and the row labels need;
    # a long row label (a variant with its model's key) is wrapped, and rows grow to hold its lines
    figure = new_figure(1.0, 1.0)
    width_of = measurer(figure, FontProperties(size=8))
    labels = {v: wrapped(width_of, v, LABEL_WIDTH * DPI) for t in tables for v in text.gain_rows(board, t)}
    label_width = max(width_of(line) for label in labels.values() for line in label.split("\n")) / DPI  # inch
    row_height = max(0.45, 0.15 * max(label.count("\n") + 1 for label in labels.values()) + 0.1)  # inch
    figure.set_size_inches(max(3.2, label_width + 2.2) + 1.5 * widest,
                           1.0 + row_height * rows_total + 0.9 * len(tables))
    axes = figure.subplots(len(tables), 1, squeeze=False,
                           height_ratios=[len(text.gain_rows(board, t)) for t in tables])[:, 0]
    shared = all(t.pairs == tables[0].pairs for t in tables)  # then only the bottom panel names the pairs
    for ax, table, panel, cells in zip(axes, tables, gains, entries):
        rows = text.gain_rows(board, table)
        image = ax.imshow(np.array(panel, dtype=float), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
        for i, row in enumerate(cells):
            for j, e in enumerate(row):
                draw_gain_cell(ax, i, j, e, limit)
        ax.set_xticks(range(len(table.pairs)), table.pairs if ax is axes[-1] or not shared else [],
                      rotation=20, ha="right", fontsize=8)
        ax.set_yticks(range(len(rows)), [labels[row] for row in rows], fontsize=8)
        ax.set_title(text.budget_phrase(board, table.budget), fontsize=9)
    # the scale above the panels, where reading starts, whatever the number of rows below
    inch = 1 / figure.get_figheight()  # the colour bar's sizes are shares of the figure's height
    figure.colorbar(image, ax=list(axes), location="top", label=f"{board.metric} gain (points)", shrink=0.6,
                    aspect=30, fraction=0.3 * inch, pad=0.12 * inch)
    add_title(figure, f"{text.title(board)}: gain over {board.baseline} ({text.NEGATIVE} negative transfer)")
    unclear = any(e is not None and e.gain is not None and not clear_gain(e)
                  for panel in entries for row in panel for e in row)
    add_footer(figure, board.footer, UNCLEAR_NOTE if unclear else "")
    return figure


def draw_gain_cell(ax, i: int, j: int, entry: Entry | None, limit: float) -> None:
    """Cell (row i, column j): its gain and marks; hatched grey under them where the CI includes 0."""
    missing = text.no_value(entry, gain=True)
    if missing:
        ax.text(j, i, missing, ha="center", va="center", fontsize=8, color="#777", style="italic")
        return
    label = text.points(entry.gain.mean) + (f" {text.gain_marks(entry)}" if text.gain_marks(entry) else "")
    if not clear_gain(entry):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, **UNCLEAR))
        ax.text(j, i, label, ha="center", va="center", fontsize=9, color="#555",
                bbox={"facecolor": UNCLEAR["facecolor"], "edgecolor": "none", "pad": 1.5})  # legible over the hatch
        return
    strong = abs(entry.gain.mean * 100) > 0.6 * limit
    ax.text(j, i, label, ha="center", va="center", fontsize=9, color="white" if strong else "black",
            fontweight="bold" if entry.negative_transfer else "normal")


def gain_heatmap(board: Board, path: Path) -> Path | None:
    """``heatmap_figure`` written to ``path`` as PNG; None (nothing written) without a baseline."""
    figure = heatmap_figure(board)
    if figure is None:
        return None
    figure.savefig(path, dpi=DPI, metadata=PNG_METADATA)
    return path


def curves_figure(board: Board) -> Figure:
    """Mean ± 95% CI against budget, one panel per pair and one line per strategy variant."""
    budgets = [t.budget for t in board.tables]
    pairs = list(dict.fromkeys(p for t in board.tables for p in t.pairs))
    variants = list(dict.fromkeys(v for t in board.tables for v in t.rows))
    columns = min(len(pairs), MAX_PANEL_COLUMNS)
    rows = math.ceil(len(pairs) / columns)
    figure = new_figure(2.2 + 3.2 * columns, 0.6 + 3.0 * rows)
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
    legend = add_legend(figure, handles, labels)
    add_title(figure, f"{text.title(board)}: {board.metric} against budget")
    add_footer(figure, board.footer, legend=legend)
    return figure


def add_legend(figure: Figure, handles, labels):
    """One legend for every panel, with as many columns as fit the figure's width; ``add_footer``
    puts it under the panels (outside every axes, clear of the title). None without labels."""
    if not labels:
        return None
    renderer, room = figure.canvas.get_renderer(), figure.bbox.width - 2 * MARGIN * figure.dpi
    for columns in range(min(len(labels), 5), 0, -1):
        legend = figure.legend(handles, labels, loc="lower center", ncols=columns, fontsize=8, borderaxespad=0)
        if columns == 1 or legend.get_window_extent(renderer).width <= room:
            return legend
        legend.remove()


def budget_curves(board: Board, path: Path) -> Path:
    """``curves_figure`` written to ``path`` as PNG."""
    curves_figure(board).savefig(path, dpi=DPI, metadata=PNG_METADATA)
    return path
