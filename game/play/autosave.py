"""Autosaves: a game is written after every month and when it is left, so that closing the
window, a click on Menu or a crash loses at most the month being played.

One slot per kind of game in the saves folder: `autosave.scgame` for a game set up on the
title screen, `autosave-<lesson>.scgame` for a lesson, so that a class's game is not
overwritten by a quick game on the same machine. The title screen offers the newest one that
is not finished as Continue; a finished game is not offered (its debrief and report are kept
in saves/reports, and its save there reopens it).

Writing takes 30-50 ms (JSON, compression, the disk), three frames of a 60 FPS game: the
state is copied in the frame (about 1 ms, `GameSession.saver`) and written by one thread
beside the frame loop, at most once a second (at 16x, eight months a second, only the newest
state is written). Leaving a game writes at once and waits (`flush`). A failed write (a full
disk, a folder that cannot be written) is returned by `poll` for the game to show; it never
stops the game.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from game.config.errors import InputError
from game.play.session import GameSession

PREFIX = "autosave"
SUFFIX = ".scgame"
MIN_INTERVAL = 1.0  # seconds between two writes; the newest state waits its turn


def slot(saves_dir: Path, session: GameSession) -> Path:
    """The game's autosave file: one per lesson, one for games set up on the title screen."""
    lesson = (session.lesson or {}).get("name")
    return saves_dir / (f"{PREFIX}-{lesson}{SUFFIX}" if lesson else f"{PREFIX}{SUFFIX}")


@dataclass
class Autosave:
    """An autosave found in the saves folder, and what it says about itself."""

    path: Path
    meta: dict[str, Any]

    @property
    def finished(self) -> bool:
        turn, horizon = self.meta.get("turn"), self.meta.get("horizon")
        return isinstance(turn, int) and isinstance(horizon, int) and turn >= horizon


def latest(saves_dir: Path) -> Autosave | None:
    """The newest autosave of a game still to be played, or None. A file that cannot be read
    as a game save is passed over (Load a game says what is wrong with it)."""
    found = []
    try:
        paths = list(saves_dir.glob(f"{PREFIX}*{SUFFIX}"))
    except OSError:
        return None
    for path in paths:
        try:
            save = Autosave(path, GameSession.peek(path))
            found.append((path.stat().st_mtime, save))
        except (InputError, OSError):
            continue
    playable = [(t, s) for t, s in found if not s.finished]
    return max(playable, key=lambda ts: ts[0])[1] if playable else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:  # "File exists: saves" (a file in the way)
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"


class Autosaver:
    """Writes autosaves from one background thread, newest state first, at most once every
    MIN_INTERVAL seconds. Call `request` after a month, `poll` every frame (it starts a
    waiting write and returns the errors of finished ones), `flush` when leaving a game."""

    def __init__(self, min_interval: float = MIN_INTERVAL) -> None:
        self.min_interval = min_interval
        self.pending: tuple[Callable[[Path], None], Path] | None = None
        self.thread: threading.Thread | None = None
        self.errors: list[str] = []
        self.last_start = -1e9
        self.written: Path | None = None  # the last file written whole
        self.seconds: list[float] = []  # how long each write took (for the benchmark)
        self._lock = threading.Lock()

    def request(self, session: GameSession, path: Path) -> None:
        """Copy the game now; write it when the thread is free and the interval has passed,
        from the next `poll` on: not in the frame of the month, which is long already (the
        month's step and charts), so that the writer's share of the GIL falls on short ones."""
        self.pending = (session.saver(), path)

    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def poll(self) -> list[str]:
        """Start the waiting write if it may start; the errors of writes since the last poll."""
        if (
            self.pending is not None
            and not self.busy()
            and time.monotonic() - self.last_start >= self.min_interval
        ):
            write, path = self.pending
            self.pending = None
            self.last_start = time.monotonic()
            self.thread = threading.Thread(
                target=self._write, args=(write, path), name="autosave", daemon=True
            )
            self.thread.start()
        with self._lock:
            errors, self.errors = self.errors, []
        return errors

    def _write(self, write: Callable[[Path], None], path: Path) -> None:
        start = time.perf_counter()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
        except Exception as exc:  # a full disk, a folder that cannot be written: said, not raised
            with self._lock:
                self.errors.append(_describe(exc))
            return
        self.seconds.append(time.perf_counter() - start)
        self.written = path

    def flush(self, session: GameSession | None = None, path: Path | None = None) -> list[str]:
        """Wait for the write under way, then write `session` (the game being left) at once,
        or else the state still waiting. Returns every error not yet polled."""
        if self.thread is not None:
            self.thread.join(timeout=10)
        job = (session.saver(), path) if session is not None and path is not None else None
        job = job or self.pending
        self.pending = None
        if job is not None:
            self._write(*job)
        return self.poll()
