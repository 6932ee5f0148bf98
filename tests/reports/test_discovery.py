"""Scenario discovery and the per-run table on sweep folders made by hand, where the answer is
known: the condition holds exactly when lever x > 0.5, so PRIM's box must bound x near 0.5 and
leave the noise input alone. And every way discover refuses, with one message (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.config.errors import InputError
from game.reports.analysis import per_run_table
from game.reports.analysis.discovery import MIN_RUNS, discover, summary_text, write_discovery
from game.reports.analysis.metrics import METRICS
from game.reports.analysis.runs import load_with_outcomes
from tests.cli_helpers import run_cli

EXPERIMENT = """\
name: synthetic
description: "Made by hand."
scenario: historical
levers:
  x: [0, 1]
outcomes:
  - name: signal
    description: "the signal is on"
    expression: chips_smuggled * 2
    aggregate: sum
    direction: minimize
"""


def synthetic_sweep(folder: Path, n: int = 80, seed: int = 1, noise_values: int = 0) -> Path:
    """n runs, x and noise uniform in [0, 1]; China smuggles 1 chip a month when x > 0.5."""
    rng = np.random.default_rng(seed)
    x, noise = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    if noise_values:  # a design that drew the uncertainty only that many times
        noise = np.floor(noise * noise_values) / noise_values
    folder.mkdir(parents=True)
    manifest = {
        "experiment": {"name": "synthetic", "design": "lhs", "policies": n, "draws": 1},
        "levers": ["x"],
        "uncertainties": ["noise"],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "experiment.yaml").write_text(EXPERIMENT)
    ids = [f"p{i}-d0-r0" for i in range(n)]
    pd.DataFrame(
        {
            "run_id": ids,
            "policy": range(n),
            "draw": 0,
            "replication": 0,
            "seed": 100 + np.arange(n),
            "x": x,
            "noise": noise,
            "status": "ok",
            "error": "",
            "seconds": 0.1,
        }
    ).to_parquet(folder / "experiments.parquet")
    rows = []
    for i, run in enumerate(ids):
        for step, date in ((1, "2022-10"), (2, "2022-11")):
            for bloc in ("us", "china"):
                china = bloc == "china"
                rows.append(
                    {
                        "run_id": run,
                        "date": date,
                        "step": step,
                        "bloc": bloc,
                        "frontier_capability": 50.0 - 5 * china,
                        "gap_months": 10.0 * x[i] * china,
                        "chips_smuggled": int(china and x[i] > 0.5),
                        "chips_seized": 0,
                        "gray_price_usd": 30000.0,
                        "vendor_revenue_usd": 1e9,
                    }
                )
    pd.DataFrame(rows).to_parquet(folder / "outcomes.parquet")
    return folder


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_sweep(tmp_path_factory.mktemp("disc") / "sweep")


def test_the_per_run_table_has_design_inputs_and_every_outcome(sweep_dir: Path) -> None:
    sweep, own = load_with_outcomes(sweep_dir)
    table = per_run_table(sweep, own)
    assert list(table.columns) == [
        "run_id",
        "policy",
        "draw",
        "replication",
        "seed",
        "x",
        "noise",
        "final_date",
        *METRICS,
        "signal",
    ]
    assert len(table) == 80
    x = table["x"].to_numpy()
    assert (table["signal"].to_numpy() == np.where(x > 0.5, 4.0, 0.0)).all()  # 2 months x 2
    assert (table["seed"] == 100 + table["policy"]).all()


def test_prim_bounds_x_near_a_half_and_leaves_the_noise(sweep_dir: Path) -> None:
    found = discover(sweep_dir, "signal > 1")
    limits = {lim["input"]: lim for lim in found.prim.limits}
    assert set(limits) == {"x"}
    assert 0.4 <= limits["x"]["lower"] <= 0.6
    assert found.prim.density == 1.0 and found.prim.coverage >= 0.8
    best = found.cart[0]
    assert best.density == 1.0 and [lim["input"] for lim in best.limits] == ["x"]


def test_the_summary_says_the_box_in_words_and_files_are_written(sweep_dir: Path) -> None:
    found = discover(sweep_dir, "final_gap >= 5")
    written = write_discovery(found, sweep_dir)
    names = {p.name for p in written}
    assert names == {
        "summary.md",
        "prim_trajectory.csv",
        "prim_box.csv",
        "cart_boxes.csv",
        "prim_tradeoff.png",
    }
    text = (sweep_dir / "discovery" / "final_gap_ge_5" / "summary.md").read_text()
    assert "final_gap >= 5 in 100% of the runs where x >= 0." in text
    assert "(coverage 100%, density 100%" in text
    png = (sweep_dir / "discovery" / "final_gap_ge_5" / "prim_tradeoff.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("bogus > 1", "unknown outcome 'bogus'; expected one of: final_gap,"),
        ("signal > 100", "no run of 80 has signal > 100 (its values run from 0 to 4)"),
        ("signal > -1", "every run of 80 has signal > -1"),
        ("signal = 1", "--where: expected OUTCOME < VALUE or OUTCOME > VALUE"),
    ],
)
def test_discover_refuses_with_one_message(sweep_dir: Path, where: str, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        discover(sweep_dir, where)
    assert expected in str(exc.value)


def test_few_draws_of_the_uncertainties_are_a_caution(tmp_path: Path, sweep_dir: Path) -> None:
    folder = synthetic_sweep(tmp_path / "few_draws", n=40, noise_values=4)
    found = discover(folder, "signal > 1")
    assert "**Caution**: only 4 distinct draws of 1 uncertain parameters" in summary_text(
        found, folder
    )
    assert "Caution" not in summary_text(discover(sweep_dir, "signal > 1"), sweep_dir)


def test_too_few_runs_says_how_many_are_needed(tmp_path: Path) -> None:
    folder = synthetic_sweep(tmp_path / "few", n=12)
    with pytest.raises(InputError) as exc:
        discover(folder, "signal > 1")
    assert (
        f"needs at least {MIN_RUNS} successful runs with a value of signal; this sweep has 12"
        in str(exc.value)
    )


def test_the_cli_exits_2_with_one_line_for_a_folder_that_is_not_a_sweep(tmp_path: Path) -> None:
    done = run_cli("discover", tmp_path, "--where", "final_gap < 3")
    assert done.returncode == 2
    assert "no manifest.json; expected a folder written by 'python main.py sweep'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_cli_prints_the_summary(sweep_dir: Path) -> None:
    done = run_cli("discover", sweep_dir, "--where", "signal > 1", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "signal > 1 (the signal is on) in 100% of the runs where x >= 0." in done.stdout


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_restrictions_no_better_than_chance_are_dropped(seed: int) -> None:
    """60 runs of one signal and eight noise inputs, 15% of the labels flipped: the densest box
    on PRIM's trajectory restricts noise as well as the signal; the reported one keeps the
    signal alone (quasi-p of the noise above 0.05)."""
    import warnings

    from game.reports.analysis.discovery import _drop_chance_restrictions, _ema

    prim, _ = _ema()
    rng = np.random.default_rng(seed)
    n = 60
    x = pd.DataFrame(
        {"x": rng.uniform(0, 1, n), **{f"noise{k}": rng.uniform(0, 1, n) for k in range(8)}}
    )
    y = (x["x"].to_numpy() > 0.5) ^ (rng.uniform(0, 1, n) < 0.15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(x, y.astype(int), threshold=float(y.mean())).find_box()
    densest = int(box.peeling_trajectory["density"].idxmax())
    assert set(box.qp[densest]) > {"x"}, "the densest box should restrict noise too"
    final, dropped = _drop_chance_restrictions(box, densest)
    assert set(box.qp[final]) == {"x"}
    assert dropped and all(name.startswith("noise") for name in dropped)
