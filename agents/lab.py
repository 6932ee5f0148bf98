"""AI labs: the buyers of compute and the trainers of models.

Each lab is a Mesa agent (identity, country, risk appetite, what it has trained) whose numbers
live in one row of a `LabTable`. The lab's decision rules, buying compute and training, are
written once here and run over every lab at once, because a world may hold thousands of small
buyers and a Python loop over them would cost more than the rest of the month together.

How a lab buys (each month, with its cash: budget plus what it could not spend before):
  1. It weighs every source of compute it may use by value per dollar (dense compute, and
     memory bandwidth for serving, weighted by `inference_weight`), with a logit choice of
     sharpness `choice_sharpness`. Sources: any chip it may legally buy (legal, a compliant
     variant, or domestic), chips rented abroad, and the gray market.
  2. Legality comes from the rule engine as the share of a purchase allowed (licences); risky
     sources carry a cost that falls with the lab's risk appetite: labs with none never rent
     abroad nor buy smuggled chips.
  3. China's levers shift the weights: domestic preference, guidance that stops a share of its
     labs' purchases of foreign controlled chips, and a buy-domestic mandate that sets a floor
     on the domestic share of the compute (H100e) its labs obtain.
  4. Vendors ration scarce chips; the diffusion cap limits controlled imports of capped
     countries; gray-market orders are paid into escrow and filled by brokers next month.
  5. Demand can say no: the logit has an outside option, keeping the cash (up to
     `CASH_CAP_MONTHS` of budget; the rest goes to other uses), worth as much as a source
     `reservation_markup` times dearer per unit of value than the best chip on the world
     market at list price (`outside_option`). At list prices it takes a fraction of a
     percent; facing only the gray market near its ceiling a lab keeps most of its money.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from agents import lab_kernel, offers_kernel, procure_kernel, training_kernel
from agents.allocation_kernel import allocate_arrays
from agents.delivery_kernel import deliver_arrays, hold_to_mandate_arrays
from game.config.texts import text as tr
from game.core.capability import (
    SECONDS_PER_MONTH,
    bloc_bound,
    bloc_frontier,
    capability_index,
    compute_scarcity,
    grow_efficiency,
    released_foreign,
    run_reach,
    technique_adoption,
    training_flops,
)
from game.core.ledger import (
    CLUSTER_CAP_PARAMETER,
    COMPLIANT,
    DOMESTIC,
    LEGAL,
    RENTED,
    SMUGGLED,
)
from game.core.market import capacity_scale, softmax_rows, whole_units
from game.core.rules import CONTROLLED, EMBARGOED, RESTRICTED

if TYPE_CHECKING:
    from agents.context import MonthContext

CASH_CAP_MONTHS = 3.0  # a lab holds at most this many months of budget unspent
MAX_DIVERTED_SHARE = 0.9  # a guard: within the levers' ranges the research and distillation
# shares never reach it (at most 0.5 + 0.15); a lab always buys some chips


class LabTable:
    """Column store of every lab's numbers; row i is the lab whose `idx` is i."""

    ARRAYS = (
        "country",
        "bloc",
        "frontier",
        "growth_kind",
        "founded",
        "hosts",
        "budget",
        "budget_factor",
        "cash",
        "risk",
        "run_age",
        "run_flop",
        "best_eff_flop",
        "best_run_flop",
        "ref_run_flop",
        "ref_run_month",
        "capability",
        "technique_gain",
        "own_efficiency",
        "distil_cut_until",
        "gray_order",
        "escrow",
        "gray_inflight",
        "gray_price_paid",
        "spent_month",
    )

    def __init__(self, n: int, n_chips: int) -> None:
        self.ids: list[str] = []
        self.names: list[str] = []
        self.country = np.zeros(n, np.int64)
        self.bloc = np.zeros(n, np.int64)
        self.frontier = np.zeros(n, bool)
        self.growth_kind = np.zeros(n, np.int64)  # 0 frontier lab, 1 cloud/enterprise
        self.founded = np.zeros(n, np.int64)
        self.hosts = np.zeros(n, bool)
        self.budget = np.zeros(n)  # USD a month
        self.budget_factor = np.ones(n)  # the state-funding multiplier in `budget` (budget_growth)
        self.cash = np.zeros(n)
        self.risk = np.zeros(n)
        self.run_age = np.zeros(n, np.int64)
        self.run_flop = np.zeros(n)
        self.best_eff_flop = np.zeros(n)
        self.best_run_flop = np.zeros(n)  # physical FLOP of the largest finished run
        # of the lab's finished runs, the one that supports the largest next run (the reference
        # of capability.scale_up_bound): its physical FLOP and month (the start if before it)
        self.ref_run_flop = np.zeros(n)
        self.ref_run_month = np.zeros(n, np.int64)
        self.capability = np.full(n, np.nan)
        self.technique_gain = np.ones(n)  # techniques' multiplier of the model behind capability
        self.own_efficiency = np.ones(n)  # the lab's own research's multiplier (research_share)
        self.distil_cut_until = np.zeros(n, np.int64)  # month its distillation resumes (caught)
        self.gray_order = np.zeros(n, np.int64)  # chips ordered from brokers, not yet shipped
        self.escrow = np.zeros(n)  # cash paid for gray chips in flight
        self.gray_inflight = np.zeros((n, n_chips), np.int64)
        self.gray_price_paid = np.zeros(n_chips)  # per chip, price of the orders in flight
        self.spent_month = np.zeros(n)

    def __len__(self) -> int:
        return len(self.ids)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return (
            {"ids": list(self.ids), "names": list(self.names)},
            {f"labs.{k}": getattr(self, k).copy() for k in self.ARRAYS},
        )

    def load_state(self, plain: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.ids, self.names = list(plain["ids"]), list(plain["names"])
        for k in self.ARRAYS:
            if f"labs.{k}" in arrays:
                setattr(self, k, arrays[f"labs.{k}"].copy())
            elif k == "budget_factor":  # a save from before state funding: no multiplier
                self.budget_factor = np.ones(len(self.ids))
            elif k == "technique_gain":  # a save from before the techniques: dense models
                self.technique_gain = np.ones(len(self.ids))
            elif k == "own_efficiency":  # a save from before labs' own research
                self.own_efficiency = np.ones(len(self.ids))
            elif k == "distil_cut_until":  # a save from before distillation could be caught
                self.distil_cut_until = np.zeros(len(self.ids), np.int64)
            elif k == "ref_run_flop":  # a save from before the scale-up bound: its largest run,
                self.ref_run_flop = self.best_run_flop.copy()
            elif k == "ref_run_month":  # dated at the start the restored model was built with
                continue
            else:
                raise KeyError(f"labs.{k}")


class AILab(mesa.Agent):
    """A lab or an aggregate buyer (a bloc's cloud and enterprise market)."""

    def __init__(self, model: MonthContext, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def lab_id(self) -> str:
        return self.model.labs.ids[self.idx]

    @property
    def name(self) -> str:
        return self.model.labs.names[self.idx]

    @property
    def bloc(self) -> str:
        return self.model.bloc_ids[self.model.labs.bloc[self.idx]]

    @property
    def country(self) -> str:
        return self.model.country_ids[self.model.labs.country[self.idx]]

    @property
    def risk_appetite(self) -> float:
        return float(self.model.labs.risk[self.idx])

    @property
    def capability(self) -> float:
        return float(self.model.labs.capability[self.idx])

    @property
    def cash(self) -> float:
        return float(self.model.labs.cash[self.idx])

    @property
    def compute_h100e(self) -> float:
        return float(self.model.ledger.chips_held()[self.idx] @ self.model.chips.h100e)

    def __repr__(self) -> str:
        return f"AILab({self.lab_id!r})"


# ------------------------------------------------------------------------------- buying
def _domestic_floor(
    shares: np.ndarray,
    domestic: np.ndarray,
    bound: np.ndarray,
    floor: float,
    h100e_per_share: np.ndarray,
) -> np.ndarray:
    """China's buy-domestic mandate: lift the domestic share of the compute bound labs obtain
    to the floor (where domestic chips are to be had), moving spending from the other sources.

    The floor counts compute (H100e), not dollars: a subsidy that makes domestic chips cheaper
    then needs fewer dollars to meet it and leaves more for the rest, instead of tightening
    the cap on everything else. `h100e_per_share` [lab, source] is the compute a unit of
    spending share buys (allowed share x H100e per chip / unit price)."""
    # [money, compute] x [lab, source], summed per lab in one call each: a row's sum is the
    # same pairwise sum in a stack as alone
    both = np.empty((2,) + shares.shape)
    both[0] = shares
    np.multiply(shares, h100e_per_share, out=both[1])
    # np.add.reduce: the pairwise sum .sum() takes, without its Python wrapper (here and below)
    dom = np.add.reduce(np.where(domestic, both, 0.0), axis=2)
    dom_money, dom_c = dom
    other_money, other_c = np.add.reduce(both, axis=2) - dom
    up, down = _floor_factors(bound, floor, dom_money, other_money, dom_c, other_c)
    if up is None:
        return shares
    return shares * np.where(domestic, up[:, None], down[:, None])


def _floor_factors(
    bound: np.ndarray,
    floor: float,
    dom_money: np.ndarray,
    other_money: np.ndarray,
    dom_c: np.ndarray,
    other_c: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """[lab] what _domestic_floor multiplies each lab's domestic and other shares by (1 where
    it lifts nothing), or (None, None) when no lab is lifted. Worked out per bound lab in
    Python floats (the same IEEE arithmetic as numpy's, in the same order): a handful of labs
    is bound, and some twenty numpy calls on [lab] arrays cost more than the loop."""
    up = down = None
    money, compute = (dom_money.tolist(), other_money.tolist()), (dom_c.tolist(), other_c.tolist())
    for i in bound.nonzero()[0].tolist():  # np.flatnonzero of a [lab] mask
        dm, om, dc, oc = money[0][i], money[1][i], compute[0][i], compute[1][i]
        if not (dc > 0 and dc < floor * (dc + oc)):
            continue
        # H100e per unit of money share on each side; the domestic money share that meets
        # the floor
        per_dom = dc / max(dm, 1e-12)
        per_other = oc / max(om, 1e-12)
        total = dm + om
        weight = floor * per_other + (1.0 - floor) * per_dom  # > 0 where lifted
        target = total * floor * per_other / weight if weight > 0 else dm
        if up is None:
            up, down = np.ones(bound.size), np.ones(bound.size)
        up[i] = target / max(dm, 1e-12)
        down[i] = (total - target) / max(om, 1e-12)
    return up, down


def _hold_to_mandate(
    units: np.ndarray,
    source_h100e: np.ndarray,
    domestic: np.ndarray,
    bound: np.ndarray,
    floor: float,
) -> np.ndarray:
    """_hold_to_mandate_reference's units, computed by a compiled kernel
    (agents/delivery_kernel.py)."""
    return hold_to_mandate_arrays(units, source_h100e, domestic, bound, float(floor))[0]


def _hold_to_mandate_reference(
    units: np.ndarray,
    source_h100e: np.ndarray,
    domestic: np.ndarray,
    bound: np.ndarray,
    floor: float,
) -> np.ndarray:
    """The mandate binds after rationing too: a bound lab that could get only so much domestic
    compute may obtain at most (1 - floor) / floor times as much (in H100e) from other sources;
    the rest of its money waits. Counting compute, not dollars, means a deeper subsidy (cheaper
    domestic chips, the same compute) never tightens this cap. Labs with no domestic chip on
    offer at all are not held back.
    The rule in numpy, which the kernel reproduces bit for bit: read this one."""
    got = units * source_h100e[None, :]
    dom = np.add.reduce(np.where(domestic, got, 0.0), axis=1)
    foreign = np.add.reduce(got, axis=1) - dom
    allowed = dom * (1.0 - floor) / floor
    offered = np.logical_or.reduce(domestic, axis=1)
    cut = bound & offered & (foreign > allowed)
    if not np.logical_or.reduce(cut, axis=None):
        return units
    scale = np.where(cut, allowed / np.maximum(foreign, 1e-12), 1.0)
    return np.where(domestic, units, units * scale[:, None])


def _source_h100e(model: MonthContext) -> np.ndarray:
    """[source] H100e of one unit of each source: each chip bought, each chip rented, and
    the gray market's chip (0 when there is none)."""
    return _h100e_of_sources(model.chips.h100e, model.view.gray_chip)


def _h100e_of_sources(h100e: np.ndarray, gray_chip: int) -> np.ndarray:
    return np.concatenate([h100e, h100e, [h100e[gray_chip] if gray_chip >= 0 else 0.0]])


@dataclass
class _Offers:
    """Every source of compute each lab may buy this month, one column per source: buying
    each chip directly, renting each chip abroad, and the gray market (the last column)."""

    utility: np.ndarray  # [lab, source] logit utility, -inf where the source is closed
    unit_price: np.ndarray  # [lab, source] price of one chip (inf: the gray market is shut)
    allowed: np.ndarray  # [lab, source] share of a purchase the rules allow (licences)
    domestic: np.ndarray  # [lab, source] a domestic chip on offer (the mandate counts them)
    buyer_country: np.ndarray  # [lab, chip source] the country whose diffusion cap it counts in
    direct_price: np.ndarray  # [lab, chip] after subsidy, levy and customs checks
    rental_price: np.ndarray  # [chip]
    provenance: np.ndarray  # [lab, chip] how a direct purchase is booked in the ledger
    outside: np.ndarray  # [lab] logit utility of not buying this month (keeping the cash)
    rules: _RuleTerms | None = None  # the month's rule terms, so that _allocate keys them once
    # the allocation's first logit up to its exp (procure_kernel.logit_shift of utility and
    # outside: the values not -inf, their positions), where the kernels made it
    logit: tuple[np.ndarray, np.ndarray] | None = None


def _per_lab(model: MonthContext, lever: str, usual: float) -> np.ndarray | None:
    """[lab] a lab lever's value for every lab, `usual` where no lab set it; None while every
    lab is at the usual value (the month then skips the lever's arithmetic altogether)."""
    chosen = model.policy.targets(lever)
    if not chosen or all(float(v) == usual for v in chosen.values()):  # mostly none: no loop
        return None
    values = np.full(len(model.labs.ids), usual)
    for lab, value in chosen.items():
        if lab in model.lab_index:
            values[model.lab_index[lab]] = float(value)
    return values


def research_shares(model: MonthContext) -> np.ndarray | None:
    """[lab] the share of its budget each lab spends on algorithmic research instead of
    compute (its `research_share` lever; None when no lab set one)."""
    return _per_lab(model, "research_share", 0.0)


def distillation_efforts(model: MonthContext) -> np.ndarray | None:
    """[lab] how hard each lab distils foreign models, as a multiple of what labs usually do
    (its `distillation_effort` lever, 1 by default; None when no lab moved it)."""
    return _per_lab(model, "distillation_effort", 1.0)


def diverted_shares(model: MonthContext) -> np.ndarray | None:
    """[lab] the share of its budget a lab spends on other things than chips: its research
    (research_share) and distillation beyond the usual (distillation_effort above 1 costs
    distillation_effort_cost of the budget per unit; below 1 saves it); None when nothing is."""
    research = research_shares(model)
    efforts = distillation_efforts(model)
    if research is None and efforts is None:
        return None
    share = np.zeros(len(model.labs.ids)) if research is None else research
    if efforts is not None:
        share = share + model.p.distillation_effort_cost * (efforts - 1.0)
    return np.clip(share, 0.0, MAX_DIVERTED_SHARE)


def procure(model: MonthContext) -> None:
    """Every active lab spends its cash on compute this month (see the module docstring).

    procure_reference's numbers in five kernels (agents/procure_kernel.py, offers_kernel.py)
    around what stays numpy's: the cluster worths' power, the offers' logarithm, the two
    logits' exp and the delivery's draws. procure_staged calls the steps one by one."""
    labs, p, view, chips, ledger, books = (
        model.labs, model.p, model.view, model.chips, model.ledger, model.books
    )
    rules, levers = _procure_terms(model)
    h100e = chips.h100e
    # what the kernels write and hand each other within the month
    work = _Workspace.of(model, labs.frontier.size, h100e.size)
    active, spend = work.active, work.spend
    # a lab's research and extra distillation are paid from its budget, not spent on chips
    diverted = levers.diverted
    budget = labs.budget if diverted is None else labs.budget * (1.0 - diverted)
    # the cash topped up and what the labs may spend (_cash_and_spend_reference), and the
    # capped provenances' cluster shares (_provenance_worth) up to their power
    procure_kernel.start(
        labs.cash, budget, labs.budget, labs.founded, model.month, CASH_CAP_MONTHS,
        ledger.install_targets()[1], RENTED, float(getattr(p, CLUSTER_CAP_PARAMETER[RENTED])),
        SMUGGLED, float(getattr(p, CLUSTER_CAP_PARAMETER[SMUGGLED])), labs.frontier,
        active, spend, work.joins,
    )
    worth = work.joins ** (1.0 - p.inference_weight_frontier)  # numpy's, on the same shares
    host, g = view.rental_host, view.gray_chip
    vendor_terms = levers.vendor_terms
    # _offers up to the logarithm (the sources open now, prices, values per dollar) with
    # outside_option's best value per dollar
    on_sale = chips.on_sale(model.month)
    open_args = (
        rules.may_buy, rules.domestic, rules.may_rent, on_sale, active, labs.risk,
        view.lab_access, float(p.rental_risk_cost), float(p.smuggling_risk_cost),
    )
    unit, rental_price = work.unit, work.rental
    n_logs, n_args, quiet, quiet_outside = offers_kernel.offers_start(
        view.purchase_value, labs.growth_kind, view.price, levers.subsidy, rules.subsidised,
        levers.levy, rules.levied, rules.any_checks, rules.checked, rules.checks,
        vendor_terms is not None, vendor_terms if vendor_terms is not None else _NO_TERMS,
        float(p.rental_premium), host >= 0, worth, g,
        float(view.gray_price) if g >= 0 else 1.0, *open_args, chips.price,
        p.reservation_markup, work.may_buy, work.domestic, work.rentable, work.rental_risk,
        work.wants_gray, work.smuggling_risk, unit, rental_price, work.logs,
    )
    logs = work.logs[:n_logs]  # their logarithms in place (np.log's numbers, out or not)
    if quiet and quiet_outside:  # np.errstate costs more than the logarithm
        np.log(logs, out=logs)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log(logs, out=logs)
    ported = ported_shares(model)
    mandate = levers.mandate
    # the utilities, the outside option, the first logit up to its exp and the allocation's
    # inputs (_allocation_arrays), these written into the month's workspace
    choices, paid, per_money, domestic = work.choices, work.paid, work.per_money, work.domestic
    cap_left, vendor_left = work.cap_left, work.vendor_left
    vals, at = work.vals, work.at
    n_vals, capped = (
        offers_kernel.offers_finish(
            logs, n_args, float(p.choice_sharpness), rules.log_buy_allowed, rules.preference,
            ported is not None, ported[1] if ported is not None else _NO_TERMS, host >= 0,
            rules.log_host_allowed, g,
            # math.sqrt: IEEE's correctly rounded root, numpy's number without its dispatch
            math.sqrt(max(view.enforcement, 0.0)) if g >= 0 else 0.0, work.may_buy,
            work.rentable, work.rental_risk, work.wants_gray, work.smuggling_risk,
            labs.growth_kind, unit, view.cap_left, rules.allowed, mandate > 0, h100e,
            view.vendor_capacity, choices, paid, per_money, cap_left, vendor_left, vals, at,
        )
    )
    arrays = (
        choices, mandate, per_money, domestic, rules.in_target, unit, rules.allowed, paid, h100e,
        capped, rules.controlled_h2, rules._buyer_flat, chips.vendor, rules.partly_allowed,
        spend, cap_left, vendor_left,
        float(view.rental_capacity) if host >= 0 else 0.0,
    )
    # _allocate, _hold_to_mandate and _deliver's arithmetic in two kernels around the two
    # logits' np.exp (agents/procure_kernel.py)
    kept = vals[:n_vals]
    np.exp(kept, out=kept)  # softmax_rows' exp, numpy's, of the cells not -inf
    money, units = work.money, work.units
    # What buyers asked each vendor for over both passes: the demand it plans capacity for,
    # written into the month's new books (their own array, which nothing read before)
    asked = books.asked_per_chip
    n_vals, rent_room = procure_kernel.first_pass(
        vals, at, n_vals, *arrays, money, units, asked
    )
    kept = vals[:n_vals]
    np.exp(kept, out=kept)
    # the delivery's draws, as _deliver takes them (nothing draws in between)
    n_labs, n_chips = units.shape[0], h100e.size
    draws = model.rng.random(n_labs * (2 * n_chips + 1) if g >= 0 else 2 * n_labs * n_chips)
    books_host = books.rental_host
    got_d, got_r, cost = work.got_d, work.got_r, work.cost
    booked, per_chip = procure_kernel.finish(
        vals, at, n_vals, *arrays[:17], rent_room, money, units, asked, g, draws, rental_price,
        rules.provenance, RENTED, host >= 0, float(view.gray_price) if g >= 0 else 1.0,
        labs.cash, labs.spent_month, labs.escrow, labs.gray_order, model.vendor_country,
        *ledger.install_targets(), ledger.slot(model.year),
        books.lab_bloc, books.n_blocs, int(books.lab_bloc[books_host]) if books_host >= 0 else -1,
        books.sales_units, books.flows, books.lab_country,
        int(books.lab_country[books_host]) if books_host >= 0 else -1,
        got_d, got_r, cost, books.bought_by_lab, books.revenue_by_bloc,
    )
    # _book_delivery's calls, the ledger's and the books' in the kernel: the diffusion cap
    # (the view's caps as the allocation found them: any finite), and the sales' totals
    if capped:
        _charge_cap(model, got_d, got_r, (view.chip_class == CONTROLLED) * h100e)
    if booked:  # the revenue by bloc is in the books' array, the chips per chip new
        books.bought_per_chip = per_chip
    else:  # a lab's bloc out of the books' range: numpy's path, as record_sales takes it
        books.record_sales_reference(got_d, got_r, cost)


class _Workspace:
    """The arrays procure's kernels hand each other within a month (the cash and spend, the
    cluster shares, the sources open, the prices and values per dollar, the logits' values,
    the allocation's inputs, the money and units its passes fill, the chips delivered and
    their cost): written whole by the kernel that starts them every month and read by none
    after the month's procure (nothing keeps one: the books keep only their own arrays), so
    one set serves every month of a view, kept while the numbers of labs, chips, kinds,
    countries and vendors hold. Each array a kernel handed to Python instead costs more than
    its arithmetic. The view is the model's own (a restored model derives a new one; a deep
    copy copies this too), so no two models share a workspace."""

    def __init__(
        self, n_labs: int, n_chips: int, n_kinds: int, n_caps: int, n_vendors: int
    ) -> None:
        n_sources = 2 * n_chips + 1
        self.active = np.empty(n_labs, bool)
        self.spend = np.empty(n_labs)
        self.joins = np.empty((2, n_labs))
        # the sources open to each lab (lab_kernel.open_arrays': domestic is with the
        # allocation's inputs below)
        self.may_buy = np.empty((n_labs, n_chips), bool)
        self.rentable = np.empty((n_labs, n_chips), bool)
        self.rental_risk = np.empty((n_labs, 1))
        self.wants_gray = np.empty(n_labs, bool)
        self.smuggling_risk = np.empty(n_labs)
        self.unit = np.empty((n_labs, n_sources))
        self.rental = np.empty(n_chips)
        # price_args' values per dollar (2 a lab and chip, 1 a lab) and the outside option's
        self.logs = np.empty(2 * n_labs * n_chips + n_labs + n_kinds)
        self.vals = np.empty(n_labs * (n_sources + 1))  # a logit's kept values, their cells
        self.at = np.empty(n_labs * (n_sources + 1), np.int64)
        self.got_d = np.empty((n_labs, n_chips), np.int64)
        self.got_r = np.empty((n_labs, n_chips), np.int64)
        self.cost = np.empty(n_labs)
        self.choices = np.empty((n_labs, n_sources + 1))
        self.paid = np.empty((n_labs, n_sources))
        self.per_money = np.empty((n_labs, n_sources))
        self.domestic = np.empty((n_labs, n_sources), bool)
        self.cap_left = np.empty(n_caps)
        self.vendor_left = np.empty(n_vendors)
        self.money = np.empty(n_labs)
        self.units = np.empty((n_labs, n_sources))

    @staticmethod
    def of(model: MonthContext, n_labs: int, n_chips: int) -> _Workspace:
        view = model.view
        key = (
            n_labs, n_chips, view.purchase_value.shape[0], view.cap_left.size,
            view.vendor_capacity.size,
        )
        hit = view.derived.get("lab_workspace")
        if hit is None or hit[0] != key:
            hit = (key, _Workspace(*key))
            view.derived["lab_workspace"] = hit
        return hit[1]


def _procure_terms(model: MonthContext) -> tuple[_RuleTerms, _LeverTerms]:
    """_RuleTerms.of and _LeverTerms.of, kept together under one key, the union of their
    first keys (identities and versions: see each). Both are what the state under that key
    gives, so while it holds they are what either would answer; when it moves each is asked
    (and keeps its own entry as it does)."""
    policy, p, labs, chips, view = model.policy, model.p, model.labs, model.chips, model.view
    objects = (
        view.lab_access, view.vendor_bloc, view.subject, view.tier, view.customs_effort,
        view.listed, view.chip_class, view.vendor_markets, labs.bloc, labs.country, chips,
        policy, p, model.transit,
    )
    key = (
        *map(id, objects), chips.revision, policy.stamp(), view.rental_host, model.china_bloc,
        p.domestic_preference, p.customs_compliance_cost, p.revenue_share_pass_through,
        p.distillation_effort_cost, p.distributor_check_cost,
    )
    hit = view.derived.get("lab_procure")
    if hit is None or hit[0] != key:
        hit = (key, (_RuleTerms.of(model), _LeverTerms.of(model)), objects)
        view.derived["lab_procure"] = hit
    return hit[1]


_NO_TERMS = np.zeros((0, 0))
_NO_TERMS.flags.writeable = False


class _LeverTerms:
    """What procure reads of the levers alone each month (policy.get and policy.targets some
    ten times): kept in the view while the levers' stamp, the parameters and the tables read
    hold, and past a lever change that moves none of the levers read (a quarter of a
    historical run's months see some lever move; these levers rarely). Read-only arrays:
    every month shares them."""

    LEVERS = ("domestic_subsidy", "revenue_share", "buy_domestic_mandate")
    TARGETED = ("research_share", "distillation_effort", "china_price", "distributor_checks")

    def __init__(self, model: MonthContext) -> None:
        policy, p = model.policy, model.p
        self.reads = _LeverTerms.read(model)
        self.diverted = diverted_shares(model)
        self.vendor_terms = vendor_price_factors(model)
        self.subsidy = float(policy.get("domestic_subsidy"))
        self.levy = float(float(policy.get("revenue_share")) * p.revenue_share_pass_through)
        self.mandate = float(policy.get("buy_domestic_mandate"))
        for a in (self.diverted, self.vendor_terms):
            if a is not None:
                a.flags.writeable = False

    @staticmethod
    def read(model: MonthContext) -> tuple:
        """Every lever the terms read, as they read it (the values, and the targets' dicts)."""
        policy = model.policy
        return (
            *(policy.get(lever) for lever in _LeverTerms.LEVERS),
            *(policy.targets(lever) for lever in _LeverTerms.TARGETED),
        )

    @staticmethod
    def of(model: MonthContext) -> _LeverTerms:
        """The terms now. Keyed on the levers' stamp (PolicyState.stamp: every set() and
        load_plain(), and any target added), the catalogue's revision (chips.vendor) and the
        identities of the policy, the parameters and the tables read (labs' blocs and
        countries, the transit countries), which the entry holds so that no other object can
        take their ids; the parameters read are keyed by value. When only the stamp moved,
        the terms stand if every lever they read answers as before (then the key is renewed)."""
        policy, p, labs, chips = model.policy, model.p, model.labs, model.chips
        objects = (policy, p, chips, labs.bloc, labs.country, model.transit)
        key = (
            policy.stamp(), chips.revision, *map(id, objects), p.revenue_share_pass_through,
            p.distillation_effort_cost, p.distributor_check_cost,
        )
        derived = model.view.derived
        hit = derived.get("lab_levers")
        if hit is not None and hit[0] == key:
            return hit[1]
        if hit is not None and hit[0][1:] == key[1:] and hit[1].reads == _LeverTerms.read(model):
            terms = hit[1]
        else:
            terms = _LeverTerms(model)
        derived["lab_levers"] = (key, terms, objects)
        return terms


def procure_staged(model: MonthContext) -> None:
    """procure with each step's kernels called one by one (_allocate, _hold_to_mandate,
    _deliver), which tests/agents/test_kernels.py and test_kernels_lab.py hold to their numpy
    references step by step."""
    _procure_in_steps(model, _cash_and_spend, _offers, _allocate, _hold_to_mandate, _deliver)


def procure_reference(model: MonthContext) -> None:
    """procure in numpy, each step its reference (_procure_in_steps says their order): read
    this one."""
    _procure_in_steps(
        model,
        _cash_and_spend_reference,
        _offers_reference,
        _allocate_reference,
        _hold_to_mandate_reference,
        _deliver_reference,
    )


def _procure_in_steps(
    model: MonthContext,
    cash_and_spend: Callable[..., tuple[np.ndarray, np.ndarray]],
    offers_of: Callable[..., _Offers],
    allocate: Callable[..., tuple[np.ndarray, np.ndarray]],
    hold_to_mandate: Callable[..., np.ndarray],
    deliver: Callable[..., None],
) -> None:
    """The month's procurement as its steps in order, each step given (its kernel or its
    numpy reference): the cash and what may be spent out of the budget less what is diverted,
    the offers, the allocation, the mandate's hold, the delivery."""
    labs = model.labs
    diverted = diverted_shares(model)
    budget = labs.budget if diverted is None else labs.budget * (1.0 - diverted)
    active, spend = cash_and_spend(model, budget)
    offers = offers_of(model, active)
    mandate = float(model.policy.get("buy_domestic_mandate"))
    units, asked = allocate(model, offers, spend, mandate)
    model.books.asked_per_chip = asked
    if mandate > 0:
        units = hold_to_mandate(
            units, _source_h100e(model), offers.domestic, labs.bloc == model.china_bloc, mandate
        )
    deliver(model, offers, units)


def _cash_and_spend(model: MonthContext, budget: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """_cash_and_spend_reference's cash and (active, spend) from lab_kernel.cash_and_spend."""
    labs = model.labs
    return lab_kernel.cash_and_spend(
        labs.cash, budget, labs.budget, labs.founded, model.month, CASH_CAP_MONTHS
    )


def _cash_and_spend_reference(
    model: MonthContext, budget: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """procure's cash (changed in place) and (active, spend) from the month's budget after
    what is diverted. The rule in numpy, which lab_kernel.cash_and_spend reproduces bit for
    bit: read this one."""
    labs = model.labs
    active = labs.founded <= model.month
    # the usual month (every lab founded): the same arithmetic without five fancy-index copies
    if np.logical_and.reduce(active, axis=None):
        np.minimum(labs.cash + budget, CASH_CAP_MONTHS * labs.budget, out=labs.cash)
    else:
        labs.cash[active] = np.minimum(
            labs.cash[active] + budget[active], CASH_CAP_MONTHS * labs.budget[active]
        )
    return active, np.where(active, labs.cash, 0.0)


def _rule_arrays_reference(model: MonthContext) -> dict[str, Any]:
    """_RuleTerms' arrays (and any_checks), by name. The rule in numpy, which _rule_arrays
    reproduces bit for bit: read this one."""
    t = SimpleNamespace()
    p, labs, chips, view = model.p, model.labs, model.chips, model.view
    n_labs, n_chips = len(labs), len(chips)
    allowed = view.lab_access  # [L, C] share allowed
    t.domestic = view.vendor_bloc[chips.vendor][None, :] == labs.bloc[:, None]
    variant = chips.variant_of >= 0
    t.provenance = np.where(
        t.domestic, DOMESTIC, np.where(variant[None, :], COMPLIANT, LEGAL)
    )
    t.in_target = labs.bloc == model.china_bloc
    # The target's own guidance against foreign chips the controller's rules cover (the 2025
    # H20 guidance, the January 2026 customs order on the H200) stops that share of its
    # labs' purchases of them, as a licence refused at home would.
    stopped = float(model.policy.get("foreign_chip_discouragement"))
    guided = ~t.domestic & view.subject[None, :] & t.in_target[:, None]
    t.buy_allowed = np.where(guided, allowed * (1.0 - stopped), allowed)
    lab_tier = view.tier[labs.country]
    t.restricted = (lab_tier == RESTRICTED) | (lab_tier == EMBARGOED)
    t.subsidised = t.domestic & t.in_target[:, None]
    t.levied = t.restricted[:, None] & view.subject[None, :]
    t.checked = ~t.domestic & view.subject[None, :]
    # A transit hub's own customs effort above 1 makes its labs' controlled imports dearer.
    t.checks = (
        np.maximum(view.customs_effort[labs.country] - 1.0, 0.0) * p.customs_compliance_cost
    )
    t.any_checks = bool(t.checks.any())
    # Compliant variants are made for, and sold only in, the markets the rules closed.
    t.may_buy = (
        view.vendor_markets[chips.vendor][:, labs.bloc].T
        & (t.buy_allowed > 0)
        & ~(variant[None, :] & ~t.restricted[:, None])
    )
    t.log_buy_allowed = np.log(np.where(t.buy_allowed > 0, t.buy_allowed, 1.0))
    t.preference = np.where(t.subsidised, p.domestic_preference, 0.0)
    # Renting abroad: the host's licences, and who may rent which chip there at all.
    host = view.rental_host
    t.host_allowed = np.zeros(n_chips)
    t.may_rent = np.zeros((n_labs, n_chips), bool)
    t.log_host_allowed = np.zeros(n_chips)
    t.rent_cut = np.zeros(0, np.int64)  # labs whose rented chips revert to the host
    if host >= 0:
        t.host_allowed = view.lab_access[host]
        remote_cut = bool(model.policy.get("remote_access_controls")) & t.restricted
        cut_off = view.listed | remote_cut
        t.rent_cut = np.flatnonzero(cut_off & (np.arange(n_labs) != host))
        may_rent = ~cut_off & (labs.country != labs.country[host])
        t.may_rent = (
            may_rent[:, None]
            & ~variant[None, :]
            & (t.host_allowed[None, :] > 0)
            & (allowed < 1)
        )
        t.log_host_allowed = np.log(np.where(t.host_allowed > 0, t.host_allowed, 1.0))
    t.allowed = np.concatenate(
        [
            t.buy_allowed,
            t.host_allowed[None, :].repeat(n_labs, axis=0),
            np.ones((n_labs, 1)),
        ],
        axis=1,
    )
    t.buyer_country = np.concatenate(
        [
            labs.country[:, None].repeat(n_chips, axis=1),
            np.full((n_labs, n_chips), labs.country[host] if host >= 0 else 0),
        ],
        axis=1,
    )
    t.partly_allowed = t.allowed < 1.0
    # [chip source] H100e of a controlled chip bought or rented (the diffusion cap's unit)
    controlled_h = (view.chip_class == CONTROLLED) * chips.h100e
    t.controlled_h2 = np.concatenate((controlled_h, controlled_h))
    return vars(t)


_RULE_CODES = np.array([DOMESTIC, COMPLIANT, LEGAL, RESTRICTED, EMBARGOED, CONTROLLED], np.int64)
_RULE_NAMES = (
    "domestic", "provenance", "in_target", "buy_allowed", "restricted", "subsidised", "levied",
    "checked", "checks", "any_checks", "may_buy", "log_buy_allowed", "preference",
    "host_allowed", "may_rent", "log_host_allowed", "rent_cut", "allowed", "buyer_country",
    "partly_allowed", "controlled_h2",
)


def _rule_arrays(model: MonthContext) -> dict[str, Any]:
    """_rule_arrays_reference's arrays from one kernel (agents/lab_kernel.py: some forty numpy
    calls), the two logarithms numpy's on the same [lab, chip] and [chip] arrays."""
    p, labs, chips, view = model.p, model.labs, model.chips, model.view
    out = lab_kernel.rule_arrays(
        view.lab_access,
        chips.vendor,
        view.vendor_bloc,
        chips.variant_of,
        view.subject,
        view.chip_class,
        chips.h100e,
        labs.bloc,
        labs.country,
        view.tier,
        view.customs_effort,
        view.vendor_markets,
        view.listed,
        model.china_bloc,
        float(model.policy.get("foreign_chip_discouragement")),
        float(p.customs_compliance_cost),
        float(p.domestic_preference),
        view.rental_host,
        bool(model.policy.get("remote_access_controls")),
        _RULE_CODES,
    )
    arrays = dict(zip(_RULE_NAMES, out, strict=True))
    arrays["log_buy_allowed"] = np.log(arrays["log_buy_allowed"])
    arrays["log_host_allowed"] = (
        np.log(arrays["log_host_allowed"]) if view.rental_host >= 0 else arrays["log_host_allowed"]
    )
    return arrays


class _RuleTerms:
    """What a lab's offers take from the rules, the levers and the tables alone, not from the
    month: who buys which chip at home, how a purchase is booked, what share the licences
    allow and which sources are shut. Derived again when what the rule engine's arrays say
    (access, tiers, classes, listings, customs) or the tables or vendors' markets change, and
    kept in the view between (read-only: every month shares them)."""

    def __init__(self, model: MonthContext) -> None:
        # _rule_arrays_reference's arrays, from one kernel and two np.log (_rule_arrays)
        for name, a in _rule_arrays(model).items():
            setattr(self, name, a)
        for a in vars(self).values():
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
        self._open: tuple[tuple, _OpenSources] | None = None
        self._own: tuple = ()  # what the arrays _RuleTerms.own derives read (kept)
        self._buyer_flat = self.buyer_country.ravel()  # as the allocation reads it (a view)

    def open_sources(
        self, model: MonthContext, on_sale: np.ndarray, active: np.ndarray
    ) -> _OpenSources:
        """The sources open to each lab now (_OpenSources), kept while the chips on sale, the
        labs founded, their risk appetites and the gray market's chip are as before."""
        p, risk, view = model.p, model.labs.risk, model.view
        key = (
            on_sale.tobytes(),
            active.tobytes(),
            risk.tobytes(),
            view.gray_chip,
            p.rental_risk_cost,
            p.smuggling_risk_cost,
        )
        if self._open is None or self._open[0] != key:
            self._open = (key, _OpenSources(self, model, on_sale, active))
        return self._open[1]

    @staticmethod
    def of(model: MonthContext) -> _RuleTerms:
        """The terms for the model now, from the view's keep when their inputs are as before.

        First by identity and version: the rule engine's arrays on the view are its read-only
        ones (game/sim/market_view.py's _Rules: new arrays, never written), the vendors'
        markets and the labs' blocs and countries are written only while the model is built
        (a restored model's are new arrays), the chips read (vendor, variant_of, h100e) move
        only with the catalogue's revision and the two levers read only with the levers'
        stamp (PolicyState.stamp); the entry holds the objects so that no other can take
        their ids, and the scalars are keyed by value. When that key moves, by contents:
        the engine derives new arrays whenever any lever moves (enforcement, a subsidy), and
        most such moves leave what a lab may buy as it was, so the terms then stand and only
        the first key is renewed."""
        p, labs, chips, view, policy = model.p, model.labs, model.chips, model.view, model.policy
        objects = (
            view.lab_access, view.vendor_bloc, view.subject, view.tier, view.customs_effort,
            view.listed, view.chip_class, view.vendor_markets, labs.bloc, labs.country, chips,
            policy,
        )
        fast = (
            *map(id, objects), chips.revision, policy.stamp(), view.rental_host,
            model.china_bloc, p.domestic_preference, p.customs_compliance_cost,
        )
        hit = view.derived.get("lab_offers")
        if hit is not None and hit[0] == fast:
            return hit[2]
        key = _RuleTerms.contents(model)
        terms = hit[2] if hit is not None and hit[1] == key else _RuleTerms.kept(model, key)
        view.derived["lab_offers"] = (fast, key, terms, objects)
        return terms

    @staticmethod
    def contents(model: MonthContext) -> tuple:
        """Everything _rule_arrays reads, by value, as (what all the arrays but the few that
        _RuleTerms.own derives read, what those read): the arrays' bytes with the shapes and
        types the bytes alone do not pin, the chips' columns read in place of the
        catalogue's revision (a count per model: two models' catalogues may share one with
        different chips), the levers and the scalars (by their bits: float.hex, as -0.0 is
        not 0.0 to np.where). Equal contents give equal terms in any model."""
        p, labs, chips, view, policy = model.p, model.labs, model.chips, model.view, model.policy
        read = (
            view.lab_access, view.vendor_bloc, view.subject, view.tier, view.customs_effort,
            view.listed, view.chip_class, chips.vendor, chips.variant_of, labs.bloc,
            labs.country, view.vendor_markets,
        )
        shared = (
            *(a.tobytes() for a in read),
            *((a.shape, a.dtype.str) for a in read),
            view.rental_host,
            model.china_bloc,
            float(policy.get("foreign_chip_discouragement")),
            bool(policy.get("remote_access_controls")),
        )
        h100e = chips.h100e
        own = (
            float(p.domestic_preference).hex(),
            float(p.customs_compliance_cost).hex(),
            h100e.tobytes(),
            h100e.shape,
            h100e.dtype.str,
        )
        return shared, own

    @staticmethod
    def kept(model: MonthContext, contents: tuple) -> _RuleTerms:
        """The terms for these contents (_RuleTerms.contents) from the process's keep
        (_KEPT_RULE_TERMS), or made and kept there. Why: the terms move with the levers and
        the catalogue some month in eight, and the futures of a projection fan (restored from
        one month, stepped under one schedule in one worker) pass through the same few rule
        states: each future derived each again (a kernel handing back twenty arrays, some
        45 us), though they are read-only and the same. Only the arrays that read what the
        futures draw differ between them (domestic_preference, customs_compliance_cost, and
        a variant's specs through the chips' H100e): _RuleTerms.own derives those again over
        the kept rest."""
        shared, own = contents
        terms = _KEPT_RULE_TERMS.get(shared)
        if terms is None:
            terms = _RuleTerms(model)
            if len(_KEPT_RULE_TERMS) >= _KEPT_RULE_TERMS_MAX:
                _KEPT_RULE_TERMS.pop(next(iter(_KEPT_RULE_TERMS)), None)  # the oldest
            _KEPT_RULE_TERMS[shared] = terms
            terms._own = own
        return terms if terms._own == own else terms.own(model, own)

    def own(self, model: MonthContext, own: tuple) -> _RuleTerms:
        """These terms, sharing their arrays, but those that read the parameters and columns
        keyed in `own` (the model's, as _RuleTerms.contents keys them): preference, checks,
        any_checks and controlled_h2, derived from the model in one kernel
        (lab_kernel.own_rule_arrays: _own_arrays_reference in numpy)."""
        p, view = model.p, model.view
        terms = object.__new__(_RuleTerms)  # copy.copy's object, without its protocol's cost
        terms.__dict__.update(self.__dict__)
        terms._own, terms._open = own, None
        terms.preference, terms.checks, terms.any_checks, terms.controlled_h2 = (
            lab_kernel.own_rule_arrays(
                self.subsidised, view.customs_effort, model.labs.country, view.chip_class,
                model.chips.h100e, float(p.domestic_preference),
                float(p.customs_compliance_cost), CONTROLLED,
            )
        )
        for a in (terms.preference, terms.checks, terms.controlled_h2):
            a.flags.writeable = False
        return terms


def _own_arrays_reference(rules: _RuleTerms, model: MonthContext) -> tuple:
    """_RuleTerms.own's arrays (preference, checks, any_checks, controlled_h2) for the model
    over the kept terms `rules`, as _rule_arrays_reference derives them: read this one."""
    p, chips, view, labs = model.p, model.chips, model.view, model.labs
    preference = np.where(rules.subsidised, p.domestic_preference, 0.0)
    checks = np.maximum(view.customs_effort[labs.country] - 1.0, 0.0) * p.customs_compliance_cost
    controlled_h = (view.chip_class == CONTROLLED) * chips.h100e
    return preference, checks, bool(checks.any()), np.concatenate((controlled_h, controlled_h))


# _RuleTerms.kept's keep: what the terms but _RuleTerms.own's arrays read -> the terms, the
# oldest dropped first past the bound (a fan's worker of 16 futures sees some thirty rule
# states; each entry holds some 80 kB of read-only arrays)
_KEPT_RULE_TERMS: dict[tuple, _RuleTerms] = {}
_KEPT_RULE_TERMS_MAX = 48


class _OpenSources:
    """Which sources each lab may use this month as the rule terms, the chips on sale, the labs
    founded and their risk appetites say, with the risk appetites' costs: these move with a
    launch, a founding or a lever, not with the month, so the rule terms keep the last ones
    (read-only, as every month until then shares them)."""

    def __init__(
        self, rules: _RuleTerms, model: MonthContext, on_sale: np.ndarray, active: np.ndarray
    ) -> None:
        p, labs, view = model.p, model.labs, model.view
        # _open_arrays_reference's arrays from one kernel (agents/lab_kernel.py)
        (
            self.may_buy,
            self.domestic,
            self.rentable,
            self.rental_risk,
            self.wants_gray,
            self.smuggling_risk,
        ) = lab_kernel.open_arrays(
            rules.may_buy,
            rules.domestic,
            rules.may_rent,
            on_sale,
            active,
            labs.risk,
            view.lab_access,
            view.gray_chip,
            float(p.rental_risk_cost),
            float(p.smuggling_risk_cost),
        )
        for a in vars(self).values():
            a.flags.writeable = False


def _open_arrays_reference(
    rules: _RuleTerms, model: MonthContext, on_sale: np.ndarray, active: np.ndarray
) -> tuple[np.ndarray, ...]:
    """_OpenSources' arrays (may_buy, domestic, rentable, rental_risk, wants_gray,
    smuggling_risk). The rule in numpy, which the kernel reproduces bit for bit: read this
    one."""
    p, labs, view = model.p, model.labs, model.view
    n_labs, n_chips = rules.may_buy.shape
    may_buy = rules.may_buy & on_sale[None, :] & active[:, None]
    # [lab, source] a domestic chip on offer (the mandate counts them)
    domestic = np.concatenate(
        [rules.domestic & may_buy, np.zeros((n_labs, n_chips + 1), bool)], axis=1
    )
    risky = active & (labs.risk > 0)  # labs with no risk appetite never rent nor smuggle
    rentable = rules.may_rent & risky[:, None] & on_sale[None, :]
    rental_risk = p.rental_risk_cost * (1.0 - labs.risk)[:, None]
    g = view.gray_chip
    wants_gray = risky & (view.lab_access[:, g] < 1) if g >= 0 else risky & False
    smuggling_risk = p.smuggling_risk_cost * (1.0 - labs.risk)
    return may_buy, domestic, rentable, rental_risk, wants_gray, smuggling_risk


def vendor_price_factors(model: MonthContext) -> np.ndarray | None:
    """[lab, chip] what the vendors' own levers do to a lab's price of their chips (None when
    no vendor moved them): `china_price` marks a vendor's chips up (or down) for labs in the
    target's bloc, and its `distributor_checks` on the distributors in transit countries (know
    your customer, end-use visits) make its chips dearer there by `distributor_check_cost` at
    full strength."""
    markup = model.policy.targets("china_price")
    checks = model.policy.targets("distributor_checks")
    if not any(markup.values()) and not any(checks.values()):
        return None
    labs, chips = model.labs, model.chips
    ids = model.vendor_ids
    up = np.array([float(markup.get(v, 0.0)) for v in ids])[chips.vendor]
    check = np.array([float(checks.get(v, 0.0)) for v in ids])[chips.vendor]
    in_target = (labs.bloc == model.china_bloc)[:, None]
    in_transit = (model.transit[labs.country] & (labs.bloc != model.china_bloc))[:, None]
    factor = np.where(in_target, 1.0 + up[None, :], 1.0)
    return factor * np.where(in_transit, 1.0 + model.p.distributor_check_cost * check, 1.0)


def _offers(model: MonthContext, active: np.ndarray) -> _Offers:
    """_offers_reference's offers, the [lab, source] arithmetic in compiled kernels
    (agents/offers_kernel.py) around one np.log and the cluster worth's powers."""
    p, labs, chips, view = model.p, model.labs, model.chips, model.view
    on_sale = chips.on_sale(model.month)
    rules = _RuleTerms.of(model)
    beta = float(p.choice_sharpness)
    subsidy = float(model.policy.get("domestic_subsidy"))
    levy = float(model.policy.get("revenue_share")) * p.revenue_share_pass_through
    vendor_terms = vendor_price_factors(model)
    open_ = rules.open_sources(model, on_sale, active)
    ported = ported_shares(model)
    host, g = view.rental_host, view.gray_chip
    held = model.ledger.held_by_provenance()  # [lab, provenance]: whole counts
    unused = np.zeros(0)
    unit_price, rental_price, args, quiet = offers_kernel.price_args(
        view.purchase_value,
        labs.growth_kind,
        view.price,
        subsidy,
        rules.subsidised,
        float(levy),
        rules.levied,
        rules.any_checks,
        rules.checked,
        rules.checks,
        vendor_terms is not None,
        vendor_terms if vendor_terms is not None else np.zeros((0, 0)),
        float(p.rental_premium),
        host >= 0,
        _provenance_worth(model, RENTED, held) if host >= 0 else unused,
        g,
        float(view.gray_price) if g >= 0 else 1.0,
        _provenance_worth(model, SMUGGLED, held) if g >= 0 else unused,
        open_.may_buy,
        open_.rentable,
        open_.wants_gray,
    )
    if quiet:  # np.errstate costs more than the logarithm: only where a warning could be
        logs = np.log(args)
    else:
        with np.errstate(divide="ignore"):
            logs = np.log(args)
    # the outside option first (nothing in between reads or moves what it reads), so that
    # the utilities' kernel spreads it to the labs and shifts the first logit
    outside = outside_option(view.purchase_value, chips.price, on_sale, beta, p.reservation_markup)
    utility, outside, *logit = offers_kernel.utilities_and_logit(
        logs,
        beta,
        rules.log_buy_allowed,
        rules.preference,
        ported is not None,
        ported[1] if ported is not None else np.zeros((0, 0)),
        open_.may_buy,
        host >= 0,
        rules.log_host_allowed,
        open_.rental_risk,
        open_.rentable,
        g,
        open_.smuggling_risk,
        # math.sqrt: IEEE's correctly rounded root, numpy's number without its dispatch
        math.sqrt(max(view.enforcement, 0.0)) if g >= 0 else 0.0,
        open_.wants_gray,
        outside,
        labs.growth_kind,
    )
    return _Offers(
        outside=outside,
        utility=utility,
        unit_price=unit_price,
        allowed=rules.allowed,
        domestic=open_.domestic,
        buyer_country=rules.buyer_country,
        direct_price=unit_price[:, : len(chips)],
        rental_price=rental_price,
        provenance=rules.provenance,
        rules=rules,
        logit=tuple(logit),
    )


def _offers_reference(model: MonthContext, active: np.ndarray) -> _Offers:
    """Every source of compute each lab may buy this month and what it is worth to it.
    The rule in numpy, which the kernels reproduce bit for bit: read this one."""
    p, labs, chips, view = model.p, model.labs, model.chips, model.view
    n_labs, n_chips = len(labs), len(chips)
    on_sale = chips.on_sale(model.month)
    value = view.purchase_value[labs.growth_kind]  # [L, C]: trainers and servers differ
    rules = _RuleTerms.of(model)
    beta = p.choice_sharpness

    # Direct purchases ------------------------------------------------------------
    # Each factor applies only where it is not 1 (x * 1.0 is x: the same numbers, less work).
    # The first factor reads the [chip] prices, broadcast to [lab, chip] by np.where.
    direct_price = view.price
    subsidy = float(model.policy.get("domestic_subsidy"))
    if subsidy != 0.0:
        direct_price = np.where(rules.subsidised, direct_price * (1.0 - subsidy), direct_price)
    levy = float(model.policy.get("revenue_share")) * p.revenue_share_pass_through
    if levy != 0.0:
        direct_price = np.where(rules.levied, direct_price * (1.0 + levy), direct_price)
    if rules.any_checks:  # customs checks at transit hubs (_RuleTerms.checks)
        direct_price = np.where(
            rules.checked, direct_price * (1.0 + rules.checks[:, None]), direct_price
        )
    vendor_terms = vendor_price_factors(model)  # the vendors' own levers: China price, checks
    if vendor_terms is not None:
        direct_price = direct_price * vendor_terms
    n_sources = 2 * n_chips + 1
    open_ = rules.open_sources(model, on_sale, active)
    # [lab, source] unit prices, filled in place: the direct prices broadcast where no factor
    # made them [lab, chip] (the same numbers as a repeated copy, one copy fewer)
    unit_price = np.empty((n_labs, n_sources))
    unit_price[:, :n_chips] = direct_price
    with np.errstate(divide="ignore"):
        buy_utility = beta * np.log(value / direct_price) + rules.log_buy_allowed
    buy_utility = buy_utility + rules.preference
    ported = ported_shares(model)  # a chip counts for the share of the lab's work its software runs
    if ported is not None:
        buy_utility = buy_utility + ported[1]
    # [lab, source] utilities: -inf, then each open source's number
    utility = np.full((n_labs, n_sources), -np.inf)
    np.copyto(utility[:, :n_chips], buy_utility, where=open_.may_buy)

    # Renting abroad ------------------------------------------------------------------
    host = view.rental_host
    rental_price = view.price * p.rental_premium
    unit_price[:, n_chips:-1] = rental_price
    held = np.add.reduce(model.ledger.by_provenance(), axis=1)  # [lab, provenance]: whole counts
    if host >= 0:
        with np.errstate(divide="ignore"):
            worth = _provenance_worth(model, RENTED, held)[:, None]
            rent_utility = (
                beta * np.log(value * worth / rental_price[None, :])
                + rules.log_host_allowed[None, :]
                - open_.rental_risk
            )
            if ported is not None:
                rent_utility = rent_utility + ported[1]
        np.copyto(utility[:, n_chips:-1], rent_utility, where=open_.rentable)

    # The gray market -----------------------------------------------------------------
    g = view.gray_chip
    unit_price[:, -1] = view.gray_price if g >= 0 else np.inf
    if g >= 0:
        risk_cost = open_.smuggling_risk * np.sqrt(max(view.enforcement, 0.0))
        worth = value[:, g] * _provenance_worth(model, SMUGGLED, held)
        gray_utility = beta * np.log(worth / view.gray_price) - risk_cost
        np.copyto(utility[:, -1], gray_utility, where=open_.wants_gray)

    return _Offers(
        # one row per kind of buyer (trainers, servers), then each lab's: the same numbers
        # (a chip on sale is one in use: ChipTable.on_sale)
        outside=outside_option(
            view.purchase_value, chips.price, on_sale, beta, p.reservation_markup
        )[labs.growth_kind],
        utility=utility,
        unit_price=unit_price,
        allowed=rules.allowed,
        domestic=open_.domestic,
        buyer_country=rules.buyer_country,
        direct_price=unit_price[:, :n_chips],
        rental_price=rental_price,
        provenance=rules.provenance,
        rules=rules,
    )


def ported_shares(model: MonthContext) -> tuple[np.ndarray, np.ndarray] | None:
    """([lab, chip] share of each lab's work ported to the chip's software, its log) this
    month, or None when every lab's work runs on every chip (game.core.porting). Labs weigh
    their purchases and rentals by it, and vendors their pre-orders."""
    return model.porting.by_chip(model.month, model.p.ported_share_scale, model.chips.ecosystem)


def outside_option(
    value: np.ndarray, list_price: np.ndarray, on_sale: np.ndarray, beta: float, markup: float
) -> np.ndarray:
    """[lab] Utility of not buying compute this month (keeping the cash), on the scale of the
    sources' utilities beta x log(value per dollar): that of a source `markup` times dearer,
    per unit of value, than the best chip on sale anywhere at its list price (`value` [lab,
    chip] is what each chip is worth to each lab). Why: at list prices a lab should spend
    nearly all it has (the outside option takes about 1 / (1 + markup^beta) of it), but one
    facing only sources several times dearer than what its money buys on the world market
    (the gray market near its ceiling, domestic chips far behind) keeps much of it instead of
    paying any price; without it demand never says no and the gray price sits at its ceiling.
    The reference is the world market, not the lab's own: China's hyperscalers held their
    spending back for want of chips worth buying (parameters.yaml, tencent_capex), and
    weighed against domestic chips alone the gray market at four times list still looks
    cheap, so an embargo would feed it without limit (tried: China then held twice the
    compute under a total embargo as under the historical controls).

    outside_option_reference's numbers: the best value per dollar in a kernel
    (agents/lab_kernel.py), its logarithm numpy's on the same [kind] array."""
    if (
        value.ndim == 2
        and value.dtype == list_price.dtype == np.float64
        and on_sale.dtype == np.bool_
        and value.shape[1] == list_price.size == on_sale.size
    ):
        best, quiet = lab_kernel.best_per_dollar(value, list_price, on_sale, markup)
        if quiet:  # np.errstate costs more than the logarithm: only where a warning could be
            return beta * np.log(best / markup)
        with np.errstate(divide="ignore", invalid="ignore"):
            return beta * np.log(best / markup)
    return outside_option_reference(value, list_price, on_sale, beta, markup)


def outside_option_reference(
    value: np.ndarray, list_price: np.ndarray, on_sale: np.ndarray, beta: float, markup: float
) -> np.ndarray:
    """outside_option in numpy. The rule in numpy, which the kernel reproduces bit for bit:
    read this one (and outside_option's docstring for why)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_dollar = np.where(on_sale[None, :] & (list_price > 0)[None, :], value / list_price, 0.0)
        best = np.maximum.reduce(per_dollar, axis=1, initial=0.0)  # .max without its wrapper
        return beta * np.log(best / markup)


def _cluster_worth(model: MonthContext, held: np.ndarray, cap: float) -> np.ndarray:
    """[lab] what one more chip from a source whose chips join a training cluster only up to
    `cap` is worth to a lab, as a share of its value, when it already holds `held` [lab] of
    them (smuggled chips at home; chips rented abroad: capability.largest_cluster).

    A frontier lab buys training compute for the cluster it trains its models on: of a new
    chip, only the share that can still join one is worth its training value to it (the
    serving part of its value, `inference_weight_frontier`, stays). So a lab that already holds
    many times the cap turns to chips it can cluster, while clouds, which train no frontier
    models, value these chips as before."""
    p, labs = model.p, model.labs
    joins = np.minimum(1.0, cap / np.maximum(held, 1.0))
    return np.where(labs.frontier, joins ** (1.0 - p.inference_weight_frontier), 1.0)


def _provenance_worth(
    model: MonthContext, provenance: int, held: np.ndarray | None = None
) -> np.ndarray:
    """[lab] _cluster_worth of one more chip of a capped provenance (rented, smuggled), from
    the chips of it each lab holds and its cap (ledger.CLUSTER_CAP_PARAMETER). `held`: [lab,
    provenance] chips held, if the caller has summed them (whole counts: the same numbers)."""
    if held is None:
        held = model.ledger.held_by_provenance()
    p = model.p
    cap = getattr(p, CLUSTER_CAP_PARAMETER[provenance])
    if held.dtype == np.int64 and held.ndim == 2 and isinstance(cap, (int, float)):
        # _cluster_worth's minimum, maximum and np.where in one kernel (agents/lab_kernel.py:
        # 1.0 for the labs not at the frontier, which the power leaves 1.0); the power is
        # numpy's, on the same shares
        joins = lab_kernel.cluster_joins_frontier(held, provenance, float(cap), model.labs.frontier)
        return joins ** (1.0 - p.inference_weight_frontier)
    return _cluster_worth(model, held[:, provenance], cap)


def _provenance_worth_reference(
    model: MonthContext, provenance: int, held: np.ndarray | None = None
) -> np.ndarray:
    """_provenance_worth in numpy, which the kernel reproduces bit for bit: read this one."""
    if held is None:
        held = np.add.reduce(model.ledger.by_provenance(), axis=1)
    return _cluster_worth(
        model, held[:, provenance], getattr(model.p, CLUSTER_CAP_PARAMETER[provenance])
    )


def _paid(offers: _Offers) -> np.ndarray:
    """Unit prices with the gray column at 0 when there is no gray chip to price it."""
    return _paid_prices(offers.unit_price)


def _paid_prices(unit: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(unit), unit, 0.0)


def _finite(x: np.ndarray) -> np.ndarray:
    """np.nan_to_num, paid for only when something is not finite (it rarely is)."""
    return x if np.logical_and.reduce(np.isfinite(x), axis=None) else np.nan_to_num(x)


def _allocate(
    model: MonthContext, offers: _Offers, spend: np.ndarray, mandate: float
) -> tuple[np.ndarray, np.ndarray]:
    """_allocate_reference's numbers, computed by compiled kernels (agents/allocation_kernel.py)."""
    return allocate_arrays(*_allocation_arrays(model, offers, spend, mandate))


def _allocation_arrays(
    model: MonthContext, offers: _Offers, spend: np.ndarray, mandate: float
) -> tuple[Any, ...]:
    """allocate_arrays' arguments, derived as _allocate_reference derives them (fresh copies
    of what the passes work on). The choices with the outside option, the prices paid, whether
    a cap binds anywhere, the caps to draw down and the compute a dollar buys under the mandate
    (zeros without: not read) come from one kernel (agents/lab_kernel.py) for some ten numpy
    calls."""
    return _allocation_tuple(model, offers, spend, mandate, lab_kernel.allocation_inputs)


def _allocation_tuple(
    model: MonthContext,
    offers: _Offers,
    spend: np.ndarray,
    mandate: float,
    derive: Callable[..., tuple[Any, ...]],
) -> tuple[Any, ...]:
    chips, view = model.chips, model.view
    rules = offers.rules if offers.rules is not None else _RuleTerms.of(model)
    unit, allowed = offers.unit_price, offers.allowed
    choices, paid, capped, cap_left, h100e_per_money = derive(
        offers.utility, offers.outside, unit, view.cap_left, allowed, mandate > 0, chips.h100e,
        view.gray_chip,
    )
    return (
        choices,
        float(mandate),
        h100e_per_money,
        offers.domestic,
        rules.in_target,
        unit,
        allowed,
        paid,
        chips.h100e,
        capped,
        rules.controlled_h2,
        offers.buyer_country.ravel(),
        chips.vendor,
        rules.partly_allowed,
        spend,
        cap_left,
        view.vendor_capacity.copy(),
        float(view.rental_capacity if view.rental_host >= 0 else 0.0),
    )


def _allocation_inputs_reference(
    utility: np.ndarray,
    outside: np.ndarray,
    unit: np.ndarray,
    cap_left: np.ndarray,
    allowed: np.ndarray,
    mandated: bool,
    h100e: np.ndarray,
    gray_chip: int,
) -> tuple[np.ndarray, np.ndarray, bool, np.ndarray, np.ndarray]:
    """lab_kernel.allocation_inputs in numpy, which the kernel reproduces bit for bit: read
    this one."""
    if mandated:
        with np.errstate(divide="ignore", invalid="ignore"):
            h100e_per_money = _finite(allowed * _h100e_of_sources(h100e, gray_chip)[None, :] / unit)
    else:  # not read without the mandate
        h100e_per_money = np.zeros(unit.shape)
    cap_left = cap_left.copy()
    return (
        np.concatenate((utility, outside[:, None]), axis=1),
        _paid_prices(unit),
        bool(np.logical_or.reduce(np.isfinite(cap_left), axis=None)),
        cap_left,
        np.ascontiguousarray(h100e_per_money, dtype=np.float64),
    )


def _allocation_arrays_reference(
    model: MonthContext, offers: _Offers, spend: np.ndarray, mandate: float
) -> tuple[Any, ...]:
    """_allocation_arrays in numpy, which the kernel reproduces bit for bit."""
    return _allocation_tuple(model, offers, spend, mandate, _allocation_inputs_reference)


def _allocate_reference(
    model: MonthContext, offers: _Offers, spend: np.ndarray, mandate: float
) -> tuple[np.ndarray, np.ndarray]:
    """The rule in numpy, which the kernels reproduce bit for bit (tests/agents/test_kernels.py):
    read this one. Two passes: spend by preference; then weigh what sold-out sources (rationed
    supply, denied licences, the diffusion cap, the hosts' rental room) left over between the
    remaining ones and keeping it: buy the best, then the next best if it is worth its price.
    What a lab chose to keep in the first pass stays kept. Returns units [lab, source]
    (fractional) and the chips asked of vendors [chip] over both passes."""
    labs, chips, view = model.labs, model.chips, model.view
    n_labs, n_chips = len(labs), len(chips)
    n_sources = 2 * n_chips + 1
    chip_sources = 2 * n_chips  # bought and rented: the columns vendors make and caps count
    rent = slice(n_chips, chip_sources)
    rules = offers.rules if offers.rules is not None else _RuleTerms.of(model)
    in_target = rules.in_target
    h100e = chips.h100e
    controlled_h2 = rules.controlled_h2
    utility, unit, allowed = offers.utility, offers.unit_price, offers.allowed
    unit_paid = _paid(offers)
    if mandate > 0:  # only the mandate counts compute per dollar
        with np.errstate(divide="ignore", invalid="ignore"):  # H100e a unit of spending buys
            h100e_per_money = _finite(allowed * _source_h100e(model)[None, :] / unit)
    rent_room = view.rental_capacity if view.rental_host >= 0 else 0.0
    cap_left = view.cap_left.copy()  # [K] H100e, inf where uncapped
    # stays so: inf minus anything is inf
    capped = bool(np.logical_or.reduce(np.isfinite(cap_left), axis=None))
    buyer_country = offers.buyer_country.ravel()
    vendor_left = view.vendor_capacity.copy()
    units = np.zeros((n_labs, n_sources))
    money = spend.copy()
    asked = np.zeros(n_chips)
    partly_allowed = rules.partly_allowed
    # the last column is the outside option: the money a lab keeps rather than buy
    choices = np.concatenate((utility, offers.outside[:, None]), axis=1)
    for first_pass in (True, False):
        with_outside = softmax_rows(choices)
        shares, kept = with_outside[:, :-1], with_outside[:, -1]
        if mandate > 0:
            shares = _domestic_floor(shares, offers.domestic, in_target, mandate, h100e_per_money)
        with np.errstate(invalid="ignore"):
            want = _finite(money[:, None] * shares / unit * allowed)
        room = np.ones((n_labs, n_sources))
        rent_h = np.add.reduce(want[:, rent] * h100e, axis=None)
        if rent_h > rent_room:
            room[:, rent] = max(rent_room, 0.0) / rent_h
        if capped:  # diffusion cap: controlled imports of capped countries
            need = want[:, :chip_sources] * controlled_h2 * room[:, :chip_sources]
            limit = np.where(np.isfinite(cap_left), cap_left, 1e30)
            cell = capacity_scale(need.ravel(), buyer_country, limit)
            room[:, :chip_sources] *= np.where(need > 0, cell.reshape(need.shape), 1.0)
        made = want[:, :n_chips] * room[:, :n_chips] + want[:, rent] * room[:, rent]
        made_chip = np.add.reduce(made, axis=0)
        asked += made_chip
        share = capacity_scale(made_chip, chips.vendor, vendor_left)
        room[:, :chip_sources] *= np.concatenate((share, share))
        got = want * room
        units += got
        if not first_pass:
            break
        money = np.maximum(money * (1.0 - kept) - np.add.reduce(got * unit_paid, axis=1), 0.0)
        rent_room = max(0.0, rent_room - np.add.reduce(got[:, rent] * h100e, axis=None))
        made = got[:, :n_chips] + got[:, rent]
        vendor_left = np.maximum(
            vendor_left
            - np.bincount(
                chips.vendor, weights=np.add.reduce(made, axis=0), minlength=vendor_left.size
            ),
            0.0,
        )
        if capped:
            used = np.bincount(
                buyer_country,
                weights=(got[:, :chip_sources] * controlled_h2).ravel(),
                minlength=cap_left.size,
            )
            cap_left = np.maximum(cap_left - used, 0.0)
        choices[:, :-1][(room < 1.0 - 1e-9) | partly_allowed] = -np.inf
    return units, asked


def _deliver(model: MonthContext, offers: _Offers, units: np.ndarray) -> None:
    """_deliver_reference's numbers and calls, the arithmetic in a compiled kernel
    (agents/delivery_kernel.py); the generator's draws are taken here, as many and in the same
    order as whole_units takes them."""
    labs, chips, view = model.labs, model.chips, model.view
    n_labs, n_chips = units.shape[0], len(chips)
    gray = view.gray_chip >= 0
    draws = model.rng.random(n_labs * (2 * n_chips + 1) if gray else 2 * n_labs * n_chips)
    got_d, got_r, cost, flows, rows, bought, _ = deliver_arrays(
        units,
        draws,
        gray,
        offers.direct_price,
        offers.rental_price,
        offers.provenance,
        RENTED,
        view.rental_host >= 0,
        float(view.gray_price) if gray else 1.0,
        labs.cash,
        labs.spent_month,
        labs.escrow,
        labs.gray_order,
    )
    _book_delivery(model, got_d, got_r, cost, flows, rows, bought)


def _book_delivery(
    model: MonthContext,
    got_d: np.ndarray,
    got_r: np.ndarray,
    cost: np.ndarray,
    flows: tuple[np.ndarray, ...],
    rows: tuple[np.ndarray, ...],
    bought: np.ndarray,
    made_in: np.ndarray | None = None,
    capped: bool | None = None,
) -> None:
    """The delivery kernel's chips into the ledger, the diffusion cap and the books.
    `made_in`: the country of each bought cell's vendor, `capped`: whether any country's
    diffusion cap is finite, where the caller has them."""
    chips, view = model.chips, model.view
    h_d, c_d, prov_d, qty_d, h_r, qty_r = flows
    model.ledger.install_new(*rows, model.year)
    if capped is None:
        capped = bool(np.logical_or.reduce(np.isfinite(view.cap_left), axis=None))
    if capped:
        _charge_cap(model, got_d, got_r, (view.chip_class == CONTROLLED) * chips.h100e)
    model.books.record_sales(got_d, got_r, cost)
    if made_in is None:
        made_in = model.vendor_country[chips.vendor[c_d]]
    model.books.record_flows(h_d, made_in, prov_d, qty_d, h_r, qty_r)
    model.books.bought_by_lab = bought


def _deliver_reference(model: MonthContext, offers: _Offers, units: np.ndarray) -> None:
    """Whole chips, paid for and installed; gray orders paid into escrow for the brokers.
    The rule in numpy, which the kernel reproduces bit for bit: read this one."""
    labs, chips, view = model.labs, model.chips, model.view
    n_labs, n_chips = units.shape[0], len(chips)
    direct_price, rental_price = offers.direct_price, offers.rental_price
    # One stochastic rounding for purchases, rentals and gray orders, in that order: the same
    # draws from the generator as one rounding each (a draw of n numbers is the first n of a
    # longer one), for a third of the calls.
    gray = view.gray_chip >= 0
    wanted = [units[:, :n_chips].ravel(), units[:, n_chips : 2 * n_chips].ravel()]
    whole = whole_units(np.concatenate(wanted + [units[:, -1]] if gray else wanted), model.rng)
    cells = n_labs * n_chips
    got_d = whole[:cells].reshape(n_labs, n_chips)
    got_r = whole[cells : 2 * cells].reshape(n_labs, n_chips)

    # Whole chips cannot cost more than the cash: drop the rounding overshoot.
    cost = np.add.reduce(got_d * direct_price, axis=1) + np.add.reduce(
        got_r * rental_price[None, :], axis=1
    )
    over = cost > labs.cash + 1e-6
    if np.logical_or.reduce(over, axis=None):
        scale = (labs.cash[over] / cost[over])[:, None]
        got_d[over] = np.floor(got_d[over] * scale).astype(np.int64)
        got_r[over] = np.floor(got_r[over] * scale).astype(np.int64)
        cost = np.add.reduce(got_d * direct_price, axis=1) + np.add.reduce(
            got_r * rental_price[None, :], axis=1
        )
    labs.cash -= cost
    labs.spent_month[:] = cost
    np.maximum(labs.cash, 0.0, out=labs.cash)

    # Bought and rented chips installed together (whole counts: any order adds them exactly).
    h_d, c_d = got_d.nonzero()
    prov_d, qty_d = offers.provenance[h_d, c_d], got_d[h_d, c_d]
    h_r, c_r = got_r.nonzero()
    qty_r = got_r[h_r, c_r]
    if view.rental_host >= 0:
        h, c = np.concatenate((h_d, h_r)), np.concatenate((c_d, c_r))
        prov = np.concatenate((prov_d, np.full(h_r.size, RENTED)))
        qty = np.concatenate((qty_d, qty_r))
    else:
        h, c, prov, qty = h_d, c_d, prov_d, qty_d
    model.ledger.install_new(h, c, prov, qty, model.year)
    if np.logical_or.reduce(np.isfinite(view.cap_left), axis=None):
        _charge_cap(model, got_d, got_r, (view.chip_class == CONTROLLED) * chips.h100e)
    model.books.record_sales(got_d, got_r, cost)
    model.books.record_flows(
        h_d, model.vendor_country[chips.vendor[c_d]], prov_d, qty_d, h_r, qty_r
    )
    model.books.bought_by_lab = np.add.reduce(got_d + got_r, axis=1)

    # Gray orders are paid now into escrow and shipped by brokers this month.
    if gray:
        gray_price = view.gray_price
        orders = np.minimum(whole[2 * cells :], np.floor(labs.cash / gray_price).astype(np.int64))
        labs.gray_order[:] = orders
        pay = orders * gray_price
        labs.cash -= pay
        labs.escrow += pay
        labs.spent_month += pay
    else:
        labs.gray_order[:] = 0


def _charge_cap(
    model: MonthContext, got_d: np.ndarray, got_r: np.ndarray, h100e_controlled: np.ndarray
) -> None:
    """Controlled chips count against the buyer's country's diffusion cap; rented ones
    against the host data centre's."""
    labs = model.labs
    direct = np.add.reduce(got_d * h100e_controlled[None, :], axis=1)
    np.add.at(model.cap_used, labs.country, direct)
    host = model.view.rental_host
    if host >= 0:
        model.cap_used[labs.country[host]] += float((got_r * h100e_controlled[None, :]).sum())


# ------------------------------------------------------------------------------- training
def train(model: MonthContext) -> list[int]:
    """train_reference's numbers, news and result, the [lab] arithmetic in compiled kernels
    (agents/training_kernel.py) around numpy's powers and log10."""
    p, labs = model.p, model.labs
    month, n_blocs = model.month, len(model.bloc_ids)
    work = _TrainWorkspace.of(model, labs.frontier.size)
    since, adoption = work.since, work.adoption
    furthest = training_kernel.exponents(
        labs.ref_run_month,
        month,
        model.scarcity,
        labs.bloc,
        month - float(p.moe_public_year) * 12.0,
        float(p.moe_rich_share),
        float(p.moe_rich_lag_months),
        since,
        adoption,
    )
    growth = _run_growth(float(p.max_run_growth_per_year), since, furthest, work.growth)
    gain = np.power(float(p.moe_compute_multiplier), adoption, out=work.gain)  # technique_gain
    done, reach, eff, arg = work.done, work.reach, work.eff, work.arg
    n_done = training_kernel.run_month(
        labs.frontier,
        labs.founded,
        month,
        model.view.lab_cluster_flops,
        float(p.largest_run_share),
        float(p.mfu),
        SECONDS_PER_MONTH,
        labs.ref_run_flop,
        growth,
        labs.bloc,
        n_blocs,
        int(p.run_months),
        model.efficiency,
        gain,
        labs.own_efficiency,
        labs.run_flop,
        labs.run_age,
        done,
        reach,
        eff,
        arg,
    )
    if not n_done:
        return []
    history = model.frontier_hist  # released_foreign's row, read in finish_runs
    then = history[max(0, len(history) - 1 - int(p.distillation_lag_months))]
    records = training_kernel.finish_runs(
        done,
        reach,
        eff,
        np.log10(arg, out=arg),  # capability_index
        float(p.capability_points_per_decade),
        distillation_share(model),
        then,
        gain,
        labs.frontier,
        labs.bloc,
        n_blocs,
        month,
        labs.capability,
        labs.technique_gain,
        labs.best_eff_flop,
        labs.ref_run_flop,
        labs.ref_run_month,
        labs.best_run_flop,
        labs.run_age,
        labs.run_flop,
    ).tolist()
    _announce_runs(model, records)
    return records


# np.power(g, x) overflows only past the largest float64, e ** 709.78: below this log of the
# largest growth there is nothing for np.errstate to silence, and it costs more than the power
_NO_OVERFLOW_LOG = 700.0


def _run_growth(
    growth_per_year: float, since: np.ndarray, furthest: float, out: np.ndarray
) -> np.ndarray:
    """run_reach's growth, growth_per_year ** since (`furthest` the largest `since`), into
    out, with overflow to inf silenced as run_reach silences it, only when the largest can
    overflow."""
    if growth_per_year > 1.0 and furthest * math.log(growth_per_year) >= _NO_OVERFLOW_LOG:
        with np.errstate(over="ignore"):
            return np.power(growth_per_year, since, out=out)
    return np.power(growth_per_year, since, out=out)


class _TrainWorkspace:
    """The [lab] arrays train's kernels and powers hand each other within a month (the
    powers' exponents, the growth and gain, the runs that end, their reach, effective FLOP
    and log10 argument): written whole every month before they are read, and kept by nothing
    after train (finish_runs copies what the labs keep element by element), so one set
    serves every month of the model's view while the number of labs holds. Each array a
    kernel handed to Python instead costs more than its arithmetic. The view is the model's
    own (a restored model derives a new one; a deep copy copies this too)."""

    def __init__(self, n_labs: int) -> None:
        self.since = np.empty(n_labs)
        self.adoption = np.empty(n_labs)
        self.growth = np.empty(n_labs)
        self.gain = np.empty(n_labs)
        self.done = np.empty(n_labs, bool)
        self.reach = np.empty(n_labs)
        self.eff = np.empty(n_labs)
        self.arg = np.empty(n_labs)

    @staticmethod
    def of(model: MonthContext, n_labs: int) -> _TrainWorkspace:
        derived = model.view.derived
        hit = derived.get("lab_train_workspace")
        if hit is None or hit[0] != n_labs:
            hit = (n_labs, _TrainWorkspace(n_labs))
            derived["lab_train_workspace"] = hit
        return hit[1]


def train_reference(model: MonthContext) -> list[int]:
    """Frontier labs put a share of their compute into a training run; when a run ends its
    model sets the lab's capability (or not, if it is no better). Returns labs whose new model
    beat their bloc's frontier, for the news.
    The rule in numpy, which the kernels reproduce bit for bit: read this one."""
    p, labs = model.p, model.labs
    active = labs.frontier & (labs.founded <= model.month)
    run = training_flops(model.view.lab_cluster_flops, p.largest_run_share)
    flop = run * p.mfu * SECONDS_PER_MONTH
    labs.run_flop += np.where(active, flop, 0.0)
    # experience bounds scale-up: what the bound leaves of the run's share serves and trains
    # smaller runs (no other effect)
    reach = lab_run_reach(model, model.month)  # the runs finished so far allow (no new one yet)
    bound = bloc_bound(reach, labs.bloc, len(model.bloc_ids))
    np.minimum(labs.run_flop, bound[labs.bloc], out=labs.run_flop)
    labs.run_age += active
    done = active & (labs.run_age >= int(p.run_months)) & (labs.run_flop > 0)
    if not np.logical_or.reduce(done, axis=None):
        return []
    gain = technique_gain(model)
    eff = labs.run_flop * model.efficiency[labs.bloc] * gain * labs.own_efficiency
    own = capability_index(eff, p.capability_points_per_decade)
    distilled = own + distillation_share(model) * _gap_to_released(model, own)
    before = bloc_frontier(labs.capability, labs.frontier, labs.bloc, len(model.bloc_ids))
    new_cap = np.where(done, np.fmax(labs.capability, distilled), labs.capability)
    # NaN (no model yet) compares as below everything: fmax keeps the number
    records = (done & (new_cap > np.fmax(before[labs.bloc], -np.inf))).nonzero()[0]
    labs.technique_gain[:] = np.where(
        new_cap > np.fmax(labs.capability, -np.inf), gain, labs.technique_gain
    )
    labs.capability[:] = new_cap
    labs.best_eff_flop[:] = np.where(done, np.maximum(labs.best_eff_flop, eff), labs.best_eff_flop)
    new_ref = done & (labs.run_flop > reach)
    labs.ref_run_flop[new_ref] = labs.run_flop[new_ref]
    labs.ref_run_month[new_ref] = model.month
    labs.best_run_flop[:] = np.where(
        done, np.maximum(labs.best_run_flop, labs.run_flop), labs.best_run_flop
    )
    labs.run_age[done] = 0
    labs.run_flop[done] = 0.0
    records = [int(i) for i in records]
    _announce_runs(model, records)
    return records


def _announce_runs(model: MonthContext, records: list[int]) -> None:
    """The news of the labs whose new model beat their bloc's frontier, in lab order."""
    if not model.tells_news:
        return
    labs = model.labs
    for i in records:
        model.news(
            "training_run",
            tr(
                "news_training_run",
                lab=labs.names[i],
                bloc=model.bloc_names[labs.bloc[i]],
                capability=f"{labs.capability.item(i):.1f}",
            ),
            [labs.ids[i]],
        )


def lab_run_reach(model: MonthContext, month: int) -> np.ndarray:
    """[lab] the largest run each lab's own reference run supports in `month`
    (capability.run_reach)."""
    labs = model.labs
    return run_reach(labs.ref_run_flop, labs.ref_run_month, month, model.p.max_run_growth_per_year)


def bloc_scale_up_bounds(model: MonthContext, month: int) -> np.ndarray:
    """[bloc] the largest run each bloc's labs can finish in `month` (capability.scale_up_bound,
    from the runs the labs have finished so far)."""
    return bloc_bound(lab_run_reach(model, month), model.labs.bloc, len(model.bloc_ids))


def technique_gain(model: MonthContext) -> np.ndarray:
    """[lab] effective-compute multiplier of the training techniques a lab uses this month:
    fine-grained mixture of experts, moe_compute_multiplier ** adoption (a partial adoption
    takes a geometric share of the gain, as does a lab that trains some runs sparse).

    It sits apart from the common frontier (algo_doubling_months) because labs did not take it
    alike: how much and how soon a lab adopts depends on its bloc's compute scarcity
    (capability.technique_adoption), so it is where scarce chips change what a lab gets out of
    each FLOP it counts. FP8 training is not here: it raises the FLOP a chip delivers, not the
    capability per counted FLOP, and the run sizes (mfu) are read from runs that used it."""
    p, labs = model.p, model.labs
    since = model.month - float(p.moe_public_year) * 12.0
    adoption = technique_adoption(
        model.scarcity[labs.bloc], since, p.moe_rich_share, p.moe_rich_lag_months
    )
    return np.power(float(p.moe_compute_multiplier), adoption)


def _gap_to_released(model: MonthContext, own: np.ndarray) -> np.ndarray:
    """[lab] capability points between a lab's own new model and the best foreign model
    released `distillation_lag_months` ago (0 where the lab is ahead or there is none)."""
    released = released_foreign(model.frontier_hist, int(model.p.distillation_lag_months))
    return np.fmax(released[model.labs.bloc] - own, 0.0)  # NaN (none to distil) -> 0


def distillation_share(model: MonthContext) -> np.ndarray:
    """[lab] share of the gap to the best released foreign model a lab closes by distilling it
    (training on its outputs, building on its weights). Limits on model access (API use, closed
    weights) cut it for labs in restricted or embargoed countries, in proportion: intermediaries
    and open-weight models keep the rest, and the lever cannot reach what is already out."""
    labs = model.labs
    share = _access_share(model)
    efforts = distillation_efforts(model)
    if efforts is None:
        return share
    # More effort closes more of the gap, never all of it (distillation_max_share); a lab
    # caught at it is shut out of the foreign models until its cut-off ends.
    share = np.minimum(share * efforts, model.p.distillation_max_share)
    return np.where(labs.distil_cut_until > model.month, 0.0, share)


def _access_share(model: MonthContext) -> np.ndarray:
    """[lab] distillation_share before the labs' own efforts: cut by model access controls for
    labs in restricted or embargoed countries. The view keeps it while the labs' tiers, the
    lever and the parameter are as before (read-only: the months share it)."""
    labs, view, p = model.labs, model.view, model.p
    cut = float(model.policy.get("model_access_controls"))
    # the tiers by identity (the rule engine's read-only array, new when derived anew; the
    # labs' countries are written only while the model is built), held by the entry so that
    # no other array can take their ids; by contents when they are new, as most are the same
    tiers, countries = view.tier, labs.country
    fast = (id(tiers), id(countries), cut, p.distillation_share)
    hit = view.derived.get("lab_access_share")
    if hit is not None and hit[0] == fast:
        return hit[2]
    tier = tiers[countries]
    key = (tier.tobytes(), cut, p.distillation_share)
    if hit is None or hit[1] != key:
        cut_off = (tier == RESTRICTED) | (tier == EMBARGOED)
        share = np.where(cut_off, p.distillation_share * (1.0 - cut), p.distillation_share)
        share.flags.writeable = False
    else:
        share = hit[2]
    view.derived["lab_access_share"] = (fast, key, share, (tiers, countries))
    return share


def watch_distillation(model: MonthContext) -> None:
    """Distilling harder than labs usually do is noticed: each month a lab above the usual
    effort is caught with chance distillation_detection x (effort - 1), and the foreign labs
    close its accounts for distillation_cutoff_months (no distillation at all meanwhile). This
    is the price of the distillation_effort lever for a lab whose money is not what limits it
    (a Chinese lab that may not buy what it would). Draws only when some lab tries harder than
    usual, so a world where none does keeps its random stream."""
    efforts = distillation_efforts(model)
    if efforts is None or not (efforts > 1.0).any():
        return
    labs, p = model.labs, model.p
    trying = np.flatnonzero((efforts > 1.0) & (labs.distil_cut_until <= model.month))
    if trying.size == 0:
        return
    chance = np.minimum(p.distillation_detection * (efforts[trying] - 1.0), 1.0)
    caught = trying[model.rng.random(trying.size) < chance]
    for i in caught:
        labs.distil_cut_until[i] = model.month + int(p.distillation_cutoff_months)
        model.news(
            "distillation_caught",
            tr(
                "news_distillation_caught",
                lab=labs.names[i],
                months=int(p.distillation_cutoff_months),
            ),
            [labs.ids[i]],
        )


def progress_algorithms(model: MonthContext) -> None:
    """Algorithmic efficiency grows every month, faster for a bloc whose frontier labs can train
    on less compute per dollar of budget than the best-supplied bloc's (scarcity, see
    compute_scarcity and grow_efficiency). Scarcity is measured on the clusters labs can train
    on, built from the chips they actually obtained by any route, not on what they may legally
    buy: smuggled or rented chips relieve it, so a control that leaks does not buy the target
    an efficiency bonus; a fleet in pieces that trains small runs is what presses a lab to get
    more out of each run.

    A lab that spends a share s of its budget on research (its `research_share` lever, taken
    from its compute in `procure`) multiplies its own runs' effective compute by
    exp(research_efficiency_gain x (s / research_reference_share)^research_returns_exponent)
    a year on top: diminishing returns to the share, paid for in chips."""
    p, labs = model.p, model.labs
    model.scarcity[:] = _scarcity(model)
    model.efficiency = grow_efficiency(
        model.efficiency,
        model.turn,
        p.algo_doubling_months,
        model.scarcity,
        p.scarcity_efficiency_bonus,
        p.efficiency_lead_decay,
    )
    research = research_shares(model)
    if research is not None:  # a lab's own research, with diminishing returns to its share
        rate = p.research_efficiency_gain * (research / p.research_reference_share) ** (
            p.research_returns_exponent
        )
        labs.own_efficiency *= np.exp(rate / 12.0)


def _scarcity(model: MonthContext) -> np.ndarray:
    """_scarcity_reference's [bloc] numbers from one kernel (agents/lab_kernel.py) instead of
    some ten numpy calls on a few blocs."""
    labs = model.labs
    return lab_kernel.scarcity_of(
        model.view.lab_cluster_flops,
        labs.budget,
        labs.frontier,
        labs.founded,
        model.month,
        labs.bloc,
        len(model.bloc_ids),
    )


def _scarcity_reference(model: MonthContext) -> np.ndarray:
    """[bloc] compute scarcity of the active frontier labs (compute_scarcity). The rule in
    numpy, which the kernel reproduces bit for bit: read this one."""
    labs = model.labs
    counted = labs.frontier & (labs.founded <= model.month)
    return compute_scarcity(
        model.view.lab_cluster_flops,
        labs.budget,
        counted,
        labs.bloc,
        len(model.bloc_ids),
    )


def cut_remote_access(model: MonthContext) -> None:
    """Rented capacity of labs that may no longer rent reverts to the host data centres."""
    host = model.view.rental_host
    if host < 0:
        return
    labs = model.labs
    cut = _RuleTerms.of(model).rent_cut  # listed labs, and restricted ones under the lever
    if cut.size:
        moved = model.ledger.transfer_provenance(cut, RENTED, host, LEGAL)
        if moved:
            model.news(
                "remote_access",
                tr("news_remote_access", moved=f"{moved:,}", host=labs.names[host]),
                [model.spec.levers["remote_access_controls"].owner],
            )


def budget_growth(model: MonthContext) -> None:
    """Budgets grow fast at first and slow toward the long-run rate (the boom matures), unless
    the scenario sets a bloc's growth for the year (`budget_growth:`, e.g. from capex
    filings). China's state answers a domestic subsidy deeper than the record's with money
    for its labs' compute too: their budgets are `1 + state_budget_response x (subsidy -
    state_budget_subsidy_baseline)` times the path (a level, not a rate, so it does not
    compound, and nothing changes while the subsidy stays at the historical level)."""
    p, labs = model.p, model.labs
    frontier_rate, other_rate = _kind_rates(
        (model.month - model.start) / 12.0,
        p.budget_growth_decay_years,
        p.budget_growth_long_run,
        p.budget_growth_frontier,
        p.budget_growth_other,
    )
    path = model.budget_path.get(model.year)
    # budget_growth_reference's numbers: the where()s and the products in two kernels
    # (agents/lab_kernel.py) around the same np.log and np.exp
    rate = lab_kernel.monthly_rate(
        labs.growth_kind,
        labs.bloc,
        frontier_rate,
        other_rate,
        np.log(path) if path is not None else np.zeros(0),
    )
    excess = max(0.0, float(model.policy.get("domestic_subsidy")) - p.state_budget_subsidy_baseline)
    lab_kernel.grow_budgets(
        labs.budget,
        labs.budget_factor,
        np.exp(rate),
        labs.bloc,
        model.china_bloc,
        1.0 + p.state_budget_response * excess,
    )


@functools.lru_cache(maxsize=4096)
def _kind_rates(
    years: float, decay_years: float, long_run_growth: float, frontier: float, other: float
) -> tuple[float, float]:
    """budget_growth's yearly log rates of frontier and other labs `years` into the run: the
    same numpy scalar exp and logs as budget_growth_reference, kept by their arguments. Why:
    the five scalar ufunc calls cost more than the rest of the month's budgets, and every run
    of a scenario asks the same months with the same parameters."""
    decay = np.exp(-years / decay_years)
    long_run = np.log(long_run_growth)
    return (
        long_run + (np.log(frontier) - long_run) * decay,
        long_run + (np.log(other) - long_run) * decay,
    )


def budget_growth_reference(model: MonthContext) -> None:
    """budget_growth in numpy. The rule in numpy, which the kernels reproduce bit for bit:
    read this one (and budget_growth's docstring for why)."""
    p, labs = model.p, model.labs
    years = (model.month - model.start) / 12.0
    decay = np.exp(-years / p.budget_growth_decay_years)
    long_run = np.log(p.budget_growth_long_run)
    rate = np.where(
        labs.growth_kind == 0,
        long_run + (np.log(p.budget_growth_frontier) - long_run) * decay,
        long_run + (np.log(p.budget_growth_other) - long_run) * decay,
    )
    path = model.budget_path.get(model.year)
    if path is not None:
        set_rate = np.log(path)[labs.bloc]
        rate = np.where(np.isfinite(set_rate), set_rate, rate)
    excess = max(0.0, float(model.policy.get("domestic_subsidy")) - p.state_budget_subsidy_baseline)
    factor = np.where(labs.bloc == model.china_bloc, 1.0 + p.state_budget_response * excess, 1.0)
    labs.budget *= np.exp(rate / 12.0) * factor / labs.budget_factor
    labs.budget_factor[:] = factor
