"""The vendors' month on its fused kernels gives the numpy references' numbers bit for bit,
month after month of real runs (agents/vendor.py, agents/vendor_kernel.py): the demand the
month's orders tell every vendor (tell_demand against record_demand_all_reference), SMIC's
wafer capacity (wafer_capacity against wafer_capacity_reference), the markets a vendor
remembers (free_markets against free_table_reference), the chips a rule or a launch takes
from a closed market (_lost against _lost_reference) and the pre-orders' launch window; and
a model whose vendors run the references walks in step with one on the kernels."""

from __future__ import annotations

import struct
from collections import Counter
from typing import Any

import numpy as np
import pytest

import agents.vendor as vendor
from agents.vendor import ChipVendor
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from tests.agents.kernel_cases import CASES

MONTHS = 60


def _bits(x: Any) -> Any:
    return struct.pack("<d", x) if isinstance(x, float) else x


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return np.array_equal(a.view(np.int64), b.view(np.int64))
    return np.array_equal(a, b)


def _vendor_state(vendors: list[ChipVendor]) -> list[tuple[Any, ...]]:
    return [(v.demand_ratio, v.recent_demand, v.mix) for v in vendors]


def _restore(vendors: list[ChipVendor], state: list[tuple[Any, ...]]) -> None:
    for v, (ratio, recent, mix) in zip(vendors, state, strict=True):
        v.demand_ratio, v.recent_demand, v.mix = ratio, recent, mix


def _same_state(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """The same numbers, each of the same Python type (record_demand sets Python floats)."""
    for (r1, d1, m1), (r2, d2, m2) in zip(a, b, strict=True):
        if type(r1) is not type(r2) or type(d1) is not type(d2):
            return False
        if _bits(r1) != _bits(r2) or _bits(d1) != _bits(d2):
            return False
        if (m1 is None) != (m2 is None) or (m1 is not None and not _same(m1, m2)):
            return False
    return True


def _checked(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every fused call of the vendors' month checked against its reference on the same state;
    returns the counts of calls and branches taken (and "differ" for any mismatch)."""
    seen: Counter[str] = Counter()
    tell, orders, wafer, lost, remember, within = (
        vendor.tell_demand,
        vendor.tell_orders,
        ChipVendor.wafer_capacity,
        ChipVendor._lost,
        ChipVendor.remember_markets,
        ChipVendor._launch_within,
    )

    def tell_both(vendors, units, capacity, asked):  # noqa: ANN001, ANN202
        before = _vendor_state(vendors)
        seen["tell"] += 1
        seen["tell, a first mix"] += any(v.mix is None for v in vendors)
        seen["tell, a vendor without orders"] += bool((units <= 0).any())
        vendor.record_demand_all_reference(
            vendors, units.tolist(), capacity.tolist(), asked.copy()
        )
        want = _vendor_state(vendors)
        _restore(vendors, before)
        tell(vendors, units, capacity, asked)
        seen["differ"] += not _same_state(_vendor_state(vendors), want)

    def orders_both(vendors, capacity, asked):  # noqa: ANN001, ANN202
        before = _vendor_state(vendors)
        chips = vendors[0].model.chips
        units = np.bincount(
            chips.vendor[chips.used], weights=asked[chips.used], minlength=len(vendors)
        )
        seen["tell"] += 1
        seen["tell, a first mix"] += any(v.mix is None for v in vendors)
        seen["tell, a vendor without orders"] += bool((units <= 0).any())
        vendor.record_demand_all_reference(
            vendors, units.tolist(), capacity.tolist(), asked.copy()
        )
        want = _vendor_state(vendors)
        _restore(vendors, before)
        told = orders(vendors, capacity, asked)
        seen["tell, orders"] += told
        if not told:
            tell(vendors, units, capacity, asked)
        seen["differ"] += not _same_state(_vendor_state(vendors), want)
        return True

    def wafer_both(self):  # noqa: ANN001, ANN202
        got = wafer(self)
        seen["wafer"] += 1
        seen["wafer, mixed"] += self.mix is not None
        seen["differ"] += type(got) is not float or _bits(got) != _bits(
            self.wafer_capacity_reference()
        )
        return got

    def lost_both(self, market, before, free):  # noqa: ANN001, ANN202
        got = lost(self, market, before, free)
        want = self._lost_reference(market, before, free)
        seen["lost"] += 1
        seen["lost, some"] += got[0].size > 0
        seen["lost, retired"] += bool(got[1].any())
        seen["differ"] += not (_same(got[0], want[0]) and _same(got[1], want[1]))
        return got

    def remember_both(self):  # noqa: ANN001, ANN202
        kept = self._markets_key
        remember(self)
        seen["remember"] += 1
        seen["remember, derived"] += self._markets_key is not kept
        seen["differ"] += not _same(self.free_before, self.free_table_reference())

    def within_both(self, month, last):  # noqa: ANN001, ANN202
        got = within(self, month, last)
        want = any(month <= r <= last for r in self._own_chips()[2])
        seen["within"] += 1
        seen["within, a launch"] += got
        seen["differ"] += got != want
        return got

    monkeypatch.setattr(vendor, "tell_demand", tell_both)
    monkeypatch.setattr(vendor, "tell_orders", orders_both)
    monkeypatch.setattr(ChipVendor, "wafer_capacity", wafer_both)
    monkeypatch.setattr(ChipVendor, "_lost", lost_both)
    monkeypatch.setattr(ChipVendor, "remember_markets", remember_both)
    monkeypatch.setattr(ChipVendor, "_launch_within", within_both)
    return seen


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_vendor_month_kernels_match_the_references_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _checked(monkeypatch)
    model = ChipWarModel(scenario, rng=seed, months=MONTHS)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == 0
    assert seen["tell"] == MONTHS and seen["tell, a first mix"] > 0
    assert seen["tell, orders"] == MONTHS  # the units summed in the demand's kernel
    assert seen["wafer"] > MONTHS and seen["wafer, mixed"] > 0
    assert seen["remember"] > MONTHS and seen["remember, derived"] > 0
    assert seen["within"] > 0 and seen["within, a launch"] > 0
    if scenario == "historical":  # a closed market vendors design for
        assert seen["lost"] > 0


def test_the_branches_real_months_reach() -> None:
    """Across the cases: a vendor without orders some month, chips lost to a closed market,
    a variant retired with its parent."""
    totals: Counter[str] = Counter()
    with pytest.MonkeyPatch.context() as mp:
        seen = _checked(mp)
        for scenario, seed in CASES:
            model = ChipWarModel(scenario, rng=seed)
            try:
                model.run()
            finally:
                forget(model)
        totals.update(seen)
    assert totals["differ"] == 0
    assert totals["tell, a vendor without orders"] > 0
    assert totals["lost, some"] > 0 and totals["lost, retired"] > 0


@pytest.mark.parametrize("odd", ["none", "size", "no orders"])
def test_tell_demand_with_a_missing_or_odd_mix(odd: str) -> None:
    """A vendor without a mix (the kernel's first mix), with a mix of another catalogue's
    size (record_demand_all's way) or without orders (its mix kept): as the reference."""
    model = ChipWarModel("historical", rng=1, months=12)
    try:
        model.run()
        vendors = model.vendors
        if odd == "none":
            vendors[1].mix = None
        elif odd == "size":
            vendors[1].mix = np.ones(3)
        units = np.array([1000.0, 0.0 if odd == "no orders" else 2000.0, 0.0, 500.0])
        capacity = np.array([v.capacity for v in vendors])
        asked = model.books.asked_per_chip.copy()
        kept = vendors[1].mix
        before = _vendor_state(vendors)
        vendor.record_demand_all_reference(vendors, units.tolist(), capacity.tolist(), asked)
        want = _vendor_state(vendors)
        _restore(vendors, before)
        vendor.tell_demand(vendors, units, capacity, asked)
        assert _same_state(_vendor_state(vendors), want)
        if odd == "no orders":
            assert vendors[1].mix is kept and vendors[2].mix is before[2][2]
    finally:
        forget(model)


@pytest.mark.parametrize(("scenario", "seed"), CASES[:3])
def test_vendors_on_the_references_walk_in_step(scenario: str, seed: int) -> None:
    """Vendors whose month runs the numpy references keep every number of those on the
    kernels, month by month: their state, the HBM supply, the view's capacities and prices."""
    fast = ChipWarModel(scenario, rng=seed, months=MONTHS)
    slow = ChipWarModel(scenario, rng=seed, months=MONTHS)
    slow._tell_vendors_demand = slow._tell_vendors_demand_reference  # type: ignore[method-assign]
    slow._draw_hbm_stockpile = slow._draw_hbm_stockpile_reference  # type: ignore[method-assign]
    for v in slow.vendors:
        v.wafer_capacity = v.wafer_capacity_reference  # type: ignore[method-assign]
        v._lost = v._lost_reference  # type: ignore[method-assign]
        v.preorders = v.preorders_reference  # type: ignore[method-assign]
    try:
        for _ in range(MONTHS):
            fast.step()
            slow.step()
            assert fast.hbm == slow.hbm
            for a, b in zip(fast.vendors, slow.vendors, strict=True):
                assert a.state() == b.state()
                assert _same(a.free_before, b.free_before)
            assert _same(fast.view.vendor_capacity, slow.view.vendor_capacity)
            assert _same(fast.view.price, slow.view.price)
            assert fast.chips.ids == slow.chips.ids
            assert _same(fast.chips.available_from, slow.chips.available_from)
        assert fast.results().equals(slow.results())
        assert [e["text"] for e in fast.events] == [e["text"] for e in slow.events]
    finally:
        forget(fast)
        forget(slow)


def test_log_value_per_dollar_is_numpys_and_follows_the_contents() -> None:
    """The pre-orders' np.log(value / price), kept by contents: a real month's view (zero
    values: -inf, silently), the same contents in other arrays (the kept answer), then one
    number moved (made anew), each against numpy's division and log made here."""

    def fresh(value: np.ndarray, price: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(value / price[None, :])

    model = ChipWarModel("historical", rng=1, months=30)
    try:
        model.run()
        value, price = model.view.purchase_value, model.view.price
        assert (value == 0).any()  # the -inf branch is reached
        got = vendor.log_value_per_dollar(value, price)
        assert not got.flags.writeable and _same(got, fresh(value, price))
        assert vendor.log_value_per_dollar(value.copy(), price.copy()) is got
        moved = price.copy()
        moved[int(np.flatnonzero(value[0] > 0)[0])] *= 1.5
        again = vendor.log_value_per_dollar(value, moved)
        assert again is not got and _same(again, fresh(value, moved))
        assert not _same(again, got)
        assert _same(vendor.log_value_per_dollar(value, price), fresh(value, price))
    finally:
        forget(model)


@pytest.mark.parametrize("odd", ["none", "no orders", "size", "stray chip", "order", "int"])
def test_tell_orders_with_a_missing_or_odd_mix(odd: str) -> None:
    """tell_orders sums the units in its kernel: a vendor without a mix or without orders,
    as the reference on bincount's units; a mix of another size, a chip in use of no vendor
    listed, vendors out of index order or whole-number orders: False, nobody told."""
    model = ChipWarModel("historical", rng=1, months=12)
    try:
        model.run()
        vendors, chips = list(model.vendors), model.chips
        asked = model.books.asked_per_chip.copy()
        if odd == "none":
            vendors[1].mix = None
        elif odd == "no orders":
            asked[chips.vendor == 1] = 0.0
        elif odd == "size":
            vendors[1].mix = np.ones(3)
        elif odd == "stray chip":
            chips.vendor[int(np.flatnonzero(chips.used)[-1])] = len(vendors)
        elif odd == "order":
            vendors = vendors[::-1]
        elif odd == "int":
            asked = asked.astype(np.int64)
        capacity = np.array([v.capacity for v in model.vendors])
        before = _vendor_state(vendors)
        told = vendor.tell_orders(vendors, capacity, asked)
        if odd in ("size", "stray chip", "order", "int"):
            assert told is False
            assert _same_state(_vendor_state(vendors), before)
            return
        got = _vendor_state(vendors)
        _restore(vendors, before)
        units = np.bincount(chips.vendor[chips.used], weights=asked[chips.used], minlength=4)
        vendor.record_demand_all_reference(vendors, units.tolist(), capacity.tolist(), asked)
        assert told is True and _same_state(got, _vendor_state(vendors))
        if odd == "no orders":
            assert units[1] == 0.0 and vendors[1].mix is before[1][2]
    finally:
        forget(model)
