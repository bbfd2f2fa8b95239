"""Putting a bot run in its queue: ``rpa enqueue`` and the scheduler in distributed mode.

The queue is the bot's ``pool.queue`` unless the caller names another. A one-session bot
(``pool.one_session: true``) is queued with the job lock ``bot:<id>``: procrastinate never lets
two jobs holding the same lock run at once, on any worker. A scheduled fire time is queued with
a queueing lock, so a second enqueue of the same fire time is refused while the first waits.
"""

from __future__ import annotations

from dataclasses import dataclass

from framework.errors import KakariError
from framework.pool.app import TASK_RUN_BOT, build_app, prepare_database
from framework.pool.job import BotJob, bot_lock


class AlreadyQueuedError(KakariError):
    """The same scheduled fire time is already waiting in the queue."""

    def __init__(self, job: BotJob) -> None:
        self.job = job
        super().__init__(
            f"{job.describe()} は既にキューで待っています (already waiting in the queue)"
        )


@dataclass(frozen=True)
class Queued:
    """A job put in a queue."""

    job_id: int
    queue: str
    lock: str | None


def enqueue_run(url: str, job: BotJob, *, queue: str, one_session: bool) -> Queued:
    """Queue ``job`` in ``queue`` and return its id (the database is prepared first)."""
    from procrastinate.exceptions import AlreadyEnqueued

    prepare_database(url)
    lock = bot_lock(job.bot_id) if one_session else None
    app = build_app(url, max_connections=2)
    app.open()
    try:
        deferrer = app.configure_task(
            TASK_RUN_BOT, queue=queue, lock=lock, queueing_lock=job.queueing_lock()
        )
        try:
            job_id = deferrer.defer(**job.as_args())
        except AlreadyEnqueued:
            raise AlreadyQueuedError(job) from None
    finally:
        app.close()
    return Queued(job_id=job_id, queue=queue, lock=lock)
