"""What the tray shows: its state, status line, tooltips, notifications and recent-run labels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from traykit import EXPORT, EXPORT_NAME, WELFARE, WELFARE_NAME, record

from framework.outcome import ExitCode, ItemStatus, RunStatus
from framework.runlog import RunRecord
from framework.tray.state import (
    TOOLTIP_LIMIT,
    Ended,
    RunningBot,
    RunView,
    TrayState,
    TrayStatus,
    notification,
    recent_label,
)

DONE5 = {ItemStatus.DONE: 5}
MIXED = {ItemStatus.DONE: 5, ItemStatus.BUSINESS_ERROR: 1, ItemStatus.BAD_INPUT: 1}


def _ended(
    code: int | None,
    counts: dict[ItemStatus, int] | None = None,
    *,
    stopped: bool = False,
    recorded: bool = True,
    status: RunStatus = RunStatus.COMPLETED,
    message: str = "",
    minutes: float = 40.0,
) -> Ended:
    view = None
    if recorded:
        rec = record(
            counts=counts or {},
            status=status,
            exit_code=code,
            message=message,
            minutes_saved=minutes,
        )
        view = RunView(rec)
    return Ended(WELFARE, WELFARE_NAME, code, view, stopped=stopped)


def test_each_state_has_the_word_staff_see() -> None:
    assert [s.label for s in TrayState] == ["待機中", "実行中", "要対応あり", "失敗"]


# -- RunView -----------------------------------------------------------------------------------


def test_a_run_view_finds_the_results_workbook_and_exception_report_in_the_run_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "結果一覧.xlsx").write_bytes(b"")
    (tmp_path / "exceptions.xlsx").write_bytes(b"")
    view = RunView.of(record(run_dir=tmp_path))
    assert view.results == tmp_path / "結果一覧.xlsx"
    assert view.exceptions == tmp_path / "exceptions.xlsx"
    assert view.folder == tmp_path


def test_a_run_view_has_no_files_the_run_did_not_write(tmp_path: Path) -> None:
    view = RunView.of(record(run_dir=tmp_path))
    assert (view.results, view.exceptions) == (None, None)


def test_items_needing_a_person_are_refused_failed_bad_input_and_to_review() -> None:
    counts = {
        ItemStatus.DONE: 10,
        ItemStatus.SKIPPED: 7,
        ItemStatus.BUSINESS_ERROR: 1,
        ItemStatus.SYSTEM_ERROR: 2,
        ItemStatus.BAD_INPUT: 3,
        ItemStatus.NEEDS_REVIEW: 4,
    }
    assert RunView(record(counts=counts)).attention == 10


@pytest.mark.parametrize(
    ("settled", "total", "shown"),
    [(3, 10, "3/10 件"), (0, 10, "0/10 件"), (4, None, "4 件"), (0, None, "開始中")],
)
def test_a_running_bot_shows_items_settled_of_the_total(
    settled: int, total: int | None, shown: str
) -> None:
    assert RunningBot(WELFARE, WELFARE_NAME, settled=settled, total=total).progress == shown


# -- the state after a run ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "stopped", "counts", "state"),
    [
        (ExitCode.OK, False, DONE5, TrayState.IDLE),
        (ExitCode.ITEMS_FAILED, False, MIXED, TrayState.EXCEPTIONS),
        (ExitCode.INVALID, False, {}, TrayState.FAILED),
        (ExitCode.ABORTED, False, DONE5, TrayState.FAILED),
        (ExitCode.ABORTED, True, DONE5, TrayState.IDLE),
        (ExitCode.ABORTED, True, MIXED, TrayState.EXCEPTIONS),
        (ExitCode.ALREADY_RUNNING, False, {}, None),
        (-9, False, DONE5, TrayState.FAILED),
        (None, False, {}, TrayState.FAILED),
        (70, False, {}, TrayState.FAILED),
    ],
    ids=[
        "ok",
        "items-failed",
        "invalid",
        "aborted",
        "stopped-clean",
        "stopped-with-exceptions",
        "already-running",
        "killed",
        "no-exit-code",
        "crashed",
    ],
)
def test_the_state_after_a_run_follows_its_exit_code(
    code: int | None, stopped: bool, counts: dict[ItemStatus, int], state: TrayState | None
) -> None:
    assert _ended(code, counts, stopped=stopped).state is state


def test_the_tray_is_idle_before_any_run_and_running_while_one_runs() -> None:
    assert TrayStatus().state is TrayState.IDLE
    running = (RunningBot(WELFARE, WELFARE_NAME),)
    assert TrayStatus(running=running, last=_ended(ExitCode.INVALID)).state is TrayState.RUNNING


def test_a_start_refused_as_already_running_leaves_the_tray_idle() -> None:
    last = _ended(ExitCode.ALREADY_RUNNING, recorded=False)
    assert TrayStatus(last=last).state is TrayState.IDLE


# -- status line and tooltips ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (TrayStatus(), "待機中"),
        (
            TrayStatus(running=(RunningBot(WELFARE, WELFARE_NAME, settled=3, total=10),)),
            f"実行中 — {WELFARE_NAME} 3/10 件",
        ),
        (
            TrayStatus(
                running=(
                    RunningBot(WELFARE, WELFARE_NAME, settled=1, total=4),
                    RunningBot(EXPORT, EXPORT_NAME),
                )
            ),
            f"実行中 — {WELFARE_NAME} 1/4 件、{EXPORT_NAME} 開始中",
        ),
        (TrayStatus(last=_ended(0, DONE5)), f"待機中 — 前回 {WELFARE_NAME} 登録 5 件"),
        (TrayStatus(last=_ended(1, MIXED)), f"要対応 2 件 — {WELFARE_NAME}"),
        (
            TrayStatus(last=_ended(2, recorded=False)),
            f"失敗 — {WELFARE_NAME}（設定または入力に誤り）",
        ),
        (
            TrayStatus(last=_ended(3, message="ログインできませんでした")),
            f"失敗 — {WELFARE_NAME}（ログインできませんでした）",
        ),
        (TrayStatus(last=_ended(3, DONE5)), f"失敗 — {WELFARE_NAME}（中断）"),
        (TrayStatus(last=_ended(-9, recorded=False)), f"失敗 — {WELFARE_NAME}（異常終了 -9）"),
        (TrayStatus(last=_ended(4, recorded=False)), "待機中"),
    ],
    ids=[
        "idle",
        "running",
        "two-running",
        "ok",
        "exceptions",
        "invalid",
        "aborted-message",
        "aborted",
        "killed",
        "already-running",
    ],
)
def test_the_status_line_says_what_is_going_on(status: TrayStatus, line: str) -> None:
    assert status.line == line
    assert status.tooltip == f"kakari: {line}"


def test_a_long_failure_message_is_cut_in_the_status_line() -> None:
    line = TrayStatus(last=_ended(3, message="あ" * 100)).line
    assert line == f"失敗 — {WELFARE_NAME}（{'あ' * 39}…）"


def test_the_tooltip_fits_in_windows_limit() -> None:
    many = tuple(RunningBot(f"bot{n}", "とても長いボットの名前" * 3) for n in range(5))
    tooltip = TrayStatus(running=many).tooltip
    assert len(tooltip) == TOOLTIP_LIMIT
    assert tooltip.endswith("…")


@pytest.mark.parametrize(
    ("status", "tooltip"),
    [
        (TrayStatus(), "kakari: idle"),
        (
            TrayStatus(
                running=(
                    RunningBot(WELFARE, WELFARE_NAME, settled=3, total=10),
                    RunningBot(EXPORT, EXPORT_NAME),
                )
            ),
            f"kakari: running {WELFARE} 3/10, {EXPORT}",
        ),
        (TrayStatus(last=_ended(0, DONE5)), "kakari: idle"),
        (TrayStatus(last=_ended(1, MIXED)), f"kakari: 2 need attention ({WELFARE})"),
        (TrayStatus(last=_ended(3)), f"kakari: failed ({WELFARE})"),
    ],
    ids=["idle", "running", "ok", "exceptions", "failed"],
)
def test_the_latin_tooltip_says_it_in_english_with_bot_ids(
    status: TrayStatus, tooltip: str
) -> None:
    assert status.tooltip_latin == tooltip
    tooltip.encode("latin-1")


def test_the_status_as_json_names_the_state_the_run_and_its_exception_report(
    tmp_path: Path,
) -> None:
    (tmp_path / "exceptions.xlsx").write_bytes(b"")
    view = RunView.of(record("r9", run_dir=tmp_path, counts=MIXED, exit_code=1))
    status = TrayStatus(last=Ended(WELFARE, WELFARE_NAME, 1, view, log=tmp_path / "today.log"))
    data = status.as_json()
    assert data["state"] == "exceptions"
    assert data["tooltip"] == status.tooltip
    assert data["running"] == []
    assert data["last"] == {
        "bot_id": WELFARE,
        "exit_code": 1,
        "run_id": "r9",
        "stopped": False,
        "exceptions_file": str(tmp_path / "exceptions.xlsx"),
        "log": str(tmp_path / "today.log"),
    }


def test_the_status_as_json_lists_running_bots_with_their_progress() -> None:
    status = TrayStatus(running=(RunningBot(WELFARE, WELFARE_NAME, "r1", settled=2, total=9),))
    data = status.as_json()
    assert data["state"] == "running"
    assert data["last"] is None
    assert data["running"] == [
        {"bot_id": WELFARE, "bot_name": WELFARE_NAME, "run_id": "r1", "settled": 2, "total": 9}
    ]


# -- notifications -----------------------------------------------------------------------------


def test_a_clean_run_is_notified_as_done_with_counts_and_minutes_saved() -> None:
    title, text = notification(_ended(0, DONE5, minutes=40))
    assert title == f"{WELFARE_NAME}: 完了しました"
    assert text == (
        "登録 5 件・要対応 0 件・削減 40 分（0.7 時間） (5 entered, 0 need attention, 40 min saved)"
    )


def test_skipped_items_are_mentioned_when_a_run_had_some() -> None:
    _, text = notification(_ended(0, {ItemStatus.DONE: 2, ItemStatus.SKIPPED: 3}, minutes=22))
    assert "（登録済みのためスキップ 3 件）" in text


def test_a_run_with_exceptions_points_to_the_exception_report() -> None:
    title, text = notification(_ended(1, MIXED, minutes=30))
    assert title == f"{WELFARE_NAME}: 要対応 2 件"
    assert text.startswith("登録 5 件・要対応 2 件・削減 30 分（0.5 時間）")
    assert "「要対応リストを開く」" in text
    assert "(5 entered, 2 need attention, 30 min saved)" in text


def test_a_run_staff_stopped_is_notified_as_stopped() -> None:
    title, text = notification(_ended(3, DONE5, stopped=True, status=RunStatus.ABORTED))
    assert title == f"{WELFARE_NAME}: 停止しました"
    assert text.startswith("登録 5 件・要対応 0 件")


def test_an_aborted_run_is_notified_with_its_reason() -> None:
    ended = _ended(3, {ItemStatus.DONE: 1}, status=RunStatus.ABORTED, message="ログイン失敗")
    title, text = notification(ended)
    assert title == f"{WELFARE_NAME}: 失敗しました"
    assert text.splitlines()[0] == "ログイン失敗"
    assert text.splitlines()[1].startswith("登録 1 件・要対応 0 件")


def test_a_run_that_died_while_marked_running_is_notified_as_a_crash() -> None:
    title, text = notification(_ended(-9, DONE5, status=RunStatus.RUNNING))
    assert title == f"{WELFARE_NAME}: 失敗しました"
    assert text.splitlines()[0] == "異常終了しました（終了コード -9）"


def test_an_invalid_bot_or_input_is_notified_as_nothing_run() -> None:
    title, text = notification(_ended(ExitCode.INVALID, recorded=False))
    assert title == f"{WELFARE_NAME}: 実行できませんでした"
    assert text.startswith("設定または入力ファイルに誤りがあるため、何も実行していません。")
    assert "「今日のログを開く」" in text


def test_a_run_that_could_not_start_gives_its_exit_code() -> None:
    title, text = notification(_ended(1, recorded=False))
    assert title == f"{WELFARE_NAME}: 実行できませんでした"
    assert text.startswith("実行を始められませんでした（終了コード 1）。")


def test_a_bot_already_running_is_notified_as_nothing_started() -> None:
    title, text = notification(_ended(ExitCode.ALREADY_RUNNING, recorded=False))
    assert title == f"{WELFARE_NAME}: すでに実行中です"
    assert "何も実行していません" in text


# -- recent runs -------------------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 27, 18, 0)


@pytest.mark.parametrize(
    ("rec", "label"),
    [
        (
            record(started_at=dt.datetime(2026, 11, 27, 9, 5), counts=DONE5, minutes_saved=40),
            f"09:05 {WELFARE_NAME}: 完了・削減 40 分",
        ),
        (
            record(started_at=dt.datetime(2026, 11, 26, 19, 0), minutes_saved=12.5),
            f"11/26 19:00 {WELFARE_NAME}: 完了・削減 12.5 分",
        ),
        (
            record(started_at=dt.datetime(2026, 11, 27, 9, 5), counts=MIXED, minutes_saved=36),
            f"09:05 {WELFARE_NAME}: 要対応 2 件・削減 36 分",
        ),
        (
            record(started_at=dt.datetime(2026, 11, 27, 9, 5), status=RunStatus.ABORTED),
            f"09:05 {WELFARE_NAME}: 中断・削減 0 分",
        ),
        (
            record(started_at=dt.datetime(2026, 11, 27, 17, 50), status=RunStatus.RUNNING),
            f"17:50 {WELFARE_NAME}: 実行中・削減 0 分",
        ),
    ],
    ids=["today", "another-day", "exceptions", "aborted", "running"],
)
def test_a_recent_run_says_when_which_bot_its_outcome_and_minutes_saved(
    rec: RunRecord, label: str
) -> None:
    assert recent_label(RunView(rec), NOW) == label


def test_a_recent_run_shows_its_date_when_the_time_is_unknown() -> None:
    rec = record(started_at=dt.datetime(2026, 11, 27, 9, 5))
    assert recent_label(RunView(rec)).startswith("11/27 09:05 ")


def test_a_child_that_crashed_before_its_run_was_recorded_shows_failed() -> None:
    crashed = TrayStatus(last=_ended(1, recorded=False))
    assert crashed.state is TrayState.FAILED
    assert crashed.line.startswith("失敗 — ")
