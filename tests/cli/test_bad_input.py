"""Bad input on the command line: a bad scenario file, a bad flag, an unknown name. Each must
exit with status 2 and one clear message on stderr (for files: the file, the line and the key
path), never a traceback, and never leave a half-written (or any) results file behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

SCENARIOS = ["domestic_push", "historical", "leaky_enforcement", "no_controls", "total_embargo"]

VALID = """\
name: t
description: test
start: 2022-10
end: 2023-03
schedule:
  - {date: 2022-10, actor: us, lever: export_rule, value: oct2022}
"""
# Appending a line to VALID adds schedule entry [1] on line 7.
EXTRA = "  - {{date: {date}, actor: us, lever: {lever}, value: {value}{target}}}\n"


def entry(lever: str = "enforcement", value: str = "2", date: str = "2022-11", target: str = ""):
    return VALID + EXTRA.format(
        date=date, lever=lever, value=value, target=f", target: {target}" if target else ""
    )


def rejected(*args: str | Path) -> str:
    """Run, require exit status 2 with one error message and no traceback; return stderr."""
    proc = run_cli(*args)
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    assert proc.returncode == 2, both
    assert proc.stdout == "", "nothing is printed to stdout for rejected input"
    assert proc.stderr.startswith("python main.py"), proc.stderr
    assert proc.stderr.count("error:") == 1, proc.stderr
    return proc.stderr


def test_minimal_valid_scenario_runs(tmp_path: Path) -> None:
    """The base of every bad file below is itself good, so each case fails for its own reason."""
    path = tmp_path / "good.yaml"
    path.write_text(entry(), encoding="utf-8")
    out = tmp_path / "out.csv"
    proc = run_cli("run", path, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Scenario: t - test" in proc.stdout
    assert "6 months from 2022-10 to 2023-03" in proc.stdout
    assert out.is_file()


# ----------------------------------------------------------------------------- bad scenario files
# (id, file text, line, key path or None, regexes the message must match)
FILE_CASES = [
    pytest.param(
        VALID.replace("value: oct2022}", "value: oct2022")
        + "  - {date: 2022-11, actor: us, lever: enforcement, value: 2}\n",
        r"(6|7)",  # the unclosed '{' opens on line 6; the parser notices on line 7
        None,
        [r"malformed YAML"],
        id="malformed-yaml-unclosed-bracket",
    ),
    pytest.param(
        VALID.replace("schedule:", "shedule:"),
        "5",
        "shedule",
        [r"unknown key", r"did you mean 'schedule'\?"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        VALID.replace("value: oct2022}", "value: oct2022, colour: red}"),
        "6",
        r"schedule\[0\]\.colour",
        [r"unknown key", r"date, actor, lever, value, target, news"],
        id="unknown-key-in-schedule-entry",
    ),
    pytest.param(
        entry(value='"high"'),
        "7",
        r"schedule\[1\]\.value",
        [r"expected a number", r"'high'"],
        id="text-for-numeric-lever",
    ),
    pytest.param(
        VALID.replace("end: 2023-03", "end: 12"),
        "4",
        "end",
        [r"expected a month", r"12"],
        id="end-not-a-month",
    ),
    pytest.param(
        entry(value="99"),
        "7",
        r"schedule\[1\]\.value",
        [r"expected a value in \[0 \.\. 5\]", r"99"],
        id="lever-value-out-of-range",
    ),
    pytest.param(
        VALID + "parameters:\n  smuggling_detection: 5\n",
        "8",
        r"parameters\.smuggling_detection",
        [r"expected a value in \[0\.02, 0\.3\]", r"5"],
        id="parameter-out-of-range",
    ),
    pytest.param(
        VALID + "parameters:\n  smuggling_detecton: 0.2\n",
        "8",
        r"parameters\.smuggling_detecton",
        [r"unknown parameter", r"did you mean 'smuggling_detection'\?"],
        id="unknown-parameter",
    ),
    pytest.param(
        entry(lever="enforcment"),
        "7",
        r"schedule\[1\]\.lever",
        [r"unknown lever 'enforcment'", r"did you mean 'enforcement'\?"],
        id="unknown-lever",
    ),
    pytest.param(
        entry(lever="destination", value="embargoed", target="atlantis"),
        "7",
        r"schedule\[1\]\.target",
        [r"unknown country 'atlantis'", r"china"],
        id="unknown-target",
    ),
    pytest.param(
        entry(date="2024-01"),
        "7",
        r"schedule\[1\]\.date",
        [r"expected a month from 2022-10 to 2023-03", r"2024-01"],
        id="date-after-end",
    ),
    pytest.param(
        VALID + "  - enforcement\n",
        "7",
        r"schedule\[1\]",
        [r"expected a mapping"],
        id="schedule-entry-not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "patterns"), FILE_CASES)
def test_bad_scenario_file(
    tmp_path: Path, text: str, line: str, key: str | None, patterns: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    err = rejected("run", path, "--months", "3", "--out", out)
    where = re.escape(str(path)) + rf":{line}: "
    if key is not None:
        where += key + ": "
    assert re.search(where, err), f"expected {where!r} in {err!r}"
    for pattern in patterns:
        assert re.search(pattern, err), f"expected {pattern!r} in {err!r}"
    assert not out.exists(), "a rejected run must not write results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        VALID
        + "  - {date: 2022-11, actor: us, lever: enforcment, value: 2}\n"
        + "  - {date: 2022-12, actor: us, lever: enforcement, value: 99}\n",
        encoding="utf-8",
    )
    err = rejected("run", path, "--months", "3")
    assert re.search(re.escape(str(path)) + r":7: schedule\[1\]\.lever: ", err), err
    assert re.search(re.escape(str(path)) + r":8: schedule\[2\]\.value: ", err), err


def test_extends_with_unknown_parent_names_the_extends_line(tmp_path: Path) -> None:
    path = tmp_path / "child.yaml"
    path.write_text(
        "# a scenario built on another\nname: child\ndescription: test\n\nextends: histrical\n",
        encoding="utf-8",
    )
    err = rejected("run", path, "--months", "3")
    assert re.search(re.escape(str(path)) + r":5: extends: unknown scenario 'histrical'", err), err
    assert "did you mean 'historical'?" in err
    for name in SCENARIOS:
        assert name in err


def test_extends_with_bad_parent_file_names_the_parent(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text(entry(value="99"), encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text(f"name: c\ndescription: d\nextends: {tmp_path / 'parent.yaml'}\n")
    err = rejected("run", child, "--months", "3")
    assert re.search(r"parent\.yaml:7: schedule\[1\]\.value: ", err), err


# ----------------------------------------------------------------------------- bad names, flags
@pytest.mark.parametrize(
    ("args", "patterns"),
    [
        pytest.param(
            ["run", "nonexistent.yaml"], [r"nonexistent\.yaml", r"not found"], id="missing-file"
        ),
        pytest.param(
            ["run", "histrical"],
            [r"unknown scenario 'histrical'", r"did you mean 'historical'\?", *SCENARIOS],
            id="unknown-scenario-name",
        ),
        pytest.param(
            ["run", "levers"],
            [r"unknown scenario 'levers'", *SCENARIOS],
            id="spec-file-is-not-a-scenario",
        ),
        pytest.param(
            ["run", "--seed", "abc"], [r"--seed", r"'abc'", r"whole number"], id="seed-not-a-number"
        ),
        pytest.param(["run", "--seed", "-1"], [r"--seed"], id="seed-negative"),
        pytest.param(["run", "--months", "0"], [r"--months", r"from 1 to 1200"], id="months-zero"),
        pytest.param(["run", "--months", "two"], [r"--months", r"'two'"], id="months-text"),
        pytest.param(["run", "--set", "nokey"], [r"--set nokey", r"key=value"], id="set-no-equals"),
        pytest.param(
            ["run", "--set", "unknown_param=1"],
            [r"--set unknown_param=1", r"unknown parameter or lever 'unknown_param'"],
            id="set-unknown-parameter",
        ),
        pytest.param(
            ["run", "--set", "smuggling_detection=abc"],
            [r"--set smuggling_detection=abc", r"expected a number", r"'abc'"],
            id="set-parameter-not-a-number",
        ),
        pytest.param(
            ["run", "--set", "smuggling_detection=9"],
            [r"--set smuggling_detection=9", r"expected a value in \[0\.02, 0\.3\]"],
            id="set-parameter-out-of-range",
        ),
        pytest.param(
            ["run", "--out", "results.txt"],
            [r"--out", r"\.csv", r"\.parquet", r"results\.txt"],
            id="out-unsupported-extension",
        ),
        pytest.param(
            ["run", "--out", "/nonexistent_dir/x.csv"],
            [r"--out", r"/nonexistent_dir", r"does not exist"],
            id="out-missing-folder",
        ),
        pytest.param(
            ["run", "--samples", "0"],
            [r"--samples", r"a number of futures from 1 to 1000", r"got 0"],
            id="samples-zero",
        ),
        pytest.param(
            ["run", "--samples", "1001"],
            [r"--samples", r"a number of futures from 1 to 1000", r"got 1001"],
            id="samples-above-cap",
        ),
        pytest.param(
            ["run", "--workers", "2"], [r"--workers goes with --samples"], id="workers-alone"
        ),
        pytest.param(
            ["run", "--samples", "2", "--events"],
            [r"--events", r"does not go with --samples"],
            id="samples-with-events",
        ),
        pytest.param(
            ["frobnicate"], [r"frobnicate", r"run", r"scenarios", r"levers"], id="unknown-command"
        ),
        pytest.param(["run", "--frobnicate"], [r"--frobnicate"], id="unknown-option"),
    ],
)
def test_bad_command_line(args: list[str], patterns: list[str]) -> None:
    err = rejected(*args, "--months", "2") if args[0] == "run" else rejected(*args)
    for pattern in patterns:
        assert re.search(pattern, err), f"expected {pattern!r} in {err!r}"


def test_problems_in_several_set_flags_are_reported_together() -> None:
    err = rejected(
        "run",
        "--months",
        "2",
        "--set",
        "smuggling_detection=9",
        "--set",
        "nokey",
        "--set",
        "enforcement=99",
        "--set",
        "destination.atlantis=embargoed",
    )
    assert re.search(r"--set smuggling_detection=9: expected a value in \[0\.02, 0\.3\]", err)
    assert re.search(r"--set nokey: expected key=value", err)
    assert re.search(r"--set enforcement=99: expected a value in \[0 \.\. 5\]", err)
    assert re.search(r"--set destination\.atlantis=embargoed: unknown country 'atlantis'", err)


# ----------------------------------------------------------------------------- nothing half-written
def _args(args: list[str], tmp_path: Path) -> list[str]:
    bad = tmp_path / "bad.yaml"
    bad.write_text(entry(lever="enforcment"), encoding="utf-8")
    return [str(bad) if a == "BADFILE" else a for a in args]


# (Every bad scenario file above is also run with --out and checked to leave no file.)
@pytest.mark.parametrize(
    ("args", "suffix"),
    [
        pytest.param(["--set", "smuggling_detection=9"], ".parquet", id="bad-set"),
        pytest.param(["histrical"], ".csv", id="unknown-scenario"),
        pytest.param(["BADFILE"], ".parquet", id="bad-scenario-file"),
    ],
)
def test_rejected_run_writes_no_file(tmp_path: Path, args: list[str], suffix: str) -> None:
    out = tmp_path / f"results{suffix}"
    rejected("run", *_args(args, tmp_path), "--months", "2", "--out", out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"], "no temporary files"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--set", "unknown_param=1"], id="bad-set"),
        pytest.param(["histrical"], id="unknown-scenario"),
        pytest.param(["BADFILE"], id="bad-scenario-file"),
        pytest.param(["--seed", "abc"], id="bad-seed"),
    ],
)
def test_rejected_run_leaves_existing_file_unchanged(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "results.csv"
    out.write_bytes(b"date,step,bloc\n2022-10,1,us\n")
    before = out.stat()
    rejected("run", *_args(args, tmp_path), "--months", "2", "--out", out)
    after = out.stat()
    assert out.read_bytes() == b"date,step,bloc\n2022-10,1,us\n"
    assert (after.st_mtime_ns, after.st_ino, after.st_mode) == (
        before.st_mtime_ns,
        before.st_ino,
        before.st_mode,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "results.csv"]


# ------------------------------------------------------------ regressions of bugs found
def test_out_under_a_file_is_rejected(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    err = rejected("run", "--months", "2", "--out", not_a_dir / "x.csv")
    assert "--out" in err


def test_empty_out_is_rejected() -> None:
    err = rejected("run", "--months", "2", "--out", "")
    assert "--out" in err


def test_very_long_run_has_no_traceback() -> None:
    proc = run_cli("run", "--months", "1200", timeout=120)
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both
    assert proc.returncode in (0, 2), both
