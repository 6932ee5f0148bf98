"""Restoring over a lean skeleton (ChipWarModel's `for_restore`: no initial stocks, first market
view, levers before the start or step-0 record, all of which the load replaces) gives the
world a whole skeleton gives, bit for bit, and each restored world owns everything it writes:
futures restored from one snapshot with their own parameters, as a projection fan restores
them, do not touch one another or the snapshot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from game.config.commands import PolicyChange
from game.config.experiment import sampled_futures
from game.config.scenario import load_scenario
from game.sim.model import ChipWarModel
from game.sim.runner import forget
from game.sim.state import _load_into, _skeleton, restore, snapshot

Snapshot = tuple[dict[str, Any], dict[str, np.ndarray]]


def _whole_restore(state: Snapshot, overrides: dict[str, Any] | None = None) -> ChipWarModel:
    """The restore as it was before the lean skeleton: a whole model, the snapshot over it."""
    plain, arrays = state
    return _load_into(_skeleton(plain, overrides), plain, arrays)


def _assert_same_snapshot(a: ChipWarModel, b: ChipWarModel) -> None:
    pa, aa = snapshot(a)
    pb, ab = snapshot(b)
    assert pa == pb
    assert aa.keys() == ab.keys()
    for k in aa:
        assert aa[k].dtype == ab[k].dtype, k
        np.testing.assert_array_equal(aa[k], ab[k], err_msg=k)


def _run_out(model: ChipWarModel, record_tables: bool) -> dict[str, Any]:
    """Everything a run to the horizon shows: the frontier each month, the results, the news,
    the ledger and where both random streams stand."""
    model.record_tables = record_tables
    try:
        while model.turn < model.horizon:
            model.step()
        out: dict[str, Any] = {
            "frontier": np.array(model.frontier_hist),
            "events": [dict(e) for e in model.events],
            "stock": model.ledger.stock.copy(),
            "produced": model.ledger.produced.copy(),
            "cash": model.labs.cash.copy(),
            "capability": model.labs.capability.copy(),
            "brokers": model.brokers.ints.copy(),
            "rng": model.rng.bit_generator.state,
            "random": model.random.getstate(),
        }
        if record_tables:
            out["results"] = model.results()
        return out
    finally:
        forget(model)


def _assert_same_run(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if k == "results":
            pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)
        elif isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype, k
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            assert a[k] == b[k], k


def _drawn(n: int, seed: int) -> list[dict[str, Any]]:
    """The parameters of n futures as a projection draws them (game/config/experiment.py)."""
    return [dict(d) for _, d in sampled_futures(n, seed)]


def _state(months: int, **kw: Any) -> Snapshot:
    sc = load_scenario(kw.pop("scenario", "historical"))
    horizon = kw.pop("horizon", None)
    model = ChipWarModel(sc, rng=kw.pop("rng", 5), months=horizon, **kw)
    try:
        model.run(months)
        if months:
            model.apply(PolicyChange("us", "enforcement", 1.4))  # a command between months
        return snapshot(model)
    finally:
        forget(model)


CASES = {
    "historical at month 30": dict(months=30),
    "never stepped": dict(months=0, horizon=14),
    "synthetic labs and brokers": dict(months=13, synthetic_labs=5, synthetic_brokers=7, rng=9),
    "total embargo": dict(months=20, scenario="total_embargo", rng=2),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_lean_restore_is_a_whole_restore(case: str) -> None:
    state = _state(**dict(CASES[case]))
    for overrides in [None, *_drawn(2, seed=4)]:
        lean = restore(*state, dict(overrides) if overrides else None)
        whole = _whole_restore(state, dict(overrides) if overrides else None)
        _assert_same_snapshot(lean, whole)
        np.testing.assert_array_equal(lean.view.flops_per_chip, whole.view.flops_per_chip)
        np.testing.assert_array_equal(lean.view.lab_pool_flops, whole.view.lab_pool_flops)
        for record_tables in (True, False):
            if not record_tables:
                lean = restore(*state, dict(overrides) if overrides else None)
                whole = _whole_restore(state, dict(overrides) if overrides else None)
            _assert_same_run(_run_out(lean, record_tables), _run_out(whole, record_tables))


def test_a_lean_skeleton_leaves_out_only_what_the_load_replaces() -> None:
    """The lean skeleton has no stocks, no first view and no record; a whole one has them (so
    the test above compares two different builds, not one build twice)."""
    plain, _ = _state(months=3, horizon=10)
    lean = _skeleton(plain, for_restore=True)
    whole = _skeleton(plain)
    try:
        assert lean.ledger.stock.sum() == 0 < whole.ledger.stock.sum()
        assert lean._view is None and whole._view is not None
        assert lean.command_log == [] and lean.frontier_hist == []
        assert whole.datacollector.model_vars["gray_price_usd"]
        assert not lean.datacollector.model_vars["gray_price_usd"]
        assert len(lean.agents) == len(whole.agents)  # agents numbered alike on either path
    finally:
        forget(lean, whole)


def _writeable_arrays(root: object) -> list[np.ndarray]:
    """Every writeable numpy array reachable from `root` through attributes, slots, dicts,
    lists and tuples (each object once)."""
    seen: set[int] = set()
    out: list[np.ndarray] = []
    todo: list[object] = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type(None)):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            if obj.flags.writeable and obj.size:
                out.append(obj)
            continue
        if isinstance(obj, dict):
            todo.extend(obj.values())
            continue
        if isinstance(obj, list | tuple | set | frozenset):
            todo.extend(obj)
            continue
        if isinstance(obj, type) or callable(obj) and not hasattr(obj, "__dict__"):
            continue
        todo.extend(getattr(obj, "__dict__", {}).values())
        for slot in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, slot):
                todo.append(getattr(obj, slot))
    return out


def _shared(a: object, b: object) -> int:
    """How many writeable arrays of `a` share memory with a writeable array of `b`."""
    mine = _writeable_arrays(a)
    theirs = _writeable_arrays(b)
    return sum(any(np.shares_memory(m, t) for t in theirs) for m in mine)


def test_futures_of_one_snapshot_own_their_arrays() -> None:
    state = _state(months=30)
    first, second = (restore(*state, d) for d in _drawn(2, seed=8))
    try:
        first.step()
        second.step()
        assert _shared(first, second) == 0
        assert _shared(first, state[1]) == 0
    finally:
        forget(first, second)


def test_a_future_is_the_same_after_another_was_stepped() -> None:
    """A projection fan restores its futures one after another from one snapshot, each with
    its own parameters: a future is the same whatever futures ran before it, and the same as
    a whole restore of it alone."""
    state = _state(months=30)
    plain_before = repr(state[0])
    arrays_before = {k: v.copy() for k, v in state[1].items()}
    a, b = _drawn(2, seed=6)
    first_b = _run_out(restore(*state, dict(b)), record_tables=False)
    _run_out(restore(*state, dict(a)), record_tables=False)
    after_a = _run_out(restore(*state, dict(b)), record_tables=False)
    alone = _run_out(_whole_restore(state, dict(b)), record_tables=False)
    _assert_same_run(first_b, after_a)
    _assert_same_run(first_b, alone)
    assert repr(state[0]) == plain_before
    for k, v in arrays_before.items():
        np.testing.assert_array_equal(state[1][k], v, err_msg=k)
