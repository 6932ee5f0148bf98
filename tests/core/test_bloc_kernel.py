"""Each bloc's best and median capability from the compiled kernels, against the Python
forms they replace, to the last bit: labs without a model, ties, signed zeros, empty blocs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from game.core.capability import (
    bloc_frontier,
    bloc_frontier_reference,
    bloc_median,
    bloc_median_reference,
)

N_BLOCS = 4
capability = st.one_of(
    st.floats(-20.0, 120.0, allow_nan=False),
    st.sampled_from([0.0, -0.0, 40.0, 41.5, float("nan"), float("inf")]),
)
lab = st.tuples(capability, st.booleans(), st.integers(0, N_BLOCS - 1))


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, float).view(np.int64)


@settings(max_examples=400, deadline=None)
@given(st.lists(lab, max_size=30))
def test_best_and_median_per_bloc_are_the_python_forms(labs: list[tuple]) -> None:
    cap = np.array([c for c, _, _ in labs], float)
    frontier = np.array([f for _, f, _ in labs], bool)
    bloc = np.array([b for _, _, b in labs], np.int64)
    pairs = ((bloc_frontier, bloc_frontier_reference), (bloc_median, bloc_median_reference))
    for fast, slow in pairs:
        got, want = fast(cap, frontier, bloc, N_BLOCS), slow(cap, frontier, bloc, N_BLOCS)
        assert np.array_equal(_bits(got), _bits(want)), (fast.__name__, got, want)


def test_equal_values_keep_lab_order_signed_zeros_told_apart() -> None:
    """Ties keep the first lab's value (the best) and Python's stable sort (the median): with
    0.0 and -0.0 the two are told apart only by their bits."""
    for values in ([0.0, -0.0], [-0.0, 0.0], [-0.0, 0.0, -0.0], [1.0, 0.0, -0.0, 0.0]):
        cap = np.array(values)
        frontier = np.ones(len(values), bool)
        bloc = np.zeros(len(values), np.int64)
        pairs = ((bloc_frontier, bloc_frontier_reference), (bloc_median, bloc_median_reference))
        for fast, slow in pairs:
            got, want = fast(cap, frontier, bloc, 1), slow(cap, frontier, bloc, 1)
            assert np.array_equal(_bits(got), _bits(want)), (values, fast.__name__, got, want)
