"""The log of the long-running services (``rpa scheduler``, ``rpa worker``).

Each service writes its own rotated log under ``RPA_HOME`` (and, unless it runs hidden, to
stderr), with the warnings of the library it is built on (APScheduler, procrastinate) passed on
into the same log. How they stop is :mod:`framework.servicestop`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
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
