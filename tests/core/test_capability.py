"""Training compute from a lab's chips: the run is built on one cluster at one site."""

from __future__ import annotations

import numpy as np
import pytest

from game.core.capability import (
    RunningCycleMean,
    RunningLeaderPath,
    bloc_median,
    compute_scarcity,
    cycle_mean,
    gap_months,
    largest_cluster,
    leader_path,
    measure_compute,
    measure_compute_reference,
    pool_flops,
    released_foreign,
    site_counts,
    training_flops,
)
from game.core.ledger import SITE_OF_PROVENANCE, SITES, SMUGGLED


def test_pools_split_a_fleet_by_ecosystem() -> None:
    held = np.array([[2.0, 1.0, 4.0]])  # chips of three kinds
    flops = np.array([10.0, 5.0, 1.0])
    ecosystem = np.array([0, 1, 0])
    np.testing.assert_allclose(pool_flops(held, flops, ecosystem, 3), [[24.0, 5.0, 0.0]])


NO_CAP = np.full(2, np.inf)
HOME, ABROAD = 0, 1


def _sites(*cells: tuple[int, int, float], n_chips: int = 3) -> np.ndarray:
    """One holder's [site, chip] chip counts (home, abroad) from (site, chip, count) cells."""
    out = np.zeros((1, 2, n_chips))
    for site, chip, count in cells:
        out[0, site, chip] = count
    return out


def _cluster(
    counts: np.ndarray,
    penalty: float,
    site_cap: np.ndarray = NO_CAP,
    contraband: tuple[float, float, float] = (0.0, 0.0, 0.0),
    contraband_cap: float = np.inf,
) -> float:
    """Largest cluster with one FLOP/s a chip, chips 0 and 1 in ecosystem 0, chip 2 in 1."""
    return float(
        largest_cluster(
            counts,
            site_cap,
            np.array([contraband]),
            contraband_cap,
            np.ones(3),
            np.array([0, 0, 1]),
            2,
            penalty,
        )[0]
    )


def test_sites_group_chips_by_where_their_provenance_puts_them() -> None:
    # one holder, two chip models, provenances legal, compliant, domestic, smuggled, rented
    by_prov = np.array([[[1, 2, 0, 3, 4], [0, 0, 5, 0, 0]]])
    sites, contraband = site_counts(by_prov, SITE_OF_PROVENANCE, len(SITES), SMUGGLED)
    np.testing.assert_allclose(sites[0], [[3.0, 5.0], [4.0, 0.0]])
    np.testing.assert_allclose(contraband[0], [3.0, 0.0])


def test_one_generation_at_home_is_one_cluster() -> None:
    assert _cluster(_sites((HOME, 0, 100.0)), 0.3) == pytest.approx(100.0)


def test_a_fleet_pieced_together_trains_on_its_largest_piece() -> None:
    """The same 100 chips held at home and rented abroad train a run half the size of one
    cluster's; two software ecosystems at one site do not make one cluster either."""
    assert _cluster(_sites((HOME, 0, 50.0), (ABROAD, 0, 50.0)), 0.3) == pytest.approx(50.0)
    assert _cluster(_sites((HOME, 0, 60.0), (HOME, 2, 40.0)), 0.0) == 60.0


def test_older_and_newer_chips_at_one_site_mix_at_a_cost() -> None:
    # 50/50 in one ecosystem: mixing loses the whole penalty and still beats either half
    even = _sites((HOME, 0, 50.0), (HOME, 1, 50.0))
    assert _cluster(even, 0.3) == pytest.approx(70.0)
    # at a penalty of one half or more, a lab keeps to its larger model
    assert _cluster(even, 0.6) == pytest.approx(50.0)
    # 80/20: the mix loses 0.3 x 0.4
    assert _cluster(_sites((HOME, 0, 80.0), (HOME, 1, 20.0)), 0.3) == pytest.approx(88.0)


def test_a_foreign_host_rents_one_lab_a_cluster_no_bigger_than_its_cap() -> None:
    cap = np.array([np.inf, 30.0])
    assert _cluster(_sites((ABROAD, 0, 100.0)), 0.3, cap) == pytest.approx(30.0)
    # the same chips bought at home are one cluster
    assert _cluster(_sites((HOME, 0, 100.0)), 0.3, cap) == pytest.approx(100.0)
    # models mixed abroad are scaled down together: 60 + 40 chips to 30, less the penalty
    mixed = _sites((ABROAD, 0, 60.0), (ABROAD, 1, 40.0))
    assert _cluster(mixed, 0.3, cap) == pytest.approx(30.0)  # 30 x (1 - 0.3 x 0.8) < 30


def test_smuggled_chips_join_a_cluster_at_home_up_to_their_cap() -> None:
    home = _sites((HOME, 0, 20.0))
    # 100 smuggled chips of the same model: 30 of them join the 20 bought openly
    assert _cluster(home, 0.3, contraband=(100.0, 0.0, 0.0), contraband_cap=30.0) == 50.0
    # uncapped they would all join
    assert _cluster(home, 0.3, contraband=(100.0, 0.0, 0.0)) == pytest.approx(120.0)
    # smuggled chips of another ecosystem make a cluster of their own, capped too
    alone = _cluster(home, 0.3, contraband=(0.0, 0.0, 100.0), contraband_cap=30.0)
    assert alone == pytest.approx(30.0)


def test_the_run_is_a_share_of_the_largest_cluster() -> None:
    np.testing.assert_allclose(training_flops(np.array([100.0, 0.0]), 0.12), [12.0, 0.0])


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


def test_a_cycle_mean_turns_a_staircase_into_its_trend() -> None:
    """A frontier that climbs 4 points at the end of every 4-month run, read month by month,
    is a staircase; averaged over one cycle it rises a point a month, like its trend."""
    stairs = np.repeat(np.arange(0.0, 40.0, 4.0), 4)[:, None]  # [month, bloc]
    smooth = cycle_mean(stairs, 4)
    np.testing.assert_allclose(np.diff(smooth[4:, 0]), 1.0)
    # months before a bloc has a model are skipped, not averaged in as zero
    young = np.array([[np.nan], [np.nan], [6.0], [8.0]])
    np.testing.assert_allclose(cycle_mean(young, 4)[:, 0], [np.nan, np.nan, 6.0, 7.0])


def test_the_gap_on_cycle_means_does_not_jump_when_a_run_ends() -> None:
    """The leader climbs a point a month smoothly; the follower 12 points behind climbs in
    4-point steps every 4 months. Read raw, the follower's gap swings by 3 months within each
    cycle; on cycle means it holds at about 12 months."""
    months = 48
    leader = np.arange(months, dtype=float) + 20.0
    follower = np.repeat(np.arange(8.0, 8.0 + months, 4.0), 4)[:months]
    history = np.column_stack([leader, follower])
    raw, smooth = [], []
    for t in range(24, months):
        h = history[: t + 1]
        raw.append(gap_months(h[-1], h, 0, 1.0)[1])
        s = cycle_mean(h, 4)
        smooth.append(gap_months(s[-1], s, 0, 1.0)[1])
    assert np.ptp(raw) >= 3.0
    assert np.ptp(smooth) <= 0.5
    assert np.mean(smooth) == pytest.approx(np.mean(raw), abs=1.0)


def test_the_leaders_path_rises_between_its_records() -> None:
    series = np.array([np.nan, 50.0, 50.0, 50.0, 50.0, 54.0, 54.0, 53.0])
    path = leader_path(series)
    assert np.isneginf(path[0])
    np.testing.assert_allclose(path[1:], [50.0, 51.0, 52.0, 53.0, 54.0, 54.0, 54.0])


def test_passing_an_old_record_does_not_halve_the_gap() -> None:
    """The leader holds 50 for nine months, then sets 54. A follower that creeps from 49.9
    to 50.1 meanwhile was about a year behind and still is: read against the leader's steps, its
    gap fell from 13 months to 6 the month it passed 50."""
    leader = np.r_[np.full(9, 50.0), np.full(6, 54.0)]
    gaps = []
    for follower in (49.9, 50.1):
        history = np.column_stack([leader, np.full(leader.size, follower)])
        gaps.append(gap_months(history[-1], history, 0, 1.0)[1])
    assert gaps[0] == pytest.approx(14 + 0.1)
    assert gaps[1] == pytest.approx(14 - 0.1 / 4 * 9, abs=1e-9)  # 4 points over 9 months


def test_the_running_cycle_mean_is_cycle_mean_to_the_last_bit() -> None:
    rng = np.random.default_rng(3)
    hist = rng.normal(50, 10, size=(40, 4))
    hist[:7, 1] = np.nan  # a bloc with no model yet
    hist[20:23, 3] = np.nan
    rows = [row for row in hist]
    running = RunningCycleMean(4)
    grown: list[np.ndarray] = []
    for row in rows:
        grown.append(row)
        got = running.update(grown)
    np.testing.assert_array_equal(got, cycle_mean(hist, 4))
    # another list (a restored model's) starts again
    np.testing.assert_array_equal(running.update(rows[:5]), cycle_mean(hist[:5], 4))


def test_the_running_leader_path_is_leader_path_to_the_last_bit() -> None:
    """Kept up a month at a time, across records, plateaus, months without a model, a change
    of leader and a shorter history, it is leader_path of the whole series."""
    rng = np.random.default_rng(11)
    hist = np.cumsum(rng.normal(0.3, 1.0, size=(60, 3)), axis=0) + 40.0
    hist[:5, 0] = np.nan
    hist[:, 2] = np.round(hist[:, 2])  # steps and ties
    running = RunningLeaderPath()
    for column in (0, 2, 0):
        for n in range(1, len(hist) + 1):
            got = running.update(hist[:n, column], column)
            np.testing.assert_array_equal(got, leader_path(hist[:n, column]))
    np.testing.assert_array_equal(running.update(hist[:7, 1], 1), leader_path(hist[:7, 1]))
    np.testing.assert_array_equal(running.update(hist[:3, 1], 1), leader_path(hist[:3, 1]))
    # the gap read against the kept path is the gap
    lead = running.update(hist[:, 0], 0)
    np.testing.assert_array_equal(
        gap_months(hist[-1], hist, 0, 1.0, lead=lead), gap_months(hist[-1], hist, 0, 1.0)
    )


def test_the_median_per_bloc_is_numpys_median() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        n = int(rng.integers(0, 12))
        cap = rng.normal(50, 5, n)
        cap[rng.random(n) < 0.2] = np.nan
        frontier = rng.random(n) < 0.8
        bloc = rng.integers(0, 4, n)
        want = np.full(4, np.nan)
        for b in range(4):
            sel = frontier & np.isfinite(cap) & (bloc == b)
            if sel.any():
                want[b] = np.median(cap[sel])
        np.testing.assert_array_equal(bloc_median(cap, frontier, bloc, 4), want)


def test_the_best_foreign_model_is_the_best_of_the_other_blocs() -> None:
    then = np.array([60.0, np.nan, 55.0, 60.0])
    np.testing.assert_array_equal(released_foreign([then], 0), [60.0, 60.0, 60.0, 60.0])
    then = np.array([61.0, np.nan, 55.0, 60.0])
    np.testing.assert_array_equal(released_foreign([then], 0), [60.0, 61.0, 61.0, 61.0])
    only = np.array([61.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(released_foreign([only], 0), [np.nan, 61.0, 61.0, 61.0])


def _largest_cluster_dense(counts, site_cap, contraband, contraband_cap, flops, eco, n_eco, pen):
    """largest_cluster as first written, over a [holder, site, chip, ecosystem] array: the
    reference the gathered version must match to the last bit."""
    cap = np.asarray(site_cap, float)[None, :, None]
    onehot = np.eye(n_eco, dtype=bool)[eco]
    usable = np.minimum(counts, cap)
    usable[:, 0, :] += np.minimum(contraband, contraband_cap)
    single = (usable * flops).max(axis=(1, 2), initial=0.0)
    chips_in = counts @ onehot.astype(float)
    room = np.minimum(1.0, np.divide(cap, chips_in, out=np.ones_like(chips_in), where=chips_in > 0))
    contra_in = contraband @ onehot
    contra_room = np.minimum(
        1.0, np.divide(contraband_cap, contra_in, out=np.ones_like(contra_in), where=contra_in > 0)
    )
    per_eco = np.where(onehot[None, None], (counts * flops)[..., None], 0.0)
    per_eco = per_eco * room[:, :, None, :]
    home = np.where(onehot[None], (contraband * flops)[..., None], 0.0)
    per_eco[:, 0] += home * contra_room[:, None, :]
    total = per_eco.sum(axis=2)
    top = per_eco.max(axis=2, initial=0.0)
    in_top = np.divide(top, total, out=np.ones_like(total), where=total > 0)
    mixed = total * (1.0 - pen * np.minimum(1.0, 2.0 * (1.0 - in_top)))
    return np.maximum(single, mixed.max(axis=(1, 2), initial=0.0))


def test_largest_cluster_matches_the_dense_reference_to_the_bit():
    # with one ecosystem the dense sum ran along its last axis (pairwise): two or more only
    rng = np.random.default_rng(7)
    for _ in range(300):
        n_h, n_c, n_e = rng.integers(1, 30), rng.integers(1, 45), rng.integers(2, 6)
        eco = rng.integers(0, n_e, n_c)
        counts = rng.integers(0, 10 ** rng.integers(1, 7), (n_h, 2, n_c)).astype(float)
        counts[rng.random(counts.shape) < 0.5] = 0.0
        contra = rng.integers(0, 10 ** rng.integers(1, 6), (n_h, n_c)).astype(float)
        contra[rng.random(contra.shape) < 0.6] = 0.0
        flops = rng.random(n_c) * 1e15
        args = (counts, np.array([np.inf, 3000.0]), contra, 5000.0, flops, eco, n_e, 0.3)
        assert np.array_equal(largest_cluster(*args), _largest_cluster_dense(*args))


def _bitwise(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def _measure_case(rng: np.random.Generator) -> tuple:
    """measure_compute's arguments: a ledger's counts [holder, chip, provenance] mostly zero
    (as a lab's), five provenances (smuggled the contraband, rented abroad)."""
    n_h, n_c, n_e = rng.integers(1, 30), rng.integers(1, 45), rng.integers(1, 6)
    by_prov = rng.integers(0, 10 ** rng.integers(1, 7), (n_h, n_c, 5))
    by_prov[rng.random(by_prov.shape) < 0.7] = 0
    flops = rng.random(n_c) * 1e15
    flops[rng.random(n_c) < 0.3] = 0.0
    site_cap = np.array([np.inf, float(rng.integers(1, 5000))])
    return (
        by_prov.sum(axis=2),
        by_prov,
        SITE_OF_PROVENANCE,
        site_cap,
        SMUGGLED,
        float(rng.integers(1, 8000)),
        flops,
        rng.integers(0, n_e, n_c),
        n_e,
        0.3,
    )


def test_measure_compute_matches_its_numpy_reference_to_the_bit() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        args = _measure_case(rng)
        got, want = measure_compute(*args), measure_compute_reference(*args)
        assert _bitwise(got[0], want[0]) and _bitwise(got[1], want[1])


@pytest.mark.parametrize(
    "odd",
    ["negative flops", "negative zero flops", "zero cap", "negative cap", "both negative"],
)
def test_measure_compute_takes_every_chip_when_a_zero_count_would_count(odd: str) -> None:
    """The kernel leaves out the chips a holder has none of only while their zero FLOP/s can
    move nothing: a negative FLOP/s or cap must give the reference's numbers too (with both,
    a chip of none, capped below zero, makes a single-model cluster above zero). (NaN or
    infinite FLOP/s are outside both: the reference's np.maximum keeps a NaN the kernels'
    comparisons pass over, as largest_cluster_kernel always did.)"""
    rng = np.random.default_rng(abs(hash(odd)) % 2**32)
    for _ in range(100):
        held, by_prov, site_of, site_cap, contraband, contra_cap, flops, eco, n_e, pen = (
            _measure_case(rng)
        )
        c = rng.integers(0, flops.size)
        if odd == "negative flops":
            flops[c] = -1e14
        elif odd == "negative zero flops":
            flops[c] = -0.0
        elif odd == "zero cap":
            site_cap[1] = 0.0
        elif odd == "negative cap":
            contra_cap = -5.0
        else:
            flops[c], site_cap[1] = -1e14, -5.0
        args = (held, by_prov, site_of, site_cap, contraband, contra_cap, flops, eco, n_e, pen)
        got, want = measure_compute(*args), measure_compute_reference(*args)
        assert _bitwise(got[0], want[0]) and _bitwise(got[1], want[1]), odd


def _gap_months_arrays(current, lead, per_month):
    """gap_months as whole-array operations (its earlier form): the reference it keeps to."""
    now = len(lead) - 1
    c = np.asarray(current, float)
    out = np.full(c.shape, np.nan)
    behind = ~np.isnan(c)
    out[behind & (c >= lead[-1])] = 0.0
    behind &= c < lead[-1]
    i = np.searchsorted(lead, c, side="left")
    first = behind & (i == 0)
    if first.any():
        out[first] = now + ((lead[0] - c[first]) / per_month if per_month > 0 else 0.0)
    later = behind & (i > 0)
    if later.any():
        j = i[later]
        lo, hi, cl = lead[j - 1], lead[j], c[later]
        with np.errstate(invalid="ignore"):
            frac = np.divide(
                cl - lo, hi - lo, out=np.ones_like(cl), where=np.isfinite(lo) & (hi > lo)
            )
        out[later] = now - (j - 1 + frac)
    return out


def test_the_gap_read_bloc_by_bloc_is_the_array_forms_to_the_last_bit() -> None:
    rng = np.random.default_rng(17)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        series = np.cumsum(rng.normal(0.2, 1.0, n)) + 40.0
        series[: int(rng.integers(0, 4))] = np.nan
        if rng.random() < 0.5:  # plateaus and ties
            series = np.round(series)
        lead = leader_path(series)
        current = rng.normal(40.0 + 0.1 * n, 4.0, 4)
        current[rng.random(4) < 0.2] = np.nan
        per_month = float(rng.choice([0.0, 0.5, 1.3]))
        history = np.column_stack([series, np.zeros(n)])
        np.testing.assert_array_equal(
            gap_months(current, history, 0, per_month), _gap_months_arrays(current, lead, per_month)
        )
