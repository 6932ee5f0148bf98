"""The report's charts, as PNG bytes sized for an A4 page.

Why matplotlib's Agg canvas without pyplot: the game writes the report away from its window
loop, and pyplot's global state (and any GUI backend) must not be touched from there. Colour is
never the only cue: each bloc also has its own marker, the comparison world is dashed, and the
stacked areas are hatched, so the charts survive a greyscale printer.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from game.play.objectives import CHINA_BLOC
from game.reports.debrief.source import Story
from game.reports.debrief.table import PROVENANCE_COLUMNS, PROVENANCE_WORDS, month_starts
from game.reports.format import count

# Text is drawn as written: a bloc name or label from a user's file (or "$3bn to $4bn")
# must never reach matplotlib's mathtext parser, which fails on an unbalanced '$'.
matplotlib.rcParams["text.parse_math"] = False

# The A4 text width (210 mm - 2 x 15 mm margins) at a resolution that prints sharply without
# making the file heavy (each chart is 40-80 kB).
CHART_WIDTH_MM = 180.0
CHART_HEIGHT_MM = 68.0
CHART_DPI = 150
MM = 1 / 25.4

# Okabe-Ito hues as in game/ui/palette.py (not imported: that package is the pygame UI), with
# a dark blue for the US instead of the screen's sky blue, which is too pale on paper.
BLOC_STYLE: dict[str, tuple[str, str]] = {
    "us": ("#0072B2", "o"),
    "china": ("#D55E00", "s"),
    "allies": ("#009E73", "^"),
    "rest": ("#777777", "D"),
}
OTHER_STYLES = [("#CC79A7", "v"), ("#E69F00", "P"), ("#56B4E9", "X"), ("#000000", "*")]
PROVENANCE_STYLE: dict[str, tuple[str, str]] = {
    "legal_share": ("#0072B2", ""),
    "compliant_share": ("#56B4E9", "//"),
    "domestic_share": ("#D55E00", ".."),
    "smuggled_share": ("#E69F00", "xx"),
    "rented_share": ("#CC79A7", "\\\\"),
}
DASHED = (0, (4, 2.5))


def _figure(height_mm: float = CHART_HEIGHT_MM) -> tuple[Any, Any]:
    fig = Figure(figsize=(CHART_WIDTH_MM * MM, height_mm * MM), dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.tick_params(labelsize=7.5)
    ax.grid(True, color="#d0d0d0", linewidth=0.5)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _png(fig: Any, *, top_mm: float = 4.0, right_mm: float = 3.0) -> bytes:
    """Fixed margins (room for tick labels and the axis title on the left, the date labels
    below): tight_layout measured every text and cost a third of the report's time."""
    w, h = fig.get_size_inches() / MM
    fig.subplots_adjust(left=16.0 / w, right=1 - right_mm / w, bottom=8.0 / h, top=1 - top_mm / h)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return buf.getvalue()


def _date_axis(ax: Any) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _style(bloc: str, i: int) -> tuple[str, str]:
    return BLOC_STYLE.get(bloc) or OTHER_STYLES[i % len(OTHER_STYLES)]


def _every(n: int) -> int:
    return max(1, n // 12)


def _legend(ax: Any, **kw: Any) -> None:
    ax.legend(fontsize=7, frameon=False, **kw)


def chart_blocs(story: Story, column: str, ylabel: str, *, log: bool = False) -> bytes:
    """One line per bloc as played (solid, marked) and in the comparison world (dashed)."""
    fig, ax = _figure()
    played, other = story.played, story.other
    for i, bloc in enumerate(played.blocs):
        colour, marker = _style(bloc, i)
        name = story.bloc_names.get(bloc, bloc)
        y = played.series(column, bloc)
        if log:
            y = np.where(y > 0, y, np.nan)
        ax.plot(
            played.x,
            y,
            color=colour,
            marker=marker,
            markersize=3.5,
            markevery=_every(len(y)),
            linewidth=1.6,
            label=name,
        )
        if bloc in other.blocs:
            z = other.series(column, bloc)
            if log:
                z = np.where(z > 0, z, np.nan)
            ax.plot(other.x, z, color=colour, linestyle=DASHED, linewidth=1.0, alpha=0.9)
    dashed = f"dashed: {story.other_short}"
    ax.plot([], [], color="#444", linestyle=DASHED, linewidth=1.0, label=dashed)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel, fontsize=8)
    _date_axis(ax)
    _legend(
        ax,
        ncol=min(5, len(played.blocs) + 1),
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        borderaxespad=0.2,
    )
    return _png(fig, top_mm=8.0)


def chart_gap(story: Story) -> bytes:
    """China's gap as played against the comparison world: the number the US team is scored
    on, and the first thing a class asks about."""
    fig, ax = _figure(60)
    played, other = story.played.series("gap_months"), story.other.series("gap_months")
    colour, marker = BLOC_STYLE.get(CHINA_BLOC, OTHER_STYLES[0])
    ax.plot(
        story.played.x,
        played,
        color=colour,
        marker=marker,
        markersize=3.5,
        markevery=_every(len(played)),
        linewidth=1.8,
        label=story.played_short,
    )
    ax.plot(
        story.other.x, other, color="#333", linestyle=DASHED, linewidth=1.2, label=story.other_short
    )
    ax.set_ylabel("months behind the leader", fontsize=8)
    ax.set_ylim(bottom=0)
    _date_axis(ax)
    _legend(ax, loc="best")
    return _png(fig)


def chart_gap_futures(story: Story) -> bytes:
    """China's gap over the sampled futures, with and without the decisions (median and
    10-90% band): whether the decisions' effect holds across what we don't know."""
    assert story.futures is not None
    fig, ax = _figure(60)
    colour, _ = BLOC_STYLE.get(CHINA_BLOC, OTHER_STYLES[0])
    for world, label, line, fill in (
        ("without", story.other_short, "#333", "#999"),
        ("played", story.played_short, colour, colour),
    ):
        band = story.futures[story.futures["world"] == world]
        x = month_starts(band["date"])
        ax.fill_between(x, band["p10"], band["p90"], color=fill, alpha=0.22, linewidth=0)
        ax.plot(
            x,
            band["median"],
            color=line,
            linewidth=1.8 if world == "played" else 1.2,
            linestyle="solid" if world == "played" else DASHED,
            label=f"{label}: median, 10-90% shaded",
        )
    ax.set_ylabel("months behind the leader", fontsize=8)
    ax.set_ylim(bottom=0)
    _date_axis(ax)
    _legend(ax, loc="best")
    return _png(fig)


def chart_smuggling(story: Story) -> bytes:
    """Smuggled and seized chips a month: the gray market is where enforcement shows."""
    fig, ax = _figure(60)
    smuggled = story.played.series("chips_smuggled")
    seized = story.played.series("chips_seized")
    other = story.other.series("chips_smuggled")
    x = story.played.x
    ax.plot(
        x,
        smuggled,
        color="#E69F00",
        marker="o",
        markersize=3,
        markevery=_every(len(x)),
        linewidth=1.8,
        label=f"smuggled in ({story.played_short})",
    )
    ax.plot(
        x,
        seized,
        color="#0072B2",
        marker="x",
        markersize=4,
        markevery=_every(len(x)),
        linestyle=(0, (1, 1.2)),
        linewidth=1.6,
        label=f"seized on the way ({story.played_short})",
    )
    ax.plot(
        story.other.x,
        other,
        color="#333",
        linestyle=DASHED,
        linewidth=1.1,
        label=f"smuggled in, {story.other_short}",
    )
    ax.set_ylabel("chips a month", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: count(v)))
    _date_axis(ax)
    _legend(ax, loc="best")
    return _png(fig)


def chart_shares(story: Story) -> bytes:
    """China's compute by where it came from, stacked to 100%: hatched, so each band reads in
    greyscale too."""
    fig, ax = _figure(62)
    shares = [np.nan_to_num(story.played.series(c)) * 100.0 for c, _ in PROVENANCE_COLUMNS]
    x = story.played.x
    polys = ax.stackplot(
        x,
        *shares,
        labels=[PROVENANCE_WORDS[c] for c, _ in PROVENANCE_COLUMNS],
        colors=[PROVENANCE_STYLE[c][0] for c, _ in PROVENANCE_COLUMNS],
        edgecolor="white",
        linewidth=0.4,
    )
    for poly, (column, _) in zip(polys, PROVENANCE_COLUMNS, strict=True):
        poly.set_hatch(PROVENANCE_STYLE[column][1])
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of China's compute", fontsize=8)
    _date_axis(ax)
    handles, labels = ax.get_legend_handles_labels()  # top band first, as stacked
    ax.legend(
        handles[::-1],
        labels[::-1],
        fontsize=7,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    return _png(fig, right_mm=36.0)
