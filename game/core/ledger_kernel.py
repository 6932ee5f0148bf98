"""The ledger's and the month's books' flows (game.core.ledger, game.core.books) as numba
kernels: each flow was a handful of np.add.at, np.bincount and fancy-index calls on a few dozen
cells, costing far more in numpy's dispatch than in arithmetic, several times a month.

Every count here is a whole number (int64), which adds exactly in any order, so a loop gives
numpy's numbers bit for bit; the one float sum (the vendors' revenue by bloc, np.bincount with
weights) is added in input order per bin from 0.0 as np.bincount adds it. The failures' draws
stay with the generator in game.core.ledger. tests/agents/test_kernels_led.py holds each kernel
to the numpy code it replaces on real months.
"""

from __future__ import annotations

import numba
import numpy as np


# ---------------------------------------------------------------------------- the ledger
@numba.njit(cache=True)
def install_rows(
    stock: np.ndarray,
    by_prov: np.ndarray,
    held: np.ndarray,
    produced: np.ndarray,
    holder: np.ndarray,
    chip: np.ndarray,
    prov: np.ndarray,
    slot: int,
    qty: np.ndarray,
) -> None:
    """Ledger.install_new: qty[k] chips into stock[holder, chip, prov, slot], the running
    totals and the chips produced."""
    for k in range(qty.size):
        h, c, p, q = holder[k], chip[k], prov[k], qty[k]
        stock[h, c, p, slot] += q
        by_prov[h, c, p] += q
        held[h, c] += q
        produced[c] += q


@numba.njit(cache=True)
def stocked_cells(
    stock: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """np.nonzero(stock) of the 4-D stock (C order) and the counts there."""
    n_h, n_c, n_p, n_s = stock.shape
    n = 0
    for h in range(n_h):
        for c in range(n_c):
            for p in range(n_p):
                for s in range(n_s):
                    if stock[h, c, p, s] != 0:
                        n += 1
    hh = np.empty(n, np.int64)
    cc = np.empty(n, np.int64)
    pp = np.empty(n, np.int64)
    ss = np.empty(n, np.int64)
    counts = np.empty(n, stock.dtype)
    k = 0
    for h in range(n_h):
        for c in range(n_c):
            for p in range(n_p):
                for s in range(n_s):
                    v = stock[h, c, p, s]
                    if v != 0:
                        hh[k], cc[k], pp[k], ss[k], counts[k] = h, c, p, s, v
                        k += 1
    return hh, cc, pp, ss, counts


@numba.njit(cache=True)
def remove_failed(
    stock: np.ndarray,
    by_prov: np.ndarray,
    held: np.ndarray,
    hh: np.ndarray,
    cc: np.ndarray,
    pp: np.ndarray,
    ss: np.ndarray,
    lost: np.ndarray,
    n_chips: int,
) -> np.ndarray:
    """Ledger.fail after its draws: the lost chips out of their cells and the running totals;
    returns the chips lost per chip type."""
    out = np.zeros(n_chips, np.int64)
    for k in range(lost.size):
        h, c, p, q = hh[k], cc[k], pp[k], lost[k]
        stock[h, c, p, ss[k]] -= q
        by_prov[h, c, p] -= q
        held[h, c] -= q
        out[c] += q
    return out


@numba.njit(cache=True)
def retire_slot(
    stock: np.ndarray, by_prov: np.ndarray, held: np.ndarray, retired: np.ndarray, s: int
) -> np.ndarray:
    """Ledger.retire_cohort: the cohort in slot s leaves service; returns it per chip."""
    n_h, n_c, n_p, _ = stock.shape
    out = np.zeros(n_c, np.int64)
    for h in range(n_h):
        for c in range(n_c):
            gone = 0
            for p in range(n_p):
                v = stock[h, c, p, s]
                if v != 0:
                    by_prov[h, c, p] -= v
                    gone += v
                    stock[h, c, p, s] = 0
            held[h, c] -= gone
            out[c] += gone
    for c in range(n_c):
        retired[c] += out[c]
    return out


@numba.njit(cache=True)
def deliver_column(
    stock: np.ndarray,
    by_prov: np.ndarray,
    held: np.ndarray,
    in_transit: np.ndarray,
    holder_qty: np.ndarray,
    chip: int,
    prov: int,
    slot: int,
) -> None:
    """Ledger.deliver: holder_qty[h] chips of one type out of transit into provenance prov."""
    total = 0
    for h in range(holder_qty.size):
        q = holder_qty[h]
        total += q
        stock[h, chip, prov, slot] += q
        by_prov[h, chip, prov] += q
        held[h, chip] += q
    in_transit[chip] -= total


@numba.njit(cache=True)
def any_held(by_prov: np.ndarray, holders: np.ndarray, prov: int) -> bool:
    """by_prov[holders, :, prov].any()."""
    for i in range(holders.size):
        h = holders[i]
        for c in range(by_prov.shape[1]):
            if by_prov[h, c, prov] != 0:
                return True
    return False


@numba.njit(cache=True)
def totals_of(stock: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ledger.recount's running totals of a stock [holder, chip, provenance, slot]: by
    provenance (np.add.reduce over the slots) and by chip (over the provenances), in one
    pass; numpy's two reductions over axes of five cost some 90 us a restore."""
    n_h, n_c, n_p, n_s = stock.shape
    by_prov = np.zeros((n_h, n_c, n_p), stock.dtype)
    held = np.zeros((n_h, n_c), stock.dtype)
    for h in range(n_h):
        for c in range(n_c):
            total = 0
            for p in range(n_p):
                cell = 0
                for s in range(n_s):
                    cell += stock[h, c, p, s]
                by_prov[h, c, p] = cell
                total += cell
            held[h, c] = total
    return by_prov, held


@numba.njit(cache=True)
def held_by_provenance(by_prov: np.ndarray) -> np.ndarray:
    """np.add.reduce(by_prov, axis=1): [holder, provenance] whole counts."""
    n_h, n_c, n_p = by_prov.shape
    out = np.zeros((n_h, n_p), by_prov.dtype)
    for h in range(n_h):
        for c in range(n_c):
            for p in range(n_p):
                out[h, p] += by_prov[h, c, p]
    return out


# ---------------------------------------------------------------------------- the books
@numba.njit(cache=True)
def sales_into(
    lab_bloc: np.ndarray,
    n_blocs: int,
    rental_bloc: int,
    got_d: np.ndarray,
    got_r: np.ndarray,
    per_lab: np.ndarray,
    sales_units: np.ndarray,
) -> tuple[bool, np.ndarray, np.ndarray]:
    """MonthBooks.record_sales: returns (True, revenue by bloc, chips bought per chip) and adds
    the [chip, bloc] units sold to sales_units (rentals billed to rental_bloc, if >= 0); or
    (False, ...) having touched nothing if a lab's bloc is out of range (numpy's path then)."""
    n_labs, n_chips = got_d.shape
    revenue = np.zeros(n_blocs)
    bought = np.zeros(n_chips, got_d.dtype)
    for i in range(n_labs):
        if lab_bloc[i] < 0 or lab_bloc[i] >= n_blocs:
            return False, revenue, bought
    for i in range(n_labs):
        revenue[lab_bloc[i]] += per_lab[i]
    rented = np.zeros(n_chips, got_r.dtype)
    for i in range(n_labs):
        b = lab_bloc[i]
        for c in range(n_chips):
            bought[c] += got_d[i, c]
            rented[c] += got_r[i, c]
            sales_units[c, b] += got_d[i, c]
    if rental_bloc >= 0:
        for c in range(n_chips):
            sales_units[c, rental_bloc] += rented[c]
    for c in range(n_chips):
        bought[c] += rented[c]
    return True, revenue, bought


@numba.njit(cache=True)
def flows_into(
    flows: np.ndarray,
    lab_country: np.ndarray,
    lab: np.ndarray,
    maker_country: np.ndarray,
    prov: np.ndarray,
    qty: np.ndarray,
    host_country: int,
    rented_lab: np.ndarray,
    rented_qty: np.ndarray,
    rented_prov: int,
) -> None:
    """MonthBooks.record_flows: purchases from the maker's country to the buyer's, rentals
    (host_country >= 0) from the host's country to the renter's."""
    for k in range(qty.size):
        flows[maker_country[k], lab_country[lab[k]], prov[k]] += qty[k]
    if host_country >= 0:
        for k in range(rented_qty.size):
            flows[host_country, lab_country[rented_lab[k]], rented_prov] += rented_qty[k]


@numba.njit(cache=True)
def leg_into(
    flows: np.ndarray,
    src: np.ndarray,
    src_one: int,
    dst: np.ndarray,
    dst_one: int,
    qty: np.ndarray,
    prov: int,
) -> None:
    """MonthBooks.record_smuggling: qty[k] chips from src[k] (or src_one, where src is empty)
    to dst[k] (or dst_one)."""
    for k in range(qty.size):
        s = src[k] if src.size else src_one
        d = dst[k] if dst.size else dst_one
        flows[s, d, prov] += qty[k]
