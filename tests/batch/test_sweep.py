"""Sweeps: an interrupted sweep resumes to exactly the expected runs, every backend gives the
same tables for the same seeds, a run that raises is recorded while the others complete,
replication seeds are shared across policies, bad experiment files are refused clearly, and a
played game's decisions can be tested across many futures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from game.batch.sweep import SweepStore, run_sweep
from game.config.errors import InputError
from game.config.experiment import load_experiment
from game.sim.model import ChipWarModel
from tests.cli_helpers import ROOT, SMALL_EXPERIMENT, run_cli

SMALL = SMALL_EXPERIMENT


def _write(tmp_path: Path, text: str = SMALL, name: str = "small.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    experiments = pd.read_parquet(folder / "experiments.parquet").drop(columns="seconds")
    return experiments, pd.read_parquet(folder / "outcomes.parquet")


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """The small experiment run in one go, in this process: the reference tables."""
    tmp = tmp_path_factory.mktemp("clean")
    experiment = load_experiment(str(_write(tmp)))
    report = run_sweep(experiment, tmp / "out", workers=1)
    assert report.ran == report.total == 8 and report.failed == 0
    return (tmp, *_tables(tmp / "out"))


# ----------------------------------------------------------------------------- the design
def test_the_design_crosses_policies_draws_and_shared_seeds(tmp_path: Path) -> None:
    experiment = load_experiment(str(_write(tmp_path)))
    runs = experiment.runs()
    assert len(runs) == 2 * 2 * 2 and len({r.run_id for r in runs}) == 8
    seeds = {(r.draw, r.replication): set() for r in runs}
    for r in runs:
        seeds[r.draw, r.replication].add(r.seed)
    # common random numbers: one seed per replication, the same for every policy and draw
    assert all(len(s) == 1 for s in seeds.values())
    assert len({r.seed for r in runs}) == 2
    assert {dict(r.levers)["enforcement"] for r in runs} == {0.5, 3.0}
    draws = {dict(r.parameters)["smuggling_detection"] for r in runs}
    assert len(draws) == 2 and all(0.02 <= d <= 0.3 for d in draws)
    # the same file gives the same design in another load (no hidden global randomness)
    assert load_experiment(str(tmp_path / "small.yaml")).runs() == runs


def test_a_sobol_design_has_n_times_d_plus_2_draws(tmp_path: Path) -> None:
    text = SMALL.replace("design: lhs", "design: sobol").replace(
        "  smuggling_detection: [0.02, 0.3]",
        "  smuggling_detection: [0.02, 0.3]\n  broker_capacity_median_usd: [3000000, 60000000]",
    )
    experiment = load_experiment(str(_write(tmp_path, text.replace("samples: 2", "samples: 4"))))
    assert len(experiment.draws()) == 4 * (2 + 2)


def test_policies_differ_only_by_the_policy_under_common_seeds(
    clean_run: tuple[Path, pd.DataFrame, pd.DataFrame],
) -> None:
    _, experiments, outcomes = clean_run
    assert list(experiments["status"]) == ["ok"] * 8
    seeds = experiments.pivot_table(index=["draw", "replication"], columns="policy", values="seed")
    assert (seeds[0] == seeds[1]).all()
    # the policy matters: more enforcement, fewer smuggled chips delivered, paired by seed
    china = outcomes[outcomes["bloc"] == "china"].groupby("run_id")["chips_smuggled"].sum()
    e = experiments.set_index("run_id")
    low = china[e.index[e["policy"] == 0]].to_numpy()
    high = china[e.index[e["policy"] == 1]].to_numpy()
    assert low.sum() > high.sum()


# ----------------------------------------------------------------------------- resume
def test_an_interrupted_sweep_resumes_to_exactly_the_expected_runs(
    tmp_path: Path, clean_run: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    _, experiments, outcomes = clean_run
    experiment = load_experiment(str(_write(tmp_path)))
    folder = tmp_path / "out"
    first = run_sweep(experiment, folder, workers=1, limit=3)
    assert first.ran == 3 and first.experiments is None  # not compacted: the sweep is unfinished
    store = SweepStore(folder, experiment, lock=False)  # a reader
    assert len(store.done()) == 3
    # a crash between a run's outcome rows and its record: the run is not counted as done
    (folder / "runs" / "p0-d0-r0.json").unlink()
    assert len(store.done()) == 2
    second = run_sweep(experiment, folder, workers=1)
    assert second.already == 2 and second.ran == 6
    got_experiments, got_outcomes = _tables(folder)
    assert not got_experiments["run_id"].duplicated().any()
    blocs = got_outcomes["bloc"].nunique()
    assert got_outcomes.groupby("run_id")["step"].count().eq(8 * blocs).all()  # months x blocs
    pd.testing.assert_frame_equal(got_experiments, experiments)
    pd.testing.assert_frame_equal(got_outcomes, outcomes)
    assert list((folder / "runs").iterdir()) == []
    # a third time: nothing to do, nothing duplicated
    third = run_sweep(experiment, folder, workers=1)
    assert third.ran == 0 and third.already == 8
    pd.testing.assert_frame_equal(_tables(folder)[1], outcomes)


def test_a_folder_begun_by_an_earlier_version_resumes(
    tmp_path: Path, clean_run: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    """Runs saved as Parquet files (the per-run format before Arrow files) count as done and
    are gathered into the same tables: upgrading mid-sweep loses nothing."""
    _, experiments, outcomes = clean_run
    experiment = load_experiment(str(_write(tmp_path)))
    folder = tmp_path / "out"
    run_sweep(experiment, folder, workers=1, limit=3)
    arrow = sorted((folder / "runs").glob("*.arrow"))
    assert len(arrow) == 3
    for path in arrow:  # as an earlier version wrote them
        pd.read_feather(path).to_parquet(path.with_suffix(".parquet"), index=False)
        path.unlink()
    assert len(SweepStore(folder, experiment, lock=False).done()) == 3
    report = run_sweep(experiment, folder, workers=1)
    assert report.already == 3 and report.ran == 5
    pd.testing.assert_frame_equal(_tables(folder)[0], experiments)
    pd.testing.assert_frame_equal(_tables(folder)[1], outcomes)


def test_ctrl_c_on_the_command_line_loses_only_runs_in_flight(tmp_path: Path) -> None:
    """As a user does it: Ctrl-C in the terminal (SIGINT to the whole process group, workers
    included) part-way, then the same command again."""
    text = SMALL.replace("months: 8", "months: 60").replace("replications: 2", "replications: 5")
    path = _write(tmp_path, text)
    out = tmp_path / "out"
    command = [sys.executable, "main.py", "sweep", str(path), "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list(out.glob("runs/*.json"))) < 4 and proc.poll() is None:
        assert time.monotonic() < deadline, "the sweep never wrote a run"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    saved = {p.stem for p in out.glob("runs/*.json")}
    assert 4 <= len(saved) < 20
    assert not list(out.glob("runs/.*.tmp"))  # no half-written file left behind
    again = run_cli("sweep", path, "--workers", "2", "--out", out, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"20 runs: {len(saved)} already done, {20 - len(saved)} run now" in again.stdout
    experiment = load_experiment(str(path))
    run_sweep(experiment, tmp_path / "clean", workers=1)
    got, want = _tables(out), _tables(tmp_path / "clean")
    pd.testing.assert_frame_equal(got[0], want[0])
    pd.testing.assert_frame_equal(got[1], want[1])


def test_a_folder_of_another_experiment_is_refused(
    tmp_path: Path, clean_run: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    source, _, _ = clean_run
    edited = load_experiment(str(_write(tmp_path, SMALL.replace("seed: 7", "seed: 8"))))
    with pytest.raises(InputError, match="another experiment"):
        run_sweep(edited, source / "out", workers=1)


# ----------------------------------------------------------------------------- backends
def test_two_workers_and_a_local_dask_cluster_give_the_same_tables(
    tmp_path: Path, clean_run: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    _, experiments, outcomes = clean_run
    experiment = load_experiment(str(_write(tmp_path)))
    pool = run_sweep(experiment, tmp_path / "pool", workers=2)
    assert pool.ran == 8 and pool.failed == 0
    pd.testing.assert_frame_equal(_tables(tmp_path / "pool")[0], experiments)
    pd.testing.assert_frame_equal(_tables(tmp_path / "pool")[1], outcomes)
    dask = run_sweep(experiment, tmp_path / "dask", workers=2, backend="dask")
    assert dask.ran == 8 and dask.failed == 0
    pd.testing.assert_frame_equal(_tables(tmp_path / "dask")[0], experiments)
    pd.testing.assert_frame_equal(_tables(tmp_path / "dask")[1], outcomes)


def test_an_existing_dask_cluster_gives_the_same_tables(
    tmp_path: Path, clean_run: tuple[Path, pd.DataFrame, pd.DataFrame]
) -> None:
    """--scheduler ADDRESS: a cluster started elsewhere (here a local one, by its address)."""
    from distributed import LocalCluster

    _, experiments, outcomes = clean_run
    experiment = load_experiment(str(_write(tmp_path)))
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        report = run_sweep(
            experiment, tmp_path / "remote", backend="dask", scheduler=cluster.scheduler_address
        )
    assert report.ran == 8 and report.failed == 0
    pd.testing.assert_frame_equal(_tables(tmp_path / "remote")[0], experiments)
    pd.testing.assert_frame_equal(_tables(tmp_path / "remote")[1], outcomes)


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    result = run_cli(
        "sweep", "enforcement_vs_smuggling", "--backend", "dask", "--scheduler",
        "tcp://127.0.0.1:1", "--out", "/nonexistent-never-written", timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- failures
def test_a_failing_run_is_recorded_and_the_others_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ChipWarModel.__init__

    def fragile(self: ChipWarModel, *args: object, **kwargs: object) -> None:
        overrides = kwargs.get("overrides") or {}
        if overrides.get("enforcement") == 3.0 and overrides.get("smuggling_detection", 0) > 0.1:
            raise RuntimeError("the model broke here")
        original(self, *args, **kwargs)

    monkeypatch.setattr(ChipWarModel, "__init__", fragile)
    experiment = load_experiment(str(_write(tmp_path)))
    expected_failures = {
        r.run_id
        for r in experiment.runs()
        if dict(r.levers)["enforcement"] == 3.0 and dict(r.parameters)["smuggling_detection"] > 0.1
    }
    assert 0 < len(expected_failures) < 8
    report = run_sweep(experiment, tmp_path / "out", workers=1)
    assert report.ran == 8 and report.failed == len(expected_failures)
    experiments, outcomes = _tables(tmp_path / "out")
    failed = experiments[experiments["status"] == "error"]
    assert set(failed["run_id"]) == expected_failures
    assert failed["error"].str.contains("RuntimeError: the model broke here").all()
    assert set(outcomes["run_id"]) == set(experiments["run_id"]) - expected_failures


def test_a_sweep_whose_every_run_fails_still_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ChipWarModel, *args: object, **kwargs: object) -> None:
        raise ValueError("nothing works")

    monkeypatch.setattr(ChipWarModel, "__init__", broken)
    report = run_sweep(load_experiment(str(_write(tmp_path))), tmp_path / "out", workers=1)
    assert report.ran == report.failed == 8
    experiments = pd.read_parquet(tmp_path / "out" / "experiments.parquet")
    assert set(experiments["status"]) == {"error"}
    assert pd.read_parquet(tmp_path / "out" / "outcomes.parquet").empty


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("samples: 2", "samples: many"), 10, "samples: expected a whole number, got 'many'"),
        (("design: lhs", "design: latin"), 9, "design: expected one of 'grid', 'lhs' or"),
        (
            ("  smuggling_detection: [0.02, 0.3]", "  smuggling_detection: [0.3]"),
            8,
            "uncertainties.smuggling_detection: expected a range [low, high] or {values:",
        ),
        (
            ("  smuggling_detection: [0.02, 0.3]", "  smugling_detection: [0.02, 0.3]"),
            8,
            "uncertainties.smugling_detection: unknown parameter",
        ),
        (
            ("  smuggling_detection: [0.02, 0.3]", "  smuggling_detection: [0.3, 0.02]"),
            8,
            "expected [low, high] with low < high",
        ),
        (
            ("  enforcement: [0.5, 3.0]", "  enforcment: [0.5, 3.0]"),
            6,
            "did you mean 'enforcement'",
        ),
        (("months: 8", "month: 8"), 4, "unknown key (did you mean 'months'?)"),
        (("scenario: historical", "scenario: atlantis"), 3, "scenario: unknown scenario"),
    ],
)
def test_a_malformed_experiment_file_names_the_line_and_key(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    assert change[0] in SMALL
    path = _write(tmp_path, SMALL.replace(*change), "bad.yaml")
    with pytest.raises(InputError) as caught:
        load_experiment(str(path))
    text = str(caught.value)
    assert f"bad.yaml:{line}:" in text and message in text, text
    result = run_cli("sweep", path, "--out", tmp_path / "never")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "never").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args, message in [
        ((), "give an experiment file"),
        (("nonesuch",), "unknown experiment 'nonesuch'"),
        (("small", "--scheduler", "tcp://x:1"), "--scheduler needs --backend dask"),
        (("small", "--workers", "0"), "--workers"),
        (("small", "--samples", "64"), "--samples: is for --from-save"),
    ]:
        result = run_cli("sweep", *args)
        assert result.returncode == 2, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- the CLI
def test_the_cli_runs_resumes_and_writes_csv(tmp_path: Path) -> None:
    path = _write(tmp_path)
    out = tmp_path / "csv"
    result = run_cli("sweep", path, "--workers", "2", "--out", out, "--format", "csv", timeout=180)
    assert result.returncode == 0, result.stderr
    assert "8 runs: 0 already done, 8 run now (0 failed)" in result.stdout
    assert "small: 8/8 runs (0 failed)" in result.stderr  # progress lines when not a terminal
    assert f"Next: python main.py analyze {out}" in result.stdout
    experiments = pd.read_csv(out / "experiments.csv")
    assert len(experiments) == 8 and set(experiments["status"]) == {"ok"}
    assert not (out / "experiments.parquet").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["levers"] == ["enforcement"]
    assert manifest["uncertainties"] == ["smuggling_detection"]
    assert (out / "experiment.yaml").read_text() == SMALL
    again = run_cli("sweep", path, "--workers", "2", "--out", out, "--format", "csv")
    assert again.returncode == 0
    assert "8 runs: 8 already done, 0 run now" in again.stdout
    assert len(pd.read_csv(out / "experiments.csv")) == 8


def test_the_shipped_experiments_load() -> None:
    names = sorted(p.stem for p in (ROOT / "experiments").glob("*.yaml"))
    assert names == [
        "enforcement_vs_smuggling",
        "robust_policy",
        "sobol_uncertainty",
        "subsidy_embargo",
        "threshold_sweep",
    ]
    for name in names:
        experiment = load_experiment(name)
        assert experiment.runs(), name
        if experiment.spec.design != "sobol":  # a Sobol study holds the seed fixed
            assert experiment.spec.replications >= 2, name  # seeds are part of every study
    assert load_experiment("sobol_uncertainty").spec.design == "sobol"


# ----------------------------------------------------------------------------- from a game
@pytest.fixture(scope="module")
def played_game(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from game.play.session import GameSession

    session = GameSession("historical", ["us"])
    # The US player bans cloud access for China's labs and quadruples enforcement from the start:
    # tighter than history, which never banned renting abroad.
    session.decide("remote_access_controls", True)
    session.decide("enforcement", 4.0)
    for _ in range(3):
        session.step()
    path = tmp_path_factory.mktemp("game") / "mine.scgame"
    session.save(path)
    return path


def test_a_played_policy_is_tested_across_futures(tmp_path: Path, played_game: Path) -> None:
    from game.batch.robustness import describe, robustness

    table, summary = robustness(played_game, tmp_path / "rob", samples=2, replications=2)
    assert len(table) == 4 and set(table["status"]) == {"ok"}
    assert table["seed"].nunique() == 2  # the same two seeds under each draw
    # without rented clusters abroad and with fewer smuggled lots, China's labs train smaller
    # runs: the US role's objective (the lead in months) beats history's in most futures. Not
    # in every one: each future draws every uncertain parameter, and where scarcity speeds
    # China's efficiency more than the controls cost it compute, they narrow the gap
    beats = table["objective_played"] > table["objective_no_change"]
    assert beats.mean() >= 0.5
    assert table["objective_played"].median() > table["objective_no_change"].median()
    d = describe(table)
    assert d["ok"] == 4 and d["beats_no_change"] == beats.mean()
    text = summary.read_text()
    assert "enforcement" in text and "futures" in text
    from game.batch.robustness import by_role

    roles = by_role(table).set_index("role")
    assert list(roles.index) == ["us", "china", "vendor", "lab", "transit"]  # every side
    assert roles.loc["us", "better_off"] == d["beats_no_change"]
    pd.testing.assert_series_equal(table["us_played"], table["objective_played"], check_names=False)
    assert "## Every side's objective" in text and "| China's government |" in text
    again, _ = robustness(played_game, tmp_path / "rob2", samples=2, replications=2)
    pd.testing.assert_frame_equal(
        table.drop(columns="seconds"), again.drop(columns="seconds")
    )  # same save, same futures


def test_from_save_on_the_command_line(tmp_path: Path, played_game: Path) -> None:
    out = tmp_path / "rob"
    result = run_cli(
        "sweep", "--from-save", played_game, "--samples", "2", "--replications", "1",
        "--workers", "1", "--out", out, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 of 2 futures ran" in result.stdout and "beats doing nothing in" in result.stdout
    assert (out / "robustness.parquet").exists() and (out / "summary.md").exists()
    bad = tmp_path / "junk.scgame"
    bad.write_text("not a game")
    result = run_cli("sweep", "--from-save", bad, "--out", tmp_path / "x")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "junk.scgame" in result.stderr
    both = run_cli("sweep", "small", "--from-save", played_game)
    assert both.returncode == 2 and "not both" in both.stderr


def test_a_game_without_decisions_has_nothing_to_test(tmp_path: Path) -> None:
    from game.play.session import GameSession

    session = GameSession("historical", ["us"])
    session.step()
    path = tmp_path / "idle.scgame"
    session.save(path)
    result = run_cli("sweep", "--from-save", path, "--out", tmp_path / "x")
    assert result.returncode == 2
    assert "no decisions to test" in result.stderr


def test_the_readme_documents_the_sweep_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for text in ("main.py sweep", "main.py analyze", "--from-save", "--backend dask"):
        assert text in readme, text


def test_an_experiment_may_draw_every_uncertainty(tmp_path: Path) -> None:
    """`uncertainties: all`: every parameter a sampled future draws, but those the scenario or
    a lever sets, over its documented range; a grid of them is refused at its line."""
    from game.config.experiment import drawn_parameters

    text = SMALL.replace(
        "uncertainties:\n  smuggling_detection: [0.02, 0.3]\n", "uncertainties: all\n"
    )
    assert text != SMALL
    path = tmp_path / "small.yaml"
    path.write_text(text)
    experiment = load_experiment(str(path))
    drawn = experiment.spec.uncertainties
    assert set(drawn) == set(drawn_parameters())
    assert drawn["algo_doubling_months"] == [5.0, 14.0]
    values = [dict(d)["algo_doubling_months"] for d in experiment.draws()]
    assert len(set(values)) == experiment.spec.samples
    path.write_text(text.replace("design: lhs", "design: grid"))
    with pytest.raises(InputError, match=r"small\.yaml:\d+: uncertainties: 'all' draws"):
        load_experiment(str(path))
