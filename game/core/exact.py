"""numpy's arithmetic, reproduced to the last bit inside numba kernels.

Why: the month's array phases cost mostly the Python interpreter and numpy's per-call
overhead on small arrays (a [22 lab, 75 source] table), not arithmetic, so a compiled loop is
several times faster; but a speed-up must not change a single result (the shipped scenarios'
tables stay identical bit for bit). Elementwise + - * /, min, max and comparisons are exact in
IEEE arithmetic whatever computes them, so a kernel only has to keep numpy's grouping
(`a * b / c` is `(a * b) / c`) and numpy's summation orders, which these functions give:

- a float64 sum over a contiguous run (a row's np.add.reduce(axis=1), a whole contiguous
  array's np.add.reduce(axis=None)) is numpy's pairwise sum (`pairwise_sum`);
- np.add.reduce(axis=0) of a C-contiguous [row, col] array adds down the rows in order;
- np.bincount with weights adds in input order per bin, from 0.0.

What stays in numpy: exp, log and power (numpy's own SIMD implementations differ from libm's
in the last bit), matmul and einsum (BLAS orders), and random draws. Kernels are compiled on
first use and cached on disk (numba's `cache=True`): about a second or two once per machine,
milliseconds after. tests/core/test_exact.py holds each function to its numpy twin.
"""

from __future__ import annotations

import numba
import numpy as np

BIG = np.finfo(np.float64).max


@numba.njit("float64(float64[::1], int64, int64)", cache=True)  # typed: it recurses
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's float64 pairwise sum of a[lo:lo + n] (numpy/_core/src/umath/loops_utils.h.src,
    `pairwise_sum`): under 8 a plain loop; up to 128 eight interleaved accumulators, combined
    pairwise, then the rest in order; above, split at half (a multiple of 8) and recurse."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[lo + i]
        return res
    elif n <= 128:
        r0 = a[lo + 0]
        r1 = a[lo + 1]
        r2 = a[lo + 2]
        r3 = a[lo + 3]
        r4 = a[lo + 4]
        r5 = a[lo + 5]
        r6 = a[lo + 6]
        r7 = a[lo + 7]
        m = n - n % 8
        i = 8
        while i < m:
            r0 += a[lo + i + 0]
            r1 += a[lo + i + 1]
            r2 += a[lo + i + 2]
            r3 += a[lo + i + 3]
            r4 += a[lo + i + 4]
            r5 += a[lo + i + 5]
            r6 += a[lo + i + 6]
            r7 += a[lo + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[lo + i]
            i += 1
        return res
    else:
        n2 = n // 2
        n2 -= n2 % 8
        return pairwise_sum(a, lo, n2) + pairwise_sum(a, lo + n2, n - n2)


@numba.njit(cache=True)
def reduce_sum(a: np.ndarray, n: int) -> float:
    """np.add.reduce of the first n float64 of a contiguous array: the identity 0.0 plus the
    pairwise sum (only a sum of -0.0s alone could tell the two apart)."""
    return 0.0 + pairwise_sum(a, 0, n)


@numba.njit(cache=True)
def np_maximum(a: float, b: float) -> float:
    """np.maximum(a, b) of two float64 scalars: NaN from either side propagates; of two equal
    numbers b (which tells 0.0 from -0.0), as numpy's loops take it."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@numba.njit(cache=True)
def np_minimum(a: float, b: float) -> float:
    """np.minimum(a, b) of two float64 scalars: NaN from either side propagates; of two equal
    numbers b, as numpy's loops take it."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@numba.njit(cache=True)
def np_fmax(a: float, b: float) -> float:
    """np.fmax(a, b) of two float64 scalars: a NaN gives way to the other number."""
    if b != b:
        return a
    if a != a:
        return b
    return a if a >= b else b


@numba.njit(cache=True)
def py_max(a: float, b: float) -> float:
    """Python's max(a, b) of two floats: a unless b is greater."""
    return b if b > a else a


@numba.njit(cache=True)
def nan_to_num(x: float) -> float:
    """np.nan_to_num of a float64 scalar: NaN to 0, infinities to the largest finite."""
    if x != x:
        return 0.0
    if x == np.inf:
        return BIG
    if x == -np.inf:
        return -BIG
    return x


@numba.njit(cache=True)
def capacity_scale_into(
    demand: np.ndarray, group: np.ndarray, capacity: np.ndarray, out: np.ndarray
) -> None:
    """game.core.market.capacity_scale(demand, group, capacity), written into out[item]."""
    wanted = np.zeros(capacity.size)
    for k in range(demand.size):
        wanted[group[k]] += demand[k]
    for k in range(demand.size):
        w = wanted[group[k]]
        c = capacity[group[k]]
        out[k] = c / np_maximum(w, 1e-12) if w > c else 1.0
