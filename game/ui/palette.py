"""Every colour the game draws, in one place.

Why these colours: the hues come from the Okabe-Ito palette (Okabe & Ito, "Color Universal
Design", 2008), eight colours chosen to stay distinguishable for the common forms of colour
blindness (protanopia, deuteranopia, tritanopia). Colour is still never the only cue: flow kinds
also differ by dash pattern, seizures by a marker shape, tiers by hatching. The neutrals match
the dark pygame_gui theme in assets/ui/theme.json, so the map sits in the same window as the
panels without a seam. The compute ramp varies mainly in lightness (dark slate to pale ice),
which every viewer reads in order, and it stays clear of the saturated flow colours so the
arcs drawn on top of shaded countries keep their contrast.
"""

from __future__ import annotations

import math

Colour = tuple[int, int, int]

# ----------------------------------------------------------------------------- Okabe-Ito
BLACK: Colour = (0, 0, 0)
ORANGE: Colour = (230, 159, 0)  # E69F00
SKY_BLUE: Colour = (86, 180, 233)  # 56B4E9
BLUISH_GREEN: Colour = (0, 158, 115)  # 009E73
YELLOW: Colour = (240, 228, 66)  # F0E442
BLUE: Colour = (0, 114, 178)  # 0072B2
VERMILLION: Colour = (213, 94, 0)  # D55E00
REDDISH_PURPLE: Colour = (204, 121, 167)  # CC79A7
GREY: Colour = (153, 153, 153)  # 999999, the neutral R's palette.colors("Okabe-Ito") adds

# ----------------------------------------------------------------------------- dark UI theme
BACKGROUND: Colour = (20, 25, 34)  # theme dark_bg #141922: panels and window
OCEAN: Colour = (16, 22, 32)  # a touch darker and bluer than panels, so land reads as land
OCEAN_GRID: Colour = (24, 32, 45)  # graticule lines: orientation without competing with data
LAND: Colour = (46, 54, 68)  # neutral land, not in the game's list of countries
BORDER: Colour = (72, 84, 104)  # borders: visible on land, quiet next to the data
COAST: Colour = (86, 100, 124)
TEXT: Colour = (230, 233, 239)  # theme normal_text #e6e9ef
TEXT_DIM: Colour = (185, 194, 208)  # theme @small #b9c2d0
TEXT_HALO: Colour = (10, 13, 19)  # outline behind labels so they read over any fill
SELECTED: Colour = (240, 199, 110)  # theme focus gold #f0c76e: "this one is selected"
LEGEND_BG: Colour = (14, 17, 23)  # theme tool_tip bg #0e1117
LEGEND_BORDER: Colour = (58, 69, 88)  # theme normal_border #3a4558
FLOW_CASING: Colour = (8, 10, 14)  # dark edge under every arc, for contrast over pale land

# ----------------------------------------------------------------------------- blocs
# The US in blue and China in vermillion follow the usual press convention while staying
# colour-blind safe as a pair; allies get bluish green (a cousin of the US blue); the rest of
# the world, not a contender, a neutral grey (and reddish purple stays free for rented compute).
# Sky blue, not dark blue, for the US: dark blue vanishes on a dark theme.
BLOC: dict[str, Colour] = {
    "us": SKY_BLUE,
    "china": VERMILLION,
    "allies": BLUISH_GREEN,
    "rest": GREY,
}

# ----------------------------------------------------------------------------- flows
# Each kind also has its own dash pattern (game.ui.world_map.DASHES), so the colours only
# reinforce what the line's texture already says. Smuggled chips get orange, the most
# attention-grabbing hue that is not the seizure marker's vermillion.
FLOW: dict[str, Colour] = {
    "legal": SKY_BLUE,
    "compliant": YELLOW,  # downgraded chips that fit under the rules: "caution", not "stop"
    "rented": REDDISH_PURPLE,  # cloud access, not chips that move
    "smuggled": ORANGE,
}
SEIZURE: Colour = VERMILLION  # filled circle with a white cross
SEIZURE_MARK: Colour = (255, 255, 255)
SEIZURE_TEXT: Colour = (255, 178, 140)  # the count next to it: vermillion lightened to read

# ----------------------------------------------------------------------------- tiers
# Restricted and embargoed destinations are hatched (texture, not just colour).
TIER_HATCH: Colour = (255, 140, 90)

# ----------------------------------------------------------------------------- compute ramp
# Sequential, from just above the neutral land to pale ice blue; monotone in lightness.
RAMP: tuple[Colour, ...] = (
    (52, 66, 84),
    (58, 84, 112),
    (68, 106, 140),
    (88, 132, 166),
    (122, 162, 190),
    (168, 196, 216),
    (214, 230, 240),
)
# The ramp covers 10^3..10^8 H100e on a log scale: fixed, not relative to this month's maximum,
# so a country that gets darker really lost compute.
RAMP_LOG10_MIN = 3.0
RAMP_LOG10_MAX = 8.0
ROW_STRENGTH = 0.45  # the rest of the world is shaded lightly: it is many countries at once


def mix(a: Colour, b: Colour, t: float) -> Colour:
    """Linear blend from a (t=0) to b (t=1), clamped."""
    t = min(1.0, max(0.0, t))
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def ramp(t: float) -> Colour:
    """The sequential compute ramp at t in [0, 1] (clamped), interpolating between stops."""
    t = min(1.0, max(0.0, t)) * (len(RAMP) - 1)
    i = min(int(t), len(RAMP) - 2)
    return mix(RAMP[i], RAMP[i + 1], t - i)


def compute_level(h100e: float) -> float:
    """Where a compute stock sits on the ramp, 0..1, on the fixed log scale (0 for nothing)."""
    if h100e <= 0:
        return 0.0
    span = RAMP_LOG10_MAX - RAMP_LOG10_MIN
    return min(1.0, max(0.0, (math.log10(h100e) - RAMP_LOG10_MIN) / span))


def compute_colour(h100e: float, strength: float = 1.0) -> Colour:
    """Fill for a country holding h100e H100-equivalents; strength < 1 blends towards LAND
    (used for the rest of the world, which is shaded lightly)."""
    return mix(LAND, ramp(compute_level(h100e)), strength)
