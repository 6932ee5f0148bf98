"""The model's own small array phases (game/sim/model.py, game/sim/market_view.py) as numba
kernels, giving their numpy references' answers bit for bit: each replaces a handful of numpy
calls on arrays of a few vendors, chips or labs, asked once or twice a month, where numpy's
per-call overhead is the whole cost. How they keep numpy's numbers: game/core/exact.py (row sums
pairwise, np.bincount's sums in input order per bin from 0.0, elementwise products as numpy
groups them). tests/agents/test_kernels_view.py holds each to its reference on real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import pairwise_sum


@numba.njit(cache=True)
def vendor_units(
    vendor: np.ndarray, used: np.ndarray, weights: np.ndarray, n_vendors: int
) -> np.ndarray:
    """np.bincount(vendor[used], weights=weights[used], minlength=n_vendors) (float64 weights,
    or whole counts converted to float64): each vendor's sum in the chips' order, from 0.0."""
    out = np.zeros(n_vendors)
    for c in range(vendor.size):
        if used[c]:
            out[vendor[c]] += float(weights[c])
    return out


@numba.njit(cache=True)
def stacks_drawn(
    vendor: np.ndarray,
    used: np.ndarray,
    bought: np.ndarray,
    per_chip: np.ndarray,
    china: np.ndarray,
) -> float:
    """model._draw_hbm_stockpile's stacks: chips bought of each vendor (vendor_units) times its
    stacks per chip, summed over China's vendors in vendor order (np.add.reduce over the
    masked products: a contiguous run, numpy's pairwise sum)."""
    sold = vendor_units(vendor, used, bought, per_chip.size)
    picked = np.empty(per_chip.size)
    n = 0
    for v in range(per_chip.size):
        if china[v]:
            picked[n] = sold[v] * per_chip[v]
            n += 1
    return 0.0 + pairwise_sum(picked, 0, n)


@numba.njit(cache=True)
def value_factors(
    gap0: np.ndarray,
    gap_scale: float,
    ecosystem: np.ndarray,
    peak_flops: np.ndarray,
    h100e: np.ndarray,
    link: np.ndarray,
    bandwidth0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """market_view._value_reference before its powers: [ecosystem] the starting gaps to CUDA
    and the share of them left (`gap_scale`) -> [chip] usable FLOP/s, H100 equivalents and
    bandwidth against an H100's, each as numpy groups it ((peak * eco) * link)."""
    n = ecosystem.size
    flops = np.empty(n)
    compute = np.empty(n)
    bandwidth = np.empty(n)
    for c in range(n):
        eco = 1.0 - gap0[ecosystem[c]] * gap_scale
        flops[c] = peak_flops[c] * eco * link[c]
        compute[c] = h100e[c] * eco * link[c]
        bandwidth[c] = bandwidth0[c] * eco
    return flops, compute, bandwidth


@numba.njit(cache=True)
def purchase_table(
    train: np.ndarray,
    train_bw: np.ndarray,
    serve: np.ndarray,
    serve_bw: np.ndarray,
    used: np.ndarray,
) -> np.ndarray:
    """market_view._value_reference's [buyer kind, chip] purchase value from its powers: the
    two products, 0.0 for chips not in use."""
    n = used.size
    out = np.empty((2, n))
    for c in range(n):
        if used[c]:
            out[0, c] = train[c] * train_bw[c]
            out[1, c] = serve[c] * serve_bw[c]
        else:
            out[0, c] = 0.0
            out[1, c] = 0.0
    return out


@numba.njit(cache=True)
def cap_left_kernel(capped: np.ndarray, cap: float, cap_used: np.ndarray) -> np.ndarray:
    """np.where(capped, np.maximum(cap - cap_used, 0.0), np.inf): [country] H100e left."""
    out = np.empty(capped.size)
    for k in range(capped.size):
        if capped[k]:
            x = cap - cap_used[k]
            out[k] = x if (x >= 0.0 or x != x) else 0.0
        else:
            out[k] = np.inf
    return out


@numba.njit(cache=True)
def variant_market_kernel(
    country: np.ndarray,
    founded: np.ndarray,
    budget: np.ndarray,
    month: int,
    closed: np.ndarray,
) -> int:
    """market_view._derive_markets_reference's variant market: each closed country's active
    labs' budgets (np.bincount: in lab order from 0.0), -1 for the open ones, and np.argmax's
    first of the largest (a NaN first of all)."""
    demand = np.zeros(closed.size)
    for i in range(country.size):
        demand[country[i]] += budget[i] if founded[i] <= month else 0.0
    best = 0
    v = demand[0] if closed[0] else -1.0
    if v != v:
        return 0
    for k in range(1, closed.size):
        x = demand[k] if closed[k] else -1.0
        if x != x:
            return k
        if x > v:
            v = x
            best = k
    return best
