"""The scheduler's jobs and its decisions about a fire time, free of apscheduler.

A fire time on a day the schedule's calendar rule closes is skipped (:func:`skip_reason`). A run
that starts within :data:`ON_TIME` of its fire time is ``started``; later, it is ``caught_up``
while the schedule's catch-up window is open (until the first ``catch_up_until`` after the fire
time) and ``missed`` after it (:func:`decide`). How a run's process ended becomes the event the run
log keeps (:func:`end_event`). Fire times themselves come from the cron trigger, in
:mod:`framework.scheduler`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from framework.calendar import CityCalendar
from framework.childrun import ChildOutcome
from framework.model import ScheduleSpec
from framework.outcome import ExitCode
from framework.runlog import ScheduleEventKind

ON_TIME = dt.timedelta(minutes=5)
"""A run that starts this late after its fire time still counts as on time (``started``)."""
_WEEKDAYS_JA = "月火水木金土日"
_ENGLISH = {"スケジューラ": "scheduler", "ワーカー": "worker"}


@dataclass(frozen=True)
class Job:
    """One schedule of one bot, as the scheduler runs it."""

    bot_id: str
    bot_name: str
    bot_dir: Path
    spec: ScheduleSpec
    retention_days: int = 30
    queue: str = "default"
    """The bot's pool queue (``pool.queue``), where a distributed scheduler puts its runs."""
    lock: str = ""
    """The pool's job lock for the bot's runs (:meth:`~framework.model.PoolSpec.lock`)."""

    @property
    def key(self) -> str:
        """The APScheduler job id: ``<bot>/<schedule name>``."""
        return f"{self.bot_id}/{self.spec.key}"

    def input_path(self) -> Path | None:
        return (self.bot_dir / self.spec.input).resolve() if self.spec.input else None


def jobs_of(
    bot_id: str,
    bot_name: str,
    bot_dir: Path,
    specs: Sequence[ScheduleSpec],
    keep: int,
    *,
    queue: str = "default",
    lock: str = "",
) -> list[Job]:
    lock = lock or f"bot:{bot_id}"
    return [Job(bot_id, bot_name, bot_dir, spec, keep, queue, lock) for spec in specs]


def zone(spec: ScheduleSpec) -> ZoneInfo:
    """The schedule's time zone (its fire times are in it)."""
    return ZoneInfo(spec.timezone)


def skip_reason(spec: ScheduleSpec, calendar: CityCalendar, day: dt.date) -> str | None:
    """Why the schedule does not run on ``day`` (None: it runs)."""
    if spec.calendar == "every_day":
        return None
    if spec.calendar == "dates":
        return None if day in spec.dates else "指定日以外 (not a listed date)"
    return calendar.closed_reason(day)


def catch_up_deadline(spec: ScheduleSpec, fire: dt.datetime) -> dt.datetime | None:
    """The end of a fire time's catch-up window: the first ``catch_up_until`` after it."""
    if spec.catch_up_until is None:
        return None
    local = fire.astimezone(zone(spec))
    deadline = dt.datetime.combine(local.date(), spec.catch_up_until, tzinfo=zone(spec))
    if deadline <= local:
        deadline = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), spec.catch_up_until, tzinfo=zone(spec)
        )
    return deadline


def decide(spec: ScheduleSpec, fire: dt.datetime, now: dt.datetime) -> ScheduleEventKind:
    """Start now (on time, or caught up inside the window), or record the fire time missed."""
    if now - fire <= ON_TIME:
        return ScheduleEventKind.STARTED
    deadline = catch_up_deadline(spec, fire)
    if deadline is not None and now <= deadline:
        return ScheduleEventKind.CAUGHT_UP
    return ScheduleEventKind.MISSED


def missed_message(spec: ScheduleSpec, fire: dt.datetime) -> str:
    """Why a fire time was not run: no catch-up window, or it had passed."""
    deadline = catch_up_deadline(spec, fire)
    if deadline is None:
        return (
            "時刻に開始できませんでした（catch_up_until がないため後から実行しません）"
            " (not started on time; no catch-up window)"
        )
    return (
        f"時刻に開始できず、遅れて実行できる時刻（{shown_time(deadline)}）も過ぎていました"
        " (not started on time; the catch-up window has passed)"
    )


def end_event(
    spec: ScheduleSpec, outcome: ChildOutcome
) -> tuple[ScheduleEventKind, str, str | None]:
    """What the run log keeps when a scheduled run's process ended: the event, its message
    (the run's totals and the log file) and the run it was about."""
    return outcome_event(spec.time_limit_minutes, outcome)


def dead_run_reason(
    time_limit_minutes: float, outcome: ChildOutcome, *, stopped_by: str = "スケジューラ"
) -> str:
    """Why a run that ended while still marked running is closed as aborted: killed at its time
    limit, killed when the scheduler or pool worker (``stopped_by``) stopped, or crashed."""
    if outcome.timed_out:
        return (
            f"時間制限（{time_limit_minutes:g} 分）を超えたため強制終了しました"
            " (killed: time limit)"
        )
    if outcome.stopped:
        return (
            f"{stopped_by}の停止に伴い強制終了しました (killed: the {_ENGLISH[stopped_by]} stopped)"
        )
    return f"異常終了しました（終了コード {outcome.code}） (the process crashed)"


def outcome_event(
    time_limit_minutes: float, outcome: ChildOutcome, *, stopped_by: str = "スケジューラ"
) -> tuple[ScheduleEventKind, str, str | None]:
    """:func:`end_event` for a run with that time limit; ``stopped_by`` names who stops runs
    when it stops itself (the scheduler, or a pool worker)."""
    code = outcome.code
    run = outcome.run
    run_id = run.id if run is not None else None
    done = ""
    if run is not None:
        done = f"run {run.id}: {run.status.label}、全 {run.items_total} 件。"
    log = f" ログ (log): {outcome.log}"
    if outcome.timed_out:
        how = "強制終了" if outcome.killed else "停止の指示で終了"
        return (
            ScheduleEventKind.TIMED_OUT,
            f"{done}時間制限（{time_limit_minutes:g} 分）を超えたため止めました"
            f"（{how}） (stopped at the time limit)" + log,
            run_id,
        )
    if outcome.stopped:
        return (
            ScheduleEventKind.FAILED,
            f"{done}{stopped_by}の停止に伴い止めました (stopped with the {_ENGLISH[stopped_by]})"
            + log,
            run_id,
        )
    if code in (ExitCode.OK, ExitCode.ITEMS_FAILED):
        attention = (
            "要対応の申請があります (some items need a person)"
            if code == ExitCode.ITEMS_FAILED
            else "すべて完了 (all done)"
        )
        return ScheduleEventKind.FINISHED, f"{done}{attention}" + log, run_id
    if code == ExitCode.ALREADY_RUNNING:
        return (
            ScheduleEventKind.ALREADY_RUNNING,
            "ボットが実行中だったため見送りました（終了コード 4） (the bot was running)" + log,
            None,
        )
    if code == ExitCode.INVALID:
        return (
            ScheduleEventKind.FAILED,
            "設定か入力に誤りがあり、何も実行していません（終了コード 2）"
            " (invalid: nothing run)" + log,
            None,
        )
    if code == ExitCode.ABORTED:
        return (
            ScheduleEventKind.FAILED,
            f"{done}中断しました（終了コード 3） (aborted)" + log,
            run_id,
        )
    return (
        ScheduleEventKind.FAILED,
        f"{done}異常終了しました（終了コード {code}） (the run crashed)" + log,
        run_id,
    )


def shown_time(moment: dt.datetime) -> str:
    """``2027-01-04 (月) 19:00`` (seconds only when they are not zero)."""
    clock = "%H:%M:%S" if moment.second else "%H:%M"
    return f"{moment:%Y-%m-%d} ({_WEEKDAYS_JA[moment.weekday()]}) {moment.strftime(clock)}"
