"""The gap's compiled running pieces (game/core/gap_kernel.py) against the whole-history
numpy forms they keep up, to the last bit, over histories Hypothesis makes hard: months
without a model, ties and plateaus, negative zeros, leaders changing, lengths from one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from game.core.capability import (
    RunningCycleMean,
    RunningLeaderPath,
    cycle_mean,
    gap_months,
    leader_path,
)
from game.core.gap_kernel import leader_of
from tests.core.test_capability import _gap_months_arrays

value = st.one_of(
    st.floats(-50.0, 150.0, allow_nan=False),
    st.sampled_from([0.0, -0.0, 40.0, 40.0, 41.5, float("nan")]),
    st.integers(30, 45).map(float),  # plateaus and ties
)


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, float).view(np.int64)


def _bits_any_zero(a: np.ndarray) -> np.ndarray:
    """The bits with -0.0 read as 0.0. Where a history holds both zeros the whole-history
    forms and the running ones (the Python ones before the kernels, too) may keep a different
    one: numpy's cumsum starts a sum at its first value, the running sums at 0.0, and
    np.fmax.accumulate keeps the later of two equal values, the running best the earlier."""
    return (np.asarray(a, float) + 0.0).view(np.int64)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(value, min_size=3, max_size=3), min_size=1, max_size=40), st.integers(1, 8)
)
def test_the_running_cycle_mean_is_cycle_mean(rows: list[list[float]], window: int) -> None:
    running = RunningCycleMean(window)
    history: list[np.ndarray] = []
    for row in rows:
        history.append(np.array(row))
        got = running.update(history)
        want = cycle_mean(np.array(history), window)
        assert np.array_equal(_bits_any_zero(got), _bits_any_zero(want))


@settings(max_examples=200, deadline=None)
@given(st.lists(value, min_size=1, max_size=60))
def test_the_running_leader_path_is_leader_path(series: list[float]) -> None:
    s = np.array(series)
    running = RunningLeaderPath()
    for n in range(1, len(s) + 1):
        got, want = running.update(s[:n], 0), leader_path(s[:n])
        assert np.array_equal(_bits_any_zero(got), _bits_any_zero(want))


@settings(max_examples=300, deadline=None)
@given(st.lists(value, min_size=1, max_size=40), st.data(), st.sampled_from([0.0, 0.5, 1.3]))
def test_the_gap_against_a_kept_path_is_the_gap(
    series: list[float], data: st.DataObject, per_month: float
) -> None:
    """Blocs now at values the leader's path passed through (on its plateaus too) and others."""
    history = np.array(series)[:, None]
    lead = RunningLeaderPath().update(history[:, 0], 0)
    c = np.array(data.draw(st.lists(st.one_of(value, st.sampled_from(series)), max_size=5)))
    got = gap_months(c, history, 0, per_month, lead=lead)
    assert np.array_equal(_bits(got), _bits(gap_months(c, history, 0, per_month)))
    # and the kernel's bloc-by-bloc reading is the gap's array form (numpy's searchsorted)
    want = _gap_months_arrays(c, leader_path(history[:, 0]), per_month)
    assert np.array_equal(_bits_any_zero(got), _bits_any_zero(want))


@given(st.lists(value, min_size=1, max_size=6))
def test_the_leader_is_argmax_with_nan_as_minus_infinity(row: list[float]) -> None:
    r = np.array(row)
    assert leader_of(r) == int(np.argmax(np.where(np.isnan(r), -np.inf, r)))
