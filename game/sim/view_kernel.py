"""The market view's choice of the chip brokers deal in (game.sim.market_view
._gray_chip_reference) as a numba kernel, giving its answer bit for bit: five small numpy calls
on [chip] arrays, a derivation twice a month. How it keeps numpy's numbers: game/core/exact.py
(a quotient and a product, grouped as numpy groups them; np.argmax's first of the largest, a
NaN first of all). tests/agents/test_kernels_brk.py holds it to the numpy reference on real
months.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True)
def gray_chip(wanted, value, price, load) -> int:
    """[chip] masks and figures -> the chip of most value per unit of a ring's capacity among
    those wanted, or -1 if none is."""
    n = wanted.size
    any_wanted = False
    for j in range(n):
        if wanted[j]:
            any_wanted = True
            break
    if not any_wanted:
        return -1
    best = 0
    v = value[0] / (price[0] * load[0]) if wanted[0] else -1.0
    if v != v:
        return 0
    for j in range(1, n):
        x = value[j] / (price[j] * load[j]) if wanted[j] else -1.0
        if x != x:
            return j
        if x > v:
            v = x
            best = j
    return best
