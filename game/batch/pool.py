"""Worker processes for batch runs that survive faults and never outlive the command.

game.sim.runner.stream is the plain way to run jobs in other processes; a sweep needs more,
because it runs for hours and is stopped in every way a process can be stopped:

- A worker killed mid-run (`kill -9`, the out-of-memory killer) breaks a ProcessPoolExecutor:
  every job in flight fails with BrokenProcessPool. Here the pool is replaced and the jobs in
  flight run again; a job that was in flight when the pool broke twice is handed to `lost`
  (the sweep records it as failed) and the others go on.
- Workers end with the process that made them however it ends: each one watches its parent
  (a thread polling os.getppid()) and exits once it is gone.
- Workers ignore SIGINT: Ctrl-C reaches the whole process group, and the parent alone decides
  what to do (stop the pool, save what is done). SIGINT is blocked while a worker is spawned,
  so that one caught mid-start, before it could ignore the signal, prints no traceback.
- Stopping never waits unboundedly: queued jobs are cancelled, workers are terminated, then
  killed if they do not end within a few seconds.
- SIGTERM in the command becomes `Terminated` (a KeyboardInterrupt), so a sweep stopped by a
  service manager or `timeout` stops like Ctrl-C: promptly, with a folder that resumes.
- Dask: the scheduler's address is parsed before anything is created, and connecting (the
  TCP connection and the handshake) has a deadline: a port that accepts and never answers,
  or answers with garbage, is one clear message.

Imports are light (the standard library, and game.sim.runner, which imports Mesa only when a
model is forgotten): a worker imports its initializer (runner.watch_parent) before anything
heavy, so the window in which it is not yet set up stays short.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from game.config.errors import InputError, Problem
from game.sim.runner import MAX_TASKS_PER_CHILD, require_distributed, spawn_pool

J = TypeVar("J")
R = TypeVar("R")

# Jobs submitted ahead of the results taken (per worker): workers never wait on the parent.
IN_FLIGHT_PER_WORKER = 4
# Stopping a pool: seconds for its workers to end after SIGTERM before they are killed.
STOP_SECONDS = 2.0
# A job in flight when the pool broke this many times is given up (recorded as failed).
BREAKS_PER_JOB = 2
# Dask: seconds to connect to a scheduler and complete the handshake.
DASK_CONNECT_SECONDS = 20.0
DASK_SCHEMES = ("tcp", "tls", "ws", "wss")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) received: stop like Ctrl-C. `signum` gives the exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Terminated` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise Terminated(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def exit_status(exc: KeyboardInterrupt) -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + (exc.signum if isinstance(exc, Terminated) else signal.SIGINT)


# ----------------------------------------------------------------------------- workers
@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """While workers may be spawned: SIGINT is blocked in this thread, so a child inherits
    the mask and cannot be interrupted before watch_parent ignores the signal; and Ctrl-C or
    SIGTERM handled by Python is held back until the block ends (raised then, never lost),
    so that it cannot land between a child's start and the parent sending it its set-up, which
    leaves the child to die with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        handler = signal.getsignal(s)
        if callable(handler):
            previous[s] = handler
            signal.signal(s, lambda signum, _frame: caught.append(signum))
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in caught[:1]:
            previous[signum](signum, None)  # KeyboardInterrupt, Terminated


def new_pool(workers: int, max_tasks_per_child: int | None = MAX_TASKS_PER_CHILD) -> Any:
    """runner.spawn_pool, made with signals deferred: its workers start under watch_parent."""
    with _signals_deferred():  # the executor's manager thread, started later, inherits it
        return spawn_pool(workers, max_tasks_per_child)


def submit(pool: ProcessPoolExecutor, fn: Callable[[J], R], job: J) -> Future[R]:
    with _signals_deferred():  # a submit may spawn a worker
        return pool.submit(fn, job)


def stop_pool(pool: ProcessPoolExecutor, timeout: float = STOP_SECONDS) -> None:
    """Cancel the queued jobs and end the workers within `timeout` seconds (SIGTERM, then
    SIGKILL): shutting down never waits for a job in flight or a worker that hangs."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # read before shutdown(), which lets go of them
    calls, results = getattr(pool, "_call_queue", None), getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    deadline = time.monotonic() + timeout
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.kill()
                p.join(1.0)
    if calls is not None:  # never block at exit flushing jobs no worker will read
        with contextlib.suppress(Exception):
            calls.cancel_join_thread()
    if results is not None:
        # A worker ended mid-way through writing its result leaves the executor's manager
        # thread reading a message that never ends, and Python joins that thread at exit: a
        # Ctrl-C'd sweep printed its message and then hung. With the workers gone, this end
        # was the last open for writing: closing it gives the reader EOF, and the thread ends.
        with contextlib.suppress(Exception):
            results._writer.close()


def worker_pids(pool: ProcessPoolExecutor) -> list[int]:
    return [p.pid for p in (getattr(pool, "_processes", None) or {}).values() if p.pid]


# ----------------------------------------------------------------------------- local
def stream_local(
    fn: Callable[[J], R],
    jobs: Iterable[J],
    workers: int,
    lost: Callable[[J, str], R],
    on_pool: Callable[[ProcessPoolExecutor], None] | None = None,
) -> Iterator[R]:
    """`fn(job)` for every job, yielded as each finishes, on a pool of `workers` spawned
    processes (in this process with one worker). A worker that dies breaks the pool: it is
    replaced and the jobs in flight run again; one in flight at BREAKS_PER_JOB breaks is
    given up and `lost(job, reason)` yielded in its place."""
    if workers <= 1:
        for job in jobs:
            yield fn(job)
        return
    pending: list[tuple[int, J]] = list(enumerate(jobs))[::-1]  # popped from the end
    breaks: dict[int, int] = {}
    running: dict[Future[R], tuple[int, J]] = {}
    pool = new_pool(workers)
    if on_pool is not None:
        on_pool(pool)
    try:
        while pending or running:
            # After a break the suspects run alone, one at a time (they are next in line), so
            # that a break counts against the job that caused it only: run side by side, an
            # innocent job in flight at two breaks was given up with the culprit.
            ahead = 1 if breaks else workers * IN_FLIGHT_PER_WORKER
            broke_on_submit = False
            while pending and len(running) < ahead:
                index, job = pending.pop()
                try:
                    running[submit(pool, fn, job)] = (index, job)
                except BrokenProcessPool:  # a worker died since the last wait: the job never ran
                    pending.append((index, job))
                    broke_on_submit = True
                    break
            done, _ = wait(running, return_when=FIRST_COMPLETED) if running else (set(), set())
            if not broke_on_submit and not any(_broken(f) for f in done):
                for future in done:
                    index, job = running.pop(future)
                    breaks.pop(index, None)
                    yield future.result()
                continue
            # A worker died: every job in flight fails. Take the results that made it.
            wait(running, timeout=STOP_SECONDS)
            stop_pool(pool)
            again = []
            for future, (index, job) in list(running.items()):
                if future.done() and not future.cancelled() and future.exception() is None:
                    breaks.pop(index, None)
                    yield future.result()
                    continue
                breaks[index] = breaks.get(index, 0) + 1
                if breaks[index] >= BREAKS_PER_JOB:
                    breaks.pop(index)
                    yield lost(job, f"its worker process died {BREAKS_PER_JOB} times")
                else:
                    again.append((index, job))
            running.clear()
            pending.extend(sorted(again, reverse=True))
            pool = new_pool(workers)
            if on_pool is not None:
                on_pool(pool)
    finally:  # done, Ctrl-C, SIGTERM, a failed write, or the caller stopped reading
        stop_pool(pool)


def _broken(future: Future[Any]) -> bool:
    return not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)


# ----------------------------------------------------------------------------- dask
_ADDRESS = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"  # tcp:// (optional)
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[^:/\s\[\]]+)"  # a name, an IPv4 or a [IPv6] address
    r":(?P<port>[0-9]{1,5})/?$"
)


def parse_scheduler(text: str) -> str:
    """A Dask scheduler's address as `scheme://host:port` (tcp unless given), or an
    InputError: checked before anything is created or imported."""
    m = _ADDRESS.match(text.strip())
    if m is None:
        raise InputError(
            Problem(
                f"'{text}' is not a scheduler address; expected HOST:PORT or "
                "tcp://HOST:PORT (as the scheduler prints it)",
                key="--scheduler",
            )
        )
    scheme = (m["scheme"] or "tcp").lower()
    if scheme not in DASK_SCHEMES:
        raise InputError(
            Problem(
                f"'{text}': unknown protocol '{scheme}://'; expected one of "
                + ", ".join(f"{s}://" for s in DASK_SCHEMES),
                key="--scheduler",
            )
        )
    port = int(m["port"])
    if not 1 <= port <= 65535:
        raise InputError(
            Problem(f"'{text}': port {port} is out of range (1 to 65535)", key="--scheduler")
        )
    return f"{scheme}://{m['host']}:{port}"


def connect_dask(scheduler: str, seconds: float = DASK_CONNECT_SECONDS) -> Any:
    """A Client of the scheduler at `scheduler`, or an InputError within about `seconds`:
    refused, unknown host, no answer (a port that accepts and never speaks), or garbage."""
    address = parse_scheduler(scheduler)
    distributed = require_distributed()
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = distributed.Client(address, timeout=seconds)
        except BaseException as exc:  # reported below, whatever distributed raised
            box["error"] = exc

    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(seconds + 2.0)
    if "client" in box:
        return box["client"]
    _quiet_client_finaliser()
    if thread.is_alive():
        reason = f"no answer within {seconds:.0f} s"
    else:
        exc = box.get("error")
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "no client"
        if isinstance(exc, ValueError | MemoryError | AssertionError | TypeError):
            reason = "it does not speak the Dask protocol"
    raise InputError(
        Problem(f"cannot reach the Dask scheduler at {address} ({reason[:300]})", key="--scheduler")
    )


def _quiet_client_finaliser() -> None:
    """A Client that failed to connect complains again when it is collected (its __del__
    raises): that is the failure already reported, so it is not printed a second time."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if "Client" not in getattr(unraisable.object, "__qualname__", ""):
            previous(unraisable)

    sys.unraisablehook = hook


def stream_dask(
    fn: Callable[[J], R], jobs: Iterable[J], workers: int = 1, client: Any = None
) -> Iterator[R]:
    """Results as they finish from a connected Client (closed after), or from a local
    cluster of `workers` processes started for these jobs and closed after them."""
    distributed = require_distributed()
    cluster = None
    if client is None:
        cluster = distributed.LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster)
    try:
        futures = client.map(fn, list(jobs), pure=False)
        for future in distributed.as_completed(futures):
            yield future.result()
            future.release()  # the result is the caller's now: free the cluster's copy
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=STOP_SECONDS * 2)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=STOP_SECONDS * 2)
