"""What a sweep says: plots and a Markdown summary of a sweep folder (`python main.py analyze`).

A sweep is judged on a few per-run outcomes, all about China because the levers are about
China: its gap to the leading bloc at the final month, its frontier capability then, the chips
smuggled to its labs over the whole run and what vendors earned from its labs. Each is read
from the compacted tables only (a run still in `runs/` is not analyzed, so a figure never
mixes a finished sweep with a half-written one), failed runs are counted and left out, and
spreads are 10-90% ranges over draws x replications, because a policy's worst decile matters
as much as its median.

Sensitivity follows the design: a Sobol design is analysed with SALib's Sobol indices (its
draws are in Saltelli's order, one value per draw after averaging the replications); any other
design gets Spearman rank correlations, which need no particular layout but only measure a
monotone association. Figures are drawn on matplotlib `Figure`s with the Agg canvas, never
pyplot: no GUI backend is touched and nothing is left in a global figure registry.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from game.config.errors import InputError, Problem
from game.config.files import atomic_write_bytes

CHINA = "china"
DPI = 120
LOW, HIGH = 0.1, 0.9  # the spread reported everywhere: the 10-90% range
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
FIGURES = [
    "capability_fan.png",
    "gap_by_policy.png",
    "smuggling_vs_enforcement.png",
    "tradeoffs.png",
    "sensitivity.png",
]
# Per-run outcomes: column of the metrics table -> (label in text, label on an axis).
METRICS = {
    "final_gap": ("China's gap at the final month", "China's gap (months behind the leader)"),
    "china_frontier": ("China's frontier capability at the final month", "capability index"),
    "smuggled": ("chips smuggled into China (cumulative)", "chips smuggled (cumulative)"),
    "seized": ("chips bound for China seized (cumulative)", "chips seized (cumulative)"),
    "gray_price": ("gray-market price at the final month", "gray price (USD per chip)"),
    "china_revenue": (
        "vendors' revenue from China's labs (cumulative)",
        "revenue from China's labs (USD bn)",
    ),
}
SENSITIVITY_OUTCOMES = ["final_gap", "smuggled"]
SMALL_EFFECT = 0.05  # a Sobol index below this explains little of the variance
SMALL_RHO = 0.1  # a rank correlation below this is no visible association
SMOOTH_MONTHS = 12  # window of the trailing mean of China's frontier relative to the others


# ----------------------------------------------------------------------------- loading
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


def load_sweep(folder: str | Path) -> Sweep:
    """Read a sweep folder, refusing with one clear message what `analyze` cannot use."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            Problem("no such folder; expected a folder written by 'sweep'", file=str(folder))
        )
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise InputError(
            Problem(
                "no manifest.json; expected a folder written by 'python main.py sweep' "
                "(manifest.json, experiments and outcomes tables)",
                file=str(folder),
            )
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        raise InputError(
            Problem("the sweep folder's manifest is damaged", file=str(manifest_path))
        ) from None
    runs_dir = folder / "runs"
    pending = len(list(runs_dir.glob("*.json"))) if runs_dir.is_dir() else 0
    experiments = _read_table(folder, "experiments")
    if experiments is None:
        if pending:
            message = (
                f"no experiments table yet, but {pending} finished runs in runs/: the sweep was "
                "interrupted before its tables were compacted; run the same 'python main.py "
                "sweep' command again to finish and compact it, then analyze"
            )
        else:
            message = (
                "no experiments table (experiments.parquet or experiments.csv); expected a "
                "finished sweep's folder"
            )
        raise InputError(Problem(message, file=str(folder)))
    needed = {"run_id", "policy", "draw", "replication", "status"}
    missing = sorted(needed - set(experiments.columns))
    if missing:
        raise InputError(
            Problem(
                f"the experiments table lacks columns {', '.join(missing)}",
                file=str(folder / "experiments"),
            )
        )
    outcomes = _read_table(folder, "outcomes", OUTCOME_COLUMNS)
    if outcomes is None:
        raise InputError(
            Problem(
                "no outcomes table (outcomes.parquet or outcomes.csv); expected a finished "
                "sweep's folder (run the same 'python main.py sweep' command again)",
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
    experiments = experiments.copy()
    # CSV reads an all-empty column as float NaN: text columns are made text again
    experiments["status"] = ["error" if pd.isna(v) else str(v) for v in experiments["status"]]
    errors = experiments["error"] if "error" in experiments.columns else [None] * len(experiments)
    experiments["error"] = ["" if pd.isna(v) else str(v) for v in errors]
    ok_ids = set(experiments.loc[experiments["status"] == "ok", "run_id"])
    if outcomes.empty:  # every run failed: compact writes a table with only run_id
        outcomes = pd.DataFrame(columns=OUTCOME_COLUMNS)
    else:
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
    description = ""
    try:
        import yaml

        doc = yaml.safe_load((folder / "experiment.yaml").read_text(encoding="utf-8"))
        if isinstance(doc, dict):
            description = str(doc.get("description") or "")
    except (OSError, ValueError, ImportError):  # yaml's errors are ValueErrors
        pass
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
        description=description,
        table_format=fmt,
        pending=pending,
    )


# ----------------------------------------------------------------------------- per-run outcomes
def run_metrics(sweep: Sweep) -> pd.DataFrame:
    """One row per ok run with outcome rows: the design columns and China's outcomes."""
    china = sweep.outcomes[sweep.outcomes["bloc"] == CHINA].sort_values(["run_id", "step"])
    design_cols = ["run_id", "policy", "draw", "replication", *sweep.levers, *sweep.uncertainties]
    runs = sweep.experiments.loc[sweep.experiments["status"] == "ok", design_cols]
    if china.empty:
        return runs.iloc[0:0].assign(**{m: pd.Series(dtype=float) for m in METRICS})
    last = china.groupby("run_id").tail(1).set_index("run_id")
    totals = china.groupby("run_id")[["chips_smuggled", "chips_seized", "vendor_revenue_usd"]].sum()
    metrics = pd.DataFrame(
        {
            "final_date": last["date"],
            "final_gap": last["gap_months"].astype(float),
            "china_frontier": last["frontier_capability"].astype(float),
            "smuggled": totals["chips_smuggled"].astype(float),
            "seized": totals["chips_seized"].astype(float),
            "gray_price": last["gray_price_usd"].astype(float),
            "china_revenue": totals["vendor_revenue_usd"].astype(float),
        }
    )
    return runs.merge(metrics, left_on="run_id", right_index=True, how="inner").reset_index(
        drop=True
    )


def _fmt_value(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):g}"
    return str(v)


def policy_labels(sweep: Sweep) -> dict[int, str]:
    """Policies named by their lever values, so a legend says what was chosen, not an index."""
    first = sweep.experiments.sort_values("policy").groupby("policy").head(1)
    labels = {}
    for _, row in first.iterrows():
        parts = [f"{k}={_fmt_value(row[k])}" for k in sweep.levers]
        labels[int(row["policy"])] = ", ".join(parts) if parts else "scenario's levers"
    return labels


def _colours(sweep: Sweep, policies: list[int]) -> dict[int, Any]:
    """One numeric lever reads best on an ordered colour scale; anything else gets categories."""
    from matplotlib import colormaps

    if _ordered(sweep) and len(policies) > 1:
        cmap = colormaps["viridis"]
        values = sweep.experiments.groupby("policy")[sweep.levers[0]].first()
        order = values.loc[policies].rank(method="first").to_numpy() - 1
        return {
            p: cmap(0.85 * i / max(1, len(policies) - 1))
            for p, i in zip(policies, order, strict=True)
        }
    cmap = colormaps["tab10" if len(policies) <= 10 else "tab20"]
    return {p: cmap(i % cmap.N) for i, p in enumerate(policies)}


def _q(values: pd.Series | np.ndarray, q: float) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(np.quantile(arr, q)) if arr.size else math.nan


# ----------------------------------------------------------------------------- sensitivity
@dataclass
class Sensitivity:
    """Sensitivity indices of the per-run outcomes, by the design's method."""

    method: str  # "sobol", "spearman" or "" (nothing varied)
    table: pd.DataFrame  # policy, outcome, factor and the method's indices
    notes: list[str] = field(default_factory=list)
    base_samples: int = 0


def _saltelli_layout_ok(x: np.ndarray) -> bool:
    """SALib's sample without second order is blocks of D+2 rows, A, AB_1..AB_D, B, where AB_i
    is A with column i taken from B: checking it confirms the draws are in the order and with
    the parameter order that SALib's analysis assumes."""
    n_rows, d = x.shape
    if d == 0 or n_rows % (d + 2):
        return False
    blocks = x.reshape(n_rows // (d + 2), d + 2, d)
    a, b = blocks[:, 0, :], blocks[:, -1, :]
    for i in range(d):
        ab = blocks[:, 1 + i, :]
        others = [j for j in range(d) if j != i]
        if not np.allclose(ab[:, others], a[:, others]) or not np.allclose(ab[:, i], b[:, i]):
            return False
    return True


def sobol_indices(sweep: Sweep, metrics: pd.DataFrame) -> Sensitivity:
    """Sobol S1 and ST per policy and outcome; an empty table with the reason when the draws do
    not allow them (every draw needs an ok run, and the draws must be in Saltelli's layout)."""
    from SALib.analyze import sobol

    names = sweep.uncertainties
    d = len(names)
    draws = sweep.experiments.groupby("draw")[names].first().sort_index()
    n_draws = len(draws)
    x = draws.to_numpy(dtype=float)
    if list(draws.index) != list(range(n_draws)) or not _saltelli_layout_ok(x):
        return Sensitivity(
            "sobol",
            pd.DataFrame(),
            [
                "the draws are not in the Sobol (Saltelli) layout SALib expects "
                f"({n_draws} draws of {d} parameters); Sobol indices were not computed"
            ],
        )
    problem = {
        "num_vars": d,
        "names": names,
        "bounds": [[float(x[:, i].min()), float(x[:, i].max())] for i in range(d)],
    }
    labels = policy_labels(sweep)
    rows, notes = [], []
    seed = int(sweep.record.get("seed", 0) or 0)
    for policy in sorted(sweep.experiments["policy"].unique()):
        mine = metrics[metrics["policy"] == policy]
        for outcome in SENSITIVITY_OUTCOMES:
            per_draw = mine.groupby("draw")[outcome].mean().reindex(range(n_draws))
            missing = int(per_draw.isna().sum())
            if missing:
                notes.append(
                    f"{labels[policy]}: {missing} of {n_draws} draws have no successful run, "
                    f"so Sobol indices of {METRICS[outcome][0]} cannot be computed"
                )
                continue
            y = per_draw.to_numpy(dtype=float)
            if np.ptp(y) == 0:
                notes.append(
                    f"{labels[policy]}: {METRICS[outcome][0]} is the same in every draw "
                    f"({y[0]:g}); no parameter moves it"
                )
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                si = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
            for i, name in enumerate(names):
                rows.append(
                    {
                        "policy": int(policy),
                        "outcome": outcome,
                        "factor": name,
                        "S1": float(si["S1"][i]),
                        "S1_conf": float(si["S1_conf"][i]),
                        "ST": float(si["ST"][i]),
                        "ST_conf": float(si["ST_conf"][i]),
                    }
                )
    return Sensitivity("sobol", pd.DataFrame(rows), notes, base_samples=n_draws // (d + 2))


def spearman_indices(sweep: Sweep, metrics: pd.DataFrame) -> Sensitivity:
    """Rank correlation of each numeric lever and parameter with each outcome, over all ok runs
    (policies pooled, so a lever's effect is seen across its values)."""
    from scipy.stats import spearmanr

    rows, notes = [], []
    for factor in [*sweep.uncertainties, *sweep.levers]:
        values = metrics[factor]
        if values.dtype == bool:
            values = values.astype(int)
        if not pd.api.types.is_numeric_dtype(values):
            notes.append(f"{factor} has non-numeric values; no rank correlation for it")
            continue
        if values.nunique() < 2:
            continue
        for outcome in SENSITIVITY_OUTCOMES:
            y = metrics[outcome].astype(float)
            keep = np.isfinite(y) & np.isfinite(values.astype(float))
            n = int(keep.sum())
            if n < 4 or y[keep].nunique() < 2:
                continue
            rho = float(spearmanr(values[keep], y[keep]).statistic)
            # Fieller, Hartley and Pearson's standard error for Spearman's rho on Fisher's z.
            half = 1.96 * math.sqrt(1.06 / (n - 3))
            z = math.atanh(max(min(rho, 0.999999), -0.999999))
            rows.append(
                {
                    "policy": -1,
                    "outcome": outcome,
                    "factor": factor,
                    "rho": rho,
                    "rho_low": math.tanh(z - half),
                    "rho_high": math.tanh(z + half),
                    "n": n,
                }
            )
    return Sensitivity("spearman", pd.DataFrame(rows), notes)


def sensitivity(sweep: Sweep, metrics: pd.DataFrame) -> Sensitivity:
    """Sobol indices for a Sobol design; Spearman otherwise, or when Sobol cannot be computed."""
    if not sweep.uncertainties:
        return Sensitivity("", pd.DataFrame())
    if sweep.design == "sobol":
        result = sobol_indices(sweep, metrics)
        if not result.table.empty:
            return result
        fallback = spearman_indices(sweep, metrics)
        fallback.notes = [
            *result.notes,
            "Spearman rank correlations are shown instead",
            *fallback.notes,
        ]
        return fallback
    return spearman_indices(sweep, metrics)


# ----------------------------------------------------------------------------- figures
def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return path


def _in_thousands(v: float, _pos: int) -> str:
    return f"{v / 1e3:,.0f}"


def _policy_legend(fig: Figure, handles: list[Any], labels: list[str], title: str) -> None:
    """Below the panels, never over data; as many columns as the labels' length lets fit in
    the figure's width (a legend wider than the figure would stretch the saved image)."""
    if len(labels) < 2:
        return
    entry = 0.075 * max(map(len, labels)) + 0.7  # inches: text at 10 pt plus the marker
    ncol = max(1, min(len(labels), 5, int(fig.get_figwidth() // entry)))
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=ncol,
        title=title,
        frameon=False,
    )


def _ordered(sweep: Sweep) -> bool:
    """Policies form a sequence (one numeric lever): lines between them mean something."""
    return len(sweep.levers) == 1 and pd.api.types.is_numeric_dtype(
        sweep.experiments[sweep.levers[0]]
    )


def _legend_title(sweep: Sweep) -> str:
    return "policy (" + ", ".join(sweep.levers) + ")" if sweep.levers else "policy"


def capability_fan(sweep: Sweep, path: Path, labels: dict[int, str], colours: dict) -> Path:
    """Every bloc's frontier over time, one band per policy, and China's frontier against the
    best other bloc's: policies move China by a point or two on a scale of a hundred, which only
    the relative panel makes visible."""
    out = sweep.outcomes[["run_id", "step", "date", "bloc", "frontier_capability"]]
    policy_of = sweep.experiments.set_index("run_id")["policy"]
    out = out.assign(policy=out["run_id"].map(policy_of))
    seen = list(dict.fromkeys(out["bloc"]))
    blocs = [b for b in ("us", CHINA) if b in seen] + [b for b in seen if b not in ("us", CHINA)]
    dates = out.groupby("step")["date"].first()
    when = pd.Series(pd.to_datetime(dates, format="%Y-%m", errors="coerce"), index=dates.index)
    q = (
        out.groupby(["policy", "bloc", "step"])["frontier_capability"]
        .quantile([LOW, 0.5, HIGH])
        .unstack()
    )
    wide = out.pivot_table(
        index=["policy", "run_id", "step"], columns="bloc", values="frontier_capability"
    )
    others = [b for b in blocs if b != CHINA]
    relative = None
    if others:
        rel = (wide[CHINA] - wide[others].max(axis=1)).rename("rel").reset_index()
        # the leader's frontier rises in steps (training runs every few months), which makes
        # the difference a sawtooth; a trailing year's mean shows the level a policy holds
        rel["rel"] = rel.groupby("run_id")["rel"].transform(
            lambda s: s.rolling(SMOOTH_MONTHS, min_periods=1).mean()
        )
        relative = rel.groupby(["policy", "step"])["rel"].quantile([LOW, 0.5, HIGH]).unstack()
    n_runs = out.groupby("policy")["run_id"].nunique()
    n_panels = len(blocs) + (relative is not None)
    ncols = 1 if n_panels == 1 else 2 if n_panels in (2, 4) else 3
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(4.9 * ncols, 3.5 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    handles, names = [], []

    def fan(ax: Any, band: pd.DataFrame, policy: int) -> Any:
        x = when.loc[band.index]
        ax.fill_between(x, band[LOW], band[HIGH], color=colours[policy], alpha=0.18, lw=0)
        (line,) = ax.plot(x, band[0.5], color=colours[policy], lw=1.6)
        return line

    shared = axes[0]
    for k, bloc in enumerate(blocs):
        ax = axes[k]
        if k:
            ax.sharey(shared)
        for policy in labels:
            if (policy, bloc) not in q.index.droplevel("step"):
                continue
            line = fan(ax, q.loc[(policy, bloc)], policy)
            if k == 0:
                handles.append(line)
                names.append(labels[policy])
        ax.set_title(f"{bloc}: frontier capability")
        if k % ncols == 0:
            ax.set_ylabel("capability index\n(10 points per 10x effective compute)")
    if relative is not None:
        ax = axes[len(blocs)]
        for policy in labels:
            if policy in relative.index.get_level_values("policy"):
                fan(ax, relative.loc[policy], policy)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_title(f"China relative to the best other bloc ({SMOOTH_MONTHS}-month mean)")
        ax.set_ylabel("China minus best other bloc\n(capability index points)")
    for k, ax in enumerate(axes):
        if k >= n_panels:
            ax.set_visible(False)
            continue
        ax.grid(alpha=0.3)
        if k >= n_panels - ncols:
            ax.set_xlabel("month")
            ax.xaxis.set_tick_params(labelbottom=True)
    runs = ", ".join(sorted({str(int(v)) for v in n_runs}))
    fig.suptitle(
        "Frontier capability by bloc: median and 10-90% range over draws x replications "
        f"({runs} runs per policy)"
    )
    _policy_legend(fig, handles, names, _legend_title(sweep))
    return _save(fig, path)


def gap_by_policy(
    sweep: Sweep, metrics: pd.DataFrame, path: Path, labels: dict[int, str], colours: dict
) -> Path:
    """China's final gap per policy, every run shown: the headline comparison of policies."""
    policies = [p for p in labels if (metrics["policy"] == p).any()]
    data = [metrics.loc[metrics["policy"] == p, "final_gap"].to_numpy(float) for p in policies]
    width = max(6.0, 1.2 * len(policies) + 2.5)
    fig = Figure(figsize=(width, 5.0), layout="constrained")
    ax = fig.subplots()
    box = ax.boxplot(
        data,
        positions=range(len(policies)),
        whis=(10, 90),
        showfliers=False,
        widths=0.55,
        patch_artist=True,
        medianprops={"color": "black", "lw": 1.6},
    )
    rng = np.random.default_rng(0)
    for i, (p, values) in enumerate(zip(policies, data, strict=True)):
        box["boxes"][i].set_facecolor((*colours[p][:3], 0.35))
        jitter = rng.uniform(-0.18, 0.18, size=len(values))
        ax.scatter(i + jitter, values, s=12, color=colours[p], alpha=0.7, lw=0, zorder=3)
    if len(sweep.levers) == 1:  # "enforcement=0.5" under an axis named enforcement: just 0.5
        ticks = [labels[p].split("=", 1)[-1] for p in policies]
        xlabel = f"policy: {sweep.levers[0]}"
    elif sweep.levers:  # one line per lever, the levers named once, on the axis
        first = sweep.experiments.sort_values("policy").groupby("policy").first()
        ticks = ["\n".join(_fmt_value(first.loc[p, k]) for k in sweep.levers) for p in policies]
        xlabel = "policy: " + " / ".join(sweep.levers) + " (top to bottom)"
    else:
        ticks = [labels[p] for p in policies]
        xlabel = "policy"
    ax.set_xticks(range(len(policies)), ticks)
    widest = max((len(line) for t in ticks for line in t.split("\n")), default=0)
    if widest * 0.085 > 0.9 * width / max(1, len(policies)):
        for tick in ax.get_xticklabels():  # labels wider than their slot would overlap
            tick.set_rotation(25)
            tick.set_horizontalalignment("right")
    final = metrics["final_date"].mode()
    when = f" ({final.iloc[0]})" if len(final) else ""
    ax.set_ylabel("China's gap to the leading bloc (months)")
    ax.set_xlabel(xlabel)
    ax.set_title(
        f"China's gap at the final month{when} by policy\n"
        "box: quartiles, whiskers: 10-90%, dots: runs"
    )
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def _x_variable(sweep: Sweep, metrics: pd.DataFrame | None = None) -> tuple[str, str]:
    """What smuggling is plotted against: enforcement if it varies, else the first lever that
    does, else the uncertain parameter most rank-correlated with smuggled chips (the first
    one would often be a parameter that has nothing to do with smuggling), else the policy."""
    varying = [
        c
        for c in [*sweep.levers, *sweep.uncertainties]
        if sweep.experiments[c].nunique(dropna=True) > 1
    ]
    if "enforcement" in varying:
        return "enforcement", "lever"
    for c in varying:
        if c in sweep.levers:
            return c, "lever"
    params = [c for c in varying if pd.api.types.is_numeric_dtype(sweep.experiments[c])] or varying
    if len(params) > 1 and metrics is not None and len(metrics) > 3:
        ranks = metrics[params].rank().corrwith(metrics["smuggled"].rank()).abs()
        if ranks.notna().any():
            return str(ranks.idxmax()), "uncertain parameter most correlated with smuggling"
    if params:
        return params[0], "uncertain parameter"
    return "policy", "policy"


def smuggling_plot(
    sweep: Sweep, metrics: pd.DataFrame, path: Path, labels: dict[int, str], colours: dict
) -> Path:
    """Does effort buy fewer smuggled chips, and with what diminishing returns?"""
    xname, kind = _x_variable(sweep, metrics)
    fig = Figure(figsize=(8.0, 5.2), layout="constrained")
    ax = fig.subplots()
    y = metrics["smuggled"].to_numpy(float)
    raw = metrics[xname]
    numeric = pd.api.types.is_numeric_dtype(raw) and raw.dtype != bool and xname != "policy"
    if numeric:
        x = raw.to_numpy(float)
        levels = np.unique(x[np.isfinite(x)])
        discrete = len(levels) <= 12
        # lever levels such as 0.25, 0.5 ... 4 are spaced by factors: a log axis spaces them
        # evenly; sampled parameters are drawn uniformly, so they keep a linear axis
        log = bool(discrete and np.nanmin(x) > 0 and np.nanmax(x) / np.nanmin(x) >= 10)
    else:
        # the experiment's order of the values (policies are numbered in it)
        cats = list(
            dict.fromkeys(sweep.experiments.sort_values("policy")[xname].astype(str))
            if xname != "policy"
            else []
        )
        if xname == "policy":
            cats = [str(p) for p in labels if str(p) in set(raw.astype(str))]
        x = raw.astype(str).map({c: i for i, c in enumerate(cats)}).to_numpy(float)
        log, levels, discrete = False, np.arange(len(cats), dtype=float), True
    rng = np.random.default_rng(1)
    if discrete and len(levels) > 1:  # spread the dots of one level, in the axis's own scale
        step = np.min(np.diff(np.log(levels) if log else levels))
        jitter = rng.uniform(-0.12, 0.12, size=len(x)) * step
        xj = x * np.exp(jitter) if log else x + jitter
    else:
        xj = x
    colour_by_policy = kind == "lever" or xname == "policy" or len(labels) > 1
    point_colours = [colours[int(p)] for p in metrics["policy"]] if colour_by_policy else "tab:blue"
    runs_label = "runs (colour: policy)" if colour_by_policy and len(labels) > 1 else "runs"
    ax.scatter(xj, y, s=16, c=point_colours, alpha=0.6, lw=0, label=runs_label)
    if discrete:
        centres = levels
        med = np.array([np.median(y[x == v]) if (x == v).any() else np.nan for v in levels])
        lo = np.array([_q(y[x == v], LOW) for v in levels])
        hi = np.array([_q(y[x == v], HIGH) for v in levels])
    else:
        bins = min(10, max(3, len(x) // 8))
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        groups = [np.flatnonzero(which == b) for b in range(len(edges) - 1)]
        groups = [g for g in groups if g.size]
        centres = np.array([np.median(x[g]) for g in groups])
        med = np.array([np.median(y[g]) for g in groups])
        lo = np.array([_q(y[g], LOW) for g in groups])
        hi = np.array([_q(y[g], HIGH) for g in groups])
    if numeric:
        ax.fill_between(centres, lo, hi, color="0.4", alpha=0.15, lw=0, label="10-90% range")
        ax.plot(centres, med, color="black", lw=2, marker="o", ms=5, label="median")
    else:  # categories: no line between them, which would suggest values in between
        ax.errorbar(
            centres,
            med,
            yerr=np.clip(np.vstack([med - lo, hi - med]), 0, None),
            fmt="o",
            color="black",
            ms=7,
            capsize=6,
            elinewidth=1.5,
            label="median, 10-90% range",
        )
    if log:
        ax.set_xscale("log")
        ax.set_xticks(levels)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    if not numeric:
        ticks = [labels[int(c)] for c in cats] if xname == "policy" else cats
        ax.set_xticks(range(len(cats)), ticks)
    ax.yaxis.set_major_formatter(FuncFormatter(_in_thousands))
    ax.set_ylim(bottom=0)
    ax.set_xlabel(
        f"{xname} ({kind}{', log scale' if log else ''})"
        if xname != "policy"
        else "policy (no lever or parameter varies)"
    )
    ax.set_ylabel("chips smuggled into China, whole run (thousand chips)")
    binned = "" if discrete else " (median per bin of the x value)"
    ax.set_title(f"Chips smuggled into China against {xname}{binned}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", frameon=True, framealpha=0.9)
    return _save(fig, path)


def _summary_stats(metrics: pd.DataFrame, column: str, policies: list[int]) -> pd.DataFrame:
    g = metrics.groupby("policy")[column]
    return pd.DataFrame(
        {
            "median": g.median(),
            "low": g.quantile(LOW),
            "high": g.quantile(HIGH),
        }
    ).reindex(policies)


def tradeoffs_plot(
    sweep: Sweep, metrics: pd.DataFrame, path: Path, labels: dict[int, str], colours: dict
) -> Path:
    """The price of each policy: the US weighs China's gap against vendors' sales to China;
    China weighs its frontier against the chips it has to smuggle."""
    policies = [p for p in labels if (metrics["policy"] == p).any()]
    m = metrics.assign(china_revenue=metrics["china_revenue"] / 1e9)
    panels = [
        (
            "final_gap",
            "china_revenue",
            "US objectives: China's gap and vendors' sales to China",
            "China's gap at the final month (months)",
            "vendors' revenue from China's labs,\nwhole run (USD bn, all vendors)",
        ),
        (
            "smuggled",
            "china_frontier",
            "China's side: its frontier and the chips it smuggles",
            "chips smuggled into China, whole run (thousand chips)",
            "China's frontier capability index\nat the final month",
        ),
    ]
    fig = Figure(figsize=(12.5, 5.2), layout="constrained")
    axes = fig.subplots(1, 2)
    handles = []
    for ax, (xc, yc, title, xl, yl) in zip(axes, panels, strict=True):
        sx, sy = _summary_stats(m, xc, policies), _summary_stats(m, yc, policies)
        handles = []
        alpha = 0.3 if len(m) <= 500 else 0.1
        for p in policies:  # the runs, faintly: the shape of the spread behind the bars
            mine = m[m["policy"] == p]
            ax.scatter(mine[xc], mine[yc], s=7, color=colours[p], alpha=alpha, lw=0, zorder=1)
        for p in policies:
            h = ax.errorbar(
                sx.loc[p, "median"],
                sy.loc[p, "median"],
                xerr=[
                    [sx.loc[p, "median"] - sx.loc[p, "low"]],
                    [sx.loc[p, "high"] - sx.loc[p, "median"]],
                ],
                yerr=[
                    [sy.loc[p, "median"] - sy.loc[p, "low"]],
                    [sy.loc[p, "high"] - sy.loc[p, "median"]],
                ],
                fmt="o",
                ms=8,
                color=colours[p],
                ecolor=(*colours[p][:3], 0.6),
                elinewidth=1.4,
                capsize=3,
            )
            handles.append(h)
        if len(policies) > 1 and _ordered(sweep):  # the lever's sequence: the curve's shape
            ax.plot(sx["median"], sy["median"], color="0.6", lw=0.8, ls=":", zorder=0)
        ax.set_title(title)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
    axes[1].xaxis.set_major_formatter(FuncFormatter(_in_thousands))
    only = "" if len(policies) > 1 else f" (one policy: {labels[policies[0]]})"
    fig.suptitle(
        f"Trade-offs by policy{only}: median with 10-90% bars over draws x replications, dots: runs"
    )
    _policy_legend(fig, handles, [labels[p] for p in policies], _legend_title(sweep))
    return _save(fig, path)


def sensitivity_plot(sweep: Sweep, sens: Sensitivity, path: Path, labels: dict[int, str]) -> Path:
    """Which uncertainties (and levers) the outcomes hinge on, with how sure that ranking is."""
    table = sens.table
    policy = int(table["policy"].iloc[0])
    table = table[table["policy"] == policy]
    outcomes = [o for o in SENSITIVITY_OUTCOMES if (table["outcome"] == o).any()]
    key = "ST" if sens.method == "sobol" else "rho"
    first = table[table["outcome"] == outcomes[0]].set_index("factor")[key].abs()
    order = list(first.sort_values().index)  # the largest at the top of a horizontal bar chart
    order += [f for f in table["factor"].unique() if f not in order]
    height = max(3.2, 0.42 * len(order) + 1.8)
    fig = Figure(figsize=(6.0 * len(outcomes), height), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), sharey=True))
    ypos = np.arange(len(order))
    for ax, outcome in zip(axes, outcomes, strict=True):
        t = table[table["outcome"] == outcome].set_index("factor").reindex(order)
        if sens.method == "sobol":
            h = 0.38
            ax.barh(
                ypos + h / 2,
                t["S1"],
                h,
                xerr=t["S1_conf"],
                color="tab:blue",
                ecolor="0.3",
                capsize=2,
                label="first order S1",
            )
            ax.barh(
                ypos - h / 2,
                t["ST"],
                h,
                xerr=t["ST_conf"],
                color="tab:orange",
                ecolor="0.3",
                capsize=2,
                label="total order ST",
            )
            ax.axvline(0, color="0.3", lw=0.8)
            # indices lie in [0, 1]; with few samples an interval can span -10..10 and would
            # squash the bars, so the axis stops a little beyond that range
            ends = np.concatenate(
                [t["S1"] - t["S1_conf"], t["ST"] - t["ST_conf"], t["S1"] + t["S1_conf"]]
                + [t["ST"] + t["ST_conf"]]
            )
            ends = ends[np.isfinite(ends)]
            left = max(-0.3, min(-0.05, float(ends.min()) - 0.02)) if ends.size else -0.05
            right = min(1.3, max(0.2, float(ends.max()) + 0.02)) if ends.size else 1.0
            ax.set_xlim(left, right)
            clipped = ends.size and (ends.min() < left or ends.max() > right)
            ax.set_xlabel(
                "Sobol index (share of output variance), bars: 95% CI"
                + (" (clipped)" if clipped else "")
            )
        else:
            rho = t["rho"].to_numpy(float)
            sign = np.where(rho < 0, -1.0, 1.0)  # |rho|'s interval: the signed one, mirrored
            ends = np.sort(sign * t[["rho_low", "rho_high"]].to_numpy(float).T, axis=0)
            err = np.clip(np.vstack([np.abs(rho) - ends[0], ends[1] - np.abs(rho)]), 0, None)
            colours = ["tab:red" if r < 0 else "tab:blue" for r in rho]
            ax.barh(ypos, np.abs(rho), 0.6, xerr=err, color=colours, ecolor="0.3", capsize=2)
            ax.set_xlim(0, 1.05)
            ax.set_xlabel("|Spearman rho| (rank correlation), bars: approx. 95% CI")
        ax.set_title(METRICS[outcome][0])
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(ypos, order)
    if sens.method == "sobol":
        handles, names = axes[0].get_legend_handles_labels()
    else:
        from matplotlib.patches import Patch

        handles = [Patch(color="tab:blue"), Patch(color="tab:red")]
        names = ["outcome rises with the factor", "outcome falls with the factor"]
    fig.legend(handles, names, loc="outside lower center", ncol=2, frameon=False)
    if sens.method == "sobol":
        scope = f" ({labels[policy]})" if len(labels) > 1 else ""
        fig.suptitle(
            f"Sobol sensitivity indices, N = {sens.base_samples} base samples{scope}",
        )
    else:
        fig.suptitle(
            f"Spearman rank correlation with the outcome over {int(table['n'].max())} runs "
            "(policies pooled)"
        )
    return _save(fig, path)


# ----------------------------------------------------------------------------- summary
def _cell(values: pd.Series, fmt: Callable[[float], str]) -> str:
    v = values.to_numpy(float)
    v = v[np.isfinite(v)]
    if not v.size:
        return "-"
    return f"{fmt(np.median(v))} ({fmt(_q(v, LOW))} to {fmt(_q(v, HIGH))})"


def _signed(spec: str) -> Callable[[float], str]:
    """A signed number that never reads '-0.00' or '+0'."""

    def fmt(v: float) -> str:
        text = format(v, "+" + spec)
        return text[1:] if not text.strip("+-0.,") else text

    return fmt


def _count(n: Any, one: str, many: str | None = None) -> str:
    if n is None:
        return f"? {many or one + 's'}"
    return f"{n} {one if n == 1 else many or one + 's'}"


def _paired(metrics: pd.DataFrame, labels: dict[int, str]) -> list[str]:
    """Every policy ran on the same draws and seeds (common random numbers), so each policy
    can be compared with the first in the same futures: the difference is the policy's effect
    without the spread of the futures, which is often far larger than the effect."""
    policies = [p for p in labels if (metrics["policy"] == p).any()]
    if len(policies) < 2:
        return []
    key = ["draw", "replication"]
    base = metrics[metrics["policy"] == policies[0]].set_index(key)
    lines = [
        f"### Paired with {labels[policies[0]]}",
        "",
        f"Each policy against {labels[policies[0]]} in the same futures (same draw and seed): "
        "median (10-90%) of the difference, and the share of futures where China's gap is "
        "larger.",
        "",
        "| Policy | Futures | Change in China's gap (months) | Gap larger in "
        "| Change in chips smuggled | Change in China's frontier |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for p in policies[1:]:
        mine = metrics[metrics["policy"] == p].set_index(key)
        both = mine.merge(
            base, left_index=True, right_index=True, how="inner", suffixes=("", "_base")
        )
        if both.empty:
            lines.append(f"| {labels[p]} | 0 | no shared futures | | | |")
            continue
        d_gap = both["final_gap"] - both["final_gap_base"]
        d_smuggled = both["smuggled"] - both["smuggled_base"]
        d_frontier = both["china_frontier"] - both["china_frontier_base"]
        lines.append(
            f"| {labels[p]} | {len(both)} "
            f"| {_cell(d_gap, _signed('.2f'))} "
            f"| {(d_gap > 0).mean():.0%} "
            f"| {_cell(d_smuggled, _signed(',.0f'))} "
            f"| {_cell(d_frontier, _signed('.2f'))} |"
        )
    return [*lines, ""]


def _ranking_sobol(sens: Sensitivity, labels: dict[int, str]) -> list[str]:
    lines = []
    policies = list(dict.fromkeys(sens.table["policy"]))
    for policy in policies:
        if len(policies) > 1 or len(labels) > 1:
            lines.append(f"**{labels[policy]}**\n")
        for outcome in SENSITIVITY_OUTCOMES:
            t = sens.table[(sens.table["policy"] == policy) & (sens.table["outcome"] == outcome)]
            if t.empty:
                continue
            t = t.sort_values("ST", ascending=False)
            big = t[t["ST"] >= SMALL_EFFECT]
            small = t[t["ST"] < SMALL_EFFECT]
            parts = [
                f"`{r.factor}` (ST = {r.ST:.2f} ± {r.ST_conf:.2f}, S1 = {r.S1:.2f})"
                for r in big.itertuples()
            ]
            text = _ranked(
                METRICS[outcome][0],
                "most sensitive to",
                parts,
                f"no parameter has ST >= {SMALL_EFFECT}",
                f"little influence (ST < {SMALL_EFFECT})",
                list(small["factor"]),
            )
            s1 = t["S1"].sum()
            if t["ST_conf"].max() > 0.5:
                verdict = "too uncertain at this N to tell whether the parameters interact."
            elif s1 > 1.05:
                verdict = "above 1, which only estimation error can give: read the ranking, not "
                verdict += "the values."
            elif s1 >= 0.8:
                verdict = "the parameters act mostly alone."
            else:
                verdict = "interactions between parameters matter."
            text += f". First-order indices sum to {s1:.2f}: {verdict}"
            lines.append(text)
        lines.append("")
    t = sens.table
    unsure = t[(t["ST_conf"] > t["ST"].abs()) & (t["ST"].abs() > 0)]
    if len(unsure) or (t["ST"] > 1).any():
        lines.append(
            f"With N = {sens.base_samples} base samples the confidence intervals are wide "
            f"({len(unsure)} total-order indices cannot be told apart from zero); more base "
            "samples (`samples:` in the experiment file) would sharpen the estimates."
        )
    return lines


def _ranking_spearman(sens: Sensitivity) -> list[str]:
    lines = []
    for outcome in SENSITIVITY_OUTCOMES:
        t = sens.table[sens.table["outcome"] == outcome]
        if t.empty:
            continue
        t = t.assign(size=t["rho"].abs()).sort_values("size", ascending=False)
        big = t[t["size"] >= SMALL_RHO]
        small = t[t["size"] < SMALL_RHO]
        parts = [
            f"`{r.factor}` (rho = {r.rho:+.2f}, 95% CI {r.rho_low:+.2f} to {r.rho_high:+.2f})"
            for r in big.itertuples()
        ]
        text = _ranked(
            METRICS[outcome][0],
            "strongest rank correlation with",
            parts,
            f"no factor has |rho| >= {SMALL_RHO}",
            f"no visible association (|rho| < {SMALL_RHO})",
            list(small["factor"]),
        )
        lines.append(text + ".")
    return lines


def _ranked(
    outcome: str, lead: str, parts: list[str], none: str, small_label: str, small: list[str]
) -> str:
    """One line of the ranking: the factors that matter in order, then those that do not."""
    text = f"- {outcome}: "
    if parts:
        text += f"{lead} {parts[0]}"
        if len(parts) > 1:
            text += ", then " + ", ".join(parts[1:])
    else:
        text += none
    if small:
        text += f"; {small_label}: " + ", ".join(f"`{f}`" for f in small)
    return text


def summary_text(
    sweep: Sweep,
    metrics: pd.DataFrame,
    sens: Sensitivity | None,
    labels: dict[int, str],
    figures: list[Path],
) -> str:
    """The sweep in words and tables, for a reader who will not open the data."""
    rec = sweep.record
    exps = sweep.experiments
    ok = exps[exps["status"] == "ok"]
    failed = exps[exps["status"] != "ok"]
    no_rows = sorted(set(ok["run_id"]) - set(metrics["run_id"]))
    name = rec.get("name", sweep.folder.name)
    lines = [f"# Sweep analysis: {name}", ""]
    if sweep.description:
        lines += [sweep.description, ""]
    planned = rec.get("runs")
    lines += [
        f"- Folder: `{sweep.folder}` ({sweep.table_format} tables)",
        f"- Scenario: {rec.get('scenario', '?')}; design: {sweep.design}; "
        f"{_count(rec.get('policies'), 'policy', 'policies')} x "
        f"{_count(rec.get('draws'), 'draw')} x {_count(rec.get('replications'), 'replication')}"
        f" = {_count(planned, 'run')} "
        f"(seed {rec.get('seed', '?')})",
        f"- Levers: {', '.join(sweep.levers) or 'none'}; uncertain parameters: "
        f"{', '.join(sweep.uncertainties) or 'none'}",
        f"- Runs: {len(ok)} ok, {len(failed)} failed"
        + (f", {planned - len(exps)} not recorded" if planned and planned > len(exps) else ""),
    ]
    if len(metrics):
        dates = sweep.outcomes["date"]
        lines.append(
            f"- Months: {dates.min()} to {dates.max()}; 'final' below means "
            f"{metrics['final_date'].mode().iloc[0]}"
        )
    if sweep.pending:
        lines.append(
            f"- {sweep.pending} runs in `runs/` are not yet in the tables and are not analyzed: "
            "run the same 'python main.py sweep' command again to compact them"
        )
    if no_rows:
        lines.append(
            f"- {len(no_rows)} ok runs have no outcome rows and are left out: "
            + ", ".join(no_rows[:10])
            + (" ..." if len(no_rows) > 10 else "")
        )
    lines.append("")
    if len(failed):
        lines += ["## Failed runs", "", f"{len(failed)} runs failed and are left out:", ""]
        for r in failed.head(50).itertuples():
            first = (str(r.error).strip().splitlines() or ["(no error recorded)"])[0]
            lines.append(f"- `{r.run_id}`: {first[:200]}")
        if len(failed) > 50:
            lines.append(f"- ... and {len(failed) - 50} more (see the experiments table)")
        lines.append("")
    if metrics.empty:
        lines += ["No run succeeded: there is nothing to plot.", ""]
        return "\n".join(lines)

    lines += [
        "## Outcomes by policy",
        "",
        "Median (10-90% range) over draws x replications; China's outcomes at the final month, "
        "smuggled and seized chips summed over the whole run. The gray price is the market's "
        "price of the most sought restricted chip (- if no gray market).",
        "",
        "| Policy | Runs ok | China's gap (months) | China's frontier (index) "
        "| Chips smuggled into China | Chips seized | Gray price (USD) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p, label in labels.items():
        m = metrics[metrics["policy"] == p]
        if m.empty:
            lines.append(f"| {label} | 0 | no successful run | | | | |")
            continue
        lines.append(
            f"| {label} | {len(m)} "
            f"| {_cell(m['final_gap'], lambda v: f'{v:.1f}')} "
            f"| {_cell(m['china_frontier'], lambda v: f'{v:.1f}')} "
            f"| {_cell(m['smuggled'], lambda v: f'{v:,.0f}')} "
            f"| {_cell(m['seized'], lambda v: f'{v:,.0f}')} "
            f"| {_cell(m['gray_price'], lambda v: f'{v:,.0f}')} |"
        )
    lines += ["", *_paired(metrics, labels)]

    lines += ["## Sensitivity", ""]
    if sens is None or sens.method == "":
        lines.append(
            "No uncertain parameter was varied, so there is no sensitivity analysis (and no "
            "sensitivity.png); the policies are compared in the table and figures."
        )
    elif sens.table.empty:
        lines.append("No sensitivity index could be computed.")
    elif sens.method == "sobol":
        scope = (
            "each policy separately; the figure shows " + labels[int(sens.table["policy"].iloc[0])]
            if len(labels) > 1
            else "the one policy"
        )
        lines += [
            f"Sobol indices (SALib, N = {sens.base_samples} base samples, replications averaged "
            f"per draw, computed for {scope}). ST is the share of the outcome's variance that "
            "involves the parameter, S1 the share it explains alone; ± is the 95% confidence "
            "interval's half-width.",
            "",
            *_ranking_sobol(sens, labels),
        ]
    else:
        lines += [
            "Spearman rank correlation of each varied lever and parameter with the outcome, over "
            "all ok runs with policies pooled. It measures a monotone association, not a share "
            "of variance; an effect that rises then falls can hide behind a small rho.",
            "",
            *_ranking_spearman(sens),
        ]
    if sens is not None and sens.notes:
        lines += ["", *(f"Note: {n}." for n in sens.notes)]
    lines.append("")

    captions = {
        "capability_fan.png": "Frontier capability by bloc over time, by policy",
        "gap_by_policy.png": "China's gap at the final month, by policy",
        "smuggling_vs_enforcement.png": "Chips smuggled into China against "
        + _x_variable(sweep, metrics)[0],
        "tradeoffs.png": "Trade-offs between objectives, by policy",
        "sensitivity.png": "Sensitivity of China's gap and smuggled chips",
    }
    lines += ["## Figures", ""]
    for fig in figures:
        lines += [f"![{captions.get(fig.name, fig.stem)}]({fig.name})", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- entry point
def analyze(folder: str | Path) -> list[Path]:
    """Plots and a summary of a sweep folder in DIR/analysis, for `python main.py analyze`;
    returns the files written. Bad or unfinished folders raise InputError naming the folder."""
    sweep = load_sweep(folder)
    out = sweep.folder / "analysis"
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(
            Problem(f"cannot create the analysis folder ({exc.strerror})", file=str(out))
        ) from None
    metrics = run_metrics(sweep)
    labels = policy_labels(sweep)
    written: list[Path] = []
    sens = None
    if not metrics.empty:
        colours = _colours(sweep, list(labels))
        written.append(capability_fan(sweep, out / "capability_fan.png", labels, colours))
        written.append(gap_by_policy(sweep, metrics, out / "gap_by_policy.png", labels, colours))
        written.append(
            smuggling_plot(sweep, metrics, out / "smuggling_vs_enforcement.png", labels, colours)
        )
        written.append(tradeoffs_plot(sweep, metrics, out / "tradeoffs.png", labels, colours))
        sens = sensitivity(sweep, metrics)
        if not sens.table.empty:
            written.append(sensitivity_plot(sweep, sens, out / "sensitivity.png", labels))
    for name in FIGURES:  # a figure from an earlier analysis that this one did not redraw
        if out / name not in written:
            (out / name).unlink(missing_ok=True)
    summary = out / "summary.md"
    atomic_write_bytes(summary, summary_text(sweep, metrics, sens, labels, written).encode())
    written.append(summary)
    return written
