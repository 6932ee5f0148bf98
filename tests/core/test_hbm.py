"""China's HBM supply: a stockpile put aside while exports are open, and CXMT's output."""

from __future__ import annotations

import pytest

from game.config.world import default_world_data
from game.core.hbm import HbmSupply
from game.core.params import Params


@pytest.fixture()
def p() -> Params:
    return Params(default_world_data().parameter_values())


def test_the_stockpile_grows_only_while_exports_are_open_and_up_to_what_was_bought(p) -> None:
    hbm = HbmSupply(stockpile=0.0, domestic=0.0)
    hbm.grow(p, controlled=True, fab_controls=0.0, subsidy=0.0, first=True)
    assert hbm.stockpile == 0.0  # a control from the first month leaves nothing put aside
    for _ in range(int(p.hbm_stockpile_months) + 12):
        hbm.grow(p, controlled=False, fab_controls=0.0, subsidy=0.0, first=True)
    assert hbm.stockpile == pytest.approx(p.hbm_stockpile_stacks)


def test_controls_slow_cxmt_and_a_subsidy_speeds_it(p) -> None:
    grown = {}
    for name, controlled, fab, subsidy in (("open", False, 0.0, 0.0), ("shut", True, 1.0, 0.0)):
        hbm = HbmSupply(stockpile=0.0, domestic=1000.0)
        for _ in range(12):
            hbm.grow(p, controlled, fab, subsidy, first=False)
        grown[name] = hbm.domestic
    assert 1000.0 < grown["shut"] < grown["open"]


def test_the_stockpile_gives_only_what_cxmt_does_not(p) -> None:
    hbm = HbmSupply(stockpile=100.0, domestic=30.0)
    assert hbm.available(10.0) == pytest.approx(40.0)
    hbm.draw(25.0)
    assert hbm.stockpile == 100.0  # CXMT covered it
    hbm.draw(50.0)
    assert hbm.stockpile == pytest.approx(80.0)
    hbm.draw(1e9)
    assert hbm.stockpile == 0.0
