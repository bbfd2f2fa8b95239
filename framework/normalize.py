"""Japanese input normalisation: whitespace, character width, kana, digits, numbers, dates."""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Literal, NamedTuple, overload

__all__ = [
    "NormalizeError",
    "clean_text",
    "excel_serial_to_date",
    "format_wareki",
    "parse_date",
    "parse_digits",
    "parse_number",
    "to_halfwidth",
    "to_katakana",
]


class NormalizeError(ValueError):
    """A raw value that cannot be normalised.

    `reason` is a short Japanese sentence for the person who typed the value, followed by the
    English in parentheses. It quotes the raw value: mask it before logging personal data.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _quote(raw: object) -> str:
    return repr(raw if isinstance(raw, str) else str(raw))


def _error(ja: str, raw: object, en: str, detail: str = "") -> NormalizeError:
    """`ja: 'raw'（detail） (en)`, the one shape of every reason in this module."""
    note = f"（{detail}）" if detail else ""
    return NormalizeError(f"{ja}: {_quote(raw)}{note} ({en})")


# --- text ---------------------------------------------------------------------------------------

# Zero-width space and BOM: invisible, not whitespace to str.strip(), common in text copied from
# PDFs and web pages.
_EDGE_INVISIBLES = "\u200b\ufeff"


def clean_text(value: object) -> str:
    """The value as text without surrounding whitespace; None is "", 12.0 is "12".

    Strips spaces, U+3000, tabs and newlines (and zero-width spaces) at both ends, turns NBSP into
    a space, and keeps everything else, including inner spaces and character widths, as typed.
    A datetime at midnight (an Excel date cell) becomes its date, "2024-04-01".
    """
    if isinstance(value, str):
        text = value
    elif value is None:
        return ""
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime) and value.time() == time() and value.tzinfo is None:
        text = value.date().isoformat()
    else:
        text = str(value)
    text = text.replace("\xa0", " ").strip()
    while text and (text[0] in _EDGE_INVISIBLES or text[-1] in _EDGE_INVISIBLES):
        text = text.strip(_EDGE_INVISIBLES).strip()
    return text


# U+FF01..U+FF5E are the full-width forms of ASCII U+0021..U+007E, at a fixed offset.
_HALFWIDTH: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation and U+3000 to half width; nothing else."""
    return text if text.isascii() else text.translate(_HALFWIDTH)


# --- kana ---------------------------------------------------------------------------------------

# Hiragana ぁ..ゖ and the iteration marks ゝゞ sit 0x60 code points below their katakana.
_KATAKANA: dict[int, str] = {cp: chr(cp + 0x60) for cp in range(0x3041, 0x3097)}
_KATAKANA |= {0x309D: "ヽ", 0x309E: "ヾ"}
# Half-width katakana (U+FF61..U+FF9F) to full width, one character at a time; ｰ becomes ー and the
# half-width voiced marks ﾞﾟ become combining marks, composed with the kana before them below.
_KATAKANA |= {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF61, 0xFFA0)}
# The spacing voiced marks ゛゜ (as in か゛) compose the same way.
_KATAKANA |= {0x309B: "\u3099", 0x309C: "\u309a"}

# A dash right after kana is a long-vowel mark typed with the wrong key: コ-ヒ- is コーヒー.
_DASHES_AFTER_KANA = re.compile(r"(?<=[\u30a1-\u30fa\u30fc])[-\u2010-\u2015\u2212\u2500\uff0d]+")
# What a フリガナ may hold: full-width katakana ァ..ヺ, ー, ヽヾ and U+3000 between words.
_NOT_KATAKANA = re.compile(r"[^\u30a1-\u30fa\u30fc-\u30fe\u3000]")


def _long_vowels(match: re.Match[str]) -> str:
    return "ー" * len(match.group())


def to_katakana(text: str) -> str:
    """A フリガナ in full-width katakana: ふりがな, ﾌﾘｶﾞﾅ and フリガナ all give フリガナ.

    Words are separated by one U+3000; dashes after kana become ー. Raises NormalizeError if
    anything but katakana remains (kanji, latin letters, digits, ・).
    """
    kana = text.translate(_KATAKANA)
    if "\u3099" in kana or "\u309a" in kana:
        kana = unicodedata.normalize("NFC", kana)  # カ + U+3099 -> ガ, ウ + U+3099 -> ヴ
    kana = _DASHES_AFTER_KANA.sub(_long_vowels, kana)
    kana = "\u3000".join(kana.split())
    if _NOT_KATAKANA.search(kana):
        raise _error("カタカナに変換できない文字があります", text, "not katakana")
    return kana


# --- digit strings and numbers ------------------------------------------------------------------

# Removed from digit strings: spaces, and the hyphens and dashes people put between digit groups,
# including the long-vowel marks ー/ｰ that a Japanese keyboard gives for "-" in kana mode.
# (Full-width space and hyphen-minus are already half-width when this is applied.)
_DIGIT_GROUPING = str.maketrans("", "", " \t\r\n\xa0-\u2010\u2011\u2012\u2013\u2014\u2015\u2212ーｰ")
# Excel keeps 15 significant digits in a numeric cell; longer numbers are already corrupted.
_EXCEL_DIGITS = 15


def parse_digits(value: object, length: int | None = None) -> str:
    """A string of ASCII digits that keeps its leading zeros, e.g. a 受給者番号.

    Full-width digits are made half-width; spaces and hyphens are removed. A numeric cell
    (int or integral float) shorter than `length` is left-padded with zeros, because Excel drops
    them; a string is never padded. Raises NormalizeError if the result is not `length` digits.
    """
    if isinstance(value, bool):
        raise _error("数字以外の文字があります", value, "not digits")
    if isinstance(value, int | float):
        if (isinstance(value, float) and not value.is_integer()) or value < 0:
            raise _error("数字以外の文字があります", value, "not digits")
        digits = str(int(value))
        if len(digits) > _EXCEL_DIGITS:
            raise _error(
                f"数値のセルでは{_EXCEL_DIGITS + 1}桁以上の数字を正確に保存できません",
                value,
                "too many digits for a numeric cell",
                "セルを文字列にして入力し直してください",
            )
        if length is not None and len(digits) < length:
            digits = digits.zfill(length)
    elif value is None or isinstance(value, str):
        text = clean_text(value)
        if not text:
            raise NormalizeError("数字が空です (empty)")
        digits = to_halfwidth(text).translate(_DIGIT_GROUPING)
        if not (digits.isascii() and digits.isdecimal()):
            raise _error("数字以外の文字があります", value, "not digits")
    else:
        raise _error("数字以外の文字があります", value, "not digits")
    if length is not None and len(digits) != length:
        raise _error(
            f"{length}桁の数字が必要です（{len(digits)}桁です）", value, f"expected {length} digits"
        )
    return digits


# A decimal number as text (after to_halfwidth): sign, digits with or without thousands
# separators, optional fraction. ▲ and △ mark negative amounts in Japanese accounts.
_NUMBER = re.compile(
    r"(?P<sign>[-+\u2212\u25b2\u25b3])?\s*"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)?"  # 1,234,567 or 1234567
    r"(?:\.(?P<frac>\d+))?",
    re.ASCII,  # \d is 0-9 only, not every script's digits
)
_NEGATIVE_SIGNS = "-\u2212\u25b2\u25b3"


@overload
def parse_number(value: object, *, integer: Literal[True], unit: str | None = None) -> int: ...
@overload
def parse_number(
    value: object, *, integer: Literal[False] = False, unit: str | None = None
) -> float: ...
@overload
def parse_number(
    value: object, *, integer: bool = False, unit: str | None = None
) -> int | float: ...
def parse_number(value: object, *, integer: bool = False, unit: str | None = None) -> int | float:
    """A number from a numeric cell or text such as "１，２００", "20時間" (unit="時間"), "▲500".

    Returns an int with integer=True (a fraction other than .0 is an error), else a float.
    Thousands separators must group by three. A bool, NaN or infinity is an error.
    """
    if isinstance(value, bool):
        raise _error("数値として読めません", value, "not a number")
    if isinstance(value, int):
        return value if integer else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _error("数値として読めません", value, "not a number")
        if not integer:
            return value
        if not value.is_integer():
            raise _error("整数ではありません", value, "not an integer")
        return int(value)

    text = to_halfwidth(clean_text(value))
    if not text:
        raise NormalizeError("数値が空です (empty)")
    if unit:
        suffix = to_halfwidth(unit.strip())
        if text.endswith(suffix):
            text = text[: -len(suffix)].rstrip()
    match = _NUMBER.fullmatch(text)
    if match is None or (match["int"] is None and match["frac"] is None):
        detail = f"単位は「{unit}」です" if unit else ""
        raise _error("数値として読めません", value, "not a number", detail)
    negative = match["sign"] is not None and match["sign"] in _NEGATIVE_SIGNS
    whole = (match["int"] or "0").replace(",", "")
    fraction = match["frac"] or ""
    if integer:
        if fraction.strip("0"):
            raise _error("整数ではありません", value, "not an integer")
        return -int(whole) if negative else int(whole)
    return float(f"{'-' if negative else ''}{whole}.{fraction or '0'}")


# --- dates --------------------------------------------------------------------------------------


class _Era(NamedTuple):
    name: str  # 令和
    letter: str  # R, also accepted in lower case
    short: str  # 令
    square: str  # ㋿, the one-character era sign
    start: date  # first day of the era
    end: date | None  # last day, inclusive; None for the current era


# Adjacent eras may share a day: when an Emperor died, the new era began that same day (1912-07-30,
# 1926-12-25), and the day is written in either era. Heisei and Reiwa do not overlap, nor do Showa
# and Heisei (Heisei began the day after the Emperor's death). Before 1873 Japan used a lunisolar
# calendar, so a Meiji 1-5 date read as Gregorian, as here, may be a few weeks off.
_ERAS: tuple[_Era, ...] = (
    _Era("明治", "M", "明", "\u337e", date(1868, 1, 25), date(1912, 7, 30)),
    _Era("大正", "T", "大", "\u337d", date(1912, 7, 30), date(1926, 12, 25)),
    _Era("昭和", "S", "昭", "\u337c", date(1926, 12, 25), date(1989, 1, 7)),
    _Era("平成", "H", "平", "\u337b", date(1989, 1, 8), date(2019, 4, 30)),
    _Era("令和", "R", "令", "\u32ff", date(2019, 5, 1), None),
)
_ERA_BY_LABEL: dict[str, _Era] = {
    label: era
    for era in _ERAS
    for label in (era.name, era.short, era.square, era.letter, era.letter.lower())
}
# Longest label first, so that 大正 is not read as 大 + 正.
_ERA_LABEL = "|".join(sorted(map(re.escape, _ERA_BY_LABEL), key=len, reverse=True))

# Date text, after to_halfwidth and with any weekday removed. Each pattern names its year `y`
# (era year if it also has `era`), month `m` and day `d`; the first that matches in full wins.
_DATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.ASCII)  # \d is 0-9 only, \s is ASCII whitespace (U+3000 is " " by now)
    for pattern in (
        # 2024-04-01, 2024/4/1, 2024.4.1 (one separator throughout); a time of day is ignored
        r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
        r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",
        # 20240401
        r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
        # 2024年4月1日, 西暦2024年4月1日
        r"(?:西暦\s*)?(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日",
        # 令和6年4月1日, 令和元年5月1日, 令和 6 年 4 月 1 日, R6年4月1日, ㋿6年4月1日
        rf"(?P<era>{_ERA_LABEL})\s*(?P<y>\d{{1,2}}|元)\s*年"
        r"\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日",
        # R6.4.1, R06/04/01, R6-4-1, r6.4.1, 令6.4.1, ㍻31.4.30, H.31.4.30, R元.5.1
        rf"(?P<era>{_ERA_LABEL})\.?\s*(?P<y>\d{{1,2}}|元)"
        r"(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})",
    )
)
# A trailing weekday: (月), (月曜), (月曜日); full-width parentheses are half-width by now.
_WEEKDAY = re.compile(r"\s*\(\s*[月火水木金土日](?:曜日?)?\s*\)$")

# Excel's 1900 date system: serial 1 is 1900-01-01, and 60 is the 1900-02-29 that Lotus 1-2-3
# invented and Excel kept, so from 61 (1900-03-01) on the count is off by one day.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_FAKE_LEAP_DAY = 60
_EXCEL_LAST_SERIAL = 2958465  # 9999-12-31
_YYYYMMDD_NUMBERS = range(10_000_000, 100_000_000)


def _ja_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _calendar_date(year: int, month: int, day: int, raw: object, year_label: str) -> date:
    """The date, or NormalizeError naming what does not exist; year_label is the year as typed."""
    try:
        return date(year, month, day)
    except ValueError:
        pass
    if year < 1:
        detail = f"{year_label}はありません"
    elif not 1 <= month <= 12:
        detail = f"{month}月はありません"
    elif day < 1:
        detail = f"{day}日はありません"
    else:
        last = calendar.monthrange(year, month)[1]
        detail = f"{year_label}{month}月は{last}日までです"
    raise _error("日付として読めません", raw, "not a date", detail)


def _date_from_match(match: re.Match[str], raw: object) -> date:
    groups = match.groupdict()
    year_text, month, day = groups["y"], int(groups["m"]), int(groups["d"])
    year = 1 if year_text == "元" else int(year_text)
    era_label = groups.get("era")
    if era_label is None:
        return _calendar_date(year, month, day, raw, f"{year}年")

    era = _ERA_BY_LABEL[era_label]
    result = _calendar_date(era.start.year + year - 1, month, day, raw, f"{era.name}{year_text}年")
    if year == 0:  # after the calendar check, so that 令和0年13月1日 names the month
        raise _error("日付として読めません", raw, "not a date", f"{era.name}0年はありません")
    if result < era.start:
        raise _error(
            f"{era.name}は{_ja_date(era.start)}からです", raw, "date before the start of the era"
        )
    if era.end is not None and result > era.end:
        raise _error(
            f"{era.name}は{_ja_date(era.end)}までです", raw, "date after the end of the era"
        )
    return result


def excel_serial_to_date(serial: float) -> date:
    """The date of an Excel serial number (1900 date system); a fraction (time of day) is dropped.

    Serial 60 is Excel's non-existent 1900-02-29 and is an error, as is anything outside
    1 (1900-01-01) .. 2958465 (9999-12-31).
    """
    if isinstance(serial, bool) or not math.isfinite(serial):
        raise _error("日付として読めません", serial, "not a date")
    day = math.floor(serial)
    if not 1 <= day <= _EXCEL_LAST_SERIAL:
        raise _error("日付として読めません", serial, "not a date", "Excelの日付の範囲外の数です")
    if day == _EXCEL_FAKE_LEAP_DAY:
        raise _error("日付として読めません", serial, "not a date", "1900年2月29日は実在しません")
    return _EXCEL_EPOCH + timedelta(days=day if day > _EXCEL_FAKE_LEAP_DAY else day + 1)


def format_wareki(day: date, *, short: bool = False) -> str:
    """The date in wareki: 令和6年4月1日 and 令和元年5月1日, or with short=True R6.4.1.

    A day shared by two eras (1912-07-30, 1926-12-25) is written in the new one.
    """
    era = next((era for era in reversed(_ERAS) if era.start <= day), None)
    if era is None:
        raise _error("和暦にできない日付です", day.isoformat(), "date before Meiji")
    year = day.year - era.start.year + 1
    if short:
        return f"{era.letter}{year}.{day.month}.{day.day}"
    return f"{era.name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def _date_from_cell(value: object) -> date:
    """The date of a typed cell value: a date, or a number (YYYYMMDD or an Excel serial)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) or value.is_integer():
            if int(value) in _YYYYMMDD_NUMBERS:  # a date typed as a number: 20240401
                year, month_day = divmod(int(value), 10_000)
                month, day = divmod(month_day, 100)
                return _calendar_date(year, month, day, value, f"{year}年")
        return excel_serial_to_date(value)
    detail = "時刻だけで日付がありません" if isinstance(value, time) else ""
    raise _error("日付として読めません", value, "not a date", detail)


def parse_date(value: object) -> date:
    """A date from a date cell, an Excel serial number, or text in Western or wareki form.

    Text forms: 2024-04-01, 2024/4/1, 2024.4.1, 20240401, 2024年4月1日, 令和6年4月1日,
    令和元年5月1日, R6.4.1, R06/04/01, r6-4-1, 令6.4.1, ㋿6.4.1 (likewise 平成 H, 昭和 S,
    大正 T, 明治 M), in full or half width, with an optional weekday such as (月). An 8-digit
    number is read as YYYYMMDD, other numbers as Excel serials. Wareki dates must lie inside
    their era.
    """
    if value is not None and not isinstance(value, str):
        return _date_from_cell(value)
    text = to_halfwidth(clean_text(value))
    if not text:
        raise NormalizeError("日付が空です (empty)")
    if text.endswith(")"):
        text = _WEEKDAY.sub("", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            return _date_from_match(match, value)
    raise _error("日付として読めません", value, "not a date")
