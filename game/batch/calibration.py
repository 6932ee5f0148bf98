"""Calibration: run the historical scenario over many seeds (and, with sampling, over parameter
draws from their plausible ranges) and compare the results with public figures.

Targets (assets/data/targets.yaml) are read from finished runs by named metrics and only ever
compared; nothing here feeds a target back into the model. Runs are independent, so they go to
a process pool: each job builds its model from plain arguments and returns plain numbers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field
from tqdm import tqdm

from game.config.dates import format_month, parse_month
from game.config.errors import InputError, Problem
from game.config.experiment import parameter_draws, plain_value, seeds_for
from game.config.paths import DATA_DIR
from game.config.scenario import scenario_names
from game.config.validation import Strict, validate
from game.config.world import Text, default_world_data
from game.config.yamlfile import read_yaml, shown_path
from game.sim.market_view import usable_flops_per_chip
from game.sim.model import ChipWarModel
from game.sim.results import COLUMN_NAMES
from game.sim.runner import forget, stream

TARGETS_FILE = DATA_DIR / "targets.yaml"
TABLE_COLUMNS = ["target", "source", "low", "high", "median", "p10", "p90", "in_range", "open"]

Metric = Literal[
    "revenue_share",
    "revenue",
    "units_sold",
    "results_sum",
    "results_mean",
    "results_at",
    "compute_share",
    "gray_markup",
    "results_ratio",
    "chip_speed",
    "capability_per_flop",
]
ARGS_NEEDED: dict[str, set[str]] = {
    "revenue_share": {"vendor", "bloc", "start", "end"},
    "revenue": {"vendor", "start", "end"},
    "units_sold": {"start", "end"},
    "results_sum": {"column", "bloc", "start", "end"},
    "results_mean": {"column", "bloc", "start", "end"},
    "results_at": {"column", "bloc", "at"},
    "compute_share": {"bloc", "at"},
    "gray_markup": {"chip", "start", "end"},
    "results_ratio": {"column", "bloc", "over", "at"},
    "chip_speed": {"chip", "reference", "at"},
    "capability_per_flop": {"bloc", "over", "at"},
}
# whose capability per FLOP the capability_per_flop metric compares with (m_capability_per_flop)
COMPARATORS = ("frontier", "dense")
# metrics read monthly from the results table: their series is drawn against the model's band
MONTHLY = ("results_at", "results_ratio", "results_mean")


def _range_ok(r: list[float]) -> tuple[float, float]:
    if r[0] > r[1]:
        raise ValueError(f"range must be [low, high] with low <= high, got {r}")
    return (r[0], r[1])


class Target(Strict):
    id: Text
    description: Text
    scenario: Text = "historical"
    metric: Metric
    args: dict[str, str | float | int]
    range: Annotated[list[float], Field(min_length=2, max_length=2), AfterValidator(_range_ok)]
    source: Text
    # the trajectory this point belongs to (targets of one series share metric and arguments
    # but their month): the validation record draws it against the model's band
    series: Text | None = None
    # a figure the model is known to miss, and why: reported, kept visible, and the test asks
    # for the mark to go once the model lands in range
    open: Text | None = None


class TargetsFile(Strict):
    sources: dict[str, Text]
    targets: Annotated[list[Target], Field(min_length=1)]


@dataclass(frozen=True)
class Targets:
    targets: tuple[Target, ...]
    sources: dict[str, str]

    def scenarios(self) -> list[str]:
        return sorted({t.scenario for t in self.targets})


def load_targets(path: str | Path = TARGETS_FILE) -> Targets:
    """Read and check the targets file; every problem reported with its line."""
    path = Path(path)
    shown = shown_path(path)
    doc = read_yaml(path, shown)
    tf = validate(doc, TargetsFile)
    world = default_world_data()
    columns = set(_results_columns())
    problems: list[Problem] = []
    seen: set[str] = set()
    known = {
        "vendor": [v.id for v in world.vendors],
        "bloc": [b.id for b in world.blocs],
        "chip": [c.id for c in world.chips],
        "reference": [c.id for c in world.chips],
        "over": [b.id for b in world.blocs],
        "column": sorted(columns),
        "comparator": list(COMPARATORS),
    }
    for i, t in enumerate(tf.targets):
        where = ("targets", i)
        if t.id in seen:
            problems.append(doc.problem(where + ("id",), f"duplicate target '{t.id}'"))
        seen.add(t.id)
        if t.source not in tf.sources:
            problems.append(
                doc.problem(
                    where + ("source",),
                    f"unknown source '{t.source}'; expected one of: {', '.join(tf.sources)}",
                )
            )
        if t.scenario not in scenario_names():
            problems.append(
                doc.problem(
                    where + ("scenario",),
                    f"unknown scenario '{t.scenario}'; "
                    f"expected one of: {', '.join(scenario_names())}",
                )
            )
        missing = ARGS_NEEDED[t.metric] - set(t.args)
        if t.metric == "units_sold" and not ({"chip", "vendor"} & set(t.args)):
            missing.add("chip or vendor")
        if missing:
            problems.append(
                doc.problem(
                    where + ("args",), f"metric '{t.metric}' needs {', '.join(sorted(missing))}"
                )
            )
        for key, value in t.args.items():
            if key in ("start", "end", "at"):
                try:
                    parse_month(value)
                except ValueError as exc:
                    problems.append(doc.problem(where + ("args", key), str(exc)))
            elif key in known and value not in known[key]:
                problems.append(
                    doc.problem(
                        where + ("args", key),
                        f"unknown {key} '{value}'; expected one of: {', '.join(known[key])}",
                    )
                )
            elif key not in known and key not in ("start", "end", "at"):
                problems.append(doc.problem(where + ("args", key), f"unknown argument '{key}'"))
    if problems:
        raise InputError(problems)
    return Targets(tuple(tf.targets), dict(tf.sources))


@cache
def _results_columns() -> tuple[str, ...]:

    return tuple(COLUMN_NAMES)


# ----------------------------------------------------------------------------- metrics
def _ym(value: Any) -> str:
    """'2024-01' or a YAML date -> 'YYYY-MM' (such strings compare in calendar order)."""
    return format_month(parse_month(value))


def _window(df: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    return df[(df["date"] >= _ym(start)) & (df["date"] <= _ym(end))]


def _revenue(sales: pd.DataFrame, vendor: str, start: str, end: str) -> pd.DataFrame:
    return _window(sales[sales["vendor"] == vendor], start, end)


def m_revenue_share(
    r: pd.DataFrame, sales: pd.DataFrame, vendor: str, bloc: str, start: str, end: str
) -> float:
    s = _revenue(sales, vendor, start, end)
    total = s["revenue_usd"].sum()
    return float(s.loc[s["bloc"] == bloc, "revenue_usd"].sum() / total) if total > 0 else math.nan


def m_revenue(r: pd.DataFrame, sales: pd.DataFrame, vendor: str, start: str, end: str) -> float:
    return float(_revenue(sales, vendor, start, end)["revenue_usd"].sum())


def m_units_sold(
    r: pd.DataFrame,
    sales: pd.DataFrame,
    start: str,
    end: str,
    chip: str | None = None,
    vendor: str | None = None,
    bloc: str | None = None,
) -> float:
    s = _window(sales, start, end)
    if chip is not None:
        s = s[s["chip"] == chip]
    if vendor is not None:
        s = s[s["vendor"] == vendor]
    if bloc is not None:  # the bloc billed
        s = s[s["bloc"] == bloc]
    return float(s["units"].sum())


def _bloc(r: pd.DataFrame, bloc: str) -> pd.DataFrame:
    return r[r["bloc"] == bloc]


def m_results_sum(
    r: pd.DataFrame, sales: pd.DataFrame, column: str, bloc: str, start: str, end: str
) -> float:
    return float(_window(_bloc(r, bloc), start, end)[column].sum())


def m_results_mean(
    r: pd.DataFrame, sales: pd.DataFrame, column: str, bloc: str, start: str, end: str
) -> float:
    return float(_window(_bloc(r, bloc), start, end)[column].mean())


def m_results_at(r: pd.DataFrame, sales: pd.DataFrame, column: str, bloc: str, at: str) -> float:
    row = _bloc(r, bloc)
    row = row[row["date"] == _ym(at)]
    return float(row[column].iloc[0]) if len(row) else math.nan


def m_compute_share(r: pd.DataFrame, sales: pd.DataFrame, bloc: str, at: str) -> float:
    month = r[r["date"] == _ym(at)]
    total = month["compute_h100e"].sum()
    return (
        float(month.loc[month["bloc"] == bloc, "compute_h100e"].sum() / total)
        if total
        else math.nan
    )


def m_gray_markup(r: pd.DataFrame, sales: pd.DataFrame, chip: str, start: str, end: str) -> float:
    """Mean of gray price over the chip's list price, over the months it was the gray chip."""
    world = default_world_data()
    list_price = next(c.price_usd for c in world.chips if c.id == chip)
    w = _window(r[r["gray_chip"] == chip], start, end).drop_duplicates("date")
    return float((w["gray_price_usd"] / list_price).mean()) if len(w) else math.nan


def m_results_ratio(
    r: pd.DataFrame, sales: pd.DataFrame, column: str, bloc: str, over: str, at: str
) -> float:
    """One bloc's value of a results column over another's, at a month (e.g. the US/China
    ratio of largest training runs)."""
    mine = m_results_at(r, sales, column, bloc, at)
    theirs = m_results_at(r, sales, column, over, at)
    return mine / theirs if theirs and math.isfinite(theirs) else math.nan


def m_capability_per_flop(
    r: pd.DataFrame,
    sales: pd.DataFrame,
    bloc: str,
    over: str,
    at: str,
    comparator: str = "frontier",
) -> float:
    """How much more capability a bloc gets per FLOP of its largest run than `over` does: the
    effective compute its frontier capability stands for (capability.capability_index read
    backwards) over its largest physical run, relative to the same for `over`. It is what
    efficiency under constraint and distillation add up to, as the record can measure it
    (a model's benchmarks against its disclosed training compute).

    comparator "dense" reads `over`'s capability as a dense model of the same compute would
    have it (its techniques' multiplier, results column technique_multiplier, taken out):
    the record can only compare with runs whose compute is public, and the largest of them
    (Llama 3.1 405B) is dense, while the frontier labs' sparse models disclose nothing."""
    ppd = float(default_world_data().parameter_values()["capability_points_per_decade"])

    def log_multiplier(b: str) -> float:
        cap = m_results_at(r, sales, "frontier_capability", b, at)
        run = m_results_at(r, sales, "largest_run_flop", b, at)
        return cap / ppd + 20.0 - math.log10(run) if run > 0 else math.nan

    ratio = 10.0 ** (log_multiplier(bloc) - log_multiplier(over))
    if comparator == "dense":
        ratio *= m_results_at(r, sales, "technique_multiplier", over, at)
    elif comparator not in COMPARATORS:
        raise ValueError(f"comparator must be one of {COMPARATORS}, got {comparator!r}")
    return float(ratio)


def m_chip_speed(
    r: pd.DataFrame, sales: pd.DataFrame, chip: str, reference: str, at: str, *, model: Any = None
) -> float:
    """A chip's usable training FLOP/s over the reference chip's at a month, with software
    ecosystem and interconnect as the model counts them (game/sim/market_view.py)."""
    if model is None:
        return math.nan
    months = parse_month(at) - model.start
    per_chip = usable_flops_per_chip(model.chips, model.p, months)
    return float(per_chip[model.chips.index(chip)] / per_chip[model.chips.index(reference)])


METRICS: dict[str, Callable[..., float]] = {
    "revenue_share": m_revenue_share,
    "revenue": m_revenue,
    "units_sold": m_units_sold,
    "results_sum": m_results_sum,
    "results_mean": m_results_mean,
    "results_at": m_results_at,
    "compute_share": m_compute_share,
    "gray_markup": m_gray_markup,
    "results_ratio": m_results_ratio,
    "chip_speed": m_chip_speed,
    "capability_per_flop": m_capability_per_flop,
}
NEEDS_MODEL = {"chip_speed"}


def evaluate(
    targets: Iterable[Target], results: pd.DataFrame, sales: pd.DataFrame, model: Any = None
) -> dict[str, float]:
    """Each target's value in one finished run (`model`: the finished model, for the metrics
    that read the world rather than its tables)."""
    out = {}
    for t in targets:
        extra = {"model": model} if t.metric in NEEDS_MODEL else {}
        out[t.id] = METRICS[t.metric](results, sales, **t.args, **extra)
    return out


def series_of(target: Target, results: pd.DataFrame) -> pd.Series:
    """The monthly series a trajectory target samples: its results column for its bloc (or
    the ratio of two blocs'), by date."""
    args = target.args
    mine = _bloc(results, str(args["bloc"])).set_index("date")[str(args["column"])]
    if target.metric == "results_ratio":
        theirs = _bloc(results, str(args["over"])).set_index("date")[str(args["column"])]
        return mine / theirs.replace(0.0, np.nan)
    return mine


# ----------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Job:
    scenario: str
    seed: int
    draw: int  # -1: default parameters; else the index of a sampled draw
    overrides: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class RunResult:
    values: dict[str, float]  # each target's value
    series: dict[str, dict[str, float]]  # each trajectory's monthly values, by date


def run_job(job: Job, targets: Targets | None = None) -> tuple[Job, RunResult]:
    """One run in a worker process: plain arguments in, plain numbers out."""
    chosen = [t for t in (targets or load_targets()).targets if t.scenario == job.scenario]
    model = ChipWarModel(job.scenario, rng=job.seed, overrides=dict(job.overrides) or None)
    try:
        results = model.run()
        values = evaluate(chosen, results, model.sales(), model)
        series = {
            t.series: series_of(t, results).to_dict()
            for t in chosen
            if t.series and t.metric in MONTHLY
        }
        return job, RunResult(values, series)
    finally:
        forget(model)


def run_jobs(
    jobs: list[Job], workers: int, progress: bool = False, targets: Targets | None = None
) -> list[tuple[Job, RunResult]]:
    """Run jobs in worker processes (or in this process if workers is 1). Results come back in
    the order of the jobs, whichever finishes first, so a caller may zip them with its jobs."""
    bar = None
    if progress:
        bar = tqdm(total=len(jobs), desc="runs", unit="run", leave=False)
    order = {job: i for i, job in enumerate(jobs)}
    out: list[tuple[Job, RunResult]] = []
    try:
        for result in stream(partial(run_job, targets=targets), jobs, workers):
            out.append(result)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return sorted(out, key=lambda result: order[result[0]])


MAX_DEFAULT_WORKERS = 8  # a calibration is a few dozen runs: more processes only cost start-up


def default_workers() -> int:
    """Parallel processes when none are asked for: the cores, at most MAX_DEFAULT_WORKERS."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


@dataclass(frozen=True)
class Calibration:
    table: pd.DataFrame  # one row per target (see calibrate)
    bands: pd.DataFrame  # series, date, p10, median, p90: each trajectory's monthly band
    seeds: tuple[int, ...] = ()  # each run's seed
    draws: pd.DataFrame | None = None  # with sampling: each run's drawn parameters


def calibration_provenance(
    result: Calibration,
    targets: Targets,
    seeds: int,
    sample: int | None,
    master_seed: int,
    out: str | Path,
) -> dict[str, Any]:
    """The record of `calibrate --out FILE.csv` (game.batch.provenance): the command with its
    choices spelled out, every run's seed and, with --sample, every run's draw; the inputs are
    the files of every scenario the targets read (targets.yaml is among assets/data)."""
    from types import SimpleNamespace

    from game.batch.provenance import record
    from game.config.scenario import load_scenario

    argv = ["calibrate", *(["--sample", str(sample)] if sample else ["--seeds", str(seeds)])]
    argv += ["--seed", str(master_seed), "--out", str(out)]
    names = targets.scenarios()
    files = list(dict.fromkeys(f for n in names for f in load_scenario(n).files))
    draws = None
    if result.draws is not None:
        draws = result.draws.reset_index(drop=True)
        draws.insert(0, "seed", list(result.seeds))
        draws.insert(0, "run", range(len(draws)))
    return record(
        prog="python main.py",
        argv=argv,
        scenario=SimpleNamespace(name=", ".join(names), files=files),
        seed=master_seed,
        samples=sample or None,
        draws=draws,
        seeds=result.seeds,
        targets=str(shown_path(TARGETS_FILE)),
    )


def calibrate(
    seeds: int = 20,
    sample: int = 0,
    workers: int | None = None,
    master_seed: int = 2022,
    targets: Targets | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The calibration table: one row per target with its range, the median and 10-90% band of
    the simulated value and whether the median is in range. With `sample` > 0, each run also
    draws the parameters from their ranges (Latin hypercube; one seed per draw), and the table
    adds the share of draws in range and the parameter the target moves with most."""
    return calibrate_trajectories(seeds, sample, workers, master_seed, targets, progress).table


def calibrate_trajectories(
    seeds: int = 20,
    sample: int = 0,
    workers: int | None = None,
    master_seed: int = 2022,
    targets: Targets | None = None,
    progress: bool = False,
) -> Calibration:
    """The table of `calibrate`, and the model's monthly band of every trajectory target."""
    targets = targets or load_targets()
    workers = default_workers() if workers is None else workers
    n_runs = sample if sample > 0 else seeds
    run_seeds = seeds_for(n_runs, master_seed)
    draws = parameter_draws(sample, master_seed) if sample > 0 else None
    jobs = []
    for i, seed in enumerate(run_seeds):
        overrides = tuple(draws.iloc[i].items()) if draws is not None else ()
        overrides = tuple((k, plain_value(v)) for k, v in overrides)
        for scenario in targets.scenarios():
            jobs.append(Job(scenario, seed, i if draws is not None else -1, overrides))
    values: dict[str, list[float]] = {t.id: [math.nan] * n_runs for t in targets.targets}
    trajectories: dict[str, list[dict[str, float]]] = {}
    for job, result in run_jobs(jobs, workers, progress, targets):
        for tid, v in result.values.items():
            values[tid][run_seeds.index(job.seed)] = v
        for name, series in result.series.items():
            trajectories.setdefault(name, []).append(series)
    rows = [_row(t, np.array(values[t.id], float), draws) for t in targets.targets]
    return Calibration(pd.DataFrame(rows), _bands(trajectories), tuple(run_seeds), draws)


def _row(t: Target, v: np.ndarray, draws: pd.DataFrame | None) -> dict[str, Any]:
    low, high = t.range
    finite = v[np.isfinite(v)]
    med, p10, p90 = (
        (
            float(np.median(finite)),
            float(np.percentile(finite, 10)),
            float(np.percentile(finite, 90)),
        )
        if finite.size
        else (math.nan,) * 3
    )
    row = {
        "target": t.id,
        "source": t.source,
        "low": low,
        "high": high,
        "median": med,
        "p10": p10,
        "p90": p90,
        "in_range": bool(finite.size and low <= med <= high),
        "open": t.open or "",
        "series": t.series or "",
        "at": _when(t),
        "description": t.description,
    }
    if draws is not None:
        inside = np.isfinite(v) & (v >= low) & (v <= high)
        row["share_in_range"] = float(inside.mean())
        row["most_sensitive_to"] = _most_sensitive(draws, v)
    return row


def _when(t: Target) -> str:
    """The month a figure stands for: its month, or the middle of its window."""
    if "at" in t.args:
        return _ym(t.args["at"])
    if "start" in t.args and "end" in t.args:
        start, end = parse_month(t.args["start"]), parse_month(t.args["end"])
        return format_month((start + end) // 2)
    return ""


def _bands(trajectories: dict[str, list[dict[str, float]]]) -> pd.DataFrame:
    rows = []
    for name, runs in trajectories.items():
        frame = pd.DataFrame(runs)  # one row a run, one column a month
        for date in sorted(frame.columns):
            v = frame[date].to_numpy(float)
            v = v[np.isfinite(v)]
            if v.size:
                rows.append(
                    {
                        "series": name,
                        "date": date,
                        "p10": float(np.percentile(v, 10)),
                        "median": float(np.median(v)),
                        "p90": float(np.percentile(v, 90)),
                    }
                )
    return pd.DataFrame(rows, columns=["series", "date", "p10", "median", "p90"])


def _most_sensitive(draws: pd.DataFrame, values: np.ndarray) -> str:
    """The parameter whose draws correlate most (Spearman) with the target across runs."""
    ok = np.isfinite(values)
    if ok.sum() < 4 or np.ptp(values[ok]) == 0:
        return ""
    ranks = draws[ok].rank()
    target = pd.Series(values[ok]).rank().to_numpy()
    corr = {
        k: abs(np.corrcoef(ranks[k].to_numpy(), target)[0, 1])
        for k in draws.columns
        if ranks[k].nunique() > 1
    }
    corr = {k: c for k, c in corr.items() if np.isfinite(c)}
    if not corr:
        return ""
    best = max(corr, key=corr.get)
    return f"{best} ({corr[best]:.2f})"


def format_value(v: float) -> str:
    """A figure or a model value as the tables show it: two significant digits for the very
    large and very small (FLOP, revenue), separators for counts, two decimals for shares."""
    if not np.isfinite(v):
        return "-"
    a = abs(v)
    if a >= 1e6 or (0 < a < 1e-3):
        return f"{v:.2g}"
    if a >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def _verdict(in_range: bool, known_open: bool) -> str:
    """'open' marks a figure the model is known to miss (targets.yaml says why)."""
    if known_open:
        return "now in range: close it" if in_range else "NO (open)"
    return "yes" if in_range else "NO"


def format_table(table: pd.DataFrame) -> str:
    """The calibration table for a terminal."""

    shown = pd.DataFrame(
        {
            "target": table["target"],
            "range": [
                f"{format_value(lo)} .. {format_value(hi)}"
                for lo, hi in zip(table["low"], table["high"], strict=True)
            ],
            "median": table["median"].map(format_value),
            "10-90% band": [
                f"{format_value(a)} .. {format_value(b)}"
                for a, b in zip(table["p10"], table["p90"], strict=True)
            ],
            "in range": [
                _verdict(ok, bool(why))
                for ok, why in zip(table["in_range"], table["open"], strict=True)
            ],
            "source": table["source"],
        }
    )
    if "share_in_range" in table:
        shown["draws in range"] = table["share_in_range"].map(lambda s: f"{s:.0%}")
        shown["moves most with"] = table["most_sensitive_to"]
    return shown.to_string(index=False)
