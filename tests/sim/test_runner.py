"""The runner (game/sim/runner.py), through which every model run in another process goes: a
run gives the same numbers in this process, in a spawn pool and on Dask; every job comes back
exactly once; a job's failure reaches the caller; and a finished model is freed, which Mesa 3.3
prevents unless the runner drops it."""

from __future__ import annotations

import gc
import os
import weakref
from typing import Any

import pandas as pd
import pytest

from game.sim.model import ChipWarModel
from game.sim.runner import forget, spawn_pool, stream, stream_dask, stream_local

MONTHS = 8  # short runs: the point is where they run, not how far
JOBS = [("historical", 2022), ("no_controls", 7), ("total_embargo", 11), ("historical", 5)]


def run_short(job: tuple[str, int]) -> tuple[tuple[str, int], dict[str, list[Any]]]:
    """A worker: top-level, so a spawned process can import it by name."""
    scenario, seed = job
    model = ChipWarModel(scenario, rng=seed, months=MONTHS)
    try:
        return job, model.run().to_dict("list")
    finally:
        forget(model)


def fail_on_odd(n: int) -> int:
    if n % 2:
        raise ValueError(f"job {n} failed")
    return n


def whose_process(_: int) -> int:
    return os.getpid()


def _by_job(results: list[tuple[tuple[str, int], dict[str, list[Any]]]]) -> dict:
    keys = [job for job, _ in results]
    assert sorted(keys) == sorted(JOBS), "every job must come back exactly once"
    return {job: pd.DataFrame(rows) for job, rows in results}


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for job in a:
        pd.testing.assert_frame_equal(a[job], b[job], check_exact=True, obj=str(job))


def test_in_process_one_worker_and_two_workers_give_identical_results() -> None:
    here = _by_job([run_short(job) for job in JOBS])
    one = _by_job(list(stream_local(run_short, JOBS, workers=1)))
    two = _by_job(list(stream(run_short, JOBS, workers=2)))
    _assert_same(here, one)
    _assert_same(here, two)
    assert len({tuple(frame["compute_h100e"]) for frame in here.values()}) == len(JOBS)


def test_a_local_dask_cluster_gives_identical_results() -> None:
    pytest.importorskip("distributed")
    here = _by_job([run_short(job) for job in JOBS])
    dask = _by_job(list(stream_dask(run_short, JOBS, workers=1)))
    _assert_same(here, dask)


def test_pool_workers_are_other_processes() -> None:
    pids = set(stream(whose_process, range(4), workers=2))
    assert pids and os.getpid() not in pids
    with spawn_pool(1, max_tasks_per_child=None) as pool:
        assert pool.submit(whose_process, 0).result() != os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_job_reaches_the_caller(workers: int) -> None:
    with pytest.raises(ValueError, match=r"job \d failed"):
        list(stream(fail_on_odd, range(6), workers=workers))


def test_forget_frees_a_finished_model() -> None:
    from mesa import Agent

    def finished() -> weakref.ref[ChipWarModel]:
        model = ChipWarModel("historical", rng=3, months=3)
        model.run()
        return weakref.ref(model)

    kept = finished()
    gc.collect()
    if hasattr(Agent, "_ids"):  # Mesa 3.3: the reason forget exists
        assert kept() is not None, "Mesa no longer keeps models: forget may be retired"
    forget(kept())
    gc.collect()
    assert kept() is None

    dropped = finished()
    forget(dropped(), None)  # a worker's finally may hold a model that was never built
    gc.collect()
    assert dropped() is None


def test_pool_workers_end_when_the_process_that_made_them_is_killed(tmp_path) -> None:
    """A command stopped by SIGKILL (or SIGTERM, or `timeout`) never shuts its pool down: its
    spawned workers must notice and end, not outlive it waiting on their queue."""
    import signal
    import subprocess
    import sys
    import time

    pids_file = tmp_path / "workers.txt"
    script = f"""
import os, sys, time
sys.path.insert(0, {str(os.getcwd())!r})
from game.sim.runner import spawn_pool
from tests.sim.test_runner import whose_process
if __name__ == "__main__":
    pool = spawn_pool(2, max_tasks_per_child=None)
    pids = {{pool.submit(whose_process, i).result() for i in range(8)}}
    open({str(pids_file)!r}, "w").write(" ".join(map(str, pids)))
    time.sleep(60)
"""
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not pids_file.exists() or not pids_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None, "workers never started"
            time.sleep(0.2)
        workers = [int(p) for p in pids_file.read_text().split()]
        parent.send_signal(signal.SIGKILL)
        parent.wait()

        def alive(pid: int) -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            return True

        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if alive(pid)], "workers outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def sigint_disposition(_: int) -> bool:
    import signal

    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_workers_leave_ctrl_c_to_their_parent() -> None:
    """A Ctrl-C in the terminal reaches every process of the group: the workers ignore it (the
    parent shuts the pool down), so none prints a KeyboardInterrupt traceback."""
    with spawn_pool(1) as pool:
        assert pool.submit(sigint_disposition, 0).result(timeout=60)
