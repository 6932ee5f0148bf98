"""Numbers and units as every screen, report and summary writes them.

One convention everywhere, so a figure reads the same on the map, in the debrief report and in
a sweep's summary: thousands separators ("1,234,567"), the suffixes k, m and bn ("12k",
"1.2m", "$3.4bn"), a typographic minus ("−1.2", as matplotlib draws it on the charts' axes)
and an en dash for a number that is missing. Pure Python, so the pygame UI, the HTML report and
the Markdown summary can all use it without pulling in a plotting or a table library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

MISSING = "–"  # a number the results do not have (NaN, None, infinite)
MINUS = "−"  # U+2212: the width of a plus sign, so signed columns line up

# Largest first: a value takes the largest unit that keeps it at 1 or more once rounded.
_UNITS = ((1e9, "bn"), (1e6, "m"), (1e3, "k"))


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _negative(text: str) -> str:
    """Python's '-' as a typographic minus, and no sign on a number that rounds to zero (a
    '-0.0' reads as a change where there is none)."""
    if not text.startswith("-"):
        return text
    if not text.strip("-0.,"):
        return text[1:]
    return MINUS + text[1:]


def number(x: float | None, digits: int = 1) -> str:
    """A measured value such as a capability index or a gap: '1,234.5'."""
    if not _finite(x):
        return MISSING
    return _negative(f"{x:,.{digits}f}")


def count(x: float | None) -> str:
    """Things counted one by one (chips, runs), every digit kept: '1,234,567'. Tables show
    counts whole, so two of them can be compared digit by digit."""
    if not _finite(x):
        return MISSING
    return _negative(f"{round(x):,}")


def amount(x: float | None) -> str:
    """A quantity in a sentence: whole below a million ('869,695'), then one decimal and a
    suffix ('1.2m', '3.4bn'), because beyond that the last digits are noise to a reader."""
    if not _finite(x):
        return MISSING
    for div, suffix in _UNITS[:2]:
        if round(abs(x) / div, 1) >= 1:
            return _negative(f"{x / div:,.1f}{suffix}")
    return count(x)


def compact(x: float | None, digits: int | None = None) -> str:
    """As short as a tick label or a legend needs: '950', '1.5k', '12k', '1.2m', '3bn' (one
    decimal below ten of a unit, none above, unless `digits` says how many; a trailing '.0'
    is dropped either way)."""
    if not _finite(x):
        return MISSING
    for div, suffix in _UNITS:
        scaled = round(abs(x) / div, 1)
        if scaled >= 1:
            shown = (1 if scaled < 10 else 0) if digits is None else digits
            return _negative(_trim(f"{x / div:,.{shown}f}") + suffix)
    return _negative(_trim(f"{x:.{digits or 0}f}"))


def tick_labels(values: Sequence[float], *, money: bool = False) -> list[str]:
    """Labels for a row of axis ticks, as compact() writes them, with as many decimals as it
    takes to tell neighbouring ticks apart ('$9.5bn', '$10bn', '$10.5bn', where compact()
    alone would round two of them to '$10bn')."""
    labels: list[str] = []
    for digits in (None, 1, 2, 3):
        labels = [_tick(v, digits, money) for v in values]
        if len(set(labels)) == len(labels):
            break
    return labels


def _tick(x: float, digits: int | None, money: bool) -> str:
    if not money or not _finite(x):
        return compact(x, digits)
    return _dollars(x, compact(abs(x), digits))


def _dollars(x: float, size: str) -> str:
    """'$' before the size of |x|, and the sign before both unless the size shows as zero."""
    text = "$" + size
    return MINUS + text if x < 0 and any(c in "123456789" for c in size) else text


def _trim(text: str) -> str:
    """'10.50' -> '10.5', '10.0' -> '10'."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def usd(x: float | None) -> str:
    """Money in US dollars, as amount() writes the number: '$83,202', '$340.5m', '$1.2bn'.
    The sign goes before the dollar: '−$1.2bn'."""
    if not _finite(x):
        return MISSING
    return _dollars(x, amount(abs(x)))


def signed(x: float | None, fmt: Callable[[float], str] = number) -> str:
    """A change, with its sign always shown: '+1.2', '−40,547', '+$1.2bn'; a change that
    rounds to nothing is written unsigned, as fmt writes zero."""
    if not _finite(x):
        return MISSING
    text = fmt(abs(x))
    if text == fmt(0.0):
        return text
    return ("+" if x > 0 else MINUS) + text


def percent(share: float | None, digits: int = 1) -> str:
    """A share of 1 as a percentage: 0.057 -> '5.7%'."""
    if not _finite(share):
        return MISSING
    return _negative(f"{100.0 * share:,.{digits}f}") + "%"


def months(x: float | None, digits: int = 1) -> str:
    """A duration in months, such as a gap to the leader: '6.3 months' ('– months' when it is
    missing, which still reads as a sentence)."""
    return f"{number(x, digits)} months"


_MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()


def month_name(date: str) -> str:
    """'2022-10' -> 'October 2022', for sentences (tables keep YYYY-MM); anything else as
    given."""
    try:
        year, month = str(date).split("-")[:2]
        return f"{_MONTH_NAMES[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return str(date)
