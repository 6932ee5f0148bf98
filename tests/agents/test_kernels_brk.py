"""The brokers' compiled month (agents/broker_kernel.py) gives the numpy reference's effects bit
for bit on real months: each month's shipping and resolving is run both ways on copies
of the model, from the same generator state, and everything either writes is compared (the
rings, the labs, the books, the ledger, the fees and caps, the news and the generator's state
after). The market view's gray chip (game/sim/view_kernel.py) and purchase values likewise."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest

import agents.broker as broker
import game.sim.market_view as mv
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from tests.agents.kernel_cases import CASES


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind == "f":
            return np.array_equal(a.view(np.int64), b.view(np.int64))
        return np.array_equal(a, b)
    if isinstance(a, float) and isinstance(b, float):
        return np.array_equal(np.float64(a).view(np.int64), np.float64(b).view(np.int64))
    return a == b


def _state(model: ChipWarModel) -> dict[str, object]:
    """What ship and resolve_shipments may write."""
    out: dict[str, object] = {}
    for holder, names in (
        (model.brokers, model.brokers.ARRAYS),
        (model.labs, ("cash", "escrow", "gray_order", "gray_inflight", "gray_price_paid")),
    ):
        for k in names:
            out[f"{type(holder).__name__}.{k}"] = getattr(holder, k).copy()
    for k, v in vars(model.books).items():
        if isinstance(v, np.ndarray):
            out[f"books.{k}"] = v.copy()
        elif isinstance(v, (int, float, list)):
            out[f"books.{k}"] = copy.deepcopy(v)
    for k, v in vars(model.ledger).items():
        if isinstance(v, np.ndarray):
            out[f"ledger.{k}"] = v.copy()
    out["fees_via"] = model.fees_via.copy()
    out["cap_used"] = model.cap_used.copy()
    out["gray"] = tuple(vars(model.gray).items())
    out["agents"] = sorted(model.broker_agents)
    out["rng"] = model.rng.bit_generator.state
    out["news"] = copy.deepcopy(model.events)
    return out


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_broker_kernels_match_the_numpy_reference_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {"ship": 0, "resolve": 0, "caught": 0, "capped": 0}
    differ: list[tuple[str, str, str]] = []

    def both(name: str, kernel, reference):  # noqa: ANN001, ANN202
        def step(model: ChipWarModel) -> np.ndarray:
            twin = copy.deepcopy(model)
            want_back = reference(twin)
            want = _state(twin)
            seen["caught"] += name == "resolve" and bool(
                len(twin.broker_agents) < len(model.broker_agents)
            )
            seen["capped"] += name == "ship" and bool(np.isfinite(model.view.cap_left).any())
            got_back = kernel(model)
            got = _state(model)
            seen[name] += 1
            if not _same(got_back, want_back):
                differ.append((name, model.date, "paid back"))
            for k in want:
                if not _same(got[k], want[k]):
                    differ.append((name, model.date, k))
            return got_back

        return step

    monkeypatch.setattr(broker, "ship", both("ship", broker.ship, broker.ship_reference))
    monkeypatch.setattr(
        broker,
        "resolve_shipments",
        both("resolve", broker.resolve_shipments, broker.resolve_shipments_reference),
    )
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert differ == []
    assert seen["ship"] == seen["resolve"] == 60
    if scenario in ("historical", "leaky_enforcement"):
        assert seen["caught"] > 0  # rings caught: seizures shared, news, removals
    if scenario == "historical":
        assert seen["capped"] > 0  # the diffusion cap on the hubs


def _value_reference(model: ChipWarModel, months: int) -> tuple[np.ndarray, np.ndarray]:
    """market_view._value as it was written before (np.vstack and np.where)."""
    chips, p = model.chips, model.p
    eco = mv.ecosystem_factor(1.0 - chips.ecosystem_base, chips.ecosystem, p, months)
    link = mv.link_factor(chips.interconnect, p)
    flops_per_chip = chips.tflops * 1e12 * eco * link
    compute = chips.h100e * eco * link
    bandwidth = chips.bandwidth / mv.H100_BANDWIDTH_REFERENCE * eco
    training = compute ** (1.0 + p.chip_scale_exponent)
    w_f, w_o = p.inference_weight_frontier, p.inference_weight_other
    purchase_value = np.where(
        chips.used[None, :],
        np.vstack(
            [
                training ** (1 - w_f) * bandwidth**w_f,
                compute ** (1 - w_o) * bandwidth**w_o,
            ]
        ),
        0.0,
    )
    return flops_per_chip, purchase_value


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_view_matches_the_numpy_reference_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {"gray_chip": 0, "dealt": 0, "value": 0}
    differ: list[tuple[str, str]] = []
    kernel_gray_chip, kernel_value = mv.gray_chip, mv._value

    def gray_chip(wanted, value, price, load):  # noqa: ANN001, ANN202
        got = kernel_gray_chip(wanted, value, price, load)
        view = SimpleNamespace(purchase_value=value[None, :], price=price)
        want = mv._gray_chip_reference(view, wanted, load)  # type: ignore[arg-type]
        seen["gray_chip"] += 1
        seen["dealt"] += got >= 0
        if got != want or type(got) is not type(want):
            differ.append(("gray_chip", str(want)))
        return got

    def value(model, view, months):  # noqa: ANN001, ANN202
        got = kernel_value(model, view, months)
        want = _value_reference(model, months)
        seen["value"] += 1
        if not (_same(got[0], want[0]) and _same(got[1], want[1])):
            differ.append(("value", model.date))
        return got

    monkeypatch.setattr(mv, "gray_chip", gray_chip)
    monkeypatch.setattr(mv, "_value", value)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert differ == []
    assert seen["gray_chip"] >= 60 and seen["value"] >= 60
    if scenario != "no_controls":
        assert seen["dealt"] > 0  # a gray chip chosen
