"""What the tray's unit tests share: small projects on disk, run records and fakes at the seams."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from framework.outcome import ItemStatus, RunStatus
from framework.runlog import RunRecord, SqliteRunLog
from framework.tray.menu import BotChoice

WELFARE = "welfare_entry"
WELFARE_NAME = "障害福祉サービス申請入力"
WELFARE_DEPT = "障がい福祉課"
EXPORT = "welfare_list_export"
EXPORT_NAME = "受給者一覧の出力"
TAX = "tax_notice"
TAX_NAME = "納税通知の作成"
TAX_DEPT = "税務課"
BROKEN = "broken_bot"

BASELINE = (
    "baseline: {minutes_per_item: 6, minutes_per_run: 10, measured_by: 受付担当,"
    " measured_on: 2026-10-15}\n"
)


def write_bot(
    project: Path,
    bot_id: str,
    name: str,
    department: str,
    *,
    input_default: str | None = None,
) -> Path:
    """A bot folder with a valid ``bot.yaml`` in the shape of ``bots/welfare_entry/bot.yaml``."""
    folder = project / "bots" / bot_id
    folder.mkdir(parents=True, exist_ok=True)
    text = f"name: {name}\ndepartment: {department}\nworkflow: {bot_id}.yaml\n"
    if input_default is not None:
        text += f"input:\n  default: {input_default}\n  description: 申請一覧の Excel ブック\n"
    text += "settings:\n  target_url: http://127.0.0.1:8765\n" + BASELINE
    path = folder / "bot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_office(project: Path) -> Path:
    """A project with two welfare bots, one tax bot and one bot whose manifest is invalid."""
    write_bot(project, WELFARE, WELFARE_NAME, WELFARE_DEPT, input_default="inbox")
    (project / "bots" / WELFARE / "inbox").mkdir()
    write_bot(project, EXPORT, EXPORT_NAME, WELFARE_DEPT)
    write_bot(project, TAX, TAX_NAME, TAX_DEPT)
    broken = project / "bots" / BROKEN / "bot.yaml"
    broken.parent.mkdir(parents=True)
    # no baseline: the manifest is invalid
    broken.write_text(
        "name: 壊れたボット\ndepartment: 障がい福祉課\nworkflow: x.yaml\n", encoding="utf-8"
    )
    (project / "workflows").mkdir(exist_ok=True)
    return project


def choices(inbox: Path | None = None) -> list[BotChoice]:
    """The office's bots as :func:`framework.tray.menu.bot_choices` gives them (made up)."""
    return [
        BotChoice(BROKEN, BROKEN, "", problem="bots/broken_bot/bot.yaml:1:1: baseline: 必須"),
        BotChoice(TAX, TAX_NAME, TAX_DEPT),
        BotChoice(WELFARE, WELFARE_NAME, WELFARE_DEPT, takes_input=True, default_input=inbox),
        BotChoice(EXPORT, EXPORT_NAME, WELFARE_DEPT),
    ]


def record(
    run_id: str = "20261127-090000-ab12",
    *,
    bot_id: str = WELFARE,
    bot_name: str = WELFARE_NAME,
    run_dir: Path | str = "/nonexistent/run",
    status: RunStatus = RunStatus.COMPLETED,
    counts: dict[ItemStatus, int] | None = None,
    minutes_saved: float = 0.0,
    exit_code: int | None = 0,
    message: str = "",
    started_at: dt.datetime | None = None,
) -> RunRecord:
    """A finished run of the welfare bot (change what the test is about)."""
    return RunRecord(
        id=run_id,
        bot_id=bot_id,
        bot_name=bot_name,
        department=WELFARE_DEPT,
        workflow="workflows/welfare_entry.yaml",
        trigger="tray",
        os_user="tester",
        host="pc-01",
        input="申請一覧.xlsx",
        started_at=started_at or dt.datetime(2026, 11, 27, 9, 5, tzinfo=dt.UTC),
        run_dir=str(run_dir),
        baseline_minutes_per_item=6,
        baseline_minutes_per_run=10,
        baseline_measured_by="受付担当",
        baseline_measured_on="2026-10-15",
        status=status,
        ended_at=None if status is RunStatus.RUNNING else dt.datetime(2026, 11, 27, 9, 20),
        counts=dict(counts or {}),
        minutes_saved=minutes_saved,
        exit_code=exit_code,
        message=message,
    )


def log_runs(home_root: Path, *records: RunRecord) -> None:
    """Put finished runs in the run log under ``home_root``, as ``rpa run`` would."""
    runlog = SqliteRunLog(home_root / "runlog.sqlite3")
    try:
        for rec in records:
            runlog.start_run(rec)
            if rec.status is not RunStatus.RUNNING:
                runlog.finish_run(rec)
    finally:
        runlog.close()


class FakeLauncher:
    """Stands in for :class:`framework.tray.launcher.Launcher`: remembers, starts nothing."""

    def __init__(self, *, busy: bool = False, running: str | None = None) -> None:
        self.busy = busy
        self.running = running
        self.started: list[tuple[str, Path | None]] = []
        self.stopped: list[str] = []

    def start(self, bot: BotChoice, input_path: Path | None = None) -> Any:
        if self.busy:
            return None
        self.started.append((bot.id, input_path))
        return object()

    def stop(self, bot_id: str) -> str | None:
        self.stopped.append(bot_id)
        return self.running


class Notes:
    """Stands in for :class:`framework.tray.notify.Notifier`: keeps (title, message)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, title: str, message: str) -> str:
        self.sent.append((title, message))
        return "log"

    @property
    def titles(self) -> list[str]:
        return [title for title, _ in self.sent]
