"""The numba twins of numpy's arithmetic (game/core/exact.py) give numpy's numbers to the last
bit: the kernels built on them can only keep every result if these do."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from game.core.exact import (
    capacity_scale_into,
    nan_to_num,
    np_fmax,
    np_maximum,
    np_minimum,
    py_max,
    reduce_sum,
)
from game.core.market import capacity_scale

FLOATS = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False, width=64)


def _same(a: np.ndarray | float, b: np.ndarray | float) -> bool:
    """Bit for bit (NaN included, -0.0 told from 0.0)."""
    return np.array_equal(np.asarray(a, float).view(np.int64), np.asarray(b, float).view(np.int64))


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.integers(0, 700), elements=FLOATS))
def test_a_sum_is_numpys_pairwise_sum(a: np.ndarray) -> None:
    assert _same(reduce_sum(a, a.size), np.add.reduce(a))


def test_sums_of_every_length_and_of_rows_of_a_table() -> None:
    """Every branch of the pairwise sum (under 8, the eight accumulators, the halving) and the
    2-D reductions the kernels stand in for: a row's sum and a whole table's."""
    rng = np.random.default_rng(5)
    for n in [*range(0, 300), 1000, 4097]:
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)
        assert _same(reduce_sum(a, n), np.add.reduce(a)), n
    table = rng.standard_normal((22, 75)) * 1e9
    rows = np.add.reduce(table, axis=1)
    for i, row in enumerate(table):
        assert _same(reduce_sum(np.ascontiguousarray(row), row.size), rows[i])
    assert _same(reduce_sum(table.ravel(), table.size), np.add.reduce(table, axis=None))
    # a plain left-to-right loop would not do: the test can tell the orders apart
    assert any(
        not _same(sum(a.tolist(), 0.0), np.add.reduce(a))
        for a in (rng.standard_normal(200) * 1e8 for _ in range(20))
    )


EDGES = st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -float("inf")])


@settings(max_examples=400, deadline=None)
@given(FLOATS | EDGES, FLOATS | EDGES)
def test_maxima_as_numpy_and_python_take_them(a: float, b: float) -> None:
    """Signed zeros included: of two equal numbers np.maximum and np.minimum take the second,
    np.fmax the first, Python's max the first."""
    assert _same(np_maximum(a, b), np.maximum(a, b))
    assert _same(np_minimum(a, b), np.minimum(a, b))
    assert _same(np_fmax(a, b), np.fmax(a, b))
    if a == a and b == b:
        assert _same(py_max(a, b), max(a, b))


def test_nan_to_num_and_capacity_scale() -> None:
    for x in (0.0, -0.0, 1.5, float("nan"), float("inf"), -float("inf")):
        assert _same(nan_to_num(x), np.nan_to_num(x))
    rng = np.random.default_rng(3)
    demand = rng.random(40) * 100
    group = rng.integers(0, 5, 40)
    capacity = np.array([10.0, 1e9, 0.0, 55.5, 200.0])
    out = np.empty(40)
    capacity_scale_into(demand, group, capacity, out)
    assert _same(out, capacity_scale(demand, group, capacity))
