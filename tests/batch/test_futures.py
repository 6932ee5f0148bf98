"""Sampled futures: what `run --samples` runs and prints, and the band it makes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.batch.futures import run_futures, yearly_band
from game.config.experiment import drawn_parameters
from game.config.scenario import load_scenario, with_overrides
from game.config.world import default_world_data
from game.sim.results import COLUMN_NAMES
from tests.cli_helpers import run_cli


@pytest.fixture(scope="module")
def futures() -> tuple[pd.DataFrame, pd.DataFrame]:
    return run_futures(load_scenario("historical"), samples=6, seed=11, months=27, workers=1)


def test_each_future_draws_its_own_parameters_and_seed(futures) -> None:
    results, draws = futures
    assert list(results.columns) == ["sample", *COLUMN_NAMES]
    assert sorted(results["sample"].unique()) == list(range(6))
    assert len(results) == 6 * 27 * 4
    assert draws["seed"].nunique() == 6
    for name in ("algo_doubling_months", "distillation_share", "max_run_growth_per_year"):
        assert draws[name].nunique() == 6, f"{name} is not drawn"
    # a Latin hypercube: one draw in each sixth of each range (a parameter drawn as a real
    # number: whole-number ones are rounded, which may put two draws in one sixth)
    lo, hi = default_world_data().parameters["distillation_share"].range
    bins = np.floor((draws["distillation_share"] - lo) / (hi - lo) * 6).clip(0, 5)
    assert sorted(bins.astype(int)) == list(range(6))


def test_futures_differ_and_the_band_holds_them(futures) -> None:
    results, _ = futures
    china = results[(results["bloc"] == "china") & (results["date"] == "2024-12")]
    assert china["gap_months"].nunique() > 1  # the unknowns move the gap
    band = yearly_band(results)
    gap = band.loc[(2024, "china"), "gap (months)"]
    assert gap[0.1] <= gap[0.5] <= gap[0.9]
    assert gap[0.1] < gap[0.9]
    assert gap[0.1] >= china["gap_months"].min() and gap[0.9] <= china["gap_months"].max()


def test_the_same_seed_gives_the_same_futures_in_any_process(futures) -> None:
    scenario = load_scenario("historical")
    again, draws = run_futures(scenario, samples=6, seed=11, months=27, workers=2)
    pd.testing.assert_frame_equal(again, futures[0])
    pd.testing.assert_frame_equal(draws, futures[1])


def test_what_the_scenario_or_set_fixes_is_not_drawn() -> None:
    fixed = with_overrides(load_scenario("historical"), ["smuggling_detection=0.2"])
    assert "smuggling_detection" in drawn_parameters(load_scenario("historical").parameters)
    assert "smuggling_detection" not in drawn_parameters(fixed.parameters)
    assert "bot_period_months" not in drawn_parameters(fixed.parameters)  # drawn: false in the data


def test_run_samples_prints_bands_and_writes_the_table_and_draws(tmp_path: Path) -> None:
    out = tmp_path / "futures.csv"
    proc = run_cli("run", "--samples", "4", "--months", "15", "--seed", "3", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "4 sampled futures from seed 3" in proc.stdout
    assert "median [10%..90%]" in proc.stdout
    china_2023 = next(line for line in proc.stdout.splitlines() if " china " in line)
    assert re.search(r"\d+\.\d \[\d+\.\d\.\.\d+\.\d\]", china_2023), china_2023
    table = pd.read_csv(out)
    draws = pd.read_csv(tmp_path / "futures.draws.csv")
    assert len(table) == 4 * 15 * 4 and set(table["sample"]) == {0, 1, 2, 3}
    assert list(draws["sample"]) == [0, 1, 2, 3]
    assert "scarcity_efficiency_bonus" in draws.columns
