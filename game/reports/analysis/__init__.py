"""What a sweep says: plots and a Markdown summary of a sweep folder (`python main.py analyze`).

Reading the folder (sweep.py), the per-run outcomes (metrics.py), their sensitivity to the
uncertain parameters (indices.py), the figures (plots.py) and summary.md (summary.py). Each
outcome is read from the compacted tables only, failed runs are counted and left out, and
spreads are 10-90% ranges over draws x replications.
"""

from __future__ import annotations

from pathlib import Path

from game.batch.output import make_folder, save_bytes
from game.batch.provenance import sidecar_path
from game.config.errors import InputError, Problem
from game.reports.analysis.indices import Sensitivity, sensitivity
from game.reports.analysis.metrics import policy_labels, run_metrics
from game.reports.analysis.plots import (
    FIGURES,
    capability_fan,
    colours_for,
    gap_by_policy,
    sensitivity_plot,
    smuggling_plot,
    tradeoffs_plot,
)
from game.reports.analysis.runs import (
    load_with_outcomes,
    per_run_provenance,
    per_run_table,
    write_per_run,
)
from game.reports.analysis.summary import summary_text
from game.reports.analysis.sweep import Sweep, load_sweep

__all__ = [
    "FIGURES",
    "Sensitivity",
    "Sweep",
    "analyze",
    "load_sweep",
    "per_run_table",
    "policy_labels",
    "run_metrics",
    "sensitivity",
    "summary_text",
]


def analyze(folder: str | Path) -> list[Path]:
    """Plots and a summary of a sweep folder in DIR/analysis, for `python main.py analyze`;
    returns the files written. Bad or unfinished folders raise InputError naming the folder."""
    sweep, own = load_with_outcomes(folder)
    out = sweep.folder / "analysis"
    make_folder(out, "analysis")
    metrics = run_metrics(sweep)
    labels = policy_labels(sweep)
    table = per_run_table(sweep, own, metrics)
    written: list[Path] = []
    if not metrics.empty:
        written = write_per_run(table, out, per_run_provenance(sweep, own, table))
    sens = None
    if not metrics.empty:
        colours = colours_for(sweep, list(labels))
        written.append(capability_fan(sweep, out / "capability_fan.png", labels, colours))
        written.append(gap_by_policy(sweep, metrics, out / "gap_by_policy.png", labels, colours))
        written.append(
            smuggling_plot(sweep, metrics, out / "smuggling.png", labels, colours)
        )
        written.append(tradeoffs_plot(sweep, metrics, out / "tradeoffs.png", labels, colours))
        sens = sensitivity(sweep, metrics)
        if not sens.table.empty:
            written.append(sensitivity_plot(sweep, sens, out / "sensitivity.png", labels))
    # a figure from an earlier analysis that this one did not redraw (smuggling_vs_enforcement:
    # the smuggling chart's old name, whatever its x axis)
    for name in [*FIGURES, "smuggling_vs_enforcement.png", "per_run.parquet", "per_run.csv"]:
        if out / name not in written:
            try:
                (out / name).unlink(missing_ok=True)
                if name == "per_run.csv":  # its provenance sidecar goes with it
                    sidecar_path(out / name).unlink(missing_ok=True)
            except OSError as exc:
                raise InputError(
                    Problem(f"cannot remove an old figure ({exc.strerror})", file=str(out / name))
                ) from None
    summary = out / "summary.md"
    text = summary_text(sweep, metrics, sens, labels, written, own, table)
    save_bytes(summary, text.encode())
    written.append(summary)
    return written
