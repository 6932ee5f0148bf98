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


# ----------------------------------------------------------------------------- sweep --from-save
def _played_game(folder: Path) -> Path:
    from game.play.session import GameSession

    session = GameSession("historical", ["us"])
    session.decide("remote_access_controls", True)
    session.decide("enforcement", 4.0)
    for _ in range(3):  # three months: a game saved after its first one fails to load today
        session.step()
    path = folder / "mine.scgame"
    session.save(path)
    return path


def test_a_robustness_folder_names_its_saved_game_and_reproduces_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save = _played_game(tmp_path)
    folder = tmp_path / "rob"
    status, _, err = run_cli(
        capsys, "sweep", "--from-save", save, "--samples", "2", "--replications", "1",
        "--workers", "1", "--out", folder,
    )  # fmt: skip
    assert status == 0, err
    rec = provenance.read(folder)
    assert rec == provenance.read(folder / "robustness.parquet")
    game = save.read_bytes()
    assert rec["save"] == {
        "path": str(save.resolve()),
        "sha256": hashlib.sha256(game).hexdigest(),
        "bytes": len(game),
        "copy": "game.scgame",
    }
    assert (folder / "game.scgame").read_bytes() == game
    assert (rec["samples"], rec["replications"], rec["seed"]) == (2, 1, 2022)
    assert rec["argv"] == [
        "sweep", "--from-save", str(save.resolve()), "--samples", "2", "--replications", "1",
        "--seed", "2022", "--out", str(folder),
    ]  # fmt: skip
    table = pd.read_parquet(folder / "robustness.parquet")
    assert rec["seeds"] == sorted(set(table["seed"]))
    assert [d["sample"] for d in rec["sampled_parameters"]] == [0, 1]
    for draw, (_, row) in zip(rec["sampled_parameters"], table.iterrows(), strict=True):
        assert all(row[k] == v for k, v in draw.items() if k != "sample")  # exact
    inputs = rec["inputs"]["files"]
    assert inputs[-1] == {
        "path": "game.scgame", "sha256": rec["save"]["sha256"], "bytes": len(game),
    }  # fmt: skip

    save.rename(tmp_path / "moved.scgame")  # the folder's copy is run again
    status, text, _ = run_cli(capsys, "reproduce", folder, "--workers", "1")
    assert status == 0 and "IDENTICAL: running it again gives the same tables" in text
    assert "The inputs are the same as recorded" in text

    frame = pq.read_table(folder / "robustness.parquet")
    edited = frame.to_pandas()
    edited.loc[0, "objective_played"] += 1.0
    pq.write_table(
        pa.Table.from_pandas(edited, preserve_index=False).replace_schema_metadata(
            frame.schema.metadata
        ),
        folder / "robustness.parquet",
    )
    status, text, _ = run_cli(capsys, "reproduce", folder / "robustness.parquet", "--workers", "1")
    assert status == 1 and "DIFFERENT" in text

    (folder / "game.scgame").unlink()  # neither the copy nor the original: exit 2, naming it
    status, out, err = run_cli(capsys, "reproduce", folder)
    assert status == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert f"needs the saved game it was made from: '{save.resolve()}'" in err


def test_seed_is_for_from_save_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "sweep", "small", "--seed", "3", "--out", tmp_path / "s")
    assert status == 2 and "--seed: is for --from-save" in err


# ----------------------------------------------------------------------------- calibrate --out
def test_calibrate_csv_has_a_sidecar_and_reproduces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from game.config.experiment import parameter_draws, seeds_for

    out = tmp_path / "cal.csv"
    status, _, err = run_cli(capsys, "calibrate", "--seeds", "2", "--workers", "1", "--out", out)
    assert status == 0, err
    rec = provenance.read(out)
    assert rec == json.loads(provenance.sidecar_path(out).read_text())
    assert rec["argv"] == ["calibrate", "--seeds", "2", "--seed", "2022", "--out", str(out)]
    assert rec["seeds"] == seeds_for(2, 2022) and rec["sampled_parameters"] is None
    assert rec["file_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    files = rec["scenario"]["files"]
    assert "policies/historical.yaml" in files and "policies/no_controls.yaml" in files
    assert rec["targets"] == "assets/data/targets.yaml"
    assert "assets/data/targets.yaml" in [f["path"] for f in rec["inputs"]["files"]]
    assert out.read_text().startswith("target,source,low,high,")  # the CSV itself is plain
    status, text, _ = run_cli(capsys, "reproduce", out, "--workers", "1")
    assert status == 0 and "IDENTICAL: running it again gives the same table" in text

    sampled = tmp_path / "sampled.csv"
    run_cli(capsys, "calibrate", "--sample", "2", "--workers", "1", "--out", sampled)
    rec = provenance.read(sampled)
    assert rec["argv"][:3] == ["calibrate", "--sample", "2"] and "--seeds" not in rec["argv"]
    assert rec["samples"] == 2 and rec["seeds"] == seeds_for(2, 2022)
    draws = parameter_draws(2, 2022)
    for i, draw in enumerate(rec["sampled_parameters"]):
        assert (draw["run"], draw["seed"]) == (i, rec["seeds"][i])
        assert all(draw[k] == draws.loc[i, k] for k in draws.columns)  # exact

    out.write_text(out.read_text().replace("target", "targets", 1))
    status, _, err = run_cli(capsys, "reproduce", out)
    assert status == 2 and "does not belong to this file" in err


# ----------------------------------------------------------------------------- analyze
OWN_OUTCOME = """\
outcomes:
  - name: china_gap_end
    description: "China's gap at the end"
    expression: gap_months
    bloc: china
    aggregate: last
    direction: maximize
"""


def test_the_per_run_table_points_to_its_sweep_and_reproduces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from game.reports.analysis import analyze

    path = tmp_path / "small.yaml"
    path.write_text(SMALL_EXPERIMENT.replace("months: 8", "months: 3") + OWN_OUTCOME)
    folder = tmp_path / "s"
    run_sweep(load_experiment(str(path)), folder, workers=1, fmt="parquet")
    analyze(folder)
    table = folder / "analysis" / "per_run.parquet"
    rec = provenance.read(table)
    sweep = provenance.read(folder)
    assert rec["source"] == sweep
    assert rec["argv"] == ["analyze", str(folder.resolve())]
    assert (rec["scenario"], rec["seeds"], rec["months"]) == (
        sweep["scenario"], sweep["seeds"], sweep["months"]
    )
    assert rec["analysed"] == {
        "folder": str(folder.resolve()),
        "tables": {
            n: hashlib.sha256((folder / n).read_bytes()).hexdigest()
            for n in ("experiments.parquet", "outcomes.parquet")
        },
    }
    assert [o["name"] for o in rec["outcomes"]] == ["china_gap_end"]
    assert rec["outcomes"][0]["expression"] == "gap_months"
    experiment = (folder / "experiment.yaml").read_bytes()
    assert rec["inputs"]["files"][-1] == {
        "path": "experiment.yaml",
        "sha256": hashlib.sha256(experiment).hexdigest(),
        "bytes": len(experiment),
    }
    assert rec["columns"] == list(pd.read_parquet(table).columns)
    csv = provenance.read(folder / "analysis" / "per_run.csv")
    assert {k: v for k, v in csv.items() if k not in ("file", "file_sha256")} == rec

    before = table.read_bytes()
    status, text, _ = run_cli(capsys, "reproduce", table)
    assert status == 0 and "IDENTICAL: running it again gives the same table" in text
    assert table.read_bytes() == before  # a copy of the sweep was analysed, not the sweep

    elsewhere = tmp_path / "per_run.parquet"  # away from its folder: the recorded one is used
    elsewhere.write_bytes(before)
    folder.rename(tmp_path / "gone")
    status, out, err = run_cli(capsys, "reproduce", elsewhere)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"needs the sweep folder it analysed: '{folder.resolve()}'" in err
