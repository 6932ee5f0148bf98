"""Robust policy search: epsilon-NSGA-II (platypus) over an experiment's `search.levers`, each
candidate policy judged across the same sampled futures by a robustness measure per outcome.

A candidate is a setting of every search lever (a number in its range, or one of its choices,
set before the first month as `--set` does). It runs once in each of `search.futures` sampled
futures: the same futures and seeds for every candidate (common random numbers), drawn once
from the search's seed (the experiment's uncertainties by a Latin hypercube, or, when it names
none, every uncertain parameter as `run --samples` draws them). Each run's outcomes are the
experiment file's `outcomes:`; a candidate's objective per outcome is its robustness measure
over the futures:

    mean                          the mean over the futures
    {percentile: P}               the P-th percentile (of the outcome itself: for an outcome
                                  to minimise, 90 is the bad tail)
    regret / {regret: P}          the shortfall from the best value any candidate evaluated so
                                  far reached in the same future: the maximum (or P-th
                                  percentile) over the futures; minimised
    {satisficing: {threshold: X}} the share of futures meeting X (<= X for an outcome to
                                  minimise, >= X to maximise); maximised

Regret moves as better candidates are found: during the search each candidate's regret is
taken against the best values known when it was evaluated; the Pareto set written at the end
is recomputed against the best over the whole search and filtered again for dominance.

A candidate with a failed run (or an outcome that is NaN in a future) violates the search's one
constraint, so it never enters the Pareto set.

The runs go through the project's own process pool (game/batch/pool.py: spawned workers that
never outlive the command, Ctrl-C and SIGTERM stop them) or Dask (a local cluster kept for the
whole search, or a scheduler's), a generation at a time.

The search folder:
    manifest.json         the experiment (name, digest), the provenance record
    experiment.yaml       the experiment file as it was run
    checkpoint.pkl        after every generation, whole or not at all: the algorithm (its
                          population and epsilon archive), the random state, every candidate's
                          values in every future, the convergence so far
    convergence.csv       per generation: nfe, runs, archive size, epsilon progress, hypervolume
    evaluations.csv       every candidate: its levers and robust outcomes
    search.json           what the tables' columns are: levers, outcomes, measures, futures
    pareto_futures.csv    each Pareto policy's outcomes in every future (candidate, seed)
    pareto.csv            the Pareto set: levers and robust outcomes (+ provenance sidecar)
    policies/policy_NN.yaml  each Pareto policy as a scenario file (`play`, `run` load it)
    .lock                 held by the search writing into the folder
Running the same command again resumes from the checkpoint (continuing the nfe count); a folder
holding another experiment's search, or a sweep, is refused.
"""

from __future__ import annotations

import contextlib
import json
import math
import pickle
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import platypus

from game.batch.output import make_folder, read_manifest, save_bytes, save_results
from game.batch.pool import connect_dask
from game.batch.provenance import record
from game.batch.sweep import FolderLock, model_rows
from game.config.errors import InputError, Problem
from game.config.experiment import (
    Experiment,
    LeverRange,
    Robustness,
    SampledFuture,
    plain_value,
    sampled_futures,
    seeds_for,
)
from game.config.levers import default_policy_spec
from game.config.outcomes import OutcomeSpec
from game.config.scenario import Scenario, load_scenario, with_overrides

CHECKPOINT = "checkpoint.pkl"
KIND = "search"


# ----------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class EvalJob:
    """One run of one candidate in one future, as plain data a worker can unpickle."""

    candidate: int
    future: int
    scenario: str | Scenario
    seed: int
    overrides: tuple[tuple[str, Any], ...]
    months: int | None
    outcomes: tuple[OutcomeSpec, ...]


def evaluate_run(job: EvalJob) -> dict[str, Any]:
    """Run the model (in a worker) and reduce its results to the outcomes: only numbers travel
    back. Never raises: a failed run is recorded with its error."""
    from game.batch.outcomes import outcome_values

    out = model_rows(job.scenario, job.seed, dict(job.overrides), job.months)
    values: list[float] = [math.nan] * len(job.outcomes)
    if out["status"] == "ok":
        try:
            table = outcome_values(pd.DataFrame(out["rows"]), job.outcomes)
            values = [float(table[o.name].iloc[0]) for o in job.outcomes]
        except Exception as exc:  # recorded, not raised
            out["status"], out["error"] = "error", f"{type(exc).__name__}: {exc}"[:2000]
    return {
        "candidate": job.candidate,
        "future": job.future,
        "status": out["status"],
        "error": out["error"],
        "values": values,
        "seconds": out["seconds"],
    }


def _lost(job: EvalJob, reason: str) -> dict[str, Any]:
    return {
        "candidate": job.candidate,
        "future": job.future,
        "status": "error",
        "error": f"WorkerDied: {reason}",
        "values": [math.nan] * len(job.outcomes),
        "seconds": 0.0,
    }


class Runner:
    """Runs jobs a generation at a time: on one local process pool kept for the whole search
    (game/batch/pool.py's spawned workers; a pool broken by a dead worker is replaced and the
    generation's unfinished runs run again, a run lost twice is recorded as failed), or on one
    Dask client kept likewise. With one worker, in this process."""

    def __init__(
        self, workers: int, backend: str = "local", client: Any = None, on_pool: Any = None
    ) -> None:
        self.workers, self.backend, self.client, self.on_pool = workers, backend, client, on_pool
        self.cluster: Any = None
        self.pool: Any = None

    def run(self, jobs: list[EvalJob]) -> Iterator[dict[str, Any]]:
        if self.backend == "dask":
            yield from self._dask(jobs)
        elif self.workers <= 1:
            yield from map(evaluate_run, jobs)
        else:
            yield from self._local(jobs)

    def _local(self, jobs: list[EvalJob]) -> Iterator[dict[str, Any]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        from game.batch.pool import new_pool, stop_pool, submit

        todo = list(jobs)
        breaks = 0
        while todo:
            if self.pool is None:
                self.pool = new_pool(self.workers)
                if self.on_pool is not None:
                    self.on_pool(self.pool)
            running = {submit(self.pool, evaluate_run, j): j for j in todo}
            todo = []
            broken = False
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    exc = future.exception() if not future.cancelled() else None
                    if isinstance(exc, BrokenProcessPool) or future.cancelled():
                        broken = True
                        todo.append(job)
                    elif exc is not None:
                        yield _lost(job, f"{type(exc).__name__}: {exc}")
                    else:
                        yield future.result()
            if broken:
                stop_pool(self.pool)
                self.pool = None
                breaks += 1
                if breaks >= 2:  # twice in one generation: give the rest up as failed
                    for job in todo:
                        yield _lost(job, "its worker process died twice")
                    todo = []

    def _dask(self, jobs: list[EvalJob]) -> Iterator[dict[str, Any]]:
        from game.sim.runner import require_distributed

        distributed = require_distributed()
        if self.client is None:
            self.cluster = distributed.LocalCluster(
                n_workers=max(1, self.workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = distributed.Client(self.cluster)
        futures = self.client.map(evaluate_run, jobs, pure=False)
        try:
            for future in distributed.as_completed(futures):
                yield future.result()
                future.release()
        finally:
            with contextlib.suppress(Exception):
                self.client.cancel(futures)

    def close(self) -> None:
        """Stop the workers (whatever ended the search: done, Ctrl-C, SIGTERM, an error)."""
        if self.pool is not None:
            from game.batch.pool import stop_pool

            stop_pool(self.pool)
            self.pool = None
        for thing in (self.client, self.cluster):
            if thing is not None:
                with contextlib.suppress(Exception):
                    thing.close(timeout=4)
        self.client = self.cluster = None


# ----------------------------------------------------------------------------- robustness
def minimised(values: np.ndarray, direction: str) -> np.ndarray:
    """Values turned so that lower is better."""
    return values if direction == "minimize" else -values


def robust_value(
    values: np.ndarray, measure: Robustness, direction: str, best: np.ndarray
) -> float:
    """One outcome's values over the futures [future] as one number (see the module's
    docstring); `best` [future]: the best value known per future (for regret)."""
    if measure.measure == "mean":
        return float(np.mean(values))
    if measure.measure == "percentile":
        return float(np.percentile(values, measure.percentile))
    if measure.measure == "regret":
        regret = np.maximum(minimised(values, direction) - minimised(best, direction), 0.0)
        if measure.percentile is None:
            return float(np.max(regret))
        return float(np.percentile(regret, measure.percentile))
    t = float(measure.threshold)  # satisficing
    met = values <= t if direction == "minimize" else values >= t
    return float(np.mean(met))


def objective_direction(measure: Robustness, direction: str) -> str:
    """Which way the robust value is better."""
    if measure.measure == "regret":
        return "minimize"
    if measure.measure == "satisficing":
        return "maximize"
    return direction


def dominated(points: np.ndarray) -> np.ndarray:
    """Rows [candidate, objective] (lower is better) that another row dominates."""
    out = np.zeros(len(points), dtype=bool)
    for i, p in enumerate(points):
        others = np.delete(points, i, axis=0)
        out[i] = bool(np.any(np.all(others <= p, axis=1) & np.any(others < p, axis=1)))
    return out


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """The exact volume dominated by `points` (lower is better) up to `reference`, by slicing
    on the last objective (fine for archives of tens of points and a few objectives)."""
    pts = points[np.all(points < reference, axis=1)]
    if len(pts) == 0:
        return 0.0
    if pts.shape[1] == 1:
        return float(reference[0] - pts[:, 0].min())
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    total = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, -1] if i + 1 < len(pts) else reference[-1]
        depth = upper - pts[i, -1]
        if depth > 0:
            total += depth * hypervolume(pts[: i + 1, :-1], reference[:-1])
    return total


# ----------------------------------------------------------------------------- the problem
@dataclass
class Design:
    """What the search varies and how it judges: built from the experiment, never pickled into
    the checkpoint (the experiment file is the source)."""

    experiment: Experiment
    scenario: Scenario
    futures: list[SampledFuture]
    levers: dict[str, LeverRange]
    outcomes: list[OutcomeSpec]
    measures: list[Robustness]
    directions: list[str]  # of the robust values
    epsilons: list[float]
    seed: int

    @classmethod
    def of(cls, experiment: Experiment) -> Design:
        spec = experiment.spec
        search = spec.search
        if search is None:
            raise InputError(
                Problem(
                    "this experiment has no `search:` section; expected search: {nfe, "
                    "population, futures, levers, robustness, epsilons}",
                    file=experiment.source,
                )
            )
        scenario = load_scenario(spec.scenario)
        seed = spec.seed if search.seed is None else search.seed
        measures = [search.measure(o.name) for o in spec.outcomes]
        return cls(
            experiment=experiment,
            scenario=scenario,
            futures=futures_for(experiment, scenario, search.futures, seed),
            levers=dict(search.levers),
            outcomes=list(spec.outcomes),
            measures=measures,
            directions=[
                objective_direction(m, o.direction)
                for m, o in zip(measures, spec.outcomes, strict=True)
            ],
            epsilons=[float(search.epsilons[o.name]) for o in spec.outcomes],
            seed=seed,
        )

    def lever_values(self, variables: list[float]) -> dict[str, Any]:
        """A candidate's decision variables as lever settings."""
        out: dict[str, Any] = {}
        for (key, lever), x in zip(self.levers.items(), variables, strict=True):
            if lever.choices is not None:
                k = len(lever.choices)
                out[key] = lever.choices[min(int(float(x) * k), k - 1)]
            else:
                out[key] = float(x)
        return out

    def jobs(self, candidate: int, levers: dict[str, Any]) -> list[EvalJob]:
        return [
            EvalJob(
                candidate,
                f,
                self.scenario,
                seed,
                tuple(params) + tuple(levers.items()),
                self.experiment.spec.months,
                tuple(self.outcomes),
            )
            for f, (seed, params) in enumerate(self.futures)
        ]

    def robust(self, values: np.ndarray, best: np.ndarray) -> list[float]:
        """A candidate's values [future, outcome] as its robust objectives."""
        return [
            robust_value(values[:, j], m, o.direction, best[:, j])
            for j, (m, o) in enumerate(zip(self.measures, self.outcomes, strict=True))
        ]

    def problem(self) -> Any:
        problem = _Problem(len(self.levers), len(self.outcomes))
        for i, lever in enumerate(self.levers.values()):
            lo, hi = lever.range if lever.range is not None else (0.0, 1.0)
            problem.types[i] = platypus.Real(lo, hi)
        for j, d in enumerate(self.directions):
            problem.directions[j] = (
                platypus.Direction.MINIMIZE if d == "minimize" else platypus.Direction.MAXIMIZE
            )
        problem.constraints[:] = "==0"
        return problem


def futures_for(
    experiment: Experiment, scenario: Scenario, n: int, seed: int
) -> list[SampledFuture]:
    """The futures every candidate runs in: the experiment's uncertainties drawn by a Latin
    hypercube, or every uncertain parameter not fixed by the scenario or a lever."""
    u = experiment.spec.uncertainties
    if not u:
        fixed = set(scenario.parameters) | {k.split(".")[0] for k in experiment.spec.search.levers}
        return sampled_futures(n, seed, fixed)
    from scipy.stats import qmc

    from game.config.experiment import Values, _scale

    unit = qmc.LatinHypercube(d=len(u), seed=np.random.default_rng(seed)).random(n)
    seeds = seeds_for(n, seed)
    out = []
    for s, row in zip(seeds, unit, strict=True):
        values = _scale(row, u)
        params = tuple(
            (k, plain_value(v) if isinstance(spec, Values) else float(v))
            for (k, spec), v in zip(u.items(), values, strict=True)
        )
        out.append((s, params))
    return out


class _Problem(platypus.Problem):  # type: ignore[misc]
    """Objectives come from the evaluator (set on `pending` before platypus evaluates): the
    runs of a whole generation go to the pool at once."""

    def __init__(self, nvars: int, nobjs: int) -> None:
        super().__init__(nvars, nobjs, 1)
        self.pending: dict[int, tuple[list[float], float, int]] = {}

    def evaluate(self, solution: Any) -> None:
        objectives, violation, candidate = self.pending.pop(id(solution))
        solution.objectives[:] = objectives
        solution.constraints[:] = [violation]
        solution.candidate = candidate


# ----------------------------------------------------------------------------- the state
@dataclass
class State:
    """Everything a resumed search needs besides the experiment: pickled whole."""

    algorithm: Any
    random_state: Any
    levers: list[dict[str, Any]] = field(default_factory=list)  # per candidate
    values: list[np.ndarray] = field(default_factory=list)  # per candidate [future, outcome]
    failed: list[int] = field(default_factory=list)  # per candidate: failed runs
    generation_of: list[int] = field(default_factory=list)
    convergence: list[dict[str, Any]] = field(default_factory=list)
    archives: list[list[int]] = field(default_factory=list)  # per generation: candidates
    started: bool = False
    seconds: float = 0.0

    def best(self, n_futures: int, design: Design) -> np.ndarray:
        """The best value per future and outcome over every candidate that ran cleanly."""
        k = len(design.outcomes)
        if not self.values:
            return np.full((n_futures, k), np.nan)
        stack = np.stack(self.values)  # [candidate, future, outcome]
        ok = np.array(self.failed) == 0
        stack = stack[ok] if ok.any() else stack
        out = np.empty((n_futures, k))
        for j, o in enumerate(design.outcomes):
            col = stack[:, :, j]
            out[:, j] = np.nanmin(col, axis=0) if o.direction == "minimize" else np.nanmax(col, 0)
        return out


class Evaluator:
    """platypus' evaluator interface: a generation's candidates x futures on the Runner."""

    def __init__(self, design: Design, state: State, runner: Runner, progress: Any) -> None:
        self.design, self.state, self.runner, self.progress = design, state, runner, progress
        self.runs = 0

    def evaluate_all(self, jobs: list[Any], **kwargs: Any) -> list[Any]:
        design, state = self.design, self.state
        first = len(state.levers)
        settings = [design.lever_values(list(job.solution.variables)) for job in jobs]
        n, k = len(design.futures), len(design.outcomes)
        values = np.full((len(jobs), n, k), np.nan)
        failed = np.zeros(len(jobs), dtype=int)
        work = [j for i, s in enumerate(settings) for j in design.jobs(first + i, s)]
        # platypus draws from the `random` module; a Dask client in this process draws from it
        # too: the search's stream is set aside while the runs run, so any backend gives the
        # same search
        rng = random.getstate()
        try:
            results = list(self._results(work))
        finally:
            random.setstate(rng)
        for result in results:
            i = result["candidate"] - first
            values[i, result["future"]] = result["values"]
            if result["status"] != "ok":
                failed[i] += 1
        failed += np.isnan(values).any(axis=2).sum(axis=1) * (failed == 0)
        generation = len(state.convergence)
        for i, s in enumerate(settings):
            state.levers.append(s)
            state.values.append(values[i])
            state.failed.append(int(failed[i]))
            state.generation_of.append(generation)
        best = state.best(n, design)
        problem = jobs[0].solution.problem if jobs else None
        for i, job in enumerate(jobs):
            if failed[i]:
                objectives = [0.0] * k
            else:
                objectives = design.robust(values[i], best)
            problem.pending[id(job.solution)] = (objectives, float(failed[i]), first + i)
            job.run()
        return jobs

    def _results(self, work: list[EvalJob]) -> Iterator[dict[str, Any]]:
        for result in self.runner.run(work):
            self.runs += 1
            if self.progress is not None:
                self.progress(self.runs)
            yield result

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------- the folder
class SearchStore:
    """A search folder, locked from construction until close()."""

    def __init__(self, folder: str | Path, experiment: Experiment) -> None:
        self.folder = Path(folder)
        self.experiment = experiment
        make_folder(self.folder, "search")
        self.lock: FolderLock | None = FolderLock(self.folder)
        self.lock.acquire()
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def __enter__(self) -> SearchStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        manifest = self.folder / "manifest.json"
        experiment = self.experiment
        if manifest.exists():
            old = read_manifest(manifest, "search")
            if old.get("kind") != KIND:
                raise InputError(
                    Problem(
                        "this folder holds a sweep, not a search; choose another --out folder",
                        file=str(self.folder),
                    )
                )
            if old.get("experiment", {}).get("digest") != experiment.digest():
                raise InputError(
                    Problem(
                        "this folder holds a search of another experiment "
                        f"('{old.get('experiment', {}).get('name')}', or an edited file); "
                        "choose another --out folder",
                        file=str(self.folder),
                    )
                )
            self.provenance = old.get("provenance") or {}
            return
        if any(self.folder.glob("runs")) or (self.folder / "experiments.parquet").exists():
            raise InputError(
                Problem(
                    "this folder holds a sweep, not a search; choose another --out folder",
                    file=str(self.folder),
                )
            )
        self.provenance = search_provenance(experiment, self.folder)
        rec = {
            "kind": KIND,
            "experiment": {"name": experiment.name, "digest": experiment.digest()},
            "provenance": self.provenance,
        }
        save_bytes(self.folder / "experiment.yaml", experiment.text.encode(), "--out")
        save_bytes(manifest, json.dumps(rec, indent=1).encode(), "--out")

    def load(self) -> State | None:
        path = self.folder / CHECKPOINT
        if not path.exists():
            return None
        try:
            with path.open("rb") as f:
                state = pickle.load(f)
        except Exception as exc:
            raise InputError(
                Problem(
                    f"the search's checkpoint is damaged ({type(exc).__name__}); delete it to "
                    "start the search again, or choose another --out folder",
                    file=str(path),
                )
            ) from None
        if not isinstance(state, State):
            raise InputError(Problem("not a search checkpoint", file=str(path)))
        return state

    def save(self, state: State) -> None:
        algorithm = state.algorithm
        evaluator, algorithm.evaluator = algorithm.evaluator, None
        try:
            data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            algorithm.evaluator = evaluator
        save_bytes(self.folder / CHECKPOINT, data, "--out")


def search_provenance(experiment: Experiment, folder: Path) -> dict[str, Any]:
    scenario = load_scenario(experiment.spec.scenario)
    search = experiment.spec.search
    seed = experiment.spec.seed if search is None or search.seed is None else search.seed
    return record(
        prog="python main.py",
        argv=["search", experiment.source, "--out", str(folder)],
        scenario=scenario,
        seed=seed,
        months=experiment.spec.months,
        extra_inputs=[("experiment.yaml", experiment.text.encode())],
        experiment={"name": experiment.name, "digest": experiment.digest()},
        seeds_note="the futures' seeds: seeds_for(futures, seed); every candidate runs in each",
    )


# ----------------------------------------------------------------------------- the search
@dataclass
class SearchReport:
    nfe: int
    budget: int
    generations: int
    ran_now: int
    seconds: float
    finished: bool
    pareto: Path | None = None
    written: list[Path] = field(default_factory=list)


def _new_state(design: Design) -> State:
    search = design.experiment.spec.search
    algorithm = platypus.EpsNSGAII(
        design.problem(),
        epsilons=design.epsilons,
        population_size=search.population,
    )
    # platypus draws from the `random` module: the search's own stream, saved with it
    rng_before = random.getstate()
    random.seed(design.seed)
    state = State(algorithm=algorithm, random_state=random.getstate())
    random.setstate(rng_before)
    return state


def run_search(
    experiment: Experiment,
    folder: str | Path,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    client: Any = None,
    generations: int | None = None,
    progress: Callable[[str], None] | None = None,
    on_pool: Any = None,
    store: SearchStore | None = None,
) -> SearchReport:
    """Search until the budget (search.nfe) is spent, checkpointing after every generation;
    `generations` stops after that many more (the checkpoint resumes). With the budget spent,
    write the results (write_results)."""
    design = Design.of(experiment)
    if client is None and backend == "dask" and scheduler:
        client = connect_dask(scheduler)
    if store is None:
        store = SearchStore(folder, experiment)
    runner = Runner(workers, backend, client, on_pool)
    try:
        return _search(design, store, runner, generations, progress)
    finally:
        runner.close()
        store.close()


def _search(
    design: Design,
    store: SearchStore,
    runner: Runner,
    generations: int | None,
    progress: Callable[[str], None] | None,
) -> SearchReport:
    search = design.experiment.spec.search
    state = store.load() or _new_state(design)
    algorithm = state.algorithm
    tick = None
    evaluator = Evaluator(design, state, runner, tick)
    algorithm.evaluator = evaluator
    rng_before = random.getstate()
    random.setstate(state.random_state)
    start = time.perf_counter()
    done_now = 0
    nfe_before = algorithm.nfe
    try:
        if not state.started:
            for ext in algorithm._extensions:
                ext.start_run(algorithm)
            state.started = True
        while algorithm.nfe < search.nfe and (generations is None or done_now < generations):
            g_start = time.perf_counter()
            for ext in algorithm._extensions:
                ext.pre_step(algorithm)
            algorithm.step()
            for ext in algorithm._extensions:
                ext.post_step(algorithm)
            done_now += 1
            archive = [s.candidate for s in algorithm.archive if s.feasible]
            state.archives.append(archive)
            state.seconds += time.perf_counter() - g_start
            state.convergence.append(
                {
                    "generation": len(state.convergence) + 1,
                    "nfe": algorithm.nfe,
                    "runs": algorithm.nfe * len(design.futures),
                    "archive_size": len(archive),
                    "epsilon_progress": algorithm.archive.improvements,
                    "seconds": round(state.seconds, 3),
                }
            )
            state.random_state = random.getstate()
            store.save(state)
            if progress is not None:
                progress(
                    f"{design.experiment.name}: generation {len(state.convergence)}, "
                    f"nfe {algorithm.nfe}/{search.nfe}, archive {len(archive)}, "
                    f"epsilon progress {algorithm.archive.improvements}, "
                    f"{state.seconds:.0f} s"
                )
    finally:
        random.setstate(rng_before)
        algorithm.evaluator = None
    finished = algorithm.nfe >= search.nfe
    report = SearchReport(
        nfe=algorithm.nfe,
        budget=search.nfe,
        generations=len(state.convergence),
        ran_now=(algorithm.nfe - nfe_before) * len(design.futures),
        seconds=time.perf_counter() - start,
        finished=finished,
    )
    if finished:
        report.written = write_results(design, state, store)
        report.pareto = store.folder / "pareto.csv"
    return report


# ----------------------------------------------------------------------------- the results
def robust_table(design: Design, state: State, best: np.ndarray) -> pd.DataFrame:
    """Every candidate: id, generation, levers, robust outcomes, failed runs."""
    rows = []
    for c, (levers, values) in enumerate(zip(state.levers, state.values, strict=True)):
        row: dict[str, Any] = {"candidate": c, "generation": state.generation_of[c] + 1}
        row.update(levers)
        failed = state.failed[c]
        robust = design.robust(values, best) if not failed else [math.nan] * len(design.outcomes)
        row.update({o.name: v for o, v in zip(design.outcomes, robust, strict=True)})
        row["failed_runs"] = failed
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_rows(design: Design, table: pd.DataFrame, candidates: list[int]) -> pd.DataFrame:
    """The candidates' rows, those another dominates (on the robust outcomes) dropped."""
    rows = table.set_index("candidate").loc[sorted(set(candidates))].reset_index()
    rows = rows[rows["failed_runs"] == 0]
    names = [o.name for o in design.outcomes]
    points = (
        np.column_stack(
            [
                minimised(rows[n].to_numpy(float), d)
                for n, d in zip(names, design.directions, strict=True)
            ]
        )
        if len(rows)
        else np.empty((0, len(names)))
    )
    keep = ~dominated(points) if len(rows) else np.zeros(0, dtype=bool)
    rows = rows[keep]
    rows = rows.drop_duplicates(subset=names + list(design.levers))
    return rows.sort_values(names[0], ascending=design.directions[0] == "minimize").reset_index(
        drop=True
    )


def convergence_table(design: Design, state: State, best: np.ndarray) -> pd.DataFrame:
    """The convergence rows with the hypervolume of each generation's archive, on the robust
    outcomes scaled to [0, 1] by their range over every archive (reference: 1.1 each)."""
    table = robust_table(design, state, best).set_index("candidate")
    names = [o.name for o in design.outcomes]
    turned = np.column_stack(
        [
            minimised(table[n].to_numpy(float), d)
            for n, d in zip(names, design.directions, strict=True)
        ]
    )
    turned = pd.DataFrame(turned, index=table.index)
    members = sorted({c for a in state.archives for c in a})
    lo = turned.loc[members].min().to_numpy() if members else np.zeros(len(names))
    hi = turned.loc[members].max().to_numpy() if members else np.ones(len(names))
    span = np.where(hi > lo, hi - lo, 1.0)
    hv = []
    for archive in state.archives:
        pts = (
            ((turned.loc[archive].to_numpy() - lo) / span) if archive else np.empty((0, len(names)))
        )
        pts = pts[~np.isnan(pts).any(axis=1)]
        hv.append(hypervolume(pts, np.full(len(names), 1.1)) if len(pts) else 0.0)
    out = pd.DataFrame(state.convergence)
    out["hypervolume"] = hv
    return out


def write_results(design: Design, state: State, store: SearchStore) -> list[Path]:
    folder = store.folder
    best = state.best(len(design.futures), design)
    table = robust_table(design, state, best)
    last = state.archives[-1] if state.archives else []
    pareto = pareto_rows(design, table, last)
    pareto.insert(0, "policy", [f"policy_{i:02d}" for i in range(len(pareto))])
    written = []
    prov = store.provenance or None
    for name, frame in (
        ("pareto.csv", pareto),
        ("evaluations.csv", table),
        ("convergence.csv", convergence_table(design, state, best)),
    ):
        save_results(frame, folder / name, prov, "--out")
        written.append(folder / name)
    runs = pd.DataFrame(
        [
            {"candidate": c, "future": f, "seed": design.futures[f][0]}
            | {o.name: float(state.values[c][f, j]) for j, o in enumerate(design.outcomes)}
            for c in pareto["candidate"]
            for f in range(len(design.futures))
        ]
    )
    save_results(runs, folder / "pareto_futures.csv", prov, "--out")
    written.append(folder / "pareto_futures.csv")
    meta = {
        "name": design.experiment.name,
        "levers": list(design.levers),
        "outcomes": [o.name for o in design.outcomes],
        "robustness": [m.label() for m in design.measures],
        "directions": design.directions,
        "futures": [{"seed": s, "parameters": dict(p)} for s, p in design.futures],
        "months": design.experiment.spec.months,
        "scenario": design.experiment.spec.scenario,
        "nfe": state.algorithm.nfe,
        "generations": len(state.convergence),
        "pareto_policies": len(pareto),
    }
    save_bytes(folder / "search.json", json.dumps(meta, indent=1, default=str).encode(), "--out")
    written.append(folder / "search.json")
    policies = folder / "policies"
    make_folder(policies, "policies")
    with contextlib.suppress(OSError):
        for old in policies.glob("policy_*.yaml"):
            old.unlink()
    for _, row in pareto.iterrows():
        levers = {k: plain_value(row[k]) for k in design.levers}
        text = policy_scenario(design, row["policy"], levers, row)
        path = policies / f"{row['policy']}.yaml"
        save_bytes(path, text.encode(), "--out")
        written.append(path)
    return written


def policy_scenario(design: Design, name: str, levers: dict[str, Any], row: Any) -> str:
    """A Pareto policy as a self-contained scenario file: the experiment's scenario with the
    levers set before the first month and held (as `--set` holds them: the schedule's own
    changes to them are dropped, and a rule version scheduled later leaves them be)."""
    import yaml

    base = design.scenario
    scenario = with_overrides(base, levers)
    from game.config.dates import format_month

    rules = default_policy_spec().rules
    pinned = {(k.partition(".")[0], k.partition(".")[2] or None): v for k, v in levers.items()}
    schedule = []
    for s in scenario.schedule:
        entry = {"date": format_month(s.month), **_change(s.change)}
        if s.news:
            entry["news"] = s.news
        schedule.append(entry)
        if s.change.lever == "export_rule":  # a rule version would reset a held lever
            bundled = rules[str(s.change.value)].levers
            for (lever, target), value in pinned.items():
                if lever != "destination" and lever not in bundled:
                    continue
                again = with_overrides(base, {_key(lever, target): value}).initial[-1]
                schedule.append({"date": format_month(s.month), **_change(again)})
    outcomes = ", ".join(
        f"{o.name} {row[o.name]:.4g} ({m.label()})"
        for o, m in zip(design.outcomes, design.measures, strict=True)
    )
    doc: dict[str, Any] = {
        "name": f"{design.experiment.name}_{name}",
        "description": f"Robust policy {name} of search '{design.experiment.name}': "
        + ", ".join(f"{k}={v}" for k, v in levers.items()),
        "start": format_month(scenario.start),
        "end": format_month(scenario.end),
    }
    if scenario.parameters:
        doc["parameters"] = dict(scenario.parameters)
    doc["levers"] = [_change(c) for c in scenario.initial]
    if scenario.bots:
        doc["bots"] = dict(scenario.bots)
    if scenario.budget_growth:
        doc["budget_growth"] = {b: dict(p) for b, p in scenario.budget_growth.items()}
    doc["schedule"] = schedule
    head = (
        f"# Written by `search` from {design.experiment.source}: {name} of its Pareto set.\n"
        f"# Robust outcomes over {len(design.futures)} futures: {outcomes}.\n"
        f"# Base scenario: {base.name}; the searched levers are set from the first month and\n"
        "# held (re-applied after each export-rule change, as `--set` holds them).\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def _key(lever: str, target: str | None) -> str:
    return lever if target is None else f"{lever}.{target}"


def _change(change: Any) -> dict[str, Any]:
    out = {"actor": change.actor, "lever": change.lever, "value": plain_value(change.value)}
    if change.target is not None:
        out["target"] = change.target
    return out


def print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
