"""An experiment file's own outcomes: every mistake is reported with file, line and key, the
expression grammar takes nothing but columns, blocs, numbers and arithmetic (no Python), and
each aggregation over a window is computed right on a results table made by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from game.batch.outcomes import outcome_values
from game.config.errors import InputError
from game.config.experiment import load_experiment
from game.config.outcomes import OutcomeSpec, parse_expression
from game.sim.results import COLUMN_NAMES

HEAD = """\
name: outcomes_test
description: "Outcomes."
scenario: historical
months: 8
levers:
  enforcement: [0.5, 3.0]
outcomes:
"""


def _load(tmp_path: Path, outcomes: str, columns: bool = True) -> object:
    path = tmp_path / "e.yaml"
    path.write_text(HEAD + outcomes)
    return load_experiment(str(path), columns=COLUMN_NAMES if columns else None)


def _messages(tmp_path: Path, outcomes: str) -> str:
    with pytest.raises(InputError) as exc:
        _load(tmp_path, outcomes)
    return str(exc.value)


def test_a_valid_outcome_is_read(tmp_path: Path) -> None:
    exp = _load(
        tmp_path,
        "  - name: gap\n    expression: gap_months - gap_months[us]\n    window: 2023\n"
        "    aggregate: mean\n    direction: minimize\n",
    )
    (o,) = exp.spec.outcomes  # type: ignore[attr-defined]
    assert (o.name, o.bloc, o.window, o.aggregate) == (
        "gap",
        "china",
        (2023 * 12, 2023 * 12 + 11),
        "mean",
    )


def test_syntax_bloc_aggregate_and_direction_errors_name_file_line_and_key(tmp_path: Path) -> None:
    text = _messages(
        tmp_path,
        "  - name: a\n"  # line 8
        "    expression: gap_months * (2 + \n"  # 9
        "    aggregate: mean\n"
        "    direction: minimize\n"
        "  - name: b\n"  # 12
        "    expression: gap_months[mars]\n"  # 13
        "    aggregate: median\n"  # 14
        "    direction: up\n",  # 15
    )
    assert "e.yaml:9: outcomes[0].expression: " in text and "ends too early" in text
    assert "e.yaml:13: outcomes[1].expression: unknown bloc 'mars'" in text
    assert "e.yaml:14: outcomes[1].aggregate: expected one of 'mean', 'last'" in text
    assert "e.yaml:15: outcomes[1].direction: expected one of 'minimize' or 'maximize'" in text


def test_unknown_columns_windows_and_names_are_refused(tmp_path: Path) -> None:
    text = _messages(
        tmp_path,
        "  - name: enforcement\n"  # 8
        "    expression: gap_month + 1\n"  # 9
        "    window: 2030\n"  # 10
        "    aggregate: mean\n"
        "    direction: minimize\n",
    )
    assert "e.yaml:8: outcomes[0].name: 'enforcement' is a lever" in text
    assert "e.yaml:9: outcomes[0].expression: unknown column gap_month; expected" in text
    assert "e.yaml:10: outcomes[0].window: the window (2030-01 to 2030-12) is outside" in text


def test_a_name_of_the_fixed_outcomes_is_refused(tmp_path: Path) -> None:
    text = _messages(
        tmp_path,
        "  - name: smuggled\n    expression: chips_smuggled\n    aggregate: sum\n"
        "    direction: minimize\n",
    )
    assert "e.yaml:8: outcomes[0].name: 'smuggled' is taken" in text


def test_a_missing_key_and_a_bad_window(tmp_path: Path) -> None:
    text = _messages(
        tmp_path,
        "  - name: a\n    expression: gap_months\n    window: [2023-05, 2023-01]\n"
        "    aggregate: mean\n",
    )
    assert "e.yaml:8: outcomes[0].direction: missing required key" in text
    assert "e.yaml:10: outcomes[0].window: the window ends (2023-01) before it starts" in text


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "gap_months.__class__",
        "gap_months ** 2",
        "f(gap_months)",
        "",
    ],
)
def test_the_grammar_takes_no_python(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_expression(expression)


def test_outcomes_on_a_hand_made_results_table() -> None:
    """Two runs, four months (2029-11 to 2030-02), China's gap 10, 11, 12, 13 (+5 in run b)."""
    rows = []
    for run, extra in (("a", 0.0), ("b", 5.0)):
        for i, date in enumerate(["2029-11", "2029-12", "2030-01", "2030-02"]):
            rows.append(
                {
                    "run_id": run,
                    "step": i + 1,
                    "date": date,
                    "bloc": "us",
                    "gap_months": 0.0,
                    "compute_h100e": 100.0,
                }
            )
            rows.append(
                {
                    "run_id": run,
                    "step": i + 1,
                    "date": date,
                    "bloc": "china",
                    "gap_months": 10.0 + i + extra,
                    "compute_h100e": 10.0 * (i + 1),
                }
            )
    table = pd.DataFrame(rows)

    def spec(name: str, expression: str, aggregate: str, **kw: object) -> OutcomeSpec:
        return OutcomeSpec(
            name=name, expression=expression, aggregate=aggregate, direction="minimize", **kw
        )

    out = outcome_values(
        table,
        [
            spec("mean_2030", "gap_months", "mean", window=2030),
            spec("ratio", "compute_h100e / compute_h100e[us] * 100", "last"),
            spec("total", "-(gap_months - 1)", "sum"),
            spec("peak", "gap_months", "max", window=["2029-11", "2029-12"]),
            spec("low_us", "gap_months", "min", bloc="us"),
            spec("nan", "gap_months[us] / gap_months[us]", "sum"),
        ],
    )
    assert list(out.index) == ["a", "b"]
    assert out.loc["a", "mean_2030"] == 12.5 and out.loc["b", "mean_2030"] == 17.5
    assert out.loc["a", "ratio"] == pytest.approx(40.0)
    assert out.loc["a", "total"] == -(9 + 10 + 11 + 12)
    assert out.loc["b", "peak"] == 16.0
    assert out.loc["a", "low_us"] == 0.0
    assert np.isnan(out.loc["a", "nan"])  # 0 / 0 is NaN, not an error nor 0
