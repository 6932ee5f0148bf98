"""The arithmetic of domestic chips: dies, wafers, yield, HBM stacks, bounded growth."""

from __future__ import annotations

import numpy as np

from game.core.fab import (
    die_yield,
    die_yield_into,
    dies_per_package,
    gross_dies_per_wafer,
    growth_factor,
    hbm_stacks_per_chip,
    learn_defects,
    logistic_step,
    wafers_per_chip,
)


def test_a_package_larger_than_the_reticle_is_two_dies() -> None:
    """The 910C (1,330 mm2) is two 910B-class dies; a 910B (665 mm2) is one."""
    np.testing.assert_array_equal(dies_per_package(np.array([456.0, 665.0, 1330.0])), [1, 1, 2])


def test_a_two_die_package_takes_twice_the_wafers() -> None:
    one, two = wafers_per_chip(np.array([665.0, 1330.0]), 0.14)
    assert two == 2 * one


def test_a_910b_die_gives_about_eighty_candidates_and_forty_percent_good() -> None:
    """The usual estimate: ~80 whole 665 mm2 dies on a 300 mm wafer; at 0.14 defects per cm2
    about 40% of them work (the yield the FT reported for the 910C in February 2025)."""
    assert 78 < gross_dies_per_wafer(np.array(665.0)) < 83
    assert 0.38 < die_yield(np.array(665.0), 0.14) < 0.42
    # a large die suffers more from the same defects than a phone chip
    assert die_yield(np.array(100.0), 0.14) > 0.85


def test_hbm_stacks_follow_memory() -> None:
    np.testing.assert_array_equal(hbm_stacks_per_chip(np.array([64.0, 128.0, 80.0]), 16), [4, 8, 5])


def test_growth_never_beats_its_physical_best_nor_turns_negative() -> None:
    assert growth_factor(0.0, 0.9) == 1.0
    assert abs(growth_factor(0.9, 0.0) - 0.1) < 1e-12
    assert growth_factor(1.5, 0.0) == 0.0
    # more boost never means less growth
    factors = [growth_factor(0.3, b) for b in np.linspace(0.0, 1.0, 11)]
    assert np.all(np.diff(factors) >= 0)


def test_logistic_growth_stays_under_its_ceiling_and_runs_backwards() -> None:
    x = 45_000.0
    for _ in range(12 * 30):
        x = logistic_step(x, 200_000.0, np.log(2.0), 1.0)
    assert 199_000.0 < x <= 200_000.0
    back = logistic_step(45_000.0, 200_000.0, np.log(1.6), -39.0)
    assert abs(logistic_step(back, 200_000.0, np.log(1.6), 39.0) - 45_000.0) < 1e-6


def test_defects_fall_toward_their_floor() -> None:
    d = 0.3
    for _ in range(120):
        d = learn_defects(d, 0.07, 0.5, 1.0)
    assert 0.07 < d < 0.08


def test_die_yield_into_writes_die_yields_numbers() -> None:
    """The same numbers bit for bit as die_yield (the catalogue's dies, odd sizes and a
    defect density of every magnitude), in the array given, which is returned."""
    rng = np.random.default_rng(7)
    dies = np.concatenate([[0.0, 1.0, 858.0, 1330.0 / 2], rng.uniform(1.0, 2000.0, 45)])
    out = np.empty(dies.shape)
    for defects in (0.0, 1e-9, 0.0917, 0.14, 0.3, 2.5, 1e3):
        got = die_yield_into(dies, defects, out)
        assert got is out
        assert np.array_equal(got.view(np.int64), die_yield(dies, defects).view(np.int64))
