"""Cron expressions: crontab meaning (1 = Monday), explicit fields for APScheduler, clear errors."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from framework.cron import CronError, parse_cron
from framework.model import ScheduleSpec
from framework.scheduler import fire_times

TOKYO = ZoneInfo("Asia/Tokyo")


def _weekdays_fired(cron: str) -> list[str]:
    """The weekdays (Mon..Sun) on which the expression fires in one week of 2026."""
    spec = ScheduleSpec(cron=cron, calendar="every_day")
    start = dt.datetime(2026, 11, 29, 23, 0, tzinfo=TOKYO)  # Sunday evening
    return [f"{t:%a}" for t in fire_times(spec, start, start + dt.timedelta(days=7))]


@pytest.mark.parametrize(
    ("cron", "days"),
    [
        ("0 19 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 19 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),  # crontab: 1 = Monday
        ("0 19 * * 0", ["Sun"]),
        ("0 19 * * 7", ["Sun"]),
        ("0 19 * * sun-wed", ["Mon", "Tue", "Wed", "Sun"]),
        ("0 19 * * 0-3", ["Mon", "Tue", "Wed", "Sun"]),
        ("0 19 * * */2", ["Tue", "Thu", "Sat", "Sun"]),  # 0,2,4,6 as in crontab
        ("0 19 * * SAT,sun", ["Sat", "Sun"]),
        ("0 19 * * 0-7", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    ],
)
def test_weekdays_mean_what_crontab_means(cron: str, days: list[str]) -> None:
    # APScheduler 3 alone would read 1-5 as Tuesday to Saturday
    assert _weekdays_fired(cron) == days


def test_fields_are_expanded_for_apscheduler() -> None:
    spec = parse_cron("*/20 8-9 * jan,12 mon-fri")
    assert spec.trigger_fields() == {
        "second": "0",
        "minute": "0,20,40",
        "hour": "8,9",
        "day": "*",
        "month": "1,12",
        "day_of_week": "mon,tue,wed,thu,fri",
    }


def test_six_fields_start_with_seconds() -> None:
    spec = parse_cron("30 0 19 * * *")
    assert spec.second == (30,)
    assert spec.trigger_fields()["second"] == "30"
    assert parse_cron("0 19 * * *").second == (0,)


def test_description_for_staff() -> None:
    assert parse_cron("0 19 * * mon-fri").describe() == "月〜金 19:00"
    assert parse_cron("30 7 1 * *").describe() == "毎月1日 07:30"
    assert parse_cron("0 19 * * *").describe() == "毎日 19:00"


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 19 * *", "5項目"),
        ("0 25 * * *", "時: 「25」は使えません"),
        ("0 19 * * fry", "曜日: 「fry」は使えません"),
        ("0 19 * * 5-1", "範囲は小さい方から"),
        ("*/0 19 * * *", "1以上の数"),
        ("5/10 19 * * *", "「/」は * か範囲"),
        ("0 19 1 * mon", "日と曜日の両方は指定できません"),
        ("0 19 L * *", "日: 「L」は使えません"),
        ("60 0 19 * * *", "秒: 「60」は使えません"),
    ],
)
def test_mistakes_are_explained(cron: str, words: str) -> None:
    with pytest.raises(CronError, match=re.escape(words)):
        parse_cron(cron)
