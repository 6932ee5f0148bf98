"""The world map: countries shaded by compute, chips flowing between them, seizures on the way.

It draws a `game.view.MapState` (one month of the model, read-only) with plain pygame, so it works
inside the pygame_gui window and headless in tests. Why it is built the way it is:

* Everything that changes slower than the frame rate is cached. The land, borders and graticule
  are rendered once per map size (`layout`); the month's shading, hatching and arcs once per
  month (a new MapState); a frame is then one opaque blit plus the animated smuggling dashes,
  the seizure markers, the labels and the legend (small blits), well under a millisecond.
* Flow kinds differ by dash pattern as well as by colour (see `DASHES`), so the map reads the same
  for colour-blind players: legal solid, compliant long dashes, rented dotted, smuggled short
  dashes that move towards the destination so chips visibly travel.
* Arcs bulge to the left of their direction of travel: A->B and B->A never overlap, and routes
  from the US to Asia curve north, roughly along their great circles.
* Coordinates come from assets/map/world.json (Natural Earth, see tools/make_world_map.py), already
  projected and normalised to [0, 1]; countries.yaml's lat/lon are projected the same way with
  the parameters stored in the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pygame

from game.config.paths import ASSETS_DIR
from game.config.texts import family
from game.config.texts import text as tr
from game.reports import format as F
from game.ui import palette as P
from game.ui.text import note as note_drawn
from game.ui.text import recording

if TYPE_CHECKING:
    from game.config.world import CountrySpec
    from game.play.view import Flow, MapState

MAP_PATH = ASSETS_DIR / "map" / "world.json"
FONT_PATH = ASSETS_DIR / "fonts" / "NotoSans-Regular.ttf"

Point = tuple[float, float]

# Sizes are given for a map 1280 px wide and scale with it (within limits), so the map looks the
# same on a laptop and on a classroom projector.
REF_WIDTH = 1280.0


@dataclass(frozen=True)
class Dash:
    """A line texture: `on` px drawn, `off` px skipped (on == 0 draws dots every `off` px);
    `speed` in px per second moves the pattern towards the destination (0 = still)."""

    on: float
    off: float
    speed: float = 0.0

    @property
    def period(self) -> float:
        return self.on + self.off


# None = solid. Distinct at a glance even in greyscale: solid, long, dots, short-and-moving.
DASHES: dict[str, Dash | None] = {
    "legal": None,
    "compliant": Dash(13.0, 6.0),
    "rented": Dash(0.0, 7.0),
    "smuggled": Dash(6.0, 5.0, speed=26.0),
}
# How far each kind's arc bulges sideways, as a share of the chord: different per kind so that two
# kinds of flow between the same pair of countries run side by side instead of on top of each other.
BULGE = {"legal": 0.10, "compliant": 0.16, "rented": 0.22, "smuggled": 0.28}
BULGE_CHORD_CAP = 480.0  # px at 1x: beyond this chord length the bulge stops growing

# the legend's and markers' words live with the rest of the game's text (game/config/texts.py)


# ----------------------------------------------------------------------------- data
def load_map_data(path: str | Path = MAP_PATH) -> dict:
    """The map file written by tools/make_world_map.py (countries, points, projection)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for key in ("projection", "countries", "points"):
        if key not in data:
            raise ValueError(f"{path}: not a world map file (no '{key}')")
    return data


def project(lat: float, lon: float, projection: dict) -> Point:
    """lat/lon in degrees -> normalised map coordinates (x right, y down), as the map file's
    polygons were projected (equirectangular; see its 'projection' entry)."""
    x = (lon - projection["lon_min"]) / (projection["lon_max"] - projection["lon_min"])
    y = (projection["lat_max"] - lat) / (projection["lat_max"] - projection["lat_min"])
    return x, y


def dash_intervals(length: float, dash: Dash | None, offset: float = 0.0) -> list[Point]:
    """The (start, end) arc lengths drawn along a line of `length` px with pattern `dash`, the
    pattern shifted forwards by `offset` px (animation). Dots are zero-length intervals."""
    if length <= 0:
        return []
    if dash is None:
        return [(0.0, length)]
    s = offset % dash.period - dash.period
    out = []
    while s < length:
        a, b = max(s, 0.0), min(s + dash.on, length)
        if b > a or (dash.on == 0 and 0 <= s <= length):
            out.append((a, b))
        s += dash.period
    return out


def flow_width(units: float, scale: float = 1.0) -> int:
    """Line width for a flow of `units` chips a month: 1 px up to 100 chips, then about one
    more pixel per tenfold (1k: 2, 10k: 3, 100k: 4, 1M: 5), at most 6 px at 1x."""
    w = 1.0 + 0.95 * (math.log10(max(units, 1.0)) - 2.0)
    return max(1, round(min(max(w, 1.0), 6.0) * scale))


def seizure_radius(chips: float, scale: float = 1.0) -> int:
    """Radius of the seizure marker: grows with log(chips seized)."""
    return max(4, round((3.0 + 1.6 * math.log10(max(chips, 1.0))) * scale))


def track_colour(kind: str) -> P.Colour:
    """The route under a flow's dashes: solid flows get a dark edge, dashed ones a dark tint of
    their own colour, so their gaps stay visibly different from the dashes."""
    if DASHES.get(kind) is None:
        return P.FLOW_CASING
    return P.mix(P.FLOW_CASING, P.FLOW.get(kind, P.TEXT), 0.25)


def _point_in_rings(x: float, y: float, rings: Sequence[Sequence[Point]]) -> bool:
    """Even-odd rule over all of a polygon's rings, so holes are holes."""
    inside = False
    for ring in rings:
        n = len(ring)
        x0, y0 = ring[n - 1]
        for x1, y1 in ring:
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
            x0, y0 = x1, y1
    return inside


@dataclass
class _Shape:
    """One map country: its polygons (normalised), their bounding boxes, and on screen."""

    iso3: str
    polygons: list[list[list[Point]]]  # [[outer, hole, ...], ...], normalised
    boxes: list[tuple[float, float, float, float]]  # per polygon: x0, y0, x1, y1 (normalised)
    screen: list[list[list[Point]]]  # same, in local pixels (set by layout)

    def contains(self, x: float, y: float) -> bool:
        for poly, (x0, y0, x1, y1) in zip(self.polygons, self.boxes, strict=True):
            if x0 <= x <= x1 and y0 <= y <= y1 and _point_in_rings(x, y, poly):
                return True
        return False


@dataclass
class _Arc:
    """A flow's curve on screen: samples, cumulative lengths and the arrowhead."""

    xy: np.ndarray  # (n, 2) samples, local pixels, trimmed at both ends
    cum: np.ndarray  # (n,) arc length at each sample
    head: list[Point]  # arrowhead triangle
    width: int
    kind: str

    @property
    def length(self) -> float:
        return float(self.cum[-1])

    def segments(self, offset: float = 0.0) -> list[tuple[Point, Point]]:
        """Start and end points of each dash (dots: start == end)."""
        spans = dash_intervals(self.length, DASHES[self.kind], offset)
        if not spans:
            return []
        s = np.asarray(spans, float)
        xa = np.interp(s[:, 0], self.cum, self.xy[:, 0])
        ya = np.interp(s[:, 0], self.cum, self.xy[:, 1])
        xb = np.interp(s[:, 1], self.cum, self.xy[:, 0])
        yb = np.interp(s[:, 1], self.cum, self.xy[:, 1])
        return [((a, b), (c, d)) for a, b, c, d in zip(xa, ya, xb, yb, strict=True)]


class WorldMap:
    """Draws the world and one month's MapState into a rect; answers which country is where."""

    def __init__(
        self,
        map_data: dict,
        countries: Iterable[CountrySpec],
        font: pygame.font.Font | None = None,
    ) -> None:
        self.data = map_data
        self.projection: dict = map_data["projection"]
        self.aspect = float(self.projection["aspect"])
        self.countries = list(countries)
        self.names = {c.id: c.name for c in self.countries}
        self._font_given = font
        self.font: pygame.font.Font | None = font
        # the country standing for "everyone else" (iso3 null in countries.yaml)
        self.rest_id: str | None = next((c.id for c in self.countries if not c.iso3), None)
        game_iso = {c.iso3: c.id for c in self.countries if c.iso3}
        self.shapes: dict[str, _Shape] = {}  # every country on the map, by iso3
        self.shape_of: dict[str, _Shape] = {}  # game country id -> its shape
        for iso, entry in map_data["countries"].items():
            polys = [
                [list(zip(ring[0::2], ring[1::2], strict=True)) for ring in poly]
                for poly in entry["polygons"]
            ]
            boxes = [
                (
                    min(p[0] for p in poly[0]),
                    min(p[1] for p in poly[0]),
                    max(p[0] for p in poly[0]),
                    max(p[1] for p in poly[0]),
                )
                for poly in polys
            ]
            shape = _Shape(iso, polys, boxes, [])
            self.shapes[iso] = shape
            if iso in game_iso:
                self.shape_of[game_iso[iso]] = shape
        # game countries too small for polygons (Singapore): a point from the map file
        self.point_of: dict[str, Point] = {
            cid: (map_data["points"][iso]["x"], map_data["points"][iso]["y"])
            for iso, cid in game_iso.items()
            if cid not in self.shape_of and iso in map_data["points"]
        }
        # where flows start and end, and where labels sit: the capital / port of countries.yaml
        self.anchor_norm: dict[str, Point] = {
            c.id: self.point_of.get(c.id) or project(c.lat, c.lon, self.projection)
            for c in self.countries
        }
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.map_rect = pygame.Rect(0, 0, 0, 0)  # local to rect
        self.scale = 1.0
        self.anchor_local: dict[str, Point] = {}  # anchors in pixels local to rect
        self._base: pygame.Surface | None = None
        self._reset_caches()

    # ------------------------------------------------------------------ layout
    def _reset_caches(self) -> None:
        self._state: MapState | None = None
        self._layer: pygame.Surface | None = None
        self._arcs: list[_Arc] = []
        self._moving: list[_Arc] = []
        self._markers: list[tuple[pygame.Surface, Point]] = []
        self._hatches: dict[tuple[str, str], tuple[pygame.Surface, Point]] = {}
        self._arc_cache: dict[tuple[str, str, str, int], _Arc] = {}

    def layout(self, rect: pygame.Rect) -> None:
        """Fit the map into rect (keeping its aspect) and pre-render the static base layer.
        Only a change of size redraws; a move just shifts where it is blitted."""
        rect = pygame.Rect(rect)
        if self._base is not None and rect.size == self.rect.size:
            self.rect = rect
            return
        self.rect = rect
        w, h = rect.size
        mw = min(w, round(h * self.aspect))
        mh = min(h, round(mw / self.aspect))
        self.map_rect = pygame.Rect((w - mw) // 2, (h - mh) // 2, mw, mh)
        self.scale = max(0.75, min(mw / REF_WIDTH, 1.75))
        if self._font_given is None:
            if not pygame.font.get_init():
                pygame.font.init()
            self.font = pygame.font.Font(FONT_PATH, max(10, round(12 * self.scale)))
        for shape in self.shapes.values():
            shape.screen = [[self._to_local(ring) for ring in poly] for poly in shape.polygons]
        self.anchor_local = {cid: self._to_local([p])[0] for cid, p in self.anchor_norm.items()}
        self._build_base()
        self._build_rest_template()
        self._build_legend()
        self._build_labels()
        self._reset_caches()

    def _to_local(self, points: Sequence[Point]) -> list[Point]:
        m = self.map_rect
        return [(m.x + x * m.w, m.y + y * m.h) for x, y in points]

    def _surface(self, size: tuple[int, int], alpha: bool = False) -> pygame.Surface:
        """A surface in the display's pixel format when there is one (fast blits)."""
        surf = pygame.Surface(size, pygame.SRCALPHA if alpha else 0)
        if pygame.display.get_surface() is not None:
            surf = surf.convert_alpha() if alpha else surf.convert()
        return surf

    def _build_base(self) -> None:
        """Ocean, graticule, all land in one neutral colour, borders, attribution."""
        base = self._surface(self.rect.size)
        base.fill(P.BACKGROUND)
        m = self.map_rect
        base.fill(P.OCEAN, m)
        pr = self.projection
        for lon in range(-150, 180, 30):
            x = m.x + project(0.0, lon, pr)[0] * m.w
            pygame.draw.line(base, P.OCEAN_GRID, (x, m.top), (x, m.bottom - 1))
        for lat in range(-30, 75, 30):
            y = m.y + project(lat, 0.0, pr)[1] * m.h
            pygame.draw.line(base, P.OCEAN_GRID, (m.left, y), (m.right - 1, y))
        # countries with holes first, so whatever sits in a hole (Lesotho) is drawn over it
        ordered = sorted(self.shapes.values(), key=lambda s: -max(len(p) for p in s.polygons))
        for shape in ordered:
            for poly in shape.screen:
                pygame.draw.polygon(base, P.LAND, poly[0])
                for hole in poly[1:]:
                    pygame.draw.polygon(base, P.OCEAN, hole)
        for shape in self.shapes.values():
            for poly in shape.screen:
                for ring in poly:
                    pygame.draw.aalines(base, P.BORDER, True, ring)
        pygame.draw.rect(base, P.LEGEND_BORDER, m, 1)
        assert self.font is not None
        note = self.font.render(tr("map_attribution"), True, P.TEXT_DIM)
        note.set_alpha(150)
        self._attribution_rect = base.blit(
            note, note.get_rect(bottomright=(m.right - 6, m.bottom - 3))
        )
        self._base = base

    def _build_rest_template(self) -> None:
        """White where land belongs to no game country, black (transparent) elsewhere and on
        borders: recoloured with one multiply-fill to shade the rest of the world each month."""
        tmpl = self._surface(self.rect.size)
        tmpl.fill((0, 0, 0))
        mine = {id(s) for s in self.shape_of.values()}
        rest = [s for s in self.shapes.values() if id(s) not in mine]
        for shape in rest:
            for poly in shape.screen:
                pygame.draw.polygon(tmpl, (255, 255, 255), poly[0])
        for shape in self.shapes.values():
            for poly in shape.screen:
                for ring in poly:
                    pygame.draw.lines(tmpl, (0, 0, 0), True, ring)
                if id(shape) in mine:
                    pygame.draw.polygon(tmpl, (0, 0, 0), poly[0])
        self._rest_template = tmpl
        # reused every month (allocating and copying full-size surfaces is the slow part)
        self._rest_tinted = self._surface(self.rect.size)
        self._rest_tinted.set_colorkey((0, 0, 0))
        self._rest_colour: P.Colour | None = None
        self._layer_surface = self._surface(self.rect.size)

    # ------------------------------------------------------------------ labels and legend
    def _text(self, text: str, colour: P.Colour, halo: bool = True) -> pygame.Surface:
        """Text with a dark outline, readable over any fill or arc."""
        assert self.font is not None
        fg = self.font.render(text, True, colour)
        if not halo:
            return fg
        bg = self.font.render(text, True, P.TEXT_HALO)
        out = pygame.Surface((fg.get_width() + 2, fg.get_height() + 2), pygame.SRCALPHA)
        for dx, dy in ((0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (0, 2), (1, 2), (2, 2)):
            out.blit(bg, (dx, dy))
        out.blit(fg, (1, 1))
        return out

    def _anchor_radius(self) -> float:
        return 3.5 * self.scale

    def _place(
        self, size: tuple[int, int], anchor: Point, gap: float, taken: list[pygame.Rect]
    ) -> pygame.Rect:
        """A box of `size` next to `anchor`: the first of right, left, above, below and the
        diagonals (then the same further out) that stays on the map and clear of `taken`."""
        w, h = size
        x, y = anchor
        bounds = self.map_rect.inflate(-4, -4)
        candidates = []
        for k in (1.0, 2.2, 3.6, 5.0):
            g = gap * k
            candidates += [
                (x + g, y - h / 2),  # right
                (x - g - w, y - h / 2),  # left
                (x - w / 2, y - g - h),  # above
                (x - w / 2, y + g),  # below
                (x + g * 0.7, y - g * 0.7 - h),  # above right
                (x + g * 0.7, y + g * 0.7),  # below right
                (x - g * 0.7 - w, y - g * 0.7 - h),  # above left
                (x - g * 0.7 - w, y + g * 0.7),  # below left
            ]
        for cx, cy in candidates:
            box = pygame.Rect(round(cx), round(cy), w, h)
            if bounds.contains(box) and box.collidelist(taken) < 0:
                return box
        box = pygame.Rect(round(candidates[0][0]), round(candidates[0][1]), w, h)
        return box.clamp(bounds)

    def _build_labels(self) -> None:
        """Place each game country's name next to its anchor, greedily avoiding the names
        already placed, the other anchors and the legend (once per layout: names and anchors
        do not move)."""
        r = self._anchor_radius()
        taken: list[pygame.Rect] = [self._legend_rect.inflate(4, 4)]
        taken += [
            pygame.Rect(x - r - 1, y - r - 1, 2 * r + 2, 2 * r + 2)
            for x, y in self.anchor_local.values()
        ]
        self._labels: dict[str, tuple[pygame.Surface, pygame.Surface, pygame.Rect]] = {}
        for c in self.countries:
            normal = self._text(c.name, P.TEXT)
            chosen = self._text(c.name, P.SELECTED)
            box = self._place(normal.get_size(), self.anchor_local[c.id], r + 2, taken)
            taken.append(box)
            self._labels[c.id] = (normal, chosen, box)
        self._taken = taken  # seizure counts are placed around these each month

    def legend_items(self) -> list[tuple[str, str]]:
        """(key, text) of each legend row, top to bottom: the four flow kinds, the seizure
        marker, the tier hatching, the blocs (anchor dot colours) and the compute scale."""
        items = [(k, tr(f"legend_flows_{k}")) for k in DASHES]
        items += [("seized", tr("legend_seized")), ("tier", tr("legend_tier"))]
        items += [("blocs", tr("legend_blocs")), ("compute", tr("legend_compute"))]
        return items

    def _build_legend(self) -> None:
        """A compact key in the South Pacific corner, where nothing in the game happens."""
        assert self.font is not None
        u = self.scale
        pad = round(7 * u)
        row = self.font.get_linesize() + round(1 * u)
        sample = round(34 * u)
        items = self.legend_items()
        texts = {k: self._text(t, P.TEXT_DIM, halo=False) for k, t in items}
        ticks = F.tick_labels(
            [10**e for e in range(int(P.RAMP_LOG10_MIN), int(P.RAMP_LOG10_MAX) + 1)]
        )
        tick_imgs = [self._text(t, P.TEXT_DIM, halo=False) for t in ticks]
        bar_w = (len(ticks) - 1) * (max(i.get_width() for i in tick_imgs) + round(10 * u))
        bloc_names = family("legend_bloc_names")  # the legend's bloc swatches, in this order
        bloc_imgs = [self._text(t, P.TEXT_DIM, halo=False) for t in bloc_names.values()]
        dot = round(4 * u)
        blocs_w = sum(i.get_width() + 2 * dot + round(12 * u) for i in bloc_imgs)
        width = max(
            pad * 2 + sample + pad + max(texts[k].get_width() for k, _ in items[:6]),
            pad * 2 + bar_w + max(i.get_width() for i in tick_imgs),
            pad * 2 + blocs_w,
        )
        tick_h = tick_imgs[0].get_height()
        height = pad * 2 + row * 8 + round(8 * u) + tick_h
        leg = pygame.Surface((width, height), pygame.SRCALPHA)
        leg.fill((*P.LEGEND_BG, 230))
        pygame.draw.rect(leg, P.LEGEND_BORDER, leg.get_rect(), 1)
        y = pad
        x0, x1 = pad, pad + sample
        for key, _ in items[:6]:
            cy = y + row / 2
            if key in DASHES:
                xy = np.column_stack([np.linspace(x0, x1, 24), np.full(24, cy)])
                arc = _Arc(xy, np.linspace(0, x1 - x0, 24), [], max(2, round(2.5 * u)), key)
                self._draw_arc(leg, arc, offset=0.0, head=False)
            elif key == "seized":
                self._draw_seizure(leg, (x0 + sample / 2, cy), seizure_radius(30, u))
            elif key == "tier":
                box = pygame.Rect(x0, round(cy - row * 0.32), sample, round(row * 0.64))
                pygame.draw.rect(leg, P.ramp(0.4), box)
                leg.blit(self._hatch_surface(box.size, "restricted"), box)
                pygame.draw.rect(leg, P.TIER_HATCH, box, 1)
            leg.blit(texts[key], (x1 + pad, cy - texts[key].get_height() / 2))
            y += row
        # blocs: the colours of the anchor dots
        x = pad
        cy = y + row / 2
        for bloc, img in zip(bloc_names, bloc_imgs, strict=True):
            pygame.draw.circle(leg, P.FLOW_CASING, (x + dot, cy), dot + 1)
            pygame.draw.circle(leg, P.BLOC[bloc], (x + dot, cy), dot)
            x += 2 * dot + round(4 * u)
            leg.blit(img, (x, cy - img.get_height() / 2))
            x += img.get_width() + round(8 * u)
        y += row
        # compute scale: the ramp as a bar with decade ticks
        leg.blit(texts["compute"], (pad, y + (row - texts["compute"].get_height()) / 2))
        y += row
        half = max(i.get_width() for i in tick_imgs) // 2
        bar = pygame.Rect(pad + half, y, bar_w, round(8 * u))
        for i in range(bar.w):
            colour = P.ramp(i / max(1, bar.w - 1))
            pygame.draw.line(leg, colour, (bar.x + i, bar.y), (bar.x + i, bar.bottom - 1))
        pygame.draw.rect(leg, P.LEGEND_BORDER, bar, 1)
        n = len(ticks) - 1
        for i, img in enumerate(tick_imgs):
            tx = bar.x + bar.w * i / n
            pygame.draw.line(leg, P.TEXT_DIM, (tx, bar.bottom), (tx, bar.bottom + 2))
            leg.blit(img, (tx - img.get_width() / 2, bar.bottom + 2))
        m = self.map_rect
        margin = round(8 * u)
        self._legend = leg
        self._legend_rect = leg.get_rect(bottomleft=(m.x + margin, m.bottom - margin))

    # ------------------------------------------------------------------ geometry
    @property
    def legend_rect(self) -> pygame.Rect:
        """The legend, on the screen."""
        return self._legend_rect.move(self.rect.topleft)

    @property
    def attribution_rect(self) -> pygame.Rect:
        """The data's attribution (bottom right), on the screen."""
        return self._attribution_rect.move(self.rect.topleft)

    def anchor(self, country_id: str) -> tuple[int, int]:
        """Screen position where a country's flows start and end (its capital or port)."""
        x, y = self.anchor_local[country_id]
        return round(self.rect.x + x), round(self.rect.y + y)

    def _arc(self, flow: Flow) -> _Arc:
        """Quadratic Bezier from src to dst bulging left of the direction of travel, trimmed
        at both ends so it starts at the anchor dot's edge and ends in an arrowhead."""
        p0 = np.asarray(self.anchor_local[flow.src], float)
        p2 = np.asarray(self.anchor_local[flow.dst], float)
        d = p2 - p0
        chord = float(np.hypot(*d)) or 1.0
        normal = np.array([d[1], -d[0]]) / chord  # left of travel, with y pointing down
        # long routes bulge less than in proportion, so the fan out of the US stays compact
        reach = min(chord, BULGE_CHORD_CAP * self.scale)
        ctrl = (p0 + p2) / 2 + normal * 2 * BULGE.get(flow.kind, 0.2) * reach
        # keep the curve's apex inside the map
        m = self.map_rect
        lo = np.array([m.left + 10, m.top + 10]) * 2 - (p0 + p2) / 2
        hi = np.array([m.right - 10, m.bottom - 10]) * 2 - (p0 + p2) / 2
        ctrl = np.clip(ctrl, lo, hi)
        n = int(min(96, max(16, chord / 8)))
        t = np.linspace(0.0, 1.0, n)[:, None]
        xy = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t**2 * p2
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        width = flow_width(flow.units, self.scale)
        r = self._anchor_radius()
        head_len = 4.0 * self.scale + 2.0 * width
        start, tip = r + 1.0, cum[-1] - r - 2.0
        end = tip - head_len * 0.8
        if end - start < 4:  # neighbours too close for an arc: draw just the arrowhead
            end = start + 4
        s = np.concatenate([[start], cum[(cum > start) & (cum < end)], [end]])
        trimmed = np.column_stack([np.interp(s, cum, xy[:, 0]), np.interp(s, cum, xy[:, 1])])
        tip_xy = np.array([np.interp(tip, cum, xy[:, 0]), np.interp(tip, cum, xy[:, 1])])
        back = np.array(
            [np.interp(tip - head_len, cum, xy[:, 0]), np.interp(tip - head_len, cum, xy[:, 1])]
        )
        along = tip_xy - back
        along /= float(np.hypot(*along)) or 1.0
        side = np.array([-along[1], along[0]]) * (head_len * 0.55)
        head = [tuple(tip_xy), tuple(back + side), tuple(back - side)]
        return _Arc(trimmed, s - s[0], head, width, flow.kind)

    def _cached_arc(self, flow: Flow) -> _Arc:
        """Arcs depend on the flow only through its ends, kind and (rounded) width, which
        rarely change from one month to the next."""
        key = (flow.src, flow.dst, flow.kind, flow_width(flow.units, self.scale))
        arc = self._arc_cache.get(key)
        if arc is None:
            arc = self._arc_cache[key] = self._arc(flow)
        return arc

    def flow_path(self, flow: Flow) -> list[tuple[int, int]]:
        """The centreline of a flow's arc in screen pixels (what `draw` strokes), for tests and
        tooltips."""
        arc = self._arc(flow)
        ox, oy = self.rect.topleft
        return [(round(x + ox), round(y + oy)) for x, y in arc.xy]

    # ------------------------------------------------------------------ painting helpers
    def _draw_arc(
        self, surf: pygame.Surface, arc: _Arc, offset: float, casing: bool = True, head: bool = True
    ) -> None:
        colour = P.FLOW.get(arc.kind, P.TEXT)
        dash = DASHES.get(arc.kind)
        w = arc.width
        pts = [tuple(p) for p in arc.xy]
        if casing:  # a track under the whole route: contrast over pale land, and dashes
            # read as chips moving along a route rather than as loose marks
            _polyline(surf, track_colour(arc.kind), pts, w + 2)
            if head:
                pygame.draw.polygon(surf, P.FLOW_CASING, arc.head, 0)
                pygame.draw.aalines(surf, P.FLOW_CASING, True, arc.head)
        if dash is None:
            _polyline(surf, colour, pts, w)
            if w <= 2:
                pygame.draw.aalines(surf, colour, False, pts)
        elif dash.on == 0:
            rad = max(1.5, w * 0.8)
            for a, _ in arc.segments(offset):
                pygame.draw.circle(surf, colour, a, rad)
        else:
            for a, b in arc.segments(offset):
                pygame.draw.line(surf, colour, a, b, w)
        if head:
            shrunk = _shrink(arc.head, 0.75)
            pygame.draw.polygon(surf, colour, shrunk)
            pygame.draw.aalines(surf, colour, True, shrunk)

    def _draw_seizure(self, surf: pygame.Surface, centre: Point, radius: int) -> None:
        """A vermillion disc with a white cross: a shape, not only a colour."""
        pygame.draw.circle(surf, P.FLOW_CASING, centre, radius + 2)
        pygame.draw.circle(surf, P.SEIZURE, centre, radius)
        k = radius * 0.55
        x, y = centre
        lw = max(2, radius // 4)
        pygame.draw.line(surf, P.SEIZURE_MARK, (x - k, y - k), (x + k, y + k), lw)
        pygame.draw.line(surf, P.SEIZURE_MARK, (x - k, y + k), (x + k, y - k), lw)

    def _hatch_surface(self, size: tuple[int, int], tier: str) -> pygame.Surface:
        """Diagonal hatching (restricted) or cross-hatching (embargoed), transparent between."""
        w, h = size
        hatch = pygame.Surface((w, h), pygame.SRCALPHA)
        step = max(5, round(7 * self.scale))
        colour = (*P.TIER_HATCH, 150)
        for k in range(-h, w + h, step):
            pygame.draw.line(hatch, colour, (k, h), (k + h, 0))
            if tier == "embargoed":
                pygame.draw.line(hatch, colour, (k, 0), (k + h, h))
        return hatch

    def _hatch(self, cid: str, tier: str) -> tuple[pygame.Surface, Point] | None:
        """A country's hatching, clipped to its shape (cached per country and tier)."""
        key = (cid, tier)
        if key in self._hatches:
            return self._hatches[key]
        if cid in self.shape_of:
            polys = self.shape_of[cid].screen
        elif cid == self.rest_id:
            mine = {id(s) for s in self.shape_of.values()}
            polys = [p for s in self.shapes.values() if id(s) not in mine for p in s.screen]
        else:
            return None
        xs = [x for poly in polys for x, _ in poly[0]]
        ys = [y for poly in polys for _, y in poly[0]]
        x0, y0 = math.floor(min(xs)), math.floor(min(ys))
        size = (math.ceil(max(xs)) - x0 + 1, math.ceil(max(ys)) - y0 + 1)
        mask = pygame.Surface(size, pygame.SRCALPHA)
        for poly in polys:
            pygame.draw.polygon(mask, (255, 255, 255, 255), [(x - x0, y - y0) for x, y in poly[0]])
            for hole in poly[1:]:
                pygame.draw.polygon(mask, (0, 0, 0, 0), [(x - x0, y - y0) for x, y in hole])
        hatch = self._hatch_surface(size, tier)
        hatch.blit(mask, (0, 0), special_flags=pygame.BLEND_RGBA_MULT)
        self._hatches[key] = (hatch, (x0, y0))
        return self._hatches[key]

    # ------------------------------------------------------------------ the month's layer
    def _build_layer(self, state: MapState) -> None:
        """Everything that changes once a month: shading, hatching, the still parts of the arcs,
        anchors; the moving dashes and markers are kept for `draw`."""
        assert self._base is not None
        layer = self._layer_surface
        layer.blit(self._base, (0, 0))
        u = self.scale
        if self.rest_id is not None:
            colour = P.compute_colour(state.compute_h100e.get(self.rest_id, 0.0), P.ROW_STRENGTH)
            if colour != self._rest_colour:
                self._rest_tinted.blit(self._rest_template, (0, 0))
                self._rest_tinted.fill(colour, special_flags=pygame.BLEND_RGB_MULT)
                self._rest_colour = colour
            layer.blit(self._rest_tinted, (0, 0))
        for cid, shape in self.shape_of.items():
            colour = P.compute_colour(state.compute_h100e.get(cid, 0.0))
            for poly in shape.screen:
                pygame.draw.polygon(layer, colour, poly[0])
                for hole in poly[1:]:
                    pygame.draw.polygon(layer, P.LAND, hole)
            for poly in shape.screen:
                for ring in poly:
                    pygame.draw.aalines(layer, P.COAST, True, ring)
        for cid, tier in state.tier.items():
            if tier in ("restricted", "embargoed"):
                hatch = self._hatch(cid, tier)
                if hatch is not None:
                    layer.blit(*hatch)
                if cid in self.shape_of:
                    for poly in self.shape_of[cid].screen:
                        pygame.draw.lines(layer, P.TIER_HATCH, True, poly[0], 1)
        for cid, (x, y) in self.point_of.items():  # small countries: a shaded disc
            colour = P.compute_colour(state.compute_h100e.get(cid, 0.0))
            rad = round(5 * u)
            pygame.draw.circle(layer, P.COAST, (x, y), rad + 1)
            pygame.draw.circle(layer, colour, (x, y), rad)
            if state.tier.get(cid) in ("restricted", "embargoed"):
                pygame.draw.circle(layer, P.TIER_HATCH, (x, y), rad + 2, 2)
        # arcs: biggest first, so thin ones stay visible on top
        flows = sorted(
            (f for f in state.flows if f.src in self.anchor_local and f.dst in self.anchor_local),
            key=lambda f: -f.units,
        )
        self._arcs = [self._cached_arc(f) for f in flows]
        self._moving = []
        for arc in self._arcs:
            dash = DASHES.get(arc.kind)
            if dash is not None and dash.speed:
                # the still part is a dark track; the dashes on it are drawn each frame
                track = [tuple(p) for p in arc.xy]
                _polyline(layer, track_colour(arc.kind), track, arc.width + 2)
                self._moving.append(arc)
            else:
                self._draw_arc(layer, arc, 0.0)
        for arc in self._moving:  # their arrowheads on top of every track
            pygame.draw.polygon(layer, P.FLOW_CASING, arc.head)
            pygame.draw.polygon(layer, P.FLOW[arc.kind], _shrink(arc.head, 0.75))
        r = self._anchor_radius()
        for cid, (x, y) in self.anchor_local.items():
            bloc = state.bloc_of.get(cid, "rest")
            pygame.draw.circle(layer, P.FLOW_CASING, (x, y), r + 1.5)
            pygame.draw.circle(layer, P.BLOC.get(bloc, P.TEXT), (x, y), r)
        # seizures: a disc on the transit country's anchor, the count placed clear of labels
        self._markers = []
        self._marker_texts: list[tuple[str, pygame.Rect]] = []
        taken = list(self._taken)
        for cid, chips in sorted(state.seizures.items(), key=lambda kv: -kv[1]):
            if chips <= 0 or cid not in self.anchor_local:
                continue
            rad = seizure_radius(chips, u)
            x, y = self.anchor_local[cid]
            disc = pygame.Surface((2 * rad + 6, 2 * rad + 6), pygame.SRCALPHA)
            self._draw_seizure(disc, (rad + 3, rad + 3), rad)
            self._markers.append((disc, (x - rad - 3, y - rad - 3)))
            taken.append(pygame.Rect(x - rad, y - rad, 2 * rad, 2 * rad))
        for cid, chips in sorted(state.seizures.items(), key=lambda kv: -kv[1]):
            if chips <= 0 or cid not in self.anchor_local:
                continue
            text = self._text(tr("seized", chips=F.count(chips)), P.SEIZURE_TEXT)
            box = self._place(
                text.get_size(), self.anchor_local[cid], seizure_radius(chips, u) + 3, taken
            )
            taken.append(box)
            self._markers.append((text, box.topleft))
            self._marker_texts.append((tr("seized", chips=F.count(chips)), box))
        self._layer = layer
        self._state = state

    # ------------------------------------------------------------------ per frame
    def draw(
        self,
        surface: pygame.Surface,
        state: MapState,
        t: float,
        selected: str | None = None,
    ) -> None:
        """Draw one frame: the cached month layer, the moving smuggling dashes (t in seconds
        drives them), seizure markers, the selected country's outline, labels and the legend."""
        if self._base is None:
            self.layout(surface.get_rect())
        if self._layer is None or not (state is self._state or state == self._state):
            self._build_layer(state)
        assert self._layer is not None
        ox, oy = self.rect.topleft
        surface.blit(self._layer, (ox, oy))
        for arc in self._moving:
            dash = DASHES[arc.kind]
            assert dash is not None
            colour = P.FLOW[arc.kind]
            w = arc.width
            for (ax, ay), (bx, by) in arc.segments(t * dash.speed * self.scale):
                pygame.draw.line(surface, colour, (ax + ox, ay + oy), (bx + ox, by + oy), w)
        for img, (x, y) in self._markers:
            surface.blit(img, (x + ox, y + oy))
        if selected is not None:
            self._draw_selected(surface, selected)
        for cid, (normal, chosen, box) in self._labels.items():
            surface.blit(chosen if cid == selected else normal, box.move(ox, oy))
        surface.blit(self._legend, self._legend_rect.move(ox, oy))
        if recording():  # where each text is, for tests/ui/test_text_fits.py
            drawn = [(self.names[c], box) for c, (_, _, box) in self._labels.items()]
            drawn += self._marker_texts
            drawn += [
                ("map legend", self._legend_rect),
                (tr("map_attribution"), self._attribution_rect),
            ]
            note_drawn("map", drawn, pygame.Rect((0, 0), self.rect.size), (ox, oy))

    def _draw_selected(self, surface: pygame.Surface, cid: str) -> None:
        ox, oy = self.rect.topleft
        w = max(2, round(2 * self.scale))
        if cid in self.shape_of:
            for poly in self.shape_of[cid].screen:
                pts = [(x + ox, y + oy) for x, y in poly[0]]
                pygame.draw.lines(surface, P.SELECTED, True, pts, w)
        elif cid in self.point_of or cid in self.anchor_local:
            x, y = self.anchor_local[cid]
            if cid == self.rest_id:
                return  # the rest of the world has no outline worth drawing
            pygame.draw.circle(surface, P.SELECTED, (x + ox, y + oy), round(9 * self.scale), w)

    # ------------------------------------------------------------------ hit test
    def country_at(self, pos: tuple[int, int]) -> str | None:
        """The game country under a screen position: a game country's polygon, a small
        country's point (within a few pixels), any other land -> the rest of the world,
        ocean or outside the map -> None."""
        if self._base is None:
            return None
        lx, ly = pos[0] - self.rect.x, pos[1] - self.rect.y
        m = self.map_rect
        if not m.collidepoint(lx, ly):
            return None
        reach = max(8.0, 9 * self.scale)
        for cid in self.point_of:
            ax, ay = self.anchor_local[cid]
            if math.hypot(lx - ax, ly - ay) <= reach:
                return cid
        x, y = (lx - m.x) / m.w, (ly - m.y) / m.h
        for cid, shape in self.shape_of.items():
            if shape.contains(x, y):
                return cid
        mine = {id(s) for s in self.shape_of.values()}
        for shape in self.shapes.values():
            if id(shape) not in mine and shape.contains(x, y):
                return self.rest_id
        return None


def _polyline(surf: pygame.Surface, colour: P.Colour, points: list[Point], width: int) -> None:
    """A thick open polyline without notches: pygame draws each segment on its own, so the
    joints of lines 3 px and wider are filled with discs."""
    pygame.draw.lines(surf, colour, False, points, width)
    if width >= 3:
        for p in points[1:-1]:
            pygame.draw.circle(surf, colour, p, width / 2)


def _shrink(points: Sequence[Point], k: float) -> list[Point]:
    """A polygon scaled by k about its centroid (the arrowhead's fill inside its dark edge)."""
    cx = sum(p[0] for p in points) / len(points)
    cy = sum(p[1] for p in points) / len(points)
    return [(cx + (x - cx) * k, cy + (y - cy) * k) for x, y in points]
