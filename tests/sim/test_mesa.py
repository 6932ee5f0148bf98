"""Mesa conformance: the model runs with defaults, takes rng=, never seed=, works with Mesa's
batch runner, and uses Mesa's registries for its agents."""

from __future__ import annotations

import inspect

import mesa

from agents import AILab, Broker, ChipVendor, Government
from game.sim.model import ChipWarModel


def test_runs_with_defaults() -> None:
    model = ChipWarModel()
    model.step()
    model.step()
    assert model.steps == 2 == model.turn
    assert len(model.results()) == 2 * len(model.bloc_ids)


def test_takes_rng_never_seed() -> None:
    params = inspect.signature(ChipWarModel.__init__).parameters
    assert "rng" in params and "seed" not in params


def test_batch_run_works_for_a_few_steps() -> None:
    rows = mesa.batch_run(
        ChipWarModel,
        parameters={"scenario": ["historical", "total_embargo"], "rng": [1]},
        iterations=1,
        max_steps=3,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    by_run = {}
    for row in rows:
        by_run.setdefault(row["scenario"], []).append(row)
    assert set(by_run) == {"historical", "total_embargo"}
    for scenario_rows in by_run.values():
        assert [r["Step"] for r in scenario_rows] == [0, 1, 2, 3]
        assert "gray_price_usd" in scenario_rows[-1]


def test_agents_live_in_mesa_registries() -> None:
    model = ChipWarModel("historical", rng=2, months=6)
    model.run()
    kinds = model.agents_by_type
    assert len(kinds[ChipVendor]) == 4
    assert len(kinds[Government]) == len(model.world.governments) == 3  # US, China, transit hubs
    assert len(kinds[AILab]) == len(model.labs.ids) >= 10
    brokers = model.agents.select(agent_type=Broker)
    assert len(brokers) == int(model.brokers.alive.sum()) > 0
    assert {b.slot for b in brokers} == set(model.broker_agents)
    china = model.agents.select(lambda a: isinstance(a, AILab) and a.bloc == "china")
    assert {a.lab_id for a in china} >= {"deepseek", "alibaba", "bytedance"}
