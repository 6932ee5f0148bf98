"""Market arithmetic shared by vendors, labs and brokers: turning money into whole chips,
rationing scarce supply, sharing deliveries among buyers, and the gray-market price."""

from __future__ import annotations

import numpy as np


def clip_float(x: float, lo: float, hi: float) -> float:
    """float(np.clip(x, lo, hi)) for one number: the same comparisons (NaN in x stays NaN),
    without np.clip's dispatch, which on a scalar costs some fifty times the arithmetic."""
    return float(min(max(x, lo), hi))


def softmax_rows(u: np.ndarray) -> np.ndarray:
    """[row, option] utilities -> choice shares per row (the logit every buyer's choice uses:
    labs buying, and vendors reading the orders for a chip they will launch); a row with no
    option open (all -inf) gets no share."""
    # np.maximum.reduce, np.add.reduce, np.logical_and.reduce: what .max(), .sum() and .all()
    # call, without their Python wrappers (a few hundred calls a run)
    m = np.maximum.reduce(u, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = u - m
    np.exp(e, out=e)  # in place: the same numbers, one array fewer
    s = np.add.reduce(e, axis=1, keepdims=True)
    # the usual month: the guarded division costs more than the plain one
    if np.logical_and.reduce(s > 0, axis=None):
        e /= s
        return e
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def whole_units(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fractional chip counts -> integers with the same expectation (stochastic rounding), so
    small buyers are not rounded away and totals stay unbiased."""
    x = np.maximum(np.asarray(x, float), 0.0)
    base = np.floor(x)
    return (base + (rng.random(x.shape) < (x - base))).astype(np.int64)


def capacity_scale(demand: np.ndarray, group: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Per item, the share of its demand that capacity allows when items of one group (a vendor's
    chips, a country's imports) share one capacity: every buyer in the group gets the same share."""
    wanted = np.bincount(group, weights=demand, minlength=capacity.size)
    share = np.where(wanted > capacity, capacity / np.maximum(wanted, 1e-12), 1.0)
    return share[group]


HYPERGEOMETRIC_LIMIT = 10**9 - 1  # numpy's bound on the pool of a multivariate hypergeometric draw


def capped_share(requests: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Share `total` units among integer requests, nobody getting more than asked."""
    requests = np.asarray(requests, np.int64)
    asked = int(np.add.reduce(requests, axis=None))
    if total >= asked:
        return requests.copy()
    if total == 0:
        # What the draw gives for no units, without its argument checks (a third of the calls:
        # nothing seized, nothing shipped); a draw of no units takes nothing from the stream.
        return np.zeros_like(requests)
    if asked < HYPERGEOMETRIC_LIMIT:
        # Drawing without replacement from the pool of requested units is exactly fair and bounded.
        return rng.multivariate_hypergeometric(requests, int(total)).astype(np.int64)
    # Past numpy's limit for that draw the noise is negligible: pro rata, with the leftover
    # units going at random to those with the largest fractional claims.
    exact = requests * (total / requests.sum())
    out = np.floor(exact).astype(np.int64)
    left = int(total - out.sum())
    if left > 0:
        frac = exact - out
        pick = rng.choice(requests.size, size=left, replace=False, p=frac / frac.sum())
        out[pick] += 1
    return out


def interdiction_probability(
    base: float,
    enforcement: float,
    customs: np.ndarray,
    pressure: np.ndarray,
    cap: float,
    border: float,
) -> np.ndarray:
    """Chance that a shipment through each route is stopped: by the transit state's customs
    (scaled by US enforcement and pressure) or at China's border (when China does not look away)."""
    route = np.minimum(base * enforcement * customs * (1.0 + pressure), cap)
    return 1.0 - (1.0 - route) * (1.0 - border)


def next_markup(
    markup: float, demand: float, supply: float, floor: float, ceiling: float, speed: float
) -> float:
    """Gray markup over list next month: up with excess demand, down with idle brokers, never
    below the brokers' risk-adjusted cost nor above the ceiling."""
    if demand <= 0 and supply <= 0:
        return clip_float(markup, floor, ceiling)
    ratio = (demand + 1.0) / (supply + 1.0)
    return clip_float(markup * ratio**speed, floor, ceiling)
