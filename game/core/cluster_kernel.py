"""The largest trainable cluster (game.core.capability.largest_cluster_reference) as a numba
kernel, giving its numbers bit for bit: about seven times faster than the numpy code's dozen
calls on [holder, site, chip] arrays (benchmarks/README.md). How kernels keep numpy's numbers:
game/core/exact.py; tests/agents/test_kernels.py holds this one to the reference on real months.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def largest_cluster_kernel(
    counts: np.ndarray,
    site_cap: np.ndarray,
    contraband: np.ndarray,
    contraband_cap: float,
    flops_per_chip: np.ndarray,
    ecosystem: np.ndarray,
    n_ecosystems: int,
    heterogeneity_penalty: float,
    home: int,
) -> np.ndarray:
    """[holder] FLOP/s of each holder's largest cluster, as largest_cluster_reference: per
    holder, the best single-model cluster and each (ecosystem, site)'s mixed one. A sum over an
    ecosystem's chips adds them in catalogue order, as the reference's reduce over its leading
    chip axis does."""
    n_holders, n_sites, n_chips = counts.shape
    out = np.empty(n_holders)
    chips_in = np.zeros((n_sites, n_ecosystems))
    contra_in = np.zeros(n_ecosystems)
    total = np.zeros((n_ecosystems, n_sites))
    top = np.zeros((n_ecosystems, n_sites))
    seen = np.zeros((n_ecosystems, n_sites), np.bool_)
    for h in range(n_holders):
        single = 0.0
        for s in range(n_sites):
            for c in range(n_chips):
                u = min(counts[h, s, c], site_cap[s])
                if s == home:
                    u += min(contraband[h, c], contraband_cap)
                v = u * flops_per_chip[c]
                if v > single:
                    single = v
        # whole counts: any order sums them exactly
        chips_in[:] = 0.0
        contra_in[:] = 0.0
        for s in range(n_sites):
            for c in range(n_chips):
                chips_in[s, ecosystem[c]] += counts[h, s, c]
        for c in range(n_chips):
            contra_in[ecosystem[c]] += contraband[h, c]
        total[:] = 0.0
        top[:] = 0.0
        seen[:] = False
        for s in range(n_sites):
            for c in range(n_chips):
                e = ecosystem[c]
                held = chips_in[s, e]
                room = min(1.0, site_cap[s] / held) if held > 0 else 1.0
                f = (counts[h, s, c] * flops_per_chip[c]) * room
                if s == home:
                    k = contra_in[e]
                    contra_room = min(1.0, contraband_cap / k) if k > 0 else 1.0
                    f = f + (contraband[h, c] * flops_per_chip[c]) * contra_room
                if seen[e, s]:
                    total[e, s] = total[e, s] + f
                    if f > top[e, s]:
                        top[e, s] = f
                else:
                    total[e, s] = f
                    top[e, s] = f
                    seen[e, s] = True
        best = single
        for e in range(n_ecosystems):
            for s in range(n_sites):
                t = total[e, s]
                in_top = top[e, s] / t if t > 0 else 1.0
                mixed = t * (1.0 - heterogeneity_penalty * min(1.0, 2.0 * (1.0 - in_top)))
                if mixed > best:
                    best = mixed
        out[h] = best
    return out
