"""The scheduler: runs bots unattended on the city's business days (the only apscheduler user).

``rpa scheduler`` loads every bot's ``schedules:`` and hands them to APScheduler 3 (kept behind
this module, so a move to 4.x touches this file only). What it guarantees:

* **The calendar.** A :class:`CalendarTrigger` wraps the cron trigger and never yields a fire
  time on a day the schedule's calendar rule closes; a fire time that falls on a closed day is
  recorded as ``skipped`` with the reason (祝日: 元日、年末年始 ...).
* **One run per bot.** Each job has ``max_instances=1`` and ``coalesce=True``, and ``rpa run``
  itself refuses a second start (the bot lock: exit code 4, recorded as ``already_running``).
* **Crashes and hangs stay outside.** Every run is a separate ``rpa run BOT --trigger schedule``
  process with its output in ``RPA_HOME/scheduler/logs/<bot>/``. Past the schedule's time limit
  it is asked to stop (STOP file and SIGTERM: it finishes the current registration), then
  killed with its browser, and its run is recorded as aborted (:mod:`framework.childrun`).
* **Catching up once.** At start, fire times that passed while the scheduler was down are
  found from the run log (the latest decision recorded for each schedule), not from
  APScheduler's memory: the latest one runs once if the catch-up window (``catch_up_until``)
  is still open, the others are recorded as ``missed``; a decision already recorded is never
  taken again, so restarting twice never runs a batch twice (the rules, which need no
  APScheduler: :mod:`framework.scheduling`).
* **Reload.** Every tick the manifests and ``calendar.yaml`` are checked for changes (and
  ``rpa scheduler --reload`` forces it); an invalid edit is reported (event ``invalid``) and the
  bot's previous valid schedule stays in force.
* **Distributed mode** (``rpa scheduler start --enqueue``): the same decisions, but a run is
  queued in the bot's pool queue for ``rpa worker`` (:mod:`framework.pool`) instead of started
  here; a fire time is queued once (a queueing lock) and run once (the worker's claim).
* **Heartbeat.** Every tick rewrites ``RPA_HOME/scheduler/heartbeat.json``
  (:mod:`framework.heartbeat`).

Time is read through ``clock`` so that the decisions can be tested with any date.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.jobstores.base import JobLookupError  # type: ignore[import-untyped]
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from filelock import Timeout
from loguru import logger

from framework.botlock import BotLock
from framework.calendar import CALENDAR_FILE, CityCalendar, calendar_path, parse_calendar
from framework.childrun import ChildOutcome, run_dir_of, start_child, stop_child, wait_child
from framework.cron import parse_cron
from framework.errors import InvalidError, KakariError
from framework.heartbeat import (
    RELOAD_FILE,
    Heartbeat,
    read_heartbeat,
    scheduler_dir,
    scheduler_lock,
    write_heartbeat,
)
from framework.home import private_dir
from framework.loader import Project, load_bot
from framework.model import ScheduleSpec
from framework.outcome import ExitCode, RunStatus
from framework.registry import Registry
from framework.runlog import (
    RunRecord,
    ScheduleEvent,
    ScheduleEventKind,
    open_runlog,
)
from framework.scheduling import (
    Job,
    dead_run_reason,
    decide,
    end_event,
    jobs_of,
    missed_message,
    shown_time,
    skip_reason,
    zone,
)
from framework.servicelog import service_logging
from framework.servicestop import STOP_MARGIN, StopDeadline, signal_handlers

DEFAULT_TIMEZONE = "Asia/Tokyo"
CLEANUP_HOUR = 3
"""From this hour, once a day, the scheduler deletes run folders past their retention."""
LOOKBACK = dt.timedelta(days=31)
"""How far back a starting scheduler looks for fire times it missed."""
MAX_MISSED_EVENTS = 20
"""At most this many ``missed`` events per schedule at one start (the latest ones)."""
MAX_SCANNED = 5000
"""Fire times a starting scheduler looks at per schedule (a dense cron: the latest ones)."""
_MAX_DAYS_SCANNED = 3 * 366

Clock = Callable[[], dt.datetime]
Command = Callable[[Job], list[str]]


class SchedulerRunningError(KakariError):
    """Another scheduler already runs with this RPA_HOME."""

    def __init__(self, home_root: Path) -> None:
        super().__init__(
            f"スケジューラは既に動いています（{home_root}）。"
            "rpa scheduler status で確認してください"
            " (a scheduler is already running for this RPA_HOME)"
        )


# -- fire times: cron + calendar ---------------------------------------------------------------


def cron_trigger(spec: ScheduleSpec) -> CronTrigger:
    """APScheduler's cron trigger for the schedule's expression (fields expanded by us)."""
    return CronTrigger(timezone=zone(spec), **parse_cron(spec.cron).trigger_fields())


def _next_day(moment: dt.datetime) -> dt.datetime:
    day = moment.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), tzinfo=moment.tzinfo)


class CalendarTrigger(BaseTrigger):  # type: ignore[misc]
    """The cron trigger, minus the fire times on days the schedule's calendar rule closes."""

    def __init__(self, spec: ScheduleSpec, calendar: CityCalendar) -> None:
        self.spec = spec
        self.calendar = calendar
        self.cron = cron_trigger(spec)

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        moment: dt.datetime | None = self.cron.get_next_fire_time(previous_fire_time, now)
        for _ in range(_MAX_DAYS_SCANNED):
            if moment is None or skip_reason(self.spec, self.calendar, moment.date()) is None:
                return moment
            # a closed day: go on from the next midnight (one step per day, however dense)
            moment = self.cron.get_next_fire_time(None, _next_day(moment))
        return None

    def __str__(self) -> str:
        return f"calendar[{self.spec.calendar}]({self.cron})"


def fire_times(spec: ScheduleSpec, after: dt.datetime, until: dt.datetime) -> Iterator[dt.datetime]:
    """The cron's fire times in ``(after, until]``, closed days included."""
    trigger = cron_trigger(spec)
    moment: dt.datetime | None = trigger.get_next_fire_time(
        None, after + dt.timedelta(microseconds=1)
    )
    while moment is not None and moment <= until:
        yield moment
        moment = trigger.get_next_fire_time(moment, moment)


def recent_fire_times(
    spec: ScheduleSpec, since: dt.datetime, now: dt.datetime
) -> list[dt.datetime]:
    """The cron's fire times in ``(since, now]``; for a dense cron only the latest ones (a
    shorter look back until there are fewer than :data:`MAX_SCANNED`)."""
    found: list[dt.datetime] = []
    for window in (None, dt.timedelta(days=1), dt.timedelta(hours=1), dt.timedelta(minutes=1)):
        after = since if window is None else max(since, now - window)
        found = list(islice(fire_times(spec, after, now), MAX_SCANNED))
        if len(found) < MAX_SCANNED:
            break
    return found


def upcoming(
    spec: ScheduleSpec, calendar: CityCalendar, start: dt.datetime, count: int
) -> tuple[list[dt.datetime], list[tuple[dt.datetime, str]]]:
    """The next ``count`` fire times from ``start`` (included) that the calendar allows, and
    the cron's fire times skipped before the last of them, with the reason."""
    trigger = cron_trigger(spec)
    runs: list[dt.datetime] = []
    skipped: list[tuple[dt.datetime, str]] = []
    moment: dt.datetime | None = trigger.get_next_fire_time(None, start)
    days_skipped = 0
    while moment is not None and len(runs) < count and days_skipped < _MAX_DAYS_SCANNED:
        reason = skip_reason(spec, calendar, moment.date())
        if reason is None:
            runs.append(moment)
            moment = trigger.get_next_fire_time(moment, moment)
            continue
        if spec.calendar == "business_days":
            skipped.append((moment, reason))
        days_skipped += 1
        moment = trigger.get_next_fire_time(None, _next_day(moment))
    return runs, skipped


def latest_fire(spec: ScheduleSpec, calendar: CityCalendar, now: dt.datetime) -> dt.datetime | None:
    """The latest fire time at or before ``now`` that the calendar allows."""
    for window in (
        dt.timedelta(minutes=1),
        dt.timedelta(hours=1),
        dt.timedelta(days=1),
        dt.timedelta(days=8),
        dt.timedelta(days=32),
        dt.timedelta(days=366),
    ):
        found = None
        trigger = CalendarTrigger(spec, calendar)
        moment = trigger.get_next_fire_time(None, now - window)
        while moment is not None and moment <= now:
            found = moment
            moment = trigger.get_next_fire_time(moment, moment)
        if found is not None:
            return found
    return None


# -- the command a job runs -------------------------------------------------------------------


def rpa_command(project_root: Path) -> Command:
    """The real command: ``rpa run BOT --trigger schedule [--input ...]`` with this Python."""

    def command(job: Job) -> list[str]:
        argv = [sys.executable, "-m", "framework.cli", "--project", str(project_root)]
        argv += ["run", job.bot_id, "--trigger", "schedule"]
        path = job.input_path()
        if path is not None:
            argv += ["--input", str(path)]
        return argv

    return command


# -- the scheduler ----------------------------------------------------------------------------


@dataclass
class _Loaded:
    """A bot's schedules in force, and the manifest version they came from."""

    signature: tuple[int, int] | None
    jobs: list[Job] = field(default_factory=list)


class Scheduler:
    """Loads the schedules, decides, starts the runs, keeps the heartbeat.

    ``start()`` / ``tick()`` / ``shutdown()`` for embedding and tests; ``serve()`` for
    ``rpa scheduler`` (signals, logs, the main loop).
    """

    def __init__(
        self,
        project: Project,
        home_root: Path,
        *,
        tick_seconds: float = 30.0,
        stop_grace: float = 60.0,
        max_parallel: int = 2,
        clock: Clock | None = None,
        command: Command | None = None,
        registry: Registry | None = None,
        enqueue_url: str | None = None,
    ) -> None:
        self.project = project
        self.enqueue_url = enqueue_url
        """Distributed mode: runs are queued in this database for ``rpa worker``, not started."""
        self.home_root = home_root
        self.tick_seconds = tick_seconds
        self.stop_grace = stop_grace
        self.clock: Clock = clock or (lambda: dt.datetime.now().astimezone())
        self.command = command or rpa_command(project.root)
        self.registry = registry or Registry.default()
        self.runlog = open_runlog(home_root)
        self.calendar = CityCalendar()
        self.jobs: dict[str, Job] = {}
        self.problems: dict[str, list[str]] = {}
        """Refused files (a manifest, the calendar) → their problems, for the heartbeat."""
        self.started_at = self.clock()
        self._bots: dict[str, _Loaded] = {}
        self._calendar_signature: tuple[int, int] | None = None
        self._checked: dict[str, dt.datetime] = {}
        self._last_skip_day: dict[str, dt.date] = {}
        self._running: dict[str, dict[str, Any]] = {}
        self._state = threading.Lock()
        self._job_locks: dict[str, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._reload_requested = False
        self._cleaned_on: dt.date | None = None
        self._aps: BackgroundScheduler | None = None
        self._lock = scheduler_lock(home_root)
        self._locked = False
        self.log = logger.bind(scheduler=True)

    # -- loading -------------------------------------------------------------------------
    def load(self, *, force: bool = False, initial: bool = False) -> None:
        """Read the calendar and the manifests that changed (all of them with ``force``)."""
        self._load_calendar(force=force, initial=initial)
        seen = set(self.project.bot_ids())
        for bot_id in sorted(seen):
            file = self.project.bot_file(bot_id)
            signature = _signature(file)
            loaded = self._bots.get(bot_id)
            if loaded is not None and loaded.signature == signature and not force:
                continue
            self._load_bot(bot_id, signature)
        for bot_id in sorted(set(self._bots) - seen):
            self.log.info(f"ボット {bot_id} がなくなりました: 予定を外します (bot removed)")
            del self._bots[bot_id]
            self.problems.pop(f"bots/{bot_id}/bot.yaml", None)
            self._sync_jobs()

    def _load_calendar(self, *, force: bool, initial: bool) -> None:
        path = calendar_path(self.project.root)
        signature = _signature(path)
        if signature == self._calendar_signature and not force and not initial:
            return
        self._calendar_signature = signature
        try:
            calendar = parse_calendar(path, CALENDAR_FILE) if path.exists() else CityCalendar()
        except InvalidError as exc:
            if initial:
                raise
            self.problems[CALENDAR_FILE] = [str(p) for p in exc.problems]
            self.log.error(
                f"{CALENDAR_FILE} に誤りがあります。前の内容のまま動きます"
                f" (invalid calendar; the previous one stays in force):\n{exc}"
            )
            return
        self.problems.pop(CALENDAR_FILE, None)
        if calendar == self.calendar:
            return
        self.calendar = calendar
        if not initial:
            self.log.info(f"{CALENDAR_FILE} を読み直しました (calendar reloaded)")
            self._sync_jobs(reschedule=True)

    def _load_bot(self, bot_id: str, signature: tuple[int, int] | None) -> None:
        shown = f"bots/{bot_id}/bot.yaml"
        previous = self._bots.get(bot_id)
        try:
            bot = load_bot(bot_id, self.registry, self.project)
        except InvalidError as exc:
            self._bots[bot_id] = _Loaded(signature, previous.jobs if previous else [])
            self.problems[shown] = [str(p) for p in exc.problems]
            kept = "前の予定のまま動きます" if previous and previous.jobs else "予定は登録しません"
            message = f"{shown} に誤りがあります。{kept} (invalid manifest): " + "; ".join(
                str(p) for p in exc.problems
            )
            self.log.error(message)
            self.runlog.record_schedule_event(
                ScheduleEvent(
                    bot_id=bot_id,
                    schedule="",
                    fire_time=self.clock(),
                    event=ScheduleEventKind.INVALID,
                    message=message,
                )
            )
            return
        self.problems.pop(shown, None)
        jobs = jobs_of(
            bot.id,
            bot.name,
            bot.dir,
            bot.manifest.schedules,
            bot.manifest.retention_days,
            queue=bot.manifest.pool.queue,
            lock=bot.manifest.pool.lock(bot.id),
        )
        if previous is not None and previous.jobs != jobs:
            self.log.info(f"{shown} を読み直しました (manifest reloaded): {len(jobs)} 件の予定")
        self._bots[bot_id] = _Loaded(signature, jobs)
        self._sync_jobs()

    def _sync_jobs(self, *, reschedule: bool = False) -> None:
        """Make ``self.jobs`` (and APScheduler's jobs) match the loaded bots."""
        wanted = {job.key: job for loaded in self._bots.values() for job in loaded.jobs}
        now = self.clock()
        for key in sorted(set(self.jobs) - set(wanted)):
            del self.jobs[key]
            self._checked.pop(key, None)
            if self._aps is not None:
                try:
                    self._aps.remove_job(key)
                except JobLookupError:
                    pass  # its trigger had no fire time left
        for key, job in sorted(wanted.items()):
            same = self.jobs.get(key) == job
            if same and not reschedule:
                continue
            self.jobs[key] = job
            self._checked.setdefault(key, now)
            if self._aps is not None:
                self._add(job)
            if not same:
                described = parse_cron(job.spec.cron).describe()
                self.log.info(f"予定 {key}: {described}、{job.spec.calendar} ({job.spec.cron})")

    def _add(self, job: Job, *, run_now: bool = False) -> None:
        assert self._aps is not None
        options: dict[str, Any] = {}
        if run_now:
            options["next_run_time"] = dt.datetime.now(dt.UTC)
        self._aps.add_job(
            self.fire,
            trigger=CalendarTrigger(job.spec, self.calendar),
            args=[job.key],
            id=job.key,
            name=job.key,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # late runs are decided by decide(), from the run log
            **options,
        )

    # -- decisions -------------------------------------------------------------------------
    def _record(
        self,
        job: Job,
        fire: dt.datetime,
        kind: ScheduleEventKind,
        message: str = "",
        run_id: str | None = None,
    ) -> None:
        self.runlog.record_schedule_event(
            ScheduleEvent(
                bot_id=job.bot_id,
                schedule=job.spec.key,
                fire_time=fire,
                event=kind,
                run_id=run_id,
                message=message,
                at=self.clock(),
            )
        )
        level = (
            "INFO"
            if kind not in (ScheduleEventKind.FAILED, ScheduleEventKind.TIMED_OUT)
            else "WARNING"
        )
        detail = f": {message}" if message else ""
        self.log.log(level, f"{job.key} {shown_time(fire)} {kind.label} ({kind.value}){detail}")

    def _handled(self, job: Job, fire: dt.datetime, *, runs: bool = False) -> bool:
        """Whether the run log already holds a decision for this fire time; with ``runs``, also
        whether a scheduled run of the bot started since (what ran, whoever started it)."""
        if self.runlog.fire_events(job.bot_id, job.spec.key, fire):
            return True
        return runs and bool(self.runlog.scheduled_runs_since(job.bot_id, fire))

    def _record_skips(
        self, job: Job, closed: list[tuple[dt.datetime, str]], recorded_day: dt.date | None
    ) -> None:
        """One ``skipped`` event per closed day (the day's first fire time)."""
        if job.spec.calendar != "business_days":
            return
        last = self._last_skip_day.get(job.key, recorded_day)
        for moment, reason in closed:
            if moment.date() == last:
                continue
            last = moment.date()
            self._record(job, moment, ScheduleEventKind.SKIPPED, reason)
        if last is not None:
            self._last_skip_day[job.key] = last

    def catch_up(self) -> list[str]:
        """Decide about the fire times that passed while no scheduler ran; return the keys of
        the jobs to run now (at most once each: the latest fire time, inside its window)."""
        now = self.clock()
        beat = read_heartbeat(self.home_root)
        due: list[str] = []
        for key, job in sorted(self.jobs.items()):
            self._checked[key] = now
            last = self.runlog.last_fire_time(job.bot_id, job.spec.key)
            since = last if last is not None else (beat.last_tick if beat else None)
            if since is None:
                continue  # the first start: nothing was missed before it
            since = max(since, now - LOOKBACK)
            closed: list[tuple[dt.datetime, str]] = []
            allowed: list[dt.datetime] = []
            for moment in recent_fire_times(job.spec, since, now):
                reason = skip_reason(job.spec, self.calendar, moment.date())
                if reason is None:
                    allowed.append(moment)
                else:
                    closed.append((moment, reason))
            self._record_skips(job, closed, last.date() if last is not None else None)
            if not allowed:
                continue
            older = allowed[:-1]
            for moment in older[-MAX_MISSED_EVENTS:]:
                self._record(
                    job,
                    moment,
                    ScheduleEventKind.MISSED,
                    "スケジューラが動いていなかったため実行していません"
                    " (the scheduler was not running; a later run catches up instead)",
                )
            latest = allowed[-1]
            if self._handled(job, latest, runs=True):
                continue
            kind = decide(job.spec, latest, now)
            if kind is ScheduleEventKind.MISSED:
                self._record(job, latest, kind, missed_message(job.spec, latest))
            else:
                due.append(key)
        return due

    def fire(self, key: str) -> None:
        """The job function: decide about the latest fire time, then run the bot (blocking, so
        that APScheduler's ``max_instances=1`` covers the whole run)."""
        job = self.jobs.get(key)
        if job is None:
            return
        now = self.clock()
        fire = latest_fire(job.spec, self.calendar, now)
        if fire is None:
            return
        with self._state:
            lock = self._job_locks.setdefault(key, threading.Lock())
        with lock:
            if self._handled(job, fire):
                self.log.debug(f"{key} {shown_time(fire)}: 記録済み (already decided)")
                return
            kind = decide(job.spec, fire, now)
            if kind is ScheduleEventKind.MISSED:
                self._record(job, fire, kind, missed_message(job.spec, fire))
                return
            if self.enqueue_url is not None:
                self._enqueue(job, fire, kind, now)
                return
            log_path = self._log_path(job, now)
            late = "" if kind is ScheduleEventKind.STARTED else f"（{shown_time(now)} に開始）"
            self._record(job, fire, kind, f"ログ (log): {log_path}{late}")
        self._run(job, fire, log_path)

    def _enqueue(
        self, job: Job, fire: dt.datetime, kind: ScheduleEventKind, now: dt.datetime
    ) -> None:
        """Distributed mode: queue the run for a pool worker (once per fire time: the queueing
        lock refuses a second job while the first waits, and the worker claims the fire time)."""
        from framework.pool.enqueue import AlreadyQueuedError, enqueue_run
        from framework.pool.job import SCHEDULE_TRIGGER, BotJob

        assert self.enqueue_url is not None
        queued_job = BotJob(
            bot_id=job.bot_id,
            input=job.spec.input,
            trigger=SCHEDULE_TRIGGER,
            schedule=job.spec.key,
            fire_time=fire.isoformat(),
            time_limit_minutes=job.spec.time_limit_minutes,
            enqueued_by=f"scheduler@{socket.gethostname()}",
        )
        try:
            queued = enqueue_run(self.enqueue_url, queued_job, queue=job.queue, lock=job.lock)
        except AlreadyQueuedError as exc:
            self._record(job, fire, ScheduleEventKind.ALREADY_RUNNING, str(exc))
            return
        except KakariError as exc:
            self._record(
                job, fire, ScheduleEventKind.FAILED, f"キューに入れられません (not queued): {exc}"
            )
            return
        late = "" if kind is ScheduleEventKind.STARTED else f"（{shown_time(now)} に登録）"
        self._record(
            job,
            fire,
            kind,
            f"キューに入れました (queued): job {queued.job_id}、キュー {queued.queue}{late}",
        )

    # -- running ---------------------------------------------------------------------------
    def _log_path(self, job: Job, now: dt.datetime) -> Path:
        folder = scheduler_dir(self.home_root) / "logs" / job.bot_id
        return folder / f"{now:%Y%m%d-%H%M%S}.log"

    def _run(self, job: Job, fire: dt.datetime, log_path: Path) -> None:
        while not self._slots.acquire(timeout=1.0):
            if self._stopping.is_set():
                self._record(
                    job,
                    fire,
                    ScheduleEventKind.FAILED,
                    "スケジューラの停止により実行しませんでした (not run: the scheduler stopped)",
                )
                return
        try:
            if self._stopping.is_set():
                return
            self._prune_logs(job)
            outcome = self.run_child(job, fire, log_path)
        finally:
            self._slots.release()
        self._record(job, fire, *end_event(job.spec, outcome))

    def run_child(self, job: Job, fire: dt.datetime, log_path: Path) -> ChildOutcome:
        """Start the run's process, wait for it within the time limit, stop or kill it."""
        private_dir(log_path.parent)
        env = {**os.environ, "RPA_HOME": str(self.home_root), "PYTHONIOENCODING": "utf-8"}
        launched = self.clock()
        argv = self.command(job)
        header = f"# {job.key} {shown_time(fire)}: {' '.join(argv)}"
        proc = start_child(argv, log_path, header, cwd=self.project.root, env=env)
        with self._state:
            self._running[job.key] = {
                "bot_id": job.bot_id,
                "schedule": job.spec.key,
                "fire_time": fire.isoformat(timespec="seconds"),
                "pid": proc.pid,
                "since": launched.isoformat(timespec="seconds"),
                "log": str(log_path),
            }
        try:
            outcome = wait_child(
                proc,
                job.spec.time_limit_minutes * 60,
                self._stopping,
                lambda: self._stop(job, proc),
            )
        finally:
            with self._state:
                self._running.pop(job.key, None)
        outcome.log = log_path
        outcome.run = self._run_record(job, launched)
        if outcome.run is not None and outcome.run.status is RunStatus.RUNNING:
            self._close_dead_run(job, outcome)
        return outcome

    def _stop(self, job: Job, proc: subprocess.Popen[bytes]) -> tuple[int, bool]:
        """Ask the run to stop (it finishes the item it is registering), then kill it."""
        return stop_child(proc, self._run_dir_of(job, proc.pid), self.stop_grace, self.log, job.key)

    def _run_dir_of(self, job: Job, pid: int) -> Path | None:
        """The run folder of the bot's current run, if the process holding its lock is ours."""
        return run_dir_of(self.home_root, job.bot_id, pid)

    def _run_record(self, job: Job, launched: dt.datetime) -> RunRecord | None:
        runs = self.runlog.scheduled_runs_since(job.bot_id, launched - dt.timedelta(seconds=1))
        return runs[-1] if runs else None

    def _close_dead_run(self, job: Job, outcome: ChildOutcome) -> None:
        """A run killed (or crashed) while marked running: record it as aborted now."""
        assert outcome.run is not None
        if BotLock(self.home_root / "locks", job.bot_id).held():
            return  # something still holds the bot: its next start closes the run
        reason = dead_run_reason(job.spec.time_limit_minutes, outcome)
        self.runlog.close_unfinished(outcome.run.id, reason)
        outcome.run = self.runlog.get_run(outcome.run.id)

    def _prune_logs(self, job: Job) -> None:
        """Delete this bot's run outputs older than its retention period."""
        folder = scheduler_dir(self.home_root) / "logs" / job.bot_id
        if not folder.is_dir():
            return
        cutoff = time.time() - job.retention_days * 86400
        for path in folder.glob("*.log"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    # -- ticks -------------------------------------------------------------------------------
    def tick(self) -> None:
        """Reload what changed, record skipped days, write the heartbeat."""
        reload_file = scheduler_dir(self.home_root) / RELOAD_FILE
        force = self._reload_requested or reload_file.exists()
        if force:
            reload_file.unlink(missing_ok=True)
            self._reload_requested = False
            self.log.info("再読み込みします (reloading every manifest and the calendar)")
        self.load(force=force)
        now = self.clock()
        self._daily_cleanup(now)
        for key, job in sorted(self.jobs.items()):
            after = self._checked.get(key, now)
            closed = [
                (moment, reason)
                for moment in recent_fire_times(job.spec, after, now)
                if (reason := skip_reason(job.spec, self.calendar, moment.date())) is not None
            ]
            self._record_skips(job, closed, None)
            self._checked[key] = now
        write_heartbeat(self.home_root, self.heartbeat(now))

    def _daily_cleanup(self, now: dt.datetime) -> None:
        """Once a day (from CLEANUP_HOUR): delete run folders past their bot's retention."""
        today = now.date()
        if self._cleaned_on == today or now.hour < CLEANUP_HOUR:
            return
        self._cleaned_on = today
        from framework.home import Home
        from framework.retention import cleanup

        try:
            report = cleanup(Home(self.home_root), self.project, now=now, trigger="schedule")
        except Exception as exc:  # cleanup must never stop the scheduler
            self.log.error(f"保存期間切れの削除に失敗しました (cleanup failed): {exc}")
            return
        self.log.info(f"保存期間切れの削除 (cleanup): {report.summary()}")

    def heartbeat(self, now: dt.datetime) -> Heartbeat:
        jobs = []
        for key, job in sorted(self.jobs.items()):
            following = CalendarTrigger(job.spec, self.calendar).get_next_fire_time(None, now)
            jobs.append(
                {
                    "bot_id": job.bot_id,
                    "schedule": job.spec.key,
                    "key": key,
                    "next_fire": following.isoformat(timespec="seconds") if following else None,
                }
            )
        with self._state:
            running = [dict(entry) for entry in self._running.values()]
        problems = [line for lines in self.problems.values() for line in lines]
        return Heartbeat(
            pid=os.getpid(),
            host=socket.gethostname(),
            project=str(self.project.root),
            started_at=self.started_at,
            last_tick=now,
            tick_seconds=self.tick_seconds,
            jobs=jobs,
            running=running,
            problems=problems,
        )

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Take the scheduler lock, load, catch up, start APScheduler, write a heartbeat."""
        try:
            self._lock.acquire()
        except Timeout:
            raise SchedulerRunningError(self.home_root) from None
        self._locked = True
        try:
            self.started_at = self.clock()
            self.load(initial=True)
            due = set(self.catch_up())
            self._aps = BackgroundScheduler(
                timezone=ZoneInfo(DEFAULT_TIMEZONE),
                executors={"default": ThreadPoolExecutor(max_workers=64)},
            )
            self._aps.add_listener(self._on_job_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
            for key, job in sorted(self.jobs.items()):
                self._add(job, run_now=key in due)
            self._aps.start()
            self.log.info(
                f"スケジューラを開始しました (scheduler started){self._mode()}: "
                f"予定 {len(self.jobs)} 件、"
                f"プロジェクト {self.project.root}、RPA_HOME {self.home_root}"
            )
            self.tick()
        except BaseException:
            self.shutdown()
            raise

    def _mode(self) -> str:
        if self.enqueue_url is None:
            return ""
        from framework.database import masked

        return f"（分散モード: 実行はキューへ {masked(self.enqueue_url)} / distributed mode）"

    def _on_job_event(self, event: JobEvent) -> None:
        job = self.jobs.get(event.job_id)
        if job is None:
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            times = getattr(event, "scheduled_run_times", None) or [self.clock()]
            self._record(
                job,
                times[-1],
                ScheduleEventKind.ALREADY_RUNNING,
                "前回の予定実行がまだ終わっていません (the previous scheduled run is still going)",
            )
        else:
            self.log.opt(exception=event.exception).error(
                f"{job.key}: スケジューラ内部のエラー (internal error in the job)"
            )

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake.set()

    def request_stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def shutdown(self) -> None:
        """Stop: running bots are asked to stop, then killed after the grace period."""
        self._stopping.set()
        if self._aps is not None:
            if self._aps.running:
                self._aps.shutdown(wait=True)
            self._aps = None
        if self._locked:
            try:
                write_heartbeat(self.home_root, self.heartbeat(self.clock()))
            except OSError:
                pass
            self._lock.release()
            self._locked = False
        self.runlog.close()

    def serve(self) -> int:
        """``rpa scheduler``: run until SIGTERM / Ctrl+C; SIGHUP (or --reload) reloads."""
        deadline = StopDeadline(self.stop_grace + STOP_MARGIN, self.log)

        def stop() -> None:  # past the bots' grace and a margin: stacks logged, exit 3
            self.request_stop()
            deadline.start()

        signals = {"SIGTERM": stop, "SIGINT": stop, "SIGBREAK": stop}
        with signal_handlers({**signals, "SIGHUP": self.request_reload}):
            try:
                return self._serve()
            finally:
                deadline.cancel()

    def _serve(self) -> int:
        try:
            self.start()
            while not self._stopping.is_set():
                self._wake.wait(self.tick_seconds)
                self._wake.clear()
                if self._stopping.is_set():
                    break
                try:
                    self.tick()
                except Exception:  # a full disk or a locked file must not end the scheduler
                    self.log.exception("tick failed")
        finally:
            self.log.info("スケジューラを停止します (scheduler stopping)")
            self.shutdown()
        return ExitCode.OK


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def configure_logging(home_root: Path, *, echo: bool = True) -> list[int]:
    """The scheduler's log: ``RPA_HOME/scheduler/scheduler.log`` (rotated) and stderr."""
    return service_logging(
        scheduler_dir(home_root) / "scheduler.log",
        "scheduler",
        libraries=["apscheduler"],
        echo=echo,
        echo_errors=False,
    )
