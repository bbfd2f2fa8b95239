"""Commands of a runner pool: ``rpa worker``, ``rpa enqueue`` and ``rpa workers`` (docs/pool.md)."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import click
from rich.table import Table

from framework.cli.app import app, current_project, err, out
from framework.outcome import ExitCode


def _home_root() -> Path:
    from framework.home import Home

    return Home.locate(current_project().root).root


def pool_url_or_exit() -> str | int:
    """The queue's database URL, or the exit code after saying why there is none."""
    from framework.database import DatabaseUrlError
    from framework.pool.app import NoDatabaseError, PoolMissingError, pool_url

    try:
        return pool_url()
    except (NoDatabaseError, DatabaseUrlError, PoolMissingError) as exc:
        err().print(str(exc), markup=False, highlight=False)
        return ExitCode.INVALID


@app.command("worker")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="このキューの実行だけを受け持つ（複数可。省略: すべて） (queues to take runs from)",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="同時に動かすボットの数 (bots running at the same time)",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.5, max=300),
    default=10.0,
    show_default=True,
    help="生存通知と停止ワーカーの確認の間隔・秒 (seconds between heartbeats)",
)
@click.option(
    "--stalled-after",
    type=click.FloatRange(min=2, max=3600),
    default=60.0,
    show_default=True,
    help="この秒数通知のないワーカーの実行を他で再実行 (a worker silent this long is dead)",
)
@click.option(
    "--stop-grace",
    type=click.FloatRange(min=0, max=3600),
    default=60.0,
    show_default=True,
    help="停止を指示してから強制終了するまでの秒数 (seconds before a stopping bot is killed)",
)
@click.option(
    "--busy-retry",
    type=click.FloatRange(min=1, max=3600),
    default=30.0,
    show_default=True,
    help="ボットがこのPCで実行中のとき、やり直すまでの秒数 (seconds before a busy bot's retry)",
)
def worker_command(
    queues: tuple[str, ...],
    concurrency: int,
    heartbeat: float,
    stalled_after: float,
    stop_grace: float,
    busy_retry: float,
) -> int:
    """キューのボット実行を受け持つ（ランナーPCで常駐） (take bot runs from the queues).

    Runs until SIGTERM or Ctrl+C: the running bots are then asked to stop (they finish the
    registration under way) and their jobs go back to the queue for another worker.
    Exit codes: 0 stopped normally, 2 no RPA_DATABASE_URL or invalid options, 3 the database
    cannot be reached, or the stop hung 30 s past --stop-grace (the stacks are in the log).
    """
    from framework.pool.service import PoolWorker, WorkerOptions, configure_logging

    if stalled_after < 3 * heartbeat:
        raise click.BadParameter(
            f"--stalled-after は --heartbeat の3倍以上にしてください（{3 * heartbeat:g} 秒以上）"
            " (must be at least 3 heartbeats)",
            param_hint="--stalled-after",
        )
    url = pool_url_or_exit()
    if isinstance(url, int):
        return url
    root = _home_root()
    configure_logging(root)
    options = WorkerOptions(
        queues=list(dict.fromkeys(queues)),
        concurrency=concurrency,
        heartbeat=heartbeat,
        stalled_after=stalled_after,
        stop_grace=stop_grace,
        busy_retry=busy_retry,
    )
    return PoolWorker(current_project().root, root, url, options).serve()


@app.command("enqueue")
@click.argument("bot")
@click.option(
    "--input",
    "-i",
    "input_path",
    type=click.Path(path_type=Path),
    help="入力ファイルまたはフォルダ（すべてのランナーPCから見える共有フォルダ）"
    " (input on a shared folder every runner PC sees)",
)
@click.option("--queue", help="キュー（省略: bot.yaml の pool.queue） (default: the bot's queue)")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力 (print JSON)")
def enqueue_command(bot: str, input_path: Path | None, queue: str | None, as_json: bool) -> int:
    """ボットの実行をキューに入れる（ランナーPCのワーカーが実行） (queue a bot run).

    Without --input the runner PC uses the bot's input.default. Exit codes: 0 queued,
    2 invalid bot, input or configuration (nothing queued), 3 the database cannot be reached.
    """
    from framework.audit import os_user
    from framework.loader import load_manifest
    from framework.pool.enqueue import enqueue_run
    from framework.pool.job import BotJob

    manifest = load_manifest(bot, current_project())
    shown_input: str | None = None
    if input_path is not None:
        resolved = input_path.expanduser().absolute()
        if not resolved.exists():
            err().print(
                f"入力が見つかりません: {resolved} (input not found)。何もキューに入れていません"
                " (nothing queued)",
                markup=False,
                highlight=False,
            )
            return ExitCode.INVALID
        shown_input = str(resolved)
    url = pool_url_or_exit()
    if isinstance(url, int):
        return url
    job = BotJob(
        bot_id=bot,
        input=shown_input,
        time_limit_minutes=manifest.pool.time_limit_minutes,
        enqueued_by=f"{os_user()}@{socket.gethostname()}",
    )
    chosen = queue or manifest.pool.queue
    queued = enqueue_run(url, job, queue=chosen, lock=manifest.pool.lock(bot))
    if as_json:
        from framework.console import dump_json

        dump_json(
            out(),
            {"job_id": queued.job_id, "queue": queued.queue, "lock": queued.lock, **job.as_args()},
        )
        return ExitCode.OK
    one = f"（{queued.lock} と同時には実行しません / never alongside {queued.lock}）"
    out().print(
        f"キューに入れました (queued): job {queued.job_id}  ボット {bot}  キュー {queued.queue}"
        f"{one}  入力 {shown_input or '既定 (input.default)'}",
        markup=False,
        highlight=False,
    )
    return ExitCode.OK


@app.command("workers")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力 (print JSON)")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="この日数以内に見えたワーカー (workers heard from within these days)",
)
def workers_command(as_json: bool, days: int) -> int:
    """ランナープールのワーカー（ホスト、キュー、最終通知、実行中の仕事、状態） (workers seen).

    A worker whose heartbeat is older than its stall timeout is marked 応答なし (stale): it died,
    and its jobs are retried by the others.
    """
    from framework.pool.workers import WorkerState, list_workers

    url = pool_url_or_exit()
    if isinstance(url, int):
        return url
    rows = list_workers(url, since=dt.timedelta(days=days))
    if as_json:
        from framework.console import dump_json

        dump_json(out(), [row.as_json() for row in rows])
        return ExitCode.OK
    if not rows:
        out().print("ワーカーの記録がありません (no workers seen)", markup=False)
        return ExitCode.OK
    now = dt.datetime.now().astimezone()
    table = Table(title="ワーカー (workers)")
    for column in (
        "ホスト (host)",
        "PID",
        "キュー (queues)",
        "最終通知 (last heartbeat)",
        "実行中 (current job)",
        "状態 (state)",
    ):
        table.add_column(column, overflow="fold")
    colours = {WorkerState.RUNNING: "green", WorkerState.STALE: "red", WorkerState.STOPPED: "dim"}
    for row in rows:
        age = (now - row.last_heartbeat).total_seconds()
        jobs = ", ".join(
            f"job {j.get('job_id')} {j.get('bot_id')}（{j.get('since', '')[11:16]}〜）"
            for j in row.current_jobs
        )
        state = f"[{colours[row.state]}]{row.state.label} ({row.state.value})[/]"
        table.add_row(
            row.host,
            str(row.pid),
            ", ".join(row.queues) or "すべて (all)",
            f"{row.last_heartbeat.astimezone():%m-%d %H:%M:%S}（{age:.0f} 秒前）",
            jobs or "-",
            state,
        )
    out().print(table)
    stale = sum(1 for row in rows if row.state is WorkerState.STALE)
    if stale:
        out().print(
            f"[red]応答のないワーカーが {stale} 台あります[/]。その実行は他のワーカーがやり直します"
            " (stale workers: their jobs are retried by the others)"
        )
    return ExitCode.OK


__all__ = ["enqueue_command", "worker_command", "workers_command"]
