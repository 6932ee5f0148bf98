"""The "what will this do" fan chart: the rest of the game re-run over sampled futures.

A player's decision is judged by what it does to the future, but one run of the future is one
draw of luck and one guess at every unknown. So the projection restores the world as it is
now and re-runs the remaining months in `seeds` futures, each with its own random stream and
its own draw of the uncertain parameters (a Latin hypercube over their documented ranges,
config.experiment.parameter_draws; those the scenario fixes stay fixed), and reports, per bloc
and month, the median and the 10-90% band of frontier capability: a band as wide as what we
don't know, not only as luck. Every projection of a game uses the same futures (seeds and draws
derived from the game's own seed), so two projections of two states of the same month differ
by what the player changed, not by luck or by assumption (common random numbers): that
difference is a decision's effect.

A full projection takes about a second, which would freeze a window, so it runs in a process
pool (game.sim.runner's spawn pool) fed with plain snapshots (game.state.snapshot). The UI asks
with `Projector.request(model)` and calls the non-blocking `Projector.poll()` every frame.
Only one job is in flight at a time: a request made while another computes waits in a single
slot, and a newer request replaces the waiting one, so however fast the player clicks, the
projection shown is at most two jobs behind and the worker never piles up stale work.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import threading
import time
import warnings
from collections.abc import Hashable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from game.config.experiment import SampledFuture, sampled_futures
from game.sim.model import ChipWarModel
from game.sim.runner import drop_cold_pages, forget, settle, spawn_pool, sweep_up
from game.sim.state import restore, snapshot

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel

log = logging.getLogger(__name__)

Snapshot = tuple[dict[str, Any], dict[str, np.ndarray]]  # game.state.snapshot's plain data

_BAND = (10.0, 50.0, 90.0)
CLOSE_SECONDS = 5.0  # the longest Projector.close waits for a job in flight
MAX_REMEMBERED_ENDS = 256  # end medians kept for the caller (see Projector.take_ends)
# Packages the projection workers never load (runner.lean_worker): pandas would load pyarrow,
# about 40 MB in each worker, for tables a projection never makes.
HIDDEN = ("pyarrow",)
# How far below the game the workers are scheduled (os.nice): a game at speed asks a fan every
# month, so both workers compute back to back on the machine's two cores; at the same priority
# the window's frames waited behind them (p95 18 ms, frames of 300 ms at 4x, 1280x800), and a
# frame needs the core for a few milliseconds when it wants it, the fan only its share.
NICENESS = 10


@dataclass(frozen=True, eq=False)
class Fan:
    """The projection of one world state: frontier capability per bloc, month by month, from
    next month to the scenario's end (median and 10th/90th percentiles over the seeds).
    Compared by identity: field-wise `==` on numpy arrays has no single truth value."""

    dates: list[str]
    median: dict[str, np.ndarray]
    p10: dict[str, np.ndarray]
    p90: dict[str, np.ndarray]
    request_id: int
    seeds: int = 0  # futures behind the band
    uncertain: bool = True  # the futures drew the uncertain parameters, not only seeds
    # False: a first look from the first futures done; the fan of all of them follows
    complete: bool = True
    planned: int = 0  # futures the complete fan has (= seeds when complete)
    # per bloc: the drawn parameters that go most with its end capability (name, rank corr.)
    drivers: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    seconds: float = field(default=0.0, compare=False)  # wall time from request to arrival

    def end_median(self) -> dict[str, float]:
        """Projected median frontier capability per bloc in the scenario's last month (what a
        decision's effect is measured on); empty if no months were left to project."""
        return {b: float(v[-1]) for b, v in self.median.items() if len(v)}

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any], request_id: int, seconds: float = 0.0) -> Fan:
        """A Fan from `project`'s plain result."""
        return cls(
            dates=list(plain["dates"]),
            median={b: np.asarray(v, float) for b, v in plain["median"].items()},
            p10={b: np.asarray(v, float) for b, v in plain["p10"].items()},
            p90={b: np.asarray(v, float) for b, v in plain["p90"].items()},
            request_id=int(request_id),
            seeds=int(plain.get("seeds", 0)),
            uncertain=bool(plain.get("uncertain", False)),
            complete=bool(plain.get("complete", True)),
            planned=int(plain.get("planned", plain.get("seeds", 0))),
            drivers={
                b: [(str(k), float(r)) for k, r in v] for b, v in plain.get("drivers", {}).items()
            },
            seconds=float(seconds),
        )


# ----------------------------------------------------------------------------- worker side
def _trajectories(
    states: list[Snapshot], futures: list[SampledFuture]
) -> tuple[list[str], list[str], list[np.ndarray]]:
    """Run every state to its horizon once per future. Returns the dates and bloc ids of the
    first state and, per state, frontier capability as an array [future, month, bloc]."""
    settle()  # a worker's first job, if no warm-up reached it
    dates: list[str] = []
    blocs: list[str] = []
    out: list[np.ndarray] = []
    for k, (plain, arrays) in enumerate(states):
        runs = []
        for seed, drawn in futures:
            model = restore(plain, arrays, dict(drawn))
            model.record_tables = False  # a fan reads the frontier alone
            model.tells_news = False
            try:
                # Reseed in place: agents and tables may hold the generator objects themselves,
                # so replacing model.rng would leave them drawing from the old stream.
                model.rng.bit_generator.state = np.random.PCG64(seed).state
                model.random.seed(seed)
                n_blocs = len(model.bloc_ids)
                rows: list[np.ndarray] = []
                month_dates: list[str] = []
                while model.turn < model.horizon:
                    model.step()
                    rows.append(np.array(model.frontier_hist[-1], float))
                    month_dates.append(model.date)
            finally:
                forget(model)  # a step that raises must not leave the world alive either
                sweep_up()
            if k == 0 and not runs:
                dates, blocs = month_dates, list(model.bloc_ids)
            runs.append(np.array(rows, float).reshape(len(rows), n_blocs))
        out.append(np.stack(runs))
    drop_cold_pages()  # what loading a kernel met for the first time brought back in
    return dates, blocs, out


def _summarise(
    dates: list[str], blocs: list[str], traj: np.ndarray, seeds: int, uncertain: bool = True
) -> dict[str, Any]:
    """Median and 10-90% band per bloc over the future axis of a [future, month, bloc] array."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a bloc without a model: all NaN
        if traj.size:
            # np.nanpercentile's numbers; its per-cell Python (~16 ms a fan of 32, in the game's
            # frame) only where a cell has a NaN to leave out
            pct = np.nanpercentile if np.isnan(traj).any() else np.percentile
            p10, med, p90 = pct(traj, _BAND, axis=0)
        else:
            p10 = med = p90 = np.zeros((0, len(blocs)))
    return {
        "dates": list(dates),
        "blocs": list(blocs),
        "median": {b: med[:, i].copy() for i, b in enumerate(blocs)},
        "p10": {b: p10[:, i].copy() for i, b in enumerate(blocs)},
        "p90": {b: p90[:, i].copy() for i, b in enumerate(blocs)},
        "seeds": int(seeds),
        "uncertain": bool(uncertain),
    }


DRIVERS_SHOWN = 3  # unknowns the "why?" window names per bloc


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks down axis 0 of x ([n] or [n, k]), tied values sharing the mean of their
    ranks (scipy.stats.rankdata's "average"; scipy itself takes about a second to import, a
    stall the game's window would show when the first fan arrives). With ties ranked by
    position instead, a whole-valued parameter drawn alike in several futures would correlate
    differently depending on the order the workers returned the futures."""
    x2 = x.reshape(x.shape[0], -1)
    n, k = x2.shape
    order = np.argsort(x2, axis=0, kind="stable")
    ordered = np.take_along_axis(x2, order, axis=0)
    starts = np.ones((n, k), bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(starts, axis=0) - 1 + np.arange(k) * n  # a tie group's id, per column
    position = np.broadcast_to(np.arange(1.0, n + 1.0)[:, None], (n, k))
    total = np.bincount(group.ravel(), weights=position.ravel(), minlength=n * k)
    count = np.bincount(group.ravel(), minlength=n * k)
    ranks = np.empty((n, k))
    np.put_along_axis(ranks, order, total[group] / count[group], axis=0)
    return ranks.reshape(x.shape)


def _drivers(
    blocs: list[str], traj: np.ndarray, futures: list[SampledFuture]
) -> dict[str, list[tuple[str, float]]]:
    """Per bloc, the drawn parameters whose values go most with its capability at the end
    across the futures (Spearman's rank correlation, strongest first, sign kept): the unknowns
    that widen its band most. `futures` in the order of traj's first axis. With a handful of
    futures a rough guide: the "why?" window says how many it rests on."""
    if traj.size == 0 or len(futures) < 3 or not futures[0][1]:
        return {}
    names = [k for k, _ in futures[0][1]]
    values = np.array([[v for _, v in drawn] for _, drawn in futures], float)  # [future, param]
    end = traj[:, -1, :]  # [future, bloc]

    rv = average_ranks(values)
    rv -= rv.mean(axis=0)
    out: dict[str, list[tuple[str, float]]] = {}
    for i, b in enumerate(blocs):
        y = end[:, i]
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            continue
        ry = average_ranks(y)
        ry -= ry.mean()
        denom = np.sqrt((rv**2).sum(axis=0) * (ry**2).sum())
        rho = np.divide(rv.T @ ry, denom, out=np.zeros(len(names)), where=denom > 0)
        top = np.argsort(-np.abs(rho), kind="stable")[:DRIVERS_SHOWN]
        out[b] = [(names[j], float(rho[j])) for j in top if rho[j] != 0]
    return out


def _ends(blocs: list[str], traj: np.ndarray) -> dict[str, float]:
    """Median over seeds of each bloc's frontier capability in the last month."""
    if traj.size == 0:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        last = np.nanmedian(traj[:, -1, :], axis=0)
    return {b: float(last[i]) for i, b in enumerate(blocs)}


def _gather(state: int, chunks: list[_Chunk], n: int) -> np.ndarray:
    """One state's trajectories [future, month, bloc] from the chunks that ran it, each
    future in its own row (the chunks hold futures i, i+n, ...: not in order)."""
    parts = [(c.futures, c.got[c.states.index(state)]) for c in chunks if c.got is not None]
    out = np.empty((n, *parts[0][1].shape[1:]))
    for rows, got in parts:
        out[rows] = got
    return out


def project(
    plain: dict[str, Any],
    arrays: dict[str, np.ndarray],
    seeds: int,
    base_seed: int,
    uncertain: bool = True,
) -> dict[str, Any]:
    """Project one snapshot to the scenario's end over `seeds` futures drawn from `base_seed`
    (config.experiment.sampled_futures; `uncertain=False`: seeds only, every parameter at its
    value).

    Top-level and fed only plain data, so a spawned worker can run it. Returns plain data:
    dates (next month .. the end), blocs, and median / p10 / p90 as {bloc: array per month}.
    """
    futures = sampled_futures(seeds, base_seed, _fixed(plain), uncertain)
    dates, blocs, traj = _trajectories([(plain, arrays)], futures)
    return {
        **_summarise(dates, blocs, traj[0], seeds, uncertain),
        "drivers": _drivers(blocs, traj[0], futures),
    }


def _fixed(plain: dict[str, Any]) -> list[str]:
    """The parameters a snapshot's scenario sets itself (never drawn)."""
    return list(plain["construct"]["scenario"].get("parameters", {}))


def _chunk_job(
    states: list[Snapshot], futures: list[SampledFuture]
) -> tuple[list[str], list[str], list]:
    """One worker's share of a request: some of the futures, for the main state and extras."""
    return _trajectories(states, futures)


def _warm(_: int = 0) -> float:
    """Import the model and build and step a world once in a worker, so that the caches
    (world data, lever spec, numpy code paths) are ready before the first real projection."""
    t0 = time.perf_counter()

    model = ChipWarModel("historical", rng=0, months=2)
    model.step()
    forget(model)
    del model
    settle()
    return time.perf_counter() - t0


def _import_draws() -> None:
    importlib.import_module("scipy.stats.qmc")  # config.experiment.parameter_draws's


# ----------------------------------------------------------------------------- UI side
@dataclass
class _Chunk:
    """One worker's job: some states (indices into the request's) over some of its futures."""

    states: list[int]
    futures: list[int]
    future: Future | None = None
    got: list[np.ndarray] | None = None  # per state of `states`: [future, month, bloc]


@dataclass
class _Job:
    """A request: the main state (for the fan) and extra states (for their end medians only)."""

    request_id: int
    states: list[Snapshot]
    keys: list[Hashable | None]  # caller's key for each state (main first)
    base_seed: int
    asked: float
    drawn: list[SampledFuture] = field(default_factory=list)  # its futures, set as it starts
    chunks: list[_Chunk] = field(default_factory=list)
    first_look: bool = False  # the fan of the first futures was handed (or is not wanted)
    fan_done: bool = False  # the fan of all futures was handed, with the main state's end
    dates: list[str] = field(default_factory=list)
    blocs: list[str] = field(default_factory=list)

    @property
    def futures(self) -> list[Future]:
        return [c.future for c in self.chunks if c.future is not None]


class Projector:
    """Runs projections in the background and hands back the newest one.

    seeds: futures per projection. workers: processes; with 2 or more, each projection's
    futures are split among them. workers=0 computes in the calling process during `request`
    (tests, scripts and machines where subprocesses are unwelcome; it blocks). uncertain:
    each future draws the uncertain parameters as well as its seed (False: seeds only).
    first: with 0 < first < seeds (and workers), the first `first` futures are computed first
    and their fan handed back as a first look (`Fan.complete` False) while the rest are
    computed: a player sees a band at once, and the band of all the futures a moment later.
    """

    def __init__(
        self, seeds: int = 8, workers: int = 1, uncertain: bool = True, first: int = 0
    ) -> None:
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        if workers < 0:
            raise ValueError(f"workers must be 0 or more, got {workers}")
        if first < 0:
            raise ValueError(f"first must be 0 or more, got {first}")
        self.seeds = int(seeds)
        self.first = int(first) if 0 < first < seeds else 0
        self.workers = int(workers)
        self.uncertain = bool(uncertain)
        self._futures: dict[tuple[int, tuple[str, ...]], list[SampledFuture]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._ids = itertools.count(1)
        self._newest = 0  # the id of the latest request (wait() waits for its fan)
        self._running: _Job | None = None
        self._waiting: _Job | None = None
        self._ready: Fan | None = None
        self._ends: dict[Hashable, dict[str, float]] = {}  # finished, not yet taken
        self._known: dict[Hashable, None] = {}  # keys projected recently (ordered set)
        self._warm: list[Future] = []
        self.error: BaseException | None = None  # the last failure in a worker, if any
        self.closed = False

    # -------------------------------------------------------------- pool
    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self.closed:
            raise RuntimeError("this Projector is closed")
        if self._pool is None:
            # Workers kept for good: a fresh one would import the model again (~1 s).
            self._pool = spawn_pool(
                self.workers, max_tasks_per_child=None, hidden=HIDDEN, niceness=NICENESS
            )
        return self._pool

    def warm_up(self, wait: bool = False, timeout: float | None = 60.0) -> None:
        """Start the worker processes and import the model in each, so the first projection
        takes no import time. Returns at once unless `wait` (then blocks up to `timeout`)."""
        if self.workers == 0:
            _warm()
            return
        # The futures' draws need scipy here (~0.5 s to import): imported beside the frames
        # now rather than in the frame of the first request.
        threading.Thread(target=_import_draws, name="import-draws", daemon=True).start()
        pool = self._ensure_pool()
        if not self._warm:
            self._warm = [pool.submit(_warm, i) for i in range(self.workers)]
        if wait:
            for fut in self._warm:
                fut.result(timeout=timeout)

    def close(self, wait: bool = True, timeout: float = CLOSE_SECONDS) -> None:
        """Shut the pool down: a job in flight is given up to `timeout` seconds to finish
        (wait=True) or abandoned; then the workers are terminated, and killed if they have
        not ended within a second. Closing never waits longer, whatever a worker does."""
        self.closed = True
        self._waiting = None
        self._running = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            deadline = time.monotonic() + (timeout if wait else 0.0)
            for p in processes:
                p.join(max(0.0, deadline - time.monotonic()))
            for p in processes:
                if p.is_alive():
                    p.terminate()
            for p in processes:
                p.join(1.0)
                if p.is_alive():
                    p.kill()
                    p.join(1.0)

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- requests
    def request(
        self,
        model: ChipWarModel | Snapshot,
        *,
        key: Hashable | None = None,
        extras: Mapping[Hashable, Snapshot] | None = None,
    ) -> int:
        """Project `model` (a ChipWarModel, or its game.state.snapshot) to the scenario's end.
        Returns the request's id; this request supersedes every earlier one.

        `key` names the state, and `extras` are more states (key -> snapshot) projected with
        the same seeds for their end medians only: `take_ends()` hands those back. The game
        session uses them to measure decisions' effects even when the player clicks faster
        than projections arrive.
        """
        if self.closed:
            raise RuntimeError("this Projector is closed")
        if isinstance(model, tuple):
            snap: Snapshot = model
        else:
            snap = snapshot(model)
        rid = next(self._ids)
        self._newest = rid
        states, keys = [snap], [key]
        for k, s in (extras or {}).items():
            if k is not None and k != key:
                states.append(s)
                keys.append(k)
        base_seed = int(snap[0]["construct"]["rng"])
        job = _Job(rid, states, keys, base_seed, time.perf_counter())
        if self.workers == 0:
            futures = job.drawn = self._futures_of(states[0], base_seed)
            chunk = _Chunk(list(range(len(states))), list(range(len(futures))))
            job.dates, job.blocs, chunk.got = _chunk_job(states, futures)
            job.chunks, job.first_look = [chunk], True
            self._hand_on(job)
            return rid
        self._collect()
        if self._running is None:
            self._submit(job)
        else:
            self._waiting = job  # replaces (supersedes) any job still waiting
        return rid

    def _futures_of(self, state: Snapshot, base_seed: int) -> list[SampledFuture]:
        """The game's futures (the same for every request of one game: kept)."""
        key = (base_seed, tuple(sorted(_fixed(state[0]))))
        if key not in self._futures:
            self._futures[key] = sampled_futures(self.seeds, base_seed, key[1], self.uncertain)
        return self._futures[key]

    def _plan(self, n_states: int, n_futures: int) -> list[_Chunk]:
        """A request's chunks in the order the workers take them: the main state's first
        futures (the first look, if one is wanted), its other futures, then the extra states
        over every future; each part split among the workers."""
        every = list(range(n_futures))
        first = self.first if self.first < n_futures else 0
        parts = [([0], every[:first]), ([0], every[first:])] if first else [([0], every)]
        if n_states > 1:
            parts.append((list(range(1, n_states)), every))
        chunks: list[_Chunk] = []
        for states, futures in parts:
            n = max(1, min(self.workers, len(futures)))
            chunks += [_Chunk(states, futures[i::n]) for i in range(n)]
        return chunks

    def _submit(self, job: _Job) -> None:
        # Drop extras that a job that finished meanwhile has already projected.
        keep = [i for i, k in enumerate(job.keys) if i == 0 or k not in self._known]
        job.states = [job.states[i] for i in keep]
        job.keys = [job.keys[i] for i in keep]
        futures = job.drawn = self._futures_of(job.states[0], job.base_seed)
        job.chunks = self._plan(len(job.states), len(futures))
        job.first_look = not 0 < self.first < len(futures)

        def send(pool: ProcessPoolExecutor) -> None:
            for c in job.chunks:
                states = [job.states[k] for k in c.states]
                c.future = pool.submit(_chunk_job, states, [futures[j] for j in c.futures])

        try:
            send(self._ensure_pool())
        except BrokenProcessPool as exc:  # a worker died earlier: start afresh
            self._fail(exc)
            self._pool = None
            send(self._ensure_pool())
        self._running = job

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        log.warning("projection failed: %s: %s", type(exc).__name__, exc)

    def _collect(self) -> None:
        """Take in the chunks that have landed, hand on what they complete, and when the whole
        job is in, start the waiting one."""
        job = self._running
        if job is None:
            return
        try:
            for c in job.chunks:
                if c.got is None and c.future is not None and c.future.done():
                    dates, blocs, c.got = c.future.result()
                    if c.states[0] == 0 and not job.dates:
                        job.dates, job.blocs = dates, blocs
        except BaseException as exc:  # a worker's failure must not take the UI down
            self._running = None
            for c in job.chunks:
                if c.future is not None:
                    c.future.cancel()  # its chunks not yet started
            self._fail(exc)
            if isinstance(exc, BrokenProcessPool) and self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        else:
            self._hand_on(job)
            if any(c.got is None for c in job.chunks):
                return
            self._running = None
        if self._waiting is not None and not self.closed:
            waiting, self._waiting = self._waiting, None
            self._submit(waiting)

    def _hand_on(self, job: _Job) -> None:
        """What the chunks in so far complete: the first look, the fan and the main state's
        end, the extra states' ends."""
        futures = job.drawn
        main = [c for c in job.chunks if c.states[0] == 0]
        if not job.first_look:
            firsts = [c for c in main if c.futures[-1] < self.first]
            if all(c.got is not None for c in firsts):
                job.first_look = True
                if not job.fan_done:
                    traj = _gather(0, firsts, self.first)
                    self._ready = self._fan(job, traj, futures[: self.first], len(futures))
        if not job.fan_done and all(c.got is not None for c in main):
            job.fan_done = job.first_look = True
            traj = _gather(0, main, len(futures))
            self._remember(job.keys[0], job.blocs, traj)
            self._ready = self._fan(job, traj, futures, len(futures))
        if all(c.got is not None for c in job.chunks):
            for k in range(1, len(job.states)):
                traj = _gather(k, [c for c in job.chunks if k in c.states], len(futures))
                self._remember(job.keys[k], job.blocs, traj)

    def _fan(
        self, job: _Job, traj: np.ndarray, futures: list[SampledFuture], planned: int
    ) -> Fan:
        plain = {
            **_summarise(job.dates, job.blocs, traj, len(futures), self.uncertain),
            "drivers": _drivers(job.blocs, traj, futures),
            "complete": len(futures) == planned,
            "planned": planned,
        }
        return Fan.from_plain(plain, job.request_id, seconds=time.perf_counter() - job.asked)

    def _remember(self, key: Hashable | None, blocs: list[str], traj: np.ndarray) -> None:
        """A keyed state's projected end, for take_ends (bounded: the oldest go first)."""
        if key is None:
            return
        self._ends[key] = _ends(blocs, traj)
        self._known[key] = None
        while len(self._known) > MAX_REMEMBERED_ENDS:
            self._known.pop(next(iter(self._known)))
        while len(self._ends) > MAX_REMEMBERED_ENDS:
            self._ends.pop(next(iter(self._ends)))

    def poll(self) -> Fan | None:
        """Non-blocking: the newest fan that has arrived since the last call, else None: the
        latest request's or, when requests come faster than fans (a game at speed), an earlier
        one's, which the job in flight was computing when it was superseded (`request_id` says
        which; a request replaced while it waited is never computed). Also moves the queue
        along, so call it often (the UI: every frame)."""
        if not self.closed:
            self._collect()
        fan, self._ready = self._ready, None
        return fan

    def wait(
        self, timeout: float = 60.0, interval: float = 0.02, first_look: bool = False
    ) -> Fan | None:
        """Block until the latest request's complete Fan arrives (scripts, tests, the
        debrief; `first_look`: or its first look, if that comes first). None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            fan = self.poll()
            if (
                fan is not None
                and fan.request_id == self._newest
                and (fan.complete or first_look)
            ):
                return fan
            if time.monotonic() >= deadline:
                return None
            if self._running is None and self._waiting is None:
                return None  # nothing under way (or the job failed: see .error)
            running = self._running
            pending = [f for f in running.futures if not f.done()] if running else []
            if pending:
                # woken as a chunk lands, not at the next tick of a sleep
                wait_for(pending, timeout=interval, return_when=FIRST_COMPLETED)
            else:
                time.sleep(interval)

    @property
    def busy(self) -> bool:
        """A projection is being computed or waiting to be."""
        return self._running is not None or self._waiting is not None

    def take_ends(self) -> dict[Hashable, dict[str, float]]:
        """End medians of every keyed state projected since the last call (main and extras,
        superseded jobs included): {key: {bloc: projected final frontier capability}}."""
        out, self._ends = self._ends, {}
        return out
