"""The README is part of the contract: its two commands are the ones CI runs, and every
results column is documented."""

from __future__ import annotations

from pathlib import Path

from game.sim.results import COLUMN_NAMES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest"
)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    assert TEST_COMMAND in README
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text()


def test_readme_has_the_main_command() -> None:
    install = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'"
    assert f"{install} && .venv/bin/python main.py\n" in README


def test_every_results_column_is_documented() -> None:
    missing = [c for c in COLUMN_NAMES if f"| `{c}` |" not in README]
    assert missing == []
