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
from openpyxl.worksheet.worksheet import Worksheet

from framework.outcome import ItemOutcome, ItemStatus

STATUS_FILLS = {
    ItemStatus.DONE: "E2EFDA",
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
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
