"""A model that keeps its results tables only where the month reads them (projections,
`record_tables = False`) moves exactly as one that keeps them all: the same frontier to the
last bit, the same bots' moves, whatever the bots' strategies; and it does skip the rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from game.config.scenario import load_scenario
from game.config.world import default_world_data
from game.sim.model import ChipWarModel
from game.sim.runner import forget

MONTHS = 40


def _run(bots: str, keep: bool, scenario: str = "historical", seed: int = 7) -> ChipWarModel:
    sc = load_scenario(scenario)
    every = {g.id: bots for g in default_world_data().governments}
    model = ChipWarModel(dataclasses.replace(sc, bots=every), rng=seed, months=MONTHS)
    model.record_tables = keep
    model.run()
    forget(model)
    return model


@pytest.mark.parametrize("bots", ["none", "reactive", "anticipating"])
@pytest.mark.parametrize("scenario", ["historical", "leaky_enforcement"])
def test_a_lean_run_moves_exactly_as_a_full_one(bots: str, scenario: str) -> None:
    full, lean = _run(bots, True, scenario), _run(bots, False, scenario)
    a, b = np.array(full.frontier_hist), np.array(lean.frontier_hist)
    assert np.array_equal(a.view(np.int64), b.view(np.int64))
    assert [(m, c, s) for m, c, s in full.command_log] == list(lean.command_log)
    assert lean.events == full.events
    if bots != "none":  # the bots did move, so their reading of the rows was exercised
        assert any(source == "bot" for _, _, source in full.command_log)


def test_a_lean_run_skips_the_rows_nobody_reads() -> None:
    rows = {b: len(_run(b, False).results()) for b in ("none", "reactive", "anticipating")}
    model = _run("none", True)
    full, n_blocs = len(model.results()), len(model.bloc_ids)
    assert full == n_blocs * MONTHS
    assert rows["none"] == 0
    assert 0 < rows["reactive"] < full  # the months before a review
    assert rows["anticipating"] == full
