"""The market view's arithmetic (game/sim/market_view.py) as numba kernels, each giving its
numpy reference's answer bit for bit: the chip brokers deal in (_gray_chip_reference), the rule
engine (_rule_engine_reference: classify, access, the labs' rows, what some lab may not buy,
the capped and closed countries), prices (_price_reference), the HBM bound on China's vendors
(_hbm_bound_reference) and the purchase values around their numpy powers (_value_reference).
Each replaces a run of small numpy calls on [chip] or [country, chip] arrays made once or twice a
month. How they keep numpy's numbers: game/core/exact.py (products and quotients grouped as
numpy groups them; np.argmax's first of the largest, a NaN first of all; np.minimum's pick
between equal numbers; np.add.reduce's pairwise sum). tests/agents/test_kernels_brk.py and
tests/agents/test_kernels_view2.py hold them to the references on real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import reduce_sum
from game.core.rules import CAPPED, CONTROLLED, EMBARGOED, NOTIFIED, RESTRICTED, UNCONTROLLED


@numba.njit(cache=True)
def gray_chip(
    wanted: np.ndarray,
    value: np.ndarray,
    price: np.ndarray,
    load: np.ndarray,
) -> int:
    """[chip] masks and figures -> the chip of most value per unit of a ring's capacity among
    those wanted, or -1 if none is."""
    n = wanted.size
    any_wanted = False
    for j in range(n):
        if wanted[j]:
            any_wanted = True
            break
    if not any_wanted:
        return -1
    best = 0
    v = value[0] / (price[0] * load[0]) if wanted[0] else -1.0
    if v != v:
        return 0
    for j in range(1, n):
        x = value[j] / (price[j] * load[j]) if wanted[j] else -1.0
        if x != x:
            return j
        if x > v:
            v = x
            best = j
    return best


@numba.njit(cache=True)
def _minimum(a: float, b: float) -> float:
    """np.minimum(a, b) on float64 arrays: NaN from either side propagates, and of two equal
    numbers the second (so of 0.0 and -0.0, the second's sign, as numpy's SIMD loop gives)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@numba.njit(cache=True)
def rules_kernel(
    tpp: np.ndarray,
    density: np.ndarray,
    interconnect: np.ndarray,
    subject: np.ndarray,
    thresholds: np.ndarray,
    chip_export: np.ndarray,
    tier: np.ndarray,
    listed: np.ndarray,
    lab_country: np.ndarray,
    licence_approval: float,
    notify_approval: float,
    cap: float,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool, bool
]:
    """market_view._rule_engine_reference in one call: game.core.rules.classify, access for
    every country (none listed), the labs' rows of it with the entity list's rows closed to
    subject chips, [chip] whether some lab may not buy all it wants (and of those, the subject
    ones), [country] capped and closed, and whether any is (selects and comparisons only:
    exact). `thresholds`: Thresholds' six fields in their order."""
    control_tpp, control_interconnect, density_tpp = thresholds[0], thresholds[1], thresholds[2]
    control_density, notify_tpp, notify_density = thresholds[3], thresholds[4], thresholds[5]
    n = tpp.size
    chip_class = np.empty(n, np.int8)
    restricted = np.empty(n)  # [chip] share allowed to a restricted destination
    for j in range(n):
        controlled = False
        if control_tpp > 0:
            by_tpp = tpp[j] >= control_tpp
            if control_interconnect > 0:
                by_tpp = by_tpp and interconnect[j] >= control_interconnect
            controlled = by_tpp
        if control_density > 0:
            controlled = controlled or (tpp[j] >= density_tpp and density[j] >= control_density)
        notified = False
        if notify_tpp > 0:
            notified = (not controlled) and tpp[j] >= notify_tpp and density[j] >= notify_density
        c = CONTROLLED if controlled else (NOTIFIED if notified else UNCONTROLLED)
        chip_class[j] = c if subject[j] else UNCONTROLLED
        cls = chip_class[j]
        share = licence_approval if cls == CONTROLLED else (
            notify_approval if cls == NOTIFIED else 1.0
        )
        if chip_export[j] == 1:
            share = _minimum(share, licence_approval)
        if chip_export[j] == 2:
            share = 1.0
        restricted[j] = share
    n_countries = tier.size
    country_access = np.empty((n_countries, n))
    for k in range(n_countries):
        for j in range(n):
            if not subject[j]:
                country_access[k, j] = 1.0
            elif tier[k] == EMBARGOED:
                country_access[k, j] = 0.0
            elif tier[k] == RESTRICTED:
                country_access[k, j] = restricted[j]
            else:
                country_access[k, j] = 1.0
    n_labs = lab_country.size
    lab_access = np.empty((n_labs, n))
    limited = np.zeros(n, np.bool_)
    for i in range(n_labs):
        for j in range(n):
            if listed[i]:
                x = 0.0 if subject[j] else 1.0
            else:
                x = country_access[lab_country[i], j]
            lab_access[i, j] = x
            if x < 1.0:
                limited[j] = True
    subject_limited = np.empty(n, np.bool_)
    for j in range(n):
        subject_limited[j] = subject[j] and limited[j]
    capped = np.empty(n_countries, np.bool_)
    closed = np.empty(n_countries, np.bool_)
    any_capped = False
    any_closed = False
    for k in range(n_countries):
        capped[k] = tier[k] == CAPPED and cap > 0
        closed[k] = tier[k] == RESTRICTED or tier[k] == EMBARGOED
        any_capped = any_capped or capped[k]
        any_closed = any_closed or closed[k]
    return (
        chip_class,
        country_access,
        lab_access,
        limited,
        subject_limited,
        capped,
        closed,
        any_capped,
        any_closed,
    )


@numba.njit(cache=True)
def price_kernel(
    list_price: np.ndarray, premium: np.ndarray, vendor: np.ndarray, minerals: np.ndarray
) -> np.ndarray:
    """market_view._price_reference: [chip] list price x (1 + its vendor's premium) x the
    mineral controls' factor, grouped as numpy groups it."""
    n = list_price.size
    out = np.empty(n)
    for j in range(n):
        out[j] = list_price[j] * (1.0 + premium[vendor[j]]) * minerals[j]
    return out


@numba.njit(cache=True)
def hbm_bound(cap: np.ndarray, per_chip: np.ndarray, china: np.ndarray, have: float) -> None:
    """market_view._hbm_bound_reference in place on [vendor] `cap`: China's vendors' output
    scaled down to the HBM stacks they `have` when their chips need more (the need summed as
    np.add.reduce sums the selected products, exact.reduce_sum)."""
    n = 0
    for k in range(cap.size):
        if china[k]:
            n += 1
    need_each = np.empty(n)
    n = 0
    for k in range(cap.size):
        if china[k]:
            need_each[n] = cap[k] * per_chip[k]
            n += 1
    need = reduce_sum(need_each, n)
    if need > have:
        scale = have / need
        for k in range(cap.size):
            if china[k]:
                cap[k] *= scale


@numba.njit(cache=True)
def value_bases(
    gap0: np.ndarray, gap_scales: np.ndarray, ecosystem: np.ndarray, specs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """game.sim.month_kernel.value_factors' numbers for a run of months at once, laid out for
    the powers: [month, chip] usable FLOP/s, and [5, month, chip] rows (row 0 left for the
    training power, then bandwidth, H100 equivalents, bandwidth, and H100 equivalents again
    as the training power's base), each row one contiguous block over the months.
    `gap_scales`: [month] the share of each ecosystem's starting gap left that month.
    `specs`: [peak FLOP/s, H100 equivalents, links factor, bandwidth against an H100's; chip]."""
    n_months = gap_scales.size
    n = ecosystem.size
    flops = np.empty((n_months, n))
    bases = np.empty((5, n_months, n))
    for t in range(n_months):
        for c in range(n):
            eco = 1.0 - gap0[ecosystem[c]] * gap_scales[t]
            flops[t, c] = specs[0, c] * eco * specs[2, c]
            compute = specs[1, c] * eco * specs[2, c]
            bandwidth = specs[3, c] * eco
            bases[0, t, c] = 0.0
            bases[1, t, c] = bandwidth
            bases[2, t, c] = compute
            bases[3, t, c] = bandwidth
            bases[4, t, c] = compute
    return flops, bases


@numba.njit(cache=True)
def purchase_rows(powers: np.ndarray, used: np.ndarray, n_months: int) -> np.ndarray:
    """game.sim.month_kernel.purchase_table of each month from its four powers: `powers` is
    value_bases' rows 0 to 3 raised, [4, month, chip] flattened; -> [month, 2, chip]."""
    n = used.size
    block = n_months * n
    out = np.empty((n_months, 2, n))
    for t in range(n_months):
        at = t * n
        for c in range(n):
            if used[c]:
                out[t, 0, c] = powers[at + c] * powers[block + at + c]
                out[t, 1, c] = powers[2 * block + at + c] * powers[3 * block + at + c]
            else:
                out[t, 0, c] = 0.0
                out[t, 1, c] = 0.0
    return out


@numba.njit(cache=True)
def routes_open(
    transit: np.ndarray,  # [K] bool: a transit hub
    country_access: np.ndarray,  # [K, C]
    g: int,  # the gray chip
    country_bloc: np.ndarray,  # [K] int64
    china_bloc: int,
    cap_left: np.ndarray,  # [K] H100e left under the cap (inf: uncapped)
) -> np.ndarray:
    """market_view._routes_open_reference for a gray chip: [route] the transit countries,
    in order, where the chip may be bought freely, outside China's bloc, with cap left (the
    comparisons numpy's: false on NaN)."""
    K = transit.size
    out = np.empty(K, np.int64)
    n = 0
    for k in range(K):
        if (
            transit[k]
            and country_access[k, g] >= 1.0
            and country_bloc[k] != china_bloc
            and cap_left[k] > 0
        ):
            out[n] = k
            n += 1
    return out[:n]
