"""The run log: one row per run and one per item, in SQLite under ``RPA_HOME`` by default.

:class:`RunLog` is the interface the runner and the commands use; :class:`SqliteRunLog` is the
default implementation (a server database can implement the same interface). The package:

* :mod:`~framework.runlog.records` — what is kept: runs, prior items, scheduler events, report rows;
* :mod:`~framework.runlog.keys` — item keys as keyed hashes, and the installation's secret;
* :mod:`~framework.runlog.store` — :class:`RunLog`, what every store offers;
* :mod:`~framework.runlog.sqlite` — :class:`SqliteRunLog`: WAL, ``synchronous=FULL``, the SQL;
* :mod:`~framework.runlog.schema` — :data:`MIGRATIONS`, the versioned SQLite schema.
"""

from __future__ import annotations

from pathlib import Path

from framework.runlog.keys import ItemKey
from framework.runlog.records import (
    BaselineUse,
    PriorItem,
    RunFilter,
    RunLine,
    RunRecord,
    RunTally,
    ScheduleEvent,
    ScheduleEventKind,
)
from framework.runlog.schema import MIGRATIONS
from framework.runlog.sqlite import SqliteRunLog
from framework.runlog.store import RunLog


def open_runlog(home_root: Path) -> RunLog:
    """The run log this PC uses: the SQLite file under ``home_root`` (``RPA_HOME``)."""
    return SqliteRunLog(home_root / "runlog.sqlite3")


def runlog_exists(home_root: Path) -> bool:
    """Whether there is a run log to read (readers skip opening one that was never written)."""
    return (home_root / "runlog.sqlite3").exists()


__all__ = [
    "MIGRATIONS",
    "BaselineUse",
    "ItemKey",
    "PriorItem",
    "RunFilter",
    "RunLine",
    "RunLog",
    "RunRecord",
    "RunTally",
    "ScheduleEvent",
    "ScheduleEventKind",
    "SqliteRunLog",
    "open_runlog",
    "runlog_exists",
]
