"""`python main.py compare A B`: runs paired by seed, outcomes that moved beyond seed noise,
exit 0 / 1 / 2 (game/batch/compare.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.batch import compare as cmp
from game.batch.sweep import run_sweep
from game.cli import main
from game.config.experiment import load_experiment
from tests.cli_helpers import SMALL_EXPERIMENT, run_cli

SHORT = ["run", "--months", "14", "--seed", "5"]


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("runs")
    made = {
        "a": d / "a.parquet",
        "same": d / "same.csv",
        "enforced": d / "enforced.csv",
        "seed6": d / "seed6.csv",
    }
    main([*SHORT, "--out", str(made["a"])])
    main([*SHORT, "--out", str(made["same"])])
    main([*SHORT, "--set", "smuggling_detection=0.3", "--out", str(made["enforced"])])
    main(["run", "--months", "14", "--seed", "6", "--out", str(made["seed6"])])
    return made


def test_the_same_run_twice_moves_nothing(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, "compare", runs["a"], runs["same"])  # Parquet against CSV
    assert status == 0
    assert "Paired 1 run(s)." in out and "0 moved" in out
    assert "Nothing moved: every paired outcome is identical." in out


def test_a_changed_parameter_moves_outcomes_and_exits_1(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, "compare", runs["a"], runs["enforced"])
    assert status == 1
    assert "MOVED:" in out and "same seed, different result" in out
    assert re.search(r"smuggled_share\s+china\s+2023\s+1\s", out)
    assert "Rule: " in out


def test_different_seeds_do_not_pair(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = cli(capsys, "compare", runs["a"], runs["seed6"])
    assert status == 2
    assert "no run of B pairs" in err and "seed 5" in err and "seed 6" in err


def test_bad_input_is_one_message_and_exit_2(
    tmp_path: Path, runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("x,y\n1,2\n")
    cases = [
        (tmp_path / "missing.csv", "no such file or folder"),
        (other, "not a results file of `run --out`: no column date, step, bloc"),
        (tmp_path / "notes.txt", "expected a results file"),
        (tmp_path, "not a finished sweep folder"),
    ]
    (tmp_path / "notes.txt").write_text("hello")
    for path, message in cases:
        status, out, err = cli(capsys, "compare", runs["a"], path)
        assert status == 2, path
        assert message in err and str(path) in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and out == ""
    proc = run_cli("compare", runs["a"], "--k", "-1")
    assert proc.returncode == 2 and "expected a number above 0" in proc.stderr


def test_exit_status_of_the_real_command(runs: dict[str, Path]) -> None:
    assert run_cli("compare", runs["a"], runs["same"]).returncode == 0
    moved = run_cli("compare", runs["a"], runs["enforced"])
    assert moved.returncode == 1 and "MOVED" in moved.stdout
    bad = run_cli("compare", runs["a"], "nowhere.csv")
    assert bad.returncode == 2 and "nowhere.csv: no such file or folder" in bad.stderr


def test_sampled_futures_pair_by_sample_and_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for out in (a, b):
        main(["run", "--months", "3", "--samples", "3", "--workers", "1", "--out", str(out)])
    capsys.readouterr()
    status, out, _ = cli(capsys, "compare", a, b)
    assert status == 0 and "Paired 3 run(s)" in out
    assert cmp.load(a).outcomes["pair"].str.match(r"sample \d, seed \d+").all()
    status, _, err = cli(capsys, "compare", a, tmp_path)
    assert status == 2


# ----------------------------------------------------------------------------- sweep folders
@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("sweeps")
    out = {}
    for name, text in {
        "a": SMALL_EXPERIMENT,
        "b": SMALL_EXPERIMENT.replace("[0.5, 3.0]", "[0.5, 4.0]"),
    }.items():
        path = d / f"{name}.yaml"
        path.write_text(text.replace("months: 8", "months: 6"))
        out[name] = d / name
        run_sweep(load_experiment(str(path)), out[name], workers=1, fmt="parquet")
    return out


def test_sweeps_pair_by_policy_draw_and_seed(
    sweeps: dict[str, Path], runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, "compare", sweeps["a"], sweeps["a"])
    assert status == 0 and "Paired 8 run(s)" in out
    # B's second policy is another lever value: only the first pairs, the rest is named
    status, out, _ = cli(capsys, "compare", sweeps["a"], sweeps["b"])
    assert status == 0 and "Paired 4 run(s); 4 only in A" in out and "enforcement=3.0" in out
    status, _, err = cli(capsys, "compare", sweeps["a"], runs["a"])
    assert status == 2 and "cannot pair sweep results with run results" in err


# ----------------------------------------------------------------------------- the rule
def synthetic(values: np.ndarray, kind: str = "samples") -> cmp.Results:
    """One outcome cell with one value per pair."""
    n = len(values)
    table = pd.DataFrame(
        {
            "group": "",
            "pair": [f"sample {i}" for i in range(n)],
            "bloc": "china",
            "year": 2030,
            "outcome": "gap_months",
            "value": values,
        }
    )
    return cmp.Results(Path("x"), kind, table, None, n)


def verdict(a: np.ndarray, b: np.ndarray, **kw: float) -> str:
    result = cmp.compare(synthetic(a), synthetic(b), **kw)
    return str(result.table["verdict"].iloc[0])


def test_the_rule_tells_noise_from_a_move() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(10, 2, size=20)
    assert verdict(a, a.copy()) == "identical"
    assert verdict(a, a * (1 + 1e-12)) == "identical"  # float rounding only
    # a change that reshuffles the draws: paired differences as wide as the seeds
    assert verdict(a, rng.normal(10, 2, size=20)) == "within noise"
    # a shift far beyond the differences' standard error
    assert verdict(a, a + 3 + rng.normal(0, 0.5, size=20)) == "moved"
    # a constant shift, however small: the same seed must give the same bits
    assert verdict(a, a + 1e-6) == "moved"
    # one pair: no noise to allow for, any difference moves
    assert verdict(a[:1], a[:1] + 0.01) == "moved"
    # NaN on one side only
    b = a.copy()
    b[3] = np.nan
    assert verdict(a, b) == "moved"
    # --k: a fixed number of standard errors
    shifted = a + 0.6 + rng.normal(0, 1, size=20)
    assert verdict(a, shifted, k=1.0) == "moved"
    assert verdict(a, shifted, k=50.0) == "within noise"


def test_an_outcome_on_one_side_only_moves() -> None:
    a = synthetic(np.arange(3.0))
    b = synthetic(np.arange(3.0))
    extra = b.outcomes.assign(year=2031)
    b.outcomes = pd.concat([b.outcomes, extra], ignore_index=True)
    result = cmp.compare(a, b)
    moved = result.moved
    assert list(moved["year"]) == [2031] and moved["why"].iloc[0] == "on one side only"
