"""An experiment's own outcomes (`outcomes:` in an experiment file): what an analyst measures in
every run, beside the fixed set the analysis always computes.

    outcomes:
      - name: china_close_2030
        description: "China within 3 months of the US in 2030"   # optional, for the summary
        expression: gap_months                  # over the results table's columns
        bloc: china                             # the bloc a bare column is read for
        window: [2030-01, 2030-12]              # or a year (2030); none: the whole run
        aggregate: mean                         # mean | last | max | min | sum over the window
        direction: minimize                     # minimize | maximize

An expression is parsed here, never evaluated by Python: numbers, column names of the monthly
results table (game/sim/results.py), `column[bloc]` for another bloc's value in the same month
(`compute_h100e[china] / compute_h100e[us]`), + - * / and parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, model_validator

from game.config.dates import format_month, parse_month
from game.config.errors import short
from game.config.validation import Strict
from game.config.world import Text, default_world_data

# The outcomes the analysis always computes per run (game/reports/analysis/metrics.py METRICS),
# and the per-run table's design columns: an experiment's outcome may not take their names.
FIXED_OUTCOMES = (
    "final_gap",
    "china_frontier",
    "smuggled",
    "seized",
    "gray_price",
    "china_revenue",
)
RUN_COLUMNS = ("run_id", "policy", "draw", "replication", "seed", "final_date")
AGGREGATES = ("mean", "last", "max", "min", "sum")
# Results columns that are not numbers per bloc: no expression may use them.
NOT_NUMERIC = {"date", "bloc", "gray_chip"}

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/()\[\]]))"
)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# A parsed expression: ("num", value) | ("col", column, bloc or None) | ("neg", e)
# | (op, left, right) for op in + - * /
Node = tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(
                f"unexpected {text[pos:].strip()[:1]!r} at character {pos + 1} of "
                f"{short(repr(text))}; expected column names, numbers, + - * / ( ) and "
                "column[bloc]"
            )
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse_expression(text: str) -> Node:
    """The expression's tree, or ValueError saying where it goes wrong (no Python eval)."""
    tokens = _tokens(text)
    if not tokens:
        raise ValueError("the expression is empty; expected e.g. gap_months or gap_months[us]")
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(value: str | None = None) -> tuple[str, str]:
        nonlocal pos
        tok = peek()
        if tok is None:
            raise ValueError(f"{short(repr(text))} ends too early; expected {value or 'a value'}")
        if value is not None and tok[1] != value:
            raise ValueError(f"expected {value!r} in {short(repr(text))}, got {tok[1]!r}")
        pos += 1
        return tok

    def expr() -> Node:
        node = term()
        while (tok := peek()) is not None and tok[1] in "+-" and tok[0] == "op":
            take()
            node = (tok[1], node, term())
        return node

    def term() -> Node:
        node = factor()
        while (tok := peek()) is not None and tok[1] in "*/" and tok[0] == "op":
            take()
            node = (tok[1], node, factor())
        return node

    def factor() -> Node:
        kind, value = take()
        if kind == "number":
            return ("num", float(value))
        if kind == "name":
            if (tok := peek()) is not None and tok[1] == "[":
                take("[")
                bkind, bloc = take()
                if bkind != "name":
                    raise ValueError(f"expected a bloc name after '{value}[', got {bloc!r}")
                take("]")
                return ("col", value, bloc)
            return ("col", value, None)
        if value == "-":
            return ("neg", factor())
        if value == "(":
            node = expr()
            take(")")
            return node
        raise ValueError(f"unexpected {value!r} in {short(repr(text))}; expected a value")

    node = expr()
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos][1]!r} in {short(repr(text))}")
    return node


def columns_of(node: Node) -> set[tuple[str, str | None]]:
    """The (column, bloc or None) pairs an expression reads."""
    if node[0] == "num":
        return set()
    if node[0] == "col":
        return {(node[1], node[2])}
    return set().union(*(columns_of(n) for n in node[1:]))


def evaluate(node: Node, column: Callable[[str, str], np.ndarray], bloc: str) -> np.ndarray:
    """The expression's value per row, `column(name, bloc)` giving a column's values (one per
    month of every run, aligned). Division by zero gives NaN, not an error."""
    kind = node[0]
    if kind == "num":
        return np.asarray(node[1], dtype=float)
    if kind == "col":
        return np.asarray(column(node[1], node[2] or bloc), dtype=float)
    if kind == "neg":
        return -evaluate(node[1], column, bloc)
    left, right = evaluate(node[1], column, bloc), evaluate(node[2], column, bloc)
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    with np.errstate(divide="ignore", invalid="ignore"):
        out = left / right
    return np.where(np.isfinite(out), out, np.nan)


def _expression(value: str) -> str:
    tree = parse_expression(value)  # a syntax error is the first problem
    blocs = bloc_ids()
    for _, bloc in columns_of(tree):
        if bloc is not None and bloc not in blocs:
            raise ValueError(f"unknown bloc '{bloc}'; expected one of: {', '.join(blocs)}")
    return value


def _identifier(value: str) -> str:
    if not _IDENT.match(value) or len(value) > 60:
        raise ValueError(
            "expected a name of letters, digits and '_' (not starting with a digit, at most 60), "
            f"got {short(repr(value))}"
        )
    if value in FIXED_OUTCOMES or value in RUN_COLUMNS:
        raise ValueError(
            f"'{value}' is taken by the per-run table's fixed columns "
            f"({', '.join(RUN_COLUMNS + FIXED_OUTCOMES)}); choose another name"
        )
    return value


def _bloc(value: str) -> str:
    if value not in bloc_ids():
        raise ValueError(f"unknown bloc '{value}'; expected one of: {', '.join(bloc_ids())}")
    return value


def _window(value: Any) -> tuple[int, int]:
    """A year (2030) or [start, end] of YYYY-MM or years, inclusive, as month indices."""

    def month(v: Any, end: bool) -> int:
        if isinstance(v, int) and not isinstance(v, bool) and 1000 <= v <= 9999:
            return v * 12 + (11 if end else 0)
        return parse_month(v)

    expected = "expected a year (2030) or [start, end] as YYYY-MM or years"
    try:
        if isinstance(value, list):
            if len(value) != 2:
                raise ValueError
            lo, hi = month(value[0], False), month(value[1], True)
        else:
            lo, hi = month(value, False), month(value, True)
    except ValueError:
        raise ValueError(f"{expected}, got {short(repr(value))}") from None
    if lo > hi:
        raise ValueError(
            f"the window ends ({format_month(hi)}) before it starts ({format_month(lo)})"
        )
    return lo, hi


def bloc_ids() -> list[str]:
    return [b.id for b in default_world_data().blocs]


def _default_bloc(data: Any) -> Any:
    if isinstance(data, dict) and "bloc" not in data:
        return {**data, "bloc": default_world_data().target_bloc}
    return data


class OutcomeSpec(Strict):
    """One outcome of an experiment file (see the module's docstring)."""

    name: Annotated[str, AfterValidator(_identifier)]
    description: Text = ""
    expression: Annotated[str, AfterValidator(_expression)]
    bloc: Annotated[str, AfterValidator(_bloc)]
    window: Annotated[Any, AfterValidator(_window)] = None
    aggregate: Literal["mean", "last", "max", "min", "sum"]
    direction: Literal["minimize", "maximize"]

    _bloc_default = model_validator(mode="before")(_default_bloc)

    @property
    def tree(self) -> Node:
        return parse_expression(self.expression)

    def columns(self) -> set[str]:
        return {c for c, _ in columns_of(self.tree)}

    def window_text(self) -> str:
        if self.window is None:
            return "the whole run"
        lo, hi = self.window
        return format_month(lo) if lo == hi else f"{format_month(lo)} to {format_month(hi)}"

    def words(self) -> str:
        """How the text names it: its description, else what it computes."""
        return self.description or (
            f"{self.aggregate} of {self.expression} ({self.bloc}, {self.window_text()})"
        )


def unknown_columns(spec: OutcomeSpec, columns: Collection[str]) -> list[str]:
    """Columns the expression reads that the results table does not have as numbers."""
    known = set(columns) - NOT_NUMERIC
    return sorted(c for c in spec.columns() if c not in known)
