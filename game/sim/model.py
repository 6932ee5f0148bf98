"""ChipWarModel: the world of the chip war, one step per month.

The model orders the month; the agents act (agents/, through `agents.context.MonthContext`):
  1. New year: the oldest cohort of chips retires and some chips fail.
  2. Budgets grow; governments apply scheduled, bot or player lever changes (`apply`);
     China's HBM supply (the stockpile while HBM is open, CXMT's output) moves.
  3. The rule engine classifies chips and decides access (the market view, derived in
     game/sim/market_view.py); vendors set capacity (Huawei's from SMIC's wafers, yield and
     HBM) and prices, and release compliant variants when a rule has closed a market to them.
  4. Last month's smuggled shipments land or are seized.
  5. Labs buy compute (legal, compliant, domestic, rented, gray-market orders in escrow), or
     keep their cash when nothing is worth its price.
  6. Brokers enter, choose routes and ship this month's gray orders.
  7. Each lab's usable compute and its largest trainable cluster are measured
     (`measure_lab_compute`); labs train on that cluster; algorithmic efficiency grows
     (faster under scarcity); results are recorded.

Everything random draws from `self.rng` (seeded by `rng=`), and levers move only through
`apply(PolicyChange)`, so a run is reproduced by its scenario, seed and list of commands, and
`snapshot`/`restore` (game/sim/state.py) copy a world exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.datacollection import DataCollector

from agents import broker as broker_phase
from agents import lab as lab_phase
from agents.broker import Broker, BrokerTable
from agents.government import Government
from agents.lab import AILab, LabTable
from agents.vendor import ChipVendor, record_demand_all
from game.config.commands import PolicyChange, check_change
from game.config.dates import format_month, month_of_year, parse_month, year_of
from game.config.errors import CommandError, InputError, Problem
from game.config.events import EventSpec
from game.config.levers import PolicySpec, default_policy_spec
from game.config.scenario import Scenario, ScheduledChange, load_scenario, with_overrides
from game.config.world import WorldData, default_world_data
from game.core.books import MonthBooks
from game.core.capability import (
    RunningCycleMean,
    bloc_frontier,
    bloc_median,
    capability_index,
    measure_compute,
    measure_compute_reference,
)
from game.core.catalogue import ChipTable
from game.core.hbm import HbmSupply
from game.core.ledger import (
    CLUSTER_CAP_PARAMETER,
    DOMESTIC,
    LEGAL,
    RENTED,
    SITE_OF_PROVENANCE,
    SITES,
    SMUGGLED,
    Ledger,
)
from game.core.market_view import GrayMarket, MarketView
from game.core.params import Params
from game.core.policy_state import PolicyState
from game.core.porting import PortingTable
from game.core.shocks import Shock
from game.sim.invariants import invariant_problems
from game.sim.market_view import (
    derive_market_view,
    hbm_stacks_per_chip,
    stockpile_draw_terms,
)
from game.sim.month_kernel import stacks_drawn, vendor_units
from game.sim.names import Names
from game.sim.record_tables import BlocTable, SalesTable
from game.sim.results import (
    COLUMN_NAMES,
    SALES_COLUMNS,
    gray_market_now,
    sales_arrays,
    table_frame,
    write_bloc_arrays,
)


def _gray_price(model: ChipWarModel) -> float:
    return float(model.view.gray_price) if model.view.gray_chip >= 0 else float("nan")


def _brokers(model: ChipWarModel) -> int:
    return int(np.count_nonzero(model.brokers.alive))  # = alive.sum(), without a cast to add


def _in_transit(model: ChipWarModel) -> int:
    return int(np.add.reduce(model.ledger.in_transit, axis=None))


@functools.lru_cache(maxsize=512)
def _news_date(month: int) -> str:
    """format_month, kept: a month's news asks it again and again for the same few months."""
    return format_month(month)


# _read_geography's answers, kept per world object (the world, the answer; never handed out):
# a few worlds at most (a test may build its own), emptied when full.
_GEOGRAPHY: dict[int, tuple[WorldData, dict[str, Any]]] = {}
_GEOGRAPHY_MAX = 8


def _read_geography(w: WorldData) -> dict[str, Any]:
    """ChipWarModel._build_geography's attributes, read from the world data."""
    bloc_ids = [b.id for b in w.blocs]
    hubs = [g.id for g in w.governments if g.side == "hubs"]
    return {
        "bloc_ids": bloc_ids,
        "bloc_names": [b.name for b in w.blocs],
        "country_ids": [c.id for c in w.countries],
        "country_names": [c.name for c in w.countries],
        "country_bloc": np.array([bloc_ids.index(c.bloc) for c in w.countries]),
        "customs": np.array([c.customs for c in w.countries]),
        "transit": np.array(["transit" in c.roles for c in w.countries]),
        # the two sides of the contest (actors.yaml, side:): whose rules, aimed at whom
        "controller": w.government_on("controller").id,
        "us_bloc": bloc_ids.index(w.controller_bloc),
        "china_bloc": bloc_ids.index(w.target_bloc),
        "hub_countries": w.own_countries(hubs[0]) if hubs else [],
    }


# Chips of one model a run may count: int64 holds eight times more, room for any month's growth.
COUNT_LIMIT = 2**60

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
        for_restore: bool = False,
    ) -> None:
        """`for_restore`: the skeleton a snapshot is loaded over (game/sim/state.py, restore),
        built without what the load replaces whole (the initial stocks, the first market view
        and the vendors' markets read from it, the levers set before the start, the first
        frontier and the step-0 record), which would be built only to be thrown away; such a
        model is fit for nothing until the load."""
        if rng is None:
            rng = int(np.random.SeedSequence().entropy % (2**63))
        super().__init__(rng=rng)
        self.rng_seed = int(rng)
        self.world = world or default_world_data()
        self.spec = spec or default_policy_spec()
        self.names = Names(self.world, self.spec)
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
        # False: the results tables are kept only where the month itself reads them (the bots'
        # reviews, see _tables_read_next_month); projections, which read the frontier alone
        self.record_tables = True
        # False: the month composes no news (a projection's futures, read for the frontier
        # alone and thrown away: the news is written for players, and nothing in the month
        # reads it back)
        self.tells_news = True
        values = self.world.parameter_values()
        values.update(sc.parameters)
        self.p = Params(values)
        self.turn = 0
        self.start = sc.start
        self.month = sc.start - 1
        self._in_step = False
        self._view: MarketView | None = None
        self._view_stale = True

        self._build_geography()
        self.vendor_ids = [v.id for v in self.world.vendors]
        self.vendor_country = np.array(  # [vendor] the country it makes its chips in
            [self.country_ids.index(v.country) for v in self.world.vendors]
        )
        self.chips = ChipTable(self.world, self.vendor_ids)
        self.labs = LabTable(len(self.world.labs) + self.synthetic_labs, len(self.chips))
        self.porting = PortingTable(
            self.world.labs, len(self.labs.country), self.chips.ecosystem_ids
        )
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
        # USD of transit fees brokers paid in each country since the start (agents/broker.py)
        self.fees_via = np.zeros(len(self.country_ids))
        self.hbm = HbmSupply.at_start(self.p, sc.start)  # China's HBM, in stacks
        self.events: list[dict[str, Any]] = []
        self.command_log: list[tuple[int, PolicyChange, str]] = []
        self.shocks: list[Shock] = []  # facilitator events in force or past (game/config/events.py)
        # calendar year -> [bloc] the scenario's yearly budget growth (NaN: the default curve)
        self.budget_path = {
            year: np.array([sc.budget_growth.get(b, {}).get(year, np.nan) for b in self.bloc_ids])
            for year in sorted({y for path in sc.budget_growth.values() for y in path})
        }
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
        self._build_labs(for_restore)
        self.books = self._open_books()
        broker_phase.recruit(self, self.synthetic_brokers)  # agents: made whatever the path
        self._smoothed: RunningCycleMean | None = None
        self.datacollector = DataCollector(
            model_reporters={
                "gray_price_usd": _gray_price,
                "brokers_active": _brokers,
                "chips_in_transit": _in_transit,
            },
        )
        # kept in numpy buffers, read as Mesa's lists (game/sim/record_tables.py): given here,
        # not as Mesa's `tables=` (whose lists of COLUMN_NAMES and SALES_COLUMNS these replace)
        self.datacollector.tables["blocs"] = BlocTable(self.bloc_ids)
        self.datacollector.tables["sales"] = SalesTable(self.chips, self.vendor_ids, self.bloc_ids)
        if for_restore:
            self.frontier_hist: list[np.ndarray] = []
            return
        self.frontier_hist = [self.frontier_now()]
        self.refresh_market_view()
        for vendor in self.vendors:
            vendor.remember_markets()
        for change in sc.initial:
            self.apply(change, source="initial")
        # Step 0 is collected too: mesa.batch_run reads collected values by step index.
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ construction
    def _build_geography(self) -> None:
        """The world's blocs, countries and sides: read once per world object (frozen, shared
        by every model of a process; a projection fan builds 32 models), each model given its
        own copies of the lists and arrays."""
        w = self.world
        kept = _GEOGRAPHY.get(id(w))
        if kept is None or kept[0] is not w:
            if len(_GEOGRAPHY) >= _GEOGRAPHY_MAX:
                _GEOGRAPHY.clear()
            kept = _GEOGRAPHY[id(w)] = (w, _read_geography(w))
        for name, value in kept[1].items():
            setattr(self, name, value.copy() if isinstance(value, np.ndarray | list) else value)

    def _build_labs(self, for_restore: bool = False) -> None:
        """`for_restore`: leave out what a snapshot's load replaces (the stocks at the start,
        the labs' capability and training clocks, drawn from the generator the load resets)."""
        labs, chips, p = self.labs, self.chips, self.p
        start_year = year_of(self.scenario.start)
        oldest = start_year - self.ledger.service_life + 1
        labs.ref_run_month[:] = self.scenario.start  # synthetic labs too: no run yet
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
            # the run's date is not in the record: the start, the latest it can be
            labs.ref_run_flop[i] = spec.best_model_flop  # dated at the start (set above)
            self.policy.by_target.setdefault("risk_appetite", {})[spec.id] = spec.risk_appetite
            if for_restore:
                continue
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
        if not for_restore:
            labs.capability[:] = capability_index(
                labs.best_eff_flop, p.capability_points_per_decade
            )
            labs.capability[~labs.frontier] = np.nan
            labs.run_age[:] = self.rng.integers(0, max(1, int(p.run_months)), len(labs.country))
        self.lab_agents = [AILab(self, i) for i in range(len(labs.country))]
        self.lab_index = {lab_id: i for i, lab_id in enumerate(labs.ids)}
        hosts = np.flatnonzero(labs.hosts)
        # the lab whose data centres rent compute abroad (the first that hosts; -1 if none)
        self.rental_host = int(hosts[0]) if hosts.size else -1
        self.host_budget0 = float(labs.budget[hosts[0]]) if hosts.size else 1.0

    def _open_books(self) -> MonthBooks:
        return MonthBooks(
            self.labs.bloc,
            self.labs.country,
            len(self.chips),
            len(self.bloc_ids),
            len(self.country_ids),
            self.rental_host,
        )

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
            self.news("policy", news or self.names.news(change), [change.actor], month=effective)
        if not self._in_step:  # a player's command between months: the next read shows it
            self._view_stale = True

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
            self._view_stale = True

    def scheduled(self, actor: str) -> list[ScheduledChange]:
        """This month's scheduled changes for one actor, in the scenario's order."""
        return [s for s in self._schedule.get(self.month, []) if s.change.actor == actor]

    # names as players read them (the news, the debrief and the report share them)
    def actor_name(self, actor: str) -> str:
        return self.names.actor(actor)

    def target_name(self, target: str) -> str:
        return self.names.target(target)

    def describe_change(self, change: PolicyChange) -> str:
        return self.names.change(change)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        self._in_step = True
        self.turn += 1
        self.month = self.start + self.turn - 1
        self.books = self._open_books()
        if month_of_year(self.month) == 1:
            self.ledger.retire_cohort(self.year)
            self.ledger.fail(self.rng, self.p.annual_failure_rate)
        if self.turn > 1:
            lab_phase.budget_growth(self)
        for gov in self.governments.values():
            gov.step()
        todo = self._schedule.get(self.month)
        if todo:  # labs decide as one table: each lab's items in lab order, then the scenario's
            by_lab: dict[str, list[ScheduledChange]] = {}
            for item in todo:
                by_lab.setdefault(item.change.actor, []).append(item)
            for lab_id in self.labs.ids:
                for item in by_lab.get(lab_id, ()):
                    self.apply(item.change, source="schedule", news=item.news)
        self._grow_hbm()
        self.refresh_market_view(before_vendors=True)
        lab_phase.cut_remote_access(self)
        for vendor in self.vendors:
            vendor.step()
        self.refresh_market_view()
        # every brokers' phase that pays labs back returns [lab] what it paid (gray refunds)
        refunded = broker_phase.resolve_shipments(self)
        lab_phase.procure(self)
        self._tell_vendors_demand()
        self._draw_hbm_stockpile()
        broker_phase.enter(self)
        broker_phase.choose_routes(self)
        refunded += broker_phase.ship(self)
        # Gray orders are paid into escrow when placed; what comes back (orders brokers could
        # not fill, chips seized on the way) was not spent: a lab spends no more than it had.
        self.labs.spent_month -= refunded
        broker_phase.close_month(self)  # idle rings leave; smuggled_via counts the month
        self.measure_lab_compute()
        lab_phase.train(self)
        lab_phase.progress_algorithms(self)
        lab_phase.watch_distillation(self)
        self._record()
        self._check_counts()
        # Brokers moved the gray markup and labs' budgets grew after the view was derived:
        # it told this month's market; whoever reads it before next month gets it anew.
        self._view_stale = True
        if self.turn >= self.horizon:
            self.running = False
        self._in_step = False
        if self.check_invariants:
            problems = invariant_problems(self)
            if problems:
                raise AssertionError(f"{self.date}: " + "; ".join(problems))

    def _check_counts(self) -> None:
        """Chips are counted in 64-bit integers: a run that would pass COUNT_LIMIT of one chip
        model (a budget growing 60% a year for sixty years) stops with a message instead of
        wrapping round to negative compute."""
        if np.maximum.reduce(self.ledger.produced, axis=None, initial=0) > COUNT_LIMIT:
            raise InputError(
                Problem(
                    f"by {self.date} the run has made more than {COUNT_LIMIT:.2g} chips of one "
                    "model, more than the model can count exactly; shorten the run (--months) "
                    "or slow the budgets' growth (budget_growth_long_run)",
                    key="--months",
                )
            )

    def run(self, months: int | None = None) -> pd.DataFrame:
        """Run to the end of the horizon (or `months` more) and return the results table."""
        for _ in range(months if months is not None else max(0, self.horizon - self.turn)):
            self.step()
        return self.results()

    @property
    def view(self) -> MarketView:
        """What the rules allow and what chips cost (game/core/market_view.py). Derived in one
        place (game/sim/market_view.py): by the month's order at the points where its inputs
        change, and between months whenever it is read after a month or a command."""
        view = self._view
        if view is None or self._view_stale:
            self.refresh_market_view()
            view = self._view
            assert view is not None
        return view

    def refresh_market_view(self, before_vendors: bool = False) -> None:
        """Derive the market view again (game/sim/market_view.py) from the state now
        (`before_vendors`: only what the vendors read as they step, see derive_market_view)."""
        self._view = derive_market_view(self, self._view or MarketView(), before_vendors)
        self._view_stale = False

    def _tell_vendors_demand(self) -> None:
        """Each vendor hears what buyers asked of it this month: the demand it plans for, and
        the mix of its chips its capacity and HBM needs are counted in: the units asked of each
        vendor and what they move from one compiled kernel (agents/vendor.py, tell_orders), or
        where it does not apply the units from game/sim/month_kernel.py's and what they move
        from tell_demand's: the reference's numbers."""
        asked, chips, capacity = self.books.asked_per_chip, self.chips, self.view.vendor_capacity
        if ChipVendor.tell_orders(self.vendors, capacity, asked):  # the units summed on the way
            return
        units = vendor_units(chips.vendor, chips.used, asked, len(self.vendors))
        ChipVendor.tell_all(self.vendors, units, capacity, asked)

    def _tell_vendors_demand_reference(self) -> None:
        """The rule in numpy, which _tell_vendors_demand reproduces bit for bit: read this one."""
        asked = self.books.asked_per_chip
        units = np.bincount(
            self.chips.vendor[self.chips.used],
            weights=asked[self.chips.used],
            minlength=len(self.vendors),
        )
        units_of, capacity = units.tolist(), self.view.vendor_capacity.tolist()  # as float()
        record_demand_all(self.vendors, units_of, capacity, asked)

    def _grow_hbm(self) -> None:
        """China's HBM supply moves for the month (game/core/hbm.py)."""
        policy = self.policy
        self.hbm.grow(
            self.p,
            bool(policy.get("hbm_controls")),
            float(policy.get("fab_tool_controls")),
            float(policy.get("domestic_subsidy")),
            first=self.turn <= 1,
        )

    def _draw_hbm_stockpile(self) -> None:
        """Under HBM controls, China's vendors draw on the stockpile for the stacks their chips
        sold this month need beyond CXMT's output this month. The stacks from a compiled
        kernel (game/sim/month_kernel.py): the reference's numbers."""
        if not bool(self.policy.get("hbm_controls")):
            return
        china, per_chip = stockpile_draw_terms(self)
        chips = self.chips
        bought = self.books.bought_per_chip
        self.hbm.draw(float(stacks_drawn(chips.vendor, chips.used, bought, per_chip, china)))

    def _draw_hbm_stockpile_reference(self) -> None:
        """The rule in numpy, which _draw_hbm_stockpile reproduces bit for bit: read this one."""
        if not bool(self.policy.get("hbm_controls")):
            return
        china = np.array([v.domestic_china for v in self.vendors])
        sold = np.bincount(
            self.chips.vendor[self.chips.used],
            weights=self.books.bought_per_chip[self.chips.used],
            minlength=len(self.vendors),
        )
        self.hbm.draw(float(np.add.reduce((sold * hbm_stacks_per_chip(self))[china], axis=None)))

    def _record(self) -> None:
        """The month's rows of the results and sales tables, and the collector's model
        values (what DataCollector.collect appends: its three reporters' values, copies of
        plain numbers being the numbers)."""
        self.frontier_hist.append(self.frontier_now())
        if not (self.record_tables or self._tables_read_next_month()):
            return
        gray_price, gray_chip = gray_market_now(self)
        brokers = _brokers(self)
        dc = self.datacollector
        model_vars = dc.model_vars
        model_vars["gray_price_usd"].append(gray_price)
        model_vars["brokers_active"].append(brokers)
        model_vars["chips_in_transit"].append(_in_transit(self))
        blocs, sales = self._record_tables()
        write_bloc_arrays(self, *blocs.next_rows())  # the table's own rows for the month
        date, turn = self.date, self.turn
        blocs.add_month((date, turn, gray_price, gray_chip, brokers))
        sales.append(date, turn, *sales_arrays(self))

    def _record_tables(self) -> tuple[BlocTable, SalesTable]:
        """The collector's two tables as buffers: a restored model's lists (game/sim/state.py)
        are adopted the first month it records, as the rows before the buffers'."""
        tables = self.datacollector.tables
        blocs, sales = tables["blocs"], tables["sales"]
        if not isinstance(blocs, BlocTable):
            blocs = tables["blocs"] = BlocTable(self.bloc_ids, prefix=blocs)
        if not isinstance(sales, SalesTable):
            sales = SalesTable(self.chips, self.vendor_ids, self.bloc_ids, prefix=sales)
            tables["sales"] = sales
        return blocs, sales

    def _tables_read_next_month(self) -> bool:
        """Whether a bot reads this month's results rows as the next month starts: a reactive
        bot reads the last rows (the target's gap and smuggled share) at its reviews, every
        `bot_period_months`; an anticipating one reads the gap's trend, so every month's rows.
        The rows read are computed from the same state whether or not the months between were
        recorded (the gap's running means catch up on the whole frontier history), so a run
        that skips the others moves exactly as one that records them all."""
        strategies = {g.strategy for g in self.governments.values()} - {"none"}
        if not strategies:
            return False
        if strategies != {"reactive"}:
            return True
        return (self.turn + 1) % int(self.p.bot_period_months) == 0

    # ------------------------------------------------------------------ compute and capability
    def measure_lab_compute(self) -> None:
        """Set the view's usable FLOP/s of each lab: by software ecosystem (what it holds) and
        in its largest trainable cluster (what its largest run is built on: agents/lab.py),
        from one compiled kernel (capability.measure_compute)."""
        self._measure_lab_compute(measure_compute)

    def measure_lab_compute_reference(self) -> None:
        """measure_lab_compute in numpy (capability.measure_compute_reference), which the
        kernel reproduces bit for bit: read that one."""
        self._measure_lab_compute(measure_compute_reference)

    def _measure_lab_compute(self, measure: Callable[..., tuple[np.ndarray, np.ndarray]]) -> None:
        view, p = self.view, self.p
        view.lab_pool_flops, view.lab_cluster_flops = measure(
            self.ledger.chips_held(),
            self.ledger.by_provenance(),
            SITE_OF_PROVENANCE,
            self._site_caps(),
            SMUGGLED,
            getattr(p, CLUSTER_CAP_PARAMETER[SMUGGLED]),
            view.flops_per_chip,
            self.chips.ecosystem,
            len(self.chips.ecosystem_ids),
            p.heterogeneity_penalty,
        )

    def _site_caps(self) -> np.ndarray:
        """[site] the chips of one lab one cluster may hold there (the rented site's cap, no
        other), kept in the view while that parameter is the same object (a value set anew,
        even an equal one, makes it again: -0.0 is not 0.0 to every kernel): the kernel only
        reads it, and a new array each month costs more than the lookup."""
        cap = getattr(self.p, CLUSTER_CAP_PARAMETER[RENTED])
        hit = self.view.derived.get("site_caps")
        if hit is None or hit[0] is not cap:
            site_cap = np.full(len(SITES), np.inf)
            site_cap[SITE_OF_PROVENANCE[RENTED]] = cap
            hit = (cap, site_cap)
            self.view.derived["site_caps"] = hit
        return hit[1]

    def frontier_now(self) -> np.ndarray:
        labs = self.labs
        return bloc_frontier(labs.capability, labs.frontier, labs.bloc, len(self.bloc_ids))

    def smoothed_frontier(self) -> np.ndarray:
        """[month, bloc] the frontier history averaged over one training cycle
        (capability.cycle_mean), kept up month by month."""
        if self._smoothed is None or self._smoothed.window != max(1, int(self.p.run_months)):
            self._smoothed = RunningCycleMean(int(self.p.run_months))
        return self._smoothed.update(self.frontier_hist)

    def leader_path(self, leader: int) -> np.ndarray:
        """[month] the leading bloc's path on the smoothed frontier (capability.leader_path),
        kept up month by month with it."""
        self.smoothed_frontier()
        assert self._smoothed is not None
        return self._smoothed.leader_path(leader)

    def median_capability(self) -> np.ndarray:
        labs = self.labs
        return bloc_median(labs.capability, labs.frontier, labs.bloc, len(self.bloc_ids))

    # ------------------------------------------------------------------ news and outputs
    def news(self, kind: str, text: str, actors: list[str], month: int | None = None) -> None:
        if not self.tells_news:
            return
        m = self.month if month is None else month
        self.events.append(
            {
                "date": _news_date(m),
                "step": self.turn,
                "kind": kind,
                "actors": list(actors),
                "text": text,
            }
        )

    def results(self) -> pd.DataFrame:
        """The tidy results table: one row per (month, bloc); columns in game/sim/results.py."""
        table = self.datacollector.tables["blocs"]
        if isinstance(table, BlocTable):
            return table.frame()
        return table_frame(table, COLUMN_NAMES)  # a restored model's lists, not yet adopted

    def sales(self) -> pd.DataFrame:
        """Chips sold each month by chip and the bloc billed (brokers' purchases in transit
        countries included): date, step, chip, vendor, bloc, units, revenue_usd."""
        table = self.datacollector.tables["sales"]
        if isinstance(table, SalesTable):
            return table.frame()
        return table_frame(table, SALES_COLUMNS)

    def series(self, column: str, bloc: int) -> np.ndarray:
        """A results column for one bloc, month by month so far (the bots read trends)."""
        table = self.datacollector.tables["blocs"]
        if isinstance(table, BlocTable):
            return table.series(column, bloc)
        values = table.get(column, [])
        return np.asarray(values[bloc :: len(self.bloc_ids)], float)

    def latest(self, column: str, bloc: int) -> float:
        """The last recorded value of a results column for one bloc (NaN before the first)."""
        table = self.datacollector.tables["blocs"]
        if isinstance(table, BlocTable):
            return table.latest(column, bloc)
        values = table.get(column, [])
        n = len(self.bloc_ids)
        if len(values) < n:
            return float("nan")
        return float(values[len(values) - n + bloc])
