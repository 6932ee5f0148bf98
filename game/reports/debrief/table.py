"""The monthly results a report reads, as month x bloc grids, whatever they came from (a model's
collector or a results table written by `run --out`)."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from game.play.objectives import CHINA_BLOC
from game.sim.model import ChipWarModel

PROVENANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("legal_share", "Legal"),
    ("compliant_share", "Compliant"),
    ("domestic_share", "Domestic"),
    ("smuggled_share", "Smuggled"),
    ("rented_share", "Rented"),
)
# The same, as a sentence and a chart legend say them.
PROVENANCE_WORDS = {
    "legal_share": "bought legally",
    "compliant_share": "compliant variants",
    "domestic_share": "domestic chips",
    "smuggled_share": "smuggled",
    "rented_share": "rented abroad",
}
# The columns the report reads from a results table; anything else in the file is ignored.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "date",
    "bloc",
    "frontier_capability",
    "gap_months",
    "compute_h100e",
    *(c for c, _ in PROVENANCE_COLUMNS),
    "chips_smuggled",
    "chips_seized",
    "gray_price_usd",
    "vendor_revenue_usd",
)
NUMBERS = REQUIRED_COLUMNS[2:]  # the numeric ones


def month_starts(dates: Iterable[str]) -> list[_dt.datetime]:
    """'YYYY-MM' months as datetimes on their first day: the charts' time axis."""
    return [_dt.datetime(int(d[:4]), int(d[5:7]), 1) for d in dates]


class Table:
    """A results table as month x bloc numpy grids, each built once. Why not pandas: the report
    reads each column many times, and the game writes it from a thread beside its window loop,
    where every pandas call that releases the GIL waits to get it back (a 40 ms summary took
    1.7 s beside a busy Python loop)."""

    def __init__(self, columns: dict[str, Sequence[Any]]) -> None:
        dates = [str(d) for d in columns["date"]]
        blocs = [str(b) for b in columns["bloc"]]
        self.dates: list[str] = sorted(set(dates))
        self.blocs: list[str] = list(dict.fromkeys(blocs))
        date_i = {d: i for i, d in enumerate(self.dates)}
        bloc_i = {b: i for i, b in enumerate(self.blocs)}
        self._rows = np.array([date_i[d] for d in dates], dtype=np.intp)
        self._cols = np.array([bloc_i[b] for b in blocs], dtype=np.intp)
        self._columns = columns
        self._grids: dict[str, np.ndarray] = {}
        self.x = month_starts(self.dates)

    @classmethod
    def from_model(cls, model: ChipWarModel) -> Table:
        """Straight from the model's collector (what model.results() would build a frame of)."""
        table = model.datacollector.tables["blocs"]
        return cls({c: list(table.get(c, [])) for c in ("date", "bloc", *NUMBERS, "gray_chip")})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Table:
        names = ("date", "bloc", *NUMBERS, "gray_chip")
        return cls({c: frame[c].tolist() for c in names if c in frame.columns})

    def __len__(self) -> int:
        return len(self.dates)

    def grid(self, column: str) -> np.ndarray:
        """[month, bloc] floats, NaN where the table has no row."""
        if column not in self._grids:
            g = np.full((len(self.dates), len(self.blocs)), np.nan)
            g[self._rows, self._cols] = np.asarray(self._columns[column], dtype=float)
            self._grids[column] = g
        return self._grids[column]

    def series(self, column: str, bloc: str = CHINA_BLOC) -> np.ndarray:
        if bloc not in self.blocs:
            return np.full(len(self.dates), np.nan)
        return self.grid(column)[:, self.blocs.index(bloc)]

    def labels(self, column: str, bloc: str = CHINA_BLOC) -> list[str]:
        """A text column (gray_chip) month by month for one bloc ('' where missing)."""
        out = [""] * len(self.dates)
        values = self._columns.get(column) or []
        b = self.blocs.index(bloc) if bloc in self.blocs else -1
        for r, c, v in zip(self._rows, self._cols, values, strict=False):
            if c == b and isinstance(v, str) and v not in ("nan", "None"):
                out[r] = v
        return out

    def only(self, dates: set[str]) -> Table:
        keep = [i for i, d in enumerate(self._columns["date"]) if str(d) in dates]
        return Table({c: [v[i] for i in keep] for c, v in self._columns.items()})

    def end(self, column: str, bloc: str = CHINA_BLOC) -> float:
        """The last month's value (NaN for an empty table)."""
        series = self.series(column, bloc)
        return float(series[-1]) if len(series) else float("nan")

    def total(self, column: str, bloc: str = CHINA_BLOC) -> float:
        """Summed over the months, missing months counting as nothing."""
        return float(np.nansum(self.series(column, bloc)))


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
