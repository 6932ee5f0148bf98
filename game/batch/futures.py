"""Sampled futures: one scenario run N times, each run with the uncertain parameters drawn over
their documented ranges and its own seed, and the band the runs make.

A single run answers "what happens if every assumption is at its default", which is not a
question anyone has. Every parameter of assets/data/parameters.yaml with a range and not
marked `drawn: false` is drawn (a Latin hypercube over the ranges: config.experiment's
parameter_draws), except those the scenario or `--set` fixes: the scenario is the question,
the draws are what we don't know about the world it plays in. Seeds come from the same
master seed, so the same command gives the same futures in any process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from game.batch.plausibility import weighted_quantiles
from game.batch.sweep import model_rows
from game.config.experiment import MAX_SAMPLES, sampled_futures
from game.config.scenario import Scenario
from game.config.world import default_world_data
from game.sim.results import SUMMARY_FORMATS, yearly_summary, years_apart
from game.sim.runner import stream

BAND = (0.1, 0.5, 0.9)  # the quantiles shown: 10-90% band and median


@dataclass(frozen=True)
class FutureJob:
    """One sampled future, as plain data a worker process can unpickle."""

    sample: int
    seed: int
    parameters: tuple[tuple[str, Any], ...]
    scenario: Scenario
    months: int | None


def run_future(job: FutureJob) -> dict[str, Any]:
    """Run one future in a worker (sweep.model_rows): its results table, or its error."""
    return {
        "sample": job.sample,
        **model_rows(job.scenario, job.seed, dict(job.parameters), job.months),
    }


def future_jobs(
    scenario: Scenario, samples: int, seed: int, months: int | None = None
) -> tuple[list[FutureJob], pd.DataFrame]:
    """The jobs, and their draws table: sample, seed, then one column per drawn parameter."""
    futures = sampled_futures(samples, seed, scenario.parameters)
    jobs = [FutureJob(i, s, drawn, scenario, months) for i, (s, drawn) in enumerate(futures)]
    table = pd.DataFrame(
        [{"sample": i, "seed": s, **dict(drawn)} for i, (s, drawn) in enumerate(futures)]
    )
    return jobs, table


class FutureFailed(RuntimeError):
    """A sampled future raised: the model failed with these parameters (a bug, not bad input)."""


def run_futures(
    scenario: Scenario,
    samples: int,
    seed: int,
    months: int | None = None,
    workers: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run `samples` futures of the scenario. Returns the tidy results (a `sample` column, then
    the columns of a single run, ordered by sample) and the draws table (sample, seed, one
    column per drawn parameter)."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be 1 to {MAX_SAMPLES}, got {samples}")
    jobs, draws = future_jobs(scenario, samples, seed, months)
    parts: dict[int, pd.DataFrame] = {}
    for out in _results(jobs, workers):
        if out["status"] != "ok":
            row = draws.iloc[out["sample"]].to_dict()
            raise FutureFailed(f"sample {out['sample']} ({row}) failed: {out['error']}")
        parts[out["sample"]] = pd.DataFrame(out["rows"])
    results = pd.concat([parts[i] for i in range(samples)], keys=range(samples), names=["sample"])
    results = results.reset_index(level="sample").reset_index(drop=True)
    return results, draws


def _results(jobs: list[FutureJob], workers: int) -> Iterator[dict[str, Any]]:
    return stream(run_future, jobs, max(1, min(workers, len(jobs))))


def yearly_band(results: pd.DataFrame, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Per (year, bloc), the 10%, 50% and 90% quantiles over the futures of each column of the
    CLI's yearly table (yearly_summary): columns are (column, quantile). With `weights`
    [sample] (game/batch/plausibility.py), the quantiles are weighted."""
    tables = {s: yearly_summary(r) for s, r in results.groupby("sample", sort=True)}
    if weights is not None:
        return _weighted_band(tables, weights)
    per_sample = pd.concat(tables, names=["sample"])
    band = per_sample.groupby(level=["year", "bloc"], sort=False, observed=True).quantile(
        list(BAND)
    )
    band.index.names = ["year", "bloc", "quantile"]
    return band.unstack("quantile")


def _weighted_band(tables: dict[int, pd.DataFrame], weights: np.ndarray) -> pd.DataFrame:
    """yearly_band's table from weighted quantiles: every future's table has the same rows."""
    first = next(iter(tables.values()))
    stack = np.stack(
        [t.reindex(first.index)[first.columns].to_numpy(float) for t in tables.values()]
    )
    q = weighted_quantiles(stack, np.asarray(weights, float), BAND)  # [quantile, row, column]
    columns = pd.MultiIndex.from_product([first.columns, BAND], names=[None, "quantile"])
    data = np.transpose(q, (1, 2, 0)).reshape(len(first.index), -1)
    return pd.DataFrame(data, index=first.index, columns=columns)


def format_band(band: pd.DataFrame) -> str:
    """The yearly table with each cell as median [10%..90%], in the single run's formats."""
    lo, mid, hi = BAND

    def cell(column: str, row: pd.Series) -> str:
        f = SUMMARY_FORMATS.get(column, "{:.3g}")
        values = [row[(column, q)] for q in (mid, lo, hi)]
        if any(np.isnan(v) for v in values):
            return "-"
        m, low, high = (f.format(v) for v in values)
        return m if low == high else f"{m} [{low}..{high}]"

    columns = list(dict.fromkeys(c for c, _ in band.columns))
    table = pd.DataFrame(
        {c: [cell(c, row) for _, row in band.iterrows()] for c in columns}, index=band.index
    )
    return years_apart(table.to_string())


def paired_bands(
    base: Scenario,
    played: Scenario,
    samples: int,
    seed: int,
    months: int | None = None,
    workers: int = 1,
    column: str = "gap_months",
    bloc: str | None = None,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """One column of one bloc (default: the bloc the rules aim at) month by month over the same
    sampled futures without and with a game's decisions (`base`, `played`: the same scenario,
    the second with the decisions as its schedule): date, world ("played" or "without"), and
    its 10%, 50% and 90% quantiles over the futures. The futures are paired (the same draws and
    seeds in both worlds), so the two bands differ by the decisions only. With `weights`
    [sample] (game/batch/plausibility.py), the quantiles are weighted."""
    bloc = bloc or default_world_data().target_bloc
    frames = []
    for world, scenario in (("without", base), ("played", played)):
        results, _ = run_futures(scenario, samples, seed, months, workers)
        mine = results[results["bloc"] == bloc]
        if weights is None:
            q = mine.groupby("date", sort=True)[column].quantile(list(BAND)).unstack()
        else:
            grid = mine.pivot(index="sample", columns="date", values=column).sort_index()
            values = weighted_quantiles(grid.to_numpy(float), np.asarray(weights, float), BAND)
            q = pd.DataFrame(values.T, index=grid.columns)
        q.columns = ["p10", "median", "p90"]
        frames.append(q.reset_index().assign(world=world))
    return pd.concat(frames, ignore_index=True)[["date", "world", "p10", "median", "p90"]]
