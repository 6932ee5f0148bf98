"""Reading a sweep folder (manifest.json, the experiments and outcomes tables, experiment.yaml)
once, refusing with one clear message naming the folder what `analyze` cannot use.

Only the compacted tables are read: a run still in `runs/` is counted but not analyzed, so a
figure never mixes a finished sweep with a half-written one. Failed runs stay in the run table
(the summary lists them) and their outcome rows are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from game.batch.output import read_manifest
from game.config.errors import InputError, Problem
from game.config.world import default_world_data

CHINA = default_world_data().target_bloc  # the bloc the rules aim at (actors.yaml)
LEADER = default_world_data().controller_bloc  # the bloc whose rules they are
OUTCOME_COLUMNS = [
    "run_id",
    "date",
    "step",
    "bloc",
    "frontier_capability",
    "gap_months",
    "chips_smuggled",
    "chips_seized",
    "gray_price_usd",
    "vendor_revenue_usd",
]
DESIGN_COLUMNS = {"run_id", "policy", "draw", "replication", "status"}
RERUN = "run the same 'python main.py sweep' command again"


@dataclass
class Sweep:
    """A sweep folder read once: the run table (failed runs included) and ok runs' outcomes."""

    folder: Path
    manifest: dict[str, Any]
    experiments: pd.DataFrame
    outcomes: pd.DataFrame
    levers: list[str]
    uncertainties: list[str]
    description: str
    table_format: str
    pending: int  # per-run files in runs/ not yet compacted into the tables

    @property
    def record(self) -> dict[str, Any]:
        return self.manifest.get("experiment", {})

    @property
    def design(self) -> str:
        return str(self.record.get("design", "grid"))


def load_sweep(folder: str | Path, columns: tuple[str, ...] = ()) -> Sweep:
    """Read a sweep folder, refusing with one clear message what `analyze` cannot use.
    `columns`: results columns to read besides OUTCOME_COLUMNS (an experiment's outcomes)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            Problem("no such folder; expected a folder written by 'sweep'", file=str(folder))
        )
    manifest = _read_manifest(folder)
    pending = _count_pending(folder)
    experiments = _read_experiments(folder, pending)
    outcomes = _read_outcomes(folder, experiments, columns)
    fmt = "parquet" if (folder / "experiments.parquet").exists() else "csv"
    return Sweep(
        folder=folder,
        manifest=manifest,
        experiments=experiments,
        outcomes=outcomes,
        levers=[str(x) for x in manifest.get("levers", []) if x in experiments.columns],
        uncertainties=[
            str(x) for x in manifest.get("uncertainties", []) if x in experiments.columns
        ],
        description=_read_description(folder),
        table_format=fmt,
        pending=pending,
    )


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.exists():
        raise InputError(
            Problem(
                "no manifest.json; expected a folder written by 'python main.py sweep' "
                "(manifest.json, experiments and outcomes tables)",
                file=str(folder),
            )
        )
    return read_manifest(path, "sweep")


def _count_pending(folder: Path) -> int:
    """Finished runs not yet compacted into the tables (an interrupted sweep leaves them)."""
    runs_dir = folder / "runs"
    return len(list(runs_dir.glob("*.json"))) if runs_dir.is_dir() else 0


def _read_experiments(folder: Path, pending: int) -> pd.DataFrame:
    """The run table, its text columns made text again (CSV reads an all-empty column as
    float NaN)."""
    experiments = _read_table(folder, "experiments")
    if experiments is None:
        if pending:
            message = (
                f"no experiments table yet, but {pending} finished runs in runs/: the sweep was "
                f"interrupted before its tables were compacted; {RERUN} to finish and compact "
                "it, then analyze"
            )
        else:
            message = (
                "no experiments table (experiments.parquet or experiments.csv); expected a "
                "finished sweep's folder"
            )
        raise InputError(Problem(message, file=str(folder)))
    missing = sorted(DESIGN_COLUMNS - set(experiments.columns))
    if missing:
        raise InputError(
            Problem(
                f"the experiments table lacks columns {', '.join(missing)}",
                file=str(folder / "experiments"),
            )
        )
    experiments = experiments.copy()
    experiments["status"] = ["error" if pd.isna(v) else str(v) for v in experiments["status"]]
    errors = experiments["error"] if "error" in experiments.columns else [None] * len(experiments)
    experiments["error"] = ["" if pd.isna(v) else str(v) for v in errors]
    return experiments


def _read_outcomes(
    folder: Path, experiments: pd.DataFrame, extra: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The ok runs' monthly outcomes; an empty table with the expected columns when every run
    failed."""
    wanted = OUTCOME_COLUMNS + [c for c in extra if c not in OUTCOME_COLUMNS]
    outcomes = _read_table(folder, "outcomes", wanted)
    if outcomes is None:
        raise InputError(
            Problem(
                "no outcomes table (outcomes.parquet or outcomes.csv); expected a finished "
                f"sweep's folder ({RERUN})",
                file=str(folder),
            )
        )
    missing = [c for c in OUTCOME_COLUMNS if c not in outcomes.columns]
    if missing and len(outcomes):
        raise InputError(
            Problem(
                f"the outcomes table lacks columns {', '.join(missing)}",
                file=str(folder / "outcomes"),
            )
        )
    if outcomes.empty:  # every run failed: compact writes a table with only run_id
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    ok_ids = set(experiments.loc[experiments["status"] == "ok", "run_id"])
    outcomes = outcomes[outcomes["run_id"].isin(ok_ids)].copy()
    outcomes["date"] = outcomes["date"].astype(str)
    if CHINA not in set(outcomes["bloc"]):
        raise InputError(
            Problem(
                f"the outcomes have no '{CHINA}' bloc (blocs: "
                f"{', '.join(sorted(set(outcomes['bloc'])))}); the analysis is of China's "
                "outcomes",
                file=str(folder / "outcomes"),
            )
        )
    return outcomes


def _read_description(folder: Path) -> str:
    """The experiment file's description, or nothing: the summary does without it."""
    from game.config.yamlfile import read_yaml  # the guarded loader every YAML input passes

    try:
        doc = read_yaml(folder / "experiment.yaml").data
    except InputError:
        return ""
    return str(doc.get("description") or "") if isinstance(doc, dict) else ""


def _read_table(folder: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
    """Parquet first, then CSV, as SweepStore writes them; only `columns` (for big sweeps)."""
    for ext in (".parquet", ".csv"):
        path = folder / f"{name}{ext}"
        if not path.exists():
            continue
        try:
            if ext == ".parquet":
                if columns is not None:
                    import pyarrow.parquet as pq

                    present = set(pq.read_schema(path).names)
                    return pd.read_parquet(path, columns=[c for c in columns if c in present])
                return pd.read_parquet(path)
            usecols = None if columns is None else (lambda c: c in columns)
            return pd.read_csv(path, usecols=usecols)
        except (OSError, ValueError) as exc:  # pyarrow's and pandas' errors are ValueErrors
            raise InputError(
                Problem(
                    f"cannot read the table ({exc}); expected a {ext[1:]} table", file=str(path)
                )
            ) from None
    return None
