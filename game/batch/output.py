"""Writing a command's output files: whole or not at all (game.config.files' atomic writes),
and a failure (disk full, no permission, an immutable file, a folder in the way) is one
message naming the file, never a traceback. The old file, if any, is left as it was.

`run --out` handles a failed write this way; sweeps (each run and the compaction), `analyze`,
`report` and the robustness summary go through here to do the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from game.config.errors import InputError, Problem
from game.config.files import atomic_write_bytes, atomic_write_frame

if TYPE_CHECKING:
    import pandas as pd


def write_failed(path: str | Path, exc: OSError, key: str | None = None) -> InputError:
    """The message for a write that failed: the file, the reason, and that nothing changed."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return InputError(
        Problem(f"cannot write '{path}' ({reason}); the file was left as it was", key=key)
    )


def save_bytes(path: str | Path, data: bytes, key: str | None = None) -> None:
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise write_failed(path, exc, key) from None


def save_frame(frame: pd.DataFrame, path: str | Path, key: str | None = None) -> None:
    try:
        atomic_write_frame(frame, path)
    except OSError as exc:
        raise write_failed(path, exc, key) from None


def frame_bytes(frame: pd.DataFrame, path: str | Path, provenance: dict | None = None) -> bytes:
    """A results table as the bytes of a CSV or Parquet file (by extension); a Parquet file
    carries `provenance` in its schema's metadata (game.batch.provenance)."""
    import io

    buf = io.BytesIO()
    if Path(path).suffix.lower() != ".parquet":
        buf.write(frame.to_csv(index=False).encode())
        return buf.getvalue()
    if provenance is None:
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    import pyarrow as pa
    import pyarrow.parquet as pq

    from game.batch.provenance import METADATA_KEY, to_json

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {**(table.schema.metadata or {}), METADATA_KEY: to_json(provenance)}
    pq.write_table(table.replace_schema_metadata(meta), buf)
    return buf.getvalue()


def save_results(
    frame: pd.DataFrame, path: str | Path, provenance: dict | None, key: str | None = None
) -> None:
    """A results table with its provenance: in a Parquet file's metadata, or for a CSV in the
    sidecar FILE.csv.provenance.json, written after the CSV and holding the CSV's sha256 (so a
    sidecar left from an older CSV is found, not trusted). Each file is whole or not at all."""
    import hashlib

    data = frame_bytes(frame, path, provenance)
    save_bytes(path, data, key)
    if provenance is not None and Path(path).suffix.lower() != ".parquet":
        from game.batch.provenance import sidecar_path, to_json

        digest = hashlib.sha256(data).hexdigest()
        rec = {**provenance, "file": Path(path).name, "file_sha256": digest}
        save_bytes(sidecar_path(path), to_json(rec), key)


def read_manifest(manifest: Path, kind: str) -> dict[str, Any]:
    """An output folder's manifest, or an InputError naming it when it is damaged (not JSON,
    not an object, unreadable)."""
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    if not isinstance(old, dict):
        raise InputError(Problem(f"the {kind} folder's manifest is damaged", file=str(manifest)))
    return old


def make_folder(folder: Path, kind: str, inside: Path | None = None) -> None:
    """Create an output folder (and `inside` it, a subfolder), or an InputError naming it:
    a file in its place, or a folder that cannot be made (rights, a full disk)."""
    if folder.exists() and not folder.is_dir():
        raise InputError(Problem(f"is a file, expected a folder for the {kind}", file=str(folder)))
    try:
        (inside or folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            Problem(f"cannot create the {kind} folder ({exc.strerror})", file=str(folder))
        ) from None


# a sweep folder's compacted tables (game.batch.sweep: SweepStore.compact), either format
SWEEP_TABLES = tuple(
    f"{name}.{ext}" for name in ("experiments", "outcomes") for ext in ("parquet", "csv")
)


def table_digests(folder: Path) -> dict[str, str]:
    """The sha256 of each of a sweep folder's compacted tables it holds: what an analysis of
    it read, so that a later look can tell whether they changed since."""
    from game.batch.provenance import file_sha256

    return {n: file_sha256(folder / n) for n in SWEEP_TABLES if (folder / n).is_file()}

