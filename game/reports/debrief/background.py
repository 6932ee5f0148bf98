"""The debrief report written beside a running game: first as it is, then again with China's
gap over sampled futures, in one spawned process the game can end at once.

Why a process of its own and not a pool: the band takes a run per future and world (seconds
to a minute), and a game that is closed meanwhile must neither wait for it at exit nor leave it
behind. A pool's workers are joined at interpreter exit; this process is ended on `stop`, and
ends by itself if the game is killed (runner.watch_parent, as the pools' workers).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from game.sim.runner import watch_parent


def _write_both(save: str, out: str, futures: int, conn: Connection, parent: int) -> None:
    """In the child: the report, then (futures > 0) the report with the band, each reported
    on `conn` as ("report" | "band", "ok", path) or (..., "error", message)."""
    watch_parent(parent)
    from game.reports.debrief import write_report

    stages: list[tuple[str, dict[str, Any]]] = [("report", {})]
    if futures > 0:
        stages.append(("band", {"futures": futures}))
    for stage, extra in stages:
        try:
            path = write_report(save, out, **extra)
        except Exception as exc:  # said on screen by the game; the process ends either way
            conn.send((stage, "error", f"{type(exc).__name__}: {exc}"))
            return
        conn.send((stage, "ok", str(path)))
    conn.close()


@dataclass
class BackgroundReport:
    """A report being written; `poll` returns what has finished since the last call."""

    process: Any
    conn: Connection
    done: list[tuple[str, str, str]] = field(default_factory=list)

    def poll(self) -> list[tuple[str, str, str]]:
        """(stage, "ok" | "error", path or message) for each stage finished since last time."""
        news = []
        try:
            while self.conn.poll():
                news.append(self.conn.recv())
        except (EOFError, OSError):  # the process ended without a word: it was stopped
            pass
        self.done.extend(news)
        return news

    @property
    def running(self) -> bool:
        return bool(self.process.is_alive())

    def stop(self, timeout: float = 2.0) -> None:
        """End the process now (what it wrote is whole on disk: every write is atomic)."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout)
        self.conn.close()


def write_in_background(save: str | Path, out: str | Path, futures: int) -> BackgroundReport:
    """Start writing the report of saved game `save` to `out`, then again with China's gap over
    `futures` sampled futures (none when 0)."""
    ctx = mp.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_write_both,
        args=(str(save), str(out), int(futures), theirs, os.getpid()),
        name="debrief-report",
        daemon=True,
    )
    process.start()
    theirs.close()
    return BackgroundReport(process, mine)
