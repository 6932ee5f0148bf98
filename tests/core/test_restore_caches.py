"""What building a model keeps per process, so that a projection fan's 32 restores are cheap,
gives what building anew gives, and hands each model its own arrays: the catalogue and the
porting steps kept by world, the scenarios rebuilt from plain data kept by their pickle, and
the ledger's running totals counted in one compiled pass (Ledger.recount against
recount_reference on real months)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from game.config import scenario as scenario_module
from game.config.scenario import Scenario, load_scenario
from game.config.world import default_world_data
from game.core import catalogue, porting
from game.core.catalogue import ChipTable
from game.core.ledger import Ledger
from game.core.porting import PortingTable
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from tests.agents.kernel_cases import CASES


def _assert_same_attributes(a: object, b: object) -> None:
    assert a.__dict__.keys() == b.__dict__.keys()
    for name, x in a.__dict__.items():
        y = b.__dict__[name]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.flags.writeable == y.flags.writeable, name
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert type(x) is type(y) and x == y, name


def _fresh_chips(world: Any, vendor_ids: list[str]) -> ChipTable:
    fresh = ChipTable.__new__(ChipTable)
    fresh._build(world, vendor_ids)
    return fresh


def test_a_kept_catalogue_is_a_fresh_one_whatever_a_model_did_to_its_own() -> None:
    world = default_world_data()
    vendor_ids = [v.id for v in world.vendors]
    first = ChipTable(world, vendor_ids)
    _assert_same_attributes(first, _fresh_chips(world, vendor_ids))
    # what a run writes: a variant, a release, a changed price
    parent = first.index("H100")
    first.add_variant(parent, "H100-x", "H100 x", 100.0, 400.0, 20000.0, 24300)
    first.available_from[:] = 0
    first.price *= 2.0
    second = ChipTable(world, vendor_ids)
    _assert_same_attributes(second, _fresh_chips(world, vendor_ids))
    for name, value in first.__dict__.items():
        if isinstance(value, np.ndarray | list):
            assert value is not second.__dict__[name], name
        if isinstance(value, np.ndarray):
            assert not np.shares_memory(value, second.__dict__[name]), name
    kept = catalogue._BUILT[(id(world), tuple(vendor_ids))][1]
    assert all(
        not np.shares_memory(v, second.__dict__[k])
        for k, v in kept.__dict__.items()
        if isinstance(v, np.ndarray)
    )


def test_the_catalogues_kept_are_bounded_and_by_world_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalogue, "_BUILT", {})
    world = default_world_data()
    vendor_ids = [v.id for v in world.vendors]
    for k in range(catalogue._BUILT_MAX + 3):
        ChipTable(world, vendor_ids[k % 2 :] + vendor_ids[: k % 2])
        assert len(catalogue._BUILT) <= catalogue._BUILT_MAX
    other = world.model_copy()  # an equal world, another object: built for itself
    table = ChipTable(other, vendor_ids)
    assert catalogue._BUILT[(id(other), tuple(vendor_ids))][0] is other
    _assert_same_attributes(table, _fresh_chips(world, vendor_ids))


def test_a_kept_porting_table_is_a_fresh_one() -> None:
    world = default_world_data()
    ecosystems = list(world.ecosystems)
    for n_labs in (len(world.labs), len(world.labs) + 4):
        first = PortingTable(world.labs, n_labs, ecosystems)
        fresh = PortingTable.__new__(PortingTable)
        fresh._build(world.labs, n_labs, ecosystems)
        fresh._kept = None
        _assert_same_attributes(first, fresh)
        first.months[:] = 0  # a model's own: writing it leaves the next model's alone
        second = PortingTable(world.labs, n_labs, ecosystems)
        _assert_same_attributes(second, fresh)
        assert not second.tables.flags.writeable  # shared, so never written
        assert second.tables.shape[1] == n_labs
        kept = porting._BUILT[(id(world.labs), n_labs, tuple(ecosystems))][1]
        assert not np.shares_memory(kept.months, second.months)
        np.testing.assert_array_equal(kept.months, fresh.months)


def test_a_scenario_from_plain_is_kept_by_its_exact_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario_module, "_FROM_PLAIN", {})
    plain = load_scenario("historical").to_plain()
    first = Scenario.from_plain(plain)
    assert first == Scenario._from_plain(plain)
    assert Scenario.from_plain(dict(plain)) is first
    # values equal in Python but not of one type are other scenarios
    as_int = dict(plain, parameters={"budget_scale": 1})
    as_float = dict(plain, parameters={"budget_scale": 1.0})
    as_bool = dict(plain, parameters={"budget_scale": True})
    kinds = [type(Scenario.from_plain(d).parameters["budget_scale"]) for d in (as_int, as_float)]
    assert kinds == [int, float]
    assert type(Scenario.from_plain(as_bool).parameters["budget_scale"]) is bool
    # a changed schedule is another scenario
    moved = dict(plain, schedule=[dict(s) for s in plain["schedule"]])
    moved["schedule"][0]["date"] = "2030-01"
    assert Scenario.from_plain(moved).schedule[0].month != first.schedule[0].month
    assert Scenario.from_plain(moved) == Scenario._from_plain(moved)
    monkeypatch.setattr(scenario_module, "_FROM_PLAIN_MAX", 2)
    for year in range(2023, 2028):
        Scenario.from_plain(dict(plain, end=f"{year}-06"))
        assert len(scenario_module._FROM_PLAIN) <= 2


def test_an_empty_ledger_has_the_totals_recount_finds() -> None:
    led = Ledger(4, 6, 5)
    by_prov, held = led._by_prov, led._held
    led.recount_reference()
    for kept, counted in ((by_prov, led._by_prov), (held, led._held)):
        assert kept.dtype == counted.dtype and kept.flags.c_contiguous
        np.testing.assert_array_equal(kept, counted)


@pytest.mark.parametrize("scenario,seed", CASES[:3])
def test_recount_is_recount_reference_on_real_months(scenario: str, seed: int) -> None:
    model = ChipWarModel(scenario, rng=seed, months=40)
    try:
        for _ in range(40):
            model.step()
            led = model.ledger
            led.recount()
            fast = (led._by_prov.copy(), led._held.copy())
            led.recount_reference()
            for a, b in zip(fast, (led._by_prov, led._held), strict=True):
                assert a.dtype == b.dtype and a.shape == b.shape and a.flags.c_contiguous
                np.testing.assert_array_equal(a, b)
            assert not led.totals_error()
        assert model.ledger.stock.any()
    finally:
        forget(model)


def test_each_model_has_its_own_geography_as_read_from_the_world() -> None:
    from game.sim import model as model_module

    world = default_world_data()
    first = ChipWarModel("historical", rng=1, months=3)
    first.customs[:] = -1.0  # what a model may write is its own
    first.country_ids.append("atlantis")
    second = ChipWarModel("historical", rng=1, months=3)
    try:
        fresh = model_module._read_geography(world)
        assert fresh.keys() == set(model_module._GEOGRAPHY[id(world)][1])
        for name, value in fresh.items():
            mine = getattr(second, name)
            if isinstance(value, np.ndarray):
                assert mine.dtype == value.dtype and not np.shares_memory(mine, first.customs)
                np.testing.assert_array_equal(mine, value, err_msg=name)
            else:
                assert type(mine) is type(value) and mine == value, name
    finally:
        forget(first, second)
