"""Provenance on every results file (game/batch/provenance.py) and `reproduce FILE`."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from game.batch import provenance
from game.batch.sweep import _mixed, run_sweep
from game.cli import main
from game.config.experiment import load_experiment
from tests.cli_helpers import SMALL_EXPERIMENT

SHORT = ["run", "--months", "3", "--seed", "5"]


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_csv_gets_a_sidecar_with_the_command_seed_inputs_and_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.csv"
    assert run_cli(capsys, *SHORT, "--set", "enforcement=2", "--out", out)[0] == 0
    rec = json.loads((tmp_path / "r.csv.provenance.json").read_text())
    assert rec == provenance.read(out)
    assert rec["format"] == provenance.FORMAT
    assert rec["scenario"] == {"name": "historical", "files": ["policies/historical.yaml"]}
    assert (rec["seed"], rec["months"], rec["overrides"]) == (5, 3, ["enforcement=2"])
    assert rec["argv"] == [
        "run", "historical", "--seed", "5", "--months", "3", "--set", "enforcement=2",
        "--out", str(out),
    ]  # fmt: skip
    assert rec["command"].endswith("--set enforcement=2 --out " + str(out))
    assert rec["model_version"]["version"] and len(rec["model_version"]["git_commit"]) == 40
    names = [f["path"] for f in rec["inputs"]["files"]]
    assert names[:3] == ["policies/historical.yaml", "policies/levers.yaml", "policies/rules.yaml"]
    assert "assets/data/parameters.yaml" in names and "assets/data/chips.yaml" in names
    assert rec["file_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    # the CSV itself is unchanged: no comment lines for its readers to trip on
    assert out.read_text().startswith("date,step,bloc,")


def test_parquet_carries_it_in_its_metadata_and_the_same_command_gives_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tmp_path / "a.parquet"
    run_cli(capsys, *SHORT, "--out", a)
    first = a.read_bytes()
    meta = pq.read_schema(a).metadata
    assert provenance.METADATA_KEY in meta and b"pandas" in meta  # pandas' own kept
    assert provenance.read(a)["seeds"] == [5]
    assert len(pd.read_parquet(a)) == 3 * 4
    assert not (tmp_path / "a.parquet.provenance.json").exists()
    run_cli(capsys, *SHORT, "--out", a)
    assert a.read_bytes() == first  # no time stamp: the same command, the same bytes


def test_sampled_futures_record_every_draw_and_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "f.parquet"
    status, *_ = run_cli(capsys, *SHORT, "--samples", "2", "--workers", "1", "--out", out)
    assert status == 0
    rec = provenance.read(out)
    draws = pd.read_parquet(tmp_path / "f.draws.parquet")
    assert rec == provenance.read(tmp_path / "f.draws.parquet")
    assert rec["samples"] == 2 and rec["seeds"] == draws["seed"].tolist()
    assert len(rec["sampled_parameters"]) == 2
    first = rec["sampled_parameters"][0]
    for col in draws.columns:
        assert first[col] == draws.loc[0, col]  # exact: floats round-trip through JSON
    assert "--samples 2" in rec["command"] and "--workers" not in rec["command"]


def test_inputs_hash_follows_each_file_in_a_defined_order(tmp_path: Path) -> None:
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text("a: 1\n")
    two.write_text("b: 2\n")
    base = provenance.inputs_digest([str(one), str(two)])
    assert [f["path"] for f in base["files"][:2]] == [str(one), str(two)]
    assert provenance.inputs_digest([str(two), str(one)])["sha256"] != base["sha256"]
    assert provenance.inputs_digest([str(one), str(two)]) == base
    one.write_text("a: 2\n")
    changed = provenance.inputs_digest([str(one), str(two)])
    assert changed["sha256"] != base["sha256"]
    assert provenance.changed_inputs(base, changed) == [str(one)]
    extra = provenance.inputs_digest([str(one)], [("experiment.yaml", b"x")])
    assert extra["files"][-1]["path"] == "experiment.yaml"


def test_model_version_outside_a_checkout_or_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provenance, "CODE_ROOT", tmp_path)
    v = provenance.model_version()
    assert v["git_commit"] is None and v["version"]
    (tmp_path / ".git").mkdir()  # a checkout, but git is not installed
    monkeypatch.setenv("PATH", str(tmp_path))
    assert provenance.model_version()["git_commit"] is None


def test_sweep_manifest_and_tables_carry_it(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_EXPERIMENT)
    experiment = load_experiment(str(path))
    run_sweep(experiment, tmp_path / "p", workers=1, fmt="parquet")
    run_sweep(experiment, tmp_path / "c", workers=1, fmt="csv")
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    rec = manifest["provenance"]
    assert rec == provenance.read(tmp_path / "p")
    assert rec["argv"][:2] == ["sweep", experiment.source]
    assert rec["inputs"]["files"][-1]["path"] == "experiment.yaml"
    assert rec["seeds"] == experiment.seeds()
    assert provenance.read(tmp_path / "p" / "outcomes.parquet")["inputs"] == rec["inputs"]
    assert provenance.read(tmp_path / "c" / "experiments.csv")["inputs"] == rec["inputs"]
    assert (tmp_path / "c" / "outcomes.csv.provenance.json").exists()
    # resuming after an input changed says so
    edited = [("experiment.yaml", b"")]
    now = dict(rec, inputs=provenance.inputs_digest(rec["scenario"]["files"], edited))
    assert "experiment.yaml" in _mixed(rec, now) and _mixed(rec, rec) == ""


def test_a_csv_edited_after_its_sidecar_is_not_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.csv"
    run_cli(capsys, *SHORT, "--out", out)
    out.write_text(out.read_text().replace("2022-10", "2022-11", 1))
    with pytest.raises(Exception, match="does not belong to this file"):
        provenance.read(out)
    status, _, err = run_cli(capsys, "reproduce", out)
    assert status == 2 and "does not belong to this file" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- reproduce
def test_reproduce_says_identical_for_a_run_and_for_sampled_futures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.csv"
    run_cli(capsys, *SHORT, "--out", out)
    before = out.read_bytes()
    status, text, _ = run_cli(capsys, "reproduce", out)
    assert status == 0 and "IDENTICAL" in text and "The inputs are the same" in text
    assert out.read_bytes() == before  # the original is never touched
    fut = tmp_path / "f.parquet"
    run_cli(capsys, *SHORT, "--samples", "2", "--workers", "1", "--out", fut)
    status, text, _ = run_cli(capsys, "reproduce", fut, "--workers", "1")
    assert status == 0 and "IDENTICAL" in text


def test_reproduce_finds_a_changed_value_and_a_changed_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.parquet"
    run_cli(capsys, *SHORT, "--out", out)
    table = pq.read_table(out)
    frame = table.to_pandas()
    frame.loc[frame["bloc"] == "china", "frontier_capability"] += 1.0
    edited = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(edited.replace_schema_metadata(table.schema.metadata), out)
    status, text, _ = run_cli(capsys, "reproduce", out)
    assert status == 1 and "DIFFERENT" in text and "MOVED" in text
    assert re.search(r"frontier_capability\s+china\s+2022\s+1\s", text)

    scenario = tmp_path / "mine.yaml"
    scenario.write_text(
        "name: mine\ndescription: a test\nextends: historical\n"
        "parameters:\n  smuggling_detection: 0.05\n"
    )
    mine = tmp_path / "mine.csv"
    assert run_cli(capsys, *SHORT[:1], scenario, *SHORT[1:], "--out", mine)[0] == 0
    assert provenance.read(mine)["argv"][1] == str(scenario.resolve())
    scenario.write_text(scenario.read_text().replace("0.05", "0.3"))
    status, text, _ = run_cli(capsys, "reproduce", mine)
    assert f"Input files changed since: {scenario.resolve()}." in text
    assert status == 1 and "DIFFERENT" in text


def test_reproduce_a_sweep_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_EXPERIMENT.replace("months: 8", "months: 3"))
    run_sweep(load_experiment(str(path)), tmp_path / "s", workers=1, fmt="csv")
    path.unlink()  # the folder's own experiment.yaml is what runs again
    status, text, _ = run_cli(capsys, "reproduce", tmp_path / "s", "--workers", "1")
    assert status == 0 and "IDENTICAL: running it again gives the same tables" in text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("date,step,bloc\n2022-10,1,us\n"), "expected the sidecar"),
        (lambda p: p.write_text("not yaml"), "expected a .csv or .parquet"),
        (lambda p: None, "no such file or folder"),
        (lambda p: p.mkdir(), "no readable manifest.json"),
    ],
    ids=["csv-without-sidecar", "other-file", "missing", "empty-folder"],
)
def test_reproduce_bad_input_is_one_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, message: str
) -> None:
    name = {"expected a .csv or .parquet": "x.txt"}.get(message, "x.csv")
    if message == "no readable manifest.json":
        name = "folder"
    target = tmp_path / name
    make(target)
    status, _, err = run_cli(capsys, "reproduce", target)
    assert status == 2 and message in err and str(target) in err
    assert len(err.strip().splitlines()) == 1


def test_a_parquet_file_without_provenance_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(plain)
    status, _, err = run_cli(capsys, "reproduce", plain)
    assert status == 2 and "carries no provenance" in err
