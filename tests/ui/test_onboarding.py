"""A new player's first minutes: a briefing in plain words before the first month, hints that
point at the next thing to try, tooltips without jargon or file names, and a debrief that says
whether each goal was met."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from game.config.levers import default_policy_spec
from game.config.texts import text as tr
from game.play.objectives import ROLES
from game.play.session import GameSession
from game.ui.app import App
from game.ui.scenes.briefing import BriefingScene, briefing_text
from game.ui.scenes.debrief import DebriefScene
from game.ui.scenes.play import HINT_MONTHS, PlayScene
from game.ui.scenes.title import TitleScene
from tests.ui.test_ui import click, find, pump


@pytest.fixture
def app(tmp_path: Path):
    application = App((1280, 800), saves_dir=tmp_path / "saves", projections=False)
    yield application
    application.close()


def test_every_lever_speaks_the_players_language() -> None:
    """The game's tooltips and briefings use `says`: no file names, no parameter names."""
    for lever in default_policy_spec().levers.values():
        assert lever.says and lever.says != lever.does, lever.id
        assert ".yaml" not in lever.says and "/" not in lever.says, lever.id
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", lever.says), (lever.id, lever.says)


@pytest.mark.parametrize("role", list(ROLES))
def test_the_briefing_says_the_situation_what_is_in_force_the_goal_and_every_lever(
    role: str,
) -> None:
    s = GameSession("historical", [role])
    text = briefing_text(s)
    r = s.role
    assert r.situation[:40] in text and r.watch[:40] in text and r.objective in text
    for lever in s.levers():
        assert lever.name in text and lever.says in text and lever.mirrors in text
    if role == "us":  # the October 2022 rule is in force, and said so
        assert "Export rule in force: oct2022" in text
        assert "Export tier, China: restricted" in text
        assert tr("briefing_proposals")[:40] in text


def test_a_new_game_opens_on_the_briefing_and_start_begins_it(app: App) -> None:
    app.replace(TitleScene(app, "historical", "us", "normal", 2022))
    pump(app, 2)
    click(app, find(app, "#start").rect.center)
    assert isinstance(app.scene, BriefingScene)
    assert "The situation" in find(app, "#briefing_body").html_text
    click(app, find(app, "#briefing_hints").rect.center)  # hints off
    assert app.hints is False
    click(app, find(app, "#briefing_start").rect.center)
    assert isinstance(app.scene, PlayScene)
    assert app.scene.hint() is None and not find(app, "#hint").visible


def test_hints_point_at_the_next_thing_to_try_and_end(app: App) -> None:
    s = GameSession("historical", ["us"], difficulty="easy", rng=3)
    scene = PlayScene(app, s)
    app.replace(scene)
    pump(app, 2)
    box = find(app, "#hint")
    assert box.visible and box.html_text == tr("hints_0")
    s.decide("enforcement", 2.0)
    scene._after_decision()
    pump(app, 1)
    assert find(app, "#hint").html_text == tr("hints_1")
    scene.advance()
    pump(app, 1)
    assert find(app, "#hint").html_text == tr("hints_2")
    for _ in range(HINT_MONTHS):
        scene.advance()
        if scene.prop_window is not None:
            scene.prop_window.kill()
    pump(app, 1)
    assert scene.hint() is None and not find(app, "#hint").visible


def test_the_hints_close_with_their_button(app: App) -> None:
    scene = PlayScene(app, GameSession("historical", ["us"], difficulty="easy", rng=3))
    app.replace(scene)
    pump(app, 2)
    click(app, find(app, "#hint_close").rect.center)
    assert app.hints is False and not find(app, "#hint").visible


def test_the_debrief_says_whether_each_goal_was_met(app: App) -> None:
    s = GameSession("historical", ["us", "china"], rng=1, months=6)
    while not s.finished:
        s.step()
        if s.handoff_due:
            s.next_player()
    app.auto_report = False
    app.replace(DebriefScene(app, s))
    pump(app, 2)
    text = find(app, "#scores").html_text
    for r in s.roles:
        verdict = tr("debrief_met") if s.score(r).met else tr("debrief_missed")
        assert f"{ROLES[r].name}: {verdict}." in text
