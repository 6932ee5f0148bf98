"""The results contract: one row per (month, bloc), the columns and what each means, how a month's
row is computed from the model, and the yearly summary the CLI prints."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from game.core.capability import gap_months
from game.core.gap_kernel import leader_of
from game.core.ledger import PROVENANCES
from game.sim.record_kernel import FLOAT_ROWS, INT_ROWS, bloc_record_into, sales_rows

if TYPE_CHECKING:
    from game.sim.model import ChipWarModel

# (column, meaning) - the README's table of columns is generated from this list.
COLUMNS: list[tuple[str, str]] = [
    ("date", "month, YYYY-MM"),
    ("step", "model step (1 = the scenario's first month)"),
    ("bloc", "bloc id from assets/data/countries.yaml (us, china, allies, rest)"),
    (
        "frontier_capability",
        "capability index of the bloc's best model (10 points per tenfold effective compute)",
    ),
    ("median_capability", "median capability index of the bloc's frontier labs that have a model"),
    (
        "gap_months",
        "months since the leading bloc first reached this bloc's frontier capability, both "
        "averaged over one training cycle (run_months) so that the gap does not jump when a "
        "single run ends (0 for the leader)",
    ),
    (
        "compute_h100e",
        "installed chips held by the bloc's labs, in H100-equivalents of dense BF16 throughput",
    ),
    (
        "effective_compute_h100e",
        "the same after each chip's software-ecosystem and interconnect losses: what the bloc's "
        "labs can use (their largest runs are built on one cluster at one site: see "
        "largest_run_flop)",
    ),
    ("legal_share", "share of compute_h100e bought legally from foreign vendors"),
    ("compliant_share", "share of compute_h100e that is compliant variants (A800, H800, H20, ...)"),
    ("domestic_share", "share of compute_h100e from the bloc's own vendors"),
    ("smuggled_share", "share of compute_h100e that came through the gray market"),
    ("rented_share", "share of compute_h100e rented in foreign data centres"),
    ("chips_smuggled", "smuggled chips delivered to the bloc's labs this month"),
    ("chips_seized", "chips bound for the bloc seized in transit this month"),
    (
        "gray_price_usd",
        "gray-market price of the most sought restricted chip this month (NaN if no gray market)",
    ),
    ("gray_chip", "that chip's id (empty if no gray market)"),
    ("brokers_active", "smuggling brokers in business (market-wide)"),
    ("chips_bought", "chips the bloc's labs bought or rented legally this month"),
    (
        "spending_usd",
        "what the bloc's labs spent on compute this month, gray orders included, net of the "
        "refunds of gray orders brokers could not fill or that were seized",
    ),
    ("vendor_revenue_usd", "vendors' revenue from sales to the bloc's labs this month"),
    ("budget_usd", "the bloc's labs' monthly compute budgets"),
    ("algorithmic_efficiency", "the bloc's algorithmic efficiency multiplier (1 at the start)"),
    ("largest_run_flop", "physical FLOP of the largest training run the bloc has finished"),
    (
        "technique_multiplier",
        "effective-compute multiplier of the training techniques (mixture of experts) behind "
        "the bloc's best model (1: a dense model)",
    ),
]
COLUMN_NAMES = [c for c, _ in COLUMNS]


def bloc_arrays(model: ChipWarModel) -> tuple[np.ndarray, np.ndarray]:
    """The month's numbers for every bloc, read from the model at the end of a step:
    ([FLOAT_ROWS, bloc] floats, [INT_ROWS, bloc] int64), bloc_columns_reference's values
    (write_bloc_arrays') as a new pair."""
    n_blocs = len(model.bloc_ids)
    floats = np.empty((len(FLOAT_ROWS), n_blocs))
    ints = np.empty((len(INT_ROWS), n_blocs), np.int64)
    write_bloc_arrays(model, floats, ints)
    return floats, ints


def write_bloc_arrays(model: ChipWarModel, floats: np.ndarray, ints: np.ndarray) -> None:
    """bloc_arrays' numbers written into [FLOAT_ROWS, bloc] floats and [INT_ROWS, bloc]
    int64 (the results table's rows for the month: no pair to copy in), from one compiled
    kernel (game/sim/record_kernel.py): the labs' chips by provenance (the reference's
    einsum, in its order), the blocs' sums, shares, flows and best runs cost a dozen numpy
    calls and a loop over the labs every month."""
    labs, chips, books, view = model.labs, model.chips, model.books, model.view
    bloc_record_into(
        model.ledger.by_provenance(),
        chips.h100e,
        labs.bloc,
        len(model.bloc_ids),
        view.lab_pool_flops,
        books.smuggled_by_lab,
        books.seized_by_lab,
        books.bought_by_lab,
        labs.spent_month,
        labs.founded,
        model.month,
        labs.budget,
        float(chips.tflops[chips.reference] * 1e12),
        labs.best_run_flop,
        labs.frontier,
        labs.capability,
        labs.technique_gain,
        np.asarray(model.frontier_hist[-1], float),
        np.asarray(model.median_capability(), float),
        np.asarray(_gaps(model), float),
        np.asarray(books.revenue_by_bloc, float),
        np.asarray(model.efficiency, float),
        floats,
        ints,
    )


def gray_market_now(model: ChipWarModel) -> tuple[float, str]:
    """(gray_price_usd, gray_chip) of the month: NaN and '' when there is no gray market."""
    view = model.view
    g = view.gray_chip
    if g >= 0:
        return float(view.gray_price), model.chips.ids[g]
    return float("nan"), ""


def bloc_columns(model: ChipWarModel) -> dict[str, list[Any]]:
    """The month's rows for every bloc as columns (one value per bloc, in bloc order), with
    bloc_columns_reference's values and Python types: bloc_arrays' numbers as lists."""
    table, counts = bloc_arrays(model)
    gray_price, gray_chip = gray_market_now(model)
    month = {
        "date": model.date,
        "step": model.turn,
        "gray_price_usd": gray_price,
        "gray_chip": gray_chip,
        "brokers_active": int(np.count_nonzero(model.brokers.alive)),
    }
    return _month_columns(model.bloc_ids, month, table.tolist(), counts.tolist())


def _month_columns(
    bloc_ids: list[str], month: dict[str, Any], floats: list[list[float]], ints: list[list[int]]
) -> dict[str, list[Any]]:
    """One month's results columns, from its per-month values and its [row][bloc] numbers
    (record_kernel.FLOAT_ROWS and INT_ROWS)."""
    n_blocs = len(bloc_ids)
    out: dict[str, list[Any]] = {}
    for name in COLUMN_NAMES:
        if name == "bloc":
            out[name] = list(bloc_ids)
        elif name in month:
            out[name] = [month[name]] * n_blocs
        elif name in FLOAT_ROWS:
            out[name] = floats[FLOAT_ROWS.index(name)]
        else:
            out[name] = ints[INT_ROWS.index(name)]
    return out


def _gaps(model: ChipWarModel) -> np.ndarray:
    """[bloc] gap_months of this month's smoothed frontier behind its leader's path."""
    smoothed = model.smoothed_frontier()
    leader = leader_of(smoothed[-1])  # the first bloc at the highest (NaN as -inf)
    ppm = model.p.capability_points_per_decade * model.p.prehistory_growth_oom / 12.0
    return gap_months(smoothed[-1], smoothed, leader, ppm, lead=model.leader_path(leader))


def bloc_columns_reference(model: ChipWarModel) -> dict[str, list[Any]]:
    """The month's rows for every bloc, read from the model at the end of a step, as columns
    (one value per bloc, in bloc order): appended to the results table a column at a time.
    The rule in numpy, which bloc_columns' kernel reproduces bit for bit: read this one."""
    labs, chips, books = model.labs, model.chips, model.books
    n_blocs = len(model.bloc_ids)
    # whole counts as floats first (exact): einsum on two float arrays takes no casting buffer,
    # and adds each (lab, provenance)'s chips one after another in chip order either way
    held = model.ledger.by_provenance().astype(float)  # [L, C, P]
    h100e_lp = np.einsum("lcp,c->lp", held, chips.h100e)  # [L, P]
    # [B, P] by bloc: one bincount over (bloc, provenance) cells adds each cell's labs in lab
    # order from 0, as np.add.at over rows does, in one call
    n_prov = len(PROVENANCES)
    cell = _bloc_prov_cells(labs.bloc.tobytes(), labs.bloc.dtype.str, n_prov)
    bloc_prov = np.bincount(cell, weights=h100e_lp.ravel(), minlength=n_blocs * n_prov).reshape(
        n_blocs, n_prov
    )
    compute = np.add.reduce(bloc_prov, axis=1)  # .sum(axis=1) without its Python wrapper
    shares = np.divide(
        bloc_prov, compute[:, None], out=np.zeros_like(bloc_prov), where=compute[:, None] > 0
    )
    frontier = model.frontier_hist[-1]  # the model appended this month's
    gaps = _gaps(model)
    # [flow, bloc] the labs' month flows added up by bloc, one bincount for all (each bin adds
    # its labs in lab order from 0, as a bincount of each flow alone does)
    flows = _by_bloc(
        labs.bloc,
        n_blocs,
        np.add.reduce(model.view.lab_pool_flops, axis=1),
        books.smuggled_by_lab,
        books.seized_by_lab,
        books.bought_by_lab,
        labs.spent_month,
        np.where(labs.founded <= model.month, labs.budget, 0.0),
    )
    pool, smuggled, seized, bought, spent, budget = flows
    eff = pool / (chips.tflops[chips.reference] * 1e12)
    g = model.view.gray_chip
    gray_price = float(model.view.gray_price) if g >= 0 else float("nan")
    runs, gains = _best_runs(model, frontier.tolist())

    def each(value: Any) -> list[Any]:
        return [value] * n_blocs

    def floats(values: np.ndarray) -> list[float]:
        return np.asarray(values, float).tolist()

    def ints(values: np.ndarray) -> list[int]:
        return np.asarray(values).astype(np.int64).tolist()

    return {
        "date": each(model.date),
        "step": each(model.turn),
        "bloc": list(model.bloc_ids),
        "frontier_capability": floats(frontier),
        "median_capability": floats(model.median_capability()),
        "gap_months": floats(gaps),
        "compute_h100e": floats(compute),
        "effective_compute_h100e": floats(eff),
        **{f"{name}_share": col for name, col in zip(PROVENANCES, shares.T.tolist(), strict=True)},
        "chips_smuggled": ints(smuggled),
        "chips_seized": ints(seized),
        "gray_price_usd": each(gray_price),
        "gray_chip": each(chips.ids[g] if g >= 0 else ""),
        "brokers_active": each(int(np.count_nonzero(model.brokers.alive))),
        "chips_bought": ints(bought),
        "spending_usd": floats(spent),
        "vendor_revenue_usd": floats(books.revenue_by_bloc),
        "budget_usd": floats(budget),
        "algorithmic_efficiency": floats(model.efficiency),
        "largest_run_flop": runs,
        "technique_multiplier": gains,
    }


def _by_bloc(bloc: np.ndarray, n_blocs: int, *values: np.ndarray) -> np.ndarray:
    """[value, bloc] each [lab] array added up by the labs' blocs, as np.bincount(bloc,
    weights=values[k]) for each (the same additions in the same order), in one call."""
    k = len(values)
    cell = _stacked_cells(bloc.tobytes(), bloc.dtype.str, n_blocs, k)
    weights = np.concatenate(values, dtype=float)
    return np.bincount(cell, weights=weights, minlength=k * n_blocs).reshape(k, n_blocs)


@functools.lru_cache(maxsize=8)
def _stacked_cells(raw: bytes, dtype: str, n_blocs: int, k: int) -> np.ndarray:
    """[k x lab] the bin of each lab's value in k stacked [bloc] sums (read-only)."""
    bloc = np.frombuffer(raw, dtype)
    cell = (np.arange(k)[:, None] * n_blocs + bloc).ravel()
    cell.flags.writeable = False
    return cell


def _best_runs(model: ChipWarModel, frontier: list[float]) -> tuple[list[float], list[float]]:
    """[bloc] the largest run its labs have finished (NaN if none: np.maximum over the labs,
    NaN kept) and the technique multiplier of its best model: that of its first frontier lab
    at the bloc's frontier (1 if none). In Python floats over a few dozen labs (exact)."""
    labs = model.labs
    n_blocs = len(frontier)
    runs = [-math.inf] * n_blocs
    gains = [1.0] * n_blocs
    found = [False] * n_blocs
    rows = zip(
        labs.bloc.tolist(),
        labs.best_run_flop.tolist(),
        labs.frontier.tolist(),
        labs.capability.tolist(),
        labs.technique_gain.tolist(),
        strict=True,
    )
    for b, run, is_frontier, capability, gain in rows:  # in lab order
        if run != run or run > runs[b]:  # NaN stays, as np.maximum keeps it
            runs[b] = run
        if is_frontier and not found[b] and capability == frontier[b]:
            found[b] = True
            gains[b] = gain
    return [r if r > 0 else math.nan for r in runs], gains


@functools.lru_cache(maxsize=8)
def _bloc_prov_cells(raw: bytes, dtype: str, n_prov: int) -> np.ndarray:
    """[lab x provenance] the (bloc, provenance) cell of each lab's provenance, flattened:
    kept by the blocs' contents, as the results ask every month (read-only)."""
    bloc = np.frombuffer(raw, dtype)
    cell = (bloc[:, None] * n_prov + np.arange(n_prov)).ravel()
    cell.flags.writeable = False
    return cell


def _price_factor(model: ChipWarModel, c: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """[row] the vendor's own price factor for each (chip, bloc) row: its `china_price` lever
    on sales billed to the target's bloc (1 elsewhere, and when no vendor moved it)."""
    markup = model.policy.targets("china_price")
    if not any(markup.values()):
        return 1.0
    up = np.array([float(markup.get(v, 0.0)) for v in model.vendor_ids])[model.chips.vendor[c]]
    return np.where(b == model.china_bloc, 1.0 + up, 1.0)


def sales_arrays(model: ChipWarModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The month's sales, one row per (chip, bloc) that sold anything, in (chip, bloc) order:
    [row] chip, bloc billed, units (int64) and revenue at vendor prices. sales_arrays_reference's
    rows from one compiled kernel (game/sim/record_kernel.py), as the results ask every month."""
    units, price = model.books.sales_units, model.view.price
    markup = model.policy.targets("china_price")
    marked_up = any(markup.values())
    if marked_up:
        up = np.array([float(markup.get(v, 0.0)) for v in model.vendor_ids])
    else:
        up = _NO_MARKUP
    if units.dtype != np.int64 or price.dtype != np.float64 or units.shape[0] != price.size:
        return sales_arrays_reference(model)
    return sales_rows(units, price, model.chips.vendor, up, marked_up, int(model.china_bloc))


_NO_MARKUP = np.zeros(0)


def sales_arrays_reference(
    model: ChipWarModel,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sales_arrays in numpy, which the kernel reproduces bit for bit: read this one."""
    units = model.books.sales_units
    c, b = units.nonzero()
    n = units[c, b].astype(np.int64)
    return c, b, n, n * model.view.price[c] * _price_factor(model, c, b)


def sales_columns(model: ChipWarModel) -> dict[str, list[Any]]:
    """The month's sales, one row per (chip, bloc) that sold anything, at vendor prices, as
    columns."""
    c, b, n, revenue = sales_arrays(model)
    ids = model.chips.ids
    return {
        "date": [model.date] * c.size,
        "step": [model.turn] * c.size,
        "chip": [ids[i] for i in c.tolist()],
        "vendor": [model.vendor_ids[v] for v in model.chips.vendor[c].tolist()],
        "bloc": [model.bloc_ids[i] for i in b.tolist()],
        "units": n.tolist(),
        "revenue_usd": revenue.tolist(),
    }


def append_columns(table: dict[str, list[Any]], columns: dict[str, list[Any]]) -> None:
    """Append rows given as columns to a table kept as columns (Mesa's DataCollector tables)."""
    for name, values in table.items():
        values.extend(columns[name])


def table_frame(table: dict[str, list[Any]], columns: list[str]) -> pd.DataFrame:
    """A table kept as columns (Mesa's DataCollector tables) as a DataFrame of `columns` in
    that order: what pd.DataFrame(table)[columns] gives, values and dtypes alike, at half its
    cost. Why: pandas infers a column's type from a list element by element; a column of
    Python floats only (or ints only) is handed over as the float64 (int64) array it would
    infer, and any other column (text, a mix) as its list, for pandas to infer as before."""
    if not table[columns[0]]:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({name: _typed(table[name]) for name in columns})


def _typed(values: list[Any]) -> np.ndarray | list[Any]:
    kinds = set(map(type, values))
    if kinds == {float}:
        return np.array(values, np.float64)
    if kinds == {int}:
        try:
            return np.array(values, np.int64)
        except OverflowError:  # past int64: pandas decides (uint64 or object)
            return values
    return values


SALES_COLUMNS = ["date", "step", "chip", "vendor", "bloc", "units", "revenue_usd"]


def yearly_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per bloc and year: end-of-year levels and the year's flows, for the CLI's table."""
    df = results.copy()
    df["year"] = df["date"].str.slice(0, 4).astype(int)
    last = (
        df.sort_values("step")
        .groupby(["year", "bloc"], sort=False)
        .tail(1)
        .set_index(["year", "bloc"])
    )
    flows = df.groupby(["year", "bloc"])[["chips_smuggled", "chips_seized"]].sum()
    out = pd.DataFrame(
        {
            "frontier": last["frontier_capability"],
            "gap (months)": last["gap_months"],
            "compute (H100e)": last["compute_h100e"],
            "domestic": last["domestic_share"],
            "smuggled": last["smuggled_share"],
            "chips smuggled": flows["chips_smuggled"],
            "chips seized": flows["chips_seized"],
        }
    )
    blocs = list(dict.fromkeys(results["bloc"]))
    out = out.reset_index()
    out["bloc"] = pd.Categorical(out["bloc"], categories=blocs, ordered=True)
    return out.sort_values(["year", "bloc"]).set_index(["year", "bloc"])


# How each column of the yearly table is written (the CLI's single run and its bands alike).
SUMMARY_FORMATS = {
    "frontier": "{:.1f}",
    "gap (months)": "{:.1f}",
    "compute (H100e)": "{:,.0f}",
    "domestic": "{:.0%}",
    "smuggled": "{:.0%}",
    "chips smuggled": "{:,.0f}",
    "chips seized": "{:,.0f}",
}


def format_summary(summary: pd.DataFrame) -> str:
    """A plain-text table that reads well in a terminal."""
    fmt = summary.copy()
    for column, f in SUMMARY_FORMATS.items():
        fmt[column] = summary[column].map(lambda v, f=f: "-" if np.isnan(v) else f.format(v))
    return years_apart(fmt.to_string())


def years_apart(text: str) -> str:
    """A yearly table's text (the year only on its first row) with a blank line between years."""
    lines = text.splitlines()
    out, prev = lines[:2], None
    for line in lines[2:]:
        year = line[:4]
        if prev is not None and year.strip() and year != prev:
            out.append("")
        if year.strip():
            prev = year
        out.append(line)
    return "\n".join(out)
