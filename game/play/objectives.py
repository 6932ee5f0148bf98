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

from game.play.view import WorldView

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel

CHINA_BLOC = "china"
US_GAP_TARGET = 9.0  # months
US_REVENUE_PENALTY = 10.0  # months of gap per 100% of NVIDIA's revenue lost against the ghost
CHINA_GAP_BASE = 12.0  # months
CHINA_DOMESTIC_WEIGHT = 10.0  # points per 100% of China's compute from domestic chips
CHINA_TARGET = 6.5  # points
VENDOR = "nvidia"
LAB = "deepseek"
TRANSIT = "transit"  # the government in actors.yaml that plays the transit hubs
TRANSIT_SMUGGLING_POINTS = 20.0  # points off for letting through as much as without you


@dataclass(frozen=True)
class Role:
    """A seat at the table: the model actor the player acts as, and the owner of the levers
    (policies/levers.yaml) that player may move."""

    id: str  # "us" | "china" | "transit" | "vendor" | "lab"
    name: str
    actor: str  # the model actor it plays: "us", "china", "transit", "nvidia", "deepseek"
    owner: str  # lever owner in levers.yaml it may move: "us", "china", "transit", "vendor", "lab"
    objective: str  # one sentence shown to the player


ROLES: dict[str, Role] = {
    r.id: r
    for r in (
        Role(
            "us",
            "US government",
            "us",
            "us",
            "Keep China's best AI models at least 9 months behind America's on average, "
            "without costing NVIDIA its revenue (each 10% lost counts as a month).",
        ),
        Role(
            "china",
            "China's government",
            "china",
            "china",
            "Close the gap to America's frontier and build your own chip industry: "
            "12 - gap in months + 10 x domestic share of compute, 6.5 or more.",
        ),
        Role(
            "vendor",
            "A chip vendor (NVIDIA)",
            VENDOR,
            "vendor",
            "Sell at least as much as NVIDIA would have sold without you, whatever the rules.",
        ),
        Role(
            "lab",
            "A frontier lab (DeepSeek)",
            LAB,
            "lab",
            "Give DeepSeek a better model than it would have had without you.",
        ),
        Role(
            "transit",
            "The transit hubs",
            TRANSIT,
            TRANSIT,
            "Singapore, Malaysia, the UAE and Vietnam: stay AI hubs the world trusts. Keep your "
            "data centres' compute as large as without you, and let fewer smuggled chips "
            "through your ports (20 points off for as many as without you).",
        ),
    )
}


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


def vendor_revenue_usd(model: ChipWarModel, vendor: str = VENDOR) -> float:
    """The vendor's revenue over the game so far, USD, at vendor prices (the sales table)."""
    table = model.datacollector.tables["sales"]
    revenue = np.asarray(table.get("revenue_usd", []), float)
    if revenue.size == 0:
        return 0.0
    return float(revenue[np.asarray(table["vendor"]) == vendor].sum())


def _revenue_bn(model: ChipWarModel, vendor: str = VENDOR) -> float:
    return vendor_revenue_usd(model, vendor) / 1e9


def _lab_capability(model: ChipWarModel, lab: str = LAB) -> float:
    """The lab's best model so far (capability index; 10 points per tenfold compute)."""
    value = float(model.labs.capability[model.lab_index[lab]])
    return value if math.isfinite(value) else 0.0


def revenue_lost_share(model: ChipWarModel, ghost: ChipWarModel) -> float:
    """Share of the ghost's NVIDIA revenue that the real world has not earned (0 if it earned
    as much or more): the cost of controls as the US role is charged for it."""
    ghost_rev = _revenue_bn(ghost)
    if ghost_rev <= 0:
        return 0.0
    return max(0.0, 1.0 - _revenue_bn(model) / ghost_rev)


def score_us(model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """US: value = mean of China's gap_months over the months played
    - 10 x (share of NVIDIA's revenue lost against the ghost); target 9 (months).

    Why: controls are judged by how far behind they keep China for the whole game, not just
    at the end, and what they cost America's own industry is charged in the same unit."""
    gaps = _china_series(model, "gap_months")
    if gaps.size == 0:
        return Score(0.0, US_GAP_TARGET, f"No months played yet (goal: {US_GAP_TARGET:g} months)")
    gap = float(np.nanmean(gaps)) if np.isfinite(gaps).any() else 0.0
    lost = revenue_lost_share(model, ghost)
    value = gap - US_REVENUE_PENALTY * lost
    text = f"China trails by {gap:.1f} months on average"
    if lost >= 0.005:  # a loss that shows as at least 1%
        text += f", less {US_REVENUE_PENALTY * lost:.1f} for NVIDIA's {lost:.0%} revenue loss"
    return Score(value, US_GAP_TARGET, f"{text}: {value:.1f} (goal: {US_GAP_TARGET:g})")


def score_china(model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """China: value = 12 - China's gap_months in the latest month
    + 10 x China's domestic_share of compute in the latest month; target 6.5.

    Why: catching up and self-reliance pull against each other (domestic chips are weaker, so
    a hard buy-domestic push widens the gap); the score makes the player weigh them. The
    ghost is not used: China's goal is absolute. Measured over the historical game (US bot
    reactive): doing nothing ends at a 9.5-month gap and 7% domestic compute, 3.2 points;
    subsidy 0.8 with a 0.8 mandate ends at 14 months and 89%, 6.9 points."""
    gaps = _china_series(model, "gap_months")
    if gaps.size == 0:
        return Score(0.0, CHINA_TARGET, f"No months played yet (goal: {CHINA_TARGET:g} points)")
    gap = float(gaps[-1])
    domestic = float(_china_series(model, "domestic_share")[-1])
    gap = gap if math.isfinite(gap) else CHINA_GAP_BASE
    domestic = domestic if math.isfinite(domestic) else 0.0
    value = CHINA_GAP_BASE - gap + CHINA_DOMESTIC_WEIGHT * domestic
    return Score(
        value,
        CHINA_TARGET,
        f"Gap {gap:.1f} months, {domestic:.0%} domestic compute: {value:.1f} points "
        f"(goal: {CHINA_TARGET:g})",
    )


def score_vendor(model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """Vendor: value = NVIDIA's revenue over the game so far (USD bn, model.sales());
    target = the ghost's NVIDIA revenue over the same months.

    Why: the vendor cannot set the rules, only play them (variants, launch dates); doing at
    least as well as the world without its decisions is the fair bar."""
    value, target = _revenue_bn(model), _revenue_bn(ghost)
    return Score(
        value,
        target,
        f"NVIDIA has sold ${value:,.1f}bn (goal: ${target:,.1f}bn, what it sells without you)",
    )


def score_lab(model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """Lab: value = DeepSeek's best model now (capability index); target = the ghost
    DeepSeek's best model.

    Why: a lab's lever (its appetite for gray-market and rented chips) can only be judged
    against what the same lab would have trained without it. 10 points are a tenfold of
    effective training compute, so one point is about 26% more."""
    value, target = _lab_capability(model), _lab_capability(ghost)
    return Score(
        value,
        target,
        f"DeepSeek's best model scores {value:.1f} (goal: {target:.1f}, its best without you)",
    )


def _hubs(model: ChipWarModel) -> np.ndarray:
    """Indices of the transit government's countries."""
    own = model.world.own_countries(TRANSIT)
    return np.array([model.country_ids.index(c) for c in own], np.int64)


def hub_compute(model: ChipWarModel) -> float:
    """H100-equivalents held now by the labs and data centres in the transit hubs (including
    what they rent out to foreign labs: that is their business)."""
    per_lab = WorldView(model).h100e_by_lab()
    return float(per_lab[np.isin(model.labs.country, _hubs(model))].sum())


def smuggled_through_hubs(model: ChipWarModel) -> int:
    """Smuggled chips delivered into China through the hubs since the start."""
    return int(model.smuggled_via[_hubs(model)].sum())


def score_transit(model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """Transit hubs: value = 100 x the hubs' compute / the ghost's
    - 20 x (smuggled chips through the hubs / the ghost's); target 80, what doing nothing
    scores.

    Why: a hub lives on trade and on the trust of the countries that sell it chips. Its
    customs stop smugglers, but permits and inspections make its own data centres' chips
    dearer (customs_compliance_cost), and a US that thinks it leaks can cut it off (a
    destination tier): the team has to find the level that keeps both. Measured over the
    historical world (48 months, 3 seeds): customs x1 scores 80, x2 about 88, x3 about 87."""
    hub, hub_o = hub_compute(model), hub_compute(ghost)
    via, via_o = smuggled_through_hubs(model), smuggled_through_hubs(ghost)
    kept = hub / hub_o if hub_o > 0 else 1.0
    let = via / via_o if via_o > 0 else (1.0 if via > 0 else 0.0)
    value = 100.0 * kept - TRANSIT_SMUGGLING_POINTS * min(let, 2.0)
    target = 100.0 - TRANSIT_SMUGGLING_POINTS
    return Score(
        value,
        target,
        f"Compute kept {kept:.0%}, smuggling let through {let:.0%}: {value:.1f} (goal: {target:g})",
    )


SCORERS = {
    "us": score_us,
    "china": score_china,
    "transit": score_transit,
    "vendor": score_vendor,
    "lab": score_lab,
}


def score(role_id: str, model: ChipWarModel, ghost: ChipWarModel) -> Score:
    """The role's score now (see the score_* functions for each formula)."""
    if role_id not in SCORERS:
        raise ValueError(f"unknown role '{role_id}'; expected one of: {', '.join(ROLES)}")
    return SCORERS[role_id](model, ghost)
