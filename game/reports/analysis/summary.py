"""The sweep in words and tables (summary.md), for a reader who will not open the data: what was
run, what failed, each policy's outcomes, each policy against the first in the same futures,
and which uncertainties the outcomes hinge on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from game.config.outcomes import OutcomeSpec
from game.reports.analysis.indices import (
    SENSITIVITY_OUTCOMES,
    SMALL_EFFECT,
    SMALL_RHO,
    Sensitivity,
)
from game.reports.analysis.metrics import (
    HIGH,
    LOW,
    METRIC_FORMATS,
    METRICS,
    quantile,
    smuggling_x,
)
from game.reports.analysis.sweep import RERUN, Sweep
from game.reports.format import MISSING, count, number, percent, signed

MAX_FAILED_LISTED = 50
MAX_ERROR_CHARS = 200
# The columns of the outcomes table, in order.
TABLE_OUTCOMES = ["final_gap", "china_frontier", "smuggled", "seized", "gray_price"]
CAPTIONS = {
    "capability_fan.png": "Frontier capability by bloc over time, by policy",
    "gap_by_policy.png": "China's gap at the final month, by policy",
    "smuggling.png": "Chips smuggled into China against {x}",
    "tradeoffs.png": "Trade-offs between objectives, by policy",
    "sensitivity.png": "Sensitivity of China's gap and smuggled chips",
}


MAX_NAMED_UNCERTAINTIES = 12  # more are counted, not listed
MIN_DRAWS_TO_RANK = 10  # fewer draws of the uncertainties: no ranking of them (chance)


def two_digits(x: float) -> str:
    """Indices and correlations, which live between -1 and 1."""
    return number(x, 2)


def summary_text(
    sweep: Sweep,
    metrics: pd.DataFrame,
    sens: Sensitivity | None,
    labels: dict[int, str],
    figures: list[Path],
    own: Sequence[OutcomeSpec] = (),
    table: pd.DataFrame | None = None,
) -> str:
    """The whole summary.md; just the sweep and its failures when no run succeeded. `own`: the
    experiment file's outcomes, their values in `table` (the per-run table)."""
    lines = [*_sweep_lines(sweep, metrics), *_failed_lines(sweep)]
    if metrics.empty:
        lines += ["No run succeeded: there is nothing to plot.", ""]
        return "\n".join(lines)
    lines += _outcome_lines(metrics, labels)
    if own and table is not None:
        lines += _own_outcome_lines(table, own, labels)
    lines += _paired(metrics, labels)
    draws = sweep.record.get("draws")
    lines += _sensitivity_lines(sens, labels, int(draws) if draws else None)
    lines += _figure_lines(sweep, metrics, figures)
    return "\n".join(lines)


def _plural(n: Any, one: str, many: str | None = None) -> str:
    """'1 policy', '3 policies', '? runs' when the manifest does not say."""
    if n is None:
        return f"? {many or one + 's'}"
    return f"{count(n)} {one if n == 1 else many or one + 's'}"


def _cell(values: pd.Series, fmt: Callable[[float], str]) -> str:
    """'median (low to high)' over the finite values."""
    v = values.to_numpy(float)
    v = v[np.isfinite(v)]
    if not v.size:
        return MISSING
    return f"{fmt(np.median(v))} ({fmt(quantile(v, LOW))} to {fmt(quantile(v, HIGH))})"


# ----------------------------------------------------------------------------- the sweep
def _sweep_lines(sweep: Sweep, metrics: pd.DataFrame) -> list[str]:
    """Title, description, and what was run: design, levers, how many runs ended how."""
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
        f"{_plural(rec.get('policies'), 'policy', 'policies')} x "
        f"{_plural(rec.get('draws'), 'draw')} x {_plural(rec.get('replications'), 'replication')}"
        f" = {_plural(planned, 'run')} "
        f"(seed {rec.get('seed', '?')})",
        f"- Levers: {', '.join(sweep.levers) or 'none'}; uncertain parameters: "
        + _uncertainties_text(sweep.uncertainties),
        f"- Runs: {count(len(ok))} ok, {count(len(failed))} failed"
        + (
            f", {count(planned - len(exps))} not recorded"
            if planned and planned > len(exps)
            else ""
        ),
    ]
    if len(metrics):
        dates = sweep.outcomes["date"]
        lines.append(
            f"- Months: {dates.min()} to {dates.max()}; 'final' below means "
            f"{metrics['final_date'].mode().iloc[0]}"
        )
    if sweep.pending:
        lines.append(
            f"- {count(sweep.pending)} runs in `runs/` are not yet in the tables and are not "
            f"analyzed: {RERUN} to compact them"
        )
    if no_rows:
        lines.append(
            f"- {count(len(no_rows))} ok runs have no outcome rows and are left out: "
            + ", ".join(no_rows[:10])
            + (" ..." if len(no_rows) > 10 else "")
        )
    lines.append("")
    return lines


def _uncertainties_text(names: list[str]) -> str:
    """What the bands are made of: the drawn parameters, or seeds only."""
    if not names:
        return "none drawn, so every band is luck only (seeds), not what we don't know"
    if len(names) > MAX_NAMED_UNCERTAINTIES:
        return (
            f"{len(names)} drawn over their ranges in assets/data/parameters.yaml "
            f"(`uncertainties: all`), so every band is what we don't know as well as luck"
        )
    return ", ".join(names)


def _failed_lines(sweep: Sweep) -> list[str]:
    """Each failed run with the first line of its error (the first fifty of them)."""
    exps = sweep.experiments
    failed = exps[exps["status"] != "ok"]
    if not len(failed):
        return []
    lines = ["## Failed runs", "", f"{count(len(failed))} runs failed and are left out:", ""]
    for r in failed.head(MAX_FAILED_LISTED).itertuples():
        first = (str(r.error).strip().splitlines() or ["(no error recorded)"])[0]
        lines.append(f"- `{r.run_id}`: {first[:MAX_ERROR_CHARS]}")
    if len(failed) > MAX_FAILED_LISTED:
        more = count(len(failed) - MAX_FAILED_LISTED)
        lines.append(f"- ... and {more} more (see the experiments table)")
    lines.append("")
    return lines


# ----------------------------------------------------------------------------- outcomes
def _outcome_lines(metrics: pd.DataFrame, labels: dict[int, str]) -> list[str]:
    """Each policy's outcomes: median and 10-90% range."""
    lines = [
        "## Outcomes by policy",
        "",
        "Median (10-90% range) over draws x replications; China's outcomes at the final month, "
        "smuggled and seized chips summed over the whole run. The gray price is the market's "
        f"price of the most sought restricted chip ({MISSING} if no gray market).",
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
        cells = " | ".join(_cell(m[c], METRIC_FORMATS[c]) for c in TABLE_OUTCOMES)
        lines.append(f"| {label} | {count(len(m))} | {cells} |")
    lines.append("")
    return lines


def significant(x: float) -> str:
    """An outcome of any scale: whole numbers with separators from 1,000, else 3 digits."""
    if not np.isfinite(x):
        return MISSING
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _own_outcome_lines(
    table: pd.DataFrame, own: Sequence[OutcomeSpec], labels: dict[int, str]
) -> list[str]:
    """The experiment file's outcomes by policy: median and 10-90% range; every run's values
    are in per_run.csv."""
    lines = ["## The experiment's own outcomes", ""]
    for o in own:
        better = "lower" if o.direction == "minimize" else "higher"
        said = f"{o.description}: " if o.description else ""
        lines.append(
            f"- `{o.name}`: {said}the {o.aggregate} of `{o.expression}` for {o.bloc} over "
            f"{o.window_text()} ({better} is better)"
        )
    lines += [
        "",
        "Median (10-90% range) over draws x replications; every run's values, with its levers, "
        "uncertainties and seed, are in per_run.csv and per_run.parquet.",
        "",
        "| Policy | " + " | ".join(f"`{o.name}`" for o in own) + " |",
        "|---|" + "---:|" * len(own),
    ]
    for p, label in labels.items():
        m = table[table["policy"] == p]
        cells = " | ".join(_cell(m[o.name], significant) if len(m) else MISSING for o in own)
        lines.append(f"| {label} | {cells} |")
    lines.append("")
    return lines


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
            f"| {labels[p]} | {count(len(both))} "
            f"| {_cell(d_gap, partial(signed, fmt=two_digits))} "
            f"| {percent((d_gap > 0).mean(), 0)} "
            f"| {_cell(d_smuggled, partial(signed, fmt=count))} "
            f"| {_cell(d_frontier, partial(signed, fmt=two_digits))} |"
        )
    return [*lines, ""]


# ----------------------------------------------------------------------------- sensitivity
def _sensitivity_lines(
    sens: Sensitivity | None, labels: dict[int, str], draws: int | None = None
) -> list[str]:
    """The method in one paragraph, then the factors each outcome hinges on. Rank correlations
    over a handful of draws of many parameters are chance: below MIN_DRAWS_TO_RANK draws the
    parameters are not ranked at all (replications repeat a draw; they add no new values)."""
    lines = ["## Sensitivity", ""]
    if sens is not None and sens.method == "spearman" and draws and draws < MIN_DRAWS_TO_RANK:
        lines += [
            f"Not ranked: the sweep drew its uncertain parameters {draws} times, and with fewer "
            f"than {MIN_DRAWS_TO_RANK} draws a rank correlation cannot be told apart from chance "
            "(replications repeat a draw with another seed; they add no new values). Raise "
            "`samples:` (20 or more) or use a Sobol design to rank what the outcomes hinge on.",
            "",
        ]
        return lines
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
    return lines


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
                f"`{r.factor}` (ST = {two_digits(r.ST)} ± {two_digits(r.ST_conf)}, "
                f"S1 = {two_digits(r.S1)})"
                for r in big.itertuples()
            ]
            text = _ranked(
                METRICS[outcome],
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
            text += f". First-order indices sum to {two_digits(s1)}: {verdict}"
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
    rho = partial(signed, fmt=two_digits)
    for outcome in SENSITIVITY_OUTCOMES:
        t = sens.table[sens.table["outcome"] == outcome]
        if t.empty:
            continue
        t = t.assign(size=t["rho"].abs()).sort_values("size", ascending=False)
        big = t[t["size"] >= SMALL_RHO]
        small = t[t["size"] < SMALL_RHO]
        parts = [
            f"`{r.factor}` (rho = {rho(r.rho)}, 95% CI {rho(r.rho_low)} to {rho(r.rho_high)})"
            for r in big.itertuples()
        ]
        text = _ranked(
            METRICS[outcome],
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


# ----------------------------------------------------------------------------- figures
def _figure_lines(sweep: Sweep, metrics: pd.DataFrame, figures: list[Path]) -> list[str]:
    """The figures written, each with its caption (Markdown images beside summary.md)."""
    x = smuggling_x(sweep, metrics)[0]
    lines = ["## Figures", ""]
    for fig in figures:
        caption = CAPTIONS[fig.name].format(x=x) if fig.name in CAPTIONS else fig.stem
        lines += [f"![{caption}]({fig.name})", ""]
    return lines
