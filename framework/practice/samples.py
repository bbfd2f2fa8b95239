"""The sample files of the practice bots: the messy Excel ledger and the committed welfare set.

:func:`write_workbook` renders :class:`~framework.practice.applicants.Applicant` rows the way a
hand-kept ledger looks (wareki dates, full-width digits, half-width katakana, hidden columns, blank
rows, ...; the forms themselves are in :mod:`framework.practice.mess`);
:func:`build_welfare_samples` writes the committed sample set of the welfare bot, with the PDF
forms of :mod:`framework.practice.forms`.

Rebuild the committed sample set, or write a large clean workbook for a benchmark::

    python -m framework.practice.samples welfare bots/welfare_entry/sample
    python -m framework.practice.samples bench /tmp/bench.xlsx --count 200 --seed 1

openpyxl is a runtime dependency; reportlab (PDF writing) is a development dependency and is
imported only when :mod:`framework.practice.forms` writes a PDF.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from framework.practice.applicants import RECORD_KEYS, Applicant, generate_applicants
from framework.practice.forms import PDF_LABELS, write_pdf_application, write_scanned_pdf
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
from framework.practice.validation import SERVICE_TYPES, SUPPORT_LEVELS

__all__ = [
    "AUTHOR_LINE",
    "BAD_BIRTH_TEXT",
    "COLUMNS",
    "EXAMPLE_SHEET_NAME",
    "EXTRA_ROW_COLUMNS",
    "FIRST_DATA_ROW",
    "HEADER_ROW",
    "REFUSED_START_TEXT",
    "SAMPLE_PDF_COUNT",
    "SAMPLE_SEED",
    "SAMPLE_WORKBOOK_COUNT",
    "SHEET_NAME",
    "TITLE",
    "CellValue",
    "build_welfare_samples",
    "main",
    "write_workbook",
    # Re-exported from the modules they moved to, for code that imports them from here.
    "PDF_LABELS",
    "RECORD_KEYS",
    "SERVICE_TYPES",
    "SUPPORT_LEVELS",
    "Applicant",
    "generate_applicants",
    "write_pdf_application",
    "write_scanned_pdf",
]

CellValue = str | int | float | date | None

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

SAMPLE_SEED = 2026
"""The seed of the committed welfare sample set."""
SAMPLE_WORKBOOK_COUNT = 32
SAMPLE_PDF_COUNT = 3
BAD_BIRTH_TEXT = "令和6年13月1日"
REFUSED_START_TEXT = "平成8年12月1日"
"""A 開始日 typed with the wrong era (平成 for 令和): valid, but before the birth date."""


# --- the workbook ---------------------------------------------------------------------------

_NAME_KINDS = ("plain", "padded")
_KANA_KINDS = ("katakana", "hiragana", "halfwidth")
_DATE_KINDS_BIRTH = ("excel", "wareki", "wareki_abbrev", "slash")
_RECIPIENT_KINDS = ("text", "fullwidth", "number", "hyphen")
_HOURS_KINDS = ("int", "fullwidth", "suffix")
_DATE_KINDS_START = ("excel", "wareki", "wareki_abbrev", "iso")
_EXCEL_DATE_FORMAT = "yyyy/m/d"

# What staff leave in the hidden 内部メモ column.
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
        return _Cell(wareki(day))
    if kind == "wareki_abbrev":
        return _Cell(wareki_abbrev(day))
    if kind == "slash":
        return _Cell(slash_date(day))
    if kind == "iso":
        return _Cell(day.isoformat())
    raise ValueError(f"unknown date kind {kind!r}")


def _recipient_cell(number: str, kind: str) -> _Cell:
    if kind == "text":
        return _Cell(number, "@")
    if kind == "fullwidth":
        return _Cell(to_fullwidth_digits(number), "@")
    if kind == "number":
        return _Cell(int(number), "0")
    if kind == "hyphen":
        return _Cell(hyphenated(number), "@")
    raise ValueError(f"unknown recipient kind {kind!r}")


def _hours_cell(hours: int, kind: str) -> _Cell:
    if kind == "int":
        return _Cell(hours)
    if kind == "fullwidth":
        return _Cell(to_fullwidth_digits(str(hours)))
    if kind == "suffix":
        return _Cell(with_hours_unit(hours))
    raise ValueError(f"unknown hours kind {kind!r}")


def _kana_value(kana: str, kind: str) -> str:
    if kind == "katakana":
        return kana
    if kind == "hiragana":
        return to_hiragana(kana)
    if kind == "halfwidth":
        return to_halfwidth_kana(kana)
    raise ValueError(f"unknown kana kind {kind!r}")


def _row_cells(person: Applicant, style: _RowStyle, memo: str) -> list[_Cell]:
    """The cells of one data row in :data:`COLUMNS` order, without No."""
    name = padded(person.name) if style.name == "padded" else person.name
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
        wareki(twin.birth_date) if style.birth != "wareki" else wareki_abbrev(twin.birth_date),
        to_fullwidth_digits(twin.recipient_no),
        twin.service_type,
        with_hours_unit(twin.hours) if style.hours != "suffix" else twin.hours,
        wareki_abbrev(twin.start_date)
        if style.start != "wareki_abbrev"
        else wareki(twin.start_date),
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
