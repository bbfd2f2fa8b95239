"""Commands about schedules: ``rpa schedule`` (next runs) and ``rpa scheduler`` (the service)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from framework.cli.app import app, current_project, err, fail, out
from framework.errors import InvalidError, Problem
from framework.outcome import ExitCode

_CALENDAR_WORDS = {
    "business_days": "営業日のみ (business days)",
    "every_day": "毎日 (every day)",
    "dates": "指定日のみ (listed dates)",
}


def _home_root() -> Path:
    from framework.home import Home

    return Home.locate(current_project().root).root


@app.command("schedule")
@click.argument("bot", required=False)
@click.option(
    "--from",
    "start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="この日から数える (count from this date, YYYY-MM-DD; default: now)",
)
@click.option(
    "--count", type=click.IntRange(1, 366), default=5, help="表示する回数 (how many runs)"
)
@click.option("--json", "as_json", is_flag=True, help="JSON で出力 (print JSON)")
def schedule_command(bot: str | None, start: dt.datetime | None, count: int, as_json: bool) -> int:
    """次に予定されている実行 (the next scheduled runs that the city's calendar allows).

    No scheduler needs to be running. Closed days (weekends, national holidays, 年末年始,
    closures in calendar.yaml) are listed separately with the reason.
    """
    from framework.calendar import load_calendar
    from framework.loader import load_bot
    from framework.registry import Registry
    from framework.scheduler import upcoming
    from framework.scheduling import shown_time, zone

    project = current_project()
    calendar = load_calendar(project.root)
    registry = Registry.default()
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    for bot_id in [bot] if bot else project.bot_ids():
        try:
            loaded = load_bot(bot_id, registry, project)
        except InvalidError as exc:
            if bot:
                raise
            problems.extend(exc.problems)
            continue
        for spec in loaded.manifest.schedules:
            tz = zone(spec)
            begin = (
                dt.datetime.combine(start.date(), dt.time(0), tzinfo=tz)
                if start is not None
                else dt.datetime.now(tz)
            )
            runs, skipped = upcoming(spec, calendar, begin, count)
            rows.append(
                {
                    "bot_id": loaded.id,
                    "bot_name": loaded.name,
                    "schedule": spec.key,
                    "cron": spec.cron,
                    "timezone": spec.timezone,
                    "calendar": spec.calendar,
                    "catch_up_until": (
                        spec.catch_up_until.strftime("%H:%M") if spec.catch_up_until else None
                    ),
                    "time_limit_minutes": spec.time_limit_minutes,
                    "runs": runs,
                    "skipped": skipped,
                }
            )
    if as_json:
        from framework.console import dump_json

        dump_json(
            out(),
            [
                {
                    **row,
                    "runs": [r.isoformat() for r in row["runs"]],
                    "skipped": [
                        {"time": moment.isoformat(), "reason": why}
                        for moment, why in row["skipped"]
                    ],
                }
                for row in rows
            ],
        )
    else:
        if not rows and not problems:
            named = f"ボット {bot} には" if bot else "このプロジェクトには"
            out().print(f"{named}スケジュールがありません (no schedules)", markup=False)
        for row in rows:
            _print_schedule(row, shown_time)
    if problems:
        return fail(problems, nothing_run=False)
    return ExitCode.OK


def _print_schedule(row: dict[str, Any], shown_time: Any) -> None:
    from framework.cron import parse_cron

    def line(text: str) -> None:
        out().print(text, markup=False, highlight=False, soft_wrap=True)

    window = (
        f"遅れても {row['catch_up_until']} まで実行 (catch-up window)、"
        if row["catch_up_until"]
        else ""
    )
    line(f"{row['bot_id']}  {row['bot_name']}  予定「{row['schedule']}」")
    line(
        f"  {row['cron']}（{parse_cron(row['cron']).describe()}）、"
        f"{_CALENDAR_WORDS[row['calendar']]}、{row['timezone']}"
    )
    line(f"  {window}上限 {row['time_limit_minutes']:g} 分 (time limit)")
    line("  次の実行 (next runs):")
    for moment in row["runs"]:
        line(f"    {shown_time(moment)}")
    if not row["runs"]:
        line("    なし (none)")
    if row["skipped"]:
        line("  この間の休みで実行しない日 (closed days in between, not run):")
        for moment, why in row["skipped"]:
            line(f"    {shown_time(moment)}  {why}")


@app.group("scheduler", invoke_without_command=True)
@click.option(
    "--reload",
    "reload_",
    is_flag=True,
    help="動いているスケジューラに設定を読み直させる (make the running scheduler reload)",
)
@click.pass_context
def scheduler_group(ctx: click.Context, reload_: bool) -> int | None:
    """夜間などに、ボットを予定どおり自動で実行する (run bots on their schedules, unattended).

    Without a subcommand: the same as `rpa scheduler start`.
    """
    if reload_:
        return _reload()
    if ctx.invoked_subcommand is None:
        result: int = ctx.invoke(start_command)
        return result
    return None


def _reload() -> int:
    from framework.heartbeat import read_heartbeat, request_reload, scheduler_running

    root = _home_root()
    if not scheduler_running(root):
        out().print("スケジューラは動いていません (the scheduler is not running)", markup=False)
        return ExitCode.ABORTED
    request_reload(root)
    beat = read_heartbeat(root)
    hup = getattr(signal, "SIGHUP", None)
    if (
        beat is not None
        and hup is not None
        and sys.platform != "win32"
        and beat.host == socket.gethostname()
        and beat.pid != os.getpid()
        and beat.fresh(dt.datetime.now().astimezone())
    ):
        try:
            os.kill(beat.pid, hup)  # wakes it at once; the file alone works at the next tick
        except (ProcessLookupError, PermissionError):
            pass
    out().print(
        "再読み込みを指示しました。結果は rpa scheduler status で確認できます (reload requested)",
        markup=False,
    )
    return ExitCode.OK


@scheduler_group.command("start")
@click.option(
    "--tick",
    type=click.FloatRange(min=0.2, max=3600),
    default=30.0,
    show_default=True,
    help="変更の確認と生存記録の間隔・秒 (seconds between heartbeats and reload checks)",
)
@click.option(
    "--stop-grace",
    type=click.FloatRange(min=0, max=3600),
    default=60.0,
    show_default=True,
    help="時間切れの実行に停止を指示してから強制終了するまでの秒数 (seconds before a kill)",
)
@click.option(
    "--max-parallel",
    type=click.IntRange(1, 32),
    default=2,
    show_default=True,
    help="同時に動かすボットの数 (bots running at the same time)",
)
@click.option(
    "--enqueue",
    is_flag=True,
    help="実行せずランナープールのキューに入れる（分散モード、RPA_DATABASE_URL が必要）"
    " (distributed mode: queue the runs for rpa worker)",
)
def start_command(
    tick: float = 30.0, stop_grace: float = 60.0, max_parallel: int = 2, enqueue: bool = False
) -> int:
    """スケジューラを起動する (run the scheduler until stopped: Ctrl+C or SIGTERM).

    With --enqueue the runs are put in each bot's pool queue (docs/pool.md) instead of being
    started on this PC. Exit codes: 0 stopped normally, 2 calendar.yaml is invalid (or
    --enqueue without RPA_DATABASE_URL), 3 the stop hung 30 s past --stop-grace (the stacks
    are in the log), 4 a scheduler already runs with this RPA_HOME.
    """
    from framework.scheduler import Scheduler, SchedulerRunningError, configure_logging

    project = current_project()
    url: str | None = None
    if enqueue:
        from framework.cli.pool import pool_url_or_exit

        found = pool_url_or_exit()
        if isinstance(found, int):
            return found
        url = found
    root = _home_root()
    configure_logging(root)
    scheduler = Scheduler(
        project,
        root,
        tick_seconds=tick,
        stop_grace=stop_grace,
        max_parallel=max_parallel,
        enqueue_url=url,
    )
    try:
        return scheduler.serve()
    except SchedulerRunningError as exc:
        err().print(str(exc), markup=False, highlight=False)
        return ExitCode.ALREADY_RUNNING


@scheduler_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力 (print JSON)")
def status_command(as_json: bool) -> int:
    """スケジューラが動いているか、次の実行、実行中のボット (is the scheduler alive?).

    Exit code 0 when it runs and its heartbeat is fresh, 3 otherwise.
    """
    from framework.heartbeat import read_heartbeat, scheduler_running

    root = _home_root()
    running = scheduler_running(root)
    beat = read_heartbeat(root)
    now = dt.datetime.now().astimezone()
    fresh = running and beat is not None and beat.fresh(now)
    if as_json:
        from framework.console import dump_json

        dump_json(
            out(),
            {
                "running": running,
                "healthy": fresh,
                "age_seconds": round(beat.age(now), 1) if beat else None,
                "heartbeat": beat.as_json() if beat else None,
            },
        )
        return ExitCode.OK if fresh else ExitCode.ABORTED
    if not running:
        out().print("スケジューラは動いていません (not running)", markup=False)
        if beat is not None:
            out().print(
                f"最後の記録 (last heartbeat): {beat.last_tick:%Y-%m-%d %H:%M:%S}"
                f"  PID {beat.pid}  {beat.host}",
                markup=False,
                highlight=False,
            )
    elif not fresh:
        age = f"{beat.age(now):.0f} 秒" if beat else "記録なし"
        out().print(
            f"[red]スケジューラの応答がありません[/]（最後の記録から {age}） (no recent heartbeat)"
        )
    else:
        assert beat is not None
        out().print(
            f"[green]動作中 (running)[/]  PID {beat.pid}  {beat.host}"
            f"  開始 {beat.started_at:%Y-%m-%d %H:%M}"
            f"  最終確認 {beat.last_tick:%H:%M:%S}（{beat.age(now):.0f} 秒前）",
            highlight=False,
        )
    if beat is not None:
        _print_heartbeat(beat)
    return ExitCode.OK if fresh else ExitCode.ABORTED


def _print_heartbeat(beat: Any) -> None:
    table = Table(title="次の実行 (next runs)")
    for column in ("ボット (bot)", "予定 (schedule)", "次の実行 (next)"):
        table.add_column(column, overflow="fold")
    for job in sorted(beat.jobs, key=lambda j: j.get("next_fire") or "9999"):
        following = job.get("next_fire")
        shown = "-"
        if following:
            shown = dt.datetime.fromisoformat(following).strftime("%Y-%m-%d %H:%M")
        table.add_row(str(job["bot_id"]), str(job["schedule"]), shown)
    out().print(table)
    if beat.running:
        out().print("実行中 (running now):", markup=False)
        for entry in beat.running:
            out().print(
                f"  {entry['bot_id']} 予定「{entry['schedule']}」 PID {entry['pid']}"
                f" 開始 {entry['since']} ログ {entry['log']}",
                markup=False,
                highlight=False,
            )
    if beat.problems:
        out().print("[red]読み込めない設定 (refused files; the previous version stays):[/]")
        for line in beat.problems:
            out().print(f"  {line}", markup=False, highlight=False)
