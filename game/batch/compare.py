"""Which outcomes moved between two results (`python main.py compare A B`).

A and B are two results files of `run --out` (one run, or `run --samples` futures) or two sweep
folders. Each run is reduced to yearly outcomes per bloc (end-of-year levels, yearly flows:
OUTCOMES), and runs are paired: by seed for single runs, by sample and seed for sampled
futures, by policy (the levers' values), draw and seed in a sweep.

The rule, per (policy, outcome, bloc, year), over the n pairs' differences d = B - A:
  * identical: every pair is bit-for-bit equal (NaN where the other is NaN);
  * moved: a NaN on one side only, or an outcome on one side only; or, with one pair or
    differences that do not vary (sd 0), any difference beyond float rounding (RTOL): the model
    is deterministic given its seed and inputs, so the same seed must give the same bits and
    there is no noise to allow for; or, with n >= 2 varying differences, |mean d| above
    the critical value of the paired t statistic (mean d / (sd d / sqrt n), n-1 degrees of
    freedom) for a family-wise error of ALPHA over every cell compared (Bonferroni), or above
    --k standard errors when given;
  * within noise: the rest (the runs are not bit-identical: something changed the random
    draws, and this outcome's change is not told apart from the seeds' noise).
Pairing by seed makes the test tight: a change that shifts an outcome by a constant, however
small, shows at once (sd 0 or tiny), while one that only reshuffles the random draws spreads
the differences as much as the seeds do.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from game.config.errors import InputError, Problem

# End-of-year levels and yearly flows of the results contract (game/sim/results.py).
LEVELS = [
    "frontier_capability",
    "gap_months",
    "compute_h100e",
    "domestic_share",
    "smuggled_share",
]
FLOWS = ["vendor_revenue_usd", "chips_smuggled", "chips_seized"]
OUTCOMES = LEVELS + FLOWS
ALPHA = 0.01
RTOL = 1e-9
ATOL = 1e-12
KEYS = ["group", "pair", "bloc", "year", "outcome"]


@dataclass
class Results:
    """One side of a comparison: its outcomes as a long table (KEYS + value)."""

    path: Path
    kind: str  # "run", "samples" or "sweep"
    outcomes: pd.DataFrame
    provenance: dict[str, Any] | None
    runs: int
    notes: list[str] = field(default_factory=list)


def yearly_outcomes(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per run (`keys`), bloc and year: OUTCOMES, as a long table (keys, bloc, year, outcome,
    value). Levels are the year's last month, flows the year's sum."""
    df = rows.copy()
    df["year"] = df["date"].astype(str).str.slice(0, 4).astype(int)
    df = df.sort_values([*keys, "step"], kind="stable")
    by = [*keys, "year", "bloc"]
    last = df.groupby(by, sort=True)[LEVELS].last()
    flows = df.groupby(by, sort=True)[FLOWS].sum(min_count=1)
    wide = last.join(flows).reset_index()
    return wide.melt(id_vars=by, value_vars=OUTCOMES, var_name="outcome", value_name="value")


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, keep_default_na=True)
    except Exception as exc:
        raise InputError(
            Problem(
                f"cannot read it as a table ({type(exc).__name__}: {exc})"[:300], file=str(path)
            )
        ) from None


def _require(frame: pd.DataFrame, columns: list[str], path: Path, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(Problem(f"not {what}: no column {', '.join(missing[:3])}", file=str(path)))


def _provenance(path: Path) -> dict[str, Any] | None:
    from game.batch.provenance import read

    try:
        return read(path)
    except InputError:
        return None


def load(path: str | Path) -> Results:
    """A results file or a sweep folder, reduced to paired yearly outcomes; InputError naming
    the file when it is neither."""
    path = Path(path)
    if path.is_dir():
        return _load_sweep(path)
    if not path.exists():
        raise InputError(Problem("no such file or folder", file=str(path)))
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(
            Problem("expected a results file (.csv or .parquet) or a sweep folder", file=str(path))
        )
    table = _read_table(path)
    _require(table, ["date", "step", "bloc", *OUTCOMES], path, "a results file of `run --out`")
    prov = _provenance(path)
    notes = [] if prov else ["no provenance: paired without checking seeds"]
    if "sample" in table.columns:
        seeds = (prov or {}).get("seeds") or []
        table["pair"] = [
            f"sample {s}, seed {seeds[s]}" if 0 <= s < len(seeds) else f"sample {s}"
            for s in table["sample"].astype(int)
        ]
        kind = "samples"
    else:
        seed = (prov or {}).get("seed")
        table["pair"] = f"seed {seed}" if seed is not None else "the run"
        kind = "run"
    table["group"] = ""
    long = yearly_outcomes(table, ["group", "pair"])
    return Results(path, kind, long, prov, table["pair"].nunique(), notes)


def _load_sweep(folder: Path) -> Results:
    tables = {}
    for name in ("experiments", "outcomes"):
        found = [folder / f"{name}{ext}" for ext in (".parquet", ".csv")]
        found = [p for p in found if p.exists()]
        if not found:
            raise InputError(
                Problem(
                    f"not a finished sweep folder: no {name}.parquet or {name}.csv",
                    file=str(folder),
                )
            )
        tables[name] = _read_table(found[0])
    exp, out = tables["experiments"], tables["outcomes"]
    _require(exp, ["run_id", "policy", "draw", "seed", "status"], folder, "a sweep's experiments")
    _require(out, ["run_id", "date", "step", "bloc", *OUTCOMES], folder, "a sweep's outcomes")
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    levers = [c for c in manifest.get("levers", []) if c in exp.columns]
    ok = exp[exp["status"] == "ok"].copy()

    def label(row: Any) -> str:
        return ", ".join(f"{k}={row[k]}" for k in levers) or "-"

    ok["group"] = [label(r) for _, r in ok.iterrows()] if levers else "-"
    ok["pair"] = [f"draw {d}, seed {s}" for d, s in zip(ok["draw"], ok["seed"], strict=True)]
    rows = out.merge(ok[["run_id", "group", "pair"]], on="run_id", how="inner")
    long = yearly_outcomes(rows, ["group", "pair"])
    notes = []
    failed = int((exp["status"] != "ok").sum())
    if failed:
        notes.append(f"{failed} failed run(s) left out")
    return Results(folder, "sweep", long, manifest.get("provenance"), len(ok), notes)


# ----------------------------------------------------------------------------- the test
@dataclass
class Comparison:
    table: pd.DataFrame  # one row per (group, outcome, bloc, year)
    pairs: int
    only_a: list[str]
    only_b: list[str]
    rule: str

    @property
    def moved(self) -> pd.DataFrame:
        return self.table[self.table["verdict"] == "moved"]

    @property
    def noisy(self) -> pd.DataFrame:
        return self.table[self.table["verdict"] == "within noise"]


def compare(
    a: Results, b: Results, k: float | None = None, alpha: float = ALPHA, rtol: float = RTOL
) -> Comparison:
    """Pair A's and B's runs and judge each (group, outcome, bloc, year) as the module says."""
    if a.kind != b.kind:
        raise InputError(
            Problem(
                f"cannot pair {a.kind} results with {b.kind} results: compare two files of "
                "`run --out`, two of `run --samples --out`, or two sweep folders",
                file=str(b.path),
            )
        )
    pa_ = set(zip(a.outcomes["group"], a.outcomes["pair"], strict=True))
    pb_ = set(zip(b.outcomes["group"], b.outcomes["pair"], strict=True))
    shared = pa_ & pb_
    if not shared:
        raise InputError(
            Problem(
                "no run of B pairs with one of A (same policy, sample or draw and seed): "
                f"A has {_some(pa_)}, B has {_some(pb_)}",
                file=str(b.path),
            )
        )

    def keep(o: pd.DataFrame) -> pd.DataFrame:
        mask = [(g, p) in shared for g, p in zip(o["group"], o["pair"], strict=True)]
        return o[mask]

    merged = keep(a.outcomes).merge(
        keep(b.outcomes), on=KEYS, how="outer", suffixes=("_a", "_b"), indicator=True
    )
    rows = []
    cells = merged.groupby(["group", "outcome", "bloc", "year"], sort=False)
    m = max(1, cells.ngroups)
    from scipy.stats import t as student_t

    for (group, outcome, bloc, year), cell in cells:
        va, vb = cell["value_a"].to_numpy(float), cell["value_b"].to_numpy(float)
        one_side = (cell["_merge"] != "both").any()
        nan_a, nan_b = np.isnan(va), np.isnan(vb)
        both = ~nan_a & ~nan_b
        d = (vb - va)[both]
        n = int(both.sum())
        mean_a = float(np.mean(va[both])) if n else math.nan
        mean_b = float(np.mean(vb[both])) if n else math.nan
        mean_d = float(np.mean(d)) if n else math.nan
        se = float(np.std(d, ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
        tol = ATOL + rtol * max(abs(mean_a), abs(mean_b)) if n else ATOL
        tstat, crit = math.nan, math.nan
        if one_side:
            verdict, why = "moved", "on one side only"
        elif (nan_a != nan_b).any():
            verdict, why = "moved", "NaN on one side"
        elif n == 0 or np.array_equal(va[both], vb[both]):
            verdict, why = "identical", ""
        elif np.max(np.abs(d)) <= tol:
            verdict, why = "identical", "within float rounding"
        elif n < 2 or not se > tol:
            verdict, why = "moved", "same seed, different result" if n < 2 else "constant shift"
        else:
            tstat = mean_d / se
            crit = k if k is not None else float(student_t.ppf(1 - alpha / (2 * m), n - 1))
            moved = abs(tstat) > crit and abs(mean_d) > tol
            verdict, why = ("moved", "") if moved else ("within noise", "")
        rows.append(
            {
                "group": group,
                "outcome": outcome,
                "bloc": bloc,
                "year": int(year),
                "pairs": n,
                "A": mean_a,
                "B": mean_b,
                "diff": mean_d,
                "se": se,
                "t": tstat,
                "critical": crit,
                "verdict": verdict,
                "why": why,
            }
        )
    table = pd.DataFrame(rows)
    rule = (
        f"moved: |mean paired difference| > {k:g} standard errors"
        if k is not None
        else f"moved: paired t beyond the critical value for a {alpha:g} family-wise error "
        f"over {m} cells (Bonferroni)"
    ) + "; with one pair or a constant difference, any difference beyond float rounding"
    return Comparison(
        table=table,
        pairs=len(shared),
        only_a=sorted(f"{g} {p}".strip() for g, p in pa_ - pb_),
        only_b=sorted(f"{g} {p}".strip() for g, p in pb_ - pa_),
        rule=rule,
    )


def _some(pairs: set[tuple[str, str]]) -> str:
    names = sorted(f"{g} {p}".strip() for g, p in pairs)
    return ", ".join(names[:3]) + (f" (and {len(names) - 3} more)" if len(names) > 3 else "")


# ----------------------------------------------------------------------------- the text
def _num(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    if a != 0 and (a >= 1e6 or a < 1e-3):
        return f"{v:.4g}"
    return f"{v:,.4f}".rstrip("0").rstrip(".") if a < 1000 else f"{v:,.1f}"


def describe(side: str, r: Results) -> str:
    prov = r.provenance or {}
    ver = prov.get("model_version") or {}
    version = (ver.get("git_commit") or "")[:10] or ver.get("version") or "?"
    if ver.get("git_dirty"):
        version += " (uncommitted changes)"
    inputs = (prov.get("inputs") or {}).get("sha256", "")[:12] or "?"
    scen = (prov.get("scenario") or {}).get("name", "?")
    line = f"{side}: {r.path} ({r.kind}, {r.runs} run(s); scenario {scen}, model {version}, "
    line += f"inputs {inputs})"
    return line + "".join(f"\n   {n}" for n in r.notes)


def report(a: Results, b: Results, c: Comparison, show: int = 40, everything: bool = False) -> str:
    """The comparison as text: both sides, the pairing, the rule, and the outcomes that moved."""
    from game.batch.provenance import changed_inputs

    lines = [describe("A", a), describe("B", b)]
    if a.provenance and b.provenance:
        files = changed_inputs(a.provenance.get("inputs", {}), b.provenance.get("inputs", {}))
        if files:
            lines.append("Input files that differ: " + ", ".join(files))
    lines.append(
        f"Paired {c.pairs} run(s)"
        + (f"; {len(c.only_a)} only in A ({_some_list(c.only_a)})" if c.only_a else "")
        + (f"; {len(c.only_b)} only in B ({_some_list(c.only_b)})" if c.only_b else "")
        + "."
    )
    lines.append(f"Rule: {c.rule}.")
    t = c.table
    counts = t["verdict"].value_counts()
    lines.append(
        f"{len(t)} outcome cells (policy x outcome x bloc x year): "
        f"{counts.get('identical', 0)} identical, {counts.get('within noise', 0)} within seed "
        f"noise, {counts.get('moved', 0)} moved."
    )
    shown = t if everything else c.moved
    if len(shown):
        shown = shown.assign(_rank=shown["t"].abs().fillna(np.inf)).sort_values(
            ["_rank", "outcome"], ascending=[False, True], kind="stable"
        )
        cols = ["outcome", "bloc", "year", "pairs", "A", "B", "diff", "se", "t", "verdict", "why"]
        if (shown["group"] != "").any():
            cols.insert(0, "group")
        view = shown[cols].head(show if not everything else len(shown)).copy()
        for col in ("A", "B", "diff", "se", "t"):
            view[col] = view[col].map(_num)
        lines.append("")
        lines.append(view.rename(columns={"group": "policy"}).to_string(index=False))
        if not everything and len(shown) > show:
            lines.append(f"... and {len(shown) - show} more (--all shows every cell)")
    lines.append("")
    if counts.get("moved", 0):
        lines.append(f"MOVED: {counts['moved']} outcome cell(s) moved beyond seed noise.")
    elif counts.get("within noise", 0):
        lines.append(
            "Nothing moved beyond seed noise, but the runs are not bit-identical: something "
            "changed the random draws (the model, its inputs or the environment)."
        )
    else:
        lines.append("Nothing moved: every paired outcome is identical.")
    return "\n".join(lines)


def _some_list(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
