"""Commands that run bots: ``rpa run``, ``stop``, ``runs``, ``demo``, ``practice-server``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from framework.cli.app import app, current_project, err, fail, out
from framework.errors import InvalidError, Problem
from framework.outcome import ExitCode


def _parse_sets(values: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"key=value の形で指定してください: {value!r}", param_hint="--set"
            )
        parsed[key.strip()] = rest
    return parsed


def _browser_options(headed: bool) -> Any:
    from framework.browsers import BrowserOptions

    timeout = os.environ.get("RPA_BROWSER_TIMEOUT_MS")
    return BrowserOptions(
        headless=not headed,
        timeout_ms=int(timeout) if timeout and timeout.isdigit() else 15_000,
    )


def run_bot(
    bot: str,
    *,
    input_path: Path | None = None,
    overrides: dict[str, str] | None = None,
    headed: bool = False,
    dry_run: bool = False,
    trigger: str = "cli",
    credentials: dict[str, dict[str, str]] | None = None,
    as_json: bool = False,
    rerun_of: str | None = None,
) -> int:
    """Run a bot with progress and a summary; the shared path of ``rpa run`` and ``rpa demo``."""
    from framework.botlock import AlreadyRunningError
    from framework.console import ProgressReporter, dump_json, print_result
    from framework.home import Home
    from framework.registry import Registry
    from framework.runlog import open_runlog
    from framework.runner import Runner, RunRequest

    project = current_project()
    home = Home.locate(project.root)
    if rerun_of is not None:
        earlier = _earlier_run(home, rerun_of, bot)
        if isinstance(earlier, int):
            return earlier
        if input_path is None and earlier:
            input_path = Path(earlier)
    request = RunRequest(
        bot=bot,
        input=input_path,
        overrides=overrides or {},
        trigger=trigger,
        dry_run=dry_run,
        browser=_browser_options(headed),
        credentials=credentials,
        rerun_of=rerun_of,
    )
    reporter = ProgressReporter(err())
    runner = Runner(project, home, Registry.default(), None, reporter)
    try:
        prepared = runner.prepare(request)
    except InvalidError as exc:
        return fail(exc.problems)
    if not dry_run:
        runner.runlog = open_runlog(home.root)
    try:
        with reporter:
            result = runner.execute(prepared, request)
    except AlreadyRunningError as exc:
        err().print(str(exc), markup=False, highlight=False)
        return ExitCode.ALREADY_RUNNING
    finally:
        if runner.runlog is not None:
            runner.runlog.close()
    if as_json:
        payload: dict[str, Any] = {
            "exit_code": int(result.exit_code),
            "run": result.record.as_json() if result.record else None,
            "files": [str(p) for p in result.files],
            "items": [
                {
                    "seq": o.seq,
                    "source": o.source,
                    "row": o.row,
                    "status": o.status.value,
                    "message": o.message,
                    "results": o.results,
                }
                for o in result.outcomes
            ],
        }
        dump_json(out(), payload)
    else:
        print_result(out(), result, prepared.bot, Path.cwd())
    return int(result.exit_code)


def _earlier_run(home: Any, run_id: str, bot: str) -> str | int:
    """The input of an earlier run of ``bot`` for --rerun-failed, or an exit code on error."""
    from framework.runlog import open_runlog, runlog_exists

    problem = ""
    record = None
    if runlog_exists(home.root):
        runlog = open_runlog(home.root)
        try:
            record = runlog.get_run(run_id)
        finally:
            runlog.close()
    if record is None:
        problem = f"実行 {run_id} が見つかりません。rpa runs で番号を確認してください (no such run)"
    elif record.bot_id != bot:
        problem = (
            f"実行 {run_id} はボット {record.bot_id} の実行です (that run belongs to another bot)"
        )
    if problem:
        return fail([Problem("--rerun-failed", 0, 0, run_id, problem)])
    assert record is not None
    return record.input or ""


@app.command("run")
@click.argument("bot")
@click.option(
    "--input",
    "-i",
    "input_path",
    type=click.Path(path_type=Path),
    help="入力ファイルまたはフォルダ (input workbook, PDF or folder)",
)
@click.option("--set", "sets", multiple=True, help="設定を上書き key=value (override a setting)")
@click.option("--headed", is_flag=True, help="ブラウザを表示する (show the browser)")
@click.option("--dry-run", is_flag=True, help="入力を検査するだけで実行しない (check only)")
@click.option(
    "--trigger",
    type=click.Choice(["cli", "tray", "schedule", "queue"]),
    default="cli",
    hidden=True,
)
@click.option("--json", "as_json", is_flag=True, help="結果を JSON で出力 (print JSON)")
@click.option(
    "--rerun-failed",
    "rerun_of",
    metavar="RUN_ID",
    help="その実行で登録できなかった申請だけをやり直す (repeat only the failed items of a run)",
)
def run_command(
    bot: str,
    input_path: Path | None,
    sets: tuple[str, ...],
    headed: bool,
    dry_run: bool,
    trigger: str,
    as_json: bool,
    rerun_of: str | None,
) -> int:
    """ボットを実行する (run a bot; BOT is an id from `rpa bots`).

    Items already entered by earlier runs of the bot are skipped (matched by the workflow's
    key). Exit codes: 0 all done, 1 some items need a person, 2 invalid (nothing run),
    3 aborted, 4 the bot is already running.
    """
    return run_bot(
        bot,
        input_path=input_path,
        overrides=_parse_sets(list(sets)),
        headed=headed,
        dry_run=dry_run,
        trigger=trigger,
        as_json=as_json,
        rerun_of=rerun_of,
    )


@app.command("stop")
@click.argument("bot")
def stop_command(bot: str) -> int:
    """実行中のボットを止める (ask a running bot to stop after the current item)."""
    from framework.home import Home
    from framework.stopping import stop_bot

    run_id = stop_bot(Home.locate(current_project().root).root, bot)
    if run_id is None:
        out().print(f"ボット {bot} は実行中ではありません (not running)", markup=False)
        return ExitCode.OK
    out().print(
        f"停止を指示しました: run {run_id}（今の申請を終えてから止まります） (stop requested)",
        markup=False,
    )
    return ExitCode.OK


@app.command("runs")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力 (print JSON)")
@click.option("--limit", type=click.IntRange(min=1), default=20, help="表示する件数 (how many)")
@click.option("--bot", help="このボットだけ (only this bot)")
@click.option("--department", help="この課のボットだけ (only this department)")
@click.option(
    "--status",
    type=click.Choice(["completed", "aborted", "running"]),
    help="この状態の実行だけ: 完了・中断・実行中 (only runs in this state)",
)
@click.option("--period", help="期間: 2026-11（月）、FY2026・R8・令和8年度（年度）")
@click.option("--from", "first", metavar="DATE", help="この日以降に開始 (started on or after)")
@click.option("--to", "last", metavar="DATE", help="この日までに開始 (started on or before)")
@click.option(
    "--events",
    is_flag=True,
    help="スケジューラの判断だけを表示 (only the scheduler's decisions)",
)
def runs_command(
    as_json: bool,
    limit: int,
    bot: str | None,
    department: str | None,
    status: str | None,
    period: str | None,
    first: str | None,
    last: str | None,
    events: bool,
) -> int:
    """最近の実行 (recent runs, newest first; filters narrow them down).

    Below the runs, the scheduler's latest decisions (started, skipped for a holiday, missed,
    caught up, timed out...); ``--events`` shows only those (with ``--json`` too).
    """
    from framework.cli.report import period_problem
    from framework.console import dump_json, events_table, exceptions_file, runs_table
    from framework.home import Home
    from framework.outcome import RunStatus
    from framework.reports.period import PeriodError, choose_period
    from framework.runlog import RunFilter, open_runlog, runlog_exists

    try:
        chosen = choose_period(period, first, last, None)
    except PeriodError as exc:
        return fail([period_problem(period, exc.reason)], nothing_run=False)
    where = RunFilter(
        first_day=chosen.first_day if chosen else None,
        last_day=chosen.last_day if chosen else None,
        department=department,
        bot_id=bot,
        status=RunStatus(status) if status else None,
    )
    home = Home.locate(current_project().root)
    if not runlog_exists(home.root):
        if as_json:
            dump_json(out(), [])
        else:
            out().print("まだ実行記録がありません (no runs yet)")
        return ExitCode.OK
    runlog = open_runlog(home.root)
    try:
        records = [] if events else runlog.find_runs(where, limit)
        decisions = runlog.schedule_events(limit, bot)
    finally:
        runlog.close()
    if events:
        if as_json:
            dump_json(out(), [e.as_json() for e in decisions])
        else:
            out().print(events_table(decisions))
        return ExitCode.OK
    if as_json:
        rows = []
        for record in records:
            row = record.as_json()
            report = exceptions_file(record)
            row["exceptions_file"] = str(report) if report else None
            rows.append(row)
        dump_json(out(), rows)
    else:
        out().print(runs_table(records, Path.cwd()))
        if decisions:
            out().print(events_table(decisions))
    return ExitCode.OK


@app.command("practice-server")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, help="ポート (0 = 空き番号)")
@click.option("--host", default="127.0.0.1", help="待ち受けるアドレス (listen address)")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite ファイル（省略時は終了時に消える）(records file; default: temporary)",
)
@click.option("--user", default="demo", help="ログインID (login user)")
@click.option("--password", default="demo-pass", help="パスワード (login password)")
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, help="応答の遅延 (delay, ms)")
@click.option(
    "--fail-every",
    type=click.IntRange(min=0),
    default=0,
    help="N 回に1回の POST を 503 混雑にする (every Nth POST answers 503)",
)
@click.option(
    "--session-timeout",
    type=click.FloatRange(min=0),
    default=0,
    help="無操作でセッションが切れる秒数 (idle session timeout, s)",
)
@click.option(
    "--accept-duplicates",
    is_flag=True,
    help="重複申請を拒否せず二重に登録する (store duplicates instead of refusing)",
)
def practice_server_command(
    port: int,
    host: str,
    db: Path | None,
    user: str,
    password: str,
    latency_ms: int,
    fail_every: int,
    session_timeout: float,
    accept_duplicates: bool,
) -> int:
    """練習用の福祉システムを起動する (start the bundled practice system)."""
    from framework.practice import PracticeConfig, PracticeServer

    config = PracticeConfig(
        host=host,
        port=port,
        db_path=db,
        user=user,
        password=password,
        latency_ms=latency_ms,
        fail_every=fail_every,
        session_timeout=session_timeout,
        accept_duplicates=accept_duplicates,
    )
    try:
        PracticeServer(config).serve_forever()
    except OSError as exc:
        err().print(f"起動できません (cannot start): {exc}", markup=False)
        return ExitCode.ABORTED
    return ExitCode.OK


DEMO_BOT = "welfare_entry"
DEMO_CREDENTIAL = "welfare_system"


@app.command("demo")
@click.option("--headed", is_flag=True, help="ブラウザを表示する (show the browser)")
def demo_command(headed: bool) -> int:
    """練習システムを起動し、サンプルの申請を入力してみせる (demo on the practice system)."""
    from framework.practice import PracticeConfig, PracticeServer

    config = PracticeConfig()
    with PracticeServer(config) as server:
        out().print(f"練習システムを起動しました (practice system): {server.url}", highlight=False)
        code = run_bot(
            DEMO_BOT,
            overrides={"target_url": server.url},
            headed=headed,
            trigger="cli",
            credentials={DEMO_CREDENTIAL: {"username": config.user, "password": config.password}},
        )
        records = server.records()
    out().print(
        f"練習システムに登録された申請 (records now in the practice system): {len(records)} 件",
        highlight=False,
    )
    return code


@app.command("review")
@click.argument("run_id")
@click.argument("numbers", nargs=-1, type=int, required=True)
@click.option(
    "--entered/--not-entered",
    required=True,
    help="システムに登録されていた / いなかった (it is / is not in the system)",
)
@click.option("--note", default="", help="確認した内容のメモ (what you checked)")
def review_command(run_id: str, numbers: tuple[int, ...], entered: bool, note: str) -> int:
    """要確認の申請の確認結果を記録する (record what staff found for items that need review).

    NUMBERS are the No. of the items in that run's exceptions.xlsx. --entered: the next runs
    skip them; --not-entered: the next run enters them again.
    """
    import getpass

    from framework.home import Home
    from framework.runlog import open_runlog, runlog_exists

    home = Home.locate(current_project().root)
    if not runlog_exists(home.root):
        return fail([Problem("rpa review", 0, 0, run_id, "実行記録がありません (no run log)")])
    runlog = open_runlog(home.root)
    problems: list[Problem] = []
    try:
        for number in numbers:
            try:
                item = runlog.review_item(run_id, number, entered, getpass.getuser(), note)
            except LookupError:
                problems.append(
                    Problem(
                        "rpa review",
                        0,
                        0,
                        f"{run_id} No.{number}",
                        "その申請はありません (no such item)",
                    )
                )
                continue
            except ValueError as exc:
                problems.append(
                    Problem(
                        "rpa review",
                        0,
                        0,
                        f"{run_id} No.{number}",
                        f"要確認の申請ではありません（{exc}） (not an item that needs review)",
                    )
                )
                continue
            where = f"{item.source} {item.row}行目" if item.row else item.source
            decision = "登録済み (entered)" if entered else "未登録 (not entered)"
            out().print(f"No.{number} {where}: {decision} と記録しました", markup=False)
    finally:
        runlog.close()
    if problems:
        return fail(problems, nothing_run=False)
    return ExitCode.OK
