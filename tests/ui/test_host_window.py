"""The projector's window of a networked class, driven as a teacher drives it: the real host
serving on a free port, the window headless, its buttons clicked. What it shows (the join
address, its QR code, the code, the teams) fits at every supported size, and every control
reaches the room the students' pages are served from."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pygame
import pygame_gui
import pytest

from game.config.lesson import load_lesson
from game.net.room import Room
from game.net.server import HostServer
from game.play.session import GameSession
from game.ui.app import App
from game.ui.scenes.host import HostScene, qr_surface
from tests.ui.test_text_fits import SIZES, widget_problems
from tests.ui.test_ui import click, find, pump


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HostServer]:
    room = Room(GameSession.from_lesson(load_lesson("role_play")))
    host = HostServer(room, port=0, report_path=tmp_path / "report.html")
    host.start()
    try:
        yield host
    finally:
        host.stop()


def open_window(size: tuple[int, int], server: HostServer, tmp_path: Path) -> App:
    app = App(
        size, saves_dir=tmp_path / "saves", projections=False, auto_report=False, autosave=False
    )
    app.replace(HostScene(app, server))
    pump(app, 2)
    return app


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_how_to_join_fits_and_is_large(size, server: HostServer, tmp_path: Path) -> None:
    room = server.room
    for team in ("us", "china", "us"):
        room.join(room.code, team)
    app = open_window(size, server, tmp_path)
    try:
        scene = app.scene
        assert isinstance(scene, HostScene)
        assert widget_problems(app, "host") == []
        # read from the back of the room: the QR code at least 240 px, the code 40 px tall
        assert scene.qr.get_width() >= 240
        assert scene.left.contains(scene.qr.get_rect(center=scene.qr_rect.center))
        assert scene.url_img.get_width() <= scene.left.width
        assert scene.code_img.get_height() >= 40
        teams = find(app, "#host_teams")
        assert "US government" in teams.html_text and "seats 2" in teams.html_text
        assert teams.scroll_bar is None  # every team shows without scrolling
        # never the facilitator's secret on the one screen every student sees
        shown = " ".join(
            getattr(e, "html_text", "") or getattr(e, "text", "")
            for e in app.manager.get_sprite_group().sprites()
        )
        assert room.key not in shown and "facilitator#" not in shown
    finally:
        app.close()


def test_the_controls_act_on_the_room(server: HostServer, tmp_path: Path) -> None:
    room = server.room
    us = room.join(room.code, "us")
    app = open_window((1280, 800), server, tmp_path)

    def press(object_id: str) -> None:
        click(app, find(app, object_id).rect.center)
        pump(app, 40)  # past the scene's next reading of the room

    try:
        assert room.status == "lobby"
        press("#host_start")
        assert room.status == "open"
        assert not find(app, "#host_start").is_enabled

        press("#host_pause")
        assert room.status == "paused"
        assert find(app, "#host_pause").text == "Resume"
        press("#host_pause")
        assert room.status == "open"

        press("#host_inject")
        assert [e["id"] for e in room.session.injected] == [room.session.allowed_events[0]]

        hidden = room.session.hidden
        press("#host_reveal")
        assert room.session.hidden is not hidden

        assert room.seat(us.token).team == "us"  # seated, not submitted: the turn waits
        month = room.session.model.turn
        press("#host_close_turn")
        assert room.turn == 2 and room.session.model.turn == month + room.session.turn_months
        assert "2 of" in find(app, "#host_status").html_text

        press("#host_end")
        dialog = find(app, "#host_end_dialog")
        click(app, dialog.confirm_button.rect.center)
        pump(app, 40)
        assert room.status == "ended"
        deadline = time.monotonic() + 30
        while not room.report_ready and time.monotonic() < deadline:
            time.sleep(0.2)
        assert room.report_ready  # the server wrote every team's debrief report
        assert not find(app, "#host_end").is_enabled
    finally:
        app.close()


def test_an_action_the_room_refuses_is_said_not_raised(server: HostServer, tmp_path: Path) -> None:
    app = open_window((1280, 800), server, tmp_path)
    try:
        scene = app.scene
        scene._act(server.room.close_turn)  # in the lobby: no turn to close
        pump(app, 2)
        assert find(app, "#error").alive()
    finally:
        app.close()


def test_qr_code_has_whole_modules_and_a_quiet_zone() -> None:
    surf = qr_surface("http://192.168.1.20:8765/?room=ABC234", 300)
    w, h = surf.get_size()
    assert w == h and 200 <= w <= 300
    assert surf.get_at((2, 2))[:3] == (255, 255, 255)  # the quiet zone is white
    dark = sum(surf.get_at((x, y))[:3] == (0, 0, 0) for x in range(0, w, 4) for y in range(0, h, 4))
    assert dark > 0


def test_closing_the_window_asks_while_the_class_plays(server: HostServer, tmp_path: Path) -> None:
    app = open_window((1280, 800), server, tmp_path)
    try:
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        pump(app, 2)
        assert app.running and find(app, "#confirm_quit").alive()
        assert pygame_gui  # the dialog is pygame_gui's own
    finally:
        app.close()
