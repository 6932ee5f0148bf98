"""A small sweep interrupted at random moments, again and again: SIGINT or SIGTERM to the
parent, SIGKILL to the parent, SIGKILL to a worker. Each time the command ends promptly with
the status of its signal and no traceback, no process it started is left, and running it again
resumes; in the end the tables are those of a sweep never interrupted.

A short version runs with the other tests; the long one is marked `stress`:
    pytest -m stress tests/batch/test_stress.py
(STRESS_ROUNDS sets its number of interruptions, STRESS_SEED its random moments)."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from game.batch.sweep import run_sweep
from game.config.experiment import load_experiment
from tests.batch.helpers import (
    INTERRUPTIBLE,
    children,
    descendants,
    kill_all,
    start_cli,
    wait_gone,
    wait_workers,
)
from tests.cli_helpers import run_cli

KINDS = ("SIGINT", "SIGTERM", "SIGKILL parent", "SIGKILL worker")
# What each interruption may end in: its status, or 0 if the sweep finished first. SIGTERM
# before the command has set up its handler (while it imports) kills it: a shell sees 143.
# One that lands as the interpreter exits, its handlers gone, kills it likewise (a shell sees 130).
STATUS = {
    "SIGINT": {130, -2},
    "SIGTERM": {143, -15},
    "SIGKILL parent": {-9},
    "SIGKILL worker": set(),
}


def _tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    experiments = pd.read_parquet(folder / "experiments.parquet").drop(columns="seconds")
    return experiments, pd.read_parquet(folder / "outcomes.parquet")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("stress")
    path = tmp / "small.yaml"
    path.write_text(INTERRUPTIBLE)
    run_sweep(load_experiment(str(path)), tmp / "reference", workers=1)
    return (path, *_tables(tmp / "reference"))


def _interrupt(experiment: Path, folder: Path, kind: str, rng: random.Random) -> str:
    """Start the sweep, interrupt it as `kind` says at a random moment; returns what
    happened (for the failure message)."""
    proc = start_cli("sweep", experiment, "--workers", "2", "--out", folder)
    family: set[int] = set()
    asked = None
    try:
        if kind == "SIGKILL worker":
            try:
                workers = wait_workers(proc, 1)  # 1: a resumed sweep may need only one
            except AssertionError:
                workers = []  # it finished first
            time.sleep(rng.uniform(0.0, 2.0))
            family |= set(descendants(proc.pid))
            alive = [w for w in workers if w in family]
            if alive:
                os.kill(rng.choice(alive), signal.SIGKILL)
        else:
            deadline = time.monotonic() + rng.uniform(0.3, 5.0)  # from start-up to compaction
            while time.monotonic() < deadline and proc.poll() is None:
                family |= set(descendants(proc.pid))
                time.sleep(0.01)
            family |= set(descendants(proc.pid))
            sig = signal.SIGKILL if kind == "SIGKILL parent" else getattr(signal, kind)
            if proc.poll() is None:
                asked = time.monotonic()
                os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=30)
        if kind in ("SIGINT", "SIGTERM") and asked is not None and proc.returncode != 0:
            took = time.monotonic() - asked
            assert took < 5, f"{kind}: took {took:.1f} s to end"
    finally:
        kill_all([proc.pid, *family])
    what = f"{kind}: exit {proc.returncode}\n{out[-500:]}\n{err[-2000:]}"
    assert proc.returncode in STATUS[kind] | {0}, what
    assert "Traceback" not in err, what
    left = wait_gone(sorted(family | set(children(proc.pid))), 5)
    assert left == [], f"{what}\nleft running: {left}"
    return what


def _stress(tmp_path: Path, experiment: tuple[Path, pd.DataFrame, pd.DataFrame], rounds: int):
    path, experiments, outcomes = experiment
    seed = int(os.environ.get("STRESS_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    folder = tmp_path / "out"
    kinds = list(KINDS) * (rounds // len(KINDS) + 1)
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds[:rounds]):
        try:
            _interrupt(path, folder, kind, rng)
        except AssertionError as exc:
            raise AssertionError(f"round {i} (STRESS_SEED={seed}): {exc}") from None
    result = run_cli("sweep", path, "--workers", "2", "--out", folder, timeout=120)
    assert result.returncode == 0, f"STRESS_SEED={seed}: {result.stderr}"
    got = _tables(folder)
    pd.testing.assert_frame_equal(got[0], experiments)
    pd.testing.assert_frame_equal(got[1], outcomes)
    assert not (folder / "damaged").exists()


def test_a_sweep_interrupted_three_times_gives_the_clean_tables(
    tmp_path: Path, experiment: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    _stress(tmp_path, experiment, 3)


@pytest.mark.stress
def test_a_sweep_interrupted_many_times_gives_the_clean_tables(
    tmp_path: Path, experiment: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    _stress(tmp_path, experiment, int(os.environ.get("STRESS_ROUNDS", "40")))
