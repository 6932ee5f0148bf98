"""Forty seats in five teams play the role-play lesson's twelve turns through a real host:
no order lost or applied twice, each turn resolved within a second of its last order, the
memory the class adds to the host bounded, and the report served at the end. About 20 s;
capped at 60 s."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx

from game.config.lesson import load_lesson
from game.net.room import Room
from game.net.server import HostServer
from game.net.store import RoomStore
from game.play.session import GameSession
from tests.net.load import expected_decisions, initial_values, play_class, rss_mb

LIMIT_SECONDS = 60


def test_forty_seats_play_the_role_play_lesson(tmp_path: Path) -> None:
    before = rss_mb()
    store = RoomStore(tmp_path)
    room = Room(GameSession.from_lesson(load_lesson("role_play")), persist=store.save)
    assert (room.teams, room.turns) == (["us", "vendor", "china", "lab", "transit"], 12)
    initial = initial_values(room)
    server = HostServer(room, "127.0.0.1", 0, report_path=store.report_path)
    server.start()
    try:
        figures = asyncio.run(asyncio.wait_for(play_class(server, 40), LIMIT_SECONDS))
        made = Counter(
            (d.role, d.change.lever, d.date, d.change.value) for d in room.session.decisions
        )
        assert made == expected_decisions(room, initial)
        assert room.resolved == list(range(1, 13)) and room.status == "ended"
        assert len(figures.latencies) == 12 and max(figures.latencies) < 1.0, figures.latencies
        # only a retry or a draft sent after its turn (or the game) closed
        assert set(figures.refused) <= {"turn", "ended"}
        # what the class adds to the process the host runs in: this test's process has loaded
        # whatever earlier tests loaded (and compiled the month's kernels on a fresh clone), so
        # its absolute size says little; bench_host.py measures a host process on its own
        assert rss_mb() - before < 150
        deadline = time.monotonic() + 30
        while not room.report_ready and time.monotonic() < deadline:
            time.sleep(0.1)
        token = next(iter(room.seats))
        page = httpx.get(f"http://127.0.0.1:{server.port}/report", params={"token": token})
        assert page.status_code == 200 and "<html" in page.text.lower()
    finally:
        server.stop()
