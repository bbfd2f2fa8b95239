"""The running tray seen from outside: its lock, status file, inbox of actions and daily logs."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.tray.control import (
    LOG_KEEP_DAYS,
    TrayLock,
    TrayRunningError,
    inbox_dir,
    log_line,
    log_path,
    prune_logs,
    read_status,
    send_action,
    take_actions,
    write_status,
)


@pytest.fixture
def tray(tmp_path: Path) -> Iterator[TrayLock]:
    """The lock held as the running tray holds it."""
    lock = TrayLock(tmp_path)
    lock.acquire()
    yield lock
    lock.release()


# -- one tray per RPA_HOME ---------------------------------------------------------------------


def test_a_second_tray_is_refused_with_the_first_ones_pid(tray: TrayLock, tmp_path: Path) -> None:
    with pytest.raises(TrayRunningError) as caught:
        TrayLock(tmp_path).acquire()
    assert caught.value.holder["pid"] == os.getpid()
    message = str(caught.value)
    assert message.startswith(f"トレイはすでに起動しています（PID {os.getpid()}、開始 ")
    assert message.endswith("(the tray is already running: use its icon next to the clock)")
    started = dt.datetime.fromisoformat(caught.value.holder["started_at"])
    assert abs(started - dt.datetime.now().astimezone()) < dt.timedelta(minutes=1)


def test_another_tray_may_start_once_the_first_has_let_go(tmp_path: Path) -> None:
    first = TrayLock(tmp_path)
    first.acquire()
    first.release()
    assert not (tmp_path / "tray" / "tray.json").exists()
    second = TrayLock(tmp_path)
    second.acquire()
    assert second.holder()["pid"] == os.getpid()
    second.release()


def test_held_says_whether_a_tray_holds_the_lock(tmp_path: Path) -> None:
    outside = TrayLock(tmp_path)
    assert not outside.held()
    running = TrayLock(tmp_path)
    running.acquire()
    assert outside.held()
    running.release()
    assert not outside.held()


def test_asking_whether_it_is_held_does_not_take_the_lock(tmp_path: Path) -> None:
    probe = TrayLock(tmp_path)  # kept alive: a dropped lock object would release on its own
    assert not probe.held()
    tray = TrayLock(tmp_path)
    tray.acquire()  # not refused
    assert probe.held()
    tray.release()
    del probe


def test_a_refused_tray_is_told_since_when_even_without_tray_json(
    tray: TrayLock, tmp_path: Path
) -> None:
    (tmp_path / "tray" / "tray.json").unlink()
    with pytest.raises(TrayRunningError, match=re.escape("（PID ?、開始 ?）")):
        TrayLock(tmp_path).acquire()


def test_the_tray_folder_is_owner_only(tray: TrayLock, tmp_path: Path) -> None:
    if os.name == "nt":
        pytest.skip("POSIX permissions")
    assert (tmp_path / "tray").stat().st_mode & 0o777 == 0o700


# -- status ------------------------------------------------------------------------------------


def test_the_status_file_reads_back_as_written(tmp_path: Path) -> None:
    status = {"state": "running", "tooltip": "kakari: 実行中 — 申請入力 3/10 件", "running": []}
    write_status(tmp_path, status)
    assert read_status(tmp_path) == status
    assert [p.name for p in (tmp_path / "tray").iterdir()] == ["status.json"]  # no temp file left


@pytest.mark.parametrize("text", [None, "", "{", "[1, 2]", '"idle"'])
def test_a_missing_or_broken_status_file_reads_as_none(tmp_path: Path, text: str | None) -> None:
    if text is not None:
        (tmp_path / "tray").mkdir()
        (tmp_path / "tray" / "status.json").write_text(text, encoding="utf-8")
    assert read_status(tmp_path) is None


# -- the inbox ---------------------------------------------------------------------------------


def test_actions_sent_are_taken_in_the_order_they_were_sent(tmp_path: Path) -> None:
    sent = ["run:welfare_entry", "status", "stop:welfare_entry", "open-run:r1", "quit"]
    for action in sent:
        send_action(tmp_path, action)
    assert take_actions(tmp_path) == sent
    assert take_actions(tmp_path) == []
    assert list(inbox_dir(tmp_path).iterdir()) == []


def test_the_inbox_is_empty_before_anything_was_sent(tmp_path: Path) -> None:
    assert take_actions(tmp_path) == []
    assert not inbox_dir(tmp_path).exists()


def test_broken_messages_in_the_inbox_are_dropped(tmp_path: Path) -> None:
    send_action(tmp_path, "status")
    inbox = inbox_dir(tmp_path)
    (inbox / "0-broken.json").write_text("{", encoding="utf-8")
    (inbox / "1-no-action.json").write_text('{"what": "quit"}', encoding="utf-8")
    (inbox / "2-not-text.json").write_text('{"action": 3}', encoding="utf-8")
    (inbox / "3-list.json").write_text('["quit"]', encoding="utf-8")
    (inbox / "notes.txt").write_text("quit", encoding="utf-8")
    assert take_actions(tmp_path) == ["status"]
    assert [p.name for p in inbox.iterdir()] == ["notes.txt"]


# -- today's log -------------------------------------------------------------------------------


def test_log_lines_are_appended_with_the_time_to_todays_log(tmp_path: Path) -> None:
    path = log_line(tmp_path, "開始 (start): 申請入力")
    log_line(tmp_path, "終了 (end): 申請入力")
    assert path == log_path(tmp_path) == tmp_path / "tray" / "logs" / f"{dt.date.today()}.log"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line[9:] for line in lines] == ["開始 (start): 申請入力", "終了 (end): 申請入力"]
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d ", line[:9]) for line in lines)
    if os.name != "nt":
        assert path.stat().st_mode & 0o777 == 0o600


def test_logs_older_than_thirty_days_are_deleted(tmp_path: Path) -> None:
    today = dt.date(2026, 11, 27)
    folder = tmp_path / "tray" / "logs"
    folder.mkdir(parents=True)
    ages = [0, 1, LOG_KEEP_DAYS, LOG_KEEP_DAYS + 1, 400]
    for age in ages:
        (folder / f"{today - dt.timedelta(days=age)}.log").write_text("x", encoding="utf-8")
    (folder / "notes.log").write_text("kept: not a day", encoding="utf-8")
    (folder / "2026-10-01.txt").write_text("kept: not a log", encoding="utf-8")
    removed = prune_logs(tmp_path, today)
    assert sorted(p.name for p in removed) == ["2025-10-23.log", "2026-10-27.log"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-10-01.txt",
        "2026-10-28.log",
        "2026-11-26.log",
        "2026-11-27.log",
        "notes.log",
    ]


def test_pruning_without_logs_does_nothing(tmp_path: Path) -> None:
    assert prune_logs(tmp_path) == []
