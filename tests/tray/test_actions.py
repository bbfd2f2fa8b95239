"""What each menu entry does, with a fake launcher, opener and notifier at the seam."""

from __future__ import annotations

import datetime as dt
import errno
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import pytest
from traykit import (
    BROKEN,
    EXPORT,
    TAX,
    WELFARE,
    WELFARE_DEPT,
    WELFARE_NAME,
    FakeLauncher,
    Notes,
    choices,
    log_runs,
    record,
)

from framework.localsettings import TraySettings
from framework.outcome import ExitCode, ItemStatus
from framework.tray.actions import FileChooser, TrayActions
from framework.tray.control import log_path
from framework.tray.launcher import Launcher
from framework.tray.menu import BotChoice, MenuFacts
from framework.tray.notify import Notifier
from framework.tray.state import Ended, RunView, TrayStatus


@dataclass
class Desk:
    """A tray's actions wired to fakes, and what they were asked to do."""

    home: Path
    inbox: Path
    launcher: FakeLauncher = field(default_factory=FakeLauncher)
    notes: Notes = field(default_factory=Notes)
    opened: list[Path] = field(default_factory=list)
    facts: MenuFacts | None = None
    chooser: FileChooser | None = None
    quits: list[str] = field(default_factory=list)
    menus: list[str] = field(default_factory=list)

    def actions(self, opener: Callable[[Path], None] | None = None) -> TrayActions:
        facts = self.facts or MenuFacts(
            bots=choices(self.inbox), settings=TraySettings(departments=[WELFARE_DEPT])
        )
        return TrayActions(
            self.home,
            cast(Launcher, self.launcher),
            cast(Notifier, self.notes),
            lambda: facts,
            choose_file=self.chooser,
            opener=opener or self.opened.append,
            on_quit=lambda: self.quits.append("quit"),
            on_menu=lambda: self.menus.append("menu"),
        )

    def dispatch(self, action: str) -> None:
        self.actions().dispatch(action)

    def log(self) -> str:
        path = log_path(self.home)
        return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    inbox = tmp_path / "project" / "bots" / WELFARE / "inbox"
    inbox.mkdir(parents=True)
    return Desk(home=tmp_path / "home", inbox=inbox)


def _nothing_done(desk: Desk) -> bool:
    return not (desk.launcher.started or desk.launcher.stopped or desk.opened or desk.quits)


# -- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    ["bogus", "", "run", "quit:now", "run:nobody", "open-run:no-such-run", "stop:nobody"],
)
def test_an_unknown_action_is_refused_with_a_notification(desk: Desk, action: str) -> None:
    desk.dispatch(action)
    assert _nothing_done(desk)
    assert desk.notes.sent == [
        ("kakari", f"その操作はメニューにありません: {action} (unknown action)")
    ]
    assert f"不明な操作 (unknown action): {action}" in desk.log()


@pytest.mark.parametrize("action", [f"run:{TAX}", f"run-file:{TAX}", f"stop:{TAX}"])
def test_a_bot_not_shown_on_this_pc_cannot_be_run_or_stopped(desk: Desk, action: str) -> None:
    desk.dispatch(action)
    assert _nothing_done(desk)
    assert desk.notes.titles == ["kakari"]


def test_a_bot_with_an_invalid_manifest_cannot_be_run(desk: Desk) -> None:
    desk.dispatch(f"run:{BROKEN}")
    assert _nothing_done(desk)
    assert "メニューにありません" in desk.notes.sent[0][1]


# -- running -----------------------------------------------------------------------------------


def test_run_starts_the_bot_with_its_default_input_and_says_so(desk: Desk) -> None:
    desk.dispatch(f"run:{WELFARE}")
    assert desk.launcher.started == [(WELFARE, None)]
    (title, text), *_ = desk.notes.sent
    assert title == f"{WELFARE_NAME}: 開始しました"
    assert text.startswith("入力: inbox。終わると通知します。")
    assert f"操作 (action): run:{WELFARE}" in desk.log()


def test_run_of_a_bot_without_input_mentions_no_input(desk: Desk) -> None:
    desk.dispatch(f"run:{EXPORT}")
    assert desk.launcher.started == [(EXPORT, None)]
    assert desk.notes.sent[0][1].startswith("終わると通知します。")


def test_run_of_a_bot_without_a_default_input_asks_for_a_file(desk: Desk) -> None:
    desk.facts = MenuFacts(
        bots=[BotChoice(WELFARE, WELFARE_NAME, WELFARE_DEPT, takes_input=True)],
        settings=TraySettings(departments=[WELFARE_DEPT]),
    )
    desk.dispatch(f"run:{WELFARE}")
    assert desk.launcher.started == []
    assert desk.notes.sent[0][0] == f"{WELFARE_NAME}: 既定の入力がありません"
    assert "ファイルを選んで実行" in desk.notes.sent[0][1]


def test_run_of_a_bot_already_running_says_so_and_starts_nothing(desk: Desk) -> None:
    desk.launcher.busy = True
    desk.dispatch(f"run:{WELFARE}")
    assert desk.launcher.started == []
    assert desk.notes.titles == [f"{WELFARE_NAME}: すでに実行中です"]


def test_run_file_starts_the_bot_with_the_chosen_file(desk: Desk, tmp_path: Path) -> None:
    chosen = tmp_path / "申請一覧_1127.xlsx"
    asked: list[tuple[str, Path | None]] = []

    def chooser(title: str, start: Path | None) -> Path | None:
        asked.append((title, start))
        return chosen

    desk.chooser = chooser
    desk.dispatch(f"run-file:{WELFARE}")
    assert asked == [(f"{WELFARE_NAME}: 入力ファイルを選んでください", desk.inbox)]
    assert desk.launcher.started == [(WELFARE, chosen)]
    assert desk.notes.sent[0][1].startswith("入力: 申請一覧_1127.xlsx。")


def test_the_file_chooser_opens_in_the_folder_of_a_default_input_file(
    desk: Desk, tmp_path: Path
) -> None:
    book = desk.inbox / "申請一覧.xlsx"
    book.write_bytes(b"")
    desk.facts = MenuFacts(bots=choices(book))
    starts: list[Path | None] = []
    desk.chooser = lambda title, start: starts.append(start)  # type: ignore[func-returns-value]
    desk.dispatch(f"run-file:{WELFARE}")
    assert starts == [desk.inbox]


def test_a_cancelled_file_chooser_starts_nothing(desk: Desk) -> None:
    desk.chooser = lambda title, start: None
    desk.dispatch(f"run-file:{WELFARE}")
    assert desk.launcher.started == []
    assert desk.notes.sent == []
    assert f"ファイル選択を取り消しました (cancelled): {WELFARE}" in desk.log()


def test_run_file_without_a_file_dialog_explains_why(desk: Desk) -> None:
    desk.dispatch(f"run-file:{WELFARE}")
    assert desk.launcher.started == []
    assert desk.notes.titles == [f"{WELFARE_NAME}: ファイルを選べません"]


def test_stop_asks_the_running_bot_to_stop_and_confirms(desk: Desk) -> None:
    desk.launcher.running = "20261127-090000-ab12"
    desk.dispatch(f"stop:{WELFARE}")
    assert desk.launcher.stopped == [WELFARE]
    assert desk.notes.titles == [f"{WELFARE_NAME}: 停止を指示しました"]


def test_stop_of_a_bot_not_running_says_there_is_nothing_to_stop(desk: Desk) -> None:
    desk.dispatch(f"stop:{WELFARE}")
    assert desk.launcher.stopped == [WELFARE]
    assert desk.notes.titles == [f"{WELFARE_NAME}: 実行中ではありません"]


# -- opening -----------------------------------------------------------------------------------


def _run_folder(tmp_path: Path, name: str, *files: str) -> Path:
    folder = tmp_path / "home" / "runs" / name
    folder.mkdir(parents=True)
    for file in files:
        (folder / file).write_bytes(b"")
    return folder


def _log_two_runs(desk: Desk, tmp_path: Path, *files: str) -> Path:
    """An older and a newer run of the welfare bot (and a later one of another bot)."""
    old = _run_folder(tmp_path, "old", "結果一覧.xlsx", "exceptions.xlsx")
    new = _run_folder(tmp_path, "new", *files)
    other = _run_folder(tmp_path, "other", "結果一覧.xlsx", "exceptions.xlsx")
    day = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    log_runs(
        desk.home,
        record("old", run_dir=old, started_at=day.replace(hour=8)),
        record("new", run_dir=new, started_at=day.replace(hour=9)),
        record("other", bot_id=EXPORT, run_dir=other, started_at=day.replace(hour=10)),
    )
    return new


def test_results_open_the_last_runs_results_workbook(desk: Desk, tmp_path: Path) -> None:
    new = _log_two_runs(desk, tmp_path, "結果一覧.xlsx")
    desk.dispatch(f"results:{WELFARE}")
    assert desk.opened == [new / "結果一覧.xlsx"]
    assert desk.notes.sent == []
    assert f"結果を開きます (opening): {new / '結果一覧.xlsx'}" in desk.log()


def test_results_open_the_run_folder_when_the_run_wrote_no_workbook(
    desk: Desk, tmp_path: Path
) -> None:
    new = _log_two_runs(desk, tmp_path)
    desk.dispatch(f"results:{WELFARE}")
    assert desk.opened == [new]


def test_exceptions_open_the_last_runs_exception_report(desk: Desk, tmp_path: Path) -> None:
    new = _log_two_runs(desk, tmp_path, "exceptions.xlsx")
    desk.dispatch(f"exceptions:{WELFARE}")
    assert desk.opened == [new / "exceptions.xlsx"]


def test_exceptions_of_a_run_without_a_report_are_notified_not_opened(
    desk: Desk, tmp_path: Path
) -> None:
    _log_two_runs(desk, tmp_path, "結果一覧.xlsx")  # the older run's report does not count
    desk.dispatch(f"exceptions:{WELFARE}")
    assert desk.opened == []
    assert desk.notes.sent == [
        ("要対応リスト", "前回の実行に要対応の申請はありません (no exceptions)")
    ]


def test_folder_opens_the_last_runs_folder(desk: Desk, tmp_path: Path) -> None:
    new = _log_two_runs(desk, tmp_path)
    desk.dispatch(f"folder:{WELFARE}")
    assert desk.opened == [new]


@pytest.mark.parametrize("kind", ["results", "folder"])
def test_before_any_run_there_is_nothing_to_open(desk: Desk, kind: str) -> None:
    desk.dispatch(f"{kind}:{WELFARE}")
    assert desk.opened == []
    title, body = desk.notes.sent[0]
    assert title == f"{WELFARE_NAME}: " + {"results": "結果", "folder": "実行フォルダ"}[kind]
    assert body == "まだ実行されていません (no runs yet)"
    assert not (desk.home / "runlog.sqlite3").exists()


def test_a_file_that_cannot_be_opened_becomes_a_notification(desk: Desk, tmp_path: Path) -> None:
    new = _log_two_runs(desk, tmp_path)

    def opener(path: Path) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))

    desk.actions(opener).dispatch(f"folder:{WELFARE}")
    assert desk.notes.sent == [
        ("実行フォルダを開けません", f"{new}: No such file or directory (cannot open)")
    ]


def test_last_exceptions_opens_the_report_of_the_tray_s_last_run(
    desk: Desk, tmp_path: Path
) -> None:
    report = _run_folder(tmp_path, "last", "exceptions.xlsx") / "exceptions.xlsx"
    view = RunView(record(counts={ItemStatus.BAD_INPUT: 1}), exceptions=report)
    last = Ended(WELFARE, WELFARE_NAME, ExitCode.ITEMS_FAILED, view)
    desk.facts = MenuFacts(bots=choices(desk.inbox), status=TrayStatus(last=last))
    desk.dispatch("last-exceptions")
    assert desk.opened == [report]


def test_last_exceptions_without_a_report_is_notified_not_opened(desk: Desk) -> None:
    desk.dispatch("last-exceptions")
    assert desk.opened == []
    assert desk.notes.titles == ["要対応リスト"]


def test_a_recent_run_opens_its_folder(desk: Desk, tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, "r7")
    base = MenuFacts(bots=choices(desk.inbox))
    desk.facts = replace(base, recent=[RunView(record("r7", run_dir=folder))])
    desk.dispatch("open-run:r7")
    assert desk.opened == [folder]


def test_todays_log_is_opened_and_exists_before_it_is(desk: Desk) -> None:
    desk.dispatch("log")
    assert desk.opened == [log_path(desk.home)]
    assert log_path(desk.home).is_file()


# -- the tray itself ---------------------------------------------------------------------------


def test_status_notifies_the_state_and_the_status_line(desk: Desk) -> None:
    desk.dispatch("status")
    assert desk.notes.sent == [("kakari: 待機中", "待機中")]


def test_quit_and_menu_call_back_the_tray(desk: Desk) -> None:
    desk.dispatch("menu")
    desk.dispatch("quit")
    assert (desk.menus, desk.quits) == (["menu"], ["quit"])
    assert desk.notes.sent == []


def test_every_action_is_logged_in_todays_log(desk: Desk) -> None:
    for action in ("status", f"stop:{WELFARE}", "quit"):
        desk.dispatch(action)
    lines = desk.log().splitlines()
    assert [line.split(" ", 1)[1] for line in lines if "操作 (action)" in line] == [
        "操作 (action): status",
        f"操作 (action): stop:{WELFARE}",
        "操作 (action): quit",
    ]
