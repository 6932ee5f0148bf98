"""Scenario loading semantics: inheritance, overrides that hold, and data files that are
complete (every figure with a source)."""

from __future__ import annotations

import pytest

from game.config.errors import InputError
from game.config.levers import default_policy_spec
from game.config.scenario import load_scenario, parse_scenario_text, scenario_names, with_overrides
from game.config.world import default_world_data


def test_the_five_required_scenarios_ship() -> None:
    assert set(scenario_names()) >= {
        "historical",
        "no_controls",
        "total_embargo",
        "leaky_enforcement",
        "domestic_push",
    }
    for name in scenario_names():
        sc = load_scenario(name)
        assert sc.description and sc.start < sc.end


def test_historical_is_oct_2022_to_dec_2030_monthly() -> None:
    sc = load_scenario("historical")
    assert sc.months == 99


def test_a_child_schedule_replaces_the_parents_entries_for_its_levers() -> None:
    push = load_scenario("domestic_push")
    subsidies = [s for s in push.schedule if s.change.lever == "domestic_subsidy"]
    assert [s.change.value for s in subsidies] == [0.5]
    rules = [s for s in push.schedule if s.change.lever == "export_rule"]
    assert len(rules) == len(
        [s for s in load_scenario("historical").schedule if s.change.lever == "export_rule"]
    )


def test_a_set_lever_holds_for_the_whole_run() -> None:
    sc = with_overrides(
        load_scenario("historical"), ["domestic_subsidy=0.5", "smuggling_detection=0.2"]
    )
    assert not [s for s in sc.schedule if s.change.lever == "domestic_subsidy"]
    assert sc.parameters["smuggling_detection"] == 0.2
    from game.sim.model import ChipWarModel

    model = ChipWarModel(sc, rng=1, months=24)
    model.run()
    assert model.policy.get("domestic_subsidy") == 0.5
    pinned = with_overrides(load_scenario("historical"), ["destination.china=embargoed"])
    model = ChipWarModel(pinned, rng=1, months=30)  # through three rule versions
    model.run()
    assert model.policy.get("destination", "china") == "embargoed"


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = """name: bad
description: two mistakes
start: 2022-10
end: 2023-10
schedule:
  - {date: 2022-10, actor: us, lever: enforcment, value: 2}
  - {date: 2022-11, actor: us, lever: enforcement, value: 99}
"""
    with pytest.raises(InputError) as err:
        parse_scenario_text(text, "bad.yaml")
    messages = [str(p) for p in err.value.problems]
    assert len(messages) == 2
    assert messages[0].startswith("bad.yaml:6: schedule[0].lever:") and "enforcement" in messages[0]
    assert messages[1].startswith("bad.yaml:7: schedule[1].value:") and "99" in messages[1]


def test_every_parameter_and_chip_has_a_source_and_a_range() -> None:
    world = default_world_data()
    assert len(world.chips) >= 10 and len(world.countries) >= 12
    assert len(world.vendors) >= 4 and len(world.labs) >= 10
    for name, p in world.parameters.items():
        assert p.source in world.sources, name
        assert p.range[0] <= p.value <= p.range[1], name
    for chip in world.chips:
        assert chip.source in world.sources
    for lab in world.labs:
        assert lab.source in world.sources
    required = {"A100", "A800", "H100", "H800", "H20", "B200", "MI300X", "Ascend910B", "Ascend910C"}
    assert required <= {c.id for c in world.chips}
    assert {
        "us",
        "china",
        "taiwan",
        "korea",
        "japan",
        "netherlands",
        "singapore",
        "malaysia",
        "uae",
        "india",
        "row",
    } <= {c.id for c in world.countries}
    assert {lab.country for lab in world.labs} >= {"us", "china"}


def test_every_parameter_is_read_by_the_model() -> None:
    """Data, not literals: a parameter nobody reads is a figure nobody checked."""
    from pathlib import Path

    source = "\n".join(
        p.read_text()
        for d in ("game", "agents")
        for p in Path(__file__).resolve().parents[2].joinpath(d).rglob("*.py")
    )
    unused = [
        n
        for n in default_world_data().parameters
        if f"p.{n}" not in source and f'"{n}"' not in source
    ]
    assert unused == []


def test_every_lever_is_read_by_the_model() -> None:
    from pathlib import Path

    source = "\n".join(
        p.read_text()
        for d in ("game", "agents")
        for p in Path(__file__).resolve().parents[2].joinpath(d).rglob("*.py")
    )
    from game.core.rules import Thresholds

    read_as_thresholds = set(Thresholds.__dataclass_fields__)
    unused = [
        lv
        for lv in default_policy_spec().levers
        if f'"{lv}"' not in source and lv not in read_as_thresholds
    ]
    assert unused == []


def test_a_schedule_may_name_a_variant_before_a_vendor_designs_it() -> None:
    """The record's April 2025 licence requirement reached AMD's MI308, a part the model's AMD
    designs itself (MI300X-C1): a schedule may name it; a variant of an unknown chip, or a
    number that no vendor gives, is refused."""
    head = "name: v\ndescription: d\nstart: 2022-10\nend: 2025-12\nschedule:\n"
    entry = "  - {date: 2025-04, actor: us, lever: chip_export, target: %s, value: licence}\n"
    ok = parse_scenario_text(head + entry % "MI300X-C1", "v.yaml")
    assert [s.change.target for s in ok.schedule] == ["MI300X-C1"]
    for bad in ("MI999-C1", "MI300X-C0", "MI300X-C", "MI300X-Cx"):
        with pytest.raises(InputError) as err:
            parse_scenario_text(head + entry % bad, "v.yaml")
        assert "unknown chip" in str(err.value), bad


def test_the_historical_mi308_licence_stops_amds_china_variant_for_four_months() -> None:
    from game.sim.model import ChipWarModel

    model = ChipWarModel(load_scenario("historical"), rng=3, months=36)  # to 2025-09
    while model.turn < model.horizon:
        model.step()
    sales = model.sales()
    c1 = sales[sales.chip == "MI300X-C1"]
    sold = c1.groupby(c1.date.astype(str).str[:7]).units.sum()
    assert sold.get("2025-03", 0) > 0  # on sale before the rule
    assert all(sold.get(m, 0) == 0 for m in ("2025-05", "2025-06", "2025-07"))


def test_overrides_as_a_dict_name_each_problem_as_a_set_item() -> None:
    """A dict's items are named `--set key=value` in problems (their text is made only then),
    as the same items given as text are."""
    sc = load_scenario("historical")
    bad = {"smuggling_detection": 7.5, "no_such_knob": 1, "budget_scale": "lots"}
    with pytest.raises(InputError) as as_dict:
        with_overrides(sc, bad)
    with pytest.raises(InputError) as as_text:
        with_overrides(sc, [f"{k}={v}" for k, v in bad.items()])
    keys = [p.key for p in as_dict.value.problems]
    assert keys == [
        "--set smuggling_detection=7.5",
        "--set no_such_knob=1",
        "--set budget_scale=lots",
    ]
    assert keys == [p.key for p in as_text.value.problems]
    assert [p.message for p in as_dict.value.problems] == [
        p.message for p in as_text.value.problems
    ]
    good = with_overrides(sc, {"smuggling_detection": 0.25, "budget_scale": 1.25})
    assert good.parameters["smuggling_detection"] == 0.25
    assert good.parameters["budget_scale"] == 1.25
