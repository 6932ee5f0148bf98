"""The market view is derived in one place and is never stale between months: after a player's
command, a facilitator's shock or a restore, what the UI and the next month read is what the
state now gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from game.config.commands import PolicyChange
from game.config.events import default_events
from game.core.market_view import MarketView
from game.sim.market_view import derive_market_view
from game.sim.model import ChipWarModel
from game.sim.state import fork


def assert_fresh(model: ChipWarModel) -> None:
    fresh = derive_market_view(
        model,
        MarketView(
            lab_pool_flops=model.view.lab_pool_flops,
            lab_cluster_flops=model.view.lab_cluster_flops,
        ),
    )
    for f in dataclasses.fields(MarketView):
        a, b = getattr(model.view, f.name), getattr(fresh, f.name)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=f.name)


@pytest.fixture(scope="module")
def midgame() -> ChipWarModel:
    model = ChipWarModel("historical", rng=3)
    model.run(14)
    return model


@pytest.mark.parametrize(
    "change",
    [
        PolicyChange("us", "destination", "embargoed", "china"),
        PolicyChange("us", "enforcement", 3.0),
        PolicyChange("us", "export_rule", "oct2022"),
        PolicyChange("china", "mineral_controls", 1.0),
        PolicyChange("transit", "transit_customs", 2.5, "malaysia"),
        PolicyChange("us", "entity_list", True, "deepseek"),
    ],
)
def test_a_command_between_months_shows_at_once(
    midgame: ChipWarModel, change: PolicyChange
) -> None:
    model = fork(midgame)
    before = model.view.country_access.copy(), model.view.price.copy()
    model.apply(change)
    assert_fresh(model)
    if change.lever == "destination":  # and it did change what the market allows
        assert not np.array_equal(before[0], model.view.country_access)


def test_a_shock_and_a_month_leave_the_view_fresh(midgame: ChipWarModel) -> None:
    model, calm = fork(midgame), fork(midgame)
    model.inject(default_events()["customs_crackdown"])
    assert_fresh(model)
    model.step()
    calm.step()
    assert_fresh(model)  # a month moved the gray markup and budgets after the view was made
    assert (model.view.route_risk >= calm.view.route_risk - 1e-12).all()
    assert (model.view.route_risk > calm.view.route_risk + 1e-9).any()  # the shock is in it


def test_a_restored_world_derives_its_view_again(midgame: ChipWarModel) -> None:
    copy = fork(midgame)
    assert_fresh(copy)
    for f in dataclasses.fields(MarketView):
        np.testing.assert_array_equal(
            np.asarray(getattr(copy.view, f.name)),
            np.asarray(getattr(midgame.view, f.name)),
            err_msg=f.name,
        )
