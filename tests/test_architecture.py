"""The layers hold: import-linter's contracts (pyproject.toml, [tool.importlinter]) pass, so an
import that points up fails CI; and no package imports another in a cycle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports() -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    return subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept() -> None:
    done = lint_imports()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def test_a_contract_catches_an_import_that_points_up(tmp_path: Path) -> None:
    """The check can fail: a core module that imports the model breaks the layers."""
    bad = ROOT / "game" / "core" / "_upward_probe.py"
    bad.write_text("from game.sim.model import ChipWarModel  # noqa: F401\n")
    try:
        done = lint_imports()
    finally:
        bad.unlink()
    assert done.returncode != 0
    assert "game.core._upward_probe -> game.sim.model" in done.stdout
