"""The labs' compiled kernels give the numpy reference's numbers bit for bit, month after month
of real runs: the offers (agents/offers_kernel.py against agents.lab._offers_reference), the
training month (agents/training_kernel.py against agents.lab.train_reference), the mandate's
hold on what labs obtain and the delivery (agents/delivery_kernel.py against
agents.lab._hold_to_mandate_reference and agents.lab._deliver_reference). Each month
the reference runs first on the model as it stands, with what it would change recorded and
then undone (the labs' arrays, the generator, the diffusion cap, the ledger's and the books'
calls), then the kernel path runs for real; the two must agree to the last bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import agents.lab as lab
from agents.lab import LabTable
from game.config.commands import PolicyChange
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from tests.agents.kernel_cases import CASES as BASE_CASES

CASES = [
    *BASE_CASES,
    ("historical", 6, "squeeze"),  # half the labs' cash taken before delivery: overshoots
    ("historical", 7, "levers"),  # the vendors' price levers, customs where a lab stands
]
LEVERS = [
    PolicyChange("nvidia", "china_price", 0.3, "nvidia"),
    PolicyChange("amd", "distributor_checks", 0.5, "amd"),
    PolicyChange("transit", "transit_customs", 2.0, "uae"),
]


def _same(a: Any, b: Any) -> bool:
    """Bit-identical arrays of the same dtype and shape (floats compared as their bits)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        a, b = a.astype(np.float64), b.astype(np.float64)
        return np.array_equal(a.view(np.int64), b.view(np.int64))
    return np.array_equal(a, b)


def _same_calls(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if len(x) != len(y):
            return False
        for u, v in zip(x, y, strict=True):
            if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
                if not _same(u, v):
                    return False
            elif u != v:
                return False
    return True


def _snapshot(labs: LabTable) -> dict[str, np.ndarray]:
    return {k: getattr(labs, k).copy() for k in LabTable.ARRAYS}


def _restore(labs: LabTable, saved: dict[str, np.ndarray]) -> None:
    for k, v in saved.items():
        getattr(labs, k)[...] = v


def _differ(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    return [k for k in a if not _same(a[k], b[k])]


def _recorder(calls: list, then: Any = None) -> Any:
    def record(*args: Any) -> Any:
        calls.append(tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))
        return then(*args) if then is not None else None

    return record


@pytest.mark.parametrize("case", CASES)
def test_lab_kernels_match_the_numpy_reference_every_month(
    case: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, seed = case[:2]
    squeeze = "squeeze" in case
    seen: dict[str, Any] = {
        "offers": 0,
        "ported": 0,
        "vendor_terms": 0,
        "checks": 0,
        "mandate": 0,
        "held_back": 0,
        "train": 0,
        "records": 0,
        "deliver": 0,
        "gray": 0,
        "rented": 0,
        "capped": 0,
        "overshot": 0,
        "differ": [],
    }
    kernel_offers, kernel_hold = lab._offers, lab._hold_to_mandate
    kernel_train, kernel_deliver, kernel_arrays = lab.train, lab._deliver, lab.deliver_arrays

    def train(model):  # noqa: ANN001, ANN202
        labs = model.labs
        before = _snapshot(labs)
        want_news: list = []
        model.news = _recorder(want_news)
        try:
            want = lab.train_reference(model)
        finally:
            del model.news
        want_state = _snapshot(labs)
        _restore(labs, before)
        got_news: list = []
        model.news = _recorder(got_news, model.news)
        try:
            got = kernel_train(model)
        finally:
            del model.news
        seen["train"] += 1
        seen["records"] += len(got)
        differ = _differ(want_state, _snapshot(labs))
        if got != want or not _same_calls(got_news, want_news) or differ:
            seen["differ"].append(("train", model.date, differ))
        return got

    def offers(model, active):  # noqa: ANN001, ANN202
        want = lab._offers_reference(model, active)
        got = kernel_offers(model, active)
        seen["offers"] += 1
        seen["ported"] += lab.ported_shares(model) is not None
        seen["vendor_terms"] += lab.vendor_price_factors(model) is not None
        seen["checks"] += got.rules.any_checks
        differ = [
            k
            for k, v in vars(want).items()
            if isinstance(v, np.ndarray) and not _same(v, getattr(got, k))
        ]
        if differ:
            seen["differ"].append(("offers", model.date, differ))
        return got

    def hold(units, source_h100e, domestic, bound, floor):  # noqa: ANN001, ANN202
        want = lab._hold_to_mandate_reference(units, source_h100e, domestic, bound, floor)
        got = kernel_hold(units, source_h100e, domestic, bound, floor)
        seen["mandate"] += 1
        seen["held_back"] += not _same(want, units)
        if not _same(got, want):
            seen["differ"].append(("hold_to_mandate", floor))
        return got

    def deliver_arrays(*args):  # noqa: ANN002, ANN202
        out = kernel_arrays(*args)
        seen["overshot"] += bool(out[6])
        return out

    def deliver(model, offers, units):  # noqa: ANN001, ANN202
        labs, ledger, books = model.labs, model.ledger, model.books
        if squeeze:  # the rounding to whole chips then costs more than the cash left
            labs.cash *= 0.5
        before = _snapshot(labs)
        rng_before = model.rng.bit_generator.state
        cap_before = model.cap_used.copy()
        bought_before = getattr(books, "bought_by_lab", None)
        want_calls: dict[str, list] = {"install": [], "sales": [], "flows": []}
        ledger.install_new = _recorder(want_calls["install"])
        books.record_sales = _recorder(want_calls["sales"])
        books.record_flows = _recorder(want_calls["flows"])
        try:
            lab._deliver_reference(model, offers, units.copy())
        finally:
            del ledger.install_new, books.record_sales, books.record_flows
        want = (
            _snapshot(labs),
            model.rng.bit_generator.state,
            model.cap_used.copy(),
            books.bought_by_lab,
        )
        _restore(labs, before)
        model.rng.bit_generator.state = rng_before
        model.cap_used[...] = cap_before
        books.bought_by_lab = bought_before
        got_calls: dict[str, list] = {"install": [], "sales": [], "flows": []}
        ledger.install_new = _recorder(got_calls["install"], ledger.install_new)
        books.record_sales = _recorder(got_calls["sales"], books.record_sales)
        books.record_flows = _recorder(got_calls["flows"], books.record_flows)
        try:
            kernel_deliver(model, offers, units)
        finally:
            del ledger.install_new, books.record_sales, books.record_flows
        seen["deliver"] += 1
        seen["gray"] += model.view.gray_chip >= 0 and bool(labs.gray_order.any())
        seen["rented"] += bool(want_calls["flows"][0][4].size)
        seen["capped"] += bool(np.isfinite(model.view.cap_left).any())
        differ = _differ(want[0], _snapshot(labs))
        differ += [k for k in want_calls if not _same_calls(want_calls[k], got_calls[k])]
        if model.rng.bit_generator.state != want[1]:
            differ.append("rng")
        if not _same(model.cap_used, want[2]):
            differ.append("cap_used")
        if not _same(books.bought_by_lab, want[3]):
            differ.append("bought_by_lab")
        if differ:
            seen["differ"].append(("deliver", model.date, differ))

    monkeypatch.setattr(lab, "_offers", offers)
    monkeypatch.setattr(lab, "_hold_to_mandate", hold)
    monkeypatch.setattr(lab, "train", train)
    monkeypatch.setattr(lab, "_deliver", deliver)
    monkeypatch.setattr(lab, "deliver_arrays", deliver_arrays)
    # procure fuses the allocation with the delivery (test_kernels_procure.py): the staged path
    monkeypatch.setattr(lab, "procure", lab.procure_staged)
    model = ChipWarModel(scenario, rng=seed, months=60)
    if "levers" in case:
        for change in LEVERS:
            model.apply(change)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == []
    assert seen["offers"] == 60 and seen["train"] == 60 and seen["deliver"] == 60
    assert seen["records"] > 0  # new models beat their bloc's frontier (news)
    if scenario != "no_controls":
        assert seen["gray"] > 0  # gray orders paid into escrow
    if scenario in ("historical", "domestic_push"):
        assert seen["held_back"] > 0  # the mandate held some lab's foreign compute back
    if scenario == "historical":
        assert seen["capped"] > 0  # the diffusion cap charged
        assert seen["rented"] > 0  # and rentals installed
    if "levers" in case:
        assert seen["vendor_terms"] == 60 and seen["checks"] == 60
    if "levers" in case:
        assert seen["vendor_terms"] == 60 and seen["checks"] == 60
    if squeeze:
        assert seen["overshot"] > 0  # whole chips cut back to the cash


def test_released_from_is_released_foreign() -> None:
    """finish_runs reads the released models from the frontier row itself (released_from):
    every bloc's best of the others, ties, NaN (no model), infinities and fewer than two
    blocs as capability.released_foreign gives them."""
    from agents.training_kernel import released_from
    from game.core.capability import released_foreign

    rng = np.random.default_rng(3)
    rows = [np.array([]), np.array([61.0]), np.array([np.nan, np.nan]), np.array([5.0, 5.0])]
    for _ in range(400):
        n = int(rng.integers(2, 7))
        row = rng.choice([np.nan, -np.inf, np.inf, 50.0, 55.0, 60.0, 61.5], n)
        row[rng.random(n) < 0.3] = rng.random() * 80
        rows.append(row)
    for row in rows:
        assert _same(released_from(row), released_foreign([row], 0)), row


def test_run_growth_is_numpys_power_and_silent_when_it_overflows() -> None:
    """train's growth takes np.errstate only when the largest exponent can overflow: the
    same powers either way, and an overflow to inf still raises no warning."""
    import warnings

    since = np.array([0.0, 0.5, 3.25, 9.0])
    for growth in (0.5, 1.0, 3.0, 40.0):
        out = np.full(since.size, np.nan)
        got = lab._run_growth(growth, since, float(since.max()), out)
        assert got is out and _same(got, np.power(growth, since))
    far = np.array([1.0, 500.0, 2000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = lab._run_growth(10.0, far, 2000.0, np.empty(far.size))
    with np.errstate(over="ignore"):
        assert _same(got, np.power(10.0, far))
    assert np.isinf(got[2])
