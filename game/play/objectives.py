"""Roles a player can take and how each is scored.

Every score is read from the results a player can see (`model.results()`, `model.sales()`, the
labs' best models) and compared, where that is fairer than an absolute number, with the ghost:
the same world and seed without the players' decisions. The ghost makes a score about the
player, not about the scenario: the vendor and the lab are asked to do at least as well as
history would have gone without them. Formulas are deliberately few and simple, because the
debrief has to explain them in a sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from game.config.roles import Role, default_roles
from game.config.texts import text as tr
from game.config.world import default_world_data
from game.play.view import WorldView

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel

# The roles and their goals are data (assets/data/roles.yaml); the two sides are the world's.
ROLES: dict[str, Role] = default_roles()
DEFAULT_ROLE = next(iter(ROLES))  # the first in roles.yaml: who plays when nobody says
CHINA_BLOC = default_world_data().target_bloc  # the bloc the rules aim at


@dataclass(frozen=True)
class Score:
    """A role's standing: `value` against `target` (higher is better), and a one-line summary
    that names the goal."""

    value: float
    target: float
    text: str

    @property
    def met(self) -> bool:
        return self.value >= self.target


def _china_series(model: ChipWarModel, column: str) -> np.ndarray:
    """A results column for China, month by month (numpy from the collector: the score is read
    every month, and building the whole results DataFrame each time cost ~7 ms)."""
    return WorldView(model).series(column).get(CHINA_BLOC, np.zeros(0))


def vendor_revenue_usd(model: ChipWarModel, vendor: str | None = None) -> float:
    """The vendor's revenue over the game so far, USD, at vendor prices (the sales table); by
    default the vendor the vendor role plays."""
    vendor = vendor or next(r.actor for r in ROLES.values() if r.score == "vendor")
    table = model.datacollector.tables["sales"]
    revenue = np.asarray(table.get("revenue_usd", []), float)
    if revenue.size == 0:
        return 0.0
    return float(revenue[np.asarray(table["vendor"]) == vendor].sum())


def _revenue_bn(model: ChipWarModel, vendor: str) -> float:
    return vendor_revenue_usd(model, vendor) / 1e9


def _lab_capability(model: ChipWarModel, lab: str) -> float:
    """The lab's best model so far (capability index; 10 points per tenfold compute)."""
    value = float(model.labs.capability[model.lab_index[lab]])
    return value if math.isfinite(value) else 0.0


def revenue_lost_share(model: ChipWarModel, ghost: ChipWarModel, vendor: str) -> float:
    """Share of the ghost's NVIDIA revenue that the real world has not earned (0 if it earned
    as much or more): the cost of controls as the US role is charged for it."""
    ghost_rev = _revenue_bn(ghost, vendor)
    if ghost_rev <= 0:
        return 0.0
    return max(0.0, 1.0 - _revenue_bn(model, vendor) / ghost_rev)


def score_controller(role: Role, model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """US: value = mean of China's gap_months over the months played
    - 10 x (share of NVIDIA's revenue lost against the ghost); target 9 (months).

    Why: controls are judged by how far behind they keep China for the whole game, not just
    at the end, and what they cost America's own industry is charged in the same unit."""
    goal_gap, penalty = role.number("gap_target_months"), role.number("revenue_penalty_months")
    vendor = role.vendor_name or tr("score_vendor_unnamed")
    gaps = _china_series(model, "gap_months")
    if gaps.size == 0:
        return Score(0.0, goal_gap, tr("score_none_yet_months", goal=f"{goal_gap:g}"))
    gap = float(np.nanmean(gaps)) if np.isfinite(gaps).any() else 0.0
    lost = revenue_lost_share(model, ghost, str(role.goal["vendor"]))
    value = gap - penalty * lost
    numbers = {"gap": f"{gap:.1f}", "value": f"{value:.1f}", "goal": f"{goal_gap:g}"}
    if lost >= 0.005:  # a loss that shows as at least 1%
        cost = {"cost": f"{penalty * lost:.1f}", "vendor": vendor, "lost": f"{lost:.0%}"}
        return Score(value, goal_gap, tr("score_controller_cost", **numbers, **cost))
    return Score(value, goal_gap, tr("score_controller", **numbers))


def score_target(role: Role, model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """China: value = 12 - China's gap_months in the latest month
    + 10 x China's domestic_share of compute in the latest month; target 6.5.

    Why: catching up and self-reliance pull against each other (domestic chips are weaker, so
    a hard buy-domestic push widens the gap); the score makes the player weigh them. The
    ghost is not used: China's goal is absolute. Measured over the historical game (US bot
    reactive, seed 2022, to December 2030): doing nothing ends at a 25.5-month gap and 10%
    domestic compute, -12.5 points; subsidy 0.8 with a 0.8 mandate ends at 25.9 months and 83%,
    -5.6 points (domestic output is bounded by wafers, yield and HBM, and small domestic
    clusters train small runs). In the shorter lessons a subsidy alone reaches the goal."""
    base, weight = role.number("gap_base_months"), role.number("domestic_weight")
    goal = role.number("target_points")
    gaps = _china_series(model, "gap_months")
    if gaps.size == 0:
        return Score(0.0, goal, tr("score_none_yet_points", goal=f"{goal:g}"))
    gap = float(gaps[-1])
    domestic = float(_china_series(model, "domestic_share")[-1])
    gap = gap if math.isfinite(gap) else base
    domestic = domestic if math.isfinite(domestic) else 0.0
    value = base - gap + weight * domestic
    return Score(
        value,
        goal,
        tr(
            "score_target",
            gap=f"{gap:.1f}",
            domestic=f"{domestic:.0%}",
            value=f"{value:.1f}",
            goal=f"{goal:g}",
        ),
    )


def vendor_market_revenue_usd(model: ChipWarModel, vendor: str, blocs: list[str]) -> float:
    """The vendor's revenue billed to some blocs over the game so far, USD (the sales table, at
    the prices the buyers paid: its China price included)."""
    table = model.datacollector.tables["sales"]
    revenue = np.asarray(table.get("revenue_usd", []), float)
    if revenue.size == 0:
        return 0.0
    mine = (np.asarray(table["vendor"]) == vendor) & np.isin(np.asarray(table["bloc"]), blocs)
    return float(revenue[mine].sum())


def score_vendor(role: Role, model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """Vendor: value = NVIDIA's revenue in the markets its levers reach (China, where the
    rules bite, and the rest of the world, where the transit hubs and their distributors are;
    USD bn); target = the ghost's there x (1 + revenue_goal_share).

    Why: the vendor cannot set the rules, only play them (its price for China, checks on its
    distributors, how close under the line its variants sit). Its sales to America and its
    allies are the world's demand, not its decisions, and would drown what its levers move.
    Doing nothing earns the ghost's revenue exactly, short of the goal (measured figures:
    roles.yaml)."""
    blocs = str(role.goal["markets"]).split()
    value = vendor_market_revenue_usd(model, role.actor, blocs) / 1e9
    base = vendor_market_revenue_usd(ghost, role.actor, blocs) / 1e9
    target = base * (1.0 + role.number("revenue_goal_share"))
    return Score(
        value,
        target,
        tr(
            "score_vendor",
            plays=role.plays,
            value=f"{value:,.1f}",
            target=f"{target:,.1f}",
            base=f"{base:,.1f}",
        ),
    )


def score_lab(role: Role, model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """Lab: value = DeepSeek's best model now (capability index); target = the ghost
    DeepSeek's best model + `points_over_ghost`.

    Why: a lab's levers (its appetite for gray-market and rented chips, the share of its
    budget it puts into efficiency research instead of chips) can only be judged against what
    the same lab would have trained without them; doing nothing trains the ghost's model and
    falls short. 10 points are a tenfold of effective training compute, so one point is about
    26% more (measured figures: roles.yaml)."""
    value, base = _lab_capability(model, role.actor), _lab_capability(ghost, role.actor)
    target = base + role.number("points_over_ghost")
    return Score(
        value,
        target,
        tr(
            "score_lab",
            plays=role.plays,
            value=f"{value:.1f}",
            target=f"{target:.1f}",
            base=f"{base:.1f}",
        ),
    )


def _hubs(model: ChipWarModel) -> np.ndarray:
    """Indices of the hubs' countries (the government on the hubs' side in actors.yaml)."""
    own = model.world.own_countries(model.world.government_on("hubs").id)
    return np.array([model.country_ids.index(c) for c in own], np.int64)


def hub_compute(model: ChipWarModel) -> float:
    """H100-equivalents held now by the labs and data centres in the transit hubs (including
    what they rent out to foreign labs: that is their business)."""
    per_lab = WorldView(model).h100e_by_lab()
    return float(per_lab[np.isin(model.labs.country, _hubs(model))].sum())


def smuggled_through_hubs(model: ChipWarModel) -> int:
    """Smuggled chips delivered into China through the hubs since the start."""
    return int(model.smuggled_via[_hubs(model)].sum())


def hub_fees_usd(model: ChipWarModel) -> float:
    """Transit fees smugglers paid in the hubs since the start, USD (agents/broker.py)."""
    return float(model.fees_via[_hubs(model)].sum())


def hubs_tiered(model: ChipWarModel) -> int:
    """Hubs the US holds under a tier now (capped, restricted or embargoed)."""
    own = model.world.own_countries(model.world.government_on("hubs").id)
    return sum(str(model.policy.get("destination", c)) != "open" for c in own)


def score_hubs(role: Role, model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """Transit hubs: value = 100 x the hubs' compute / the ghost's
    + fee_points x (transit fees earned / the ghost's) - smuggling_points x (smuggled chips
    through the hubs / the ghost's), both ratios capped at 2; the goal (roles.yaml) is above
    what doing nothing scores.

    Why: a hub lives on trade (smugglers pay its forwarders and fronts a fee on every chip
    routed through it, so looking away pays) and on the trust of the countries that sell it
    chips: a US that sees sustained leakage through a hub puts it under a tier, and its data
    centres lose the chips that rule covers (the compute the score counts). Checks stop
    smugglers but make its own data centres' chips dearer (customs_compliance_cost). Measured
    figures: roles.yaml."""
    hub, hub_o = hub_compute(model), hub_compute(ghost)
    via, via_o = smuggled_through_hubs(model), smuggled_through_hubs(ghost)
    fees, fees_o = hub_fees_usd(model), hub_fees_usd(ghost)
    kept = hub / hub_o if hub_o > 0 else 1.0
    let = via / via_o if via_o > 0 else (1.0 if via > 0 else 0.0)
    earned = fees / fees_o if fees_o > 0 else (1.0 if fees > 0 else 0.0)
    points, fee_points = role.number("smuggling_points"), role.number("fee_points")
    value = 100.0 * kept + fee_points * min(earned, 2.0) - points * min(let, 2.0)
    target = role.number("goal_points")
    return Score(
        value,
        target,
        tr(
            "score_hubs",
            kept=f"{kept:.0%}",
            fees=f"{fees / 1e6:,.0f}",
            earned=f"{earned:.0%}",
            let=f"{let:.0%}",
            tiers=str(hubs_tiered(model)),
            value=f"{value:.1f}",
            goal=f"{target:g}",
        ),
    )


SCORERS = {
    "controller": score_controller,
    "target": score_target,
    "hubs": score_hubs,
    "vendor": score_vendor,
    "lab": score_lab,
}


def score(
    role_id: str, model: ChipWarModel, ghost: ChipWarModel, role: Role | None = None
) -> Score:
    """The role's score now (see the score_* functions for each formula); `role`: the role as
    the game plays it (a lesson's own goal numbers), else as roles.yaml gives it."""
    if role_id not in ROLES:
        raise ValueError(f"unknown role '{role_id}'; expected one of: {', '.join(ROLES)}")
    role = role or ROLES[role_id]
    return SCORERS[role.score](role, model, ghost)
