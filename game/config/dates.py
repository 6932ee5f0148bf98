"""Months as integers: the model's clock is a month index, dates are 'YYYY-MM' strings."""

from __future__ import annotations

import datetime as _dt
import re

from game.config.errors import short

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")
# Texts parse_month has read, and their months: building a model reads the same few dozen
# dates (the catalogue's, the labs', the scenario's schedule) each time, and a projection fan
# builds 32 models. Bounded: emptied when full (the shipped data holds about a hundred dates).
_PARSED: dict[str, int] = {}
_PARSED_MAX = 4096


def parse_month(value: object) -> int:
    """'2022-10', '2022-10-07' or a date -> months since year 0 (year * 12 + month - 1).

    YAML reads 2022-10-07 as a date and 2022-10 as text, so both are accepted.
    """
    if type(value) is str:  # a subclass of str might hash or strip otherwise: not kept
        month = _PARSED.get(value)
        if month is None:
            month = _parse_month(value)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[value] = month
        return month
    return _parse_month(value)


def _parse_month(value: object) -> int:
    """parse_month, read anew (a text that is not a month raises every time: never kept)."""
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
