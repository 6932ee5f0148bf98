"""How much each uncertain parameter (and lever) moves the outcomes, by the design's method.

A Sobol design is analysed with SALib's Sobol indices (its draws are in Saltelli's order, one
value per draw after averaging the replications); any other design gets Spearman rank
correlations, which need no particular layout but only measure a monotone association.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from game.reports.analysis.metrics import METRIC_FORMATS, METRICS, policy_labels
from game.reports.analysis.sweep import Sweep

SENSITIVITY_OUTCOMES = ["final_gap", "smuggled"]
SMALL_EFFECT = 0.05  # a Sobol index below this explains little of the variance
SMALL_RHO = 0.1  # a rank correlation below this is no visible association


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
                    f"so Sobol indices of {METRICS[outcome]} cannot be computed"
                )
                continue
            y = per_draw.to_numpy(dtype=float)
            if np.ptp(y) == 0:
                notes.append(
                    f"{labels[policy]}: {METRICS[outcome]} is the same in every draw "
                    f"({METRIC_FORMATS[outcome](y[0])}); no parameter moves it"
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
