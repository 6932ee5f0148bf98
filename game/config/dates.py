"""Months as integers: the model's clock is a month index, dates are 'YYYY-MM' strings."""

from __future__ import annotations

import datetime as _dt
import re

from game.config.errors import short

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


def parse_month(value: object) -> int:
    """'2022-10', '2022-10-07' or a date -> months since year 0 (year * 12 + month - 1).

    YAML reads 2022-10-07 as a date and 2022-10 as text, so both are accepted.
    """
    if isinstance(value, _dt.date):
        return value.year * 12 + value.month - 1
    if isinstance(value, str):
        m = _MONTH.match(value.strip())
        if m and 1 <= int(m.group(2)) <= 12:
            return int(m.group(1)) * 12 + int(m.group(2)) - 1
    raise ValueError(f"expected a month as YYYY-MM, got {short(repr(value))}")


def format_month(index: int) -> str:
    """Month index -> 'YYYY-MM'."""
    year, month0 = divmod(int(index), 12)
    return f"{year:04d}-{month0 + 1:02d}"


def year_of(index: int) -> int:
    return int(index) // 12


def month_of_year(index: int) -> int:
    """1..12."""
    return int(index) % 12 + 1
