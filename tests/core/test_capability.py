"""Training compute from a lab's pools: the run is built in one software ecosystem."""

from __future__ import annotations

import numpy as np
import pytest

from game.core.capability import compute_scarcity, pool_flops, training_flops


def test_pools_split_a_fleet_by_ecosystem() -> None:
    held = np.array([[2.0, 1.0, 4.0]])  # chips of three kinds
    flops = np.array([10.0, 5.0, 1.0])
    ecosystem = np.array([0, 1, 0])
    np.testing.assert_allclose(pool_flops(held, flops, ecosystem, 3), [[24.0, 5.0, 0.0]])


def test_a_mixed_fleet_whose_largest_pool_holds_the_run_loses_nothing() -> None:
    """70% CUDA, 30% ROCm: a run of 12% of the fleet fits in the CUDA pool; the ROCm chips
    serve. The old whole-fleet penalty took 0.3 x 0.6 = 18% off the run."""
    pools = np.array([[70.0, 30.0], [100.0, 0.0]])
    np.testing.assert_allclose(training_flops(pools, 0.12, 0.3), [12.0, 12.0])


def test_only_the_part_of_a_run_too_big_for_one_pool_mixes() -> None:
    pools = np.array([[40.0, 30.0, 30.0], [50.0, 50.0, 0.0], [0.0, 0.0, 0.0]])
    # 50 wanted, 40 in the largest pool: the cluster is 80/20, mixed = 0.4
    run = training_flops(pools, 0.5, 0.3)
    assert run[0] == pytest.approx(50.0 * (1 - 0.3 * 0.4))
    assert run[1] == pytest.approx(50.0)  # exactly fits
    assert run[2] == 0.0
    # a run of the whole fleet split evenly between two ecosystems loses the whole penalty
    assert training_flops(np.array([[50.0, 50.0]]), 1.0, 0.3)[0] == pytest.approx(70.0)


def test_scarcity_is_compute_held_per_dollar_against_the_best_supplied_bloc() -> None:
    flops = np.array([100.0, 50.0, 10.0, 40.0, 7.0])
    budget = np.array([10.0, 10.0, 4.0, 4.0, 1.0])
    counted = np.array([True, True, True, True, False])  # the last is not a frontier lab
    bloc = np.array([0, 0, 1, 1, 2])
    # bloc 0: 150 / 20 = 7.5 per dollar; bloc 1: 50 / 8 = 6.25; bloc 2 has no counted lab
    np.testing.assert_allclose(
        compute_scarcity(flops, budget, counted, bloc, 3), [0.0, 1 - 6.25 / 7.5, 0.0]
    )
    # a bloc holding nothing is wholly scarce; if nobody holds anything, nobody is
    one_each = (np.ones(2), np.ones(2, bool), np.arange(2), 2)
    np.testing.assert_allclose(compute_scarcity(np.array([5.0, 0.0]), *one_each), [0.0, 1.0])
    np.testing.assert_allclose(compute_scarcity(np.zeros(2), *one_each), [0.0, 0.0])
