"""Per-run outcomes of a sweep, all about China because the levers are about China: its gap to
the leading bloc and its frontier at the final month, the chips smuggled to its labs and seized
on the way over the whole run, the gray price, and what vendors earned from its labs.

Spreads are 10-90% ranges over draws x replications everywhere, because a policy's worst
decile matters as much as its median.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from game.reports.analysis.sweep import CHINA, Sweep
from game.reports.format import count, number, usd

LOW, HIGH = 0.1, 0.9  # the spread reported everywhere: the 10-90% range
# Per-run outcomes: column of the metrics table -> how the text names it.
METRICS = {
    "final_gap": "China's gap at the final month",
    "china_frontier": "China's frontier capability at the final month",
    "smuggled": "chips smuggled into China (cumulative)",
    "seized": "chips bound for China seized (cumulative)",
    "gray_price": "gray-market price at the final month",
    "china_revenue": "vendors' revenue from China's labs (cumulative)",
}
# How the text writes each outcome's values.
METRIC_FORMATS: dict[str, Callable[[float], str]] = {
    "final_gap": number,
    "china_frontier": number,
    "smuggled": count,
    "seized": count,
    "gray_price": count,  # its column says USD
    "china_revenue": usd,
}


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


def lever_value(v: Any) -> str:
    """A lever's value as the experiment file would write it ('0.5', 'restricted')."""
    if isinstance(v, float | np.floating):
        return f"{float(v):g}"
    return str(v)


def policy_labels(sweep: Sweep) -> dict[int, str]:
    """Policies named by their lever values, so a legend says what was chosen, not an index."""
    first = sweep.experiments.sort_values("policy").groupby("policy").head(1)
    labels = {}
    for _, row in first.iterrows():
        parts = [f"{k}={lever_value(row[k])}" for k in sweep.levers]
        labels[int(row["policy"])] = ", ".join(parts) if parts else "scenario's levers"
    return labels


def quantile(values: pd.Series | np.ndarray, q: float) -> float:
    """The q-quantile of the finite values (NaN if there are none)."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(np.quantile(arr, q)) if arr.size else math.nan


def smuggling_x(sweep: Sweep, metrics: pd.DataFrame | None = None) -> tuple[str, str]:
    """What smuggling is plotted against, and what kind of variable it is: enforcement if it
    varies, else the first lever that does, else the uncertain parameter most rank-correlated
    with smuggled chips (the first one would often be a parameter that has nothing to do with
    smuggling), else the policy."""
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
