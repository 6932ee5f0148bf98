"""ChipWarModel: the world of the chip war, one step per month.

The month, in order:
  1. New year: the oldest cohort of chips retires and some chips fail.
  2. Budgets grow; governments apply scheduled, bot or player lever changes (`apply`).
  3. The rule engine classifies chips and decides access; vendors set capacity and prices,
     and release compliant variants when a rule has closed a market to them.
  4. Last month's smuggled shipments land or are seized.
  5. Labs buy compute (legal, compliant, domestic, rented, gray-market orders in escrow).
  6. Brokers enter, choose routes and ship this month's gray orders.
  7. Labs train; algorithmic efficiency grows (faster under scarcity); results are recorded.

Everything random draws from `self.rng` (seeded by `rng=`), and levers move only through
`apply(PolicyChange)`, so a run is reproduced by its scenario, seed and list of commands, and
`snapshot`/`restore` (game/sim/state.py) copy a world exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.datacollection import DataCollector

from agents import broker as broker_rules
from agents import lab as lab_rules
from agents.broker import Broker, BrokerTable
from agents.government import Government
from agents.lab import AILab, LabTable
from agents.vendor import ChipVendor
from game.config.commands import PolicyChange, check_change
from game.config.dates import format_month, month_of_year, parse_month, year_of
from game.config.errors import CommandError, Problem
from game.config.events import EventSpec
from game.config.levers import PolicySpec, default_policy_spec
from game.config.scenario import Scenario, ScheduledChange, load_scenario, with_overrides
from game.config.world import WorldData, default_world_data
from game.core.capability import capability_index, grow_efficiency
from game.core.catalogue import ChipTable
from game.core.ledger import DOMESTIC, LEGAL, PROVENANCES, RENTED, SMUGGLED, Ledger
from game.core.market import interdiction_probability
from game.core.policy_state import PolicyState
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
from game.core.shocks import Shock
from game.sim.results import COLUMN_NAMES, SALES_COLUMNS, bloc_rows, sales_rows

H100_BANDWIDTH_REFERENCE = 3.35  # TB/s; purchase value counts bandwidth relative to an H100
INTERCONNECT_REFERENCE = 900.0  # GB/s; NVLink 4, no cluster penalty at or above it


class Params:
    """Merged parameter values (parameters.yaml, then scenario, then --set), as attributes."""

    def __init__(self, values: dict[str, float]) -> None:
        self.__dict__.update({k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass
class GrayMarket:
    opened: bool = False
    markup: float = 1.5
    expected_margin: float = 0.0
    unmet_share: float = 1.0


@dataclass
class MarketView:
    """What the rules and prices are this month: derived from the state, never saved."""

    chip_class: np.ndarray = field(default_factory=lambda: np.zeros(0))
    subject: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    tier: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    listed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    country_access: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    lab_access: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    purchase_value: np.ndarray = field(
        default_factory=lambda: np.zeros((2, 0))
    )  # [buyer kind, chip]
    flops_per_chip: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vendor_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vendor_bloc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    vendor_markets: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    cap_left: np.ndarray = field(default_factory=lambda: np.zeros(0))
    variant_market: int = -1
    gray_chip: int = -1
    gray_price: float = 0.0
    transit_price: float = 0.0
    route_risk: np.ndarray = field(default_factory=lambda: np.zeros(0))
    customs_effort: np.ndarray = field(default_factory=lambda: np.ones(0))  # [country]
    routes_open: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    enforcement: float = 1.0
    rental_host: int = -1
    rental_capacity: float = 0.0
    lab_flops: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _gray_price(model: ChipWarModel) -> float:
    return float(model.view.gray_price) if model.view.gray_chip >= 0 else float("nan")


def _brokers(model: ChipWarModel) -> int:
    return int(model.brokers.alive.sum())


def _in_transit(model: ChipWarModel) -> int:
    return int(model.ledger.in_transit.sum())


class ChipWarModel(mesa.Model):
    """The chip war. `ChipWarModel()` runs the historical scenario with a fresh random seed;
    pass `rng=` (an int) for a reproducible run."""

    def __init__(
        self,
        scenario: str | Scenario = "historical",
        rng: int | None = None,
        *,
        overrides: dict[str, Any] | list[str] | None = None,
        months: int | None = None,
        synthetic_labs: int = 0,
        synthetic_brokers: int = 0,
        check_invariants: bool = False,
        world: WorldData | None = None,
        spec: PolicySpec | None = None,
    ) -> None:
        if rng is None:
            rng = int(np.random.SeedSequence().entropy % (2**63))
        super().__init__(rng=rng)
        self.rng_seed = int(rng)
        self.world = world or default_world_data()
        self.spec = spec or default_policy_spec()
        sc = (
            scenario
            if isinstance(scenario, Scenario)
            else load_scenario(scenario, world=self.world, spec=self.spec)
        )
        if overrides:
            sc = with_overrides(sc, overrides, world=self.world, spec=self.spec)
        self.scenario = sc
        self.horizon = int(months) if months is not None else sc.months
        self.synthetic_labs, self.synthetic_brokers = int(synthetic_labs), int(synthetic_brokers)
        self.check_invariants = check_invariants
        values = self.world.parameter_values()
        values.update(sc.parameters)
        self.p = Params(values)
        self.turn = 0
        self.month = sc.start - 1
        self._in_step = False

        self._build_geography()
        self.vendor_ids = [v.id for v in self.world.vendors]
        self.chips = ChipTable(self.world, self.vendor_ids)
        self.labs = LabTable(len(self.world.labs) + self.synthetic_labs, len(self.chips))
        self.ledger = Ledger(
            len(self.labs.country), len(self.chips), int(self.p.service_life_years)
        )
        self.policy = PolicyState(self.spec, sc.pinned)
        self.brokers = BrokerTable()
        self.broker_agents: dict[int, Broker] = {}
        self.broker_serial = 0
        self.gray = GrayMarket(markup=self.p.gray_markup)
        self.efficiency = np.ones(len(self.bloc_ids))
        self.scarcity = np.zeros(len(self.bloc_ids))
        self.cap_used = np.zeros(len(self.country_ids))
        # smuggled chips delivered into China through each transit country, since the start
        self.smuggled_via = np.zeros(len(self.country_ids), np.int64)
        self.hbm_stockpile = self.p.hbm_stockpile_chips
        self.events: list[dict[str, Any]] = []
        self.command_log: list[tuple[int, PolicyChange, str]] = []
        self.shocks: list[Shock] = []  # facilitator events in force or past (game/config/events.py)
        self.month_stats = self._fresh_stats()
        self._schedule: dict[int, list[ScheduledChange]] = {}
        for item in sc.schedule:
            self._schedule.setdefault(item.month, []).append(item)

        self.vendors = [ChipVendor(self, i, v) for i, v in enumerate(self.world.vendors)]
        self.vendor_markets = np.array(  # [vendor, bloc]: may the vendor sell there
            [
                [v.sells_to is None or b in v.sells_to for b in self.bloc_ids]
                for v in self.world.vendors
            ]
        )
        self.governments = {
            g.id: Government(self, g, sc.bots.get(g.id, "none")) for g in self.world.governments
        }
        self._build_labs()
        reference_price = self.chips.price[self.chips.reference] * (1.0 + self.p.transit_premium)
        broker_rules.recruit(self, self.synthetic_brokers, reference_price)
        self.frontier_hist: list[np.ndarray] = [self.frontier_now()]
        self.datacollector = DataCollector(
            model_reporters={
                "gray_price_usd": _gray_price,
                "brokers_active": _brokers,
                "chips_in_transit": _in_transit,
            },
            tables={"blocs": COLUMN_NAMES, "sales": SALES_COLUMNS},
        )
        self.refresh_view()
        for vendor in self.vendors:
            vendor.remember_markets()
        for change in sc.initial:
            self.apply(change, source="initial")
        # Step 0 is collected too: mesa.batch_run reads collected values by step index.
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ construction
    def _build_geography(self) -> None:
        w = self.world
        self.bloc_ids = [b.id for b in w.blocs]
        self.bloc_names = [b.name for b in w.blocs]
        self.country_ids = [c.id for c in w.countries]
        self.country_names = [c.name for c in w.countries]
        self.country_bloc = np.array([self.bloc_ids.index(c.bloc) for c in w.countries])
        self.customs = np.array([c.customs for c in w.countries])
        self.transit = np.array(["transit" in c.roles for c in w.countries])
        govs = {g.id: g for g in w.governments}
        self.us_bloc = (
            int(self.country_bloc[self.country_ids.index(govs["us"].country)])
            if "us" in govs
            else -1
        )
        self.china_bloc = (
            int(self.country_bloc[self.country_ids.index(govs["china"].country)])
            if "china" in govs
            else -1
        )

    def _build_labs(self) -> None:
        labs, chips, p = self.labs, self.chips, self.p
        start_year = year_of(self.scenario.start)
        oldest = start_year - self.ledger.service_life + 1
        for i, spec in enumerate(self.world.labs):
            labs.ids.append(spec.id)
            labs.names.append(spec.name)
            labs.country[i] = self.country_ids.index(spec.country)
            labs.bloc[i] = self.country_bloc[labs.country[i]]
            labs.frontier[i] = spec.frontier
            labs.growth_kind[i] = 0 if spec.growth == "frontier" else 1
            labs.founded[i] = parse_month(spec.founded) if spec.founded else self.scenario.start
            labs.hosts[i] = spec.hosts_rentals
            labs.budget[i] = spec.budget_musd * 1e6 * p.budget_scale
            labs.risk[i] = spec.risk_appetite
            labs.best_eff_flop[i] = spec.best_model_flop
            labs.best_run_flop[i] = spec.best_model_flop
            self.policy.by_target.setdefault("risk_appetite", {})[spec.id] = spec.risk_appetite
            for chip_id, qty in spec.initial_stock.items():
                c = chips.index(chip_id)
                vintage = int(np.clip(year_of(chips.released[c]) + 1, oldest, start_year - 1))
                domestic = self.country_bloc[self.vendors[chips.vendor[c]].country] == labs.bloc[i]
                self.ledger.install_initial(i, c, DOMESTIC if domestic else LEGAL, qty, vintage)
        for v in self.world.vendors:
            self.policy.by_target.setdefault("make_compliant_variants", {})[v.id] = v.makes_variants
        n0 = len(self.world.labs)
        if self.synthetic_labs:
            consumers = np.flatnonzero([("consumer" in c.roles) for c in self.world.countries])
            k = self.rng.choice(consumers, size=self.synthetic_labs)
            for j in range(self.synthetic_labs):
                labs.ids.append(f"synthetic_{j}")
                labs.names.append(f"Synthetic lab {j}")
            sl = slice(n0, n0 + self.synthetic_labs)
            labs.country[sl] = k
            labs.bloc[sl] = self.country_bloc[k]
            labs.frontier[sl] = self.rng.random(self.synthetic_labs) < 0.1
            labs.growth_kind[sl] = 1
            labs.founded[sl] = self.scenario.start
            labs.budget[sl] = self.rng.lognormal(np.log(2e6), 1.0, self.synthetic_labs)
            labs.risk[sl] = self.rng.uniform(0.0, 0.6, self.synthetic_labs)
        labs.capability[:] = capability_index(labs.best_eff_flop, p.capability_points_per_decade)
        labs.capability[~labs.frontier] = np.nan
        labs.run_age[:] = self.rng.integers(0, max(1, int(p.run_months)), len(labs.country))
        self.lab_agents = [AILab(self, i) for i in range(len(labs.country))]
        self.lab_index = {lab_id: i for i, lab_id in enumerate(labs.ids)}
        hosts = np.flatnonzero(labs.hosts)
        self.host_budget0 = float(labs.budget[hosts[0]]) if hosts.size else 1.0

    def _fresh_stats(self) -> dict[str, Any]:
        n_labs = len(self.labs.country) if hasattr(self, "labs") else 0
        return {
            "smuggled_by_lab": np.zeros(n_labs, np.int64),
            "seized_by_lab": np.zeros(n_labs, np.int64),
            "bought_by_lab": np.zeros(n_labs, np.int64),
            "revenue_by_bloc": np.zeros(len(self.bloc_ids)),
            "caught": [],
            "sales_units": np.zeros((len(self.chips), len(self.bloc_ids)), np.int64)
            if hasattr(self, "chips")
            else None,
            # chips moving this month: [from country, to country, provenance], and seizures
            # by the transit country where they happen (the map draws both)
            "flows": np.zeros((len(self.country_ids),) * 2 + (len(PROVENANCES),), np.int64),
            "seized_by_route": np.zeros(len(self.country_ids), np.int64),
            "gray_demand": 0,
            "gray_supply": 0,
            "gray_shipped": 0,
        }

    # ------------------------------------------------------------------ clock
    @property
    def date(self) -> str:
        return format_month(self.month)

    @property
    def year(self) -> int:
        return year_of(self.month)

    # ------------------------------------------------------------------ commands
    def apply(self, change: PolicyChange, source: str = "player", news: str | None = None) -> None:
        """The only way a lever moves. Raises CommandError if the lever spec forbids the change."""
        errs = check_change(change, self.spec, self.world, chip_ids=self.chips.known_ids())
        if errs:
            raise CommandError([Problem(msg, key=f"{change}: {key}") for key, msg in errs])
        effective = self.month if self._in_step else self.month + 1
        for done in self.policy.set(change):
            if done.lever == "risk_appetite" and done.target in self.lab_index:
                self.labs.risk[self.lab_index[done.target]] = float(done.value)
            if done.lever == "diffusion_cap_h100e":
                self.cap_used[:] = 0.0
            if done.lever == "release_variant" and done.value:
                vendor = self.vendors[self.vendor_ids.index(done.actor)]
                vendor.release_now(self.chips.index(str(done.target)), effective)
        self.command_log.append((effective, change, source))
        if source != "initial":
            self.news(
                "policy",
                news or self._change_news(change),
                [change.actor],
                month=effective,
            )
        if not self._in_step:  # a player's command between months: show its effect at once
            self.refresh_view()

    def inject(self, event: EventSpec, source: str = "facilitator") -> None:
        """A shock nobody at the table chose (a facilitator's event), from next month on: lever
        changes for a policy event, else a Shock that scales customs or vendors' output for
        its months. Its headline goes to the news."""
        effective = self.month if self._in_step else self.month + 1
        if event.kind == "policy":
            changes = event.policy_changes()
            for i, change in enumerate(changes):
                self.apply(change, source=source, news=event.headline if i == 0 else None)
            return
        self.shocks.append(
            Shock(
                event.id,
                event.kind,
                tuple(event.targets),
                float(event.factor),
                effective,
                effective + int(event.months) - 1,
            )
        )
        self.news("shock", event.headline, list(event.targets), month=effective)
        if not self._in_step:
            self.refresh_view()

    def _shock_factors(self, kind: str, ids: list[str]) -> np.ndarray:
        """The product of the factors of this kind's shocks in force this month, per id."""
        out = np.ones(len(ids))
        for shock in self.shocks:
            if shock.kind == kind and shock.active(self.month):
                for t in shock.targets:
                    out[ids.index(t)] *= shock.factor
        return out

    def scheduled(self, actor: str) -> list[ScheduledChange]:
        """This month's scheduled changes for one actor, in the scenario's order."""
        return [s for s in self._schedule.get(self.month, []) if s.change.actor == actor]

    def actor_name(self, actor: str) -> str:
        """A government's, vendor's or lab's name as players read it (the id if unknown)."""
        if actor in self.governments:
            return self.governments[actor].name
        names = {v.id: v.name for v in self.world.vendors} | {
            lab.id: lab.name for lab in self.world.labs
        }
        return names.get(actor, actor)

    def target_name(self, target: str) -> str:
        """A lever target's name: a country, else an actor (lab or vendor)."""
        if target in self.country_ids:
            return self.country_names[self.country_ids.index(target)]
        return self.actor_name(target)

    def _change_news(self, change: PolicyChange) -> str:
        """A lever change as the news reads it: names, not ids."""
        return f"{self.actor_name(change.actor)}: {self.describe_change(change)}"

    def describe_change(self, change: PolicyChange) -> str:
        """'Customs on AI chips for Malaysia set to 2.0': a lever change in the names players
        see on screen (the news and the debrief), not the ids of the lever spec."""
        lever = self.spec.levers.get(change.lever)
        what = lever.name if lever is not None else change.lever
        value = change.value
        if isinstance(value, bool):
            value = "on" if value else "off"
        target = f" for {self.target_name(str(change.target))}" if change.target else ""
        return f"{what}{target} set to {value}"

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        self._in_step = True
        self.turn += 1
        self.month = self.scenario.start + self.turn - 1
        self.month_stats = self._fresh_stats()
        if month_of_year(self.month) == 1:
            self.ledger.retire_cohort(self.year)
            self.ledger.fail(self.rng, self.p.annual_failure_rate)
        if self.turn > 1:
            lab_rules.budget_growth(self)
        for gov in self.governments.values():
            gov.step()
        for lab_id in self.labs.ids if self._schedule.get(self.month) else ():
            for item in self.scheduled(lab_id):  # labs decide as one table
                self.apply(item.change, source="schedule", news=item.news)
        self.refresh_view()
        self._cut_remote_access()
        for vendor in self.vendors:
            vendor.step()
        self.refresh_view()
        broker_rules.resolve_shipments(self)
        lab_rules.procure(self)
        self._use_hbm()
        broker_rules.enter(self)
        broker_rules.choose_routes(self)
        broker_rules.ship(self)
        broker_rules.exit_idle(self)
        into_china = self.country_bloc == self.china_bloc
        self.smuggled_via += self.month_stats["flows"][:, into_china, SMUGGLED].sum(axis=1)
        self.view.lab_flops = self._lab_flops()
        for i in lab_rules.train(self):
            self.news(
                "training_run",
                f"{self.labs.names[i]}: a new model leads "
                f"{self.bloc_names[self.labs.bloc[i]]} (capability {self.labs.capability[i]:.1f})",
                [self.labs.ids[i]],
            )
        self._grow_efficiency()
        self.datacollector.collect(self)
        for row in bloc_rows(self):
            self.datacollector.add_table_row("blocs", row)
        for row in sales_rows(self):
            self.datacollector.add_table_row("sales", row)
        if self.turn >= self.horizon:
            self.running = False
        self._in_step = False
        if self.check_invariants:
            problems = self.invariant_problems()
            if problems:
                raise AssertionError(f"{self.date}: " + "; ".join(problems))

    def run(self, months: int | None = None) -> pd.DataFrame:
        """Run to the end of the horizon (or `months` more) and return the results table."""
        for _ in range(months if months is not None else max(0, self.horizon - self.turn)):
            self.step()
        return self.results()

    # ------------------------------------------------------------------ rules and prices
    def refresh_view(self) -> None:
        view = getattr(self, "view", None) or MarketView()
        chips, labs, p, policy = self.chips, self.labs, self.p, self.policy
        vendor_country = np.array([v.country for v in self.vendors])
        view.vendor_bloc = self.country_bloc[vendor_country]
        view.vendor_markets = self.vendor_markets
        view.subject = view.vendor_bloc[chips.vendor] == self.us_bloc
        view.subject &= chips.used
        th = Thresholds.from_policy(policy)
        view.chip_class = classify(chips.tpp, chips.density, chips.interconnect, view.subject, th)
        tiers = policy.targets("destination")
        view.tier = np.array([TIERS.index(str(tiers.get(c, "open"))) for c in self.country_ids])
        exports = policy.targets("chip_export")
        chip_export = np.array(
            [CHIP_EXPORT.index(str(exports.get(cid, "rule"))) for cid in chips.ids]
        )
        view.listed = np.zeros(len(labs.ids), bool)
        for lab_id, on in policy.targets("entity_list").items():
            if on and lab_id in self.lab_index:
                view.listed[self.lab_index[lab_id]] = True
        view.country_access = access(
            view.chip_class,
            view.subject,
            chip_export,
            view.tier,
            np.zeros(len(self.country_ids), bool),
            float(policy.get("licence_approval")),
            p.notify_approval,
        )
        view.lab_access = view.country_access[labs.country]
        if view.listed.any():
            view.lab_access[view.listed] = np.where(view.subject, 0.0, 1.0)[None, :]

        years = (self.month - self.scenario.start) / 12.0
        gap = (1.0 - chips.ecosystem_base) * (1.0 - p.ecosystem_catchup) ** max(0.0, years)
        eco = (1.0 - gap)[chips.ecosystem]
        link = (
            np.minimum(1.0, chips.interconnect / INTERCONNECT_REFERENCE) ** p.interconnect_exponent
        )
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
        premium = np.array([v.premium for v in self.vendors])
        minerals = 1.0 + p.mineral_price_effect * float(policy.get("mineral_controls"))
        foreign = view.vendor_bloc != self.china_bloc
        view.price = (
            chips.price
            * (1.0 + premium[chips.vendor])
            * np.where(foreign[chips.vendor], minerals, 1.0)
        )
        view.vendor_capacity = self._vendor_capacity()

        cap = float(policy.get("diffusion_cap_h100e"))
        view.cap_left = np.where(
            (view.tier == CAPPED) & (cap > 0), np.maximum(cap - self.cap_used, 0.0), np.inf
        )
        closed = (view.tier == RESTRICTED) | (view.tier == EMBARGOED)
        active = labs.founded <= self.month
        demand = np.bincount(
            labs.country,
            weights=np.where(active, labs.budget, 0.0),
            minlength=len(self.country_ids),
        )
        view.variant_market = int(np.argmax(np.where(closed, demand, -1))) if closed.any() else -1
        host = np.flatnonzero(labs.hosts)
        view.rental_host = int(host[0]) if host.size else -1
        # Foreign data centres grow their rentals to restricted countries with their business.
        view.rental_capacity = (
            p.rental_capacity_h100e * labs.budget[host[0]] / self.host_budget0 if host.size else 0.0
        )
        view.enforcement = float(policy.get("enforcement"))

        on_sale = chips.on_sale(self.month)
        wanted = view.subject & on_sale & (view.lab_access < 1.0).any(axis=0)
        if wanted.any():
            g = int(np.argmax(np.where(wanted, view.purchase_value[0] / view.price, -1.0)))
            view.gray_chip = g
            view.gray_price = float(view.price[g] * self.gray.markup)
            view.transit_price = float(view.price[g] * (1.0 + p.transit_premium))
        else:
            view.gray_chip, view.gray_price, view.transit_price = -1, 0.0, 0.0
        pressure = np.array([float(policy.get("transit_pressure", c)) for c in self.country_ids])
        view.customs_effort = np.array(
            [float(policy.get("transit_customs", c)) for c in self.country_ids]
        )
        border = p.china_border_detection * (1.0 - float(policy.get("smuggling_tolerance")))
        view.route_risk = interdiction_probability(
            p.smuggling_detection,
            view.enforcement,
            self.customs * view.customs_effort * self._shock_factors("customs", self.country_ids),
            pressure,
            p.detection_max,
            border,
        )
        if view.gray_chip >= 0:
            open_ = (
                self.transit
                & (view.country_access[:, view.gray_chip] >= 1.0)
                & (self.country_bloc != self.china_bloc)
                & (view.cap_left > 0)
            )
            view.routes_open = np.flatnonzero(open_)
        else:
            view.routes_open = np.zeros(0, np.int64)
        if view.lab_flops.shape != labs.budget.shape:
            view.lab_flops = np.zeros(labs.budget.shape)
        self.view = view

    def _domestic_hbm(self) -> float:
        years = (self.month - parse_month("2026-01")) / 12.0
        return self.p.domestic_hbm_chips_2026 * self.p.domestic_capacity_growth**years

    def _vendor_capacity(self) -> np.ndarray:
        cap = np.array([v.capacity for v in self.vendors])
        cap = cap * self._shock_factors("capacity", self.vendor_ids)
        if bool(self.policy.get("hbm_controls")):
            china = np.array([v.domestic_china for v in self.vendors])
            hbm = self._domestic_hbm() + self.hbm_stockpile
            total = cap[china].sum()
            if total > hbm:
                cap[china] *= hbm / total
        return cap

    def _use_hbm(self) -> None:
        if not bool(self.policy.get("hbm_controls")):
            return
        china = np.array([v.domestic_china for v in self.vendors])
        sold = np.bincount(
            self.chips.vendor[self.chips.used],
            weights=self._bought_per_chip()[self.chips.used],
            minlength=len(self.vendors),
        )
        draw = max(0.0, sold[china].sum() - self._domestic_hbm())
        self.hbm_stockpile = max(0.0, self.hbm_stockpile - draw)

    def _bought_per_chip(self) -> np.ndarray:
        return self.month_stats.get("bought_per_chip", np.zeros(len(self.chips)))

    # ------------------------------------------------------------------ hooks for agents
    def record_vendor_demand(self, per_chip: np.ndarray) -> None:
        units = np.bincount(
            self.chips.vendor[self.chips.used],
            weights=per_chip[self.chips.used],
            minlength=len(self.vendors),
        )
        for v in self.vendors:
            v.record_demand(float(units[v.index]), float(self.view.vendor_capacity[v.index]))

    def record_sales(
        self, got_d: np.ndarray, price_d: np.ndarray, got_r: np.ndarray, price_r: np.ndarray
    ) -> None:
        per_lab = (got_d * price_d).sum(axis=1) + (got_r * price_r[None, :]).sum(axis=1)
        self.month_stats["revenue_by_bloc"] = np.bincount(
            self.labs.bloc, weights=per_lab, minlength=len(self.bloc_ids)
        )
        self.month_stats["bought_per_chip"] = got_d.sum(axis=0) + got_r.sum(axis=0)
        # Vendors book a sale where it is billed: direct sales to the buyer's bloc, rented
        # capacity to the host data centre's bloc.
        units = np.zeros((len(self.chips), len(self.bloc_ids)), np.int64)
        np.add.at(units.T, self.labs.bloc, got_d)
        host = self.view.rental_host
        if host >= 0:
            units[:, self.labs.bloc[host]] += got_r.sum(axis=0)
        self.book_sales(units)

    def record_flows(self, got_d: np.ndarray, prov: np.ndarray, got_r: np.ndarray) -> None:
        """This month's legal deliveries by route: from the vendor's country to the buyer's
        (rented capacity: from the host's country to the renter's)."""
        flows = self.month_stats["flows"]
        vendor_country = np.array([v.country for v in self.vendors])[self.chips.vendor]
        h, c = np.nonzero(got_d)
        np.add.at(flows, (vendor_country[c], self.labs.country[h], prov[h, c]), got_d[h, c])
        host = self.view.rental_host
        if host >= 0:
            h, c = np.nonzero(got_r)
            np.add.at(flows, (self.labs.country[host], self.labs.country[h], RENTED), got_r[h, c])

    def record_smuggling(self, src: np.ndarray, dst: np.ndarray, qty: np.ndarray) -> None:
        """Smuggled chips on one leg of their way (vendor -> transit, or transit -> buyer)."""
        np.add.at(self.month_stats["flows"], (src, dst, SMUGGLED), qty)

    def book_sales(self, units: np.ndarray) -> None:
        """Add [chip, bloc] units sold this month, at this month's vendor prices."""
        self.month_stats["sales_units"] += units

    def use_cap(self, got_d: np.ndarray, got_r: np.ndarray, h100e_controlled: np.ndarray) -> None:
        direct = (got_d * h100e_controlled[None, :]).sum(axis=1)
        np.add.at(self.cap_used, self.labs.country, direct)
        host = self.view.rental_host
        if host >= 0:
            self.cap_used[self.labs.country[host]] += float(
                (got_r * h100e_controlled[None, :]).sum()
            )

    def use_cap_transit(self, route: np.ndarray, h100e: np.ndarray) -> None:
        np.add.at(self.cap_used, route, h100e)

    def add_broker(self, capacity: int, cash: float) -> Broker:
        self.broker_serial += 1
        slot = self.brokers.add(self.broker_serial, capacity, cash, self.month)
        agent = Broker(self, slot)
        self.broker_agents[slot] = agent
        return agent

    def busiest_route(self) -> str | None:
        routes = self.brokers.route[self.brokers.alive & (self.brokers.route >= 0)]
        if routes.size == 0:
            return None
        return self.country_ids[int(np.bincount(routes).argmax())]

    def _cut_remote_access(self) -> None:
        """Rented capacity of labs that may no longer rent reverts to the host data centres."""
        host = self.view.rental_host if hasattr(self, "view") else -1
        if host < 0:
            return
        tier = self.view.tier[self.labs.country]
        cut = self.view.listed.copy()
        if bool(self.policy.get("remote_access_controls")):
            cut |= (tier == RESTRICTED) | (tier == EMBARGOED)
        cut[host] = False
        if cut.any():
            moved = self.ledger.transfer_provenance(np.flatnonzero(cut), RENTED, host, LEGAL)
            if moved:
                self.news(
                    "remote_access",
                    f"{moved:,} rented chips revert to "
                    f"{self.labs.names[host]} as remote access is cut",
                    ["us"],
                )

    # ------------------------------------------------------------------ compute and capability
    def _lab_flops(self) -> np.ndarray:
        held = self.ledger.chips_held().astype(float)  # [L, C]
        per_chip = self.view.flops_per_chip
        onehot = np.eye(len(self.chips.ecosystem_ids))[self.chips.ecosystem]  # [C, E]
        by_eco = held @ (per_chip[:, None] * onehot)  # [L, E]
        total = by_eco.sum(axis=1)
        top = np.divide(by_eco.max(axis=1), total, out=np.ones_like(total), where=total > 0)
        mixed = np.minimum(1.0, 2.0 * (1.0 - top))
        return total * (1.0 - self.p.heterogeneity_penalty * mixed)

    def frontier_now(self) -> np.ndarray:
        labs = self.labs
        out = np.full(len(self.bloc_ids), np.nan)
        cap = np.where(labs.frontier, labs.capability, np.nan)
        for b in range(len(self.bloc_ids)):
            mine = cap[labs.bloc == b]
            if np.isfinite(mine).any():
                out[b] = np.nanmax(mine)
        return out

    def median_capability(self) -> np.ndarray:
        labs = self.labs
        out = np.full(len(self.bloc_ids), np.nan)
        for b in range(len(self.bloc_ids)):
            mine = labs.capability[(labs.bloc == b) & labs.frontier]
            if np.isfinite(mine).any():
                out[b] = np.nanmedian(mine)
        return out

    def released_foreign_capability(self) -> np.ndarray:
        """Per bloc: the best model of any other bloc old enough to have been released."""
        hist = self.frontier_hist
        then = hist[max(0, len(hist) - 1 - int(self.p.distillation_lag_months))]
        out = np.full(len(self.bloc_ids), np.nan)
        for b in range(len(self.bloc_ids)):
            others = np.delete(then, b)
            if np.isfinite(others).any():
                out[b] = np.nanmax(others)
        return out

    def _grow_efficiency(self) -> None:
        """Scarcity = how much less compute per dollar a bloc's frontier labs may legally buy
        than anyone could; it speeds up their algorithmic progress."""
        value = self.view.purchase_value[0] / np.maximum(self.view.price, 1.0)
        on_sale = self.chips.on_sale(self.month)
        world_best = np.max(np.where(on_sale, value, 0.0))
        legal = np.where(on_sale[None, :] & (self.view.lab_access >= 1.0), value[None, :], 0.0).max(
            axis=1
        )
        ratio = np.clip(legal / max(world_best, 1e-30), 0.0, 1.0)
        labs = self.labs
        for b in range(len(self.bloc_ids)):
            mine = labs.frontier & (labs.bloc == b)
            self.scarcity[b] = 1.0 - ratio[mine].mean() if mine.any() else 0.0
        self.efficiency = grow_efficiency(
            self.efficiency,
            self.turn,
            self.p.algo_doubling_months,
            self.scarcity,
            self.p.scarcity_efficiency_bonus,
            self.p.efficiency_lead_decay,
        )

    # ------------------------------------------------------------------ news and outputs
    def news(self, kind: str, text: str, actors: list[str], month: int | None = None) -> None:
        m = self.month if month is None else month
        self.events.append(
            {
                "date": format_month(m),
                "step": self.turn,
                "kind": kind,
                "actors": list(actors),
                "text": text,
            }
        )

    def news_broker_caught(self, slot: int, caught_this_month: int) -> None:
        b = self.brokers
        route = self.country_names[int(b.route[slot])]
        chip = self.chips.ids[int(b.ship_chip[slot])]
        qty = int(b.ship_qty[slot])
        stats = self.month_stats
        stats["caught"].append((route, qty))
        if caught_this_month <= broker_rules.MAX_CAUGHT_NEWS:
            self.news(
                "broker_caught",
                f"Broker ring #{int(b.serial[slot])} caught in {route} with {qty:,} {chip} chips",
                ["us", route],
            )
        elif len(stats["caught"]) == caught_this_month:
            total = sum(q for _, q in stats["caught"])
            self.news(
                "broker_caught",
                f"{caught_this_month} broker rings caught this month, {total:,} chips seized",
                ["us"],
            )

    def results(self) -> pd.DataFrame:
        """The tidy results table: one row per (month, bloc); columns in game/sim/results.py."""
        df = self.datacollector.get_table_dataframe("blocs")
        if df.empty:
            return pd.DataFrame(columns=COLUMN_NAMES)
        return df[COLUMN_NAMES].reset_index(drop=True)

    def sales(self) -> pd.DataFrame:
        """Chips sold each month by chip and the bloc billed (brokers' purchases in transit
        countries included): date, step, chip, vendor, bloc, units, revenue_usd."""
        df = self.datacollector.get_table_dataframe("sales")
        if df.empty:
            return pd.DataFrame(columns=SALES_COLUMNS)
        return df[SALES_COLUMNS].reset_index(drop=True)

    def events_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.events, columns=["date", "step", "kind", "actors", "text"])

    def latest(self, column: str, bloc: int) -> float:
        table = self.datacollector.tables["blocs"]
        values = table.get(column, [])
        n = len(self.bloc_ids)
        if len(values) < n:
            return float("nan")
        return float(values[len(values) - n + bloc])

    def invariant_problems(self) -> list[str]:
        """Accounting that must hold after every step (the tests check it on random worlds)."""
        out = []
        err = self.ledger.conservation_error()
        if err.any():
            bad = {self.chips.ids[i]: int(err[i]) for i in np.flatnonzero(err)}
            out.append(f"chips not conserved: {bad}")
        if (self.ledger.stock < 0).any():
            out.append("negative stock")
        if self.ledger.totals_error():
            out.append("the ledger's running totals have drifted from its stock")
        if (self.ledger.in_transit < 0).any():
            out.append("negative chips in transit")
        shipping = np.bincount(
            self.brokers.ship_chip[self.brokers.ship_qty > 0],
            weights=self.brokers.ship_qty[self.brokers.ship_qty > 0],
            minlength=len(self.chips),
        ).astype(np.int64)
        if not np.array_equal(shipping, self.ledger.in_transit):
            out.append("brokers' shipments do not match chips in transit")
        if (self.labs.cash < -1e-6).any() or (self.labs.escrow < -1e-6).any():
            out.append("negative lab cash")
        if (self.brokers.cash[self.brokers.alive] < -1e-6).any():
            out.append("negative broker cash")
        if self.hbm_stockpile < 0:
            out.append("negative HBM stockpile")
        return out

    # ------------------------------------------------------------------ save, restore, fork
    def fork(self) -> ChipWarModel:
        """An independent copy: stepped with the same commands it has the same future."""
        from game.sim.state import restore, snapshot

        return restore(*snapshot(self))

    def save(self, path: str) -> None:
        from game.sim.state import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str) -> ChipWarModel:
        from game.sim.state import load_model

        return load_model(path)
