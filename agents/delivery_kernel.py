"""The labs' delivery (agents.lab._deliver_reference) after the generator's draws, as one numba
kernel giving its numbers bit for bit: rounding to whole chips, the cost and its overshoot,
the cash, the ledger's rows and the gray orders were some thirty numpy calls on [lab, chip]
tables a month, each costing more in dispatch than in arithmetic.

What stays in numpy: the draws themselves (model.rng.random, the same count in the same order,
so the generator's stream is untouched) and the calls into the ledger and the books. How the
kernel keeps numpy's numbers: game/core/exact.py. tests/agents/test_kernels_lab.py holds it to
the numpy reference on real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import np_maximum, reduce_sum


@numba.njit(cache=True)
def _whole(x: float, draw: float) -> np.int64:
    """game.core.market.whole_units of one number with its draw."""
    x = np_maximum(x, 0.0)
    base = np.floor(x)
    return np.int64(base + (1.0 if draw < x - base else 0.0))


@numba.njit(cache=True)
def _cost_into(
    got_d: np.ndarray,
    got_r: np.ndarray,
    direct_price: np.ndarray,
    rental_price: np.ndarray,
    row: int,
    cost: np.ndarray,
) -> None:
    """[lab] np.add.reduce(got_d * direct_price, axis=1) + the same of the rentals."""
    n_labs, n_chips = got_d.shape
    for i in range(n_labs):
        for c in range(n_chips):
            row[c] = got_d[i, c] * direct_price[i, c]
        a = reduce_sum(row, n_chips)
        for c in range(n_chips):
            row[c] = got_r[i, c] * rental_price[c]
        cost[i] = a + reduce_sum(row, n_chips)


@numba.njit(cache=True)
def deliver_arrays(
    units: np.ndarray,  # [L, S] fractional units (S = 2C + 1: bought, rented, gray)
    draws: np.ndarray,  # [2 L C (+ L)] the generator's uniform draws, in whole_units' order
    gray: bool,  # a gray chip is on offer (the last column is rounded too)
    direct_price: np.ndarray,  # [L, C]
    rental_price: np.ndarray,  # [C]
    provenance: np.ndarray,  # [L, C] int64: how a direct purchase is booked
    rented: int,  # the ledger's RENTED provenance
    has_host: bool,  # a rental host exists (rentals are installed)
    gray_price: float,
    cash: np.ndarray,  # [L] in/out
    spent_month: np.ndarray,  # [L] out
    escrow: np.ndarray,  # [L] in/out
    gray_order: np.ndarray,  # [L] int64 out
) -> tuple:
    """_deliver's arithmetic: returns got_d, got_r [L, C] int64, cost [L], the nonzero cells
    (h_d, c_d, prov_d, qty_d, h_r, qty_r), the rows to install (h, c, prov, qty), the chips
    bought per lab and whether any lab's rounding overshot its cash."""
    n_labs = units.shape[0]
    n_chips = rental_price.size
    got_d = np.empty((n_labs, n_chips), np.int64)
    got_r = np.empty((n_labs, n_chips), np.int64)
    cost = np.empty(n_labs)
    bought = np.empty(n_labs, np.int64)
    flows, rows, overshot = deliver_into(
        units, draws, gray, direct_price, rental_price, provenance, rented, has_host,
        gray_price, cash, spent_month, escrow, gray_order, got_d, got_r, cost, bought,
    )
    return got_d, got_r, cost, flows, rows, bought, overshot


@numba.njit(cache=True)
def deliver_into(
    units: np.ndarray,  # deliver_arrays' arguments, as there
    draws: np.ndarray,
    gray: bool,
    direct_price: np.ndarray,
    rental_price: np.ndarray,
    provenance: np.ndarray,
    rented: int,
    has_host: bool,
    gray_price: float,
    cash: np.ndarray,
    spent_month: np.ndarray,
    escrow: np.ndarray,
    gray_order: np.ndarray,
    got_d: np.ndarray,  # [L, C] int64 out
    got_r: np.ndarray,  # [L, C] int64 out
    cost: np.ndarray,  # [L] out
    bought: np.ndarray,  # [L] int64 out
) -> tuple:
    """deliver_arrays into the arrays given (agents/procure_kernel.py's finish hands them to
    Python: new ones would cost more there than the delivery's arithmetic): returns the
    nonzero cells, the rows to install and whether any lab's rounding overshot its cash."""
    n_labs = units.shape[0]
    n_chips = rental_price.size
    cells = n_labs * n_chips
    for i in range(n_labs):
        for c in range(n_chips):
            got_d[i, c] = _whole(units[i, c], draws[i * n_chips + c])
            got_r[i, c] = _whole(units[i, n_chips + c], draws[cells + i * n_chips + c])
    row = np.empty(n_chips)
    _cost_into(got_d, got_r, direct_price, rental_price, row, cost)
    overshot = False
    for i in range(n_labs):
        if cost[i] > cash[i] + 1e-6:
            overshot = True
            scale = cash[i] / cost[i]
            for c in range(n_chips):
                got_d[i, c] = np.int64(np.floor(got_d[i, c] * scale))
                got_r[i, c] = np.int64(np.floor(got_r[i, c] * scale))
    if overshot:
        _cost_into(got_d, got_r, direct_price, rental_price, row, cost)
    for i in range(n_labs):
        cash[i] -= cost[i]
        spent_month[i] = cost[i]
        cash[i] = np_maximum(cash[i], 0.0)

    # the nonzero cells in row-major order (ndarray.nonzero's)
    n_d = 0
    n_r = 0
    for i in range(n_labs):
        for c in range(n_chips):
            n_d += got_d[i, c] != 0
            n_r += got_r[i, c] != 0
    h_d = np.empty(n_d, np.int64)
    c_d = np.empty(n_d, np.int64)
    prov_d = np.empty(n_d, np.int64)
    qty_d = np.empty(n_d, np.int64)
    h_r = np.empty(n_r, np.int64)
    c_r = np.empty(n_r, np.int64)
    qty_r = np.empty(n_r, np.int64)
    k = 0
    j = 0
    for i in range(n_labs):
        b = 0
        for c in range(n_chips):
            q = got_d[i, c]
            if q != 0:
                h_d[k] = i
                c_d[k] = c
                prov_d[k] = provenance[i, c]
                qty_d[k] = q
                k += 1
            r = got_r[i, c]
            if r != 0:
                h_r[j] = i
                c_r[j] = c
                qty_r[j] = r
                j += 1
            b += q + r
        bought[i] = b
    if has_host:
        n = n_d + n_r
        h = np.empty(n, np.int64)
        c_all = np.empty(n, np.int64)
        prov = np.empty(n, np.int64)
        qty = np.empty(n, np.int64)
        h[:n_d] = h_d
        h[n_d:] = h_r
        c_all[:n_d] = c_d
        c_all[n_d:] = c_r
        prov[:n_d] = prov_d
        prov[n_d:] = rented
        qty[:n_d] = qty_d
        qty[n_d:] = qty_r
    else:
        h, c_all, prov, qty = h_d, c_d, prov_d, qty_d

    # gray orders, paid into escrow
    if gray:
        last = units.shape[1] - 1
        for i in range(n_labs):
            want = _whole(units[i, last], draws[2 * cells + i])
            afford = np.int64(np.floor(cash[i] / gray_price))
            orders = want if want < afford else afford
            gray_order[i] = orders
            pay = orders * gray_price
            cash[i] -= pay
            escrow[i] += pay
            spent_month[i] += pay
    else:
        for i in range(n_labs):
            gray_order[i] = 0
    return (h_d, c_d, prov_d, qty_d, h_r, qty_r), (h, c_all, prov, qty), overshot


@numba.njit(cache=True)
def hold_to_mandate_arrays(
    units: np.ndarray,
    per: np.ndarray,
    domestic: np.ndarray,
    bound: np.ndarray,
    floor: float,
) -> tuple[np.ndarray, bool]:
    """agents.lab._hold_to_mandate_reference before delivery: (units held to the buy-domestic
    mandate [L, S], whether any lab was held back); `per` [S] is each source's H100e."""
    n_labs, n_sources = units.shape
    dom_row = np.empty(n_sources)
    all_row = np.empty(n_sources)
    scale = np.ones(n_labs)
    cut_any = False
    for i in range(n_labs):
        offered = False
        for s in range(n_sources):
            got = units[i, s] * per[s]
            all_row[s] = got
            dom_row[s] = got if domestic[i, s] else 0.0
            offered = offered or domestic[i, s]
        dom = reduce_sum(dom_row, n_sources)
        foreign = reduce_sum(all_row, n_sources) - dom
        allowed = dom * (1.0 - floor) / floor
        if bound[i] and offered and foreign > allowed:
            cut_any = True
            scale[i] = allowed / np_maximum(foreign, 1e-12)
    if not cut_any:
        return units, False
    out = np.empty((n_labs, n_sources))
    for i in range(n_labs):
        for s in range(n_sources):
            out[i, s] = units[i, s] if domestic[i, s] else units[i, s] * scale[i]
    return out, True
