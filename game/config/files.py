"""Writing the user's files: checked before a long run, written whole or not at all."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from game.config.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable(path: str | Path, what: str) -> Path:
    """Fail before any work if `path` cannot be written (no folder, a file in the way, no
    permission), rather than after a long run."""
    path = Path(path)
    if not str(path) or path.name in ("", ".", ".."):
        raise InputError(Problem("expected a file name", key=what))
    if path.is_dir():
        raise InputError(Problem(f"'{path}' is a folder, expected a file name", key=what))
    if not path.parent.is_dir():
        reason = "does not exist" if not path.parent.exists() else "is not a folder"
        raise InputError(Problem(f"'{path.parent}' {reason}", key=what))
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise InputError(
            Problem(f"cannot write in '{path.parent}' ({exc.strerror})", key=what)
        ) from None
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over the
    target: readers see the old file or the new one, never a part."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777  # replacing a file keeps its permissions
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # a new file gets the usual ones
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_frame(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a results table as CSV or Parquet (by extension), whole or not at all."""
    path = Path(path)
    buf = io.BytesIO()
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(buf, index=False)
    else:
        buf.write(frame.to_csv(index=False).encode())
    atomic_write_bytes(path, buf.getvalue())
