"""Sweeps: thousands of independent runs, on a local process pool or a Dask cluster, streamed
to disk as they finish and resumable.

A sweep folder holds:
    manifest.json          the experiment, its digest, versions, which columns are levers
    experiment.yaml        the experiment file as it was run
    runs/<run_id>.arrow    a finished run's outcome rows, an Arrow IPC file made by the
                           worker (written first, atomically; `.parquet` in folders begun
                           by earlier versions, read alike)
    runs/<run_id>.json     its row of the experiments table (written last: the run is done)
    experiments.parquet    one row per run: policy, draw, replication, seed, levers,
                           parameters, status, error, seconds          (compacted at the end)
    outcomes.parquet       one row per run, month and bloc: the results contract's columns
    .lock                  held by the sweep writing into the folder (the pid, host, start)
(CSV instead of Parquet for the two compacted tables with --format csv). Ctrl-C, SIGTERM or a
crash loses only the runs in flight: running the same command again skips every run already
recorded, failed ones included (their error is in the table), and never duplicates one.

One sweep at a time per folder: a second one is refused, naming the holder; the lock is an
flock, so a sweep killed in any way leaves it free (its stale note is reported and replaced).
A damaged folder is found at the start: a damaged compacted table or manifest is named with
how to recover; a damaged run file is set aside in `damaged/` and the run runs again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import socket
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

from game.batch.output import make_folder, read_manifest, save_bytes, save_results
from game.batch.pool import connect_dask, stream_dask, stream_local
from game.batch.provenance import changed_inputs, record, sidecar_path
from game.config.errors import InputError, Problem
from game.config.experiment import Experiment, Run
from game.config.scenario import Scenario
from game.sim.model import ChipWarModel
from game.sim.runner import forget


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
    error, never raised, and the seconds it took. A sampled future and a search's
    evaluation alike."""
    out, frame = _run_model(scenario, seed, overrides, months)
    out["rows"] = frame.to_dict("list") if frame is not None else None
    return out


def _run_model(
    scenario: str | Scenario, seed: int, overrides: dict[str, Any] | None, months: int | None
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    start = time.perf_counter()
    out: dict[str, Any] = {"status": "ok", "error": ""}
    model = frame = None
    try:
        model = ChipWarModel(scenario, rng=seed, overrides=overrides or None, months=months)
        frame = model.run()
    except Exception as exc:  # recorded, not raised
        frame = None
        out["status"] = "error"
        out["error"] = f"{type(exc).__name__}: {exc}".strip()[:2000]
        out["traceback"] = traceback.format_exc(limit=4)[-4000:]
    finally:
        forget(model)
    out["seconds"] = time.perf_counter() - start
    return out, frame


def run_one(job: Job) -> dict[str, Any]:
    """One run of a sweep in a worker, with the worker's pid and memory: the sweep goes on
    whatever a run does. The outcome rows come back as the bytes of the run's file (an Arrow
    IPC file, run_id first): the worker makes them so that the parent, which on two cores
    competes with the workers, only writes bytes (converting a table per run in the parent
    cost about 8 ms of its CPU a run, Parquet 3 ms more)."""
    out, frame = _run_model(job.scenario, job.run.seed, job.run.overrides(), job.months)
    out["run_id"] = job.run.run_id
    out["table"] = run_table_bytes(frame, job.run.run_id) if frame is not None else None
    out["worker_pid"] = os.getpid()
    out["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def run_table_bytes(frame: pd.DataFrame, run_id: str) -> bytes:
    """A run's outcome rows as an uncompressed Arrow IPC file, with its run_id column first:
    a tenth of a Parquet file's cost to write and read, and gathered into the compacted
    tables at the end anyway."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.add_column(0, "run_id", pa.array([run_id] * len(frame), pa.string()))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def lost_run(job: Job, reason: str) -> dict[str, Any]:
    """The record of a run whose worker process died under it (killed, out of memory)."""
    return {
        "run_id": job.run.run_id,
        "status": "error",
        "error": f"WorkerDied: {reason}",
        "table": None,
        "seconds": 0.0,
    }


RUN_TABLES = (".arrow", ".parquet")  # a run's outcome rows: this version's, then earlier ones'


def _run_table(json_path: Path) -> Path:
    """The outcome rows' file of the run recorded in `json_path` (the Arrow file, or the
    Parquet file of a folder begun by an earlier version)."""
    for ext in RUN_TABLES:
        path = json_path.with_suffix(ext)
        if path.exists():
            return path
    return json_path.with_suffix(RUN_TABLES[0])


def _read_run_table(path: Path) -> Any:
    """A run's outcome rows as a pyarrow Table (raises on a damaged file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        return pq.read_table(path)
    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_file(source).read_all()


def _table_is_whole(path: Path) -> bool:
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.read_metadata(path)
        else:
            _read_run_table(path)
    except Exception:  # missing, truncated, garbage: anything pyarrow cannot read
        return False
    return True


def saved_runs(folder: str | Path) -> int:
    """Runs recorded in a sweep folder (finished or failed), read without the lock: for the
    message of an interrupted sweep."""
    folder = Path(folder)
    ids = {p.stem for p in (folder / "runs").glob("*.json")}
    for ext in (".parquet", ".csv"):
        path = folder / f"experiments{ext}"
        with contextlib.suppress(Exception):
            table = pd.read_parquet(path) if ext == ".parquet" else pd.read_csv(path)
            ids |= set(table["run_id"])
    return len(ids)


# ----------------------------------------------------------------------------- the lock
class FolderLock:
    """One sweep per folder: an exclusive flock on `folder/.lock`, which also holds a note
    naming the holder. The kernel frees an flock when its process ends however it ends, so a
    note left by a killed sweep is stale by construction: it is reported and replaced."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / ".lock"
        self.fd: int | None = None
        self.stale = ""  # the note of a dead holder taken over, if any

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputError(
                Problem(f"cannot create the sweep's lock ({exc.strerror})", file=str(self.path))
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder_note(fd)
            os.close(fd)
            raise InputError(
                Problem(
                    f"another sweep is writing into this folder ({holder}); wait for it to "
                    "end, or choose another --out folder",
                    file=str(self.path.parent),
                )
            ) from None
        self.stale = os.read(fd, 400).decode(errors="replace").strip()
        note = (
            f"pid {os.getpid()} on {socket.gethostname()}, "
            f"started {time.strftime('%Y-%m-%d %H:%M:%S')}"
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)  # a clean end leaves no note
            os.close(self.fd)  # closing frees the flock
            self.fd = None


def _holder_note(fd: int, wait: float = 0.5) -> str:
    """The note of the sweep holding the lock. A holder that has just taken the flock has not
    written its note yet: read again for up to `wait` seconds before naming no one."""
    deadline = time.monotonic() + wait
    while True:
        note = os.pread(fd, 400, 0).decode(errors="replace").strip()
        if note or time.monotonic() >= deadline:
            return note or "another process"
        time.sleep(0.01)


# ----------------------------------------------------------------------------- provenance
def sweep_provenance(experiment: Experiment, folder: Path, fmt: str) -> dict[str, Any]:
    """The sweep's provenance record (game.batch.provenance): its inputs include the
    experiment file as it was run (the folder's experiment.yaml)."""
    from game.config.scenario import load_scenario

    scenario = load_scenario(experiment.spec.scenario)
    argv = ["sweep", experiment.source, "--out", str(folder), "--format", fmt]
    return record(
        prog="python main.py",
        argv=argv,
        scenario=scenario,
        seed=experiment.spec.seed,
        months=experiment.spec.months,
        extra_inputs=[("experiment.yaml", experiment.text.encode())],
        experiment={"name": experiment.name, "digest": experiment.digest()},
        seeds_note="each run's seed is in the experiments table (seed column)",
    ) | {"seeds": experiment.seeds()}


def _mixed(old: dict[str, Any] | None, now: dict[str, Any]) -> str:
    """What differs between the sweep's start and this resumption of it, or ''."""
    if not old:
        return ""
    parts = []
    files = changed_inputs(old.get("inputs", {}), now.get("inputs", {}))
    if files:
        parts.append("input files changed since the sweep started: " + ", ".join(files))
    a, b = old.get("model_version", {}), now.get("model_version", {})
    if (a.get("git_commit"), a.get("version")) != (b.get("git_commit"), b.get("version")):
        then = a.get("git_commit") or a.get("version")
        now_ = b.get("git_commit") or b.get("version")
        parts.append(f"the model version changed since the sweep started ({then} -> {now_})")
    if not parts:
        return ""
    return "; ".join(parts) + " (the runs resumed now may not match those already saved)"


# ----------------------------------------------------------------------------- the folder
class SweepStore:
    """A sweep folder, locked for this process from construction until `close()`."""

    def __init__(
        self, folder: str | Path, experiment: Experiment, fmt: str = "parquet", lock: bool = True
    ) -> None:
        self.folder = Path(folder)
        self.experiment = experiment
        self.fmt = fmt
        self.runs_dir = self.folder / "runs"
        self.set_aside: list[Path] = []  # damaged run files moved to damaged/
        # what a resumed sweep runs with that differs from its start (model version, inputs)
        self.mixed: str = ""
        self.provenance: dict[str, Any] = {}
        self.lock: FolderLock | None = None
        manifest = self.folder / "manifest.json"
        make_folder(self.folder, "sweep", self.runs_dir)
        if lock:
            self.lock = FolderLock(self.folder)
            self.lock.acquire()
        try:
            self._open(manifest)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let another sweep use the folder."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def _open(self, manifest: Path) -> None:
        experiment = self.experiment
        if manifest.exists():
            old = read_manifest(manifest, "sweep")
            if old.get("experiment", {}).get("digest") != experiment.digest():
                raise InputError(
                    Problem(
                        "this folder holds a sweep of another experiment "
                        f"('{old.get('experiment', {}).get('name')}', or an edited file); "
                        "choose another --out folder",
                        file=str(self.folder),
                    )
                )
        if self.lock is not None:
            self.check()
        now = sweep_provenance(experiment, self.folder, self.fmt)
        self.provenance = now
        if manifest.exists():
            self.provenance = old.get("provenance") or now
            self.mixed = _mixed(old.get("provenance"), now)
        if not manifest.exists():
            record = {
                "experiment": experiment.record(),
                "levers": list(experiment.spec.levers),
                "uncertainties": list(experiment.spec.uncertainties),
                "versions": {"mesa": mesa.__version__, "numpy": numpy.__version__},
                "provenance": now,
            }
            save_bytes(self.folder / "experiment.yaml", experiment.text.encode(), "--out")
            save_bytes(manifest, json.dumps(record, indent=1).encode(), "--out")

    # ------------------------------------------------------------------ damage
    def check(self) -> None:
        """Find damage before any run (under the lock): a compacted table that cannot be
        read is an error naming it and the way out; a run file that cannot be read is set
        aside in damaged/ (its run runs again); temporary files of a killed write go."""
        for path in [*self.folder.glob(".*.tmp"), *self.runs_dir.glob(".*.tmp")]:
            path.unlink(missing_ok=True)
        for name in ("experiments", "outcomes"):
            for ext in (".parquet", ".csv"):
                path = self.folder / f"{name}{ext}"
                if path.exists():
                    self._check_table(path)
        for path in sorted(self.runs_dir.glob("*.json")):
            if not self._run_is_whole(path):
                self._set_aside(path, *(path.with_suffix(ext) for ext in RUN_TABLES))
        for ext in RUN_TABLES:
            for path in sorted(self.runs_dir.glob(f"*{ext}")):
                if not path.with_suffix(".json").exists() and not _table_is_whole(path):
                    self._set_aside(path)

    def _check_table(self, path: Path) -> None:
        try:
            if path.suffix == ".parquet":
                import pyarrow.parquet as pq

                pq.read_metadata(path)
                if path.stem == "experiments":
                    pd.read_parquet(path, columns=["run_id"])
            else:
                head = pd.read_csv(path, nrows=1 if path.stem == "outcomes" else None)
                if "run_id" not in head.columns:
                    raise ValueError("no run_id column")
        except Exception as exc:
            others = " and ".join(
                f"'{p.name}'"
                for p in sorted(self.folder.glob("*.*"))
                if p.stem in ("experiments", "outcomes") and p.suffix in (".parquet", ".csv")
            )
            raise InputError(
                Problem(
                    f"this sweep table is damaged ({type(exc).__name__}: {str(exc)[:200]}); "
                    f"to recover, delete {others} in {self.folder} and run the same command "
                    "again (the runs they held run again), or choose another --out folder",
                    file=str(path),
                )
            ) from None

    def _run_is_whole(self, path: Path) -> bool:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return False
        if not isinstance(record, dict) or record.get("run_id") != path.stem:
            return False
        if record.get("status") == "ok":
            return _table_is_whole(_run_table(path))
        return "status" in record

    def _set_aside(self, *paths: Path) -> None:
        aside = self.folder / "damaged"
        try:
            aside.mkdir(exist_ok=True)
            for path in paths:
                if path.exists():
                    path.replace(aside / path.name)
                    self.set_aside.append(aside / path.name)
        except OSError as exc:
            raise InputError(
                Problem(
                    f"this run's file is damaged and cannot be moved aside ({exc.strerror}); "
                    "delete it and run the same command again (the run runs again)",
                    file=str(paths[0]),
                )
            ) from None

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
        if result.get("table") is not None:
            save_bytes(self.runs_dir / f"{run.run_id}{RUN_TABLES[0]}", result["table"], "--out")
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
        save_bytes(self.runs_dir / f"{run.run_id}.json", json.dumps(record).encode(), "--out")

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
        tables = [
            _read_run_table(path)
            for ext in RUN_TABLES
            for path in sorted(self.runs_dir.glob(f"*{ext}"))
            if path.stem not in known
        ]
        if tables:  # gathered as Arrow, converted once: per-run frames cost 2 ms a run
            import pyarrow as pa

            parts.append(pa.concat_tables(tables, promote_options="permissive").to_pandas())
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
        save_results(experiments, exp_path, self.provenance or None, "--out")
        save_results(outcomes.reset_index(drop=True), out_path, self.provenance or None, "--out")
        for other in (".csv", ".parquet"):
            if other != ext:
                for name in ("experiments", "outcomes"):
                    (self.folder / f"{name}{other}").unlink(missing_ok=True)
                    sidecar_path(self.folder / f"{name}{other}").unlink(missing_ok=True)
        for path in list(self.runs_dir.glob("*")):  # now held by the compacted tables
            path.unlink(missing_ok=True)
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
    on_pool: Any = None,
    client: Any = None,
    store: SweepStore | None = None,
) -> SweepReport:
    """Run every run of the experiment not yet recorded in `folder`, then compact the tables.
    `progress`: True for a progress bar with an ETA (a terminal), "log" for a plain line at
    every tenth of the runs (a log file, where a bar's carriage returns make one long line).
    `limit` stops after that many new runs (to test resuming). `on_pool(pool)` is called with
    each local process pool as it starts (tests: to find the workers' pids).

    With a Dask scheduler, the connection is made before the folder is created; the folder
    is locked for the sweep (another sweep into it is refused)."""
    if client is None and backend == "dask" and scheduler:
        client = connect_dask(scheduler)
    if store is None:
        try:
            store = SweepStore(folder, experiment, fmt)
        except BaseException:
            if client is not None:
                client.close()
            raise
    try:
        return _run(store, experiment, workers, backend, client, progress, limit, on_pool)
    finally:
        store.close()


def _run(
    store: SweepStore,
    experiment: Experiment,
    workers: int,
    backend: str,
    client: Any,
    progress: bool | str,
    limit: int | None,
    on_pool: Any,
) -> SweepReport:
    if store.lock is not None and store.lock.stale:
        print(
            f"took over the lock of a sweep that ended without releasing it ({store.lock.stale})",
            file=sys.stderr,
        )
    if store.mixed:
        print(f"warning: {store.mixed}", file=sys.stderr)
    if store.set_aside:
        print(
            f"{len(store.set_aside)} damaged run file(s) set aside in "
            f"{store.folder / 'damaged'}: those runs run again",
            file=sys.stderr,
        )
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
    if backend == "dask":
        results = stream_dask(run_one, jobs, workers, client)
    else:
        results = stream_local(run_one, jobs, workers, lost_run, on_pool)
    try:
        for result in results:
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
        results.close()  # stops the workers now, whatever ended the loop
        if bar is not None:
            bar.close()
        report.seconds = time.perf_counter() - start
    if limit is None or report.already + report.ran >= report.total:
        report.experiments, report.outcomes = store.compact()
    return report
