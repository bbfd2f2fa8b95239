"""How long personal data is kept: ``rpa cleanup`` deletes run folders past their bot's period.

A run folder holds the results and exception workbooks and the failure screenshots, the only
places personal data is written. Each bot keeps its run folders ``retention_days`` (bot.yaml,
default 30) after the run ended; ``rpa cleanup`` (run daily by the scheduler) deletes older ones
with everything in them (logs included), and crash reports after the default period. The run
log's rows stay (they hold no personal data), so counts and time saved are still reported.
A bot whose bot.yaml cannot be read keeps its folders until it is fixed: a period is never
guessed shorter than the one staff set.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from framework import audit
from framework.botlock import BotLock
from framework.errors import InvalidError
from framework.home import Home
from framework.loader import Project, load_manifest
from framework.model import BotManifest
from framework.outcome import RunStatus
from framework.runlog import RunLog, RunRecord, open_runlog, runlog_exists

DEFAULT_DAYS: int = BotManifest.model_fields["retention_days"].default


@dataclass(frozen=True)
class Expired:
    """A run folder past its bot's retention period."""

    run_id: str
    bot_id: str
    path: Path
    ended: dt.datetime
    days: int


@dataclass
class CleanupReport:
    """What ``rpa cleanup`` deleted (or, with ``--dry-run``, would delete)."""

    expired: list[Expired] = field(default_factory=list)
    crash_reports: list[Path] = field(default_factory=list)
    kept: int = 0
    problems: list[str] = field(default_factory=list)
    """Bots whose period is unknown (their folders are kept) and folders that could not go."""
    undeletable: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        per_bot = Counter(e.bot_id or "?" for e in self.expired)
        bots = ", ".join(f"{bot}:{n}" for bot, n in sorted(per_bot.items()))
        return (
            f"runs={len(self.expired)}" + (f" ({bots})" if bots else "") + f" kept={self.kept}"
            f" crash_reports={len(self.crash_reports)}"
        )


def retention_days(project: Project) -> tuple[dict[str, int], list[str]]:
    """Each bot's period in days; and the bots whose bot.yaml cannot be read."""
    days: dict[str, int] = {}
    unreadable: list[str] = []
    for bot_id in project.bot_ids():
        try:
            days[bot_id] = load_manifest(bot_id, project).retention_days
        except InvalidError:
            unreadable.append(bot_id)
    return days, unreadable


def _ended(record: RunRecord | None, folder: Path) -> dt.datetime:
    if record is not None:
        return record.ended_at or record.started_at
    return dt.datetime.fromtimestamp(folder.stat().st_mtime).astimezone()


def find_expired(
    home: Home, project: Project, runlog: RunLog | None, now: dt.datetime
) -> CleanupReport:
    """The run folders and crash reports past their period (nothing is deleted)."""
    report = CleanupReport()
    days, unreadable = retention_days(project)
    for bot_id in unreadable:
        report.problems.append(
            f"{bot_id}: bot.yaml を読めないため、このボットの実行フォルダは残します"
            " (bot.yaml invalid: its run folders are kept; see rpa validate)"
        )
    runs = home.runs_dir
    folders = sorted(p for p in runs.iterdir() if p.is_dir()) if runs.exists() else []
    for folder in folders:
        record = runlog.get_run(folder.name) if runlog is not None else None
        bot_id = record.bot_id if record is not None else ""
        if bot_id in unreadable:
            report.kept += 1
            continue
        if record is not None and record.status is RunStatus.RUNNING:
            if BotLock(home.root / "locks", bot_id).held():
                report.kept += 1  # it may be this very run
                continue
        keep = days.get(bot_id, DEFAULT_DAYS)
        ended = _ended(record, folder)
        if ended < now - dt.timedelta(days=keep):
            report.expired.append(Expired(folder.name, bot_id, folder, ended, keep))
        else:
            report.kept += 1
    if home.crash_dir.exists():
        limit = (now - dt.timedelta(days=DEFAULT_DAYS)).timestamp()
        report.crash_reports = sorted(
            p for p in home.crash_dir.iterdir() if p.is_file() and p.stat().st_mtime < limit
        )
    return report


def cleanup(
    home: Home,
    project: Project,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    trigger: str = "cli",
) -> CleanupReport:
    """Delete what is past its period and record it in the audit trail (not with dry_run)."""
    moment = now or dt.datetime.now().astimezone()
    runlog = open_runlog(home.root) if runlog_exists(home.root) or not dry_run else None
    try:
        report = find_expired(home, project, runlog, moment)
        if dry_run:
            return report
        gone: list[Expired] = []
        for expired in report.expired:
            try:
                shutil.rmtree(expired.path)
                gone.append(expired)
            except OSError as exc:
                report.undeletable.append(expired.path)
                report.problems.append(
                    f"{expired.path}: 削除できません (cannot delete: {type(exc).__name__})"
                )
        report.expired = gone
        for crash in list(report.crash_reports):
            try:
                crash.unlink()
            except OSError:
                report.crash_reports.remove(crash)
        assert runlog is not None
        audit.record(
            runlog,
            audit.Action.CLEANUP,
            trigger=trigger,
            outcome="partial" if report.problems else "ok",
            detail=report.summary(),
        )
        return report
    finally:
        if runlog is not None:
            runlog.close()
