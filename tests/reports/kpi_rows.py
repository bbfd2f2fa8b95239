"""Synthetic runs for KPI report tests: aborted runs, exceptions, a baseline change mid-year and
both sides of the fiscal-year boundary, written through the run log's own interface."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from framework.outcome import ItemStatus, RunStatus
from framework.runlog import RunLog, RunRecord
from framework.savings import exception_items, minutes_saved

JST = dt.timezone(dt.timedelta(hours=9))
D = ItemStatus.DONE
BE = ItemStatus.BUSINESS_ERROR
SE = ItemStatus.SYSTEM_ERROR
BI = ItemStatus.BAD_INPUT
NR = ItemStatus.NEEDS_REVIEW
SK = ItemStatus.SKIPPED

# (per item, per run, per exception, measured by, measured on)
OLD = (6.0, 10.0, 3.0, "障がい福祉課 受付担当", "2025-04-10")
NEW = (5.0, 12.0, 4.0, "障がい福祉課 受付担当", "2026-10-15")
EXPORT = (0.0, 20.0, 0.0, "障がい福祉課 受付担当", "2025-04-10")
JUMIN = (4.0, 5.0, 2.0, "市民課 窓口係", "2026-05-01")


@dataclass(frozen=True)
class Synthetic:
    id: str
    bot_id: str
    started: dt.datetime
    status: RunStatus
    counts: dict[ItemStatus, int]
    baseline: tuple[float, float, float, str, str]
    minutes: int = 5
    items: bool = True


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


C, A, R = RunStatus.COMPLETED, RunStatus.ABORTED, RunStatus.RUNNING
ROWS: tuple[Synthetic, ...] = (
    # FY2025 (令和7年度)
    Synthetic("s01", "welfare_entry", _at("2025-06-10T10:00:00"), C, {D: 20, BI: 1}, OLD),
    Synthetic("s02", "welfare_entry", _at("2025-11-04T09:00:00"), A, {D: 4, SE: 1}, OLD),
    Synthetic("s03", "welfare_list_export", _at("2026-01-20T08:00:00"), C, {}, EXPORT, 2, False),
    # the last minutes of FY2025 in local time
    Synthetic("s04", "welfare_entry", _at("2026-03-31T23:30:00"), C, {D: 10}, OLD, 20),
    # the first minutes of FY2026 in local time (still 31 March in UTC)
    Synthetic("s05", "welfare_entry", _at("2026-04-01T00:30:00"), C, {D: 5, BE: 2}, OLD),
    Synthetic("s06", "welfare_entry", _at("2026-05-20T13:00:00"), A, {D: 3, SE: 1}, OLD),
    Synthetic("s07", "welfare_entry", _at("2026-07-07T07:07:00"), A, {NR: 1}, OLD),
    Synthetic("s08", "welfare_list_export", _at("2026-08-05T08:00:00"), C, {}, EXPORT, 2, False),
    Synthetic("s09", "juminhyo_entry", _at("2026-09-01T09:00:00"), C, {D: 40, SK: 3}, JUMIN),
    # the baseline was measured again in October: later runs use the new figures
    Synthetic("s10", "welfare_entry", _at("2026-10-20T10:00:00"), C, {D: 8, BI: 1, BE: 1}, NEW),
    Synthetic("s11", "welfare_entry", _at("2027-03-31T17:00:00"), C, {D: 2}, NEW),
    Synthetic("s12", "welfare_entry", _at("2026-11-01T10:00:00"), R, {}, NEW),
    # FY2027
    Synthetic("s13", "welfare_entry", _at("2027-04-01T00:10:00"), C, {D: 7}, NEW),
)

DEPARTMENTS = {
    "welfare_entry": ("障がい福祉課", "障害福祉サービス申請入力"),
    "welfare_list_export": ("障がい福祉課", "申請一覧の書き出し"),
    "juminhyo_entry": ("市民課", "住民票の写し交付申請入力"),
}


def add_synthetic(runlog: RunLog, rows: tuple[Synthetic, ...] = ROWS) -> None:
    """Record each run as the runner does: start, then finish with the minutes it saved."""
    for row in rows:
        department, name = DEPARTMENTS[row.bot_id]
        per_item, per_run, per_exception, by, on = row.baseline
        record = RunRecord(
            id=row.id,
            bot_id=row.bot_id,
            bot_name=name,
            department=department,
            workflow=f"workflows/{row.bot_id}.yaml",
            trigger="schedule",
            os_user="tester",
            host="pc-01",
            input="山田太郎の申請.xlsx",  # a file name can be personal: reports never show it
            started_at=row.started,
            run_dir=f"/tmp/{row.id}",
            baseline_minutes_per_item=per_item,
            baseline_minutes_per_run=per_run,
            baseline_minutes_per_exception=per_exception,
            baseline_measured_by=by,
            baseline_measured_on=on,
        )
        runlog.start_run(record)
        if row.status is RunStatus.RUNNING:
            continue
        record.status = row.status
        record.counts = dict(row.counts)
        record.ended_at = row.started + dt.timedelta(minutes=row.minutes)
        done = record.count(ItemStatus.DONE)
        completed = row.status is RunStatus.COMPLETED and (done > 0 or not row.items)
        record.minutes_saved = minutes_saved(
            done, exception_items(record.counts), completed, record.baseline()
        )
        record.exit_code = 0 if row.status is RunStatus.COMPLETED else 3
        record.message = "山田太郎 0123456789" if row.status is RunStatus.ABORTED else ""
        runlog.finish_run(record)


@dataclass
class Expected:
    """Figures added up in the test itself, straight from the rows of the runs table."""

    runs: int = 0
    running: int = 0
    aborted: int = 0
    needing_person: int = 0
    done: int = 0
    exceptions: int = 0
    minutes: float = 0.0
    wall_seconds: float = 0.0


def expected_from_db(
    path: Path, first: str, last: str, key: str | None = None
) -> dict[str, Expected]:
    """Sum the raw rows whose local start date (the ISO text's date) is in ``first..last``,
    grouped by ``key`` (department, bot_id or month; None: one group "")."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT department, bot_id, started_at, ended_at, status, items_done,"
            " items_business_error, items_system_error, items_bad_input, items_needs_review,"
            " minutes_saved FROM runs"
        ).fetchall()
    finally:
        conn.close()
    out: dict[str, Expected] = defaultdict(Expected)
    for department, bot, started, ended, status, done, be, se, bi, nr, minutes in rows:
        if not first <= started[:10] <= last:
            continue
        group = {"department": department, "bot_id": bot, "month": started[:7], None: ""}[key]
        figures = out[group]
        if status == "running":
            figures.running += 1
            continue
        figures.runs += 1
        figures.aborted += status == "aborted"
        figures.needing_person += status == "aborted" or (be + se + bi + nr) > 0
        figures.done += done
        figures.exceptions += be + se + bi + nr
        figures.minutes += minutes
        took = dt.datetime.fromisoformat(ended) - dt.datetime.fromisoformat(started)
        figures.wall_seconds += took.total_seconds()
    return dict(out)
