"""The figures of a KPI report equal sums taken straight from the rows of the runs table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from kpi_rows import add_synthetic, expected_from_db

from framework.reports.figures import NO_RUNS, Figures, compute
from framework.reports.period import Period, parse_period
from framework.reports.targets import Targets, load_targets
from framework.runlog import SqliteRunLog

KPI = """\
令和7年度:
  障がい福祉課: {hours: 10}
令和8年度:
  障がい福祉課:
    hours: 8
    bots: {welfare_entry: 5}
  市民課: {hours: 4}
  総務課: {hours: 1}
"""
NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


@pytest.fixture
def runlog(tmp_path: Path) -> Iterator[SqliteRunLog]:
    store = SqliteRunLog(tmp_path / "runlog.sqlite3")
    add_synthetic(store)
    yield store
    store.close()


@pytest.fixture
def targets(tmp_path: Path) -> Targets:
    path = tmp_path / "kpi.yaml"
    path.write_text(KPI, encoding="utf-8")
    return load_targets(path, "kpi.yaml")


def _figures(runlog: SqliteRunLog, period: str, targets: Targets | None) -> Figures:
    return compute(runlog, parse_period(period), targets, NOW)


def test_fiscal_year_totals_equal_the_raw_rows(runlog: SqliteRunLog, targets: Targets) -> None:
    figures = _figures(runlog, "FY2026", targets)
    [expected] = expected_from_db(runlog.path, "2026-04-01", "2027-03-31").values()
    tally = figures.total.tally
    assert tally.runs == expected.runs == 7  # s05-s11 less the running s12
    assert tally.running == expected.running == 1
    assert tally.aborted == expected.aborted == 2
    assert tally.needing_person == expected.needing_person == 4
    assert tally.done == expected.done
    assert tally.exception_items == expected.exceptions
    assert tally.minutes_saved == pytest.approx(expected.minutes)
    assert tally.wall_seconds == pytest.approx(expected.wall_seconds)
    assert any("実行中の 1 件" in note for note in figures.notes)


@pytest.mark.parametrize(("by", "key"), [("department", "department"), ("bot", "bot_id")])
def test_breakdowns_equal_the_raw_rows(
    runlog: SqliteRunLog, targets: Targets, by: str, key: str
) -> None:
    figures = _figures(runlog, "R8", targets)
    expected = expected_from_db(runlog.path, "2026-04-01", "2027-03-31", key)
    lines = figures.by_department if by == "department" else figures.by_bot
    got = {(line.department if by == "department" else line.bot_id): line.tally for line in lines}
    for name, figures_of in expected.items():
        assert got[name].runs == figures_of.runs, name
        assert got[name].minutes_saved == pytest.approx(figures_of.minutes), name
        assert got[name].needing_person == figures_of.needing_person, name
    # a department with a target and no run is listed, with nothing saved
    if by == "department":
        assert got["総務課"].runs == 0
        assert [line.department for line in lines] == ["市民課", "総務課", "障がい福祉課"]


def test_months_in_fiscal_order_equal_the_raw_rows(runlog: SqliteRunLog, targets: Targets) -> None:
    figures = _figures(runlog, "令和8年度", targets)
    assert [line.month for line in figures.by_month][:2] == ["2026-04", "2026-05"]
    assert figures.by_month[-1].month == "2027-03"
    assert len(figures.by_month) == 12
    expected = expected_from_db(runlog.path, "2026-04-01", "2027-03-31", "month")
    for line in figures.by_month:
        want = expected.get(line.month)
        assert line.tally.runs == (want.runs if want else 0), line.month
        assert line.tally.minutes_saved == pytest.approx(want.minutes if want else 0)
    # the month targets add up to the year's (prorated by days)
    assert sum(line.target_hours or 0 for line in figures.by_month) == pytest.approx(13)
    months, hours, target = figures.cumulative()[-1]
    assert months == "2027-03"
    assert hours == pytest.approx(figures.total.tally.hours_saved)
    assert target == pytest.approx(13)


def test_the_fiscal_year_boundary_uses_the_local_date(runlog: SqliteRunLog) -> None:
    fy2025 = _figures(runlog, "FY2025", None)
    fy2026 = _figures(runlog, "FY2026", None)
    # s04 started 2026-03-31 23:30 +09:00, s05 2026-04-01 00:30 +09:00 (= 03-31 in UTC)
    march = [line for line in fy2025.by_month if line.month == "2026-03"][0]
    april = [line for line in fy2026.by_month if line.month == "2026-04"][0]
    assert (march.tally.runs, april.tally.runs) == (1, 1)
    assert march.tally.minutes_saved == 70  # 10 × 6 + 10
    assert april.tally.minutes_saved == 34  # 5 × 6 − 2 × 3 + 10
    assert fy2025.total.tally.runs == 4
    # the first run of FY2027 is in neither
    assert fy2026.total.tally.runs + fy2025.total.tally.runs == 11
    everything = compute(runlog, Period.between(dt.date(2025, 4, 1), dt.date(2027, 4, 1)), None)
    assert everything.total.tally.runs == 12


def test_aborted_runs_count_their_items_but_no_per_run_minutes(runlog: SqliteRunLog) -> None:
    may = _figures(runlog, "2026-05", None)
    assert may.total.tally.aborted == 1
    assert may.total.tally.minutes_saved == 15  # 3 × 6 − 1 × 3, no 10 for the batch
    july = _figures(runlog, "2026-07", None)
    assert july.total.tally.minutes_saved == -3  # one item needing review, nothing done
    assert july.total.tally.needing_person == 1


def test_a_baseline_change_mid_year_keeps_each_runs_figure(runlog: SqliteRunLog) -> None:
    figures = _figures(runlog, "FY2026", None)
    uses = [use for use in figures.baselines if use.bot_id == "welfare_entry"]
    assert [(u.minutes_per_item, u.measured_on, u.runs) for u in uses] == [
        (6.0, "2025-04-10", 3),
        (5.0, "2026-10-15", 2),
    ]
    [entry] = [line for line in figures.by_bot if line.bot_id == "welfare_entry"]
    assert sum(u.minutes_saved for u in uses) == pytest.approx(entry.tally.minutes_saved)
    # s10 with the new baseline: 8 × 5 − 2 × 4 + 12
    assert uses[1].minutes_saved == pytest.approx(44 + 2 * 5 + 12)


def test_targets_and_achievement(runlog: SqliteRunLog, targets: Targets) -> None:
    figures = _figures(runlog, "FY2026", targets)
    welfare = {line.department: line for line in figures.by_department}["障がい福祉課"]
    assert welfare.target_hours == 8
    assert welfare.achievement == pytest.approx(welfare.tally.hours_saved / 8)
    bots = {line.bot_id: line for line in figures.by_bot}
    assert bots["welfare_entry"].target_hours == 5
    assert bots["welfare_list_export"].target_hours is None
    assert figures.total.target_hours == 13
    assert figures.total.achievement == pytest.approx(figures.total.tally.hours_saved / 13)


def test_targets_of_a_range_are_prorated_by_day(runlog: SqliteRunLog, targets: Targets) -> None:
    period = Period.between(dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    figures = compute(runlog, period, targets, NOW)
    welfare = {line.department: line for line in figures.by_department}["障がい福祉課"]
    assert welfare.target_hours == pytest.approx(10 * 31 / 365 + 8 * 30 / 365)
    # 市民課 has no target for FY2025: no partial target, no achievement
    assert {line.department: line for line in figures.by_department}["市民課"].achievement is None
    assert any("按分" in note for note in figures.notes)


def test_an_empty_period_is_a_report_not_an_error(runlog: SqliteRunLog) -> None:
    figures = _figures(runlog, "2030-01", None)
    assert figures.empty
    assert figures.notes[0] == NO_RUNS
    assert figures.total.tally.runs == 0
    assert [line.month for line in figures.by_month] == ["2030-01"]
    assert compute(None, parse_period("R8"), None).empty


def test_missing_targets_are_said(runlog: SqliteRunLog, targets: Targets) -> None:
    figures = _figures(runlog, "FY2024", targets)
    assert any("令和6年度の目標がありません" in note for note in figures.notes)
    assert figures.total.target_hours is None
    assert any("kpi.yaml がない" in note for note in _figures(runlog, "FY2026", None).notes)


def test_the_sql_in_the_docs_reproduces_the_report(runlog: SqliteRunLog) -> None:
    """docs/kpi-reports.md tells the DX office how to recompute a figure: it must stay true."""
    import re
    import sqlite3

    docs = (Path(__file__).resolve().parents[2] / "docs" / "kpi-reports.md").read_text("utf-8")
    [block] = re.findall(r"```sql\n(.*?)```", docs, re.DOTALL)
    statements = [s for s in block.split(";") if s.strip()]
    assert len(statements) == 3
    figures = _figures(runlog, "FY2026", None)
    conn = sqlite3.connect(runlog.path)
    try:
        runs, needing, hours = conn.execute(statements[0]).fetchone()
        grouped = conn.execute(statements[1]).fetchall()
        per_run = conn.execute(statements[2]).fetchall()
    finally:
        conn.close()
    tally = figures.total.tally
    assert (runs, needing) == (tally.runs, tally.needing_person)
    assert hours == round(tally.minutes_saved / 60, 1)
    assert sum(row[3] for row in grouped) == tally.runs
    months = {line.month: line.tally.hours_saved for line in figures.by_month}
    for month in {row[2] for row in grouped}:
        in_month = sum(row[4] for row in grouped if row[2] == month)
        assert in_month == pytest.approx(months[month], abs=0.01)
    assert len(per_run) == tally.runs
    for run_id, _bot, _status, stored, recomputed in per_run:
        assert recomputed == pytest.approx(stored), run_id


def test_achievement_counts_only_departments_with_a_target(
    runlog: SqliteRunLog, tmp_path: Path
) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("R8:\n  障がい福祉課: {hours: 8}\n", encoding="utf-8")
    figures = _figures(runlog, "FY2026", load_targets(path))
    welfare = {line.department: line for line in figures.by_department}["障がい福祉課"]
    assert figures.partly_targeted
    assert figures.total.target_hours == 8
    assert figures.total.counted_hours == pytest.approx(welfare.tally.hours_saved)
    assert figures.total.achievement == pytest.approx(welfare.tally.hours_saved / 8)
    assert figures.total.tally.hours_saved > welfare.tally.hours_saved  # 市民課 is not counted
    assert any("目標のない課: 市民課" in note for note in figures.notes)
    september = {line.month: line for line in figures.by_month}["2026-09"]
    assert september.tally.runs == 1 and september.counted_hours == 0  # only 市民課 ran
    assert figures.cumulative()[-1][1] == pytest.approx(welfare.tally.hours_saved)
