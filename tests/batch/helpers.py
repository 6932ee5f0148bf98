"""Processes for the fault tests: finding a command's workers, and checking none outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli_helpers import ROOT, SMALL_EXPERIMENT

# Long enough runs that a sweep can be interrupted mid-way: 2 x 4 x 2 = 16 runs of 24 months.
INTERRUPTIBLE = SMALL_EXPERIMENT.replace("months: 8", "months: 24").replace(
    "samples: 2", "samples: 4"
)


def children(pid: int) -> list[int]:
    """The direct children of `pid` (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """The pids still running after up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def kill_all(pids: list[int]) -> None:
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def start_cli(*args: str | Path) -> subprocess.Popen[str]:
    """`python main.py ARGS` in its own session (a process group for Ctrl-C). With the fault
    handler on, so that `stacks` can show where one that hangs is."""
    return subprocess.Popen(
        [sys.executable, "main.py", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )


def stacks(proc: subprocess.Popen[str]) -> str:
    """End a command that hangs with SIGABRT: its fault handler prints every thread's stack."""
    os.kill(proc.pid, signal.SIGABRT)
    _, err = proc.communicate(timeout=10)
    return err


def wait_workers(proc: subprocess.Popen[str], n: int, seconds: float = 60) -> list[int]:
    """Wait until `proc` has `n` worker processes (spawned: their command line says so)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        workers = []
        for pid in children(proc.pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmd:
                workers.append(pid)
        if len(workers) >= n:
            return workers
        time.sleep(0.02)
    raise AssertionError(f"no {n} workers appeared (exit {proc.poll()})")


def runs_saved(folder: Path) -> int:
    return len(list((folder / "runs").glob("*.json"))) if (folder / "runs").is_dir() else 0


def square(x: int) -> int:
    """A job for a worker pool (importable by spawned workers)."""
    return x * x
