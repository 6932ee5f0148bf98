"""The compiled kernels of the month's record and the vendors give the numpy reference's
numbers bit for bit, month after month of real runs: game/sim/record_kernel.py against
results.bloc_columns_reference (the values and their Python types), and agents/vendor_kernel.py
against the vendors' numpy references."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest

import game.sim.model as sim_model
from game.sim import results
from game.sim.model import ChipWarModel
from game.sim.runner import forget

CASES = [
    ("historical", 1),
    ("domestic_push", 4),
    ("total_embargo", 2),
    ("leaky_enforcement", 3),
    ("no_controls", 5),
]


def _bits(x: Any) -> Any:
    return struct.pack("<d", x) if isinstance(x, float) else x


def _same_columns(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> bool:
    """The same columns, each value of the same Python type and the same bits."""
    if list(a) != list(b):
        return False
    for name in a:
        x, y = a[name], b[name]
        if len(x) != len(y):
            return False
        for u, v in zip(x, y, strict=True):
            if type(u) is not type(v) or _bits(u) != _bits(v):
                return False
    return True


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize(("scenario", "seed"), CASES)
def test_record_kernel_matches_the_numpy_reference_every_month(
    scenario: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {"blocs": 0, "nan_run": 0, "gain": 0, "differ": []}
    kernel_columns = results.bloc_columns

    def bloc_columns(model):  # noqa: ANN001, ANN202
        want = results.bloc_columns_reference(model)
        got = kernel_columns(model)
        seen["blocs"] += 1
        seen["nan_run"] += any(r != r for r in got["largest_run_flop"])
        seen["gain"] += any(g != 1.0 for g in got["technique_multiplier"])
        if not _same_columns(got, want):
            seen["differ"].append(("bloc_columns", model.date))
        return got

    monkeypatch.setattr(sim_model, "bloc_columns", bloc_columns)
    model = ChipWarModel(scenario, rng=seed, months=60)
    try:
        model.run()
    finally:
        forget(model)
    assert seen["differ"] == []
    assert seen["blocs"] == 60
    assert seen["gain"] > 0  # a frontier lab with techniques found


def test_best_runs_kernel_keeps_nan_and_no_run() -> None:
    """The branches real months do not reach: a lab's NaN run (kept, as np.maximum keeps
    it), a bloc with no run (NaN), a bloc whose frontier no lab matches (multiplier 1)."""
    from types import SimpleNamespace

    from game.sim.record_kernel import bloc_arrays

    nan = float("nan")
    labs = SimpleNamespace(
        bloc=np.array([0, 0, 1, 2, 2, 3], np.int64),
        best_run_flop=np.array([1e24, nan, 0.0, 3e23, 5e23, 2e22]),
        frontier=np.array([True, True, True, False, True, True]),
        capability=np.array([50.0, 60.0, 40.0, 30.0, 31.0, 20.0]),
        technique_gain=np.array([2.0, 3.0, 1.5, 4.0, 5.0, 6.0]),
    )
    frontier = [60.0, 40.0, 30.0, 21.0]
    want = results._best_runs(SimpleNamespace(labs=labs), frontier)
    n = labs.bloc.size
    zeros, counts = np.zeros(n), np.zeros(n, np.int64)
    *_, runs, gains = bloc_arrays(
        np.zeros((n, 5)), labs.bloc, 4, np.zeros((n, 4)), counts, counts, counts, zeros,
        counts, 0, zeros, 1e15, labs.best_run_flop, labs.frontier, labs.capability,
        labs.technique_gain, np.array(frontier),
    )  # fmt: skip
    assert _same(runs, np.array(want[0])) and _same(gains, np.array(want[1]))
    assert runs[0] != runs[0] and runs[1] != runs[1] and gains[2] == 1.0
