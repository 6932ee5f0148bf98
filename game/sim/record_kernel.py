"""The month's record (game.sim.results.bloc_columns) as one numba kernel giving the numpy
reference's numbers bit for bit: the blocs' sums, shares and flows, and each bloc's largest run
and technique multiplier, which the reference computes in a dozen small numpy calls and a
Python loop over the labs every month.

What stays in numpy: the einsum of the labs' chips by provenance (its own summation loop), and
everything read from other modules (the smoothed frontier, the gaps, the medians). How the
kernel keeps numpy's numbers: game/core/exact.py. tests/agents/test_kernels_rec.py holds it to
results.bloc_columns_reference on real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import reduce_sum


@numba.njit(cache=True)
def bloc_arrays(
    h100e_lp,  # [L, P] the labs' H100e by provenance (the reference's einsum)
    bloc,  # [L] int64
    n_blocs,
    pool_flops,  # [L, K] the labs' pools (view.lab_pool_flops)
    smuggled,  # [L] int64
    seized,  # [L] int64
    bought,  # [L] int64
    spent,  # [L]
    founded,  # [L] int64
    month,
    budget,  # [L]
    reference_flops,  # the reference chip's FLOP/s (tflops * 1e12, numpy's product)
    best_run,  # [L]
    is_frontier,  # [L] bool
    capability,  # [L]
    gain,  # [L]
    frontier,  # [B] the blocs' frontier this month
):
    """(bloc_prov [B, P], compute [B], shares [B, P], flows [6, B], eff [B], runs [B],
    gains [B]): bloc_columns' arrays, in its orders: a bincount adds each bin's labs in lab
    order from 0.0; a row's sum is numpy's pairwise sum."""
    L, P = h100e_lp.shape
    B = n_blocs
    bloc_prov = np.zeros((B, P))
    for i in range(L):
        for p in range(P):
            bloc_prov[bloc[i], p] += h100e_lp[i, p]
    compute = np.empty(B)
    shares = np.zeros((B, P))
    for b in range(B):
        compute[b] = reduce_sum(bloc_prov[b], P)
        if compute[b] > 0:
            for p in range(P):
                shares[b, p] = bloc_prov[b, p] / compute[b]
    flows = np.zeros((6, B))  # pool, smuggled, seized, bought, spent, budget
    K = pool_flops.shape[1]
    for i in range(L):
        b = bloc[i]
        flows[0, b] += reduce_sum(pool_flops[i], K)
        flows[1, b] += float(smuggled[i])
        flows[2, b] += float(seized[i])
        flows[3, b] += float(bought[i])
        flows[4, b] += spent[i]
        flows[5, b] += budget[i] if founded[i] <= month else 0.0
    eff = np.empty(B)
    for b in range(B):
        eff[b] = flows[0, b] / reference_flops
    # _best_runs: np.maximum over the labs (NaN kept), then NaN where no run is positive; the
    # multiplier of the first frontier lab at its bloc's frontier (1 if none)
    runs = np.full(B, -np.inf)
    gains = np.ones(B)
    found = np.zeros(B, np.bool_)
    for i in range(L):
        b = bloc[i]
        r = best_run[i]
        if r != r or r > runs[b]:
            runs[b] = r
        if is_frontier[i] and not found[b] and capability[i] == frontier[b]:
            found[b] = True
            gains[b] = gain[i]
    for b in range(B):
        if not runs[b] > 0:
            runs[b] = np.nan
    return bloc_prov, compute, shares, flows, eff, runs, gains
