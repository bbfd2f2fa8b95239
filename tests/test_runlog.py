"""The run log: one contract for every store (SQLite, and PostgreSQL on a private server)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from conftest import StoreFactory, welfare_run

from framework.outcome import ItemOutcome, ItemStatus, RunStatus
from framework.runlog import (
    MIGRATIONS,
    RunLog,
    ScheduleEvent,
    ScheduleEventKind,
    SqliteRunLog,
)


def test_run_round_trip(open_store: StoreFactory) -> None:
    store = open_store()
    record = welfare_run("r1")
    store.start_run(record)
    assert store.get_run("r1") is not None
    assert store.get_run("r1").status is RunStatus.RUNNING  # type: ignore[union-attr]
    record.status = RunStatus.COMPLETED
    record.ended_at = record.started_at + dt.timedelta(minutes=3)
    record.counts = {ItemStatus.DONE: 3, ItemStatus.BAD_INPUT: 1}
    record.minutes_saved = 28
    record.exit_code = 1
    store.finish_run(record)
    again = open_store().get_run("r1")
    assert again is not None
    assert again.status is RunStatus.COMPLETED
    assert again.count(ItemStatus.DONE) == 3
    assert again.count(ItemStatus.BAD_INPUT) == 1
    assert again.items_total == 4
    assert again.minutes_saved == 28
    assert again.baseline_measured_by == "受付担当"


def test_recent_runs_newest_first_and_by_bot(open_store: StoreFactory) -> None:
    store = open_store()
    store.start_run(welfare_run("a", minute=1))
    store.start_run(welfare_run("b", minute=2, bot="other"))
    store.start_run(welfare_run("c", minute=3))
    assert [r.id for r in store.recent_runs()] == ["c", "b", "a"]
    assert [r.id for r in store.recent_runs(bot_id="welfare_entry")] == ["c", "a"]
    assert [r.id for r in store.recent_runs(limit=1)] == ["c"]


def test_item_states(open_store: StoreFactory) -> None:
    store = open_store()
    store.start_run(welfare_run("r1"))
    key = store.item_key(["0123456789", "居宅介護", "2026-12-01"], personal=True)
    outcome = ItemOutcome(1, "in.xlsx", 4, ItemStatus.IN_PROGRESS)
    store.item_started(welfare_run("r1"), outcome, key)
    assert store.items("r1")[0].status is ItemStatus.IN_PROGRESS
    outcome.status = ItemStatus.DONE
    outcome.results = {"受付番号": "R08-000001"}
    store.item_finished(welfare_run("r1"), outcome, key)
    items = store.items("r1")
    assert len(items) == 1
    assert items[0].status is ItemStatus.DONE
    assert items[0].results == {"受付番号": "R08-000001"}
    assert items[0].row == 4


def test_personal_keys_are_stored_as_keyed_hashes(open_store: StoreFactory, tmp_path: Path) -> None:
    store = open_store()
    parts = ["0123456789", "居宅介護", "2026-12-01"]
    key = store.item_key(parts, personal=True)
    assert key.text is None
    assert "0123456789" not in key.hash
    assert open_store().item_key(parts, personal=True) == key  # stable across reopen
    assert store.item_key(parts, personal=False).text == "0123456789 / 居宅介護 / 2026-12-01"
    secret = tmp_path / "secret.key"
    if os.name == "posix" and isinstance(store, SqliteRunLog):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_schema_is_versioned(tmp_path: Path) -> None:
    store = SqliteRunLog(tmp_path / "runlog.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    conn = sqlite3.connect(tmp_path / "runlog.sqlite3")
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this kakari"):
        SqliteRunLog(tmp_path / "runlog.sqlite3")


def test_writes_from_several_threads(open_store: StoreFactory) -> None:
    store = open_store()
    run = welfare_run("r1")
    store.start_run(run)

    def work(first: int) -> None:
        for seq in range(first, first + 25):
            outcome = ItemOutcome(seq, "in.xlsx", seq, ItemStatus.DONE)
            store.item_finished(run, outcome, store.item_key([str(seq)], personal=False))

    threads = [threading.Thread(target=work, args=(n * 100,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.items("r1")) == 100


def test_a_version_1_log_is_upgraded_in_place(tmp_path: Path) -> None:
    """Runs recorded by an older kakari keep working: items learn their bot."""
    path = tmp_path / "runlog.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(f"BEGIN;{MIGRATIONS[0]}PRAGMA user_version=1;COMMIT;")
    conn.execute(
        "INSERT INTO runs (id, bot_id, bot_name, department, workflow, trigger, os_user, host,"
        " started_at, status, baseline_minutes_per_item, baseline_minutes_per_run,"
        " baseline_measured_by, baseline_measured_on, run_dir, items_done)"
        " VALUES ('old', 'welfare_entry', 'n', 'd', 'w', 'cli', 'u', 'h', '2026-04-01T09:00:00',"
        " 'completed', 6, 10, 'x', '2026-03-01', '/tmp/old', 1)"
    )
    conn.execute(
        "INSERT INTO items (run_id, seq, source, row, key_hash, status, started_at)"
        " VALUES ('old', 1, 'a.xlsx', 4, 'h1', 'done', '2026-04-01T09:00:01')"
    )
    conn.commit()
    conn.close()
    store = SqliteRunLog(path)
    try:
        assert store.schema_version == len(MIGRATIONS)
        old = store.get_run("old")
        assert old is not None and old.count(ItemStatus.DONE) == 1
        prior = store.prior_item("welfare_entry", store.item_key(["x"], personal=False), "new")
        assert prior is None
        from framework.runlog import ItemKey

        found = store.prior_item("welfare_entry", ItemKey("h1", None), "new")
        assert found is not None and found.status is ItemStatus.DONE and found.run_id == "old"
    finally:
        store.close()


def _finished(
    store: RunLog,
    run_id: str,
    started: str,
    status: RunStatus,
    counts: dict[ItemStatus, int],
    minutes: float,
    *,
    bot: str = "welfare_entry",
    department: str = "障がい福祉課",
    per_item: float = 6,
) -> None:
    record = welfare_run(run_id, bot=bot)
    record.department = department
    record.started_at = dt.datetime.fromisoformat(started)
    record.baseline_minutes_per_item = per_item
    store.start_run(record)
    if status is RunStatus.RUNNING:
        return
    record.status = status
    record.counts = counts
    record.minutes_saved = minutes
    record.ended_at = record.started_at + dt.timedelta(minutes=2)
    store.finish_run(record)


def _report_log(store: RunLog) -> None:
    done, review = ItemStatus.DONE, ItemStatus.NEEDS_REVIEW
    completed, aborted = RunStatus.COMPLETED, RunStatus.ABORTED
    _finished(store, "a", "2026-03-31T23:59:00+09:00", completed, {done: 2}, 22)
    _finished(store, "b", "2026-04-01T00:01:00+09:00", completed, {done: 1, review: 1}, 13)
    _finished(store, "c", "2026-04-15T10:00:00+09:00", aborted, {done: 1}, 6, per_item=5)
    _finished(
        store,
        "d",
        "2026-05-01T10:00:00+09:00",
        completed,
        {done: 4},
        21,
        bot="x",
        department="市民課",
    )
    _finished(store, "e", "2026-05-02T10:00:00+09:00", RunStatus.RUNNING, {}, 0)


def test_find_runs_filters(open_store: StoreFactory) -> None:
    from framework.runlog import RunFilter

    store = open_store()
    _report_log(store)
    april = RunFilter(first_day=dt.date(2026, 4, 1), last_day=dt.date(2026, 4, 30))
    assert [r.id for r in store.find_runs(april)] == ["c", "b"]
    assert [r.id for r in store.find_runs(RunFilter(department="市民課"))] == ["d"]
    assert [r.id for r in store.find_runs(RunFilter(status=RunStatus.ABORTED))] == ["c"]
    assert [r.id for r in store.find_runs(RunFilter(bot_id="x"))] == ["d"]
    assert [r.id for r in store.find_runs(RunFilter(), limit=2)] == ["e", "d"]
    assert [r.id for r in store.find_runs(RunFilter(last_day=dt.date(2026, 3, 31)))] == ["a"]


def test_tally_runs_adds_up_per_department_bot_and_month(open_store: StoreFactory) -> None:
    from framework.runlog import RunFilter

    store = open_store()
    _report_log(store)
    rows = store.tally_runs(RunFilter(first_day=dt.date(2026, 4, 1)))
    got = {(r.department, r.bot_id, r.month): r for r in rows}
    assert sorted(got) == [
        ("市民課", "x", "2026-05"),
        ("障がい福祉課", "welfare_entry", "2026-04"),
        ("障がい福祉課", "welfare_entry", "2026-05"),
    ]
    april = got[("障がい福祉課", "welfare_entry", "2026-04")]
    assert (april.runs, april.aborted, april.needing_person) == (2, 1, 2)
    assert april.items[ItemStatus.DONE] == 2
    assert april.items[ItemStatus.NEEDS_REVIEW] == 1
    assert april.minutes_saved == 19
    assert april.wall_seconds == 240
    running = got[("障がい福祉課", "welfare_entry", "2026-05")]
    assert (running.runs, running.running, running.minutes_saved) == (0, 1, 0)


def test_baseline_uses_and_run_lines(open_store: StoreFactory) -> None:
    from framework.runlog import RunFilter

    store = open_store()
    _report_log(store)
    where = RunFilter(department="障がい福祉課")
    uses = store.baseline_uses(where)
    assert [(u.minutes_per_item, u.runs, u.minutes_saved) for u in uses] == [(6, 2, 35), (5, 1, 6)]
    lines = list(store.run_lines(where))
    assert [line.id for line in lines] == ["a", "b", "c"]  # the running one is left out
    assert lines[1].needs_review == 1 and lines[2].status == "aborted"
    assert not hasattr(lines[0], "input")  # nothing personal travels with a line
    assert store.bot_departments() == {"welfare_entry": "障がい福祉課", "x": "市民課"}


# -- the scheduler's decisions ------------------------------------------------------------------


def _event(
    fire: dt.datetime, kind: str, *, bot: str = "welfare_entry", schedule: str = "夜間入力"
) -> ScheduleEvent:
    return ScheduleEvent(bot, schedule, fire, ScheduleEventKind(kind), message=kind)


def test_schedule_events_round_trip(open_store: StoreFactory) -> None:
    jst = dt.timezone(dt.timedelta(hours=9))
    first = dt.datetime(2026, 12, 28, 19, tzinfo=jst)
    second = dt.datetime(2027, 1, 4, 19, tzinfo=jst)
    store = open_store()
    store.record_schedule_event(_event(first, "started"))
    store.record_schedule_event(_event(first, "finished"))
    store.record_schedule_event(_event(second, "missed"))
    store.record_schedule_event(_event(second, "skipped", bot="other", schedule="朝"))
    store = open_store()  # another process reads the same file
    assert [e.event.value for e in store.schedule_events()] == [
        "skipped",
        "missed",
        "finished",
        "started",
    ]
    assert [e.event.value for e in store.schedule_events(2, "welfare_entry")] == [
        "missed",
        "finished",
    ]
    [started, finished] = store.fire_events("welfare_entry", "夜間入力", first)
    assert (started.event.value, finished.event.value) == ("started", "finished")
    assert started.fire_time == first and started.at is not None
    assert store.fire_events("welfare_entry", "朝", first) == []
    assert store.last_fire_time("welfare_entry", "夜間入力") == second
    assert store.last_fire_time("welfare_entry", "昼") is None
    assert started.as_json()["label"] == "開始"


def test_scheduled_runs_since(open_store: StoreFactory) -> None:
    store = open_store()
    manual = welfare_run("m1", minute=1)
    scheduled = welfare_run("s1", minute=5)
    scheduled.trigger = "schedule"
    earlier = welfare_run("s0", minute=0)
    earlier.trigger = "schedule"
    for record in (manual, scheduled, earlier):
        store.start_run(record)
    jst = dt.timezone(dt.timedelta(hours=9))
    since = dt.datetime(2026, 11, 27, 18, 3, tzinfo=jst)  # 09:03 UTC, written with +09:00
    assert [r.id for r in store.scheduled_runs_since("welfare_entry", since)] == ["s1"]
    assert store.scheduled_runs_since("other", since) == []
