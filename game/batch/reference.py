"""Reference outcomes: the shipped scenarios' outcomes at a few years and seeds, kept in
tests/reference/<scenario>.csv, so that a change to the model that moves them is seen.

tests/test_reference_outcomes.py runs every scenario of policies/ with SEEDS and compares
OUTCOMES at YEARS with the committed files: any difference beyond float rounding (RTOL) fails,
with a table of what moved. The runs are deterministic given the seed and the inputs, so the
same code must give the same numbers; a change meant to move them is accepted by rewriting the
files (`python tools/update_references.py`), and `git diff tests/reference` shows what moved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from game.batch.compare import yearly_outcomes
from game.config.scenario import scenario_names
from game.sim.model import ChipWarModel
from game.sim.runner import forget

SEEDS = (11, 12, 13)
YEARS = (2023, 2025, 2027, 2030)
# (outcome of game.batch.compare's yearly table, its name in the reference file)
OUTCOMES = ["gap_months", "frontier_capability", "smuggled_share", "vendor_revenue_usd"]
RTOL = 1e-7  # the files keep 10 significant digits
DIGITS = 10
COLUMNS = ["seed", "year", "bloc", *OUTCOMES]


def reference_scenarios() -> list[str]:
    return scenario_names()


def outcomes(scenario: str, seeds: tuple[int, ...] = SEEDS) -> pd.DataFrame:
    """The scenario's reference table: one row per (seed, year, bloc), OUTCOMES as columns
    (levels at the year's end, vendor revenue over the year), rounded to DIGITS digits."""
    parts = []
    for seed in seeds:
        model = ChipWarModel(scenario, rng=seed)
        try:
            rows = model.run()
        finally:
            forget(model)
        rows["seed"] = seed
        parts.append(rows)
    long = yearly_outcomes(pd.concat(parts, ignore_index=True), ["seed"])
    long = long[long["outcome"].isin(OUTCOMES) & long["year"].isin(YEARS)]
    wide = long.pivot_table(
        index=["seed", "year", "bloc"], columns="outcome", values="value", dropna=False
    )
    wide = wide.reindex(columns=OUTCOMES).reset_index()
    return wide[COLUMNS].sort_values(["seed", "year", "bloc"]).reset_index(drop=True)


def to_csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, float_format=f"%.{DIGITS}g", lineterminator="\n")


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def differences(reference: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Every (seed, year, bloc, outcome) whose value moved beyond RTOL, or that one side
    lacks: columns seed, year, bloc, outcome, reference, now, change."""
    keys = ["seed", "year", "bloc"]
    a = reference.melt(id_vars=keys, var_name="outcome", value_name="reference")
    b = now.melt(id_vars=keys, var_name="outcome", value_name="now")
    both = a.merge(b, on=[*keys, "outcome"], how="outer")
    ra, rb = both["reference"].to_numpy(float), both["now"].to_numpy(float)
    same_nan = np.isnan(ra) & np.isnan(rb)
    close = np.isclose(ra, rb, rtol=RTOL, atol=1e-12)
    moved = both[~(same_nan | close)].copy()
    moved["change"] = moved["now"] - moved["reference"]
    return moved.sort_values([*keys, "outcome"]).reset_index(drop=True)


def write_all(folder: Path, scenarios: list[str] | None = None) -> list[Path]:
    """Rewrite the reference files (tools/update_references.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in scenarios or reference_scenarios():
        path = folder / f"{name}.csv"
        path.write_text(to_csv(outcomes(name)))
        written.append(path)
    return written
