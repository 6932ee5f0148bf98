"""The arrays kernels write into instead of returning (agents.broker.RingBuffers, the vendors'
own arrays): each model has its own, a copy, a pickle or a fork makes its own, and they are
made anew when a size changes; a model stepped beside its copy stays the same bit for bit.
And the market view's open routes from their kernel (game/sim/view_kernel.py routes_open)
against _routes_open_reference on real months."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import agents.broker as broker
import game.sim.market_view as mv
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from game.sim.state import fork
from tests.agents.kernel_cases import CASES


def _vendor_arrays(model: ChipWarModel) -> list[np.ndarray]:
    names = ("_told", "_logits", "_coming", "_lost_chips", "_retired")
    arrays = [a for v in model.vendors for n in names if (a := getattr(v, n)) is not None]
    return arrays + [v._dies[1][3] for v in model.vendors if v._dies is not None]  # yields


def _all_buffers(model: ChipWarModel) -> list[np.ndarray]:
    w = model.brokers._buffers
    names = [n for n in broker.RingBuffers.__slots__ if n != "sizes"]
    rings = [] if w is None else [getattr(w, n) for n in names]
    return rings + _vendor_arrays(model)


def _numbers(model: ChipWarModel) -> dict[str, np.ndarray]:
    b, labs = model.brokers, model.labs
    return {
        "alive": b.alive.copy(),
        "ints": b.ints.copy(),
        "floats": b.floats.copy(),
        "cash": labs.cash.copy(),
        "spent": labs.spent_month.copy(),
        "inflight": labs.gray_inflight.copy(),
        "capacity": np.array([v.capacity for v in model.vendors]),
        "rng": np.array([model.rng.random()]),  # a draw: the streams must be in step
    }


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    return [k for k in a if not np.array_equal(a[k], b[k])]


@pytest.mark.parametrize("how", ["deepcopy", "pickle", "fork"])
def test_a_copied_model_has_its_own_buffers_and_the_same_future(how: str) -> None:
    model = ChipWarModel("historical", rng=3, months=48)
    twin = None
    try:
        model.run(30)
        assert model.brokers._buffers is not None and _vendor_arrays(model)
        if how == "deepcopy":
            twin = copy.deepcopy(model)
        elif how == "pickle":
            twin = pickle.loads(pickle.dumps(model))
        else:
            twin = fork(model)
        for _ in range(12):
            model.step()
            twin.step()
            for mine in _all_buffers(model):
                for theirs in _all_buffers(twin):
                    assert not np.shares_memory(mine, theirs)
            assert _same(_numbers(model), _numbers(twin)) == []
    finally:
        forget(model)
        if twin is not None:
            forget(twin)


def test_ring_buffers_are_made_anew_when_a_size_changes() -> None:
    table = broker.BrokerTable(2)
    w = table.buffers(5, 3, 4)
    assert table.buffers(5, 3, 4) is w  # kept while the sizes hold
    assert w.lost.shape == (5, 3) and w.news.shape == (2, 5) and w.risk.shape == (4,)
    for k in range(3):  # the third ring grows the table
        table.add(k, 1e6, 1e6, 0)
    grown = table.buffers(5, 3, 4)
    assert grown is not w and grown.alive.shape == (table.alive.size,)
    assert table.buffers(6, 3, 4).plan.shape == (6, 4)  # a variant added to the catalogue
    restored = pickle.loads(pickle.dumps(table))
    assert restored._buffers is None  # never pickled: the copy makes its own


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_open_routes_match_the_numpy_reference_every_derivation(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {"derived": 0, "some open": 0, "capped": 0}
    differ: list[str] = []
    kernel = mv._routes_open

    def routes_open(model, view):  # noqa: ANN001, ANN202
        got = kernel(model, view)
        want = mv._routes_open_reference(model, view)
        seen["derived"] += 1
        seen["some open"] += got.size > 0
        seen["capped"] += bool(np.isfinite(view.cap_left).any())
        if got.dtype != want.dtype or not np.array_equal(got, want) or got.flags.writeable:
            differ.append(model.date)
        return got

    monkeypatch.setattr(mv, "_routes_open", routes_open)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert differ == []
    assert seen["derived"] > 0
    if scenario == "historical":
        assert seen["some open"] > 0 and seen["capped"] > 0
