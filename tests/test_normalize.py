"""Tests for framework.normalize: examples per accepted form, error messages, and properties."""

from __future__ import annotations

import pickle
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.normalize import (
    NormalizeError,
    clean_text,
    excel_serial_to_date,
    format_wareki,
    parse_date,
    parse_digits,
    parse_number,
    to_halfwidth,
    to_katakana,
)

# --- independent helpers: built from Unicode names, not from the module's tables ---------------


def _lookup(name: str) -> str | None:
    try:
        return unicodedata.lookup(name)
    except KeyError:
        return None


def fullwidth(text: str) -> str:
    """Printable ASCII to its full-width form, space to U+3000."""
    return "".join(
        "\u3000" if c == " " else unicodedata.lookup(f"FULLWIDTH {unicodedata.name(c)}")
        for c in text
    )


def hiragana_of(katakana: str) -> str:
    return "".join(
        unicodedata.lookup(unicodedata.name(c).replace("KATAKANA", "HIRAGANA")) for c in katakana
    )


_HALFWIDTH_MARKS = {"\u3099": "\uff9e", "\u309a": "\uff9f"}


def halfwidth_of(katakana: str) -> str:
    """ガ -> ｶﾞ, ー -> ｰ, ... by canonical decomposition and Unicode names."""
    out: list[str] = []
    for c in katakana:
        decomposed = unicodedata.normalize("NFD", c)
        out.append(unicodedata.lookup(f"HALFWIDTH {unicodedata.name(decomposed[0])}"))
        out.extend(_HALFWIDTH_MARKS[mark] for mark in decomposed[1:])
    return "".join(out)


_KATAKANA = [chr(cp) for cp in range(0x30A1, 0x30FF) if chr(cp) != "・"]
# Katakana with a hiragana counterpart (not ー, ヷ..ヺ): ァ..ヶ, ヽヾ.
KATAKANA_WITH_HIRAGANA = [
    c for c in _KATAKANA if _lookup(unicodedata.name(c).replace("KATAKANA", "HIRAGANA"))
]
# Katakana with a half-width spelling, possibly with ﾞ/ﾟ: ア, ガ, パ, ヴ, ヺ, ー, ...
KATAKANA_WITH_HALFWIDTH = [
    c
    for c in _KATAKANA
    if _lookup(f"HALFWIDTH {unicodedata.name(unicodedata.normalize('NFD', c)[0])}")
]

# (name, letter, one-kanji abbreviation, first day)
ERAS = [
    ("明治", "M", "明", date(1868, 1, 25)),
    ("大正", "T", "大", date(1912, 7, 30)),
    ("昭和", "S", "昭", date(1926, 12, 25)),
    ("平成", "H", "平", date(1989, 1, 8)),
    ("令和", "R", "令", date(2019, 5, 1)),
]


def wareki_forms(day: date) -> list[str]:
    """The ways people write `day` in the era that began last on or before it."""
    name, letter, short, start = next(era for era in reversed(ERAS) if era[3] <= day)
    y, m, d = day.year - start.year + 1, day.month, day.day
    first = "元" if y == 1 else str(y)
    fw = fullwidth
    return [
        f"{name}{y}年{m}月{d}日",
        f"{name}{first}年{m}月{d}日",
        f"{name} {y} 年 {m} 月 {d} 日",
        f"{name}{fw(str(y))}年{fw(str(m))}月{fw(str(d))}日",
        f"{letter}{y}.{m}.{d}",
        f"{letter}{y:02d}/{m:02d}/{d:02d}",
        f"{letter}{y}-{m}-{d}",
        f"{letter.lower()}{y}.{m}.{d}",
        fw(f"{letter}{y}.{m}.{d}"),
        f"{short}{y}.{m}.{d}",
    ]


def excel_serial(day: date) -> int:
    """Excel's 1900-system serial number of a day from 1900-03-01 on."""
    return (day - date(1899, 12, 30)).days


def reason_of(excinfo: pytest.ExceptionInfo[NormalizeError]) -> str:
    return excinfo.value.reason


# --- NormalizeError -----------------------------------------------------------------------------


def test_normalize_error_is_a_value_error_whose_message_is_the_reason() -> None:
    error = NormalizeError("日付が空です (empty)")
    assert isinstance(error, ValueError)
    assert error.reason == str(error) == "日付が空です (empty)"
    assert pickle.loads(pickle.dumps(error)).reason == error.reason  # crosses process pools


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: parse_date("令和6年13月1日"),
            "日付として読めません: '令和6年13月1日'（13月はありません） (not a date)",
        ),
        (
            lambda: parse_date("令和1年4月30日"),
            "令和は2019年5月1日からです: '令和1年4月30日' (date before the start of the era)",
        ),
        (
            lambda: parse_date("平成31年5月1日"),
            "平成は2019年4月30日までです: '平成31年5月1日' (date after the end of the era)",
        ),
        (lambda: parse_date(""), "日付が空です (empty)"),
        (
            lambda: parse_digits("012345678", 10),
            "10桁の数字が必要です（9桁です）: '012345678' (expected 10 digits)",
        ),
        (
            lambda: to_katakana("山田"),
            "カタカナに変換できない文字があります: '山田' (not katakana)",
        ),
        (lambda: parse_number("20.5", integer=True), "整数ではありません: '20.5' (not an integer)"),
    ],
)
def test_messages(call: Callable[[], object], message: str) -> None:
    with pytest.raises(NormalizeError) as excinfo:
        call()
    assert reason_of(excinfo) == message


# --- clean_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("山田 太郎", "山田 太郎"),
        ("  山田　太郎\u3000", "山田　太郎"),  # inner U+3000 kept as typed
        ("\t\n 東京都 \r\n", "東京都"),
        ("\xa0a\xa0\xa0b\xa0", "a  b"),
        ("\ufeff x \u200b", "x"),
        ("ＡＢＣ", "ＡＢＣ"),  # no width conversion
        ("ｶﾅ ㈱ ①", "ｶﾅ ㈱ ①"),
        ("髙橋", "髙橋"),
        (12, "12"),
        (12.0, "12"),
        (-0.0, "0"),
        (12.5, "12.5"),
        (1e20, "100000000000000000000"),
        (True, "True"),
        (date(2024, 4, 1), "2024-04-01"),
        (datetime(2024, 4, 1), "2024-04-01"),
        (datetime(2024, 4, 1, 9, 30), "2024-04-01 09:30:00"),
        (time(9, 30), "09:30:00"),
    ],
)
def test_clean_text(value: object, expected: str) -> None:
    assert clean_text(value) == expected


@given(st.text())
def test_clean_text_trims_and_is_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert cleaned == cleaned.strip()
    assert clean_text(cleaned) == cleaned
    assert "\xa0" not in cleaned


# --- to_halfwidth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("ＡＢＣ　ｘｙｚ　０１２", "ABC xyz 012"),
        ("（月）－＃！～", "(月)-#!~"),
        ("山田ﾀﾛｳ　やまだ", "山田ﾀﾛｳ やまだ"),  # kana and kanji untouched
        ("㈱①ｶﾞ￥", "㈱①ｶﾞ￥"),  # not NFKC
        ("abc 123", "abc 123"),
    ],
)
def test_to_halfwidth(text: str, expected: str) -> None:
    assert to_halfwidth(text) == expected


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_to_halfwidth_undoes_fullwidth(text: str) -> None:
    assert to_halfwidth(fullwidth(text)) == text


@given(
    st.text(alphabet=st.characters(exclude_characters=fullwidth("".join(map(chr, range(32, 127))))))
)
def test_to_halfwidth_leaves_everything_else(text: str) -> None:
    assert to_halfwidth(text) == text


# --- to_katakana --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("やまだ たろう", "ヤマダ\u3000タロウ"),
        ("ヤマダ　タロウ", "ヤマダ\u3000タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ\u3000タロウ"),
        ("  やまだ 　  たろう  ", "ヤマダ\u3000タロウ"),
        ("ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"),
        ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
        ("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
        ("ﾜﾞｦﾞ", "ヷヺ"),
        ("ゔぁいおりん", "ヴァイオリン"),
        ("か\u3099", "ガ"),  # decomposed, as some PDFs extract it
        ("か゛は゜", "ガパ"),  # spacing voiced marks
        ("ｺｰﾋｰ", "コーヒー"),
        ("コ-ヒ-", "コーヒー"),
        ("こ－ひ－", "コーヒー"),
        ("コ‐ヒ—", "コーヒー"),
        ("ｺ-ﾋ-", "コーヒー"),
        ("ゝゞ", "ヽヾ"),
        ("ヶヵ", "ヶヵ"),
    ],
)
def test_to_katakana(text: str, expected: str) -> None:
    assert to_katakana(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "山田",
        "ヤマダ 太郎",
        "yamada",
        "ＹＡＭＡＤＡ",
        "ヤマダ1",
        "ジョン・スミス",
        "ｼﾞｮﾝ･ｽﾐｽ",
        "-ア",
        "ｱﾞ",
        "ﾞ",
    ],
)
def test_to_katakana_rejects(text: str) -> None:
    with pytest.raises(NormalizeError) as excinfo:
        to_katakana(text)
    assert reason_of(excinfo) == f"カタカナに変換できない文字があります: {text!r} (not katakana)"


katakana_words = st.text(alphabet=st.sampled_from(KATAKANA_WITH_HIRAGANA), min_size=1)


@given(st.lists(katakana_words, max_size=4), st.sampled_from([" ", "\u3000", "  ", " \u3000 "]))
def test_to_katakana_of_hiragana(words: list[str], space: str) -> None:
    assert to_katakana(space.join(map(hiragana_of, words))) == "\u3000".join(words)


@given(st.text(alphabet=st.sampled_from(KATAKANA_WITH_HALFWIDTH), min_size=1))
def test_to_katakana_of_halfwidth(katakana: str) -> None:
    assert to_katakana(halfwidth_of(katakana)) == katakana


@given(st.text(alphabet=st.sampled_from(_KATAKANA + ["\u3000"])))
def test_to_katakana_keeps_katakana(text: str) -> None:
    assert to_katakana(text) == "\u3000".join(text.split())


# --- parse_digits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "length", "expected"),
    [
        ("0123456789", 10, "0123456789"),
        ("０１２３４５６７８９", 10, "0123456789"),
        (" 0123-456-789 ", 10, "0123456789"),
        ("０１２３－４５６－７８９", 10, "0123456789"),
        ("0123ー456ー789", 10, "0123456789"),
        ("0123‐456−789", 10, "0123456789"),
        ("0123 456　789", 10, "0123456789"),
        ("007", None, "007"),
        (123456789, 10, "0123456789"),  # Excel dropped the leading zero
        (123456789.0, 10, "0123456789"),
        (1234567890, 10, "1234567890"),
        (7, None, "7"),
        (0, 3, "000"),
    ],
)
def test_parse_digits(value: object, length: int | None, expected: str) -> None:
    assert parse_digits(value, length) == expected


@pytest.mark.parametrize(
    ("value", "length", "reason"),
    [
        ("123456789", 10, "10桁の数字が必要です（9桁です）: '123456789' (expected 10 digits)"),
        ("01234567890", 10, "10桁の数字が必要です（11桁です）: '01234567890' (expected 10 digits)"),
        (12345678901, 10, "10桁の数字が必要です（11桁です）: '12345678901' (expected 10 digits)"),
        ("12a4", None, "数字以外の文字があります: '12a4' (not digits)"),
        ("１２３４５.０", None, "数字以外の文字があります: '１２３４５.０' (not digits)"),
        ("²³", None, "数字以外の文字があります: '²³' (not digits)"),
        ("--", None, "(not digits)"),
        (12.5, None, "数字以外の文字があります: '12.5' (not digits)"),
        (-12, None, "(not digits)"),
        (True, None, "(not digits)"),
        (date(2024, 4, 1), None, "(not digits)"),
        (float("nan"), None, "(not digits)"),
        ("", None, "数字が空です (empty)"),
        (None, 10, "数字が空です (empty)"),
        ("\u3000", None, "数字が空です (empty)"),
        (1234567890123456, None, "(too many digits for a numeric cell)"),
    ],
)
def test_parse_digits_rejects(value: object, length: int | None, reason: str) -> None:
    with pytest.raises(NormalizeError) as excinfo:
        parse_digits(value, length)
    assert reason in reason_of(excinfo)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_parse_digits_of_fullwidth(digits: str) -> None:
    assert parse_digits(fullwidth(digits)) == digits
    assert parse_digits(fullwidth(digits), len(digits)) == digits


@given(
    st.lists(st.text(alphabet="0123456789", min_size=1, max_size=5), min_size=1, max_size=4),
    st.sampled_from(["-", "－", "ー", "‐", " ", "\u3000", " - "]),
)
def test_parse_digits_drops_grouping(groups: list[str], separator: str) -> None:
    assert parse_digits(separator.join(groups)) == "".join(groups)


@given(st.integers(min_value=0, max_value=10**15 - 1), st.integers(min_value=0, max_value=5))
def test_parse_digits_pads_numbers(number: int, extra: int) -> None:
    length = len(str(number)) + extra
    assert parse_digits(number, length) == str(number).zfill(length)
    assert parse_digits(float(number), length) == str(number).zfill(length)


# --- parse_number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (20, {}, 20.0),
        (20, {"integer": True}, 20),
        (20.0, {"integer": True}, 20),
        (1.5, {}, 1.5),
        ("20", {"integer": True}, 20),
        (" 1,234,567 ", {"integer": True}, 1234567),
        ("１，２３４", {"integer": True}, 1234),
        ("１２３４．５", {}, 1234.5),
        ("1,234.50", {}, 1234.5),
        ("20.0", {"integer": True}, 20),
        ("0.5", {}, 0.5),
        (".5", {}, 0.5),
        ("-3", {"integer": True}, -3),
        ("－３", {"integer": True}, -3),
        ("+3", {"integer": True}, 3),
        ("▲1,000", {"integer": True}, -1000),
        ("△ 1,000", {"integer": True}, -1000),
        ("20時間", {"unit": "時間", "integer": True}, 20),
        ("２０ 時間", {"unit": "時間"}, 20.0),
        ("20", {"unit": "時間"}, 20.0),
        ("1.5kg", {"unit": "ｋｇ"}, 1.5),
        ("１．５ｋｇ", {"unit": "kg"}, 1.5),
        ("12345678901234567890", {"integer": True}, 12345678901234567890),
    ],
)
def test_parse_number(value: object, kwargs: dict[str, object], expected: float) -> None:
    result = parse_number(value, **kwargs)  # type: ignore[call-overload]
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "kwargs", "reason"),
    [
        (True, {}, "数値として読めません: 'True' (not a number)"),
        (None, {}, "数値が空です (empty)"),
        (" ", {}, "数値が空です (empty)"),
        ("abc", {}, "数値として読めません: 'abc' (not a number)"),
        ("1,00", {}, "(not a number)"),
        ("1,0000", {}, "(not a number)"),
        ("12,34", {}, "(not a number)"),
        ("1.", {}, "(not a number)"),
        ("-", {}, "(not a number)"),
        ("1e3", {}, "(not a number)"),
        ("١٢", {}, "(not a number)"),  # Arabic-Indic digits
        ("20時間", {}, "(not a number)"),
        (
            "20分",
            {"unit": "時間"},
            "数値として読めません: '20分'（単位は「時間」です） (not a number)",
        ),
        ("時間", {"unit": "時間"}, "(not a number)"),
        ("20.5", {"integer": True}, "整数ではありません: '20.5' (not an integer)"),
        (20.5, {"integer": True}, "整数ではありません: '20.5' (not an integer)"),
        (float("nan"), {}, "(not a number)"),
        (float("inf"), {"integer": True}, "(not a number)"),
    ],
)
def test_parse_number_rejects(value: object, kwargs: dict[str, object], reason: str) -> None:
    with pytest.raises(NormalizeError) as excinfo:
        parse_number(value, **kwargs)  # type: ignore[call-overload]
    assert reason in reason_of(excinfo)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_number_of_grouped_integers(number: int) -> None:
    assert parse_number(f"{number:,}", integer=True) == number
    assert parse_number(fullwidth(f"{number:,}"), integer=True) == number
    assert parse_number(f"{number:,}時間", integer=True, unit="時間") == number
    assert parse_number(str(number)) == float(number)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=999))
def test_parse_number_of_decimals(whole: int, thousandths: int) -> None:
    text = f"{whole}.{thousandths:03d}"
    assert parse_number(text) == float(text)
    assert parse_number(fullwidth(text)) == float(text)


# --- parse_date ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # date cells
        (date(2024, 4, 1), date(2024, 4, 1)),
        (datetime(2024, 4, 1), date(2024, 4, 1)),
        (datetime(2024, 4, 1, 17, 45, 10), date(2024, 4, 1)),
        # Excel serial numbers
        (45383, date(2024, 4, 1)),
        (45383.0, date(2024, 4, 1)),
        (45383.99, date(2024, 4, 1)),
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (2958465, date(9999, 12, 31)),
        # a date typed into a numeric cell
        (20240401, date(2024, 4, 1)),
        (20240401.0, date(2024, 4, 1)),
        # Western text
        ("2024-04-01", date(2024, 4, 1)),
        ("2024/4/1", date(2024, 4, 1)),
        ("2024.4.1", date(2024, 4, 1)),
        ("20240401", date(2024, 4, 1)),
        ("2024年4月1日", date(2024, 4, 1)),
        ("2024 年 4 月 1 日", date(2024, 4, 1)),
        ("西暦2024年4月1日", date(2024, 4, 1)),
        ("２０２４／０４／０１", date(2024, 4, 1)),
        ("２０２４年４月１日", date(2024, 4, 1)),
        ("  2024/4/1\n", date(2024, 4, 1)),
        ("2024-04-01 09:30:00", date(2024, 4, 1)),
        ("2024-04-01T09:30", date(2024, 4, 1)),
        # wareki
        ("令和6年4月1日", date(2024, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和 6 年 4 月 1 日", date(2024, 4, 1)),
        ("令和　６年　４月　１日", date(2024, 4, 1)),
        ("R6.4.1", date(2024, 4, 1)),
        ("R06/04/01", date(2024, 4, 1)),
        ("R6-4-1", date(2024, 4, 1)),
        ("r6.4.1", date(2024, 4, 1)),
        ("Ｒ６．４．１", date(2024, 4, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("R6年4月1日", date(2024, 4, 1)),
        ("令6.4.1", date(2024, 4, 1)),
        ("令和6.4.1", date(2024, 4, 1)),
        ("H.31.4.30", date(2019, 4, 30)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平31.4.30", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("S64.1.7", date(1989, 1, 7)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("昭64.1.7", date(1989, 1, 7)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("T15.12.25", date(1926, 12, 25)),  # the day Showa began is also Taisho 15
        ("大正15年12月25日", date(1926, 12, 25)),
        ("大15.12.25", date(1926, 12, 25)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("M45.7.29", date(1912, 7, 29)),
        ("明治45年7月30日", date(1912, 7, 30)),  # the day Taisho began is also Meiji 45
        ("明治元年1月25日", date(1868, 1, 25)),
        ("明6.1.1", date(1873, 1, 1)),
        ("㋿6.4.1", date(2024, 4, 1)),
        ("㍻31年4月30日", date(2019, 4, 30)),
        ("㍼64.1.7", date(1989, 1, 7)),
        ("㍽15.12.25", date(1926, 12, 25)),
        ("㍾45.7.29", date(1912, 7, 29)),
        # weekdays
        ("令和6年4月1日（月）", date(2024, 4, 1)),
        ("令和6年4月1日 (月)", date(2024, 4, 1)),
        ("2024/4/1(月)", date(2024, 4, 1)),
        ("2024/4/1（月曜日）", date(2024, 4, 1)),
        ("R6.4.1(月曜)", date(2024, 4, 1)),
    ],
)
def test_parse_date(value: object, expected: date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "日付が空です (empty)"),
        ("", "日付が空です (empty)"),
        ("\u3000", "日付が空です (empty)"),
        (
            "令和6年13月1日",
            "日付として読めません: '令和6年13月1日'（13月はありません） (not a date)",
        ),
        ("2024/2/30", "日付として読めません: '2024/2/30'（2024年2月は29日までです） (not a date)"),
        ("2023/2/29", "（2023年2月は28日までです）"),
        ("R5.2.29", "（令和5年2月は28日までです）"),
        ("2024/4/0", "（0日はありません）"),
        ("0000/1/1", "（0年はありません）"),
        (
            "令和0年5月1日",
            "日付として読めません: '令和0年5月1日'（令和0年はありません） (not a date)",
        ),
        ("R0.5.1", "（令和0年はありません）"),
        (
            "令和1年4月30日",
            "令和は2019年5月1日からです: '令和1年4月30日' (date before the start of the era)",
        ),
        ("R1.4.30", "(date before the start of the era)"),
        (
            "平成31年5月1日",
            "平成は2019年4月30日までです: '平成31年5月1日' (date after the end of the era)",
        ),
        ("H32.1.1", "平成は2019年4月30日までです: 'H32.1.1' (date after the end of the era)"),
        ("平成元年1月7日", "平成は1989年1月8日からです"),
        ("S64.1.8", "昭和は1989年1月7日までです"),
        ("昭和元年12月24日", "昭和は1926年12月25日からです"),
        ("T15.12.26", "大正は1926年12月25日までです"),
        ("大正元年7月29日", "大正は1912年7月30日からです"),
        ("M45.7.31", "明治は1912年7月30日までです"),
        ("明治元年1月24日", "明治は1868年1月25日からです"),
        ("45383", "日付として読めません: '45383' (not a date)"),  # a digit string is no serial
        ("2024-4/1", "(not a date)"),
        ("24/4/1", "(not a date)"),
        ("4/1/2024", "(not a date)"),
        ("2024年4月", "(not a date)"),
        ("X6.4.1", "(not a date)"),
        ("令和100年1月1日", "(not a date)"),
        ("来週の月曜", "(not a date)"),
        ("٢٠٢٤-٠٤-٠١", "(not a date)"),  # Arabic-Indic digits
        (60, "日付として読めません: '60'（1900年2月29日は実在しません） (not a date)"),
        (0, "（Excelの日付の範囲外の数です）"),
        (0.5, "（Excelの日付の範囲外の数です）"),
        (-1, "（Excelの日付の範囲外の数です）"),
        (2958466, "（Excelの日付の範囲外の数です）"),
        (20241301, "日付として読めません: '20241301'（13月はありません） (not a date)"),
        (float("nan"), "(not a date)"),
        (float("inf"), "(not a date)"),
        (True, "日付として読めません: 'True' (not a date)"),
        (
            time(9, 30),
            "日付として読めません: '09:30:00'（時刻だけで日付がありません） (not a date)",
        ),
        (object(), "(not a date)"),
    ],
)
def test_parse_date_rejects(value: object, reason: str) -> None:
    with pytest.raises(NormalizeError) as excinfo:
        parse_date(value)
    assert reason in reason_of(excinfo)


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (45383.5, date(2024, 4, 1)),
    ],
)
def test_excel_serial_to_date(serial: float, expected: date) -> None:
    assert excel_serial_to_date(serial) == expected


dates = st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 12, 31))


@given(dates)
def test_parse_date_of_western_text(day: date) -> None:
    y, m, d = day.year, day.month, day.day
    for text in [
        day.isoformat(),
        f"{y}/{m}/{d}",
        f"{y}.{m:02d}.{d:02d}",
        f"{y}{m:02d}{d:02d}",
        f"{y}年{m}月{d}日",
        fullwidth(f"{y}/{m}/{d}"),
        f"{y}年{m}月{d}日（{'月火水木金土日'[day.weekday()]}）",
    ]:
        assert parse_date(text) == day, text


@given(dates)
def test_parse_date_of_wareki(day: date) -> None:
    for text in wareki_forms(day):
        assert parse_date(text) == day, text


@given(dates, st.floats(min_value=0, max_value=0.999))
def test_parse_date_of_excel_serial(day: date, time_of_day: float) -> None:
    serial = excel_serial(day)
    assert parse_date(serial) == day
    assert parse_date(serial + time_of_day) == day
    assert parse_date(datetime(day.year, day.month, day.day, 12)) == day


# --- format_wareki ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "long", "short"),
    [
        (date(2024, 4, 1), "令和6年4月1日", "R6.4.1"),
        (date(2019, 5, 1), "令和元年5月1日", "R1.5.1"),
        (date(2019, 4, 30), "平成31年4月30日", "H31.4.30"),
        (date(1989, 1, 7), "昭和64年1月7日", "S64.1.7"),
        (date(1989, 1, 8), "平成元年1月8日", "H1.1.8"),
        (date(1926, 12, 25), "昭和元年12月25日", "S1.12.25"),  # shared day: the new era
        (date(1912, 7, 30), "大正元年7月30日", "T1.7.30"),
        (date(1868, 1, 25), "明治元年1月25日", "M1.1.25"),
    ],
)
def test_format_wareki(day: date, long: str, short: str) -> None:
    assert format_wareki(day) == long
    assert format_wareki(day, short=True) == short


def test_format_wareki_rejects_dates_before_meiji() -> None:
    with pytest.raises(NormalizeError) as excinfo:
        format_wareki(date(1868, 1, 24))
    assert reason_of(excinfo) == "和暦にできない日付です: '1868-01-24' (date before Meiji)"


@given(st.dates(min_value=date(1868, 1, 25), max_value=date(2100, 12, 31)))
def test_format_wareki_round_trips(day: date) -> None:
    assert parse_date(format_wareki(day)) == day
    assert parse_date(format_wareki(day, short=True)) == day
    assert format_wareki(day) == wareki_forms(day)[1]
