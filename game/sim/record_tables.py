"""The results and sales tables as the model keeps them while it runs: numpy buffers a month's
record is copied into, read as Mesa's DataCollector tables (column name -> list of values).

Why: kept as Python lists, every month cost a list per value and a `list.extend` per column, and
the DataFrame at the end had pandas infer each column's type from its list again. Here a month
adds a [row, bloc] block of floats and one of counts (game/sim/record_kernel.py's rows), and the
frame is built once from typed arrays. Everything that read the lists still reads them
(`table[column]`, `table.get(column, [])`, `table.items()`): a column asked for is made as the
list the old table held, the same values of the same Python types. `model.results()` and
`model.sales()` give the frames `results.table_frame` gave of those lists, bit for bit
(tests/sim/test_results_tables.py).

A restored model (game/sim/state.py) has its tables back as plain lists; the first month it
records after that adopts them as a `prefix`, read before the buffers' rows, and its frames are
then built from the lists as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from game.core.catalogue import ChipTable
from game.sim.record_kernel import FLOAT_ROWS, INT_ROWS
from game.sim.results import COLUMN_NAMES, SALES_COLUMNS, table_frame

# results columns with one value a month (the same on each bloc's row), in the order of
# BlocTable.append's `month` tuple; floats, ints and text
MONTH_COLUMNS = ("date", "step", "gray_price_usd", "gray_chip", "brokers_active")
MONTH_DTYPES = {"step": np.int64, "gray_price_usd": np.float64, "brokers_active": np.int64}


def _repeated(values: list[str], times: int) -> list[str]:
    """Each value `times` times in a row, in order."""
    return list(itertools.chain.from_iterable(itertools.repeat(v, times) for v in values))


class BlocTable(Mapping[str, list[Any]]):
    """The results table: one row per (month, bloc), the blocs in order within a month."""

    def __init__(self, bloc_ids: list[str], prefix: Mapping[str, list[Any]] | None = None):
        self.bloc_ids = list(bloc_ids)
        n_blocs = len(self.bloc_ids)
        # rows recorded before this table was made (a restored save's), or None
        self.prefix = {k: list(v) for k, v in prefix.items()} if prefix else None
        if self.prefix is not None and not next(iter(self.prefix.values()), []):
            self.prefix = None
        self.months = 0  # months held in the buffers
        capacity = 128
        self._floats = np.empty((capacity, len(FLOAT_ROWS), n_blocs))
        self._ints = np.empty((capacity, len(INT_ROWS), n_blocs), np.int64)
        self._month: list[tuple[Any, ...]] = []  # as Python values: a tuple is one append

    def append(self, floats: np.ndarray, ints: np.ndarray, month: tuple[Any, ...]) -> None:
        """One month's rows: [FLOAT_ROWS, bloc], [INT_ROWS, bloc] and the values the month's
        rows share, in MONTH_COLUMNS' order."""
        next_floats, next_ints = self.next_rows()
        next_floats[...] = floats
        next_ints[...] = ints
        self.add_month(month)

    def next_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The next month's rows, [FLOAT_ROWS, bloc] and [INT_ROWS, bloc], as views to write
        the month's numbers into (results.write_bloc_arrays); add_month then holds them."""
        m = self.months
        if m == self._floats.shape[0]:
            self._grow()
        return self._floats[m], self._ints[m]

    def add_month(self, month: tuple[Any, ...]) -> None:
        """Hold the rows next_rows gave, written, with the values the month's rows share, in
        MONTH_COLUMNS' order."""
        self._month.append(month)
        self.months += 1

    def _grow(self) -> None:
        for name in ("_floats", "_ints"):
            old = getattr(self, name)
            new = np.empty((2 * old.shape[0], *old.shape[1:]), old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    # ------------------------------------------------------------------ read as columns
    def __iter__(self) -> Iterator[str]:
        return iter(COLUMN_NAMES)

    def __len__(self) -> int:
        return len(COLUMN_NAMES)

    def __getitem__(self, column: str) -> list[Any]:
        values = self.column(column)
        own = values if isinstance(values, list) else values.tolist()
        return own if self.prefix is None else self.prefix[column] + own

    def column(self, column: str) -> np.ndarray | list[str]:
        """The buffers' rows of a column: float64 or int64 in row order, text as a list."""
        m, n_blocs = self.months, len(self.bloc_ids)
        if column in FLOAT_ROWS:
            return self._floats[:m, FLOAT_ROWS.index(column)].ravel()
        if column in INT_ROWS:
            return self._ints[:m, INT_ROWS.index(column)].ravel()
        if column in MONTH_COLUMNS:
            k = MONTH_COLUMNS.index(column)
            values = [month[k] for month in self._month]
            if column in MONTH_DTYPES:
                return np.repeat(np.array(values, MONTH_DTYPES[column]), n_blocs)
            return _repeated(values, n_blocs)
        if column == "bloc":
            return self.bloc_ids * m
        raise KeyError(column)

    def frame(self) -> pd.DataFrame:
        """results.table_frame(self, COLUMN_NAMES): the same frame, from the typed buffers."""
        if self.prefix is not None:
            return table_frame(dict(self.items()), COLUMN_NAMES)
        if self.months == 0:
            return pd.DataFrame(columns=COLUMN_NAMES)
        return pd.DataFrame({name: self.column(name) for name in COLUMN_NAMES})

    # ------------------------------------------------------------------ what the bots read
    def series(self, column: str, bloc: int) -> np.ndarray:
        """[month] a numeric column for one bloc, as floats (model.series)."""
        if self.prefix is None:
            if column in FLOAT_ROWS:
                return self._floats[: self.months, FLOAT_ROWS.index(column), bloc].copy()
            if column in INT_ROWS:
                return self._ints[: self.months, INT_ROWS.index(column), bloc].astype(float)
        values = self.get(column, [])
        return np.asarray(values[bloc :: len(self.bloc_ids)], float)

    def latest(self, column: str, bloc: int) -> float:
        """The last value of a column for one bloc (NaN before the first), as model.latest."""
        if self.prefix is None and self.months and column in FLOAT_ROWS:
            return float(self._floats[self.months - 1, FLOAT_ROWS.index(column), bloc])
        values = self.get(column, [])
        n = len(self.bloc_ids)
        if len(values) < n:
            return float("nan")
        return float(values[len(values) - n + bloc])


class SalesTable(Mapping[str, list[Any]]):
    """The sales table: one row per (month, chip, bloc billed) that sold anything. The chips'
    and vendors' names are looked up when read: a chip slot, once used, keeps its id and
    vendor (ChipTable.add_variant fills only unused slots)."""

    def __init__(
        self,
        chips: ChipTable,
        vendor_ids: list[str],
        bloc_ids: list[str],
        prefix: Mapping[str, list[Any]] | None = None,
    ):
        self.chips, self.vendor_ids, self.bloc_ids = chips, list(vendor_ids), list(bloc_ids)
        self.prefix = {k: list(v) for k, v in prefix.items()} if prefix else None
        if self.prefix is not None and not next(iter(self.prefix.values()), []):
            self.prefix = None
        self._months: list[tuple[str, int, int]] = []  # (date, step, rows)
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def append(
        self,
        date: str,
        step: int,
        chip: np.ndarray,
        bloc: np.ndarray,
        units: np.ndarray,
        revenue: np.ndarray,
    ) -> None:
        """One month's rows (results.sales_arrays)."""
        if chip.size:
            self._months.append((date, step, chip.size))
            self._parts.append((chip, bloc, units, revenue))

    def __iter__(self) -> Iterator[str]:
        return iter(SALES_COLUMNS)

    def __len__(self) -> int:
        return len(SALES_COLUMNS)

    def __getitem__(self, column: str) -> list[Any]:
        values = self.column(column)
        own = values if isinstance(values, list) else values.tolist()
        return own if self.prefix is None else self.prefix[column] + own

    def _joined(self, k: int, dtype: type) -> np.ndarray:
        return np.concatenate([part[k] for part in self._parts]) if self._parts else np.zeros(
            0, dtype
        )

    def column(self, column: str) -> np.ndarray | list[str]:
        """The buffered rows of a column: int64 or float64 in row order, text as a list."""
        if column == "date":
            return list(itertools.chain.from_iterable([d] * n for d, _, n in self._months))
        if column == "step":
            steps = np.array([s for _, s, _ in self._months], np.int64)
            return np.repeat(steps, [n for _, _, n in self._months])
        if column == "chip":
            ids = self.chips.ids
            return [ids[i] for i in self._joined(0, np.intp).tolist()]
        if column == "vendor":
            vendors = self.chips.vendor[self._joined(0, np.intp)].tolist()
            return [self.vendor_ids[v] for v in vendors]
        if column == "bloc":
            return [self.bloc_ids[b] for b in self._joined(1, np.intp).tolist()]
        if column == "units":
            return self._joined(2, np.int64)
        if column == "revenue_usd":
            return self._joined(3, np.float64)
        raise KeyError(column)

    def frame(self) -> pd.DataFrame:
        """results.table_frame(self, SALES_COLUMNS): the same frame, from the typed arrays."""
        if self.prefix is not None:
            return table_frame(dict(self.items()), SALES_COLUMNS)
        if not self._parts:
            return pd.DataFrame(columns=SALES_COLUMNS)
        return pd.DataFrame({name: self.column(name) for name in SALES_COLUMNS})
