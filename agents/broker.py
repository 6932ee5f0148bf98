"""Brokers: the gray market that routes controlled chips around the rules.

A broker buys chips legally in a transit country (at list price plus `transit_premium`), pays
the hub's economy a transit fee (`hub_broker_fee_share` of the chips' gray-market value:
forwarders, front companies, warehouses; `model.fees_via` counts it by country), misdeclares
them and ships them to buyers in restricted countries, who paid into escrow. Each
shipment takes a month and is stopped with the interdiction probability of its route, set by US
enforcement, the transit state's customs and the pressure on it, and China's own border when it
does not look away. A caught broker loses the shipment and leaves the market; buyers get their
escrow back. Margins draw new brokers in; brokers with no business for months leave.

A ring's capacity is in dollars a month, not chips: what it can buy through fronts, launder
and ship without drawing attention is a sum of money (the prosecuted cases are orders of $100M
or so, CNAS 2025), whatever chip the money buys. A chip that ships only as part of a big,
liquid-cooled rack (GB200 NVL72 and later: 1.4 t, 120 kW and up, installed and serviced by the
vendor) takes more of that capacity per dollar than one in an 8-GPU server: the catalogue's
`smuggling_difficulty` (game/sim/market_view.py smuggling_load). Counting chips instead let a
ring move as many $100k rack-scale chips as it moved H100s, so smuggled compute grew with each
generation's performance.

Brokers are Mesa agents (identity, route, capacity, cash); their numbers live in a `BrokerTable`
slot so that the month's shipping is done for all of them at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from agents.broker_kernel import (
    FLOAT_COLUMNS,
    INT_COLUMNS,
    ROUTE,
    SHIP_CHIP,
    add_row,
    moving_count,
    resolve_finish,
    resolve_month,
    routes_pick,
    routes_rethink,
    ship_finish,
    ship_start,
)
from agents.broker_kernel import (
    close_month as close_month_kernel,
)
from game.config.texts import text as tr
from game.core.hypergeometric import multivariate_hypergeometric
from game.core.ledger import SMUGGLED
from game.core.market import (
    HYPERGEOMETRIC_LIMIT,
    capacity_scale,
    capped_share,
    next_markup,
)

if TYPE_CHECKING:
    from agents.context import MonthContext

ROUTE_SWITCH_CHANCE = 0.1  # a broker reconsiders its route this often even when it still works
MAX_CAUGHT_NEWS = 4  # more catches in a month than this make one summary news item


class RingBuffers:
    """Arrays the brokers' kernels write what the month reads once (the seized shares to draw,
    the cash paid back, the caught, the rings that ship or rethink, the idle that leave), kept
    by the table they serve: numba boxes every array a kernel returns, ~0.4 us each, where
    writing into an array the caller passes costs nothing. Sized for the table's rings, the
    catalogue's chips, the labs and the countries; made anew when one of them changes (the
    table grows, a variant is added). Never pickled or copied with the table (BrokerTable's
    __getstate__ leaves them out): a copy or a restored model makes its own, so no two
    models share one. What the model keeps past the month is never one of these (the cash
    paid back is spent by the month's end: ChipWarModel.step)."""

    __slots__ = (
        "alive", "back", "can", "gone", "lost", "margin", "news", "plan", "risk", "ship_back",
        "sizes", "who",
    )

    def __init__(self, rings: int, chips: int, labs: int, countries: int) -> None:
        self.sizes = (rings, chips, labs, countries)
        self.lost = np.zeros((chips, labs), np.int64)  # resolve: seized shares by chip, lab
        self.plan = np.zeros((chips, 4), np.int64)  # resolve: (chip, seized, asked, draw?)
        self.back = np.zeros(labs)  # resolve: the cash paid back to labs
        self.news = np.zeros((rings, 5), np.int64)  # resolve: the caught rings
        self.ship_back = np.zeros(labs)  # ship: the cash paid back to labs
        self.alive = np.zeros(rings, np.int64)  # ship: the rings with a route
        self.can = np.zeros(rings, np.int64)  # ship: the chips each can buy
        self.who = np.zeros(rings, np.int64)  # choose_routes: the rings that rethink
        self.risk = np.zeros(countries)  # choose_routes: the open routes' risk
        self.margin = np.zeros(countries)  # choose_routes: their margins
        self.gone = np.zeros(rings, np.int64)  # close_month: the rings that leave


class BrokerTable:
    """The rings' numbers as columns over slots. They live in three arrays (`alive`, the whole
    numbers `ints` and the dollars `floats`, agents/broker_kernel.py) that the kernels take
    whole; each named column (`cash`, `route`...) is a row of one of them, a view that writes
    through. A copy or a pickle keeps the three and binds the views again."""

    ARRAYS = (  # every column, in the order a saved state has always listed them
        "alive",
        "serial",
        "capacity",
        "cash",
        "route",
        "ship_chip",
        "ship_qty",
        "ship_price",
        "ship_load",
        "idle",
        "entered",
        "delivered",
    )

    # the columns, bound to rows of ints and floats by _bind
    serial: np.ndarray
    route: np.ndarray  # transit country index
    ship_chip: np.ndarray
    ship_qty: np.ndarray  # chips in transit
    idle: np.ndarray  # months in a row without business
    entered: np.ndarray
    delivered: np.ndarray  # chips delivered over its career
    capacity: np.ndarray  # USD a month (a rack-scale system counts its difficulty)
    cash: np.ndarray
    ship_price: np.ndarray  # price the buyers paid per chip
    ship_load: np.ndarray  # capacity the shipment took, USD

    def __init__(self, n: int = 64) -> None:
        self.alive = np.zeros(n, bool)
        self.ints = np.zeros((len(INT_COLUMNS), n), np.int64)
        self.ints[[ROUTE, SHIP_CHIP]] = -1  # no route, no chip
        self.floats = np.zeros((len(FLOAT_COLUMNS), n))
        self._bind()
        self._buffers: RingBuffers | None = None

    def buffers(self, chips: int, labs: int, countries: int) -> RingBuffers:
        """The kernels' out-arrays (RingBuffers) for this many rings, chips, labs, countries."""
        w = self._buffers
        if w is None or w.sizes != (self.alive.size, chips, labs, countries):
            w = self._buffers = RingBuffers(self.alive.size, chips, labs, countries)
        return w

    def _bind(self) -> None:
        for k, name in enumerate(INT_COLUMNS):
            setattr(self, name, self.ints[k])
        for k, name in enumerate(FLOAT_COLUMNS):
            setattr(self, name, self.floats[k])

    def __getstate__(self) -> dict[str, np.ndarray]:
        # numpy copies each view on its own: the columns are bound again on the copy instead
        return {"alive": self.alive, "ints": self.ints, "floats": self.floats}

    def __setstate__(self, state: dict[str, np.ndarray]) -> None:
        self.alive, self.ints, self.floats = state["alive"], state["ints"], state["floats"]
        self._bind()
        self._buffers = None  # a copy makes its own

    def add(self, serial: int, capacity: float, cash: float, month: int) -> int:
        i = add_row(self.alive, self.ints, self.floats, serial, capacity, cash, month)
        if i >= 0:  # add_reference's row, written in a kernel
            return i
        return self.add_reference(serial, capacity, cash, month)

    def add_reference(self, serial: int, capacity: float, cash: float, month: int) -> int:
        """A new ring in the first free row (the table grows when none is free); its slot."""
        free = (~self.alive).nonzero()[0]  # np.flatnonzero of a 1-D mask, without its wrapper
        if free.size == 0:
            grow = max(64, self.alive.size)
            more = BrokerTable(grow)
            self.alive = np.concatenate([self.alive, more.alive])
            self.ints = np.concatenate([self.ints, more.ints], axis=1)
            self.floats = np.concatenate([self.floats, more.floats], axis=1)
            self._bind()
            free = (~self.alive).nonzero()[0]
        i = int(free[0])
        self.alive[i] = True
        self.serial[i], self.capacity[i], self.cash[i] = serial, capacity, cash
        self.route[i], self.ship_chip[i], self.ship_qty[i] = -1, -1, 0
        self.ship_price[i], self.idle[i], self.entered[i], self.delivered[i] = 0.0, 0, month, 0
        self.ship_load[i] = 0.0
        return i

    def free(self, slot: int) -> None:
        self.alive[slot] = False
        self.ship_qty[slot] = 0
        self.ship_load[slot] = 0.0
        self.route[slot] = self.ship_chip[slot] = -1

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {f"brokers.{k}": getattr(self, k).copy() for k in self.ARRAYS}

    def load_state(self, plain: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.alive = arrays["brokers.alive"].copy()
        self.ints = np.array([arrays[f"brokers.{k}"] for k in INT_COLUMNS], np.int64)
        self.floats = np.array([arrays[f"brokers.{k}"] for k in FLOAT_COLUMNS], np.float64)
        self._bind()


class Broker(mesa.Agent):
    """A smuggling ring: one route at a time, one shipment a month."""

    def __init__(self, model: MonthContext, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def serial(self) -> int:
        return int(self.model.brokers.serial[self.slot])

    @property
    def route(self) -> str | None:
        r = int(self.model.brokers.route[self.slot])
        return self.model.country_ids[r] if r >= 0 else None

    @property
    def capacity(self) -> float:
        """USD a month the ring can move (see the module docstring)."""
        return float(self.model.brokers.capacity[self.slot])

    @property
    def cash(self) -> float:
        return float(self.model.brokers.cash[self.slot])

    def remove(self) -> None:
        self.model.brokers.free(self.slot)
        self.model.broker_agents.pop(self.slot, None)
        super().remove()

    def __repr__(self) -> str:
        return f"Broker(#{self.serial}, route={self.route})"


# ------------------------------------------------------------------------------- the month
def _buffers(model: MonthContext) -> RingBuffers:
    """The brokers' kernels' out-arrays, for the model's rings, chips, labs and countries."""
    return model.brokers.buffers(
        model.ledger.in_transit.size, model.labs.cash.size, len(model.country_ids)
    )


def resolve_shipments(model: MonthContext) -> np.ndarray:
    """resolve_shipments_reference's effects, with the array arithmetic around its draws in
    compiled kernels (agents/broker_kernel.py): who moves, then resolve_month up to the shares
    of the seized chips, and on to the end (the ledger's deliveries, the books' last leg, the
    cash-back) when no share needs a draw; else the draws and resolve_finish. The draws and
    the news stay here, in the reference's order. Returns [lab] the cash paid back to labs
    (gray refunds: the cash after less the cash before, as the reference returns them)."""
    b, labs, view, ledger = model.brokers, model.labs, model.view, model.ledger
    n_moving = moving_count(b.alive, b.ship_qty)
    if n_moving == 0:
        return labs.cash - labs.cash  # nothing paid back (cash after less cash before)
    books, rng = model.books, model.rng
    draw = rng.random(n_moving)
    year_slot = ledger.slot(model.year)
    w = _buffers(model)
    lost, plan = w.lost, w.plan
    m, n_caught, done = resolve_month(
        b.alive, b.ints, b.floats, draw, view.route_risk, labs.gray_inflight, ledger.in_transit,
        ledger.seized, labs.gray_price_paid, labs.escrow, labs.cash, books.smuggled_by_lab,
        books.seized_by_lab, books.seized_by_route, labs.country, ledger.stock,
        ledger._by_prov, ledger._held, year_slot, books.flows, lost, plan, w.back, w.news,
    )
    if not done:
        # The seized chips shared by lab, chip by chip: drawn only where some but not all of
        # a chip's were seized (capped_share's other cases are filled in by resolve_start,
        # which left the chips in flight by lab in the rows to draw: the requests).
        for h, (_, seized, asked, need) in enumerate(plan[:m].tolist()):
            if need:
                lost[h] = _share_drawn(lost[h], asked, seized, rng)
        n_caught = resolve_finish(
            b.alive, b.ints, b.floats, draw, view.route_risk, lost, plan, m,
            labs.gray_inflight, labs.gray_price_paid, labs.escrow, labs.cash,
            books.smuggled_by_lab, books.seized_by_lab, books.seized_by_route, labs.country,
            ledger.stock, ledger._by_prov, ledger._held, ledger.in_transit, year_slot,
            books.flows, w.back, w.news,
        )
    if n_caught:  # the caught rings' rows were freed in the kernel: their agents go
        agents = model.broker_agents
        for slot, serial, r, c, q in w.news[:n_caught].tolist():
            _news_of(model, serial, r, c, q, n_caught)
            mesa.Agent.remove(agents.pop(slot))
    return w.back


def _share_drawn(
    requests: np.ndarray, asked: int, total: int, rng: np.random.Generator
) -> np.ndarray:
    """capped_share(requests, total, rng) where it draws (0 < total < asked, the requests'
    sum, known to the caller): the same draw, without the sum taken again."""
    if asked < HYPERGEOMETRIC_LIMIT:  # numpy's draw, compiled (int64 already)
        return multivariate_hypergeometric(rng, requests, total)
    return capped_share(requests, total, rng)


def resolve_shipments_reference(model: MonthContext) -> np.ndarray:
    """Last month's shipments arrive or are seized; buyers pay or are refunded. Returns [lab]
    the cash paid back to labs (seized chips' escrow): the cash after less the cash before.

    The rule in numpy, which resolve_shipments reproduces bit for bit: read this one."""
    b, labs, view = model.brokers, model.labs, model.view
    before = labs.cash.copy()
    moving = (b.alive & (b.ship_qty > 0)).nonzero()[0]
    books = model.books
    if moving.size == 0:
        return labs.cash - before
    # Each broker's route and load read once (the arrays do not move until the end).
    route, qty = b.route[moving], b.ship_qty[moving]
    caught = model.rng.random(moving.size) < view.route_risk[route]
    gone = moving[caught]
    n_chips = len(model.chips)
    seized = np.bincount(b.ship_chip[gone], weights=qty[caught], minlength=n_chips).astype(np.int64)
    model.ledger.seize(seized)
    for c in np.add.reduce(labs.gray_inflight, axis=0).nonzero()[0]:
        inflight = labs.gray_inflight[:, c]
        lost = capped_share(inflight, int(seized[c]), model.rng)
        arrived = inflight - lost
        model.ledger.deliver(arrived, int(c), model.year)
        price = labs.gray_price_paid[c]
        labs.escrow -= inflight * price
        labs.cash += lost * price
        books.smuggled_by_lab += arrived
        books.seized_by_lab += lost
        labs.gray_inflight[:, c] = 0
    np.maximum(labs.escrow, 0.0, out=labs.escrow)
    landed = ~caught
    ok, ok_qty = moving[landed], qty[landed]
    b.cash[ok] += ok_qty * b.ship_price[ok]
    b.delivered[ok] += ok_qty
    n_caught = gone.size
    if n_caught:
        np.add.at(books.seized_by_route, route[caught], qty[caught])
    received = np.bincount(
        labs.country, weights=books.smuggled_by_lab, minlength=len(model.country_ids)
    )
    if np.logical_or.reduce(received, axis=None):  # the last leg, to where most chips went
        books.record_smuggling(route[landed], int(received.argmax()), ok_qty)
    for slot in gone:
        _news_caught(model, int(slot), n_caught)
        model.broker_agents[int(slot)].remove()
    b.ship_qty[moving] = 0
    b.ship_load[moving] = 0.0
    return labs.cash - before


def _news_caught(model: MonthContext, slot: int, caught_this_month: int) -> None:
    """One news item a ring caught, or one summary when more are caught than make news."""
    b = model.brokers
    _news_of(
        model, int(b.serial[slot]), int(b.route[slot]), int(b.ship_chip[slot]),
        int(b.ship_qty[slot]), caught_this_month,
    )


def _news_of(
    model: MonthContext, serial: int, route_i: int, chip_i: int, qty: int, caught_this_month: int
) -> None:
    """_news_caught of a ring's serial, route, chip and load (read before it is removed)."""
    books = model.books
    route = model.country_names[route_i]
    chip = model.chips.ids[chip_i]
    books.caught.append((route, qty))
    if not model.tells_news:
        return
    enforcer = model.spec.levers["enforcement"].owner
    if caught_this_month <= MAX_CAUGHT_NEWS:
        model.news(
            "broker_caught",
            tr(
                "news_broker_caught",
                ring=serial,
                route=route,
                qty=f"{qty:,}",
                chip=chip,
            ),
            [enforcer, route],
        )
    elif len(books.caught) == caught_this_month:
        total = sum(q for _, q in books.caught)
        model.news(
            "broker_caught",
            tr("news_brokers_caught_month", rings=caught_this_month, total=f"{total:,}"),
            [enforcer],
        )


def enter(model: MonthContext) -> None:
    """New brokers come in while margins are high and buyers go unserved."""
    p, gray = model.p, model.gray
    if model.view.gray_chip < 0:
        return
    if not gray.opened:
        gray.opened = True
        n_new = int(p.broker_initial)
    else:
        margin = gray.expected_margin
        unmet = gray.unmet_share
        lam = p.broker_entry_rate * max(0.0, margin) * unmet
        n_new = min(int(model.rng.poisson(lam)), int(p.broker_max_entry))
    recruit(model, n_new)


def recruit(model: MonthContext, n: int) -> None:
    """Bring in n brokers: capacity (USD a month) log-normal around
    `broker_capacity_median_usd`, cash for `broker_capital_months` of that capacity."""
    if n <= 0:
        return
    p, rng, table, agents = model.p, model.rng, model.brokers, model.broker_agents
    mu, sigma = np.log(p.broker_capacity_median_usd), p.broker_capacity_sigma  # read once
    months, month = p.broker_capital_months, model.month
    for _ in range(n):
        capacity = float(rng.lognormal(mu, sigma))
        model.broker_serial += 1
        slot = table.add(model.broker_serial, capacity, capacity * months, month)
        agents[slot] = Broker(model, slot)


def choose_routes(model: MonthContext) -> None:
    """choose_routes_reference's effects, the arithmetic between its draws and the margins'
    log in two compiled kernels (agents/broker_kernel.py)."""
    b, view = model.brokers, model.view
    n_alive = np.count_nonzero(b.alive)
    routes = view.routes_open
    if n_alive == 0:
        return
    if routes.size == 0:
        b.route[b.alive] = -1
        return
    rng, p = model.rng, model.p
    n_countries = len(model.country_ids)
    w = _buffers(model)
    n_who = routes_rethink(
        b.alive, b.route, rng.random(n_alive), ROUTE_SWITCH_CHANCE, routes, n_countries,
        view.route_risk, view.gray_price, view.transit_price,
        float(p.hub_broker_fee_share * view.gray_price), w.who, w.risk, w.margin,
    )
    if n_who == 0:
        return
    m = routes.size
    log_margin = np.log(w.margin[:m])
    noise = rng.gumbel(0.0, p.broker_route_noise, size=(n_who, m))
    routes_pick(w.who, log_margin, w.risk, p.broker_route_risk_aversion, noise, routes, b.route)


def choose_routes_reference(model: MonthContext) -> None:
    """Each broker picks the transit country with the best expected margin for its risk;
    routes differ by interdiction probability, and brokers by taste (Gumbel noise).

    The rule in numpy, which choose_routes reproduces bit for bit: read this one."""
    p, b, view = model.p, model.brokers, model.view
    alive = b.alive.nonzero()[0]
    routes = view.routes_open
    if alive.size == 0:
        return
    if routes.size == 0:
        b.route[alive] = -1
        return
    current = b.route[alive]
    # Whether a broker's route is still open, by a lookup in a [country] mask (np.isin sorts);
    # a broker without a route (-1, which the lookup would wrap) rethinks anyway.
    is_open = np.zeros(len(model.country_ids), bool)
    is_open[routes] = True
    rethink = (
        (current < 0) | ~is_open[current] | (model.rng.random(alive.size) < ROUTE_SWITCH_CHANCE)
    )
    who = alive[rethink]
    if who.size == 0:
        return
    risk = view.route_risk[routes]
    margin = view.gray_price * (1.0 - risk) - view.transit_price - hub_fee(model)
    base = np.log(np.maximum(margin, 1.0)) - p.broker_route_risk_aversion * risk
    noise = model.rng.gumbel(0.0, p.broker_route_noise, size=(who.size, routes.size))
    b.route[who] = routes[(base[None, :] + noise).argmax(axis=1)]


def ship(model: MonthContext) -> np.ndarray:
    """ship_reference's effects, with the array arithmetic around its draws in two compiled
    kernels (agents/broker_kernel.py), Ledger.dispatch_one, the books' first leg, the cash-back
    and _gray_price's arithmetic up to its power included; the draws and next_markup stay
    here, in the reference's order. Returns [lab] the cash paid back to labs
    (gray refunds: the cash after less the cash before, as the reference returns them)."""
    b, labs, view = model.brokers, model.labs, model.view
    g = view.gray_chip
    if g < 0:
        return ship_reference(model)  # no gray chip: refunds only
    p, chips = model.p, model.chips
    fee = float(p.hub_broker_fee_share * view.gray_price)  # hub_fee
    cost = view.transit_price + fee
    orders = labs.gray_order
    w = _buffers(model)
    n, any_capped, supply, demand, h100e_g, vendor, maker = ship_start(
        b.alive, b.ints, b.floats, view.gray_load, cost, view.cap_left, g, chips.h100e,
        chips.vendor, model.vendor_country, orders, w.alive, w.can,
    )
    if n == 0:
        return ship_reference(model)  # no ring with a route: refunds only
    can = w.can[:n]  # what each ring with a route can buy (w.alive: which they are)
    rng = model.rng
    # capped_share(can, min(demand, supply)): the draw only where it shares some of the supply
    total = min(demand, supply)
    if total >= supply:
        q, shipped = can, supply
    elif total == 0:
        q, shipped = np.zeros_like(can), 0
    else:
        q = _share_drawn(can, supply, total, rng)
        # a hypergeometric sample holds exactly `total` units; the pro-rata share is summed
        shipped = total if supply < HYPERGEOMETRIC_LIMIT else int(np.add.reduce(q, axis=None))
    # diverted_share_stopped, the gray chip's vendor read in ship_start
    checks = float(model.policy.get("distributor_checks", model.vendor_ids[vendor]))
    stopped = float(p.distributor_check_stop * checks)
    if stopped > 0.0:
        q = np.floor(q * (1.0 - stopped)).astype(np.int64)
        shipped = int(np.add.reduce(q, axis=None))
    # capped_share(orders, shipped): the orders sum to demand
    if shipped >= demand:
        for_lab, for_lab_all = orders, 1
    elif shipped == 0:
        for_lab, for_lab_all = orders, 2
    else:
        for_lab, for_lab_all = _share_drawn(orders, demand, shipped, rng), 0
    back = w.ship_back
    floor, margin = ship_finish(
        w.alive, q, g, view.gray_price, view.gray_load, cost, fee, any_capped, h100e_g,
        model.country_bloc, b.alive, b.ints, b.floats, model.fees_via, model.books.sales_units,
        model.cap_used, orders, for_lab, for_lab_all, labs.gray_inflight, labs.gray_price_paid,
        labs.cash, labs.escrow, shipped, model.ledger.produced, model.ledger.in_transit,
        view.route_risk, view.routes_open, float(view.price[g]), float(p.gray_markup_min),
        maker, model.books.flows, back,
    )
    books, gray = model.books, model.gray
    # _gray_price, its floor and margin from the kernel
    books.gray_demand, books.gray_supply, books.gray_shipped = demand, supply, shipped
    gray.markup = next_markup(
        gray.markup, demand, supply, floor, p.gray_markup_max, p.gray_price_adjustment
    )
    gray.expected_margin = margin
    gray.unmet_share = max(0.0, demand - supply) / max(demand, 1)
    return back


def ship_reference(model: MonthContext) -> np.ndarray:
    """Brokers fill this month's gray orders as far as their capacity, cash and routes allow;
    unfilled orders are refunded at once. A broker ships at most capacity / `view.gray_load`
    chips: its dollars a month over what one gray chip takes of them. Returns [lab] the cash
    paid back to labs (the refunds): the cash after less the cash before.

    The rule in numpy, which ship reproduces bit for bit: read this one."""
    b, labs, view = model.brokers, model.labs, model.view
    before = labs.cash.copy()
    g = view.gray_chip
    orders = labs.gray_order.copy()
    # np.add.reduce and .nonzero(): .sum() and np.flatnonzero without their Python wrappers
    demand = int(np.add.reduce(orders, axis=None))
    alive = (b.alive & (b.route >= 0)).nonzero()[0]
    supply = 0
    shipped = 0
    if g >= 0 and alive.size:
        route = b.route[alive]  # read once: routes do not move while brokers ship
        fee = hub_fee(model)
        cost = view.transit_price + fee  # a chip bought in the hub and its transit fee
        can = np.minimum(
            np.floor(b.capacity[alive] / view.gray_load),
            np.floor(b.cash[alive] / cost),
        ).astype(np.int64)
        can = np.maximum(can, 0)
        capped = np.isfinite(view.cap_left)
        # no capped country: no route is capped either
        any_capped = bool(np.logical_or.reduce(capped, axis=None))
        if any_capped and np.logical_or.reduce(capped[route], axis=None):
            need = can * model.chips.h100e[g]
            scale = capacity_scale(need, route, np.where(capped, view.cap_left, 1e30))
            can = np.floor(can * scale).astype(np.int64)
        supply = int(np.add.reduce(can, axis=None))
        q = capped_share(can, min(demand, supply), model.rng)
        stopped = diverted_share_stopped(model, g)  # the vendor's checks on distributors
        if stopped > 0.0:  # its distributors refuse that share of the fronts' orders
            q = np.floor(q * (1.0 - stopped)).astype(np.int64)
        shipped = int(np.add.reduce(q, axis=None))
        b.ship_chip[alive] = np.where(q > 0, g, -1)
        b.ship_qty[alive] = q
        b.ship_price[alive] = view.gray_price
        b.ship_load[alive] = q * view.gray_load
        b.cash[alive] -= q * cost
        if fee > 0.0:  # the fees stay in the country the chips pass through
            np.add.at(model.fees_via, route, q * fee)
        b.idle[alive] = np.where(q > 0, 0, b.idle[alive] + 1)
        model.ledger.dispatch_one(g, shipped)
        maker = int(model.vendor_country[int(model.chips.vendor[g])])
        model.books.record_smuggling(maker, route, q)
        # sold where bought: [chip, bloc] units of the gray chip, added in place (whole counts)
        np.add.at(model.books.sales_units[g], model.country_bloc[route], q)
        if any_capped:  # bought in a capped hub: counts against its cap
            np.add.at(model.cap_used, route, q * model.chips.h100e[g])
        for_lab = capped_share(orders, shipped, model.rng)
        labs.gray_inflight[:, g] += for_lab
        labs.gray_price_paid[g] = view.gray_price
        refund = (orders - for_lab) * view.gray_price
        b.idle[b.alive & (b.route < 0)] += 1
    else:
        refund = orders * view.gray_price if g >= 0 else np.zeros(len(labs))
        b.idle[b.alive] += 1
    labs.cash += refund
    labs.escrow -= refund
    np.maximum(labs.escrow, 0.0, out=labs.escrow)
    labs.gray_order[:] = 0
    _gray_price(model, demand, supply, shipped)
    return labs.cash - before


def _gray_price(model: MonthContext, demand: int, supply: int, shipped: int) -> None:
    """The month's gray totals in the books, and the price: it moves with the balance of
    orders and capacity, above the brokers' cost."""
    view, gray = model.view, model.gray
    g = view.gray_chip
    model.books.gray_demand = demand
    model.books.gray_supply = supply
    model.books.gray_shipped = shipped
    if g >= 0:
        # the mean as np.mean takes it (the same sum over the count), without its dispatch
        open_risk = view.route_risk[view.routes_open]
        n_open = open_risk.size
        risk = float(np.add.reduce(open_risk, axis=None) / n_open) if n_open else 0.5
        list_price = max(view.price[g], 1.0)
        cost = view.transit_price + hub_fee(model)
        floor = model.p.gray_markup_min * cost / list_price / max(1e-6, 1.0 - risk)
        gray.markup = next_markup(
            gray.markup,
            demand,
            supply,
            floor,
            model.p.gray_markup_max,
            model.p.gray_price_adjustment,
        )
        gray.expected_margin = (view.gray_price * (1.0 - risk) - cost) / cost
        gray.unmet_share = max(0.0, demand - supply) / max(demand, 1)


def diverted_share_stopped(model: MonthContext, chip: int) -> float:
    """Share of the brokers' purchases of a chip its vendor's checks on distributors stop
    (know your customer, end-use visits, serial-number tracing): `distributor_check_stop` at
    full strength."""
    vendor = model.vendor_ids[int(model.chips.vendor[chip])]
    checks = float(model.policy.get("distributor_checks", vendor))
    return float(model.p.distributor_check_stop * checks)


def hub_fee(model: MonthContext) -> float:
    """USD a broker pays per chip to the economy of the transit country it routes through:
    `hub_broker_fee_share` of the chip's gray-market value (forwarders, front companies,
    warehouses and re-export margins, which the hub's economy keeps)."""
    return float(model.p.hub_broker_fee_share * model.view.gray_price)


def close_month(model: MonthContext) -> None:
    """exit_idle, and the month's smuggled chips into China's bloc counted by the country they
    leave (model.smuggled_via), in one compiled kernel (agents/broker_kernel.py)."""
    b = model.brokers
    w = _buffers(model)
    n_gone = close_month_kernel(
        b.alive, b.ints, b.floats, int(model.p.broker_idle_exit_months), model.books.flows,
        model.country_bloc, model.china_bloc, model.smuggled_via, w.gone,
    )
    if n_gone:  # their rows were freed in the kernel: their agents go
        agents = model.broker_agents
        for slot in w.gone[:n_gone].tolist():
            mesa.Agent.remove(agents.pop(slot))


def close_month_reference(model: MonthContext) -> None:
    """The rule in numpy, which close_month reproduces bit for bit: read this one."""
    exit_idle(model)
    into_china = model.country_bloc == model.china_bloc
    model.smuggled_via += np.add.reduce(model.books.flows[:, into_china, SMUGGLED], axis=1)


def exit_idle(model: MonthContext) -> None:
    """Brokers with no business for `broker_idle_exit_months` leave the market."""
    b = model.brokers
    gone = (b.alive & (b.idle >= int(model.p.broker_idle_exit_months))).nonzero()[0]
    for slot in gone:
        model.broker_agents[int(slot)].remove()


def busiest_route(model: MonthContext) -> str | None:
    """The transit country most brokers ship through now (where pressure would bite)."""
    routes = model.brokers.route[model.brokers.alive & (model.brokers.route >= 0)]
    if routes.size == 0:
        return None
    return model.country_ids[int(np.bincount(routes).argmax())]
