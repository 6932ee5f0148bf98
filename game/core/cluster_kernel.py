"""The largest trainable cluster (game.core.capability.largest_cluster_reference) as a numba
kernel, giving its numbers bit for bit: about seven times faster than the numpy code's dozen
calls on [holder, site, chip] arrays (benchmarks/README.md). How kernels keep numpy's numbers:
game/core/exact.py; tests/agents/test_kernels.py holds this one to the reference on real months.

`lab_compute_kernel` is the month's whole measure of the labs' compute (capability.
measure_compute_reference: the chips by site, the largest cluster and pool_flops's operands)
in one call, reading the ledger's counts as they are: the three steps' dozen array arguments,
temporaries and conversions cost more than their arithmetic on a few dozen labs.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _zeros_drop_out(
    site_cap: np.ndarray, contraband_cap: float, flops_per_chip: np.ndarray
) -> bool:
    """Whether a chip a holder has none of at a site may be left out of its clusters there:
    with every chip's FLOP/s finite and not negative and every cap not negative (nor NaN),
    such a chip's FLOP/s in a cluster are a zero, which moves no sum, no largest value that is
    read (an ecosystem's largest is read only when its sum is positive) and no comparison with
    the best so far (never below 0.0). Otherwise (an infinite or NaN FLOP/s would make its
    zero count a NaN) every chip is taken, as largest_cluster_reference takes them."""
    if not contraband_cap >= 0.0:
        return False
    for s in range(site_cap.size):
        if not site_cap[s] >= 0.0:
            return False
    for c in range(flops_per_chip.size):
        f = flops_per_chip[c]
        if not (f >= 0.0 and f < np.inf):
            return False
    return True


@numba.njit(cache=True)
def _holder_cluster(
    counts: np.ndarray,  # [S, C] one holder's chips by site
    site_cap: np.ndarray,
    contraband: np.ndarray,  # [C] its contraband chips
    contraband_cap: float,
    flops_per_chip: np.ndarray,
    ecosystem: np.ndarray,
    heterogeneity_penalty: float,
    home: int,
    sparse: bool,  # _zeros_drop_out
    pick: np.ndarray,  # [S, C] scratch: the chips taken at each site
    n_pick: np.ndarray,  # [S] scratch: how many
    chips_in: np.ndarray,  # [S, E] scratch
    contra_in: np.ndarray,  # [E] scratch
    room: np.ndarray,  # [S, E] scratch
    contra_room: np.ndarray,  # [E] scratch
    total: np.ndarray,  # [E, S] scratch
    top: np.ndarray,  # [E, S] scratch
    seen: np.ndarray,  # [E, S] scratch
) -> float:
    """One holder's largest cluster, as largest_cluster_reference: the best single-model
    cluster and each (ecosystem, site)'s mixed one. A sum over an ecosystem's chips adds them
    in catalogue order, as the reference's reduce over its leading chip axis does. When
    `sparse`, only the chips the holder has at a site are read there (most of the catalogue
    is chips a lab has none of)."""
    n_sites, n_chips = counts.shape
    n_ecosystems = contra_in.size
    for s in range(n_sites):
        k = 0
        for c in range(n_chips):
            if not sparse or counts[s, c] != 0 or (s == home and contraband[c] != 0):
                pick[s, k] = c
                k += 1
        n_pick[s] = k
    single = 0.0
    for s in range(n_sites):
        for j in range(n_pick[s]):
            c = pick[s, j]
            u = min(counts[s, c], site_cap[s])
            if s == home:
                u += min(contraband[c], contraband_cap)
            v = u * flops_per_chip[c]
            if v > single:
                single = v
    # whole counts: any order sums them exactly (a zero left out adds nothing)
    chips_in[:] = 0.0
    contra_in[:] = 0.0
    for s in range(n_sites):
        for j in range(n_pick[s]):
            c = pick[s, j]
            chips_in[s, ecosystem[c]] += counts[s, c]
    for c in range(n_chips):
        contra_in[ecosystem[c]] += contraband[c]
    # each (site, ecosystem)'s scale to its cap, once rather than for each of its chips: the
    # same division of the same numbers
    for e in range(n_ecosystems):
        for s in range(n_sites):
            held = chips_in[s, e]
            room[s, e] = min(1.0, site_cap[s] / held) if held > 0 else 1.0
        k = contra_in[e]
        contra_room[e] = min(1.0, contraband_cap / k) if k > 0 else 1.0
    total[:] = 0.0
    top[:] = 0.0
    seen[:] = False
    for s in range(n_sites):
        for j in range(n_pick[s]):
            c = pick[s, j]
            e = ecosystem[c]
            f = (counts[s, c] * flops_per_chip[c]) * room[s, e]
            if s == home:
                f = f + (contraband[c] * flops_per_chip[c]) * contra_room[e]
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
    return best


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
    """[holder] FLOP/s of each holder's largest cluster, as largest_cluster_reference."""
    n_holders, n_sites, n_chips = counts.shape
    out = np.empty(n_holders)
    chips_in = np.zeros((n_sites, n_ecosystems))
    contra_in = np.zeros(n_ecosystems)
    sparse = _zeros_drop_out(site_cap, contraband_cap, flops_per_chip)
    pick = np.empty((n_sites, n_chips), np.int64)
    n_pick = np.empty(n_sites, np.int64)
    room = np.empty((n_sites, n_ecosystems))
    contra_room = np.empty(n_ecosystems)
    total = np.zeros((n_ecosystems, n_sites))
    top = np.zeros((n_ecosystems, n_sites))
    seen = np.zeros((n_ecosystems, n_sites), np.bool_)
    for h in range(n_holders):
        out[h] = _holder_cluster(
            counts[h],
            site_cap,
            contraband[h],
            contraband_cap,
            flops_per_chip,
            ecosystem,
            heterogeneity_penalty,
            home,
            sparse,
            pick,
            n_pick,
            chips_in,
            contra_in,
            room,
            contra_room,
            total,
            top,
            seen,
        )
    return out


@numba.njit(cache=True)
def lab_compute_kernel(
    held: np.ndarray,  # [H, C] int64 chips held
    by_provenance: np.ndarray,  # [H, C, P] int64
    site_of: np.ndarray,  # [P] each provenance's site
    site_cap: np.ndarray,  # [S] chips of one holder one cluster may hold there
    contraband: int,  # the provenance that stands at home under its own cap
    contraband_cap: float,
    flops_per_chip: np.ndarray,  # [C]
    ecosystem: np.ndarray,  # [C]
    n_ecosystems: int,
    heterogeneity_penalty: float,
    home: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """capability.measure_compute_reference but its matmul: returns [H, C] the chips held as
    float64 and [C, E] each chip's FLOP/s in its ecosystem's column (pool_flops's two
    operands, the products as pool_flops forms them: flops x 1.0 or x 0.0), and [H] the largest
    cluster, from each holder's chips by site (site_counts: whole counts, exact in any
    order) as largest_cluster_kernel reads them."""
    n_holders, n_chips, n_prov = by_provenance.shape
    n_sites = site_cap.size
    held_f = np.empty((n_holders, n_chips))
    for h in range(n_holders):
        for c in range(n_chips):
            held_f[h, c] = float(held[h, c])
    weights = np.empty((n_chips, n_ecosystems))
    for c in range(n_chips):
        for e in range(n_ecosystems):
            weights[c, e] = flops_per_chip[c] * (1.0 if ecosystem[c] == e else 0.0)
    cluster = np.empty(n_holders)
    counts = np.empty((n_sites, n_chips))
    smuggled = np.empty(n_chips)
    chips_in = np.zeros((n_sites, n_ecosystems))
    contra_in = np.zeros(n_ecosystems)
    sparse = _zeros_drop_out(site_cap, contraband_cap, flops_per_chip)
    pick = np.empty((n_sites, n_chips), np.int64)
    n_pick = np.empty(n_sites, np.int64)
    room = np.empty((n_sites, n_ecosystems))
    contra_room = np.empty(n_ecosystems)
    total = np.zeros((n_ecosystems, n_sites))
    top = np.zeros((n_ecosystems, n_sites))
    seen = np.zeros((n_ecosystems, n_sites), np.bool_)
    for h in range(n_holders):
        counts[:] = 0.0
        for c in range(n_chips):
            for p in range(n_prov):
                x = float(by_provenance[h, c, p])
                if p == contraband:
                    smuggled[c] = x
                else:
                    counts[site_of[p], c] += x
        cluster[h] = _holder_cluster(
            counts,
            site_cap,
            smuggled,
            contraband_cap,
            flops_per_chip,
            ecosystem,
            heterogeneity_penalty,
            home,
            sparse,
            pick,
            n_pick,
            chips_in,
            contra_in,
            room,
            contra_room,
            total,
            top,
            seen,
        )
    return held_f, weights, cluster
