"""The labs' offers (agents.lab._offers_reference) as numba kernels giving its numbers bit for
bit: the prices after each lever, the value per dollar of every source and the utilities were
some forty numpy calls on [lab, source] tables a month.

What stays in numpy: every log (one np.log over the open sources' values per dollar, between
the two kernels: numpy's log is elementwise, the same number for the same input wherever it
stands), the powers of the cluster worth, and the cached rule terms. How the kernels keep
numpy's numbers: game/core/exact.py. tests/agents/test_kernels_lab.py holds them to the numpy
reference on real months. offers_start and offers_finish are the fused procure's form
(agents.lab.procure: the open sources and the outside option folded in, the allocation's
inputs made after the utilities), held by tests/agents/test_kernels_procure.py and
test_kernels_led.py.
"""

from __future__ import annotations

import numba
import numpy as np

from agents.lab_kernel import allocation_inputs_into, best_per_dollar, open_arrays_into
from agents.procure_kernel import logit_shift, shift_into


@numba.njit(cache=True)
def price_args(
    purchase_value: np.ndarray,  # [kind, C]
    growth_kind: np.ndarray,  # [L] int64
    price: np.ndarray,  # [C] list prices
    subsidy: float,
    subsidised: np.ndarray,  # [L, C] bool
    levy: float,
    levied: np.ndarray,  # [L, C] bool
    any_checks: bool,
    checked: np.ndarray,  # [L, C] bool
    checks: np.ndarray,  # [L]
    has_vendor_terms: bool,
    vendor_terms: np.ndarray,  # [L, C] (read only with has_vendor_terms)
    rental_premium: float,
    has_host: bool,
    rent_worth: np.ndarray,  # [L] (read only with has_host)
    gray: int,  # the gray chip, -1 without
    gray_price: float,
    gray_worth: np.ndarray,  # [L] (read only with a gray chip)
    may_buy: np.ndarray,  # [L, C] bool: the direct purchases whose utilities are read
    rentable: np.ndarray,  # [L, C] bool: the rentals whose utilities are read (with has_host)
    wants_gray: np.ndarray,  # [L] bool: the labs whose gray utility is read (with a gray chip)
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """unit_price [L, 2C + 1], rental_price [C], the values per dollar whose logs the
    utilities read (only those: in the order utilities reads them, lab by lab, each chip's
    purchase then its rental, then the lab's gray market), and whether each is positive (its
    logarithm then raises no warning and needs no np.errstate). Most sources are closed to
    most labs: their values per dollar were computed, logged and never read."""
    n_labs = growth_kind.size
    n_chips = price.size
    unit = np.empty((n_labs, 2 * n_chips + 1))
    rental = np.empty(n_chips)
    args = np.empty(2 * n_labs * n_chips + n_labs)
    n, quiet = price_args_into(
        purchase_value, growth_kind, price, subsidy, subsidised, levy, levied, any_checks,
        checked, checks, has_vendor_terms, vendor_terms, rental_premium, has_host, rent_worth,
        gray, gray_price, gray_worth, may_buy, rentable, wants_gray, unit, rental, args,
    )
    return unit, rental, args[:n].copy(), quiet


@numba.njit(cache=True)
def price_args_into(
    purchase_value: np.ndarray,  # price_args' arguments, as there
    growth_kind: np.ndarray,
    price: np.ndarray,
    subsidy: float,
    subsidised: np.ndarray,
    levy: float,
    levied: np.ndarray,
    any_checks: bool,
    checked: np.ndarray,
    checks: np.ndarray,
    has_vendor_terms: bool,
    vendor_terms: np.ndarray,
    rental_premium: float,
    has_host: bool,
    rent_worth: np.ndarray,
    gray: int,
    gray_price: float,
    gray_worth: np.ndarray,
    may_buy: np.ndarray,
    rentable: np.ndarray,
    wants_gray: np.ndarray,
    unit: np.ndarray,  # [L, 2C + 1] out
    rental: np.ndarray,  # [C] out
    args: np.ndarray,  # [2 L C + L at least] out: the values per dollar at its front
) -> tuple[int, bool]:
    """price_args written into arrays the caller keeps (procure's month's workspace): returns
    (how many values per dollar, whether they are all positive)."""
    n_labs = growth_kind.size
    n_chips = price.size
    for c in range(n_chips):
        rental[c] = price[c] * rental_premium
    n = 0
    for i in range(n_labs):
        k = growth_kind[i]
        for c in range(n_chips):
            p = price[c]
            if subsidy != 0.0 and subsidised[i, c]:
                p = p * (1.0 - subsidy)
            if levy != 0.0 and levied[i, c]:
                p = p * (1.0 + levy)
            if any_checks and checked[i, c]:
                p = p * (1.0 + checks[i])
            if has_vendor_terms:
                p = p * vendor_terms[i, c]
            unit[i, c] = p
            unit[i, n_chips + c] = rental[c]
            v = purchase_value[k, c]
            if may_buy[i, c]:
                args[n] = v / p
                n += 1
            if has_host and rentable[i, c]:
                args[n] = v * rent_worth[i] / rental[c]
                n += 1
        if gray >= 0:
            unit[i, 2 * n_chips] = gray_price
            if wants_gray[i]:
                args[n] = purchase_value[k, gray] * gray_worth[i] / gray_price
                n += 1
        else:
            unit[i, 2 * n_chips] = np.inf
    quiet = True
    for j in range(n):
        if not args[j] > 0.0:
            quiet = False
    return n, quiet


@numba.njit(cache=True)
def utilities(
    logs: np.ndarray,  # np.log of price_args' values per dollar, in the order read here
    beta: float,
    log_buy_allowed: np.ndarray,  # [L, C]
    preference: np.ndarray,  # [L, C]
    has_ported: bool,
    log_ported: np.ndarray,  # [L, C] (read only with has_ported)
    may_buy: np.ndarray,  # [L, C] bool
    has_host: bool,
    log_host_allowed: np.ndarray,  # [C]
    rental_risk: np.ndarray,  # [L, 1]
    rentable: np.ndarray,  # [L, C] bool
    gray: int,
    smuggling_risk: np.ndarray,  # [L]
    enforcement_root: float,  # np.sqrt(max(enforcement, 0))
    wants_gray: np.ndarray,  # [L] bool
) -> np.ndarray:
    """[L, 2C + 1] the logit utilities: -inf where a source is closed."""
    n_labs, n_chips = may_buy.shape
    utility = np.full((n_labs, 2 * n_chips + 1), -np.inf)
    n = 0
    for i in range(n_labs):
        for c in range(n_chips):
            if may_buy[i, c]:
                u = beta * logs[n] + log_buy_allowed[i, c]
                n += 1
                u = u + preference[i, c]
                if has_ported:
                    u = u + log_ported[i, c]
                utility[i, c] = u
            if has_host and rentable[i, c]:
                u = beta * logs[n] + log_host_allowed[c] - rental_risk[i, 0]
                n += 1
                if has_ported:
                    u = u + log_ported[i, c]
                utility[i, n_chips + c] = u
        if gray >= 0 and wants_gray[i]:
            utility[i, 2 * n_chips] = beta * logs[n] - (smuggling_risk[i] * enforcement_root)
            n += 1
    return utility


@numba.njit(cache=True)
def utilities_and_logit(
    logs: np.ndarray,
    beta: float,
    log_buy_allowed: np.ndarray,
    preference: np.ndarray,
    has_ported: bool,
    log_ported: np.ndarray,
    may_buy: np.ndarray,
    has_host: bool,
    log_host_allowed: np.ndarray,
    rental_risk: np.ndarray,
    rentable: np.ndarray,
    gray: int,
    smuggling_risk: np.ndarray,
    enforcement_root: float,
    wants_gray: np.ndarray,
    outside_kind: np.ndarray,  # [kind] outside_option's utilities
    growth_kind: np.ndarray,  # [L] each lab's kind
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """utilities' [L, 2C + 1], outside_kind[growth_kind] [L] (each lab's outside option), and
    the allocation's first logit up to its exp (procure_kernel.logit_shift: its values and
    their positions), which procure takes from here instead of shifting the choices again."""
    utility = utilities(
        logs, beta, log_buy_allowed, preference, has_ported, log_ported, may_buy, has_host,
        log_host_allowed, rental_risk, rentable, gray, smuggling_risk, enforcement_root,
        wants_gray,
    )
    outside = np.empty(growth_kind.size)
    for i in range(growth_kind.size):
        outside[i] = outside_kind[growth_kind[i]]
    vals, idx = logit_shift(utility, outside)
    return utility, outside, vals, idx


@numba.njit(cache=True)
def offers_start(
    purchase_value: np.ndarray,  # price_args' first twelve arguments, as there
    growth_kind: np.ndarray,
    price: np.ndarray,
    subsidy: float,
    subsidised: np.ndarray,
    levy: float,
    levied: np.ndarray,
    any_checks: bool,
    checked: np.ndarray,
    checks: np.ndarray,
    has_vendor_terms: bool,
    vendor_terms: np.ndarray,
    rental_premium: float,
    has_host: bool,
    worth: np.ndarray,  # [2, L] the rented and smuggled cluster worths (numpy's powers)
    gray: int,
    gray_price: float,
    rule_may_buy: np.ndarray,  # lab_kernel.open_arrays' arguments (the rule terms', the month's)
    rule_domestic: np.ndarray,
    may_rent: np.ndarray,
    on_sale: np.ndarray,
    active: np.ndarray,
    risk: np.ndarray,
    lab_access: np.ndarray,
    rental_risk_cost: float,
    smuggling_risk_cost: float,
    list_price: np.ndarray,  # [C] lab_kernel.best_per_dollar's (value is purchase_value)
    markup: float,
    may_buy: np.ndarray,  # [L, C] bool out (procure's month's workspace): open_arrays' six
    domestic: np.ndarray,  # [L, 2C + 1] bool out
    rentable: np.ndarray,  # [L, C] bool out
    rental_risk: np.ndarray,  # [L, 1] out
    wants_gray: np.ndarray,  # [L] bool out
    smuggling_risk: np.ndarray,  # [L] out
    unit: np.ndarray,  # [L, 2C + 1] out
    rental: np.ndarray,  # [C] out
    x: np.ndarray,  # [2 L C + L + kind] out: the values to log at its front
) -> tuple[int, int, bool, bool]:
    """The offers up to their logarithm: the sources open to each lab (lab_kernel.open_arrays,
    which agents.lab kept between months under a key costing about as much as the kernel),
    price_args' prices and values per dollar, and the outside option's best value per dollar
    over the markup (lab_kernel.best_per_dollar) after them in the same array, so that one
    np.log takes both. Writes the open sources (which offers_finish reads), unit, rental and
    the values to log into the arrays given: each array handed to Python would cost more
    than making it. Returns (how many values to log, how many of them are price_args',
    whether those are all positive, whether the outside option's are)."""
    open_arrays_into(
        rule_may_buy, rule_domestic, may_rent, on_sale, active, risk, lab_access, gray,
        rental_risk_cost, smuggling_risk_cost, may_buy, domestic, rentable, rental_risk,
        wants_gray, smuggling_risk,
    )
    n, quiet = price_args_into(
        purchase_value, growth_kind, price, subsidy, subsidised, levy, levied, any_checks,
        checked, checks, has_vendor_terms, vendor_terms, rental_premium, has_host, worth[0],
        gray, gray_price, worth[1], may_buy, rentable, wants_gray, unit, rental, x,
    )
    best, quiet_outside = best_per_dollar(purchase_value, list_price, on_sale, markup)
    for k in range(best.size):
        x[n + k] = best[k] / markup
    return n + best.size, n, quiet, quiet_outside


@numba.njit(cache=True)
def offers_finish(
    # np.log of offers_start's values: price_args' then the outside option's [kind]
    logs: np.ndarray,
    n_args: int,  # how many are price_args'
    beta: float,  # utilities' arguments, as there, but the open sources'
    log_buy_allowed: np.ndarray,
    preference: np.ndarray,
    has_ported: bool,
    log_ported: np.ndarray,
    has_host: bool,
    log_host_allowed: np.ndarray,
    gray: int,
    enforcement_root: float,
    may_buy: np.ndarray,  # the open sources offers_start wrote (lab_kernel.open_arrays' but
    rentable: np.ndarray,  # domestic, which the allocation reads where offers_start wrote it)
    rental_risk: np.ndarray,
    wants_gray: np.ndarray,
    smuggling_risk: np.ndarray,
    growth_kind: np.ndarray,  # [L] each lab's kind
    unit: np.ndarray,  # lab_kernel.allocation_inputs' arguments (unit prices, the view's caps left,
    cap_left: np.ndarray,  # the share allowed, whether a mandate binds, each chip's H100e)
    allowed: np.ndarray,
    mandated: bool,
    h100e: np.ndarray,
    vendor_capacity: np.ndarray,  # [V] the view's
    choices_out: np.ndarray,  # the allocation's inputs, written here (procure's month's workspace):
    paid_out: np.ndarray,  # [L, 2C + 2] choices, [L, 2C + 1] paid, h100e_per_money, domestic,
    per_money_out: np.ndarray,  # [K] cap_left, [V] vendor_left
    cap_left_out: np.ndarray,
    vendor_left_out: np.ndarray,
    vals_out: np.ndarray,  # [L (2C + 2)] out: the logit's values and positions at the front
    idx_out: np.ndarray,
) -> tuple[int, bool]:
    """The offers' utilities (utilities), each lab's outside option (beta times the log of
    its kind's best value per dollar over the markup: agents.lab.outside_option), the
    allocation's first choices and their logit up to its exp (shift), and the rest of the
    allocation's inputs (allocation_inputs: the prices paid, whether a cap binds, a copy of
    the caps, the compute a dollar buys under the mandate; a copy of the vendors' capacity),
    written into the *_out arrays: handing each to Python as a new array would cost more
    than making it. Returns (how many of the logit's values, capped)."""
    utility = utilities(
        logs, beta, log_buy_allowed, preference, has_ported, log_ported, may_buy, has_host,
        log_host_allowed, rental_risk, rentable, gray, smuggling_risk, enforcement_root,
        wants_gray,
    )
    outside = np.empty(growth_kind.size)
    for i in range(growth_kind.size):
        outside[i] = beta * logs[n_args + growth_kind[i]]
    capped = allocation_inputs_into(
        utility, outside, unit, cap_left, allowed, mandated, h100e, gray, choices_out, paid_out,
        cap_left_out, per_money_out,
    )
    vendor_left_out[...] = vendor_capacity
    return shift_into(choices_out, vals_out, idx_out), capped
