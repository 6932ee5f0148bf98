"""The labs' month of buying (agents.lab.procure) as kernels around what stays numpy's,
giving the numbers of agents.lab's numpy references bit for bit: `start` (the month's cash
and spend, the capped provenances' cluster shares up to their power), then
agents/offers_kernel.py's offers_start and offers_finish around the offers' np.log (the
sources open, prices, utilities, the outside option, the allocation's inputs and its first
logit up to the exp), then here the allocation's two passes, the buy-domestic mandate's hold
and the delivery in two kernels around the logits' np.exp: `first_pass` and `finish`, which
books the delivery into the ledger and the month's books as their install_new, record_sales
and record_flows would (game/core/ledger_kernel.py's kernels, called from here).

Why: the staged kernels (allocation_kernel, delivery_kernel) left softmax_rows' eight numpy
calls a pass and four kernel calls between them, costing more in dispatch than in arithmetic;
a dozen more small calls (the cluster worths, the outside option, the allocation's inputs,
the ledger's and the books' flows) each cost more to call than to compute, and every array a
kernel hands to Python costs about as much as a small kernel's arithmetic (procure keeps the
arrays its kernels pass each other in a workspace instead).
Each logit is split at its exp, which stays numpy's: the kernel before it (for the first
pass offers_kernel.offers_finish, which has the utilities at hand) subtracts each row's
finite maximum and keeps the cells not -inf (exp(-inf) is +0.0 exactly, and costs numpy as
much as ten ordinary numbers: most sources are closed to most labs), the kernel after it puts
the exp'd values back among the zeros and divides each row by its pairwise sum over the full
row (a row whose sum is not positive gets no share, as softmax_rows' guarded division gives).
The generator's draws for the delivery are taken in Python between the second exp and the
last kernel: nothing draws between there and where _deliver took them, so the stream is
consumed as before. tests/agents/test_kernels_procure.py holds the whole phase to the numpy
references on real months, tests/agents/test_kernels_led.py each kernel's part.
"""

from __future__ import annotations

import numba
import numpy as np

from agents.allocation_kernel import _one_pass
from agents.delivery_kernel import deliver_into, hold_to_mandate_arrays
from agents.lab_kernel import cash_and_spend_into, cluster_joins_frontier
from game.core.exact import np_maximum, reduce_sum
from game.core.ledger_kernel import flows_into, install_rows, sales_into


@numba.njit(cache=True)
def _row_max(row: np.ndarray, n_cols: int) -> float:
    """np.maximum.reduce of a row (NaN propagates), 0 where it is not finite."""
    m = row[0]
    for s in range(1, n_cols):
        m = np_maximum(m, row[s])
    return m if np.isfinite(m) else 0.0


@numba.njit(cache=True)
def shift(choices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """softmax_rows up to its exp, each row less its maximum (np.maximum.reduce: NaN
    propagates; 0 where that maximum is not finite), kept only where it is not -inf: (the
    values, their flat positions in [row, option] order). exp(-inf) is +0.0 exactly, and
    numpy's exp of -inf costs as much as of ten ordinary numbers, while most sources are
    closed to most labs (some 94% of the cells in a historical month). One pass into room
    for every cell; the kept ones are returned as views of it."""
    n_rows, n_cols = choices.shape
    vals = np.empty(n_rows * n_cols)
    idx = np.empty(n_rows * n_cols, np.int64)
    n = shift_into(choices, vals, idx)
    return vals[:n], idx[:n]


@numba.njit(cache=True)
def shift_into(choices: np.ndarray, vals: np.ndarray, idx: np.ndarray) -> int:
    """shift written into room for every cell the caller keeps (procure's month's workspace:
    an array handed to Python costs more than the shift): returns how many were kept, at the
    front of vals and idx."""
    n_rows, n_cols = choices.shape
    n = 0
    for i in range(n_rows):
        m = _row_max(choices[i], n_cols)
        for s in range(n_cols):
            x = choices[i, s] - m
            if x != -np.inf:
                vals[n] = x
                idx[n] = i * n_cols + s
                n += 1
    return n


@numba.njit(cache=True)
def logit_shift(utility: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """shift of the allocation's first choices, np.concatenate((utility, outside[:, None]),
    axis=1)."""
    n_rows, n_sources = utility.shape
    choices = np.empty((n_rows, n_sources + 1))
    for i in range(n_rows):
        for s in range(n_sources):
            choices[i, s] = utility[i, s]
        choices[i, n_sources] = outside[i]
    return shift(choices)


@numba.njit(cache=True)
def _shares(vals: np.ndarray, idx: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
    """softmax_rows after its exp: the exp'd values (vals, numpy's) at their positions, +0.0
    elsewhere, each row over its pairwise sum (the same sum as over the full row: the zeros
    stand where they stood), zeros where the sum is not positive (the guarded division's).
    Only the values are divided: a +0.0 over a positive sum stays +0.0."""
    e = np.zeros((n_rows, n_cols))
    rows = np.empty(idx.size, np.int64)
    cols = np.empty(idx.size, np.int64)
    for k in range(idx.size):
        rows[k] = idx[k] // n_cols
        cols[k] = idx[k] - rows[k] * n_cols
        e[rows[k], cols[k]] = vals[k]
    k = 0
    for i in range(n_rows):
        s = reduce_sum(e[i], n_cols)
        first = k
        while k < idx.size and rows[k] == i:
            k += 1
        for j in range(first, k):
            e[i, cols[j]] = e[i, cols[j]] / s if s > 0 else 0.0
    return e


@numba.njit(cache=True)
def first_pass(
    # np.exp of logit_shift's values (the offers'), numpy's, in place at the front of room
    # for every cell (procure's month's workspace), their positions likewise, and how many
    vals: np.ndarray,
    idx: np.ndarray,
    n: int,
    choices: np.ndarray,  # agents.lab._allocation_arrays' tuple from here to rent_room
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
    spend: np.ndarray,  # money starts as its copy
    cap_left: np.ndarray,
    vendor_left: np.ndarray,
    rent_room: float,
    # [L] out: what the passes fill (procure's month's workspace), from spend's copy
    money: np.ndarray,
    units: np.ndarray,  # [L, S] out: from zeros
    asked: np.ndarray,  # [C] out: from zeros (the month's books' asked_per_chip)
) -> tuple[int, float]:
    """The allocation's first pass after its logit, and the second logit up to its exp,
    written over vals and idx: (how many of them, the rental room left); the passes fill
    money, units and asked."""
    n_labs, n_choices = choices.shape
    money[...] = spend
    units[...] = 0.0
    asked[...] = 0.0
    e = _shares(vals[:n], idx[:n], n_labs, n_choices)
    rent_room = _one_pass(
        e, True, mandate, h100e_per_money, domestic, in_target, unit, allowed, unit_paid, h100e,
        capped, controlled_h2, buyer_country, vendor, partly_allowed, money, cap_left,
        vendor_left, units, asked, choices, rent_room,
    )
    return shift_into(choices, vals, idx), rent_room


@numba.njit(cache=True)
def last_pass(
    vals: np.ndarray,  # np.exp of first_pass' values, numpy's
    idx: np.ndarray,
    choices: np.ndarray,  # as first_pass
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
    rent_room: float,  # first_pass' rental room left
    money: np.ndarray,
    units: np.ndarray,
    asked: np.ndarray,
    gray_chip: int,
    draws: np.ndarray,  # the delivery's uniform draws (delivery_kernel.deliver_arrays)
    rental_price: np.ndarray,
    provenance: np.ndarray,
    rented: int,
    has_host: bool,
    gray_price: float,
    cash: np.ndarray,
    spent_month: np.ndarray,
    escrow: np.ndarray,
    gray_order: np.ndarray,
    vendor_country: np.ndarray,  # [V] each vendor's country
    got_d: np.ndarray,  # [L, C] int64 out: delivery_kernel.deliver_into's
    got_r: np.ndarray,  # [L, C] int64 out
    cost: np.ndarray,  # [L] out
    bought: np.ndarray,  # [L] int64 out
) -> tuple:
    """The allocation's second pass, the mandate's hold (delivery_kernel.hold_to_mandate_arrays,
    each source's H100e as lab._source_h100e gives it) and the delivery (deliver_into: got_d,
    got_r, cost and the chips bought per lab into the arrays given); returns its flows and
    rows, and the country of each bought cell's vendor (vendor_country[vendor[c_d]], which
    the books' flows record)."""
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
    flows, rows, _ = deliver_into(
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
        got_d,
        got_r,
        cost,
        bought,
    )
    c_d = flows[1]
    made_in = np.empty(c_d.size, vendor_country.dtype)
    for k in range(c_d.size):
        made_in[k] = vendor_country[vendor[c_d[k]]]
    return flows, rows, made_in


@numba.njit(cache=True)
def start(
    cash: np.ndarray,  # [L] in/out
    budget_in: np.ndarray,  # [L] the month's budget after what is diverted
    budget: np.ndarray,  # [L]
    founded: np.ndarray,  # [L]
    month: int,
    cap_months: float,
    by_prov: np.ndarray,  # the ledger's [holder, chip, provenance] running totals
    rented: int,  # the ledger's RENTED provenance and its cluster cap
    rented_cap: float,
    smuggled: int,  # SMUGGLED and its cap
    smuggled_cap: float,
    frontier: np.ndarray,  # [L] bool
    active: np.ndarray,  # [L] bool out (procure's month's workspace)
    spend: np.ndarray,  # [L] out
    joins: np.ndarray,  # [2, L] out
) -> None:
    """The month's cash and spend (lab_kernel.cash_and_spend: active [L], spend [L]) and the
    two capped provenances' cluster shares up to their power ([2, L]: rented, smuggled;
    lab_kernel.cluster_joins_frontier of their columns of the ledger's held_by_provenance),
    which agents.lab._provenance_worth took in three kernel calls; written into the arrays
    given (each array handed to Python costs more than its arithmetic)."""
    cash_and_spend_into(cash, budget_in, budget, founded, month, cap_months, active, spend)
    # the two columns of held_by_provenance read (whole counts: any order adds them exactly)
    n_labs = frontier.size
    held = np.zeros((n_labs, 2), by_prov.dtype)
    for h in range(n_labs):
        for c in range(by_prov.shape[1]):
            held[h, 0] += by_prov[h, c, rented]
            held[h, 1] += by_prov[h, c, smuggled]
    joins[0] = cluster_joins_frontier(held, 0, rented_cap, frontier)
    joins[1] = cluster_joins_frontier(held, 1, smuggled_cap, frontier)


@numba.njit(cache=True)
def finish(
    vals: np.ndarray,  # first_pass' vals (np.exp'd in place), idx and their count
    idx: np.ndarray,
    n: int,
    choices: np.ndarray,  # last_pass' arguments, as there
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
    money: np.ndarray,
    units: np.ndarray,
    asked: np.ndarray,
    gray_chip: int,
    draws: np.ndarray,
    rental_price: np.ndarray,
    provenance: np.ndarray,
    rented: int,
    has_host: bool,
    gray_price: float,
    cash: np.ndarray,
    spent_month: np.ndarray,
    escrow: np.ndarray,
    gray_order: np.ndarray,
    vendor_country: np.ndarray,
    stock: np.ndarray,  # the ledger's arrays install_new writes (Ledger.install_targets)
    by_prov: np.ndarray,
    held: np.ndarray,
    produced: np.ndarray,
    slot: int,  # the ledger's slot of the year
    lab_bloc: np.ndarray,  # the books' (MonthBooks: lab_bloc, n_blocs, the host's bloc or -1,
    n_blocs: int,  # sales_units, flows, lab_country, the host's country or -1)
    rental_bloc: int,
    sales_units: np.ndarray,
    flows: np.ndarray,
    lab_country: np.ndarray,
    host_country: int,
    got_d_out: np.ndarray,  # [L, C] int64 out (procure's month's workspace)
    got_r_out: np.ndarray,  # [L, C] int64 out
    cost_out: np.ndarray,  # [L] out
    bought_out: np.ndarray,  # [L] int64 out: the month's books' bought_by_lab
    revenue_out: np.ndarray,  # [bloc] out, written if booked: the books' revenue_by_bloc
) -> tuple[bool, np.ndarray]:
    """last_pass, then what agents.lab._book_delivery called after it: the ledger's
    install_new (ledger_kernel.install_rows of the delivery's rows) and the books'
    record_sales and record_flows (ledger_kernel.sales_into, flows_into), in that order.
    Writes got_d, got_r, cost, the chips bought per lab and, if sales_into booked the sales,
    the revenue by bloc into the *_out arrays (each array handed to Python costs more than
    its arithmetic); returns (whether it booked them (if not, nothing was booked: the caller
    takes numpy's path), chips bought per chip)."""
    fl, rows, made_in = last_pass(
        vals[:n], idx[:n], choices, mandate, h100e_per_money, domestic, in_target, unit,
        allowed, unit_paid, h100e, capped, controlled_h2, buyer_country, vendor, partly_allowed,
        spend, cap_left, vendor_left, rent_room, money, units, asked, gray_chip, draws,
        rental_price, provenance, rented, has_host, gray_price, cash, spent_month, escrow,
        gray_order, vendor_country, got_d_out, got_r_out, cost_out, bought_out,
    )
    install_rows(stock, by_prov, held, produced, rows[0], rows[1], rows[2], slot, rows[3])
    ok, revenue, per_chip = sales_into(
        lab_bloc, n_blocs, rental_bloc, got_d_out, got_r_out, cost_out, sales_units
    )
    flows_into(flows, lab_country, fl[0], made_in, fl[2], fl[3], host_country, fl[4], fl[5],
               rented)
    if ok:
        revenue_out[...] = revenue
    return ok, per_chip
