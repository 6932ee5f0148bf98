"""Governments: the only actors that move policy levers, by the scenario's schedule, a player's
decisions, or a bot strategy, always through `model.apply(PolicyChange(...))`.

Bot strategies (chosen per government in a scenario's `bots:`):
  none      follow the schedule only (the default; the historical record).
  reactive  every quarter, respond to the state of the contest:
            US: if China's gap falls under 6 months or smuggled chips pass 15% of China's
                compute, raise enforcement and press the busiest transit route;
            China: if the gap exceeds 9 months, raise subsidies and the buy-domestic mandate;
                if the US tightened chip controls in the last quarter, retaliate with mineral
                export controls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from agents.broker import busiest_route
from game.config.commands import PolicyChange

if TYPE_CHECKING:
    from agents.context import MonthContext
    from game.config.world import GovernmentSpec

TIGHTENING_LEVERS = (
    "export_rule",
    "control_tpp",
    "control_interconnect",
    "density_tpp",
    "control_density",
    "destination",
    "entity_list",
    "chip_export",
    "hbm_controls",
)


class Government(mesa.Agent):
    def __init__(self, model: MonthContext, spec: GovernmentSpec, strategy: str = "none") -> None:
        super().__init__(model)
        self.gov_id = spec.id
        self.name = spec.name
        self.country = model.country_ids.index(spec.country)
        self.bloc = int(model.country_bloc[self.country])
        self.strategy = strategy

    def step(self) -> None:
        for item in self.model.scheduled(self.gov_id):
            self.model.apply(item.change, source="schedule", news=item.news)
        if self.strategy == "reactive" and self.model.turn % 3 == 0:
            for change in self.decide():
                self.model.apply(change, source="bot")

    # ------------------------------------------------------------------ bot strategy
    def decide(self) -> list[PolicyChange]:
        """The reactive bot's moves this quarter (also what a 'suggest' button would show)."""
        model = self.model
        china = model.china_bloc
        gap = model.latest("gap_months", china)
        moves: list[PolicyChange] = []
        if self.gov_id == "us":
            enf = float(model.policy.get("enforcement"))
            smuggled = model.latest("smuggled_share", china)
            if (np.isfinite(gap) and gap < 6) or smuggled > 0.15:
                moves.append(PolicyChange("us", "enforcement", round(min(5.0, enf + 0.25), 2)))
                route = busiest_route(model)
                if route is not None:
                    now = float(model.policy.get("transit_pressure", route))
                    moves.append(
                        PolicyChange("us", "transit_pressure", round(min(3.0, now + 0.5), 2), route)
                    )
        elif self.gov_id == "china":
            if np.isfinite(gap) and gap > 9:
                sub = float(model.policy.get("domestic_subsidy"))
                mandate = float(model.policy.get("buy_domestic_mandate"))
                moves.append(
                    PolicyChange("china", "domestic_subsidy", round(min(0.6, sub + 0.1), 2))
                )
                moves.append(
                    PolicyChange("china", "buy_domestic_mandate", round(min(0.6, mandate + 0.1), 2))
                )
            recent = [
                c
                for m, c, _ in model.command_log
                if m > model.month - 3 and c.actor == "us" and c.lever in TIGHTENING_LEVERS
            ]
            if recent:
                level = float(model.policy.get("mineral_controls"))
                if level < 1.0:
                    moves.append(
                        PolicyChange("china", "mineral_controls", round(min(1.0, level + 0.2), 2))
                    )
        return moves

    def state(self) -> dict[str, Any]:
        return {"strategy": self.strategy}

    def load_state(self, d: dict[str, Any]) -> None:
        self.strategy = d["strategy"]

    def __repr__(self) -> str:
        return f"Government({self.gov_id!r}, strategy={self.strategy!r})"
