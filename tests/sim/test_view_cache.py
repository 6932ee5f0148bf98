"""What the market view keeps between derivations (game/sim/market_view.py) is keyed on every
input it reads: the levers' stamp moves with each change, the catalogue's revision with each new
chip, chips on sale with each release; kept arrays are read-only; and the all-vendors mix
average is ChipVendor.per_chip's to the last bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from agents.vendor import per_chip_all
from game.config.commands import PolicyChange
from game.core.market_view import MarketView
from game.sim.market_view import derive_market_view
from game.sim.model import ChipWarModel


def assert_view_equal(a: MarketView, b: MarketView) -> None:
    for f in dataclasses.fields(MarketView):
        np.testing.assert_array_equal(
            np.asarray(getattr(a, f.name)), np.asarray(getattr(b, f.name)), err_msg=f.name
        )


def test_the_levers_stamp_moves_with_every_change() -> None:
    model = ChipWarModel("historical", rng=1)
    policy = model.policy
    s0 = policy.stamp()
    policy.set(PolicyChange("us", "enforcement", 2.0))
    s1 = policy.stamp()
    assert s1 != s0
    policy.by_target.setdefault("risk_appetite", {})["new_lab"] = 0.5  # a direct seeding
    s2 = policy.stamp()
    assert s2 != s1
    policy.load_plain(policy.to_plain())
    assert policy.stamp() != s2


def test_chips_on_sale_follow_a_release_written_in_place() -> None:
    model = ChipWarModel("historical", rng=1)
    chips = model.chips
    template = int(np.flatnonzero(chips.available_from[: chips.n_catalogue] > 10**6)[0])
    before = chips.on_sale(model.month)
    assert not before[template]
    with pytest.raises(ValueError):
        before[template] = True  # shared by every caller: read-only
    chips.available_from[template] = model.month
    assert chips.on_sale(model.month)[template]
    revision = chips.revision
    chips.add_variant(template, "X-C1", "X", 1.0, 1.0, 1.0, model.month)
    assert chips.revision == revision + 1


def test_a_kept_view_matches_a_fresh_one_month_after_month() -> None:
    model = ChipWarModel("historical", rng=2)
    for _ in range(40):
        model.step()
        view = model.view
        fresh = derive_market_view(
            model,
            MarketView(
                lab_pool_flops=view.lab_pool_flops, lab_cluster_flops=view.lab_cluster_flops
            ),
        )
        assert_view_equal(view, fresh)
    with pytest.raises(ValueError):
        model.view.country_access[0, 0] = 0.5  # kept arrays are read-only


def test_per_chip_all_is_each_vendors_per_chip() -> None:
    model = ChipWarModel("historical", rng=3)
    rng = np.random.default_rng(0)
    for month in range(30):
        values = rng.random(len(model.chips)) * 100
        if month == 5:
            model.vendors[1].mix = None  # a vendor without orders yet
        expected = np.array([v.per_chip(values) for v in model.vendors])
        got = per_chip_all(model.vendors, model.chips, model.month, values)
        assert np.array_equal(got, expected)
        model.step()


def test_the_stockpile_draws_terms_are_the_catalogues_now() -> None:
    """stockpile_draw_terms takes China's vendors and the stacks per chip from the view's
    rules while they are of the catalogue as it is: the numbers made anew, month after month
    and after a chip is added without a derivation (the rules then stand aside)."""
    from game.core import fab
    from game.sim.market_view import _per_chip_of_mix, _rules_of_catalogue, stockpile_draw_terms

    model = ChipWarModel("historical", rng=4)

    def assert_terms_fresh() -> None:
        china, per_chip = stockpile_draw_terms(model)
        stacks = fab.hbm_stacks_per_chip(model.chips.memory_gb, model.p.hbm_gb_per_stack)
        assert np.array_equal(china, [v.domestic_china for v in model.vendors])
        assert china.dtype == np.bool_
        assert np.array_equal(per_chip, _per_chip_of_mix(model, stacks))

    for _ in range(30):
        model.step()
        assert _rules_of_catalogue(model) is not None
        assert_terms_fresh()
    chips, kept = model.chips, _rules_of_catalogue(model)
    assert kept is not None
    parent = int(np.flatnonzero(chips.on_sale(model.month))[0])
    new = chips.add_variant(parent, "X-C1", "X", 1.0, 1.0, 1.0, model.month)
    chips.memory_gb[new] = 500.0  # more stacks than its parent's, in its vendor's mix
    vendor = model.vendors[int(chips.vendor[new])]
    vendor.mix = np.ones(len(chips))
    assert _rules_of_catalogue(model) is None
    assert_terms_fresh()
    # the kept rules' stacks would have told another number
    _, per_chip = stockpile_draw_terms(model)
    assert not np.array_equal(per_chip, _per_chip_of_mix(model, kept.stacks))


def test_the_route_risk_is_kept_with_the_rules_routes_part() -> None:
    """The routes' risk is kept while the rules' _routes part stands (a new chip or a lever
    the part does not read keeps it) and made anew when a lever it reads moves."""
    model = ChipWarModel("historical", rng=5)
    model.run(12)
    view = model.view
    risk = view.route_risk
    chips = model.chips
    parent = int(np.flatnonzero(chips.on_sale(model.month))[0])
    chips.add_variant(parent, "X-C1", "X", 1.0, 1.0, 1.0, model.month)
    model.refresh_market_view()
    assert model.view.route_risk is risk  # a new chip: the same part, the same risk
    model.policy.set(PolicyChange("us", "enforcement", 3.0))
    model.refresh_market_view()
    fresh = derive_market_view(model, MarketView())
    assert model.view.route_risk is not risk
    assert np.array_equal(model.view.route_risk, fresh.route_risk)
    assert not np.array_equal(model.view.route_risk, risk)  # the lever moved the risk
