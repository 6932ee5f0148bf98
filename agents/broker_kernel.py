"""The brokers' month (agents.broker.ship_reference and resolve_shipments_reference) as numba
kernels, giving their numbers bit for bit: each is a cascade of some forty small numpy calls on
arrays of a few dozen rings, which cost the interpreter and numpy's per-call overhead, not
arithmetic.

What stays in numpy and Python: every random draw (the shares of capped_share, the seizure
draw), so that the generator's stream is consumed exactly as before, and the ledger's and the
books' own methods. The kernels cover the array arithmetic between the draws. How they keep
numpy's numbers: game/core/exact.py (products and quotients grouped as numpy groups them,
integer sums exact in any order, float sums in numpy's order). tests/agents/test_kernels_brk.py
holds them to the numpy reference on real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import capacity_scale_into, np_maximum

_INT64_MIN = np.iinfo(np.int64).min
_TWO63 = 9223372036854775808.0


@numba.njit(cache=True)
def _to_int64(x: float) -> int:
    """A float64 cast to int64 as numpy's astype does on x86-64 (truncation; NaN and values
    out of range give the smallest int64)."""
    if x != x or x >= _TWO63 or x < -_TWO63:
        return _INT64_MIN
    return np.int64(x)


@numba.njit(cache=True)
def ship_capacity(
    b_alive,  # [N] bool
    b_route,  # [N] int64
    b_capacity,  # [N]
    b_cash,  # [N]
    gray_load,
    cost,
    cap_left,  # [K] inf where uncapped
    h100e_g,
):
    """ship's rings with a route, their routes, the chips each can buy (capacity, cash, the
    caps left in their hubs), whether any country is capped, and the total supply."""
    n = 0
    for i in range(b_alive.size):
        if b_alive[i] and b_route[i] >= 0:
            n += 1
    alive = np.empty(n, np.int64)
    k = 0
    for i in range(b_alive.size):
        if b_alive[i] and b_route[i] >= 0:
            alive[k] = i
            k += 1
    route = np.empty(n, np.int64)
    can = np.empty(n, np.int64)
    for k in range(n):
        i = alive[k]
        route[k] = b_route[i]
        a = np.floor(b_capacity[i] / gray_load)
        c = np.floor(b_cash[i] / cost)
        m = a if a != a else (c if c != c else (a if a <= c else c))  # np.minimum
        v = _to_int64(m)
        can[k] = v if v > 0 else 0
    any_capped = False
    for j in range(cap_left.size):
        if np.isfinite(cap_left[j]):
            any_capped = True
            break
    if any_capped:
        route_capped = False
        for k in range(n):
            if np.isfinite(cap_left[route[k]]):
                route_capped = True
                break
        if route_capped:
            need = np.empty(n)
            for k in range(n):
                need[k] = can[k] * h100e_g
            capacity = np.empty(cap_left.size)
            for j in range(cap_left.size):
                capacity[j] = cap_left[j] if np.isfinite(cap_left[j]) else 1e30
            scale = np.empty(n)
            capacity_scale_into(need, route, capacity, scale)
            for k in range(n):
                can[k] = _to_int64(np.floor(can[k] * scale[k]))
    supply = 0
    for k in range(n):
        supply += can[k]
    return alive, route, can, any_capped, supply


@numba.njit(cache=True)
def ship_book(
    alive,  # [n] int64
    route,  # [n] int64
    q,  # [n] int64 chips each ring ships
    g,
    gray_price,
    gray_load,
    cost,
    fee,
    any_capped,
    h100e_g,
    bloc_of_country,  # [K] int64
    b_alive,
    b_route,
    b_ship_chip,
    b_ship_qty,
    b_ship_price,
    b_ship_load,
    b_cash,
    b_idle,
    fees_via,  # [K] in/out
    sales_units_g,  # [bloc] int64 in/out
    cap_used,  # [K] in/out
    orders,  # [L] int64: the labs' gray orders (zeroed here)
    for_lab,  # [L] int64: what they get
    gray_inflight,  # [L, C] int64 in/out
    gray_price_paid,  # [C] in/out
    lab_cash,  # [L] in/out
    escrow,  # [L] in/out
) -> None:
    """What ship writes after its draws: the rings' shipments, cash and idleness, the hubs'
    fees, sales and caps used, the labs' chips in flight and their refunds."""
    for k in range(alive.size):
        i = alive[k]
        qk = q[k]
        b_ship_chip[i] = g if qk > 0 else -1
        b_ship_qty[i] = qk
        b_ship_price[i] = gray_price
        b_ship_load[i] = qk * gray_load
        b_cash[i] = b_cash[i] - qk * cost
    if fee > 0.0:
        for k in range(alive.size):
            fees_via[route[k]] += q[k] * fee
    for k in range(alive.size):
        i = alive[k]
        b_idle[i] = 0 if q[k] > 0 else b_idle[i] + 1
    for k in range(alive.size):
        sales_units_g[bloc_of_country[route[k]]] += q[k]
    if any_capped:
        for k in range(alive.size):
            cap_used[route[k]] += q[k] * h100e_g
    for j in range(orders.size):
        gray_inflight[j, g] += for_lab[j]
    gray_price_paid[g] = gray_price
    for i in range(b_alive.size):
        if b_alive[i] and b_route[i] < 0:
            b_idle[i] += 1
    for j in range(orders.size):
        refund = (orders[j] - for_lab[j]) * gray_price
        lab_cash[j] += refund
        escrow[j] = np_maximum(escrow[j] - refund, 0.0)
        orders[j] = 0


@numba.njit(cache=True)
def resolve_caught(
    moving,  # [n] int64 rings with a shipment
    draw,  # [n] the month's uniform draws
    route_risk,  # [K]
    b_route,
    b_ship_chip,
    b_ship_qty,
    n_chips,
    gray_inflight,  # [L, C] int64
):
    """resolve_shipments before its shares of the seized chips: who is caught, the routes and
    loads, the chips seized [chip], and the chips in flight to some lab."""
    n = moving.size
    route = np.empty(n, np.int64)
    qty = np.empty(n, np.int64)
    caught = np.empty(n, np.bool_)
    n_caught = 0
    for k in range(n):
        i = moving[k]
        route[k] = b_route[i]
        qty[k] = b_ship_qty[i]
        caught[k] = draw[k] < route_risk[route[k]]
        if caught[k]:
            n_caught += 1
    seized_f = np.zeros(n_chips)  # np.bincount's weights: float, in input order
    gone = np.empty(n_caught, np.int64)
    j = 0
    for k in range(n):
        if caught[k]:
            gone[j] = moving[k]
            j += 1
            seized_f[b_ship_chip[moving[k]]] += np.float64(qty[k])
    seized = np.empty(n_chips, np.int64)
    for c in range(n_chips):
        seized[c] = _to_int64(seized_f[c])
    L, C = gray_inflight.shape
    m = 0
    in_flight = np.empty(C, np.int64)
    for c in range(C):
        s = 0
        for r in range(L):
            s += gray_inflight[r, c]
        if s != 0:
            in_flight[m] = c
            m += 1
    return route, qty, caught, gone, seized, in_flight[:m]


@numba.njit(cache=True)
def resolve_book(
    moving,
    route,
    qty,
    caught,
    chips,  # [m] int64 the chips in flight, in order
    lost,  # [m, L] int64 each one's seized share by lab
    gray_inflight,  # [L, C] int64 in/out
    gray_price_paid,  # [C]
    escrow,  # [L] in/out
    lab_cash,  # [L] in/out
    smuggled_by_lab,  # [L] int64 in/out
    seized_by_lab,  # [L] int64 in/out
    b_cash,
    b_ship_price,
    b_delivered,
    seized_by_route,  # [K] int64 in/out
    lab_country,  # [L] int64
    n_countries,
    clear,  # no ring caught: the shipments are cleared here
    b_ship_qty,
    b_ship_load,
):
    """What resolve_shipments writes after its draws: the labs' deliveries, escrow and
    refunds, the rings' pay, the seizures by route; returns the landed rings' routes and loads
    and the country that received most (-1: none)."""
    L = escrow.size
    for h in range(chips.size):
        c = chips[h]
        price = gray_price_paid[c]
        for r in range(L):
            inflight = gray_inflight[r, c]
            lo = lost[h, r]
            escrow[r] -= inflight * price
            lab_cash[r] += lo * price
            smuggled_by_lab[r] += inflight - lo
            seized_by_lab[r] += lo
            gray_inflight[r, c] = 0
    for r in range(L):
        escrow[r] = np_maximum(escrow[r], 0.0)
    n = moving.size
    n_ok = 0
    for k in range(n):
        if not caught[k]:
            n_ok += 1
    ok_route = np.empty(n_ok, np.int64)
    ok_qty = np.empty(n_ok, np.int64)
    j = 0
    for k in range(n):
        if not caught[k]:
            i = moving[k]
            b_cash[i] += qty[k] * b_ship_price[i]
            b_delivered[i] += qty[k]
            ok_route[j] = route[k]
            ok_qty[j] = qty[k]
            j += 1
    for k in range(n):
        if caught[k]:
            seized_by_route[route[k]] += qty[k]
    received = np.zeros(n_countries)
    for r in range(L):
        received[lab_country[r]] += np.float64(smuggled_by_lab[r])
    dest = -1
    # np.argmax: the first of the largest (NaN cannot arise: sums of whole counts)
    any_received = False
    for j in range(n_countries):
        if received[j] != 0.0:
            any_received = True
            break
    if any_received:
        dest = 0
        best = received[0]
        for j in range(1, n_countries):
            if received[j] > best:
                best = received[j]
                dest = j
    if clear:
        for k in range(n):
            b_ship_qty[moving[k]] = 0
            b_ship_load[moving[k]] = 0.0
    return ok_route, ok_qty, dest

