"""`python main.py search EXPERIMENT`: bad input is one message and exit 2; a search writes its
set, charts and scenario files that `run` loads; Ctrl-C saves, leaves no process, resumes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.batch.helpers import descendants, wait_gone
from tests.batch.test_search import TINY
from tests.cli_helpers import ROOT, run_cli


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("old", "new", "where", "says"),
    [
        (
            "    enforcement: {range",
            "    enforcment: {range",
            "search.levers.enforcment",
            "unknown",
        ),
        ("{range: [0.25, 4.0]}", "{range: [4.0, 0.25]}", "search.levers.enforcement", "low < high"),
        ("{range: [0.25, 4.0]}", "{range: [0.25, 40.0]}", "search.levers.enforcement", "expected"),
        ("nfe: 24", "nfe: 4", "search.nfe", "expected nfe >= population"),
        (
            "china_compute: mean",
            "china_compute: median",
            "search.robustness.china_compute",
            "unknown robustness measure",
        ),
        (
            "{smuggled_total: 1, china_compute: 1}",
            "{smuggled_total: 1}",
            "search.epsilons",
            "no epsilon for outcome 'china_compute'",
        ),
        ("  seed: 5\n", "  seed: 5\n  futures: 0\n", "search.futures", "expected a value >= 1"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(
    tmp_path: Path, old: str, new: str, where: str, says: str
) -> None:
    assert old in TINY
    text = TINY.replace(old, new)
    if "futures: 0" in new:
        text = text.replace("  futures: 3\n", "")
    done = run_cli("search", write(tmp_path, text), "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert where in done.stderr and says in done.stderr, done.stderr
    assert f"{tmp_path / 'exp.yaml'}:" in done.stderr  # the file and its line


def test_an_experiment_without_a_search_section(tmp_path: Path) -> None:
    text = TINY.split("\nsearch:")[0]
    done = run_cli("search", write(tmp_path, text), "--out", tmp_path / "out")
    assert done.returncode == 2 and "no `search:` section" in done.stderr, done.stderr


def test_a_search_writes_its_set_and_runs_a_policy(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli("search", write(tmp_path, TINY), "--out", out, "--workers", "2", timeout=180)
    assert done.returncode == 0, done.stderr
    for name in ("pareto.csv", "convergence.csv", "convergence.png", "parallel.png"):
        assert (out / name).stat().st_size > 0
    pareto = pd.read_csv(out / "pareto.csv")
    policy = out / "policies" / f"{pareto['policy'].iloc[0]}.yaml"
    ran = run_cli("run", policy, "--months", "4")
    assert ran.returncode == 0, ran.stderr
    assert "Scenario: tiny_search_policy_00" in ran.stdout
    # the search again from its provenance: the same Pareto set, from the folder or the file
    for target in (out, out / "pareto.csv"):
        again = run_cli("reproduce", target, "--workers", "2", timeout=180)
        assert again.returncode == 0 and "IDENTICAL" in again.stdout, again.stdout + again.stderr
    moved = pareto.copy()
    moved.iloc[0, moved.columns.get_loc("smuggled_total")] += 1.0
    moved.to_csv(out / "pareto.csv", index=False)
    again = run_cli("reproduce", out, "--workers", "2", timeout=180)
    assert again.returncode == 1 and "DIFFERENT" in again.stdout, again.stdout + again.stderr
    assert "smuggled_total: moves by up to 1 " in again.stdout, again.stdout
    # the same folder for another experiment: refused
    other = write(tmp_path, TINY.replace("seed: 5", "seed: 8"))
    again = run_cli("search", other, "--out", out)
    assert again.returncode == 2 and "holds a search of another experiment" in again.stderr


def test_ctrl_c_saves_leaves_no_process_and_resumes(tmp_path: Path) -> None:
    text = TINY.replace("months: 6", "months: 18").replace("nfe: 24", "nfe: 40")
    exp, out = write(tmp_path, text), tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "main.py", "search", str(exp), "--out", str(out), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stderr:  # wait for a whole generation, then some runs of the next
            if "generation 1," in line:
                break
        time.sleep(1.0)
        workers = descendants(proc.pid)
        assert workers, "expected worker processes"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    assert wait_gone(workers, 10) == []
    assert (out / "checkpoint.pkl").exists() and not (out / "pareto.csv").exists()
    done = run_cli("search", exp, "--out", out, "--workers", "2", timeout=240)
    assert done.returncode == 0, done.stderr
    conv = pd.read_csv(out / "convergence.csv")
    assert conv["nfe"].iloc[0] == 8 and conv["nfe"].iloc[-1] >= 40
    assert "generation 1," not in done.stderr  # resumed after it, not started again


def test_a_search_file_given_to_sweep_says_to_search() -> None:
    res = run_cli("sweep", "robust_policy")
    assert res.returncode == 2
    assert "python main.py search robust_policy" in res.stderr and "Traceback" not in res.stderr
