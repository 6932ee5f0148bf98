"""The compiled multivariate hypergeometric draw (game/core/hypergeometric.py) is numpy's: the same
draw from a twin generator AND the same generator state after, so it took exactly the numbers
numpy takes (a different count of doubles, or of uint32 halves, shows in the state)."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.core import hypergeometric as hg

BIT_GENERATORS = (np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64)


def _twins(
    seed: int, odd_uint32: bool, kind: type = np.random.PCG64
) -> Iterator[np.random.Generator]:
    """Two generators in one state; with odd_uint32, half of a uint64 is buffered (PCG64 and
    Philox keep it for the next uint32 draw)."""
    for _ in range(2):
        rng = np.random.Generator(kind(seed))
        if odd_uint32:
            rng.integers(0, 7, dtype=np.uint32)
        yield rng


def _same_state(a: object, b: object) -> bool:
    """Bit generator states equal, down to MT19937's key array."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def _assert_numpys(colors: np.ndarray, nsample: int, seed: int, odd_uint32: bool,
                   kind: type = np.random.PCG64) -> None:
    ours, theirs = _twins(seed, odd_uint32, kind)
    before = hg.fallbacks
    drawn = hg.multivariate_hypergeometric(ours, colors, nsample)
    assert hg.fallbacks == before, "the kernel handed the draw to numpy"
    expected = theirs.multivariate_hypergeometric(colors, nsample)
    assert drawn.dtype == expected.dtype and drawn.shape == expected.shape
    assert np.array_equal(drawn, expected), (colors, nsample, drawn, expected)
    assert _same_state(ours.bit_generator.state, theirs.bit_generator.state), (colors, nsample)


GRID_COLORS = [
    [7],
    [0, 5],
    [3, 0, 0, 4],
    [1, 1, 1, 1, 1],
    [0, 0, 12, 0, 9, 0, 30, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 5, 0, 0, 0, 40],
    [120, 0, 33, 7, 900, 14, 2, 61, 3, 11, 40, 5],
    [5000, 12000, 0, 800, 31000, 0, 6],
    [10**6, 3 * 10**7, 0, 123_457, 4],
]


@pytest.mark.parametrize("colors", GRID_COLORS)
@pytest.mark.parametrize("odd_uint32", [False, True])
def test_a_grid_of_draws_is_numpys(colors: list[int], odd_uint32: bool) -> None:
    # every sample size of the small urns; of the large ones the ends, the half, its
    # neighbours (the complement's edge) and points between (HRUA's range)
    colors_arr = np.array(colors, np.int64)
    total = int(colors_arr.sum())
    if total <= 200:
        sizes = range(total + 1)
    else:
        half = total // 2
        sizes = sorted({0, 1, 9, 10, 11, half - 1, half, half + 1, total // 7, total - 10,
                        total - 9, total - 1, total})
    for seed, nsample in enumerate(sizes):
        _assert_numpys(colors_arr, nsample, seed, odd_uint32)


@pytest.mark.parametrize("kind", BIT_GENERATORS)
def test_any_bit_generator_is_called_as_numpy_calls_it(kind: type) -> None:
    colors = np.array([120, 0, 33, 7, 900, 14, 2, 61, 3, 11, 40, 5], np.int64)
    for seed, nsample in enumerate([3, 17, 400, 1190]):
        _assert_numpys(colors, nsample, seed, odd_uint32=seed % 2 == 1, kind=kind)


SCALES = st.sampled_from([2, 12, 130, 3000, 10**5, 3 * 10**7])


@st.composite
def urns(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    scale = draw(SCALES)
    counts = draw(st.lists(st.integers(0, scale), min_size=1, max_size=25))
    zeroed = draw(st.lists(st.booleans(), min_size=len(counts), max_size=len(counts)))
    colors = np.array([0 if z else c for c, z in zip(counts, zeroed, strict=True)], np.int64)
    nsample = draw(st.integers(0, int(colors.sum())))
    return colors, nsample


@settings(max_examples=600, deadline=None)
@given(urns(), st.integers(0, 2**32 - 1), st.booleans())
def test_random_draws_are_numpys(urn: tuple[np.ndarray, int], seed: int, odd_uint32: bool) -> None:
    colors, nsample = urn
    _assert_numpys(colors, nsample, seed, odd_uint32)


def test_a_draw_takes_numbers_from_the_stream() -> None:
    # the state comparisons above mean something only if the draws move the state
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    hg.multivariate_hypergeometric(rng, np.array([400, 0, 300, 900], np.int64), 700)
    assert not _same_state(rng.bit_generator.state, before)


@pytest.mark.parametrize(
    ("colors", "nsample"),
    [
        (np.array([3, -1, 4], np.int64), 2),  # a negative colour
        (np.array([3, 1, 4], np.int64), 9),  # more than the urn holds
        (np.array([3, 1, 4], np.int64), -1),  # a negative sample
        (np.array([6 * 10**8, 5 * 10**8], np.int64), 3),  # past numpy's marginals limit
    ],
)
def test_what_numpy_refuses_goes_to_numpy(colors: np.ndarray, nsample: int) -> None:
    rng = np.random.default_rng(1)
    before, state = hg.fallbacks, rng.bit_generator.state
    with pytest.raises(ValueError):
        hg.multivariate_hypergeometric(rng, colors, nsample)
    assert hg.fallbacks == before + 1
    assert _same_state(rng.bit_generator.state, state)


@pytest.mark.parametrize(
    "colors",
    [
        np.array([300, 0, 20, 9], np.int32),  # not int64
        np.array([[300, 0], [20, 9]], np.int64)[:, 0],  # not contiguous
        [300, 0, 20, 9],  # not an array
    ],
)
def test_other_inputs_get_numpys_draw(colors: object) -> None:
    ours, theirs = _twins(2, odd_uint32=True)
    before = hg.fallbacks
    drawn = hg.multivariate_hypergeometric(ours, colors, 150)  # type: ignore[arg-type]
    assert hg.fallbacks == before + 1
    assert np.array_equal(drawn, theirs.multivariate_hypergeometric(colors, 150))
    assert _same_state(ours.bit_generator.state, theirs.bit_generator.state)


def test_the_months_draws_take_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    # the gray market's draws reach the kernel (a caller passing, say, a numpy integer for the
    # sample would fall back to numpy silently and lose the speed)
    from game.sim.model import ChipWarModel

    compiled = []
    kernel = hg.marginals_into

    def counted(*args: object) -> bool:
        compiled.append(1)
        return kernel(*args)

    monkeypatch.setattr(hg, "marginals_into", counted)
    before = hg.fallbacks
    ChipWarModel("historical", rng=0).run()
    assert compiled, "the run drew no shares: pick a run that does"
    assert hg.fallbacks == before


def _numpys_c() -> ctypes.CDLL:
    """numpy's own C distributions (declared in numpy/random/c_distributions.pxd), exported by
    its Generator module where the platform exports them: the oracle for the port's parts."""
    try:
        lib = ctypes.CDLL(np.random._generator.__file__)
        lib.logfactorial.restype = ctypes.c_double
        lib.logfactorial.argtypes = [ctypes.c_int64]
        lib.random_hypergeometric.restype = ctypes.c_int64
        lib.random_hypergeometric.argtypes = [ctypes.c_void_p] + [ctypes.c_int64] * 3
    except (OSError, AttributeError):
        pytest.skip("numpy's Generator module does not export its C distributions here")
    return lib


def test_logfactorial_is_numpys_to_the_bit() -> None:
    lib = _numpys_c()
    ks = np.concatenate([np.arange(0, 5000), np.random.default_rng(3).integers(0, 10**9, 20000)])
    for k in ks.tolist():
        assert hg.logfactorial(k).hex() == lib.logfactorial(k).hex(), k


@st.composite
def univariate(draw: st.DrawFn) -> tuple[int, int, int]:
    good, bad = draw(st.integers(0, 10**8)), draw(st.integers(0, 10**8))
    near_an_end = draw(st.integers(0, 12))
    sample = draw(st.sampled_from([
        min(near_an_end, good + bad), max(0, good + bad - near_an_end),
        draw(st.integers(0, good + bad)),
    ]))
    return good, bad, sample


@settings(max_examples=800, deadline=None)
@given(univariate(), st.integers(0, 2**32 - 1), st.booleans())
def test_the_univariate_draw_is_numpys_c(
    drawn_args: tuple[int, int, int], seed: int, odd_uint32: bool
) -> None:
    lib = _numpys_c()
    ours, theirs = _twins(seed, odd_uint32)
    drawn = hg.random_hypergeometric(hg.bitgen_addresses(ours.bit_generator), *drawn_args)
    bitgen = theirs.bit_generator.ctypes.bit_generator
    assert drawn == lib.random_hypergeometric(bitgen, *drawn_args), drawn_args
    assert _same_state(ours.bit_generator.state, theirs.bit_generator.state)
