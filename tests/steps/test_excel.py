"""Tests for the Excel pack: workbooks as an item source, the results copy, and the excel.* steps.

Every workbook here is a real .xlsx written with openpyxl into tmp_path. The runs use no browser
step, so they never start a browser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import RunBot, TempProject
from openpyxl import Workbook, load_workbook

from framework.errors import InvalidError, Problem
from framework.items import FieldProblem, FieldSpec, ItemsSpec, iter_items, open_inputs
from framework.loader import load_workflow
from framework.outcome import ExitCode, ItemStatus, RunStatus
from framework.registry import Registry
from framework.runner import RunResult
from framework.steps.excel import MAX_CELL_CHARS, ExcelOptions, ExcelReader

TITLE = "障害福祉サービス支給申請 受付一覧（令和8年4月開始分）"
BOT = "excel_bot"


@pytest.fixture
def browser() -> None:
    """No shared Chromium for this file: workflows without browser steps never start one."""
    return None


# -- helpers -----------------------------------------------------------------------------------


def write_book(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    sheet: str = "申請一覧",
    hidden: Sequence[str] = (),
    merged: Sequence[str] = (),
    before: Sequence[str] = (),
    after: Sequence[str] = (),
) -> Path:
    """A workbook whose sheet ``sheet`` holds ``rows`` from row 1 (``[]`` is a blank row).

    ``hidden``: column letters to hide; ``merged``: ranges to merge; ``before``/``after``: names
    of other (small) sheets placed before or after it.
    """
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for number, values in enumerate(rows, start=1):
        for col, value in enumerate(values, start=1):
            ws.cell(row=number, column=col, value=value)
    for letter in hidden:
        ws.column_dimensions[letter].hidden = True
    for ref in merged:
        ws.merge_cells(ref)
    for index, name in enumerate(before):
        wb.create_sheet(name, index)["A1"] = "記入例"
    for name in after:
        wb.create_sheet(name)["A1"] = "記入例"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    wb.close()
    return path


def read_back(path: Path, sheet: str | None = None) -> list[tuple[Any, ...]]:
    """Every row of a written workbook (a sheet, or the active one), as values."""
    wb = load_workbook(path)
    try:
        ws = wb[sheet] if sheet else wb.active
        assert ws is not None
        return list(ws.iter_rows(values_only=True))
    finally:
        wb.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def patch_zip(path: Path, old: bytes, new: bytes) -> None:
    """Replace bytes inside the parts of a workbook (to make cells openpyxl cannot write)."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            archive.writestr(name, data.replace(old, new))


def spec_of(**fields: FieldSpec) -> ItemsSpec:
    return ItemsSpec(fields=fields, key=[], sources={"excel": ExcelOptions()})


def reader(path: Path, spec: ItemsSpec, **options: Any) -> ExcelReader:
    return ExcelReader(path, path.name, ExcelOptions(**options), spec)


def only_problem(exc: pytest.ExceptionInfo[InvalidError]) -> Problem:
    [problem] = exc.value.problems
    return problem


APPLICATION_SPEC = spec_of(
    氏名=FieldSpec(type="text", pii=True),
    受給者番号=FieldSpec(type="digits", length=10),
    支給量=FieldSpec(type="integer", unit="時間"),
    開始日=FieldSpec(type="date", required=False),
)

# A title merged across the columns, an author line, the headers in row 3, blank rows between.
APPLICATION_ROWS: list[list[object]] = [
    [TITLE],
    ["作成：障がい福祉課 受付担当"],
    ["No.", "氏名", "受給者番号", "支給量", "開始日"],
    [1, "山田 太郎", "0000000001", 20, dt.datetime(2026, 4, 1)],
    [2, "佐藤 花子", "０００００００００２", "２０時間", "令和8年4月1日"],
    [],
    [3, "\u3000", None, " ", None],  # numbered, but nothing in any field: blank
    [4, "鈴木 一郎", 3, 30, "R8.4.1"],
]


def applications(path: Path) -> Path:
    return write_book(path, APPLICATION_ROWS, merged=["A1:E1"], after=["記入例"])


# -- the reader: finding the header row and the columns ---------------------------------------


def test_header_row_is_found_below_a_merged_title(tmp_path: Path) -> None:
    book = reader(applications(tmp_path / "申請一覧.xlsx"), APPLICATION_SPEC)
    assert book.estimate() is None  # nothing is known before check()
    book.check()
    assert book.headers is not None
    assert book.headers.row == 3
    assert book.headers.columns == {"氏名": 2, "受給者番号": 3, "支給量": 4, "開始日": 5}
    assert book.sheet_title == "申請一覧"
    assert book.estimate() == 8 - 3  # the rows below the header, blank ones included
    raws = list(book.rows())
    assert [raw.row for raw in raws] == [4, 5, 8]
    first = raws[0]
    assert first.source == "申請一覧.xlsx"
    assert first.values == {
        "氏名": "山田 太郎",
        "受給者番号": "0000000001",
        "支給量": 20,
        "開始日": dt.datetime(2026, 4, 1),
    }
    assert first.columns == {"氏名": "B列", "受給者番号": "C列", "支給量": "D列", "開始日": "E列"}
    assert first.problems == []


def test_items_from_a_workbook_through_open_inputs(tmp_path: Path, registry: Registry) -> None:
    path = applications(tmp_path / "申請一覧.xlsx")
    opened = open_inputs(path, APPLICATION_SPEC, registry, shown="申請一覧.xlsx")
    items = list(iter_items(opened, APPLICATION_SPEC))
    assert [(item.seq, item.where) for item in items] == [
        (1, "申請一覧.xlsx 4行目"),
        (2, "申請一覧.xlsx 5行目"),
        (3, "申請一覧.xlsx 8行目"),
    ]
    assert [item.problems for item in items] == [[], [], []]
    assert [item.values for item in items] == [
        {
            "氏名": "山田 太郎",
            "受給者番号": "0000000001",
            "支給量": 20,
            "開始日": dt.date(2026, 4, 1),
        },
        {
            "氏名": "佐藤 花子",
            "受給者番号": "0000000002",
            "支給量": 20,
            "開始日": dt.date(2026, 4, 1),
        },
        {
            "氏名": "鈴木 一郎",
            "受給者番号": "0000000003",
            "支給量": 30,
            "開始日": dt.date(2026, 4, 1),
        },
    ]


def test_the_first_visible_sheet_is_the_default(tmp_path: Path) -> None:
    path = applications(tmp_path / "申請一覧.xlsx")
    wb = load_workbook(path)
    wb.create_sheet("設定", 0).sheet_state = "hidden"
    wb.save(path)
    wb.close()
    book = reader(path, APPLICATION_SPEC)
    book.check()
    assert book.sheet_title == "申請一覧"


def test_header_row_option_is_used_as_given(tmp_path: Path) -> None:
    """An instructions block above the list uses the same words; the option picks the real one."""
    rows: list[list[object]] = [
        ["記入のしかた"],
        ["氏名", "受給者番号", "支給量"],
        ["戸籍のとおり", "10桁", "月の時間数"],
        [],
        ["氏名", "受給者番号", "支給量"],
        ["山田 太郎", "0000000001", 20],
        ["佐藤 花子", "0000000002", 10],
    ]
    path = write_book(tmp_path / "申請一覧.xlsx", rows)
    guessed = reader(path, APPLICATION_SPEC)
    guessed.check()
    assert guessed.headers is not None
    assert guessed.headers.row == 2  # the first row with the most headers wins
    given = reader(path, APPLICATION_SPEC, header_row=5)
    given.check()
    assert given.headers is not None
    assert given.headers.row == 5
    assert [raw.row for raw in given.rows()] == [6, 7]
    assert given.estimate() == 2


def test_header_row_option_pointing_at_an_empty_row(tmp_path: Path) -> None:
    path = applications(tmp_path / "申請一覧.xlsx")
    with pytest.raises(InvalidError) as info:
        reader(path, APPLICATION_SPEC, header_row=6).check()
    problem = only_problem(info)
    assert problem.file == "申請一覧.xlsx"
    assert "シート「申請一覧」に見出しの行が見つかりません" in problem.message
    assert "必要な見出し: 氏名、受給者番号、支給量" in problem.message


def test_headers_match_despite_spaces_newlines_and_full_width_letters(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["氏　名", "受給者\n番号", "ＩＤ", " 支給量（時間） "],
        ["山田 太郎", "0000000001", "ａ１", 20],
    ]
    path = write_book(tmp_path / "申請一覧.xlsx", rows)
    spec = spec_of(
        氏名=FieldSpec(),
        受給者番号=FieldSpec(type="digits"),
        ID=FieldSpec(),
        支給量=FieldSpec(type="integer", header=["支給量(時間)"]),
    )
    book = reader(path, spec)
    book.check()
    assert book.headers is not None
    assert book.headers.columns == {"氏名": 1, "受給者番号": 2, "ID": 3, "支給量": 4}


def test_header_aliases(tmp_path: Path) -> None:
    spec = spec_of(
        氏名=FieldSpec(header=["氏名", "申請者氏名"]),
        受給者番号=FieldSpec(type="digits", header=["受給者番号", "受給者証番号"]),
    )
    path = write_book(
        tmp_path / "a.xlsx", [["No.", "申請者 氏名", "受給者証番号"], [1, "山田", "0001"]]
    )
    [raw] = list(reader(path, spec).rows())  # rows() checks the workbook itself if needed
    assert raw.values == {"氏名": "山田", "受給者番号": "0001"}
    assert raw.columns == {"氏名": "B列", "受給者番号": "C列"}


def test_hidden_columns_visible_wins_but_a_hidden_only_column_is_used(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["氏名", "氏名", "受給者番号", "支給量"],
        ["旧姓 山田", "山田 太郎", "0000000001", 20],
    ]
    path = write_book(tmp_path / "a.xlsx", rows, hidden=["A", "C"])
    book = reader(path, spec_of(氏名=FieldSpec(), 受給者番号=FieldSpec(), 支給量=FieldSpec()))
    [raw] = list(book.rows())
    assert raw.values == {"氏名": "山田 太郎", "受給者番号": "0000000001", "支給量": 20}
    assert raw.columns["氏名"] == "B列"
    assert raw.columns["受給者番号"] == "C列"


def test_an_optional_field_without_a_column_is_empty(tmp_path: Path, registry: Registry) -> None:
    path = write_book(tmp_path / "a.xlsx", [["氏名"], ["山田"]])
    spec = spec_of(氏名=FieldSpec(), 備考=FieldSpec(required=False))
    [item] = list(iter_items(open_inputs(path, spec, registry), spec))
    assert item.values == {"氏名": "山田", "備考": None}
    assert item.problems == []


# -- the reader: workbooks that cannot be used --------------------------------------------------


def test_missing_sheet_lists_the_sheets_and_suggests_one(tmp_path: Path) -> None:
    path = applications(tmp_path / "申請一覧.xlsx")
    with pytest.raises(InvalidError) as info:
        reader(path, APPLICATION_SPEC, sheet="申請一欄").check()
    problem = only_problem(info)
    assert problem.file == "申請一覧.xlsx"
    assert "シート「申請一欄」がありません" in problem.message
    assert "「申請一覧」のことですか？" in problem.message
    assert "このブックのシート: 申請一覧、記入例" in problem.message


def test_missing_required_header_names_it_the_row_and_the_closest_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        [TITLE],
        [],
        ["No.", "氏名", "受給者No", "支給時間"],
        [1, "山田 太郎", "0000000001", 20],
    ]
    path = write_book(tmp_path / "申請一覧.xlsx", rows)
    with pytest.raises(InvalidError) as info:
        reader(path, APPLICATION_SPEC).check()
    problem = only_problem(info)
    assert (problem.file, problem.line, problem.where) == ("申請一覧.xlsx", 3, "申請一覧")
    assert problem.message.startswith("3行目の見出しに")
    assert "「受給者番号」（「受給者No」のことですか？）" in problem.message
    assert "「支給量」（「支給時間」のことですか？）" in problem.message
    assert "開始日" not in problem.message  # optional: a missing column is fine
    assert str(problem).startswith("申請一覧.xlsx:3:1: 申請一覧: 3行目の見出しに")


def test_empty_workbook(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "空.xlsx"
    wb = Workbook()
    wb.save(path)
    wb.close()
    with pytest.raises(InvalidError) as info:
        open_inputs(path, APPLICATION_SPEC, registry, shown="空.xlsx")
    problem = only_problem(info)
    assert problem.file == "空.xlsx"
    assert "シート「Sheet」に見出しの行が見つかりません" in problem.message


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


UNREADABLE = {
    "random bytes": (bytes(range(256)) * 8, "Excelブックとして読めません"),
    "empty file": (b"", "Excelブックとして読めません"),
    "zip without a workbook": (_zip_of_text(), "Excelブックとして読めません"),
    "OLE (encrypted or .xls)": (
        bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504,
        "パスワード付きのブック、または古い形式（.xls）のブックは読めません",
    ),
}


@pytest.mark.parametrize(("content", "expected"), UNREADABLE.values(), ids=list(UNREADABLE))
def test_unreadable_files_are_refused_with_a_message_naming_the_file(
    tmp_path: Path, registry: Registry, content: bytes, expected: str
) -> None:
    path = tmp_path / "申請一覧.xlsx"
    path.write_bytes(content)
    with pytest.raises(InvalidError) as info:
        reader(path, APPLICATION_SPEC).check()
    problem = only_problem(info)
    assert problem.file == "申請一覧.xlsx"
    assert expected in problem.message
    assert str(problem).startswith("申請一覧.xlsx: ")
    # the same through a folder, where the file is named by its own name
    with pytest.raises(InvalidError) as info:
        open_inputs(tmp_path, APPLICATION_SPEC, registry, shown="受付フォルダ")
    assert only_problem(info).file == "申請一覧.xlsx"


# -- the reader: bad cells ----------------------------------------------------------------------


def test_formula_errors_and_oversized_cells_are_problems_of_their_row(
    tmp_path: Path, registry: Registry
) -> None:
    rows: list[list[object]] = [
        ["氏名", "受給者番号", "備考"],
        ["#REF!", "0000000001", None],
        ["佐藤 花子", "0000000002", "LONG-CELL-PLACEHOLDER"],
        ["鈴木 一郎", "0000000003", "#DIV/0!"],
        ["田中 次郎", "0000000004", "問題なし"],
    ]
    path = write_book(tmp_path / "申請一覧.xlsx", rows)
    too_long = "あ" * (MAX_CELL_CHARS + 1)  # openpyxl refuses to write this; Excel files have it
    patch_zip(path, b"LONG-CELL-PLACEHOLDER", too_long.encode())
    spec = spec_of(
        氏名=FieldSpec(), 受給者番号=FieldSpec(type="digits"), 備考=FieldSpec(required=False)
    )
    items = list(iter_items(open_inputs(path, spec, registry), spec))
    assert [item.row for item in items] == [2, 3, 4, 5]
    ref, long, div, fine = items
    assert ref.problems == [
        FieldProblem(
            "氏名",
            "A列",
            "セルにエラー値 #REF! があります。数式を確認してください (formula error in cell)",
        )
    ]  # once: not also "required value is empty"
    assert ref.values == {"氏名": None, "受給者番号": "0000000001", "備考": None}
    assert long.problems == [
        FieldProblem("備考", "C列", "セルの文字数が多すぎます（32,768文字） (cell too long)")
    ]
    assert long.values["氏名"] == "佐藤 花子"
    assert [str(p) for p in div.problems] == [
        "備考（C列）: セルにエラー値 #DIV/0! があります。数式を確認してください"
        " (formula error in cell)"
    ]
    assert fine.problems == []
    assert fine.values == {"氏名": "田中 次郎", "受給者番号": "0000000004", "備考": "問題なし"}


# -- runs: a project with one bot ---------------------------------------------------------------


def make_bot(temp_project: TempProject, workflow: str) -> Path:
    """A bot ``excel_bot`` running ``workflows/excel_bot.yaml``; returns the bot's folder."""
    temp_project.write(f"workflows/{BOT}.yaml", workflow)
    return temp_project.bot(BOT, f"{BOT}.yaml").parent


def statuses(result: RunResult) -> list[tuple[int | None, ItemStatus, str]]:
    return [(o.row, o.status, o.message) for o in result.outcomes]


LEDGER_ROWS: list[list[object]] = [
    ["受給者台帳"],
    ["受給者番号", "氏名", "障害支援区分"],
    ["0000000001", "山田 太郎", "区分3"],
    ["０００００００００４", "田中 次郎", "区分1"],
]

CHECK_WORKFLOW = """
    title: 申請の確認
    items:
      fields:
        氏名: {type: text, pii: true}
        受給者番号: {type: digits, length: 10}
        支給量: {type: integer, unit: 時間, min: 1}
      key: [受給者番号]
      excel: {sheet: 申請一覧}
    steps:
      - excel.find_row:
          file: 台帳.xlsx
          match: {受給者番号: "{{ item.受給者番号 }}"}
          into: results.台帳
      - fail: "支給量が上限を超えています（{{ item.支給量 }}時間）"
        when: item.支給量 > 100
    """

RUN_ROWS: list[list[object]] = [
    [TITLE],
    ["作成：障がい福祉課"],
    ["No.", "氏名", "受給者番号", "支給量", "担当者メモ"],
    [1, "山田 太郎", "0000000001", 20, "電話済み"],
    [2, "佐藤 花子", "0000000002", 150],
    [],
    [3, "鈴木 一郎", "12a4", 10],
    [4, "田中 次郎", "０００００００００４", "５時間"],
]


def test_run_writes_a_results_copy_and_leaves_the_input_unchanged(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    bot_dir = make_bot(temp_project, CHECK_WORKFLOW)
    write_book(bot_dir / "台帳.xlsx", LEDGER_ROWS)
    path = write_book(tmp_path / "受付" / "申請一覧.xlsx", RUN_ROWS, merged=["A1:E1"])
    before = digest(path)

    result = run_bot(temp_project.project, BOT, input=path)

    assert digest(path) == before  # the input workbook is never modified
    assert result.exit_code is ExitCode.ITEMS_FAILED
    assert statuses(result) == [
        (4, ItemStatus.DONE, ""),
        (5, ItemStatus.BUSINESS_ERROR, "支給量が上限を超えています（150時間）"),
        (
            7,
            ItemStatus.BAD_INPUT,
            "受給者番号（C列）: 数字以外の文字があります: '12a4' (not digits)",
        ),
        (8, ItemStatus.DONE, ""),
    ]
    record = result.record
    assert record is not None
    assert record.status is RunStatus.COMPLETED
    assert record.exit_code == ExitCode.ITEMS_FAILED
    assert record.items_total == 4
    assert record.count(ItemStatus.DONE) == 2
    assert record.count(ItemStatus.BUSINESS_ERROR) == 1
    assert record.count(ItemStatus.BAD_INPUT) == 1
    assert record.count(ItemStatus.SYSTEM_ERROR) == 0

    assert result.run_dir is not None
    copy = result.run_dir / "申請一覧_結果.xlsx"
    summary = result.run_dir / "結果一覧.xlsx"
    assert result.files == [copy, summary, result.run_dir / "exceptions.xlsx"]
    wb = load_workbook(copy)
    ws = wb["申請一覧"]
    assert [ws.cell(row=3, column=c).value for c in range(1, 9)] == [
        "No.",
        "氏名",
        "受給者番号",
        "支給量",
        "担当者メモ",
        "処理結果",
        "台帳",
        "メッセージ",
    ]
    assert [ws.cell(row=r, column=6).value for r in range(4, 9)] == [
        "登録済み",
        "登録不可",
        None,
        "入力不備",
        "登録済み",
    ]
    found = [ws.cell(row=r, column=7).value for r in (4, 5, 8)]
    assert "区分3" in str(found[0]) and "区分1" in str(found[2])
    assert found[1] is None  # not in the ledger: nothing stored
    assert ws.cell(row=5, column=8).value == "支給量が上限を超えています（150時間）"
    assert "受給者番号（C列）" in str(ws.cell(row=7, column=8).value)
    assert ws.cell(row=4, column=8).value is None
    assert ws["A1"].value == TITLE  # the rest of the sheet is as it was
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:E1"]
    assert ws["E4"].value == "電話済み"
    wb.close()

    listed = read_back(summary)
    assert listed[0][:5] == ("No.", "ファイル", "行", "処理結果", "台帳")
    assert [(row[0], row[2], row[3]) for row in listed[1:]] == [
        (1, 4, "登録済み"),
        (2, 5, "登録不可"),
        (3, 7, "入力不備"),
        (4, 8, "登録済み"),
    ]


def test_results_false_writes_no_copy(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    workflow = CHECK_WORKFLOW.replace("excel: {sheet: 申請一覧}", "excel: {results: false}")
    bot_dir = make_bot(temp_project, workflow)
    write_book(bot_dir / "台帳.xlsx", LEDGER_ROWS)
    path = write_book(tmp_path / "申請一覧.xlsx", RUN_ROWS[:4])
    result = run_bot(temp_project.project, BOT, input=path)
    assert result.exit_code is ExitCode.OK
    assert result.run_dir is not None
    assert result.files == [result.run_dir / "結果一覧.xlsx"]
    assert not (result.run_dir / "申請一覧_結果.xlsx").exists()


# -- steps --------------------------------------------------------------------------------------


def test_read_rows_then_write_rows(temp_project: TempProject, run_bot: RunBot) -> None:
    bot_dir = make_bot(
        temp_project,
        """
        title: 台帳の写し
        steps:
          - excel.read_rows: {file: 台帳.xlsx, sheet: 台帳, into: ledger}
          - excel.write_rows: {file: 写し/台帳_写し.xlsx, rows: ledger, sheet: 写し}
          - excel.write_rows:
              file: 番号と氏名.xlsx
              rows: ledger
              columns: [氏名, 受給者番号]
        """,
    )
    rows: list[list[object]] = [
        ["受給者台帳（令和8年4月1日現在）"],
        ["受給者番号", " 氏名 ", "開始日"],
        ["0000000001", "山田 太郎", dt.datetime(2026, 4, 1)],
        [],
        ["0000000002", "佐藤 花子", None],
    ]
    ledger = write_book(bot_dir / "台帳.xlsx", rows, sheet="台帳", before=["説明"])
    before = digest(ledger)

    result = run_bot(temp_project.project, BOT)

    assert result.exit_code is ExitCode.OK, result.message
    assert digest(ledger) == before
    assert result.run_dir is not None
    assert read_back(result.run_dir / "写し" / "台帳_写し.xlsx", "写し") == [
        ("受給者番号", "氏名", "開始日"),
        ("0000000001", "山田 太郎", dt.datetime(2026, 4, 1)),
        ("0000000002", "佐藤 花子", None),
    ]
    assert read_back(result.run_dir / "番号と氏名.xlsx") == [
        ("氏名", "受給者番号"),
        ("山田 太郎", "0000000001"),
        ("佐藤 花子", "0000000002"),
    ]


def test_write_rows_refuses_something_that_is_not_rows(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    make_bot(
        temp_project,
        """
        steps:
          - set: {名前: 山田}
          - excel.write_rows: {file: 一覧.xlsx, rows: 名前}
        """,
    )
    result = run_bot(temp_project.project, BOT)
    assert result.exit_code is ExitCode.ABORTED
    assert "rows には行のリストを渡してください" in result.message


FIND_WORKFLOW = """
    items:
      fields:
        氏名: {type: text}
        受給者番号: {type: digits, length: 10}
      key: [受給者番号]
      excel: {}
    steps:
      - excel.find_row:
          file: 台帳.xlsx
          match: {MATCH: "{{ item.受給者番号 }}"}
          into: ledger_row
          required: true
      - fail: 台帳の氏名と一致しません（台帳では {{ ledger_row.氏名 }}）
        when: ledger_row.氏名 != item.氏名
    """

FIND_ROWS: list[list[object]] = [
    ["氏名", "受給者番号"],
    ["山田 太郎", "0000000001"],
    ["田中 次郎", "０００００００００４"],
    ["鈴木 一郎", "0000000003"],
    ["佐藤 花子", "0000000002"],
]


def test_find_row_cross_checks_items_against_a_ledger(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    bot_dir = make_bot(temp_project, FIND_WORKFLOW.replace("MATCH", "受給者番号"))
    write_book(
        bot_dir / "台帳.xlsx",
        [
            ["受給者番号", "氏名"],
            ["0000000001", "山田 太郎"],
            ["００００ ０００００４", "田中 次郎"],  # typed in full width, with a space
            ["0000000002", "佐藤 花"],
        ],
    )
    path = write_book(tmp_path / "申請一覧.xlsx", FIND_ROWS)

    result = run_bot(temp_project.project, BOT, input=path)

    assert result.exit_code is ExitCode.ITEMS_FAILED
    assert statuses(result) == [
        (2, ItemStatus.DONE, ""),
        (3, ItemStatus.DONE, ""),
        (4, ItemStatus.BUSINESS_ERROR, "台帳.xlsx に一致する行がありません (no matching row)"),
        (5, ItemStatus.BUSINESS_ERROR, "台帳の氏名と一致しません（台帳では 佐藤 花）"),
    ]


def test_find_row_headers_are_matched_like_item_headers(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    bot_dir = make_bot(temp_project, FIND_WORKFLOW.replace("MATCH", "受給者番号"))
    write_book(bot_dir / "台帳.xlsx", [["受給者 番号", "氏名"], ["0000000001", "山田 太郎"]])
    path = write_book(tmp_path / "申請一覧.xlsx", FIND_ROWS[:2])
    result = run_bot(temp_project.project, BOT, input=path)
    assert statuses(result) == [(2, ItemStatus.DONE, "")]


def test_find_row_with_a_header_the_ledger_lacks_is_a_system_error(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    """A misspelt header is a mistake in the workflow, not an item the ledger refuses."""
    bot_dir = make_bot(temp_project, FIND_WORKFLOW.replace("MATCH", "受給者No"))
    write_book(bot_dir / "台帳.xlsx", [["受給者番号", "氏名"], ["0000000001", "山田 太郎"]])
    path = write_book(tmp_path / "申請一覧.xlsx", FIND_ROWS[:2])
    result = run_bot(temp_project.project, BOT, input=path)
    [(row, status, message)] = statuses(result)
    assert status is ItemStatus.SYSTEM_ERROR
    assert "台帳.xlsx に見出し「受給者No」がありません" in message
    assert "「受給者番号」のことですか？" in message


def test_find_row_with_a_missing_ledger_is_a_system_error(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    make_bot(temp_project, FIND_WORKFLOW.replace("MATCH", "受給者番号"))
    path = write_book(tmp_path / "申請一覧.xlsx", FIND_ROWS[:3])
    result = run_bot(temp_project.project, BOT, input=path)
    assert [status for _row, status, _message in statuses(result)] == [ItemStatus.SYSTEM_ERROR] * 2
    assert "台帳.xlsx: ファイルが見つかりません (file not found)" in result.outcomes[0].message


def test_append_row_builds_one_workbook_over_the_items(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    make_bot(
        temp_project,
        """
        items:
          fields:
            氏名: {type: text}
            受給者番号: {type: digits, length: 10}
            支給量: {type: integer}
          excel: {}
        steps:
          - excel.append_row:
              file: 通知一覧.xlsx
              values: {受給者番号: "{{ item.受給者番号 }}", 宛名: "{{ item.氏名 }} 様"}
          - fail: 支給量が多すぎます
            when: item.支給量 > 100
          - excel.append_row:
              file: 通知一覧.xlsx
              sheet: 支給量
              values: {受給者番号: "{{ item.受給者番号 }}", 時間: "{{ item.支給量 }}"}
        """,
    )
    rows: list[list[object]] = [
        ["氏名", "受給者番号", "支給量"],
        ["山田 太郎", "0000000001", 20],
        ["佐藤 花子", "0000000002", 200],
        ["鈴木 一郎", "0000000003", 5],
    ]
    path = write_book(tmp_path / "申請一覧.xlsx", rows)

    result = run_bot(temp_project.project, BOT, input=path)

    assert [o.status for o in result.outcomes] == [
        ItemStatus.DONE,
        ItemStatus.BUSINESS_ERROR,
        ItemStatus.DONE,
    ]
    assert result.run_dir is not None
    built = result.run_dir / "通知一覧.xlsx"
    assert read_back(built, "一覧") == [
        ("受給者番号", "宛名"),
        ("0000000001", "山田 太郎 様"),
        ("0000000002", "佐藤 花子 様"),  # appended before the item was refused
        ("0000000003", "鈴木 一郎 様"),
    ]
    assert read_back(built, "支給量") == [
        ("受給者番号", "時間"),
        ("0000000001", "20"),
        ("0000000003", "5"),
    ]


TEMPLATE_WORKFLOW = """
    items:
      fields:
        氏名: {type: text}
        受給者番号: {type: digits, length: 10}
        開始日: {type: date}
      excel: {}
    steps:
      - excel.fill_template:
          template: 決定通知書.xlsx
          save_as: "通知/{{ item.受給者番号 }}.xlsx"
          sheet: 通知書
          cells: CELLS
    """


def notice_template(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "通知書"
    ws["A1"] = "障害福祉サービス支給決定通知書"
    ws.merge_cells("A1:D1")
    ws["A3"] = "宛名"
    ws["A5"] = "本文"
    ws["B5"] = '=B3&" 様の申請について、次のとおり決定しました。"'
    ws.column_dimensions["B"].width = 40
    ws.page_setup.orientation = "portrait"
    wb.create_sheet("控え")["A1"] = "控え"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    wb.close()
    return path


def test_fill_template_writes_a_filled_copy_and_keeps_the_template(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    cells = '{B3: "{{ item.氏名 }}", $D$2: "{{ item.開始日 | wareki }}"}'
    bot_dir = make_bot(temp_project, TEMPLATE_WORKFLOW.replace("CELLS", cells))
    template = notice_template(bot_dir / "決定通知書.xlsx")
    before = digest(template)
    rows: list[list[object]] = [
        ["氏名", "受給者番号", "開始日"],
        ["山田 太郎", "0000000001", dt.datetime(2026, 4, 1)],
        ["佐藤 花子", "0000000002", "R8.5.1"],
    ]
    path = write_book(tmp_path / "申請一覧.xlsx", rows)

    result = run_bot(temp_project.project, BOT, input=path)

    assert result.exit_code is ExitCode.OK, statuses(result)
    assert digest(template) == before
    assert result.run_dir is not None
    wb = load_workbook(result.run_dir / "通知" / "0000000001.xlsx")
    ws = wb["通知書"]
    assert ws["B3"].value == "山田 太郎"
    assert ws["D2"].value == "令和8年4月1日"
    assert ws["A1"].value == "障害福祉サービス支給決定通知書"
    assert ws["B5"].value == '=B3&" 様の申請について、次のとおり決定しました。"'  # formula kept
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:D1"]
    assert ws.column_dimensions["B"].width == 40
    assert wb.sheetnames == ["通知書", "控え"]
    wb.close()
    assert read_back(result.run_dir / "通知" / "0000000002.xlsx", "通知書")[2][1] == "佐藤 花子"
    assert load_template_value(template, "B3") is None


def test_fill_template_with_a_missing_sheet_is_a_system_error(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path
) -> None:
    workflow = TEMPLATE_WORKFLOW.replace("CELLS", "{B3: x}").replace("sheet: 通知書", "sheet: 通知")
    bot_dir = make_bot(temp_project, workflow)
    notice_template(bot_dir / "決定通知書.xlsx")
    rows: list[list[object]] = [["氏名", "受給者番号", "開始日"], ["山田", "0000000001", "R8.4.1"]]
    result = run_bot(temp_project.project, BOT, input=write_book(tmp_path / "a.xlsx", rows))
    [outcome] = result.outcomes
    assert outcome.status is ItemStatus.SYSTEM_ERROR
    assert outcome.message.startswith("決定通知書.xlsx: シート「通知」がありません")
    assert "「通知書」のことですか？" in outcome.message


def load_template_value(path: Path, ref: str) -> object:
    wb = load_workbook(path)
    try:
        return wb["通知書"][ref].value
    finally:
        wb.close()


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("B0", "セル番地が正しくありません: B0"),
        ("3B", "セル番地が正しくありません: 3B"),
        ("B", "セル番地が正しくありません: B"),
        ("B3:C4", "セル番地が正しくありません: B3:C4"),
        ("XFE1", "セル番地が正しくありません: XFE1"),
        ("C1", "C1 は結合されたセル A1:D1 の一部です"),
    ],
)
def test_fill_template_with_a_bad_cell_is_a_system_error(
    temp_project: TempProject, run_bot: RunBot, tmp_path: Path, ref: str, expected: str
) -> None:
    bot_dir = make_bot(temp_project, TEMPLATE_WORKFLOW.replace("CELLS", f'{{"{ref}": x}}'))
    notice_template(bot_dir / "決定通知書.xlsx")
    rows: list[list[object]] = [["氏名", "受給者番号", "開始日"], ["山田", "0000000001", "R8.4.1"]]
    path = write_book(tmp_path / "申請一覧.xlsx", rows)

    result = run_bot(temp_project.project, BOT, input=path)

    assert result.exit_code is ExitCode.ITEMS_FAILED
    [outcome] = result.outcomes
    assert outcome.status is ItemStatus.SYSTEM_ERROR
    assert expected in outcome.message
    assert result.run_dir is not None
    assert not (result.run_dir / "通知").exists()


# -- validation of the items.excel options -------------------------------------------------------


def test_excel_options_are_validated_with_file_and_line(
    temp_project: TempProject, registry: Registry
) -> None:
    path = temp_project.write(
        "workflows/check.yaml",
        """
        title: 申請の確認
        items:
          fields:
            氏名: {type: text}
          excel:
            shet: 申請一覧
            header_row: 0
            results: たぶん
        steps:
          - log: 確認しました
        """,
    )
    with pytest.raises(InvalidError) as info:
        load_workflow(path, registry, temp_project.project)
    found = {
        p.where: (p.file, p.line, p.col, p.message)
        for p in info.value.problems
        if p.where.startswith("items")
    }
    assert set(found) == {"items.excel.shet", "items.excel.header_row", "items.excel.results"}
    file, line, _col, message = found["items.excel.shet"]
    assert (file, line) == ("workflows/check.yaml", 6)
    assert "「shet」という項目はありません" in message
    assert "「sheet」のことですか？" in message
    assert found["items.excel.header_row"][1] == 7
    assert "1 以上" in found["items.excel.header_row"][3]
    assert found["items.excel.results"][1] == 8
    assert "true か false" in found["items.excel.results"][3]


def test_an_unknown_item_source_suggests_excel(
    temp_project: TempProject, registry: Registry
) -> None:
    path = temp_project.write(
        "workflows/check.yaml",
        """
        items:
          fields: {氏名: {}}
          exel: {sheet: 申請一覧}
        steps:
          - log: 確認しました
        """,
    )
    with pytest.raises(InvalidError) as info:
        load_workflow(path, registry, temp_project.project)
    [problem] = [p for p in info.value.problems if p.where.startswith("items")]
    assert (problem.file, problem.line) == ("workflows/check.yaml", 3)
    assert "「excel」のことですか？" in problem.message
