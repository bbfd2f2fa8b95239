"""Putting a bot run in its queue: ``rpa enqueue`` and the scheduler in distributed mode.

The queue is the bot's ``pool.queue`` unless the caller names another. Every run is queued with
a job lock (:meth:`~framework.model.PoolSpec.lock`): ``bot:<id>``, or ``session:<name>`` for bots
that share a single-session account. procrastinate never lets two jobs holding the same lock
run at once, on any worker: the pool's version of the bot lock, which exactly-once entry relies
on (two runs of one bot on overlapping input would both find an item not yet entered). A
scheduled fire time is also queued with a queueing lock, so a second enqueue of the same fire
time is refused while the first waits.
"""

from __future__ import annotations

from dataclasses import dataclass

from framework.errors import KakariError
from framework.pool.app import TASK_RUN_BOT, build_app, prepare_database
from framework.pool.job import BotJob


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
    lock: str


def enqueue_run(url: str, job: BotJob, *, queue: str, lock: str) -> Queued:
    """Queue ``job`` in ``queue`` and return its id (the database is prepared first)."""
    from procrastinate.exceptions import AlreadyEnqueued

    prepare_database(url)
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
