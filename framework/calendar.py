"""The city's calendar: business days are weekdays that are no holiday, 年末年始 or closure.

Closed are Saturdays and Sundays, Japanese national holidays (including substitute holidays and
国民の休日, from the maintained ``jpholiday`` package, imported only when a date is checked),
the year-end closure from December 29 to January 3 (地方自治法 第4条の2), and the extra
closure dates the city lists in ``calendar.yaml`` at the project root::

    closures:
      - {date: 2026-08-14, reason: 庁舎停電（電気設備点検）}
      - {date: 2027-03-29, until: 2027-03-31, reason: 福祉システム更新}

Every function takes explicit dates: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from framework.errors import InvalidError, Problem
from framework.pydantic_yaml import validate_at
from framework.yamlio import load_yaml

CALENDAR_FILE = "calendar.yaml"
YEAR_END = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))
"""The 年末年始 closure (month, day): December 29 to January 3."""
_WEEKEND = {5: "土曜日 (Saturday)", 6: "日曜日 (Sunday)"}
_MAX_CLOSURE_DAYS = 366


class Closure(BaseModel):
    """One entry of ``closures:``: a day (or ``date`` to ``until``) the city hall is closed."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    until: dt.date | None = None
    """The last day of a closure of several days (inclusive)."""
    reason: str = Field(min_length=1)
    """Why, in the words staff use (shown when a scheduled run is skipped)."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.until is not None:
            if self.until < self.date:
                raise ValueError("until は date 以降の日付にしてください (until is before date)")
            if (self.until - self.date).days >= _MAX_CLOSURE_DAYS:
                raise ValueError("休業期間が1年を超えています (closure longer than a year)")
        return self


class CalendarFile(BaseModel):
    """``calendar.yaml``: the dates the city adds to the closed days."""

    model_config = ConfigDict(extra="forbid")

    closures: list[Closure] = Field(default_factory=list)


@dataclass(frozen=True)
class CityCalendar:
    """Which days the city hall is open; ``closures`` are the city's own extra closed days."""

    closures: Mapping[dt.date, str] = field(default_factory=dict)

    def closed_reasons(self, day: dt.date) -> list[str]:
        """Every reason the day is closed (empty on a business day)."""
        reasons: list[str] = []
        if day.weekday() in _WEEKEND:
            reasons.append(_WEEKEND[day.weekday()])
        holiday = national_holiday(day)
        if holiday is not None:
            reasons.append(f"祝日: {holiday} (national holiday)")
        if (day.month, day.day) in YEAR_END:
            reasons.append("年末年始 (year-end closure)")
        closure = self.closures.get(day)
        if closure is not None:
            reasons.append(f"休業日: {closure} (city closure)")
        return reasons

    def closed_reason(self, day: dt.date) -> str | None:
        """Why the day is closed, in one line, or None on a business day."""
        reasons = self.closed_reasons(day)
        return "、".join(reasons) if reasons else None

    def is_business_day(self, day: dt.date) -> bool:
        return not self.closed_reasons(day)

    def business_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The business days from ``start`` to ``end``, both included."""
        days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
        return [day for day in days if self.is_business_day(day)]


def national_holiday(day: dt.date) -> str | None:
    """The name of the national holiday on ``day`` (振替休日 and 国民の休日 included), or None."""
    import jpholiday

    name = jpholiday.is_holiday_name(day)
    return str(name) if name else None


def calendar_path(project_root: Path) -> Path:
    return project_root / CALENDAR_FILE


def parse_calendar(path: Path, shown: str) -> CityCalendar:
    """Read a calendar file; raise :class:`InvalidError` with file:line:col for mistakes."""
    doc = load_yaml(path, shown)
    problems: list[Problem] = []
    data = doc.data if doc.data is not None else {}
    parsed = validate_at(doc, (), CalendarFile, data, problems)
    if parsed is None:
        raise InvalidError(problems)
    closures: dict[dt.date, str] = {}
    for entry in parsed.closures:
        last = entry.until or entry.date
        day = entry.date
        while day <= last:
            closures.setdefault(day, entry.reason)
            day += dt.timedelta(days=1)
    return CityCalendar(closures)


def load_calendar(project_root: Path) -> CityCalendar:
    """The project's calendar: ``calendar.yaml`` when there is one, else the legal closed days."""
    path = calendar_path(project_root)
    if not path.exists():
        return CityCalendar()
    return parse_calendar(path, CALENDAR_FILE)
