"""Report periods: a month, a fiscal year (April to March, labelled 令和N年度) or a date range."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from framework.errors import KakariError

PeriodKind = Literal["month", "fiscal_year", "range"]

_ERAS = (("令和", "R", 2018), ("平成", "H", 1988))
"""Era name, its letter, and the year before its first year (令和1年度 = FY2019)."""


class PeriodError(KakariError):
    """A period or a date given on the command line cannot be read."""

    def __init__(self, message: str) -> None:
        self.reason = message
        super().__init__(message)


def fiscal_year_of(day: dt.date) -> int:
    """The fiscal year a day belongs to: FY2026 runs from 2026-04-01 to 2027-03-31."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_label(year: int) -> str:
    """``令和8年度`` for FY2026 (``令和元年度`` for FY2019, 平成 before it)."""
    for name, _letter, offset in _ERAS:
        if year > offset:
            number = year - offset
            return f"{name}{'元' if number == 1 else number}年度"
    return f"{year}年度"


@dataclass(frozen=True)
class Period:
    """The local dates a report covers (both ends included), with how people name them."""

    kind: PeriodKind
    first_day: dt.date
    last_day: dt.date

    @classmethod
    def fiscal_year(cls, year: int) -> Period:
        return cls("fiscal_year", dt.date(year, 4, 1), dt.date(year + 1, 3, 31))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        return cls("month", first, _next_month(first) - dt.timedelta(days=1))

    @classmethod
    def between(cls, first_day: dt.date, last_day: dt.date) -> Period:
        if first_day > last_day:
            raise PeriodError(
                f"開始日 {first_day} が終了日 {last_day} より後です (--from is after --to)"
            )
        return cls("range", first_day, last_day)

    @property
    def label(self) -> str:
        """How the report titles the period, e.g. 令和8年度 or 2026年11月."""
        if self.kind == "fiscal_year":
            return fiscal_year_label(self.first_day.year)
        if self.kind == "month":
            return f"{self.first_day.year}年{self.first_day.month}月"
        return f"{self.first_day.isoformat()}〜{self.last_day.isoformat()}"

    @property
    def span(self) -> str:
        """The dates in words: 2026年4月1日〜2027年3月31日."""
        return f"{_japanese_date(self.first_day)}〜{_japanese_date(self.last_day)}"

    @property
    def slug(self) -> str:
        """The period in a file name: FY2026, 2026-11, 2026-04-01_2026-06-30."""
        if self.kind == "fiscal_year":
            return f"FY{self.first_day.year}"
        if self.kind == "month":
            return self.first_day.strftime("%Y-%m")
        return f"{self.first_day.isoformat()}_{self.last_day.isoformat()}"

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def months(self) -> list[str]:
        """Every month the period touches, as ``YYYY-MM``, in order (April first in a year)."""
        out = []
        month = self.first_day.replace(day=1)
        while month <= self.last_day:
            out.append(month.strftime("%Y-%m"))
            month = _next_month(month)
        return out

    def fiscal_years(self) -> list[int]:
        return list(range(fiscal_year_of(self.first_day), fiscal_year_of(self.last_day) + 1))

    def overlap_days(self, first_day: dt.date, last_day: dt.date) -> int:
        """How many days of ``first_day..last_day`` fall inside this period."""
        start = max(first_day, self.first_day)
        end = min(last_day, self.last_day)
        return max(0, (end - start).days + 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _japanese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM`` month."""
    period = Period.month(int(month[:4]), int(month[5:7]))
    return period.first_day, period.last_day


_HINT = (
    "2026-11（月）、FY2026・R8・令和8年度（年度）のように指定してください"
    " (a month such as 2026-11, or a fiscal year: FY2026, R8, 令和8年度)"
)


def _fiscal_year(text: str) -> int | None:
    """FY2026, R8, 令和8年度, 令和元年度, H30 → the fiscal year, or None when not one."""
    match = re.fullmatch(r"FY(\d{4})(?:年度)?", text, re.IGNORECASE)
    if match:
        return int(match.group(1))
    for name, letter, offset in _ERAS:
        match = re.fullmatch(rf"(?:{name}|{letter})(\d{{1,2}}|元)(?:年度)?", text, re.IGNORECASE)
        if match:
            number = 1 if match.group(1) == "元" else int(match.group(1))
            if number < 1:
                return None
            return number + offset
    return None


def parse_period(text: str) -> Period:
    """Read ``--period``: a month (``2026-11``, ``2026/11``, ``2026年11月``) or a fiscal year
    (``FY2026``, ``R8``, ``令和8年度``, ``令和元年度``); full-width characters are accepted."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    year = _fiscal_year(cleaned)
    if year is not None and 1900 < year < 10000:
        return Period.fiscal_year(year)
    match = re.fullmatch(r"(\d{4})(?:[-/.]|年)(\d{1,2})月?", cleaned)
    if match and 1 <= int(match.group(2)) <= 12:
        return Period.month(int(match.group(1)), int(match.group(2)))
    if re.fullmatch(r"\d{4}(年)?", cleaned):
        raise PeriodError(
            f"「{text}」だけでは年度か暦年か分かりません。FY{cleaned[:4]} または"
            f" 令和{int(cleaned[:4]) - 2018}年度 のように年度で指定してください"
            " (a bare year is ambiguous: use FY2026 or a month)"
        )
    raise PeriodError(f"「{text}」は期間として読めません。{_HINT}")


def parse_day(text: str, option: str) -> dt.date:
    """Read ``--from``/``--to``: 2026-04-01, 2026/4/1 or 2026年4月1日."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", cleaned)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise PeriodError(
        f"{option} の「{text}」は日付として読めません。2026-04-01 のように指定してください"
        f" (expected a date such as 2026-04-01)"
    )


def choose_period(
    period: str | None, first: str | None, last: str | None, today: dt.date | None
) -> Period | None:
    """The period of ``--period`` or ``--from``/``--to`` (``--to`` defaults to today).

    Without either: the fiscal year of ``today``, or None (every run) when ``today`` is None.
    """
    if period is not None and (first is not None or last is not None):
        raise PeriodError(
            "--period と --from/--to は同時に指定できません (use --period or --from/--to)"
        )
    if period is not None:
        return parse_period(period)
    if first is None and last is not None:
        raise PeriodError("--to を使うときは --from も指定してください (--to needs --from)")
    if first is not None:
        end = parse_day(last, "--to") if last is not None else dt.date.today()
        return Period.between(parse_day(first, "--from"), end)
    if today is None:
        return None
    return Period.fiscal_year(fiscal_year_of(today))
