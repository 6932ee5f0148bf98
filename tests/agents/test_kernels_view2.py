"""The market view's fused path (game/sim/market_view.py, game/sim/view_kernel.py) gives its
numpy references' numbers bit for bit on real months: the rule engine in one kernel, the rules
rebuilt in parts when a lever moves only some of their reads, the prices, the HBM bound on
China's vendors, the purchase values' powers in one call; and the month's second derivation,
which keeps the first's rules, values and markets, leaves the view as a full derivation from
the state then would."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

import game.sim.market_view as mv
import game.sim.model as model_mod
from game.config.commands import PolicyChange
from game.core.market_view import MarketView
from game.core.rules import CHIP_EXPORT, TIERS, Thresholds
from game.sim.model import ChipWarModel
from tests.agents.kernel_cases import CASES

MONTHS = 60
RULE_ENGINE = (
    "chip_class",
    "country_access",
    "lab_access",
    "limited",
    "subject_limited",
    "capped",
    "closed",
    "any_capped",
    "any_closed",
)


def _bits(a: object, b: object) -> bool:
    if isinstance(b, (bool, int, float)) or isinstance(a, (bool, int, float)):
        if type(a) is not type(b):
            return False
        return bool(np.float64(a).view(np.int64) == np.float64(b).view(np.int64))
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return np.array_equal(a.view(np.int64), b.view(np.int64))
    return np.array_equal(a, b)


def _rules_match_a_fresh_build(model: ChipWarModel, rules: mv._Rules, fresh: mv._Rules) -> None:
    """Every attribute of `rules` (parts shared or not) is what a full build (`fresh`) gives
    now, and its rule engine is _rule_engine_reference's."""
    names = mv._Rules.CATALOGUE + tuple(n for part in mv._Rules.PARTS.values() for n in part)
    for name in names:
        a, b = getattr(rules, name), getattr(fresh, name)
        assert _bits(a, b), name
        if isinstance(a, np.ndarray):
            assert not a.flags.writeable, name
    policy = model.policy
    exports = policy.targets("chip_export")
    tiers = policy.targets("destination")
    tier = np.array([TIERS.index(str(tiers.get(c, "open"))) for c in model.country_ids])
    assert _bits(rules.tier, tier)
    ref = mv._rule_engine_reference(
        model,
        rules.subject,
        Thresholds.from_policy(policy),
        np.array([CHIP_EXPORT.index(str(exports.get(c, "rule"))) for c in model.chips.ids]),
        tier,
        rules.listed,
        float(policy.get("licence_approval")),
        float(policy.get("diffusion_cap_h100e")),
    )
    for name, want in zip(RULE_ENGINE, ref, strict=True):
        assert _bits(getattr(rules, name), want), name


def _assert_view_equal(a: MarketView, b: MarketView) -> None:
    for f in dataclasses.fields(MarketView):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert _bits(x, y) if isinstance(x, np.ndarray) else x == y, f.name


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_fused_view_matches_numpy(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: Counter[str] = Counter()
    rules_init, price, hbm_bound, value = mv._Rules.__init__, mv._price, mv.hbm_bound, mv._value
    derive = model_mod.derive_market_view

    def rules_both(self, model, previous=None, stale=(), new_chips=False):  # type: ignore[no-untyped-def]
        rules_init(self, model, previous, stale, new_chips)
        fresh = object.__new__(mv._Rules)
        rules_init(fresh, model)
        _rules_match_a_fresh_build(model, self, fresh)
        seen["rules"] += 1
        seen["rules, in parts"] += previous is not None and len(stale) < len(self.PARTS)
        seen["rules, new chips"] += previous is not None and new_chips

    def price_both(chips, premiums, rules):  # type: ignore[no-untyped-def]
        out = price(chips, premiums, rules)
        assert _bits(out, mv._price_reference(chips, premiums, rules))
        assert not out.flags.writeable
        seen["price"] += 1
        return out

    def hbm_both(cap, per_chip, china, have):  # type: ignore[no-untyped-def]
        ref = cap.copy()
        mv._hbm_bound_reference(ref, per_chip, china, have)
        before = cap.copy()
        hbm_bound(cap, per_chip, china, have)
        assert _bits(cap, ref)
        seen["hbm"] += 1
        seen["hbm, bound"] += not _bits(cap, before)

    def value_both(model, view, months):  # type: ignore[no-untyped-def]
        out = value(model, view, months)
        ref = mv._value_reference(model, view, months)
        assert all(_bits(a, b) for a, b in zip(out, ref, strict=True))
        seen["value"] += 1
        seen["value, powers in one call"] += view.derived["exponents"][1][0] is not None
        return out

    def derive_both(model, view, before_vendors=False):  # type: ignore[no-untyped-def]
        rules_calls = seen["rules calls"]
        out = derive(model, view, before_vendors)
        seen["kept the first's"] += seen["rules calls"] == rules_calls
        if not before_vendors:
            fresh = derive(
                model,
                MarketView(
                    lab_pool_flops=out.lab_pool_flops, lab_cluster_flops=out.lab_cluster_flops
                ),
            )
            _assert_view_equal(out, fresh)
            seen["full after"] += 1
        return out

    rules = mv._rules

    def rules_counted(model, view):  # type: ignore[no-untyped-def]
        seen["rules calls"] += 1
        return rules(model, view)

    monkeypatch.setattr(mv._Rules, "__init__", rules_both)
    monkeypatch.setattr(mv, "_price", price_both)
    monkeypatch.setattr(mv, "hbm_bound", hbm_both)
    monkeypatch.setattr(mv, "_value", value_both)
    monkeypatch.setattr(mv, "_rules", rules_counted)
    monkeypatch.setattr(model_mod, "derive_market_view", derive_both)
    ChipWarModel(scenario, rng=seed, months=MONTHS).run()
    assert seen["value"] >= MONTHS and seen["value, powers in one call"] >= MONTHS
    assert seen["price"] >= MONTHS and seen["full after"] >= MONTHS
    # the month's second derivation keeps the first's rules, values and markets
    assert seen["kept the first's"] >= MONTHS // 2
    assert seen["rules"] > 0
    if scenario == "historical":  # the mineral controls' steps rebuild one part only
        assert seen["rules, in parts"] > 0
        # vendors' variants: the parts reading no chip kept past a new chip
        assert seen["rules, new chips"] > 0
    if scenario != "no_controls":  # HBM controls in force
        assert seen["hbm"] > 0 and seen["hbm, bound"] > 0


def test_whole_and_half_exponents_take_numpy_powers_one_by_one() -> None:
    """A purchase value exponent that `**` would take by sqrt or square leaves the merged
    power call: the separate powers give the reference's numbers."""
    model = ChipWarModel("historical", rng=1, months=3)
    model.run()
    for w_f, w_o in ((0.5, 0.6), (0.15, 0.0), (0.15, 0.6)):
        model.p.inference_weight_frontier, model.p.inference_weight_other = w_f, w_o
        view = MarketView()
        got = mv._value(model, view, 7)
        want = mv._value_reference(model, view, 7)
        assert all(_bits(a, b) for a, b in zip(got, want, strict=True))
        merged = view.derived["exponents"][1][0] is not None
        assert merged == ((w_f, w_o) == (0.15, 0.6))


def test_the_second_derivation_keeps_nothing_after_a_vendors_command() -> None:
    """A lever moved between the month's derivations (a vendor's scheduled command) moves the
    levers' stamp: the second derives everything again."""
    model = ChipWarModel("historical", rng=2)
    model.run(5)
    model._in_step = True
    view = mv.derive_market_view(model, model.view, before_vendors=True)
    assert "first" in view.derived
    model.policy.set(PolicyChange("us", "enforcement", 2.5))
    calls: Counter[str] = Counter()
    rules = mv._rules

    def counted(m, v):  # type: ignore[no-untyped-def]
        calls["rules"] += 1
        return rules(m, v)

    mv._rules = counted
    try:
        mv.derive_market_view(model, view)
    finally:
        mv._rules = rules
        model._in_step = False
    assert calls["rules"] == 1 and "first" not in view.derived
    assert view.enforcement == 2.5


def test_rule_engine_kernel_takes_signed_zeros_and_nans_as_numpy() -> None:
    """np.minimum's pick between equal numbers (0.0 and -0.0) and its NaNs, under every
    destination tier and chip export setting."""
    from game.sim.view_kernel import rules_kernel

    model = ChipWarModel("historical", rng=1, months=30)
    model.run()
    rules = model.view.derived["rules"][1][0]
    policy = model.policy
    th = Thresholds.from_policy(policy)
    n_chips, n_countries = len(model.chips.ids), len(model.country_ids)
    tier = np.arange(n_countries) % len(TIERS)
    chip_export = np.arange(n_chips) % len(CHIP_EXPORT)
    listed = np.arange(len(model.labs.ids)) % 5 == 0
    nan = float("nan")
    for licence in (0.0, -0.0, 0.4, nan):
        for notify in (0.0, -0.0, 1.0, nan):
            model.p.notify_approval = notify
            got = rules_kernel(
                model.chips.tpp,
                model.chips.density,
                model.chips.interconnect,
                rules.subject,
                np.array([getattr(th, f) for f in Thresholds.__dataclass_fields__]),
                chip_export,
                tier,
                listed,
                model.labs.country,
                licence,
                notify,
                5e4,
            )
            want = mv._rule_engine_reference(
                model, rules.subject, th, chip_export, tier, listed, licence, 5e4
            )
            for name, a, b in zip(RULE_ENGINE, got, want, strict=True):
                assert _bits(a, b), (name, licence, notify)


def test_a_batch_of_months_gives_each_months_reference_values() -> None:
    """_value derives a dozen months in one batch (_ValueMonths): every month of it, read
    from the batch made at its first, is _value_reference's for that month; a new chip (the
    catalogue's revision) or a month outside it makes a new batch; the run's last batch ends
    with the horizon."""
    model = ChipWarModel("historical", rng=3, months=30)
    model.run(2)
    view = MarketView()
    first = mv._value(model, view, 0)
    batch = view.derived["value months"][1][0]
    assert batch.first == 0 and batch.n_months == mv.VALUE_MONTHS > 1
    for months in range(mv.VALUE_MONTHS):
        got = mv._value(model, view, months)
        assert view.derived["value months"][1][0] is batch  # read from the batch, not made again
        want = mv._value_reference(model, MarketView(), months)
        assert all(_bits(a, b) for a, b in zip(got, want, strict=True)), months
        assert not got[0].flags.writeable and not got[1].flags.writeable
    assert _bits(first[1], mv._value(model, view, 0)[1])
    mv._value(model, view, 25)
    last = view.derived["value months"][1][0]
    assert last is not batch and last.first == 25 and last.n_months == 5
    assert last.at(30) is None and last.at(24) is None and last.at(29) is not None
    model.chips.revision += 1  # a new chip: a new batch
    mv._value(model, view, 26)
    assert view.derived["value months"][1][0].first == 26
