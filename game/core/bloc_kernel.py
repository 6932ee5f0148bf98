"""Each bloc's best and median capability (game.core.capability: bloc_frontier, bloc_median)
as numba kernels: the month's record asks both every month over a few dozen labs, and in
Python floats they cost more in the interpreter than in arithmetic. The same comparisons, the
same stable order (an insertion sort keeps equal values, 0.0 and -0.0, in lab order as
Python's sort does) and the same (a + b) / 2, so the same numbers to the last bit;
tests/core/test_bloc_kernel.py holds them to the Python forms.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def bloc_frontier_kernel(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the first highest finite capability of its frontier labs, in lab order (NaN
    where none)."""
    out = np.full(n_blocs, -np.inf)
    for i in range(capability.size):
        c = capability[i]
        if frontier[i] and np.isfinite(c) and c > out[bloc[i]]:
            out[bloc[i]] = c
    for b in range(n_blocs):
        if not np.isfinite(out[b]):
            out[b] = np.nan
    return out


@numba.njit(cache=True)
def bloc_median_kernel(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the mean of the middle one or two of its frontier labs' finite capabilities,
    sorted stably (NaN where none)."""
    out = np.empty(n_blocs)
    run = np.empty(capability.size)
    for b in range(n_blocs):
        n = 0
        for i in range(capability.size):
            c = capability[i]
            if bloc[i] == b and frontier[i] and np.isfinite(c):
                j = n  # insertion: after every value not greater (stable)
                while j > 0 and run[j - 1] > c:
                    run[j] = run[j - 1]
                    j -= 1
                run[j] = c
                n += 1
        out[b] = (run[(n - 1) // 2] + run[n // 2]) / 2.0 if n else np.nan
    return out
