"""The month's record (game.sim.results.bloc_arrays) as one numba kernel giving the numpy
reference's numbers bit for bit: the blocs' sums, shares and flows, and each bloc's largest run
and technique multiplier, which the reference computes in a dozen small numpy calls and a
Python loop over the labs every month.

bloc_record makes the labs' chips by provenance in H100e too (held_h100e: numpy's einsum's
order, held to it by tests/agents/test_kernels_labrest.py). What stays outside: everything read
from other modules (the smoothed frontier, the gaps, the medians). How the
kernel keeps numpy's numbers: game/core/exact.py. tests/agents/test_kernels_rec.py holds it to
results.bloc_columns_reference on real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import reduce_sum

# the rows of bloc_table's float table, in the order of the results' columns
FLOAT_ROWS = (
    "frontier_capability",
    "median_capability",
    "gap_months",
    "compute_h100e",
    "effective_compute_h100e",
    "legal_share",
    "compliant_share",
    "domestic_share",
    "smuggled_share",
    "rented_share",
    "spending_usd",
    "vendor_revenue_usd",
    "budget_usd",
    "algorithmic_efficiency",
    "largest_run_flop",
    "technique_multiplier",
)
INT_ROWS = ("chips_smuggled", "chips_seized", "chips_bought")


@numba.njit(cache=True)
def bloc_table_into(
    h100e_lp: np.ndarray,  # [L, P] the labs' H100e by provenance (the reference's einsum)
    bloc: np.ndarray,  # [L] int64
    n_blocs: int,
    pool_flops: np.ndarray,  # [L, K] the labs' pools (view.lab_pool_flops)
    smuggled: np.ndarray,  # [L] int64
    seized: np.ndarray,  # [L] int64
    bought: np.ndarray,  # [L] int64
    spent: np.ndarray,  # [L]
    founded: np.ndarray,  # [L] int64
    month: int,
    budget: np.ndarray,  # [L]
    reference_flops: float,  # the reference chip's FLOP/s (tflops * 1e12, numpy's product)
    best_run: np.ndarray,  # [L]
    is_frontier: np.ndarray,  # [L] bool
    capability: np.ndarray,  # [L]
    gain: np.ndarray,  # [L]
    frontier: np.ndarray,  # [B] the blocs' frontier this month
    median: np.ndarray,  # [B] (copied)
    gaps: np.ndarray,  # [B] (copied)
    revenue: np.ndarray,  # [B] (copied)
    efficiency: np.ndarray,  # [B] (copied)
    out: np.ndarray,  # [FLOAT_ROWS, B] written whole
    counts: np.ndarray,  # [INT_ROWS, B] int64 written whole
) -> None:
    """Writes ([FLOAT_ROWS, B] floats, [INT_ROWS, B] int64): bloc_columns_reference's numbers,
    its columns as rows, in its orders: a bincount adds each bin's labs in lab order from 0.0;
    a row's sum is numpy's pairwise sum; the counts' float sums cast as astype(np.int64).
    Written into the caller's arrays: the results table's own rows for the month, which a
    returned pair would be copied into."""
    L, P = h100e_lp.shape
    B = n_blocs
    bloc_prov = np.zeros((B, P))
    for i in range(L):
        for p in range(P):
            bloc_prov[bloc[i], p] += h100e_lp[i, p]
    for b in range(B):
        out[0, b] = frontier[b]
        out[1, b] = median[b]
        out[2, b] = gaps[b]
        compute = reduce_sum(bloc_prov[b], P)
        out[3, b] = compute
        for p in range(P):
            out[5 + p, b] = bloc_prov[b, p] / compute if compute > 0 else 0.0
        out[11, b] = revenue[b]
        out[13, b] = efficiency[b]
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
    for b in range(B):
        out[4, b] = flows[0, b] / reference_flops
        counts[0, b] = np.int64(flows[1, b])
        counts[1, b] = np.int64(flows[2, b])
        counts[2, b] = np.int64(flows[3, b])
        out[10, b] = flows[4, b]
        out[12, b] = flows[5, b]
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
        out[14, b] = runs[b] if runs[b] > 0 else np.nan
        out[15, b] = gains[b]


@numba.njit(cache=True)
def bloc_table(
    h100e_lp: np.ndarray,
    bloc: np.ndarray,
    n_blocs: int,
    pool_flops: np.ndarray,
    smuggled: np.ndarray,
    seized: np.ndarray,
    bought: np.ndarray,
    spent: np.ndarray,
    founded: np.ndarray,
    month: int,
    budget: np.ndarray,
    reference_flops: float,
    best_run: np.ndarray,
    is_frontier: np.ndarray,
    capability: np.ndarray,
    gain: np.ndarray,
    frontier: np.ndarray,
    median: np.ndarray,
    gaps: np.ndarray,
    revenue: np.ndarray,
    efficiency: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """bloc_table_into's numbers as a new pair ([FLOAT_ROWS, B], [INT_ROWS, B] int64)."""
    out = np.empty((16, n_blocs))
    counts = np.empty((3, n_blocs), np.int64)
    bloc_table_into(
        h100e_lp, bloc, n_blocs, pool_flops, smuggled, seized, bought, spent, founded, month,
        budget, reference_flops, best_run, is_frontier, capability, gain, frontier, median,
        gaps, revenue, efficiency, out, counts,
    )
    return out, counts


@numba.njit(cache=True)
def held_h100e(
    by_provenance: np.ndarray,
    h100e: np.ndarray,
) -> np.ndarray:
    """np.einsum("lcp,c->lp", by_provenance.astype(float), h100e): each (lab, provenance)'s
    chips one after another in chip order from 0.0, the order numpy's einsum takes for that
    signature with two provenances or more (the ledger has five; with one, numpy sums the
    contiguous chip axis unrolled, in another order). tests/agents/test_kernels_labrest.py
    holds the two to each other."""
    L, C, P = by_provenance.shape
    out = np.empty((L, P))
    for i in range(L):
        for p in range(P):
            acc = 0.0
            for c in range(C):
                acc += float(by_provenance[i, c, p]) * h100e[c]
            out[i, p] = acc
    return out


@numba.njit(cache=True)
def bloc_record_into(
    by_provenance: np.ndarray,  # [L, C, P] int64 the labs' chips (ledger.by_provenance)
    h100e: np.ndarray,  # [C]
    bloc: np.ndarray,
    n_blocs: int,
    pool_flops: np.ndarray,
    smuggled: np.ndarray,
    seized: np.ndarray,
    bought: np.ndarray,
    spent: np.ndarray,
    founded: np.ndarray,
    month: int,
    budget: np.ndarray,
    reference_flops: float,
    best_run: np.ndarray,
    is_frontier: np.ndarray,
    capability: np.ndarray,
    gain: np.ndarray,
    frontier: np.ndarray,
    median: np.ndarray,
    gaps: np.ndarray,
    revenue: np.ndarray,
    efficiency: np.ndarray,
    out: np.ndarray,
    counts: np.ndarray,
) -> None:
    """bloc_table_into with the labs' H100e by provenance (held_h100e) made in the same call."""
    bloc_table_into(
        held_h100e(by_provenance, h100e),
        bloc,
        n_blocs,
        pool_flops,
        smuggled,
        seized,
        bought,
        spent,
        founded,
        month,
        budget,
        reference_flops,
        best_run,
        is_frontier,
        capability,
        gain,
        frontier,
        median,
        gaps,
        revenue,
        efficiency,
        out,
        counts,
    )


@numba.njit(cache=True)
def sales_rows(
    units: np.ndarray,  # [C, B] int64 units sold, by chip and bloc billed
    price: np.ndarray,  # [C] vendor prices
    vendor: np.ndarray,  # [C] each chip's vendor
    markup: np.ndarray,  # [V] each vendor's china_price markup (read when marked_up)
    marked_up: bool,
    china_bloc: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """results.sales_arrays_reference's rows ([row] chip, bloc, units, revenue) in one call:
    the reference's nonzero, gathers and products cost a dozen numpy calls every month. The
    rows in (chip, bloc) order as np.nonzero gives them; revenue as its products group it,
    (units x price) x (1 + markup on the China bloc's rows, else 1), and no factor at all when
    no vendor marks up (the reference's scalar 1.0: x * 1.0 is x)."""
    C, B = units.shape
    n_rows = 0
    for c in range(C):
        for b in range(B):
            if units[c, b] != 0:
                n_rows += 1
    chip = np.empty(n_rows, np.int64)
    bloc = np.empty(n_rows, np.int64)
    sold = np.empty(n_rows, np.int64)
    revenue = np.empty(n_rows)
    k = 0
    for c in range(C):
        for b in range(B):
            n = units[c, b]
            if n != 0:
                chip[k], bloc[k], sold[k] = c, b, n
                r = float(n) * price[c]
                if marked_up:
                    r = r * ((1.0 + markup[vendor[c]]) if b == china_bloc else 1.0)
                revenue[k] = r
                k += 1
    return chip, bloc, sold, revenue
