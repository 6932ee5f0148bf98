"""Writing a command's output files: whole or not at all (game.config.files' atomic writes),
and a failure (disk full, no permission, an immutable file, a folder in the way) is one
message naming the file, never a traceback. The old file, if any, is left as it was.

`run --out` handles a failed write this way; sweeps (each run and the compaction), `analyze`,
`report` and the robustness summary go through here to do the same."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
