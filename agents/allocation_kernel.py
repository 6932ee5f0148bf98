"""The labs' allocation (agents.lab._allocate_reference) as numba kernels, giving its numbers
bit for bit: the month's largest array phase, a cascade of small numpy calls on [lab, source]
tables, about three times faster compiled (measured in benchmarks/README.md).

What stays in numpy: the logit (softmax_rows: np.exp) and the arrays the passes start from
(agents.lab._allocation_arrays). How the kernels keep numpy's numbers: game/core/exact.py.
tests/agents/test_kernels.py holds the kernels to the numpy reference on real months.
"""

from __future__ import annotations

import numba
import numpy as np

from game.core.exact import capacity_scale_into, nan_to_num, np_maximum, py_max, reduce_sum
from game.core.market import softmax_rows


@numba.njit(cache=True)
def _one_pass(
    with_outside,  # [L, S + 1] softmax_rows(choices), numpy's
    first_pass,
    mandate,
    h100e_per_money,  # [L, S] (read only under the mandate)
    domestic,  # [L, S] bool
    in_target,  # [L] bool
    unit,
    allowed,
    unit_paid,
    h100e,  # [C]
    capped,
    controlled_h2,  # [2C]
    buyer_country,  # [L * 2C]
    vendor,  # [C]
    partly_allowed,  # [L, S] bool
    money,  # [L] in/out
    cap_left,  # [K] in/out
    vendor_left,  # [V] in/out
    units,  # [L, S] in/out
    asked,  # [C] in/out
    choices,  # [L, S + 1] in/out
    rent_room,
):
    """One pass of _allocate after the logit; returns the rental room left."""
    L = units.shape[0]
    S = units.shape[1]
    C = h100e.size
    CS = 2 * C
    # the first S columns are the shares (the last, kept, is read below); copied only where
    # the mandate moves them
    shares = with_outside
    if mandate > 0:  # _domestic_floor
        shares = np.empty((L, S))
        for i in range(L):
            for s in range(S):
                shares[i, s] = with_outside[i, s]
        b0 = np.empty(S)
        b1 = np.empty(S)
        b2 = np.empty(S)
        b3 = np.empty(S)
        for i in range(L):
            if not in_target[i]:  # the floor binds the target's labs only
                continue
            for s in range(S):
                c = shares[i, s] * h100e_per_money[i, s]
                b2[s] = shares[i, s]
                b3[s] = c
                if domestic[i, s]:
                    b0[s] = shares[i, s]
                    b1[s] = c
                else:
                    b0[s] = 0.0
                    b1[s] = 0.0
            dm = reduce_sum(b0, S)
            dc = reduce_sum(b1, S)
            om = reduce_sum(b2, S) - dm
            oc = reduce_sum(b3, S) - dc
            if not (dc > 0 and dc < mandate * (dc + oc)):
                continue
            per_dom = dc / py_max(dm, 1e-12)
            per_other = oc / py_max(om, 1e-12)
            total = dm + om
            weight = mandate * per_other + (1.0 - mandate) * per_dom
            target = total * mandate * per_other / weight if weight > 0 else dm
            up = target / py_max(dm, 1e-12)
            down = (total - target) / py_max(om, 1e-12)
            for s in range(S):
                shares[i, s] = shares[i, s] * (up if domestic[i, s] else down)
    want = np.empty((L, S))
    for i in range(L):
        for s in range(S):
            want[i, s] = nan_to_num(money[i] * shares[i, s] / unit[i, s] * allowed[i, s])
    room = np.ones((L, S))
    tmp = np.empty(L * C)
    for i in range(L):
        for c in range(C):
            tmp[i * C + c] = want[i, C + c] * h100e[c]
    rent_h = reduce_sum(tmp, L * C)
    if rent_h > rent_room:
        r = py_max(rent_room, 0.0) / rent_h
        for i in range(L):
            for c in range(C):
                room[i, C + c] = r
    if capped:
        need = np.empty(L * CS)
        for i in range(L):
            for k in range(CS):
                need[i * CS + k] = want[i, k] * controlled_h2[k] * room[i, k]
        limit = np.empty(cap_left.size)
        for j in range(cap_left.size):
            x = cap_left[j]
            limit[j] = x if np.isfinite(x) else 1e30
        cell = np.empty(L * CS)
        capacity_scale_into(need, buyer_country, limit, cell)
        for i in range(L):
            for k in range(CS):
                if need[i * CS + k] > 0:
                    room[i, k] *= cell[i * CS + k]
    made_chip = np.empty(C)
    for c in range(C):
        made_chip[c] = want[0, c] * room[0, c] + want[0, C + c] * room[0, C + c]
    for i in range(1, L):
        for c in range(C):
            made_chip[c] += want[i, c] * room[i, c] + want[i, C + c] * room[i, C + c]
    for c in range(C):
        asked[c] += made_chip[c]
    vshare = np.empty(C)
    capacity_scale_into(made_chip, vendor, vendor_left, vshare)
    got = np.empty((L, S))
    for i in range(L):
        for c in range(C):
            room[i, c] *= vshare[c]
            room[i, C + c] *= vshare[c]
        for s in range(S):
            got[i, s] = want[i, s] * room[i, s]
            units[i, s] += got[i, s]
    if not first_pass:
        return rent_room
    row = np.empty(S)
    for i in range(L):
        for s in range(S):
            row[s] = got[i, s] * unit_paid[i, s]
        money[i] = np_maximum(money[i] * (1.0 - with_outside[i, S]) - reduce_sum(row, S), 0.0)
    for i in range(L):
        for c in range(C):
            tmp[i * C + c] = got[i, C + c] * h100e[c]
    rent_room = py_max(0.0, rent_room - reduce_sum(tmp, L * C))
    col = np.empty(C)
    for c in range(C):
        col[c] = got[0, c] + got[0, C + c]
    for i in range(1, L):
        for c in range(C):
            col[c] += got[i, c] + got[i, C + c]
    sold = np.zeros(vendor_left.size)
    for c in range(C):
        sold[vendor[c]] += col[c]
    for v in range(vendor_left.size):
        vendor_left[v] = np_maximum(vendor_left[v] - sold[v], 0.0)
    if capped:
        used = np.zeros(cap_left.size)
        for i in range(L):
            for k in range(CS):
                used[buyer_country[i * CS + k]] += got[i, k] * controlled_h2[k]
        for j in range(cap_left.size):
            cap_left[j] = np_maximum(cap_left[j] - used[j], 0.0)
    for i in range(L):
        for s in range(S):
            if room[i, s] < 1.0 - 1e-9 or partly_allowed[i, s]:
                choices[i, s] = -np.inf
    return rent_room


def allocate_arrays(
    choices: np.ndarray,
    mandate: float,
    h100e_per_money: np.ndarray,
    domestic: np.ndarray,
    in_target: np.ndarray,
    unit: np.ndarray,
    allowed: np.ndarray,
    unit_paid: np.ndarray,
    h100e: np.ndarray,
    capped: bool,
    controlled_h2: np.ndarray,
    buyer_country: np.ndarray,
    vendor: np.ndarray,
    partly_allowed: np.ndarray,
    spend: np.ndarray,
    cap_left: np.ndarray,
    vendor_left: np.ndarray,
    rent_room: float,
) -> tuple[np.ndarray, np.ndarray]:
    """_allocate's two passes from its arrays: (units [lab, source], asked [chip]). choices,
    cap_left, vendor_left are worked on in place (pass copies)."""
    n_labs, n_sources = unit.shape
    units = np.zeros((n_labs, n_sources))
    asked = np.zeros(h100e.size)
    money = spend.copy()
    rent_room = float(rent_room)
    for first_pass in (True, False):
        rent_room = _one_pass(
            softmax_rows(choices),
            first_pass,
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
            money,
            cap_left,
            vendor_left,
            units,
            asked,
            choices,
            rent_room,
        )
    return units, asked
