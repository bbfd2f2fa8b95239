"""Retention: run folders past their bot's period are deleted, newer ones and the log rows kept."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import TempProject

from framework.cli import main
from framework.home import Home
from framework.outcome import ExitCode, RunStatus
from framework.retention import cleanup
from framework.runlog import RunRecord, SqliteRunLog

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def _bot(tp: TempProject, bot_id: str, extra: str = "") -> None:
    tp.write(
        f"bots/{bot_id}/bot.yaml",
        f"""
        name: テストボット
        department: テスト課
        workflow: w.yaml
        baseline: {{minutes_per_item: 5, measured_by: テスト, measured_on: 2026-10-01}}
        {extra}
        """,
    )


def _run(store: SqliteRunLog, home: Home, bot_id: str, days_ago: float, run_id: str) -> Path:
    started = NOW - dt.timedelta(days=days_ago)
    record = RunRecord(
        id=run_id,
        bot_id=bot_id,
        bot_name="b",
        department="d",
        workflow="w.yaml",
        trigger="schedule",
        os_user="u",
        host="h",
        input=None,
        started_at=started,
        run_dir=str(home.run_dir(run_id)),
        baseline_minutes_per_item=5,
        baseline_minutes_per_run=0,
        baseline_measured_by="x",
        baseline_measured_on="2026-10-01",
    )
    store.start_run(record)
    record.status = RunStatus.COMPLETED
    record.ended_at = started + dt.timedelta(minutes=5)
    store.finish_run(record)
    folder = home.make_run_dir(run_id)
    (folder / "exceptions.xlsx").write_bytes(b"personal data")
    (folder / "screenshots").mkdir()
    (folder / "screenshots" / "item-00001.png").write_bytes(b"png")
    return folder


@pytest.fixture
def setup(temp_project: TempProject, rpa_home: Path) -> tuple[TempProject, Home]:
    _bot(temp_project, "short", "retention_days: 7")
    _bot(temp_project, "plain")
    temp_project.write("bots/broken/bot.yaml", "name: x\nretention_days: 0\n")
    return temp_project, Home(rpa_home)


def test_folders_past_the_period_go_newer_ones_stay(
    setup: tuple[TempProject, Home],
) -> None:
    tp, home = setup
    store = SqliteRunLog(home.runlog_path)
    try:
        old_short = _run(store, home, "short", 8, "r-short-old")
        new_short = _run(store, home, "short", 6, "r-short-new")
        old_plain = _run(store, home, "plain", 31, "r-plain-old")
        new_plain = _run(store, home, "plain", 29, "r-plain-new")
        broken = _run(store, home, "broken", 400, "r-broken")
        gone_bot = _run(store, home, "removed_bot", 31, "r-removed")
    finally:
        store.close()
    orphan = home.make_run_dir("r-orphan")  # no run log row: its folder's age counts
    old = (NOW - dt.timedelta(days=40)).timestamp()
    os.utime(orphan, (old, old))
    home.crash_dir.mkdir()
    old_crash = home.crash_dir / "crash-1.txt"
    old_crash.write_text("x", encoding="utf-8")
    os.utime(old_crash, (old, old))
    new_crash = home.crash_dir / "crash-2.txt"
    new_crash.write_text("x", encoding="utf-8")

    dry = cleanup(home, tp.project, now=NOW, dry_run=True)
    assert {e.run_id for e in dry.expired} == {
        "r-short-old",
        "r-plain-old",
        "r-removed",
        "r-orphan",
    }
    assert old_short.exists()  # a dry run deletes nothing

    report = cleanup(home, tp.project, now=NOW, trigger="schedule")
    assert {e.run_id for e in report.expired} == {
        "r-short-old",
        "r-plain-old",
        "r-removed",
        "r-orphan",
    }
    for folder in (old_short, old_plain, gone_bot, orphan, old_crash):
        assert not folder.exists()
    for folder in (new_short, new_plain, broken, new_crash):
        assert folder.exists()
    assert report.kept == 3
    assert any("broken" in p for p in report.problems)

    store = SqliteRunLog(home.runlog_path)
    try:
        assert len(store.recent_runs(limit=100)) == 6  # the run log keeps every run
        [rec] = store.audit_records()
    finally:
        store.close()
    assert (rec.action, rec.trigger, rec.outcome) == ("cleanup", "schedule", "partial")
    assert "runs=4" in rec.detail and "short:1" in rec.detail


def test_a_running_run_is_never_deleted(setup: tuple[TempProject, Home]) -> None:
    from framework.botlock import BotLock

    tp, home = setup
    store = SqliteRunLog(home.runlog_path)
    try:
        folder = _run(store, home, "short", 30, "r-running")
    finally:
        store.close()
    db = sqlite3.connect(home.runlog_path)
    db.execute("UPDATE runs SET status = 'running', ended_at = NULL WHERE id = 'r-running'")
    db.commit()
    db.close()
    lock = BotLock(home.root / "locks", "short")
    lock.acquire("r-running")
    try:
        report = cleanup(home, tp.project, now=NOW)
    finally:
        lock.release()
    assert report.expired == []
    assert folder.exists()
    report = cleanup(home, tp.project, now=NOW)  # the lock is free: the process died
    assert [e.run_id for e in report.expired] == ["r-running"]


def test_rpa_cleanup(setup: tuple[TempProject, Home], capsys: pytest.CaptureFixture[str]) -> None:
    tp, home = setup
    store = SqliteRunLog(home.runlog_path)
    try:
        folder = _run(store, home, "plain", 365, "r-last-year")
    finally:
        store.close()
    code = main(["--project", str(tp.root), "cleanup", "--dry-run"])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert f"削除予定 (would delete): {folder}" in out
    assert folder.exists()
    code = main(["--project", str(tp.root), "cleanup"])
    captured = capsys.readouterr()
    assert code == ExitCode.OK
    assert "削除 1 件" in captured.out
    assert "broken" in captured.err
    assert not folder.exists()
