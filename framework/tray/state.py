"""What the tray shows: idle / running / exceptions / failed, the tooltip and the notifications.

The state comes from the tray's own runs: *running* while one of its child processes runs,
otherwise the outcome of the last run it started — *idle* when every item was done (or staff
stopped it and nothing needs a person), *exceptions* when items need a person, *failed* when
the run could not start or was aborted (invalid input, login failed, crashed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from framework.console import exceptions_file, hours
from framework.outcome import ExitCode, ItemStatus, RunStatus
from framework.runlog import RunFilter, RunRecord, open_runlog, runlog_exists

RESULTS_FILE = "結果一覧.xlsx"
TOOLTIP_LIMIT = 127
"""Characters a tooltip may have (Windows' limit for notification-area icons)."""


class TrayState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    EXCEPTIONS = "exceptions"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """The word staff see."""
        return _STATE_LABELS[self]


_STATE_LABELS = {
    TrayState.IDLE: "待機中",
    TrayState.RUNNING: "実行中",
    TrayState.EXCEPTIONS: "要対応あり",
    TrayState.FAILED: "失敗",
}


@dataclass(frozen=True)
class RunView:
    """A run from the run log with the files staff open from the menu."""

    record: RunRecord
    results: Path | None = None
    """``結果一覧.xlsx`` when the run wrote one."""
    exceptions: Path | None = None
    """``exceptions.xlsx`` (the exception report) when items need a person."""

    @classmethod
    def of(cls, record: RunRecord) -> RunView:
        results = Path(record.run_dir) / RESULTS_FILE
        return cls(record, results if results.exists() else None, exceptions_file(record))

    @property
    def attention(self) -> int:
        return attention(self.record)

    @property
    def folder(self) -> Path:
        return Path(self.record.run_dir)


def last_run(home_root: Path, bot_id: str) -> RunView | None:
    """The bot's latest run with its files (what the menu and ``rpa open`` open)."""
    if not runlog_exists(home_root):
        return None
    runlog = open_runlog(home_root)
    try:
        found = runlog.find_runs(RunFilter(bot_id=bot_id), 1)
    finally:
        runlog.close()
    return RunView.of(found[0]) if found else None


def attention(record: RunRecord) -> int:
    """Items of the run that need a person."""
    return sum(record.count(s) for s in ItemStatus if s.needs_attention)


@dataclass(frozen=True)
class RunningBot:
    """A run the tray started that is still going."""

    bot_id: str
    bot_name: str
    run_id: str | None = None
    """None until the run has taken its bot lock (the first second or so)."""
    settled: int = 0
    total: int | None = None
    attention: int = 0

    @property
    def progress(self) -> str:
        if self.total:
            return f"{self.settled}/{self.total} 件"
        return f"{self.settled} 件" if self.settled else "開始中"


@dataclass(frozen=True)
class Ended:
    """How a run the tray started ended: the process's exit code and the run log's record."""

    bot_id: str
    bot_name: str
    exit_code: int | None
    """The child's exit code (negative: killed by that signal on POSIX)."""
    view: RunView | None = None
    """None when no run was recorded (invalid input, already running, crashed at start)."""
    stopped: bool = False
    """Staff asked it to stop (the run's STOP file exists)."""
    log: Path | None = None

    @property
    def state(self) -> TrayState | None:
        """The icon's state after this run; None when no run took place (already running)."""
        code = self.exit_code
        needs_person = self.view is not None and self.view.attention > 0
        if code == ExitCode.ALREADY_RUNNING:
            return None
        if code == ExitCode.OK:
            return TrayState.IDLE
        if code == ExitCode.ITEMS_FAILED and self.view is not None:
            return TrayState.EXCEPTIONS  # (1 without a run recorded: Python's own crash code)
        if code == ExitCode.ABORTED and self.stopped:
            return TrayState.EXCEPTIONS if needs_person else TrayState.IDLE
        return TrayState.FAILED


@dataclass(frozen=True)
class TrayStatus:
    """Everything the icon, its tooltip and the status line show."""

    running: tuple[RunningBot, ...] = ()
    last: Ended | None = None

    @property
    def state(self) -> TrayState:
        if self.running:
            return TrayState.RUNNING
        if self.last is None or self.last.state is None:
            return TrayState.IDLE
        return self.last.state

    @property
    def tooltip(self) -> str:
        return _limit(f"kakari: {self.line}")

    @property
    def tooltip_latin(self) -> str:
        """The tooltip in English with bot ids, for backends limited to Latin-1 (pystray's X)."""
        if self.running:
            bots = ", ".join(
                f"{r.bot_id} {r.settled}/{r.total}" if r.total else r.bot_id for r in self.running
            )
            return _limit(f"kakari: running {bots}")
        last = self.last
        state = self.state
        if last is None or state is TrayState.IDLE:
            return "kakari: idle"
        if state is TrayState.EXCEPTIONS and last.view is not None:
            return f"kakari: {last.view.attention} need attention ({last.bot_id})"
        return f"kakari: failed ({last.bot_id})"

    @property
    def line(self) -> str:
        """One line for the tooltip and the top of the menu."""
        if self.running:
            bots = "、".join(f"{r.bot_name} {r.progress}" for r in self.running)
            return f"実行中 — {bots}"
        last = self.last
        state = self.state
        if last is None:
            return "待機中"
        record = last.view.record if last.view else None
        if state is TrayState.EXCEPTIONS and last.view is not None:
            return f"要対応 {last.view.attention} 件 — {last.bot_name}"
        if state is TrayState.FAILED:
            return f"失敗 — {last.bot_name}（{_failure(last)}）"
        if record is not None:
            return f"待機中 — 前回 {last.bot_name} 登録 {record.count(ItemStatus.DONE)} 件"
        return "待機中"

    def as_json(self) -> dict[str, object]:
        last = self.last
        return {
            "state": self.state.value,
            "tooltip": self.tooltip,
            "running": [
                {
                    "bot_id": r.bot_id,
                    "bot_name": r.bot_name,
                    "run_id": r.run_id,
                    "settled": r.settled,
                    "total": r.total,
                }
                for r in self.running
            ],
            "last": None
            if last is None
            else {
                "bot_id": last.bot_id,
                "exit_code": last.exit_code,
                "run_id": last.view.record.id if last.view else None,
                "stopped": last.stopped,
                "exceptions_file": str(last.view.exceptions)
                if last.view and last.view.exceptions
                else None,
                "log": str(last.log) if last.log else None,
            },
        }


def _failure(ended: Ended) -> str:
    code = ended.exit_code
    if code == ExitCode.INVALID:
        return "設定または入力に誤り"
    if ended.view is not None and ended.view.record.message:
        return _limit(ended.view.record.message, 40)
    if code == ExitCode.ABORTED:
        return "中断"
    return f"異常終了 {code}"


def _limit(text: str, limit: int = TOOLTIP_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notification(ended: Ended) -> tuple[str, str]:
    """Title and text of the notification at the end of a run, Japanese first."""
    name = ended.bot_name
    code = ended.exit_code
    view = ended.view
    if code == ExitCode.ALREADY_RUNNING:
        return (
            f"{name}: すでに実行中です",
            "終わってからもう一度実行してください。何も実行していません"
            " (already running: nothing was started)",
        )
    if code == ExitCode.INVALID or view is None:
        why = (
            "設定または入力ファイルに誤りがあるため、何も実行していません。"
            if code == ExitCode.INVALID
            else f"実行を始められませんでした（終了コード {code}）。"
        )
        return (
            f"{name}: 実行できませんでした",
            why + "メニューの「今日のログを開く」で内容を確認してください (nothing was run; see"
            " today's log)",
        )
    record = view.record
    done = record.count(ItemStatus.DONE)
    need = view.attention
    counts = f"登録 {done} 件・要対応 {need} 件・削減 {hours(record.minutes_saved)}"
    english = f"({done} entered, {need} need attention, {record.minutes_saved:g} min saved)"
    if ended.state is TrayState.FAILED:
        reason = record.message or f"終了コード {code}"
        if record.status is RunStatus.RUNNING:
            reason = f"異常終了しました（終了コード {code}）"
        return f"{name}: 失敗しました", f"{reason}\n{counts} {english}"
    if ended.stopped and code == ExitCode.ABORTED:
        return f"{name}: 停止しました", f"{counts} {english}"
    if need:
        return (
            f"{name}: 要対応 {need} 件",
            f"{counts}。メニューの「要対応リストを開く」で確認してください {english}",
        )
    skipped = record.count(ItemStatus.SKIPPED)
    extra = f"（登録済みのためスキップ {skipped} 件）" if skipped else ""
    return f"{name}: 完了しました", f"{counts}{extra} {english}"


def recent_label(view: RunView, now: dt.datetime | None = None) -> str:
    """A run as the menu's recent runs list it: when, which bot, outcome, minutes saved."""
    record = view.record
    started = record.started_at
    when = f"{started:%H:%M}" if now and started.date() == now.date() else f"{started:%m/%d %H:%M}"
    if record.status is RunStatus.RUNNING:
        outcome = "実行中"
    elif view.attention:
        outcome = f"要対応 {view.attention} 件"
    else:
        outcome = record.status.label
    return f"{when} {record.bot_name}: {outcome}・削減 {record.minutes_saved:g} 分"
