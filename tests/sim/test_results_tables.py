"""The results and sales tables kept in numpy buffers (game/sim/record_tables.py) read as the
lists Mesa's DataCollector held, and give the frames results.table_frame built of those lists:
the same values to the bit, the same dtypes, column order and index; the bots' series and
latest alike; a forked or loaded model's tables (lists again) carry on the same."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from game.sim import results
from game.sim.model import ChipWarModel
from game.sim.record_tables import BlocTable, SalesTable
from game.sim.results import COLUMN_NAMES, SALES_COLUMNS, table_frame
from game.sim.runner import forget
from game.sim.state import fork, load_model, save_model
from tests.agents.kernel_cases import CASES


def _bits(x: Any) -> Any:
    return struct.pack("<d", x) if isinstance(x, float) else x


def _same_lists(a: list[Any], b: list[Any]) -> bool:
    """The same values, each of the same Python type with the same bits."""
    return len(a) == len(b) and all(
        type(u) is type(v) and _bits(u) == _bits(v) for u, v in zip(a, b, strict=True)
    )


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.columns) == list(b.columns)
    assert list(a.dtypes) == list(b.dtypes)
    assert a.index.equals(b.index) and type(a.index) is type(b.index)
    for name in a.columns:
        if a[name].dtype == np.float64:
            x, y = a[name].to_numpy(), b[name].to_numpy()
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), name


class _Lists:
    """The tables as the lists the model kept before its buffers: each month's reference
    columns (results.bloc_columns_reference, results.sales_columns) appended."""

    def __init__(self) -> None:
        self.blocs: dict[str, list[Any]] = {c: [] for c in COLUMN_NAMES}
        self.sales: dict[str, list[Any]] = {c: [] for c in SALES_COLUMNS}
        self.reads: list[tuple[str, Any, Any]] = []

    def record(self, model: ChipWarModel) -> None:
        results.append_columns(self.blocs, results.bloc_columns_reference(model))
        results.append_columns(self.sales, results.sales_columns(model))


def _run_with_lists(
    monkeypatch: pytest.MonkeyPatch, scenario: str, seed: int, months: int
) -> tuple[ChipWarModel, _Lists]:
    lists = _Lists()
    record = ChipWarModel._record

    def _record(self: ChipWarModel) -> None:
        record(self)
        lists.record(self)
        # what the bots read, from the buffers and from the lists
        for column in ("gap_months", "smuggled_share", "chips_seized", "step", "nope"):
            for b in range(len(self.bloc_ids)):
                got, want = self.series(column, b), _series(lists.blocs, column, b, self)
                lists.reads.append((column, got.tobytes(), want.tobytes()))
                got_l, want_l = self.latest(column, b), _latest(lists.blocs, column, b, self)
                lists.reads.append((column, _bits(got_l), _bits(want_l)))

    monkeypatch.setattr(ChipWarModel, "_record", _record)
    model = ChipWarModel(scenario, rng=seed, months=months)
    model.run()
    return model, lists


def _series(table: dict[str, list[Any]], column: str, bloc: int, model: ChipWarModel) -> Any:
    values = table.get(column, [])
    return np.asarray(values[bloc :: len(model.bloc_ids)], float)


def _latest(table: dict[str, list[Any]], column: str, bloc: int, model: ChipWarModel) -> float:
    values, n = table.get(column, []), len(model.bloc_ids)
    return float("nan") if len(values) < n else float(values[len(values) - n + bloc])


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_buffers_give_the_lists_and_frames_of_the_old_tables(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, lists = _run_with_lists(monkeypatch, scenario, seed, months=60)
    try:
        tables = model.datacollector.tables
        assert isinstance(tables["blocs"], BlocTable)
        assert isinstance(tables["sales"], SalesTable)
        for name, want in (("blocs", lists.blocs), ("sales", lists.sales)):
            assert list(tables[name]) == list(want)
            for column in want:
                assert _same_lists(tables[name][column], want[column]), (name, column)
        assert len(lists.sales["chip"]) > 0 and len(lists.blocs["date"]) == 60 * 4
        _same_frames(model.results(), table_frame(lists.blocs, COLUMN_NAMES))
        _same_frames(model.sales(), table_frame(lists.sales, SALES_COLUMNS))
        assert all(got == want for _, got, want in lists.reads)
    finally:
        forget(model)


def test_buffers_grow_past_their_first_capacity(monkeypatch: pytest.MonkeyPatch) -> None:
    model, lists = _run_with_lists(monkeypatch, "historical", 3, months=300)
    try:
        assert model.datacollector.tables["blocs"]._floats.shape[0] > 128  # noqa: SLF001
        _same_frames(model.results(), table_frame(lists.blocs, COLUMN_NAMES))
        _same_frames(model.sales(), table_frame(lists.sales, SALES_COLUMNS))
    finally:
        forget(model)


def test_an_empty_table_gives_the_empty_frames() -> None:
    model = ChipWarModel("historical", rng=1, months=3)
    try:
        _same_frames(model.results(), table_frame({c: [] for c in COLUMN_NAMES}, COLUMN_NAMES))
        _same_frames(model.sales(), table_frame({c: [] for c in SALES_COLUMNS}, SALES_COLUMNS))
        assert np.isnan(model.latest("gap_months", 0)) and model.series("gap_months", 0).size == 0
    finally:
        forget(model)


@pytest.mark.parametrize("how", ["fork", "save"])
def test_a_restored_model_carries_its_rows_on(how: str, tmp_path: Path) -> None:
    """Restored, the tables are lists again; the model adopts them the next month it records
    and goes on as the original does: the same frames, the same lists, the same reads."""
    model = ChipWarModel("leaky_enforcement", rng=5, months=40)
    model.run(20)
    if how == "fork":
        copy = fork(model)
    else:
        save_model(model, str(tmp_path / "game.save"))
        copy = load_model(str(tmp_path / "game.save"))
    try:
        assert not isinstance(copy.datacollector.tables["blocs"], BlocTable)
        _same_frames(copy.results(), model.results())
        _same_frames(copy.sales(), model.sales())
        assert copy.latest("gap_months", 1) == model.latest("gap_months", 1)
        model.run()
        copy.run()
        assert isinstance(copy.datacollector.tables["blocs"], BlocTable)
        _same_frames(copy.results(), model.results())
        _same_frames(copy.sales(), model.sales())
        for name in ("blocs", "sales"):
            a, b = model.datacollector.tables[name], copy.datacollector.tables[name]
            for column in a:
                assert _same_lists(a[column], b[column]), (name, column)
        for b in range(len(model.bloc_ids)):
            for column in ("gap_months", "chips_bought"):
                assert model.series(column, b).tobytes() == copy.series(column, b).tobytes()
                assert _bits(model.latest(column, b)) == _bits(copy.latest(column, b))
    finally:
        forget(model, copy)
