"""The running tray seen from outside: its lock, status file, inbox of actions and daily log.

Layout (under ``RPA_HOME``, owner-only like the rest of it)::

    tray/
      tray.lock            one tray per RPA_HOME (an OS lock: a crashed tray never blocks)
      tray.json            who holds it (PID, start), for the message a second start prints
      status.json          state, tooltip, the running bot and its progress, the last run
      inbox/*.json         menu actions sent with ``rpa tray --send ACTION``
      logs/YYYY-MM-DD.log  today's log: what the tray did, and what each of its runs printed
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from framework.errors import KakariError
from framework.home import private_dir, private_file

LOG_KEEP_DAYS = 30


def tray_dir(home_root: Path) -> Path:
    return home_root / "tray"


class TrayRunningError(KakariError):
    """A tray already runs for this RPA_HOME; the message says since when."""

    def __init__(self, holder: Mapping[str, Any]) -> None:
        self.holder = dict(holder)
        since = holder.get("started_at", "?")
        super().__init__(
            f"トレイはすでに起動しています（PID {holder.get('pid', '?')}、開始 {since}）。"
            "時計の横のアイコンを使ってください（見えないときは ^ を押すと表示されます）"
            " (the tray is already running: use its icon next to the clock)"
        )


class TrayLock:
    """Held by the running tray for its whole life."""

    def __init__(self, home_root: Path) -> None:
        folder = private_dir(tray_dir(home_root))
        self._lock = FileLock(str(folder / "tray.lock"), timeout=0)
        self._info = folder / "tray.json"

    def acquire(self) -> None:
        """Take the lock or raise :class:`TrayRunningError`."""
        try:
            self._lock.acquire()
        except Timeout:
            raise TrayRunningError(self.holder()) from None
        _write_json(
            self._info,
            {
                "pid": os.getpid(),
                "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            },
        )

    def held(self) -> bool:
        """Whether a tray holds the lock now (only for commands, never polled)."""
        try:
            self._lock.acquire()
        except Timeout:
            return True
        self._lock.release()
        return False

    def holder(self) -> dict[str, Any]:
        return _read_json(self._info) or {}

    def release(self) -> None:
        self._info.unlink(missing_ok=True)
        self._lock.release()


# -- status ------------------------------------------------------------------------------------


def status_path(home_root: Path) -> Path:
    return tray_dir(home_root) / "status.json"


def write_status(home_root: Path, status: Mapping[str, Any]) -> None:
    _write_json(status_path(home_root), status)


def read_status(home_root: Path) -> dict[str, Any] | None:
    return _read_json(status_path(home_root))


# -- inbox -------------------------------------------------------------------------------------


def inbox_dir(home_root: Path) -> Path:
    return tray_dir(home_root) / "inbox"


def send_action(home_root: Path, action: str) -> Path:
    """Leave an action for the running tray (it picks it up within a second)."""
    folder = private_dir(inbox_dir(home_root))
    name = f"{dt.datetime.now():%Y%m%d%H%M%S%f}-{os.getpid()}-{os.urandom(2).hex()}.json"
    path = folder / name
    _write_json(path, {"action": action})
    return path


def take_actions(home_root: Path) -> list[str]:
    """The actions waiting in the inbox, oldest first; each is removed as it is read."""
    folder = inbox_dir(home_root)
    if not folder.is_dir():
        return []
    actions: list[str] = []
    for path in sorted(folder.glob("*.json")):
        data = _read_json(path)
        path.unlink(missing_ok=True)
        if data and isinstance(data.get("action"), str):
            actions.append(data["action"])
    return actions


# -- today's log -------------------------------------------------------------------------------


def log_path(home_root: Path, day: dt.date | None = None) -> Path:
    day = day or dt.date.today()
    return tray_dir(home_root) / "logs" / f"{day.isoformat()}.log"


def log_line(home_root: Path, text: str) -> Path:
    """Append one line, with the time, to today's log (created owner-only)."""
    path = log_path(home_root)
    private_dir(path.parent)
    new = not path.exists()
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{dt.datetime.now():%H:%M:%S} {text}\n")
    if new:
        private_file(path)
    return path


def prune_logs(home_root: Path, today: dt.date | None = None) -> list[Path]:
    """Delete daily logs older than :data:`LOG_KEEP_DAYS` (they may name input files)."""
    today = today or dt.date.today()
    removed: list[Path] = []
    folder = tray_dir(home_root) / "logs"
    for path in folder.glob("*.log") if folder.is_dir() else []:
        try:
            day = dt.date.fromisoformat(path.stem)
        except ValueError:
            continue
        if (today - day).days > LOG_KEEP_DAYS:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


# -- files -------------------------------------------------------------------------------------


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write atomically (a reader never sees half a file); owner-only."""
    private_dir(path.parent)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        private_file(partial)
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
