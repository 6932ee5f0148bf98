"""The analysis of a sweep folder: every figure and the summary are written for an LHS design with
failed runs, Sobol indices are computed in SALib's sample order, a single policy without
uncertainties in CSV tables is analyzed without a sensitivity plot, and folders that are not
finished sweeps are refused with a message naming the folder (and exit status 2 from the CLI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.batch.sweep import run_sweep
from game.config.errors import InputError
from game.config.experiment import load_experiment
from game.reports.analysis import FIGURES, analyze, load_sweep, run_metrics, sensitivity
from game.reports.analysis.metrics import METRICS
from game.sim.model import ChipWarModel
from tests.cli_helpers import SMALL_EXPERIMENT, run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PER_RUN = {"per_run.parquet", "per_run.csv"}

LHS = SMALL_EXPERIMENT.replace("name: small", "name: tiny_lhs")

SOBOL = """\
name: tiny_sobol
description: "Detectability against MFU, which moves every bloc alike."
scenario: historical
months: 12
uncertainties:
  smuggling_detection: [0.02, 0.3]
  mfu: [0.3, 0.5]
design: sobol
samples: 4
replications: 1
seed: 3
"""

PLAIN = """\
name: tiny_plain
description: "The scenario as it is, two seeds."
scenario: historical
months: 6
replications: 2
seed: 5
"""


def _sweep(tmp: Path, text: str, fmt: str = "parquet") -> Path:
    path = tmp / "experiment.yaml"
    path.write_text(text)
    out = tmp / "out"
    run_sweep(load_experiment(str(path)), out, workers=1, fmt=fmt)
    return out


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert len(data) > 10_000, f"{path} is suspiciously small ({len(data)} bytes)"
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 500


@pytest.fixture(scope="module")
def lhs_with_failures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """The LHS sweep with the runs of one policy and one draw made to fail."""
    tmp = tmp_path_factory.mktemp("lhs")
    experiment_path = tmp / "experiment.yaml"
    experiment_path.write_text(LHS)
    experiment = load_experiment(str(experiment_path))
    high = max(dict(r.parameters)["smuggling_detection"] for r in experiment.runs())
    failing = {
        r.run_id
        for r in experiment.runs()
        if dict(r.levers)["enforcement"] == 3.0
        and dict(r.parameters)["smuggling_detection"] == high
    }
    original = ChipWarModel.__init__

    def fragile(self: ChipWarModel, *args: object, **kwargs: object) -> None:
        overrides = kwargs.get("overrides") or {}
        if overrides.get("enforcement") == 3.0 and overrides.get("smuggling_detection") == high:
            raise RuntimeError("the model broke here\nsecond line of the message")
        original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ChipWarModel, "__init__", fragile)
        report = run_sweep(experiment, tmp / "out", workers=1)
    assert report.failed == len(failing) == 2
    return tmp / "out", failing


# ----------------------------------------------------------------------------- an LHS sweep
def test_every_figure_and_the_summary_are_written(lhs_with_failures: tuple[Path, set[str]]) -> None:
    folder, _ = lhs_with_failures
    written = analyze(folder)
    assert {p.name for p in written} == {*FIGURES, "summary.md", *PER_RUN}
    assert all(p.parent == folder / "analysis" for p in written)
    for name in FIGURES:
        _assert_png(folder / "analysis" / name)
    leftovers = [p.name for p in (folder / "analysis").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_per_run_table_holds_every_ok_run(lhs_with_failures: tuple[Path, set[str]]) -> None:
    folder, failing = lhs_with_failures
    analyze(folder)
    table = pd.read_parquet(folder / "analysis" / "per_run.parquet")
    assert list(table.columns) == [
        "run_id", "policy", "draw", "replication", "seed", "enforcement",
        "smuggling_detection", "final_date", *METRICS,
    ]
    assert set(table["run_id"]).isdisjoint(failing) and len(table) == 8 - len(failing)
    csv = pd.read_csv(folder / "analysis" / "per_run.csv")
    assert list(csv["seed"]) == list(table["seed"])


def test_the_charts_say_what_they_plot(lhs_with_failures: tuple[Path, set[str]]) -> None:
    """The smuggling chart is named for smuggling, not for a lever it may not plot; the
    trade-offs chart does not call all vendors' revenue a US objective."""
    import inspect

    from game.reports.analysis import plots

    assert "smuggling.png" in FIGURES and "smuggling_vs_enforcement.png" not in FIGURES
    source = inspect.getsource(plots.tradeoffs_plot)
    assert "US objectives" not in source and "Huawei included" in source


def test_the_summary_names_policies_and_failed_runs(
    lhs_with_failures: tuple[Path, set[str]],
) -> None:
    folder, failing = lhs_with_failures
    analyze(folder)
    text = (folder / "analysis" / "summary.md").read_text()
    assert "# Sweep analysis: tiny_lhs" in text
    assert "Two enforcement levels" in text
    assert "| enforcement=0.5 | 4 |" in text  # all four of its runs ok
    assert "| enforcement=3 | 2 |" in text  # two of its four failed
    assert "Runs: 6 ok, 2 failed" in text
    for run_id in failing:
        assert f"`{run_id}`: RuntimeError: the model broke here" in text
    assert "second line of the message" not in text  # only the first line of an error
    # two draws of detectability: too few to rank what the outcomes hinge on, and it says so
    assert "Not ranked: the sweep drew its uncertain parameters 2 times" in text
    assert "`enforcement`" not in text.split("## Sensitivity")[1].split("## ")[0]
    for name in FIGURES:
        assert f"]({name})" in text


def test_failed_runs_are_left_out_of_the_metrics(lhs_with_failures: tuple[Path, set[str]]) -> None:
    folder, failing = lhs_with_failures
    sweep = load_sweep(folder)
    metrics = run_metrics(sweep)
    assert len(metrics) == 6 and not set(metrics["run_id"]) & failing
    outcomes = pd.read_parquet(folder / "outcomes.parquet")
    china = outcomes[(outcomes["bloc"] == "china") & outcomes["run_id"].isin(metrics["run_id"])]
    smuggled = china.groupby("run_id")["chips_smuggled"].sum()
    assert metrics.set_index("run_id")["smuggled"].to_dict() == smuggled.astype(float).to_dict()
    final = china[china["step"] == china["step"].max()].set_index("run_id")["gap_months"]
    assert np.allclose(metrics.set_index("run_id")["final_gap"].loc[final.index], final)


# ----------------------------------------------------------------------------- a Sobol sweep
def test_sobol_indices_follow_salibs_sample_order(tmp_path: Path) -> None:
    from SALib.analyze import sobol

    folder = _sweep(tmp_path, SOBOL)
    sweep = load_sweep(folder)
    metrics = run_metrics(sweep)
    result = sensitivity(sweep, metrics)
    assert result.method == "sobol" and result.base_samples == 4
    table = result.table.set_index(["outcome", "factor"])
    assert np.isfinite(table[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    # the same indices as SALib on the draws in order, with the experiment's own problem
    experiment = load_experiment(str(tmp_path / "experiment.yaml"))
    y = metrics.sort_values("draw")["smuggled"].to_numpy(float)
    assert len(y) == len(experiment.draws()) == 4 * (2 + 2)
    direct = sobol.analyze(experiment.salib_problem(), y, calc_second_order=False, seed=3)
    for i, name in enumerate(experiment.salib_problem()["names"]):
        assert table.loc[("smuggled", name), "ST"] == pytest.approx(direct["ST"][i])
        assert table.loc[("smuggled", name), "S1"] == pytest.approx(direct["S1"][i])
    # MFU scales every bloc alike and does not touch the gray market
    assert table.loc[("smuggled", "mfu"), "ST"] == pytest.approx(0, abs=1e-9)
    assert table.loc[("smuggled", "smuggling_detection"), "ST"] > 0.05

    analyze(folder)
    _assert_png(folder / "analysis" / "sensitivity.png")
    text = (folder / "analysis" / "summary.md").read_text()
    assert "Sobol indices (SALib, N = 4 base samples" in text
    assert "chips smuggled into China (cumulative): most sensitive to `smuggling_detection`" in text


# ----------------------------------------------------------------------------- CSV, one policy
def test_a_csv_sweep_of_one_policy_without_uncertainties(tmp_path: Path) -> None:
    folder = _sweep(tmp_path, PLAIN, fmt="csv")
    assert (folder / "experiments.csv").exists() and not (folder / "outcomes.parquet").exists()
    written = analyze(folder)
    names = {p.name for p in written}
    assert names == {*FIGURES, "summary.md", *PER_RUN} - {"sensitivity.png"}
    for name in names - {"summary.md", *PER_RUN}:
        _assert_png(folder / "analysis" / name)
    text = (folder / "analysis" / "summary.md").read_text()
    assert "(csv tables)" in text
    assert "1 policy x 1 draw x 2 replications = 2 runs" in text
    assert "Runs: 2 ok, 0 failed" in text
    assert "No uncertain parameter was varied" in text
    assert "](sensitivity.png)" not in text and "## Failed runs" not in text


# ----------------------------------------------------------------------------- refusals
def test_an_empty_folder_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        analyze(tmp_path)
    assert str(tmp_path) in str(caught.value) and "manifest.json" in str(caught.value)
    assert not (tmp_path / "analysis").exists()
    with pytest.raises(InputError, match="no such folder"):
        analyze(tmp_path / "missing")


def test_the_cli_exits_2_on_an_empty_folder(tmp_path: Path) -> None:
    result = run_cli("analyze", tmp_path)
    assert result.returncode == 2
    assert str(tmp_path) in result.stderr and "manifest.json" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_an_uncompacted_sweep_says_to_run_it_again(tmp_path: Path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(PLAIN)
    run_sweep(load_experiment(str(path)), tmp_path / "out", workers=1, limit=1)
    assert list((tmp_path / "out" / "runs").glob("*.json"))
    with pytest.raises(InputError) as caught:
        analyze(tmp_path / "out")
    message = str(caught.value)
    assert str(tmp_path / "out") in message
    assert "interrupted" in message and "sweep' command again" in message


def test_a_folder_without_outcomes_is_refused(tmp_path: Path) -> None:
    folder = _sweep(tmp_path, PLAIN)
    (folder / "outcomes.parquet").unlink()
    with pytest.raises(InputError, match="no outcomes table"):
        analyze(folder)


def test_a_sweep_where_every_run_failed_gets_a_summary(tmp_path: Path) -> None:
    # The tables as compaction would leave them (every run an error, outcomes with no rows);
    # made by hand because SweepStore.compact cannot yet sort an outcomes table without rows.
    folder = _sweep(tmp_path, PLAIN)
    experiments = pd.read_parquet(folder / "experiments.parquet")
    experiments["status"] = "error"
    experiments["error"] = "ValueError: nothing works"
    experiments.to_parquet(folder / "experiments.parquet", index=False)
    pd.DataFrame(columns=["run_id"]).to_parquet(folder / "outcomes.parquet", index=False)
    (folder / "analysis").mkdir()
    (folder / "analysis" / "gap_by_policy.png").write_bytes(b"stale")
    written = analyze(folder)
    assert [p.name for p in written] == ["summary.md"]
    assert not (folder / "analysis" / "gap_by_policy.png").exists()  # no stale figure
    text = written[0].read_text()
    assert "Runs: 0 ok, 2 failed" in text and "ValueError: nothing works" in text
    assert "No run succeeded" in text
