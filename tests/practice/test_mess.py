"""Tests for the ways people write values: each form, and that the normaliser reads it back."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.normalize import clean_text, parse_date, parse_digits, parse_number, to_katakana
from framework.practice.mess import (
    hyphenated,
    padded,
    slash_date,
    to_fullwidth_digits,
    to_halfwidth_kana,
    to_hiragana,
    wareki,
    wareki_abbrev,
    with_hours_unit,
)

KATAKANA = "アイウエオカガキギサザタダナハバパマヤラワンッャー"


@pytest.mark.parametrize(
    ("day", "kanji", "abbrev"),
    [
        (date(1983, 4, 12), "昭和58年4月12日", "S58.4.12"),
        (date(1989, 1, 7), "昭和64年1月7日", "S64.1.7"),  # the last day of Showa
        (date(1989, 1, 8), "平成元年1月8日", "H1.1.8"),  # the first day of Heisei
        (date(2019, 4, 30), "平成31年4月30日", "H31.4.30"),
        (date(2019, 5, 1), "令和元年5月1日", "R1.5.1"),
        (date(2026, 12, 1), "令和8年12月1日", "R8.12.1"),
        (date(1926, 12, 24), "大正15年12月24日", "T15.12.24"),
    ],
)
def test_wareki_forms(day: date, kanji: str, abbrev: str) -> None:
    assert wareki(day) == kanji
    assert wareki_abbrev(day) == abbrev


def test_no_era_before_taisho() -> None:
    with pytest.raises(ValueError, match="no Japanese era"):
        wareki(date(1912, 7, 29))


def test_small_forms() -> None:
    assert slash_date(date(1983, 4, 2)) == "1983/4/2"
    assert to_hiragana("ヤマダ\u3000タロウ") == "やまだ\u3000たろう"
    assert to_halfwidth_kana("ヤマダ\u3000ガッコウ・パン") == "ﾔﾏﾀﾞ ｶﾞｯｺｳ･ﾊﾟﾝ"
    assert to_fullwidth_digits("No.0123") == "No.０１２３"
    assert hyphenated("0123456789") == "0123-456-789"
    assert with_hours_unit(20) == "20時間"
    assert with_hours_unit("２０") == "２０時間"
    assert padded("山田\u3000太郎") == "\u3000山田\u3000太郎 "


@given(st.dates(min_value=date(1912, 7, 30), max_value=date(2099, 12, 31)))
def test_dates_read_back(day: date) -> None:
    for form in (wareki, wareki_abbrev, slash_date):
        assert parse_date(form(day)) == day


@given(st.text(alphabet=KATAKANA, min_size=1, max_size=8))
def test_kana_reads_back(word: str) -> None:
    kana = f"{word}\u3000{word[::-1]}"
    assert to_katakana(to_hiragana(kana)) == kana
    assert to_katakana(to_halfwidth_kana(kana)) == kana


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_numbers_read_back(number: str) -> None:
    assert parse_digits(to_fullwidth_digits(number), 10) == number
    assert parse_digits(hyphenated(number), 10) == number
    hours = int(number[:3]) + 1
    unit = with_hours_unit(to_fullwidth_digits(str(hours)))
    assert parse_number(unit, integer=True, unit="時間") == hours
    assert clean_text(padded(number)) == number
