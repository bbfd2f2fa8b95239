"""Jobs of a dead worker go back to the queue: procrastinate's stalled jobs, retried once.

Every worker sends procrastinate a heartbeat (``rpa worker --heartbeat``). A job still marked
*doing* whose worker has sent none for ``--stalled-after`` seconds (the PC died, the worker was
killed) is *stalled*: every running worker looks for such jobs at each of its heartbeats and puts
them back in the queue (``retry``), where another worker takes them; the bot then runs again on
the same input and resume by key skips what the dead run entered (its in-progress items go
through the workflow's ``check``).

Only one worker looks at a time (an advisory lock): two workers retrying the same stalled job
one after the other could otherwise put it back after a third worker had already taken it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from framework.pool.app import TASK_RUN_BOT, connect

if TYPE_CHECKING:
    import procrastinate

    from framework.runlog import RunLog

SWEEP_LOCK = 0x6B616B61726902
"""Advisory lock held while one worker retries stalled jobs."""


async def retry_stalled_jobs(
    app: procrastinate.App, url: str, stalled_after: float
) -> list[procrastinate.jobs.Job]:
    """Put the run-bot jobs of workers silent for ``stalled_after`` seconds back in their
    queue; return them (nothing when another worker is doing it right now)."""
    import psycopg
    from procrastinate.exceptions import ConnectorException

    conn = await psycopg.AsyncConnection.connect(
        url, autocommit=True, connect_timeout=10, application_name="kakari"
    )
    async with conn:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (SWEEP_LOCK,))
        row = await cursor.fetchone()
        if row is None or not row[0]:
            return []
        retried = []
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                task_name=TASK_RUN_BOT, seconds_since_heartbeat=stalled_after
            )
            for job in stalled:
                try:
                    await app.job_manager.retry_job(job)
                except ConnectorException:
                    continue  # it ended meanwhile
                retried.append(job)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SWEEP_LOCK,))
    return retried


def close_runs_of_dead_job(
    url: str, runlog: RunLog, job_id: int, bot_id: str, before: dt.datetime
) -> list[str]:
    """Close the run a stalled job's dead worker left marked running; return the run ids.

    The dead worker's row in ``kakari.pool_workers`` says which host ran the job and since
    when; that host's runs of the bot still marked running since then died with it (a bot
    never runs on two PCs at once in the pool: the job lock). Its items in progress stay in
    progress, so the retried run puts them through the workflow's ``check``. Only runs started
    ``before`` the job was put back are closed: the retried run may already be going (on the
    same host, when the worker there was restarted).
    """
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT host, current_jobs FROM kakari.pool_workers WHERE current_jobs @> %s::jsonb",
            (json.dumps([{"job_id": job_id}]),),
        ).fetchall()
    closed: list[str] = []
    for host, current in rows:
        since = next(
            (
                dt.datetime.fromisoformat(str(entry["since"]))
                for entry in current
                if entry.get("job_id") == job_id and entry.get("since")
            ),
            None,
        )
        for run in runlog.unfinished_runs(bot_id, except_run=""):
            if run.host != host or run.started_at >= before:
                continue
            if since is not None and run.started_at < since:
                continue
            runlog.close_unfinished(
                run.id,
                f"異常終了: ランナーPC {host} のワーカーが応答しなくなりました。別のPCが続きを"
                " 実行します (the runner PC stopped answering; another PC carries on)",
            )
            closed.append(run.id)
    return closed
