"""What the agents' phases see of the world: the month's context.

The model (game/sim/model.py) orders the month and hands itself to each phase as a
`MonthContext`; the phases read and write only what is listed here. That keeps the agents
independent of the model class (an import-linter contract checks they never import it) and
makes plain what a phase may touch: the tables, the derived market view, the parameters, the
random stream, the month's books, and a few commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from agents.broker import Broker, BrokerTable
    from agents.lab import LabTable
    from game.config.commands import PolicyChange
    from game.config.levers import PolicySpec
    from game.config.scenario import ScheduledChange
    from game.core.books import MonthBooks
    from game.core.catalogue import ChipTable
    from game.core.ledger import Ledger
    from game.core.market_view import GrayMarket, MarketView
    from game.core.params import Params
    from game.core.policy_state import PolicyState
    from game.core.porting import PortingTable


class MonthContext(Protocol):
    # the clock
    month: int  # months since year 0 (game.config.dates)
    turn: int  # months since the start, 1 in the first month
    start: int  # the scenario's first month

    @property
    def year(self) -> int: ...

    # parameters and randomness (every draw comes from `rng`, seeded by the run)
    p: Params
    rng: np.random.Generator

    # the world's ids, by index
    bloc_ids: list[str]
    bloc_names: list[str]
    country_ids: list[str]
    country_names: list[str]
    country_bloc: np.ndarray  # [country] bloc index
    transit: np.ndarray  # [country] whether it is a transit country (countries.yaml roles)
    china_bloc: int  # the target's bloc (actors.yaml: side: target)
    controller: str  # the government whose export rules apply (side: controller)
    vendor_ids: list[str]
    lab_index: dict[str, int]  # lab id -> row in the lab table
    vendor_country: np.ndarray  # [vendor] country index
    spec: PolicySpec

    # the tables (numpy, one row per lab, chip, broker slot) and the state the phases move
    chips: ChipTable
    labs: LabTable
    porting: PortingTable  # [lab, ecosystem] share of each lab's work on each ecosystem
    ledger: Ledger
    brokers: BrokerTable
    broker_agents: dict[int, Broker]
    broker_serial: int
    policy: PolicyState
    gray: GrayMarket
    efficiency: np.ndarray  # [bloc] algorithmic efficiency
    scarcity: np.ndarray  # [bloc]
    cap_used: np.ndarray  # [country] H100e imported under the diffusion cap
    smuggled_via: np.ndarray  # [country] smuggled chips delivered through it since the start
    fees_via: np.ndarray  # [country] USD of transit fees brokers paid in it since the start
    hub_countries: list[str]  # the countries of the government on the hubs' side
    budget_path: dict[int, np.ndarray]  # year -> [bloc] scenario's budget growth (NaN: default)
    frontier_hist: list[np.ndarray]  # [bloc] frontier capability, one entry a month
    command_log: list[tuple[int, PolicyChange, str]]

    # derived this month, and the month's books
    view: MarketView
    books: MonthBooks

    def refresh_market_view(self) -> None:
        """Derive the view again after a phase changed what it is derived from (a vendor
        putting a chip on sale)."""

    # commands, news and the record
    tells_news: bool  # False: news() keeps nothing, and callers need not compose it

    def apply(self, change: PolicyChange, source: str = ..., news: str | None = ...) -> None: ...

    def scheduled(self, actor: str) -> list[ScheduledChange]: ...

    def news(self, kind: str, text: str, actors: list[str], month: int | None = ...) -> None: ...

    def latest(self, column: str, bloc: int) -> float: ...

    def series(self, column: str, bloc: int) -> np.ndarray:
        """A results column for one bloc, month by month so far."""
