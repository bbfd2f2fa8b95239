"""The scheduler: calendar-aware fire times, catch-up from the run log, reload, crashes and hangs.

Decisions are tested with a controlled clock (any date, no waiting); the child-process tests start
real processes (a crashing one, a real `rpa run` whose browser hangs) with limits of seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import TempProject

from framework.calendar import CityCalendar
from framework.heartbeat import RELOAD_FILE, read_heartbeat, scheduler_dir
from framework.model import ScheduleSpec
from framework.runlog import ScheduleEventKind, SqliteRunLog
from framework.scheduler import (
    CalendarTrigger,
    Scheduler,
    latest_fire,
    rpa_command,
    upcoming,
)
from framework.scheduling import Job, catch_up_deadline, decide

TOKYO = ZoneInfo("Asia/Tokyo")
DEADLINE = 60.0
WELFARE = ScheduleSpec.model_validate(
    {"name": "夜間入力", "cron": "0 19 * * mon-fri", "catch_up_until": "07:30"}
)
KEY = "nightly/夜間入力"


def jst(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=TOKYO)  # type: ignore[misc]


def days(moments: list[dt.datetime]) -> list[str]:
    return [f"{m:%Y-%m-%d %H:%M}" for m in moments]


# -- fire times: what `rpa schedule` shows --------------------------------------------------


def test_year_end_is_skipped() -> None:
    runs, skipped = upcoming(WELFARE, CityCalendar(), jst(2026, 12, 28), 5)
    assert days(runs) == [
        "2026-12-28 19:00",
        "2027-01-04 19:00",
        "2027-01-05 19:00",
        "2027-01-06 19:00",
        "2027-01-07 19:00",
    ]
    assert [(f"{m:%m-%d}", why) for m, why in skipped] == [
        ("12-29", "年末年始 (year-end closure)"),
        ("12-30", "年末年始 (year-end closure)"),
        ("12-31", "年末年始 (year-end closure)"),
        ("01-01", "祝日: 元日 (national holiday)、年末年始 (year-end closure)"),
    ]


def test_golden_week() -> None:
    runs, skipped = upcoming(WELFARE, CityCalendar(), jst(2026, 4, 27), 6)
    assert days(runs) == [
        "2026-04-27 19:00",
        "2026-04-28 19:00",
        "2026-04-30 19:00",
        "2026-05-01 19:00",
        "2026-05-07 19:00",
        "2026-05-08 19:00",
    ]
    assert [f"{m:%m-%d}" for m, _ in skipped] == ["04-29", "05-04", "05-05", "05-06"]


def test_substitute_holiday() -> None:
    runs, skipped = upcoming(WELFARE, CityCalendar(), jst(2027, 3, 19), 2)
    assert days(runs) == ["2027-03-19 19:00", "2027-03-23 19:00"]
    assert [f"{m:%m-%d}" for m, _ in skipped] == ["03-22"]
    assert "振替休日" in skipped[0][1]


def test_city_closure() -> None:
    calendar = CityCalendar({dt.date(2026, 12, 1): "庁舎停電"})
    runs, skipped = upcoming(WELFARE, calendar, jst(2026, 11, 30, 20), 2)
    assert days(runs) == ["2026-12-02 19:00", "2026-12-03 19:00"]
    assert skipped[0][1] == "休業日: 庁舎停電 (city closure)"


def test_every_day_and_listed_dates() -> None:
    every = ScheduleSpec(cron="0 19 * * *", calendar="every_day")
    assert days(upcoming(every, CityCalendar(), jst(2026, 12, 31), 2)[0]) == [
        "2026-12-31 19:00",
        "2027-01-01 19:00",
    ]
    listed = ScheduleSpec.model_validate(
        {"cron": "0 9 * * *", "calendar": "dates", "dates": ["2027-02-15", "2027-01-01"]}
    )
    runs, skipped = upcoming(listed, CityCalendar(), jst(2026, 12, 1), 5)
    assert days(runs) == ["2027-01-01 09:00", "2027-02-15 09:00"]
    assert skipped == []  # the other days are simply not in the schedule
    trigger = CalendarTrigger(listed, CityCalendar())
    assert trigger.get_next_fire_time(None, jst(2027, 2, 16)) is None


def test_latest_fire_looks_back_over_closed_days() -> None:
    assert latest_fire(WELFARE, CityCalendar(), jst(2027, 1, 4, 6)) == jst(2026, 12, 28, 19)
    assert latest_fire(WELFARE, CityCalendar(), jst(2027, 1, 4, 19)) == jst(2027, 1, 4, 19)


# -- late runs: on time, caught up, missed --------------------------------------------------


def test_catch_up_window_ends_at_the_next_catch_up_until() -> None:
    fire = jst(2026, 11, 30, 19)
    assert catch_up_deadline(WELFARE, fire) == jst(2026, 12, 1, 7, 30)
    assert decide(WELFARE, fire, jst(2026, 11, 30, 19, 3)) is ScheduleEventKind.STARTED
    assert decide(WELFARE, fire, jst(2026, 11, 30, 23)) is ScheduleEventKind.CAUGHT_UP
    assert decide(WELFARE, fire, jst(2026, 12, 1, 7, 30)) is ScheduleEventKind.CAUGHT_UP
    assert decide(WELFARE, fire, jst(2026, 12, 1, 7, 31)) is ScheduleEventKind.MISSED
    strict = ScheduleSpec(cron="0 19 * * mon-fri")
    assert decide(strict, fire, jst(2026, 11, 30, 19, 10)) is ScheduleEventKind.MISSED
    morning = ScheduleSpec.model_validate({"cron": "0 6 * * *", "catch_up_until": "07:30"})
    assert catch_up_deadline(morning, jst(2026, 12, 1, 6)) == jst(2026, 12, 1, 7, 30)


# -- a project, a run log and a clock that the test moves -----------------------------------


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


QUICK = [sys.executable, "-c", "pass"]


def write_bot(
    project: TempProject, bot_id: str, schedules: str, *, workflow: str = "hello.yaml"
) -> Path:
    if not (project.root / "workflows" / "hello.yaml").exists():
        project.write("workflows/hello.yaml", "steps:\n  - log: こんにちは\n")
    text = f"""
        name: テストボット
        department: テスト課
        workflow: {workflow}
        baseline: {{minutes_per_item: 0, minutes_per_run: 5, measured_by: テスト,
                    measured_on: 2026-10-01}}
        schedules:
        """
    body = textwrap.dedent(text).lstrip("\n") + textwrap.indent(
        textwrap.dedent(schedules).strip("\n"), "  "
    )
    path = project.root / "bots" / bot_id / "bot.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body + "\n", encoding="utf-8")
    return path


NIGHTLY = """
- name: 夜間入力
  cron: "0 19 * * mon-fri"
  catch_up_until: "07:30"
"""


@pytest.fixture
def office(temp_project: TempProject, rpa_home: Path) -> Iterator[Office]:
    made = Office(temp_project, rpa_home)
    yield made
    made.close()


class Office:
    """A project with one nightly bot, and schedulers that the test starts at chosen times."""

    def __init__(self, project: TempProject, home: Path) -> None:
        self.project = project
        self.home = home
        self.schedulers: list[Scheduler] = []
        write_bot(project, "nightly", NIGHTLY)

    def scheduler(
        self, clock: Callable[[], dt.datetime] | None = None, **options: object
    ) -> Scheduler:
        made = Scheduler(
            self.project.project,
            self.home,
            clock=clock,
            command=options.pop("command", lambda job: QUICK),  # type: ignore[arg-type]
            **options,  # type: ignore[arg-type]
        )
        self.schedulers.append(made)
        return made

    def boot(self, now: dt.datetime) -> Scheduler:
        """What `rpa scheduler` does at start, at ``now`` (without APScheduler's thread)."""
        made = self.scheduler(Clock(now))
        made.load(initial=True)
        for key in made.catch_up():
            made.fire(key)
        made.tick()
        made.shutdown()
        return made

    def events(self, bot: str | None = None) -> list[tuple[str, str]]:
        log = SqliteRunLog(self.home / "runlog.sqlite3")
        try:
            found = log.schedule_events(500, bot)
        finally:
            log.close()
        return [(e.event.value, f"{e.fire_time:%m-%d %H:%M}") for e in reversed(found)]

    def messages(self, kind: ScheduleEventKind) -> list[str]:
        log = SqliteRunLog(self.home / "runlog.sqlite3")
        try:
            return [e.message for e in log.schedule_events(500) if e.event is kind]
        finally:
            log.close()

    def close(self) -> None:
        for made in self.schedulers:
            made.shutdown()


def test_restart_in_the_window_runs_once_and_a_second_restart_does_not(office: Office) -> None:
    office.boot(jst(2026, 11, 30, 18))  # Monday: up before 19:00, then the PC is switched off
    assert office.events() == []
    office.boot(jst(2026, 12, 1, 6))  # Tuesday 6:00, inside the window (until 7:30)
    assert office.events() == [("caught_up", "11-30 19:00"), ("finished", "11-30 19:00")]
    office.boot(jst(2026, 12, 1, 6, 30))  # restarted again
    office.boot(jst(2026, 12, 1, 7))
    assert office.events() == [("caught_up", "11-30 19:00"), ("finished", "11-30 19:00")]


def test_restart_after_the_window_records_missed(office: Office) -> None:
    office.boot(jst(2026, 11, 30, 18))
    office.boot(jst(2026, 12, 1, 8))
    assert office.events() == [("missed", "11-30 19:00")]
    assert "07:30" in office.messages(ScheduleEventKind.MISSED)[0]
    office.boot(jst(2026, 12, 1, 9))
    assert office.events() == [("missed", "11-30 19:00")]


def test_a_long_outage_catches_up_once(office: Office) -> None:
    office.boot(jst(2026, 11, 27, 18))  # Friday
    office.boot(jst(2026, 12, 3, 6))  # Thursday morning
    assert office.events() == [
        ("missed", "11-27 19:00"),
        ("missed", "11-30 19:00"),
        ("missed", "12-01 19:00"),
        ("caught_up", "12-02 19:00"),
        ("finished", "12-02 19:00"),
    ]


def test_closed_days_while_down_are_recorded_as_skipped(office: Office) -> None:
    office.boot(jst(2026, 12, 28, 18))
    office.boot(jst(2027, 1, 5, 6))
    assert office.events() == [
        ("skipped", "12-29 19:00"),
        ("skipped", "12-30 19:00"),
        ("skipped", "12-31 19:00"),
        ("skipped", "01-01 19:00"),
        ("missed", "12-28 19:00"),
        ("caught_up", "01-04 19:00"),
        ("finished", "01-04 19:00"),
    ]
    office.boot(jst(2027, 1, 5, 7))
    assert len(office.events()) == 7


def test_the_first_start_misses_nothing(office: Office) -> None:
    office.boot(jst(2026, 12, 1, 6))
    assert office.events() == []


def test_a_running_scheduler_records_a_holiday_once(office: Office) -> None:
    clock = Clock(jst(2026, 12, 29, 18, 59))
    made = office.scheduler(clock)
    made.load(initial=True)
    made.catch_up()
    clock.now = jst(2026, 12, 29, 19, 0, 30)
    made.tick()
    clock.now = jst(2026, 12, 29, 19, 1)
    made.tick()
    assert office.events() == [("skipped", "12-29 19:00")]
    assert office.messages(ScheduleEventKind.SKIPPED) == ["年末年始 (year-end closure)"]


def test_on_time_run_and_a_bot_already_running(office: Office) -> None:
    clock = Clock(jst(2026, 11, 30, 19, 0, 2))
    made = office.scheduler(clock)
    made.load(initial=True)
    made.fire(KEY)
    made.fire(KEY)  # the same fire time again: already decided
    assert office.events() == [("started", "11-30 19:00"), ("finished", "11-30 19:00")]
    busy = office.scheduler(
        Clock(jst(2026, 12, 1, 19)), command=lambda job: [*QUICK[:2], "raise SystemExit(4)"]
    )
    busy.load(initial=True)
    busy.fire(KEY)
    assert office.events()[-1] == ("already_running", "12-01 19:00")


# -- reload ------------------------------------------------------------------------------------


def test_an_invalid_edit_keeps_the_previous_schedule(office: Office) -> None:
    clock = Clock(jst(2026, 11, 30, 12))
    made = office.scheduler(clock)
    made.load(initial=True)
    assert made.jobs[KEY].spec.cron == "0 19 * * mon-fri"
    path = write_bot(office.project, "nightly", '- name: 夜間入力\n  cron: "0 25 * * mon-fri"\n')
    made.tick()
    assert made.jobs[KEY].spec.cron == "0 19 * * mon-fri"  # still in force
    [message] = office.messages(ScheduleEventKind.INVALID)
    assert "bots/nightly/bot.yaml:8:11: schedules[0].cron: 時: 「25」は使えません" in message
    beat = read_heartbeat(office.home)
    assert beat is not None
    assert beat.problems == [
        "bots/nightly/bot.yaml:8:11: schedules[0].cron: 時: 「25」は使えません（0〜23）: '25'"
        " (invalid hour value '25')"
    ]
    assert beat.jobs[0]["next_fire"] == "2026-11-30T19:00:00+09:00"
    made.tick()  # nothing changed since: reported once
    assert len(office.messages(ScheduleEventKind.INVALID)) == 1
    path.write_text(path.read_text(encoding="utf-8").replace("0 25", "30 20"), encoding="utf-8")
    made.tick()
    assert made.jobs[KEY].spec.cron == "30 20 * * mon-fri"
    beat = read_heartbeat(office.home)
    assert beat is not None and beat.problems == []
    assert beat.jobs[0]["next_fire"] == "2026-11-30T20:30:00+09:00"


def test_added_and_removed_bots_and_the_calendar_are_picked_up(office: Office) -> None:
    clock = Clock(jst(2026, 11, 30, 12))
    made = office.scheduler(clock)
    made.load(initial=True)
    write_bot(office.project, "morning", '- cron: "0 6 * * *"\n  calendar: every_day\n')
    made.tick()
    assert sorted(made.jobs) == ["morning/0 6 * * *", KEY]
    (office.project.root / "bots" / "morning" / "bot.yaml").unlink()
    (office.project.root / "bots" / "morning").rmdir()
    calendar = office.project.root / "calendar.yaml"
    calendar.write_text("closures:\n  - {date: 2026-11-30, reason: 停電}\n", encoding="utf-8")
    made.tick()
    assert sorted(made.jobs) == [KEY]
    beat = read_heartbeat(office.home)
    assert beat is not None and beat.jobs[0]["next_fire"] == "2026-12-01T19:00:00+09:00"
    calendar.write_text("closures:\n  - {date: 2026-11-31, reason: 誤り}\n", encoding="utf-8")
    made.tick()
    beat = read_heartbeat(office.home)
    assert beat is not None
    assert beat.jobs[0]["next_fire"] == "2026-12-01T19:00:00+09:00"  # the old calendar stays
    assert beat.problems[0].startswith("calendar.yaml:2:12: closures[0].date:")


def test_reload_request_reads_everything_again(office: Office) -> None:
    made = office.scheduler(Clock(jst(2026, 11, 30, 12)))
    made.load(initial=True)
    path = office.project.root / "bots" / "nightly" / "bot.yaml"
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("0 19", "0 18"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a copy that kept the old time
    made.tick()
    assert made.jobs[KEY].spec.cron == "0 19 * * mon-fri"
    (scheduler_dir(office.home) / RELOAD_FILE).write_text("reload\n", encoding="utf-8")
    made.tick()
    assert made.jobs[KEY].spec.cron == "0 18 * * mon-fri"
    assert not (scheduler_dir(office.home) / RELOAD_FILE).exists()


# -- real processes: crashes, hangs, stops, overlaps -----------------------------------------


def wait_for(condition: Callable[[], bool], what: str, limit: float = DEADLINE) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def seconds_cron(moment: dt.datetime) -> str:
    local = moment.astimezone(TOKYO)
    return f"{local.second} {local.minute} {local.hour} * * *"


def test_a_crashing_bot_does_not_stop_the_next_one(office: Office) -> None:
    real = rpa_command(office.project.root)

    def command(job: Job) -> list[str]:
        if job.bot_id == "crasher":
            return [sys.executable, "-c", "import os; os.abort()"]
        return real(job)

    made = office.scheduler(command=command)
    made.start()
    # added while it runs (picked up at the next tick), so slow start-up cannot miss the time
    soon = dt.datetime.now(TOKYO) + dt.timedelta(seconds=2)
    write_bot(office.project, "crasher", f'- cron: "{seconds_cron(soon)}"\n  calendar: every_day\n')
    later = seconds_cron(soon + dt.timedelta(seconds=1))
    write_bot(office.project, "hello", f'- cron: "{later}"\n  calendar: every_day\n')
    made.tick()
    wait_for(lambda: "finished" in dict(office.events("hello")), "the second bot to finish")
    crashed = office.messages(ScheduleEventKind.FAILED)
    assert len(crashed) == 1 and "異常終了しました" in crashed[0]
    log = SqliteRunLog(office.home / "runlog.sqlite3")
    try:
        [run] = log.recent_runs(5, "hello")
        [finished] = [e for e in log.schedule_events(10, "hello") if e.event.value == "finished"]
    finally:
        log.close()
    assert (run.trigger, run.status.value, run.exit_code) == ("schedule", "completed", 0)
    assert finished.run_id == run.id
    made.tick()  # the scheduler goes on
    beat = read_heartbeat(office.home)
    assert beat is not None and beat.pid == os.getpid() and beat.running == []


def test_start_catches_up_through_apscheduler(office: Office) -> None:
    office.boot(jst(2026, 11, 30, 18))
    made = office.scheduler(Clock(jst(2026, 12, 1, 6)))
    made.start()  # APScheduler runs the due job in its own thread, right away
    wait_for(lambda: len(office.events()) == 2, "the catch-up run")
    made.shutdown()
    assert office.events() == [("caught_up", "11-30 19:00"), ("finished", "11-30 19:00")]


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A web server that accepts connections and never answers (a hung target system)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_hanging_bot_is_killed_at_its_limit(
    office: Office, hanging_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framework.childrun import _alive, _descendants

    monkeypatch.setenv("RPA_BROWSER_TIMEOUT_MS", "600000")  # the page never answers
    office.project.write("workflows/hang.yaml", "steps:\n  - browser.goto: '{{ settings.url }}'\n")
    path = write_bot(
        office.project,
        "hanger",
        "- cron: '* * * * * *'\n  calendar: every_day\n  time_limit_minutes: 0.1\n",
        workflow="hang.yaml",
    )
    path.write_text(
        path.read_text(encoding="utf-8") + f"settings: {{url: '{hanging_server}'}}\n",
        encoding="utf-8",
    )
    made = office.scheduler(command=rpa_command(office.project.root), stop_grace=2.0)
    made.load(initial=True)
    seen: set[int] = set()
    worker = threading.Thread(target=made.fire, args=["hanger/* * * * * *"])
    started = time.monotonic()
    worker.start()
    while worker.is_alive():
        for entry in list(made._running.values()):
            seen |= {entry["pid"], *_descendants(entry["pid"])}
        time.sleep(0.1)
    worker.join()
    assert 6 <= time.monotonic() - started < 30
    assert len(seen) >= 3, "the bot, its browser driver and the browser"
    assert [p for p in seen if _alive(p)] == []
    events = office.events("hanger")
    assert [kind for kind, _ in events] == ["started", "timed_out"]
    log = SqliteRunLog(office.home / "runlog.sqlite3")
    try:
        [run] = log.recent_runs(5, "hanger")
        [timed_out] = [e for e in log.schedule_events(10, "hanger") if e.run_id]
    finally:
        log.close()
    assert (run.status.value, run.exit_code, run.trigger) == ("aborted", 3, "schedule")
    assert "時間制限（0.1 分）を超えたため強制終了しました" in run.message
    assert timed_out.run_id == run.id and "強制終了" in timed_out.message


STOPS_ON_TERM = [
    sys.executable,
    "-c",
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n"
    "print('working', flush=True)\n"
    "time.sleep(60)\n",
]


@pytest.mark.skipif(sys.platform == "win32", reason="stops the child with SIGTERM")
def test_a_run_that_stops_when_asked_is_not_killed(office: Office) -> None:
    write_bot(
        office.project,
        "slow",
        "- cron: '* * * * * *'\n  calendar: every_day\n  time_limit_minutes: 0.02\n",
    )
    made = office.scheduler(command=lambda job: STOPS_ON_TERM, stop_grace=30.0)
    made.load(initial=True)
    started = time.monotonic()
    made.fire("slow/* * * * * *")
    assert time.monotonic() - started < 10
    assert [kind for kind, _ in office.events("slow")] == ["started", "timed_out"]
    [message] = office.messages(ScheduleEventKind.TIMED_OUT)
    assert "停止の指示で終了" in message
    log_file = next((scheduler_dir(office.home) / "logs" / "slow").glob("*.log"))
    assert "working" in log_file.read_text(encoding="utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="stops the child with SIGTERM")
def test_stopping_the_scheduler_stops_its_runs(office: Office) -> None:
    write_bot(office.project, "slow", "- cron: '* * * * * *'\n  calendar: every_day\n")
    made = office.scheduler(command=lambda job: STOPS_ON_TERM, stop_grace=30.0)
    made.load(initial=True)
    worker = threading.Thread(target=made.fire, args=["slow/* * * * * *"])
    worker.start()
    wait_for(lambda: bool(made._running), "the run to start")
    made.request_stop()
    worker.join(DEADLINE)
    assert not worker.is_alive()
    assert [kind for kind, _ in office.events("slow")] == ["started", "failed"]
    assert "スケジューラの停止に伴い止めました" in office.messages(ScheduleEventKind.FAILED)[0]


def test_a_run_never_overlaps_the_next_fire_time(office: Office) -> None:
    (office.project.root / "bots" / "nightly" / "bot.yaml").unlink()
    write_bot(office.project, "often", "- cron: '* * * * * *'\n  calendar: every_day\n")
    sleeper = [sys.executable, "-c", "import time; time.sleep(2.5)"]
    made = office.scheduler(command=lambda job: sleeper, stop_grace=5.0)
    made.start()
    wait_for(
        lambda: (
            "finished" in dict(office.events("often"))
            and "already_running" in dict(office.events("often"))
        ),
        "a run and a refused overlap",
    )
    made.shutdown()
    assert (
        "前回の予定実行がまだ終わっていません"
        in office.messages(ScheduleEventKind.ALREADY_RUNNING)[0]
    )
    kinds = [kind for kind, _ in office.events("often")]
    starts = [i for i, kind in enumerate(kinds) if kind == "started"]
    ends = [i for i, kind in enumerate(kinds) if kind in ("finished", "failed")]
    for first, second in zip(starts, starts[1:], strict=False):
        assert any(first < end < second for end in ends), f"two runs at once: {kinds}"


def test_the_scheduler_cleans_up_once_a_day(office: Office) -> None:
    """Run folders past their retention are deleted daily (issue 7), recorded in the audit."""
    from framework import audit

    office.boot(jst(2026, 12, 1, 2))  # before the cleanup hour: nothing yet
    made = office.scheduler(Clock(jst(2026, 12, 1, 4)))
    made.load(initial=True)
    made.tick()
    made.tick()  # the same day again: no second cleanup
    made.shutdown()
    log = SqliteRunLog(office.home / "runlog.sqlite3")
    try:
        records = [r for r in log.audit_records() if r.action == audit.Action.CLEANUP]
    finally:
        log.close()
    assert [r.trigger for r in records] == ["schedule"]
