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

from typing import TYPE_CHECKING

from framework.pool.app import TASK_RUN_BOT

if TYPE_CHECKING:
    import procrastinate

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
