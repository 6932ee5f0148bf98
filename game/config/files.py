"""The user's files: inputs checked before they are opened, outputs checked before a long run
and written whole or not at all."""

from __future__ import annotations

import io
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from game.config.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd


# The most bytes a YAML input (scenario, experiment, lesson, data file) may hold: the largest
# shipped one is about 33 KB, and parsing a megabyte of YAML takes seconds.
MAX_YAML_BYTES = 1_000_000
# The most bytes a results table given to `report` may hold (one run of 1,200 months is about
# 1 MB as CSV).
MAX_TABLE_BYTES = 64_000_000


def check_input_file(path: str | Path, shown: str, limit: int, what: str) -> int:
    """Fail, naming the file, unless `path` is a regular file of at most `limit` bytes; return
    its size. Checked with stat before anything opens it: a FIFO or a device such as
    /dev/zero would block or never end."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(Problem("file not found", file=shown)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file ({exc.strerror})", file=shown)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(Problem(f"is a directory, expected {what}", file=shown))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            Problem(
                f"is not a regular file (a pipe, socket or device), expected {what}", file=shown
            )
        )
    if st.st_size > limit:
        raise InputError(
            Problem(
                f"is {st.st_size:,} bytes; the most {what} may hold is {limit:,} bytes",
                file=shown,
            )
        )
    return st.st_size


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
