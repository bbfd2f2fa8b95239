"""The run-bot task: each job is a child ``rpa run BOT --trigger queue|schedule`` process.

The worker runs the bot exactly as the scheduler does (:mod:`framework.childrun`): a process of
its own with its output in ``RPA_HOME/pool/logs/<bot>/``, the time limit of the job (the bot's
``pool.time_limit_minutes``, or the schedule's), then a stop request and a kill. How the process
ended decides what becomes of the job:

* exit 0 or 1 — the job succeeded (items that need a person are in the run log, as always);
* the worker is stopping — the bot was asked to stop (the STOP file ``rpa stop`` writes, and
  SIGTERM: it finishes the registration under way); the job goes back to the queue at once and
  another worker carries on (resume by key skips what was entered);
* exit 4, the bot already runs on this PC — the job goes back to the queue for a later try;
* anything else (invalid bot or input, aborted, crashed, past its time limit) — the job failed;
  it is not retried: the run log says why, and staff queue it again when it is fixed.

A scheduled job first claims its fire time (:mod:`framework.pool.claims`): a second job for the
same fire time does not run the bot.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.botlock import BotLock
from framework.childrun import ChildOutcome, run_dir_of, start_child, stop_child, wait_child
from framework.errors import KakariError
from framework.home import private_dir
from framework.outcome import ExitCode, RunStatus
from framework.pool.app import TASK_RUN_BOT
from framework.pool.claims import claim_fire_time
from framework.pool.job import BotJob

if TYPE_CHECKING:
    import procrastinate
    from loguru import Logger

    from framework.runlog import RunLog, RunRecord

BUSY_ATTEMPTS = 240
"""A job whose bot keeps running on this PC is tried this many times, then fails."""


class WorkerStoppingError(Exception):
    """The worker stops: the job goes back to the queue for another worker."""


class BotBusyError(Exception):
    """The bot already runs on this PC (exit code 4): the job is tried again later."""


class JobFailedError(KakariError):
    """The run failed, or could not start; the job is not retried."""


def pool_dir(home_root: Path) -> Path:
    """``RPA_HOME/pool``: the worker's log and the output of each job's run."""
    return home_root / "pool"


class JobRunner:
    """Runs the jobs a worker takes (one thread per job, as procrastinate calls sync tasks)."""

    def __init__(
        self,
        project_root: Path,
        home_root: Path,
        url: str,
        *,
        stop_grace: float,
        stopping: threading.Event,
        log: Logger,
    ) -> None:
        self.project_root = project_root
        self.home_root = home_root
        self.url = url
        self.stop_grace = stop_grace
        self.stopping = stopping
        self.log = log
        self._running: dict[int, dict[str, Any]] = {}
        self._state = threading.Lock()

    def current_jobs(self) -> list[dict[str, Any]]:
        """The jobs running now (for the worker's heartbeat and ``rpa workers``)."""
        with self._state:
            return [dict(entry) for entry in self._running.values()]

    def command(self, job: BotJob) -> list[str]:
        """``python -m framework.cli --project ROOT run BOT --trigger T [--input FILE]``."""
        argv = [sys.executable, "-m", "framework.cli", "--project", str(self.project_root)]
        argv += ["run", job.bot_id, "--trigger", job.trigger]
        path = self.input_path(job)
        if path is not None:
            argv += ["--input", str(path)]
        return argv

    def input_path(self, job: BotJob) -> Path | None:
        """The job's input on this PC: absolute as queued, or (a schedule's ``input:``)
        relative to the bot's folder of this PC's project."""
        if not job.input:
            return None
        path = Path(job.input)
        if path.is_absolute():
            return path
        from framework.loader import Project

        return (Project(self.project_root).bot_file(job.bot_id).parent / path).resolve()

    def run(self, job_id: int, job: BotJob) -> str:
        """Run the job's bot to its end; return a one-line result or raise (see the module)."""
        name = f"job {job_id} {job.describe()}"
        if job.scheduled:
            assert job.schedule is not None and job.fire_time is not None
            holder = claim_fire_time(self.url, job.bot_id, job.schedule, job.fire_time, job_id)
            if holder != job_id:
                self.log.warning(
                    f"{name}: この予定は job {holder} が受け持っています。実行しません"
                    f" (fire time already taken by job {holder}; not run)"
                )
                return f"not run: fire time taken by job {holder}"
        if self.stopping.is_set():
            raise WorkerStoppingError(name)
        path = self.input_path(job)
        if path is not None and not path.exists():
            raise JobFailedError(
                f"{name}: 入力が見つかりません: {path}。すべてのランナーPCから見える共有"
                " フォルダに置いてください (input not found on this runner PC)"
            )
        outcome, launched = self._run_child(job_id, job, name)
        outcome.run = self._finish_record(job, launched, outcome)
        if job.scheduled:
            self._record_schedule_end(job, outcome)
        return self._result(name, outcome)

    def _run_child(self, job_id: int, job: BotJob, name: str) -> tuple[ChildOutcome, dt.datetime]:
        launched = dt.datetime.now().astimezone()
        log_path = pool_dir(self.home_root) / "logs" / job.bot_id
        private_dir(log_path)
        log_path = log_path / f"{launched:%Y%m%d-%H%M%S}-job{job_id}.log"
        env = {**os.environ, "RPA_HOME": str(self.home_root), "PYTHONIOENCODING": "utf-8"}
        argv = self.command(job)
        header = f"# {name}: {' '.join(argv)}"
        self.log.info(f"{name}: 開始します (starting) ログ (log): {log_path}")
        proc = start_child(
            argv, log_path, header, cwd=self.project_root, env=env, die_with_parent=True
        )
        with self._state:
            self._running[job_id] = {
                "job_id": job_id,
                "bot_id": job.bot_id,
                "trigger": job.trigger,
                "schedule": job.schedule,
                "fire_time": job.fire_time,
                "pid": proc.pid,
                "since": launched.isoformat(timespec="seconds"),
                "log": str(log_path),
            }
        try:
            outcome = wait_child(
                proc,
                job.time_limit_minutes * 60,
                self.stopping,
                lambda: stop_child(
                    proc,
                    run_dir_of(self.home_root, job.bot_id, proc.pid),
                    self.stop_grace,
                    self.log,
                    name,
                ),
            )
        finally:
            with self._state:
                self._running.pop(job_id, None)
        outcome.log = log_path
        return outcome, launched

    def _open_runlog(self) -> RunLog:
        from framework.runlog import open_runlog

        return open_runlog(self.home_root)

    def _finish_record(
        self, job: BotJob, launched: dt.datetime, outcome: ChildOutcome
    ) -> RunRecord | None:
        """The run the process recorded; a run killed while marked running is closed now."""
        host = socket.gethostname()
        since = launched - dt.timedelta(seconds=1)
        runlog = self._open_runlog()
        try:
            runs = [
                r
                for r in runlog.recent_runs(limit=20, bot_id=job.bot_id)
                if r.trigger == job.trigger and r.host == host and r.started_at >= since
            ]
            record = runs[0] if runs else None
            if (
                record is not None
                and record.status is RunStatus.RUNNING
                and not BotLock(self.home_root / "locks", job.bot_id).held()
            ):
                from framework.scheduling import dead_run_reason

                reason = dead_run_reason(job.time_limit_minutes, outcome, stopped_by="ワーカー")
                runlog.close_unfinished(record.id, reason)
                record = runlog.get_run(record.id)
            return record
        finally:
            runlog.close()

    def _record_schedule_end(self, job: BotJob, outcome: ChildOutcome) -> None:
        from framework.runlog import ScheduleEvent
        from framework.scheduling import outcome_event

        assert job.schedule is not None and job.fire_time is not None
        kind, message, run_id = outcome_event(
            job.time_limit_minutes, outcome, stopped_by="ワーカー"
        )
        runlog = self._open_runlog()
        try:
            runlog.record_schedule_event(
                ScheduleEvent(
                    bot_id=job.bot_id,
                    schedule=job.schedule,
                    fire_time=dt.datetime.fromisoformat(job.fire_time),
                    event=kind,
                    run_id=run_id,
                    message=f"{socket.gethostname()}: {message}",
                    at=dt.datetime.now().astimezone(),
                )
            )
        finally:
            runlog.close()

    def _result(self, name: str, outcome: ChildOutcome) -> str:
        run = outcome.run
        done = f"run {run.id} {run.status.label}、全 {run.items_total} 件" if run else "run -"
        if run is not None and run.message:
            done += f"（{run.message}）"
        if outcome.stopped and not outcome.timed_out and self.stopping.is_set():
            self.log.warning(
                f"{name}: ワーカーの停止のため中断しました。キューに戻します"
                f" (stopped with the worker; back to the queue): {done}"
            )
            raise WorkerStoppingError(name)
        if outcome.code == ExitCode.ALREADY_RUNNING:
            self.log.info(
                f"{name}: このPCでボットが実行中のため、後でやり直します"
                " (the bot runs on this PC; tried again later)"
            )
            raise BotBusyError(name)
        if outcome.timed_out:
            raise JobFailedError(
                f"{name}: 時間制限を超えたため止めました (stopped at the time limit): {done}"
            )
        if outcome.code in (ExitCode.OK, ExitCode.ITEMS_FAILED):
            self.log.info(f"{name}: 終了しました (finished): {done}")
            return f"exit {outcome.code}: {done}"
        raise JobFailedError(
            f"{name}: 終了コード {outcome.code} で終わりました (the run failed): {done}"
            f" ログ (log): {outcome.log}"
        )


def register_run_task(app: procrastinate.App, runner: JobRunner, busy_retry: float) -> None:
    """Register the run-bot task on the worker's app, with its retry rules."""
    from procrastinate import JobContext, RetryDecision
    from procrastinate.jobs import Job
    from procrastinate.retry import BaseRetryStrategy

    class RunRetry(BaseRetryStrategy):
        """Back to the queue when the worker stops (at once) or the bot is busy (later)."""

        def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
            if isinstance(exception, WorkerStoppingError):
                return RetryDecision(retry_in={"seconds": 0})
            if isinstance(exception, BotBusyError) and job.attempts < BUSY_ATTEMPTS:
                return RetryDecision(retry_in={"seconds": int(busy_retry)})
            return None

    def run_bot(context: JobContext, /, **args: Any) -> str:
        job_id = context.job.id
        assert job_id is not None
        try:
            return runner.run(job_id, BotJob.from_args(args))
        except JobFailedError as exc:  # procrastinate logs only "ended with status: Error"
            runner.log.error(str(exc))
            raise

    app.task(name=TASK_RUN_BOT, pass_context=True, retry=RunRetry())(run_bot)
