"""The game, driven as a player drives it: real widgets clicked by their object ids, headless
(SDL's dummy driver, set in conftest.py), at 1280x800 and 1920x1080."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pygame
import pygame_gui
import pytest

from game.config.commands import PolicyChange
from game.config.scenario import load_scenario
from game.core.ledger import COMPLIANT, LEGAL
from game.play.session import GameSession
from game.ui.app import App
from game.ui.scenes.debrief import DebriefScene
from game.ui.scenes.handoff import HandoffScene
from game.ui.scenes.play import PlayScene
from game.ui.scenes.title import TitleScene
from tests.cli_helpers import ROOT

SIZES = [(1280, 800), (1920, 1080)]


# ----------------------------------------------------------------------------- helpers
def pump(app: App, frames: int = 3, dt: float = 1 / 60) -> None:
    for _ in range(frames):
        app.frame(dt)


def find(app: App, object_id: str):
    for element in app.manager.get_sprite_group().sprites():
        ids = element.get_object_ids()
        if ids and ids[-1] == object_id and element.alive():
            return element
    raise AssertionError(f"no widget {object_id}")


def click(app: App, pos: tuple[int, int], frames: int = 3) -> None:
    pygame.mouse.set_pos(pos)
    pump(app, 1)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=pos))
    pump(app, frames)


def press(app: App, key: int, mod: int = 0) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod, unicode="", scancode=0))
    pump(app, 2)


def reveal(app: App, scene: PlayScene, object_id: str):
    """Turn the lever panel's pages with its arrow button until the widget shows."""
    for _ in range(len(scene.panel.pages) + 1):
        try:
            return find(app, object_id)
        except AssertionError:
            click(app, find(app, "#lever_next").rect.center)
    raise AssertionError(f"{object_id} is on no page")


def choose(app: App, dropdown, option_text: str) -> None:
    """Open a drop-down (the title screen's) and click one of its options."""
    click(app, dropdown.current_state.selected_option_button.rect.center)
    items = dropdown.current_state.options_selection_list.item_list_container.elements
    item = next(e for e in items if e.text == option_text)
    click(app, item.rect.center, frames=6)


@pytest.fixture(params=SIZES[:1])
def app(request, tmp_path: Path):
    application = App(request.param, saves_dir=tmp_path / "saves", projections=False)
    yield application
    application.close()
    pygame.quit()


def play_scene(app: App, roles: list[str] | None = None, scenario=None) -> PlayScene:
    session = GameSession(scenario or "historical", roles=roles or ["us"], difficulty="easy", rng=3)
    scene = PlayScene(app, session)
    app.replace(scene)
    pump(app, 3)
    return scene


# ----------------------------------------------------------------------------- levers
def test_the_lever_panel_shows_what_is_in_force(app: App) -> None:
    """Choosing the October 2022 rule sets its thresholds: the sliders on the page show them
    at once; and a lever moved by anything else (a schedule, a bot) shows after the month,
    without turning the page away and back."""
    scene = play_scene(app, scenario="no_controls")  # no rule in force at the start
    session = scene.session
    rule = reveal(app, scene, "#lever-export_rule")
    tpp = find(app, "#lever-control_tpp")  # on the same page: no page turned from here on
    assert tpp.get_current_value() == 0
    for _ in range(10):
        if find(app, "#lever-export_rule").text.startswith("oct2022"):
            break
        click(app, find(app, "#lever-export_rule").rect.center)
    assert session.lever_value("export_rule") == "oct2022", rule.text
    in_force = session.lever_value("control_tpp")
    assert in_force > 0 and tpp.get_current_value() == round(in_force)
    label = scene.panel.by_element[tpp].value_label
    assert label is not None and str(round(in_force)) in label.text.replace(",", "")
    # a change that is not the panel's, as a schedule or a bot makes between months
    session.model.apply(PolicyChange("us", "control_tpp", 3000.0), source="schedule")
    scene.advance()
    pump(app, 2)
    assert find(app, "#lever-control_tpp") is tpp  # the same widget, not a rebuilt page
    assert tpp.get_current_value() == 3000
    # showing it is not deciding it: the only decision is the rule
    assert [d.change.lever for d in session.decisions] == ["export_rule"]


def test_cycling_away_from_an_embargo_is_one_decision_and_sticks(app: App) -> None:
    """The embargo box follows the tier button; clearing it for the player to see must not
    come back as a click that decides the tier again."""
    scene = play_scene(app)
    session = scene.session
    click(app, reveal(app, scene, "#embargo-china").rect.center)
    assert session.lever_value("destination", "china") == "embargoed"
    click(app, find(app, "#lever-destination-china").rect.center)
    chosen = session.lever_value("destination", "china")
    assert chosen != "embargoed"
    assert not find(app, "#embargo-china").is_checked
    pump(app, 4)
    assert session.lever_value("destination", "china") == chosen
    assert [d.change.lever for d in session.decisions] == ["destination"]  # one, coalesced


def test_an_embargo_on_china_reaches_the_model_and_legal_deliveries_drop(app: App) -> None:
    scene = play_scene(app)
    session = scene.session
    toggle = reveal(app, scene, "#embargo-china")
    click(app, toggle.rect.center)
    assert session.model.policy.get("destination", "china") == "embargoed"
    assert find(app, "#lever-destination-china").text.startswith("embargoed")
    assert [c.lever for _, c, src in session.model.command_log if src == "player"] == [
        "destination"
    ]
    china = session.model.country_ids.index("china")
    delivered, ghost_delivered = 0, 0
    step = find(app, "#step")
    for _ in range(4):
        click(app, step.rect.center)
        flows = scene.session.model.books.flows[:, china, [LEGAL, COMPLIANT]].sum()
        ghost = scene.session.ghost.books.flows[:, china, [LEGAL, COMPLIANT]].sum()
        delivered += int(flows)
        ghost_delivered += int(ghost)
    assert ghost_delivered > 10_000
    assert delivered == 0, "an embargo lets no US chip in legally"


def test_the_enforcement_slider_changes_the_model(app: App) -> None:
    scene = play_scene(app)
    slider = reveal(app, scene, "#lever-enforcement")
    before = scene.session.model.policy.get("enforcement")
    click(app, slider.right_button.rect.center)
    click(app, slider.right_button.rect.center)
    pump(app, 30, dt=1 / 30)  # the move settles, then becomes one decision
    after = scene.session.model.policy.get("enforcement")
    assert after > before
    assert len(scene.session.decisions) == 1


def test_the_model_access_slider_cuts_chinas_distillation(app: App) -> None:
    """The US player finds Model access limits on its lever pages; moving it changes how much
    of the gap China's labs close by distilling, in the model they play."""
    from agents.lab import distillation_share

    scene = play_scene(app)
    model = scene.session.model
    slider = reveal(app, scene, "#lever-model_access_controls")
    assert slider.rect.right <= app.screen.get_width()  # on screen, not clipped off it
    for _ in range(3):
        click(app, slider.right_button.rect.center)
    pump(app, 30, dt=1 / 30)
    cut = model.policy.get("model_access_controls")
    assert cut > 0
    # the cut applies to labs in restricted or embargoed countries: put a rule in force
    scene.session.decide("export_rule", "oct2023")
    scene.session.step()
    china = model.labs.bloc == model.china_bloc
    shares = distillation_share(model)
    assert shares[china] == pytest.approx(model.p.distillation_share * (1 - cut))
    assert (shares[~china] == model.p.distillation_share).all()


def test_keyboard_moves_a_lever_too(app: App) -> None:
    scene = play_scene(app)
    for _ in range(40):  # Tab runs on to the next page of levers where it must
        press(app, pygame.K_TAB)
        if scene.panel.focused() is not None and scene.panel.focused().lever.id == "enforcement":
            break
    assert scene.panel.focused().lever.id == "enforcement"
    press(app, pygame.K_RIGHT)
    pump(app, 30, dt=1 / 30)
    assert scene.session.model.policy.get("enforcement") > 1.0
    assert scene.session.model.turn == 0, "arrows on a lever do not step time"


# ----------------------------------------------------------------------------- time
def test_pause_and_step_advance_exactly_one_month(app: App) -> None:
    scene = play_scene(app, scenario="no_controls")  # no step of history to stop time
    assert scene.paused
    click(app, find(app, "#step").rect.center)
    assert scene.session.model.turn == 1
    pump(app, 120, dt=1 / 30)  # four seconds pass, paused: nothing moves
    assert scene.session.model.turn == 1
    press(app, pygame.K_RIGHT)
    assert scene.session.model.turn == 2
    click(app, find(app, "#speed_16").rect.center)
    assert not scene.paused
    pump(app, 30, dt=1 / 30)  # one second at 16x: eight months
    assert 8 <= scene.session.model.turn - 2 <= 10
    click(app, find(app, "#pause").rect.center)
    turn = scene.session.model.turn
    pump(app, 30, dt=1 / 30)
    assert scene.session.model.turn == turn


def test_a_tier_button_cycles_and_undo_takes_it_back(app: App) -> None:
    scene = play_scene(app, scenario="no_controls")  # China's tier starts open
    tier = reveal(app, scene, "#lever-destination-china")
    click(app, tier.rect.center)
    click(app, tier.rect.center)
    assert (
        scene.session.model.policy.get("destination", "china") == "restricted"
    )  # open > capped > restricted
    assert find(app, "#lever-destination-china").text.startswith("restricted")
    assert len(scene.session.decisions) == 1  # two clicks on one lever: one decision
    click(app, find(app, "#undo").rect.center)
    assert scene.session.model.policy.get("destination", "china") == "open"
    assert find(app, "#lever-destination-china").text.startswith("open")
    assert scene.session.decisions == []


# ----------------------------------------------------------------------------- save and load
def test_save_then_load_gives_the_same_world(app: App) -> None:
    scene = play_scene(app)
    scene.session.decide("enforcement", 2.5)
    for _ in range(3):
        click(app, find(app, "#step").rect.center)
    click(app, find(app, "#save").rect.center)
    path = app.saves_dir / "quicksave.scgame"
    assert path.exists()
    saved = scene.session.model.results().copy()
    click(app, find(app, "#step").rect.center)
    click(app, find(app, "#step").rect.center)
    pygame.event.post(pygame.event.Event(pygame_gui.UI_FILE_DIALOG_PATH_PICKED, text=str(path)))
    pump(app, 3)
    scene = app.scene
    assert isinstance(scene, PlayScene)
    assert scene.session.model.turn == 3
    assert scene.session.model.results().equals(saved)
    assert scene.session.model.policy.get("enforcement") == 2.5


def test_a_corrupt_save_shows_an_error_and_the_game_goes_on(app: App) -> None:
    scene = play_scene(app)
    click(app, find(app, "#step").rect.center)
    bad = app.saves_dir / "broken.scgame"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"PK\x03\x04 this is not a game")
    pygame.event.post(pygame.event.Event(pygame_gui.UI_FILE_DIALOG_PATH_PICKED, text=str(bad)))
    pump(app, 3)
    assert find(app, "#error").alive()
    assert app.running and app.scene is scene and scene.session.model.turn == 1
    click(app, find(app, "#step").rect.center)
    assert scene.session.model.turn == 2


# ----------------------------------------------------------------------------- scenes
def test_title_start_opens_the_game_with_the_chosen_role(app: App) -> None:
    app.replace(TitleScene(app))
    pump(app)
    choose(app, find(app, "#role"), "China's government")
    click(app, find(app, "#start").rect.center)
    press(app, pygame.K_RETURN)  # past the briefing
    assert isinstance(app.scene, PlayScene)
    assert app.scene.session.current_role == "china"
    find(app, "#lever-domestic_subsidy")


def test_hot_seat_hands_over_each_quarter(app: App) -> None:
    scene = play_scene(app, roles=["us", "china"])
    for _ in range(3):  # Oct, Nov, Dec: a quarter ends
        if isinstance(app.scene, HandoffScene):
            break
        click(app, find(app, "#step").rect.center)
    assert isinstance(app.scene, HandoffScene)
    press(app, pygame.K_RETURN)
    assert app.scene is scene and scene.session.current_role == "china"
    find(app, "#lever-domestic_subsidy")


@pytest.mark.parametrize("size", SIZES)
def test_every_scene_renders_at_both_sizes(size: tuple[int, int], tmp_path: Path) -> None:
    app = App(size, saves_dir=tmp_path, projections=False)
    try:
        app.replace(TitleScene(app))
        pump(app)
        app.screenshot(tmp_path / "title.png")
        scene = play_scene(app, roles=["us", "china"])
        L = scene.layout
        assert not L.map.colliderect(L.side) and not L.charts.colliderect(L.side)
        assert not L.map.colliderect(L.charts) and L.levers.bottom <= L.news.top
        bar = sorted((b.rect for b in scene.buttons.values()), key=lambda r: r.x)
        assert all(a.right <= b.left for a, b in zip(bar, bar[1:], strict=False)), (
            "top-bar buttons overlap"
        )
        assert scene.status.rect.right <= min(r.left for r in bar if r.x > scene.status.rect.x)
        click(app, scene.map.anchor("china"))  # a country's details
        find(app, "#country_china")
        click(app, find(app, "#why_china").rect.center)
        find(app, "#why_window_china")
        press(app, pygame.K_F1)
        find(app, "#help_window")
        app.screenshot(tmp_path / "play.png")
        press(app, pygame.K_ESCAPE)
        app.push(HandoffScene(app, scene.session))
        pump(app)
        app.pop()
        short = load_scenario("historical")
        short = dataclasses.replace(short, end=short.start + 5)
        session = GameSession(short, roles=["us"], rng=1)
        while not session.finished:
            session.step()
        app.replace(DebriefScene(app, session))
        pump(app)
        find(app, "#again")
        app.screenshot(tmp_path / "debrief.png")
    finally:
        app.close()
        pygame.quit()


def test_play_screenshot_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "main.py", "play", "--screenshot", str(out), "--autoplay", "6"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    image = pygame.image.load(str(out))
    assert image.get_size() == (1280, 800)


def test_play_without_a_display_runs_the_headless_default() -> None:
    proc = subprocess.run(
        [sys.executable, "main.py", "play"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("No display found")
    assert "2030" in proc.stdout


def test_the_window_can_be_resized(app: App) -> None:
    scene = play_scene(app)
    pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, w=1600, h=960, size=(1600, 960)))
    pump(app, 3)
    assert app.size == (1600, 960)
    assert scene.layout.side.right == 1600 and scene.layout.charts.bottom == 960
    click(app, find(app, "#step").rect.center)  # the rebuilt widgets work
    assert scene.session.model.turn == 1


# ----------------------------------------------------------------------------- the classroom
def lesson_scene(app: App, hidden: bool = False) -> PlayScene:
    # no rules in force and nothing scheduled: the news are the teams' own and the market's
    session = GameSession(
        "no_controls", roles=["us", "china"], difficulty="easy", rng=3, months=24,
        hidden=hidden,
    )
    scene = PlayScene(app, session)
    app.replace(scene)
    pump(app, 3)
    return scene


def test_the_facilitator_injects_an_event_that_reaches_the_model_and_the_news(app: App) -> None:
    scene = lesson_scene(app)
    click(app, find(app, "#facilitator").rect.center)
    find(app, "#facilitator_window")
    click(app, find(app, "#event_customs_crackdown").rect.center)
    session = scene.session
    assert [x["id"] for x in session.injected] == ["customs_crackdown"]
    assert session.model.shocks[-1].event == "customs_crackdown"
    assert session.ghost.shocks[-1].event == "customs_crackdown"
    click(app, find(app, "#step").rect.center)
    headline = "Singapore, Malaysia and the UAE tighten checks on re-exported AI servers"
    assert any(headline in line for line in scene.news_texts), "not in the news feed"
    singapore = session.model.country_ids.index("singapore")
    ghost_free = GameSession("historical", ["us", "china"], difficulty="easy", rng=3, months=24)
    ghost_free.step()
    assert (
        session.model.view.route_risk[singapore] > 2 * ghost_free.model.view.route_risk[singapore]
    )
    press(app, pygame.K_F9)  # the same key closes it
    with pytest.raises(AssertionError):
        find(app, "#facilitator_window")


def test_pause_everyone_holds_time_and_levers_until_resumed(app: App) -> None:
    scene = lesson_scene(app)
    session = scene.session
    slider = reveal(app, scene, "#lever-enforcement")  # pages do not turn while frozen
    press(app, pygame.K_F9)
    click(app, find(app, "#fac_pause").rect.center)
    assert scene.frozen and scene.paused
    month = session.model.turn
    press(app, pygame.K_SPACE)  # a team tries to play on
    click(app, find(app, "#step").rect.center)
    press(app, pygame.K_RIGHT)
    pump(app, 120, dt=1 / 30)
    assert session.model.turn == month and scene.paused
    click(app, slider.right_button.rect.center)
    pump(app, 30, dt=1 / 30)
    assert session.decisions == [] and session.model.policy.get("enforcement") == 1.0
    app.screenshot(app.saves_dir.parent / "frozen.png")
    click(app, find(app, "#fac_pause").rect.center)
    assert not scene.frozen
    click(app, find(app, "#step").rect.center)
    assert session.model.turn == month + 1
    click(app, slider.right_button.rect.center)
    pump(app, 30, dt=1 / 30)
    assert [d.change.lever for d in session.decisions] == ["enforcement"]


def test_hide_and_reveal_the_teams_decisions(app: App) -> None:
    scene = lesson_scene(app)
    session = scene.session
    session.decide("enforcement", 3.0)
    for _ in range(3):
        click(app, find(app, "#step").rect.center)
    assert isinstance(app.scene, HandoffScene)
    click(app, find(app, "#handoff").rect.center)  # the panel; its button is inside
    press(app, pygame.K_RETURN)
    assert session.current_role == "china" and app.scene is scene
    texts = " ".join(scene.news_texts)
    assert "enforcement" in texts  # not hidden yet
    press(app, pygame.K_F9)
    click(app, find(app, "#fac_hidden").rect.center)
    assert session.hidden
    texts = " ".join(scene.news_texts)
    assert "enforcement" not in texts and "a decision (hidden" in texts
    click(app, find(app, "#fac_hidden").rect.center)
    assert not session.hidden
    assert "enforcement" in " ".join(scene.news_texts)


def test_a_lesson_opens_on_its_introduction(app: App, tmp_path: Path) -> None:
    from game.config.lesson import lesson_names, load_lesson
    from game.ui.scenes.lesson_intro import LessonIntroScene

    lesson = load_lesson(lesson_names()[0])
    session = GameSession.from_lesson(lesson)
    app.replace(PlayScene(app, session))
    app.push(LessonIntroScene(app, session))
    pump(app)
    body = find(app, "#lesson_body")
    assert lesson.spec.summary.split()[0] in body.html_text
    press(app, pygame.K_SPACE)  # the game waits: space does not start time
    assert isinstance(app.scene, LessonIntroScene)
    click(app, find(app, "#lesson_start").rect.center)
    assert isinstance(app.scene, PlayScene) and session.model.turn == 0


def test_the_end_of_a_game_writes_the_debrief_report(app: App) -> None:
    import time

    session = GameSession("historical", roles=["us"], rng=1, months=6)
    session.decide("enforcement", 2.0)
    session.lesson = {"name": "tiny", "title": "Tiny", "questions": ["Why?"], "events": None}
    while not session.finished:
        session.step()
    scene = DebriefScene(app, session)
    app.replace(scene)
    deadline = time.monotonic() + 60
    while scene.report_path is None and scene.report_error is None:
        assert time.monotonic() < deadline
        pump(app, 2)
    assert scene.report_error is None, scene.report_error
    assert scene.report_path.parent == app.saves_dir / "reports"
    assert GameSession.load(scene.report_path.with_suffix(".scgame")).model.turn == 6
    text = scene.report_path.read_text(encoding="utf-8")
    assert "Why?" in text and "data:image/png;base64," in text
    assert find(app, "#open_report").is_enabled
    status = find(app, "#report_status")
    assert "Report: " in status.text
    click(app, find(app, "#questions").rect.center)
    find(app, "#questions_window")
    # then the same report again, with China's gap over sampled futures, written over it
    while scene.band_pending:
        assert time.monotonic() < deadline
        pump(app, 2)
    assert scene.band_ready
    text = scene.report_path.read_text(encoding="utf-8")
    assert f"{app.report_futures} futures, each a seed and a draw" in text
    status = find(app, "#report_status")  # the whole line is its tooltip when cut
    assert "sampled futures)" in (status.tool_tip_text or status.text)


def test_quitting_while_the_report_is_written_ends_its_process(app: App) -> None:
    """The band over sampled futures takes a while: closing the game must not wait for it,
    nor leave its process behind."""
    import time

    session = GameSession("historical", roles=["us"], rng=1, months=36)
    while not session.finished:
        session.step()
    scene = DebriefScene(app, session)
    app.replace(scene)
    assert scene.writer is not None and scene.band_pending
    process = scene.writer.process
    assert process.is_alive()
    started = time.monotonic()
    app.close()
    assert not process.is_alive()
    assert time.monotonic() - started < 3


def test_history_s_next_step_is_offered_and_adopted_with_a_click(app: App) -> None:
    """Playing the US: the October 2022 rule is in force from the first screen; when the
    October 2023 rule comes due, time stops and the window offers it; Adopt makes it the
    player's decision, and the panel shows it at once."""
    scene = play_scene(app)
    session = scene.session
    assert find(app, "#lever-export_rule").text.startswith("oct2022")
    for _ in range(12):
        scene.advance()
        if scene.prop_window is not None and any(
            p.change.lever == "export_rule" for p in session.due_proposals()
        ):
            break
    pump(app, 2)
    assert scene.paused and scene.prop_window is not None and scene.prop_window.alive()
    due = session.due_proposals()
    rule = next(i for i, p in enumerate(due) if p.change.lever == "export_rule")
    click(app, find(app, f"#proposal_adopt_{rule}").rect.center)
    assert session.lever_value("export_rule") == "oct2023"
    assert [d.change.lever for d in session.decisions] == ["export_rule"]
    assert reveal(app, scene, "#lever-export_rule").text.startswith("oct2023")
    # the tool-control step stays on offer until ignored
    tools = next(
        i for i, p in enumerate(session.due_proposals()) if p.change.lever == "fab_tool_controls"
    )
    click(app, find(app, f"#proposal_ignore_{tools}").rect.center)
    assert not any(p.change.lever == "fab_tool_controls" for p in session.due_proposals())
