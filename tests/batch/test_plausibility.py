"""Futures weighted by the record (game/batch/plausibility.py): a future whose world misses the
calibration targets counts less in the band, and the command line says how much evidence the
weighted band rests on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.batch.calibration import Target, Targets, evaluate, load_targets
from game.batch.futures import run_futures, yearly_band
from game.batch.plausibility import judge_draws, penalties, weighted_quantiles
from game.config.scenario import load_scenario
from game.sim.model import ChipWarModel
from tests.cli_helpers import run_cli


def _target(low: float, high: float, tid: str = "t") -> Target:
    return Target(
        id=tid,
        description="a test figure",
        metric="results_at",
        args={"column": "largest_run_flop", "bloc": "china", "at": "2024-12"},
        range=[low, high],
        source="test",
    )


def test_inside_the_range_nothing_is_lost_outside_it_falls_like_a_normal_tail() -> None:
    log_range = _target(1e24, 1e26)  # two decades: a half-width is one decade
    linear = _target(0.0, 10.0)  # starts at zero: judged in its own units, half-width 5
    values = np.array(
        [
            [1e25, 5.0],  # inside both
            [1e27, 15.0],  # one half-width above both
            [1e22, -10.0],  # two half-widths below both
            [np.nan, np.nan],  # no value: as two half-widths out
        ]
    )
    lost = penalties([log_range, linear], values)
    np.testing.assert_allclose(lost, [[0, 0], [0.5, 0.5], [2.0, 2.0], [2.0, 2.0]])


def test_weighted_quantiles_follow_the_weights() -> None:
    values = np.array([[1.0, 10.0], [2.0, np.nan], [3.0, 30.0], [4.0, 40.0]])
    even = weighted_quantiles(values, np.ones(4), (0.1, 0.5, 0.9))
    np.testing.assert_array_equal(even[:, 0], [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(even[:, 1], [10.0, 30.0, 40.0])  # NaN carries no weight
    one = weighted_quantiles(values, np.array([0.0, 0.0, 1.0, 0.0]), (0.1, 0.5, 0.9))
    np.testing.assert_array_equal(one, [[3.0, 30.0]] * 3)
    assert np.isnan(weighted_quantiles(np.full((3, 1), np.nan), np.ones(3), (0.5,))).all()


def test_a_draw_whose_world_misses_the_record_weighs_less() -> None:
    """Two draws, one seed: the default world and one whose runs may grow only 3x a year. A
    target drawn tight around the default's 2024 Chinese run keeps the first and all but
    drops the second; the effective number of futures says so."""
    seed = 5
    model = ChipWarModel("historical", rng=seed)
    value = evaluate([_target(1, 2)], model.run(), model.sales())["t"]
    targets = Targets((_target(value * 0.9, value * 1.1),), {"test": "a test source"})
    draws = pd.DataFrame(
        {"sample": [0, 1], "seed": [seed, seed], "max_run_growth_per_year": [4.5, 3.0]}
    )
    judged = judge_draws(draws, workers=1, targets=targets)
    assert judged.weights.sum() == pytest.approx(1.0)
    assert judged.weights[0] > 0.9 > 0.1 > judged.weights[1]
    assert 1.0 <= judged.effective_samples < 1.3
    assert judged.misses.loc[0, "target"] == "t"
    assert judged.misses.loc[0, "share_outside"] == 0.5


def test_open_targets_are_not_judged() -> None:
    """A figure the model is known to miss (marked open; none is today, so one is marked
    here) does not weigh the futures."""
    shipped = load_targets()
    marked = [
        t.model_copy(update={"open": "known to be missed"}) if t.id == "amd_gpu_revenue_2025" else t
        for t in shipped.targets
    ]
    targets = dataclasses.replace(shipped, targets=tuple(marked))
    assert sum(1 for t in targets.targets if t.open) == 1
    draws = pd.DataFrame({"sample": [0], "seed": [3]})
    judged = judge_draws(draws, workers=1, targets=targets)
    assert set(judged.misses["target"]) == {t.id for t in targets.targets if not t.open}


def test_the_weighted_band_of_one_heavy_future_is_that_future() -> None:
    results, _ = run_futures(load_scenario("historical"), samples=3, seed=4, months=15)
    heavy = yearly_band(results, np.array([0.0, 1.0, 0.0]))
    alone = yearly_band(results[results["sample"] == 1])
    for q in (0.1, 0.5, 0.9):
        np.testing.assert_allclose(
            heavy[("gap (months)", q)].to_numpy(float),
            alone[("gap (months)", 0.5)].to_numpy(float),
        )


def test_run_weighted_prints_the_evidence_and_writes_the_weights(tmp_path: Path) -> None:
    out = tmp_path / "futures.csv"
    done = run_cli(
        "run",
        "--samples",
        "3",
        "--weighted",
        "--months",
        "6",
        "--workers",
        "1",
        "--out",
        out,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "Weighted by the record" in text
    assert "of the 3 futures" in text
    draws = pd.read_csv(tmp_path / "futures.draws.csv")
    assert draws["weight"].sum() == pytest.approx(1.0)
    assert (draws["weight"] >= 0).all()


@pytest.mark.parametrize(
    ("args", "needs"),
    [
        (("run", "--weighted"), "--samples"),
        (("report", "x.scgame", "--out", "r.html", "--weighted"), "--futures"),
    ],
)
def test_weighted_without_futures_is_refused(args: tuple[str, ...], needs: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert f"--weighted goes with {needs}" in done.stderr
    assert "Traceback" not in done.stderr
