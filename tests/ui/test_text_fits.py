"""No text clips or overlaps, on any screen, at the smallest, the default and a large window.

Every scene is drawn headless (the title, the play screen for each role, a five-team lesson with
its introduction and hand-off screen, the five-team debrief, the help, why?, country and
facilitator windows) and checked three ways:

- each pygame_gui label and button: its text, in its own font, is no wider than the room its
  widget gives it (pygame_gui cuts a label's text silently), and the widget lies inside its
  container and the window;
- the text boxes the design means to show whole (the objective, the debrief's scores) need no
  scroll bar;
- the text the game draws itself (charts, the map, messages; game/ui/text.py notes where each
  lands) stays inside its panel and overlaps no other text, nor a widget with text.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pygame
import pytest
from pygame_gui.core import UIContainer
from pygame_gui.elements import UIButton, UILabel, UITextBox

from game.config.lesson import load_lesson
from game.config.texts import text as tr
from game.play.session import GameSession
from game.ui import text
from game.ui.app import App
from game.ui.scenes.briefing import BriefingScene
from game.ui.scenes.debrief import DebriefScene
from game.ui.scenes.handoff import HandoffScene
from game.ui.scenes.lesson_intro import LessonIntroScene
from game.ui.scenes.play import PlayScene
from game.ui.scenes.title import TitleScene
from tests.ui.test_ui import find, pump

SIZES = [(1024, 700), (1280, 800), (1920, 1080)]
ROLES = ["us", "china", "vendor", "lab", "transit"]
LESSON = "role_play"  # five teams


@pytest.fixture(scope="module")
def sessions() -> dict[str, GameSession]:
    """Games a few months in (news, lines on the charts), drawn at every size."""
    games = {"start": GameSession("historical", roles=["us"], difficulty="easy", rng=3)}
    for role in ROLES:
        s = GameSession("historical", roles=[role], difficulty="easy", rng=3)
        for _ in range(14):
            s.step()
        games[role] = s
    lesson = GameSession.from_lesson(load_lesson(LESSON))
    for _ in range(9):
        lesson.step()
        if lesson.handoff_due:
            lesson.next_player()
    games["lesson"] = lesson
    done = GameSession.from_lesson(load_lesson(LESSON))
    while not done.finished:
        done.step()
        if done.handoff_due:
            done.next_player()
    games["debrief"] = done
    return games


# ----------------------------------------------------------------------------- the checks
def _widgets(app: App) -> list:
    return [
        e
        for e in app.manager.get_sprite_group().sprites()
        if e.alive() and getattr(e, "visible", True) and isinstance(e, (UILabel, UIButton))
    ]


def _root(app: App) -> UIContainer:
    return app.manager.get_root_container()


def widget_problems(app: App, where: str) -> list[str]:
    """Labels and buttons whose text is wider than their room, or that lie outside their
    container or the window."""
    problems = []
    screen = pygame.Rect((0, 0), app.size)
    for e in _widgets(app):
        if not e.text:
            continue
        shape = getattr(e, "drawable_shape", None)
        room = e.rect.width
        if shape is not None:  # inside the border, and padding on both sides
            view = shape.text_view_rect
            room = min(view.width, e.rect.width - 2 * view.x)
        width = e.font.size(e.text)[0]
        if width > room:
            problems.append(f"{where}: {e.text!r} is {width} px in {room} px ({e.object_ids})")
        container = e.ui_container
        if container is not None and container is not _root(app):
            if not container.rect.contains(e.rect):
                problems.append(f"{where}: {e.text!r} runs out of its container")
        if not screen.contains(e.rect):
            problems.append(f"{where}: {e.text!r} runs off the window {e.rect}")
    return problems


def box_problems(app: App, where: str, *object_ids: str) -> list[str]:
    """Text boxes meant to be read whole that need a scroll bar."""
    problems = []
    for oid in object_ids:
        box = find(app, oid)
        assert isinstance(box, UITextBox)
        if box.scroll_bar is not None:
            problems.append(f"{where}: {oid} needs a scroll bar")
    return problems


def drawn_problems(app: App, where: str) -> list[str]:
    """Text the game draws itself: inside its panel, clear of other text and of the widgets
    with text on the screen (not those in windows)."""
    problems = []
    placed = text.placed()
    for p in placed:
        if not p.bounds.contains(p.rect):
            problems.append(f"{where}: {p.text!r} ({p.key}) runs out of its panel")
    for a, b in itertools.combinations(placed, 2):
        if a.rect.colliderect(b.rect):
            problems.append(f"{where}: {a.text!r} ({a.key}) overlaps {b.text!r} ({b.key})")
    root = _root(app)
    widgets = [e for e in _widgets(app) if e.text and e.ui_container is root]
    for p in placed:
        for e in widgets:
            if p.rect.colliderect(e.rect):
                problems.append(f"{where}: {p.text!r} ({p.key}) is under {e.text!r}")
    for a, b in itertools.combinations(widgets, 2):
        if _text_rect(a).colliderect(_text_rect(b)):
            problems.append(f"{where}: {a.text!r} overlaps {b.text!r}")
    return problems


def _text_rect(e) -> pygame.Rect:
    """A widget's line of text: its width, as tall as the text, centred (as drawn)."""
    height = e.font.size(e.text)[1]
    return pygame.Rect(e.rect.x, e.rect.centery - height // 2, e.rect.width, height)


def show(app: App, scene) -> None:
    text.start()  # only what this scene draws
    app.replace(scene)
    pump(app, 2)


# ----------------------------------------------------------------------------- the test
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_no_text_clips_or_overlaps(
    size: tuple[int, int], sessions: dict[str, GameSession], tmp_path: Path, monkeypatch
) -> None:
    # the longest note the capability chart shows when a projection is in
    monkeypatch.setattr(
        "game.ui.scenes.play._fan_note",
        lambda fan, current: tr("fan_first_look", n=8, of=32),
    )
    # and the line that says the rest of the fan is still being computed
    monkeypatch.setattr(GameSession, "fan_pending", property(lambda self: True))
    app = App(size, saves_dir=tmp_path / "saves", projections=False, auto_report=False)
    problems: list[str] = []
    try:
        show(app, TitleScene(app))
        problems += widget_problems(app, "title") + drawn_problems(app, "title")

        for role in ["start", *ROLES]:  # the first screen: empty charts, their notes
            scene = PlayScene(app, sessions[role])
            show(app, scene)
            where = f"play {role}"
            problems += widget_problems(app, where) + drawn_problems(app, where)
            problems += box_problems(app, where, "#objective")
        # the US screen: a saved game's message, then each window over the map
        scene.save()  # type: ignore[possibly-undefined]
        pump(app, 1)
        problems += drawn_problems(app, "play message")
        scene = PlayScene(app, sessions["us"])
        show(app, scene)
        scene.open_help()
        scene.open_why("china")
        scene.open_country("china")
        scene.open_facilitator()
        scene.open_proposals()
        pump(app, 2)
        problems += widget_problems(app, "play windows")

        lesson = sessions["lesson"]
        scene = PlayScene(app, lesson)
        show(app, scene)
        problems += widget_problems(app, "lesson play") + drawn_problems(app, "lesson play")
        app.push(LessonIntroScene(app, lesson))
        pump(app, 2)
        problems += widget_problems(app, "lesson intro")
        app.pop()
        app.push(HandoffScene(app, lesson))
        pump(app, 2)
        problems += widget_problems(app, "hand-off")
        app.pop()
        for role in ROLES:  # each role's briefing over its first screen
            scene = PlayScene(app, sessions["start"] if role == "us" else sessions[role])
            show(app, scene)
            app.push(BriefingScene(app, scene.session))
            pump(app, 2)
            problems += widget_problems(app, f"briefing {role}")
            app.pop()

        debrief = DebriefScene(app, sessions["debrief"])
        show(app, debrief)
        # the longest report line: its path, while the futures band is on its way
        debrief.report_path = app.saves_dir / "reports" / "role_play-20250101-120000.html"
        debrief.band_pending = True
        debrief._show_report_state()
        pump(app, 2)
        problems += widget_problems(app, "debrief") + drawn_problems(app, "debrief")
        problems += box_problems(app, "debrief", "#scores")
    finally:
        text.stop()
        app.close()
        pygame.quit()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
