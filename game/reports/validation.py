"""The validation record: what the model was compared with, how well it did and what still
fails, written by `python main.py calibrate --record DIR` as a Markdown page and one chart a
trajectory (the model's monthly median and 10-90% band across seeds, the public figures as
ranges at their months). Charts are drawn on matplotlib's Agg canvas, never pyplot."""

from __future__ import annotations

import io
import math
import subprocess
from datetime import date
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from game.batch.calibration import format_value
from game.config.files import atomic_write_bytes
from game.config.paths import DATA_ROOT

# Text is drawn as written: a bloc name or label from a user's file (or "$3bn to $4bn")
# must never reach matplotlib's mathtext parser, which fails on an unbalanced '$'.
matplotlib.rcParams["text.parse_math"] = False

RECORD_NAME = "README.md"
LOG_SCALE_ABOVE = 1e3  # a trajectory whose values span more than this is drawn on a log axis


def write_record(
    table: pd.DataFrame, bands: pd.DataFrame, folder: Path, runs: str
) -> list[Path]:
    """Write the record and its charts into `folder`; returns the files written."""
    # Stamped before anything is written: a record written over its own tracked charts would
    # otherwise read the tree as dirty and say "with uncommitted changes" of a clean commit.
    stamp = commit_stamp()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(set(table["series"]) - {""}):
        points = table[table["series"] == name]
        path = folder / f"{name}.png"
        atomic_write_bytes(path, trajectory_png(name, points, bands[bands["series"] == name]))
        written.append(path)
    page = folder / RECORD_NAME
    atomic_write_bytes(page, record_markdown(table, runs, stamp).encode())
    return [page, *written]


def record_markdown(table: pd.DataFrame, runs: str, commit: str | None = None) -> str:
    total, inside = len(table), int(table["in_range"].sum())
    known = table[table["open"] != ""]
    missed = table[(~table["in_range"]) & (table["open"] == "")]
    closed = known[known["in_range"]]
    lines = [
        "# Validation record",
        "",
        f"Written by `python main.py calibrate --record` on {date.today().isoformat()} at "
        f"commit {commit or commit_stamp()}: {runs}. Each public figure (assets/data/targets.yaml, "
        "with its source) against the model's median and 10-90% band over the runs.",
        "",
        f"**{inside} of {total} figures in range.** "
        + (
            f"{len(known)} marked open: the model is known to miss them, and why is said below. "
            if len(known)
            else ""
        )
        + (f"{len(missed)} missed without a mark. " if len(missed) else "")
        + (f"{len(closed)} marked open are now in range." if len(closed) else ""),
        "",
        "| figure | accepted range | model median | 10-90% band | verdict | source |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        verdict = _verdict(bool(row.in_range), bool(row.open))
        lines.append(
            f"| {row.target} | {_num(row.low)} – {_num(row.high)} | {_num(row.median)} | "
            f"{_num(row.p10)} – {_num(row.p90)} | {verdict} | {row.source} |"
        )
    if len(known):
        lines += ["", "## What still fails, and why", ""]
        for row in known.itertuples():
            lines.append(f"- **{row.target}** ({row.description}): {row.open}")
    series = sorted(set(table["series"]) - {""})
    if series:
        lines += ["", "## Trajectories", ""]
        lines += [
            "Each chart: the model's monthly median (line) and 10-90% band (shade) across the "
            "runs; each public figure as a bar spanning its accepted range at its month.",
            "",
        ]
        lines += [f"![{name}]({name}.png)" for name in series]
    return "\n".join(lines) + "\n"


def trajectory_png(name: str, points: pd.DataFrame, band: pd.DataFrame) -> bytes:
    fig = Figure(figsize=(7.0, 3.4), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = list(points["low"]) + list(points["high"]) + list(band["median"])
    finite = [abs(v) for v in values if isinstance(v, float) and math.isfinite(v) and v > 0]
    if finite and max(finite) / min(finite) > LOG_SCALE_ABOVE:
        ax.set_yscale("log")
    if len(band):
        x = pd.to_datetime(band["date"], format="%Y-%m")
        ax.fill_between(x, band["p10"], band["p90"], color="#0072B2", alpha=0.25, lw=0)
        ax.plot(x, band["median"], color="#0072B2", lw=1.6, label="model: median, 10-90%")
    for row in points.itertuples():
        when = pd.to_datetime(_month(row.at), format="%Y-%m")
        colour = "#009E73" if row.in_range else "#D55E00"
        ax.plot([when, when], [row.low, row.high], color=colour, lw=5, alpha=0.8)
        ax.plot([when], [row.median], marker="o", color="black", ms=4)
    ax.set_title(name.replace("_", " "), fontsize=10, loc="left")
    ax.set_ylabel(_unit(name), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.plot([], [], color="#009E73", lw=5, label="public figure in range")
    ax.plot([], [], color="#D55E00", lw=5, label="public figure missed")
    ax.legend(fontsize=7, loc="best", frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _unit(name: str) -> str:
    if "ratio" in name:
        return "ratio"
    if "run" in name:
        return "training FLOP"
    if "gap" in name:
        return "months behind the leader"
    return ""


def _verdict(in_range: bool, known_open: bool) -> str:
    if known_open:
        return "**in range: close it**" if in_range else "open"
    return "in range" if in_range else "**MISSED**"


def _num(v: float) -> str:
    if not isinstance(v, float | int) or not np.isfinite(v):
        return "–"
    return format_value(v)


def _month(at: str) -> str:
    return str(at)[:7]


def commit_stamp() -> str:
    """The commit a record is written at, and whether the tree differed from it."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} with uncommitted changes" if dirty else commit


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=DATA_ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()
