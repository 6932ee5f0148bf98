"""Hostile input files: each is refused with one message naming the file (and the line and key
where there is one) and exit status 2, quickly and in bounded memory, never with a traceback,
a hang or a file written where it should not be. README.md's "Limits" lists every limit."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.test_bad_input import VALID, rejected
from tests.cli_helpers import ROOT, SMALL_EXPERIMENT, run_cli


def _laughs(levels: int) -> str:
    """A YAML bomb: each level is a list of nine aliases to the one before."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    text = "name: bomb\ndescription: d\n" + _laughs(9)
    path.write_text(text, encoding="utf-8")
    assert len(text) < 1000
    started = time.perf_counter()
    err = rejected("sweep", path)
    assert time.perf_counter() - started < 20
    assert "aliases" in err and "200,000" in err
    assert len(err) < 600, err


def test_a_large_value_is_cut_short_in_the_message(tmp_path: Path) -> None:
    """Under the alias limit, a wrong value is still quoted in one short line."""
    path = tmp_path / "big.yaml"
    path.write_text(
        "name: big\ndescription: d\n" + _laughs(4).replace("a3: &a3", "uncertainties:\n  x: &a3"),
        encoding="utf-8",
    )
    err = rejected("sweep", path)
    assert "uncertainties.x: expected a range" in err
    assert "chars)" in err and max(len(line) for line in err.splitlines()) < 300, err


def test_nesting_500_deep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(VALID + "parameters:\n  x: " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    err = rejected("run", path)
    assert "deep.yaml:8" in err and "nested more than 64 levels deep" in err


def test_deep_mapping_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(VALID + "parameters: " + "{a: " * 500 + "1" + "}" * 500 + "\n")
    assert "nested more than 64 levels deep" in rejected("run", path)


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(VALID + "end: 2024-03\n", encoding="utf-8")
    err = rejected("run", path)
    assert "dup.yaml:7: end: duplicate key (first on line 4)" in err


def test_duplicate_keys_in_a_schedule_entry(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(VALID.replace("value: oct2022}", "value: oct2022, value: oct2023}"))
    assert "dup.yaml:6: schedule[0].value: duplicate key" in rejected("run", path)


# ----------------------------------------------------------------------------- runs cap
def test_a_huge_design_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    """10^3 policies x 100,000 samples x 10,000 replications: refused at once."""
    levers = "\n".join(
        f"  {lever}: [{', '.join(str(v / 10) for v in range(10))}]"
        for lever in ("enforcement", "transit_pressure", "domestic_subsidy")
    )
    path = tmp_path / "grid.yaml"
    path.write_text(
        f"name: grid\ndescription: d\nlevers:\n{levers}\n"
        "uncertainties:\n  smuggling_detection: [0.02, 0.3]\n"
        "design: lhs\nsamples: 100000\nreplications: 10000\n",
        encoding="utf-8",
    )
    err = rejected("sweep", path, "--out", tmp_path / "out")
    assert "grid.yaml:11: replications:" in err
    assert "1,000,000,000,000 runs" in err and "--max-runs N" in err
    assert not (tmp_path / "out").exists()


def test_max_runs_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_EXPERIMENT, encoding="utf-8")
    err = rejected("sweep", path, "--max-runs", "7", "--out", tmp_path / "out")
    assert "small.yaml:11: replications: the design makes 8 runs" in err
    assert "the most an experiment may make is 7" in err
    assert not (tmp_path / "out").exists()
    assert "expected a number of runs" in rejected("sweep", path, "--max-runs", "0")


def test_from_save_futures_are_capped() -> None:
    err = rejected("sweep", "--from-save", "x.scgame", "--samples", "100000", "--replications", "9")
    assert "900,000 futures" in err and "--max-runs" in err


def test_sweep_checks_its_folder_before_printing(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_EXPERIMENT, encoding="utf-8")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    err = rejected("sweep", path, "--out", blocker)
    assert "is a file, expected a folder" in err


# ----------------------------------------------------------------------------- extends loops
@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_extends_loop_through_paths(tmp_path: Path, how: str) -> None:
    def ref(name: str) -> str:
        p = tmp_path / name
        return str(p) if how == "absolute" else os.path.relpath(p, ROOT)

    (tmp_path / "a.yaml").write_text(f"name: a\ndescription: d\nextends: {ref('b.yaml')}\n")
    (tmp_path / "b.yaml").write_text(f"name: b\ndescription: d\nextends: {ref('a.yaml')}\n")
    err = rejected("run", tmp_path / "a.yaml")
    assert "b.yaml:3: extends: scenarios extend each other in a loop: a -> b ->" in err


def test_a_file_extending_its_own_path(tmp_path: Path) -> None:
    path = tmp_path / "self.yaml"
    path.write_text(f"name: s\ndescription: d\nextends: {path}\n")
    assert "self.yaml:3: extends: scenarios extend each other in a loop" in rejected("run", path)


def test_a_long_extends_chain_is_refused(tmp_path: Path) -> None:
    for i in range(40):
        parent = f"extends: {tmp_path / f's{i + 1}.yaml'}\n" if i < 39 else VALID[15:]
        (tmp_path / f"s{i}.yaml").write_text(f"name: s{i}\ndescription: d\n{parent}")
    assert "more than 16 scenarios extend one another" in rejected("run", tmp_path / "s0.yaml")


def test_extends_loop_through_an_experiment_and_a_lesson(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.write_text(f"name: loop\ndescription: d\nextends: {loop}\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"name: exp\ndescription: d\nscenario: {loop}\n")
    assert "exp.yaml:3: scenario:" in rejected("sweep", exp) and "loop" in rejected("sweep", exp)
    lesson = tmp_path / "lesson.yaml"
    lesson.write_text(
        f"name: lesson\ntitle: t\nsummary: s\nscenario: {loop}\nroles: [us]\nquestions: [q]\n"
    )
    (tmp_path / "lesson.md").write_text("# t\n")
    err = rejected("play", "--lesson", lesson, "--screenshot", tmp_path / "x.png")
    assert "in a loop" in err


# ----------------------------------------------------------------------------- names, dates
def test_experiment_name_cannot_leave_the_sweeps_folder(tmp_path: Path) -> None:
    path = tmp_path / "escape.yaml"
    name = "../" * 8 + str(tmp_path / "escaped").lstrip("/")
    path.write_text(SMALL_EXPERIMENT.replace("name: small", f"name: {name}"), encoding="utf-8")
    err = rejected("sweep", path)
    assert "escape.yaml:1: name: expected a plain name" in err
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("year", ["0001", "1990", "4000", "9999"])
def test_start_outside_the_world_data(tmp_path: Path, year: str) -> None:
    path = tmp_path / "when.yaml"
    path.write_text(
        VALID.replace("start: 2022-10", f"start: {year}-01")
        .replace("end: 2023-03", f"end: {year}-06")
        .replace("date: 2022-10", f"date: {year}-01"),
        encoding="utf-8",
    )
    err = rejected("run", path)
    assert "when.yaml:3: start: expected a month from 2022-10 to 2030-12" in err
    assert f"got {year}-01" in err


# ----------------------------------------------------------------------------- file size, kinds
def test_a_large_scenario_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "large.yaml"
    entry = "  - {date: 2022-11, actor: us, lever: enforcement, value: 2}\n"
    path.write_text(VALID + entry * 40_000, encoding="utf-8")
    started = time.perf_counter()
    err = rejected("run", path)
    assert time.perf_counter() - started < 20
    assert "large.yaml: is 2," in err and "the most a YAML file may hold is 1,000,000 bytes" in err


def test_a_device_is_refused_without_reading_it() -> None:
    err = rejected("run", "/dev/zero")
    assert "/dev/zero: is not a regular file" in err


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    started = time.perf_counter()
    assert "is not a regular file" in rejected("run", fifo)
    assert "is not a regular file" in rejected("report", fifo, "--out", tmp_path / "r.html")
    assert time.perf_counter() - started < 30


# ----------------------------------------------------------------------------- reports
@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("results") / "r.csv"
    proc = run_cli("run", "--months", "3", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return pd.read_csv(out, dtype=str)


def test_report_draws_mathtext_as_plain_text(tmp_path: Path, results: pd.DataFrame) -> None:
    table = results.copy()
    table.loc[table["bloc"] == "us", "bloc"] = "$\\frac{$"
    table.to_csv(tmp_path / "math.csv", index=False)
    proc = run_cli("report", tmp_path / "math.csv", "--out", tmp_path / "r.html", timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.html").is_file()


def test_report_baseline_keeps_the_horizon(tmp_path: Path, results: pd.DataFrame) -> None:
    table = results.copy()
    last = table.index[table["bloc"] == "china"][-1]
    table.loc[last, "date"] = "2160-01"
    table.to_csv(tmp_path / "late.csv", index=False)
    err = rejected("report", tmp_path / "late.csv", "--out", tmp_path / "r.html")
    assert "late.csv: the table runs to 2160-01" in err and "at most 1200 months" in err
    assert not (tmp_path / "r.html").exists()


def test_chip_counts_that_would_wrap_stop_the_run_with_a_message(tmp_path: Path) -> None:
    """Item 1: a budget growing 60% a year for sixty years made int64 chip counts wrap round to
    negative compute (exit 0). The run now stops before that, says why, and writes nothing."""
    out = tmp_path / "x.csv"
    done = run_cli(
        "run", "--months", "900", "--set", "budget_growth_long_run=1.6", "--out", out, timeout=120
    )
    assert done.returncode == 2
    assert "more than the model can count exactly" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
