"""What China's domestic AI chips are made of, as arithmetic: wafers, dies, yield and HBM stacks.

Domestic accelerators are not a number that compounds by itself: each is cut from SMIC's
7 nm-class wafers (a few hundred large dies a month for every thousand wafers given to AI
chips), loses the dies a defect kills, may need two dies in one package (the Ascend 910C), and
cannot ship without its HBM stacks. These functions turn those physical quantities into chips;
the Huawei vendor (agents/vendor.py) and the market view's HBM cap (game/sim/market_view.py)
hold the state and apply the policy. All functions take numpy arrays over chips.
"""

from __future__ import annotations

import functools

import numpy as np

from game.core.market import clip_float

WAFER_DIAMETER_MM = 300.0  # SMIC's advanced lines run 300 mm wafers
RETICLE_LIMIT_MM2 = 858.0  # a 26 x 33 mm exposure field: no single die is larger
MM2_PER_CM2 = 100.0


def dies_per_package(package_area_mm2: np.ndarray) -> np.ndarray:
    """Dies in a package: a package larger than the reticle is several dies side by side (the
    910C's 1,330 mm2 is two 910B-class dies). At least one."""
    return np.maximum(1.0, np.ceil(np.asarray(package_area_mm2, float) / RETICLE_LIMIT_MM2))


def gross_dies_per_wafer(die_mm2: np.ndarray) -> np.ndarray:
    """Whole dies of this area on a round wafer: the wafer's area over the die's, less the
    partial dies lost along the edge (the usual first-order estimate)."""
    a = np.asarray(die_mm2, float)
    d = WAFER_DIAMETER_MM
    return np.maximum(0.0, np.pi * (d / 2.0) ** 2 / a - np.pi * d / np.sqrt(2.0 * a))


def die_yield(die_mm2: np.ndarray, defects_per_cm2: float) -> np.ndarray:
    """Share of dies with no killer defect (Poisson): large AI dies suffer most from a young
    process, which is why the same fab yields far fewer Ascends than phone chips."""
    return np.exp(-defects_per_cm2 * np.asarray(die_mm2, float) / MM2_PER_CM2)


def die_yield_into(die_mm2: np.ndarray, defects_per_cm2: float, out: np.ndarray) -> np.ndarray:
    """die_yield's numbers written into `out` (float64, die_mm2's shape) and returned: the
    same three numpy calls in the same grouping, without the arrays they would allocate
    (SMIC's capacity asks it every month)."""
    np.multiply(-defects_per_cm2, die_mm2, out=out)
    np.divide(out, MM2_PER_CM2, out=out)
    return np.exp(out, out=out)


def die_geometry(package_area_mm2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dies per package, each die's area, whole dies per wafer) of packages of these areas:
    wafers_per_chip's terms besides the yield, kept by contents (read-only)."""
    area = np.asarray(package_area_mm2, float)
    return _die_geometry(area.tobytes(), area.shape)


@functools.lru_cache(maxsize=8)
def _die_geometry(raw: bytes, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dies per package, each die's area and whole dies per wafer of packages of these areas
    (float64 `raw`): what wafers_per_chip needs besides the yield, kept by contents because
    SMIC's capacity asks it every month of the same catalogue (read-only)."""
    area = np.frombuffer(raw, float).reshape(shape)
    dies = dies_per_package(area)
    die = area / dies
    gross = gross_dies_per_wafer(die)
    for a in (dies, die, gross):
        a.flags.writeable = False
    return dies, die, gross


def wafers_per_chip(package_area_mm2: np.ndarray, defects_per_cm2: float) -> np.ndarray:
    """[chip] wafers it takes to make one good package: its dies over the good dies a wafer
    gives. Infinite for a die too large for a wafer."""
    dies, die, gross = die_geometry(package_area_mm2)
    good = gross * die_yield(die, defects_per_cm2)
    some = good > 0
    if some.all():  # the usual catalogue: no die too large, nothing to guard
        return dies / np.maximum(good, 1e-300)
    with np.errstate(divide="ignore"):
        return np.where(some, dies / np.maximum(good, 1e-300), np.inf)


def hbm_stacks_per_chip(memory_gb: np.ndarray, gb_per_stack: float) -> np.ndarray:
    """[chip] HBM stacks on a package: its memory over one stack's (64 GB: four stacks).
    Kept by contents (_stacks): the stockpile's draw asks it every month of the same
    catalogue (read-only)."""
    memory = np.asarray(memory_gb, float)
    return _stacks(memory.tobytes(), memory.shape, gb_per_stack)


@functools.lru_cache(maxsize=8)
def _stacks(raw: bytes, shape: tuple[int, ...], gb_per_stack: float) -> np.ndarray:
    out = np.ceil(np.frombuffer(raw, float).reshape(shape) / gb_per_stack - 1e-9)
    out.flags.writeable = False
    return out


def growth_factor(drag: float, boost: float) -> float:
    """Share of the fastest possible growth a Chinese fab base achieves: controls take `drag`
    of it, the subsidy gives back `boost`, and nothing makes it grow faster than its physical
    best (1) or shrink (0)."""
    return clip_float(1.0 - drag + boost, 0.0, 1.0)


def logistic_step(x: float, ceiling: float, log_growth_per_year: float, months: float) -> float:
    """`x` after `months` of logistic growth toward `ceiling` at the initial yearly log-rate:
    exponential while small, flattening as fabs fill the space and tools there is to fill.
    Negative `months` runs it backwards (to find the start that reaches a reference)."""
    if x <= 0.0:
        return 0.0
    return float(ceiling / (1.0 + (ceiling / x - 1.0) * np.exp(-log_growth_per_year * months / 12)))


def learn_defects(defects: float, floor: float, rate_per_year: float, months: float) -> float:
    """Defect density after `months` of process learning: the gap to the floor the process can
    reach closes at `rate_per_year` (negative `months` runs it backwards)."""
    return float(floor + (defects - floor) * np.exp(-rate_per_year * months / 12.0))
