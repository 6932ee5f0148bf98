"""Chip vendors: capacity, prices, the product roadmap and the cat-and-mouse of compliant variants.

A vendor makes what it is asked for up to its capacity (foundry, packaging, HBM), and raises its
prices when demand runs past it. Huawei's capacity is what SMIC's 7 nm-class wafers can make:
the wafers it is given for AI chips, over the wafers each chip of its mix takes at the process's
yield (game/core/fab.py); tool controls slow both the wafers' growth and the yield's, the
subsidy turns more wafers to AI chips and speeds growth, never past the physical bounds.

Its roadmap is the catalogue: chips go on sale at their release month and off at their end of
sale. When a rule takes away a restricted market's access to chips
it sold there freely, the vendor starts designing a compliant variant, which ships
`variant_lag_months` later if the market is still closed to the chip it lost: a catalogue
variant if one fits the rules in force (A800, H800, H20), else a new derated design just under
the binding threshold.
"""

from __future__ import annotations

import bisect
import functools
import operator
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from agents.lab import ported_shares
from agents.vendor_kernel import (
    demand_kernel,
    free_markets,
    lost_chips,
    new_mixes,
    orders_kernel,
    per_chip_all_kernel,
    per_chip_kernel,
    preorder_logits,
    preorder_spend,
    wafer_capacity_kernel,
)
from game.config.commands import variant_id
from game.config.dates import parse_month
from game.config.texts import text as tr
from game.core.catalogue import BITS_BF16, NEVER
from game.core.fab import (
    die_geometry,
    die_yield_into,
    growth_factor,
    learn_defects,
    logistic_step,
    wafers_per_chip,
)
from game.core.market import clip_float, softmax_rows
from game.core.rules import EMBARGOED, Thresholds, classify_one, design_compliant

if TYPE_CHECKING:
    from agents.context import MonthContext
    from game.config.world import VendorSpec
    from game.core.catalogue import ChipTable

PREMIUM_SMOOTHING = 0.5  # share of the gap to the target price premium closed each month
MAX_PREMIUM = 1.0
DEMAND_SMOOTHING = 0.3  # weight of this month's orders in the demand vendors plan for
SHRINK_PER_MONTH = 0.98  # capacity is idled slowly when demand falls
SMIC_REFERENCE = "2025-12"  # smic_wafers_2025 is SMIC's 7 nm-class capacity at the end of 2025
YIELD_REFERENCE = "2025-02"  # smic_defects_2025: the yield reported in February 2025


@functools.lru_cache(maxsize=64)
def scalar_log(x: float) -> np.float64:
    """np.log(x) for one number, kept: vendors take the log of the same growth rates every
    month, and numpy's call on a scalar costs far more than a lookup (the same number)."""
    return np.log(x)


@functools.lru_cache(maxsize=64)
def monthly_factor(log_growth_per_year: float) -> float:
    """float(np.exp(log_growth_per_year / 12.0)), kept: the same few rates come back every
    month (the same number)."""
    return float(np.exp(log_growth_per_year / 12.0))


def per_chip_all(
    vendors: list[ChipVendor], chips: ChipTable, month: int, values: np.ndarray
) -> np.ndarray:
    """[chip] -> [vendor] `ChipVendor.per_chip` of every vendor (in index order) at once:
    per_chip_all_reference's numbers from a compiled kernel (agents/vendor_kernel.py)."""
    mine = chips.counted_by(len(vendors), month)
    table = _mix_table(vendors, mine.shape[1])
    if table is None:  # a mix of another size: the reference says what that gives
        return per_chip_all_reference(vendors, chips, month, values)
    mixes, has_mix = table
    return per_chip_all_kernel(mine, mixes, has_mix, np.asarray(values, float))


@functools.lru_cache(maxsize=4)
def _all_mixed(n: int) -> np.ndarray:
    """[vendor] True: every vendor has a mix (read-only)."""
    out = np.ones(n, np.bool_)
    out.flags.writeable = False
    return out


_NO_TABLE = np.zeros((0, 0))  # preorders' kernel's ported shares when no lab ports
_NO_MIX = np.zeros(0)  # what per_chip's kernel is given for a vendor without a mix
_MIXES: list[Any] = [None, None]  # [the mix objects last stacked, their table]


def _mix_table(vendors: list[ChipVendor], n_chips: int) -> tuple[np.ndarray, np.ndarray] | None:
    """([vendor, chip] every vendor's mix (zeros without one), [vendor] whether it has one),
    or None if a mix is not of n_chips float64. Kept while the vendors' mixes are the same
    objects (a mix is replaced, never written in place: record_demand_all)."""
    mixes = [v.mix for v in vendors]
    kept = _MIXES[0]
    if (
        kept is not None
        and len(kept) == len(mixes)
        and _MIXES[1][0].shape[1] == n_chips
        and all(map(operator.is_, kept, mixes))
    ):
        return _MIXES[1]
    table = np.zeros((len(vendors), n_chips))
    has_mix = np.zeros(len(vendors), np.bool_)
    for i, m in enumerate(mixes):
        if m is None:
            continue
        if m.shape != (n_chips,) or m.dtype != np.float64:
            return None
        table[i] = m
        has_mix[i] = True
    _MIXES[0], _MIXES[1] = mixes, (table, has_mix)
    return table, has_mix


def per_chip_all_reference(
    vendors: list[ChipVendor], chips: ChipTable, month: int, values: np.ndarray
) -> np.ndarray:
    """[chip] -> [vendor] `ChipVendor.per_chip` of every vendor (in index order) at once: the
    model asks it of all vendors several times a month (HBM stacks a chip needs, under HBM
    controls), and one pass over a [vendor, chip] table costs what one vendor's did. The same
    weights and the same sums (a row each; a row's sum adds in the order a vector's does), so
    the same numbers. The rule in numpy, which per_chip_all's kernel reproduces bit for bit:
    read this one."""
    mine = chips.counted_by(len(vendors), month)  # on sale, or all it makes if none is
    weights = np.where(mine, 1.0, 0.0)  # equal shares, until a vendor has orders among them
    mixed = [i for i, v in enumerate(vendors) if v.mix is not None]
    if mixed:
        by_mix = np.array([vendors[i].mix for i in mixed]) * mine[mixed]
        # np.add.reduce: the pairwise sum .sum() takes, without its Python wrapper
        ordered = np.add.reduce(by_mix, axis=1) > 0  # vendors with orders among those counted
        weights[np.array(mixed)[ordered]] = by_mix[ordered]
    total = np.add.reduce(weights, axis=1)
    spent = np.add.reduce(weights * np.where(mine, values[None, :], 0.0), axis=1)
    return np.divide(spent, total, out=np.zeros(len(vendors)), where=total > 0)


def record_demand_all(
    vendors: list[ChipVendor], units: list[float], capacity: list[float], asked: np.ndarray
) -> None:
    """What buyers asked of every vendor this month (ChipVendor.record_demand, in index order),
    and the mixes `asked` [chip] moves: record_demand_all_reference's numbers, the mixes from
    a compiled kernel (agents/vendor_kernel.py)."""
    ordered, rows = [], []  # the vendors with orders, their places in `vendors`
    for i, v in enumerate(vendors):
        v.record_demand(units[v.index], capacity[v.index])
        if units[v.index] > 0:
            ordered.append(v)
            rows.append(i)
    if not ordered:
        return
    chip_vendor = ordered[0].model.chips.vendor
    n_chips = chip_vendor.size
    table = _mix_table(vendors, n_chips)  # kept from last month's orders, as a rule
    if table is not None:
        old, has_mix = table
    else:  # a mix of another size: a fresh one replaces it
        has_mix = np.array([v.mix is not None and v.mix.shape == (n_chips,) for v in ordered])
        old = np.zeros((len(ordered), n_chips))
        for i, v in enumerate(ordered):
            if has_mix[i]:
                old[i] = v.mix
        rows = list(range(len(ordered)))
    mixes = new_mixes(
        chip_vendor,
        np.array([v.index for v in ordered], np.int64),
        np.array(rows, np.int64),
        np.array([units[v.index] for v in ordered], float),
        np.asarray(asked, float),
        old,
        has_mix,
        DEMAND_SMOOTHING,
    )
    for v, mix in zip(ordered, mixes, strict=True):
        v.mix = mix
    if len(ordered) == len(vendors):  # every vendor's mix is a row of one table: keep it
        _MIXES[0], _MIXES[1] = [v.mix for v in vendors], (mixes, _all_mixed(len(vendors)))


def tell_demand(
    vendors: list[ChipVendor], units: np.ndarray, capacity: np.ndarray, asked: np.ndarray
) -> None:
    """record_demand_all from the month's arrays ([vendor] units asked and capacity, [chip]
    asked): every vendor's demand ratio, planned demand and new mix from one compiled kernel
    (agents/vendor_kernel.py), record_demand_all_reference's numbers. Vendors whose index is
    not their place, or a mix of another size, take record_demand_all's way."""
    if not vendors:
        return
    inputs = _kernel_inputs(vendors) if units.size == len(vendors) else None
    if inputs is None:
        record_demand_all(vendors, units.tolist(), capacity.tolist(), asked)
        return
    recent, table, told = inputs
    mixes = demand_kernel(
        vendors[0].model.chips.vendor,
        units,
        np.asarray(asked, float),
        np.asarray(capacity, float),
        recent,
        table[0],
        table[1],
        DEMAND_SMOOTHING,
        told,
    )
    ratio, heard, _ = told.tolist()
    _hear(vendors, ratio, heard, units.tolist(), mixes)


def tell_orders(vendors: list[ChipVendor], capacity: np.ndarray, asked: np.ndarray) -> bool:
    """tell_demand with the units asked of each vendor (the model's vendor_units: np.bincount
    of `asked` [chip] over the chips in use by vendor) summed in the same compiled call, one
    kernel instead of two a month: tell_demand's numbers. False, and nobody told, where
    tell_demand's kernel would not apply (vendors whose index is not their place, a mix of
    another size, `asked` not float64, a chip in use of no vendor listed): the caller then
    takes tell_demand's way."""
    if not vendors or asked.dtype != np.float64:
        return False
    inputs = _kernel_inputs(vendors)
    if inputs is None:
        return False
    recent, table, told = inputs
    chips = vendors[0].model.chips
    mixes = orders_kernel(
        chips.vendor,
        chips.used,
        asked,
        np.asarray(capacity, float),
        recent,
        table[0],
        table[1],
        DEMAND_SMOOTHING,
        told,
    )
    if mixes.shape[0] != len(vendors):  # a chip of no vendor among these: vendor_units' way
        return False
    ratio, heard, units = told.tolist()
    _hear(vendors, ratio, heard, units, mixes)
    return True


def _kernel_inputs(
    vendors: list[ChipVendor],
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray] | None:
    """What the demand kernels read and write besides the month's orders: (each vendor's
    planned demand, the mixes' table, the array they write into), or None where they do not
    apply (vendors whose index is not their place, a mix of another size)."""
    table = _mix_table(vendors, vendors[0].model.chips.vendor.size)
    if table is None or [v.index for v in vendors] != _places(len(vendors)):
        return None
    recent = np.array([v.recent_demand for v in vendors], float)
    return recent, table, _told_array(vendors)


def _told_array(vendors: list[ChipVendor]) -> np.ndarray:
    """[3, vendor] the demand kernels write each vendor's demand ratio, planned demand and
    units asked into: the first vendor's, made anew when the number of vendors changes."""
    told = vendors[0]._told
    if told is None or told.shape != (3, len(vendors)):
        told = vendors[0]._told = np.zeros((3, len(vendors)))
    return told


def _hear(
    vendors: list[ChipVendor],
    ratio: list[float],
    heard: list[float],
    units: list[float],
    mixes: np.ndarray,
) -> None:
    """What the demand kernel found, set on the vendors as record_demand sets it (Python
    floats); the mix of each that had orders (a row of `mixes`), kept as one table when all
    had."""
    every = True  # every vendor had orders: its mix is a row of the new table
    for v, r, h, u, mix in zip(vendors, ratio, heard, units, mixes, strict=True):
        v.demand_ratio, v.recent_demand = r, h
        if u > 0:
            v.mix = mix
        else:
            every = False
    if every:
        _MIXES[0], _MIXES[1] = [v.mix for v in vendors], (mixes, _all_mixed(len(vendors)))


@functools.lru_cache(maxsize=4)
def _places(n: int) -> list[int]:
    """[0, 1, ..., n - 1]: the indices of vendors listed in index order (never written)."""
    return list(range(n))


def record_demand_all_reference(
    vendors: list[ChipVendor], units: list[float], capacity: list[float], asked: np.ndarray
) -> None:
    """What buyers asked of every vendor this month (ChipVendor.record_demand, in index order),
    and `asked` [chip] moves the mix of its chips that a vendor's capacity and HBM needs are
    counted in: the mixes of all vendors that had orders as one [vendor, chip] table (each
    vendor's mix its own row). The rule in numpy, which record_demand_all's kernel
    reproduces bit for bit: read this one."""
    ordered = []
    for v in vendors:
        v.record_demand(units[v.index], capacity[v.index])
        if units[v.index] > 0:
            ordered.append(v)
    if not ordered:
        return
    mine = np.array([v._own_chips()[0] for v in ordered])  # [vendor, chip] vendor == index
    share = np.where(mine, asked, 0.0) / np.array([[units[v.index]] for v in ordered])
    # a vendor's first orders (or a catalogue of another size) set its mix; later ones move it
    fresh = [v.mix is None or v.mix.shape != share[i].shape for i, v in enumerate(ordered)]
    rows = [i for i, f in enumerate(fresh) if not f]
    if rows:
        old = np.array([ordered[i].mix for i in rows])
        new = old + DEMAND_SMOOTHING * (share[rows] - old)
        for i, mix in zip(rows, new, strict=True):
            ordered[i].mix = mix
    for i, f in enumerate(fresh):
        if f:
            ordered[i].mix = share[i]



_LOG_PER_DOLLAR: list[Any] = [None, None]  # [log_value_per_dollar's key, its answer]


def log_value_per_dollar(value: np.ndarray, price: np.ndarray) -> np.ndarray:
    """[buyer kind, chip] np.log(value / price[None, :]), numpy's division and log (a zero
    value gives -inf, silently): the pre-orders' logit starts from it. Kept by contents
    (shapes, dtypes and bytes of both): every vendor with a launch ahead asks it of the same
    view in a month, and the division, the log and their np.errstate cost more than the
    comparison (read-only: shared by every caller until the key moves)."""
    key = (value.shape, value.dtype, price.shape, price.dtype, value.tobytes(), price.tobytes())
    if _LOG_PER_DOLLAR[0] != key:
        out = np.empty(value.shape)  # what np.divide(value, price) broadcasts to, if it can
        with np.errstate(divide="ignore"):
            np.log(np.divide(value, price, out=out), out=out)
        out.flags.writeable = False
        _LOG_PER_DOLLAR[0], _LOG_PER_DOLLAR[1] = key, out
    return _LOG_PER_DOLLAR[1]

class ChipVendor(mesa.Agent):
    def __init__(self, model: MonthContext, index: int, spec: VendorSpec) -> None:
        super().__init__(model)
        p = model.p
        self.index = index
        self._own: tuple[Any, ...] | None = None  # _own_chips' answer and its key
        # _die_terms': its key, the die terms and the yield array, the die areas (held: their
        # id is in the key)
        self._dies: tuple[Any, ...] | None = None
        self.vendor_id = spec.id
        self.name = spec.name
        self.country = model.country_ids.index(spec.country)
        self.domestic_china = model.country_bloc[self.country] == model.china_bloc
        # Huawei (no capacity in actors.yaml) is made from SMIC's wafers: the wafer and yield
        # paths pass their references (end 2025, February 2025) when nothing slows them.
        self.fabbed_at_smic = spec.capacity_per_month is None
        self.mix: np.ndarray | None = None  # [chip] smoothed share of its chips in orders
        self.wafers = 0.0  # SMIC 7 nm-class wafers a month (all customers)
        self.defects = 0.0  # killer defects per cm2 on those wafers
        self.base_growth = float(spec.capacity_growth or 1.0)
        if self.fabbed_at_smic:
            self.wafers = logistic_step(
                p.smic_wafers_2025,
                p.smic_wafer_ceiling,
                float(np.log(p.smic_wafer_growth)),
                -(parse_month(SMIC_REFERENCE) - model.start),
            )
            self.defects = learn_defects(
                p.smic_defects_2025,
                p.smic_defects_floor,
                p.smic_defect_learning,
                -(parse_month(YIELD_REFERENCE) - model.start),
            )
            self.capacity = self.wafer_capacity()
        else:
            self.capacity = float(spec.capacity_per_month)
        self.premium = 0.0
        self.demand_ratio = 0.0
        self.recent_demand = self.capacity
        self.pending: list[dict[str, Any]] = []  # variant designs under way
        self.free_before: np.ndarray | None = None  # [country, chip]: could buy freely last month
        self._markets_key: tuple[Any, ...] | None = None  # what free_before was derived from
        self.variants_made = 0
        # Arrays kernels write what the vendor reads at once (a returned array costs numba its
        # boxing): tell_demand's [3, vendor] on the first vendor, preorders' logit [buyer
        # kind, chip] and coming chips [chip], _lost's lost chips [chip] and retired [chip].
        # Each vendor's own (a copied or restored model's vendors have their own), made anew
        # when a size changes; nothing the vendor keeps past the call is one of them.
        self._told: np.ndarray | None = None
        self._logits: np.ndarray | None = None
        self._coming: np.ndarray | None = None
        self._lost_chips: np.ndarray | None = None
        self._retired: np.ndarray | None = None

    @staticmethod
    def tell_all(
        vendors: list[ChipVendor], units: np.ndarray, capacity: np.ndarray, asked: np.ndarray
    ) -> None:
        """What the month's orders tell every vendor (tell_demand), under the class the model
        already names."""
        tell_demand(vendors, units, capacity, asked)

    @staticmethod
    def tell_orders(vendors: list[ChipVendor], capacity: np.ndarray, asked: np.ndarray) -> bool:
        """tell_all with the units asked of each vendor summed on the way (tell_orders), or
        False if that way does not apply."""
        return tell_orders(vendors, capacity, asked)

    # ------------------------------------------------------------------ monthly decisions
    def step(self) -> None:
        for item in self.model.scheduled(self.vendor_id):  # the vendor's own dated decisions
            self.model.apply(item.change, source="schedule", news=item.news)
        self._grow_capacity()
        self._set_price()
        self._variants()

    def _grow_capacity(self) -> None:
        """Huawei's capacity follows SMIC's wafers and yield (`_grow_fab`); Cambricon's is pushed
        by the state and held back by tool controls; other vendors build to recent demand, no
        faster than their maximum growth."""
        model, p = self.model, self.model.p
        if self.fabbed_at_smic:
            if model.turn > 1:
                self._grow_fab()
            self.capacity = self.wafer_capacity()
            return
        if model.turn <= 1:
            return
        log_g = scalar_log(self.base_growth)
        if self.domestic_china:
            fab = float(model.policy.get("fab_tool_controls"))
            subsidy = float(model.policy.get("domestic_subsidy"))
            log_g *= max(
                0.0, 1.0 - p.fab_tool_growth_penalty * fab + p.subsidy_capacity_effect * subsidy
            )
            self.capacity *= monthly_factor(log_g)
        else:
            heard = max(self.recent_demand, self.preorders())
            # the vendor's own plan (a played vendor's lever): build short of demand to keep
            # prices up, or ahead of it to sell more at lower markups
            plan = float(model.policy.get("capacity_plan", self.vendor_id))
            target = heard * (1.0 + p.capacity_headroom) * plan
            fastest = self.capacity * monthly_factor(log_g)
            self.capacity = clip_float(target, self.capacity * SHRINK_PER_MONTH, fastest)

    def preorders(self) -> float:
        """Chips a month buyers have booked of this vendor's chips that go on sale within
        `preorder_lead_months`: preorders_reference's number from compiled kernels around the
        logit's log and exp, which stay numpy's (agents/vendor_kernel.py)."""
        model, chips, p = self.model, self.model.chips, self.model.p
        month = model.month
        last = month + p.preorder_lead_months
        if not self._launch_within(month, last):
            return 0.0  # most months: no launch of the vendor's own within the lead
        designs = self._own_chips()[1]
        view, labs = model.view, model.labs
        value, price = view.purchase_value, view.price
        e, coming = self._logits, self._coming
        if e is None or e.shape != value.shape:
            e = self._logits = np.zeros(value.shape)
        if coming is None or coming.size != price.size:
            coming = self._coming = np.zeros(price.size, np.int64)
        n_coming = preorder_logits(
            log_value_per_dollar(value, price),
            float(p.choice_sharpness),
            designs,
            chips.released,
            month,
            last,
            chips.on_sale(month),
            chips.variant_of,
            e,
            coming,
        )
        np.exp(e, out=e)  # softmax_rows' exp, numpy's
        ported = ported_shares(model)
        return float(
            preorder_spend(
                e,
                coming,
                n_coming,
                price,
                labs.growth_kind,
                view.lab_access,
                _NO_TABLE if ported is None else ported[0],
                ported is not None,
                labs.founded,
                month,
                view.vendor_markets[self.index],
                labs.bloc,
                labs.budget,
            )
        )

    def preorders_reference(self) -> float:
        """Chips a month buyers have booked of this vendor's chips that go on sale within
        `preorder_lead_months`: what each lab would spend on them by the labs' own choice rule
        (logit on log value per dollar, over what is on sale now and the coming chips), at
        the share of them its rules allow.

        Why: vendors book foundry, packaging and HBM supply ahead of a launch on their
        customers' commitments (AMD raised its 2024 MI300X guidance from $2bn to above $5bn
        as supply was secured). A vendor that planned only from the orders it hears for what
        it sells now would let its capacity shrink before a launch whenever its old parts sell
        badly, as AMD's did in 2023, and meet the new chip's demand a year late.
        The rule in numpy, which preorders' kernel reproduces bit for bit: read this one."""
        model, chips, p = self.model, self.model.chips, self.model.p
        month = model.month
        last = month + p.preorder_lead_months
        _, designs, released = self._own_chips()
        if not any(month <= r <= last for r in released):
            return 0.0  # most months: no launch of the vendor's own within the lead
        coming = designs & (chips.released >= month) & (chips.released <= last)
        view, labs = model.view, model.labs
        choice = coming | (chips.on_sale(month) & (chips.variant_of < 0))
        with np.errstate(divide="ignore"):
            utility = p.choice_sharpness * np.log(view.purchase_value / view.price[None, :])
        share = softmax_rows(np.where(choice[None, :], utility, -np.inf))  # [buyer kind, chip]
        buyers = (labs.founded <= month) & view.vendor_markets[self.index][labs.bloc]
        per_dollar = share[:, coming] / view.price[coming]  # [buyer kind, coming chip]
        booked_by = per_dollar[labs.growth_kind] * view.lab_access[:, coming]
        ported = ported_shares(model)
        if ported is not None:  # only the labs that run its software book a chip
            booked_by = booked_by * ported[0][:, coming]
        booked = np.add.reduce(booked_by, axis=1)
        return float(np.add.reduce(np.where(buyers, labs.budget * booked, 0.0), axis=None))

    def _own_chips(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """[chip] the vendor's chips (vendor == index), its own designs among those in use (not
        variants: what buyers book ahead) and their release months. Asked every month, moved
        only with the catalogue's revision (add_variant, load_state): kept until then."""
        chips = self.model.chips
        key = (chips.revision, id(chips))
        if self._own is None or self._own[0] != key:
            mine = chips.vendor == self.index
            designs = chips.used & mine & (chips.variant_of < 0)
            released = [int(r) for r in chips.released[designs]]
            made = chips.used & mine  # what its output is averaged over (per_chip)
            for a in (mine, designs, made):
                a.flags.writeable = False
            self._own = (key, (mine, designs, released), chips, made, sorted(released))
        return self._own[1]

    def _launch_within(self, month: int, last: float) -> bool:
        """Whether one of the vendor's own designs is released in [month, last]: the first
        release from `month` on, in the sorted releases _own_chips keeps, is by `last`."""
        self._own_chips()
        releases = self._own[4]  # type: ignore[index]
        i = bisect.bisect_left(releases, month)
        return i < len(releases) and releases[i] <= last

    def _grow_fab(self) -> None:
        """A month of SMIC: wafer capacity grows logistically toward smic_wafer_ceiling at the
        share of its fastest rate that tool controls leave and the subsidy gives back (never
        above the fastest); the defect density falls toward its floor, slower under tool
        controls (no new etch, deposition and metrology tools to learn with)."""
        model, p = self.model, self.model.p
        fab = float(model.policy.get("fab_tool_controls"))
        subsidy = float(model.policy.get("domestic_subsidy"))
        f = growth_factor(p.fab_tool_growth_penalty * fab, p.subsidy_capacity_effect * subsidy)
        log_g = float(scalar_log(p.smic_wafer_growth)) * f
        self.wafers = logistic_step(self.wafers, p.smic_wafer_ceiling, log_g, 1.0)
        learning = p.smic_defect_learning * max(0.0, 1.0 - p.fab_tool_yield_penalty * fab)
        self.defects = learn_defects(self.defects, p.smic_defects_floor, learning, 1.0)

    def wafer_share(self) -> float:
        """Share of SMIC's 7 nm-class wafers given to AI chips: the subsidy moves it from
        ascend_wafer_share toward ascend_wafer_share_max, never past it."""
        p = self.model.p
        subsidy = clip_float(float(self.model.policy.get("domestic_subsidy")), 0.0, 1.0)
        return p.ascend_wafer_share + (p.ascend_wafer_share_max - p.ascend_wafer_share) * subsidy

    def wafer_capacity(self) -> float:
        """Chips a month SMIC's wafers allow: wafer_capacity_reference's number from one
        compiled kernel after the yield's exp, which stays numpy's (agents/vendor_kernel.py)."""
        chips = self.model.chips
        mix = self.mix
        if mix is not None and (mix.shape != chips.used.shape or mix.dtype != np.float64):
            return self.wafer_capacity_reference()  # a mix of another size: as the rule says
        dies, die, gross, yields = self._die_terms()
        self._own_chips()
        return wafer_capacity_kernel(
            dies,
            gross,
            die_yield_into(die, self.defects, yields),  # numpy's exp, in the vendor's array
            self._own[3],  # type: ignore[index]  # chips.used & mine, kept with the revision
            chips.on_sale(self.model.month),
            _NO_MIX if mix is None else mix,
            mix is not None,
            self.wafers,
            self.wafer_share(),
        )

    def _die_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(dies per package, die area, whole dies per wafer) of the catalogue's chips
        (fab.die_geometry) and the [chip] array the month's die yield is written into: kept
        with the catalogue's revision, as die areas change only with it (add_variant,
        load_state), instead of looked up by their bytes every month."""
        chips = self.model.chips
        key = (chips.revision, id(chips.die_area))
        kept = self._dies
        if kept is None or kept[0] != key:
            dies, die, gross = die_geometry(chips.die_area)
            kept = self._dies = (key, (dies, die, gross, np.empty(die.shape)), chips.die_area)
        return kept[1]

    def wafer_capacity_reference(self) -> float:
        """Chips a month SMIC's wafers allow: wafers x AI share / wafers a chip of this
        vendor's mix takes (dies per package over good dies per wafer). The rule in numpy,
        which wafer_capacity's kernel reproduces bit for bit: read this one."""
        chips = self.model.chips
        per_chip = self.per_chip_reference(wafers_per_chip(chips.die_area, self.defects))
        return self.wafers * self.wafer_share() / per_chip if per_chip > 0 else 0.0

    def per_chip(self, values: np.ndarray) -> float:
        """[chip] -> one number for this vendor's output: per_chip_reference's number from a
        compiled kernel (agents/vendor_kernel.py)."""
        chips = self.model.chips
        mix = self.mix
        if mix is not None and (mix.shape != chips.used.shape or mix.dtype != np.float64):
            return self.per_chip_reference(values)  # a mix of another size: as the rule says
        mine = chips.used & self._own_chips()[0]
        selling = mine & chips.on_sale(self.model.month)
        return per_chip_kernel(
            mine,
            selling,
            _NO_MIX if mix is None else mix,
            mix is not None,
            np.asarray(values, float),
        )

    def per_chip_reference(self, values: np.ndarray) -> float:
        """[chip] -> one number for this vendor's output: the average over the chips it sells,
        weighted by their share of recent orders (equal shares before any order). The rule
        in numpy, which per_chip's kernel reproduces bit for bit: read this one."""
        chips = self.model.chips
        mine = chips.used & self._own_chips()[0]
        selling = mine & chips.on_sale(self.model.month)
        mine = selling if np.logical_or.reduce(selling, axis=None) else mine
        by_mix = None if self.mix is None else self.mix * mine
        if by_mix is not None and np.add.reduce(by_mix, axis=None) > 0:
            weights = by_mix
        else:
            weights = np.where(mine, 1.0, 0.0)
        total = np.add.reduce(weights, axis=None)
        spent = np.add.reduce(weights * np.where(mine, values, 0.0), axis=None)
        return float(spent / total) if total > 0 else 0.0

    def _set_price(self) -> None:
        target = min(
            MAX_PREMIUM, self.model.p.vendor_scarcity_premium * max(0.0, self.demand_ratio - 1.0)
        )
        self.premium += PREMIUM_SMOOTHING * (target - self.premium)

    def record_demand(self, units: float, capacity: float) -> None:
        """What buyers asked of the vendor this month, in chips against its capacity (the mix
        of its chips those orders make moves in record_demand_all, every vendor's at once)."""
        self.demand_ratio = units / capacity if capacity > 0 else 0.0
        self.recent_demand += DEMAND_SMOOTHING * (units - self.recent_demand)

    # ------------------------------------------------------------------ compliant variants
    def remember_markets(self) -> None:
        """Note which countries could buy which of this vendor's chips freely, so that the next
        rule change shows what it took away."""
        view, chips = self.model.view, self.model.chips
        # The same access, chips on sale and catalogue give the same answer: the same array is
        # kept (read-only) until one of them moves, which _variants reads as "nothing moved".
        # The view's access and subject are read-only arrays kept with the levers (their ids
        # stay theirs while the key holds them); chips on sale are the same array while they
        # are the same chips (ChipTable.on_sale), else compared by content.
        on_sale = chips.on_sale(self.model.month)
        key = (id(view.country_access), id(view.subject), chips.revision)
        kept = self._markets_key
        if (
            kept is not None
            and kept[0] == key
            and (kept[3] is on_sale or kept[4] == on_sale.tobytes())
        ):
            self.free_before = kept[1]
            return
        # free_table_reference's table from a compiled kernel (agents/vendor_kernel.py)
        free_before = free_markets(view.country_access, on_sale, self._own_chips()[0], view.subject)
        free_before.flags.writeable = False
        self.free_before = free_before
        self._markets_key = (
            key,
            free_before,
            (view.country_access, view.subject),
            on_sale,
            on_sale.tobytes(),
        )

    def free_table_reference(self) -> np.ndarray:
        """[country, chip] remember_markets' table, made anew in numpy: the rule, which its
        kernel (agents/vendor_kernel.py, free_markets) reproduces; read this one."""
        view, chips = self.model.view, self.model.chips
        mine = chips.on_sale(self.model.month) & self._own_chips()[0] & view.subject
        return (view.country_access >= 1.0) & mine[None, :]

    def _variants(self) -> None:
        model = self.model
        chips, view = model.chips, model.view
        market = view.variant_market
        allowed = bool(model.policy.get("make_compliant_variants", self.vendor_id))
        before = self.free_before
        self.remember_markets()
        # Under an embargo no derated chip is sellable either: nothing to design for (the
        # tier is read last: the checks before it are cheaper, and none has a side effect).
        if market < 0 or not allowed or before is None or view.tier[market] == EMBARGOED:
            self.pending = []
            return
        free = self.free_before[market]
        if before is self.free_before and not chips.turns_over(model.month):
            # Nothing moved since last month (remember_markets kept its array) and no chip
            # launches or leaves sale this month: nothing is caught, launched or retired.
            self._finish_designs(market, free)
            return
        lost, retired = self._lost(market, before[market], free)
        ready = model.month + int(model.p.variant_lag_months)
        for c in lost.tolist():
            parent = self._parent_for(int(c), ready)
            if parent >= 0 and all(d["parent"] != parent for d in self.pending):
                self.pending.append({"parent": parent, "lost": int(c), "ready": ready})
                if not model.tells_news:
                    continue
                if chips.available_from[c] == model.month:
                    why = tr("news_variant_why_launch")
                elif retired[c]:
                    why = tr("news_variant_why_retired")
                else:
                    why = tr("news_variant_why_caught")
                model.news(
                    "variant_design",
                    tr(
                        "news_variant_design",
                        vendor=self.name,
                        parent=chips.ids[parent],
                        market=model.country_names[market],
                        chip=chips.ids[c],
                        why=why,
                    ),
                    [self.vendor_id],
                )
        self._finish_designs(market, free)

    def _lost(
        self, market: int, before: np.ndarray, free: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """_lost_reference's answer from a compiled kernel (agents/vendor_kernel.py), in the
        vendor's arrays (read by _variants at once)."""
        chips = self.model.chips
        on_sale = chips.on_sale(self.model.month)
        lost, retired = self._lost_chips, self._retired
        if lost is None or lost.size != on_sale.size:
            lost = self._lost_chips = np.zeros(on_sale.size, np.int64)
            retired = self._retired = np.zeros(on_sale.size, np.bool_)
        n_lost = lost_chips(
            on_sale,
            self._own_chips()[0],
            chips.available_from,
            chips.variant_of,
            chips.end_of_sale,
            before,
            free,
            self.model.view.subject,
            self.model.month,
            lost,
            retired,
        )
        return lost[:n_lost], retired

    def _lost_reference(
        self, market: int, before: np.ndarray, free: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """([n] the chips the market lost this month, [chip] which retired), from `before` and
        `free` [chip], the market's free access last month and now. The rule in numpy, which
        _lost's kernel reproduces bit for bit: read this one."""
        model, chips = self.model, self.model.chips
        on_sale = chips.on_sale(model.month) & self._own_chips()[0]
        # A new flagship launched into a closed market calls for a variant only if the vendor
        # has none on sale there (MI300X -> an MI308-like part; not H200 while H20 sells).
        has_variant = np.logical_or.reduce(free & (chips.variant_of >= 0), axis=None)
        launched = (
            on_sale & (chips.available_from == model.month) & (chips.variant_of < 0) & ~has_variant
        )
        # A variant that sold there and leaves sale this month (a designed one goes with its
        # parent's die, see ChipTable.add_variant) takes the vendor's product out of the market
        # as surely as a rule would: its successor is designed from a chip still being made.
        retired = before & (chips.variant_of >= 0) & (chips.end_of_sale == model.month)
        caught = (before | launched) & on_sale & ~free & model.view.subject
        return (caught | retired).nonzero()[0], retired

    def _finish_designs(self, market: int, free: np.ndarray) -> None:
        """Release the designs ready this month whose market is still closed to what they
        replace and has no variant of their parent yet."""
        if not self.pending:
            return
        model, chips = self.model, self.model.chips
        ready = [d for d in self.pending if d["ready"] <= model.month]
        if not ready:
            return
        view = model.view
        selling = chips.on_sale(model.month)
        for design in ready:
            self.pending.remove(design)
            gone = design["lost"]
            if selling[gone] and view.country_access[market, gone] >= 1.0:
                continue  # the rule was relaxed again: no need
            if (free & (chips.variant_of == design["parent"])).any():
                continue  # a variant of that parent already sells there
            self._release(design["parent"], market)

    def release_now(self, chip: int, month: int) -> None:
        """Put a catalogue chip on sale from `month` (a scheduled launch, e.g. the real date of
        the A800); designs under way for the same parent are then no longer needed."""
        chips = self.model.chips
        chips.available_from[chip] = min(int(chips.available_from[chip]), month)
        parent = int(chips.variant_of[chip])
        self.pending = [d for d in self.pending if d["parent"] != parent]

    def _parent_for(self, lost: int, ready: int) -> int:
        """Derate the lost chip's own parent if it will still be made, else the flagship."""
        chips = self.model.chips
        parent = int(chips.variant_of[lost]) if chips.variant_of[lost] >= 0 else lost
        if chips.end_of_sale[parent] > ready:
            return parent
        mine = (
            chips.on_sale(self.model.month) & (chips.vendor == self.index) & (chips.variant_of < 0)
        )
        mine &= chips.end_of_sale > ready
        if not mine.any():
            return -1
        return int(np.flatnonzero(mine)[np.argmax(chips.tflops[mine])])

    def _release(self, parent: int, market: int) -> None:
        model = self.model
        chips, p = model.chips, model.p
        th = Thresholds.from_policy(model.policy)
        templates = [
            i
            for i in range(chips.n_catalogue)
            if chips.variant_of[i] == parent and chips.available_from[i] > model.month
        ]
        for i in templates:
            # classify's answer for chip i (ChipTable.tpp and .density for one chip), in scalars
            tpp = chips.tflops[i] * BITS_BF16
            if classify_one(tpp, tpp / chips.die_area[i], chips.interconnect[i], th) == 0:
                chips.available_from[i] = model.month
                model.refresh_market_view()
                if model.view.country_access[market, i] >= 1.0:
                    self._announce(i, market)
                    return
                chips.available_from[i] = NEVER
                model.refresh_market_view()
        tflops, ic = design_compliant(
            chips.tflops[parent],
            chips.interconnect[parent],
            chips.die_area[parent],
            th,
            self.variant_margin(),
        )
        ratio = tflops / chips.tflops[parent]
        price = chips.price[parent] * (
            p.variant_price_floor + (1.0 - p.variant_price_floor) * ratio
        )
        self.variants_made += 1
        new_id = variant_id(chips.ids[parent], self.variants_made)
        i = chips.add_variant(
            parent,
            new_id,
            f"{new_id} ({chips.ids[parent]} for restricted markets)",
            tflops,
            ic,
            price,
            model.month,
        )
        model.refresh_market_view()
        if model.view.country_access[market, i] >= 1.0:
            self._announce(i, market)
        else:
            chips.available_from[i] = NEVER  # not sellable after all (an embargo): shelved

    def variant_margin(self) -> float:
        """How close under the binding threshold the vendor designs a variant: its
        `variant_closeness` lever if it set one, else `variant_margin`. Closer is a more
        capable, dearer chip (its price follows its performance), and one that any small
        lowering of the line catches."""
        chosen = self.model.policy.targets("variant_closeness").get(self.vendor_id)
        return float(chosen) if chosen is not None else float(self.model.p.variant_margin)

    def _announce(self, i: int, market: int) -> None:
        if not self.model.tells_news:
            return
        chips = self.model.chips
        self.model.news(
            "variant_released",
            tr(
                "news_variant_released",
                vendor=self.name,
                chip=chips.ids[i],
                market=self.model.country_names[market],
                tpp=f"{chips.tpp[i]:,.0f}",
                links=f"{chips.interconnect[i]:,.0f}",
            ),
            [self.vendor_id, chips.ids[i]],
        )

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "premium": self.premium,
            "demand_ratio": self.demand_ratio,
            "recent_demand": self.recent_demand,
            "pending": [dict(d) for d in self.pending],
            "free_before": None if self.free_before is None else self.free_before.tolist(),
            "variants_made": self.variants_made,
            "wafers": self.wafers,
            "defects": self.defects,
            "mix": None if self.mix is None else self.mix.tolist(),
        }

    def load_state(self, d: dict[str, Any]) -> None:
        self.capacity, self.premium = float(d["capacity"]), float(d["premium"])
        self.demand_ratio = float(d["demand_ratio"])
        self.recent_demand = float(d["recent_demand"])
        self.pending = [dict(x) for x in d["pending"]]
        fb = d["free_before"]
        self.free_before = None if fb is None else np.array(fb, bool)
        self._markets_key = None
        self._own = None
        self._dies = None
        self.variants_made = int(d["variants_made"])
        self.wafers = float(d.get("wafers", self.wafers))
        self.defects = float(d.get("defects", self.defects))
        mix = d.get("mix")
        self.mix = None if mix is None else np.array(mix, float)

    def __repr__(self) -> str:
        return f"ChipVendor({self.vendor_id!r}, capacity={self.capacity:,.0f}/month)"
