"""Stopping a run cleanly: Ctrl+C, SIGTERM, or a stop file written by ``rpa stop`` or the tray.

The first request asks the run to stop at the next safe point: the current item is finished if
its registration (``commit`` step) has started, otherwise it is left unentered and recorded as
such; then the run ends with exit code 3. A second Ctrl+C stops at once (the run log stays
consistent because every state change is its own transaction).

The signal handler takes no lock (it runs wherever the main thread happens to be, which may be
inside the very lock it would need): it sets a plain flag that :attr:`StopSignal.requested`
reads at the run's safe points. Its Ctrl+C message is written at once unless the console is in
the middle of another write (a reentrant write is refused, not waited for); then
:attr:`~StopSignal.requested` writes it.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from contextlib import suppress
from pathlib import Path
from types import FrameType
from typing import Any

STOP_FILE = "STOP"
_STOPPING_MESSAGE = (
    "\n停止します。今の申請を終えてから止まります（すぐに止めるにはもう一度 Ctrl+C）"
    " (stopping after the current item; press Ctrl+C again to stop at once)\n"
)


class StopRequestedError(Exception):
    """Raised at a safe point after a stop was requested (never shown to users as an error)."""


class StopSignal:
    """Watches for stop requests while a run executes."""

    def __init__(self, run_dir: Path) -> None:
        self.stop_file = run_dir / STOP_FILE
        self._event = threading.Event()
        self._signalled: int | None = None
        """The signal received (a flag, not the event: setting an event takes a lock)."""
        self._announced = False
        self._presses = 0
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        if not self._event.is_set() and self._signalled is not None:
            self._event.set()
            self._announce()
        if not self._event.is_set() and self.stop_file.exists():
            self._event.set()
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True (early) if a stop is requested meanwhile."""
        deadline = seconds
        step = 0.25
        while deadline > 0:
            if self.requested:
                return True
            self._event.wait(min(step, deadline))
            deadline -= step
        return self.requested

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._presses += 1
        if self._presses >= 2:
            raise KeyboardInterrupt
        self._signalled = signum
        with suppress(RuntimeError, OSError):  # mid-write: `requested` says it instead
            self._announce()

    def _announce(self) -> None:
        stream = sys.stderr  # None under pythonw
        if self._announced or stream is None or self._signalled != getattr(signal, "SIGINT", None):
            return
        stream.write(_STOPPING_MESSAGE)
        stream.flush()
        self._announced = True

    def install(self) -> None:
        """Take over Ctrl+C and SIGTERM (only possible in the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for name in ("SIGINT", "SIGTERM"):
            number = getattr(signal, name, None)
            if number is not None:
                self._previous[number] = signal.signal(number, self._handle)

    def uninstall(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()


def request_stop(run_dir: Path) -> None:
    """Ask the run that owns ``run_dir`` to stop (works across processes, on every platform)."""
    (run_dir / STOP_FILE).write_text("stop\n", encoding="utf-8")


def stop_bot(home_root: Path, bot_id: str) -> str | None:
    """Ask the running run of ``bot_id`` to stop: what ``rpa stop`` and the tray both do.

    Returns the id of the run asked to stop, or None when the bot is not running on this PC
    (no process holds its lock: a crashed run's leftovers do not count).
    """
    from framework.botlock import BotLock

    locks = home_root / "locks"
    if not (locks / f"{bot_id}.lock").exists() or not BotLock(locks, bot_id).held():
        return None
    try:
        holder = json.loads((locks / f"{bot_id}.json").read_text(encoding="utf-8"))
        run_id = str(holder["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    request_stop(home_root / "runs" / run_id)
    return run_id
