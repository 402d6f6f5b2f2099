"""Issue 26.8: the leaderboard's PNGs are usable in a paper as written.

Every text of a written figure (title, footer, panel titles, axis labels, tick labels, cell numbers,
legend, colour bar) is measured with the Agg renderer at the written size and DPI: none may cover
another or leave the canvas. Checked on every published results folder's records and on synthetic
boards built to stress the layout (a long suite name, many long variant names, one pair). In the
gain heat map a gain whose CI includes 0 is drawn hatched grey, not in a strong colour.
"""

import itertools
from pathlib import Path

import pytest
from matplotlib.patches import Rectangle

from benchmark.leaderboard import load, write_leaderboard
from benchmark.leaderboard.plots import UNCLEAR, UNCLEAR_NOTE, curves_figure, heatmap_figure
from benchmark.leaderboard.summary import build
from benchmark.leaderboard.synthetic import record, write

REPO = Path(__file__).resolve().parent.parent
PUBLISHED = sorted(p.parent for p in (REPO / "results").glob("*/records.jsonl"))
SLACK = 0.5  # pixels: boxes that only touch do not overlap


def drawn_ticklabels(ax) -> list:
    """The tick labels drawn: a locator may place ticks beyond the axis's limits, which are not drawn."""
    drawn = []
    for locations, labels, limits in ((ax.get_xticks(), ax.get_xticklabels(), ax.get_xlim()),
                                      (ax.get_yticks(), ax.get_yticklabels(), ax.get_ylim())):
        low, high = sorted(limits)
        drawn += [label for at, label in zip(locations, labels) if low - 1e-9 <= at <= high + 1e-9]
    return drawn


def text_boxes(figure) -> list[tuple[str, object, object]]:
    """(what, box in pixels, owner) for every visible, non-empty text and every legend of the drawn figure
    (figure texts: title and footer; each visible axes' title, labels, drawn tick labels and cell texts);
    a legend's own texts are inside its box, so the box stands for them."""
    renderer = figure.canvas.get_renderer()
    found = [(t.get_text(), t.get_window_extent(renderer), None) for t in figure.texts
             if t.get_visible() and t.get_text().strip()]
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts, *drawn_ticklabels(ax)]
        found += [(t.get_text(), t.get_window_extent(renderer), ax) for t in texts
                  if t.get_visible() and t.get_text().strip()]
        if ax.get_legend() is not None:
            found.append(("legend", ax.get_legend().get_window_extent(renderer), ax.get_legend()))
    found += [("legend", legend.get_window_extent(renderer), legend) for legend in figure.legends]
    return found


def layout_faults(figure) -> list[str]:
    """What leaves the canvas or overlaps, in words; [] when the layout is clean."""
    figure.canvas.draw()
    canvas = figure.bbox
    boxes = text_boxes(figure)
    faults = [f"'{what}' leaves the canvas ({box.bounds} in {canvas.bounds})" for what, box, _ in boxes
              if box.x0 < -SLACK or box.y0 < -SLACK or box.x1 > canvas.x1 + SLACK or box.y1 > canvas.y1 + SLACK]
    for (a, box_a, owner_a), (b, box_b, owner_b) in itertools.combinations(boxes, 2):
        if min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0) > SLACK and \
                min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0) > SLACK:
            faults.append(f"'{a}' overlaps '{b}'")
    return faults


@pytest.mark.parametrize("folder", PUBLISHED, ids=[p.name for p in PUBLISHED])
def test_published_leaderboards_lay_out_every_text_clear_of_every_other_and_of_the_edges(folder):
    board = load(folder)
    for figure in (heatmap_figure(board), curves_figure(board)):
        if figure is not None:
            assert layout_faults(figure) == []


def noisy_records(suite="synthetic", variants=("finetune", "frozen-feature"), pairs=("a→b", "c→d")) -> list:
    """Three seeds per cell: target-only near 0.5; a clear gain of ~30 points (tight CI) for the first
    variant, a gain of ~0 with a CI of tens of points for every other."""
    made = []
    for pair, seed in itertools.product(pairs, range(3)):
        made.append(record("target-only", pair, seed, value=0.5 + 0.01 * seed, suite=suite))
        for index, variant in enumerate(variants):
            value = 0.8 + 0.01 * seed if index == 0 else (0.2, 0.9, 0.45)[seed]
            made.append(record(variant, pair, seed, value=value, suite=suite))
    return made


@pytest.mark.parametrize("case", ["plain", "long names", "one pair"])
def test_stressed_layouts_stay_clear(case):
    kinds = {"plain": {},
             "long names": {"suite": "a-suite-with-a-rather-long-name-that-a-paper-would-shorten-" * 2,
                            "variants": tuple(f"strategy-with-a-long-name-{i}:lr=0.001,steps=300" for i in range(9))},
             "one pair": {"pairs": ("imagenet→elpv",), "variants": tuple(f"variant-{i}" for i in range(8))}}
    board = build(noisy_records(**kinds[case]))
    for figure in (heatmap_figure(board), curves_figure(board)):
        assert layout_faults(figure) == []


def test_the_legend_is_outside_every_panel_and_below_the_title():
    figure = curves_figure(build(noisy_records()))
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    (legend,) = figure.legends
    box = legend.get_window_extent(renderer)
    title = next(t for t in figure.texts if t.get_text().startswith("transferbench leaderboard"))
    assert box.y1 < title.get_window_extent(renderer).y0
    assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in figure.axes if ax.get_visible())


def test_a_gain_whose_ci_includes_0_is_hatched_grey_and_the_footer_says_so():
    board = build(noisy_records())
    figure = heatmap_figure(board)
    figure.canvas.draw()
    ax = figure.axes[0]
    rows = [label.get_text() for label in ax.get_yticklabels()]
    hatched = {(round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in ax.patches
               if isinstance(p, Rectangle) and p.get_hatch() == UNCLEAR["hatch"]}
    noisy, clear = rows.index("frozen-feature"), rows.index("finetune")
    assert hatched == {(noisy, 0), (noisy, 1)}  # both pairs of the noisy variant, none of the clear one
    entry = board.tables[0].entries[("frozen-feature", "a→b")]
    assert entry.gain.low < 0 < entry.gain.high
    # the image shows no colour under a hatched cell (NaN: masked), and the clear gain's colour
    shown = ax.images[0].get_array()
    assert shown.mask[noisy, 0] and not shown.mask[clear, 0] and shown[clear, 0] == pytest.approx(30, abs=2)
    cell_texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert cell_texts[(noisy, 0)].get_color() == "#555" and cell_texts[(clear, 0)].get_color() != "#555"
    footer = " ".join(t.get_text() for t in figure.texts).replace("\n", " ")
    assert UNCLEAR_NOTE in footer


def test_written_pngs_are_the_figures_measured(tmp_path):
    """What is written is what was measured: each PNG's pixel size is its figure's at the written DPI."""
    from PIL import Image

    write(tmp_path / "records.jsonl", noisy_records())
    write_leaderboard(tmp_path, formats=["png"])
    board = build(noisy_records())
    for name, figure in (("gain_heatmap.png", heatmap_figure(board)), ("accuracy_vs_budget.png", curves_figure(board))):
        width, height = Image.open(tmp_path / name).size
        assert abs(width - figure.bbox.width) <= 1 and abs(height - figure.bbox.height) <= 1
