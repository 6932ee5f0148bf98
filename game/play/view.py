"""A read-only view of a running model, in the terms a player sees: countries with their
compute, chips moving between them this month, seizures, details behind a click, series for
the charts and where a bloc's compute came from. The UI reads the world only through this
(and changes it only through `model.apply`), so nothing on screen can disturb the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from game.config.texts import text as tr
from game.core.ledger import PROVENANCES
from game.core.rules import TIERS

if TYPE_CHECKING:
    from game.config.commands import PolicyChange
    from game.config.world import CountrySpec
    from game.sim.model import ChipWarModel

FLOW_KINDS = (
    "legal",
    "compliant",
    "smuggled",
    "rented",
)  # drawn on the map; domestic is not a flow


@dataclass(frozen=True)
class Flow:
    """Chips on their way this month, from one country to another."""

    src: str
    dst: str
    kind: str  # one of FLOW_KINDS
    units: int


@dataclass(frozen=True)
class MapState:
    """Everything the world map draws for one month."""

    date: str
    compute_h100e: dict[str, float]  # by country id
    bloc_of: dict[str, str]  # country id -> bloc id
    tier: dict[str, str]  # country id -> destination tier (open, capped, ...)
    flows: tuple[Flow, ...] = ()
    seizures: dict[str, int] = field(default_factory=dict)  # transit country id -> chips seized


@dataclass(frozen=True)
class LabRow:
    id: str
    name: str
    compute_h100e: float
    capability: float  # NaN if the lab has no model yet
    frontier: bool


@dataclass(frozen=True)
class CountryDetails:
    """What a click on a country shows."""

    id: str
    name: str
    bloc: str
    tier: str
    customs: float
    labs: tuple[LabRow, ...]
    stock_by_provenance: dict[str, float]  # H100e by provenance
    policies: tuple[str, ...]  # lever settings in force that concern it


class WorldView:
    """Read-only access to a model for the UI, the classroom and reports."""

    def __init__(self, model: ChipWarModel) -> None:
        self._m = model

    # ------------------------------------------------------------------ clock
    @property
    def date(self) -> str:
        return self._m.date

    @property
    def turn(self) -> int:
        return self._m.turn

    @property
    def horizon(self) -> int:
        """The game's length in months."""
        return self._m.horizon

    @property
    def start(self) -> int:
        """The first month (game.config.dates: months since year 0)."""
        return self._m.start

    @property
    def scenario_name(self) -> str:
        return self._m.scenario.name

    @property
    def finished(self) -> bool:
        return self._m.turn >= self._m.horizon

    @property
    def bloc_ids(self) -> list[str]:
        return list(self._m.bloc_ids)

    @property
    def bloc_names(self) -> dict[str, str]:
        return dict(zip(self._m.bloc_ids, self._m.bloc_names, strict=True))

    @property
    def country_ids(self) -> list[str]:
        return list(self._m.country_ids)

    @property
    def countries(self) -> list[CountrySpec]:
        return list(self._m.world.countries)

    @property
    def target_bloc(self) -> str:
        """The bloc the export rules aim at (China in the shipped world)."""
        return self._m.bloc_ids[self._m.china_bloc]

    @property
    def rule_ids(self) -> list[str]:
        """The export-control rule versions a player can put in force."""
        return list(self._m.spec.rules)

    def describe(self, change: PolicyChange) -> str:
        """A lever change in the names players read ('Customs ... for Malaysia set to 2.0')."""
        return self._m.names.change(change)

    # ------------------------------------------------------------------ the map
    def h100e_by_lab(self) -> np.ndarray:
        """H100-equivalents each lab holds now."""
        return self._m.ledger.chips_held() @ self._m.chips.h100e

    def map_state(self) -> MapState:
        m = self._m
        per_lab = self.h100e_by_lab()
        per_country = np.bincount(m.labs.country, weights=per_lab, minlength=len(m.country_ids))
        flows_arr = m.books.flows
        flows = []
        for s, d, k in zip(*np.nonzero(flows_arr), strict=True):
            kind = PROVENANCES[k]
            if kind in FLOW_KINDS and s != d:
                flows.append(
                    Flow(m.country_ids[s], m.country_ids[d], kind, int(flows_arr[s, d, k]))
                )
        seized = m.books.seized_by_route
        return MapState(
            date=m.date,
            compute_h100e={c: float(per_country[i]) for i, c in enumerate(m.country_ids)},
            bloc_of={c: m.bloc_ids[m.country_bloc[i]] for i, c in enumerate(m.country_ids)},
            tier={c: TIERS[m.view.tier[i]] for i, c in enumerate(m.country_ids)},
            flows=tuple(flows),
            seizures={m.country_ids[i]: int(v) for i, v in enumerate(seized) if v},
        )

    def country(self, country_id: str) -> CountryDetails:
        m = self._m
        k = m.country_ids.index(country_id)
        mine = np.flatnonzero(m.labs.country == k)
        per_lab = self.h100e_by_lab()
        labs = tuple(
            LabRow(
                m.labs.ids[i],
                m.labs.names[i],
                float(per_lab[i]),
                float(m.labs.capability[i]),
                bool(m.labs.frontier[i]),
            )
            for i in sorted(mine, key=lambda i: -per_lab[i])
        )
        by_prov = np.einsum("lcp,c->p", m.ledger.by_provenance()[mine], m.chips.h100e)
        policies = [tr("country_export_tier", tier=TIERS[m.view.tier[k]])]
        pressure = float(m.policy.get("transit_pressure", country_id))
        if pressure:
            policies.append(tr("country_transit_pressure", pressure=f"{pressure:g}"))
        listed = [m.labs.names[i] for i in mine if m.view.listed[i]]
        if listed:
            policies.append(tr("country_entity_list", labs=", ".join(listed)))
        if m.country_bloc[k] == m.china_bloc:
            for lever in (
                "domestic_subsidy",
                "buy_domestic_mandate",
                "foreign_chip_discouragement",
            ):
                value = float(m.policy.get(lever))
                if value:
                    policies.append(f"{lever.replace('_', ' ').capitalize()}: {value:g}")
        return CountryDetails(
            id=country_id,
            name=m.country_names[k],
            bloc=m.bloc_ids[m.country_bloc[k]],
            tier=TIERS[m.view.tier[k]],
            customs=float(m.customs[k]),
            labs=labs,
            stock_by_provenance={p: float(by_prov[i]) for i, p in enumerate(PROVENANCES)},
            policies=tuple(policies),
        )

    # ------------------------------------------------------------------ charts and news
    def series(self, column: str) -> dict[str, np.ndarray]:
        """A results column per bloc over the months so far (for the charts)."""
        table = self._m.datacollector.tables["blocs"]
        values = np.asarray(table.get(column, []), float)
        n = len(self._m.bloc_ids)
        months = len(values) // n
        grid = values[: months * n].reshape(months, n) if months else np.zeros((0, n))
        return {b: grid[:, i] for i, b in enumerate(self._m.bloc_ids)}

    def gray_chips(self, bloc: str) -> list[tuple[str, str]]:
        """(first month, chip) each time the chip the bloc's gray market sells most of changes
        (the `gray_chip` column): its price is the gray-price chart's line, which jumps when
        the chip does (an H100 to a B200), and the chart says so."""
        table = self._m.datacollector.tables["blocs"]
        n, i = len(self._m.bloc_ids), self._m.bloc_ids.index(bloc)
        chips = list(table.get("gray_chip", []))[i::n]
        out: list[tuple[str, str]] = []
        for date, chip in zip(self.dates(), chips, strict=False):
            if chip and (not out or out[-1][1] != chip):
                out.append((date, str(chip)))
        return out

    def dates(self) -> list[str]:
        table = self._m.datacollector.tables["blocs"]
        return list(table.get("date", []))[:: len(self._m.bloc_ids)]

    def latest(self, column: str, bloc: str) -> float:
        return self._m.latest(column, self._m.bloc_ids.index(bloc))

    def news(self, last: int = 30) -> list[dict]:
        return [dict(e) for e in self._m.events[-last:]]

    def compute_sources(self, bloc: str) -> dict[str, dict[str, float]]:
        """Where a bloc's compute came from, by provenance (shares of H100e): for the whole bloc
        and for its leading frontier lab (the one whose model sets the bloc's frontier)."""
        m = self._m
        b = m.bloc_ids.index(bloc)
        held = np.einsum("lcp,c->lp", m.ledger.by_provenance(), m.chips.h100e)
        mine = m.labs.bloc == b
        out = {"bloc": _shares(held[mine].sum(axis=0))}
        cap = np.where(mine & m.labs.frontier, m.labs.capability, np.nan)
        if np.isfinite(cap).any():
            lead = int(np.nanargmax(cap))
            out[m.labs.names[lead]] = _shares(held[lead])
        return out


def _shares(values: np.ndarray) -> dict[str, float]:
    total = float(values.sum())
    return {p: (float(values[i]) / total if total else 0.0) for i, p in enumerate(PROVENANCES)}
