"""Scenario discovery (`python main.py discover DIR --where "OUTCOME < VALUE"`): which levers and
uncertainties lead a sweep's runs to a condition on one outcome, found with PRIM (the patient
rule induction method) and CART beside it, both from the EMA Workbench's analysis package
(ema_workbench.analysis.prim and .cart, imported only here and only when discover runs: the
package takes seconds to import).

A box is a set of ranges (or values) of some inputs. Its *coverage* is the share of the runs
meeting the condition that fall in the box; its *density* the share of the runs in the box that
meet the condition. PRIM peels the box from all runs down to denser and smaller ones; the
trade-off between coverage and density along the way is the peeling chart, and the box reported
is the densest one keeping at least the coverage asked for (80% unless `--coverage` says).

Writes DIR/discovery/<condition>/: summary.md (the boxes in words), prim_trajectory.csv,
prim_box.csv, cart_boxes.csv and prim_tradeoff.png.
"""

from __future__ import annotations

import io
import math
import operator
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from game.batch.output import save_bytes, save_frame
from game.config.errors import InputError, Problem
from game.reports.analysis.metrics import METRICS, lever_value, run_metrics
from game.reports.analysis.runs import load_with_outcomes, per_run_table

# Fewer runs than this and PRIM's peels (5% of the runs each) are single runs: boxes from
# chance. 50 runs is already few; the experiment files' designs make 40 to 10,000.
MIN_RUNS = 30
MIN_COVERAGE = 0.8
# A restriction whose quasi-p value (EMA's binomial test of the box with and without it) is
# above this on every side it restricts is one chance alone makes as often: it is dropped.
QP_ALPHA = 0.05
# Fewer distinct draws of the uncertainties than this and a box on one of them is likely chance.
MIN_DRAWS = 30
_WHERE = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Condition:
    outcome: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.value:g}"

    def slug(self) -> str:
        ops = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
        return f"{self.outcome}_{ops[self.op]}_{self.value:g}".replace("-", "m").replace("+", "")

    def holds(self, values: np.ndarray) -> np.ndarray:
        return _OPS[self.op](values, self.value)


def parse_where(text: str) -> Condition:
    """'final_gap < 3' -> Condition; InputError naming --where otherwise."""
    m = _WHERE.match(text)
    if m is None:
        raise InputError(
            Problem(
                f"expected OUTCOME < VALUE or OUTCOME > VALUE (or <=, >=), e.g. "
                f'"final_gap < 3", got {text!r}',
                key="--where",
            )
        )
    return Condition(m["name"], m["op"], float(m["value"]))


@dataclass
class Box:
    """One box: its stats and its limits on the restricted inputs, in words and as rows."""

    coverage: float
    density: float
    mass: float
    runs: int
    limits: list[dict[str, Any]]  # one per restricted input: name, lower, upper, values, text
    dropped: list[str] = field(default_factory=list)  # restrictions chance would make as often

    def words(self) -> str:
        return " and ".join(lim["text"] for lim in self.limits) or "any conditions"


@dataclass
class Discovery:
    condition: Condition
    runs: int  # runs with a value of the outcome
    hits: int  # of them, those meeting the condition
    left_out: int  # ok runs without a value (NaN)
    inputs: list[str]
    prim: Box
    trajectory: pd.DataFrame
    selected: int
    cart: list[Box]
    described: str  # how the summary names the condition
    min_coverage: float = MIN_COVERAGE
    draws: int = 0  # distinct draws of the uncertainties
    uncertainties: int = 0  # uncertainties that vary

    @property
    def base_rate(self) -> float:
        return self.hits / self.runs


def discover(folder: str | Path, where: str, min_coverage: float = MIN_COVERAGE) -> Discovery:
    """PRIM and CART on a sweep folder for the condition `where`; InputError with one clear
    message for a folder that is not a sweep, an unknown outcome, a condition no run or every
    run meets, too few runs or nothing varied."""
    condition = parse_where(where)
    sweep, own = load_with_outcomes(folder)
    names = [*METRICS, *(o.name for o in own)]
    if condition.outcome not in names:
        raise InputError(
            Problem(
                f"unknown outcome '{condition.outcome}'; expected one of: {', '.join(names)} "
                "(the fixed outcomes and the experiment file's own)",
                key="--where",
            )
        )
    table = per_run_table(sweep, own, run_metrics(sweep))
    values = table[condition.outcome].to_numpy(float)
    finite = np.isfinite(values)
    table, values = table[finite].reset_index(drop=True), values[finite]
    n = len(table)
    if n < MIN_RUNS:
        raise InputError(
            Problem(
                f"scenario discovery needs at least {MIN_RUNS} successful runs with a value of "
                f"{condition.outcome}; this sweep has {n}: draw more samples or replications "
                "in the experiment file and sweep again",
                file=str(sweep.folder),
            )
        )
    inputs = [c for c in [*sweep.levers, *sweep.uncertainties] if table[c].nunique(dropna=True) > 1]
    if not inputs:
        raise InputError(
            Problem(
                "no lever or uncertainty varies in this sweep: there is nothing to find "
                "conditions on",
                file=str(sweep.folder),
            )
        )
    y = condition.holds(values)
    hits = int(y.sum())
    spread = f"its values run from {np.min(values):.4g} to {np.max(values):.4g}"
    if hits == 0 or hits == n:
        raise InputError(
            Problem(
                f"{'no' if hits == 0 else 'every'} run of {n} has {condition} ({spread}); "
                "choose a value that some runs meet and others do not",
                key="--where",
            )
        )
    x = _inputs(table, inputs)
    unc = [c for c in inputs if c in sweep.uncertainties]
    draws = len(table[unc].drop_duplicates()) if unc else 0
    own_words = {o.name: o.words() for o in own}
    described = (
        f"{condition}"
        if condition.outcome not in own_words
        else f"{condition} ({own_words[condition.outcome]})"
    )
    prim_box, trajectory, selected = _prim(x, y, min_coverage)
    return Discovery(
        condition=condition,
        runs=n,
        hits=hits,
        left_out=int((~finite).sum()),
        inputs=inputs,
        prim=prim_box,
        trajectory=trajectory,
        selected=selected,
        cart=_cart(x, y),
        described=described,
        min_coverage=min_coverage,
        draws=draws,
        uncertainties=len(unc),
    )


def _inputs(table: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """The inputs as PRIM takes them: numbers as floats, anything else as categories."""
    x = pd.DataFrame(index=table.index)
    for c in inputs:
        col = table[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            x[c] = col.astype(float)
        else:
            x[c] = pd.Categorical(col.map(lever_value))
    return x


def _ema() -> tuple[Any, Any]:
    """The EMA Workbench's PRIM and CART modules (slow to import; its framework warns about
    optional parallel back-ends discover does not use)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import cart, prim
    except ImportError:
        raise InputError(
            Problem(
                "scenario discovery needs the EMA Workbench: pip install ema_workbench "
                "(a dependency in pyproject.toml)"
            )
        ) from None
    return prim, cart


def _prim(x: pd.DataFrame, y: np.ndarray, min_coverage: float) -> tuple[Box, pd.DataFrame, int]:
    prim, _ = _ema()
    with warnings.catch_warnings():  # the package's own pandas deprecations
        warnings.simplefilter("ignore")
        runner = prim.Prim(x, y.astype(int), threshold=float(y.mean()))
        box = runner.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    ok = traj[traj["coverage"] >= min_coverage - 1e-9]
    if ok.empty:
        ok = traj
    best = ok.sort_values(["density", "res_dim", "coverage"], ascending=[False, True, False])
    i = int(best.index[0])
    i, dropped = _drop_chance_restrictions(box, i)
    traj = box.peeling_trajectory.reset_index(drop=True)
    row = traj.iloc[i]
    qp = box.qp[i] if i < len(box.qp) else {}
    limits = _limits(box.box_lims[i], runner.box_init, qp)
    found = Box(
        float(row["coverage"]),
        float(row["density"]),
        float(row["mass"]),
        int(row["n"]),
        limits,
        dropped=dropped,
    )
    return found, traj, i


def _drop_chance_restrictions(box: Any, i: int) -> tuple[int, list[str]]:
    """Box i without the restrictions that chance alone would make as often (quasi-p above
    QP_ALPHA on every side it restricts), one at a time, least significant first: with few
    runs of many inputs PRIM peels on noise, and a box that names eight inputs when two matter
    sends an analyst after six ghosts. EMA's PrimBox.drop_restriction adds each reduced box to
    the trajectory; returns the final box's index and the inputs dropped."""
    dropped: list[str] = []
    while True:
        qp = box.qp[i] if i < len(box.qp) else {}
        weakest = None
        for name, sides in qp.items():
            ps = [float(p) for p in sides if p is not None and p != -1 and not math.isnan(p)]
            if ps and min(ps) > QP_ALPHA and (weakest is None or min(ps) > weakest[1]):
                weakest = (name, min(ps))
        if weakest is None:
            return i, dropped
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                box.drop_restriction(weakest[0], i)
            except Exception:  # a restriction the package cannot drop: keep the box as it is
                return i, dropped
        dropped.append(weakest[0])
        i = len(box.box_lims) - 1


def _cart(x: pd.DataFrame, y: np.ndarray) -> list[Box]:
    """CART's leaves where the condition holds more often than overall, densest first."""
    _, cart = _ema()
    tree = cart.CART(x, y.astype(int), mass_min=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree.build_tree()
        boxes, stats = tree.boxes, tree.stats
    init = boxes_init(x)
    out = []
    for lims, st in zip(boxes, stats, strict=True):
        if float(st["density"]) <= y.mean():
            continue
        out.append(
            Box(
                float(st["coverage"]),
                float(st["density"]),
                float(st["mass"]),
                int(round(float(st["mass"]) * len(y))),
                _limits(lims, init, {}),
            )
        )
    return sorted(out, key=lambda b: (-b.density, -b.coverage))


def boxes_init(x: pd.DataFrame) -> pd.DataFrame:
    """The box of every run: each number's range, each category's set of values."""
    cols = {}
    for c in x.columns:
        if isinstance(x[c].dtype, pd.CategoricalDtype):
            cats = set(x[c].cat.categories)
            cols[c] = [cats, cats]
        else:
            cols[c] = [x[c].min(), x[c].max()]
    return pd.DataFrame(cols)


def _limits(lims: pd.DataFrame, init: pd.DataFrame, qp: dict[str, Any]) -> list[dict[str, Any]]:
    """The restricted inputs of a box, with their limits and how the text writes them."""
    out = []
    for c in init.columns:
        lo, hi = lims[c].iloc[0], lims[c].iloc[1]
        lo0, hi0 = init[c].iloc[0], init[c].iloc[1]
        p = qp.get(c, [math.nan, math.nan])
        p = [math.nan if v is None or v == -1 else float(v) for v in p]
        if isinstance(lo, set):
            if set(lo) == set(lo0):
                continue
            values = sorted(map(str, lo))
            text = f"{c} = {values[0]}" if len(values) == 1 else f"{c} in {{{', '.join(values)}}}"
            out.append(
                {
                    "input": c,
                    "lower": None,
                    "upper": None,
                    "values": "|".join(values),
                    "text": text,
                    "qp_lower": p[0],
                    "qp_upper": p[1],
                }
            )
            continue
        low, high = float(lo) > float(lo0), float(hi) < float(hi0)
        if not (low or high):
            continue
        if low and high:
            text = f"{_num(lo)} <= {c} <= {_num(hi)}"
        elif low:
            text = f"{c} >= {_num(lo)}"
        else:
            text = f"{c} <= {_num(hi)}"
        out.append(
            {
                "input": c,
                "lower": float(lo),
                "upper": float(hi),
                "values": "",
                "text": text,
                "qp_lower": p[0],
                "qp_upper": p[1],
            }
        )
    return out


def _num(v: float) -> str:
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


# ----------------------------------------------------------------------------- writing
def box_sentence(d: Discovery, box: Box) -> str:
    """'final_gap < 3 in 62% of the runs where enforcement <= 1.4 and ... (coverage 80%,
    density 62%)'."""
    return (
        f"{d.described} in {_pct(box.density)} of the runs where {box.words()} "
        f"(coverage {_pct(box.coverage)}, density {_pct(box.density)}; {box.runs} runs)"
    )


def summary_text(d: Discovery, folder: Path) -> str:
    lines = [
        f"# Scenario discovery: {d.condition}",
        "",
        f"Sweep: `{folder}`. {d.hits} of {d.runs} runs ({_pct(d.base_rate)}) have "
        f"{d.described}."
        + (
            f" {d.left_out} runs without a value of {d.condition.outcome} are left out."
            if d.left_out
            else ""
        ),
        f"Inputs searched ({len(d.inputs)}): {_names(d.inputs)}.",
        "",
        *_few_draws(d),
        "Coverage: the share of the runs meeting the condition that fall in the box. Density: "
        "the share of the runs in the box that meet it. The box holds the runs within its limits "
        "(PRIM cuts between the values of the runs; inputs not named are not restricted).",
        "",
        "## PRIM",
        "",
        box_sentence(d, d.prim) + ".",
        "",
        *(
            [
                "Restrictions dropped as no better than chance (quasi-p above "
                f"{QP_ALPHA:g} on every side): {_names(d.prim.dropped)}.",
                "",
            ]
            if d.prim.dropped
            else []
        ),
        f"The densest box on PRIM's peeling trajectory with a coverage of at least "
        f"{_pct(d.min_coverage)} (box "
        f"{d.selected} of the {len(d.trajectory)} on the trajectory, box 0 holding every run; "
        "prim_tradeoff.png shows them all, "
        "prim_trajectory.csv lists them).",
        "",
    ]
    if d.prim.limits:
        lines += [
            "| Input | Lower | Upper | Values | Quasi-p (lower, upper) |",
            "|---|---:|---:|---|---|",
        ]
        for lim in d.prim.limits:
            lines.append(
                f"| {lim['input']} | {'' if lim['lower'] is None else _num(lim['lower'])} | "
                f"{'' if lim['upper'] is None else _num(lim['upper'])} | {lim['values']} | "
                f"{_qp(lim['qp_lower'])}, {_qp(lim['qp_upper'])} |"
            )
        lines.append("")
    lines += ["## CART", ""]
    if d.cart:
        lines.append(
            "The tree's leaves where the condition holds more often than in all runs, densest "
            "first:"
        )
        lines.append("")
        lines += [f"- {box_sentence(d, b)}" for b in d.cart[:5]]
    else:
        lines.append("No leaf of the tree holds the condition more often than all runs do.")
    lines.append("")
    return "\n".join(lines)


def _names(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _few_draws(d: Discovery) -> list[str]:
    """A caution when the uncertainties were drawn so few times that one of them separates the
    runs by chance (with 4 draws of 84 parameters, some parameter always does)."""
    if not d.uncertainties or d.draws >= MIN_DRAWS:
        return []
    return [
        f"**Caution**: only {d.draws} distinct draws of {d.uncertainties} uncertain "
        f"parameters; with fewer than {MIN_DRAWS}, a box or leaf on an uncertain parameter is "
        "likely chance (some parameter separates so few draws whatever the model does). Draw "
        "more samples in the experiment file.",
        "",
    ]


def _qp(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.2g}"


def tradeoff_plot(d: Discovery, path: Path) -> Path:
    """PRIM's peeling trajectory: coverage against density, coloured by restricted inputs."""
    t = d.trajectory
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    dims = t["res_dim"].astype(int)
    sc = ax.scatter(t["coverage"], t["density"], c=dims, cmap="viridis", s=28, zorder=2)
    ax.plot(t["coverage"], t["density"], color="0.7", lw=0.8, zorder=1)
    s = t.iloc[d.selected]
    ax.scatter(
        [s["coverage"]],
        [s["density"]],
        s=160,
        facecolors="none",
        edgecolors="tab:red",
        lw=1.6,
        zorder=3,
        label=f"reported box ({d.selected})",
    )
    ax.axhline(d.base_rate, color="0.5", ls=":", lw=1, label=f"all runs ({_pct(d.base_rate)})")
    cbar = fig.colorbar(sc, ax=ax)
    cbar.set_label("restricted inputs")
    if dims.max() > dims.min():
        cbar.set_ticks(sorted(set(dims)))
    ax.set_xlabel("coverage (share of the runs meeting the condition that are in the box)")
    ax.set_ylabel("density (share of the box's runs\nthat meet the condition)")
    ax.set_title(f"PRIM peeling trajectory: {d.condition}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    save_bytes(path, buf.getvalue())
    return path


def write_discovery(d: Discovery, folder: str | Path) -> list[Path]:
    """DIR/discovery/<condition>/: the summary, the tables and the chart."""
    out = Path(folder) / "discovery" / d.condition.slug()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            Problem(f"cannot create the discovery folder ({exc.strerror})", file=str(out))
        ) from None
    written = []
    traj = d.trajectory.rename_axis("box").reset_index()
    save_frame(traj, out / "prim_trajectory.csv")
    written.append(out / "prim_trajectory.csv")
    columns = ["input", "lower", "upper", "values", "qp_lower", "qp_upper"]
    prim_rows = pd.DataFrame(
        [{k: lim[k] for k in columns} for lim in d.prim.limits], columns=columns
    ).assign(coverage=d.prim.coverage, density=d.prim.density, box=d.selected)
    save_frame(prim_rows, out / "prim_box.csv")
    written.append(out / "prim_box.csv")
    cart_rows = pd.DataFrame(
        [
            {
                "leaf": i,
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "conditions": b.words(),
            }
            for i, b in enumerate(d.cart)
        ],
        columns=["leaf", "coverage", "density", "mass", "conditions"],
    )
    save_frame(cart_rows, out / "cart_boxes.csv")
    written.append(out / "cart_boxes.csv")
    written.append(tradeoff_plot(d, out / "prim_tradeoff.png"))
    summary = out / "summary.md"
    save_bytes(summary, summary_text(d, Path(folder)).encode())
    written.append(summary)
    return written
