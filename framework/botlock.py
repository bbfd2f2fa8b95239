"""One run of a bot at a time on a PC: an OS file lock per bot under ``RPA_HOME/locks``.

The lock is an operating-system lock (``filelock``), so it is released by the OS when the process
holding it dies, even with ``kill -9`` or a power cut: a crashed run never blocks the next one.
Next to it, a small JSON file says who holds it (run id, PID, host, start), for the message a
second start prints; finding that file while the lock is free means the previous run crashed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from framework.errors import KakariError


class AlreadyRunningError(KakariError):
    """The bot is running already; the message says since when and where."""

    def __init__(self, bot_id: str, holder: dict[str, Any]) -> None:
        self.bot_id = bot_id
        self.holder = holder
        if holder:
            since = holder.get("started_at", "?")
            detail = (
                f"（run {holder.get('run_id', '?')}、開始 {since}、PID {holder.get('pid', '?')}）"
            )
        else:
            since, detail = "just now", "（たった今、別の実行が始まりました）"
        super().__init__(
            f"ボット {bot_id} は実行中です{detail}。終わってから"
            f" もう一度実行してください (already running since {since})"
        )


@dataclass
class Stale:
    """What a crashed previous run left behind."""

    run_id: str
    pid: int | None
    started_at: str


class BotLock:
    """Hold while a bot runs: ``with BotLock(home_dir, bot_id).hold(run_id) as stale: ...``."""

    def __init__(self, locks_dir: Path, bot_id: str) -> None:
        locks_dir.mkdir(parents=True, exist_ok=True)
        self.bot_id = bot_id
        self._lock = FileLock(str(locks_dir / f"{bot_id}.lock"), timeout=0)
        self._info = locks_dir / f"{bot_id}.json"

    def acquire(self, run_id: str) -> Stale | None:
        """Take the lock or raise :class:`AlreadyRunningError`; return a crashed run's traces."""
        try:
            self._lock.acquire()
        except Timeout:
            raise AlreadyRunningError(self.bot_id, self._read()) from None
        stale = None
        previous = self._read()
        if previous:
            stale = Stale(
                run_id=str(previous.get("run_id", "")),
                pid=previous.get("pid"),
                started_at=str(previous.get("started_at", "")),
            )
        partial = self._info.with_suffix(".tmp")
        partial.write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        partial.replace(self._info)  # atomic: a second start never reads half a file
        return stale

    def held(self) -> bool:
        """Whether a run holds the lock now (a crashed run does not: the OS released it)."""
        try:
            self._lock.acquire()
        except Timeout:
            return True
        self._lock.release()
        return False

    def release(self) -> None:
        self._info.unlink(missing_ok=True)
        self._lock.release()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self._info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
