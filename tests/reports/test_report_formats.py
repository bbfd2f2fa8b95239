"""Every format renders the same figures: xlsx (charts, A4), csv (BOM), json, html (in Chromium)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import artifact
from kpi_rows import add_synthetic, expected_from_db

from framework.reports.figures import Figures, compute
from framework.reports.html import render_html
from framework.reports.period import parse_period
from framework.reports.tabular import to_csv, to_json
from framework.reports.targets import load_targets
from framework.reports.xlsx import write_xlsx
from framework.runlog import SqliteRunLog

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "kpi_fy2026_by_bot.csv"
NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
PERSONAL = ("山田太郎", "0123456789")
"""Written into the runs' input and message columns by the synthetic rows."""


@pytest.fixture
def runlog(tmp_path: Path) -> Iterator[SqliteRunLog]:
    store = SqliteRunLog(tmp_path / "runlog.sqlite3")
    add_synthetic(store)
    yield store
    store.close()


@pytest.fixture
def figures(runlog: SqliteRunLog, tmp_path: Path) -> Figures:
    kpi = tmp_path / "kpi.yaml"
    kpi.write_text(
        "R8:\n  障がい福祉課:\n    hours: 8\n    bots: {welfare_entry: 5}\n  市民課: {hours: 4}\n",
        encoding="utf-8",
    )
    return compute(runlog, parse_period("FY2026"), load_targets(kpi, "kpi.yaml"), NOW)


def _expected(runlog: SqliteRunLog) -> Any:
    [expected] = expected_from_db(runlog.path, "2026-04-01", "2027-03-31").values()
    return expected


def test_xlsx_sheets_charts_and_print_setup(
    figures: Figures, runlog: SqliteRunLog, tmp_path: Path
) -> None:
    path = write_xlsx(figures, runlog, tmp_path / "report.xlsx")
    expected = _expected(runlog)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["集計", "実行明細", "基準値"]
    summary = book["集計"]
    assert sorted(type(chart).__name__ for chart in summary._charts) == ["BarChart", "LineChart"]
    for ws in book.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert book["実行明細"].print_title_rows == "$1:$1"
    assert book["基準値"].print_title_rows == "$1:$1"
    assert summary.column_dimensions["A"].width == 18
    # the summary's department table: its 合計 row carries the totals
    rows = list(summary.iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "担当課" and r[3] == "実行回数")
    start = rows.index(header)
    total = next(r for r in rows[start:] if r[0] == "合計")
    columns = list(header)
    assert total[columns.index("実行回数")] == expected.runs
    assert total[columns.index("要対応の実行")] == expected.needing_person
    assert total[columns.index("削減時間（時間）")] == pytest.approx(expected.minutes / 60)
    assert total[columns.index("目標（時間）")] == 12
    # the detail: one row per finished run, with the minutes each stored
    detail = list(book["実行明細"].iter_rows(values_only=True))
    head = list(detail[0])
    assert head[:3] == ["実行ID", "開始", "終了"]
    assert len(detail) - 1 == expected.runs
    assert sum(r[head.index("削減時間（分）")] for r in detail[1:]) == pytest.approx(
        expected.minutes
    )
    first = detail[1]
    assert first[head.index("開始")] == dt.datetime(2026, 4, 1, 0, 30)
    assert first[head.index("人の対応")] == "要"
    baselines = list(book["基準値"].iter_rows(values_only=True))
    assert [r[0] for r in baselines[1:]] == ["B1", "B2", "B3", "B4"]
    assert {r[7] for r in baselines[1:] if r[2] == "welfare_entry"} == {"2025-04-10", "2026-10-15"}
    # which baseline produced the first run's figure: its number leads to the baseline sheet
    [used] = [r for r in baselines if r[0] == first[head.index("基準No.")]]
    assert (used[2], used[3], used[7]) == ("welfare_entry", 6, "2025-04-10")
    _no_personal_data(path)


def _no_personal_data(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8", errors="replace")
            for value in PERSONAL:
                assert value not in text, f"{name} contains {value}"


def test_csv_has_a_bom_and_round_trips_japanese(figures: Figures, runlog: SqliteRunLog) -> None:
    text = to_csv(figures, "bot")
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:4] == ["期間", "担当課", "ボットID", "ボット名"]
    assert rows[1][:4] == ["令和8年度", "市民課", "juminhyo_entry", "住民票の写し交付申請入力"]
    assert "\r\n" in text
    total = dict(zip(rows[0], rows[-1], strict=True))
    expected = _expected(runlog)
    assert total["担当課"] == "合計"
    assert int(total["実行回数"]) == expected.runs
    assert float(total["削減時間（分）"]) == pytest.approx(expected.minutes, abs=0.01)
    assert not any(value in text for value in PERSONAL)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_bytes(data)
    assert data == GOLDEN.read_bytes()


def test_json_for_other_tools(figures: Figures, runlog: SqliteRunLog) -> None:
    payload = json.loads(to_json(figures))
    expected = _expected(runlog)
    assert payload["period"] == {
        "kind": "fiscal_year",
        "label": "令和8年度",
        "first_day": "2026-04-01",
        "last_day": "2027-03-31",
        "fiscal_years": [2026],
    }
    assert payload["total"]["runs"] == expected.runs
    assert payload["total"]["minutes_saved"] == pytest.approx(expected.minutes)
    assert payload["total"]["running"] == 1
    assert [m["month"] for m in payload["by_month"]][0] == "2026-04"
    assert sum(d["minutes_saved"] for d in payload["by_department"]) == pytest.approx(
        expected.minutes
    )
    assert len(payload["baselines"]) == 4
    assert not any(value in json.dumps(payload, ensure_ascii=False) for value in PERSONAL)


def test_html_is_one_self_contained_page_in_chromium(
    figures: Figures, runlog: SqliteRunLog, browser: Any, tmp_path: Path
) -> None:
    html = render_html(figures)
    assert "<script" not in html.lower()
    assert not any(value in html for value in PERSONAL)
    path = tmp_path / "レポート.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    strays: list[str] = []

    def route(handler: Any) -> None:
        url = handler.request.url
        requests.append(url)
        if url == path.as_uri():
            handler.continue_()
        else:
            strays.append(url)
            handler.abort()

    try:
        context.route("**/*", route)
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_load_state("networkidle")
        assert strays == [], f"the report asked for {strays}"
        assert requests == [path.as_uri()]
        assert page.title() == "RPA 削減時間レポート 令和8年度"
        cards = page.locator(".card .value").all_inner_texts()
        expected = _expected(runlog)
        assert cards[0] == f"{expected.minutes / 60:,.1f}"
        assert cards[3] == str(expected.runs)
        assert page.locator("svg").count() == 2
        assert page.get_by_role("img", name="累計の削減時間と目標").is_visible()
        total_row = page.locator("table").first.locator("tr.total td")
        assert total_row.first.inner_text() == "合計"
        page.screenshot(path=str(artifact("kpi-report.png")), full_page=True)
        page.emulate_media(media="print")
        page.pdf(path=str(artifact("kpi-report.pdf")), prefer_css_page_size=True)
        assert strays == []
    finally:
        context.close()
