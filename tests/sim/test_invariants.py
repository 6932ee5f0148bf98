"""Accounting that must hold in every month of every world: chips are conserved, nothing goes
negative. Random worlds: every scenario, several seeds, and parameters drawn from their ranges."""

from __future__ import annotations

import numpy as np
import pytest

from game.config.scenario import scenario_names
from game.config.world import default_world_data
from game.sim.invariants import invariant_problems
from game.sim.model import ChipWarModel


def _check_every_month(model: ChipWarModel, months: int) -> None:
    for _ in range(months):
        model.step()
        assert invariant_problems(model) == [], model.date
        led = model.ledger
        # the identity itself, spelled out, so this test does not rest on the model's own check
        assert np.array_equal(
            led.produced, led.installed() + led.in_transit + led.seized + led.retired
        )
        assert (led.stock >= 0).all() and (led.in_transit >= 0).all()
        assert (model.labs.cash >= -1e-6).all() and (model.labs.escrow >= -1e-6).all()
        assert (model.brokers.cash[model.brokers.alive] >= -1e-6).all()


@pytest.mark.parametrize("scenario", scenario_names())
@pytest.mark.parametrize("seed", [3, 11])
def test_conservation_in_every_scenario(scenario: str, seed: int) -> None:
    model = ChipWarModel(scenario, rng=seed)
    _check_every_month(model, model.horizon)
    assert model.ledger.produced.sum() > model.ledger.installed().sum() > 0
    if scenario != "no_controls":
        assert model.ledger.seized.sum() > 0, "a world with controls and smugglers sees seizures"


@pytest.mark.parametrize("draw", range(6))
def test_conservation_with_random_parameters(draw: int) -> None:
    """Parameters drawn uniformly from their ranges, plus random levers: still conserved."""
    rng = np.random.default_rng(1000 + draw)
    params = default_world_data().parameters
    overrides: dict[str, object] = {}
    for name, spec in params.items():
        lo, hi = spec.range
        value = rng.uniform(lo, hi)
        overrides[name] = round(value) if isinstance(spec.value, int) else float(value)
    overrides["enforcement"] = float(rng.uniform(0, 5))
    overrides["licence_approval"] = float(rng.uniform(0, 1))
    overrides["remote_access_controls"] = bool(rng.integers(2))
    scenario = str(rng.choice(scenario_names()))
    model = ChipWarModel(
        scenario,
        rng=int(rng.integers(1 << 30)),
        overrides=overrides,
        synthetic_labs=int(rng.integers(0, 40)),
    )
    _check_every_month(model, 40)


def test_invariant_check_catches_a_leak() -> None:
    """The check itself must be able to fail."""
    model = ChipWarModel("historical", rng=1)
    model.run(3)
    assert invariant_problems(model) == []
    model.ledger.stock[0, 0, 0, 0] += 1
    assert any("not conserved" in p for p in invariant_problems(model))
