"""The sweep's figures, each a PNG answering one question: how each bloc's frontier evolves by
policy, how far behind China ends up, whether enforcement buys fewer smuggled chips, what each
policy costs, and which uncertainties the outcomes hinge on.

Drawn on matplotlib `Figure`s with the Agg canvas, never pyplot: no GUI backend is touched and
nothing is left in a global figure registry.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, FuncFormatter

from game.batch.output import save_bytes
from game.reports.analysis.indices import SENSITIVITY_OUTCOMES, Sensitivity
from game.reports.analysis.metrics import (
    HIGH,
    LOW,
    METRICS,
    lever_value,
    quantile,
    smuggling_x,
)
from game.reports.analysis.sweep import CHINA, LEADER, Sweep
from game.reports.format import tick_labels

# Text is drawn as written: a bloc name or label from a user's file (or "$3bn to $4bn")
# must never reach matplotlib's mathtext parser, which fails on an unbalanced '$'.
matplotlib.rcParams["text.parse_math"] = False

DPI = 120
SMOOTH_MONTHS = 12  # window of the trailing mean of China's frontier relative to the others
FIGURES = [
    "capability_fan.png",
    "gap_by_policy.png",
    "smuggling.png",
    "tradeoffs.png",
    "sensitivity.png",
]


class _Ticks(Formatter):
    """Tick labels as the rest of the game writes numbers ('50k' chips, '$1.2bn'), with the
    decimals it takes to tell neighbouring ticks apart."""

    def __init__(self, *, money: bool = False) -> None:
        super().__init__()
        self.money = money

    def format_ticks(self, values: Any) -> list[str]:
        return tick_labels(list(values), money=self.money)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return tick_labels([x], money=self.money)[0]


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    save_bytes(path, buf.getvalue())
    return path


def colours_for(sweep: Sweep, policies: list[int]) -> dict[int, Any]:
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
    first = (LEADER, CHINA)
    blocs = [b for b in first if b in seen] + [b for b in seen if b not in first]
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
        ticks = ["\n".join(lever_value(first.loc[p, k]) for k in sweep.levers) for p in policies]
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


def smuggling_plot(
    sweep: Sweep, metrics: pd.DataFrame, path: Path, labels: dict[int, str], colours: dict
) -> Path:
    """Does effort buy fewer smuggled chips, and with what diminishing returns?"""
    xname, kind = smuggling_x(sweep, metrics)
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
        lo = np.array([quantile(y[x == v], LOW) for v in levels])
        hi = np.array([quantile(y[x == v], HIGH) for v in levels])
    else:
        bins = min(10, max(3, len(x) // 8))
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        groups = [np.flatnonzero(which == b) for b in range(len(edges) - 1)]
        groups = [g for g in groups if g.size]
        centres = np.array([np.median(x[g]) for g in groups])
        med = np.array([np.median(y[g]) for g in groups])
        lo = np.array([quantile(y[g], LOW) for g in groups])
        hi = np.array([quantile(y[g], HIGH) for g in groups])
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
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: lever_value(v)))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    if not numeric:
        ticks = [labels[int(c)] for c in cats] if xname == "policy" else cats
        ax.set_xticks(range(len(cats)), ticks)
    ax.yaxis.set_major_formatter(_Ticks())
    ax.set_ylim(bottom=0)
    ax.set_xlabel(
        f"{xname} ({kind}{', log scale' if log else ''})"
        if xname != "policy"
        else "policy (no lever or parameter varies)"
    )
    ax.set_ylabel("chips smuggled into China, whole run")
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
    """The price of each policy: China's gap against every vendor's sales to China's labs
    (domestic vendors such as Huawei included: the results table does not split revenue by
    vendor, so this is not the US score, which counts US vendors' sales only); China's frontier
    against the chips it has to smuggle."""
    policies = [p for p in labels if (metrics["policy"] == p).any()]
    panels = [
        (
            "final_gap",
            "china_revenue",
            "China's gap and all vendors' sales to China",
            "China's gap at the final month (months)",
            "vendors' revenue from China's labs, whole run\n(USD, all vendors, Huawei included)",
        ),
        (
            "smuggled",
            "china_frontier",
            "China's side: its frontier and the chips it smuggles",
            "chips smuggled into China, whole run",
            "China's frontier capability index\nat the final month",
        ),
    ]
    fig = Figure(figsize=(12.5, 5.2), layout="constrained")
    axes = fig.subplots(1, 2)
    handles = []
    for ax, (xc, yc, title, xl, yl) in zip(axes, panels, strict=True):
        sx, sy = _summary_stats(metrics, xc, policies), _summary_stats(metrics, yc, policies)
        handles = []
        alpha = 0.3 if len(metrics) <= 500 else 0.1
        for p in policies:  # the runs, faintly: the shape of the spread behind the bars
            mine = metrics[metrics["policy"] == p]
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
    axes[0].yaxis.set_major_formatter(_Ticks(money=True))
    axes[1].xaxis.set_major_formatter(_Ticks())
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
        ax.set_title(METRICS[outcome])
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
