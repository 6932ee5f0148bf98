"""Line charts drawn with pygame onto a cached surface: the world so far, a thin ghost line (the
same world without the player's decisions) and the projection fan (median and 10-90% band to
the end of the scenario). Redrawn only when a month passes or a projection arrives: Matplotlib
would cost tens of milliseconds a chart, pygame a fraction of one."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pygame

from game.config.dates import month_of_year, year_of
from game.config.texts import family
from game.config.texts import text as tr
from game.reports import format as F
from game.ui import palette
from game.ui.text import first_fitting, note, wrap

if TYPE_CHECKING:
    from game.play.view import WorldView

Colour = tuple[int, int, int]


@dataclass
class Series:
    label: str
    values: np.ndarray  # one value a month from the first month
    colour: Colour
    width: int = 2
    ghost: np.ndarray | None = None  # the world without the player's decisions
    fan: tuple[np.ndarray, np.ndarray, np.ndarray] | None = (
        None  # median, p10, p90 from `fan_start`
    )
    fan_start: int = 0


@dataclass
class Chart:
    title: str
    months: int  # the scenario's length: the x axis runs to its end
    start_year: int
    start_month: int  # 1..12
    log: bool = False
    money: bool = False
    series: list[Series] = field(default_factory=list)
    note: str = ""
    empty: str = ""  # what an empty chart says (default: chart_empty in the text file)
    short_title: str = ""  # for a chart too narrow for the title
    short_note: str = ""
    legend_gap: int = 14  # room after each legend entry (for buttons beside them)


def render(
    chart: Chart,
    size: tuple[int, int],
    fonts: tuple[pygame.font.Font, pygame.font.Font],
    background: Colour = (20, 25, 34),
    grid: Colour = (44, 53, 68),
    text: Colour = (185, 194, 208),
    origin: tuple[int, int] = (0, 0),
) -> tuple[pygame.Surface, list[tuple[str, pygame.Rect]]]:
    """Draw a chart; returns the surface and the legend entries' rects (for 'why?' buttons).
    `origin` is where it will be shown on the screen (for game/ui/text.py's notes)."""
    small, title_font = fonts
    surf = pygame.Surface(size)
    surf.fill(background)
    pygame.draw.rect(surf, grid, surf.get_rect(), 1)
    drawn: list[tuple[str, pygame.Rect]] = []

    def put(img: pygame.Surface, pos: tuple[float, float], label: str) -> None:
        surf.blit(img, pos)
        drawn.append((label, pygame.Rect((round(pos[0]), round(pos[1])), img.get_size())))

    try:
        legend = _draw(chart, surf, small, title_font, grid, text, put)
    finally:
        note(f"chart@{origin}", drawn, surf.get_rect(), origin)
    return surf, legend


def _draw(
    chart: Chart,
    surf: pygame.Surface,
    small: pygame.font.Font,
    title_font: pygame.font.Font,
    grid: Colour,
    text: Colour,
    put: Callable[[pygame.Surface, tuple[float, float], str], None],
) -> list[tuple[str, pygame.Rect]]:
    size = surf.get_size()
    title = first_fitting(title_font, [chart.title, chart.short_title or chart.title], size[0] - 12)
    put(title_font.render(title, True, (230, 233, 239)), (8, 4), title)
    legend = _legend(surf, chart, small, put)
    plot = plot_rect(size, legend, small)

    values = [s.values for s in chart.series if len(s.values)]
    values += [s.ghost for s in chart.series if s.ghost is not None and len(s.ghost)]
    values += [f for s in chart.series if s.fan is not None for f in s.fan]
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
    if chart.log:
        finite = finite[finite > 0]
    if finite.size == 0:
        for i, line in enumerate(wrap(small, chart.empty or tr("chart_empty"), size[0] - 12)):
            img = small.render(line, True, text)
            y = plot.centery + i * small.get_linesize()
            put(img, (max(4, size[0] // 2 - img.get_width() // 2), y), line)
        return legend
    lo, hi = float(finite.min()), float(finite.max())
    if chart.log:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi - lo < 1e-9:
        hi, lo = hi + 1, lo - 1
    pad = (hi - lo) * 0.06
    lo, hi = lo - pad, hi + pad

    def y_of(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, float)
        if chart.log:
            v = np.log10(np.where(v > 0, v, np.nan))
        return plot.bottom - (v - lo) / (hi - lo) * plot.height

    def x_of(i: np.ndarray) -> np.ndarray:
        return plot.left + np.asarray(i, float) / max(1, chart.months - 1) * plot.width

    # grid: years on x, a few values on y
    ticks = [lo + k / 4 * (hi - lo) for k in range(5)]
    labels = F.tick_labels([10**v if chart.log else v for v in ticks], money=chart.money)
    for k, label in enumerate(labels):
        y = plot.bottom - k / 4 * plot.height
        pygame.draw.line(surf, grid, (plot.left, y), (plot.right, y))
        img = small.render(label, True, text)
        put(img, (plot.left - img.get_width() - 4, y - img.get_height() / 2), label)
    first_jan = (13 - chart.start_month) % 12
    # a label every year, or every other (third...) year where they would touch
    year_px = plot.width * 12 / max(1, chart.months - 1)
    every = max(1, math.ceil((small.size("2030")[0] + 10) / max(1.0, year_px)))
    for m in range(first_jan, chart.months, 12):
        x = float(x_of(m))
        pygame.draw.line(surf, grid, (x, plot.top), (x, plot.bottom))
        year = chart.start_year + (chart.start_month - 1 + m) // 12
        img = small.render(str(year), True, text)
        left_edge = x - img.get_width() / 2
        if year % every == 0 and left_edge >= 2 and left_edge + img.get_width() <= size[0] - 2:
            put(img, (left_edge, plot.bottom + 2), str(year))

    band = pygame.Surface(size, pygame.SRCALPHA)
    for s in chart.series:
        if s.fan is None:
            continue
        med, p10, p90 = s.fan
        xs = x_of(np.arange(s.fan_start, s.fan_start + len(med)))
        top_pts = list(zip(xs, y_of(p90), strict=True))
        bot_pts = list(zip(xs, y_of(p10), strict=True))
        pts = [(x, y) for x, y in top_pts + bot_pts[::-1] if np.isfinite(y)]
        if len(pts) >= 3:
            pygame.draw.polygon(band, (*s.colour, 60), pts)
        _polyline(band, xs, y_of(med), (*s.colour, 220), 1, dashed=True)
    surf.blit(band, (0, 0))
    for s in chart.series:
        if s.ghost is not None and len(s.ghost):
            _polyline(surf, x_of(np.arange(len(s.ghost))), y_of(s.ghost), _dim(s.colour), 1)
    for s in chart.series:
        if len(s.values):
            _polyline(surf, x_of(np.arange(len(s.values))), y_of(s.values), s.colour, s.width)
    if chart.note:  # inside the plot, top right, clear of the title and the legend
        shown = first_fitting(small, [chart.note, chart.short_note or chart.note], plot.width - 8)
        img = small.render(shown, True, text)
        put(img, (max(plot.left + 4, plot.right - img.get_width() - 4), plot.top + 2), chart.note)
    return legend


def plot_rect(
    size: tuple[int, int], legend: list[tuple[str, pygame.Rect]], small: pygame.font.Font
) -> pygame.Rect:
    """Where the plot sits in a chart of `size` under these legend entries (render's rects):
    a scene that writes inside the plot, under the note, finds it here."""
    legend_bottom = max((r.bottom for _, r in legend), default=26 + small.get_height())
    top, bottom = legend_bottom + 14, size[1] - small.get_height() - 8
    left, right = 46, size[0] - 10
    return pygame.Rect(left, top, max(10, right - left), max(10, bottom - top))


def _legend(
    surf: pygame.Surface,
    chart: Chart,
    small: pygame.font.Font,
    put: Callable[[pygame.Surface, tuple[float, float], str], None],
) -> list[tuple[str, pygame.Rect]]:
    """Series names in their colours, underlined, in as many rows as the width needs; returns
    where each one is."""
    legend = []
    x, y = 8, 26
    for s in chart.series:
        img = small.render(s.label, True, s.colour)
        if x > 8 and x + img.get_width() + chart.legend_gap - 8 > surf.get_width():
            x, y = 8, y + img.get_height() + 6  # the next row
        rect = pygame.Rect(x, y, img.get_width(), img.get_height())
        pygame.draw.line(
            surf,
            s.colour,
            (x, y + img.get_height() - 1),
            (x + img.get_width(), y + img.get_height() - 1),
            2,
        )
        put(img, rect.topleft, s.label)
        legend.append((s.label, rect))
        x += img.get_width() + chart.legend_gap
    return legend


def _dim(c: Colour) -> Colour:
    return (int(c[0] * 0.55 + 30), int(c[1] * 0.55 + 30), int(c[2] * 0.55 + 30))


def _polyline(
    surf: pygame.Surface,
    xs: np.ndarray,
    ys: np.ndarray,
    colour: tuple,
    width: int,
    dashed: bool = False,
) -> None:
    pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True) if np.isfinite(y)]
    if len(pts) < 2:
        return
    if not dashed:
        pygame.draw.lines(surf, colour, False, pts, width)
        return
    for i in range(0, len(pts) - 1, 2):
        pygame.draw.line(surf, colour, pts[i], pts[i + 1], width + 1)


def chart_axis(view: WorldView) -> dict[str, int]:
    """The x axis every chart of a game shares: the whole game, from its first month."""
    return {
        "months": view.horizon,
        "start_year": year_of(view.start),
        "start_month": month_of_year(view.start),
    }


def bloc_chart(
    title: str,
    column: str,
    view: WorldView,
    ghost: WorldView | None,
    **options: Any,
) -> Chart:
    """One line a bloc of a results column, with the ghost's (the world without the players'
    decisions) beside it when given: the play screen and the debrief draw the same charts."""
    chart = Chart(title, **chart_axis(view), **options)
    mine = view.series(column)
    theirs = ghost.series(column) if ghost is not None else {}
    for b in view.bloc_ids:
        label = family("bloc_short").get(b, view.bloc_names[b])
        chart.series.append(Series(label, mine[b], palette.BLOC[b], ghost=theirs.get(b)))
    return chart

