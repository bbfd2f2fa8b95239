"""The workbook for the DX office: summary with charts, run detail and baselines, set for A4.

Sheets: 集計 (key figures, hours saved against targets by department, bot and month, a bar chart
by department and a line chart of the cumulative hours against the target), 実行明細 (one row per
run: counts, times, the minutes saved and the baseline that produced them; never item keys or
input names) and 基準値 (every baseline used, who measured it and when). Every sheet prints on A4
landscape, fitted to the page width, with its header row repeated on each page.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from framework.reports.columns import KEY_COLUMNS, SUMMARY_COLUMNS, Column, Kind
from framework.reports.figures import FORMULA, NO_RUNS, Breakdown, Figures, Line
from framework.reports.xlsxrows import Value, fill_sheet
from framework.resultbook import fit_to_a4_width, style_header
from framework.runlog import BaselineUse, RunFilter, RunLine, RunLog

SUMMARY = "集計"
DETAIL = "実行明細"
BASELINES = "基準値"

FORMATS: dict[Kind, str] = {
    "count": "#,##0",
    "hours": "#,##0.0",
    "minutes": "#,##0.0",
    "percent": "0.0%",
    "text": "@",
}
DATETIME = "yyyy/mm/dd hh:mm"
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
SAVED_FILL = PatternFill("solid", fgColor="E2EFDA")
UNDERLINE = Border(bottom=Side(style="thin", color="BFBFBF"))
RIGHT = Alignment(horizontal="right")
CENTER = Alignment(horizontal="center")
BOLD = Font(bold=True)
CENTERED = frozenset({"起動", "状態", "人の対応", "基準No."})
CUMULATIVE = 4 + len(SUMMARY_COLUMNS)
"""The first of the month table's cumulative columns (hours, target, achievement so far)."""
LABEL_WIDTHS = (18, 20, 26)
"""Columns A-C: department, bot id, bot name (or the month)."""

Header = tuple[str, Kind | None, float]
"""A column of a list sheet: its header, its kind (None: a date and time) and its width."""

DETAIL_HEADERS: tuple[Header, ...] = (
    ("実行ID", "text", 22),
    ("開始", None, 16),
    ("終了", None, 16),
    ("所要時間（分）", "minutes", 9),
    ("担当課", "text", 14),
    ("ボットID", "text", 18),
    ("ボット名", "text", 24),
    ("起動", "text", 8),
    ("状態", "text", 6),
    ("登録済み", "count", 8),
    ("登録不可", "count", 8),
    ("システムエラー", "count", 8),
    ("入力不備", "count", 8),
    ("要確認", "count", 7),
    ("スキップ", "count", 7),
    ("人の対応", "text", 7),
    ("削減時間（分）", "minutes", 9),
    ("1件あたり（分）", "minutes", 8),
    ("1回あたり（分）", "minutes", 8),
    ("例外1件あたり（分）", "minutes", 9),
    ("基準No.", "text", 7),
)
BASELINE_HEADERS: tuple[Header, ...] = (
    ("基準No.", "text", 8),
    ("担当課", "text", 16),
    ("ボットID", "text", 20),
    ("1件あたり（分）", "minutes", 10),
    ("1回あたり（分）", "minutes", 10),
    ("例外1件あたり（分）", "minutes", 11),
    ("測定者", "text", 24),
    ("測定日", "text", 12),
    ("適用した実行（回）", "count", 11),
    ("最初の実行", None, 16),
    ("最後の実行", None, 16),
    ("削減時間（時間）", "hours", 12),
)
_TRIGGERS = {"cli": "手動", "tray": "トレイ", "schedule": "予約", "queue": "キュー"}
_STATUSES = {"completed": "完了", "aborted": "中断", "running": "実行中"}


def baseline_numbers(figures: Figures) -> dict[tuple[object, ...], str]:
    """B1, B2, ... for each baseline of the period, keyed by what identifies it."""
    return {_baseline_key(use): f"B{n}" for n, use in enumerate(figures.baselines, start=1)}


def _baseline_key(use: BaselineUse | RunLine) -> tuple[object, ...]:
    """What identifies a baseline, read from a baseline or from a run that used it."""
    return (
        use.department,
        use.bot_id,
        use.minutes_per_item,
        use.minutes_per_run,
        use.minutes_per_exception,
        use.measured_by,
        use.measured_on,
    )


def _local(text: str | None) -> dt.datetime | None:
    """The wall-clock time a run log timestamp was written in (its own offset)."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text).replace(tzinfo=None)


def _print_setup(ws: Worksheet, title_rows: str | None, header: str) -> None:
    fit_to_a4_width(ws)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if title_rows:
        ws.print_title_rows = title_rows
    if ws.oddHeader is not None:
        ws.oddHeader.right.text = header
    if ws.oddFooter is not None:
        ws.oddFooter.center.text = "&P / &N"


def _put(ws: Worksheet, row: int, col: int, value: Value, kind: Kind | None) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if kind is not None and kind != "text":
        cell.number_format = FORMATS[kind]
        cell.alignment = RIGHT
    cell.border = UNDERLINE


def _table(
    ws: Worksheet, row: int, title: str, by: Breakdown, lines: Sequence[Line], total: Line | None
) -> tuple[int, int, int]:
    """Write a breakdown table at ``row``; return (header row, first data row, next free row)."""
    ws.cell(row=row, column=1, value=title).font = Font(bold=True, size=12)
    header = row + 1
    keys = KEY_COLUMNS[by]
    for index, column in enumerate(keys, start=1):
        ws.cell(row=header, column=index, value=column.header)
    for index, column in enumerate(SUMMARY_COLUMNS, start=4):
        ws.cell(row=header, column=index, value=column.header)
    style_header(ws, header, 1, 3 + len(SUMMARY_COLUMNS))
    ws.row_dimensions[header].height = 30
    current = header + 1
    for line in [*lines, *([total] if total else [])]:
        for index, column in enumerate(keys, start=1):
            _put(ws, current, index, column.value(line), "text")
        if line is total:
            ws.cell(row=current, column=1, value="合計")
        _summary_cells(ws, current, line, SUMMARY_COLUMNS)
        if line is total:
            for col in range(1, 4 + len(SUMMARY_COLUMNS)):
                ws.cell(row=current, column=col).font = Font(bold=True)
                ws.cell(row=current, column=col).fill = TOTAL_FILL
        current += 1
    return header, header + 1, current


def _summary_cells(ws: Worksheet, row: int, line: Line, columns: Sequence[Column]) -> None:
    for index, column in enumerate(columns, start=4):
        _put(ws, row, index, column.value(line), column.kind)
        if column.key == "hours_saved":
            ws.cell(row=row, column=index).fill = SAVED_FILL


def _key_figures(ws: Worksheet, row: int, figures: Figures) -> int:
    tally = figures.total.tally
    facts: list[tuple[str, Value, Kind]] = [
        ("削減時間（時間）", tally.hours_saved, "hours"),
        ("目標（時間）", figures.total.target_hours, "hours"),
        ("達成率", figures.total.achievement, "percent"),
        ("実行回数", tally.runs, "count"),
        ("うち人の対応が必要だった実行", tally.needing_person, "count"),
        ("うち中断した実行", tally.aborted, "count"),
        ("登録済み件数", tally.done, "count"),
        ("要対応件数（登録不可・エラー・入力不備・要確認）", tally.exception_items, "count"),
        ("ボットの稼働時間（時間）", tally.wall_hours, "hours"),
    ]
    if figures.partly_targeted:
        facts.insert(
            3, ("うち目標のある課の削減時間（時間）", figures.total.counted_hours, "hours")
        )
    for label, value, kind in facts:
        ws.cell(row=row, column=1, value=label).font = Font(bold=True)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        _put(ws, row, 3, "—" if value is None else value, kind)
        row += 1
    return row


def _summary(ws: Worksheet, figures: Figures) -> None:
    ws.title = SUMMARY
    period = figures.period
    ws["A1"] = f"RPA 削減時間レポート　{period.label}"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A2"] = (
        f"期間: {period.span}　作成: {figures.generated_at:%Y-%m-%d %H:%M}"
        f"　目標: {figures.targets_file or 'なし'}"
    )
    row = 3
    for note in figures.notes:
        ws.cell(row=row, column=1, value=f"※ {note}").font = Font(
            color="C00000" if note == NO_RUNS else "000000"
        )
        row += 1
    row = _key_figures(ws, row + 1, figures)
    charts_row = row + 1
    row = charts_row + 17
    dept = _table(
        ws, row, "担当課別 (by department)", "department", figures.by_department, figures.total
    )
    _, _, row = _table(ws, dept[2] + 1, "ボット別 (by bot)", "bot", figures.by_bot, figures.total)
    month_header, _, row = _table(
        ws, row + 1, "月別 (by month)", "month", figures.by_month, figures.total
    )
    extra = (
        "累計削減時間（目標のある課）" if figures.partly_targeted else "累計削減時間（時間）",
        "累計目標（時間）",
        "累計達成率",
    )
    for offset, text in enumerate(extra):
        ws.cell(row=month_header, column=CUMULATIVE + offset, value=text)
    style_header(ws, month_header, CUMULATIVE, CUMULATIVE + 2)
    for offset, (_month, hours, target) in enumerate(figures.cumulative()):
        current = month_header + 1 + offset
        _put(ws, current, CUMULATIVE, hours, "hours")
        _put(ws, current, CUMULATIVE + 1, target, "hours")
        _put(ws, current, CUMULATIVE + 2, hours / target if target else None, "percent")
    _charts(ws, charts_row, dept, month_header, len(figures.by_month))
    row += 1
    ws.cell(row=row, column=1, value="計算のしかた (how the figures are computed)").font = BOLD
    for text in (
        f"・{FORMULA}",
        "・基準値（手作業の時間）は実行ごとに記録したものを使います。基準値を変えても過去の数値は"
        "変わりません（基準値シート）。",
        "・人の対応が必要だった実行 = 要対応の申請（登録不可・システムエラー・入力不備・要確認）が"
        "あった実行、または中断した実行。",
        "・各実行は開始日（その PC の日付）で期間に数えます。実行中の実行は数えません。",
        "・目標は kpi.yaml の年間目標。期間が年度の一部のときは日数で按分します。",
    ):
        row += 1
        ws.cell(row=row, column=1, value=text)
    for index, width in enumerate((*LABEL_WIDTHS, *[11] * 12), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    _print_setup(ws, None, f"RPA 削減時間レポート {period.label}")


def _charts(
    ws: Worksheet, anchor_row: int, dept: tuple[int, int, int], month_header: int, months: int
) -> None:
    hours_col = 4 + [c.key for c in SUMMARY_COLUMNS].index("hours_saved")
    target_col = 4 + [c.key for c in SUMMARY_COLUMNS].index("target_hours")
    header, first, end = dept
    last = end - 2  # the last row is the total
    if last >= first:
        bars = BarChart()
        bars.type = "bar"
        bars.style = 10
        bars.title = "担当課別の削減時間と目標（時間）"
        bars.x_axis.delete = False
        bars.y_axis.delete = False
        bars.y_axis.number_format = "#,##0"
        for col in (hours_col, target_col):
            bars.add_data(
                Reference(ws, min_col=col, min_row=header, max_row=last), titles_from_data=True
            )
        bars.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        bars.height, bars.width = 8, 16
        ws.add_chart(bars, f"A{anchor_row}")
    line = LineChart()
    line.title = "累計の削減時間と目標（時間）"
    line.style = 12
    line.x_axis.delete = False
    line.y_axis.delete = False
    line.y_axis.number_format = "#,##0"
    line.add_data(
        Reference(
            ws,
            min_col=CUMULATIVE,
            max_col=CUMULATIVE + 1,
            min_row=month_header,
            max_row=month_header + months,
        ),
        titles_from_data=True,
    )
    line.set_categories(
        Reference(ws, min_col=1, min_row=month_header + 1, max_row=month_header + months)
    )
    line.height, line.width = 8, 16
    ws.add_chart(line, f"F{anchor_row}")


def _sheet(wb: Workbook, title: str, headers: Sequence[Header]) -> Worksheet:
    ws = wb.create_sheet(title)
    assert isinstance(ws, Worksheet)
    for index, (text, _kind, width) in enumerate(headers, start=1):
        ws.cell(row=1, column=index, value=text)
        ws.column_dimensions[get_column_letter(index)].width = width
    style_header(ws, 1, 1, len(headers))
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"
    return ws


def _template_row(ws: Worksheet, headers: Sequence[Header]) -> None:
    """Row 2 carries each column's style (number format, alignment) for :func:`fill_sheet`."""
    for index, (text, kind, _width) in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=index, value="-" if kind == "text" else 0)
        if kind is None:
            cell.value = dt.datetime(2000, 1, 1)
            cell.number_format = DATETIME
        elif kind != "text":
            cell.number_format = FORMATS[kind]
        elif text in CENTERED:
            cell.alignment = CENTER


def _detail_rows(
    lines: Iterator[RunLine], numbers: dict[tuple[object, ...], str]
) -> Iterator[list[Value]]:
    empty = True
    for run in lines:
        empty = False
        exceptions = run.business_error + run.system_error + run.bad_input + run.needs_review
        yield [
            run.id,
            # the wall-clock time the PC showed (the ISO text before its offset)
            dt.datetime.fromisoformat(run.started_at[:19]),
            dt.datetime.fromisoformat(run.ended_at[:19]) if run.ended_at else None,
            None if run.wall_seconds is None else round(run.wall_seconds / 60, 2),
            run.department,
            run.bot_id,
            run.bot_name,
            _TRIGGERS.get(run.trigger, run.trigger),
            _STATUSES.get(run.status, run.status),
            run.done,
            run.business_error,
            run.system_error,
            run.bad_input,
            run.needs_review,
            run.skipped,
            "要" if exceptions or run.status == "aborted" else "",
            run.minutes_saved,
            run.minutes_per_item,
            run.minutes_per_run,
            run.minutes_per_exception,
            numbers.get(_baseline_key(run), ""),
        ]
    if empty:
        yield [NO_RUNS, *[None] * (len(DETAIL_HEADERS) - 1)]


def _baselines(ws: Worksheet, figures: Figures, numbers: dict[tuple[object, ...], str]) -> None:
    for row, use in enumerate(figures.baselines, start=2):
        values: list[Value] = [
            numbers[_baseline_key(use)],
            use.department,
            use.bot_id,
            use.minutes_per_item,
            use.minutes_per_run,
            use.minutes_per_exception,
            use.measured_by,
            use.measured_on,
            use.runs,
            _local(use.first_started),
            _local(use.last_started),
            use.minutes_saved / 60,
        ]
        for col, (value, (_text, kind, _width)) in enumerate(
            zip(values, BASELINE_HEADERS, strict=True), start=1
        ):
            _put(ws, row, col, value, kind)
            if kind is None:
                ws.cell(row=row, column=col).number_format = DATETIME
    if not figures.baselines:
        ws.cell(row=2, column=1, value=NO_RUNS)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(BASELINE_HEADERS))}{max(2, ws.max_row)}"


def write_xlsx(figures: Figures, runlog: RunLog | None, path: Path) -> Path:
    """Write the workbook to ``path`` (through a temporary file in the same folder)."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    _summary(summary, figures)
    numbers = baseline_numbers(figures)
    detail = _sheet(wb, DETAIL, DETAIL_HEADERS)
    _template_row(detail, DETAIL_HEADERS)
    detail.auto_filter.ref = f"A1:{get_column_letter(len(DETAIL_HEADERS))}2"
    _print_setup(detail, "1:1", f"実行明細 {figures.period.label}")
    baselines = _sheet(wb, BASELINES, BASELINE_HEADERS)
    _baselines(baselines, figures, numbers)
    _print_setup(baselines, "1:1", f"基準値 {figures.period.label}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=".kakari-", suffix=".xlsx", dir=path.parent)
    os.close(handle)
    try:
        wb.save(scratch)
        where = RunFilter(first_day=figures.period.first_day, last_day=figures.period.last_day)
        lines: Iterator[RunLine] = runlog.run_lines(where) if runlog is not None else iter(())
        fill_sheet(Path(scratch), DETAIL, _detail_rows(lines, numbers))
        os.replace(scratch, path)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
    return path
