"""The one way a model is run in another process: sweeps, the check against public figures,
robustness tests and the game's projections all go through here.

Three things every such run needs, kept here once because each copy had to get them right:

- `forget`: Mesa 3.3 keeps every model it has seen alive, so a worker that builds models one
  after another must drop each one or grow without bound.
- `spawn_pool`: worker processes are spawned, never forked. Importing Mesa already switches the
  whole program to spawn (mesa.batchrunner sets the start method), so asking for it explicitly
  gives the same workers whether or not Mesa was imported first; and forking a process that
  holds threads (a Dask client, a game window) is unsafe anyway. Spawned workers import the
  worker function by name, so it must be a module-level function fed plain data.
- `stream`: results as they finish, from a local pool, this process, or Dask, so that a caller
  can write each one to disk at once (a crash loses only the runs in flight) and Ctrl-C stops
  promptly without waiting for the queued runs.

Dask (the `distributed` package) is an optional backend and slow to import: it is imported only
when asked for.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from game.config.errors import InputError, Problem

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel

J = TypeVar("J")
R = TypeVar("R")

Backend = Literal["local", "dask"]

# Recycling workers bounds any slow leak that `forget` does not cover; a re-spawn costs about a
# second of imports and a cold first run, with its slot idle meanwhile, so not often: a worker's
# resident memory levels off at about 230 MB within 300 runs of the default scenario and stays
# there (measured to 400), and at 200 tasks a 10,000-run sweep spent half a minute respawning.
MAX_TASKS_PER_CHILD = 1000
# Jobs submitted ahead of the results taken, so that workers never wait on the main process,
# yet an interrupted run leaves little queued work to cancel.
IN_FLIGHT_PER_WORKER = 4
# How often a worker checks that the process that made its pool is still there (seconds):
# a killed sweep's workers are gone about this long after it.
PARENT_POLL_SECONDS = 0.5


def forget(*models: ChipWarModel | None) -> None:
    """Let finished models be freed.

    Mesa 3.3 numbers agents with a counter per model in a class-level dict (`Agent._ids`) keyed
    by the model itself, so every model ever built stays reachable from the class. Dropping the
    key is the only way out short of ending the process; later Mesa versions without that dict
    make this a no-op. `None` is accepted so that a worker can call it in a `finally` whether or
    not its model was ever built."""

    from mesa import Agent  # here, not at the top: workers import this module to start up

    ids = getattr(Agent, "_ids", None)
    if ids is None:
        return
    for model in models:
        if model is not None:
            ids.pop(model, None)


_settled = False  # this worker's start-up objects are frozen out of the collector's sight


def settle() -> None:
    """In a long-lived worker process (never the main one): collect the garbage of start-up
    once and freeze every object alive now (gc.freeze), so that `sweep_up` after each model
    scans only what came since: about a millisecond instead of a full collection (60-90 ms).
    Frozen objects are still freed when their last reference goes; only cycles among them
    would never be, and there are none left once collected."""
    global _settled
    if _settled or mp.parent_process() is None:
        return
    gc.collect()
    gc.freeze()
    _settled = True
    _count_kernel_loads()
    drop_cold_pages()


# The compiler's library (LLVM, through llvmlite): a settled worker needs it only to load a
# kernel it has not run yet, and its start-up leaves about 70 MB of it mapped in each process.
COLD_LIBRARIES = ("llvmlite",)
_MADV_DONTNEED = 4  # Linux's madvise advice: drop these pages from this process's mapping
# Times numba took its compiler lock (it does to compile a kernel or load one from its cache,
# the only work that touches COLD_LIBRARIES again), and that count at the last drop.
_kernel_loads = 0
_loads_at_drop = -1


def _count_kernel_loads() -> None:
    """Count, from now on, every time numba takes its compiler lock (numba.core.event). Why: a
    drop reads /proc/self/smaps, about 14 ms in a worker, and a projection made it after every
    job, on the way to the screen; with the count, a job that loaded no kernel skips it."""
    from numba.core import event  # here: workers import this module before anything heavy

    class _Counter(event.Listener):
        def on_start(self, _: event.Event) -> None:
            global _kernel_loads
            _kernel_loads += 1

        def on_end(self, _: event.Event) -> None:
            pass

    event.register("numba:compiler_lock", _Counter())


def drop_cold_pages() -> int:
    """In a settled worker on Linux: drop from its memory the pages of COLD_LIBRARIES' code
    and read-only data (madvise MADV_DONTNEED on their read-only file mappings that hold no
    page of their own; returns the MB advised). Why: those pages are clean copies of the
    library file, shared with every other process that maps it; each worker's resident memory
    counted them whole (the two projection workers held some 140 MB of LLVM between them that
    a fan never touches). A page touched again is read back from the file (the page cache),
    so a kernel loaded later still loads. Never touched: writable mappings, and read-only ones
    with a modified page (the relocated tables the loader made read-only after writing them,
    which the file cannot give back). Skipped when no kernel was compiled or loaded since the
    last drop: nothing has brought those pages back."""
    global _loads_at_drop
    if not _settled or not sys.platform.startswith("linux") or _kernel_loads == _loads_at_drop:
        return 0
    _loads_at_drop = _kernel_loads
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        madvise = libc.madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        with open("/proc/self/smaps") as smaps:
            lines = smaps.read().splitlines()
    except (OSError, AttributeError):
        return 0
    dropped = 0
    for lo, hi in _clean_mappings(lines, COLD_LIBRARIES):
        if madvise(lo, hi - lo, _MADV_DONTNEED) == 0:
            dropped += hi - lo
    return dropped >> 20


def _clean_mappings(smaps: list[str], libraries: tuple[str, ...]) -> list[tuple[int, int]]:
    """(start, end) of the read-only mappings of a file of `libraries` (a shared object) in
    /proc/self/smaps' lines whose pages are all the file's own: no private modified page and
    no anonymous one."""
    out: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    own = 0
    for line in smaps + ["end-end ---- 0 0 0"]:
        fields = line.split()
        if len(fields) >= 5 and "-" in fields[0] and ":" in fields[3]:  # a mapping's header
            if current is not None and own == 0:
                out.append(current)
            current, own = None, 0
            path = fields[5] if len(fields) > 5 else ""
            if (
                "w" not in fields[1]
                and ".so" in path.rsplit("/", 1)[-1]
                and any(lib in path for lib in libraries)
            ):
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                current = (lo, hi)
        elif current is not None and fields and fields[0] in ("Private_Dirty:", "Anonymous:"):
            own += int(fields[1])
    return out


def sweep_up() -> None:
    """Free the models a settled worker has dropped. A world is a web of cycles (Mesa's agents
    and their model refer to each other), so a forgotten model waits for a full collection,
    which Python's default thresholds make rare: a projection worker held about 50 MB of dead
    worlds after a few fans. A no-op outside a settled worker (a full collection there would
    cost more than it frees)."""
    if _settled:
        gc.collect()


def watch_parent(parent: int) -> None:
    """Run in each worker (and any helper process) as it starts: end it once the process that
    made it is gone. A parent stopped by SIGTERM or SIGKILL never shuts its pool down, and its
    spawned workers would otherwise wait on their queue for ever. Ctrl-C is the parent's to
    handle (it shuts the pool down): a worker ignores it, so a game or a batch of runs stopped
    from a terminal prints no worker's traceback; a parent that blocked SIGINT while spawning
    (game.batch.pool) passed the block on, and it is lifted once the signal is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def lean_worker(parent: int, hidden: tuple[str, ...], niceness: int = 0) -> None:
    """watch_parent, in a worker that must never load the packages `hidden`: each is marked
    absent (a None entry in sys.modules, Python's own way to say "not installed") before the
    worker imports anything else. Why: pandas loads pyarrow whenever it is installed, about
    40 MB of resident memory per process, and the game's projection workers (two of them,
    kept for the whole game) never touch an Arrow table; sweeps' workers write Arrow and do
    not use this. `niceness` > 0 lowers the worker's scheduling priority (os.nice, where the
    system has it): background work that must yield the cores to a window drawing its frames."""
    for name in hidden:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
    if niceness > 0 and hasattr(os, "nice"):
        os.nice(niceness)
    watch_parent(parent)


def spawn_pool(
    workers: int,
    max_tasks_per_child: int | None = MAX_TASKS_PER_CHILD,
    hidden: tuple[str, ...] = (),
    niceness: int = 0,
) -> ProcessPoolExecutor:
    """A process pool of `workers` spawned processes, each of which ends with the process
    that made the pool however that one ends (`watch_parent`).

    `max_tasks_per_child=None` keeps workers for good: right for a long-lived pool whose jobs
    must not pay the model's import time again (the game's projections). `hidden`: packages
    the workers never load, to keep their memory down; `niceness`: how far below this
    process the workers are scheduled (see lean_worker)."""
    if hidden or niceness:
        initializer: Callable[..., None] = lean_worker
        initargs: tuple[Any, ...] = (os.getpid(), tuple(hidden), int(niceness))
    else:
        initializer, initargs = watch_parent, (os.getpid(),)
    return ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=mp.get_context("spawn"),
        max_tasks_per_child=max_tasks_per_child,
        initializer=initializer,
        initargs=initargs,
    )


def stream(
    fn: Callable[[J], R],
    jobs: Iterable[J],
    workers: int = 1,
    backend: Backend | str = "local",
    scheduler: str | None = None,
) -> Iterator[R]:
    """`fn(job)` for every job, yielded as each finishes (not in the jobs' order unless run in
    this process). `backend` "local": a spawn pool of `workers` processes, or this process with
    one worker (no start-up cost, and a debugger or a test's monkeypatch still applies).
    "dask": a Dask cluster, an existing one at `scheduler` or a local one of `workers`."""
    if backend == "dask":
        return stream_dask(fn, jobs, workers, scheduler)
    return stream_local(fn, jobs, workers)


def stream_local(fn: Callable[[J], R], jobs: Iterable[J], workers: int = 1) -> Iterator[R]:
    """Results as they finish, from a spawn pool (or in this process with 1 worker)."""
    if workers <= 1:
        for job in jobs:
            yield fn(job)
        return
    pending = iter(jobs)
    with spawn_pool(workers) as pool:
        running: set[Future[R]] = set()
        try:
            for job in pending:
                running.add(pool.submit(fn, job))
                if len(running) >= workers * IN_FLIGHT_PER_WORKER:
                    break
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    for job in pending:  # keep the queue topped up
                        running.add(pool.submit(fn, job))
                        break
                    yield future.result()
        except BaseException:  # Ctrl-C, a failed job, or the caller stopped reading
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def require_distributed() -> Any:
    """The `distributed` package, imported now (it is slow to import and optional), or the
    user's input to fix if it is missing."""
    try:
        import distributed
    except ImportError:
        raise InputError(
            Problem(
                "the dask backend needs the 'distributed' package (pip install distributed)",
                key="--backend",
            )
        ) from None
    return distributed


def stream_dask(
    fn: Callable[[J], R], jobs: Iterable[J], workers: int = 1, scheduler: str | None = None
) -> Iterator[R]:
    """Results as they finish, from an existing Dask cluster (`scheduler`, an address) or a
    local one started for these jobs and closed after them. A missing `distributed` package or
    an unreachable scheduler is the user's input to fix, so it is reported as such."""
    distributed = require_distributed()
    Client, LocalCluster, as_completed = (  # noqa: N806 - the package's own names
        distributed.Client,
        distributed.LocalCluster,
        distributed.as_completed,
    )
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise InputError(
                Problem(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc})", key="--scheduler"
                )
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = client.map(fn, list(jobs), pure=False)
        for future in as_completed(futures):
            yield future.result()
            future.release()  # the result is the caller's now: free the cluster's copy
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
