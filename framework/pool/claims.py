"""A scheduled fire time runs once, whichever worker takes it: one claim row per fire time.

Before a worker starts a scheduled run it claims ``(bot, schedule, fire time)`` for its job in
``kakari.pool_claims`` (a primary key, so the database decides). The same job may claim again (a
stalled job retried on another worker carries on the same run: resume by key skips what was
done); another job for the same fire time (a second scheduler, or a re-enqueue after the first
job left the queue) finds the claim and does not run.
"""

from __future__ import annotations

import socket

from framework.pool.app import connect


def claim_fire_time(url: str, bot_id: str, schedule: str, fire_time: str, job_id: int) -> int:
    """Claim the fire time for ``job_id``; return the id of the job that holds it (``job_id``
    itself when the claim is ours)."""
    with connect(url) as conn:
        row = conn.execute(
            """INSERT INTO kakari.pool_claims (bot_id, schedule, fire_time, job_id, host)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (bot_id, schedule, fire_time) DO NOTHING
               RETURNING job_id""",
            (bot_id, schedule, fire_time, job_id, socket.gethostname()),
        ).fetchone()
        if row is None:
            row = conn.execute(
                """SELECT job_id FROM kakari.pool_claims
                   WHERE bot_id = %s AND schedule = %s AND fire_time = %s""",
                (bot_id, schedule, fire_time),
            ).fetchone()
    return int(row[0])
