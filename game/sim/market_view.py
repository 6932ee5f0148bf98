"""The market view derived from the world's state, in one place: what the rules allow, what
chips cost and are worth, what vendors can make, where the gray market runs and how risky
each route is. Every phase reads the result (game/core/market_view.py); the model derives it
again at the points of the month where its inputs change (see ChipWarModel.step)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from agents.vendor import per_chip_all
from game.core import fab
from game.core.market import interdiction_probability
from game.core.market_view import MarketView
from game.core.rules import (
    CAPPED,
    CHIP_EXPORT,
    EMBARGOED,
    RESTRICTED,
    TIERS,
    Thresholds,
    access,
    classify,
)
from game.core.shocks import shock_factors
from game.sim.month_kernel import (
    cap_left_kernel,
    purchase_table,
    value_factors,
    variant_market_kernel,
)
from game.sim.view_kernel import (
    gray_chip,
    hbm_bound,
    price_kernel,
    purchase_rows,
    rules_kernel,
    value_bases,
)
from game.sim.view_kernel import (
    routes_open as routes_open_kernel,
)

if TYPE_CHECKING:
    from game.core.catalogue import ChipTable
    from game.core.params import Params
    from game.core.policy_state import PolicyState
    from game.sim.model import ChipWarModel

T = TypeVar("T")

H100_BANDWIDTH_REFERENCE = 3.35  # TB/s; purchase value counts bandwidth relative to an H100
INTERCONNECT_REFERENCE = 900.0  # GB/s; NVLink 4, no cluster penalty at or above it


def derive_market_view(
    model: ChipWarModel, view: MarketView, before_vendors: bool = False
) -> MarketView:
    """Fill `view` (reused, so that the labs' compute set after buying survives) from the
    model's state now.

    `before_vendors`: the month's first derivation, which the vendors read as they step (the
    rules, prices, values and markets). Their capacity and the gray market move with that
    step and nobody reads them before the month's second derivation after it, which derives
    them from the same state as a full first one would have: the first leaves last month's.

    The derivation that follows a first one within the month's step (the second, or a
    vendor's after it puts a chip on sale) comes after only the vendors' step and the cut of
    remote access. Those move the premiums, capacities, chips on sale and, through a command
    or a new chip, the levers' stamp or the catalogue's revision; never the caps used, the
    labs' budgets or founding months, the rental host or the month. So while the stamp, the
    revision and the arrays' identities hold (`_first_mark`), the first's rules, values and
    markets stand on the view as they are: only the prices, capacity and gray market are
    derived again. The mark is taken by the next derivation whatever it is, so no later
    one (after the labs buy) can lean on it."""
    first = view.derived.pop("first", None)
    if (
        not before_vendors
        and first is not None
        and getattr(model, "_in_step", False)
        and first[0] == _first_mark(model)[0]
    ):
        rules = view.derived["rules"][1][0]
        _price_of(model, view, rules)
        view.vendor_capacity = vendor_capacity(model, rules, view)
        _gray_market(model, view, rules)
        return view
    rules = _rules(model, view)
    _prices_and_value(model, view, rules)
    if not before_vendors:
        view.vendor_capacity = vendor_capacity(model, rules, view)
    _markets(model, view, rules)
    if not before_vendors:
        _gray_market(model, view, rules)
    pools = (len(model.labs), len(model.chips.ecosystem_ids))
    if view.lab_pool_flops.shape != pools or view.lab_cluster_flops.shape != pools[:1]:
        view.lab_pool_flops = np.zeros(pools)
        view.lab_cluster_flops = np.zeros(pools[0])
    if before_vendors:
        # the levers' stamp _rules keyed them on: no lever moves within a derivation
        view.derived["first"] = _first_mark(model, view.derived["rules"][0][0])
    return view


def _first_mark(model: ChipWarModel, stamp: tuple[int, int] | None = None) -> tuple[tuple, tuple]:
    """What a derivation's rules, values and markets were derived under, beyond the state the
    vendors' step cannot write (derive_market_view): the month, the levers' stamp (`stamp`,
    if the caller has it), the catalogue's revision and the identities of the objects read
    (the second part holds those objects, so that no other can take an id while the mark
    lives)."""
    labs, policy, chips, p = model.labs, model.policy, model.chips, model.p
    objects = (policy, chips, labs, labs.country, labs.budget, labs.founded, model.cap_used, p)
    mark = (
        model.month,
        model.start,
        policy.stamp() if stamp is None else stamp,
        chips.revision,
        model.rental_host,
        model.host_budget0,
        *map(id, objects),
    )
    return mark, objects


class _LeverReads:
    """The policy as _Rules reads it, noting every read and its answer: when a lever moves
    (the stamp), the rules are the same if every read gives the same answer again (most lever
    changes, a subsidy or a lab's risk appetite, touch nothing the rule engine reads)."""

    def __init__(self, policy: PolicyState) -> None:
        self.policy = policy
        self.reads: list[tuple[str, str | None, Any]] = []  # (lever, target or None, answer)
        self.target_reads: list[tuple[str, dict[str, Any]]] = []  # (lever, its targets)

    def get(self, lever: str, target: str | None = None) -> Any:
        value = self.policy.get(lever, target)
        self.reads.append((lever, target, value))
        return value

    def targets(self, lever: str) -> dict[str, Any]:
        value = self.policy.targets(lever)
        self.target_reads.append((lever, dict(value)))
        return value

    def each(self, lever: str, targets: list[str]) -> list[float]:
        """[target] float(get(lever, target)) of each, read as one read of the lever's
        targets (an answer changes only if they do)."""
        values = self.targets(lever)
        default = self.policy.spec.levers[lever].default
        return [float(values.get(t, default)) for t in targets]

    def same(self, policy: PolicyState) -> bool:
        """Whether `policy` answers every read as it did (equal values: _Rules reads them
        through float, bool and str, and dicts of targets through get and items)."""
        # plain loops: all() over a generator costs a frame switch a read, and a dozen reads
        # are checked every time a lever moves
        get = policy.get
        for lever, target, v in self.reads:
            if not get(lever, target) == v:
                return False
        targets = policy.targets
        for lever, v in self.target_reads:
            if not targets(lever) == v:
                return False
        return True


class _Rules:
    """What the levers and the catalogue's specs alone give: the rule engine's arrays and the
    lever values the rest of the view reads. The view is derived twice a month and after every
    command, but these move only when a lever does (PolicyState.stamp) or a chip is added
    (ChipTable.revision), so a view keeps them (MarketView.derived) until then, and past a
    lever change that none of its reads see (_LeverReads). Its arrays are shared by every view
    derived under the same key: they are made read-only, so that a consumer writing into one
    fails loudly instead of changing later months.

    They come in parts (PARTS), each with its own reads: a lever change that moves the reads
    of some parts only (the mineral controls' step, a third of a historical run's changes)
    makes a new rules object that shares the other parts' values and arrays, as they are what
    the same reads of the same catalogue give again."""

    # each part's attributes, made by the method of its name
    PARTS: dict[str, tuple[str, ...]] = {
        "_engine": (
            "tier",
            "listed",
            "chip_class",
            "country_access",
            "lab_access",
            "limited",
            "subject_limited",
            "cap",
            "capped",
            "any_capped",
            "closed",
            "any_closed",
        ),
        "_prices": ("minerals",),
        "_routes": ("enforcement", "pressure", "customs_effort", "border"),
        "_hbm": ("hbm_controls",),
    }
    # what the catalogue and the world give, no lever read (_world, _catalogue)
    CATALOGUE = (
        "tpp",
        "density",
        "vendor_bloc",
        "subject",
        "foreign_chip",
        "uncapped",
        "load",
        "china_vendors",
        "stacks",
    )
    # what the world alone gives (_world): the same whatever chips the catalogue holds
    WORLD = ("vendor_bloc", "uncapped", "china_vendors")
    # the parts that read the chips' specs: a new chip makes them anew; the others read the
    # levers and the world only
    CHIP_PARTS = ("_engine", "_prices")

    def __init__(
        self,
        model: ChipWarModel,
        previous: _Rules | None = None,
        stale: tuple[str, ...] = (),
        new_chips: bool = False,
    ) -> None:
        """`previous`: rules of the same world whose parts outside `stale` still hold, and of
        the same catalogue unless `new_chips` (a chip added since: the catalogue's arrays and
        CHIP_PARTS are made anew, the world's arrays and the other parts kept)."""
        self.part_reads: dict[str, _LeverReads] = {}
        if previous is None:
            self._world(model)
            self._catalogue(model)
            _read_only_fields(self, self.CATALOGUE)
        elif new_chips:
            for name in self.WORLD:
                setattr(self, name, getattr(previous, name))
            self._catalogue(model)
            _read_only_fields(self, self.CATALOGUE)
            stale = tuple(part for part in self.PARTS if part in stale or part in self.CHIP_PARTS)
        else:
            for name in self.CATALOGUE:
                setattr(self, name, getattr(previous, name))
        for part, names in self.PARTS.items():
            if previous is not None and part not in stale:
                self.part_reads[part] = previous.part_reads[part]
                for name in names:
                    setattr(self, name, getattr(previous, name))
            else:
                # every lever read goes through _LeverReads, so that it can be checked again
                self.part_reads[part] = reads = _LeverReads(model.policy)
                getattr(self, part)(model, reads)
                _read_only_fields(self, names)

    def stale(self, policy: PolicyState) -> tuple[str, ...]:
        """The parts whose reads `policy` answers otherwise."""
        return tuple(part for part, reads in self.part_reads.items() if not reads.same(policy))

    def _world(self, model: ChipWarModel) -> None:
        self.vendor_bloc = model.country_bloc[model.vendor_country]
        self.uncapped = np.full(len(model.country_ids), np.inf)
        self.china_vendors = np.array([v.domestic_china for v in model.vendors])

    def _catalogue(self, model: ChipWarModel) -> None:
        chips, p = model.chips, model.p
        # the specs the rule engine classifies by (_engine, rebuilt more often than these)
        self.tpp = chips.tpp
        self.density = chips.density
        self.subject = (self.vendor_bloc[chips.vendor] == model.us_bloc) & chips.used
        self.foreign_chip = (self.vendor_bloc != model.china_bloc)[chips.vendor]
        # the gray market: the systems' load
        self.load = smuggling_load(chips, p)
        self.stacks = fab.hbm_stacks_per_chip(chips.memory_gb, p.hbm_gb_per_stack)

    def _engine(self, model: ChipWarModel, policy: _LeverReads) -> None:
        chips, labs = model.chips, model.labs
        # Thresholds.from_policy's numbers, in its fields' order
        thresholds = np.array([float(policy.get(k)) for k in Thresholds.__dataclass_fields__])
        # TIERS and CHIP_EXPORT index 0 where nothing is set ("open", "rule")
        tiers = policy.targets("destination")
        self.tier = np.array(
            [TIERS.index(str(tiers[c])) if c in tiers else 0 for c in model.country_ids]
        )
        exports = policy.targets("chip_export")
        if exports:
            chip_export = np.array(
                [CHIP_EXPORT.index(str(exports[c])) if c in exports else 0 for c in chips.ids]
            )
        else:
            chip_export = np.zeros(len(chips.ids), np.int64)
        self.listed = np.zeros(len(labs.ids), bool)
        for lab_id, on in policy.targets("entity_list").items():
            if on and lab_id in model.lab_index:
                self.listed[model.lab_index[lab_id]] = True
        self.cap = float(policy.get("diffusion_cap_h100e"))
        # _rule_engine_reference's arrays from one compiled call (game/sim/view_kernel.py)
        (
            self.chip_class,
            self.country_access,
            self.lab_access,
            self.limited,
            self.subject_limited,
            self.capped,
            self.closed,
            self.any_capped,
            self.any_closed,
        ) = rules_kernel(
            self.tpp,
            self.density,
            chips.interconnect,
            self.subject,
            thresholds,
            chip_export,
            self.tier,
            self.listed,
            labs.country,
            float(policy.get("licence_approval")),
            float(model.p.notify_approval),
            self.cap,
        )

    def _prices(self, model: ChipWarModel, policy: _LeverReads) -> None:
        # the mineral controls' factor on foreign vendors' chips
        minerals = 1.0 + model.p.mineral_price_effect * float(policy.get("mineral_controls"))
        self.minerals = np.where(self.foreign_chip, minerals, 1.0)

    def _routes(self, model: ChipWarModel, policy: _LeverReads) -> None:
        # the gray market: each route's customs and pressure, the border
        self.enforcement = float(policy.get("enforcement"))
        self.pressure = np.array(policy.each("transit_pressure", model.country_ids), float)
        self.customs_effort = np.array(policy.each("transit_customs", model.country_ids), float)
        tolerance = float(policy.get("smuggling_tolerance"))
        self.border = model.p.china_border_detection * (1.0 - tolerance)

    def _hbm(self, model: ChipWarModel, policy: _LeverReads) -> None:
        self.hbm_controls = bool(policy.get("hbm_controls"))


def _rule_engine_reference(
    model: ChipWarModel,
    subject: np.ndarray,
    th: Thresholds,
    chip_export: np.ndarray,
    tier: np.ndarray,
    listed: np.ndarray,
    licence_approval: float,
    cap: float,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool, bool
]:
    """[chip] control class, [country, chip] and [lab, chip] access, [chip] whether some lab
    may not buy all it wants of it legally (what brokers could sell) and of those the chips
    US rules apply to, [country] capped under the diffusion cap and closed (restricted or
    embargoed), and whether any country is capped, any closed.

    The rule in numpy (game/core/rules.py), which game.sim.view_kernel.rules_kernel reproduces
    bit for bit: read this one."""
    chips, labs = model.chips, model.labs
    chip_class = classify(chips.tpp, chips.density, chips.interconnect, subject, th)
    country_access = access(
        chip_class,
        subject,
        chip_export,
        tier,
        np.zeros(len(model.country_ids), bool),
        licence_approval,
        model.p.notify_approval,
    )
    lab_access = country_access[labs.country]
    if listed.any():
        lab_access[listed] = np.where(subject, 0.0, 1.0)[None, :]
    limited = (lab_access < 1.0).any(axis=0)
    capped = (tier == CAPPED) & (cap > 0)
    closed = (tier == RESTRICTED) | (tier == EMBARGOED)
    return (
        chip_class,
        country_access,
        lab_access,
        limited,
        subject & limited,
        capped,
        closed,
        bool(np.logical_or.reduce(capped, axis=None)),
        bool(closed.any()),
    )


def _kept(view: MarketView, name: str, key: tuple, keep: tuple, make: Callable[[], T]) -> T:
    """What `make` gives, made again only when `key` moves. `keep` holds the objects whose ids
    are in the key, so that no other object can take an id while the entry lives."""
    hit = view.derived.get(name)
    if hit is None or hit[0] != key:
        hit = (key, (make(), keep))
        view.derived[name] = hit
    return hit[1][0]


def _rules(model: ChipWarModel, view: MarketView) -> _Rules:
    """The rule engine: each chip's control class, each country's tier and access."""
    chips, labs, policy = model.chips, model.labs, model.policy
    key = (policy.stamp(), chips.revision, id(policy), id(chips), id(labs.country))
    hit = view.derived.get("rules")
    if hit is None or hit[0] != key:
        rules = hit[1][0] if hit is not None else None
        # A lever moved (the stamp), but maybe none the rules read: then they stay (and the
        # parts of the view kept under them, keyed on their id).
        if rules is None or hit[0][2:] != key[2:]:
            rules = _Rules(model)
        elif hit[0][1] != key[1]:  # a new chip: what reads no chip stays if its reads hold
            stale = rules.stale(policy) if hit[0][0] != key[0] else ()
            rules = _Rules(model, rules, stale, new_chips=True)
        else:
            stale = rules.stale(policy)
            if stale:  # new rules sharing the parts whose reads hold
                rules = _Rules(model, rules, stale)
        hit = (key, (rules, (policy, chips, labs.country)))
        view.derived["rules"] = hit
        # Only a derivation writes these fields, so while the entry stands they hold its own.
        view.vendor_bloc = rules.vendor_bloc
        view.subject = rules.subject
        view.chip_class = rules.chip_class
        view.tier = rules.tier
        view.listed = rules.listed
        view.country_access = rules.country_access
        view.lab_access = rules.lab_access
        view.customs_effort = rules.customs_effort
        view.enforcement = rules.enforcement
    view.vendor_markets = model.vendor_markets
    return hit[1][0]


def _prices_and_value(model: ChipWarModel, view: MarketView, rules: _Rules) -> None:
    """Usable FLOP/s per chip (software ecosystem, cluster links), what a chip is worth to a
    trainer and to a server, and its price (scarcity premium, mineral controls). The first two
    move with the month (the ecosystems mature) and the catalogue only: a view keeps them for
    the month's second derivation."""
    chips = model.chips
    months = model.month - model.start
    key = (months, chips.revision, id(chips))
    hit = view.derived.get("value")
    if hit is None or hit[0] != key:
        hit = (key, (_value(model, view, months), (chips,)))
        view.derived["value"] = hit
    view.flops_per_chip, view.purchase_value = hit[1][0]
    _price_of(model, view, rules)


def _price_of(model: ChipWarModel, view: MarketView, rules: _Rules) -> None:
    """The view's prices, kept while the premiums, the rules and the list prices hold."""
    chips = model.chips
    # Half the derivations find every vendor's premium as the one before left it (the month's
    # first after a month the premiums held, or its second after vendors that held them).
    premiums = [v.premium for v in model.vendors]
    key = (premiums, id(rules), chips.revision, id(chips), id(chips.price))
    hit = view.derived.get("price")
    if hit is None or hit[0] != key:
        hit = (key, (_price(chips, premiums, rules), (rules, chips, chips.price)))
        view.derived["price"] = hit
    view.price = hit[1][0]


def _price(chips: ChipTable, premiums: list[float], rules: _Rules) -> np.ndarray:
    """_price_reference's numbers from one compiled call (game/sim/view_kernel.py)."""
    price = price_kernel(chips.price, np.array(premiums, float), chips.vendor, rules.minerals)
    _read_only(price)
    return price


def _price_reference(chips: ChipTable, premiums: list[float], rules: _Rules) -> np.ndarray:
    """[chip] price: list price, the vendor's scarcity premium, the mineral controls' factor
    (read-only: views share it).

    The rule in numpy, which game.sim.view_kernel.price_kernel reproduces bit for bit: read
    this one."""
    premium = np.array(premiums)
    price = chips.price * (1.0 + premium[chips.vendor]) * rules.minerals
    price.flags.writeable = False
    return price


class _Specs:
    """What purchase values read of the catalogue's specs alone, kept with its revision: a
    chip's links factor (chip_factors), its peak FLOP/s, its bandwidth against an H100's, and
    each ecosystem's starting gap to CUDA, and its H100 equivalents (read-only)."""

    def __init__(self, chips: ChipTable, p: Params) -> None:
        self.link = link_factor(chips.interconnect, p)
        self.peak_flops = chips.tflops * 1e12
        self.bandwidth = chips.bandwidth / H100_BANDWIDTH_REFERENCE
        self.gap0 = 1.0 - chips.ecosystem_base
        self.h100e = np.ascontiguousarray(chips.h100e, np.float64)
        # [peak FLOP/s, H100 equivalents, links factor, bandwidth; chip] for value_bases
        # (np.array of the rows: np.stack's copy without its Python wrapper)
        self.per_chip = np.array([self.peak_flops, self.h100e, self.link, self.bandwidth])
        for a in vars(self).values():
            _set_flags(a, False)  # write=False


VALUE_MONTHS = 12  # months of values one batch of powers derives (_ValueMonths)


def _value(model: ChipWarModel, view: MarketView, months: int) -> tuple[np.ndarray, np.ndarray]:
    """_value_reference's numbers: the arithmetic around numpy's powers in compiled kernels
    (game/sim/view_kernel.py), the powers themselves numpy's, on the same numbers, derived for
    a run of months at once (_ValueMonths) and kept while the specs and parameters hold."""
    chips, p = model.chips, model.p
    key = (chips.revision, id(chips), p.interconnect_exponent)
    hit = view.derived.get("specs")
    if hit is None or hit[0] != key:
        hit = (key, (_Specs(chips, p), (chips,)))
        view.derived["specs"] = hit
    specs = hit[1][0]
    train = 1.0 + p.chip_scale_exponent
    w_f, w_o = p.inference_weight_frontier, p.inference_weight_other
    key = (id(specs), p.ecosystem_catchup, train, w_f, w_o)
    hit = view.derived.get("value months")
    if hit is not None and hit[0] == key:
        found = hit[1][0].at(months)
        if found is not None:
            return found
    # the months left in the run, so that its last batch derives none past its end
    n_months = max(1, min(VALUE_MONTHS, model.horizon - months))
    exponents = _exponents(view, train, (1 - w_f, w_f, 1 - w_o, w_o), n_months * chips.used.size)
    if exponents is None:
        return _value_of_month(model, specs, months)
    batch = _ValueMonths(chips, p, specs, months, n_months, train, exponents)
    view.derived["value months"] = (key, (batch, (specs,)))
    found = batch.at(months)
    assert found is not None
    return found


class _ValueMonths:
    """[month, chip] usable FLOP/s and [month, buyer kind, chip] purchase values for the
    months from `first` (read-only: views share them). The values move every month (the
    ecosystems mature), but with nothing else while the specs and parameters hold; a month's
    powers cost numpy's call overhead far more than arithmetic, so one np.power over a dozen
    months' bases, element by element the same ufunc loop on the same numbers, costs little
    more than one month's."""

    def __init__(
        self,
        chips: ChipTable,
        p: Params,
        specs: _Specs,
        first: int,
        n_months: int,
        train: float,
        exponents: np.ndarray,
    ) -> None:
        self.first = first
        # ecosystem_factor's share of the starting gap left, as it takes it (a Python power)
        catchup = 1.0 - p.ecosystem_catchup
        gap_scales = np.array(
            [catchup ** max(0.0, m / 12.0) for m in range(first, first + n_months)]
        )
        # The four powers after the training one in one np.power over [4 x month x chip]
        # bases, each with its row's exponent: the same ufunc loop, element by element, as
        # `**` with a scalar, which takes other roads (sqrt, square, reciprocal, a copy) only
        # for whole and half exponents, left to _value_of_month.
        flops_per_chip, bases = value_bases(specs.gap0, gap_scales, chips.ecosystem, specs.per_chip)
        np.power(bases[4], train, out=bases[0])
        powers = np.power(bases[:4].reshape(-1), exponents)
        purchase_value = purchase_rows(powers, chips.used, n_months)
        self.n_months = n_months
        self.flops_per_chip = _read_only(flops_per_chip)
        self.purchase_value = _read_only(purchase_value)

    def at(self, months: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The values `months` after the start, or None if the batch does not hold them:
        views of the tables (read-only as they are), made as a month asks (a new chip drops
        a batch before its last months)."""
        t = months - self.first
        if 0 <= t < self.n_months:
            return self.flops_per_chip[t], self.purchase_value[t]
        return None


def _value_of_month(
    model: ChipWarModel, specs: _Specs, months: int
) -> tuple[np.ndarray, np.ndarray]:
    """_value for one month when an exponent is whole or half: numpy's separate powers."""
    chips, p = model.chips, model.p
    gap_scale = (1.0 - p.ecosystem_catchup) ** max(0.0, months / 12.0)
    train = 1.0 + p.chip_scale_exponent
    w_f, w_o = p.inference_weight_frontier, p.inference_weight_other
    flops_per_chip, compute, bandwidth = value_factors(
        specs.gap0,
        gap_scale,
        chips.ecosystem,
        specs.peak_flops,
        specs.h100e,
        specs.link,
        specs.bandwidth,
    )
    training = compute**train
    purchase_value = purchase_table(
        training ** (1 - w_f),
        bandwidth**w_f,
        compute ** (1 - w_o),
        bandwidth**w_o,
        chips.used,
    )
    flops_per_chip.flags.writeable = False
    purchase_value.flags.writeable = False
    return flops_per_chip, purchase_value


def _exponents(
    view: MarketView, train: float, exponents: tuple[float, ...], n: int
) -> np.ndarray | None:
    """[4 x n] each purchase value power's exponent, row after row (kept while they hold), n
    the bases of a row (chips x months), or None if the training power's or any of them is
    whole or half (see _ValueMonths)."""
    key = (train, exponents, n)
    hit = view.derived.get("exponents")
    if hit is None or hit[0] != key:
        merged = not any(float(2.0 * x).is_integer() for x in (train, *exponents))
        hit = (key, (_read_only(np.repeat(np.array(exponents), n)) if merged else None, ()))
        view.derived["exponents"] = hit
    return hit[1][0]


def _value_reference(
    model: ChipWarModel, view: MarketView, months: int
) -> tuple[np.ndarray, np.ndarray]:
    """[chip] usable FLOP/s, and [buyer kind, chip] purchase value (read-only: views share them).
    chip_factors' factors, with what moves only with the specs kept (_Specs).

    The rule in numpy, which _value reproduces bit for bit: read this one."""
    chips, p = model.chips, model.p
    key = (chips.revision, id(chips), p.interconnect_exponent)
    specs = _kept(view, "specs", key, (chips,), lambda: _Specs(chips, p))
    eco = ecosystem_factor(specs.gap0, chips.ecosystem, p, months)
    link = specs.link
    flops_per_chip = specs.peak_flops * eco * link
    compute = chips.h100e * eco * link
    # A software ecosystem's maturity holds back serving as it holds back training: decoding
    # reaches a chip's memory bandwidth only through tuned kernels (attention, KV cache,
    # quantised matmuls). Counting bandwidth at its peak made a lagging ecosystem's chips the
    # best buy for every cloud (AMD 40% of all 2030 revenue); SemiAnalysis's MI300X inference
    # tests (2024-2025) found its served throughput well short of what its bandwidth promised.
    bandwidth = specs.bandwidth * eco
    training = compute ** (1.0 + p.chip_scale_exponent)
    w_f, w_o = p.inference_weight_frontier, p.inference_weight_other
    # np.where(chips.used, [row 0, row 1], 0.0), written into one table (no vstack, no where)
    purchase_value = np.empty((2, compute.size))
    # row 0: frontier labs (train); row 1: clouds and enterprise (serve)
    np.multiply(training ** (1 - w_f), bandwidth**w_f, out=purchase_value[0])
    np.multiply(compute ** (1 - w_o), bandwidth**w_o, out=purchase_value[1])
    purchase_value[:, ~chips.used] = 0.0
    flops_per_chip.flags.writeable = False
    purchase_value.flags.writeable = False
    return flops_per_chip, purchase_value


def chip_factors(chips: ChipTable, p: Params, months: int) -> tuple[np.ndarray, np.ndarray]:
    """[chip] what a chip keeps of its peak: its software ecosystem's maturity (the gap to
    CUDA closing at `ecosystem_catchup` a year from the start) and its links (clusters of
    chips slower than NVLink 4 lose `interconnect_exponent` of the shortfall)."""
    eco = ecosystem_factor(1.0 - chips.ecosystem_base, chips.ecosystem, p, months)
    return eco, link_factor(chips.interconnect, p)


def ecosystem_factor(gap0: np.ndarray, ecosystem: np.ndarray, p: Params, months: int) -> np.ndarray:
    """[chip] its ecosystem's maturity `months` after the start, from [ecosystem] each one's
    starting gap to CUDA (`gap0`) and [chip] each chip's ecosystem."""
    gap = gap0 * (1.0 - p.ecosystem_catchup) ** max(0.0, months / 12.0)
    return (1.0 - gap)[ecosystem]


def link_factor(interconnect: np.ndarray, p: Params) -> np.ndarray:
    """[chip] what slow chip-to-chip links leave of a cluster's throughput."""
    return np.minimum(1.0, interconnect / INTERCONNECT_REFERENCE) ** p.interconnect_exponent


def usable_flops_per_chip(chips: ChipTable, p: Params, months: int) -> np.ndarray:
    """[chip] training FLOP/s a chip delivers, `months` after the start."""
    eco, link = chip_factors(chips, p, months)
    return chips.tflops * 1e12 * eco * link


def _markets(model: ChipWarModel, view: MarketView, rules: _Rules) -> None:
    """The diffusion cap left per country, the closed market vendors design variants for,
    and renting abroad. Their inputs (the levers, the caps used, budgets) do not move between
    the month's two derivations: the second keeps the first's (derive_market_view), and every
    other derivation derives them anew (the month's first always finds a new month)."""
    (
        view.cap_left,
        view.variant_market,
        view.rental_host,
        view.rental_capacity,
    ) = _derive_markets(model, rules)


def _derive_markets(model: ChipWarModel, rules: _Rules) -> tuple[np.ndarray, int, int, float]:
    """_derive_markets_reference's answers, the caps left and the variant market from compiled
    kernels (game/sim/month_kernel.py)."""
    labs, p = model.labs, model.p
    if rules.any_capped:
        cap_left = cap_left_kernel(rules.capped, rules.cap, model.cap_used)
        _read_only(cap_left)
    else:
        cap_left = rules.uncapped  # read-only, as every kept array
    if rules.any_closed:
        variant_market = int(
            variant_market_kernel(
                labs.country, labs.founded, labs.budget, model.month, rules.closed
            )
        )
    else:
        variant_market = -1
    host = model.rental_host
    rental_capacity = (
        p.rental_capacity_h100e * labs.budget[host] / model.host_budget0 if host >= 0 else 0.0
    )
    return cap_left, variant_market, host, rental_capacity


def _derive_markets_reference(
    model: ChipWarModel, rules: _Rules
) -> tuple[np.ndarray, int, int, float]:
    """[country] H100e left under the cap (read-only: views share it), the variant market, the
    rental host and its capacity.

    The rule in numpy, which _derive_markets reproduces bit for bit: read this one."""
    labs, p = model.labs, model.p
    if np.logical_or.reduce(rules.capped, axis=None):  # .any() without its Python wrapper
        cap_left = np.where(rules.capped, np.maximum(rules.cap - model.cap_used, 0.0), np.inf)
        cap_left.flags.writeable = False
    else:
        cap_left = rules.uncapped  # read-only, as every kept array
    if rules.any_closed:
        active = labs.founded <= model.month
        demand = np.bincount(
            labs.country,
            weights=np.where(active, labs.budget, 0.0),
            minlength=len(model.country_ids),
        )
        variant_market = int(np.where(rules.closed, demand, -1).argmax())
    else:
        variant_market = -1
    host = model.rental_host
    # Foreign data centres grow their rentals to restricted countries with their business.
    rental_capacity = (
        p.rental_capacity_h100e * labs.budget[host] / model.host_budget0 if host >= 0 else 0.0
    )
    return cap_left, variant_market, host, rental_capacity


def _gray_market(model: ChipWarModel, view: MarketView, rules: _Rules) -> None:
    """The chip brokers deal in, its prices, and the interdiction risk and openness of each
    transit route.

    Brokers' capacity is counted in dollars a month, and a chip that ships only in a big,
    liquid-cooled system takes `smuggling_difficulty` times its price of it (agents/broker.py).
    Capacity is what binds the trade, so the chip that crosses is the one that gives a
    restricted trainer the most value per unit of capacity: value / (price x load factor). With
    every chip an 8-GPU server this is the best value for money, as buyers would choose."""
    month, derived = model.month, view.derived
    # subject & on sale & limited, the two that move only with the levers taken together
    wanted = model.chips.on_sale(month) & rules.subject_limited
    load = rules.load
    g = gray_chip(wanted, view.purchase_value[0], view.price, load)
    if g >= 0:
        # Python floats multiply as numpy's float64 scalars do
        price = float(view.price[g])
        view.gray_chip = g
        view.gray_price = price * model.gray.markup
        view.transit_price = price * (1.0 + model.p.transit_premium)
        view.gray_load = view.transit_price * float(load[g])
    else:
        view.gray_chip, view.gray_price, view.transit_price, view.gray_load = -1, 0.0, 0.0, 0.0
    # The routes' risk moves with the levers the rules' _routes part reads (kept, with its
    # reads object, by rules that share the part) and the customs shocks in force only.
    shocks = (
        tuple(s for s in model.shocks if s.kind == "customs" and s.active(month))
        if model.shocks
        else ()
    )
    routes_part = rules.part_reads["_routes"]
    key = (id(routes_part), shocks)
    hit = derived.get("route_risk")
    if hit is None or hit[0] != key:
        hit = (key, (_route_risk(model, rules), (routes_part,)))
        derived["route_risk"] = hit
    view.route_risk = hit[1][0]
    # The routes open move with the levers, the gray chip and the caps left (kept arrays).
    key = (id(rules), g if g >= 0 else -1, id(view.cap_left))
    hit = derived.get("routes_open")
    if hit is None or hit[0] != key:
        hit = (key, (_routes_open(model, view), (rules, view.cap_left)))
        derived["routes_open"] = hit
    view.routes_open = hit[1][0]


def _gray_chip_reference(view: MarketView, wanted: np.ndarray, load: np.ndarray) -> int:
    """[chip] what restricted buyers want and the load factors -> the chip brokers deal in
    (-1: none): the most value per unit of a ring's capacity, value / (price x load).

    The rule in numpy, which game.sim.view_kernel.gray_chip reproduces bit for bit: read this
    one."""
    if np.logical_or.reduce(wanted, axis=None):
        per_capacity = view.purchase_value[0] / (view.price * load)
        return int(np.where(wanted, per_capacity, -1.0).argmax())
    return -1


def _routes_open(model: ChipWarModel, view: MarketView) -> np.ndarray:
    """[route] the transit countries brokers may buy the gray chip in (read-only: kept):
    _routes_open_reference's, from one compiled call (game/sim/view_kernel.py) in place of
    four masks and a nonzero; a fresh array, as views keep it."""
    g = view.gray_chip
    if g < 0 or model.transit.dtype != np.bool_:
        return _routes_open_reference(model, view)
    routes = routes_open_kernel(
        model.transit, view.country_access, g, model.country_bloc, model.china_bloc,
        view.cap_left,
    )
    _read_only(routes)
    return routes


def _routes_open_reference(model: ChipWarModel, view: MarketView) -> np.ndarray:
    """[route] the transit countries brokers may buy the gray chip in (read-only: kept).

    The rule in numpy, which game.sim.view_kernel.routes_open reproduces: read this one."""
    if view.gray_chip >= 0:
        open_ = (
            model.transit
            & (view.country_access[:, view.gray_chip] >= 1.0)
            & (model.country_bloc != model.china_bloc)
            & (view.cap_left > 0)
        )
        routes = open_.nonzero()[0]
    else:
        routes = np.zeros(0, np.int64)
    routes.flags.writeable = False
    return routes


def _route_risk(model: ChipWarModel, rules: _Rules) -> np.ndarray:
    """[country] the interdiction probability of a route through it (read-only: views share
    it, and keep it while the rules' _routes part and the customs shocks hold: the rest it
    reads is the world's and the parameters')."""
    p = model.p
    customs = shock_factors(model.shocks, "customs", model.country_ids, model.month)
    risk = interdiction_probability(
        p.smuggling_detection,
        rules.enforcement,
        model.customs * rules.customs_effort * customs,
        rules.pressure,
        p.detection_max,
        rules.border,
    )
    _read_only(risk)
    return risk


def smuggling_load(chips: ChipTable, p: Params) -> np.ndarray:
    """[chip] dollars of a broker's capacity each dollar of the chip takes: the catalogue's
    `smuggling_difficulty` (1 for cards and 8-GPU servers, more for rack-scale systems that
    cross whole, need liquid cooling and run poorly without the vendor's service), raised to
    `smuggling_system_weight` (0: value alone bounds a ring; 1: the catalogue's factors)."""
    return chips.smuggling_difficulty**p.smuggling_system_weight


def hbm_stacks_per_chip(model: ChipWarModel, stacks: np.ndarray | None = None) -> np.ndarray:
    """[vendor] HBM stacks a chip of each vendor's recent mix carries (`stacks`: [chip] the
    stacks on each package, if the caller has them). Kept in the model's view when it has one
    (_stacks_of_mix): the stockpile's draw after the month's orders asks it of the mixes those
    orders made, which next month's capacity then asks of again."""
    if stacks is None:
        stacks = fab.hbm_stacks_per_chip(model.chips.memory_gb, model.p.hbm_gb_per_stack)
    view = getattr(model, "_view", None)  # its store of what it derived, stale or not
    if view is not None:
        return _stacks_of_mix(model, view, stacks)
    return _per_chip_of_mix(model, stacks)


def stockpile_draw_terms(model: ChipWarModel) -> tuple[np.ndarray, np.ndarray]:
    """([vendor] China's vendors, [vendor] hbm_stacks_per_chip): the stockpile's draw asks
    them every month after the view's derivations, whose rules hold both while the catalogue
    is the one they were derived from (its revision), so they are taken from there."""
    rules = _rules_of_catalogue(model)
    if rules is None:
        return np.array([v.domestic_china for v in model.vendors]), hbm_stacks_per_chip(model)
    return rules.china_vendors, _stacks_of_mix(model, model._view, rules.stacks)


def _rules_of_catalogue(model: ChipWarModel) -> _Rules | None:
    """The rules the model's view holds, if derived from its catalogue as it is now."""
    view = getattr(model, "_view", None)
    hit = view.derived.get("rules") if view is not None else None
    if hit is None or hit[0][1] != model.chips.revision or hit[1][1][1] is not model.chips:
        return None
    return hit[1][0]


def _per_chip_of_mix(model: ChipWarModel, stacks: np.ndarray) -> np.ndarray:
    return per_chip_all(model.vendors, model.chips, model.month, stacks)


def hbm_stacks_available(model: ChipWarModel) -> float:
    """HBM stacks China's vendors may use this month under the HBM control: CXMT's output
    this month and the month's share of the stockpile (they spread what is left over
    hbm_stockpile_runway_months rather than spend it at once)."""
    return model.hbm.available(model.p.hbm_stockpile_runway_months)


def vendor_capacity(
    model: ChipWarModel, rules: _Rules | None = None, view: MarketView | None = None
) -> np.ndarray:
    """[vendor] chips a month: each vendor's capacity, scaled by shocks in force; under HBM
    controls China's vendors make no more chips than this month's HBM stacks can equip
    (stacks available a month against stacks their chips need a month). `rules` and `view`:
    what the levers give now and the view being derived, if the caller has them
    (derive_market_view: the stacks per chip of the vendors' mix are then kept while the
    chips on sale and the mixes stay the same objects, as between the month's derivations)."""
    cap = np.array([v.capacity for v in model.vendors])
    if model.shocks and any(s.kind == "capacity" and s.active(model.month) for s in model.shocks):
        cap = cap * shock_factors(model.shocks, "capacity", model.vendor_ids, model.month)
    if rules is None:
        hbm_controls = bool(model.policy.get("hbm_controls"))
        china = np.array([v.domestic_china for v in model.vendors])
        stacks = None
    else:
        hbm_controls, china, stacks = rules.hbm_controls, rules.china_vendors, rules.stacks
    if hbm_controls:
        if view is not None and stacks is not None:
            per_chip = _stacks_of_mix(model, view, stacks)
        else:
            per_chip = hbm_stacks_per_chip(model, stacks)
        have = hbm_stacks_available(model)
        if cap.dtype == np.float64 and per_chip.dtype == np.float64:
            hbm_bound(cap, per_chip, china, have)  # _hbm_bound_reference, compiled
        else:
            _hbm_bound_reference(cap, per_chip, china, have)
    return cap


def _hbm_bound_reference(
    cap: np.ndarray, per_chip: np.ndarray, china: np.ndarray, have: float
) -> None:
    """[vendor] `cap` scaled in place: China's vendors (`china`) make no more chips than the
    HBM stacks they `have` can equip, `per_chip` [vendor] stacks a chip of each needing.

    The rule in numpy, which game.sim.view_kernel.hbm_bound reproduces bit for bit: read this
    one."""
    need = float(np.add.reduce((cap * per_chip)[china], axis=None))
    if need > have:
        cap[china] *= have / need


def _stacks_of_mix(model: ChipWarModel, view: MarketView, stacks: np.ndarray) -> np.ndarray:
    """hbm_stacks_per_chip, kept in the view under what it reads: the chips on sale (by
    content: the same chips sell next month), the catalogue's vendors (its revision: they
    move only with it, ChipTable.owned_by's key), each vendor's mix (replaced, never written
    in place, when orders come) and the stacks per chip (by content)."""
    chips = model.chips
    on_sale = chips.on_sale(model.month)
    mixes = [v.mix for v in model.vendors]
    key = (on_sale.tobytes(), chips.revision, id(chips), stacks.tobytes(), *map(id, mixes))
    hit = view.derived.get("stacks_of_mix")
    if hit is None or hit[0] != key:
        hit = (key, (_read_only(_per_chip_of_mix(model, stacks)), (chips, mixes)))
        view.derived["stacks_of_mix"] = hit
    return hit[1][0]


# ndarray.setflags unbound: a fifth of `a.flags.writeable = False`'s cost (no flags object)
_set_flags = np.ndarray.setflags


def _read_only(a: np.ndarray) -> np.ndarray:
    _set_flags(a, False)  # write=False
    return a


def _read_only_fields(obj: object, names: tuple[str, ...]) -> None:
    """The arrays among `obj`'s attributes `names` made read-only."""
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, np.ndarray):
            _set_flags(value, False)
