"""Charts of a robust policy search (game/batch/search.py): its convergence (hypervolume and
epsilon progress per generation) and its Pareto set in parallel coordinates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from game.reports.analysis.plots import _save


def convergence_chart(convergence: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Hypervolume (left) and epsilon progress (right) against the candidates evaluated."""
    fig = Figure(figsize=(9, 3.6))
    left, right = fig.subplots(1, 2)
    nfe = convergence["nfe"].to_numpy()
    left.plot(nfe, convergence["hypervolume"], marker="o", ms=3, color="tab:blue")
    left.set_xlabel("candidate policies evaluated (nfe)")
    left.set_ylabel("hypervolume (scaled outcomes)")
    left.set_ylim(bottom=0)
    right.plot(nfe, convergence["epsilon_progress"], marker="o", ms=3, color="tab:orange")
    right.set_xlabel("candidate policies evaluated (nfe)")
    right.set_ylabel("epsilon progress (archive improvements)")
    right.set_ylim(bottom=0)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(title or "Search convergence")
    fig.tight_layout()
    return _save(fig, path)


def parallel_chart(
    pareto: pd.DataFrame,
    levers: list[str],
    outcomes: list[str],
    directions: list[str],
    path: Path,
    title: str = "",
) -> Path:
    """One line per Pareto policy across its levers then its robust outcomes, each axis scaled
    to its range over the set (outcome axes turned so that up is better), coloured by the
    first outcome."""
    fig = Figure(figsize=(max(6.0, 1.6 * (len(levers) + len(outcomes))), 4.4))
    ax = fig.subplots()
    columns = levers + outcomes
    data = pd.DataFrame(index=pareto.index)
    labels = []
    for c in columns:
        raw = pareto[c]
        numeric = pd.to_numeric(raw, errors="coerce")
        if numeric.isna().any():  # a choice lever: its values in order of appearance
            codes = {v: i for i, v in enumerate(dict.fromkeys(raw))}
            numeric = raw.map(codes).astype(float)
            lo, hi = 0.0, float(max(len(codes) - 1, 1))
            ends = (str(next(iter(codes))), str(list(codes)[-1]))
        else:
            lo, hi = float(numeric.min()), float(numeric.max())
            ends = (f"{lo:.3g}", f"{hi:.3g}")
        scaled = (numeric - lo) / (hi - lo) if hi > lo else numeric * 0 + 0.5
        up = "" if c in levers else " (better up)"
        if c in outcomes and directions[outcomes.index(c)] == "minimize":
            scaled = 1 - scaled
            ends = ends[::-1]
        data[c] = scaled
        labels.append(f"{c}{up}\n{ends[0]} .. {ends[1]}")
    x = np.arange(len(columns))
    from matplotlib import colormaps

    first = pd.to_numeric(pareto[outcomes[0]], errors="coerce").to_numpy(float)
    span = np.nanmax(first) - np.nanmin(first) if len(first) else 0
    shade = (first - np.nanmin(first)) / span if span > 0 else np.full(len(first), 0.5)
    cmap = colormaps["viridis"]
    for (_, row), s in zip(data.iterrows(), shade, strict=True):
        ax.plot(x, row.to_numpy(float), color=cmap(float(s)), alpha=0.8, lw=1.4)
    for xi in x:
        ax.axvline(xi, color="0.6", lw=0.8)
    if levers:
        ax.axvspan(-0.3, len(levers) - 0.5, color="0.95", zorder=0)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.3, len(columns) - 0.7)
    ax.set_title(title or f"Pareto set: {len(pareto)} policies (levers shaded, outcomes right)")
    fig.tight_layout()
    return _save(fig, path)


def search_charts(folder: str | Path) -> list[Path]:
    """convergence.png and parallel.png of a finished search folder."""
    folder = Path(folder)
    conv = pd.read_csv(folder / "convergence.csv")
    pareto = pd.read_csv(folder / "pareto.csv")
    meta = json.loads((folder / "search.json").read_text())
    name = meta.get("name", "")
    out = [convergence_chart(conv, folder / "convergence.png", f"{name}: convergence")]
    if len(pareto):
        out.append(
            parallel_chart(
                pareto,
                meta["levers"],
                meta["outcomes"],
                meta["directions"],
                folder / "parallel.png",
                f"{name}: Pareto set of {len(pareto)} robust policies",
            )
        )
    return out
