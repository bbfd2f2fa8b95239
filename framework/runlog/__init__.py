"""The run log: one row per run and one per item, in SQLite under ``RPA_HOME`` by default.

:class:`RunLog` is the interface the runner and the commands use; :class:`SqliteRunLog` is the
default implementation, :class:`~framework.runlog.postgres.PostgresRunLog` the shared one used
when ``RPA_DATABASE_URL`` is set (:func:`open_runlog` chooses). The package:

* :mod:`~framework.runlog.records` — what is kept: runs, prior items, scheduler events, report rows;
* :mod:`~framework.runlog.keys` — item keys as keyed hashes, and the installation's secret;
* :mod:`~framework.runlog.store` — :class:`RunLog`, what every store offers;
* :mod:`~framework.runlog.sqlstore` — every query, written once for both stores;
* :mod:`~framework.runlog.sqlite` — :class:`SqliteRunLog`: WAL, ``synchronous=FULL``;
* :mod:`~framework.runlog.schema` — :data:`MIGRATIONS`, the versioned SQLite schema;
* :mod:`~framework.runlog.postgres` — :class:`PostgresRunLog`: PostgreSQL (psycopg), advisory
  locks, the shared key secret;
* :mod:`~framework.runlog.pgschema` — :data:`PG_MIGRATIONS`, one per SQLite migration;
* :mod:`~framework.runlog.transfer` — copying a SQLite log's history into PostgreSQL.
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
from framework.runlog.store import RunLog, RunLogError, SchemaTooNewError

SQLITE_NAME = "runlog.sqlite3"


def open_runlog(home_root: Path) -> RunLog:
    """The run log this PC uses: the PostgreSQL database of ``RPA_DATABASE_URL`` when it is set,
    else the SQLite file under ``home_root`` (``RPA_HOME``)."""
    from framework.database import database_url

    url = database_url()
    if url is not None:
        from framework.runlog.postgres import PostgresRunLog

        return PostgresRunLog(url)
    return SqliteRunLog(home_root / SQLITE_NAME)


def runlog_exists(home_root: Path) -> bool:
    """Whether there is a run log to read: a database is configured, or the SQLite file exists.

    Readers (``rpa runs``, ``rpa report``, ``rpa audit``, the tray) say "no runs yet" instead of
    creating an empty SQLite file when this is False.
    """
    from framework.database import database_url

    return database_url() is not None or (home_root / SQLITE_NAME).exists()


def store_name() -> str:
    """Which store :func:`open_runlog` uses, for messages (the URL without its password)."""
    from framework.database import database_url, masked

    url = database_url()
    return f"PostgreSQL {masked(url)}" if url else "SQLite"


__all__ = [
    "MIGRATIONS",
    "BaselineUse",
    "ItemKey",
    "PriorItem",
    "RunFilter",
    "RunLine",
    "RunLog",
    "RunLogError",
    "RunRecord",
    "RunTally",
    "ScheduleEvent",
    "ScheduleEventKind",
    "SchemaTooNewError",
    "SqliteRunLog",
    "open_runlog",
    "runlog_exists",
    "store_name",
]
