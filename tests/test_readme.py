"""The README is part of the contract: its two commands are the ones CI runs, and every
results column is documented."""

from __future__ import annotations

from pathlib import Path

from game.sim.results import COLUMNS

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
    """Each column with the meaning results.COLUMNS gives it, word for word."""
    missing = [c for c, meaning in COLUMNS if f"| `{c}` | {meaning} |" not in README]
    assert missing == [], "regenerate the README's table of columns from results.COLUMNS"


def test_the_python_example_runs(tmp_path, monkeypatch) -> None:
    """The README's 'Using the model from Python' block runs as written."""
    section = README.split("## Using the model from Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    model = namespace["model"]
    assert namespace["again"].turn == 24 and model.turn == model.horizon
    assert len(namespace["df"]) == model.horizon * len(model.bloc_ids)
    assert (tmp_path / "game.save").is_file()


def test_the_default_runs_table_is_what_the_program_prints() -> None:
    """The README's excerpt of `python main.py run` (its lines, '...' for those left out) is
    the program's output now, in order: figures in the README cannot fall behind the model."""
    import subprocess
    import sys

    section = README.split("## What the default run prints", 1)[1]
    block = section.split("```\n", 1)[1].split("```", 1)[0]
    shown = [line.rstrip() for line in block.splitlines() if line.strip() not in ("", "...")]
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    at = 0
    for line in shown:
        assert line in printed[at:], f"README line not printed (in this order): {line!r}"
        at = printed.index(line, at) + 1
