"""The gap's running pieces (game.core.capability: RunningCycleMean, RunningLeaderPath,
gap_months) as numba kernels.

Why: the results read every bloc's gap every month; in Python floats the running means, the
leader's path and the gap cost about 40 us a month (4% of a run), nearly all of it the
interpreter. The arithmetic is the same IEEE operations on the same numbers in the same order
(a running sum, one division, np.interp's two-point formula, a binary search on a sorted
path), so the results are the same to the last bit; tests/core/test_capability.py holds the
running forms to cycle_mean and leader_path over whole histories, and gap_months to its
array form.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def cycle_append(
    total: np.ndarray, count: np.ndarray, rows: np.ndarray, i: int, window: int, values: np.ndarray
) -> None:
    """Month i (1-based) of a running cycle_mean: the running totals and counts of finite
    values into total[i], count[i] (row 0 holds zeros), and the mean over the last `window`
    months into rows[i - 1] (NaN where no month in the window had a value)."""
    lo = max(i - window, 0)
    for b in range(values.size):
        v = values[b]
        ok = math.isfinite(v)
        total[i, b] = total[i - 1, b] + (v if ok else 0.0)
        count[i, b] = count[i - 1, b] + (1 if ok else 0)
        c = count[i, b] - count[lo, b]
        rows[i - 1, b] = (total[i, b] - total[lo, b]) / c if c > 0 else np.nan


@numba.njit(cache=True)
def _two_point(x: float, x0: float, x1: float, y0: float, y1: float) -> float:
    """np.interp(x, [x0, x1], [y0, y1]) for x0 < x <= x1, as numpy computes it
    (numpy/_core/src/multiarray/compiled_base.c, arr_interp): the last point's value itself at
    x1; elsewhere the slope from the first point, and from the second if that gives NaN."""
    if x == x1:
        return y1
    slope = (y1 - y0) / (x1 - x0)
    r = slope * (x - x0) + y0
    if r != r:
        r = slope * (x - x1) + y1
        if r != r and y0 == y1:
            r = y0
    return r


@numba.njit(cache=True)
def leader_extend(
    series: np.ndarray, lead: np.ndarray, path: np.ndarray, start: int, n: int, last: int
) -> int:
    """Months start..n-1 of a running leader_path: each month's running best into lead and
    path, and at a new record the straight line from the previous record redrawn (np.interp
    between those two records). Returns the latest record's month (-1 before the first)."""
    for t in range(start, n):
        v = series[t]
        if v != v:
            v = -np.inf
        if t == 0:
            best, rises = v, True
        else:
            prev = lead[t - 1]
            rises = v > prev  # Python's max(prev, v): prev unless v is greater
            best = v if rises else prev
        lead[t] = best
        path[t] = best
        if rises and math.isfinite(best):
            if last >= 0:
                x0, y0 = float(last), lead[last]
                for u in range(last + 1, t + 1):
                    path[u] = _two_point(float(u), x0, float(t), y0, best)
            last = t
    return last


@numba.njit(cache=True)
def gaps_into(current: np.ndarray, lead: np.ndarray, per_month: float, out: np.ndarray) -> None:
    """gap_months for each bloc's capability now against the leader's path `lead` (sorted,
    no NaN: -inf before its first model), into out."""
    n = lead.size
    now = float(n - 1)
    top, start = lead[n - 1], lead[0]
    for b in range(current.size):
        cv = current[b]
        if cv != cv:  # no model
            out[b] = np.nan
            continue
        if cv >= top:
            out[b] = 0.0
            continue
        i = np.searchsorted(lead, cv)  # first month the leader was >= cv (side "left")
        if i == 0:  # behind the leader's first month: the trend before it
            out[b] = now + ((start - cv) / per_month if per_month > 0 else 0.0)
        else:
            lo, hi = lead[i - 1], lead[i]
            frac = (cv - lo) / (hi - lo) if math.isfinite(lo) and hi > lo else 1.0
            out[b] = now - (float(i - 1) + frac)


@numba.njit(cache=True)
def leader_of(row: np.ndarray) -> int:
    """The first bloc at the highest value of row, NaN counted as -inf (np.argmax's choice)."""
    best, k = -np.inf, 0
    for b in range(row.size):
        v = row[b]
        if v != v:
            v = -np.inf
        if b == 0 or v > best:
            best, k = v, b
    return k
