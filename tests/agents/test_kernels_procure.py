"""The labs' fused month of buying (agents.lab.procure: agents/procure_kernel.py's and
offers_kernel.py's five kernels around the cluster worths' power, the offers' np.log and the
logits' np.exp) gives the numpy references' numbers bit for bit (agents.lab.procure_reference:
_cash_and_spend_reference, _offers_reference, _allocate_reference, _hold_to_mandate_reference,
_deliver_reference), month after month of real runs. Each month the reference runs first on
the model as it stands, with what it changes recorded and then undone (the labs' arrays, the
generator, the diffusion cap, the ledger's running totals and stock, the books), then the
fused path runs for real; the two must agree to the last bit. The fused path books the
delivery in its last kernel, not through the ledger's and the books' methods: it must call
none of them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import agents.lab as lab
from agents import lab_kernel, procure_kernel
from game.config.commands import PolicyChange
from game.core.market import softmax_rows
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from tests.agents.kernel_cases import CASES as BASE_CASES
from tests.agents.test_kernels_lab import LEVERS, _differ, _recorder, _restore, _same
from tests.agents.test_kernels_lab import _snapshot as _lab_snapshot

CASES = [
    *BASE_CASES,
    ("historical", 6, "squeeze"),  # half the labs' cash taken after the spend is set: overshoots
    ("historical", 7, "levers"),  # the vendors' price levers, customs where a lab stands
]
CALLS = (("ledger", "install_new"), ("books", "record_sales"), ("books", "record_flows"))
LEDGER = ("stock", "_by_prov", "_held", "produced", "in_transit", "seized", "retired")
BOOKS_IN_PLACE = ("sales_units", "flows")
BOOKS_SET = ("asked_per_chip", "bought_by_lab", "revenue_by_bloc", "bought_per_chip")


def _state(model: Any) -> dict[str, Any]:
    books, ledger = model.books, model.ledger
    return {
        "labs": _lab_snapshot(model.labs),
        "rng": model.rng.bit_generator.state,
        "cap_used": model.cap_used.copy(),
        **{f"ledger.{k}": getattr(ledger, k).copy() for k in LEDGER},
        **{f"books.{k}": getattr(books, k).copy() for k in BOOKS_IN_PLACE},
        **{f"books.{k}": getattr(books, k, None) for k in BOOKS_SET},
    }


def _put_back(model: Any, state: dict[str, Any]) -> None:
    _restore(model.labs, state["labs"])
    model.rng.bit_generator.state = state["rng"]
    model.cap_used[...] = state["cap_used"]
    for k in LEDGER:
        getattr(model.ledger, k)[...] = state[f"ledger.{k}"]
    for k in BOOKS_IN_PLACE:
        getattr(model.books, k)[...] = state[f"books.{k}"]
    for k in BOOKS_SET:
        setattr(model.books, k, state[f"books.{k}"])


def _record(model: Any, calls: dict[str, list], run: bool) -> None:
    for owner, name in CALLS:
        target = getattr(model, owner)
        setattr(target, name, _recorder(calls[name], getattr(target, name) if run else None))


def _unrecord(model: Any) -> None:
    for owner, name in CALLS:
        delattr(getattr(model, owner), name)


@pytest.mark.parametrize("case", CASES)
def test_fused_procure_matches_the_numpy_reference_every_month(
    case: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, seed = case[:2]
    seen: dict[str, Any] = {
        "months": 0, "mandate": 0, "held_back": 0, "gray": 0, "rented": 0, "capped": 0,
        "overshot": 0, "differ": [],
    }
    fused = lab.procure
    hold_reference, deliver_reference = lab._hold_to_mandate_reference, lab._deliver_reference
    kernel_start, cash_reference = procure_kernel.start, lab._cash_and_spend_reference

    def hold(units, *args):  # noqa: ANN001, ANN002, ANN202
        out = hold_reference(units, *args)
        seen["held_back"] += out is not units
        return out

    def deliver(model, offers, units):  # noqa: ANN001, ANN202
        cost = np.add.reduce(np.floor(units[:, : units.shape[1] // 2]) * offers.direct_price, 1)
        seen["overshot"] += bool((cost > model.labs.cash + 1e-6).any())
        return deliver_reference(model, offers, units)

    def squeezed(cash_and_spend):  # noqa: ANN001, ANN202
        def spend(*args):  # noqa: ANN002, ANN202
            out = cash_and_spend(*args)
            cash = args[0] if isinstance(args[0], np.ndarray) else args[0].labs.cash
            cash *= 0.5  # the spend was set from the full cash: whole chips overshoot
            return out

        return spend

    if "squeeze" in case:
        monkeypatch.setattr(procure_kernel, "start", squeezed(kernel_start))
        monkeypatch.setattr(lab, "_cash_and_spend_reference", squeezed(cash_reference))

    def procure(model):  # noqa: ANN001, ANN202
        before = _state(model)
        want_calls: dict[str, list] = {name: [] for _, name in CALLS}
        _record(model, want_calls, run=True)
        try:
            lab.procure_reference(model)
        finally:
            _unrecord(model)
        want = _state(model)
        _put_back(model, before)
        assert _same(model.ledger.stock, before["ledger.stock"])
        got_calls: dict[str, list] = {name: [] for _, name in CALLS}
        _record(model, got_calls, run=True)
        try:
            fused(model)
        finally:
            _unrecord(model)
        got = _state(model)
        differ = _differ(want["labs"], got["labs"])
        differ += [k for k in got_calls if got_calls[k]]  # booked in the kernel, not here
        differ += [k for k in want if k not in ("labs", "rng") and not _same(want[k], got[k])]
        if want["rng"] != got["rng"]:
            differ.append("rng")
        assert not model.ledger.totals_error()
        if differ:
            seen["differ"].append((model.date, differ))
        seen["months"] += 1
        seen["mandate"] += float(model.policy.get("buy_domestic_mandate")) > 0
        seen["gray"] += model.view.gray_chip >= 0 and bool(model.labs.gray_order.any())
        seen["rented"] += bool(want_calls["record_flows"][0][4].size)
        seen["capped"] += bool(np.isfinite(model.view.cap_left).any())

    monkeypatch.setattr(lab, "procure", procure)
    monkeypatch.setattr(lab, "_hold_to_mandate_reference", hold)
    monkeypatch.setattr(lab, "_deliver_reference", deliver)
    model = ChipWarModel(scenario, rng=seed, months=60)
    if "levers" in case:
        for change in LEVERS:
            model.apply(change)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == []
    assert seen["months"] == 60
    if scenario != "no_controls":
        assert seen["gray"] > 0  # gray orders paid into escrow
    if scenario in ("historical", "domestic_push"):
        assert seen["mandate"] > 0 and seen["held_back"] > 0  # the mandate held some lab back
    if scenario == "historical":
        assert seen["capped"] > 0  # the diffusion cap bound
        assert seen["rented"] > 0  # and rentals were installed
    if "squeeze" in case:
        assert seen["overshot"] > 0  # whole chips cut back to the cash


@pytest.mark.parametrize("power", [0.3, 0.5, 1.0, 2.0, -1.0, 0.0, 1.7, 3.0])
def test_the_cluster_worth_needs_no_where_after_its_power(power: float) -> None:
    """lab._provenance_worth raises 1.0 for the labs not at the frontier instead of taking
    np.where after the power: the same bits for every exponent, numpy's special ones (square,
    root, reciprocal) included."""
    rng = np.random.default_rng(3)
    held = rng.integers(0, 5000, size=(64, 6)).astype(np.int64)
    frontier = rng.random(64) < 0.5
    for provenance, cap in ((2, 1000.0), (4, 300.0), (1, 0.0)):
        with np.errstate(divide="ignore"):  # a cap of 0 to a negative power
            want = np.where(
                frontier, lab_kernel.cluster_joins(held, provenance, cap) ** power, 1.0
            )
            got = lab_kernel.cluster_joins_frontier(held, provenance, cap, frontier) ** power
        assert _same(got, want)


def test_the_split_logit_is_softmax_rows_on_every_kind_of_row() -> None:
    """procure_kernel.shift, numpy's exp of what it keeps and _shares give softmax_rows' bits
    on rows with no open option (all -inf), an infinite or NaN utility, huge spreads that
    underflow, and on the offers' form (logit_shift of utility and the outside option)."""
    rng = np.random.default_rng(5)
    u = rng.normal(0.0, 30.0, size=(12, 9))
    u[rng.random(u.shape) < 0.6] = -np.inf
    u[0] = -np.inf  # nothing open
    u[1, 3] = np.inf  # an infinite utility: the row's maximum is not finite
    u[2, 4] = np.nan
    u[3] = [-1e308, 1e308, -np.inf, 0.0, -0.0, 5.0, -np.inf, 1.0, 2.0]
    u[4, :] = -np.inf
    u[4, 8] = 0.0  # only the outside option
    with np.errstate(all="ignore"):
        want = softmax_rows(u.copy())
        vals, idx = procure_kernel.shift(u)
        got = procure_kernel._shares(np.exp(vals), idx, *u.shape)
        assert _same(got, want)
        vals2, idx2 = procure_kernel.logit_shift(np.ascontiguousarray(u[:, :-1]), u[:, -1].copy())
    assert _same(vals2, vals) and _same(idx2, idx)
    assert np.isneginf(u).sum() > 0 and idx.size < u.size  # the -inf cells were left out


def test_the_kept_terms_follow_the_levers_and_the_catalogue() -> None:
    """procure's caches (lab._RuleTerms.of, lab._LeverTerms.of) are keyed on identities and
    version numbers: a lever the rule terms read, a lever the lever terms read, a new chip,
    each mid-run, gives new terms equal to what the references derive now; a lever neither
    reads (a lab's risk appetite) moves the stamp but keeps both."""
    model = ChipWarModel("historical", rng=3, months=40)
    try:
        for _ in range(6):
            model.step()
        rules, levers = lab._RuleTerms.of(model), lab._LeverTerms.of(model)
        assert lab._RuleTerms.of(model) is rules and lab._LeverTerms.of(model) is levers

        def check_rules() -> Any:
            got = lab._RuleTerms.of(model)
            want = lab._rule_arrays_reference(model)
            for name, w in want.items():
                assert _same(getattr(got, name), w), name
            return got

        lab_id = model.labs.ids[0]
        stamp = model.policy.stamp()
        model.apply(PolicyChange(lab_id, "risk_appetite", 0.37, lab_id))
        assert model.policy.stamp() != stamp
        model.step()
        assert lab._RuleTerms.of(model) is rules and lab._LeverTerms.of(model) is levers

        model.apply(PolicyChange("china", "foreign_chip_discouragement", 0.45))
        model.step()
        moved = check_rules()
        assert moved is not rules and lab._LeverTerms.of(model) is levers
        assert not _same(moved.buy_allowed, rules.buy_allowed)

        model.apply(PolicyChange("china", "domestic_subsidy", 0.25))
        model.step()
        subsidised = lab._LeverTerms.of(model)
        assert subsidised is not levers and subsidised.subsidy == 0.25
        assert lab._RuleTerms.of(model) is moved

        revision = model.chips.revision
        parent = int(np.flatnonzero(model.chips.used)[0])
        model.chips.add_variant(parent, "test-variant", "Test variant", 1.0, 1.0, 1000.0,
                                model.month)
        assert model.chips.revision == revision + 1
        model.step()
        assert check_rules() is not moved
    finally:
        forget(model)
