"""The labs' smaller array cascades (agents.lab: the rule terms and the sources open to each
lab, outside_option's best value per dollar, the allocation's inputs, the month's cash and
spending, a capped provenance's cluster share, the compute scarcity behind
progress_algorithms, the budgets' growth) as numba kernels giving numpy's numbers bit for bit:
each was a handful of numpy calls on small tables, costing more in dispatch than in arithmetic.

What stays in numpy: the logarithms (the rule terms', the outside option's, the budgets'), the
cluster share's power and the budgets' np.exp, each on the same scalars and arrays as before.
How the kernels keep numpy's numbers: game/core/exact.py (np_maximum propagates NaN as
np.maximum does). tests/agents/test_kernels_led.py holds them to the numpy code on real months.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from game.core.exact import nan_to_num, np_maximum, np_minimum


@numba.njit(cache=True)
def best_per_dollar(
    value: np.ndarray,
    list_price: np.ndarray,
    on_sale: np.ndarray,
    markup: float,
) -> tuple[np.ndarray, bool]:
    """[kind] np.maximum.reduce(np.where(on_sale & (list_price > 0), value / list_price, 0.0),
    axis=1, initial=0.0) of value [kind, chip], and whether every best / markup is positive
    (then its logarithm raises no warning and needs no np.errstate)."""
    n_kinds, n_chips = value.shape
    best = np.empty(n_kinds)
    quiet = True
    for k in range(n_kinds):
        acc = 0.0
        for c in range(n_chips):
            v = value[k, c] / list_price[c] if on_sale[c] and list_price[c] > 0 else 0.0
            acc = np_maximum(acc, v)
        best[k] = acc
        if not acc / markup > 0.0:
            quiet = False
    return best, quiet


@numba.njit(cache=True)
def allocation_inputs(
    utility: np.ndarray,
    outside: np.ndarray,
    unit: np.ndarray,
    cap_left: np.ndarray,
    allowed: np.ndarray,
    mandate: bool,
    h100e: np.ndarray,
    gray_chip: int,
) -> tuple:
    """_allocation_arrays' plain parts: the choices (utility with the outside option as the
    last column), the unit prices paid (_paid: 0 where not finite), whether any country is
    capped (a finite cap), a fresh copy of the caps, and under a mandate the H100e a unit of
    spending buys (_finite(allowed * _source_h100e / unit); zeros without)."""
    n_labs, n_sources = utility.shape
    choices = np.empty((n_labs, n_sources + 1))
    paid = np.empty(unit.shape)
    left = np.empty(cap_left.size)
    per_money = np.empty(unit.shape)
    capped = allocation_inputs_into(
        utility, outside, unit, cap_left, allowed, mandate, h100e, gray_chip, choices, paid,
        left, per_money,
    )
    return choices, paid, capped, left, per_money


@numba.njit(cache=True)
def allocation_inputs_into(
    utility: np.ndarray,
    outside: np.ndarray,
    unit: np.ndarray,
    cap_left: np.ndarray,
    allowed: np.ndarray,
    mandate: bool,
    h100e: np.ndarray,
    gray_chip: int,
    choices: np.ndarray,  # [L, S + 1] out
    paid: np.ndarray,  # [L, S] out
    left: np.ndarray,  # [K] out
    per_money: np.ndarray,  # [L, S] out
) -> bool:
    """allocation_inputs written into arrays the caller keeps (a month's workspace: each
    array a kernel hands to Python costs more than its arithmetic); returns capped."""
    n_labs, n_sources = utility.shape
    n_chips = h100e.size
    per_money[...] = 0.0
    if mandate:
        gray = h100e[gray_chip] if gray_chip >= 0 else 0.0
        for i in range(unit.shape[0]):
            for s in range(unit.shape[1]):
                if s < n_chips:
                    src = h100e[s]
                elif s < 2 * n_chips:
                    src = h100e[s - n_chips]
                else:
                    src = gray
                per_money[i, s] = nan_to_num(allowed[i, s] * src / unit[i, s])
    for i in range(n_labs):
        for s in range(n_sources):
            choices[i, s] = utility[i, s]
        choices[i, n_sources] = outside[i]
    for i in range(unit.shape[0]):
        for s in range(unit.shape[1]):
            x = unit[i, s]
            paid[i, s] = x if math.isfinite(x) else 0.0
    capped = False
    for k in range(cap_left.size):
        left[k] = cap_left[k]
        if math.isfinite(cap_left[k]):
            capped = True
    return capped


@numba.njit(cache=True)
def scarcity_of(
    flops: np.ndarray,
    budget: np.ndarray,
    frontier: np.ndarray,
    founded: np.ndarray,
    month: int,
    bloc: np.ndarray,
    n_blocs: int,
) -> np.ndarray:
    """game.core.capability.compute_scarcity of the labs counted as progress_algorithms counts
    them (frontier labs founded by `month`): bincounts in input order from 0.0, np.fmax's
    maximum (NaN skipped), np.minimum(np.maximum(x, 0), 1) on the finite ratios."""
    held = np.zeros(n_blocs)
    money = np.zeros(n_blocs)
    for i in range(bloc.size):
        counted = frontier[i] and founded[i] <= month
        held[bloc[i]] += flops[i] if counted else 0.0
        money[bloc[i]] += budget[i] if counted else 0.0
    per_dollar = np.full(n_blocs, np.nan)
    best = np.nan
    for b in range(n_blocs):
        if money[b] > 0:
            per_dollar[b] = held[b] / money[b]
        v = per_dollar[b]
        if v == v and (best != best or v > best):
            best = v
    out = np.zeros(n_blocs)
    if best != best or not best > 0:  # no finite ratio, or the best has none: all zero
        return out
    for b in range(n_blocs):
        r = per_dollar[b] / best
        if math.isfinite(r):
            out[b] = 1.0 - np_minimum(np_maximum(r, 0.0), 1.0)
    return out


@numba.njit(cache=True)
def monthly_rate(
    growth_kind: np.ndarray,
    bloc: np.ndarray,
    frontier_rate: float,
    other_rate: float,
    set_rate: np.ndarray,
) -> np.ndarray:
    """[lab] budget_growth's rate / 12.0: np.where(growth_kind == 0, frontier_rate,
    other_rate), where the scenario sets a bloc's rate (set_rate [bloc], if not empty) its
    finite one instead."""
    out = np.empty(growth_kind.size)
    for i in range(growth_kind.size):
        r = frontier_rate if growth_kind[i] == 0 else other_rate
        if set_rate.size:
            s = set_rate[bloc[i]]
            if math.isfinite(s):
                r = s
        out[i] = r / 12.0
    return out


@numba.njit(cache=True)
def grow_budgets(
    budget: np.ndarray,
    budget_factor: np.ndarray,
    growth: np.ndarray,
    bloc: np.ndarray,
    china_bloc: int,
    china_factor: float,
) -> None:
    """budget *= growth * factor / budget_factor; budget_factor[:] = factor, where factor is
    china_factor for the labs of china_bloc and 1.0 for the others."""
    for i in range(budget.size):
        f = china_factor if bloc[i] == china_bloc else 1.0
        budget[i] *= growth[i] * f / budget_factor[i]
        budget_factor[i] = f


@numba.njit(cache=True)
def cash_and_spend(
    cash: np.ndarray,
    budget_in: np.ndarray,
    budget: np.ndarray,
    founded: np.ndarray,
    month: int,
    cap_months: float,
) -> tuple[np.ndarray, np.ndarray]:
    """procure's cash: each lab founded by `month` adds budget_in to its cash, up to cap_months
    times its budget (np.minimum, NaN propagating); returns (active [lab], spend [lab]: the
    cash of the active labs, 0 for the others)."""
    active = np.empty(cash.size, np.bool_)
    spend = np.empty(cash.size)
    cash_and_spend_into(cash, budget_in, budget, founded, month, cap_months, active, spend)
    return active, spend


@numba.njit(cache=True)
def cash_and_spend_into(
    cash: np.ndarray,
    budget_in: np.ndarray,
    budget: np.ndarray,
    founded: np.ndarray,
    month: int,
    cap_months: float,
    active: np.ndarray,  # [L] bool out
    spend: np.ndarray,  # [L] out
) -> None:
    """cash_and_spend written into arrays the caller keeps (procure's month's workspace)."""
    for i in range(cash.size):
        active[i] = founded[i] <= month
        spend[i] = 0.0
        if active[i]:
            cash[i] = np_minimum(cash[i] + budget_in[i], cap_months * budget[i])
            spend[i] = cash[i]


@numba.njit(cache=True)
def cluster_joins(
    held: np.ndarray,
    provenance: int,
    cap: float,
) -> np.ndarray:
    """[lab] np.minimum(1.0, cap / np.maximum(held[:, provenance], 1.0)) of whole counts held
    [lab, provenance]: the share of one more chip that can still join a capped cluster."""
    out = np.empty(held.shape[0])
    for i in range(held.shape[0]):
        out[i] = np_minimum(1.0, cap / np_maximum(float(held[i, provenance]), 1.0))
    return out


@numba.njit(cache=True)
def cluster_joins_frontier(
    held: np.ndarray,
    provenance: int,
    cap: float,
    frontier: np.ndarray,
) -> np.ndarray:
    """cluster_joins for the frontier labs [lab], 1.0 for the others: raised to any power it
    stays 1.0 exactly (pow(1, y) is 1 for every y, and so are the square, root, reciprocal
    numpy's ** takes for some exponents), which is what np.where(frontier, joins ** y, 1.0)
    gives them."""
    out = np.empty(held.shape[0])
    for i in range(held.shape[0]):
        if frontier[i]:
            out[i] = np_minimum(1.0, cap / np_maximum(float(held[i, provenance]), 1.0))
        else:
            out[i] = 1.0
    return out


@numba.njit(cache=True)
def open_arrays(
    rule_may_buy: np.ndarray,
    rule_domestic: np.ndarray,
    may_rent: np.ndarray,
    on_sale: np.ndarray,
    active: np.ndarray,
    risk: np.ndarray,
    lab_access: np.ndarray,
    gray: int,
    rental_risk_cost: float,
    smuggling_risk_cost: float,
) -> tuple:
    """agents.lab._open_arrays_reference's (may_buy [L, C], domestic [L, 2C + 1], rentable
    [L, C], rental_risk [L, 1], wants_gray [L], smuggling_risk [L])."""
    n_labs, n_chips = rule_may_buy.shape
    may_buy = np.empty((n_labs, n_chips), np.bool_)
    domestic = np.empty((n_labs, 2 * n_chips + 1), np.bool_)
    rentable = np.empty((n_labs, n_chips), np.bool_)
    rental_risk = np.empty((n_labs, 1))
    wants_gray = np.empty(n_labs, np.bool_)
    smuggling_risk = np.empty(n_labs)
    open_arrays_into(
        rule_may_buy, rule_domestic, may_rent, on_sale, active, risk, lab_access, gray,
        rental_risk_cost, smuggling_risk_cost, may_buy, domestic, rentable, rental_risk,
        wants_gray, smuggling_risk,
    )
    return may_buy, domestic, rentable, rental_risk, wants_gray, smuggling_risk


@numba.njit(cache=True)
def open_arrays_into(
    rule_may_buy: np.ndarray,  # open_arrays' arguments, as there
    rule_domestic: np.ndarray,
    may_rent: np.ndarray,
    on_sale: np.ndarray,
    active: np.ndarray,
    risk: np.ndarray,
    lab_access: np.ndarray,
    gray: int,
    rental_risk_cost: float,
    smuggling_risk_cost: float,
    may_buy: np.ndarray,  # open_arrays' six, out (procure's month's workspace)
    domestic: np.ndarray,
    rentable: np.ndarray,
    rental_risk: np.ndarray,
    wants_gray: np.ndarray,
    smuggling_risk: np.ndarray,
) -> None:
    """open_arrays written into arrays the caller keeps: offers_start makes them once a
    month for offers_finish too (each array handed to Python costs more than making it)."""
    n_labs, n_chips = rule_may_buy.shape
    domestic[...] = False
    for i in range(n_labs):
        risky = active[i] and risk[i] > 0
        for c in range(n_chips):
            may_buy[i, c] = rule_may_buy[i, c] and on_sale[c] and active[i]
            domestic[i, c] = rule_domestic[i, c] and may_buy[i, c]
            rentable[i, c] = may_rent[i, c] and risky and on_sale[c]
        rental_risk[i, 0] = rental_risk_cost * (1.0 - risk[i])
        wants_gray[i] = risky and lab_access[i, gray] < 1 if gray >= 0 else False
        smuggling_risk[i] = smuggling_risk_cost * (1.0 - risk[i])


@numba.njit(cache=True)
def rule_arrays(
    allowed: np.ndarray,  # [L, C] view.lab_access
    chip_vendor: np.ndarray,  # [C]
    vendor_bloc: np.ndarray,  # [V]
    variant_of: np.ndarray,  # [C]
    subject: np.ndarray,  # [C] bool
    chip_class: np.ndarray,  # [C]
    h100e: np.ndarray,  # [C]
    lab_bloc: np.ndarray,  # [L]
    lab_country: np.ndarray,  # [L]
    tier: np.ndarray,  # [K]
    customs_effort: np.ndarray,  # [K]
    vendor_markets: np.ndarray,  # [V, B] bool
    listed: np.ndarray,  # [L] bool
    china_bloc: int,
    stopped: float,  # foreign_chip_discouragement
    compliance_cost: float,
    preference_value: float,
    host: int,
    remote: bool,  # remote_access_controls
    codes: np.ndarray,  # int64 (DOMESTIC, COMPLIANT, LEGAL, RESTRICTED, EMBARGOED, CONTROLLED)
) -> tuple:
    """agents.lab._rule_arrays_reference's arrays but the two logarithms, whose arguments it
    returns instead (the buy and host shares with 1.0 where nothing is allowed)."""
    domestic_code, compliant_code, legal_code = codes[0], codes[1], codes[2]
    restricted_tier, embargoed_tier, controlled_class = codes[3], codes[4], codes[5]
    n_labs, n_chips = allowed.shape
    domestic = np.empty((n_labs, n_chips), np.bool_)
    provenance = np.empty((n_labs, n_chips), np.int64)
    in_target = np.empty(n_labs, np.bool_)
    buy_allowed = np.empty((n_labs, n_chips))
    restricted = np.empty(n_labs, np.bool_)
    subsidised = np.empty((n_labs, n_chips), np.bool_)
    levied = np.empty((n_labs, n_chips), np.bool_)
    checked = np.empty((n_labs, n_chips), np.bool_)
    checks = np.empty(n_labs)
    any_checks = False
    may_buy = np.empty((n_labs, n_chips), np.bool_)
    buy_log_arg = np.empty((n_labs, n_chips))
    preference = np.empty((n_labs, n_chips))
    for i in range(n_labs):
        in_target[i] = lab_bloc[i] == china_bloc
        t = tier[lab_country[i]]
        restricted[i] = t == restricted_tier or t == embargoed_tier
        checks[i] = np_maximum(customs_effort[lab_country[i]] - 1.0, 0.0) * compliance_cost
        if checks[i] != 0.0:
            any_checks = True
        for c in range(n_chips):
            variant = variant_of[c] >= 0
            d = vendor_bloc[chip_vendor[c]] == lab_bloc[i]
            domestic[i, c] = d
            provenance[i, c] = domestic_code if d else (compliant_code if variant else legal_code)
            guided = not d and subject[c] and in_target[i]
            a = allowed[i, c]
            b = a * (1.0 - stopped) if guided else a
            buy_allowed[i, c] = b
            subsidised[i, c] = d and in_target[i]
            levied[i, c] = restricted[i] and subject[c]
            checked[i, c] = not d and subject[c]
            may_buy[i, c] = (
                vendor_markets[chip_vendor[c], lab_bloc[i]]
                and b > 0
                and not (variant and not restricted[i])
            )
            buy_log_arg[i, c] = b if b > 0 else 1.0
            preference[i, c] = preference_value if subsidised[i, c] else 0.0
    host_allowed = np.zeros(n_chips)
    may_rent = np.zeros((n_labs, n_chips), np.bool_)
    host_log_arg = np.zeros(n_chips)
    n_cut = 0
    cut = np.empty(n_labs, np.int64)
    if host >= 0:
        for c in range(n_chips):
            host_allowed[c] = allowed[host, c]
            host_log_arg[c] = host_allowed[c] if host_allowed[c] > 0 else 1.0
        for i in range(n_labs):
            cut_off = listed[i] or (remote and restricted[i])
            if cut_off and i != host:
                cut[n_cut] = i
                n_cut += 1
            lab_may = not cut_off and lab_country[i] != lab_country[host]
            for c in range(n_chips):
                may_rent[i, c] = (
                    lab_may and not variant_of[c] >= 0 and host_allowed[c] > 0
                    and allowed[i, c] < 1
                )
    n_sources = 2 * n_chips + 1
    all_allowed = np.empty((n_labs, n_sources))
    partly = np.empty((n_labs, n_sources), np.bool_)
    buyer_country = np.empty((n_labs, 2 * n_chips), lab_country.dtype)
    host_country = lab_country[host] if host >= 0 else 0
    for i in range(n_labs):
        for c in range(n_chips):
            all_allowed[i, c] = buy_allowed[i, c]
            all_allowed[i, n_chips + c] = host_allowed[c]
            buyer_country[i, c] = lab_country[i]
            buyer_country[i, n_chips + c] = host_country
        all_allowed[i, n_sources - 1] = 1.0
        for s in range(n_sources):
            partly[i, s] = all_allowed[i, s] < 1.0
    controlled_h2 = np.empty(2 * n_chips)
    for c in range(n_chips):
        h = (1.0 if chip_class[c] == controlled_class else 0.0) * h100e[c]
        controlled_h2[c] = h
        controlled_h2[n_chips + c] = h
    return (
        domestic, provenance, in_target, buy_allowed, restricted, subsidised, levied, checked,
        checks, any_checks, may_buy, buy_log_arg, preference, host_allowed, may_rent,
        host_log_arg, cut[:n_cut].copy(), all_allowed, buyer_country, partly, controlled_h2,
    )


@numba.njit(cache=True)
def own_rule_arrays(
    subsidised: np.ndarray,  # [L, C] bool: the kept terms'
    customs_effort: np.ndarray,  # [K] view.customs_effort
    lab_country: np.ndarray,  # [L]
    chip_class: np.ndarray,  # [C] view.chip_class
    h100e: np.ndarray,  # [C]
    preference_value: float,  # domestic_preference
    compliance_cost: float,  # customs_compliance_cost
    controlled_class: int,  # rules.CONTROLLED
) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray]:
    """The arrays of rule_arrays that read what a projection's futures draw, as rule_arrays
    derives them (agents.lab._own_arrays_reference in numpy): (preference, checks, any_checks,
    controlled_h2), for agents.lab._RuleTerms.own."""
    n_labs, n_chips = subsidised.shape
    preference = np.empty((n_labs, n_chips))
    checks = np.empty(n_labs)
    any_checks = False
    for i in range(n_labs):
        checks[i] = np_maximum(customs_effort[lab_country[i]] - 1.0, 0.0) * compliance_cost
        if checks[i] != 0.0:
            any_checks = True
        for c in range(n_chips):
            preference[i, c] = preference_value if subsidised[i, c] else 0.0
    controlled_h2 = np.empty(2 * n_chips)
    for c in range(n_chips):
        h = (1.0 if chip_class[c] == controlled_class else 0.0) * h100e[c]
        controlled_h2[c] = h
        controlled_h2[n_chips + c] = h
    return preference, checks, any_checks, controlled_h2
