"""Where a results file came from: the provenance record every results file carries.

The record (a JSON object) names the scenario and the files it was built from, the seeds, the
sampled parameters of `run --samples`, the overrides, the model version (the package version
and, in a git checkout, the commit and whether the working tree had changes) and a sha256 of
the inputs, and the command that makes the file again (`command`, and `argv` for `reproduce`).

Where it is kept:
    FILE.parquet            the schema's key-value metadata, key `silicon_curtain.provenance`
    FILE.csv                a sidecar FILE.csv.provenance.json beside it (a `#` header would
                            break every CSV reader that does not expect one, pandas' included);
                            the sidecar holds the sha256 of the CSV's bytes, so a sidecar that no
                            longer belongs to its CSV is found
    a sweep folder          manifest.json's `provenance` (and the compacted tables, as above);
                            so too the folder of `sweep --from-save` (robustness.parquet)

The inputs' hash: sha256 over, file by file in this order, each file's length (8 bytes,
big-endian) then its bytes: the scenario files from the root of its `extends:` chain to the
scenario itself, policies/levers.yaml, policies/rules.yaml, every assets/data/*.yaml by name,
and for a sweep the experiment file as it was run (for `sweep --from-save`, the saved game).
Each file's own sha256 is listed beside it, so two records show which file changed.

An output computed from another output (analyze's per-run table, from a sweep folder) carries
a derived record (`derived`): the command that made it, the source's record under `source`,
and the source's scenario, seeds and inputs (plus the files this step read) at the top level.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from game.config.errors import InputError, Problem
from game.config.levers import SPEC_FILES
from game.config.paths import DATA_DIR, DATA_ROOT, POLICY_DIR

FORMAT = "silicon-curtain-provenance/1"
METADATA_KEY = b"silicon_curtain.provenance"
SIDECAR_SUFFIX = ".provenance.json"
CODE_ROOT = Path(__file__).resolve().parents[2]


def sidecar_path(path: str | Path) -> Path:
    """Where a CSV's provenance goes: FILE.csv -> FILE.csv.provenance.json."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


# ----------------------------------------------------------------------------- the version
def model_version() -> dict[str, Any]:
    """The package version, and the git commit when this code is a checkout (None outside one,
    or when git is missing: never an error)."""
    try:
        from importlib.metadata import version

        package_version: str | None = version("silicon-curtain")
    except Exception:
        package_version = None
    commit, dirty = None, None
    if (CODE_ROOT / ".git").exists():
        try:
            commit = _git("rev-parse", "HEAD") or None
            if commit is not None:
                status = _git("status", "--porcelain", "--untracked-files=no")
                dirty = bool(status.strip()) if status is not None else None
        except Exception:
            commit, dirty = None, None
    return {
        "package": "silicon-curtain",
        "version": package_version,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def _git(*args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(CODE_ROOT), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


# ----------------------------------------------------------------------------- the inputs
def _resolve(shown: str) -> Path:
    """A scenario file as the scenario names it (shipped ones relative to the data root)."""
    p = Path(shown)
    if not p.is_absolute() and (DATA_ROOT / p).exists():
        return DATA_ROOT / p
    return p


def named_files(scenario_files: Iterable[str]) -> list[str]:
    """A scenario's files as the record names them: shipped ones relative to the data root,
    others in full (so that a record read from another folder finds them)."""
    out = []
    for f in scenario_files:
        p = Path(f)
        out.append(str(f) if not p.is_absolute() and (DATA_ROOT / p).exists() else str(p.resolve()))
    return out


def input_files(scenario_files: Iterable[str]) -> list[tuple[str, Path]]:
    """The model's input files in the hash's order: (name shown, path)."""
    out = [(str(f), _resolve(str(f))) for f in scenario_files]
    out += [(f"policies/{name}", POLICY_DIR / name) for name in SPEC_FILES]
    out += [(f"assets/data/{p.name}", p) for p in sorted(DATA_DIR.glob("*.yaml"))]
    return out


def inputs_digest(
    scenario_files: Iterable[str], extra: Iterable[tuple[str, bytes]] = ()
) -> dict[str, Any]:
    """sha256 over the inputs (see the module's docstring), and each file's own."""
    total = hashlib.sha256()
    files = []
    items: list[tuple[str, bytes | None]] = []
    for shown, path in input_files(scenario_files):
        try:
            items.append((shown, path.read_bytes()))
        except OSError:
            items.append((shown, None))
    items += list(extra)
    for shown, data in items:
        if data is None:
            files.append({"path": shown, "sha256": None, "bytes": None})
            total.update((2**64 - 1).to_bytes(8, "big"))  # a missing file, not an empty one
            continue
        total.update(len(data).to_bytes(8, "big"))
        total.update(data)
        files.append(
            {"path": shown, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        )
    return {"sha256": total.hexdigest(), "files": files}


# ----------------------------------------------------------------------------- the record
def command_line(prog: str, argv: list[str]) -> str:
    return " ".join([prog, *(shlex.quote(a) for a in argv)])


def record(
    *,
    prog: str,
    argv: list[str],
    scenario: Any,
    seed: int | None,
    months: int | None = None,
    overrides: list[str] | None = None,
    samples: int | None = None,
    draws: Any = None,
    seeds: Iterable[int] | None = None,
    extra_inputs: Iterable[tuple[str, bytes]] = (),
    **more: Any,
) -> dict[str, Any]:
    """The provenance record of one output. `argv`: the command's arguments after the program
    (with every choice that matters spelled out, defaults included); `draws`: the draws table
    of `run --samples` (sample, seed, one column per drawn parameter); `seeds`: every run's
    seed, where the draws do not hold them (else the draws' seeds, or `seed` alone). No time
    stamp: the same command gives the same record, so a Parquet file's bytes stay the same."""
    sampled = plain_records(draws) if draws is not None else None
    if seeds is None:
        seeds = draws["seed"] if draws is not None else [seed]
    rec: dict[str, Any] = {
        "format": FORMAT,
        "command": command_line(prog, argv),
        "argv": list(argv),
        "scenario": {"name": scenario.name, "files": named_files(scenario.files)},
        "seed": seed,
        "seeds": [None if s is None else int(s) for s in seeds],
        "months": months,
        "overrides": list(overrides or []),
        "samples": samples,
        "sampled_parameters": sampled,
        **more,
        "model_version": model_version(),
        "inputs": inputs_digest(named_files(scenario.files), extra_inputs),
        "environment": environment(),
    }
    return rec


def environment() -> dict[str, str]:
    """The versions of Python and of the libraries the numbers go through."""
    import mesa
    import numpy
    import pandas

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "mesa": mesa.__version__,
    }


def plain_records(frame: Any) -> list[dict[str, Any]]:
    """A table as JSON-ready rows (numpy scalars as Python's: floats round-trip exactly)."""
    return json.loads(json.dumps(frame.to_dict("records"), default=_plain))


def file_sha256(path: str | Path) -> str:
    """A file's sha256, read in chunks (a sweep's tables may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def derived(
    source: dict[str, Any] | None,
    *,
    prog: str,
    argv: list[str],
    extra_inputs: Iterable[tuple[str, bytes]] = (),
    **more: Any,
) -> dict[str, Any]:
    """The record of an output computed from another's (`source`, its record; None for a source
    from before provenance was recorded): its own command, the source's scenario, seeds, months
    and overrides, the inputs (the source's scenario files and shared data, then
    `extra_inputs`) and the source record whole under `source`."""
    src = source or {}
    scenario = src.get("scenario") or {"name": None, "files": []}
    return {
        "format": FORMAT,
        "command": command_line(prog, argv),
        "argv": list(argv),
        "scenario": scenario,
        "seed": src.get("seed"),
        "seeds": src.get("seeds"),
        "months": src.get("months"),
        "overrides": list(src.get("overrides") or []),
        "samples": src.get("samples"),
        "sampled_parameters": src.get("sampled_parameters"),
        **more,
        "model_version": model_version(),
        "inputs": inputs_digest(scenario.get("files") or [], extra_inputs),
        "environment": environment(),
        "source": source,
    }


def _plain(value: Any) -> Any:
    """numpy scalars as Python's (repr round-trips a float exactly)."""
    return value.item() if hasattr(value, "item") else str(value)


def to_json(rec: dict[str, Any]) -> bytes:
    return json.dumps(rec, indent=1, allow_nan=False, default=str).encode()


# ----------------------------------------------------------------------------- reading
def read(path: str | Path) -> dict[str, Any]:
    """The provenance of a results file (.parquet metadata, a .csv's sidecar) or a sweep folder
    (its manifest.json); InputError naming the file when there is none."""
    path = Path(path)
    if path.is_dir():
        manifest = path / "manifest.json"
        try:
            rec = json.loads(manifest.read_text()).get("provenance")
        except (OSError, ValueError):
            raise InputError(
                Problem("not a sweep folder: no readable manifest.json", file=str(path))
            ) from None
        if not isinstance(rec, dict):
            raise InputError(
                Problem(
                    "this sweep's manifest has no provenance (a sweep from before provenance "
                    "was recorded); run it again to get one",
                    file=str(manifest),
                )
            )
        return rec
    if not path.exists():
        raise InputError(Problem("no such file or folder", file=str(path)))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            meta = pq.read_schema(path).metadata or {}
        except Exception as exc:
            raise InputError(
                Problem(f"not a readable Parquet file ({type(exc).__name__})", file=str(path))
            ) from None
        raw = meta.get(METADATA_KEY)
        if raw is None:
            raise InputError(
                Problem("this Parquet file carries no provenance metadata", file=str(path))
            )
        return _parse(raw, str(path))
    if suffix == ".csv":
        side = sidecar_path(path)
        try:
            raw = side.read_bytes()
        except OSError:
            raise InputError(
                Problem(
                    f"no provenance: expected the sidecar '{side.name}' beside it", file=str(path)
                )
            ) from None
        rec = _parse(raw, str(side))
        want = rec.get("file_sha256")
        if want is not None and want != hashlib.sha256(path.read_bytes()).hexdigest():
            raise InputError(
                Problem(
                    f"the sidecar '{side.name}' does not belong to this file (the CSV's sha256 "
                    "differs from the one it records: the CSV was written or edited since)",
                    file=str(path),
                )
            )
        return rec
    raise InputError(
        Problem("expected a .csv or .parquet results file or a sweep folder", file=str(path))
    )


def _parse(raw: bytes, shown: str) -> dict[str, Any]:
    try:
        rec = json.loads(raw)
    except ValueError:
        raise InputError(Problem("the provenance record is not valid JSON", file=shown)) from None
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        raise InputError(Problem(f"not a provenance record of format {FORMAT}", file=shown))
    return rec


def changed_inputs(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The input files whose bytes differ between two records' `inputs` (added or gone too)."""
    a = {f["path"]: f["sha256"] for f in old.get("files", [])}
    b = {f["path"]: f["sha256"] for f in new.get("files", [])}
    return sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))
