"""The workers seen, for ``rpa workers``: one row per ``rpa worker`` in ``kakari.pool_workers``.

A worker registers when it starts (host, PID, queues, concurrency, its heartbeat interval and
stall timeout), rewrites its heartbeat and current jobs at every heartbeat, and marks itself
stopped when it ends. A row whose heartbeat is older than the worker's own stall timeout, and
that never said it stopped, is *stale*: the worker died (its jobs are retried elsewhere).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from framework.pool.app import connect


class WorkerState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    STALE = "stale"

    @property
    def label(self) -> str:
        return {"running": "稼働中", "stopped": "停止", "stale": "応答なし"}[self.value]


@dataclass
class WorkerRow:
    """One worker as ``rpa workers`` shows it."""

    id: int
    host: str
    pid: int
    queues: list[str]
    concurrency: int
    started_at: dt.datetime
    last_heartbeat: dt.datetime
    stopped_at: dt.datetime | None
    stalled_after: float
    state: WorkerState
    current_jobs: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "queues": self.queues,
            "concurrency": self.concurrency,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "last_heartbeat": self.last_heartbeat.isoformat(timespec="seconds"),
            "stopped_at": self.stopped_at.isoformat(timespec="seconds")
            if self.stopped_at
            else None,
            "state": self.state.value,
            "current_jobs": self.current_jobs,
        }


def register_worker(
    url: str,
    *,
    host: str,
    pid: int,
    queues: list[str],
    concurrency: int,
    heartbeat_seconds: float,
    stalled_after: float,
) -> int:
    """Add a row for a starting worker; return its id."""
    with connect(url) as conn:
        row = conn.execute(
            """INSERT INTO kakari.pool_workers
                   (host, pid, queues, concurrency, heartbeat_seconds, stalled_after)
               VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
            (host, pid, queues, concurrency, heartbeat_seconds, stalled_after),
        ).fetchone()
    return int(row[0])


def beat(url: str, worker_id: int, current_jobs: list[dict[str, Any]]) -> None:
    """The worker is alive, running ``current_jobs``."""
    with connect(url) as conn:
        conn.execute(
            """UPDATE kakari.pool_workers
               SET last_heartbeat = now(), current_jobs = %s::jsonb WHERE id = %s""",
            (json.dumps(current_jobs, ensure_ascii=False), worker_id),
        )


def worker_stopped(url: str, worker_id: int) -> None:
    with connect(url) as conn:
        conn.execute(
            """UPDATE kakari.pool_workers
               SET stopped_at = now(), last_heartbeat = now(), current_jobs = '[]'::jsonb
               WHERE id = %s""",
            (worker_id,),
        )


def list_workers(url: str, *, since: dt.timedelta | None = None) -> list[WorkerRow]:
    """The workers heard from within ``since`` (default: ever), by host."""
    horizon = since if since is not None else dt.timedelta(days=3650)
    with connect(url) as conn:
        rows = conn.execute(
            """SELECT id, host, pid, queues, concurrency, started_at, last_heartbeat, stopped_at,
                      stalled_after, current_jobs,
                      (stopped_at IS NULL AND last_heartbeat
                           >= now() - make_interval(secs => stalled_after)) AS alive
               FROM kakari.pool_workers
               WHERE last_heartbeat >= now() - %s::interval
               ORDER BY host, started_at, id""",
            (horizon,),
        ).fetchall()
    found = []
    for row in rows:
        (wid, host, pid, queues, concurrency, started, last, stopped, stall, jobs, alive) = row
        if stopped is not None:
            state = WorkerState.STOPPED
        elif alive:
            state = WorkerState.RUNNING
        else:
            state = WorkerState.STALE
        found.append(
            WorkerRow(
                id=int(wid),
                host=str(host),
                pid=int(pid),
                queues=list(queues),
                concurrency=int(concurrency),
                started_at=started,
                last_heartbeat=last,
                stopped_at=stopped,
                stalled_after=float(stall),
                state=state,
                current_jobs=list(jobs) if state is WorkerState.RUNNING else [],
            )
        )
    return found
