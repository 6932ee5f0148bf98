"""A sweep against faults and interrupts: a Dask address that is wrong, silent or speaks
garbage; two sweeps into one folder; a worker or the parent killed; SIGINT and SIGTERM; Ctrl-C
while workers start; writes that fail; a damaged folder. Each ends in one message or a
resumable folder, and no process outlives the command."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from game.batch import output, pool
from game.batch.sweep import FolderLock, run_sweep
from game.cli import main
from game.config.errors import InputError
from game.config.experiment import load_experiment
from tests.batch.helpers import (
    INTERRUPTIBLE,
    alive,
    descendants,
    kill_all,
    runs_saved,
    stacks,
    start_cli,
    wait_gone,
    wait_workers,
)
from tests.cli_helpers import ROOT, SMALL_EXPERIMENT, run_cli


def _experiment(tmp_path: Path, text: str = SMALL_EXPERIMENT) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(text)
    return path


def _tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    experiments = pd.read_parquet(folder / "experiments.parquet").drop(columns="seconds")
    return experiments, pd.read_parquet(folder / "outcomes.parquet")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The interruptible experiment run in one go, in this process."""
    tmp = tmp_path_factory.mktemp("reference")
    run_sweep(load_experiment(str(_experiment(tmp, INTERRUPTIBLE))), tmp / "out", workers=1)
    return _tables(tmp / "out")


# ----------------------------------------------------------------------------- 4: Dask
@pytest.mark.parametrize(
    "address, says",
    [
        ("notanaddress", "is not a scheduler address"),
        ("foo://1.2.3.4:5", "unknown protocol 'foo://'"),
        ("tcp://1.2.3.4:99999", "out of range"),
        ("tcp://:5", "is not a scheduler address"),
    ],
)
def test_a_bad_scheduler_address_is_one_message_and_creates_nothing(
    tmp_path: Path, address: str, says: str
) -> None:
    out = tmp_path / "never"
    result = run_cli(
        "sweep", _experiment(tmp_path), "--backend", "dask", "--scheduler", address,
        "--out", out,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


def test_addresses_are_normalised() -> None:
    assert pool.parse_scheduler("localhost:8786") == "tcp://localhost:8786"
    assert pool.parse_scheduler("TLS://10.0.0.1:8786") == "tls://10.0.0.1:8786"
    assert pool.parse_scheduler("tcp://[::1]:8786") == "tcp://[::1]:8786"


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[str]:
    """A port that accepts connections and then never answers ("silent") or sends garbage."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()
    held = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            if request.param == "garbage":
                conn.sendall(b"\xff" * 4096)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize("listener", ["silent", "garbage"], indirect=True)
def test_a_scheduler_that_never_answers_or_speaks_garbage_times_out(listener: str) -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match=f"cannot reach the Dask scheduler at {listener}"):
        pool.connect_dask(listener, seconds=2)
    assert time.monotonic() - start < 8


@pytest.mark.parametrize("listener", ["garbage"], indirect=True)
def test_garbage_from_a_scheduler_on_the_command_line(tmp_path: Path, listener: str) -> None:
    out = tmp_path / "never"
    result = run_cli(
        "sweep", _experiment(tmp_path), "--backend", "dask", "--scheduler", listener,
        "--out", out,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "cannot reach the Dask scheduler" in result.stderr
    assert "does not speak the Dask protocol" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


# ----------------------------------------------------------------------------- 5: one sweep
def test_a_second_sweep_into_a_folder_is_refused_naming_the_holder(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    held = FolderLock(folder)
    held.acquire()  # another sweep is writing here
    try:
        with pytest.raises(InputError) as caught:
            run_sweep(load_experiment(str(_experiment(tmp_path))), folder, workers=1)
        message = str(caught.value)
        assert str(folder) in message and "another sweep is writing into this folder" in message
        assert f"pid {os.getpid()}" in message
        assert not (folder / "manifest.json").exists()  # nothing of the second was written
    finally:
        held.release()
    report = run_sweep(load_experiment(str(_experiment(tmp_path))), folder, workers=1)
    assert report.ran == 8


def test_two_sweeps_started_at_once_never_mix(tmp_path: Path) -> None:
    a = _experiment(tmp_path, INTERRUPTIBLE)
    b = tmp_path / "other.yaml"
    b.write_text(INTERRUPTIBLE.replace("name: small", "name: other").replace("seed: 7", "seed: 9"))
    out = tmp_path / "shared"
    procs = [start_cli("sweep", e, "--workers", "1", "--out", out) for e in (a, b)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "another sweep is writing into this folder (pid" in refused or (
        "another experiment" in refused
    )
    experiments = pd.read_parquet(out / "experiments.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(experiments) == 16
    assert (out / "experiment.yaml").read_text().count(manifest["experiment"]["name"]) >= 1


def test_a_stale_lock_of_a_dead_sweep_is_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / ".lock").write_text("pid 999999 on elsewhere, started 2020-01-01 00:00:00")
    result = run_cli("sweep", _experiment(tmp_path), "--workers", "1", "--out", folder)
    assert result.returncode == 0, result.stderr
    assert "took over the lock of a sweep that ended without releasing it (pid 999999" in (
        result.stderr
    )
    assert (folder / ".lock").read_text() == ""  # released


# ----------------------------------------------------------------------------- 10: workers
def _suicide(job: int) -> int:
    """A job whose worker dies (as under `kill -9` or the out-of-memory killer) for job 3."""
    if job == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return job * 10


def test_a_job_that_kills_its_worker_is_given_up_and_the_others_complete() -> None:
    lost = lambda job, reason: ("lost", job, reason)  # noqa: E731
    got = list(pool.stream_local(_suicide, range(10), 2, lost))
    ok = sorted(r for r in got if not isinstance(r, tuple))
    assert ok == [j * 10 for j in range(10) if j != 3]
    assert [r[:2] for r in got if isinstance(r, tuple)] == [("lost", 3)]
    assert "died 2 times" in next(r for r in got if isinstance(r, tuple))[2]


def test_a_worker_killed_mid_sweep_costs_a_retry_not_the_sweep(
    tmp_path: Path, reference: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    pools = []
    killed = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            pids = pool.worker_pids(pools[0]) if pools else []
            if pids and runs_saved(tmp_path / "out") >= 2:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    experiment = load_experiment(str(_experiment(tmp_path, INTERRUPTIBLE)))
    report = run_sweep(experiment, tmp_path / "out", workers=2, on_pool=pools.append)
    killer.join()
    assert killed and len(pools) >= 2  # the pool broke and was replaced
    assert report.ran == 16 and report.failed == 0
    pd.testing.assert_frame_equal(_tables(tmp_path / "out")[0], reference[0])
    pd.testing.assert_frame_equal(_tables(tmp_path / "out")[1], reference[1])
    assert wait_gone([p for pl in pools for p in pool.worker_pids(pl)], 5) == []


def test_workers_end_when_the_sweep_is_killed(tmp_path: Path) -> None:
    proc = start_cli(
        "sweep", _experiment(tmp_path, INTERRUPTIBLE), "--workers", "2", "--out", tmp_path / "o"
    )
    workers = wait_workers(proc, 2)
    family = descendants(proc.pid)
    proc.kill()
    proc.wait()
    try:
        assert wait_gone(family, 5) == []
    finally:
        kill_all(family)
        proc.stdout.close()
        proc.stderr.close()
    assert workers


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_or_sigterm_to_the_parent_alone_stops_a_sweep_resumably(
    tmp_path: Path, reference: tuple[pd.DataFrame, pd.DataFrame], sig: int, status: int
) -> None:
    experiment = _experiment(tmp_path, INTERRUPTIBLE)
    folder = tmp_path / "out"
    proc = start_cli("sweep", experiment, "--workers", "2", "--out", folder)
    wait_workers(proc, 2)
    deadline = time.monotonic() + 60
    while runs_saved(folder) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    family = descendants(proc.pid)
    asked = time.monotonic()
    os.kill(proc.pid, sig)
    try:
        _, err = proc.communicate(timeout=5)
        took = time.monotonic() - asked
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running 5 s after {sig!r}:\n{stacks(proc)}") from None
    finally:
        kill_all([proc.pid, *family])
    assert proc.returncode == status, err
    assert took < 5
    assert "interrupted:" in err and "run the same command again to resume" in err
    assert "Traceback" not in err
    assert wait_gone(family, 3) == []
    result = run_cli("sweep", experiment, "--workers", "2", "--out", folder, timeout=120)
    assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(_tables(folder)[0], reference[0])
    pd.testing.assert_frame_equal(_tables(folder)[1], reference[1])


def test_ctrl_c_while_workers_start_prints_no_worker_traceback(tmp_path: Path) -> None:
    proc = start_cli(
        "sweep", _experiment(tmp_path, INTERRUPTIBLE), "--workers", "2", "--out", tmp_path / "o"
    )
    wait_workers(proc, 1)  # just spawned: importing
    family = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    try:
        _, err = proc.communicate(timeout=10)
    finally:
        kill_all([proc.pid, *family])
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert wait_gone(descendants(proc.pid) + family, 3) == []


def test_stopping_a_pool_ends_its_manager_thread_after_a_result_cut_short() -> None:
    """A worker ended mid-way through writing its result leaves a message that never ends in
    the results pipe, and Python joins the executor's thread reading it at exit: a Ctrl-C'd
    sweep printed its message and then hung (seen once in CI). Stopping the pool ends it."""
    p = pool.new_pool(2)
    assert pool.submit(p, abs, -1).result(timeout=60) == 1  # workers up, the thread reading
    writer = p._result_queue._writer  # type: ignore[attr-defined]
    thread = p._executor_manager_thread  # type: ignore[attr-defined]
    os.write(writer.fileno(), struct.pack("!i", 1000) + b"cut short")  # as a dying worker
    time.sleep(0.2)  # the thread has read the length and waits for the rest
    try:
        pool.stop_pool(p, timeout=1.0)
        thread.join(10)
        assert not thread.is_alive()
    finally:
        if thread.is_alive():  # the rest of the message, so that the test process can end
            os.write(writer.fileno(), bytes(1000))


def _ignore_sigterm_and_hang(_: int) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)
    return 0


def test_stopping_a_pool_never_waits_for_a_hung_worker() -> None:
    p = pool.new_pool(2)
    futures = [pool.submit(p, _ignore_sigterm_and_hang, i) for i in range(4)]
    deadline = time.monotonic() + 30
    while len(pool.worker_pids(p)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # the jobs have started and ignore SIGTERM
    pids = pool.worker_pids(p)
    start = time.monotonic()
    pool.stop_pool(p, timeout=1.0)
    assert time.monotonic() - start < 4
    assert wait_gone(pids, 2) == []
    # The queued ones are cancelled, or fail once the executor's manager sees its workers gone
    # (those already in the call queue cannot be cancelled): soon, never left pending.
    from concurrent.futures import wait as wait_futures

    wait_futures(futures[2:], timeout=10)
    assert all(f.done() for f in futures[2:])


PROJECTOR = textwrap.dedent(
    """
    import sys, time
    from game.play.projection import Projector
    p = Projector(seeds=2, workers=2)
    p.warm_up(wait=True)
    print("ready", flush=True)
    time.sleep(120)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_projection_workers_end_with_the_game(sig: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", PROJECTOR], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "ready"
        family = descendants(proc.pid)
        assert len(family) >= 2
        proc.send_signal(sig)
        proc.wait(timeout=10)
        assert wait_gone(family, 5) == []
    finally:
        kill_all([proc.pid, *descendants(proc.pid)])
        proc.stdout.close()
        proc.wait()


# ----------------------------------------------------------------------------- 11: writes
def _full(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_sweep_on_a_full_disk_is_one_message_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment = _experiment(tmp_path)
    folder = tmp_path / "out"
    assert main(["sweep", str(experiment), "--workers", "1", "--out", str(folder)]) == 0
    before = (folder / "experiments.parquet").read_bytes()
    folder2 = tmp_path / "out2"
    write = output.atomic_write_bytes

    def full_for_runs(path: Path, data: bytes) -> None:  # the disk fills at the first run
        if Path(path).parent.name == "runs":
            _full()
        write(path, data)

    monkeypatch.setattr(output, "atomic_write_bytes", full_for_runs)
    assert main(["sweep", str(experiment), "--workers", "1", "--out", str(folder2)]) == 2
    err = capsys.readouterr().err
    assert "cannot write '" in err and "No space left on device" in err, err
    assert "the file was left as it was" in err
    monkeypatch.undo()
    assert main(["sweep", str(experiment), "--workers", "1", "--out", str(folder2)]) == 0
    assert (folder / "experiments.parquet").read_bytes() == before


def test_compaction_on_a_full_disk_keeps_the_old_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from game.config import files

    experiment = _experiment(tmp_path)
    folder = tmp_path / "out"
    assert main(["sweep", str(experiment), "--workers", "1", "--out", str(folder)]) == 0
    before = (folder / "experiments.parquet").read_bytes()
    monkeypatch.setattr(files.os, "replace", _full)
    assert main(["sweep", str(experiment), "--workers", "1", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write '{folder / 'experiments.parquet'}' (No space left" in err, err
    assert (folder / "experiments.parquet").read_bytes() == before
    assert not list(folder.glob(".*.tmp"))


def test_report_and_analyze_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from game.config import files

    experiment = _experiment(tmp_path)
    folder = tmp_path / "out"
    assert main(["sweep", str(experiment), "--workers", "1", "--out", str(folder)]) == 0
    assert main(["run", "--months", "8", "--out", str(tmp_path / "r.csv")]) == 0
    page = tmp_path / "r.html"
    page.write_text("old")
    capsys.readouterr()
    monkeypatch.setattr(files.os, "replace", _full)
    assert main(["analyze", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "cannot write '" in err and "No space left on device" in err and "Traceback" not in err
    assert main(["report", str(tmp_path / "r.csv"), "--out", str(page)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write '{page}' (No space left on device)" in err, err
    assert page.read_text() == "old"


# ----------------------------------------------------------------------------- 12: damage
def test_a_garbage_table_is_named_with_the_way_to_recover(tmp_path: Path) -> None:
    experiment = _experiment(tmp_path)
    folder = tmp_path / "out"
    assert run_cli("sweep", experiment, "--workers", "1", "--out", folder).returncode == 0
    (folder / "experiments.parquet").write_bytes(b"garbage" * 100)
    result = run_cli("sweep", experiment, "--workers", "1", "--out", folder)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{folder / 'experiments.parquet'}: this sweep table is damaged" in result.stderr
    assert "delete 'experiments.parquet' and 'outcomes.parquet'" in result.stderr
    (folder / "experiments.parquet").unlink()
    (folder / "outcomes.parquet").unlink()
    assert run_cli("sweep", experiment, "--workers", "1", "--out", folder).returncode == 0


def test_a_truncated_run_file_is_set_aside_and_its_run_runs_again(
    tmp_path: Path, reference: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    experiment = load_experiment(str(_experiment(tmp_path, INTERRUPTIBLE)))
    folder = tmp_path / "out"
    run_sweep(experiment, folder, workers=1, limit=4)
    runs = sorted((folder / "runs").glob("*.json"))
    runs[0].write_text(runs[0].read_text()[:10])  # truncated record
    data = runs[1].with_suffix(".arrow")
    data.write_bytes(data.read_bytes()[:100])  # truncated outcome rows
    report = run_sweep(experiment, folder, workers=1)
    assert report.ran == 14 and report.failed == 0
    assert sorted(p.name for p in (folder / "damaged").iterdir()) == sorted(
        [runs[0].name, runs[0].with_suffix(".arrow").name, runs[1].name, data.name]
    )
    pd.testing.assert_frame_equal(_tables(folder)[0], reference[0])
    pd.testing.assert_frame_equal(_tables(folder)[1], reference[1])
    assert not alive(999999)


def test_a_pool_that_breaks_between_results_and_the_next_submit_is_replaced(monkeypatch) -> None:
    """A worker can die after the last wait and before the next job is handed out: then the
    submit itself raises BrokenProcessPool (seen once in CI, with a worker killed mid-sweep).
    The job goes back in line, the pool is replaced, and every job still runs exactly once."""
    from concurrent.futures.process import BrokenProcessPool

    from tests.batch.helpers import square

    real, calls = pool.submit, []

    def flaky(p, fn, job):
        calls.append(job)
        if len(calls) == 3:
            raise BrokenProcessPool("a worker died between two waits")
        return real(p, fn, job)

    monkeypatch.setattr(pool, "submit", flaky)
    results = list(pool.stream_local(square, range(8), 2, lambda job, why: ("lost", job)))
    assert sorted(results) == [x * x for x in range(8)]
    assert calls.count(2) == 2  # the job whose submit failed was handed out again
