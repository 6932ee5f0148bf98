"""A room's folder: the room (room.json: code, key, seats, turns resolved, the open turn's
submissions) and its game (a game save, `GameSession.saver`), written whole or not at all,
and read back by a restarted host (docs/classroom-protocol.md, "Nothing lost").

Two files cannot be replaced at once, so the game is written under a new name first and
room.json, written last (temporary file, then os.replace), names it: a crash at any moment
leaves a room.json naming a complete game. The game is only written again when it changed
(a month played, an event, a decision revealed), so a join or a submission costs a small
JSON file, not a save of the world.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from game.config.errors import InputError, Problem
from game.net.room import STATUSES, Room
from game.play.session import GameSession

FORMAT = "silicon-curtain-room"
VERSION = 1
ROOM_FILE = "room.json"
REPORT_FILE = "report.html"


class RoomStore:
    """Saves one room into `folder` (Room.persist = store.save)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._game_state: tuple[Any, ...] | None = None
        self._game_file: str | None = None

    @property
    def report_path(self) -> Path:
        return self.folder / REPORT_FILE

    def save(self, room: Room) -> None:
        """Write the room (called with the room's lock held, so it is consistent)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        session = room.session
        state = (
            session.model.turn,
            len(session.decisions),
            len(session.injected),
            session.hidden,
            tuple(room.resolved),
        )
        old = self._game_file
        if state != self._game_state or old is None:
            name = f"game-{len(room.resolved):03d}-{os.urandom(3).hex()}.scgame"
            session.saver()(self.folder / name)
            self._game_state, self._game_file = state, name
        plain = {"format": FORMAT, "version": VERSION, "game": self._game_file, **room.to_plain()}
        _write_json(self.folder / ROOM_FILE, plain)
        if old is not None and old != self._game_file:
            (self.folder / old).unlink(missing_ok=True)

    @staticmethod
    def holds_room(folder: str | Path) -> bool:
        return (Path(folder) / ROOM_FILE).is_file()

    @classmethod
    def load(cls, folder: str | Path) -> tuple[Room, RoomStore]:
        """The room saved in `folder`, with the store that goes on saving it. Raises
        InputError naming the file and what was expected."""
        folder = Path(folder)
        path = folder / ROOM_FILE
        try:
            plain = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(
                Problem(f"cannot read the room ({exc.strerror or exc})", file=str(path))
            ) from None
        except ValueError:
            raise InputError(
                Problem("expected a room saved by `host` (JSON)", file=str(path))
            ) from None
        _check(plain, str(path))
        session = GameSession.load(folder / plain["game"])
        s = session
        expected = min(len(plain["resolved"]) * s.turn_months, s.model.horizon)
        if s.model.turn != expected:
            raise InputError(
                Problem(
                    f"the game is at month {s.model.turn} but the room has resolved "
                    f"{len(plain['resolved'])} turns (month {expected} expected)",
                    file=str(path),
                )
            )
        teams = set(session.roles)
        if any(seat["team"] not in teams for seat in plain["seats"]):
            raise InputError(
                Problem(f"expected seats in the teams {sorted(teams)}", file=str(path))
            )
        store = cls(folder)
        room = Room(session, code=plain["code"], key=plain["key"], persist=store.save)
        room.restore_plain(plain)
        room.report_ready = room.report_ready and store.report_path.is_file()
        store._game_file = plain["game"]
        store._game_state = (
            s.model.turn,
            len(s.decisions),
            len(s.injected),
            s.hidden,
            tuple(room.resolved),
        )
        return room, store


def _write_json(path: Path, plain: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".room-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(plain, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_KEYS = {
    "format": str,
    "version": int,
    "game": str,
    "code": str,
    "key": str,
    "status": str,
    "paused_from": str,
    "next_seat": int,
    "seats": list,
    "resolved": list,
    "report_ready": bool,
    "turn": dict,
}


def _check(plain: Any, shown: str) -> None:
    """room.json's shape, before anything is built from it."""

    def bad(msg: str, key: str | None = None) -> InputError:
        return InputError(Problem(msg, file=shown, key=key))

    if not isinstance(plain, dict) or plain.get("format") != FORMAT:
        raise bad(f"expected a room saved by `host` (format '{FORMAT}')")
    if plain.get("version") != VERSION:
        raise bad(f"expected version {VERSION}, got {plain.get('version')!r}", "version")
    for key, kind in _KEYS.items():
        if not isinstance(plain.get(key), kind):
            raise bad(f"expected {kind.__name__}", key)
    game = plain["game"]
    if "/" in game or "\\" in game or not game.endswith(".scgame"):
        raise bad("expected the name of a game save in the room's folder", "game")
    if plain["status"] not in STATUSES or plain["paused_from"] not in STATUSES:
        raise bad(f"expected one of: {', '.join(STATUSES)}", "status")
    for i, seat in enumerate(plain["seats"]):
        if not (
            isinstance(seat, dict)
            and isinstance(seat.get("number"), int)
            and isinstance(seat.get("team"), str)
            and isinstance(seat.get("token"), str)
        ):
            raise bad("expected number, team and token", f"seats[{i}]")
    if not all(isinstance(t, int) for t in plain["resolved"]):
        raise bad("expected turn numbers", "resolved")
    if plain["resolved"] != list(range(1, len(plain["resolved"]) + 1)):
        raise bad("expected the turns 1, 2, ... in order", "resolved")
    notices = plain.get("notices", {})
    if not (
        isinstance(notices, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in notices.items())
    ):
        raise bad("expected team names and messages", "notices")
    turn = plain["turn"]
    if not (
        isinstance(turn.get("drafts"), dict)
        and isinstance(turn.get("submitted"), dict)
        and isinstance(turn.get("seen"), list)
    ):
        raise bad("expected drafts, submitted and seen", "turn")
