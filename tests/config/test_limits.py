"""The limits every input passes (README.md, "Limits"): the YAML loader's, the world data's
ranges, the runs cap; and a property test that mutates valid scenarios, experiments and lessons
at random and requires a valid result or one clean message, never a traceback."""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.cli import main
from game.config.errors import InputError, Problem
from game.config.experiment import MAX_RUNS, load_experiment
from game.config.lesson import load_lesson
from game.config.paths import DATA_DIR, LESSON_DIR
from game.config.world import load_world_data
from game.config.yamlfile import MAX_DEPTH, MAX_NODES, parse_yaml
from tests.cli.test_bad_input import VALID
from tests.cli_helpers import SMALL_EXPERIMENT


# ----------------------------------------------------------------------------- the loader
def test_aliases_expanding_past_the_limit_are_refused() -> None:
    text = "a: &a [" + ", ".join(["x"] * 100) + "]\n"
    text += "b: &b [" + ", ".join(["*a"] * 100) + "]\n"
    text += "c: [" + ", ".join(["*b"] * 100) + "]\n"  # a million values from 400 bytes
    with pytest.raises(InputError, match=f"more than {MAX_NODES:,} values"):
        parse_yaml(text, "bomb.yaml")


def test_aliases_under_the_limit_still_work() -> None:
    doc = parse_yaml("base: &b {x: 1}\nother: *b\nmerged: {<<: *b, y: 2}\n", "ok.yaml")
    assert doc.data == {"base": {"x": 1}, "other": {"x": 1}, "merged": {"x": 1, "y": 2}}


def test_an_alias_inside_itself_is_refused() -> None:
    with pytest.raises(InputError, match="refers to the value that contains it"):
        parse_yaml("a: &a [1, *a]\n", "self.yaml")


def test_nesting_at_the_limit_loads_and_past_it_is_refused() -> None:
    assert parse_yaml("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), "ok.yaml").data
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_yaml("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "deep.yaml")


def test_duplicate_keys_are_refused_with_their_place() -> None:
    with pytest.raises(InputError) as info:
        parse_yaml("a:\n  b: 1\n  c: 2\n  b: 3\n", "dup.yaml")
    assert str(info.value) == (
        "dup.yaml:4: a.b: duplicate key (first on line 2); a key may appear once in a mapping"
    )


def test_a_problem_never_carries_an_unbounded_message() -> None:
    assert len(str(Problem("x" * 10_000_000, file="f", key="k" * 10_000))) < 2_500


# ----------------------------------------------------------------------------- the world data
def _data_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    text = (folder / name).read_text(encoding="utf-8")
    assert old in text
    (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("chips.yaml", "price_usd: ", "price_usd: .inf #", r"price_usd: expected a finite"),
        (
            "chips.yaml",
            "dense_bf16_tflops: ",
            "dense_bf16_tflops: 1.0e+300 #",
            r"dense_bf16_tflops: expected a value <= 1000000",
        ),
        (
            "chips.yaml",
            "memory_gb: ",
            "memory_gb: .nan #",
            r"memory_gb: expected a finite number",
        ),
        (
            "parameters.yaml",
            "algo_doubling_months: {value: 8, range: [5, 14]",
            "algo_doubling_months: {value: 0, range: [0, 14]",
            r"parameters.yaml:\d+: parameters.algo_doubling_months.range: expected a range above 0",
        ),
        (
            "parameters.yaml",
            "algo_doubling_months: {value: 8, range: [5, 14]",
            "algo_doubling_months: {value: 8, range: [5, .inf]",
            r"algo_doubling_months.range\[1\]: expected a finite number",
        ),
        (
            "actors.yaml",
            "capacity_growth: 3.0",
            "capacity_growth: 0",
            r"actors.yaml:\d+: vendors\[0\].capacity_growth: expected a value > 0",
        ),
    ],
)
def test_world_data_must_be_finite_and_in_range(
    tmp_path: Path, name: str, old: str, new: str, expected: str
) -> None:
    with pytest.raises(InputError, match=expected):
        load_world_data(_data_copy(tmp_path, name, old, new))


def test_run_count_is_counted_without_building_runs(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(SMALL_EXPERIMENT.replace("replications: 2", "replications: 10000"))
    with pytest.raises(InputError, match="makes 40,000 runs"):
        load_experiment(str(path), max_runs=39_999)
    experiment = load_experiment(str(path), max_runs=MAX_RUNS)
    assert experiment.run_count() == 40_000


@pytest.mark.parametrize("design", ["grid", "lhs", "sobol"])
def test_run_count_matches_the_runs(tmp_path: Path, design: str) -> None:
    path = tmp_path / "e.yaml"
    text = SMALL_EXPERIMENT.replace("design: lhs", f"design: {design}")
    text = text.replace("uncertainties:\n", "uncertainties:\n  mfu: {values: [0.35, 0.45]}\n")
    path.write_text(text)
    experiment = load_experiment(str(path))
    assert experiment.run_count() == len(experiment.runs())


# ----------------------------------------------------------------------------- property test
def _nested(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = [value]
    return value


# Values that go where another value was: wrong types, out of range, not finite, hostile text.
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, -1.0, 1e-320]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "$\\frac{$",
            "../../x",
            "/dev/zero",
            "2022-10",
            "4000-01",
            "0001-01",
            "1990-13",
            "historical",
            "oct2022",
            "x" * 5000,
            "\u202e\x00",
        ]
    ),
    st.text(max_size=20),
    st.lists(st.integers(-5, 5), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(1, 200).map(_nested),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The YAML `text` with one to three of its values dropped or replaced, or a key added."""
    data = yaml.safe_load(text)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        how = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if how == "drop":
            del parent[path[-1]]
        elif how == "add" and isinstance(parent, dict):
            parent[
                draw(
                    st.sampled_from(
                        [
                            "extends",
                            "start",
                            "end",
                            "months",
                            "parameters",
                            "colour",
                            "scenario",
                            "samples",
                        ]
                    )
                )
            ] = draw(HOSTILE)
        else:
            parent[path[-1]] = draw(HOSTILE)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


_counter = itertools.count()


def _clean(call: Any) -> tuple[int, str]:
    """Run `call`; it must succeed (0) or fail with one clean message (2), never raise."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = call()
    message = err.getvalue()
    assert code in (0, 2), message
    if code == 2:
        assert message.startswith("python main.py: error: "), message
        assert message.count("error:") == 1, message
        assert "Traceback" not in message
        assert all(len(line) < 2_500 for line in message.splitlines())
    return code, message


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(text=mutated(VALID))
def test_mutated_scenarios_run_or_fail_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / f"s{next(_counter)}.yaml"
    path.write_text(text, encoding="utf-8")
    _clean(lambda: main(["run", str(path), "--months", "3"]))


def _loads_experiment(path: Path) -> int:
    """What `sweep` does before its first run: load, count, build the runs."""
    try:
        experiment = load_experiment(str(path))
        assert len(experiment.runs()) == experiment.run_count() <= MAX_RUNS
    except InputError as exc:
        print(f"python main.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


@SETTINGS
@given(text=mutated(SMALL_EXPERIMENT))
def test_mutated_experiments_load_or_fail_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / f"e{next(_counter)}.yaml"
    path.write_text(text, encoding="utf-8")
    _clean(lambda: _loads_experiment(path))


LESSON = (LESSON_DIR / "threshold_game.yaml").read_text(encoding="utf-8")


def _loads_lesson(path: Path) -> int:
    try:
        lesson = load_lesson(str(path))
        assert lesson.months >= 1
    except InputError as exc:
        print(f"python main.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


@SETTINGS
@given(text=mutated(LESSON))
def test_mutated_lessons_load_or_fail_cleanly(tmp_path: Path, text: str) -> None:
    folder = tmp_path / f"l{next(_counter)}"
    shutil.copytree(LESSON_DIR / "scenarios", folder / "scenarios")
    shutil.copy(LESSON_DIR / "threshold_game.md", folder / "threshold_game.md")
    (folder / "threshold_game.yaml").write_text(text, encoding="utf-8")
    _clean(lambda: _loads_lesson(folder / "threshold_game.yaml"))


@pytest.mark.parametrize(
    "bad",
    [
        "  x: " + "[" * 300 + "]" * 300,
        "  x: &a [1, 2]\n  y: [*a, *a]\n  x: 3",
        "  x: .nan",
        "  x: -.inf",
    ],
)
def test_hostile_text_in_a_scenario_fails_cleanly(tmp_path: Path, bad: str) -> None:
    path = tmp_path / f"h{next(_counter)}.yaml"
    path.write_text(VALID + "parameters:\n" + bad + "\n", encoding="utf-8")
    code, message = _clean(lambda: main(["run", str(path), "--months", "3"]))
    assert code == 2 and re.search(r"\.yaml:\d+", message), message
