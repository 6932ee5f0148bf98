"""The world map: its data covers every game country, it draws a real month at common window
sizes, clicks find the right country, flow kinds are told apart by their dash patterns (not only
by colour), the legend explains them, and a frame is cheap. Headless (SDL dummy drivers)."""

from __future__ import annotations

import dataclasses
import math
import os
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402
import pytest  # noqa: E402

from game.config.world import default_world_data  # noqa: E402
from game.play.view import FLOW_KINDS, Flow, MapState, WorldView  # noqa: E402
from game.sim.model import ChipWarModel  # noqa: E402
from game.ui import palette as P  # noqa: E402
from game.ui.world_map import (  # noqa: E402
    DASHES,
    MAP_PATH,
    WorldMap,
    dash_intervals,
    load_map_data,
    project,
)

SIZE = (1280, 800)


@pytest.fixture(scope="module")
def display():
    pygame.init()
    yield
    pygame.quit()


@pytest.fixture()
def screen(display) -> pygame.Surface:
    """A fresh 1280x800 display surface for each test (some tests switch sizes)."""
    return pygame.display.set_mode(SIZE)


@pytest.fixture(scope="module")
def states() -> dict[int, MapState]:
    """Real months from the model: 30 (as the UI sees it early on) and, under the key 42, the
    first month from 42 on with seizures on the map."""
    model = ChipWarModel("historical", rng=1)
    model.run(30)
    early = WorldView(model).map_state()
    model.run(12)
    late = WorldView(model).map_state()
    while not late.seizures and model.turn < 72:
        model.run(1)
        late = WorldView(model).map_state()
    return {30: early, 42: late}


@pytest.fixture(scope="module")
def map_data() -> dict:
    return load_map_data()


@pytest.fixture()
def world_map(screen, map_data) -> WorldMap:
    wm = WorldMap(map_data, default_world_data().countries)
    wm.layout(pygame.Rect(0, 0, *SIZE))
    return wm


def screen_xy(wm: WorldMap, lat: float, lon: float) -> tuple[int, int]:
    x, y = project(lat, lon, wm.projection)
    m = wm.map_rect
    return round(wm.rect.x + m.x + x * m.w), round(wm.rect.y + m.y + y * m.h)


def only(state: MapState, *flows: Flow) -> MapState:
    return dataclasses.replace(state, flows=tuple(flows), seizures={})


def middle_of(path: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every pixel along the middle 70% of a polyline (1 px steps): away from the anchors,
    arrowheads and the labels next to them."""
    out = []
    for (x0, y0), (x1, y1) in zip(path, path[1:], strict=False):
        n = max(1, round(math.hypot(x1 - x0, y1 - y0)))
        out += [(round(x0 + (x1 - x0) * i / n), round(y0 + (y1 - y0) * i / n)) for i in range(n)]
    k = len(out) * 15 // 100
    return out[k:-k]


# ----------------------------------------------------------------------------- data
def test_map_data_covers_every_game_country(map_data):
    assert map_data["attribution"] == "Made with Natural Earth"
    assert MAP_PATH.stat().st_size < 400_000
    countries = default_world_data().countries
    for c in countries:
        if c.iso3 is None:
            continue  # the rest of the world: every other polygon
        if c.iso3 == "SGP":
            assert "SGP" in map_data["points"], "Singapore is too small for polygons: a point"
        else:
            assert map_data["countries"][c.iso3]["polygons"], c.iso3
    assert "ATA" not in map_data["countries"]  # Antarctica dropped
    assert "FRA" in map_data["countries"] and "NOR" in map_data["countries"]
    assert len(map_data["countries"]) > 150  # the whole world, not just the game's countries
    for entry in map_data["countries"].values():
        for poly in entry["polygons"]:
            for ring in poly:
                assert len(ring) % 2 == 0 and len(ring) >= 6
                assert 0.0 <= min(ring) and max(ring) <= 1.0


def test_projection_matches_the_points_in_the_file(map_data):
    sgp = map_data["points"]["SGP"]
    x, y = project(sgp["lat"], sgp["lon"], map_data["projection"])
    assert abs(x - sgp["x"]) < 1e-3 and abs(y - sgp["y"]) < 1e-3


# ----------------------------------------------------------------------------- drawing
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_renders_a_real_month(screen, map_data, states, size):
    surface = pygame.display.set_mode(size)
    wm = WorldMap(map_data, default_world_data().countries)
    wm.layout(pygame.Rect(0, 40, size[0], size[1] - 160))
    state = states[30]
    assert len(state.flows) >= 10
    wm.draw(surface, state, 0.5, selected="china")
    # Kansas is inside the US and far from every arc: shaded by the US's compute
    kansas = surface.get_at(screen_xy(wm, 39.0, -100.0))[:3]
    assert kansas == P.compute_colour(state.compute_h100e["us"])
    # the mid-Pacific is ocean
    assert surface.get_at(screen_xy(wm, 10.0, -140.0))[:3] == P.OCEAN
    # the US holds more compute than Japan, so it is drawn lighter
    assert sum(kansas) > sum(P.compute_colour(state.compute_h100e["japan"]))


def test_layout_is_cached_and_moves_with_its_rect(world_map):
    base = world_map._base
    before = world_map.anchor("china")
    world_map.layout(pygame.Rect(0, 0, *SIZE))
    assert world_map._base is base
    world_map.layout(pygame.Rect(10, 20, *SIZE))
    assert world_map._base is base  # same size: not redrawn, only shifted
    assert world_map.anchor("china") == (before[0] + 10, before[1] + 20)
    world_map.layout(pygame.Rect(0, 0, 1000, 600))
    assert world_map._base is not base


# ----------------------------------------------------------------------------- hit test
def test_country_at(world_map):
    assert world_map.country_at(world_map.anchor("china")) == "china"
    assert world_map.country_at(world_map.anchor("us")) == "us"
    assert world_map.country_at(world_map.anchor("india")) == "india"
    x, y = world_map.anchor("singapore")
    assert world_map.country_at((x + 2, y + 1)) == "singapore"
    assert world_map.country_at(screen_xy(world_map, 0.0, -150.0)) is None  # mid-Pacific
    assert world_map.country_at(screen_xy(world_map, -10.0, -55.0)) == "row"  # Brazil
    assert world_map.country_at(screen_xy(world_map, 60.0, 100.0)) == "row"  # Siberia
    assert world_map.country_at((-5, -5)) is None  # off the map


# ----------------------------------------------------------------------------- flows
def test_dash_patterns_differ_by_kind():
    assert set(DASHES) == set(FLOW_KINDS)
    assert dash_intervals(100.0, DASHES["legal"]) == [(0.0, 100.0)]  # solid
    patterns = {k: (d.on, d.off) if d else None for k, d in DASHES.items()}
    assert len(set(patterns.values())) == len(FLOW_KINDS), "every kind needs its own texture"
    assert DASHES["rented"].on == 0  # dots
    assert DASHES["compliant"].on > DASHES["smuggled"].on  # long vs short dashes
    smuggled = DASHES["smuggled"]
    spans = dash_intervals(110.0, smuggled)
    drawn = sum(b - a for a, b in spans)
    assert 0.3 * 110 < drawn < 0.8 * 110
    assert smuggled.speed > 0 and all(
        DASHES[k] is None or not DASHES[k].speed for k in FLOW_KINDS if k != "smuggled"
    )
    moved = dash_intervals(110.0, smuggled, offset=3.0)
    assert moved[1][0] == pytest.approx(spans[1][0] + 3.0)  # dashes travel forwards


def flow_pixels(wm, screen, state, flow, t=0.0) -> tuple[float, list]:
    """Share of the arc's centreline painted in the flow's colour, and those pixels. A pixel
    counts if it or its neighbour above or below has the colour: a thick line drawn by pygame
    sits up to a pixel off the ideal centreline (the test flows run roughly east-west)."""
    wm.draw(screen, only(state, flow), t)
    colour = P.FLOW[flow.kind]
    pts = middle_of(wm.flow_path(flow))
    hits = [
        (x, y) for x, y in pts if any(screen.get_at((x, y + d))[:3] == colour for d in (-1, 0, 1))
    ]
    return len(hits) / len(pts), hits


def test_smuggled_arcs_are_dashed_and_move_legal_ones_are_solid(world_map, screen, states):
    state = states[30]
    legal = Flow("us", "row", "legal", 20_000)
    smuggled = Flow("us", "row", "smuggled", 20_000)
    solid_share, _ = flow_pixels(world_map, screen, state, legal)
    dashed_share, at_0 = flow_pixels(world_map, screen, state, smuggled, t=0.0)
    assert solid_share > 0.9, "a legal flow is one continuous line"
    assert 0.25 < dashed_share < 0.75, "a smuggled flow has gaps between its dashes"
    _, later = flow_pixels(world_map, screen, state, smuggled, t=0.1)
    assert set(at_0) != set(later), "smuggled dashes move with t"


def test_seizures_are_marked(world_map, screen, states):
    state = dataclasses.replace(states[30], seizures={"uae": 5000})
    world_map.draw(screen, state, 0.0)
    x, y = world_map.anchor("uae")
    patch = [screen.get_at((x + dx, y + dy))[:3] for dx in range(-6, 7) for dy in range(-6, 7)]
    assert P.SEIZURE in patch and P.SEIZURE_MARK in patch


def test_legend_lists_the_four_kinds(world_map, screen, states):
    keys = [k for k, _ in world_map.legend_items()]
    for kind in FLOW_KINDS:
        assert kind in keys
    texts = " ".join(t for _, t in world_map.legend_items())
    for word in ("legal", "compliant", "rented", "smuggled", "seized"):
        assert word in texts
    world_map.draw(screen, only(states[30]), 0.0)
    legend = screen.subsurface(world_map._legend_rect)
    colours = {
        legend.get_at((x, y))[:3]
        for x in range(legend.get_width())
        for y in range(legend.get_height())
    }
    assert all(P.FLOW[k] in colours for k in FLOW_KINDS), "each kind's sample is drawn"


# ----------------------------------------------------------------------------- speed, picture
def test_frame_time_and_screenshot(world_map, screen, states):
    state = states[42]
    extra = tuple(Flow("china", c, "legal", 50) for c in ("korea", "japan", "vietnam"))
    state = dataclasses.replace(state, flows=state.flows + extra)
    assert len(state.flows) >= 20 and state.seizures
    world_map.draw(screen, state, 0.0)
    t0 = time.perf_counter()
    for i in range(200):
        world_map.draw(screen, state, i / 60, selected="china")
    per_frame = (time.perf_counter() - t0) / 200
    print(f"world map: {per_frame * 1e3:.2f} ms per frame, {len(state.flows)} flows")
    assert per_frame < 0.008  # target 3 ms; loose here so a busy CI machine does not fail
    pygame.image.save(screen, "/tmp/world_map.png")
