"""Nothing lost: leaving a game asks first, every month is autosaved (and the game it was on
is written when the app closes), the title screen continues the last game and opens the
lessons. Driven by clicks on real widgets, headless."""

from __future__ import annotations

import time
from pathlib import Path

import pygame
import pytest

from game.play.session import GameSession
from game.ui.app import App
from game.ui.scenes.handoff import HandoffScene
from game.ui.scenes.lesson_intro import LessonIntroScene
from game.ui.scenes.play import PlayScene
from game.ui.scenes.title import TitleScene
from tests.ui.test_ui import click, find, press, pump


@pytest.fixture
def app(tmp_path: Path):
    application = App((1280, 800), saves_dir=tmp_path / "saves", projections=False)
    yield application
    application.close()
    pygame.quit()


def game(app: App, roles: list[str] | None = None) -> PlayScene:
    # no rules in force and nothing scheduled: no step of history stops time
    session = GameSession("no_controls", roles=roles or ["us"], difficulty="easy", rng=3)
    scene = PlayScene(app, session)
    app.replace(scene)
    pump(app, 3)
    return scene


def wait_for_autosave(app: App, path: Path, turn: int) -> dict:
    """Pump frames until the background write of month `turn` is on disk."""
    deadline = time.monotonic() + 20
    while True:
        pump(app, 2)
        if path.exists():
            meta = GameSession.peek(path)
            if meta["turn"] == turn:
                return meta
        assert time.monotonic() < deadline, "no autosave of the month"
        time.sleep(0.05)


def test_menu_asks_and_keep_playing_keeps_the_game(app: App) -> None:
    scene = game(app)
    click(app, find(app, "#step").rect.center)
    click(app, find(app, "#menu").rect.center)
    dialog = find(app, "#confirm_leave")
    assert "autosaved" in dialog.confirmation_text.html_text
    assert app.scene is scene, "Menu left the game without asking"
    click(app, dialog.cancel_button.rect.center)
    assert app.scene is scene and scene.session.model.turn == 1
    with pytest.raises(AssertionError):
        find(app, "#confirm_leave")
    click(app, find(app, "#step").rect.center)  # the game goes on
    assert scene.session.model.turn == 2


def test_leaving_then_continue_restores_month_decisions_and_role(app: App) -> None:
    scene = game(app, roles=["us", "china"])
    session = scene.session
    session.decide("enforcement", 2.5)
    for _ in range(3):  # a quarter: the hand-over to China
        click(app, find(app, "#step").rect.center)
    assert isinstance(app.scene, HandoffScene)
    press(app, pygame.K_RETURN)
    assert app.scene is scene and session.current_role == "china"
    session.decide("domestic_subsidy", 0.5)
    click(app, find(app, "#step").rect.center)
    results = session.model.results().copy()
    click(app, find(app, "#menu").rect.center)
    click(app, find(app, "#confirm_leave").confirm_button.rect.center, frames=4)
    assert isinstance(app.scene, TitleScene)
    button = find(app, "#continue")
    assert button.is_enabled
    assert "month 4 of" in find(app, "#continue_info").text
    click(app, button.rect.center, frames=4)
    assert isinstance(app.scene, PlayScene)
    back = app.scene.session
    assert back is not session
    assert back.model.turn == 4 and back.current_role == "china"
    assert [(d.role, d.change.lever, d.change.value) for d in back.decisions] == [
        (d.role, d.change.lever, d.change.value) for d in session.decisions
    ]
    assert back.model.results().equals(results)
    assert back.model.policy.get("enforcement") == 2.5
    find(app, "#lever-domestic_subsidy")  # China's levers: the seat it was left in


def test_without_an_autosave_continue_is_disabled(app: App) -> None:
    app.replace(TitleScene(app))
    pump(app)
    assert not find(app, "#continue").is_enabled


def test_a_month_played_is_autosaved(app: App) -> None:
    scene = game(app)
    path = app.saves_dir / "autosave.scgame"
    assert not path.exists()
    scene.session.decide("enforcement", 2.0)
    click(app, find(app, "#step").rect.center)
    meta = wait_for_autosave(app, path, 1)
    assert meta["current_role"] == "us" and meta["scenario"] == "no_controls"
    saved = GameSession.load(path)
    assert saved.model.policy.get("enforcement") == 2.0
    assert app.autosaver.seconds and max(app.autosaver.seconds) < 2


def test_a_failed_autosave_is_said_and_the_game_goes_on(app: App) -> None:
    app.saves_dir.parent.mkdir(parents=True, exist_ok=True)
    app.saves_dir.write_text("a file where the saves folder should be")
    scene = game(app)
    click(app, find(app, "#step").rect.center)
    deadline = time.monotonic() + 20
    while True:
        pump(app, 2)
        try:
            window = find(app, "#autosave_error")
            break
        except AssertionError:
            assert time.monotonic() < deadline, "the failed autosave was not said"
            time.sleep(0.05)
    assert window.alive() and scene.message.startswith("Autosave failed")
    assert app.running and app.scene is scene
    click(app, find(app, "#step").rect.center)
    assert scene.session.model.turn == 2


def test_leaving_when_the_autosave_fails_asks_again(app: App) -> None:
    app.saves_dir.parent.mkdir(parents=True, exist_ok=True)
    app.saves_dir.write_text("not a folder")
    scene = game(app)
    click(app, find(app, "#menu").rect.center)
    click(app, find(app, "#confirm_leave").confirm_button.rect.center, frames=4)
    assert app.scene is scene, "left a game that could not be saved without saying so"
    dialog = find(app, "#confirm_leave_unsaved")
    click(app, dialog.confirm_button.rect.center, frames=4)
    assert isinstance(app.scene, TitleScene)


def test_the_title_lists_the_lessons_and_starts_one(app: App) -> None:
    from game.config.lesson import lesson_names, load_lesson

    app.replace(TitleScene(app))
    pump(app)
    click(app, find(app, "#lessons").rect.center)
    find(app, "#lessons_window")
    name = lesson_names()[0]
    click(app, find(app, f"#lesson_{name}").rect.center, frames=4)
    assert isinstance(app.scene, LessonIntroScene)
    session = app.scene.session
    assert session.lesson is not None and session.lesson["name"] == name
    assert session.roles == list(load_lesson(name).spec.roles)
    click(app, find(app, "#lesson_start").rect.center)
    assert isinstance(app.scene, PlayScene) and app.scene.session is session


def test_closing_the_app_mid_game_leaves_an_autosave(app: App) -> None:
    scene = game(app)
    scene.session.decide("enforcement", 3.0)  # decided this month, not yet played
    click(app, find(app, "#step").rect.center)
    scene.session.decide("enforcement", 2.0)
    app.close()
    path = app.saves_dir / "autosave.scgame"
    saved = GameSession.load(path)
    assert saved.model.turn == 1 and saved.model.policy.get("enforcement") == 2.0


def test_closing_the_window_asks_first(app: App) -> None:
    game(app)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    pump(app, 2)
    assert app.running
    click(app, find(app, "#confirm_quit").confirm_button.rect.center)
    assert not app.running


def test_a_lesson_continues_as_a_lesson(app: App) -> None:
    from game.config.lesson import load_lesson

    session = GameSession.from_lesson(load_lesson("role_play"))
    app.play(session, intro=True)
    pump(app)
    click(app, find(app, "#lesson_start").rect.center)
    scene = app.scene
    click(app, find(app, "#step").rect.center)
    click(app, find(app, "#menu").rect.center)
    click(app, find(app, "#confirm_leave").confirm_button.rect.center, frames=4)
    assert (app.saves_dir / "autosave-role_play.scgame").exists()
    assert scene.session.hidden
    click(app, find(app, "#continue").rect.center, frames=4)
    back = app.scene.session
    assert back.lesson["name"] == "role_play" and back.hidden and back.model.turn == 1


def test_a_finished_game_is_not_offered_as_continue(app: App) -> None:
    session = GameSession("no_controls", roles=["us"], difficulty="easy", rng=3, months=3)
    app.auto_report = False
    scene = PlayScene(app, session)
    app.replace(scene)
    pump(app)
    for _ in range(3):
        click(app, find(app, "#step").rect.center)
    assert session.finished
    assert GameSession.peek(app.saves_dir / "autosave.scgame")["turn"] == 3
    app.replace(TitleScene(app))
    pump(app)
    assert not find(app, "#continue").is_enabled
