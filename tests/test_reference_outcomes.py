"""The shipped scenarios still give their committed reference outcomes (tests/reference/).

Every scenario of policies/ runs with game.batch.reference's seeds; its gap, frontier
capability, smuggled share and vendor revenue per bloc at a few years must equal the committed
numbers (the runs are deterministic: the same code and inputs give the same bits; the files
keep 10 digits). A change meant to move them: `python tools/update_references.py`, then
`git diff tests/reference` shows what moved; commit the files with the change."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from game.batch import reference

FOLDER = Path(__file__).resolve().parent / "reference"
UPDATE = "python tools/update_references.py"


def moved_message(name: str, moved: pd.DataFrame) -> str:
    shown = moved.head(30).to_string(index=False, float_format=lambda v: f"{v:.6g}")
    more = f"\n... and {len(moved) - 30} more" if len(moved) > 30 else ""
    return (
        f"{len(moved)} reference outcome(s) of scenario '{name}' moved:\n{shown}{more}\n"
        f"If the change is meant to move them: {UPDATE} {name}, then read "
        "`git diff tests/reference` and commit the files with the change."
    )


@pytest.mark.parametrize("name", reference.reference_scenarios())
def test_scenario_gives_its_reference_outcomes(name: str) -> None:
    path = FOLDER / f"{name}.csv"
    assert path.exists(), f"no reference for scenario '{name}': run {UPDATE} {name}"
    moved = reference.differences(reference.read(path), reference.outcomes(name))
    assert moved.empty, moved_message(name, moved)


def test_every_reference_file_is_a_shipped_scenario() -> None:
    stale = sorted(
        p.stem for p in FOLDER.glob("*.csv") if p.stem not in reference.reference_scenarios()
    )
    assert not stale, f"reference files of scenarios that no longer exist: {stale}; delete them"


def test_a_moved_outcome_is_caught_and_named() -> None:
    """The check can fail: one value nudged by a millionth is reported with both numbers."""
    ref = reference.read(FOLDER / "historical.csv")
    now = ref.copy()
    now.loc[3, "frontier_capability"] *= 1 + 1e-6
    moved = reference.differences(ref, now)
    assert len(moved) == 1
    row = moved.iloc[0]
    assert (row["outcome"], row["seed"], row["bloc"]) == (
        "frontier_capability",
        ref.loc[3, "seed"],
        ref.loc[3, "bloc"],
    )
    text = moved_message("historical", moved)
    assert "frontier_capability" in text and UPDATE in text
    # a row one side lacks counts too; rounding to the file's 10 digits does not
    assert len(reference.differences(ref, now.drop(index=0))) > 0
    assert reference.differences(ref, ref.copy()).empty
