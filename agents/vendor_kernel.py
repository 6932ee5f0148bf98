"""The vendors' array cascades (agents/vendor.py) as numba kernels giving the numpy references'
numbers bit for bit: the output averaged over each vendor's mix (per_chip_all, per_chip), the
mixes the month's orders move (record_demand_all) and with them every vendor's demand ratio and
planned demand (tell_demand), the pre-orders booked ahead of a launch (preorders' logit and
sums), SMIC's wafer capacity, the markets a vendor remembers and the chips a closed market
lost. Each is a handful of numpy calls on a [vendor, chip], [country, chip] or [lab, chip]
table, asked several times a month, where numpy's per-call cost is the whole cost.

What stays in numpy: the pre-orders' np.log of value per dollar and the logit's np.exp, and the
die yield's np.exp. How the kernels keep numpy's numbers: game/core/exact.py.
tests/agents/test_kernels_rec.py and tests/agents/test_kernels_vendors.py hold them to the
references on real months.

What the caller reads at once and lets go (the demand ratios, the pre-orders' logit, the chips
a market lost) is written into arrays the vendor keeps (ChipVendor.__init__) rather than
returned: numba boxes every returned array, ~0.4 us each. What a vendor keeps (its mix, the
markets it remembers) is returned fresh.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import np_maximum, reduce_sum


@numba.njit(cache=True)
def per_chip_all_kernel(
    mine: np.ndarray,
    mixes: np.ndarray,
    has_mix: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """per_chip_all_reference from its arrays: mine [V, C] bool, mixes [V, C] (rows of
    vendors without a mix unread), has_mix [V] bool, values [C]."""
    V, C = mine.shape
    weights = np.empty((V, C))
    by_mix = np.empty(C)
    for v in range(V):
        for c in range(C):
            weights[v, c] = 1.0 if mine[v, c] else 0.0
        if has_mix[v]:
            for c in range(C):
                by_mix[c] = mixes[v, c] * (1.0 if mine[v, c] else 0.0)
            if reduce_sum(by_mix, C) > 0:
                for c in range(C):
                    weights[v, c] = by_mix[c]
    out = np.zeros(V)
    row = np.empty(C)
    for v in range(V):
        total = reduce_sum(weights[v], C)
        for c in range(C):
            row[c] = weights[v, c] * (values[c] if mine[v, c] else 0.0)
        spent = reduce_sum(row, C)
        if total > 0:
            out[v] = spent / total
    return out


@numba.njit(cache=True)
def per_chip_kernel(
    mine: np.ndarray,
    selling: np.ndarray,
    mix: np.ndarray,
    has_mix: bool,
    values: np.ndarray,
) -> float:
    """ChipVendor.per_chip_reference from its arrays: mine, selling [C] bool, mix [C] (unread
    without one), values [C]."""
    C = mine.size
    use = np.empty(C, np.bool_)
    any_selling = False
    for c in range(C):
        any_selling = any_selling or selling[c]
    for c in range(C):
        use[c] = selling[c] if any_selling else mine[c]
    weights = np.empty(C)
    for c in range(C):
        weights[c] = 1.0 if use[c] else 0.0
    if has_mix:
        by_mix = np.empty(C)
        for c in range(C):
            by_mix[c] = mix[c] * (1.0 if use[c] else 0.0)
        if reduce_sum(by_mix, C) > 0:
            weights = by_mix
    total = reduce_sum(weights, C)
    row = np.empty(C)
    for c in range(C):
        row[c] = weights[c] * (values[c] if use[c] else 0.0)
    spent = reduce_sum(row, C)
    return spent / total if total > 0 else 0.0


@numba.njit(cache=True)
def new_mixes(
    chip_vendor: np.ndarray,
    index: np.ndarray,
    row: np.ndarray,
    units: np.ndarray,
    asked: np.ndarray,
    old: np.ndarray,
    has_mix: np.ndarray,
    smoothing: float,
) -> np.ndarray:
    """record_demand_all_reference's mixes, a row for each vendor with orders (index [k], units
    [k] what it was asked, row [k] its row of old and has_mix): its share of the orders for
    its chips, or its old mix moved toward that share by `smoothing` if it has one."""
    k = index.size
    C = chip_vendor.size
    out = np.empty((k, C))
    for i in range(k):
        r = row[i]
        for c in range(C):
            share = (asked[c] if chip_vendor[c] == index[i] else 0.0) / units[i]
            if has_mix[r]:
                out[i, c] = old[r, c] + smoothing * (share - old[r, c])
            else:
                out[i, c] = share
    return out


@numba.njit(cache=True)
def preorder_logits(
    log_value: np.ndarray,
    sharpness: float,
    designs: np.ndarray,
    released: np.ndarray,
    month: int,
    last: float,
    on_sale: np.ndarray,
    variant_of: np.ndarray,
    e: np.ndarray,  # [buyer kind, chip] out (log_value itself will do: read before written)
    coming: np.ndarray,  # [chip] int64 out, its first n written
) -> int:
    """The pre-orders' logit up to its exp, written into the caller's arrays (a returned
    array costs its boxing): e the utilities less each row's finite maximum, coming the
    indices of the vendor's designs released within the lead, as preorders_reference and
    softmax_rows compute them (log_value: numpy's np.log of value per dollar). Returns n."""
    K, C = log_value.shape
    choice = np.empty(C, np.bool_)
    j = 0
    for c in range(C):
        is_coming = designs[c] and released[c] >= month and released[c] <= last
        if is_coming:
            coming[j] = c
            j += 1
        choice[c] = is_coming or (on_sale[c] and variant_of[c] < 0)
    for k in range(K):
        for c in range(C):
            e[k, c] = sharpness * log_value[k, c] if choice[c] else -np.inf
        m = e[k, 0]
        for c in range(1, C):
            m = np_maximum(m, e[k, c])
        if not np.isfinite(m):
            m = 0.0
        for c in range(C):
            e[k, c] = e[k, c] - m
    return j


@numba.njit(cache=True)
def preorder_spend(
    e: np.ndarray,
    coming: np.ndarray,  # [>= n_coming] int64
    n_coming: int,
    price: np.ndarray,
    growth_kind: np.ndarray,
    lab_access: np.ndarray,
    ported: np.ndarray,
    has_ported: bool,
    founded: np.ndarray,
    month: int,
    markets: np.ndarray,
    bloc: np.ndarray,
    budget: np.ndarray,
) -> float:
    """The pre-orders after the logit's exp (e: numpy's np.exp of preorder_logits' e): each
    row's shares (softmax_rows: over the row's pairwise sum, none if it is not positive), and
    booked_spend's sum over the labs that may buy of the vendor (founded, in its markets)."""
    K, C = e.shape
    share = np.empty((K, C))
    for k in range(K):
        s = reduce_sum(e[k], C)
        for c in range(C):
            share[k, c] = e[k, c] / s if s > 0 else 0.0
    L = growth_kind.size
    buyers = np.empty(L, np.bool_)
    for i in range(L):
        buyers[i] = founded[i] <= month and markets[bloc[i]]
    return booked_spend(
        share, coming[:n_coming], price, growth_kind, lab_access, ported, has_ported, buyers, budget
    )


@numba.njit(cache=True)
def booked_spend(
    share: np.ndarray,
    coming: np.ndarray,
    price: np.ndarray,
    growth_kind: np.ndarray,
    lab_access: np.ndarray,
    ported: np.ndarray,
    has_ported: bool,
    buyers: np.ndarray,
    budget: np.ndarray,
) -> float:
    """preorders_reference's sum after the logit: share [buyer kind, chip], coming [n] the
    coming chips' indices, lab_access [L, C], ported [L, C] (unread unless has_ported),
    buyers [L] bool, budget [L]."""
    K = share.shape[0]
    n = coming.size
    L = growth_kind.size
    per_dollar = np.empty((K, n))
    for k in range(K):
        for j in range(n):
            per_dollar[k, j] = share[k, coming[j]] / price[coming[j]]
    row = np.empty(n)
    spend = np.empty(L)
    for i in range(L):
        for j in range(n):
            x = per_dollar[growth_kind[i], j] * lab_access[i, coming[j]]
            if has_ported:
                x = x * ported[i, coming[j]]
            row[j] = x
        booked = reduce_sum(row, n)
        spend[i] = budget[i] * booked if buyers[i] else 0.0
    return reduce_sum(spend, L)


@numba.njit(cache=True)
def demand_kernel(
    chip_vendor: np.ndarray,
    units: np.ndarray,
    asked: np.ndarray,
    capacity: np.ndarray,
    recent: np.ndarray,
    old: np.ndarray,
    has_mix: np.ndarray,
    smoothing: float,
    told: np.ndarray,  # [2, V] out: [demand ratio, the demand each now plans for]
) -> np.ndarray:
    """record_demand_all_reference for vendors whose index is their place (units [V] asked of
    each, capacity [V], recent [V] the demand each planned for, old [V, C] the mixes, rows
    unread where has_mix [V] is False): writes each one's demand ratio and the demand it now
    plans for into `told` (the caller's: a returned array costs its boxing, and these are
    read at once) and returns [V, C] the new mixes (the rows of vendors with orders, the
    others unwritten: the vendors keep them)."""
    V = units.size
    C = chip_vendor.size
    ratio = told[0]
    heard = told[1]
    mixes = np.empty((V, C))
    for v in range(V):
        u = units[v]
        ratio[v] = u / capacity[v] if capacity[v] > 0 else 0.0
        heard[v] = recent[v] + smoothing * (u - recent[v])
        if u > 0:
            for c in range(C):
                share = (asked[c] if chip_vendor[c] == v else 0.0) / u
                if has_mix[v]:
                    mixes[v, c] = old[v, c] + smoothing * (share - old[v, c])
                else:
                    mixes[v, c] = share
    return mixes


@numba.njit(cache=True)
def orders_kernel(
    chip_vendor: np.ndarray,
    used: np.ndarray,
    asked: np.ndarray,
    capacity: np.ndarray,
    recent: np.ndarray,
    old: np.ndarray,
    has_mix: np.ndarray,
    smoothing: float,
    told: np.ndarray,  # [3, V] out: demand_kernel's two rows, then the units asked of each
) -> np.ndarray:
    """demand_kernel on the units asked of each vendor, summed here into told[2] as the
    model's vendor_units sums them (np.bincount of asked [C] float64 over the chips in use,
    in chip order, from 0.0). A chip in use of no vendor among the V (bincount's answer
    would not be [V]) returns a [0, C] array at once, nothing written."""
    V = told.shape[1]
    C = chip_vendor.size
    for c in range(C):
        if used[c] and (chip_vendor[c] < 0 or chip_vendor[c] >= V):
            return np.empty((0, C))
    units = told[2]
    units[:] = 0.0
    for c in range(C):
        if used[c]:
            units[chip_vendor[c]] += asked[c]
    return demand_kernel(chip_vendor, units, asked, capacity, recent, old, has_mix, smoothing, told)


@numba.njit(cache=True)
def wafer_capacity_kernel(
    dies: np.ndarray,
    gross: np.ndarray,
    die_yield: np.ndarray,
    mine: np.ndarray,
    on_sale: np.ndarray,
    mix: np.ndarray,
    has_mix: bool,
    wafers: float,
    share: float,
) -> float:
    """ChipVendor.wafer_capacity_reference after the yield's exp (die_yield: numpy's): the
    wafers a chip takes (fab.wafers_per_chip: dies over good dies, infinite where no die is
    good), averaged over the vendor's mix (per_chip_kernel: mine [C] the chips it makes,
    on_sale [C] all chips on sale), and the chips a month its wafers give."""
    C = dies.size
    per = np.empty(C)
    selling = np.empty(C, np.bool_)
    for c in range(C):
        good = gross[c] * die_yield[c]
        per[c] = dies[c] / np_maximum(good, 1e-300) if good > 0 else np.inf
        selling[c] = mine[c] and on_sale[c]
    per_chip = per_chip_kernel(mine, selling, mix, has_mix, per)
    return wafers * share / per_chip if per_chip > 0 else 0.0


@numba.njit(cache=True)
def free_markets(
    access: np.ndarray, on_sale: np.ndarray, mine: np.ndarray, subject: np.ndarray
) -> np.ndarray:
    """ChipVendor.remember_markets' [country, chip] table: could the country buy the chip
    freely (access at least 1), among the vendor's chips on sale that the rules are about."""
    K, C = access.shape
    out = np.empty((K, C), np.bool_)
    for k in range(K):
        for c in range(C):
            out[k, c] = access[k, c] >= 1.0 and on_sale[c] and mine[c] and subject[c]
    return out


@numba.njit(cache=True)
def lost_chips(
    on_sale: np.ndarray,
    mine: np.ndarray,
    available_from: np.ndarray,
    variant_of: np.ndarray,
    end_of_sale: np.ndarray,
    before: np.ndarray,
    free: np.ndarray,
    subject: np.ndarray,
    month: int,
    lost: np.ndarray,  # [chip] int64 out: the chips lost, first n
    retired: np.ndarray,  # [chip] bool out
) -> int:
    """ChipVendor._lost_reference from its arrays ([chip] each; before and free the market's
    row of last month's and this month's free access), written into the caller's arrays (a
    returned array costs its boxing): the chips lost to the market in chip order, the first
    n of `lost`, and [chip] retired. Returns n."""
    C = on_sale.size
    has_variant = False
    for c in range(C):
        if free[c] and variant_of[c] >= 0:
            has_variant = True
    n = 0
    for c in range(C):
        sells = on_sale[c] and mine[c]
        launched = sells and available_from[c] == month and variant_of[c] < 0 and not has_variant
        retired[c] = before[c] and variant_of[c] >= 0 and end_of_sale[c] == month
        caught = (before[c] or launched) and sells and not free[c] and subject[c]
        if caught or retired[c]:
            lost[n] = c
            n += 1
    return n
