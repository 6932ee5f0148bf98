"""Chip vendors: capacity, prices, the product roadmap and the cat-and-mouse of compliant variants.

A vendor makes what it is asked for up to its capacity (foundry, packaging, HBM), and raises its
prices when demand runs past it. Its roadmap is the catalogue: chips go on sale at their release
month and off at their end of sale. When a rule takes away a restricted market's access to chips
it sold there freely, the vendor starts designing a compliant variant, which ships
`variant_lag_months` later if the market is still closed to the chip it lost: a catalogue
variant if one fits the rules in force (A800, H800, H20), else a new derated design just under
the binding threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from game.config.dates import parse_month
from game.core.catalogue import NEVER
from game.core.rules import EMBARGOED, Thresholds, classify, design_compliant

if TYPE_CHECKING:
    from agents.context import MonthContext
    from game.config.world import VendorSpec

PREMIUM_SMOOTHING = 0.5  # share of the gap to the target price premium closed each month
MAX_PREMIUM = 1.0
DEMAND_SMOOTHING = 0.3  # weight of this month's orders in the demand vendors plan for
SHRINK_PER_MONTH = 0.98  # capacity is idled slowly when demand falls
HUAWEI_REFERENCE = "2025-07"  # huawei_output_2025 is the output rate at mid-2025


class ChipVendor(mesa.Agent):
    def __init__(self, model: MonthContext, index: int, spec: VendorSpec) -> None:
        super().__init__(model)
        p = model.p
        self.index = index
        self.vendor_id = spec.id
        self.name = spec.name
        self.country = model.country_ids.index(spec.country)
        self.domestic_china = model.country_bloc[self.country] == model.china_bloc
        if spec.capacity_per_month is None:
            # Huawei: the capacity path passes through huawei_output_2025 at mid-2025.
            self.base_growth = p.domestic_capacity_growth
            years_to_ref = (parse_month(HUAWEI_REFERENCE) - model.start) / 12.0
            self.capacity = p.huawei_output_2025 / 12.0 * self.base_growth ** (-years_to_ref)
        else:
            self.base_growth = float(spec.capacity_growth or 1.0)
            self.capacity = float(spec.capacity_per_month)
        self.premium = 0.0
        self.demand_ratio = 0.0
        self.recent_demand = self.capacity
        self.pending: list[dict[str, Any]] = []  # variant designs under way
        self.free_before: np.ndarray | None = None  # [country, chip]: could buy freely last month
        self.variants_made = 0

    # ------------------------------------------------------------------ monthly decisions
    def step(self) -> None:
        for item in self.model.scheduled(self.vendor_id):  # the vendor's own dated decisions
            self.model.apply(item.change, source="schedule", news=item.news)
        self._grow_capacity()
        self._set_price()
        self._variants()

    def _grow_capacity(self) -> None:
        """China's domestic capacity is pushed by the state and held back by tool controls;
        other vendors build to recent demand, no faster than their maximum growth."""
        model, p = self.model, self.model.p
        if model.turn <= 1:
            return
        log_g = np.log(self.base_growth)
        if self.domestic_china:
            fab = float(model.policy.get("fab_tool_controls"))
            subsidy = float(model.policy.get("domestic_subsidy"))
            log_g *= max(
                0.0, 1.0 - p.fab_tool_growth_penalty * fab + p.subsidy_capacity_effect * subsidy
            )
            self.capacity *= float(np.exp(log_g / 12.0))
        else:
            target = self.recent_demand * (1.0 + p.capacity_headroom)
            fastest = self.capacity * float(np.exp(log_g / 12.0))
            self.capacity = float(np.clip(target, self.capacity * SHRINK_PER_MONTH, fastest))

    def _set_price(self) -> None:
        target = min(
            MAX_PREMIUM, self.model.p.vendor_scarcity_premium * max(0.0, self.demand_ratio - 1.0)
        )
        self.premium += PREMIUM_SMOOTHING * (target - self.premium)

    def record_demand(self, units: float, capacity: float) -> None:
        self.demand_ratio = units / capacity if capacity > 0 else 0.0
        self.recent_demand += DEMAND_SMOOTHING * (units - self.recent_demand)

    # ------------------------------------------------------------------ compliant variants
    def remember_markets(self) -> None:
        """Note which countries could buy which of this vendor's chips freely, so that the next
        rule change shows what it took away."""
        view, chips = self.model.view, self.model.chips
        mine = chips.on_sale(self.model.month) & (chips.vendor == self.index) & view.subject
        self.free_before = (view.country_access >= 1.0) & mine[None, :]

    def _variants(self) -> None:
        model = self.model
        chips, view = model.chips, model.view
        market = view.variant_market
        allowed = bool(model.policy.get("make_compliant_variants", self.vendor_id))
        before = self.free_before
        self.remember_markets()
        # Under an embargo no derated chip is sellable either: nothing to design for.
        closed = market >= 0 and view.tier[market] == EMBARGOED
        if market < 0 or not allowed or before is None or closed:
            self.pending = []
            return
        on_sale = chips.on_sale(model.month) & (chips.vendor == self.index)
        free = self.free_before[market]
        # A new flagship launched into a closed market calls for a variant only if the vendor
        # has none on sale there (MI300X -> an MI308-like part; not H200 while H20 sells).
        has_variant = (free & (chips.variant_of >= 0)).any()
        launched = (
            on_sale & (chips.available_from == model.month) & (chips.variant_of < 0) & ~has_variant
        )
        # A variant that sold there and leaves sale this month (a designed one goes with its
        # parent's die, see ChipTable.add_variant) takes the vendor's product out of the market
        # as surely as a rule would: its successor is designed from a chip still being made.
        retired = before[market] & (chips.variant_of >= 0) & (chips.end_of_sale == model.month)
        caught = (before[market] | launched) & on_sale & ~free & view.subject
        lost = [int(c) for c in np.flatnonzero(caught | retired)]
        ready = model.month + int(model.p.variant_lag_months)
        for c in lost:
            parent = self._parent_for(int(c), ready)
            if parent >= 0 and all(d["parent"] != parent for d in self.pending):
                self.pending.append({"parent": parent, "lost": int(c), "ready": ready})
                if chips.available_from[c] == model.month:
                    why = "launches into a closed market"
                elif retired[c]:
                    why = "leaves sale"
                else:
                    why = "is caught by the rules"
                model.news(
                    "variant_design",
                    f"{self.name} starts designing a variant of the {chips.ids[parent]} "
                    f"for {model.country_names[market]}: the {chips.ids[c]} {why}",
                    [self.vendor_id],
                )
        selling = chips.on_sale(model.month)
        for design in [d for d in self.pending if d["ready"] <= model.month]:
            self.pending.remove(design)
            gone = design["lost"]
            if selling[gone] and view.country_access[market, gone] >= 1.0:
                continue  # the rule was relaxed again: no need
            if (free & (chips.variant_of == design["parent"])).any():
                continue  # a variant of that parent already sells there
            self._release(design["parent"], market)

    def release_now(self, chip: int, month: int) -> None:
        """Put a catalogue chip on sale from `month` (a scheduled launch, e.g. the real date of
        the A800); designs under way for the same parent are then no longer needed."""
        chips = self.model.chips
        chips.available_from[chip] = min(int(chips.available_from[chip]), month)
        parent = int(chips.variant_of[chip])
        self.pending = [d for d in self.pending if d["parent"] != parent]

    def _parent_for(self, lost: int, ready: int) -> int:
        """Derate the lost chip's own parent if it will still be made, else the flagship."""
        chips = self.model.chips
        parent = int(chips.variant_of[lost]) if chips.variant_of[lost] >= 0 else lost
        if chips.end_of_sale[parent] > ready:
            return parent
        mine = (
            chips.on_sale(self.model.month) & (chips.vendor == self.index) & (chips.variant_of < 0)
        )
        mine &= chips.end_of_sale > ready
        if not mine.any():
            return -1
        return int(np.flatnonzero(mine)[np.argmax(chips.tflops[mine])])

    def _release(self, parent: int, market: int) -> None:
        model = self.model
        chips, p = model.chips, model.p
        th = Thresholds.from_policy(model.policy)
        templates = [
            i
            for i in range(chips.n_catalogue)
            if chips.variant_of[i] == parent and chips.available_from[i] > model.month
        ]
        for i in templates:
            cls = classify(
                chips.tpp[i : i + 1],
                chips.density[i : i + 1],
                chips.interconnect[i : i + 1],
                np.array([True]),
                th,
            )
            if cls[0] == 0:
                chips.available_from[i] = model.month
                model.refresh_market_view()
                if model.view.country_access[market, i] >= 1.0:
                    self._announce(i, market)
                    return
                chips.available_from[i] = NEVER
                model.refresh_market_view()
        tflops, ic = design_compliant(
            chips.tflops[parent],
            chips.interconnect[parent],
            chips.die_area[parent],
            th,
            p.variant_margin,
        )
        ratio = tflops / chips.tflops[parent]
        price = chips.price[parent] * (
            p.variant_price_floor + (1.0 - p.variant_price_floor) * ratio
        )
        self.variants_made += 1
        new_id = f"{chips.ids[parent]}-C{self.variants_made}"
        i = chips.add_variant(
            parent,
            new_id,
            f"{new_id} ({chips.ids[parent]} for restricted markets)",
            tflops,
            ic,
            price,
            model.month,
        )
        model.refresh_market_view()
        if model.view.country_access[market, i] >= 1.0:
            self._announce(i, market)
        else:
            chips.available_from[i] = NEVER  # not sellable after all (an embargo): shelved

    def _announce(self, i: int, market: int) -> None:
        chips = self.model.chips
        self.model.news(
            "variant_released",
            f"{self.name} releases {chips.ids[i]} for {self.model.country_names[market]}, "
            f"just under the rules (TPP {chips.tpp[i]:,.0f}, "
            f"{chips.interconnect[i]:,.0f} GB/s links)",
            [self.vendor_id, chips.ids[i]],
        )

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "premium": self.premium,
            "demand_ratio": self.demand_ratio,
            "recent_demand": self.recent_demand,
            "pending": [dict(d) for d in self.pending],
            "free_before": None if self.free_before is None else self.free_before.tolist(),
            "variants_made": self.variants_made,
        }

    def load_state(self, d: dict[str, Any]) -> None:
        self.capacity, self.premium = float(d["capacity"]), float(d["premium"])
        self.demand_ratio = float(d["demand_ratio"])
        self.recent_demand = float(d["recent_demand"])
        self.pending = [dict(x) for x in d["pending"]]
        fb = d["free_before"]
        self.free_before = None if fb is None else np.array(fb, bool)
        self.variants_made = int(d["variants_made"])

    def __repr__(self) -> str:
        return f"ChipVendor({self.vendor_id!r}, capacity={self.capacity:,.0f}/month)"
