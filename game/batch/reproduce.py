"""Making a results file again from its provenance (`python main.py reproduce FILE`).

The provenance record (game.batch.provenance) holds the command that wrote the file. Its
command is run again into a temporary folder (the original is never touched) and the new
table is compared with the old one: identical (every value, bit for bit, once both are read
the same way), or different, with the outcomes that moved (game.batch.compare). The record's
inputs and model version are checked against today's first, so a difference comes with its
likely reason: which input files or which model version changed.

A sweep folder is run again from its own experiment.yaml (the file as it was run)."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from game.batch import compare as cmp
from game.batch.provenance import changed_inputs, inputs_digest, model_version, read
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


def reproduce(
    path: str | Path, run: Callable[[list[str]], int], workers: int | None = None
) -> Reproduction:
    """Run `path`'s recorded command again (through `run(argv) -> exit status`, the CLI's
    main) and compare. InputError when `path` has no usable provenance."""
    path = Path(path)
    rec = read(path)
    argv = list(rec.get("argv") or [])
    if not argv or argv[0] not in ("run", "sweep") or "--out" not in argv:
        raise InputError(
            Problem("the provenance's command is not one `reproduce` can run", file=str(path))
        )
    lines = [f"Recorded command: {rec.get('command')}"]
    with tempfile.TemporaryDirectory(prefix="sc-reproduce-") as tmp:
        if argv[0] == "sweep":
            folder = path if path.is_dir() else path.parent
            experiment = folder / "experiment.yaml"
            if not experiment.exists():
                raise InputError(
                    Problem("the sweep's experiment.yaml is missing", file=str(folder))
                )
            extra = [("experiment.yaml", experiment.read_bytes())]
            new_out = Path(tmp) / "sweep"
            argv[1] = str(experiment)
            original: Path = folder
        else:
            extra = []
            original = path
            # the draws file of `run --samples` is compared through its results file
            if path.name.endswith(".draws" + path.suffix):
                original = path.with_name(path.name.replace(".draws" + path.suffix, path.suffix))
            new_out = Path(tmp) / ("result" + original.suffix)
        argv[argv.index("--out") + 1] = str(new_out)
        if workers is not None and (argv[0] == "sweep" or "--samples" in argv):
            argv += ["--workers", str(workers)]
        lines += _describe_changes(rec, extra)
        with contextlib.redirect_stdout(io.StringIO()):
            status = run(argv)
        if status != 0:
            lines.append(f"The command failed (exit status {status}): nothing to compare.")
            return Reproduction(False, "\n".join(lines))
        if argv[0] == "sweep":
            same = _same_sweep(original, new_out)
        else:
            same = _same(cmp._read_table(original), cmp._read_table(new_out))
        if same:
            lines.append(f"IDENTICAL: running it again gives the same {_what(original)}.")
            return Reproduction(True, "\n".join(lines))
        lines.append(f"DIFFERENT: running it again does not give the same {_what(original)}.")
        try:
            a, b = cmp.load(original), cmp.load(new_out)
            b.path = Path("(run again)")
            lines += ["", cmp.report(a, b, cmp.compare(a, b))]
        except InputError as exc:
            lines.append(f"(no outcome comparison: {exc})")
        return Reproduction(False, "\n".join(lines))


def _what(path: Path) -> str:
    return "tables" if path.is_dir() else "table"


def _same_sweep(old: Path, new: Path) -> bool:
    for name in ("experiments", "outcomes"):
        a = next((p for p in (old / f"{name}.parquet", old / f"{name}.csv") if p.exists()), None)
        b = next((p for p in (new / f"{name}.parquet", new / f"{name}.csv") if p.exists()), None)
        if a is None or b is None:
            return False
        ta, tb = cmp._read_table(a), cmp._read_table(b)
        drop = [c for c in ("seconds",) if c in ta.columns]
        if not _same(ta.drop(columns=drop), tb.drop(columns=drop, errors="ignore")):
            return False
    return True
