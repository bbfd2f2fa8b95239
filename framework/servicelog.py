"""What the long-running services (``rpa scheduler``, ``rpa worker``) share: their log and signals.

Each service writes its own rotated log under ``RPA_HOME`` (and, unless it runs hidden, to
stderr), with the warnings of the library it is built on (APScheduler, procrastinate) passed on
into the same log; and each stops cleanly on SIGTERM / Ctrl+C (Windows: also Ctrl+Break).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from loguru import logger

from framework.home import private_dir


class _ToLoguru(logging.Handler):
    """A standard-library logger's records into our log, marked as the service's own (no
    traceback: a failed job's or run's reason is already in its message)."""

    def __init__(self, tag: str, library: str) -> None:
        super().__init__()
        self.tag = tag
        self.library = library

    def emit(self, record: logging.LogRecord) -> None:
        logger.bind(**{self.tag: True}).log(
            record.levelname, f"{self.library}: {record.getMessage()}"
        )


def service_logging(
    path: Path,
    tag: str,
    *,
    libraries: Sequence[str],
    echo: bool = True,
    echo_errors: bool = True,
) -> list[int]:
    """Send the records bound with ``tag`` (``logger.bind(scheduler=True)``) to ``path``
    (rotated at 5 MB, 10 kept) and stderr; return the loguru sink ids.

    ``libraries``: standard-library loggers whose warnings join the log. ``echo_errors=False``
    keeps errors off stderr (the service prints them itself, in its own words).
    """
    private_dir(path.parent)

    def ours(record: Any) -> bool:
        return bool(record["extra"].get(tag))

    def echoed(record: Any) -> bool:
        return ours(record) and (echo_errors or record["level"].no < logging.ERROR)

    sinks = [
        logger.add(
            path,
            level="INFO",
            format="{time:YYYY-MM-DD HH:mm:ss} {level: <7} {message}",
            rotation="5 MB",
            retention=10,
            encoding="utf-8",
            filter=ours,
            backtrace=False,
            diagnose=False,
        )
    ]
    if echo and sys.stderr is not None:  # pythonw (a hidden Windows task) has no stderr
        sinks.append(
            logger.add(sys.stderr, level="INFO", format="{time:HH:mm:ss} {message}", filter=echoed)
        )
    for name in libraries:
        std = logging.getLogger(name)
        std.setLevel(logging.WARNING)
        std.handlers = [_ToLoguru(tag, name.split(".")[0])]
        std.propagate = False
    return sinks


@contextmanager
def signal_handlers(handlers: Mapping[str, Callable[[], None]]) -> Iterator[None]:
    """Call ``handlers[name]`` on each named signal the platform has (``SIGTERM``, ``SIGHUP``…)
    while the block runs, then put the previous handlers back. Outside the main thread (tests
    running a service in a thread) nothing is installed."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name, handler in handlers.items():
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, _call(handler))
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _call(handler: Callable[[], None]) -> Callable[[int, FrameType | None], None]:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        handler()

    return on_signal
