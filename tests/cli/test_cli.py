"""The command line as a user runs it: `python main.py ...` in a subprocess, checking the exit
code, what is printed and the files written."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.cli_helpers import ROOT, run_cli

SCENARIOS = ["domestic_push", "historical", "leaky_enforcement", "no_controls", "total_embargo"]
HEADINGS = [
    "frontier",
    "gap",
    "compute",
    "domestic",
    "smuggled",
    "chips smuggled",
    "chips seized",
]
CSV_COLUMNS = [
    "date",
    "step",
    "bloc",
    "frontier_capability",
    "gap_months",
    "compute_h100e",
    "domestic_share",
    "smuggled_share",
    "chips_smuggled",
    "chips_seized",
    "gray_price_usd",
]
# A row of the yearly table: "2022 us  53.2  0.0  254,629  100%  0%  0  0" (the year only on
# the first bloc of each year).
TABLE_ROW = re.compile(
    r"^(?P<year>\d{4})?\s+(?P<bloc>[a-z_]+)\s+(?P<frontier>-|[\d.]+)\s+(?P<gap>-|[\d.]+)\s+"
    r"(?P<compute>[\d,]+)\s+(?P<domestic>\d+%)\s+(?P<smuggled>\d+%)\s+"
    r"(?P<chips_smuggled>[\d,]+)\s+(?P<chips_seized>[\d,]+)\s*$"
)


def ok(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run, and require success without any traceback."""
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def parse_table(stdout: str) -> dict[tuple[int, str], dict[str, str]]:
    rows: dict[tuple[int, str], dict[str, str]] = {}
    year = None
    for line in stdout.splitlines():
        m = TABLE_ROW.match(line)
        if not m:
            continue
        if m["year"]:
            year = int(m["year"])
        assert year is not None, f"bloc row before any year: {line!r}"
        rows[(year, m["bloc"])] = m.groupdict()
    return rows


def months_from(start: str, n: int) -> list[str]:
    y, m = map(int, start.split("-"))
    out = []
    for i in range(n):
        yy, mm = divmod(y * 12 + m - 1 + i, 12)
        out.append(f"{yy:04d}-{mm + 1:02d}")
    return out


def check_results_table(df: pd.DataFrame, months: int, start: str = "2022-10") -> None:
    missing = [c for c in CSV_COLUMNS if c not in df.columns]
    assert not missing, f"missing columns {missing}; got {list(df.columns)}"
    assert df["date"].map(lambda d: bool(re.fullmatch(r"\d{4}-\d{2}", str(d)))).all()
    blocs = set(df["bloc"])
    assert {"us", "china"} <= blocs
    assert len(df) == months * len(blocs)
    assert not df.duplicated(["date", "bloc"]).any(), "one row per (month, bloc)"
    assert sorted(set(df["date"])) == months_from(start, months)
    assert sorted(set(df["step"])) == list(range(1, months + 1))
    for _, g in df.groupby("bloc"):
        assert list(g["date"]) == months_from(start, months)
    assert (df["chips_smuggled"] >= 0).all() and (df["chips_seized"] >= 0).all()
    assert ((df["domestic_share"] >= 0) & (df["domestic_share"] <= 1)).all()
    assert ((df["smuggled_share"] >= 0) & (df["smuggled_share"] <= 1)).all()


# ----------------------------------------------------------------------------- full default run
@pytest.fixture(scope="module")
def default_run() -> subprocess.CompletedProcess[str]:
    return ok()


@pytest.fixture(scope="module")
def full_run_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("full") / "results.csv"
    proc = ok("run", "--out", out)
    return proc.stdout, pd.read_csv(out, dtype={"date": str})


def test_no_arguments_prints_yearly_table(default_run: subprocess.CompletedProcess[str]) -> None:
    out = default_run.stdout
    header = next((ln for ln in out.splitlines() if "frontier" in ln), None)
    assert header is not None, out
    for heading in HEADINGS:
        assert heading in header, f"heading {heading!r} missing from {header!r}"
    rows = parse_table(out)
    years = sorted({y for y, _ in rows})
    assert years == list(range(2022, 2031))
    for year in years:
        assert (year, "us") in rows and (year, "china") in rows, year
    assert re.search(r"^2022\s+us\b", out, re.M) and re.search(r"^2030\s+us\b", out, re.M)
    # with no display (SDL's dummy driver in tests) the game says so in one line, then runs
    assert out.splitlines()[0].startswith("No display found")
    assert "historical" in out.splitlines()[1]
    assert default_run.stderr == ""


def test_no_arguments_is_run_of_historical(
    default_run: subprocess.CompletedProcess[str], full_run_csv: tuple[str, pd.DataFrame]
) -> None:
    stdout, _ = full_run_csv
    without_wrote = "\n".join(ln for ln in stdout.splitlines() if not ln.startswith("Wrote "))
    without_notice = "\n".join(default_run.stdout.splitlines()[1:])
    assert without_wrote.rstrip() == without_notice.rstrip()


def test_full_run_csv(full_run_csv: tuple[str, pd.DataFrame]) -> None:
    stdout, df = full_run_csv
    # October 2022 to December 2030.
    check_results_table(df, months=99)
    assert re.search(r"Wrote 396 rows to \S*results\.csv", stdout), stdout


def test_table_agrees_with_results_file(full_run_csv: tuple[str, pd.DataFrame]) -> None:
    """The yearly table shows year-end levels and yearly totals of the monthly results."""
    stdout, df = full_run_csv
    rows = parse_table(stdout)
    df = df.assign(year=df["date"].str.slice(0, 4).astype(int))
    assert set(rows) == set(zip(df["year"], df["bloc"], strict=True))
    for (year, bloc), g in df.groupby(["year", "bloc"]):
        row = rows[(year, bloc)]
        last = g.sort_values("step").iloc[-1]
        where = f"{year} {bloc}"
        assert row["frontier"] == f"{last['frontier_capability']:.1f}", where
        assert row["gap"] == f"{last['gap_months']:.1f}", where
        assert row["compute"] == f"{last['compute_h100e']:,.0f}", where
        assert row["domestic"] == f"{last['domestic_share']:.0%}", where
        assert row["smuggled"] == f"{last['smuggled_share']:.0%}", where
        assert row["chips_smuggled"] == f"{g['chips_smuggled'].sum():,.0f}", where
        assert row["chips_seized"] == f"{g['chips_seized'].sum():,.0f}", where
    # Controls bite: chips are smuggled into China, not into the US.
    assert df.loc[df["bloc"] == "china", "chips_smuggled"].sum() > 0
    assert df.loc[df["bloc"] == "us", "chips_smuggled"].sum() == 0


# ----------------------------------------------------------------------------- results files
SHORT = ("run", "--months", "4", "--seed", "7")


@pytest.fixture(scope="module")
def short_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """The same short run written as CSV and as Parquet, each in a folder of its own."""
    runs = {}
    for suffix in (".csv", ".parquet"):
        out = tmp_path_factory.mktemp("short") / f"x{suffix}"
        runs[suffix] = (ok(*SHORT, "--out", out).stdout, out)
    return runs


def read_results(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"date": str})
    return pd.read_parquet(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_out_file_one_row_per_month_and_bloc(
    short_runs: dict[str, tuple[str, Path]], suffix: str
) -> None:
    stdout, out = short_runs[suffix]
    assert out.is_file()
    df = read_results(out)
    check_results_table(df, months=4)
    assert re.search(rf"Wrote {len(df)} rows to \S*{re.escape(out.name)}", stdout), stdout
    # no temporary files left; a CSV's provenance is in its sidecar (game/batch/provenance.py)
    expected = [out.name] + ([f"{out.name}.provenance.json"] if suffix == ".csv" else [])
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(expected)


def test_csv_and_parquet_hold_the_same_results(short_runs: dict[str, tuple[str, Path]]) -> None:
    csv = read_results(short_runs[".csv"][1])
    pq = read_results(short_runs[".parquet"][1])
    assert list(csv.columns) == list(pq.columns)
    pd.testing.assert_frame_equal(
        csv[CSV_COLUMNS].reset_index(drop=True),
        pq[CSV_COLUMNS].reset_index(drop=True),
        check_dtype=False,
        check_exact=False,
        rtol=1e-12,
    )


def test_out_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    out.write_text("old contents that are longer than nothing\n" * 1000)
    ok("run", "--months", "2", "--out", out)
    df = pd.read_csv(out, dtype={"date": str})
    check_results_table(df, months=2)
    assert "old contents" not in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.csv.provenance.json"]


def test_out_file_has_ordinary_permissions(tmp_path: Path) -> None:
    reference = tmp_path / "reference.txt"
    reference.write_text("x")  # created like any file: 0666 minus the umask (inherited below)
    out = tmp_path / "x.csv"
    ok("run", "--months", "2", "--out", out)
    assert oct(out.stat().st_mode & 0o777) == oct(reference.stat().st_mode & 0o777)


# ----------------------------------------------------------------------------- seeds, months, sets
def test_same_seed_same_bytes_other_seed_differs(
    tmp_path: Path, short_runs: dict[str, tuple[str, Path]]
) -> None:
    stdout, first = short_runs[".csv"]
    again, other = tmp_path / "again.csv", tmp_path / "other.csv"
    ok(*SHORT, "--out", again)  # --seed 7 again
    ok("run", "--months", "4", "--seed", "8", "--out", other)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    assert "Seed 7," in stdout


def test_months_limits_the_run(tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    proc = ok("run", "--months", "5", "--out", out)
    df = pd.read_csv(out, dtype={"date": str})
    check_results_table(df, months=5)
    assert sorted(set(df["date"])) == ["2022-10", "2022-11", "2022-12", "2023-01", "2023-02"]
    assert "5 months from 2022-10 to 2023-02" in proc.stdout
    # The table covers only the years simulated.
    assert {y for y, _ in parse_table(proc.stdout)} == {2022, 2023}


def test_set_overrides_run_and_change_results(
    tmp_path: Path, short_runs: dict[str, tuple[str, Path]]
) -> None:
    _, base = short_runs[".csv"]
    changed = tmp_path / "set.csv"
    sets = ["--set", "smuggling_detection=0.2", "--set", "enforcement=2"]
    proc = ok(*SHORT, *sets, "--out", changed)
    assert "overrides: smuggling_detection=0.2, enforcement=2" in proc.stdout
    check_results_table(pd.read_csv(changed, dtype={"date": str}), months=4)
    assert base.read_bytes() != changed.read_bytes(), "--set had no effect on the results"


def test_scenario_by_name_and_by_path(tmp_path: Path) -> None:
    by_name = ok("run", "no_controls", "--months", "2")
    by_path = ok("run", ROOT / "policies" / "no_controls.yaml", "--months", "2")
    assert by_name.stdout.splitlines()[0].startswith("Scenario: no_controls")
    assert by_name.stdout == by_path.stdout


# ----------------------------------------------------------------------------- listings and help
def test_scenarios_lists_every_scenario_with_description() -> None:
    proc = ok("scenarios")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    names = [ln.split()[0] for ln in lines]
    assert sorted(names) == SCENARIOS
    for line in lines:
        name = line.split()[0]
        spec = yaml.safe_load((ROOT / "policies" / f"{name}.yaml").read_text(encoding="utf-8"))
        assert spec["description"] in line, line
    assert not re.search(r"^\s*(levers|rules)\b", proc.stdout, re.M)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def test_levers_lists_every_lever_with_range_and_unit() -> None:
    levers = yaml.safe_load((ROOT / "policies" / "levers.yaml").read_text(encoding="utf-8"))
    rules = yaml.safe_load((ROOT / "policies" / "rules.yaml").read_text(encoding="utf-8"))
    rule_ids = [r["id"] for r in rules["rule_versions"]]
    proc = ok("levers")
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines() if ln and not ln[0].isspace()}
    ids = [lv["id"] for lv in levers["levers"]]
    assert sorted(lines) == sorted(ids)
    for lv in levers["levers"]:
        line = lines[lv["id"]]
        if lv["kind"] == "number":
            lo, hi = lv["range"]
            assert f"{_fmt(lo)} .. {_fmt(hi)} {lv['unit']}" in line, line
        elif lv["kind"] == "bool":
            assert "true" in line and "false" in line, line
        else:
            choices = rule_ids if lv["choices"] == "rule_versions" else lv["choices"]
            assert " | ".join(choices) in line, line
        assert f"[{lv['owner']}" in line, line


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([], ["run", "scenarios", "levers"]),
        (["run"], ["--seed", "--months", "--set", "--out", "--events", "scenario"]),
        (["scenarios"], ["scenarios"]),
        (["levers"], ["levers"]),
    ],
)
def test_help(command: list[str], expected: list[str]) -> None:
    proc = ok(*command, "--help")
    assert proc.stdout.startswith("usage:")
    for word in expected:
        assert word in proc.stdout, word


def test_events_prints_dated_news(short_runs: dict[str, tuple[str, Path]]) -> None:
    with_events = ok(*SHORT, "--events")
    news = re.findall(r"^(\d{4}-\d{2})\s+(.+)$", with_events.stdout, re.M)
    assert any(d == "2022-10" and "BIS" in text for d, text in news), with_events.stdout
    assert all("2022-10" <= d <= "2023-01" for d, _ in news)
    # Without --events, the same run prints no news.
    without, _ = short_runs[".csv"]
    assert not re.search(r"^2022-10\s+\S", without, re.M), without
    assert with_events.stdout.startswith(without.split("\nWrote ")[0].rstrip())
