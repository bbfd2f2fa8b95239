"""What the run log keeps: runs, prior items, the scheduler's decisions and report rows.

These are plain values, the same whichever store (:mod:`framework.runlog.store`) holds them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from framework.outcome import ItemStatus, RunStatus
from framework.savings import BaselineFigures


@dataclass
class RunRecord:
    """One run as the run log keeps it."""

    id: str
    bot_id: str
    bot_name: str
    department: str
    workflow: str
    trigger: str
    os_user: str
    host: str
    input: str | None
    started_at: dt.datetime
    run_dir: str
    baseline_minutes_per_item: float
    baseline_minutes_per_run: float
    baseline_measured_by: str
    baseline_measured_on: str
    baseline_minutes_per_exception: float = 0.0
    status: RunStatus = RunStatus.RUNNING
    ended_at: dt.datetime | None = None
    counts: dict[ItemStatus, int] = field(default_factory=dict)
    minutes_saved: float = 0.0
    exit_code: int | None = None
    message: str = ""

    def baseline(self) -> BaselineFigures:
        """The baseline this run was measured against (stored with the run)."""
        return BaselineFigures(
            self.baseline_minutes_per_item,
            self.baseline_minutes_per_run,
            self.baseline_minutes_per_exception,
        )

    @property
    def items_total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: ItemStatus) -> int:
        return self.counts.get(status, 0)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "bot_id": self.bot_id,
            "bot_name": self.bot_name,
            "department": self.department,
            "workflow": self.workflow,
            "trigger": self.trigger,
            "os_user": self.os_user,
            "host": self.host,
            "input": self.input,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "status": self.status.value,
            "items": {s.value: self.count(s) for s in COUNTED_STATUSES},
            "items_total": self.items_total,
            "minutes_saved": self.minutes_saved,
            "baseline": {
                "minutes_per_item": self.baseline_minutes_per_item,
                "minutes_per_run": self.baseline_minutes_per_run,
                "minutes_per_exception": self.baseline_minutes_per_exception,
                "measured_by": self.baseline_measured_by,
                "measured_on": self.baseline_measured_on,
            },
            "exit_code": self.exit_code,
            "message": self.message,
            "run_dir": self.run_dir,
        }


COUNTED_STATUSES = (
    ItemStatus.DONE,
    ItemStatus.BUSINESS_ERROR,
    ItemStatus.SYSTEM_ERROR,
    ItemStatus.BAD_INPUT,
    ItemStatus.NEEDS_REVIEW,
    ItemStatus.SKIPPED,
)
"""The item statuses a run counts (each has its own column in the run log)."""


@dataclass(frozen=True)
class PriorItem:
    """The latest state of an item key of a bot in an earlier run."""

    run_id: str
    status: ItemStatus
    results: dict[str, str]
    source: str
    row: int | None
    reviewed_by: str | None = None
    """Set when staff decided the state of this item with ``rpa review``."""


class ScheduleEventKind(StrEnum):
    """What the scheduler decided about one fire time of a bot's schedule."""

    STARTED = "started"
    """The run started at its time."""
    CAUGHT_UP = "caught_up"
    """The run started late (the PC was off or asleep), inside the catch-up window."""
    FINISHED = "finished"
    """The run ended (exit code 0 or 1: some items may need a person)."""
    FAILED = "failed"
    """The run ended without doing its work (invalid, aborted, crashed)."""
    TIMED_OUT = "timed_out"
    """The run went past its time limit: stopped, killed if needed, recorded as aborted."""
    ALREADY_RUNNING = "already_running"
    """The bot was still running (exit code 4, or the previous scheduled run had not ended)."""
    SKIPPED = "skipped"
    """The day is closed (weekend, national holiday, 年末年始, a city closure)."""
    MISSED = "missed"
    """The scheduler was not running at the time, and the catch-up window has passed."""
    INVALID = "invalid"
    """The manifest is invalid: the bot's previous valid schedule stays in force."""

    @property
    def label(self) -> str:
        """The Japanese words staff see."""
        return _SCHEDULE_LABELS[self]


_SCHEDULE_LABELS = {
    ScheduleEventKind.STARTED: "開始",
    ScheduleEventKind.CAUGHT_UP: "遅れて実行",
    ScheduleEventKind.FINISHED: "終了",
    ScheduleEventKind.FAILED: "失敗",
    ScheduleEventKind.TIMED_OUT: "時間切れで停止",
    ScheduleEventKind.ALREADY_RUNNING: "実行中のため見送り",
    ScheduleEventKind.SKIPPED: "休みのため見送り",
    ScheduleEventKind.MISSED: "実行できず",
    ScheduleEventKind.INVALID: "設定エラー",
}


@dataclass(frozen=True)
class ScheduleEvent:
    """One decision of the scheduler, as the run log keeps it (table ``schedule_events``)."""

    bot_id: str
    schedule: str
    """The schedule's name (``name:``, else its cron expression); empty for ``invalid``."""
    fire_time: dt.datetime
    """The time the schedule said (not when it was decided), in the schedule's time zone."""
    event: ScheduleEventKind
    run_id: str | None = None
    message: str = ""
    at: dt.datetime | None = None
    """When it was recorded (set by the store when left out)."""
    id: int | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "bot_id": self.bot_id,
            "schedule": self.schedule,
            "fire_time": self.fire_time.isoformat(),
            "event": self.event.value,
            "label": self.event.label,
            "run_id": self.run_id,
            "message": self.message,
            "at": self.at.isoformat() if self.at else None,
        }


@dataclass(frozen=True)
class RunFilter:
    """Which runs a query covers: local start dates (both included) and exact matches."""

    first_day: dt.date | None = None
    last_day: dt.date | None = None
    department: str | None = None
    bot_id: str | None = None
    status: RunStatus | None = None


@dataclass(frozen=True)
class RunTally:
    """The runs of one bot in one month (local start date), added up for KPI reports.

    ``runs`` counts finished runs (completed or aborted); ``running`` counts runs still marked
    running, whose counts and minutes are not final (they are zero in the log until then).
    """

    department: str
    bot_id: str
    bot_name: str
    month: str
    """``YYYY-MM`` of the local start date."""
    runs: int
    running: int
    aborted: int
    needing_person: int
    """Runs with at least one exception item, or aborted: a person had to step in."""
    items: dict[ItemStatus, int]
    wall_seconds: float
    minutes_saved: float


@dataclass(frozen=True)
class BaselineUse:
    """One baseline of a bot and the finished runs that were measured against it."""

    department: str
    bot_id: str
    minutes_per_item: float
    minutes_per_run: float
    minutes_per_exception: float
    measured_by: str
    measured_on: str
    first_started: str
    last_started: str
    runs: int
    minutes_saved: float


@dataclass(frozen=True, slots=True)
class RunLine:
    """One finished run for a report's detail: counts, times and baseline; nothing personal."""

    id: str
    department: str
    bot_id: str
    bot_name: str
    trigger: str
    started_at: str
    ended_at: str | None
    status: str
    done: int
    business_error: int
    system_error: int
    bad_input: int
    needs_review: int
    skipped: int
    minutes_saved: float
    minutes_per_item: float
    minutes_per_run: float
    minutes_per_exception: float
    measured_by: str
    measured_on: str
    wall_seconds: int | None
    """From start to end (None when the run has no end time)."""


class Row(Protocol):
    """A database row read by column name (``sqlite3.Row``, or a dict from psycopg)."""

    def __getitem__(self, key: str, /) -> Any: ...


def run_from_row(row: Row) -> RunRecord:
    """A run as stored in the ``runs`` table (the same columns in every store)."""
    return RunRecord(
        id=row["id"],
        bot_id=row["bot_id"],
        bot_name=row["bot_name"],
        department=row["department"],
        workflow=row["workflow"],
        trigger=row["trigger"],
        os_user=row["os_user"],
        host=row["host"],
        input=row["input"],
        started_at=dt.datetime.fromisoformat(row["started_at"]),
        ended_at=dt.datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None,
        status=RunStatus(row["status"]),
        run_dir=row["run_dir"],
        baseline_minutes_per_item=row["baseline_minutes_per_item"],
        baseline_minutes_per_run=row["baseline_minutes_per_run"],
        baseline_minutes_per_exception=row["baseline_minutes_per_exception"],
        baseline_measured_by=row["baseline_measured_by"],
        baseline_measured_on=row["baseline_measured_on"],
        counts={
            ItemStatus.DONE: row["items_done"],
            ItemStatus.BUSINESS_ERROR: row["items_business_error"],
            ItemStatus.SYSTEM_ERROR: row["items_system_error"],
            ItemStatus.BAD_INPUT: row["items_bad_input"],
            ItemStatus.NEEDS_REVIEW: row["items_needs_review"],
            ItemStatus.SKIPPED: row["items_skipped"],
        },
        minutes_saved=row["minutes_saved"],
        exit_code=row["exit_code"],
        message=row["message"],
    )
