"""The queue of a runner pool: procrastinate's ``App`` on the PostgreSQL database, and its schema.

procrastinate and psycopg are the ``pool`` extra (``pip install kakari[pool]``); they are imported
here, inside functions, so that ``rpa run`` and ``rpa validate`` work without them. The database
is the one of ``RPA_DATABASE_URL`` (:mod:`framework.database`); every message shows it masked.

:func:`prepare_database` makes the database ready, idempotently and under an advisory lock (two
workers starting at once create it once): procrastinate's own tables in the ``public`` schema
(created once; a newer procrastinate needs its migrations, see docs/pool.md), and kakari's pool
tables in the ``kakari`` schema (:data:`POOL_TABLES`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from framework.database import database_url, driver_reason, masked
from framework.errors import KakariError

if TYPE_CHECKING:
    import procrastinate

TASK_RUN_BOT = "kakari.run_bot"
"""The name of the run-bot task in the queue (kept stable: queued jobs refer to it)."""
SCHEMA_LOCK = 0x6B616B61726901
"""Advisory lock taken while the schema is created."""

POOL_TABLES = """
CREATE SCHEMA IF NOT EXISTS kakari;
CREATE TABLE IF NOT EXISTS kakari.pool_workers (
    id BIGSERIAL PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    queues TEXT[] NOT NULL,
    concurrency INTEGER NOT NULL,
    heartbeat_seconds REAL NOT NULL,
    stalled_after REAL NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_heartbeat TIMESTAMPTZ NOT NULL DEFAULT now(),
    stopped_at TIMESTAMPTZ,
    current_jobs JSONB NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS kakari.pool_claims (
    bot_id TEXT NOT NULL,
    schedule TEXT NOT NULL,
    fire_time TEXT NOT NULL,
    job_id BIGINT NOT NULL,
    host TEXT NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, schedule, fire_time)
);
"""
"""kakari's own pool tables: the workers seen (``rpa workers``) and the scheduled fire times
taken by a job (:mod:`framework.pool.claims`)."""


class PoolMissingError(KakariError):
    """procrastinate or psycopg is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "ランナープールの部品が入っていません。pip install kakari[pool] で入れてください"
            " (the runner-pool extra is missing: pip install kakari[pool])"
        )


class NoDatabaseError(KakariError):
    """A pool command ran without ``RPA_DATABASE_URL``."""

    def __init__(self) -> None:
        super().__init__(
            "RPA_DATABASE_URL が設定されていません。キューを置く PostgreSQL の URL"
            "（postgresql://ユーザー@ホスト:5432/データベース）を設定してください（docs/pool.md）"
            " (RPA_DATABASE_URL is not set: the queue lives in PostgreSQL)"
        )


class DatabaseUnreachableError(KakariError):
    """The database could not be reached (or refused the login)."""

    def __init__(self, url: str, exc: BaseException) -> None:
        super().__init__(
            f"データベースに接続できません: {masked(url)}: {driver_reason(url, exc)}"
            " (cannot connect to the queue's database)"
        )


def require_pool() -> None:
    """Fail with :class:`PoolMissingError` (not an ImportError) without the ``pool`` extra."""
    try:
        import procrastinate  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PoolMissingError() from exc


def pool_url() -> str:
    """``RPA_DATABASE_URL``, checked; :class:`NoDatabaseError` when it is not set."""
    url = database_url()
    if url is None:
        raise NoDatabaseError()
    require_pool()
    return url


def build_app(url: str, *, max_connections: int = 4) -> procrastinate.App:
    """procrastinate's ``App`` on ``url`` (not opened; tasks are registered by the caller)."""
    require_pool()
    import procrastinate

    connector = procrastinate.PsycopgConnector(
        conninfo=url,
        min_size=1,
        max_size=max(2, max_connections),
        kwargs={"application_name": "kakari"},
    )
    return procrastinate.App(connector=connector)


def connect(url: str, *, autocommit: bool = True) -> Any:
    """A plain psycopg connection (for kakari's own pool tables); raises
    :class:`DatabaseUnreachableError` when the server cannot be reached."""
    require_pool()
    import psycopg

    try:
        return psycopg.connect(
            url, autocommit=autocommit, connect_timeout=10, application_name="kakari"
        )
    except psycopg.Error as exc:  # refused, unreachable, or a malformed URL
        raise DatabaseUnreachableError(url, exc) from None


def prepare_database(url: str) -> bool:
    """Create procrastinate's tables (if missing) and kakari's pool tables; return whether
    procrastinate's schema was created now."""
    from procrastinate.schema import SchemaManager

    with connect(url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            found = conn.execute("SELECT to_regclass('public.procrastinate_jobs')").fetchone()
            created = found is None or found[0] is None
            if created:
                conn.execute(SchemaManager.get_schema())
            conn.execute(POOL_TABLES)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    return created
