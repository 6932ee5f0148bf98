"""The labs' rule terms kept across models (agents.lab._RuleTerms.kept): two models that read
the same rule state share one set of terms, and each model's terms are what the numpy
reference derives for it, however the two differ in what the futures of a projection draw
(domestic_preference, customs_compliance_cost) and in a variant's specs (the chips' H100e)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import agents.lab as lab
from agents import lab_kernel
from game.config.commands import PolicyChange
from game.core.rules import CONTROLLED, EMBARGOED, RESTRICTED
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from game.sim.state import restore, snapshot


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()  # bit for bit: -0.0 is not 0.0, NaN is NaN
        )
    return type(a) is type(b) and a == b


def _check(model: ChipWarModel) -> lab._RuleTerms:
    """The model's terms, every array bit for bit the reference's and read-only."""
    terms = lab._RuleTerms.of(model)
    for name, want in lab._rule_arrays_reference(model).items():
        got = getattr(terms, name)
        assert _same(got, want), name
        if isinstance(want, np.ndarray):
            assert not got.flags.writeable, name
    return terms


def _future(state: tuple, drawn: dict[str, float], tflops: float) -> ChipWarModel:
    """A model restored from `state` with `drawn` parameters and one variant of the first
    chip in use at `tflops` (a variant's specs are a future's own), a month stepped."""
    model = restore(state[0], state[1], drawn)
    parent = int(np.flatnonzero(model.chips.used)[0])
    model.chips.add_variant(
        parent, "kept-variant", "Kept variant", tflops, 900.0, 20000.0, model.month
    )
    model.step()
    return model


def test_kept_terms_are_shared_and_each_models_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab, "_KEPT_RULE_TERMS", {})
    built = []
    init = lab._RuleTerms.__init__

    def counted(self: Any, model: Any) -> None:
        built.append(model)
        init(self, model)

    monkeypatch.setattr(lab._RuleTerms, "__init__", counted)
    base = ChipWarModel("historical", rng=3, months=40)
    models = []
    try:
        base.apply(PolicyChange("transit", "transit_customs", 2.0, "uae"))  # checks to derive
        for _ in range(6):
            base.step()
        state = snapshot(base)
        first = _future(state, {}, 700.0)
        terms = _check(first)
        assert terms.any_checks
        n_built = len(built)
        again = _future(state, {}, 700.0)  # the same rule state in another model: shared
        assert _check(again) is terms and len(built) == n_built
        # one thing of its own each: a drawn parameter, or the variant's specs
        for drawn, tflops, differs in [
            ({"domestic_preference": 0.9}, 700.0, "preference"),
            ({"customs_compliance_cost": 0.2}, 700.0, "checks"),
            ({}, 650.0, "controlled_h2"),
        ]:
            future = _future(state, drawn, tflops)
            models.append(future)
            own = _check(future)
            assert len(built) == n_built and own is not terms
            assert own.may_buy is terms.may_buy  # the rest shared, not derived again
            assert not _same(getattr(own, differs), getattr(terms, differs)), differs
        assert _check(first) is terms  # the keep still holds the first model's own
        models += [first, again]
    finally:
        forget(base, *models)


def test_the_keep_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its bound the keep drops the oldest rule state, and a model asking for it again
    gets terms made anew, equal to the reference."""
    monkeypatch.setattr(lab, "_KEPT_RULE_TERMS", {})
    monkeypatch.setattr(lab, "_KEPT_RULE_TERMS_MAX", 1)
    model = ChipWarModel("historical", rng=3, months=40)
    try:
        model.step()
        terms = _check(model)
        contents = lab._RuleTerms.contents(model)
        assert list(lab._KEPT_RULE_TERMS.values()) == [terms]
        model.apply(PolicyChange("china", "foreign_chip_discouragement", 0.45))
        model.step()
        moved = _check(model)
        assert moved is not terms and list(lab._KEPT_RULE_TERMS.values()) == [moved]
        assert contents[0] not in lab._KEPT_RULE_TERMS
    finally:
        forget(model)


def test_own_kernel_is_the_reference() -> None:
    """lab_kernel.own_rule_arrays against lab._own_arrays_reference, bit for bit, on random
    tables with what numpy treats apart: customs below, at and above 1, NaN and -0.0, negative
    and zero costs, every chip class."""
    rng = np.random.default_rng(12)
    for trial in range(40):
        n_labs, n_chips, n_countries = rng.integers(1, 9), rng.integers(1, 12), rng.integers(1, 6)
        effort = rng.choice([0.0, -0.0, 0.5, 1.0, 1.7, 3.0, np.nan], n_countries)
        preference = float(rng.choice([0.0, -0.0, 0.7, -1.5]))
        compliance = float(rng.choice([0.0, -0.0, 0.08, 0.25, -0.1]))
        model = SimpleNamespace(
            p=SimpleNamespace(domestic_preference=preference, customs_compliance_cost=compliance),
            chips=SimpleNamespace(h100e=rng.choice([0.0, 0.3, 1.0, 2.5, np.inf], n_chips)),
            view=SimpleNamespace(
                customs_effort=effort,
                chip_class=rng.integers(0, CONTROLLED + 2, n_chips),
            ),
            labs=SimpleNamespace(country=rng.integers(0, n_countries, n_labs)),
        )
        rules = SimpleNamespace(subsidised=rng.random((n_labs, n_chips)) < 0.4)
        with np.errstate(invalid="ignore"):  # 0 x inf: NaN, as the kernel gives
            want = lab._own_arrays_reference(rules, model)  # type: ignore[arg-type]
        got = lab_kernel.own_rule_arrays(
            rules.subsidised, effort, model.labs.country, model.view.chip_class,
            model.chips.h100e, preference, compliance, CONTROLLED,
        )
        for name, g, w in zip(("preference", "checks", "any_checks", "controlled_h2"), got, want,
                              strict=True):
            assert _same(g, w), (trial, name)


def _access_share_now(model: ChipWarModel) -> np.ndarray:
    """[lab] lab._access_share's rule, derived from the model now."""
    tier = model.view.tier[model.labs.country]
    cut = float(model.policy.get("model_access_controls"))
    share = model.p.distillation_share
    return np.where((tier == RESTRICTED) | (tier == EMBARGOED), share * (1.0 - cut), share)


def test_access_share_follows_the_tiers_and_the_lever() -> None:
    """lab._access_share, kept by the tiers' identity: what the rule derives now, month after
    month, as the lever and a destination's tier move (the engine's arrays made anew)."""
    model = ChipWarModel("historical", rng=3, months=40)
    seen = []
    try:
        country = model.country_ids[int(model.labs.country[0])]
        for month, change in [
            (2, PolicyChange("us", "model_access_controls", 0.6)),
            (4, PolicyChange("us", "destination", "embargoed", country)),
            (6, PolicyChange("us", "model_access_controls", 0.2)),
        ]:
            while model.turn < month:
                model.step()
                got = lab._access_share(model)
                assert _same(got, _access_share_now(model)) and not got.flags.writeable
                seen.append(got.tobytes())
            model.apply(change)
        model.step()
        assert _same(lab._access_share(model), _access_share_now(model))
        assert len(set(seen)) >= 3  # the lever and the tier moved the shares
    finally:
        forget(model)
