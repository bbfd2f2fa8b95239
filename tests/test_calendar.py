"""The city's calendar, checked against the dates a person writes down from the official one."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from framework.calendar import CityCalendar, load_calendar, national_holiday
from framework.errors import InvalidError

D = dt.date


def test_year_end_closure_and_new_year() -> None:
    # 12/28 (月) open; 12/29 – 1/3 closed (年末年始; 1/1 is also 元日; 1/2, 1/3 a weekend)
    assert CityCalendar().business_days(D(2026, 12, 28), D(2027, 1, 5)) == [
        D(2026, 12, 28),
        D(2027, 1, 4),
        D(2027, 1, 5),
    ]


def test_golden_week_2026() -> None:
    # 4/29 (水) 昭和の日, 5/3 (日) 憲法記念日, 5/4 (月) みどりの日, 5/5 (火) こどもの日,
    # 5/6 (水) 振替休日
    assert CityCalendar().business_days(D(2026, 4, 27), D(2026, 5, 8)) == [
        D(2026, 4, 27),
        D(2026, 4, 28),
        D(2026, 4, 30),
        D(2026, 5, 1),
        D(2026, 5, 7),
        D(2026, 5, 8),
    ]


def test_substitute_and_citizens_holidays() -> None:
    assert national_holiday(D(2026, 5, 6)) is not None  # 振替休日 (5/3 was a Sunday)
    assert national_holiday(D(2027, 3, 22)) is not None  # 振替休日 (春分の日 3/21 a Sunday)
    assert national_holiday(D(2026, 9, 22)) is not None  # 国民の休日 between two holidays
    calendar = CityCalendar()
    assert calendar.business_days(D(2027, 3, 19), D(2027, 3, 23)) == [
        D(2027, 3, 19),
        D(2027, 3, 23),
    ]
    assert calendar.business_days(D(2026, 9, 18), D(2026, 9, 24)) == [
        D(2026, 9, 18),
        D(2026, 9, 24),
    ]


def test_reasons_are_given_in_words() -> None:
    calendar = CityCalendar({D(2026, 8, 14): "庁舎停電"})
    assert calendar.closed_reason(D(2026, 12, 1)) is None
    assert calendar.closed_reason(D(2026, 11, 28)) == "土曜日 (Saturday)"
    assert calendar.closed_reason(D(2027, 1, 1)) == (
        "祝日: 元日 (national holiday)、年末年始 (year-end closure)"
    )
    assert calendar.closed_reason(D(2026, 8, 14)) == "休業日: 庁舎停電 (city closure)"


def _project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "calendar.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return tmp_path


def test_closures_from_the_city_file(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """
        closures:
          - {date: 2026-08-14, reason: 庁舎停電（電気設備点検）}
          - {date: 2027-03-29, until: 2027-03-31, reason: 福祉システム更新}
        """,
    )
    calendar = load_calendar(root)
    assert calendar.business_days(D(2026, 8, 13), D(2026, 8, 17)) == [
        D(2026, 8, 13),
        D(2026, 8, 17),
    ]
    assert calendar.business_days(D(2027, 3, 26), D(2027, 4, 2)) == [
        D(2027, 3, 26),
        D(2027, 4, 1),
        D(2027, 4, 2),
    ]


def test_no_file_means_the_legal_closed_days(tmp_path: Path) -> None:
    assert load_calendar(tmp_path) == CityCalendar()


def test_mistakes_point_at_the_line(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """
        closures:
          - {date: 2026-08-14, reason: 庁舎停電}
          - {date: 2026-13-01, reason: 誤り}
          - {date: 2027-03-31, until: 2027-03-29, reason: 逆}
          - {date: 2027-05-10}
          - {date: 2027-05-11, reson: つづり}
        """,
    )
    with pytest.raises(InvalidError) as caught:
        load_calendar(root)
    lines = [str(p) for p in caught.value.problems]
    assert lines[0].startswith("calendar.yaml:3:12: closures[1].date: 日付を 2026-04-01 の形で")
    assert lines[1].startswith("calendar.yaml:4:5: closures[2]: until は date 以降の日付")
    assert lines[2].startswith("calendar.yaml:5:5: closures[3].reason: 必須の項目がありません")
    assert lines[3].startswith("calendar.yaml:6:5: closures[4].reason: 必須の項目がありません")
    assert lines[4].startswith("calendar.yaml:6:24: closures[4].reson: 「reson」という項目は")
    assert "「reason」のことですか" in lines[4]
    assert len(lines) == 5
