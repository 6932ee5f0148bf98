"""The brokers' month (agents.broker's *_reference functions: resolve_shipments, choose_routes,
ship, close_month) as numba kernels, giving their numbers bit for bit: each is a cascade of
some forty small numpy calls on arrays of a few dozen rings, which cost the interpreter and
numpy's per-call overhead, not arithmetic. Each phase is as few kernel calls as its draws
allow (the fused calls at the end of this file): one before its first draw, one after its
last, the cash paid back to labs taken in the last.

What stays in numpy and Python: every random draw (the shares of capped_share, the seizure
draw, the route noise), so that the generator's stream is consumed exactly as before, and the
log of the routes' margins. The ledger's deliveries and the books' smuggling legs are done by
their own kernels (game/core/ledger_kernel.py: deliver_column, leg_into) called from these.
How the kernels keep numpy's numbers: game/core/exact.py (products and quotients grouped as
numpy groups them, integer sums exact in any order, float sums in numpy's order).
tests/agents/test_kernels_brk.py and test_kernels_brokers.py hold them to the numpy
references on real months.

What a phase reads once within the month (the seized shares to draw, the cash paid back, the
caught rings, the rings that ship or rethink, those that leave) the fused calls write into
arrays the caller keeps (agents.broker.RingBuffers) and return their counts: numba allocates
and boxes every array a kernel returns, ~0.4 us each, some 1,200 a run here.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import capacity_scale_into, np_maximum, py_max, reduce_sum
from game.core.ledger import SMUGGLED
from game.core.ledger_kernel import deliver_column, leg_into

# The rings' table (agents.broker.BrokerTable) as three arrays: `alive` [ring] bool, the whole
# numbers [INT_COLUMNS, ring] int64 and the dollars [FLOAT_COLUMNS, ring] float64, whose rows
# are the table's named columns. A kernel takes the three, not a dozen columns.
INT_COLUMNS = ("serial", "route", "ship_chip", "ship_qty", "idle", "entered", "delivered")
FLOAT_COLUMNS = ("capacity", "cash", "ship_price", "ship_load")
SERIAL, ROUTE, SHIP_CHIP, SHIP_QTY, IDLE, ENTERED, DELIVERED = range(len(INT_COLUMNS))
CAPACITY, CASH, SHIP_PRICE, SHIP_LOAD = range(len(FLOAT_COLUMNS))
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
    b_alive: np.ndarray,  # [N] bool
    b_route: np.ndarray,  # [N] int64
    b_capacity: np.ndarray,  # [N]
    b_cash: np.ndarray,  # [N]
    gray_load: float,
    cost: float,
    cap_left: np.ndarray,  # [K] inf where uncapped
    h100e_g: float,
) -> tuple:
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
    alive: np.ndarray,  # [n] int64
    route: np.ndarray,  # [n] int64
    q: np.ndarray,  # [n] int64 chips each ring ships
    g: int,
    gray_price: float,
    gray_load: float,
    cost: float,
    fee: float,
    any_capped: bool,
    h100e_g: float,
    bloc_of_country: np.ndarray,  # [K] int64
    b_alive: np.ndarray,
    b_route: np.ndarray,
    b_ship_chip: np.ndarray,
    b_ship_qty: np.ndarray,
    b_ship_price: np.ndarray,
    b_ship_load: np.ndarray,
    b_cash: np.ndarray,
    b_idle: np.ndarray,
    fees_via: np.ndarray,  # [K] in/out
    sales_units_g: np.ndarray,  # [bloc] int64 in/out
    cap_used: np.ndarray,  # [K] in/out
    orders: np.ndarray,  # [L] int64: the labs' gray orders (zeroed here)
    for_lab: np.ndarray,  # [L] int64: what they get
    gray_inflight: np.ndarray,  # [L, C] int64 in/out
    gray_price_paid: np.ndarray,  # [C] in/out
    lab_cash: np.ndarray,  # [L] in/out
    escrow: np.ndarray,  # [L] in/out
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
    moving: np.ndarray,  # [n] int64 rings with a shipment
    draw: np.ndarray,  # [n] the month's uniform draws
    route_risk: np.ndarray,  # [K]
    b_route: np.ndarray,
    b_ship_chip: np.ndarray,
    b_ship_qty: np.ndarray,
    n_chips: int,
    gray_inflight: np.ndarray,  # [L, C] int64
) -> tuple:
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
    moving: np.ndarray,
    route: np.ndarray,
    qty: np.ndarray,
    caught: np.ndarray,
    chips: np.ndarray,  # [m] int64 the chips in flight, in order
    lost: np.ndarray,  # [m, L] int64 each one's seized share by lab
    gray_inflight: np.ndarray,  # [L, C] int64 in/out
    gray_price_paid: np.ndarray,  # [C]
    escrow: np.ndarray,  # [L] in/out
    lab_cash: np.ndarray,  # [L] in/out
    smuggled_by_lab: np.ndarray,  # [L] int64 in/out
    seized_by_lab: np.ndarray,  # [L] int64 in/out
    b_cash: np.ndarray,
    b_ship_price: np.ndarray,
    b_delivered: np.ndarray,
    seized_by_route: np.ndarray,  # [K] int64 in/out
    lab_country: np.ndarray,  # [L] int64
    n_countries: int,
    clear: bool,  # no ring caught: the shipments are cleared here
    b_ship_qty: np.ndarray,
    b_ship_load: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
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


# ------------------------------------------------------------------ the month's fused calls
# Each brokers' phase in as few kernel calls as its draws allow: one before the first draw
# (who draws, and how many), one between draws where the second's size depends on the first,
# one after the last. The ledger's, the books' and the cash-back arithmetic is done in them.
# They take the rings' table as its three arrays (alive, whole numbers, dollars: BrokerTable),
# not a dozen columns: each array argument costs the call its type check and unboxing.
@numba.njit(cache=True)
def _capped_share_plain(requests: np.ndarray, total: int, out: np.ndarray) -> bool:
    """game.core.market.capped_share where it needs no draw (all asked for, or nothing):
    writes out and returns True; False where a draw must share `total`."""
    asked = 0
    for r in range(requests.size):
        asked += requests[r]
    if total >= asked:
        for r in range(requests.size):
            out[r] = requests[r]
        return True
    if total == 0:
        for r in range(requests.size):
            out[r] = 0
        return True
    return False


@numba.njit(cache=True)
def _free(i: int, b_alive: np.ndarray, b_int: np.ndarray, b_float: np.ndarray) -> None:
    """agents.broker.BrokerTable.free: the ring's row emptied."""
    b_alive[i] = False
    b_int[SHIP_QTY, i] = 0
    b_float[SHIP_LOAD, i] = 0.0
    b_int[ROUTE, i] = -1
    b_int[SHIP_CHIP, i] = -1


@numba.njit(cache=True)
def moving_count(b_alive: np.ndarray, b_ship_qty: np.ndarray) -> int:
    """How many rings have a shipment on the way (the size of resolve_shipments' draw)."""
    n = 0
    for i in range(b_alive.size):
        if b_alive[i] and b_ship_qty[i] > 0:
            n += 1
    return n


@numba.njit(cache=True)
def _moving(b_alive: np.ndarray, b_ship_qty: np.ndarray, n: int) -> np.ndarray:
    """The rings with a shipment on the way, in slot order."""
    moving = np.empty(n, np.int64)
    k = 0
    for i in range(b_alive.size):
        if b_alive[i] and b_ship_qty[i] > 0:
            moving[k] = i
            k += 1
    return moving


@numba.njit(cache=True)
def resolve_start(
    b_alive: np.ndarray,
    b_int: np.ndarray,  # [INT_COLUMNS, ring] int64
    draw: np.ndarray,  # [n] the month's uniform draws, one a ring with a shipment
    route_risk: np.ndarray,  # [K]
    gray_inflight: np.ndarray,  # [L, C] int64
    in_transit: np.ndarray,  # [C] int64 the ledger's, in/out
    seized_total: np.ndarray,  # [C] int64 the ledger's, in/out
    lost: np.ndarray,  # [C, L] int64 out: its first m rows written
    plan: np.ndarray,  # [C, 4] int64 out: its first m rows written
) -> int:
    """resolve_caught and the ledger's seizure. Writes each of the m chips in flight's seized
    share by lab into lost's first m rows, filled where capped_share needs no draw, and m rows
    of plan: (chip, seized, asked, whether a draw must share them); where one must, the row of
    lost holds the chips in flight by lab (capped_share's requests, a contiguous copy of the
    column: numpy's draw copies a strided one before it starts). Returns m. The caller keeps
    lost and plan (agents.broker.RingBuffers): a returned array costs its boxing."""
    n_chips = in_transit.size
    moving = _moving(b_alive, b_int[SHIP_QTY], draw.size)
    _, _, _, _, seized, chips = resolve_caught(
        moving, draw, route_risk, b_int[ROUTE], b_int[SHIP_CHIP], b_int[SHIP_QTY], n_chips,
        gray_inflight,
    )
    for c in range(n_chips):
        in_transit[c] -= seized[c]
        seized_total[c] += seized[c]
    L = gray_inflight.shape[0]
    for h in range(chips.size):
        c = chips[h]
        asked = 0
        for r in range(L):
            asked += gray_inflight[r, c]
        plan[h, 0] = c
        plan[h, 1] = seized[c]
        plan[h, 2] = asked
        plan[h, 3] = not _capped_share_plain(gray_inflight[:, c], seized[c], lost[h])
        if plan[h, 3]:
            for r in range(L):
                lost[h, r] = gray_inflight[r, c]
    return chips.size


@numba.njit(cache=True)
def resolve_finish(
    b_alive: np.ndarray,
    b_int: np.ndarray,  # [INT_COLUMNS, ring] int64, in/out
    b_float: np.ndarray,  # [FLOAT_COLUMNS, ring], in/out
    draw: np.ndarray,
    route_risk: np.ndarray,
    lost: np.ndarray,  # [>= m, L] resolve_start's, the draws' shares written in
    plan: np.ndarray,  # [>= m, 4] resolve_start's
    m: int,  # the chips in flight: the rows of lost and plan to read
    gray_inflight: np.ndarray,
    gray_price_paid: np.ndarray,
    escrow: np.ndarray,
    lab_cash: np.ndarray,
    smuggled_by_lab: np.ndarray,
    seized_by_lab: np.ndarray,
    seized_by_route: np.ndarray,  # [K] int64, in/out: its size is the countries'
    lab_country: np.ndarray,
    stock: np.ndarray,  # the ledger's [holder, chip, provenance, slot] int64, in/out
    by_prov: np.ndarray,  # the ledger's running totals, in/out
    held: np.ndarray,
    in_transit: np.ndarray,  # the ledger's [C] int64, in/out
    slot: int,  # Ledger.slot(year)
    flows: np.ndarray,  # the books' [from, to, provenance] int64, in/out
    back: np.ndarray,  # [L] out: the cash paid back to labs
    news: np.ndarray,  # [>= rings moving, 5] int64 out: the caught rings' rows
) -> int:
    """What resolve_shipments writes after its draws: resolve_book, the chips in flight that
    arrived delivered by lab (Ledger.deliver's kernel, chip by chip), the last leg from the
    landed rings' routes to the country that received most (MonthBooks.record_smuggling's
    kernel), the caught rings' rows freed. Who was caught is found again from the same draws
    (the rings' arrays have not moved since resolve_start). Writes the cash paid back to labs
    into back (the cash after less the cash before, as the reference returns it) and each
    caught ring's slot, serial, route, chip and load, read before the shipments are cleared,
    into news' first rows, for the news; returns how many were caught."""
    b_route, b_ship_qty = b_int[ROUTE], b_int[SHIP_QTY]
    moving = _moving(b_alive, b_ship_qty, draw.size)
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
        n_caught += caught[k]
    j = 0
    for k in range(n):
        if caught[k]:
            i = moving[k]
            news[j, 0] = i
            news[j, 1] = b_int[SERIAL, i]
            news[j, 2] = route[k]
            news[j, 3] = b_int[SHIP_CHIP, i]
            news[j, 4] = qty[k]
            j += 1
    L = lab_cash.size
    before = lab_cash.copy()
    chips = plan[:m, 0].copy()
    arrived = np.empty((chips.size, L), np.int64)
    for h in range(chips.size):
        for r in range(L):
            arrived[h, r] = gray_inflight[r, chips[h]] - lost[h, r]
    ok_route, ok_qty, dest = resolve_book(
        moving, route, qty, caught, chips, lost, gray_inflight, gray_price_paid, escrow,
        lab_cash, smuggled_by_lab, seized_by_lab, b_float[CASH], b_float[SHIP_PRICE],
        b_int[DELIVERED], seized_by_route, lab_country, seized_by_route.size, True, b_ship_qty,
        b_float[SHIP_LOAD],
    )
    if stock.shape[0] != L:  # Ledger.deliver's kernel path: one holder a lab
        raise ValueError("the ledger's holders are not the labs")
    for h in range(chips.size):
        deliver_column(stock, by_prov, held, in_transit, arrived[h], chips[h], SMUGGLED, slot)
    if dest >= 0:  # the last leg, to where most chips went
        leg_into(flows, ok_route, 0, np.empty(0, np.int64), dest, ok_qty, SMUGGLED)
    for j in range(n_caught):  # BrokerTable.free of the caught rings
        _free(news[j, 0], b_alive, b_int, b_float)
    for r in range(L):
        back[r] = lab_cash[r] - before[r]
    return n_caught


@numba.njit(cache=True)
def resolve_month(
    b_alive: np.ndarray,
    b_int: np.ndarray,
    b_float: np.ndarray,
    draw: np.ndarray,
    route_risk: np.ndarray,
    gray_inflight: np.ndarray,
    in_transit: np.ndarray,
    seized_total: np.ndarray,
    gray_price_paid: np.ndarray,
    escrow: np.ndarray,
    lab_cash: np.ndarray,
    smuggled_by_lab: np.ndarray,
    seized_by_lab: np.ndarray,
    seized_by_route: np.ndarray,
    lab_country: np.ndarray,
    stock: np.ndarray,
    by_prov: np.ndarray,
    held: np.ndarray,
    slot: int,
    flows: np.ndarray,
    lost: np.ndarray,  # [C, L] int64 out (resolve_start)
    plan: np.ndarray,  # [C, 4] int64 out (resolve_start)
    back: np.ndarray,  # [L] out (resolve_finish)
    news: np.ndarray,  # [rings, 5] int64 out (resolve_finish)
) -> tuple[int, int, bool]:
    """resolve_start, and resolve_finish in the same call when no seizure needs a draw to be
    shared among labs (about half the months): returns the chips in flight m (resolve_start's
    rows of lost and plan), the rings caught (resolve_finish's rows of news, 0 if it did not
    run) and whether the month is resolved (back and news written)."""
    m = resolve_start(
        b_alive, b_int, draw, route_risk, gray_inflight, in_transit, seized_total, lost, plan
    )
    for h in range(m):
        if plan[h, 3]:
            return m, 0, False
    n_caught = resolve_finish(
        b_alive, b_int, b_float, draw, route_risk, lost, plan, m, gray_inflight,
        gray_price_paid, escrow, lab_cash, smuggled_by_lab, seized_by_lab, seized_by_route,
        lab_country, stock, by_prov, held, in_transit, slot, flows, back, news,
    )
    return m, n_caught, True


@numba.njit(cache=True)
def ship_start(
    b_alive: np.ndarray,
    b_int: np.ndarray,
    b_float: np.ndarray,
    gray_load: float,
    cost: float,
    cap_left: np.ndarray,
    g: int,  # the gray chip
    h100e: np.ndarray,  # [chip] the catalogue's H100-equivalents
    chip_vendor: np.ndarray,  # [chip] its vendor
    vendor_country: np.ndarray,  # [vendor] the country it makes its chips in
    orders: np.ndarray,  # [L] int64 the labs' gray orders
    alive_out: np.ndarray,  # [rings] int64 out: the rings with a route, first n
    can_out: np.ndarray,  # [rings] int64 out: what each can buy, first n
) -> tuple:
    """ship_capacity (its rings and what each can buy written into the caller's buffers,
    agents.broker.RingBuffers: a returned array costs its boxing), the demand (the orders'
    sum), and the gray chip's H100-equivalents, vendor and maker's country (read here: each
    a numpy scalar lookup in Python). Returns n, the rings with a route, first."""
    h100e_g = h100e[g]
    alive, _, can, any_capped, supply = ship_capacity(
        b_alive, b_int[ROUTE], b_float[CAPACITY], b_float[CASH], gray_load, cost, cap_left,
        h100e_g,
    )
    n = alive.size
    for k in range(n):
        alive_out[k] = alive[k]
        can_out[k] = can[k]
    demand = 0
    for j in range(orders.size):
        demand += orders[j]
    vendor = chip_vendor[g]
    return n, any_capped, supply, demand, h100e_g, vendor, vendor_country[vendor]


@numba.njit(cache=True)
def ship_finish(
    alive_rings: np.ndarray,  # [>= n] the rings with a route, from ship_start (first n)
    q: np.ndarray,  # [n] int64 the chips each ships
    g: int,
    gray_price: float,
    gray_load: float,
    cost: float,
    fee: float,
    any_capped: bool,
    h100e_g: float,
    bloc_of_country: np.ndarray,
    b_alive: np.ndarray,
    b_int: np.ndarray,  # in/out
    b_float: np.ndarray,  # in/out
    fees_via: np.ndarray,
    sales_units: np.ndarray,  # [chip, bloc] int64 in/out
    cap_used: np.ndarray,
    orders: np.ndarray,
    for_lab: np.ndarray,  # [L] int64, or anything when for_lab_all says how it came out
    for_lab_all: int,  # 1: every order filled, 2: none, 0: for_lab as drawn
    gray_inflight: np.ndarray,
    gray_price_paid: np.ndarray,
    lab_cash: np.ndarray,
    escrow: np.ndarray,
    shipped: int,
    produced: np.ndarray,  # the ledger's [C] int64, in/out
    in_transit: np.ndarray,
    route_risk: np.ndarray,  # [K]
    routes_open: np.ndarray,  # [m] int64
    list_price_g: float,  # the view's price of the gray chip
    gray_markup_min: float,
    maker: int,  # the gray chip's maker's country
    flows: np.ndarray,  # the books' [from, to, provenance] int64, in/out
    back: np.ndarray,  # [L] out: the cash paid back to labs
) -> tuple[float, float]:
    """Everything ship writes after its draws: ship_book, Ledger.dispatch_one, the first leg
    from the maker's country to each ring's route (MonthBooks.record_smuggling's kernel);
    writes the cash paid back to labs into back (after less before, as the reference returns
    it) and returns _gray_price's floor and expected margin, its arithmetic before
    next_markup's power. The rings' routes are read again (ship_start's: nothing moved them
    since)."""
    alive = alive_rings[: q.size]
    L = orders.size
    if for_lab_all == 0:
        got = for_lab
    elif for_lab_all == 1:
        got = orders.copy()
    else:
        got = np.zeros(L, np.int64)
    b_route = b_int[ROUTE]
    route = np.empty(alive.size, np.int64)
    for k in range(alive.size):
        route[k] = b_route[alive[k]]
    before = lab_cash.copy()
    ship_book(
        alive, route, q, g, gray_price, gray_load, cost, fee, any_capped, h100e_g,
        bloc_of_country, b_alive, b_route, b_int[SHIP_CHIP], b_int[SHIP_QTY],
        b_float[SHIP_PRICE], b_float[SHIP_LOAD], b_float[CASH], b_int[IDLE], fees_via,
        sales_units[g], cap_used, orders, got, gray_inflight, gray_price_paid, lab_cash, escrow,
    )
    produced[g] += shipped
    in_transit[g] += shipped
    leg_into(flows, np.empty(0, np.int64), maker, route, 0, q, SMUGGLED)
    for r in range(L):
        back[r] = lab_cash[r] - before[r]
    return gray_floor(
        route_risk, routes_open, list_price_g, cost, gray_price, gray_markup_min, True
    )


@numba.njit(cache=True)
def gray_floor(
    route_risk: np.ndarray,
    routes_open: np.ndarray,
    list_price_g: float,
    cost: float,
    gray_price: float,
    gray_markup_min: float,
    has_gray: bool,
) -> tuple[float, float]:
    """agents.broker._gray_price before next_markup: the markup's floor and the expected
    margin, from the mean risk of the open routes (np.add.reduce over the count)."""
    if not has_gray:
        return 0.0, 0.0
    n_open = routes_open.size
    if n_open:
        open_risk = np.empty(n_open)
        for j in range(n_open):
            open_risk[j] = route_risk[routes_open[j]]
        risk = reduce_sum(open_risk, n_open) / n_open
    else:
        risk = 0.5
    list_price = py_max(list_price_g, 1.0)
    floor = gray_markup_min * cost / list_price / py_max(1e-6, 1.0 - risk)
    margin = (gray_price * (1.0 - risk) - cost) / cost
    return floor, margin


@numba.njit(cache=True)
def routes_rethink(
    b_alive: np.ndarray,
    b_route: np.ndarray,
    draw: np.ndarray,  # [alive] uniform draws
    switch_chance: float,
    routes_open: np.ndarray,
    n_countries: int,
    route_risk: np.ndarray,
    gray_price: float,
    transit_price: float,
    fee: float,
    who: np.ndarray,  # [>= alive] int64 out: the rings that rethink, first n
    risk: np.ndarray,  # [>= routes] out: the open routes' risk
    margin: np.ndarray,  # [>= routes] out: their margin floored at 1
) -> int:
    """choose_routes between its draws: the rings that rethink their route, and the open
    routes' risk and margin floored at 1 (whose log numpy takes), written into the caller's
    buffers (agents.broker.RingBuffers: a returned array costs its boxing); returns n."""
    is_open = np.zeros(n_countries, np.bool_)
    for j in range(routes_open.size):
        is_open[routes_open[j]] = True
    n = 0
    k = 0
    for i in range(b_alive.size):
        if b_alive[i]:
            cur = b_route[i]
            if cur < 0 or not is_open[cur] or draw[k] < switch_chance:
                who[n] = i
                n += 1
            k += 1
    for j in range(routes_open.size):
        risk[j] = route_risk[routes_open[j]]
        margin[j] = np_maximum(gray_price * (1.0 - risk[j]) - transit_price - fee, 1.0)
    return n


@numba.njit(cache=True)
def routes_pick(
    who: np.ndarray,
    log_margin: np.ndarray,
    risk: np.ndarray,
    aversion: float,
    noise: np.ndarray,  # [who, route]
    routes_open: np.ndarray,
    b_route: np.ndarray,
) -> None:
    """Each rethinking ring (the first noise.shape[0] of `who`) takes the route of the best
    base utility plus its noise (np.argmax: the first of the largest, a NaN first of all)."""
    m = routes_open.size
    base = np.empty(m)
    for j in range(m):
        base[j] = log_margin[j] - aversion * risk[j]
    for w in range(noise.shape[0]):
        best = 0
        top = base[0] + noise[w, 0]
        if top == top:
            for j in range(1, m):
                u = base[j] + noise[w, j]
                if u != u:
                    best = j
                    break
                if u > top:
                    top = u
                    best = j
        b_route[who[w]] = routes_open[best]



@numba.njit(cache=True)
def close_month(
    b_alive: np.ndarray,
    b_int: np.ndarray,  # in/out
    b_float: np.ndarray,  # in/out
    idle_limit: int,
    flows: np.ndarray,  # [from, to, provenance]
    country_bloc: np.ndarray,
    china_bloc: int,
    smuggled_via: np.ndarray,  # [country] int64 in/out
    gone: np.ndarray,  # [rings] int64 out: the rings that leave, first n
) -> int:
    """The rings idle too long (exit_idle's), their rows freed (BrokerTable.free) and written
    into `gone` (the caller's buffer), and the month's smuggled chips into China's bloc added
    by the country they leave (whole counts). Returns how many left."""
    b_idle = b_int[IDLE]
    n = 0
    for i in range(b_alive.size):
        if b_alive[i] and b_idle[i] >= idle_limit:
            gone[n] = i
            n += 1
    for j in range(n):
        _free(gone[j], b_alive, b_int, b_float)
    K = flows.shape[0]
    for s in range(K):
        t = 0
        for d in range(flows.shape[1]):
            if country_bloc[d] == china_bloc:
                t += flows[s, d, SMUGGLED]
        smuggled_via[s] += t
    return n


@numba.njit(cache=True)
def add_row(
    alive: np.ndarray,
    ints: np.ndarray,  # [INT_COLUMNS, ring] int64
    floats: np.ndarray,  # [FLOAT_COLUMNS, ring]
    ring: int,
    ring_capacity: float,
    ring_cash: float,
    month: int,
) -> int:
    """agents.broker.BrokerTable.add: a new ring in the first free row, its slot returned
    (-1: no free row, the table must grow). A dozen numpy scalar writes, each a Python call."""
    for i in range(alive.size):
        if not alive[i]:
            alive[i] = True
            ints[SERIAL, i] = ring
            floats[CAPACITY, i] = ring_capacity
            floats[CASH, i] = ring_cash
            ints[ROUTE, i] = -1
            ints[SHIP_CHIP, i] = -1
            ints[SHIP_QTY, i] = 0
            floats[SHIP_PRICE, i] = 0.0
            ints[IDLE, i] = 0
            ints[ENTERED, i] = month
            ints[DELIVERED, i] = 0
            floats[SHIP_LOAD, i] = 0.0
            return i
    return -1
