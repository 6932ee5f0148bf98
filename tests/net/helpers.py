"""Shared set-up of the classroom host's tests: a small two-team room, a served room, and a
WebSocket client that reads until the message it waits for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from game.net.room import Room
from game.net.server import HostServer
from game.net.store import RoomStore
from game.play.session import GameSession

US_ORDER = {"lever": "enforcement", "target": None, "value": 2.0}
CHINA_ORDER = {"lever": "domestic_subsidy", "target": None, "value": 0.5}


def small_room(folder: Path | None = None, hidden: bool = False) -> Room:
    """US and China, 12 months in turns of 3: four turns."""
    session = GameSession("historical", ["us", "china"], months=12, turn_months=3, hidden=hidden)
    store = RoomStore(folder) if folder is not None else None
    return Room(session, persist=store.save if store else None)


def served(folder: Path, room: Room | None = None) -> HostServer:
    room = room or small_room(folder)
    server = HostServer(room, "127.0.0.1", 0, report_path=folder / "report.html")
    server.start()
    return server


async def recv_until(ws: Any, want: Callable[[dict[str, Any]], bool], limit: int = 200) -> dict:
    """The first message `want` accepts (messages before it are skipped)."""
    for _ in range(limit):
        msg = json.loads(await ws.recv())
        if want(msg):
            return msg
    raise AssertionError("the awaited message never came")


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in fields.items())


async def send(ws: Any, **msg: Any) -> None:
    await ws.send(json.dumps(msg))
