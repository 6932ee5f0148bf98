"""The classroom kit without a window: every shipped lesson loads, has a complete teacher's page
and plays headless to its end; lessons set the teams, turns and horizon; bad lesson files are
refused with their line and key; a facilitator's event reaches the model, its ghost, the news
and the save; hidden decisions stay hidden from the other teams until revealed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.config.errors import CommandError, InputError
from game.config.events import default_events, event, load_events
from game.config.lesson import LESSON_DIR, TEACHER_SECTIONS, lesson_names, load_lesson
from game.play.session import GameSession
from game.sim.invariants import invariant_problems
from game.sim.model import ChipWarModel
from game.sim.state import fork
from tests.cli_helpers import ROOT, run_cli

LESSONS = lesson_names()


def _play_to_end(session: GameSession) -> int:
    """Step to the end, handing over at every turn's end; returns the hand-overs."""
    handovers = 0
    while not session.finished:
        session.step()
        if session.handoff_due:
            session.next_player()
            handovers += 1
    return handovers


# ----------------------------------------------------------------------------- shipped lessons
def test_there_are_at_least_four_lessons() -> None:
    assert len(LESSONS) >= 4, LESSONS


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_has_its_teachers_page(name: str) -> None:
    lesson = load_lesson(name)
    page = lesson.teacher_page.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+?)\s*$", page, flags=re.M)
    for section in TEACHER_SECTIONS:
        assert section in headings, f"{lesson.teacher_page.name} lacks '## {section}'"
    discussion = page.split("## Discussion questions", 1)[1]
    for question in lesson.spec.questions:
        assert question in discussion, f"{name}: question not on the page: {question}"
    assert f"play --lesson {name}" in page


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_plays_headless_to_its_end(name: str) -> None:
    lesson = load_lesson(name)
    session = GameSession.from_lesson(lesson)
    spec = lesson.spec
    assert session.roles == list(spec.roles) and session.current_role == spec.roles[0]
    assert session.model.horizon == lesson.months and session.turn_months == spec.turn_months
    assert session.hidden == spec.hidden and session.lesson["questions"] == spec.questions
    for event_id in lesson.events:  # the facilitator's whole menu, once each
        session.inject(event_id)
        session.step()
        if session.handoff_due:
            session.next_player()
    handovers = _play_to_end(session)
    assert session.finished and session.model.turn == lesson.months
    if len(spec.roles) > 1:
        assert handovers >= 1
    assert invariant_problems(session.model) == []
    results = session.model.results()
    assert len(results) == lesson.months * len(session.model.bloc_ids)
    assert np.isfinite(results["frontier_capability"]).all()
    for role in spec.roles:
        assert np.isfinite(session.score(role).value)


def test_the_lessons_command_lists_every_lesson() -> None:
    result = run_cli("lessons")
    assert result.returncode == 0, result.stderr
    for name in LESSONS:
        assert f"{name}: " in result.stdout
        assert f"python main.py play --lesson {name}" in result.stdout
        assert f"lessons/{load_lesson(name).teacher_page.name}" in result.stdout


def test_a_lesson_starts_from_the_command_line(tmp_path: Path) -> None:
    shot = tmp_path / "intro.png"
    result = run_cli("play", "--lesson", LESSONS[0], "--screenshot", shot, timeout=120)
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lesson", "nonesuch"), "unknown lesson 'nonesuch'"),
        (("--lesson", "LESSON", "--scenario", "historical"), "leave out --scenario"),
        (("--lesson", "LESSON", "--teams", "china"), "leave out --teams"),
    ],
)
def test_play_with_a_bad_lesson_is_a_usage_error(args: tuple[str, ...], message: str) -> None:
    args = tuple(LESSONS[0] if a == "LESSON" else a for a in args)
    result = run_cli("play", *args, "--screenshot", "/tmp/never.png")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- lesson files
GOOD = """\
name: tiny
title: "Tiny"
summary: "A lesson for the tests."
scenario: historical
months: 9
roles: [us, china]
turn_months: 2
hidden: true
events: [customs_crackdown, hbm_ban]
questions: ["What happened?"]
"""


Q = 'questions: ["What happened?"]'


def _lesson(tmp_path: Path, text: str = GOOD, page: bool = True) -> Path:
    (tmp_path / "tiny.yaml").write_text(text)
    if page:
        (tmp_path / "tiny.md").write_text("# Tiny\n")
    return tmp_path / "tiny.yaml"


def test_a_lesson_sets_teams_turns_horizon_and_secrecy(tmp_path: Path) -> None:
    session = GameSession.from_lesson(load_lesson(str(_lesson(tmp_path))))
    assert session.roles == ["us", "china"] and session.model.horizon == 9
    assert session.allowed_events == ["customs_crackdown", "hbm_ban"]
    session.step()
    assert not session.handoff_due
    session.step()
    assert session.handoff_due and session.next_player() == "china"  # every 2 months
    with pytest.raises(CommandError, match="not in this lesson"):
        session.inject("packaging_fire")
    assert _play_to_end(session) == 3  # months 4, 6 and 8; none at the end
    assert session.finished and session.model.turn == 9


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("roles: [us, china]", "roles: [us, russia]"), 6, "roles[1]: unknown role 'russia'"),
        (("events: [customs_crackdown, hbm_ban]", "events: [meteor]"), 9, "unknown event 'meteor'"),
        (("months: 9", "months: 900"), 5, "months: expected a value <= 240"),
        (("months: 9", "months: 200"), 5, "expected at most the scenario's 99 months"),
        (("scenario: historical", "scenario: atlantis"), 4, "unknown scenario 'atlantis'"),
        (("turn_months: 2", "turn_month: 2"), 7, "did you mean 'turn_months'"),
        (("name: tiny", "name: small"), 1, "expected the file's name 'tiny'"),
        (('questions: ["What happened?"]', "questions: []"), 10, "questions"),
        (
            ('questions: ["What happened?"]', Q + "\ngoals:\n  vendor: {gap_target_months: 12}"),
            12,
            "goals.vendor: 'vendor' is not a team of this lesson; expected one of: us, china",
        ),
        (
            ('questions: ["What happened?"]', Q + "\ngoals:\n  us: {target_points: 7}"),
            12,
            "'target_points' is not a number of the us role's goal; expected one of: "
            "gap_target_months, revenue_penalty_months",
        ),
        (
            ('questions: ["What happened?"]', Q + "\ngoals:\n  us: {gap_target_months: far}"),
            12,
            "goals.us.gap_target_months",
        ),
    ],
)
def test_a_malformed_lesson_names_its_line_and_key(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    assert change[0] in GOOD
    path = _lesson(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as caught:
        load_lesson(str(path))
    text = str(caught.value)
    assert f"tiny.yaml:{line}:" in text and message in text, text
    result = run_cli("play", "--lesson", path, "--screenshot", tmp_path / "x.png")
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_lesson_sets_its_own_goals_and_the_objective_quotes_them(tmp_path: Path) -> None:
    text = GOOD.replace(Q, Q + "\ngoals:\n  us: {gap_target_months: 14}")
    session = GameSession.from_lesson(load_lesson(str(_lesson(tmp_path, text))))
    assert session.score("us").target == 14.0 and "(goal: 14 months)" in session.score("us").text
    assert "at least 14 months behind" in session.role_of("us").objective
    assert session.score("china").target == 8.0  # roles.yaml's where the lesson sets none
    assert "at least 17 months behind" in GameSession("historical", ["us"]).role.objective


@pytest.mark.parametrize("name", LESSONS)
def test_doing_nothing_misses_every_numeric_goal_of_a_lesson(name: str) -> None:
    """A goal met by doing nothing teaches nothing: every team whose goal is a number (the US,
    China) must decide something to meet it. (Goals relative to the world without the team,
    NVIDIA's, DeepSeek's and the hubs', are met exactly by doing nothing, by design.)"""
    session = GameSession.from_lesson(load_lesson(name))
    _play_to_end(session)
    for role in session.roles:
        if session.role_of(role).score in ("controller", "target"):
            score = session.score(role)
            assert score.value < score.target, f"{name}: {role} {score.text}"


def test_a_lesson_without_its_teachers_page_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"teacher's page .*tiny\.md is missing"):
        load_lesson(str(_lesson(tmp_path, page=False)))


def test_a_lesson_may_bring_its_own_scenario(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "short.yaml").write_text(
        "name: short\ndescription: two years of history\nextends: historical\nend: 2024-09\n"
    )
    path = _lesson(tmp_path, GOOD.replace("scenario: historical", "scenario: scenarios/short.yaml"))
    lesson = load_lesson(str(path))
    assert lesson.scenario.name == "short" and lesson.scenario.months == 24


# ----------------------------------------------------------------------------- events
def test_the_events_file_is_checked(tmp_path: Path) -> None:
    text = (ROOT / "assets" / "data" / "events.yaml").read_text()
    bad = text.replace("targets: [nvidia, amd]", "targets: [nvidia, intel]")
    (tmp_path / "events.yaml").write_text(bad)
    with pytest.raises(InputError, match=r"events\.yaml:\d+: events\[1\]\.targets\[1\]: unknown"):
        load_events(tmp_path / "events.yaml")
    assert set(default_events()) >= {"customs_crackdown", "packaging_fire", "density_rule"}


def test_an_injected_event_reaches_the_model_the_ghost_and_the_news() -> None:
    session = GameSession("historical", ["us"], rng=5)
    for _ in range(12):
        session.step()
    without = fork(session.model)
    session.inject("customs_crackdown")
    crackdown = event("customs_crackdown")
    session.step()
    without.step()
    m = session.model
    idx = [m.country_ids.index(c) for c in crackdown.targets]
    assert (m.view.route_risk[idx] > without.view.route_risk[idx] * 2).all()
    other = m.country_ids.index("vietnam")
    assert m.view.route_risk[other] == pytest.approx(without.view.route_risk[other])
    assert crackdown.headline in [e["text"] for e in m.events]
    assert crackdown.headline in [e["text"] for e in session.news(20)]
    assert crackdown.headline in [e["text"] for e in session.ghost.events]  # ghost alike
    assert session.injected[-1]["id"] == "customs_crackdown"
    assert session.injected[-1]["date"] == m.date
    # it lasts its months, then customs are as before
    for _ in range(crackdown.months):
        session.step()
        without.step()
    np.testing.assert_allclose(session.model.view.route_risk[idx], without.view.route_risk[idx])
    assert not session.can_undo()


def test_a_fab_fire_cuts_the_vendors_output() -> None:
    fire = event("packaging_fire")
    model = ChipWarModel("historical", rng=2, months=30)
    model.run(12)
    calm = fork(model)
    model.inject(fire)
    model.step()
    calm.step()
    nvidia = model.vendor_ids.index("nvidia")
    assert model.view.vendor_capacity[nvidia] == pytest.approx(
        fire.factor * calm.view.vendor_capacity[nvidia]
    )
    sold = model.sales().groupby("chip")["units"].sum().sum()
    assert sold < calm.sales().groupby("chip")["units"].sum().sum()


def test_a_rule_event_moves_the_us_lever_for_the_world_and_its_ghost() -> None:
    session = GameSession("no_controls", ["china"], rng=1)
    session.step()
    session.inject("hbm_ban")
    assert session.model.policy.get("hbm_controls") is True
    assert session.ghost.policy.get("hbm_controls") is True
    assert session.model.command_log[-1][2] == "facilitator"


def test_injected_events_survive_save_and_load(tmp_path: Path) -> None:
    session = GameSession("historical", ["us", "china"], rng=4, turn_months=2, hidden=True)
    session.step()
    session.inject("smic_outage")
    path = tmp_path / "g.scgame"
    session.save(path)
    again = GameSession.load(path)
    assert again.injected == session.injected and again.hidden and again.turn_months == 2
    assert [s.to_plain() for s in again.model.shocks] == [
        s.to_plain() for s in session.model.shocks
    ]
    for s in (session, again):
        for _ in range(3):
            s.step()
            if s.handoff_due:
                s.next_player()
    pd.testing.assert_frame_equal(session.model.results(), again.model.results())
    pd.testing.assert_frame_equal(session.ghost.results(), again.ghost.results())


def test_an_unknown_event_is_refused() -> None:
    session = GameSession("historical", ["us"])
    with pytest.raises(InputError, match="unknown event 'meteor'"):
        session.inject("meteor")


# ----------------------------------------------------------------------------- secrecy
def test_hidden_decisions_stay_hidden_until_revealed() -> None:
    session = GameSession("historical", ["us", "china"], rng=1, turn_months=1, hidden=True)
    session.decide("enforcement", 2.5)
    session.step()
    session.next_player()  # China's turn
    texts = [e["text"] for e in session.news(30)]
    assert not any("enforcement" in t for t in texts)
    assert any("US government: a decision (hidden" in t for t in texts)
    assert session.decisions_seen() == []
    session.decide("domestic_subsidy", 0.5)
    assert [d.change.lever for d in session.decisions_seen()] == ["domestic_subsidy"]
    session.set_hidden(False)
    texts = [e["text"] for e in session.news(30)]
    assert any("enforcement" in t for t in texts)
    assert len(session.decisions_seen()) == 2
    # bots' and the schedule's moves were never hidden
    session.set_hidden(True)
    session.step()  # 2022-11: the schedule launches Nvidia's A800 (no team plays Nvidia)
    assert any("launches the A800" in e["text"] for e in session.news(60))


def test_the_lesson_folder_holds_only_lessons_and_their_pages() -> None:
    for path in LESSON_DIR.glob("*.yaml"):
        load_lesson(path.stem)
    pages = {p.stem for p in LESSON_DIR.glob("*.md")}
    assert set(LESSONS) <= pages


def test_a_lesson_without_a_display_runs_its_scenario_headless() -> None:
    result = run_cli("play", "--lesson", "leaky_borders", timeout=120)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("No display found") and "leaky_borders.yaml --months 36" in first
    assert "2025-09" in result.stdout  # the lesson's 36 months, not the default's
