"""China's domestic chips are bounded by what exists: SMIC's wafers and their yield, and the HBM
stacks each chip needs (the stockpile bought before the control, and CXMT's output).

Before this model, Huawei's capacity compounded at 1.8x a year whatever SMIC could make (13.8
million chips in 2030 at a subsidy of 0.6), and the HBM cap compared a month's output with the
whole stockpile, so it never bound and the stockpile's size changed nothing."""

from __future__ import annotations

import numpy as np
import pytest

from game.core.fab import hbm_stacks_per_chip as stacks_of
from game.core.fab import wafers_per_chip
from game.sim.market_view import hbm_stacks_per_chip, vendor_capacity
from game.sim.model import ChipWarModel

SUBSIDIES = (0.0, 0.3, 0.6, 0.8)  # 0.8 is the lever's top (policies/levers.yaml)
SEEDS = (1, 2)


def _run(overrides: dict, seed: int = 1, scenario: str = "historical") -> ChipWarModel:
    model = ChipWarModel(scenario, rng=seed, overrides=overrides)
    model.run()
    return model


def _domestic_h100e(model: ChipWarModel) -> float:
    """China's installed compute from its own vendors at the end (2030-12), H100e."""
    df = model.results()
    end = df[df.bloc == "china"].iloc[-1]
    assert end.date == "2030-12"
    return float(end.compute_h100e * end.domestic_share)


def _huawei_per_year(model: ChipWarModel) -> dict[int, float]:
    sales = model.sales()
    mine = sales[sales.vendor == "huawei"]
    return mine.groupby(mine.date.str[:4].astype(int)).units.sum().to_dict()


@pytest.fixture(scope="module")
def by_subsidy() -> dict[float, list[ChipWarModel]]:
    return {s: [_run({"domestic_subsidy": s}, seed) for seed in SEEDS] for s in SUBSIDIES}


def test_more_subsidy_never_lowers_domestic_compute(by_subsidy) -> None:
    """A subsidy turns more of SMIC's wafers to AI chips and speeds SMIC's and CXMT's growth; a
    deeper one spends the HBM stockpile sooner, but on chips still installed in 2030."""
    for k, _ in enumerate(SEEDS):
        compute = [_domestic_h100e(by_subsidy[s][k]) for s in SUBSIDIES]
        assert all(b >= a for a, b in zip(compute, compute[1:], strict=False)), compute
        assert compute[-1] > 1.5 * compute[0], compute


def test_domestic_output_never_exceeds_what_smics_wafers_can_make(by_subsidy) -> None:
    """Whatever the subsidy, Huawei makes no more chips a year than SMIC's whole 7 nm-class
    ceiling could, at the largest AI share and the best yield, in its smallest chip."""
    for runs in by_subsidy.values():
        model = runs[0]
        p, chips = model.p, model.chips
        huawei = chips.used & (chips.vendor == model.vendor_ids.index("huawei"))
        fewest = wafers_per_chip(chips.die_area[huawei], p.smic_defects_floor).min()
        bound = 12 * p.smic_wafer_ceiling * p.ascend_wafer_share_max / fewest
        made = _huawei_per_year(model)
        assert max(made.values()) <= bound, (bound, made)


def test_tighter_fab_tool_controls_lower_domestic_output() -> None:
    """Tool controls slow SMIC's wafer growth and its yield learning (and CXMT's HBM)."""
    runs = [_run({"fab_tool_controls": f}) for f in (0.0, 0.5, 1.0)]
    compute = [_domestic_h100e(m) for m in runs]
    made = [sum(_huawei_per_year(m).values()) for m in runs]
    wafers = [m.vendors[m.vendor_ids.index("huawei")].wafers for m in runs]
    assert compute[0] > compute[1] > compute[2], compute
    assert made[0] > made[1] > made[2], made
    assert wafers[0] > wafers[1] > wafers[2], wafers


def test_an_hbm_control_before_the_stockpile_starves_domestic_chips() -> None:
    """The stockpile was bought while HBM exports were open: an HBM control from October 2022
    leaves only CXMT's output, and Huawei's 2023-2024 output falls by more than half. With a
    stockpile handed over whatever the control's date, the two runs made the same chips."""
    then = _huawei_per_year(_run({}))
    early = _huawei_per_year(_run({"hbm_controls": True}))
    for year in (2023, 2024):
        assert early[year] < 0.5 * then[year], (year, early[year], then[year])


def test_a_smaller_hbm_stockpile_means_fewer_domestic_chips() -> None:
    """The stockpile matters: at the low end of its range China ends 2030 with less domestic
    compute than at the high end (before, `hbm_stockpile_chips` changed nothing)."""
    low = _run({"hbm_stockpile_stacks": 5_000_000})
    high = _run({"hbm_stockpile_stacks": 14_000_000})
    assert _domestic_h100e(low) < 0.8 * _domestic_h100e(high)


def test_the_hbm_cap_compares_stacks_a_month_with_stacks_needed_a_month() -> None:
    """Mid-2025, under the HBM control: a stockpile worth two months of the stacks China's
    vendors' capacity needs is not two months' worth to spend in one; they spread it over
    hbm_stockpile_runway_months, so the cap binds and the chips it allows need exactly the
    stacks available. The old cap compared a month's output with the whole stockpile and
    let all of it through."""
    model = ChipWarModel("historical", rng=1, months=33)
    model.run()
    assert model.date == "2025-06" and model.policy.get("hbm_controls")
    china = np.array([v.domestic_china for v in model.vendors])
    stacks = hbm_stacks_per_chip(model)
    wafer_cap = np.array([v.capacity for v in model.vendors])
    need = float((wafer_cap * stacks)[china].sum())
    model.hbm.stockpile = 2.0 * need
    model.hbm.domestic = 0.0
    cap = vendor_capacity(model)
    assert (cap[china] < wafer_cap[china]).all()
    used = float((cap * stacks)[china].sum())
    assert used == pytest.approx(2.0 * need / model.p.hbm_stockpile_runway_months)
    # with stacks to spare, the wafers bind instead
    model.hbm.stockpile = 1e12
    np.testing.assert_allclose(vendor_capacity(model)[china], wafer_cap[china])


def test_a_910c_needs_eight_stacks_and_two_dies() -> None:
    model = ChipWarModel("historical", rng=1, months=1)
    chips, p = model.chips, model.p
    c, b = chips.index("Ascend910C"), chips.index("Ascend910B")
    stacks = stacks_of(chips.memory_gb[[b, c]], p.hbm_gb_per_stack)
    np.testing.assert_array_equal(stacks, [4, 8])
    w = wafers_per_chip(chips.die_area[[b, c]], p.smic_defects_2025)
    assert w[1] == pytest.approx(2 * w[0])
