"""The labs' training month (agents.lab.train_reference) as numba kernels giving its numbers
bit for bit: the runs' growth, the scale-up bound, the runs that end, their capability and
what the labs keep of them were some sixty numpy calls on [lab] arrays of a few dozen, each
costing more in dispatch than in arithmetic (the capability functions it called stay in
game/core/capability.py for the other callers).

What stays in numpy: the powers (run_reach's growth, technique_gain) and the log10 of
capability_index, between the kernels. How the kernels keep numpy's numbers:
game/core/exact.py. tests/agents/test_kernels_lab.py holds them to the numpy reference on
real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import np_fmax, np_maximum, np_minimum


@numba.njit(cache=True)
def _unit(x: float) -> float:
    """capability._unit of one number: np.minimum(np.maximum(x, 0), 1)."""
    return np_minimum(np_maximum(x, 0.0), 1.0)


@numba.njit(cache=True)
def exponents(
    ref_run_month: np.ndarray,  # [L] int64
    month: int,
    scarcity: np.ndarray,  # [B]
    bloc: np.ndarray,  # [L] int64
    since_moe: float,
    rich_share: float,
    rich_lag_months: float,
    since: np.ndarray,  # [L] out (train's month's workspace)
    adoption: np.ndarray,  # [L] out
) -> float:
    """The exponents of the month's two powers, written into since and adoption (an array
    handed to Python costs more than this arithmetic): [L] months since each lab's reference
    run / 12 (capability.run_reach) and [L] its adoption of the training technique
    (capability.technique_adoption at its bloc's scarcity); returns the largest of the first
    (0.0 for no lab), which tells whether the growth can overflow."""
    n = ref_run_month.size
    fallback = 1.0 if since_moe >= 0 else 0.0
    furthest = 0.0
    for i in range(n):
        since[i] = np_maximum(0.0, float(month) - float(ref_run_month[i])) / 12.0
        if since[i] > furthest:
            furthest = since[i]
        s = _unit(scarcity[bloc[i]])
        target = rich_share + (1.0 - rich_share) * s
        lag = rich_lag_months * (1.0 - s)
        ramp = since_moe / lag if lag > 0 else fallback
        adoption[i] = target * _unit(ramp)
    return furthest


@numba.njit(cache=True)
def run_month(
    frontier: np.ndarray,  # [L] bool
    founded: np.ndarray,  # [L] int64
    month: int,
    cluster_flops: np.ndarray,  # [L]
    run_share: float,
    mfu: float,
    seconds_per_month: float,
    ref_run_flop: np.ndarray,  # [L]
    growth: np.ndarray,  # [L] np.power(growth_per_year, since)
    bloc: np.ndarray,  # [L] int64
    n_blocs: int,
    run_months: int,
    efficiency: np.ndarray,  # [B]
    gain: np.ndarray,  # [L] technique_gain
    own_efficiency: np.ndarray,  # [L]
    run_flop: np.ndarray,  # [L] in/out
    run_age: np.ndarray,  # [L] int64 in/out
    done: np.ndarray,  # [L] bool out (train's month's workspace)
    reach: np.ndarray,  # [L] out
    eff: np.ndarray,  # [L] out
    arg: np.ndarray,  # [L] out
) -> int:
    """train's runs: grows and bounds them (in place), and writes done [L] (runs that end),
    reach [L], eff [L] (their effective FLOP) and the log10 argument of capability_index into
    the arrays given (each array handed to Python costs more than its arithmetic); returns
    how many runs end."""
    n = frontier.size
    best = np.zeros(n_blocs)
    for i in range(n):
        f = ref_run_flop[i]
        reach[i] = f * growth[i] if f > 0 else 0.0
        best[bloc[i]] = np_maximum(best[bloc[i]], reach[i])
    for b in range(n_blocs):
        if not best[b] > 0:
            best[b] = np.inf
    n_done = 0
    for i in range(n):
        active = frontier[i] and founded[i] <= month
        flop = run_share * cluster_flops[i] * mfu * seconds_per_month
        run_flop[i] = run_flop[i] + (flop if active else 0.0)
        run_flop[i] = np_minimum(run_flop[i], best[bloc[i]])
        if active:
            run_age[i] += 1
        done[i] = active and run_age[i] >= run_months and run_flop[i] > 0
        n_done += done[i]
        e = run_flop[i] * efficiency[bloc[i]] * gain[i] * own_efficiency[i]
        eff[i] = e
        arg[i] = e if e > 0 else 1.0
    return n_done


@numba.njit(cache=True)
def released_from(then: np.ndarray) -> np.ndarray:
    """capability.released_foreign of the frontier row `then` [B] it picks: for each bloc the
    best of the others (the best of all, or for the bloc that holds it the second best, the
    same again on a tie), NaN where none has a model; NaN reads as -inf, as its sort does.
    Comparisons only: its numbers exactly."""
    n = then.size
    out = np.full(n, np.nan)
    if n < 2:
        return out
    first = -np.inf  # the sorted list's last two
    second = -np.inf
    for b in range(n):
        v = then[b] if then[b] == then[b] else -np.inf
        if v > first:
            second = first
            first = v
        elif v > second:
            second = v
    for b in range(n):
        v = then[b] if then[b] == then[b] else -np.inf
        best = second if v == first else first
        if np.isfinite(best):
            out[b] = best
    return out


@numba.njit(cache=True)
def finish_runs(
    done: np.ndarray,  # [L] bool
    reach: np.ndarray,  # [L]
    eff: np.ndarray,  # [L]
    log10_eff: np.ndarray,  # [L] np.log10 of run_month's argument
    points_per_decade: float,
    share: np.ndarray,  # [L] distillation_share
    then: np.ndarray,  # [B] the frontier released_foreign reads (released_from)
    gain: np.ndarray,  # [L]
    frontier: np.ndarray,  # [L] bool
    bloc: np.ndarray,  # [L] int64
    n_blocs: int,
    month: int,
    capability: np.ndarray,  # [L] in/out
    technique_gain: np.ndarray,  # [L] in/out
    best_eff_flop: np.ndarray,  # [L] in/out
    ref_run_flop: np.ndarray,  # [L] in/out
    ref_run_month: np.ndarray,  # [L] int64 in/out
    best_run_flop: np.ndarray,  # [L] in/out
    run_age: np.ndarray,  # [L] int64 in/out
    run_flop: np.ndarray,  # [L] in/out
) -> np.ndarray:
    """train's ended runs: the labs' new capability and what they keep of the run, in place;
    returns the labs whose model beat their bloc's frontier (ascending)."""
    n = done.size
    released = released_from(then)
    before = np.full(n_blocs, -np.inf)  # capability.bloc_frontier
    for i in range(n):
        c = capability[i]
        if frontier[i] and np.isfinite(c) and c > before[bloc[i]]:
            before[bloc[i]] = c
    for b in range(n_blocs):
        if not np.isfinite(before[b]):
            before[b] = np.nan
    records = np.zeros(n, np.bool_)
    n_records = 0
    for i in range(n):
        f = eff[i]
        own = points_per_decade * (log10_eff[i] - 20.0) if f > 0 else np.nan
        gap = np_fmax(released[bloc[i]] - own, 0.0)
        distilled = own + share[i] * gap
        old = capability[i]
        new_cap = np_fmax(old, distilled) if done[i] else old
        if done[i] and new_cap > np_fmax(before[bloc[i]], -np.inf):
            records[i] = True
            n_records += 1
        if new_cap > np_fmax(old, -np.inf):
            technique_gain[i] = gain[i]
        capability[i] = new_cap
        if done[i]:
            best_eff_flop[i] = np_maximum(best_eff_flop[i], f)
            if run_flop[i] > reach[i]:
                ref_run_flop[i] = run_flop[i]
                ref_run_month[i] = month
            best_run_flop[i] = np_maximum(best_run_flop[i], run_flop[i])
            run_age[i] = 0
            run_flop[i] = 0.0
    out = np.empty(n_records, np.int64)
    k = 0
    for i in range(n):
        if records[i]:
            out[k] = i
            k += 1
    return out
