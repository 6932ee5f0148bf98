"""The month's algorithmic progress (game.core.capability.grow_efficiency) between numpy's log
and exp as one numba kernel, giving grow_efficiency_reference's numbers bit for bit: the
reference's half-dozen elementwise calls on a few blocs cost more in numpy's dispatch than in
arithmetic. The log and the exp stay numpy's (its SIMD versions differ from libm in the last
bit). How kernels keep numpy's numbers: game/core/exact.py; tests/agents/test_kernels_labrest.py
holds this one to the reference, by Hypothesis and on real months."""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import np_maximum, np_minimum


@numba.njit(cache=True)
def efficiency_exponent(
    log_efficiency: np.ndarray,
    common: float,
    rate: float,
    keep: float,
    bonus: float,
    scarcity: np.ndarray,
) -> np.ndarray:
    """[bloc] common + lead, the reference's exponent: lead = (log_efficiency - (common -
    rate)) * keep + bonus * clip(scarcity, 0, 1) * rate, grouped as numpy groups it (keep is
    1 - decay, clip is np.minimum(np.maximum(x, 0), 1))."""
    out = np.empty(log_efficiency.size)
    behind = common - rate
    for b in range(log_efficiency.size):
        unit = np_minimum(np_maximum(scarcity[b], 0.0), 1.0)
        lead = (log_efficiency[b] - behind) * keep + bonus * unit * rate
        out[b] = common + lead
    return out
