"""What `python main.py host` does besides parsing its flags (game/cli.py): make or resume
the room in its folder, start the server, print how to join, and serve without a window
until the game ends (and its report has been fetched for a while) or Ctrl-C.
"""

from __future__ import annotations

import datetime
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from game.config.errors import InputError, Problem
from game.config.paths import user_dir
from game.net.room import Room
from game.net.server import HostServer
from game.net.store import RoomStore
from game.play.session import GameSession

GRACE_SECONDS = 300  # after the game ends: time for every team to open its report


def open_room(
    room_dir: str | Path | None,
    *,
    lesson: str | None = None,
    scenario: str | None = None,
    roles: Sequence[str] = (),
    seed: int | None = None,
) -> tuple[Room, RoomStore]:
    """The room in `room_dir` if it holds one (resumed: same code, key, tokens and turn),
    else a new room of the lesson or scenario, saved there (default: a new folder under the
    user's data folder)."""
    if room_dir is not None:
        folder = Path(room_dir)
        if folder.exists() and not folder.is_dir():
            raise InputError(Problem(f"'{folder}' is a file, expected a folder", key="--room-dir"))
        if RoomStore.holds_room(folder):
            room, store = RoomStore.load(folder)
            _check_same(room, lesson)
            room.persist = store.save
            return room, store
        if folder.is_dir() and any(folder.iterdir()):
            raise InputError(
                Problem(
                    f"'{folder}' is neither empty nor a room's folder (no room.json)",
                    key="--room-dir",
                )
            )
    session = _new_session(lesson, scenario, roles, seed)
    room = Room(session)
    if room_dir is None:
        stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
        room_dir = user_dir("rooms") / f"{stamp}-{room.code}"
    return room, RoomStore(room_dir)


def first_save(room: Room, store: RoomStore) -> None:
    """Write a new room to its folder (once its server listens, so that a port in use
    leaves no folder behind), and save it after every change from then on."""
    try:
        with room.lock:
            store.save(room)
    except OSError as exc:
        raise InputError(
            Problem(f"cannot write the room there ({exc.strerror or exc})", key="--room-dir")
        ) from None
    room.persist = store.save


def _new_session(
    lesson: str | None, scenario: str | None, roles: Sequence[str], seed: int | None
) -> GameSession:
    if lesson is not None:
        from game.config.lesson import load_lesson

        return GameSession.from_lesson(load_lesson(lesson), rng=seed)
    if scenario is None or not roles:
        raise InputError(
            Problem("expected --lesson NAME, or a scenario and --roles us,china", key="host")
        )
    try:
        return GameSession(scenario, list(roles), rng=2022 if seed is None else seed)
    except ValueError as exc:
        raise InputError(Problem(str(exc), key="--roles")) from None


def _check_same(room: Room, lesson: str | None) -> None:
    saved = (room.session.lesson or {}).get("name")
    if lesson is not None and Path(lesson).stem != saved:
        raise InputError(
            Problem(
                f"this room plays {'lesson ' + saved if saved else 'no lesson'}, not '{lesson}': "
                "leave out --lesson to resume it",
                key="--room-dir",
            )
        )


def announce(server: HostServer, store: RoomStore, resumed: bool) -> str:
    """What the teacher reads in the terminal: the join address, its QR code, the room code
    and the facilitator's link."""
    import segno

    room = server.room
    qr = segno.make(server.join_url, error="m")
    lines = [
        f"{'Resumed' if resumed else 'Room'} {room.code}: turn {room.turn} of {room.turns}, "
        f"{room.status}",
        f"Students join at: {server.join_url}",
        f"Room code: {room.code}",
        f"Facilitator (keep it to yourself): {server.facilitator_url}",
        f"Room folder (resume with --room-dir): {store.folder}",
    ]
    if server.bind in ("127.0.0.1", "localhost", "::1"):
        lines.append(
            "Only this computer can join: for a class, pass --bind with this machine's "
            "address on the school network."
        )
    import io

    buf = io.StringIO()
    qr.terminal(out=buf, compact=True)
    return "\n".join(lines) + "\n" + buf.getvalue()


def serve_headless(server: HostServer, store: RoomStore, grace: float = GRACE_SECONDS) -> int:
    """Serve until Ctrl-C (or SIGTERM), or until the game has ended, its report is written
    and `grace` seconds have passed; stop the server before returning."""
    stopping = threading.Event()

    def on_term(_sig: int, _frame: FrameType | None) -> None:
        stopping.set()

    # Both set here: a host started in the background of a script has SIGINT ignored, and
    # Python then never raises KeyboardInterrupt.
    previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Said only now: a script that stops the host once it reads this line must find the
    # handlers in place (before them a SIGTERM killed the host unsaved-looking, status -15).
    print("Serving. Ctrl-C stops the host (the room is saved; --room-dir resumes it).", flush=True)
    ended_at: float | None = None
    try:
        while not stopping.wait(0.25):
            room = server.room
            if ended_at is None and room.status == "ended" and room.report_ready:
                ended_at = time.monotonic()
                print(
                    f"The game is over. Report: {store.report_path}\nSave: {store.folder}\n"
                    f"Serving the report for {grace:g} more seconds (Ctrl-C stops now).",
                    flush=True,
                )
            if ended_at is not None and time.monotonic() - ended_at > grace:
                break
            if not server.running:
                break
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    print(f"Host stopped. The room is saved in {store.folder}", flush=True)
    return 0
