"""An experiment file's own outcomes (game/config/outcomes.py) computed from results tables: one
value per run, from the monthly rows of every run (a sweep's outcomes table, or one run's
results table)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from game.config.dates import parse_month
from game.config.outcomes import OutcomeSpec, columns_of, evaluate


def outcome_values(results: pd.DataFrame, specs: Iterable[OutcomeSpec]) -> pd.DataFrame:
    """One row per run (indexed by run_id; a table without run_id is one run, 'run') and one
    column per outcome: the expression per month over the window, aggregated. A run with no
    month in the window, or only NaN there (a ratio to zero), gets NaN."""
    specs = list(specs)
    df = results if "run_id" in results.columns else results.assign(run_id="run")
    months = df[["run_id", "step", "date"]].drop_duplicates(["run_id", "step"])
    months = months.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    runs = list(dict.fromkeys(df["run_id"]))
    out = pd.DataFrame(index=pd.Index(runs, name="run_id"))
    if not specs:
        return out
    month_of = {d: parse_month(d) for d in set(months["date"].astype(str))}
    month = months["date"].astype(str).map(month_of).to_numpy()
    key = pd.MultiIndex.from_frame(months[["run_id", "step"]])
    by_bloc = {b: rows.set_index(["run_id", "step"]) for b, rows in df.groupby("bloc", sort=False)}

    def column(name: str, bloc: str) -> np.ndarray:
        rows = by_bloc.get(bloc)
        if rows is None:
            return np.full(len(months), np.nan)
        return pd.to_numeric(rows[name], errors="coerce").reindex(key).to_numpy(float)

    for spec in specs:
        missing = sorted({c for c, _ in columns_of(spec.tree)} - set(df.columns))
        if missing:
            raise KeyError(f"the results table has no column {', '.join(missing)}")
        values = np.broadcast_to(evaluate(spec.tree, column, spec.bloc), (len(months),))
        frame = pd.DataFrame({"run_id": months["run_id"], "value": values})
        if spec.window is not None:
            lo, hi = spec.window
            frame = frame[(month >= lo) & (month <= hi)]
        groups = frame.groupby("run_id", sort=False)["value"]
        if spec.aggregate == "last":
            agg = frame.groupby("run_id", sort=False).tail(1).set_index("run_id")["value"]
        else:
            agg = getattr(groups, spec.aggregate)()
            if spec.aggregate == "sum":  # a run whose window holds only NaN: NaN, not 0
                agg = agg.where(groups.count() > 0)
        out[spec.name] = agg.reindex(out.index).astype(float)
    return out
