"""The brokers' fused month (agents/broker.py over agents/broker_kernel.py: resolve_shipments,
choose_routes, ship and close_month, each a few kernel calls around its draws) gives the numpy
references' effects bit for bit on real months. Each phase is run both ways on copies of the
model, from the same generator state, and everything either writes is compared: the rings and
their agents, the labs, the month's books, the ledger, the fees and caps, smuggled_via, the
gray market, the news, the generator's state after, and the cash each phase says it paid back
to labs (the references' too: the cash after less the cash before)."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import numpy as np
import pytest

import agents.broker as broker
import agents.broker_kernel as bk
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
    return type(a) is type(b) and a == b


def _state(model: ChipWarModel) -> dict[str, object]:
    """What the brokers' phases may write."""
    out: dict[str, object] = {}
    for k in model.brokers.ARRAYS:
        out[f"brokers.{k}"] = getattr(model.brokers, k).copy()
    labs = model.labs
    for k in ("cash", "escrow", "gray_order", "gray_inflight", "gray_price_paid", "spent_month"):
        out[f"labs.{k}"] = getattr(labs, k).copy()
    for k, v in vars(model.books).items():
        if isinstance(v, np.ndarray):
            out[f"books.{k}"] = v.copy()
        elif isinstance(v, (int, float, list)):
            out[f"books.{k}"] = copy.deepcopy(v)
    for k, v in vars(model.ledger).items():
        if isinstance(v, np.ndarray):
            out[f"ledger.{k}"] = v.copy()
    for k in ("fees_via", "cap_used", "smuggled_via"):
        out[k] = getattr(model, k).copy()
    for k, v in vars(model.gray).items():
        out[f"gray.{k}"] = v
    out["broker_serial"] = model.broker_serial
    out["agents"] = sorted((s, a.unique_id) for s, a in model.broker_agents.items())
    out["registered"] = sorted(a.unique_id for a in model.agents if isinstance(a, broker.Broker))
    out["rng"] = model.rng.bit_generator.state
    out["news"] = copy.deepcopy(model.events)
    return out


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_fused_broker_phases_match_the_numpy_references_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"resolve": 0, "choose": 0, "ship": 0, "close": 0}
    seen = {
        "seized_drawn": 0,  # a seizure shared among labs by a draw
        "caught": 0,
        "supply_drawn": 0,  # more capacity than orders: the rings' shares drawn
        "orders_drawn": 0,  # fewer chips than orders: the labs' shares drawn
        "capped": 0,
        "rethink": 0,  # some rings chose a route again
        "exits": 0,
        "smuggled_via": 0,
        "resolved_at_once": 0,  # no seizure to share by a draw: resolve_month went to the end
    }
    differ: list[tuple[str, str, str]] = []
    real_share = broker._share_drawn

    def counted_share(requests, asked, total, rng):  # noqa: ANN001, ANN202
        labs = broker_model[0].labs
        if phase[0] == "resolve":  # a chip's chips in flight by lab, a contiguous copy
            assert requests.flags.c_contiguous and requests.size == len(labs)
            seen["seized_drawn"] += 1
        elif asked == int(np.add.reduce(labs.gray_order, axis=None)):
            seen["orders_drawn"] += 1
        else:
            seen["supply_drawn"] += 1
        return real_share(requests, asked, total, rng)

    broker_model: list[ChipWarModel] = []
    phase = [""]  # the phase running now

    def both(
        name: str,
        fused: Callable[[ChipWarModel], object],
        reference: Callable[[ChipWarModel], object],
        pays_labs: bool,
    ) -> Callable[[ChipWarModel], object]:
        def step(model: ChipWarModel) -> object:
            if not broker_model:
                broker_model.append(model)
            twin = copy.deepcopy(model)
            want_back = reference(twin)
            want = _state(twin)
            before = _state(model)
            phase[0] = name
            got_back = fused(model)
            phase[0] = ""
            got = _state(model)
            calls[name] += 1
            if pays_labs and not _same(got_back, want_back):
                differ.append((name, model.date, "paid back"))
            for k in want:
                if not _same(got[k], want[k]):
                    differ.append((name, model.date, k))
            seen["caught"] += name == "resolve" and len(got["agents"]) < len(before["agents"])
            seen["exits"] += name == "close" and len(got["agents"]) < len(before["agents"])
            seen["capped"] += name == "ship" and bool(np.isfinite(model.view.cap_left).any())
            seen["rethink"] += name == "choose" and not _same(
                got["brokers.route"], before["brokers.route"]
            )
            seen["smuggled_via"] += name == "close" and not _same(
                got["smuggled_via"], before["smuggled_via"]
            )
            return got_back

        return step

    monkeypatch.setattr(broker, "_share_drawn", counted_share)
    real_month = broker.resolve_month

    def counted_month(*args):  # noqa: ANN002, ANN202
        out = real_month(*args)
        seen["resolved_at_once"] += out[2]
        return out

    monkeypatch.setattr(broker, "resolve_month", counted_month)
    for name, fused, reference, pays_labs in (
        ("resolve", broker.resolve_shipments, broker.resolve_shipments_reference, True),
        ("choose", broker.choose_routes, broker.choose_routes_reference, False),
        ("ship", broker.ship, broker.ship_reference, True),
        ("close", broker.close_month, broker.close_month_reference, False),
    ):
        attr = {"resolve": "resolve_shipments", "choose": "choose_routes", "close": "close_month"}
        monkeypatch.setattr(broker, attr.get(name, name), both(name, fused, reference, pays_labs))
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert differ == []
    assert set(calls.values()) == {60}
    if scenario in ("historical", "leaky_enforcement"):
        for k in ("seized_drawn", "caught", "supply_drawn", "orders_drawn", "rethink",
                  "resolved_at_once"):
            assert seen[k] > 0, k
        assert seen["smuggled_via"] > 0
    if scenario == "historical":
        assert seen["capped"] > 0  # the diffusion cap on the hubs
    if scenario == "no_controls":  # no gray chip: the fallback's refunds only
        assert sum(seen.values()) == 0


def test_fused_broker_phases_see_idle_rings_leave() -> None:
    """close_month against exit_idle where rings do leave: a run where every ring is idle."""
    model = ChipWarModel("historical", rng=1, months=30)
    try:
        model.run(24)
        b = model.brokers
        assert b.alive.any()
        b.idle[b.alive] = int(model.p.broker_idle_exit_months)
        twin = copy.deepcopy(model)
        broker.close_month_reference(twin)
        want = _state(twin)
        broker.close_month(model)
        got = _state(model)
        assert not model.brokers.alive.any() and not model.broker_agents
        assert [k for k in want if not _same(got[k], want[k])] == []
    finally:
        forget(model)


def test_a_ring_added_in_the_kernel_is_the_reference_row() -> None:
    """BrokerTable.add (agents.broker_kernel.add_row) against add_reference: rows freed here
    and there, the table full and grown, every array to the bit."""
    fast, slow = broker.BrokerTable(4), broker.BrokerTable(4)
    rng = np.random.default_rng(7)
    grown = 0
    for k in range(40):
        if k % 3 == 2 and fast.alive.any():
            slot = int(rng.choice(fast.alive.nonzero()[0]))
            fast.free(slot)
            slow.free(slot)
        capacity = float(rng.lognormal(17.0, 1.0))
        size = fast.alive.size
        got = fast.add(k + 1, capacity, capacity * 3.0, 24_000 + k)
        want = slow.add_reference(k + 1, capacity, capacity * 3.0, 24_000 + k)
        grown += fast.alive.size > size
        assert got == want
        for name in broker.BrokerTable.ARRAYS:
            assert _same(getattr(fast, name), getattr(slow, name)), name
    assert grown > 0


def _columns_are_rows(table: broker.BrokerTable) -> bool:
    """Each named column a view of its row in the arrays the kernels take."""
    rows = [(table.ints, k, name) for k, name in enumerate(bk.INT_COLUMNS)]
    rows += [(table.floats, k, name) for k, name in enumerate(bk.FLOAT_COLUMNS)]
    return all(
        getattr(table, name).base is whole and np.shares_memory(getattr(table, name), whole[k])
        for whole, k, name in rows
    )


def test_a_copied_grown_or_loaded_table_writes_through_its_columns() -> None:
    """The kernels write the three arrays, the rest of the code the named columns: a deep
    copy, a pickle, a grown table and a loaded state must keep them one and the same."""
    table = broker.BrokerTable(2)
    for k in range(5):  # past two rows: grown
        table.add(k + 1, 1e6 * (k + 1), 3e6, 24_000 + k)
    assert table.alive.size > 2 and _columns_are_rows(table)
    loaded = broker.BrokerTable()
    loaded.load_state(*table.state())
    for twin in (copy.deepcopy(table), pickle.loads(pickle.dumps(table)), loaded):
        assert _columns_are_rows(twin)
        for name in broker.BrokerTable.ARRAYS:
            assert _same(getattr(twin, name), getattr(table, name)), name
        twin.cash[1] = -5.0
        twin.route[3] = 7
        assert twin.floats[bk.CASH, 1] == -5.0 and twin.ints[bk.ROUTE, 3] == 7
        assert table.cash[1] != -5.0 and table.route[3] != 7  # a copy, not the same arrays
