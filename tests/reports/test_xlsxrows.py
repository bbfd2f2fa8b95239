"""Rows written straight into a saved workbook read back the same in openpyxl."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
from openpyxl import Workbook

from framework.reports.xlsxrows import fill_sheet


def _laid_out(path: Path) -> None:
    wb = Workbook()
    first = wb.active
    assert first is not None
    first["A1"] = "表紙"
    ws = wb.create_sheet("明細 'A'")
    ws.append(["名前", "日時", "件数", "分"])
    ws.append(["", dt.datetime(2000, 1, 1), 0, 0.0])
    ws["B2"].number_format = "yyyy/mm/dd hh:mm"
    ws["D2"].number_format = "#,##0.0"
    ws.auto_filter.ref = "A1:D2"
    ws.freeze_panes = "A2"
    wb.save(path)


def test_values_styles_and_ranges_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    _laid_out(path)
    rows = [
        ['障がい福祉課 <&> "課"', dt.datetime(2026, 4, 1, 0, 30), 5, 34.5],
        ["  前後に空白  ", dt.datetime(2027, 3, 31, 23, 59), 0, -3.0],
        ["制御\x01文字", None, 12345678, None],
    ]
    assert fill_sheet(path, "明細 'A'", rows) == 3
    book = openpyxl.load_workbook(path)
    ws = book["明細 'A'"]
    got = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert got == [
        ['障がい福祉課 <&> "課"', dt.datetime(2026, 4, 1, 0, 30), 5, 34.5],
        ["  前後に空白  ", dt.datetime(2027, 3, 31, 23, 59), 0, -3],
        ["制御文字", None, 12345678, None],
    ]
    assert ws["B3"].number_format == "yyyy/mm/dd hh:mm"
    assert ws["D2"].number_format == "#,##0.0"
    assert ws.auto_filter.ref == "A1:D4"
    assert ws.freeze_panes == "A2"
    assert book["Sheet"]["A1"].value == "表紙"
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert "'明細 ''A'''!$A$1:$D$4" in workbook


def test_no_rows_leaves_the_header(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    _laid_out(path)
    assert fill_sheet(path, "明細 'A'", []) == 0
    ws = openpyxl.load_workbook(path)["明細 'A'"]
    assert ws.max_row == 1
    assert ws["A1"].value == "名前"
