"""The labs' month of buying after the offers and the allocation's inputs (agents.lab.procure:
the allocation's two passes, the buy-domestic mandate's hold and the delivery's arithmetic) as
three numba kernels around the two logits' np.exp, giving the numbers of agents.lab's numpy
references bit for bit.

Why: the staged kernels (allocation_kernel, delivery_kernel) left softmax_rows' eight numpy
calls a pass and four kernel calls between them, costing more in dispatch than in arithmetic.
Each logit is split at its exp, which stays numpy's on the same contiguous [lab, source + 1]
array softmax_rows exponentiates: the kernel before it subtracts each row's finite maximum,
the kernel after it divides by the row's pairwise sum (a row whose sum is not positive gets
no share, as softmax_rows' guarded division gives). The generator's draws for the delivery
are taken in Python between the second exp and the last kernel: nothing draws between there
and where _deliver took them, so the stream is consumed as before.
tests/agents/test_kernels_procure.py holds the whole phase to the numpy references on real
months.
"""

from __future__ import annotations

import numba
import numpy as np

from agents.allocation_kernel import _one_pass
from agents.delivery_kernel import deliver_arrays, hold_to_mandate_arrays
from game.core.exact import np_maximum, reduce_sum


@numba.njit(cache=True)
def _shift(choices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """softmax_rows up to its exp, each row less its maximum (np.maximum.reduce: NaN
    propagates; 0 where that maximum is not finite), kept only where it is not -inf: (the
    values, their flat positions in [row, option] order). exp(-inf) is +0.0 exactly, and
    numpy's exp of -inf costs as much as of ten ordinary numbers, while most sources are
    closed to most labs (some 94% of the cells in a historical month)."""
    n_rows, n_cols = choices.shape
    vals = np.empty(n_rows * n_cols)
    idx = np.empty(n_rows * n_cols, np.int64)
    n = 0
    for i in range(n_rows):
        m = choices[i, 0]
        for s in range(1, n_cols):
            m = np_maximum(m, choices[i, s])
        if not np.isfinite(m):
            m = 0.0
        for s in range(n_cols):
            x = choices[i, s] - m
            if x != -np.inf:
                vals[n] = x
                idx[n] = i * n_cols + s
                n += 1
    return vals[:n].copy(), idx[:n].copy()


@numba.njit(cache=True)
def _shares(vals: np.ndarray, idx: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
    """softmax_rows after its exp: the exp'd values (vals, numpy's) at their positions, +0.0
    elsewhere, each row over its pairwise sum (the same sum as over the full row: the zeros
    stand where they stood), zeros where the sum is not positive (the guarded division's)."""
    e = np.zeros((n_rows, n_cols))
    for k in range(idx.size):
        e[idx[k] // n_cols, idx[k] % n_cols] = vals[k]
    for i in range(n_rows):
        s = reduce_sum(e[i], n_cols)
        if s > 0:
            for j in range(n_cols):
                e[i, j] = e[i, j] / s
        else:
            for j in range(n_cols):
                e[i, j] = 0.0
    return e


@numba.njit(cache=True)
def start(choices, spend, n_chips):  # noqa: ANN001, ANN201
    """The first logit up to its exp (_shift's values and positions), and what the passes
    fill: money [lab] a fresh copy of spend, units [lab, source] and asked [chip] zeros."""
    n_labs, n_choices = choices.shape
    vals, idx = _shift(choices)
    return vals, idx, spend.copy(), np.zeros((n_labs, n_choices - 1)), np.zeros(n_chips)


@numba.njit(cache=True)
def first_pass(  # noqa: ANN201
    vals,  # np.exp of start's values, numpy's
    idx,  # their positions
    choices,  # agents.lab._allocation_arrays' tuple from here to rent_room
    mandate,
    h100e_per_money,
    domestic,
    in_target,
    unit,
    allowed,
    unit_paid,
    h100e,
    capped,
    controlled_h2,
    buyer_country,
    vendor,
    partly_allowed,
    spend,  # not read: money is its copy
    cap_left,
    vendor_left,
    rent_room,
    money,  # start's
    units,
    asked,
):
    """The allocation's first pass after its logit, and the second logit up to its exp:
    (the second pass' values and positions, the rental room left)."""
    e = _shares(vals, idx, choices.shape[0], choices.shape[1])
    rent_room = _one_pass(
        e, True, mandate, h100e_per_money, domestic, in_target, unit, allowed, unit_paid, h100e,
        capped, controlled_h2, buyer_country, vendor, partly_allowed, money, cap_left,
        vendor_left, units, asked, choices, rent_room,
    )
    vals, idx = _shift(choices)
    return vals, idx, rent_room


@numba.njit(cache=True)
def last_pass(  # noqa: ANN201
    vals,  # np.exp of first_pass' values, numpy's
    idx,
    choices,  # as first_pass
    mandate,
    h100e_per_money,
    domestic,
    in_target,
    unit,
    allowed,
    unit_paid,
    h100e,
    capped,
    controlled_h2,
    buyer_country,
    vendor,
    partly_allowed,
    spend,
    cap_left,
    vendor_left,
    rent_room,  # first_pass' rental room left
    money,
    units,
    asked,
    gray_chip,
    draws,  # the delivery's uniform draws (delivery_kernel.deliver_arrays)
    rental_price,
    provenance,
    rented,
    has_host,
    gray_price,
    cash,
    spent_month,
    escrow,
    gray_order,
    vendor_country,  # [V] each vendor's country
):
    """The allocation's second pass, the mandate's hold (delivery_kernel.hold_to_mandate_arrays,
    each source's H100e as lab._source_h100e gives it) and the delivery: deliver_arrays'
    got_d, got_r, cost, flows and rows, the chips bought per lab, and the country of each
    bought cell's vendor (vendor_country[vendor[c_d]], which the books' flows record)."""
    e = _shares(vals, idx, choices.shape[0], choices.shape[1])
    _one_pass(
        e, False, mandate, h100e_per_money, domestic, in_target, unit, allowed, unit_paid, h100e,
        capped, controlled_h2, buyer_country, vendor, partly_allowed, money, cap_left,
        vendor_left, units, asked, choices, rent_room,
    )
    n_chips = h100e.size
    if mandate > 0:
        per = np.empty(2 * n_chips + 1)
        for c in range(n_chips):
            per[c] = h100e[c]
            per[n_chips + c] = h100e[c]
        per[2 * n_chips] = h100e[gray_chip] if gray_chip >= 0 else 0.0
        units = hold_to_mandate_arrays(units, per, domestic, in_target, mandate)[0]
    got_d, got_r, cost, flows, rows, bought, _ = deliver_arrays(
        units,
        draws,
        gray_chip >= 0,
        unit[:, :n_chips],
        rental_price,
        provenance,
        rented,
        has_host,
        gray_price,
        cash,
        spent_month,
        escrow,
        gray_order,
    )
    c_d = flows[1]
    made_in = np.empty(c_d.size, vendor_country.dtype)
    for k in range(c_d.size):
        made_in[k] = vendor_country[vendor[c_d[k]]]
    return got_d, got_r, cost, flows, rows, bought, made_in
