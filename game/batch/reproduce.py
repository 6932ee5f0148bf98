"""Making a results file again from its provenance (`python main.py reproduce FILE`).

The provenance record (game.batch.provenance) holds the command that wrote the file. Its
command is run again into a temporary folder (the original is never touched) and the new
table is compared with the old one: identical (every value, bit for bit, once both are read
the same way), or different, with the outcomes that moved (game.batch.compare). The record's
inputs and model version are checked against today's first, so a difference comes with its
likely reason: which input files or which model version changed.

A sweep folder is run again from its own experiment.yaml (the file as it was run); the folder
of `sweep --from-save` from its copy of the saved game (game.scgame), else from the saved game
it names (if neither is there: exit 2, naming the file it needs); `calibrate --out FILE.csv`
from its recorded seeds and draws; analyze's per-run table (DIR/analysis/per_run.*) by
analysing a copy of the sweep folder's tables again (the sweep itself: `reproduce DIR`); a
search folder (or its pareto.csv) by searching again from its experiment.yaml and comparing
the Pareto sets."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from game.batch import compare as cmp
from game.batch.output import SWEEP_TABLES, table_digests
from game.batch.provenance import (
    changed_inputs,
    file_sha256,
    inputs_digest,
    model_version,
    read,
)
from game.config.errors import InputError, Problem


@dataclass
class Reproduction:
    identical: bool
    text: str


def _describe_changes(rec: dict[str, Any], extra: list[tuple[str, bytes]]) -> list[str]:
    lines = []
    then = rec.get("model_version") or {}
    now = model_version()
    a = then.get("git_commit") or then.get("version")
    b = now.get("git_commit") or now.get("version")
    if a != b:
        lines.append(f"The model version differs: recorded {a}, now {b}.")
    elif now.get("git_dirty"):
        lines.append(
            "The model version is the same commit, but this checkout has uncommitted changes."
        )
    files = changed_inputs(rec.get("inputs") or {}, inputs_digest(rec["scenario"]["files"], extra))
    if files:
        lines.append("Input files changed since: " + ", ".join(files) + ".")
    else:
        lines.append("The inputs are the same as recorded (sha256 " + _short(rec) + ").")
    return lines


def _short(rec: dict[str, Any]) -> str:
    return str((rec.get("inputs") or {}).get("sha256", ""))[:12]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return list(a.columns) == list(b.columns) and a.shape == b.shape and a.equals(b)


PARETO = "pareto.csv"  # what a search is judged by: its Pareto set of policies
RUNNABLE = ("run", "sweep", "calibrate", "analyze", "search")


def reproduce(
    path: str | Path, run: Callable[[list[str]], int], workers: int | None = None
) -> Reproduction:
    """Run `path`'s recorded command again (through `run(argv) -> exit status`, the CLI's
    main) and compare. InputError when `path` has no usable provenance, or when what the
    command needs (a sweep's experiment.yaml, a saved game, an analysed sweep) is missing."""
    path = Path(path)
    rec = read(path)
    argv = list(rec.get("argv") or [])
    if not argv or argv[0] not in RUNNABLE or ("--out" not in argv and argv[0] != "analyze"):
        raise InputError(
            Problem("the provenance's command is not one `reproduce` can run", file=str(path))
        )
    lines = [f"Recorded command: {rec.get('command')}"]
    with tempfile.TemporaryDirectory(prefix="sc-reproduce-") as tmp:
        kind = argv[0]
        if kind == "sweep" and "--from-save" in argv:
            kind = "robustness"
            folder = path if path.is_dir() else path.parent
            save = _saved_game(rec, folder, path)
            extra = [(str((rec.get("save") or {}).get("copy", "game.scgame")), save.read_bytes())]
            new_out = Path(tmp) / "sweep"
            argv[argv.index("--from-save") + 1] = str(save)
            original: Path = folder
        elif kind in ("sweep", "search"):
            folder = path if path.is_dir() else path.parent
            experiment = folder / "experiment.yaml"
            if not experiment.exists():
                raise InputError(
                    Problem(f"the {kind}'s experiment.yaml is missing", file=str(folder))
                )
            extra = [("experiment.yaml", experiment.read_bytes())]
            new_out = Path(tmp) / kind
            argv[1] = str(experiment)
            original = folder if kind == "sweep" else folder / PARETO
        elif kind == "analyze":
            if path.is_dir():
                raise InputError(
                    Problem("expected analyze's per_run.parquet or per_run.csv", file=str(path))
                )
            sweep = _analysed_sweep(rec, path)
            copy = Path(tmp) / "sweep"
            extra = _copy_sweep(sweep, copy)
            lines += _tables_changed(rec, sweep)
            argv = ["analyze", str(copy)]
            new_out = copy / "analysis" / path.name
            original = path
        else:
            extra = []
            original = path
            # the draws file of `run --samples` is compared through its results file
            if path.name.endswith(".draws" + path.suffix):
                original = path.with_name(path.name.replace(".draws" + path.suffix, path.suffix))
            new_out = Path(tmp) / ("result" + original.suffix)
        if "--out" in argv:
            argv[argv.index("--out") + 1] = str(new_out)
        if workers is not None and (
            argv[0] in ("sweep", "calibrate", "search") or "--samples" in argv
        ):
            argv += ["--workers", str(workers)]
        lines += _describe_changes(rec, extra)
        err = io.StringIO()  # the command's notes and progress; its error, if it fails
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            status = run(argv)
        if status != 0:
            lines.append(f"The command failed (exit status {status}): nothing to compare.")
            lines += err.getvalue().strip().splitlines()[-1:]
            return Reproduction(False, "\n".join(lines))
        if kind == "sweep":
            same = _same_sweep(original, new_out)
        elif kind == "robustness":
            same = _same_tables(original / "robustness.parquet", new_out / "robustness.parquet")
        else:
            if kind == "search":  # the search wrote a folder; its Pareto set is what is compared
                new_out = new_out / PARETO
            then, now = cmp._read_table(original), cmp._read_table(new_out)
            same = _same(then, now)
        if same:
            lines.append(f"IDENTICAL: running it again gives the same {_what(original)}.")
            return Reproduction(True, "\n".join(lines))
        lines.append(f"DIFFERENT: running it again does not give the same {_what(original)}.")
        if kind == "search":
            lines += _pareto_changes(then, now)
            return Reproduction(False, "\n".join(lines))
        try:
            a, b = cmp.load(original), cmp.load(new_out)
            b.path = Path("(run again)")
            lines += ["", cmp.report(a, b, cmp.compare(a, b))]
        except InputError as exc:
            lines.append(f"(no outcome comparison: {exc})")
        return Reproduction(False, "\n".join(lines))


def _saved_game(rec: dict[str, Any], folder: Path, path: Path) -> Path:
    """The saved game a `sweep --from-save` ran: the copy kept in its folder, else the file
    it was run from; one whose sha256 is the recorded one first. InputError naming both when
    neither is there."""
    info = rec.get("save") or {}
    copy = folder / str(info.get("copy", "game.scgame"))
    found = [p for p in (copy, Path(str(info.get("path", "")))) if info and p.is_file()]
    for p in found:
        if file_sha256(p) == info.get("sha256"):
            return p
    if found:
        return found[0]  # changed since: the description says so
    raise InputError(
        Problem(
            f"needs the saved game it was made from: '{info.get('path')}' (sha256 "
            f"{str(info.get('sha256'))[:12]}...) or its copy '{copy}'; neither is there",
            file=str(path),
        )
    )


ANALYSED = ("manifest.json", "experiment.yaml", *SWEEP_TABLES)  # what analyze reads


def _analysed_sweep(rec: dict[str, Any], path: Path) -> Path:
    """The sweep folder an analysis read: the one holding `path` (DIR/analysis/FILE), else the
    one it records. InputError naming it when neither is a sweep folder."""
    recorded = Path(str((rec.get("analysed") or {}).get("folder", "")))
    for folder in (path.resolve().parent.parent, recorded):
        if (folder / "manifest.json").is_file():
            return folder
    raise InputError(
        Problem(
            f"needs the sweep folder it analysed: '{recorded}' (with its manifest.json and "
            "tables), and it is not there",
            file=str(path),
        )
    )


def _copy_sweep(folder: Path, copy: Path) -> list[tuple[str, bytes]]:
    """The files `analyze` reads from a sweep folder, copied (the original's analysis is never
    touched); the analysis's extra inputs (its experiment.yaml)."""
    copy.mkdir()
    for name in ANALYSED:
        if (folder / name).is_file():
            shutil.copyfile(folder / name, copy / name)
    experiment = folder / "experiment.yaml"
    return [("experiment.yaml", experiment.read_bytes())] if experiment.is_file() else []


def _tables_changed(rec: dict[str, Any], folder: Path) -> list[str]:
    then = (rec.get("analysed") or {}).get("tables") or {}
    now = table_digests(folder)
    changed = sorted(n for n in then.keys() | now.keys() if then.get(n) != now.get(n))
    if not changed:
        return []
    return ["The sweep's tables changed since the analysis: " + ", ".join(changed) + "."]


def _pareto_changes(then: pd.DataFrame, now: pd.DataFrame) -> list[str]:
    """How two Pareto sets of the same search differ: their sizes, and per column of numbers
    the largest difference between rows of the same policy."""
    lines = [f"Pareto set: {len(then)} policies recorded, {len(now)} found again."]
    if "policy" not in then.columns or "policy" not in now.columns:
        return lines
    both = then.merge(now, on="policy", suffixes=("_then", "_now"))
    for col in then.columns:
        if col == "policy" or f"{col}_now" not in both.columns:
            continue
        a, b = both[f"{col}_then"], both[f"{col}_now"]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            moved = (a - b).abs().max() if len(both) else 0.0
            if moved > 0:
                lines.append(f"  {col}: moves by up to {moved:.6g} in the same policies")
    return lines


def _what(path: Path) -> str:
    return "tables" if path.is_dir() else "table"


def _same_tables(a: Path, b: Path) -> bool:
    """Two results tables, the same but for the seconds each run took."""
    if not (a.exists() and b.exists()):
        return False
    ta, tb = cmp._read_table(a), cmp._read_table(b)
    drop = [c for c in ("seconds",) if c in ta.columns]
    return _same(ta.drop(columns=drop), tb.drop(columns=drop, errors="ignore"))


def _same_sweep(old: Path, new: Path) -> bool:
    for name in ("experiments", "outcomes"):
        a = next((p for p in (old / f"{name}.parquet", old / f"{name}.csv") if p.exists()), None)
        b = next((p for p in (new / f"{name}.parquet", new / f"{name}.csv") if p.exists()), None)
        if a is None or b is None or not _same_tables(a, b):
            return False
    return True
