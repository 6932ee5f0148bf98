"""The per-run table of a sweep (analysis/per_run.parquet and .csv): one row per ok run with its
design (policy, draw, replication, seed), its levers and uncertainties, the fixed outcomes
(metrics.py) and the experiment file's own outcomes (`outcomes:`, game/config/outcomes.py),
read from the experiment.yaml kept in the sweep folder.

Both files carry their provenance (game.batch.provenance: the Parquet file's metadata, the
CSV's sidecar per_run.csv.provenance.json): a derived record holding the sweep's own record
(`source`), the sweep folder and the sha256 of each table the analysis read (`analysed`), the
experiment's outcome definitions (`outcomes`), and among the inputs the folder's
experiment.yaml. `python main.py reproduce DIR/analysis/per_run.parquet` analyses a copy of
the folder's tables again and compares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from game.batch.outcomes import outcome_values
from game.batch.output import save_results, table_digests
from game.batch.provenance import derived
from game.config.errors import InputError
from game.config.outcomes import NOT_NUMERIC, OutcomeSpec, unknown_columns
from game.config.validation import Strict, validate
from game.config.yamlfile import read_yaml
from game.reports.analysis.metrics import run_metrics
from game.reports.analysis.sweep import Sweep, load_sweep
from game.sim.results import COLUMN_NAMES

TABLE_NAME = "per_run"


def experiment_outcomes(folder: str | Path) -> list[OutcomeSpec]:
    """The `outcomes:` of the experiment file a sweep folder was run from (its experiment.yaml),
    checked with file, line and key; none for a folder without one (an older sweep)."""
    path = Path(folder) / "experiment.yaml"
    if not path.exists():
        return []
    doc = read_yaml(path)
    data = doc.data if isinstance(doc.data, dict) else {}
    raw = data.get("outcomes")
    if raw is None:
        return []
    specs = validate(doc, _Outcomes, {"outcomes": raw}).outcomes
    problems = []
    for i, spec in enumerate(specs):
        unknown = unknown_columns(spec, COLUMN_NAMES)
        if unknown:
            problems.append(
                doc.problem(
                    ("outcomes", i, "expression"),
                    f"unknown column {', '.join(unknown)}; expected columns of the results "
                    f"table: {', '.join(sorted(set(COLUMN_NAMES) - NOT_NUMERIC))}",
                )
            )
    if problems:
        raise InputError(problems)
    return specs


def load_with_outcomes(folder: str | Path) -> tuple[Sweep, list[OutcomeSpec]]:
    """The sweep, with the results columns its experiment's outcomes read."""
    specs = experiment_outcomes(folder)
    columns = tuple(sorted({c for s in specs for c in s.columns()}))
    return load_sweep(folder, columns), specs


def per_run_table(
    sweep: Sweep, specs: list[OutcomeSpec], metrics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per ok run: run_id, policy, draw, replication, seed, levers, uncertainties, the
    final month, the fixed outcomes, then the experiment's own."""
    metrics = run_metrics(sweep) if metrics is None else metrics
    seeds = sweep.experiments.set_index("run_id")["seed"] if "seed" in sweep.experiments else None
    table = metrics.copy()
    table.insert(
        table.columns.get_loc("replication") + 1,
        "seed",
        table["run_id"].map(seeds) if seeds is not None else pd.NA,
    )
    if specs:
        if sweep.outcomes.empty:
            own = pd.DataFrame({s.name: pd.Series(dtype=float) for s in specs})
            table = pd.concat([table, own], axis=1)
        else:
            own = outcome_values(sweep.outcomes, specs)
            table = table.merge(own, left_on="run_id", right_index=True, how="left")
    return table.reset_index(drop=True)


def per_run_provenance(
    sweep: Sweep, specs: list[OutcomeSpec], table: pd.DataFrame
) -> dict[str, Any]:
    """The per-run table's record: derived from the sweep's own (see the module's docstring)."""
    folder = sweep.folder.resolve()
    experiment = folder / "experiment.yaml"
    extra = [("experiment.yaml", experiment.read_bytes())] if experiment.is_file() else []
    tables = table_digests(folder)
    return derived(
        sweep.manifest.get("provenance"),
        prog="python main.py",
        argv=["analyze", str(folder)],
        extra_inputs=extra,
        analysed={"folder": str(folder), "tables": tables},
        outcomes=[spec.model_dump(mode="json") for spec in specs],
        columns=[str(c) for c in table.columns],
    )


def write_per_run(
    table: pd.DataFrame, out: Path, provenance: dict[str, Any] | None = None
) -> list[Path]:
    """analysis/per_run.parquet and analysis/per_run.csv, each written whole, with
    `provenance` (per_run_provenance) in the Parquet file's metadata and the CSV's sidecar."""
    paths = [out / f"{TABLE_NAME}.parquet", out / f"{TABLE_NAME}.csv"]
    for path in paths:
        save_results(table, path, provenance)
    return paths


class _Outcomes(Strict):
    outcomes: list[OutcomeSpec]
