"""The compiled kernels of the month's record and the vendors give the numpy reference's
numbers bit for bit, month after month of real runs: game/sim/record_kernel.py against
results.bloc_columns_reference (the values and their Python types), and agents/vendor_kernel.py
against the vendors' numpy references."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest

import agents.lab as lab
import agents.vendor as vendor
import game.sim.market_view as market_view
import game.sim.model as sim_model
from agents.vendor import ChipVendor
from game.core.fab import wafers_per_chip
from game.sim import results
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from tests.agents.kernel_cases import CASES


def _bits(x: Any) -> Any:
    return struct.pack("<d", x) if isinstance(x, float) else x


def _same_columns(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> bool:
    """The same columns, each value of the same Python type and the same bits."""
    if list(a) != list(b):
        return False
    for name in a:
        x, y = a[name], b[name]
        if len(x) != len(y):
            return False
        for u, v in zip(x, y, strict=True):
            if type(u) is not type(v) or _bits(u) != _bits(v):
                return False
    return True


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_record_kernel_matches_the_numpy_reference_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {"blocs": 0, "gain": 0, "differ": []}
    kernel_write = results.write_bloc_arrays

    def write_bloc_arrays(model, floats, ints):  # noqa: ANN001, ANN202
        want = results.bloc_columns_reference(model)
        got = results.bloc_columns(model)  # the kernel's numbers as the reference's lists
        seen["blocs"] += 1
        seen["gain"] += any(g != 1.0 for g in got["technique_multiplier"])
        if not _same_columns(got, want):
            seen["differ"].append(("bloc_columns", model.date))
        floats[...], ints[...] = np.nan, -1  # the table's rows, as the month finds them
        kernel_write(model, floats, ints)
        want_floats, want_ints = results.bloc_arrays(model)
        if not (_same(floats, want_floats) and np.array_equal(ints, want_ints)):
            seen["differ"].append(("table rows", model.date))

    monkeypatch.setattr(sim_model, "write_bloc_arrays", write_bloc_arrays)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == []
    assert seen["blocs"] == 60
    assert seen["gain"] > 0  # a frontier lab with techniques found


def test_best_runs_kernel_keeps_nan_and_no_run() -> None:
    """The branches real months do not reach: a lab's NaN run (kept, as np.maximum keeps
    it), a bloc with no run (NaN), a bloc whose frontier no lab matches (multiplier 1)."""
    from types import SimpleNamespace

    from game.sim.record_kernel import FLOAT_ROWS, bloc_table

    nan = float("nan")
    labs = SimpleNamespace(
        bloc=np.array([0, 0, 1, 2, 2, 3], np.int64),
        best_run_flop=np.array([1e24, nan, 0.0, 3e23, 5e23, 2e22]),
        frontier=np.array([True, True, True, False, True, True]),
        capability=np.array([50.0, 60.0, 40.0, 30.0, 31.0, 20.0]),
        technique_gain=np.array([2.0, 3.0, 1.5, 4.0, 5.0, 6.0]),
    )
    frontier = [60.0, 40.0, 30.0, 21.0]
    want = results._best_runs(SimpleNamespace(labs=labs), frontier)
    n = labs.bloc.size
    zeros, counts, blocs = np.zeros(n), np.zeros(n, np.int64), np.zeros(4)
    table, _ = bloc_table(
        np.zeros((n, 5)), labs.bloc, 4, np.zeros((n, 4)), counts, counts, counts, zeros,
        counts, 0, zeros, 1e15, labs.best_run_flop, labs.frontier, labs.capability,
        labs.technique_gain, np.array(frontier), blocs, blocs, blocs, blocs,
    )  # fmt: skip
    runs = table[FLOAT_ROWS.index("largest_run_flop")]
    gains = table[FLOAT_ROWS.index("technique_multiplier")]
    assert _same(runs, np.array(want[0])) and _same(gains, np.array(want[1]))
    assert runs[0] != runs[0] and runs[1] != runs[1] and gains[2] == 1.0


def _vendor_state(vendors: list[Any]) -> list[tuple[Any, ...]]:
    return [(v.demand_ratio, v.recent_demand, v.mix) for v in vendors]


def _restore(vendors: list[Any], state: list[tuple[Any, ...]]) -> None:
    for v, (ratio, recent, mix) in zip(vendors, state, strict=True):
        v.demand_ratio, v.recent_demand, v.mix = ratio, recent, mix


def _same_state(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    for (r1, d1, m1), (r2, d2, m2) in zip(a, b, strict=True):
        if _bits(r1) != _bits(r2) or _bits(d1) != _bits(d2):
            return False
        if (m1 is None) != (m2 is None) or (m1 is not None and not _same(m1, m2)):
            return False
    return True


@pytest.mark.parametrize(
    ("scenario", "seed", "porting"), [*[(*c, True) for c in CASES], ("historical", 1, False)]
)
def test_vendor_kernels_match_the_numpy_reference_every_month(
    scenario: str, seed: int, porting: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """porting False: no lab ports software (lab.ported_shares None), the pre-orders' other
    branch, which the shipped scenarios do not reach."""
    seen: dict[str, Any] = {
        "per_chip_all": 0,
        "mixed": 0,
        "record": 0,
        "fresh": 0,
        "moved": 0,
        "preorders": 0,
        "booked": 0,
        "ported": 0,
        "per_chip": 0,
        "per_chip_mix": 0,
        "differ": [],
    }
    kernel_all, kernel_record = vendor.per_chip_all, vendor.record_demand_all
    kernel_preorders, kernel_per_chip = ChipVendor.preorders, ChipVendor.per_chip

    def per_chip_all(vendors, chips, month, values):  # noqa: ANN001, ANN202
        got = kernel_all(vendors, chips, month, values)
        seen["per_chip_all"] += 1
        seen["mixed"] += any(v.mix is not None for v in vendors)
        if not _same(got, vendor.per_chip_all_reference(vendors, chips, month, values)):
            seen["differ"].append(("per_chip_all", month))
        return got

    def record_demand_all(vendors, units, capacity, asked):  # noqa: ANN001, ANN202
        before = _vendor_state(vendors)
        seen["record"] += 1
        seen["fresh"] += any(v.mix is None for v in vendors)
        seen["moved"] += any(v.mix is not None for v in vendors)
        vendor.record_demand_all_reference(vendors, units, capacity, asked.copy())
        want = _vendor_state(vendors)
        _restore(vendors, before)
        kernel_record(vendors, units, capacity, asked)
        if not _same_state(_vendor_state(vendors), want):
            seen["differ"].append(("record_demand_all", vendors[0].model.month))

    def preorders(self):  # noqa: ANN001, ANN202
        got = kernel_preorders(self)
        seen["preorders"] += 1
        seen["booked"] += got > 0
        seen["ported"] += got > 0 and lab.ported_shares(self.model) is not None
        if _bits(got) != _bits(self.preorders_reference()):
            seen["differ"].append(("preorders", self.model.month))
        return got

    def per_chip(self, values):  # noqa: ANN001, ANN202
        got = kernel_per_chip(self, values)
        seen["per_chip"] += 1
        seen["per_chip_mix"] += self.mix is not None
        if _bits(got) != _bits(self.per_chip_reference(values)):
            seen["differ"].append(("per_chip", self.model.month))
        return got

    def wafer_capacity(self):  # noqa: ANN001, ANN202
        """per_chip's way (wafer_capacity fuses it: tests/agents/test_kernels_vendors.py)."""
        per = self.per_chip(wafers_per_chip(self.model.chips.die_area, self.defects))
        return self.wafers * self.wafer_share() / per if per > 0 else 0.0

    monkeypatch.setattr(market_view, "per_chip_all", per_chip_all)
    monkeypatch.setattr(sim_model, "record_demand_all", record_demand_all)
    # record_demand_all's way (tell_demand fuses it: tests/agents/test_kernels_vendors.py)
    monkeypatch.setattr(
        ChipWarModel, "_tell_vendors_demand", ChipWarModel._tell_vendors_demand_reference
    )
    monkeypatch.setattr(ChipVendor, "preorders", preorders)
    monkeypatch.setattr(ChipVendor, "per_chip", per_chip)
    monkeypatch.setattr(ChipVendor, "wafer_capacity", wafer_capacity)
    if not porting:
        monkeypatch.setattr(vendor, "ported_shares", lambda model: None)
        monkeypatch.setattr(lab, "ported_shares", lambda model: None)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == []
    assert seen["record"] == 60 and seen["moved"] > 0 and seen["fresh"] > 0
    assert seen["per_chip"] > 0 and seen["per_chip_mix"] > 0
    assert seen["preorders"] > 0 and seen["booked"] > 0
    assert (seen["ported"] > 0) == porting
    if scenario != "no_controls":  # HBM controls: the stacks per chip of the vendors' mixes
        assert seen["per_chip_all"] > 0 and seen["mixed"] > 0


@pytest.mark.parametrize("odd", ["none", "size"])
def test_record_demand_kernel_with_a_missing_or_odd_mix(odd: str) -> None:
    """A vendor without a mix (the table path) or with a mix of another catalogue's size (the
    path that stacks the mixes again): its first mix is its share of the orders, as the
    reference gives it, and the others move alike."""
    model = ChipWarModel("historical", rng=1, months=12)
    try:
        model.run()
        vendors = model.vendors
        vendors[1].mix = None if odd == "none" else np.ones(3)
        asked = model.books.asked_per_chip.copy()
        units = [1000.0, 2000.0, 0.0, 500.0][: len(vendors)]
        capacity = [v.capacity for v in vendors]
        before = _vendor_state(vendors)
        vendor.record_demand_all_reference(vendors, units, capacity, asked.copy())
        want = _vendor_state(vendors)
        _restore(vendors, before)
        if odd == "none":  # (per_chip_all, reference and kernel alike, refuses an odd mix)
            vendor.per_chip_all(vendors, model.chips, model.month, np.ones(asked.size))
        vendor.record_demand_all(vendors, units, capacity, asked)
        assert _same_state(_vendor_state(vendors), want)
    finally:
        forget(model)


def _same_rows(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> bool:
    """The same arrays: dtypes, shapes and bits."""
    return all(
        g.dtype == w.dtype
        and g.shape == w.shape
        and np.array_equal(g.view(np.int64), w.view(np.int64))
        for g, w in zip(got, want, strict=True)
    )


@pytest.mark.parametrize(("scenario", "seed"), CASES[:3])
def test_sales_kernel_matches_the_numpy_reference_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """results.sales_arrays against sales_arrays_reference on real months, as the levers
    stand and with a china_price markup on one vendor (the factor's other branch)."""
    seen: dict[str, Any] = {"months": 0, "rows": 0, "china": 0, "differ": []}
    kernel_sales = results.sales_arrays

    def sales_arrays(model):  # noqa: ANN001, ANN202
        got = kernel_sales(model)
        seen["months"] += 1
        seen["rows"] += got[0].size
        if not _same_rows(got, results.sales_arrays_reference(model)):
            seen["differ"].append(("as set", model.date))
        targets = model.policy.targets
        markup = {model.vendor_ids[0]: 0.37, model.vendor_ids[-1]: 0.1}
        model.policy.targets = lambda lever: markup if lever == "china_price" else targets(lever)
        try:
            marked = kernel_sales(model)
            want = results.sales_arrays_reference(model)
        finally:
            del model.policy.targets
        seen["china"] += bool((marked[1] == model.china_bloc).any())
        if not _same_rows(marked, want):
            seen["differ"].append(("marked up", model.date))
        return got

    monkeypatch.setattr(sim_model, "sales_arrays", sales_arrays)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == []
    assert seen["months"] == 60 and seen["rows"] > 0 and seen["china"] > 0
