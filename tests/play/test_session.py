"""The game session: decisions reach the world and only the world, seats own their levers,
human governments replace their schedule, undo is exact and ends with the month, hot-seat
turns change hands each quarter, saves are whole or not at all, and scores and effects can
be read."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import game.sim.state as state_module
from game.config.commands import PolicyChange
from game.config.errors import CommandError, InputError
from game.config.scenario import load_scenario
from game.play.objectives import ROLES
from game.play.projection import Fan, Projector
from game.play.session import Decision, GameSession
from game.sim.model import ChipWarModel
from game.sim.state import save_model


def _same_world(a: ChipWarModel, b: ChipWarModel) -> None:
    pd.testing.assert_frame_equal(a.results(), b.results())
    pd.testing.assert_frame_equal(a.sales(), b.sales())
    assert a.events == b.events
    assert np.array_equal(a.ledger.stock, b.ledger.stock)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    assert a.policy.to_plain() == b.policy.to_plain()


def _play(session: GameSession, months: int) -> None:
    """Play months, handing over whenever a quarter ends (as the UI does)."""
    for _ in range(months):
        session.step()
        if session.handoff_due:
            session.next_player()


def _latest(model: ChipWarModel, column: str, bloc: str) -> float:
    return model.latest(column, model.bloc_ids.index(bloc))


# ----------------------------------------------------------------------------- decisions
def test_a_decision_reaches_the_model_and_not_the_ghost() -> None:
    s = GameSession("historical", ["us"])
    assert s.lever_value("enforcement") == 1.0
    s.decide("enforcement", np.float64(2.5))  # a slider's numpy value is accepted
    assert s.lever_value("enforcement") == 2.5
    month, change, source = s.model.command_log[-1]
    assert change == PolicyChange("us", "enforcement", 2.5) and source == "player"
    assert isinstance(change.value, float) and month == s.model.month + 1
    assert s.ghost.policy.get("enforcement") == 1.0
    assert all(src != "player" for _, _, src in s.ghost.command_log)
    assert s.decisions == [Decision("2022-10", "us", change)]
    assert s.levers() == [lv for lv in s.model.spec.levers.values() if lv.owner == "us"]


def test_moving_one_lever_again_in_a_month_is_one_decision() -> None:
    """Four clicks on a slider's arrow are one decision with the last value: one news item,
    one command, one row in the report, one replay; moving it back where it was is none."""
    s = GameSession("historical", ["us"], rng=4)
    fresh = GameSession("historical", ["us"], rng=4)
    for value in (1.25, 1.5, 1.75, 2.0):
        s.decide("enforcement", value)
    fresh.decide("enforcement", 2.0)
    assert [d.change for d in s.decisions] == [PolicyChange("us", "enforcement", 2.0)]
    players = [c for _, c, src in s.model.command_log if src == "player"]
    assert players == [PolicyChange("us", "enforcement", 2.0)]
    assert s.model.events == fresh.model.events  # one news item, as for one decision
    s.decide("enforcement", 1.0)  # back to what is in force: nothing decided at all
    assert s.decisions == [] and s.lever_value("enforcement") == 1.0
    assert not any(src == "player" for _, _, src in s.model.command_log)
    s.decide("enforcement", 1.0)  # setting what is in force is no decision either
    assert s.decisions == []


def test_a_lever_moved_in_another_month_or_after_another_lever_is_a_new_decision() -> None:
    s = GameSession("historical", ["us"], rng=4)
    s.decide("enforcement", 1.5)
    s.decide("transit_pressure", 1.0, "singapore")
    s.decide("enforcement", 2.0)  # another lever came between: its own decision
    s.step()
    s.decide("enforcement", 2.5)  # a new month: its own decision
    assert [(d.change.lever, d.change.value) for d in s.decisions] == [
        ("enforcement", 1.5),
        ("transit_pressure", 1.0),
        ("enforcement", 2.0),
        ("enforcement", 2.5),
    ]


def test_a_role_cannot_move_another_roles_lever() -> None:
    s = GameSession("historical", ["us", "china", "vendor", "lab"])
    with pytest.raises(CommandError, match="China's government"):
        s.decide("domestic_subsidy", 0.5)
    with pytest.raises(CommandError, match="unknown lever 'enforcment'"):
        s.decide("enforcment", 2.0)
    with pytest.raises(CommandError, match=r"expected a value in \[0 .. 5\]"):
        s.decide("enforcement", 9.0)
    s.next_player()  # china
    with pytest.raises(CommandError, match="US government"):
        s.decide("export_rule", "oct2023")
    s.next_player()  # vendor: NVIDIA's own chips only
    assert "MI300X" not in s.lever_targets("release_variant")
    with pytest.raises(CommandError, match="made by amd"):
        s.decide("release_variant", True, "MI300X")
    assert s.lever_value("make_compliant_variants") is True  # its own company by default
    s.next_player()  # lab: DeepSeek only
    with pytest.raises(CommandError, match="only for itself"):
        s.decide("risk_appetite", 0.9, "alibaba")
    assert s.decisions == [] and not s.can_undo()
    assert all(src != "player" for _, _, src in s.model.command_log)
    s.decide("risk_appetite", 0.9)
    assert s.model.labs.risk[s.model.lab_index["deepseek"]] == 0.9


def test_a_human_government_inherits_the_rules_in_force_and_gets_history_as_proposals() -> None:
    """Playing the US from October 2022 starts with the October 2022 rule and tool controls in
    force, visible before the first month; history's later steps (the 2023 tool agreement, the
    October 2023 rule, ...) are not applied but offered at their dates."""
    s = GameSession("historical", ["us"])
    assert s.model.governments["us"].strategy == "none"
    assert s.model.governments["china"].strategy == "reactive"
    for world in (s.model, s.ghost):  # before the first month
        assert world.policy.get("export_rule") == "oct2022"
        assert world.policy.get("control_tpp") > 0
        assert world.policy.get("fab_tool_controls") == 0.5
    assert s.due_proposals() == []
    _play(s, 13)  # to October 2023, doing nothing
    for world in (s.model, s.ghost):
        assert world.policy.get("export_rule") == "oct2022"  # the later rule was not applied
        assert world.policy.get("fab_tool_controls") == 0.5
        assert not any(c.actor == "us" for _, c, src in world.command_log if src == "schedule")
        assert world.policy.get("domestic_subsidy") >= 0.1  # China's schedule still runs
    due = s.due_proposals()
    assert [(p.date, p.change.lever, p.change.value) for p in due] == [
        ("2023-01", "fab_tool_controls", 0.75),
        ("2023-10", "export_rule", "oct2023"),
    ]
    assert "October 2023" in due[1].news or "density" in due[1].news
    world = s.comparison_world()
    assert "BIS restricts exports of advanced AI chips" in world
    assert f"none of history's {len(s.proposals)} later steps" in world
    assert any(e["text"].startswith("In force as the game starts: BIS") for e in s.model.events)


def test_adopting_a_proposal_is_a_decision_and_ignoring_one_stops_it() -> None:
    s = GameSession("historical", ["us"])
    _play(s, 12)  # September 2023: the October 2023 rule is due for next month
    rule = next(p for p in s.due_proposals() if p.change.lever == "export_rule")
    tools = next(p for p in s.due_proposals() if p.change.lever == "fab_tool_controls")
    s.adopt(rule)
    assert s.lever_value("export_rule") == "oct2023"
    assert [d.change for d in s.decisions] == [rule.change]
    assert s.adopted(rule) and rule not in s.due_proposals()
    s.undo()  # taking the decision back offers it again
    assert rule in s.due_proposals() and s.lever_value("export_rule") == "oct2022"
    s.ignore(tools)
    assert tools not in s.due_proposals()
    s.adopt(rule)
    s.step()
    assert s.ghost.policy.get("export_rule") == "oct2022"  # the comparison world holds still
    assert s.model.policy.get("export_rule") == "oct2023"


def test_proposals_survive_a_save(tmp_path: Path) -> None:
    s = GameSession("historical", ["us"])
    _play(s, 4)
    s.ignore(s.due_proposals()[0])
    s.save(tmp_path / "g.scgame")
    back = GameSession.load(tmp_path / "g.scgame")
    assert [p.ignored for p in back.proposals] == [p.ignored for p in s.proposals]
    assert back.due_proposals() == []


def test_the_player_owns_the_lever_after_the_start() -> None:
    """What the player sets holds: no scheduled rule version overwrites it."""
    p = GameSession("historical", ["us"])
    p.decide("export_rule", "none")
    _play(p, 13)
    assert p.model.policy.get("export_rule") == "none"
    assert p.ghost.policy.get("export_rule") == "oct2022"


def test_easy_bots_follow_the_schedule_only() -> None:
    s = GameSession("historical", ["china"], difficulty="easy")
    assert {g: s.model.governments[g].strategy for g in ("us", "china")} == {
        "us": "none",
        "china": "none",
    }
    _play(s, 13)
    assert s.model.policy.get("export_rule") == "oct2023"  # the US schedule, by its bot
    assert s.model.policy.get("domestic_subsidy") == 0.1  # inherited from the start
    assert s.model.policy.get("mineral_controls") == 0.0  # China's later steps are the player's


def test_bots_announce_changes_not_the_policy_they_already_have() -> None:
    """A reactive bot at its ceiling said the same subsidy again every quarter: news items
    that told nothing, and a 'tightening' for the other side to answer."""
    s = GameSession("total_embargo", ["vendor"], difficulty="normal", rng=2)
    _play(s, 60)
    bots = [
        (c.actor, c.lever, c.target, c.value) for _, c, src in s.model.command_log if src == "bot"
    ]
    assert bots, "the bots should have moved something in five years"
    last: dict = {}
    for actor, lever, target, value in bots:
        assert last.get((actor, lever, target)) != value, (actor, lever, target, value)
        last[(actor, lever, target)] = value


@pytest.mark.parametrize(
    ("roles", "difficulty", "message"),
    [
        (["pope"], "normal", "unknown role 'pope'"),
        (["us", "us"], "normal", "once"),
        ([], "normal", "1 to 5 roles"),
        (["us"], "brutal", "unknown difficulty"),
    ],
)
def test_bad_setup_is_refused(roles: list[str], difficulty: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GameSession("historical", roles, difficulty)


def test_the_ghost_is_unaffected_by_decisions() -> None:
    s = GameSession("historical", ["us"])
    s.decide("destination", "embargoed", "china")
    _play(s, 12)
    assert _latest(s.model, "compute_h100e", "china") < _latest(s.ghost, "compute_h100e", "china")
    plain = GameSession("historical", ["us"])
    _play(plain, 12)
    _same_world(s.ghost, plain.ghost)
    _same_world(plain.model, plain.ghost)  # without decisions the two are the same world


# ----------------------------------------------------------------------------- undo
def test_undo_restores_the_exact_state() -> None:
    a = GameSession("historical", ["us"])
    _play(a, 2)
    a.decide("enforcement", 4.0)
    a.decide("destination", "embargoed", "china")
    assert a.can_undo()
    assert a.undo()
    assert a.lever_value("enforcement") == 4.0
    assert a.lever_value("destination", "china") == "restricted"  # the October 2022 rule, inherited
    assert a.view.latest("compute_h100e", "china") == _latest(a.model, "compute_h100e", "china")
    assert a.undo()
    assert not a.undo() and not a.can_undo()
    assert a.decisions == []
    b = GameSession("historical", ["us"])
    _play(b, 2)
    _same_world(a.model, b.model)
    _play(a, 12)
    _play(b, 12)
    _same_world(a.model, b.model)
    _same_world(a.ghost, b.ghost)


def test_undo_is_impossible_after_a_month() -> None:
    s = GameSession("historical", ["us"])
    s.decide("enforcement", 3.0)
    s.step()
    assert not s.can_undo() and not s.undo()
    assert s.lever_value("enforcement") == 3.0 and len(s.decisions) == 1


# ----------------------------------------------------------------------------- hot-seat
def test_hot_seat_hands_over_at_each_quarters_end() -> None:
    s = GameSession("historical", ["us", "china"])
    assert s.current_role == "us"
    for _ in range(2):  # Oct, Nov 2022
        s.step()
        assert not s.handoff_due
    s.step()  # Dec 2022 ends a quarter
    assert s.model.date == "2022-12" and s.handoff_due
    with pytest.raises(RuntimeError, match="next_player"):
        s.step()
    with pytest.raises(RuntimeError, match="next_player"):
        s.decide("enforcement", 2.0)
    assert s.next_player() == "china"
    assert not s.handoff_due and s.current_role == "china"
    s.decide("domestic_subsidy", 0.5)
    with pytest.raises(CommandError):
        s.decide("enforcement", 2.0)
    for month in ("2023-01", "2023-02"):
        s.step()
        assert s.model.date == month and not s.handoff_due
    s.step()
    assert s.model.date == "2023-03" and s.handoff_due
    assert s.next_player() == "us"


def test_a_single_player_never_hands_over() -> None:
    s = GameSession("historical", ["china"])
    for _ in range(12):
        s.step()
        assert not s.handoff_due


def test_the_game_ends_at_the_horizon() -> None:
    sc = load_scenario("historical")
    s = GameSession(dataclasses.replace(sc, end=sc.start + 2), ["us", "china"])
    s.step()
    s.step()
    assert not s.finished
    s.step()  # Dec 2022: the last month, so no handover
    assert s.finished and not s.handoff_due
    with pytest.raises(RuntimeError, match="over"):
        s.step()
    with pytest.raises(RuntimeError, match="over"):
        s.decide("enforcement", 2.0)


# ----------------------------------------------------------------------------- save and load
def _midgame() -> GameSession:
    s = GameSession("historical", ["us", "china"], difficulty="hard", rng=7)
    s.decide("destination", "embargoed", "china")
    _play(s, 5)
    s.decide("domestic_subsidy", 0.4)  # China's turn since January
    s.decisions[0].effect = {"us": 0.0, "china": -1.5, "allies": 0.0, "rest": 0.0}
    return s


def test_save_then_load_gives_the_same_game_and_future(tmp_path: Path) -> None:
    s = _midgame()
    path = tmp_path / "game.sav"
    s.save(path)
    t = GameSession.load(path)
    assert (t.roles, t.current_role, t.difficulty, t.rng) == (["us", "china"], "china", "hard", 7)
    assert t.handoff_due == s.handoff_due
    assert t.decisions == s.decisions and t.decisions[0].effect is not None
    assert t.scenario == s.scenario
    assert not t.can_undo()
    _same_world(s.model, t.model)
    _same_world(s.ghost, t.ghost)
    _play(s, 12)
    _play(t, 12)
    _same_world(s.model, t.model)
    _same_world(s.ghost, t.ghost)
    assert s.current_role == t.current_role


def test_a_failed_save_leaves_the_old_save_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = GameSession("historical", ["us"])
    _play(s, 3)
    path = tmp_path / "game.sav"
    s.save(path)
    good = path.read_bytes()
    _play(s, 2)

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)  # dies after writing the temporary file
    with pytest.raises(InputError, match="No space left on device"):
        s.save(path)
    monkeypatch.undo()
    monkeypatch.setattr(state_module, "atomic_write_bytes", disk_full)
    with pytest.raises(InputError):
        s.save(path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["game.sav"]  # no temporary left over
    assert GameSession.load(path).model.turn == 3


def _rewrite(path: Path, change: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries.update(change)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)


def test_damaged_or_foreign_files_are_refused_clearly(tmp_path: Path) -> None:
    s = GameSession("historical", ["us"])
    s.step()
    good = tmp_path / "good.sav"
    s.save(good)
    data = good.read_bytes()

    cases: dict[str, str] = {}
    (tmp_path / "truncated.sav").write_bytes(data[: len(data) // 2])
    cases["truncated.sav"] = "damaged"
    (tmp_path / "garbage.sav").write_bytes(b"this is not a zip file at all")
    cases["garbage.sav"] = "damaged"
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF
    (tmp_path / "flipped.sav").write_bytes(bytes(flipped))
    cases["flipped.sav"] = "damaged"
    tampered = tmp_path / "tampered.sav"
    tampered.write_bytes(data)
    plain = json.loads(zipfile.ZipFile(good).read("session.json"))
    plain["roles"] = ["china"]
    _rewrite(tampered, {"session.json": json.dumps(plain).encode()})
    cases["tampered.sav"] = "checksum"
    future = tmp_path / "future.sav"
    future.write_bytes(data)
    meta = json.loads(zipfile.ZipFile(good).read("meta.json"))
    _rewrite(future, {"meta.json": json.dumps({**meta, "version": 99}).encode()})
    cases["future.sav"] = "version 99 is not supported"
    save_model(s.model, str(tmp_path / "model.sav"))
    cases["model.sav"] = "saved model"
    cases["missing.sav"] = "not found"

    for name, message in cases.items():
        with pytest.raises(InputError, match=message) as err:
            GameSession.load(tmp_path / name)
        assert name in str(err.value)
    assert GameSession.load(good).model.turn == 1


def test_saving_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    s = GameSession("historical", ["us"])
    with pytest.raises(InputError, match="does not exist"):
        s.save(tmp_path / "nope" / "game.sav")


# ----------------------------------------------------------------------------- scores
@pytest.mark.parametrize("role", list(ROLES))
def test_scores_are_finite_and_name_the_goal(role: str) -> None:
    s = GameSession("historical", [role])
    for months in (0, 6):
        _play(s, months)
        sc = s.score()
        assert math.isfinite(sc.value) and math.isfinite(sc.target)
        assert "goal" in sc.text and "\n" not in sc.text
    if role in ("vendor", "lab", "transit"):  # no decisions: as the ghost, short of the goal
        assert s.score().value < s.score().target and not s.score().met


def test_controls_raise_the_us_score_and_cost_nvidia() -> None:
    hawk = GameSession("historical", ["us"])
    for lever, value in (("export_rule", "oct2023"), ("hbm_controls", True)):
        hawk.decide(lever, value)
    hawk.decide("destination", "embargoed", "china")
    dove = GameSession("historical", ["us"])
    # Four years: until 2025 China's runs are held by its engineers' experience of scale
    # (capability.scale_up_bound), not by its chips, while scarcity speeds its efficiency
    # (mixture of experts adopted at once): controls first narrow the gap, then widen it.
    _play(hawk, 48)
    _play(dove, 48)
    assert hawk.score("us").value > dove.score("us").value
    assert "revenue loss" in hawk.score("us").text
    # The formula, by hand: mean gap - 10 x share of NVIDIA's revenue lost against the ghost.
    results = hawk.model.results()
    gap = results.loc[results["bloc"] == "china", "gap_months"].mean()
    revenue = [
        w.sales().query("vendor == 'nvidia'")["revenue_usd"].sum() for w in (hawk.model, hawk.ghost)
    ]
    lost = 1 - revenue[0] / revenue[1]
    assert lost > 0.01
    assert hawk.score("us").value == pytest.approx(gap - 10 * lost)
    assert hawk.score("vendor").value < hawk.score("vendor").target


# ----------------------------------------------------------------------------- effects
def test_decisions_that_mattered_are_ordered_by_effect() -> None:
    s = GameSession("historical", ["us"])
    for value in (1.5, 2.0, 2.5, 3.0):
        s.decide("enforcement", value)
        s.step()  # in one month they would be one decision
    effects = [{"china": -0.5, "us": 0.1}, None, {"china": 2.0}, {"china": 0.1, "us": -0.7}]
    for d, e in zip(s.decisions, effects, strict=True):
        d.effect = e
    ranked = s.decisions_that_mattered()
    assert [d.change.value for d in ranked] == [2.5, 3.0, 1.5]
    assert [d.change.value for d in s.decisions_that_mattered(1)] == [2.5]


class SlowProjector:
    """A projector whose results arrive only when the test says so (the newest request only,
    as a real one under fast clicking), computed in this process by Projector(workers=0)."""

    def __init__(self) -> None:
        self.inner = Projector(seeds=2, workers=0)
        self.asked: list[tuple[int, object, object, dict]] = []
        self.ready: Fan | None = None
        self.ends: dict = {}

    def request(self, model: object, *, key: object = None, extras: dict | None = None) -> int:
        self.asked.append((len(self.asked) + 1, model, key, dict(extras or {})))
        return len(self.asked)

    def deliver_newest(self) -> None:
        rid, model, key, extras = self.asked[-1]
        self.inner.request(model, key=key, extras=extras)
        fan = self.inner.poll()
        assert fan is not None
        self.ready = dataclasses.replace(fan, request_id=rid)
        self.ends.update(self.inner.take_ends())

    def poll(self) -> Fan | None:
        fan, self.ready = self.ready, None
        return fan

    def take_ends(self) -> dict:
        out, self.ends = self.ends, {}
        return out


def _short_game() -> GameSession:
    sc = load_scenario("historical")
    return GameSession(dataclasses.replace(sc, end=sc.start + 17), ["us"])


def test_effects_arrive_late_but_right_when_the_player_is_fast() -> None:
    # Reference: every projection arrives before the next action.
    ref = _short_game()
    ref.attach_projector(Projector(seeds=2, workers=0))
    assert ref.poll_projection() is not None and ref.fan is not None
    ref.decide("hbm_controls", True)
    ref.poll_projection()
    ref.step()
    ref.poll_projection()
    ref.decide("destination", "embargoed", "china")
    ref.poll_projection()
    assert all(d.effect is not None for d in ref.decisions)
    assert ref.fan is not None and ref.fan.dates[0] == "2022-11" and ref.fan.dates[-1] == "2024-03"
    assert len(ref.fan.dates) == ref.model.horizon - ref.model.turn == 17

    fast = _short_game()
    slow = SlowProjector()
    fast.attach_projector(slow)  # type: ignore[arg-type]
    fast.decide("hbm_controls", True)
    fast.step()
    fast.decide("destination", "embargoed", "china")
    slow.deliver_newest()
    assert fast.poll_projection() is not None  # the fan of the state now
    fast.step()
    slow.deliver_newest()
    fast.poll_projection()
    assert [d.effect for d in fast.decisions] == [d.effect for d in ref.decisions]
    ranked = fast.decisions_that_mattered()
    assert ranked and ranked[0].magnitude >= ranked[-1].magnitude


def test_undo_brings_back_the_fan_of_the_state_before() -> None:
    s = _short_game()
    s.attach_projector(Projector(seeds=2, workers=0))
    before = s.poll_projection()
    s.decide("hbm_controls", True)
    after = s.poll_projection()
    assert before is not None and after is not None and s.fan is after
    s.undo()
    assert s.fan is before


def test_a_closed_projector_does_not_stop_the_game() -> None:
    s = _short_game()
    projector = Projector(seeds=2, workers=0)
    projector.close()
    s.attach_projector(projector)
    s.decide("hbm_controls", True)
    s.step()
    assert s.poll_projection() is None and s.fan is None and not s.fan_pending
    assert s.lever_value("hbm_controls") is True


def test_an_older_fan_is_never_shown_as_the_current_one() -> None:
    s = _short_game()
    slow = SlowProjector()
    s.attach_projector(slow)  # type: ignore[arg-type]
    slow.deliver_newest()
    first = s.poll_projection()
    assert first is not None and s.fan_is_current
    s.step()  # a month passes before the next projection arrives
    assert s.fan is first and not s.fan_is_current and s.fan_pending
    slow.deliver_newest()
    assert s.poll_projection() is not None and s.fan_is_current
    assert s.fan is not first and (first.dates[0], s.fan.dates[0]) == ("2022-10", "2022-11")


@pytest.mark.parametrize("role", ["us", "china"])
def test_doing_nothing_misses_the_games_own_goal(role: str) -> None:
    """roles.yaml's goals are set for the historical game to 2030: keeping the rules in force
    at the start must fall short, or the game would teach that nothing needs doing."""
    s = GameSession("historical", [role], rng=2022)
    _play(s, s.model.horizon)
    assert s.finished and not s.score(role).met, s.score(role).text


def test_hard_bots_anticipate_and_restrict_a_hub_that_keeps_leaking() -> None:
    """'hard' is more than no undo: the US bot acts on trends and, after sustained leakage
    through one hub, restricts it; the 'normal' bot waits longer (bot_leak_periods_reactive)."""
    tiers = {}
    for difficulty in ("normal", "hard"):
        s = GameSession("total_embargo", ["china"], difficulty=difficulty, rng=2022)
        assert s.model.governments["us"].strategy == (
            "anticipating" if difficulty == "hard" else "reactive"
        )
        _play(s, 40)
        tiers[difficulty] = [
            (c.target, c.value)
            for _, c, src in s.model.command_log
            if src == "bot" and c.lever == "destination"
        ]
    transit = {c.id for c in s.model.world.countries if "transit" in c.roles}
    assert tiers["hard"] and all(t in transit and v == "restricted" for t, v in tiers["hard"])
    assert len(tiers["normal"]) < len(tiers["hard"])


def test_a_hard_game_saved_and_loaded_goes_on_the_same(tmp_path: Path) -> None:
    a = GameSession("total_embargo", ["china"], difficulty="hard", rng=5)
    _play(a, 14)
    a.save(tmp_path / "hard.scgame")
    b = GameSession.load(tmp_path / "hard.scgame")
    assert b.model.governments["us"].leaks == a.model.governments["us"].leaks
    _play(a, 12)
    _play(b, 12)
    _same_world(a.model, b.model)


def test_a_month_whose_brokers_expect_a_loss_saves_and_loads(tmp_path: Path) -> None:
    """Heavy enforcement can leave the gray market's expected margin below zero (the risk of
    seizure outweighs the markup): a real state, which a save must keep and load back."""
    s = GameSession("historical", ["us"])
    s.decide("enforcement", 4.0)
    s.step()
    assert s.model.gray.expected_margin < 0
    s.save(tmp_path / "g.scgame")
    back = GameSession.load(tmp_path / "g.scgame")
    assert back.model.gray.expected_margin == s.model.gray.expected_margin
