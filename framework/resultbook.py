"""Results workbooks for staff: one line per item with its status, reason and results.

These workbooks live in the run folder and are the place where staff see, for each row they gave
the bot, what happened and what is left for them to do. They are formatted for people: Japanese
headers, column widths, a frozen header row, a filter, and status colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from framework.outcome import ItemOutcome, ItemStatus

STATUS_FILLS = {
    ItemStatus.DONE: "E2EFDA",
    ItemStatus.NEEDS_REVIEW: "F4B084",
    ItemStatus.BUSINESS_ERROR: "FCE4D6",
    ItemStatus.SYSTEM_ERROR: "F8CBAD",
    ItemStatus.BAD_INPUT: "FFF2CC",
    ItemStatus.SKIPPED: "EDEDED",
}
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


def status_fill(status: ItemStatus) -> PatternFill | None:
    color = STATUS_FILLS.get(status)
    return PatternFill("solid", fgColor=color) if color else None


def style_header(ws: Worksheet, row: int, first_col: int, last_col: int) -> None:
    for col in range(first_col, last_col + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)


def fit_to_a4_width(ws: Worksheet) -> None:
    """Print on A4 landscape, all columns on one page wide (as many pages tall as needed)."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def result_keys(outcomes: Sequence[ItemOutcome]) -> list[str]:
    """Every result name (e.g. 受付番号) in first-seen order."""
    keys: dict[str, None] = {}
    for outcome in outcomes:
        keys.update(dict.fromkeys(outcome.results))
    return list(keys)


def write_result_list(outcomes: Sequence[ItemOutcome], path: Path) -> Path:
    """Write ``結果一覧.xlsx``: every item of the run, whatever file it came from."""
    keys = result_keys(outcomes)
    headers = ["No.", "ファイル", "行", "処理結果", *keys, "理由・メッセージ", "画面の記録"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "結果一覧"
    ws.append(headers)
    style_header(ws, 1, 1, len(headers))
    for outcome in outcomes:
        ws.append(
            [
                outcome.seq,
                outcome.source,
                outcome.row,
                outcome.status.label,
                *[outcome.results.get(k, "") for k in keys],
                outcome.message,
                outcome.screenshot or "",
            ]
        )
        fill = status_fill(outcome.status)
        if fill is not None:
            ws.cell(row=ws.max_row, column=4).fill = fill
    widths = [6, 28, 6, 14, *[16] * len(keys), 60, 28]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    fit_to_a4_width(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_exception_report(outcomes: Sequence[ItemOutcome], path: Path) -> Path:
    """Write ``exceptions.xlsx``: the items a person must handle, why, and room for notes.

    One row per item that was refused, failed, had bad input or needs review, with where it is
    in the input (file and row, or the PDF), its key, the reason in the system's or the
    validator's own words, the screenshot of the page, and empty columns for staff to write
    what they did, who and when.
    """
    headers = [
        "No.",
        "ファイル",
        "行",
        "キー",
        "処理結果",
        "理由・メッセージ",
        "画面の記録",
        "対応内容（職員記入）",
        "対応者",
        "対応日",
    ]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "要対応"
    ws.append(
        [
            "このシートの行は自動で処理できませんでした。理由を確認し、対応した内容を記入してください。"
        ]
    )
    ws.cell(row=1, column=1).font = Font(bold=True)
    ws.append(headers)
    style_header(ws, 2, 1, len(headers))
    for outcome in outcomes:
        ws.append(
            [
                outcome.seq,
                outcome.source,
                outcome.row,
                outcome.key,
                outcome.status.label,
                outcome.message,
                outcome.screenshot or "",
                "",
                "",
                "",
            ]
        )
        row = ws.max_row
        fill = status_fill(outcome.status)
        if fill is not None:
            ws.cell(row=row, column=5).fill = fill
        ws.cell(row=row, column=6).alignment = Alignment(wrap_text=True, vertical="top")
    widths = [6, 26, 6, 34, 14, 60, 26, 40, 12, 12]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{ws.max_row}"
    fit_to_a4_width(ws)
    ws.print_title_rows = "2:2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
