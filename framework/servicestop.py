"""How the long-running services (``rpa scheduler``, ``rpa worker``) stop: signals and a deadline.

**Signals are handled outside the signal handler.** A Python signal handler runs in the main
thread between two bytecodes, wherever that thread happens to be, so a handler that takes a lock
(setting a ``threading.Event``, writing a log line) deadlocks when the main thread already holds
that lock: the scheduler's main thread spends its life inside ``Event.wait``. So while
:func:`signal_handlers` is active, the operating system's signal handler only writes the signal's
number into a socket (``signal.set_wakeup_fd``, async-signal-safe) and a small dispatcher thread
reads it and calls the service's handler there, where taking locks is safe.

**A stop has a deadline.** :class:`StopDeadline` is armed when a stop is requested: the service
asks its bots to stop and waits for them (``--stop-grace``), then ends. If the process has not
ended by the deadline (a database call that never returns, a library task that ignores its
cancellation), every thread's stack and every asyncio task's go into the service log so the
cause can be found, and the process exits with code 3, rather than hanging until the service
manager (systemd, Windows services) kills it without a word.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TYPE_CHECKING, Any

from framework.outcome import ExitCode

if TYPE_CHECKING:
    from loguru import Logger

STOP_MARGIN = 30.0
"""Seconds a service gets, after its bots' own grace period, to close its connections and end."""


@contextmanager
def signal_handlers(handlers: Mapping[str, Callable[[], None]]) -> Iterator[None]:
    """Call ``handlers[name]`` on each named signal the platform has (``SIGTERM``, ``SIGHUP``…)
    while the block runs, then put the previous handlers back.

    The handlers run in a dispatcher thread, never inside the signal handler itself (see the
    module), so they may log, set events and take locks. Outside the main thread (tests running
    a service in a thread) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {
        number: handler
        for name, handler in handlers.items()
        if (number := getattr(signal, name, None)) is not None
    }
    reader, writer = socket.socketpair()
    writer.setblocking(False)  # set_wakeup_fd needs a non-blocking descriptor
    previous: dict[int, Any] = {}
    dispatcher = threading.Thread(
        target=_dispatch, args=(reader, wanted), name="kakari-signals", daemon=True
    )
    dispatcher.start()
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    try:
        for number in wanted:
            previous[number] = signal.signal(number, _noted)
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
        signal.set_wakeup_fd(old_fd)
        writer.close()  # the dispatcher reads the end of the stream and returns
        dispatcher.join(5)
        reader.close()


def _noted(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing. The wakeup socket already carries the signal."""


def _dispatch(reader: socket.socket, handlers: Mapping[int, Callable[[], None]]) -> None:
    from loguru import logger

    while True:
        try:
            received = reader.recv(64)
        except OSError:
            return
        if not received:
            return
        for number in received:
            handler = handlers.get(number)
            if handler is None:
                continue
            try:
                handler()
            except Exception:  # the next signal must still be heard
                logger.exception(f"シグナル {number} の処理に失敗しました (signal handler failed)")


class StopDeadline:
    """Ends the process, with its stacks in the log, if a requested stop takes too long.

    ``start()`` arms it (once; later calls do nothing); ``cancel()`` disarms it when the service
    has stopped. ``loop`` is the service's asyncio loop, if it has one, whose tasks are listed too.
    """

    def __init__(
        self,
        seconds: float,
        log: Logger,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        exit_process: Callable[[int], object] = os._exit,
    ) -> None:
        self.seconds = seconds
        self.log = log
        self.loop = loop
        self._exit = exit_process
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._timer is not None:
                return
            self._timer = threading.Timer(self.seconds, self._expired)
            self._timer.name = "kakari-stop-deadline"
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()

    def _expired(self) -> None:
        self.log.error(
            f"停止の指示から {self.seconds:g} 秒たっても終了できないため、強制終了します"
            f" (did not stop within {self.seconds:g} s of the stop request; exiting)."
            f" 原因調査用のスタック (stacks, for the cause):\n{stacks(self.loop)}"
        )
        with suppress(Exception):
            sys.stderr.flush()
        self._exit(ExitCode.ABORTED)


def stacks(loop: asyncio.AbstractEventLoop | None = None) -> str:
    """Every thread's stack, and the stack of each asyncio task of ``loop``: code locations
    only (file, line, function and its source line), never the values of variables."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        lines = "".join(traceback.format_stack(frame))
        parts.append(f"--- thread {names.get(ident, ident)}\n{lines}")
    if loop is not None:
        for task in _tasks(loop):
            chain = "".join(_awaiting(task.get_coro())) or "  (not started or finishing)\n"
            parts.append(f"--- task {task.get_name()}\n{chain}")
    return "\n".join(parts)


def _awaiting(coro: object) -> Iterator[str]:
    """Where a suspended coroutine waits: each coroutine of its ``await`` chain, outermost first."""
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            code = frame.f_code
            yield f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}\n'
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)


def _tasks(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[Any]]:
    for _ in range(5):  # read from another thread: the set may change while it is copied
        with suppress(RuntimeError):
            return list(asyncio.all_tasks(loop))
    return []
