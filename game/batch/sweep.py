"""Sweeps: thousands of independent runs, on a local process pool or a Dask cluster, streamed
to disk as they finish and resumable.

A sweep folder holds:
    manifest.json          the experiment, its digest, versions, which columns are levers
    experiment.yaml        the experiment file as it was run
    runs/<run_id>.parquet  a finished run's outcome rows (written first, atomically)
    runs/<run_id>.json     its row of the experiments table (written last: the run is done)
    experiments.parquet    one row per run: policy, draw, replication, seed, levers,
                           parameters, status, error, seconds          (compacted at the end)
    outcomes.parquet       one row per run, month and bloc: the results contract's columns
(CSV instead of Parquet for the two compacted tables with --format csv). Ctrl-C or a crash
loses only the runs in flight: running the same command again skips every run already
recorded, failed ones included (their error is in the table), and never duplicates one.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy
import pandas as pd
from tqdm import tqdm

from game.config.errors import InputError, Problem
from game.config.experiment import Experiment, Run
from game.config.files import atomic_write_bytes, atomic_write_frame
from game.config.scenario import Scenario
from game.sim.model import ChipWarModel
from game.sim.runner import forget, stream


@dataclass(frozen=True)
class Job:
    """One run, as plain data a worker process can unpickle."""

    run: Run
    scenario: str | Scenario
    months: int | None


def model_rows(
    scenario: str | Scenario, seed: int, overrides: dict[str, Any] | None, months: int | None
) -> dict[str, Any]:
    """Build and run one model (in a worker); its results table as plain columns, or its
    error, never raised, and the seconds it took. A sweep's run and a sampled future alike."""
    start = time.perf_counter()
    out: dict[str, Any] = {"status": "ok", "error": "", "rows": None}
    model = None
    try:
        model = ChipWarModel(scenario, rng=seed, overrides=overrides or None, months=months)
        out["rows"] = model.run().to_dict("list")
    except Exception as exc:  # recorded, not raised
        out["status"] = "error"
        out["error"] = f"{type(exc).__name__}: {exc}".strip()[:2000]
        out["traceback"] = traceback.format_exc(limit=4)[-4000:]
    finally:
        forget(model)
    out["seconds"] = time.perf_counter() - start
    return out


def run_one(job: Job) -> dict[str, Any]:
    """One run of a sweep in a worker (model_rows), with the worker's pid and memory: the
    sweep goes on whatever a run does."""
    out = {
        "run_id": job.run.run_id,
        **model_rows(job.scenario, job.run.seed, job.run.overrides(), job.months),
    }
    out["worker_pid"] = os.getpid()
    out["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


# ----------------------------------------------------------------------------- the folder
class SweepStore:
    def __init__(self, folder: str | Path, experiment: Experiment, fmt: str = "parquet") -> None:
        self.folder = Path(folder)
        self.experiment = experiment
        self.fmt = fmt
        self.runs_dir = self.folder / "runs"
        manifest = self.folder / "manifest.json"
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, ValueError):
                raise InputError(
                    Problem("the sweep folder's manifest is damaged", file=str(manifest))
                ) from None
            if old.get("experiment", {}).get("digest") != experiment.digest():
                raise InputError(
                    Problem(
                        "this folder holds a sweep of another experiment "
                        f"('{old.get('experiment', {}).get('name')}', or an edited file); "
                        "choose another --out folder",
                        file=str(self.folder),
                    )
                )
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(
                Problem("is a file, expected a folder for the sweep", file=str(self.folder))
            )
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                Problem(f"cannot create the sweep folder ({exc.strerror})", file=str(self.folder))
            ) from None
        if not manifest.exists():
            record = {
                "experiment": experiment.record(),
                "levers": list(experiment.spec.levers),
                "uncertainties": list(experiment.spec.uncertainties),
                "versions": {"mesa": mesa.__version__, "numpy": numpy.__version__},
            }
            atomic_write_bytes(self.folder / "experiment.yaml", experiment.text.encode())
            atomic_write_bytes(manifest, json.dumps(record, indent=1).encode())

    def done(self) -> set[str]:
        """Runs already recorded (finished or failed): per-run files and the compacted table."""
        ids = {p.stem for p in self.runs_dir.glob("*.json")}
        table = self._table("experiments")
        if table is not None:
            ids |= set(table["run_id"])
        return ids

    def _table(self, name: str) -> pd.DataFrame | None:
        for ext in (".parquet", ".csv"):
            path = self.folder / f"{name}{ext}"
            if path.exists():
                return pd.read_parquet(path) if ext == ".parquet" else pd.read_csv(path)
        return None

    def write(self, run: Run, result: dict[str, Any]) -> None:
        """Outcome rows first, then the run's record: a run is done only when both are whole."""
        if result.get("rows") is not None:
            rows = pd.DataFrame(result["rows"])
            rows.insert(0, "run_id", run.run_id)
            atomic_write_frame(rows, self.runs_dir / f"{run.run_id}.parquet")
        record = {
            "run_id": run.run_id,
            "policy": run.policy,
            "draw": run.draw,
            "replication": run.replication,
            "seed": run.seed,
            **dict(run.levers),
            **dict(run.parameters),
            "status": result["status"],
            "error": result["error"],
            "seconds": round(float(result["seconds"]), 4),
        }
        atomic_write_bytes(self.runs_dir / f"{run.run_id}.json", json.dumps(record).encode())

    def compact(self) -> tuple[Path, Path]:
        """Gather every run into the experiments and outcomes tables (idempotent)."""
        order = {r.run_id: i for i, r in enumerate(self.experiment.runs())}
        records = []
        table = self._table("experiments")
        if table is not None:
            records += table.to_dict("records")
        seen = {r["run_id"] for r in records}
        for path in sorted(self.runs_dir.glob("*.json")):
            record = json.loads(path.read_text())
            if record["run_id"] not in seen:
                records.append(record)
                seen.add(record["run_id"])
        experiments = pd.DataFrame(records)
        experiments["_order"] = experiments["run_id"].map(order)
        experiments = (
            experiments.sort_values("_order").drop(columns="_order").reset_index(drop=True)
        )
        parts = []
        outcomes = self._table("outcomes")
        if outcomes is not None:
            parts.append(outcomes)
        known = set(outcomes["run_id"]) if outcomes is not None else set()
        for path in sorted(self.runs_dir.glob("*.parquet")):
            if path.stem not in known:
                parts.append(pd.read_parquet(path))
        outcomes = (
            pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["run_id"])
        )
        if parts:  # every run failed: an empty outcomes table, with the run_id column
            outcomes["_order"] = outcomes["run_id"].map(order)
            outcomes = outcomes.sort_values(["_order", "step", "bloc"], kind="stable").drop(
                columns="_order"
            )
        ext = ".parquet" if self.fmt == "parquet" else ".csv"
        exp_path, out_path = self.folder / f"experiments{ext}", self.folder / f"outcomes{ext}"
        atomic_write_frame(experiments, exp_path)
        atomic_write_frame(outcomes.reset_index(drop=True), out_path)
        for other in (".csv", ".parquet"):
            if other != ext:
                for name in ("experiments", "outcomes"):
                    (self.folder / f"{name}{other}").unlink(missing_ok=True)
        for path in list(self.runs_dir.glob("*")):  # now held by the compacted tables
            path.unlink()
        return exp_path, out_path


@dataclass
class SweepReport:
    total: int
    already: int
    ran: int
    failed: int
    seconds: float
    experiments: Path | None = None
    outcomes: Path | None = None
    max_worker_rss_mb: float = 0.0


def run_sweep(
    experiment: Experiment,
    folder: str | Path,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    fmt: str = "parquet",
    progress: bool | str = False,
    limit: int | None = None,
) -> SweepReport:
    """Run every run of the experiment not yet recorded in `folder`, then compact the tables.
    `progress`: True for a progress bar with an ETA (a terminal), "log" for a plain line at
    every tenth of the runs (a log file, where a bar's carriage returns make one long line).
    `limit` stops after that many new runs (to test resuming)."""
    store = SweepStore(folder, experiment, fmt)
    runs = experiment.runs()
    done = store.done()
    todo = [r for r in runs if r.run_id not in done]
    if limit is not None:
        todo = todo[:limit]
    by_id = {r.run_id: r for r in todo}
    jobs = [Job(r, experiment.spec.scenario, experiment.spec.months) for r in todo]
    report = SweepReport(
        total=len(runs), already=len(done & {r.run_id for r in runs}), ran=0, failed=0, seconds=0.0
    )
    bar = None
    every = max(1, len(jobs) // 10)
    if progress is True and jobs:
        bar = tqdm(total=len(jobs), unit="run", desc=experiment.name, smoothing=0.1)
    start = time.perf_counter()
    try:
        for result in stream(run_one, jobs, workers, backend, scheduler):
            store.write(by_id[result["run_id"]], result)
            report.ran += 1
            report.failed += result["status"] != "ok"
            report.max_worker_rss_mb = max(
                report.max_worker_rss_mb, result.get("worker_rss_mb", 0.0)
            )
            if bar is not None:
                bar.update()
            elif progress == "log" and (report.ran % every == 0 or report.ran == len(jobs)):
                elapsed = time.perf_counter() - start
                left = elapsed / report.ran * (len(jobs) - report.ran)
                print(
                    f"{experiment.name}: {report.ran}/{len(jobs)} runs ({report.failed} failed), "
                    f"{elapsed:.0f} s, about {left:.0f} s left",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if bar is not None:
            bar.close()
        report.seconds = time.perf_counter() - start
    if limit is None or report.already + report.ran >= report.total:
        report.experiments, report.outcomes = store.compact()
    return report
