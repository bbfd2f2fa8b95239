"""Fictitious applicants and the messy Excel and PDF sample files that the practice bots read.

Everything here is made up: the names are built from tables of common family and given names,
the recipient numbers are random, and the city is the imaginary かかり市. The generated
:class:`Applicant` is the *normalised truth* (what should end up in the practice system); the
writers render it the way real back-office files look (wareki dates, full-width digits,
half-width katakana, hidden columns, blank rows, ...).

Rebuild the committed sample set, or write a large clean workbook for a benchmark::

    python -m framework.practice.samples welfare bots/welfare_entry/sample
    python -m framework.practice.samples bench /tmp/bench.xlsx --count 200 --seed 1

openpyxl is a runtime dependency; reportlab (PDF writing) is a development dependency and is
imported only by the PDF writers.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

CellValue = str | int | float | date | None

SERVICE_TYPES: tuple[str, ...] = (
    "居宅介護",
    "重度訪問介護",
    "同行援護",
    "行動援護",
    "生活介護",
    "短期入所",
    "就労移行支援",
    "就労継続支援A型",
    "就労継続支援B型",
    "共同生活援助",
)
"""The service types an applicant may apply for (障害福祉サービスの種類)."""

SUPPORT_LEVELS: tuple[str, ...] = ("非該当", "区分1", "区分2", "区分3", "区分4", "区分5", "区分6")
"""The support levels (障害支援区分), lowest first."""

RECORD_KEYS: tuple[str, ...] = (
    "name",
    "kana",
    "birth_date",
    "recipient_no",
    "service_type",
    "hours",
    "start_date",
    "support_level",
    "notes",
)
"""The keys of :meth:`Applicant.to_record`, the same as the practice system's ``/api/records``."""

SHEET_NAME = "申請一覧"
EXAMPLE_SHEET_NAME = "記入例"
TITLE = "障害福祉サービス支給申請 受付一覧（令和8年12月開始分）"
AUTHOR_LINE = "作成：障がい福祉課 受付担当"
HEADER_ROW = 3
FIRST_DATA_ROW = 4

COLUMNS: tuple[str, ...] = (
    "No.",
    "氏名",
    "フリガナ",
    "内部メモ",
    "生年月日",
    "受給者番号",
    "サービス種類",
    "支給量",
    "開始日",
    "障害支援区分",
    "備考",
)
"""The header row of the workbook, left to right (column A first). 内部メモ is hidden."""

EXTRA_ROW_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in ("No.", "内部メモ"))
"""The order of the values of an ``extra_rows`` row given to :func:`write_workbook`."""

PDF_LABELS: tuple[str, ...] = (
    "氏名",
    "フリガナ",
    "生年月日",
    "受給者番号",
    "サービス種類",
    "支給量",
    "開始日",
    "障害支援区分",
    "備考",
)
"""The form labels that carry an :class:`Applicant` field (as matched, without spaces)."""

SAMPLE_SEED = 2026
"""The seed of the committed welfare sample set."""
SAMPLE_WORKBOOK_COUNT = 32
SAMPLE_PDF_COUNT = 3
BAD_BIRTH_TEXT = "令和6年13月1日"
REFUSED_START_TEXT = "平成8年12月1日"
"""A 開始日 typed with the wrong era (平成 for 令和): valid, but before the birth date."""

_BIRTH_FIRST = date(1940, 1, 1)
_BIRTH_LAST = date(2010, 12, 31)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Parse whitespace-separated ``kanji/reading`` pairs."""
    return tuple((kanji, reading) for kanji, _, reading in (p.partition("/") for p in text.split()))


_FAMILY_NAMES = _pairs(
    """
    山田/ヤマダ 佐藤/サトウ 鈴木/スズキ 高橋/タカハシ 田中/タナカ 伊藤/イトウ
    渡辺/ワタナベ 中村/ナカムラ 小林/コバヤシ 加藤/カトウ 吉田/ヨシダ 山本/ヤマモト
    松本/マツモト 井上/イノウエ 木村/キムラ 林/ハヤシ 斎藤/サイトウ 清水/シミズ
    山口/ヤマグチ 森/モリ 池田/イケダ 橋本/ハシモト 阿部/アベ 石川/イシカワ
    前田/マエダ 藤田/フジタ 岡田/オカダ 後藤/ゴトウ 長谷川/ハセガワ 村上/ムラカミ
    近藤/コンドウ 坂本/サカモト 遠藤/エンドウ 青木/アオキ 藤井/フジイ 西村/ニシムラ
    福田/フクダ 太田/オオタ 三浦/ミウラ 岡本/オカモト
    """
)

# Given names by the generation they are typical for: (last birth year, names).
_GIVEN_NAMES: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = (
    (
        1964,
        _pairs(
            """
            和夫/カズオ 清/キヨシ 茂/シゲル 勝/マサル 修/オサム 博/ヒロシ 正雄/マサオ
            進/ススム 節子/セツコ 和子/カズコ 幸子/サチコ 洋子/ヨウコ 恵子/ケイコ
            京子/キョウコ 久美子/クミコ 美智子/ミチコ
            """
        ),
    ),
    (
        1989,
        _pairs(
            """
            誠/マコト 隆/タカシ 健一/ケンイチ 直樹/ナオキ 大輔/ダイスケ 拓也/タクヤ
            和也/カズヤ 剛/ツヨシ 裕子/ユウコ 直美/ナオミ 明美/アケミ 由美/ユミ
            真由美/マユミ 智子/トモコ 陽子/ヨウコ 愛/アイ
            """
        ),
    ),
    (
        9999,
        _pairs(
            """
            翔太/ショウタ 健太/ケンタ 大翔/ヒロト 蓮/レン 悠斗/ユウト 颯太/ソウタ
            拓海/タクミ 亮/リョウ 美咲/ミサキ 結衣/ユイ 彩/アヤ 葵/アオイ 千尋/チヒロ
            美穂/ミホ 七海/ナナミ 優花/ユウカ
            """
        ),
    ),
)

# service type -> (realistic monthly hours, support levels that fit the service)
_SERVICE_RULES: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    "居宅介護": ((8, 60), SUPPORT_LEVELS[1:]),
    "重度訪問介護": ((120, 180), SUPPORT_LEVELS[4:]),
    "同行援護": ((10, 50), SUPPORT_LEVELS),
    "行動援護": ((10, 40), SUPPORT_LEVELS[3:]),
    "生活介護": ((80, 160), SUPPORT_LEVELS[3:]),
    "短期入所": ((8, 30), SUPPORT_LEVELS[1:]),
    "就労移行支援": ((60, 160), SUPPORT_LEVELS[:3]),
    "就労継続支援A型": ((80, 170), SUPPORT_LEVELS[:3]),
    "就労継続支援B型": ((60, 160), SUPPORT_LEVELS[:4]),
    "共同生活援助": ((100, 180), SUPPORT_LEVELS[:5]),
}

_NOTES: tuple[str, ...] = (
    "更新申請",
    "新規申請",
    "通院等介助を含む",
    "家族の就労のため",
    "区分変更申請中",
    "転入（前住所地：みなと市）",
    "日中一時支援も併用予定",
    "体験利用から移行",
    "相談支援専門員：鈴木",
)

_MEMO_JUNK: tuple[str, ...] = (
    "電話確認済",
    "要再確認",
    "旧様式で受付",
    "ｺﾋﾟｰ済",
    "#N/A",
    "FAX受付",
    "★",
    "0",
    "済",
)

_TOWNS: tuple[str, ...] = ("本町", "緑町", "栄町", "桜台", "旭ヶ丘", "中央", "東町", "川端")

_KANA_RE = re.compile(r"[ァ-ヶー]+\u3000[ァ-ヶー]+")
_NAME_RE = re.compile(r"[^\s]+\u3000[^\s]+")

# Eras newest first: (first day, kanji name, letter used in abbreviations such as H6.11.3).
_ERAS: tuple[tuple[date, str, str], ...] = (
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
    (date(1912, 7, 30), "大正", "T"),
)


@dataclass(frozen=True)
class Applicant:
    """One fictitious applicant, normalised: what the practice system should hold.

    ``name`` is kanji and ``kana`` full-width katakana, family and given name separated by one
    ideographic space (U+3000); ``recipient_no`` is the 10-digit 受給者番号 as text (it may
    start with 0); ``hours`` is the monthly 支給量 in hours.
    """

    name: str
    kana: str
    birth_date: date
    recipient_no: str
    service_type: str
    hours: int
    start_date: date
    support_level: str
    notes: str = ""

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not _NAME_RE.fullmatch(self.name):
            problems.append(f"name {self.name!r} is not 'family\\u3000given'")
        if not _KANA_RE.fullmatch(self.kana):
            problems.append(f"kana {self.kana!r} is not full-width katakana 'family\\u3000given'")
        if not re.fullmatch(r"[0-9]{10}", self.recipient_no):
            problems.append(f"recipient_no {self.recipient_no!r} is not 10 ASCII digits")
        if self.service_type not in SERVICE_TYPES:
            problems.append(f"unknown service_type {self.service_type!r}")
        if not 1 <= self.hours <= 744:
            problems.append(f"hours {self.hours} not in 1..744")
        if self.support_level not in SUPPORT_LEVELS:
            problems.append(f"unknown support_level {self.support_level!r}")
        if self.notes != self.notes.strip():
            problems.append(f"notes {self.notes!r} has surrounding whitespace")
        if problems:
            raise ValueError("invalid Applicant: " + "; ".join(problems))

    def to_record(self) -> dict[str, str | int]:
        """The applicant as a record of the practice system's ``/api/records`` (ISO dates)."""
        return {
            "name": self.name,
            "kana": self.kana,
            "birth_date": self.birth_date.isoformat(),
            "recipient_no": self.recipient_no,
            "service_type": self.service_type,
            "hours": self.hours,
            "start_date": self.start_date.isoformat(),
            "support_level": self.support_level,
            "notes": self.notes,
        }


def generate_applicants(n: int, seed: int = 0) -> list[Applicant]:
    """Make ``n`` fictitious applicants, the same ones for the same ``(n, seed)``.

    Recipient numbers are unique (so is every ``(recipient_no, service_type, start_date)``);
    about a quarter start with 0. Names are unique while the name tables allow it (about 640
    names per generation); beyond that names may repeat. Birth dates lie in 1940-2010 and start
    dates in December 2026 - March 2027 (mostly the 1st of a month). The first ``k`` applicants
    of ``generate_applicants(n, seed)`` do not depend on ``n``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    people: list[Applicant] = []
    used_numbers: set[str] = set()
    used_names: set[str] = set()
    birth_span = (_BIRTH_LAST - _BIRTH_FIRST).days
    start_months = ((2026, 12), (2027, 1), (2027, 2), (2027, 3))
    for _ in range(n):
        birth = _BIRTH_FIRST + timedelta(days=rng.randrange(birth_span + 1))
        given_names = next(names for last_year, names in _GIVEN_NAMES if birth.year <= last_year)
        for _attempt in range(50):
            family, family_kana = rng.choice(_FAMILY_NAMES)
            given, given_kana = rng.choice(given_names)
            name = f"{family}\u3000{given}"
            if name not in used_names:
                break
        used_names.add(name)

        while True:
            first = "0" if rng.random() < 0.25 else str(rng.randint(1, 9))
            number = first + "".join(str(rng.randrange(10)) for _ in range(9))
            if number not in used_numbers:
                break
        used_numbers.add(number)

        service = rng.choice(SERVICE_TYPES)
        (low, high), levels = _SERVICE_RULES[service]
        year, month = rng.choice(start_months)
        day = 1 if rng.random() < 0.6 else rng.randint(2, 28)
        notes = rng.choice(_NOTES) if rng.random() < 0.3 else ""
        people.append(
            Applicant(
                name=name,
                kana=f"{family_kana}\u3000{given_kana}",
                birth_date=birth,
                recipient_no=number,
                service_type=service,
                hours=rng.randint(low, high),
                start_date=date(year, month, day),
                support_level=rng.choice(levels),
                notes=notes,
            )
        )
    return people


# --- rendering values the way people type them ------------------------------------------


def _era(day: date) -> tuple[str, str, int]:
    for first, kanji, letter in _ERAS:
        if day >= first:
            return kanji, letter, day.year - first.year + 1
    raise ValueError(f"no Japanese era for {day}")


def _wareki(day: date) -> str:
    """The date in Japanese-era kanji form: 昭和58年4月12日, 平成元年1月8日."""
    kanji, _letter, year = _era(day)
    year_text = "元" if year == 1 else str(year)
    return f"{kanji}{year_text}年{day.month}月{day.day}日"


def _wareki_abbrev(day: date) -> str:
    """The date in the abbreviated era form of forms and ledgers: S58.4.12, H6.11.3, R8.12.1."""
    _kanji, letter, year = _era(day)
    return f"{letter}{year}.{day.month}.{day.day}"


def _to_hiragana(text: str) -> str:
    """Katakana to hiragana (ヤマダ → やまだ); other characters unchanged."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


# Full-width katakana in the order of the half-width block U+FF66..U+FF9D.
_HALF_KANA_ORDER = (
    "ヲァィゥェォャュョッー"
    "アイウエオカキクケコサシスセソタチツテト"
    "ナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)
_TO_HALF_KANA: dict[str, str] = {
    full: chr(0xFF66 + i) for i, full in enumerate(_HALF_KANA_ORDER)
} | {"\u3099": "\uff9e", "\u309a": "\uff9f", "\u3000": " ", "・": "･"}


def _to_halfwidth_kana(text: str) -> str:
    """Full-width katakana to half-width (ヤマダ　タロウ → ﾔﾏﾀﾞ ﾀﾛｳ), voiced marks split off."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(_TO_HALF_KANA.get(c, c) for c in decomposed)


def _to_fullwidth_digits(text: str) -> str:
    """ASCII digits to full-width digits (0123 → ０１２３); other characters unchanged."""
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)


# --- the workbook ---------------------------------------------------------------------------

_NAME_KINDS = ("plain", "padded")
_KANA_KINDS = ("katakana", "hiragana", "halfwidth")
_DATE_KINDS_BIRTH = ("excel", "wareki", "wareki_abbrev", "slash")
_RECIPIENT_KINDS = ("text", "fullwidth", "number", "hyphen")
_HOURS_KINDS = ("int", "fullwidth", "suffix")
_DATE_KINDS_START = ("excel", "wareki", "wareki_abbrev", "iso")
_EXCEL_DATE_FORMAT = "yyyy/m/d"


@dataclass(frozen=True)
class _RowStyle:
    """How one data row is written: the form of each messy field, and blank rows before it."""

    name: str = "plain"
    kana: str = "katakana"
    birth: str = "excel"
    recipient: str = "text"
    hours: str = "int"
    start: str = "excel"
    blank_before: int = 0


def _spread(rng: random.Random, kinds: Sequence[str], n: int) -> list[str]:
    """``n`` kinds, each at least twice when ``n`` allows, in a seeded random order."""
    pool = [kind for _ in range(2) for kind in kinds][:n]
    pool += [rng.choice(kinds) for _ in range(n - len(pool))]
    rng.shuffle(pool)
    return pool


def _mess_plan(n: int, seed: int) -> list[_RowStyle]:
    """The deterministic mess of ``n`` data rows (see :func:`write_workbook`)."""
    rng = random.Random(seed)
    names = _spread(rng, _NAME_KINDS, n)
    kanas = _spread(rng, _KANA_KINDS, n)
    births = _spread(rng, _DATE_KINDS_BIRTH, n)
    recipients = _spread(rng, _RECIPIENT_KINDS, n)
    hours = _spread(rng, _HOURS_KINDS, n)
    starts = _spread(rng, _DATE_KINDS_START, n)
    gaps: dict[int, int] = {}
    if n >= 2:
        count = min(n - 1, max(2, n // 10))
        for i, row in enumerate(sorted(rng.sample(range(1, n), count))):
            gaps[row] = 2 if i == 0 else 3 if i == 1 else rng.choice((2, 3))
    return [
        _RowStyle(names[i], kanas[i], births[i], recipients[i], hours[i], starts[i], gaps.get(i, 0))
        for i in range(n)
    ]


def _ensure_lost_zero(plan: list[_RowStyle], rows: Sequence[Applicant]) -> list[_RowStyle]:
    """Make sure a recipient number written as a number cell loses a leading zero, if any can."""
    numbers = [i for i, style in enumerate(plan) if style.recipient == "number"]
    zeros = [i for i, person in enumerate(rows) if person.recipient_no.startswith("0")]
    if not numbers or not zeros or any(i in zeros for i in numbers):
        return plan
    a, b = numbers[0], zeros[0]
    plan = list(plan)
    plan[a], plan[b] = (
        replace(plan[a], recipient=plan[b].recipient),
        replace(plan[b], recipient="number"),
    )
    return plan


@dataclass(frozen=True)
class _Cell:
    value: CellValue
    number_format: str | None = None


def _date_cell(day: date, kind: str) -> _Cell:
    if kind == "excel":
        return _Cell(day, _EXCEL_DATE_FORMAT)
    if kind == "wareki":
        return _Cell(_wareki(day))
    if kind == "wareki_abbrev":
        return _Cell(_wareki_abbrev(day))
    if kind == "slash":
        return _Cell(f"{day.year}/{day.month}/{day.day}")
    if kind == "iso":
        return _Cell(day.isoformat())
    raise ValueError(f"unknown date kind {kind!r}")


def _recipient_cell(number: str, kind: str) -> _Cell:
    if kind == "text":
        return _Cell(number, "@")
    if kind == "fullwidth":
        return _Cell(_to_fullwidth_digits(number), "@")
    if kind == "number":
        return _Cell(int(number), "0")
    if kind == "hyphen":
        return _Cell(f"{number[:4]}-{number[4:7]}-{number[7:]}", "@")
    raise ValueError(f"unknown recipient kind {kind!r}")


def _hours_cell(hours: int, kind: str) -> _Cell:
    if kind == "int":
        return _Cell(hours)
    if kind == "fullwidth":
        return _Cell(_to_fullwidth_digits(str(hours)))
    if kind == "suffix":
        return _Cell(f"{hours}時間")
    raise ValueError(f"unknown hours kind {kind!r}")


def _kana_value(kana: str, kind: str) -> str:
    if kind == "katakana":
        return kana
    if kind == "hiragana":
        return _to_hiragana(kana)
    if kind == "halfwidth":
        return _to_halfwidth_kana(kana)
    raise ValueError(f"unknown kana kind {kind!r}")


def _row_cells(person: Applicant, style: _RowStyle, memo: str) -> list[_Cell]:
    """The cells of one data row in :data:`COLUMNS` order, without No."""
    name = f"\u3000{person.name} " if style.name == "padded" else person.name
    return [
        _Cell(name),
        _Cell(_kana_value(person.kana, style.kana)),
        _Cell(memo or None),
        _date_cell(person.birth_date, style.birth),
        _recipient_cell(person.recipient_no, style.recipient),
        _Cell(person.service_type),
        _hours_cell(person.hours, style.hours),
        _date_cell(person.start_date, style.start),
        _Cell(person.support_level),
        _Cell(person.notes or None),
    ]


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill(fill_type="solid", fgColor="DDEBF7")
_COLUMN_WIDTHS = (5, 16, 18, 12, 14, 14, 18, 8, 14, 12, 26)


def _write_frame(ws: Worksheet, title: str, author: str) -> None:
    """Title row, author row and header row, column widths; 内部メモ hidden."""
    last = get_column_letter(len(COLUMNS))
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(f"A1:{last}1")
    ws["A2"] = author
    for col, header in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for col, width in enumerate(_COLUMN_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.column_dimensions[get_column_letter(COLUMNS.index("内部メモ") + 1)].hidden = True
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"


def _put_row(ws: Worksheet, row: int, number: int, cells: Sequence[_Cell]) -> None:
    ws.cell(row=row, column=1, value=number)
    for col, cell in enumerate(cells, start=2):
        target = ws.cell(row=row, column=col, value=cell.value)
        if cell.number_format is not None:
            target.number_format = cell.number_format


def _extra_cells(values: Sequence[object]) -> list[_Cell]:
    if len(values) != len(EXTRA_ROW_COLUMNS):
        raise ValueError(
            f"an extra row needs {len(EXTRA_ROW_COLUMNS)} values ({', '.join(EXTRA_ROW_COLUMNS)}),"
            f" got {len(values)}"
        )
    cells = [
        _Cell(
            value if isinstance(value, str | int | float | date) or value is None else str(value),
            _EXCEL_DATE_FORMAT if isinstance(value, date) else None,
        )
        for value in values
    ]
    return cells[:2] + [_Cell(None)] + cells[2:]


def _write_workbook(
    path: Path,
    rows: Sequence[Applicant],
    *,
    messy: bool,
    seed: int,
    extra_rows: Sequence[Sequence[object]],
    plan: Sequence[_RowStyle] | None = None,
) -> list[int]:
    """Write the workbook; return the Excel row number of every data row (extra rows last)."""
    if plan is None:
        plan = _mess_plan(len(rows), seed) if messy else [_RowStyle()] * len(rows)
        if messy:
            plan = _ensure_lost_zero(list(plan), rows)
    if len(plan) != len(rows):
        raise ValueError("the plan must have one style per row")
    memo_rng = random.Random(f"memo-{seed}")

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_NAME
    _write_frame(ws, TITLE, AUTHOR_LINE)
    excel_rows: list[int] = []
    row = FIRST_DATA_ROW
    for number, (person, style) in enumerate(zip(rows, plan, strict=True), start=1):
        row += style.blank_before
        memo = memo_rng.choice(_MEMO_JUNK) if memo_rng.random() < 0.4 else ""
        _put_row(ws, row, number, _row_cells(person, style, memo))
        excel_rows.append(row)
        row += 1
    for number, values in enumerate(extra_rows, start=len(rows) + 1):
        _put_row(ws, row, number, _extra_cells(values))
        excel_rows.append(row)
        row += 1

    example = wb.create_sheet(EXAMPLE_SHEET_NAME)
    _write_frame(
        example, "記入例", "※ この行は記入例です。申請は「申請一覧」シートに記入してください。"
    )
    sample_person = Applicant(
        name="見本\u3000太郎",
        kana="ミホン\u3000タロウ",
        birth_date=date(1980, 4, 1),
        recipient_no="1234567890",
        service_type="居宅介護",
        hours=20,
        start_date=date(2026, 12, 1),
        support_level="区分2",
        notes="記入例",
    )
    _put_row(example, FIRST_DATA_ROW, 1, _row_cells(sample_person, _RowStyle(), ""))

    wb.properties.creator = "kakari"
    wb.properties.title = TITLE
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _make_reproducible(path)
    return excel_rows


def write_workbook(
    path: Path,
    rows: Sequence[Applicant],
    *,
    messy: bool,
    seed: int = 0,
    extra_rows: Sequence[Sequence[object]] = (),
) -> None:
    """Write an application ledger (受付一覧) like the ones kept by hand at a welfare desk.

    Sheet 申請一覧 comes first: a title merged across A1:K1, an author line in A2, the
    :data:`COLUMNS` headers in row 3 (bold, filled; 内部メモ between フリガナ and 生年月日 is
    hidden and holds junk) and data from row 4; No. counts the data rows. A second sheet 記入例
    holds one example row, so a bot must pick the right sheet.

    With ``messy=False`` the values are clean: Excel dates, the recipient number as text with
    its leading zero, hours as a number. With ``messy=True`` the forms vary deterministically
    with ``seed``, each at least twice (given enough rows): フリガナ in hiragana or half-width
    katakana; 生年月日 as an Excel date, 昭和58年4月12日 (平成元年 where it fits), S58.4.12 or
    1983/4/12; 受給者番号 as full-width digits, as a number cell (a leading zero is lost) or
    as 0123-456-789; 支給量 as a number, ２０ or 20時間; 開始日 as an Excel date, 令和8年12月1日,
    R8.12.1 or 2026-12-01; names padded with stray spaces; groups of 2 or 3 blank rows.

    ``extra_rows`` are written as given after the generated rows, values in
    :data:`EXTRA_ROW_COLUMNS` order (dates become Excel dates), numbered on from the last row.
    """
    _write_workbook(path, rows, messy=messy, seed=seed, extra_rows=extra_rows)


_FIXED_ZIP_TIME = (2026, 11, 1, 9, 0, 0)
_FIXED_MODIFIED = "2026-11-01T09:00:00Z"
_MODIFIED_RE = re.compile(rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*(</dcterms:)")


def _make_reproducible(path: Path) -> None:
    """Pin the timestamps openpyxl writes, so rebuilding the samples changes no bytes."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = _MODIFIED_RE.sub(rb"\g<1>" + _FIXED_MODIFIED.encode() + rb"\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


# --- the PDF application form ---------------------------------------------------------------

_GOTHIC = "HeiseiKakuGo-W5"
_MINCHO = "HeiseiMin-W3"


def _canvas(path: Path) -> tuple[Any, float, float]:
    """A reportlab A4 canvas, its width and height; the Japanese CID fonts are registered.

    The CID fonts are the standard Japanese fonts of PDF readers, so no font file is embedded
    or needed. ``invariant`` pins the creation date and document id, so rebuilds are identical.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    for font in (_GOTHIC, _MINCHO):
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = A4
    return canvas.Canvas(str(path), pagesize=A4, invariant=True), width, height


def _form_values(applicant: Applicant, messy: bool) -> list[tuple[str, str]]:
    """(label as printed, value as typed) rows of the application form."""
    rng = random.Random(applicant.recipient_no)
    town = rng.choice(_TOWNS)
    address = f"かかり市{town}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
    if messy:
        kana = applicant.kana if rng.random() < 0.7 else _to_hiragana(applicant.kana)
        birth = _wareki(applicant.birth_date)
        number = _to_fullwidth_digits(applicant.recipient_no)
        hours = str(applicant.hours)
        hours = f"{_to_fullwidth_digits(hours) if rng.random() < 0.5 else hours}時間"
        start = (
            _wareki(applicant.start_date)
            if rng.random() < 0.6
            else (_wareki_abbrev(applicant.start_date))
        )
        address = _to_fullwidth_digits(address)
    else:
        kana = applicant.kana
        birth = applicant.birth_date.isoformat()
        number = applicant.recipient_no
        hours = str(applicant.hours)
        start = applicant.start_date.isoformat()
    return [
        ("氏\u3000\u3000名", applicant.name),
        ("フリガナ", kana),
        ("生年月日", birth),
        ("住\u3000\u3000所", address),
        ("受給者番号", number),
        ("サービス種類", applicant.service_type),
        ("支\u3000給\u3000量", hours),
        ("開\u3000始\u3000日", start),
        ("障害支援区分", applicant.support_level),
        ("備\u3000\u3000考", applicant.notes),
    ]


def write_pdf_application(path: Path, applicant: Applicant, *, messy: bool = True) -> None:
    """Write a one-page A4 障害福祉サービス支給申請書 for ``applicant`` (text is extractable).

    The form has a title, the addressee かかり市長 様, an application date, a bordered
    two-column table (label | value) with the :data:`PDF_LABELS` plus 住所, some labels spaced
    out as on printed forms (氏　　名, 備　　考), and a signature line. With ``messy=True`` the
    values look typed by hand: wareki dates, full-width digits, 20時間 (the exact forms depend
    only on the applicant); with ``messy=False`` they are the :meth:`Applicant.to_record` values.
    """
    c, width, height = _canvas(path)
    left, right = 56.0, width - 56.0
    c.setTitle("障害福祉サービス支給申請書")
    c.setAuthor("kakari (fictitious sample)")

    c.setFont(_MINCHO, 9)
    c.drawString(left, height - 48, "様式第1号（第4条関係）")
    c.setFont(_GOTHIC, 18)
    c.drawCentredString(width / 2, height - 90, "障害福祉サービス支給申請書")
    applied = applicant.start_date - timedelta(days=10 + int(applicant.recipient_no[-2:]) % 16)
    c.setFont(_MINCHO, 11)
    c.drawRightString(right, height - 125, _wareki(applied) if messy else applied.isoformat())
    c.setFont(_MINCHO, 13)
    c.drawString(left, height - 150, "かかり市長\u3000様")
    c.setFont(_MINCHO, 10.5)
    c.drawString(left, height - 180, "次のとおり障害福祉サービスの支給を申請します。")

    rows = _form_values(applicant, messy)
    label_width, row_height, note_height = 120.0, 30.0, 54.0
    top = height - 200
    heights = [note_height if i == len(rows) - 1 else row_height for i in range(len(rows))]
    bottom = top - sum(heights)
    c.setFillGray(0.92)
    c.rect(left, bottom, label_width, top - bottom, stroke=0, fill=1)
    c.setFillGray(0)
    c.setLineWidth(0.6)
    y = top
    for (label, value), row_h in zip(rows, heights, strict=True):
        c.line(left, y, right, y)
        baseline = y - row_h / 2 - 4 if row_h == row_height else y - 20
        c.setFont(_GOTHIC, 11)
        c.drawString(left + 10, baseline, label)
        c.setFont(_MINCHO, 12)
        c.drawString(left + label_width + 10, baseline, value)
        y -= row_h
    c.line(left + label_width, top, left + label_width, bottom)
    c.setLineWidth(1.5)
    c.rect(left, bottom, right - left, top - bottom, stroke=1, fill=0)

    c.setLineWidth(0.6)
    c.setFont(_MINCHO, 9)
    c.drawString(left, bottom - 20, "※ 太枠内をもれなく記入してください。")
    c.setFont(_MINCHO, 11)
    sign_y = bottom - 70
    c.drawString(left + 200, sign_y, "申請者（署名）")
    c.line(left + 280, sign_y - 3, right, sign_y - 3)
    c.rect(right - 80, 60, 80, 80, stroke=1, fill=0)
    c.setFont(_MINCHO, 8)
    c.drawCentredString(right - 40, 128, "受付印")
    c.drawString(left, 64, "かかり市 健康福祉部 障がい福祉課（架空の自治体です）")
    c.showPage()
    c.save()


def write_scanned_pdf(path: Path) -> None:
    """Write a PDF that looks like a scanned form: only drawn shapes, no text layer at all."""
    c, width, height = _canvas(path)
    rng = random.Random(7)
    c.setFillGray(0.96)
    c.rect(0, 0, width, height, stroke=0, fill=1)
    c.setStrokeGray(0.25)
    c.setLineWidth(0.8)
    c.rect(56, 300, width - 112, 330, stroke=1, fill=0)
    for i in range(1, 10):
        c.line(56, 300 + 33 * i, width - 56, 300 + 33 * i)
    c.line(176, 300, 176, 630)
    # "handwriting": short wobbly strokes where the values would be
    for row in range(10):
        x = 190.0
        y = 312.0 + 33 * row
        for _ in range(rng.randint(3, 9)):
            dx = rng.uniform(6, 14)
            c.bezier(x, y, x + dx / 3, y + rng.uniform(4, 12), x + 2 * dx / 3, y - 3, x + dx, y + 5)
            x += dx + rng.uniform(2, 6)
    c.setFillGray(0.2)
    c.rect(width / 2 - 120, 720, 240, 14, stroke=0, fill=1)  # the smudged title bar
    c.showPage()
    c.save()


# --- the committed sample set ---------------------------------------------------------------


def build_welfare_samples(out_dir: Path) -> list[Applicant]:
    """Write the welfare sample set into ``out_dir``; return the applicants expected to be entered.

    * ``applications.xlsx``: 32 applicants, messy, then one bad row (a new person whose
      生年月日 is 令和6年13月1日), one duplicate (an earlier applicant's values written
      differently) and one row the system refuses (a young person whose 開始日 was typed with
      the wrong era, 平成8年 instead of 令和8年, so it falls before the birth date); none of the
      three extra rows is expected in the system.
    * ``申請書_2026-001.pdf`` .. ``_003.pdf``: three more applicants.
    * ``expected.json``: the 35 expected records, plus where the bad and duplicate rows are.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    people = generate_applicants(SAMPLE_WORKBOOK_COUNT + SAMPLE_PDF_COUNT + 2, SAMPLE_SEED)
    sheet_people = people[:SAMPLE_WORKBOOK_COUNT]
    pdf_people = people[SAMPLE_WORKBOOK_COUNT : SAMPLE_WORKBOOK_COUNT + SAMPLE_PDF_COUNT]
    bad_person = people[SAMPLE_WORKBOOK_COUNT + SAMPLE_PDF_COUNT]
    refused_person = replace(people[-1], birth_date=date(2003, 5, 20))

    plan = _ensure_lost_zero(_mess_plan(len(sheet_people), SAMPLE_SEED), sheet_people)
    # Era edge cases: 平成元年1月8日 (the first day of Heisei) and S64.1.7 (the last of Showa).
    for kind, day in (("wareki", date(1989, 1, 8)), ("wareki_abbrev", date(1989, 1, 7))):
        rows = [i for i, style in enumerate(plan) if style.birth == kind]
        # prefer someone whose given name suits a 1989 birth (the 1965-1989 generation)
        i = next((i for i in rows if 1965 <= sheet_people[i].birth_date.year <= 1989), rows[0])
        sheet_people[i] = replace(sheet_people[i], birth_date=day)

    bad_values: list[object] = [
        bad_person.name,
        bad_person.kana,
        BAD_BIRTH_TEXT,
        bad_person.recipient_no,
        bad_person.service_type,
        bad_person.hours,
        bad_person.start_date,
        bad_person.support_level,
        bad_person.notes,
    ]
    original = next(
        (i for i, s in enumerate(plan) if s.recipient == "text" and s.birth == "excel"),
        next((i for i, s in enumerate(plan) if s.recipient == "text"), 0),
    )
    twin, style = sheet_people[original], plan[original]
    dup_values: list[object] = [
        twin.name,
        _kana_value(twin.kana, "halfwidth" if style.kana != "halfwidth" else "hiragana"),
        _wareki(twin.birth_date) if style.birth != "wareki" else _wareki_abbrev(twin.birth_date),
        _to_fullwidth_digits(twin.recipient_no),
        twin.service_type,
        f"{twin.hours}時間" if style.hours != "suffix" else twin.hours,
        _wareki_abbrev(twin.start_date)
        if style.start != "wareki_abbrev"
        else _wareki(twin.start_date),
        twin.support_level,
        twin.notes,
    ]
    refused_values: list[object] = [
        refused_person.name,
        refused_person.kana,
        refused_person.birth_date,
        refused_person.recipient_no,
        refused_person.service_type,
        refused_person.hours,
        REFUSED_START_TEXT,
        refused_person.support_level,
        refused_person.notes,
    ]
    excel_rows = _write_workbook(
        out_dir / "applications.xlsx",
        sheet_people,
        messy=True,
        seed=SAMPLE_SEED,
        extra_rows=[bad_values, dup_values, refused_values],
        plan=plan,
    )
    for k, person in enumerate(pdf_people, start=1):
        write_pdf_application(out_dir / f"申請書_2026-{k:03d}.pdf", person, messy=True)

    expected = sheet_people + pdf_people
    document = {
        "records": [person.to_record() for person in expected],
        "bad_rows": [
            {
                "file": "applications.xlsx",
                "row": excel_rows[len(sheet_people)],
                "column": "生年月日",
            }
        ],
        "duplicate_rows": [
            {
                "file": "applications.xlsx",
                "row": excel_rows[len(sheet_people) + 1],
                "same_as_row": excel_rows[original],
            }
        ],
        "refused_rows": [
            {
                "file": "applications.xlsx",
                "row": excel_rows[len(sheet_people) + 2],
                "message": "開始日：生年月日より前の日付は入力できません。",
            }
        ],
    }
    (out_dir / "expected.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return expected


def main(argv: list[str] | None = None) -> int:
    """``python -m framework.practice.samples {welfare OUT_DIR | bench OUT_FILE}``."""
    parser = argparse.ArgumentParser(
        prog="python -m framework.practice.samples",
        description="架空の申請者のサンプルファイルを作ります (write fictitious sample files).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    welfare = commands.add_parser(
        "welfare", help="福祉の申請サンプル一式を作り直す (rebuild the welfare sample set)"
    )
    welfare.add_argument("out_dir", type=Path)
    bench = commands.add_parser(
        "bench", help="ベンチマーク用のきれいなExcelを書く (write a clean workbook for benchmarks)"
    )
    bench.add_argument("out_file", type=Path)
    bench.add_argument("--count", type=int, default=200)
    bench.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    if args.command == "welfare":
        expected = build_welfare_samples(args.out_dir)
        print(
            f"{args.out_dir}: 期待される申請 {len(expected)} 件 ({len(expected)} expected records)"
        )
        return 0
    if args.count < 1:
        parser.error("--count must be at least 1")
    people = generate_applicants(args.count, args.seed)
    write_workbook(args.out_file, people, messy=False, seed=args.seed)
    print(f"{args.out_file}: {len(people)} 件 ({len(people)} applicants)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
