"""parse_month keeps the months of texts it has read (a projection fan builds 32 models from
the same dates): a kept answer is the one read anew, a bad text raises every time, and the
store stays bounded."""

from __future__ import annotations

import datetime as dt

import pytest

from game.config import dates
from game.config.dates import _parse_month, parse_month


@pytest.mark.parametrize(
    "text", ["2022-10", "2022-1", " 2023-02 ", "2024-12-31", "1999-07-04", "2030-12"]
)
def test_a_kept_month_is_the_month_read_anew(text: str) -> None:
    dates._PARSED.pop(text, None)
    first = parse_month(text)
    assert text in dates._PARSED
    assert parse_month(text) == first == _parse_month(text)


@pytest.mark.parametrize("bad", ["2022-13", "2022", "oct 2022", "", "2022-00"])
def test_a_text_that_is_no_month_raises_every_time_and_is_not_kept(bad: str) -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="expected a month as YYYY-MM"):
            parse_month(bad)
    assert bad not in dates._PARSED


def test_dates_and_other_values_are_read_as_before() -> None:
    assert parse_month(dt.date(2022, 10, 7)) == 2022 * 12 + 9
    with pytest.raises(ValueError):
        parse_month(202210)


def test_the_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dates, "_PARSED", {})
    monkeypatch.setattr(dates, "_PARSED_MAX", 8)
    texts = [f"{2000 + i}-0{1 + i % 9}" for i in range(20)]
    for t in texts:
        assert parse_month(t) == _parse_month(t)
        assert len(dates._PARSED) <= 8
