"""From training compute to capability, and the gap between blocs in months.

Capability index = points_per_decade x (log10(effective training FLOP) - 20), where effective
training FLOP = physical FLOP of a lab's training run x its bloc's algorithmic efficiency
(1 in October 2022). Each tenfold of effective compute adds the same number of points (10 by
default): GPT-4 (~2e25 FLOP, 2023) scores about 53, a 1e26 FLOP run with 2025 algorithms about 70.
A log-compute index keeps the scaling-law intuition (steady gains need exponential compute) and
makes the gap in months well defined.
"""

from __future__ import annotations

import numpy as np

SECONDS_PER_MONTH = 365.25 * 24 * 3600 / 12


def capability_index(effective_flop: np.ndarray | float, points_per_decade: float) -> np.ndarray:
    """NaN where there is no model yet (zero compute)."""
    f = np.asarray(effective_flop, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            f > 0, points_per_decade * (np.log10(np.where(f > 0, f, 1.0)) - 20.0), np.nan
        )


def grow_efficiency(
    efficiency: np.ndarray,
    months_elapsed: int,
    doubling_months: float,
    scarcity: np.ndarray,
    bonus: float,
    decay: float,
) -> np.ndarray:
    """Algorithmic efficiency per bloc after one more month.

    Everyone rides the common frontier, doubling every `doubling_months` (Ho et al. measure the
    world's progress). A bloc whose labs hold only a fraction of the compute per dollar others
    do (scarcity 0..1, see compute_scarcity) progresses up to `bonus` faster (quantisation,
    sparsity, distillation), but its lead over the common frontier fades by `decay` a month as
    the ideas spread, so scarcity buys a lasting but bounded edge, not a runaway.
    """
    rate = np.log(2.0) / doubling_months
    common = rate * months_elapsed
    lead = np.log(efficiency) - (common - rate)
    lead = lead * (1.0 - decay) + bonus * np.clip(scarcity, 0.0, 1.0) * rate
    return np.exp(common + lead)


def compute_scarcity(
    flops: np.ndarray, budget: np.ndarray, counted: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] scarcity 0..1: one minus the usable compute (FLOP/s held) per dollar of monthly
    budget of the bloc's counted labs (its active frontier labs), over the best-supplied bloc's.

    It measures compute actually obtained, whatever the route: smuggled and rented chips relieve
    scarcity, and so do a stockpile or a subsidy; controls that are evaded do not create it.
    Per dollar of budget rather than per lab, so that a poorer bloc is not scarce for being
    poor: what drives efficiency under constraint ('necessity breeds innovation') is getting
    less compute for the money. 0 for the best-supplied bloc and for blocs with no such labs.
    """
    held = np.bincount(bloc, weights=np.where(counted, flops, 0.0), minlength=n_blocs)
    money = np.bincount(bloc, weights=np.where(counted, budget, 0.0), minlength=n_blocs)
    per_dollar = np.divide(held, money, out=np.full(n_blocs, np.nan), where=money > 0)
    if not np.isfinite(per_dollar).any() or np.nanmax(per_dollar) <= 0:
        return np.zeros(n_blocs)
    ratio = per_dollar / np.nanmax(per_dollar)
    return np.where(np.isfinite(ratio), 1.0 - np.clip(ratio, 0.0, 1.0), 0.0)


def gap_months(
    current: np.ndarray, history: np.ndarray, leader: int, points_per_month_before: float
) -> np.ndarray:
    """For each bloc, how many months ago the leader first reached that bloc's capability now.

    history: [months so far, bloc] frontier capability, last row = now. Before the first month
    the leader's capability is extrapolated back at `points_per_month_before` (the pre-2022 trend).
    """
    lead = np.fmax.accumulate(np.nan_to_num(history[:, leader], nan=-np.inf))
    now = len(lead) - 1
    out = np.full(current.shape, np.nan)
    for b, c in enumerate(current):
        if np.isnan(c):
            continue
        if c >= lead[-1]:
            out[b] = 0.0
            continue
        i = int(np.searchsorted(lead, c, side="left"))  # first month the leader was >= c
        if i == 0:
            before = (lead[0] - c) / points_per_month_before if points_per_month_before > 0 else 0.0
            out[b] = now + before
        else:
            lo, hi = lead[i - 1], lead[i]
            frac = (c - lo) / (hi - lo) if np.isfinite(lo) and hi > lo else 1.0
            out[b] = now - (i - 1 + frac)
    return out


def bloc_frontier(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the best capability among a bloc's frontier labs (NaN where none has a model)."""
    out = np.full(n_blocs, np.nan)
    cap = np.where(frontier, capability, np.nan)
    for b in range(n_blocs):
        mine = cap[bloc == b]
        if np.isfinite(mine).any():
            out[b] = np.nanmax(mine)
    return out


def bloc_median(
    capability: np.ndarray, frontier: np.ndarray, bloc: np.ndarray, n_blocs: int
) -> np.ndarray:
    """[bloc] the median capability of a bloc's frontier labs (NaN where none has a model)."""
    out = np.full(n_blocs, np.nan)
    for b in range(n_blocs):
        mine = capability[(bloc == b) & frontier]
        if np.isfinite(mine).any():
            out[b] = np.nanmedian(mine)
    return out


def released_foreign(history: list[np.ndarray], lag_months: int) -> np.ndarray:
    """[bloc] the best model of any other bloc old enough to have been released (`lag_months`
    ago): what a follower can distil from."""
    then = history[max(0, len(history) - 1 - lag_months)]
    out = np.full(then.size, np.nan)
    for b in range(then.size):
        others = np.delete(then, b)
        if np.isfinite(others).any():
            out[b] = np.nanmax(others)
    return out


def pool_flops(
    held: np.ndarray, flops_per_chip: np.ndarray, ecosystem: np.ndarray, n_ecosystems: int
) -> np.ndarray:
    """[holder, ecosystem] usable FLOP/s of each holder's chips [holder, chip] in each software
    ecosystem's pool (CUDA, ROCm, CANN): a pool runs its own workloads, so holding several
    costs nothing by itself (each chip's own ecosystem factor is already in flops_per_chip)."""
    onehot = np.eye(n_ecosystems)[ecosystem]  # [C, E]
    return held @ (flops_per_chip[:, None] * onehot)


def training_flops(pools: np.ndarray, run_share: float, heterogeneity_penalty: float) -> np.ndarray:
    """[holder] FLOP/s of each holder's largest training run, from its pools [holder, ecosystem].

    The run takes `run_share` of the fleet's FLOP/s and is built in the largest single-ecosystem
    pool: the rest of the fleet serves models and trains smaller runs, which any pool can do.
    Only the part of a run too big for that pool spills into other ecosystems, and the run's
    cluster then mixes them: a cluster split evenly loses `heterogeneity_penalty`, less as the
    split is lopsided (the whole fleet is no longer penalised for holding two ecosystems).
    """
    total = pools.sum(axis=1)
    want = run_share * total
    top = pools.max(axis=1) if pools.shape[1] else np.zeros_like(total)
    in_top = np.divide(np.minimum(want, top), want, out=np.ones_like(want), where=want > 0)
    mixed = np.minimum(1.0, 2.0 * (1.0 - in_top))
    return want * (1.0 - heterogeneity_penalty * mixed)
