"""Report periods: months, fiscal years (April to March, 令和 labels) and date ranges."""

from __future__ import annotations

import datetime as dt

import pytest

from framework.reports.period import (
    Period,
    PeriodError,
    choose_period,
    fiscal_year_label,
    fiscal_year_of,
    parse_day,
    parse_period,
)


@pytest.mark.parametrize(
    "text", ["FY2026", "fy2026", "R8", "r8", "令和8年度", "令和8", "R8年度", "ＦＹ２０２６", " R8 "]
)
def test_fiscal_year_spellings(text: str) -> None:
    period = parse_period(text)
    assert period == Period.fiscal_year(2026)
    assert (period.first_day, period.last_day) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert period.label == "令和8年度"
    assert period.slug == "FY2026"


def test_reiwa_first_year_and_heisei() -> None:
    assert parse_period("令和元年度") == Period.fiscal_year(2019)
    assert parse_period("R1") == Period.fiscal_year(2019)
    assert fiscal_year_label(2019) == "令和元年度"
    assert fiscal_year_label(2018) == "平成30年度"
    assert parse_period("H30") == Period.fiscal_year(2018)


@pytest.mark.parametrize("text", ["2026-11", "2026/11", "2026年11月", "２０２６－１１", "2026-1"])
def test_month_spellings(text: str) -> None:
    period = parse_period(text)
    assert period.kind == "month"
    expected_month = 1 if text.endswith("-1") else 11
    assert period.first_day == dt.date(2026, expected_month, 1)


def test_month_bounds_and_labels() -> None:
    feb = parse_period("2028-02")
    assert (feb.first_day, feb.last_day) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert feb.label == "2028年2月"
    assert feb.months() == ["2028-02"]
    dec = parse_period("2026-12")
    assert dec.last_day == dt.date(2026, 12, 31)


def test_fiscal_months_start_in_april() -> None:
    months = Period.fiscal_year(2026).months()
    assert months[0] == "2026-04"
    assert months[-1] == "2027-03"
    assert len(months) == 12


def test_fiscal_year_boundary() -> None:
    assert fiscal_year_of(dt.date(2026, 3, 31)) == 2025
    assert fiscal_year_of(dt.date(2026, 4, 1)) == 2026
    assert Period.between(dt.date(2026, 3, 31), dt.date(2026, 4, 1)).fiscal_years() == [2025, 2026]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-13", "期間として読めません"),
        ("last year", "期間として読めません"),
        ("2026", "年度か暦年か分かりません"),
        ("R0", "期間として読めません"),
        ("", "期間として読めません"),
    ],
)
def test_unknown_periods_are_refused_in_japanese(text: str, fragment: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert fragment in caught.value.reason
    assert "(" in caught.value.reason  # English alongside


def test_dates_and_ranges() -> None:
    assert parse_day("2026/4/1", "--from") == dt.date(2026, 4, 1)
    assert parse_day("2026年4月1日", "--from") == dt.date(2026, 4, 1)
    with pytest.raises(PeriodError, match="--to の「2026-02-30」は日付として読めません"):
        parse_day("2026-02-30", "--to")
    chosen = choose_period(None, "2026-04-01", "2026-06-30", None)
    assert chosen is not None
    assert chosen.label == "2026-04-01〜2026-06-30"
    assert chosen.days == 91
    assert chosen.months() == ["2026-04", "2026-05", "2026-06"]
    with pytest.raises(PeriodError, match="より後です"):
        choose_period(None, "2026-07-01", "2026-06-30", None)
    with pytest.raises(PeriodError, match="同時に指定できません"):
        choose_period("R8", "2026-04-01", None, None)
    with pytest.raises(PeriodError, match="--from も指定してください"):
        choose_period(None, None, "2026-06-30", None)


def test_default_is_this_fiscal_year_or_everything() -> None:
    assert choose_period(None, None, None, dt.date(2027, 3, 31)) == Period.fiscal_year(2026)
    assert choose_period(None, None, None, None) is None


def test_overlap_days() -> None:
    month = Period.month(2026, 4)
    assert month.overlap_days(dt.date(2026, 4, 1), dt.date(2027, 3, 31)) == 30
    assert month.overlap_days(dt.date(2026, 5, 1), dt.date(2026, 5, 31)) == 0
