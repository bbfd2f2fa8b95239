"""``rpa worker``: the worker process of a runner PC — takes bot runs from its queues until stopped.

One asyncio loop runs procrastinate's worker (fetching jobs, LISTEN/NOTIFY, its heartbeat; each
job in a thread of its own: :mod:`framework.pool.tasks`) and kakari's housekeeping at every
heartbeat: the row in ``kakari.pool_workers`` (:mod:`framework.pool.workers`) and the search
for stalled jobs of dead workers (:mod:`framework.pool.stalled`).

SIGTERM or Ctrl+C stops it gracefully: no new job is taken, each running bot gets the stop
request ``rpa stop`` uses (it finishes the registration under way), its job goes back to the
queue, and the worker ends once they have ended (killed after ``--stop-grace`` seconds). A
worker still there :data:`~framework.servicestop.STOP_MARGIN` seconds later writes its stacks
into its log and exits with code 3 (:class:`~framework.servicestop.StopDeadline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

from framework.database import masked
from framework.outcome import ExitCode
from framework.pool.app import build_app, prepare_database
from framework.pool.stalled import close_runs_of_dead_job, retry_stalled_jobs
from framework.pool.tasks import JobRunner, pool_dir, register_run_task
from framework.pool.workers import beat, register_worker, worker_stopped
from framework.servicelog import service_logging
from framework.servicestop import STOP_MARGIN, StopDeadline, signal_handlers

HOUSEKEEPING_GRACE = 5.0
"""Seconds the housekeeping task gets to end once cancelled (it may be inside a query)."""


@dataclass
class WorkerOptions:
    """How ``rpa worker`` runs (its command-line options)."""

    queues: list[str] = field(default_factory=list)
    """The queues to take jobs from; empty: every queue."""
    concurrency: int = 1
    heartbeat: float = 10.0
    """Seconds between heartbeats (and searches for stalled jobs)."""
    stalled_after: float = 60.0
    """A worker silent this long is dead: its jobs are retried elsewhere."""
    stop_grace: float = 60.0
    """Seconds a stopping bot gets to finish before it is killed."""
    busy_retry: float = 30.0
    """Seconds before a job whose bot already runs on this PC is tried again."""


class PoolWorker:
    """``serve()`` runs the worker until SIGTERM / Ctrl+C; returns the exit code."""

    def __init__(self, project_root: Path, home_root: Path, url: str, options: WorkerOptions):
        self.project_root = project_root
        self.home_root = home_root
        self.url = url
        self.options = options
        self.stopping = threading.Event()
        self.log = logger.bind(pool=True)
        self.runner = JobRunner(
            project_root,
            home_root,
            url,
            stop_grace=options.stop_grace,
            stopping=self.stopping,
            log=self.log,
        )
        self.worker_id: int | None = None
        self._main: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deadline = StopDeadline(options.stop_grace + STOP_MARGIN, self.log)

    def serve(self) -> int:
        if prepare_database(self.url):
            self.log.info("キューの表を作成しました (queue schema created)")

        def stop() -> None:  # past the bots' grace and a margin: stacks logged, exit 3
            self.request_stop()
            self._deadline.start()

        with signal_handlers({"SIGTERM": stop, "SIGINT": stop, "SIGBREAK": stop}):
            try:
                asyncio.run(self._serve())
            finally:
                self._deadline.cancel()
        return ExitCode.OK

    async def _serve(self) -> None:
        from procrastinate.app import WorkerOptions as ProcrastinateOptions

        options = self.options
        self._loop = asyncio.get_running_loop()
        self._deadline.loop = self._loop  # its tasks' stacks, should the stop hang
        app = build_app(self.url, max_connections=options.concurrency + 4)
        register_run_task(app, self.runner, options.busy_retry)
        self.worker_id = await asyncio.to_thread(
            register_worker,
            self.url,
            host=socket.gethostname(),
            pid=os.getpid(),
            queues=options.queues,
            concurrency=options.concurrency,
            heartbeat_seconds=options.heartbeat,
            stalled_after=options.stalled_after,
        )
        shown = ", ".join(options.queues) or "すべて (all)"
        self.log.info(
            f"ワーカーを開始しました (worker started): キュー {shown}、同時実行 "
            f"{options.concurrency}、{masked(self.url)}、プロジェクト {self.project_root}"
        )
        async with app.open_async():
            settings: ProcrastinateOptions = {
                "concurrency": options.concurrency,
                "name": f"{socket.gethostname()}:{os.getpid()}",
                "install_signal_handlers": False,
                "update_heartbeat_interval": options.heartbeat,
                "stalled_worker_timeout": options.stalled_after,
                "fetch_job_polling_interval": min(5.0, options.heartbeat),
                "abort_job_polling_interval": max(5.0, options.heartbeat),
            }
            if options.queues:
                settings["queues"] = options.queues
            worker = asyncio.create_task(app.run_worker_async(**settings), name="worker")
            self._main = worker
            housekeeping = asyncio.create_task(self._housekeeping(app), name="housekeeping")
            if self.stopping.is_set():
                worker.cancel()
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            finally:
                housekeeping.cancel()
                await asyncio.wait({housekeeping}, timeout=HOUSEKEEPING_GRACE)
                await asyncio.to_thread(worker_stopped, self.url, self.worker_id)
        self.log.info("ワーカーを停止しました (worker stopped)")

    async def _housekeeping(self, app: Any) -> None:
        """At every heartbeat: our row in ``rpa workers``, then the stalled jobs."""
        assert self.worker_id is not None
        while True:
            try:
                await asyncio.to_thread(beat, self.url, self.worker_id, self.runner.current_jobs())
                swept = dt.datetime.now().astimezone()
                for job in await retry_stalled_jobs(app, self.url, self.options.stalled_after):
                    self.log.warning(
                        f"job {job.id} ({job.queue}): ワーカーの応答がないため、キューに戻しました"
                        " (stalled: its worker stopped answering; back to the queue)"
                    )
                    bot_id = str(job.task_kwargs.get("bot_id", ""))
                    if job.id is not None and bot_id:
                        closed = await asyncio.to_thread(
                            self._close_dead_runs, job.id, bot_id, swept
                        )
                        for run_id in closed:
                            self.log.warning(
                                f"run {run_id} を異常終了として記録しました (closed the dead"
                                " worker's run)"
                            )
            except Exception as exc:  # a database hiccup must not end the worker
                self.log.error(f"ワーカーの定期処理に失敗しました (housekeeping failed): {exc}")
            await asyncio.sleep(self.options.heartbeat)

    def _close_dead_runs(self, job_id: int, bot_id: str, before: dt.datetime) -> list[str]:
        from framework.runlog import open_runlog

        runlog = open_runlog(self.home_root)
        try:
            return close_runs_of_dead_job(self.url, runlog, job_id, bot_id, before)
        finally:
            runlog.close()

    def request_stop(self) -> None:
        """Stop taking jobs, ask the running bots to stop, end when they have ended (called
        from any thread but the loop's: the signal dispatcher, a test)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.log.info(
            "停止します。実行中のボットに停止を指示しました (stopping; the running bots were"
            " asked to stop)"
        )
        loop, main = self._loop, self._main
        if loop is not None and main is not None:
            loop.call_soon_threadsafe(main.cancel)


def configure_logging(home_root: Path, *, echo: bool = True) -> list[int]:
    """The worker's log: ``RPA_HOME/pool/worker.log`` (rotated) and stderr."""
    return service_logging(
        pool_dir(home_root) / "worker.log",
        "pool",
        libraries=["procrastinate", "psycopg", "psycopg.pool"],
        echo=echo,
        echo_errors=False,  # the command's console prints errors already
    )
