"""Governments: the only actors that move policy levers, by the scenario's schedule, a player's
decisions, or a bot strategy, always through `model.apply(PolicyChange(...))`.

Bot strategies (chosen per government in a scenario's `bots:`):
  none      follow the schedule only (the default; the historical record).
  reactive  every `bot_period_months`, respond to the state of the contest (the thresholds and
            steps are the `bot_*` parameters in assets/data/parameters.yaml):
            the controller (the US): if the target's gap falls under a trigger or smuggled
                chips pass a share of its compute, raise enforcement and press the busiest
                transit route; once a hub has carried `bot_leak_route_share` of the smuggled
                chips for `bot_leak_periods_reactive` reviews running while smuggled chips are
                `bot_leak_share_trigger` of the target's compute, restrict that hub (a US
                tier: its data centres lose controlled chips, its route closes);
            the target (China): if its gap exceeds a trigger, raise subsidies and the
                buy-domestic mandate; if the controller tightened chip controls in the last
                period, retaliate with mineral export controls.
  anticipating  the "hard" game's bots: as reactive, but they act on where the contest is
            going, not only where it is: the controller presses as soon as the target's gap
            has closed `bot_closing_months` over the last year, and restricts a leaking hub
            after `bot_leak_periods` reviews (fewer than the reactive bot's); the
            target supports its chips as soon as its gap has widened over the last year.
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
        self.side = spec.side
        self.country = model.country_ids.index(spec.country)
        self.bloc = int(model.country_bloc[self.country])
        self.strategy = strategy
        # the controller: the hubs leaking at each review (comma-joined), and the smuggled
        # chips counted through each country at the last review
        self.leaks: list[str] = []
        self.via_seen: list[int] = []

    def step(self) -> None:
        for item in self.model.scheduled(self.gov_id):
            self.model.apply(item.change, source="schedule", news=item.news)
        if self.strategy == "none":  # the schedule only: no review to time
            return
        if self.model.turn % int(self.model.p.bot_period_months) == 0:
            for change in self.decide():
                self.model.apply(change, source="bot")

    # ------------------------------------------------------------------ bot strategy
    def decide(self) -> list[PolicyChange]:
        """The reactive bot's moves this period (also what a 'suggest' button would show)."""
        if self.side == "controller":
            return self._press_smugglers()
        if self.side == "target":
            return self._support_and_retaliate()
        return []

    def _raise(
        self, lever: str, step: float, most: float, target: str | None = None
    ) -> list[PolicyChange]:
        """The lever raised by `step`, at most to `most`; nothing at all once it is there: a
        bot announces changes, not the policy it already has (and an unchanged lever is no
        tightening for the other side to answer)."""
        now = float(self.model.policy.get(lever, target))
        new = round(min(most, now + step), 2)
        return [PolicyChange(self.gov_id, lever, new, target)] if new != now else []

    def _ceiling(self, lever: str) -> float:
        spec = self.model.spec.levers[lever]
        assert spec.range is not None
        return float(spec.range[1])

    def _press_smugglers(self) -> list[PolicyChange]:
        """When the target closes in or smuggled chips grow, enforce harder and press the
        busiest route (anticipating: also when the gap is closing fast, and restrict a hub
        that keeps leaking)."""
        model, p = self.model, self.model.p
        gap = model.latest("gap_months", model.china_bloc)
        smuggled = model.latest("smuggled_share", model.china_bloc)
        closing = np.isfinite(gap) and gap < p.bot_controller_gap_trigger_months
        if self.strategy == "anticipating":
            closing = closing or self._trend("gap_months") < -p.bot_closing_months
        leaking = smuggled > p.bot_controller_smuggled_share_trigger
        route = busiest_route(model)
        moves: list[PolicyChange] = []
        for hub in self._sustained_leaks():
            moves += self._restrict(hub)
        if not (closing or leaking):
            return moves
        moves += self._raise("enforcement", p.bot_enforcement_step, self._ceiling("enforcement"))
        if route is not None:
            most = self._ceiling("transit_pressure")
            moves += self._raise("transit_pressure", p.bot_transit_pressure_step, most, route)
        return moves

    def _leaking_hubs(self) -> list[str]:
        """The hubs (countries of the government on the hubs' side) that carried at least
        `bot_leak_route_share` of the chips smuggled into the target since the last review,
        when smuggled chips are at least `bot_leak_share_trigger` of the target's compute."""
        model, p = self.model, self.model.p
        via = model.smuggled_via.astype(float)
        seen = np.asarray(self.via_seen, float) if self.via_seen else np.zeros_like(via)
        self.via_seen = [int(v) for v in model.smuggled_via]
        period = via - seen
        smuggled = model.latest("smuggled_share", model.china_bloc)
        if not (period.sum() > 0 and smuggled >= p.bot_leak_share_trigger):
            return []
        own = set(model.hub_countries)
        share = period / period.sum()
        return [
            c
            for i, c in enumerate(model.country_ids)
            if c in own and share[i] >= p.bot_leak_route_share
        ]

    def _sustained_leaks(self) -> list[str]:
        """The hubs leaking (see _leaking_hubs) in each of the last `bot_leak_periods` reviews
        (anticipating) or `bot_leak_periods_reactive` (reactive)."""
        p = self.model.p
        anticipating = self.strategy == "anticipating"
        periods = int(p.bot_leak_periods if anticipating else p.bot_leak_periods_reactive)
        self.leaks = (self.leaks + [",".join(self._leaking_hubs())])[-periods:]
        if len(self.leaks) < periods:
            return []
        sets = [set(filter(None, entry.split(","))) for entry in self.leaks]
        return sorted(set.intersection(*sets))

    def _restrict(self, country: str) -> list[PolicyChange]:
        """A leaking hub's tier raised to restricted (licences for controlled chips), unless
        it is already restricted or embargoed."""
        if str(self.model.policy.get("destination", country)) in ("restricted", "embargoed"):
            return []
        return [PolicyChange(self.gov_id, "destination", "restricted", country)]

    def _trend(self, column: str) -> float:
        """How far a results column of the target's bloc moved over the last twelve months
        (0 before a year of it)."""
        past = self.model.series(column, self.model.china_bloc)
        if past.size <= 12 or not np.isfinite(past[-13:]).all():
            return 0.0
        return float(past[-1] - past[-13])

    def _support_and_retaliate(self) -> list[PolicyChange]:
        """When far behind, subsidise domestic chips and mandate their use; answer a recent
        tightening by the controller with mineral export controls."""
        model, p = self.model, self.model.p
        moves: list[PolicyChange] = []
        gap = model.latest("gap_months", model.china_bloc)
        behind = np.isfinite(gap) and gap > p.bot_target_gap_trigger_months
        if self.strategy == "anticipating":
            behind = behind or self._trend("gap_months") > p.bot_closing_months
        if behind:
            for lever in ("domestic_subsidy", "buy_domestic_mandate"):
                moves += self._raise(lever, p.bot_support_step, p.bot_support_max)
        since = model.month - int(p.bot_period_months)
        tightened = any(
            m > since and c.actor == model.controller and c.lever in TIGHTENING_LEVERS
            for m, c, _ in model.command_log
        )
        most = self._ceiling("mineral_controls")
        if tightened and float(model.policy.get("mineral_controls")) < most:
            moves += self._raise("mineral_controls", p.bot_retaliation_step, most)
        return moves

    def state(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "leaks": list(self.leaks), "via_seen": self.via_seen}

    def load_state(self, d: dict[str, Any]) -> None:
        self.strategy = d["strategy"]
        self.leaks = [str(x) for x in d.get("leaks", [])]
        self.via_seen = [int(x) for x in d.get("via_seen", [])]

    def __repr__(self) -> str:
        return f"Government({self.gov_id!r}, strategy={self.strategy!r})"
