"""The market view derived from the world's state, in one place: what the rules allow, what
chips cost and are worth, what vendors can make, where the gray market runs and how risky
each route is. Every phase reads the result (game/core/market_view.py); the model derives it
again at the points of the month where its inputs change (see ChipWarModel.step)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from game.core import fab
from game.core.market import interdiction_probability
from game.core.market_view import MarketView
from game.core.rules import (
    CAPPED,
    CHIP_EXPORT,
    EMBARGOED,
    RESTRICTED,
    TIERS,
    Thresholds,
    access,
    classify,
)
from game.core.shocks import shock_factors

if TYPE_CHECKING:
    from game.core.catalogue import ChipTable
    from game.core.params import Params
    from game.sim.model import ChipWarModel

H100_BANDWIDTH_REFERENCE = 3.35  # TB/s; purchase value counts bandwidth relative to an H100
INTERCONNECT_REFERENCE = 900.0  # GB/s; NVLink 4, no cluster penalty at or above it


def derive_market_view(model: ChipWarModel, view: MarketView) -> MarketView:
    """Fill `view` (reused, so that the labs' compute set after buying survives) from the
    model's state now."""
    _rules(model, view)
    _prices_and_value(model, view)
    view.vendor_capacity = vendor_capacity(model)
    _markets(model, view)
    _gray_market(model, view)
    pools = (len(model.labs), len(model.chips.ecosystem_ids))
    if view.lab_pool_flops.shape != pools or view.lab_cluster_flops.shape != pools[:1]:
        view.lab_pool_flops = np.zeros(pools)
        view.lab_cluster_flops = np.zeros(pools[0])
    return view


def _rules(model: ChipWarModel, view: MarketView) -> None:
    """The rule engine: each chip's control class, each country's tier and access."""
    chips, labs, policy = model.chips, model.labs, model.policy
    view.vendor_bloc = model.country_bloc[model.vendor_country]
    view.vendor_markets = model.vendor_markets
    view.subject = (view.vendor_bloc[chips.vendor] == model.us_bloc) & chips.used
    th = Thresholds.from_policy(policy)
    view.chip_class = classify(chips.tpp, chips.density, chips.interconnect, view.subject, th)
    tiers = policy.targets("destination")
    view.tier = np.array([TIERS.index(str(tiers.get(c, "open"))) for c in model.country_ids])
    exports = policy.targets("chip_export")
    chip_export = np.array([CHIP_EXPORT.index(str(exports.get(cid, "rule"))) for cid in chips.ids])
    view.listed = np.zeros(len(labs.ids), bool)
    for lab_id, on in policy.targets("entity_list").items():
        if on and lab_id in model.lab_index:
            view.listed[model.lab_index[lab_id]] = True
    view.country_access = access(
        view.chip_class,
        view.subject,
        chip_export,
        view.tier,
        np.zeros(len(model.country_ids), bool),
        float(policy.get("licence_approval")),
        model.p.notify_approval,
    )
    view.lab_access = view.country_access[labs.country]
    if view.listed.any():
        view.lab_access[view.listed] = np.where(view.subject, 0.0, 1.0)[None, :]


def _prices_and_value(model: ChipWarModel, view: MarketView) -> None:
    """Usable FLOP/s per chip (software ecosystem, cluster links), what a chip is worth to a
    trainer and to a server, and its price (scarcity premium, mineral controls)."""
    chips, p, policy = model.chips, model.p, model.policy
    eco, link = chip_factors(chips, p, model.month - model.start)
    view.flops_per_chip = chips.tflops * 1e12 * eco * link
    compute = chips.h100e * eco * link
    bandwidth = chips.bandwidth / H100_BANDWIDTH_REFERENCE
    training = compute ** (1.0 + p.chip_scale_exponent)
    w_f, w_o = p.inference_weight_frontier, p.inference_weight_other
    view.purchase_value = np.where(
        chips.used[None, :],
        np.vstack(
            [
                training ** (1 - w_f) * bandwidth**w_f,  # row 0: frontier labs (train)
                compute ** (1 - w_o) * bandwidth**w_o,  # row 1: clouds and enterprise (serve)
            ]
        ),
        0.0,
    )
    premium = np.array([v.premium for v in model.vendors])
    minerals = 1.0 + p.mineral_price_effect * float(policy.get("mineral_controls"))
    foreign = view.vendor_bloc != model.china_bloc
    view.price = (
        chips.price * (1.0 + premium[chips.vendor]) * np.where(foreign[chips.vendor], minerals, 1.0)
    )


def chip_factors(chips: ChipTable, p: Params, months: int) -> tuple[np.ndarray, np.ndarray]:
    """[chip] what a chip keeps of its peak: its software ecosystem's maturity (the gap to
    CUDA closing at `ecosystem_catchup` a year from the start) and its links (clusters of
    chips slower than NVLink 4 lose `interconnect_exponent` of the shortfall)."""
    years = months / 12.0
    gap = (1.0 - chips.ecosystem_base) * (1.0 - p.ecosystem_catchup) ** max(0.0, years)
    eco = (1.0 - gap)[chips.ecosystem]
    link = np.minimum(1.0, chips.interconnect / INTERCONNECT_REFERENCE) ** p.interconnect_exponent
    return eco, link


def usable_flops_per_chip(chips: ChipTable, p: Params, months: int) -> np.ndarray:
    """[chip] training FLOP/s a chip delivers, `months` after the start."""
    eco, link = chip_factors(chips, p, months)
    return chips.tflops * 1e12 * eco * link


def _markets(model: ChipWarModel, view: MarketView) -> None:
    """The diffusion cap left per country, the closed market vendors design variants for,
    and renting abroad."""
    labs, policy, p = model.labs, model.policy, model.p
    cap = float(policy.get("diffusion_cap_h100e"))
    view.cap_left = np.where(
        (view.tier == CAPPED) & (cap > 0), np.maximum(cap - model.cap_used, 0.0), np.inf
    )
    closed = (view.tier == RESTRICTED) | (view.tier == EMBARGOED)
    active = labs.founded <= model.month
    demand = np.bincount(
        labs.country,
        weights=np.where(active, labs.budget, 0.0),
        minlength=len(model.country_ids),
    )
    view.variant_market = int(np.argmax(np.where(closed, demand, -1))) if closed.any() else -1
    host = view.rental_host = model.rental_host
    # Foreign data centres grow their rentals to restricted countries with their business.
    view.rental_capacity = (
        p.rental_capacity_h100e * labs.budget[host] / model.host_budget0 if host >= 0 else 0.0
    )
    view.enforcement = float(policy.get("enforcement"))


def _gray_market(model: ChipWarModel, view: MarketView) -> None:
    """The chip brokers deal in, its prices, and the interdiction risk and openness of each
    transit route.

    Brokers' capacity is counted in dollars a month, and a chip that ships only in a big,
    liquid-cooled system takes `smuggling_difficulty` times its price of it (agents/broker.py).
    Capacity is what binds the trade, so the chip that crosses is the one that gives a
    restricted trainer the most value per unit of capacity: value / (price x load factor). With
    every chip an 8-GPU server this is the best value for money, as buyers would choose."""
    chips, p, policy = model.chips, model.p, model.policy
    on_sale = chips.on_sale(model.month)
    wanted = view.subject & on_sale & (view.lab_access < 1.0).any(axis=0)
    load = smuggling_load(chips, p)
    if wanted.any():
        per_capacity = view.purchase_value[0] / (view.price * load)
        g = int(np.argmax(np.where(wanted, per_capacity, -1.0)))
        view.gray_chip = g
        view.gray_price = float(view.price[g] * model.gray.markup)
        view.transit_price = float(view.price[g] * (1.0 + p.transit_premium))
        view.gray_load = float(view.transit_price * load[g])
    else:
        view.gray_chip, view.gray_price, view.transit_price, view.gray_load = -1, 0.0, 0.0, 0.0
    pressure = np.array([float(policy.get("transit_pressure", c)) for c in model.country_ids])
    view.customs_effort = np.array(
        [float(policy.get("transit_customs", c)) for c in model.country_ids]
    )
    border = p.china_border_detection * (1.0 - float(policy.get("smuggling_tolerance")))
    customs = shock_factors(model.shocks, "customs", model.country_ids, model.month)
    view.route_risk = interdiction_probability(
        p.smuggling_detection,
        view.enforcement,
        model.customs * view.customs_effort * customs,
        pressure,
        p.detection_max,
        border,
    )
    if view.gray_chip >= 0:
        open_ = (
            model.transit
            & (view.country_access[:, view.gray_chip] >= 1.0)
            & (model.country_bloc != model.china_bloc)
            & (view.cap_left > 0)
        )
        view.routes_open = np.flatnonzero(open_)
    else:
        view.routes_open = np.zeros(0, np.int64)


def smuggling_load(chips: ChipTable, p: Params) -> np.ndarray:
    """[chip] dollars of a broker's capacity each dollar of the chip takes: the catalogue's
    `smuggling_difficulty` (1 for cards and 8-GPU servers, more for rack-scale systems that
    cross whole, need liquid cooling and run poorly without the vendor's service), raised to
    `smuggling_system_weight` (0: value alone bounds a ring; 1: the catalogue's factors)."""
    return chips.smuggling_difficulty**p.smuggling_system_weight


def hbm_stacks_per_chip(model: ChipWarModel) -> np.ndarray:
    """[vendor] HBM stacks a chip of each vendor's recent mix carries."""
    stacks = fab.hbm_stacks_per_chip(model.chips.memory_gb, model.p.hbm_gb_per_stack)
    return np.array([v.per_chip(stacks) for v in model.vendors])


def hbm_stacks_available(model: ChipWarModel) -> float:
    """HBM stacks China's vendors may use this month under the HBM control: CXMT's output
    this month and the month's share of the stockpile (they spread what is left over
    hbm_stockpile_runway_months rather than spend it at once)."""
    return model.hbm.available(model.p.hbm_stockpile_runway_months)


def vendor_capacity(model: ChipWarModel) -> np.ndarray:
    """[vendor] chips a month: each vendor's capacity, scaled by shocks in force; under HBM
    controls China's vendors make no more chips than this month's HBM stacks can equip
    (stacks available a month against stacks their chips need a month)."""
    cap = np.array([v.capacity for v in model.vendors])
    cap = cap * shock_factors(model.shocks, "capacity", model.vendor_ids, model.month)
    if bool(model.policy.get("hbm_controls")):
        china = np.array([v.domestic_china for v in model.vendors])
        need = float((cap * hbm_stacks_per_chip(model))[china].sum())
        have = hbm_stacks_available(model)
        if need > have:
            cap[china] *= have / need
    return cap
