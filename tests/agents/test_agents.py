"""The agents' decisions, each on its own: bots react, brokers come and go, labs keep to their
risk appetite and to the rules."""

from __future__ import annotations

import numpy as np
import pytest

from agents import Broker
from game.config.commands import PolicyChange
from game.config.scenario import parse_scenario_text
from game.core.ledger import COMPLIANT, RENTED, SMUGGLED
from game.sim.model import ChipWarModel

REACTIVE = """
name: reactive
description: historical with both governments played by the reactive bot
extends: historical
bots: {us: reactive, china: reactive}
"""


def _bot_moves(model: ChipWarModel, actor: str) -> list[PolicyChange]:
    return [c for _, c, src in model.command_log if src == "bot" and c.actor == actor]


def test_reactive_china_retaliates_after_us_tightening_and_subsidises_when_behind() -> None:
    model = ChipWarModel(parse_scenario_text(REACTIVE), rng=1)
    model.run()
    moves = _bot_moves(model, "china")
    minerals = [c for c in moves if c.lever == "mineral_controls"]
    assert minerals, "no retaliation after the US rules"
    first = next(
        m for m, c, src in model.command_log if src == "bot" and c.lever == "mineral_controls"
    )
    tightened = [m for m, c, _ in model.command_log if c.actor == "us" and c.lever == "export_rule"]
    assert any(0 <= first - m < 3 for m in tightened)
    assert all(0 <= float(c.value) <= 1 for c in moves)


def test_reactive_us_presses_enforcement_when_smuggling_grows() -> None:
    text = REACTIVE.replace("extends: historical", "extends: total_embargo")
    model = ChipWarModel(parse_scenario_text(text), rng=1)
    model.run()
    enforcement = [float(c.value) for c in _bot_moves(model, "us") if c.lever == "enforcement"]
    assert enforcement and enforcement == sorted(enforcement)
    assert model.policy.get("enforcement") > 1.0
    assert any(c.lever == "transit_pressure" for c in _bot_moves(model, "us"))


def test_without_bots_only_the_schedule_moves_levers() -> None:
    model = ChipWarModel("historical", rng=1, months=36)
    model.run()
    assert {src for _, _, src in model.command_log} == {"schedule"}


def test_margins_draw_brokers_in_and_caught_brokers_leave() -> None:
    model = ChipWarModel("total_embargo", rng=2, months=60)
    model.run()
    alive = model.agents.select(agent_type=Broker)
    ever = model.broker_serial
    caught = [e for e in model.events if e["kind"] == "broker_caught"]
    assert ever > int(model.p.broker_initial) + 5, "no entry"
    assert caught, "no broker caught in five years"
    assert len(alive) < ever  # the caught (and the idle) have left
    assert len(alive) == int(model.brokers.alive.sum())
    serials = {b.serial for b in alive}
    for e in caught[:4]:
        if e["text"].startswith("Broker ring #"):
            serial = int(e["text"].split("#")[1].split()[0])
            assert serial not in serials


def test_who_buys_what() -> None:
    model = ChipWarModel("historical", rng=3, months=40)
    model.run()
    held = model.ledger.by_provenance()  # [lab, chip, provenance]
    labs = model.labs
    us = labs.bloc == model.bloc_ids.index("us")
    # US labs need no gray market, rented capacity or compliant variants
    assert held[us][:, :, [SMUGGLED, RENTED, COMPLIANT]].sum() == 0
    # a lab with no risk appetite never buys smuggled chips nor rents abroad
    careful = labs.risk == 0
    assert held[careful][:, :, [SMUGGLED, RENTED]].sum() == 0
    china = labs.bloc == model.china_bloc
    assert held[china][:, :, SMUGGLED].sum() > 0
    assert held[china][:, :, COMPLIANT].sum() > 0


def test_an_entity_listed_lab_buys_no_us_chips_legally() -> None:
    model = ChipWarModel("historical", rng=3, months=24)
    model.run(12)
    i = model.lab_index["deepseek"]
    model.apply(PolicyChange("us", "entity_list", True, "deepseek"))
    before = model.ledger.by_provenance()[i].copy()
    model.run(12)
    gained = model.ledger.by_provenance()[i] - before
    us_chip = model.view.subject
    legal_like = gained[:, [0, COMPLIANT, RENTED]]  # legal, compliant, rented
    assert legal_like[us_chip].max() <= 0
    assert np.isfinite(model.labs.capability[i])  # it keeps training on what it has


def test_the_buy_domestic_mandate_counts_compute_not_dollars() -> None:
    """One lab, two sources: a domestic chip (0.5 H100e) and a foreign one (1 H100e, $20k).
    After rationing it got 10 domestic chips (5 H100e): at a floor of 0.5 it may take 5 H100e
    of foreign chips whatever the domestic chip costs, where a floor on spending cut that
    allowance in step with the domestic price (a subsidy tightened it). Before rationing, the
    floor lifts the domestic share of compute to one half, and a cheaper domestic chip needs
    less of the money to do it."""
    from agents.lab import _domestic_floor, _hold_to_mandate

    domestic = np.array([[True, False]])
    h100e = np.array([0.5, 1.0])
    bound = np.array([True])
    held = _hold_to_mandate(np.array([[10.0, 20.0]]), h100e, domestic, bound, 0.5)
    np.testing.assert_allclose(held, [[10.0, 5.0]])
    money_share = {}
    for domestic_price in (10.0, 5.0):  # before and after a subsidy of one half
        per_share = h100e / np.array([domestic_price, 20.0])
        shares = _domestic_floor(np.array([[0.1, 0.9]]), domestic, bound, 0.5, per_share)
        bought = shares[0] * per_share
        assert bought[0] == pytest.approx(bought[1])
        assert shares.sum() == pytest.approx(1.0)
        money_share[domestic_price] = shares[0, 0]
    assert money_share[5.0] < money_share[10.0]
