"""The scheduler's heartbeat: a small JSON file it rewrites every tick, for status and doctor.

Layout under ``RPA_HOME``::

    scheduler/
      heartbeat.json      pid, host, start, last tick, next fire times, running bots, problems
      scheduler.lock      held (an OS lock) while a scheduler runs: one per RPA_HOME
      scheduler.log       the scheduler's own log (rotated)
      RELOAD              written by ``rpa scheduler --reload``; the next tick reloads
      logs/<bot>/*.log    the output of each scheduled ``rpa run``

Reading it imports nothing heavy, so ``rpa doctor`` and ``rpa scheduler status`` stay fast.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from framework.home import private_dir

HEARTBEAT_FILE = "heartbeat.json"
LOCK_FILE = "scheduler.lock"
RELOAD_FILE = "RELOAD"
STALE_TICKS = 3
"""A heartbeat older than this many ticks means the scheduler is hung or gone."""


def scheduler_dir(home_root: Path) -> Path:
    """``RPA_HOME/scheduler``."""
    return home_root / "scheduler"


@dataclass
class Heartbeat:
    """What the running scheduler says about itself."""

    pid: int
    host: str
    project: str
    started_at: dt.datetime
    last_tick: dt.datetime
    tick_seconds: float
    jobs: list[dict[str, Any]] = field(default_factory=list)
    """``{"bot_id", "schedule", "next_fire"}`` for every schedule in force."""
    running: list[dict[str, Any]] = field(default_factory=list)
    """``{"bot_id", "schedule", "fire_time", "pid", "since", "log"}`` for each bot running."""
    problems: list[str] = field(default_factory=list)
    """Manifests or the calendar it refused (their previous version stays in force)."""

    def age(self, now: dt.datetime) -> float:
        """Seconds since the last tick."""
        return (now - self.last_tick).total_seconds()

    def fresh(self, now: dt.datetime) -> bool:
        return self.age(now) <= STALE_TICKS * self.tick_seconds + 5

    def as_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "host": self.host,
            "project": self.project,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "last_tick": self.last_tick.isoformat(timespec="seconds"),
            "tick_seconds": self.tick_seconds,
            "jobs": self.jobs,
            "running": self.running,
            "problems": self.problems,
        }


def write_heartbeat(home_root: Path, beat: Heartbeat) -> None:
    """Replace the heartbeat file atomically (a reader never sees half of it)."""
    folder = private_dir(scheduler_dir(home_root))
    partial = folder / (HEARTBEAT_FILE + f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(beat.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(folder / HEARTBEAT_FILE)


def read_heartbeat(home_root: Path) -> Heartbeat | None:
    """The last heartbeat written, or None if there is none (or it cannot be read)."""
    try:
        data = json.loads((scheduler_dir(home_root) / HEARTBEAT_FILE).read_text(encoding="utf-8"))
        return Heartbeat(
            pid=int(data["pid"]),
            host=str(data["host"]),
            project=str(data.get("project", "")),
            started_at=dt.datetime.fromisoformat(data["started_at"]),
            last_tick=dt.datetime.fromisoformat(data["last_tick"]),
            tick_seconds=float(data["tick_seconds"]),
            jobs=list(data.get("jobs", [])),
            running=list(data.get("running", [])),
            problems=[str(p) for p in data.get("problems", [])],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def scheduler_lock(home_root: Path) -> FileLock:
    """The OS lock a running scheduler holds (released by the OS if it dies)."""
    folder = scheduler_dir(home_root)
    private_dir(folder)
    return FileLock(str(folder / LOCK_FILE), timeout=0)


def scheduler_running(home_root: Path) -> bool:
    """Whether a scheduler holds this RPA_HOME's lock now."""
    if not (scheduler_dir(home_root) / LOCK_FILE).exists():
        return False
    lock = scheduler_lock(home_root)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False


def request_reload(home_root: Path) -> None:
    """Ask the running scheduler to read every manifest and the calendar again."""
    folder = scheduler_dir(home_root)
    private_dir(folder)
    (folder / RELOAD_FILE).write_text("reload\n", encoding="utf-8")
