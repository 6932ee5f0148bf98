"""The month's remaining phases fused into kernels give their numpy references' numbers bit
for bit: the labs' chips by provenance in H100e (record_kernel.held_h100e against numpy's
einsum, which bloc_columns_reference keeps), drawn by Hypothesis with counts past 2**53 (whose
float sums depend on their order), signed zeros, huge weights (overflow), infinities and NaN;
the algorithmic progress between its log and exp (growth_kernel.efficiency_exponent in
capability.grow_efficiency), by Hypothesis and on real months."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import agents.lab as lab
from game.core.capability import grow_efficiency, grow_efficiency_reference
from game.sim.model import ChipWarModel
from game.sim.record_kernel import held_h100e
from game.sim.runner import forget
from tests.agents.kernel_cases import CASES

count = st.one_of(st.integers(0, 2**60), st.integers(0, 40), st.sampled_from([0, 2**53 + 1]))
weight = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False), st.sampled_from([0.0, -0.0, 0.1, 1.0 / 3.0, 1e300])
)
odd = st.one_of(weight, st.sampled_from([float("inf"), -float("inf"), float("nan")]))


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, float).view(np.int64)


@settings(max_examples=400, deadline=None)
@given(st.data(), st.integers(0, 12), st.integers(0, 60), st.integers(2, 7))
def test_held_h100e_adds_as_numpy_einsum(data: st.DataObject, n_l: int, n_c: int, n_p: int) -> None:
    """Two provenances or more (the ledger has five, PROVENANCES): with a single one the
    chip axis is contiguous and numpy's einsum sums it unrolled, in another order."""
    held = data.draw(hnp.arrays(np.int64, (n_l, n_c, n_p), elements=count))
    h100e = data.draw(hnp.arrays(np.float64, n_c, elements=weight))
    want = np.einsum("lcp,c->lp", held.astype(float), h100e)
    got = held_h100e(held, h100e)
    assert got.shape == want.shape
    assert np.array_equal(_bits(got), _bits(want)), (got, want)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(0, 6), st.integers(0, 20), st.integers(2, 7))
def test_held_h100e_with_infinite_weights(
    data: st.DataObject, n_l: int, n_c: int, n_p: int
) -> None:
    """A weight of no chip in the catalogue (inf, NaN): the same numbers, NaN where numpy's
    is (which NaN numpy's addition keeps is the platform's choice, not the rule's)."""
    held = data.draw(hnp.arrays(np.int64, (n_l, n_c, n_p), elements=count))
    h100e = data.draw(hnp.arrays(np.float64, n_c, elements=odd))
    want = np.einsum("lcp,c->lp", held.astype(float), h100e)
    assert np.array_equal(held_h100e(held, h100e), want, equal_nan=True)


def test_held_h100e_order_matters_and_is_kept() -> None:
    """Counts whose float sum depends on the order it is taken in: the chip order is numpy's."""
    held = np.zeros((1, 4, 5), np.int64)
    held[0, :, 3] = [2**53, 1, 1, -(2**53)]
    h100e = np.ones(4)
    got = held_h100e(held, h100e)
    assert np.array_equal(_bits(got), _bits(np.einsum("lcp,c->lp", held.astype(float), h100e)))
    # in chip order: 2**53 + 1 rounds back to 2**53 twice, then 0.0; reordered sums give 2.0
    assert got[0, 3] == 0.0


scarcity = st.one_of(
    st.floats(-0.5, 1.5, allow_nan=False), st.sampled_from([0.0, -0.0, 1.0, float("nan")])
)


@settings(max_examples=400, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(1e-3, 1e6)),
    st.integers(0, 400),
    st.floats(1.0, 60.0),
    st.data(),
    st.floats(0.0, 1.0),
    st.floats(0.0, 0.5),
)
def test_grow_efficiency_kernel_is_the_numpy_rule(
    efficiency: np.ndarray,
    months: int,
    doubling: float,
    data: st.DataObject,
    bonus: float,
    decay: float,
) -> None:
    scarce = data.draw(hnp.arrays(np.float64, efficiency.size, elements=scarcity))
    got = grow_efficiency(efficiency, months, doubling, scarce, bonus, decay)
    want = grow_efficiency_reference(efficiency, months, doubling, scarce, bonus, decay)
    assert np.array_equal(_bits(got), _bits(want)), (got, want)


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_efficiency_kernel_matches_the_reference_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {"months": 0, "differ": 0, "scarce": 0}

    def both(efficiency, *args):  # noqa: ANN001, ANN002, ANN202
        got = grow_efficiency(efficiency, *args)
        want = grow_efficiency_reference(efficiency.copy(), *args)
        seen["months"] += 1
        seen["differ"] += not np.array_equal(_bits(got), _bits(want))
        seen["scarce"] += bool((args[2] > 0).any())
        return got

    monkeypatch.setattr(lab, "grow_efficiency", both)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert seen == {"months": 60, "differ": 0, "scarce": seen["scarce"]}
    assert seen["scarce"] > 0  # a scarce bloc's bonus reached
