"""The PostgreSQL run-log store: :class:`PostgresRunLog`, one log shared by every PC of a pool.

Selected by ``RPA_DATABASE_URL`` (:func:`framework.runlog.open_runlog`). Every state change of an
item is its own committed statement, as in SQLite, and PostgreSQL's default
``synchronous_commit=on`` puts it on the server's disk before the bot goes on. Several worker
processes on different PCs write the same log at once: single-row writes need no more than
PostgreSQL's row locks; the audit chain is appended under an advisory lock so it stays one chain;
the schema is upgraded by :data:`~framework.runlog.pgschema.PG_MIGRATIONS` under another.

The item-key secret lives in the database (``kakari.secret``), created once by whichever PC needs
it first, so every PC hashes an item's key the same way and a run on one PC resumes by key what
another PC started. ``psycopg`` is imported here only: the default install works without it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from framework.audit import Sealer
from framework.database import driver_reason, masked, require_psycopg
from framework.runlog.keys import ItemKey, item_key
from framework.runlog.pgschema import BOOTSTRAP, PG_MIGRATIONS
from framework.runlog.sqlstore import Row, SqlRunLog, drain
from framework.runlog.store import RunLogError, SchemaTooNewError

if TYPE_CHECKING:
    import psycopg

    Connection = psycopg.Connection[dict[str, Any]]

MIGRATION_LOCK = 0x6B616B61_00000001
"""Advisory lock held while the schema is checked or upgraded (one upgrade at a time)."""
AUDIT_LOCK = 0x6B616B61_00000002
"""Advisory lock held while an audit record is appended (one chain, no gaps)."""


class DatabaseUnavailableError(RunLogError):
    """The PostgreSQL server cannot be reached or refused the connection."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"実行記録のデータベースに接続できません: {masked(url)}（{reason}）。"
            " RPA_DATABASE_URL、サーバー、ネットワーク、パスワードファイルを確認してください"
            " (cannot connect to the run-log database; check RPA_DATABASE_URL, the server and"
            " pgpass)"
        )


def connect(url: str) -> Connection:
    """An autocommit connection with dict rows, the ``kakari`` schema first on its search path
    (the shared queries name tables unqualified); :class:`DatabaseUnavailableError` if refused."""
    require_psycopg()
    import psycopg
    from psycopg.rows import dict_row

    try:
        return psycopg.connect(
            url, autocommit=True, row_factory=dict_row, connect_timeout=10,
            application_name="kakari", options="-c search_path=kakari,public",
        )  # fmt: skip
    except psycopg.Error as exc:
        raise DatabaseUnavailableError(url, driver_reason(url, exc)) from exc


def read_version(conn: Connection) -> int:
    """The schema version of the database's run log (0: no kakari tables yet)."""
    row = conn.execute("SELECT to_regclass('kakari.schema_version') AS t").fetchone()
    if row is None or row["t"] is None:
        return 0
    found = conn.execute("SELECT version FROM kakari.schema_version").fetchone()
    return int(found["version"]) if found else 0


def append_audit_locked(
    conn: Connection, fields: Mapping[str, object], seal: Sealer, genesis: str
) -> int:
    """Append an audit record inside the caller's transaction, under :data:`AUDIT_LOCK`.

    The seq and the previous hash are read under the lock, so PCs appending at once still form
    one chain; the counter is updated in the same transaction, so a rollback leaves no gap.
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
    counter = conn.execute("SELECT last_seq FROM kakari.audit_counter").fetchone()
    last = conn.execute("SELECT hash FROM kakari.audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq = int(counter["last_seq"] if counter else 0) + 1
    sealed = {**fields, "seq": seq, "prev_hash": last["hash"] if last else genesis}
    conn.execute(
        """INSERT INTO kakari.audit (seq, at, os_user, host, trigger, action, bot_id, run_id,
               input_sha256, outcome, detail, prev_hash, hash)
           VALUES (%(seq)s, %(at)s, %(os_user)s, %(host)s, %(trigger)s, %(action)s, %(bot_id)s,
               %(run_id)s, %(input_sha256)s, %(outcome)s, %(detail)s, %(prev_hash)s, %(hash)s)""",
        {**sealed, "hash": seal(sealed)},
    )
    conn.execute("UPDATE kakari.audit_counter SET last_seq = %s", (seq,))
    return seq


def _pg(sql: str) -> str:
    """The shared queries' ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def schema_version(url: str) -> int:
    """The schema version at ``url`` without changing anything (for ``rpa doctor``)."""
    conn = connect(url)
    try:
        return read_version(conn)
    finally:
        conn.close()


class PostgresRunLog(SqlRunLog):
    """The run log in a PostgreSQL database (schema ``kakari``), shared by several PCs."""

    SECONDS = "floor(extract(epoch from ended_at::timestamptz - started_at::timestamptz))"

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._conn = connect(url)
        self._secret: bytes | None = None
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresRunLog({masked(self.url)!r})"

    # -- connection and schema ----------------------------------------------------------------
    def _connection(self) -> Connection:
        """The open connection; a broken one (server restarted) is replaced before the next use."""
        if self._conn.closed or self._conn.broken:
            self._conn = connect(self.url)
        return self._conn

    def _migrate(self) -> None:
        """Upgrade to :data:`PG_MIGRATIONS`, each step in its own transaction under the lock."""
        known = len(PG_MIGRATIONS)
        while True:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                version = read_version(self._conn)
                if version > known:
                    raise SchemaTooNewError(masked(self.url), version, known)
                if version == known:
                    return
                if version == 0:
                    self._conn.execute(BOOTSTRAP)
                    self._conn.execute(
                        "INSERT INTO kakari.schema_version (version) VALUES (0)"
                        " ON CONFLICT DO NOTHING"
                    )
                self._conn.execute(PG_MIGRATIONS[version])
                self._conn.execute("UPDATE kakari.schema_version SET version = %s", (version + 1,))

    @property
    def schema_version(self) -> int:
        with self._lock:
            return read_version(self._connection())

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction on this store's connection (for :mod:`framework.runlog.transfer`)."""
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                yield conn

    def _rows(self, sql: str, params: Sequence[object] = ()) -> Sequence[Row]:
        """A query; retried once on a new connection if the old one broke (server restarted,
        network dropped). Writes are not retried: the server may have committed them."""
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                try:
                    rows: Sequence[Row] = self._connection().execute(_pg(sql), params).fetchall()
                    return rows
                except psycopg.OperationalError:
                    if attempt == 2 or not self._conn.broken:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _stream(self, sql: str, params: Sequence[object]) -> Iterator[tuple[Any, ...]]:
        """A server-side cursor (``WITH HOLD``: the connection is in autocommit)."""
        from psycopg.rows import tuple_row

        with self._lock:
            cursor = self._connection().cursor(
                name=f"kakari_{secrets.token_hex(6)}", withhold=True, row_factory=tuple_row
            )
            cursor.execute(_pg(sql), params)
        return drain(cursor, self._lock)

    def _write(self, sql: str, params: Sequence[object]) -> None:
        """One statement, committed on its own (autocommit): durable when it returns."""
        with self._lock:
            self._connection().execute(_pg(sql), params)

    # -- item keys ------------------------------------------------------------------------------
    def secret(self) -> bytes:
        """The item-key secret every PC shares, created once (first writer wins)."""
        if self._secret is None:
            with self._lock:
                conn = self._connection()
                conn.execute(
                    "INSERT INTO kakari.secret (key_hex) VALUES (%s) ON CONFLICT DO NOTHING",
                    (secrets.token_bytes(32).hex(),),
                )
                row = conn.execute("SELECT key_hex FROM kakari.secret").fetchone()
            assert row is not None
            self._secret = bytes.fromhex(row["key_hex"])
        return self._secret

    def item_key(self, parts: Sequence[str], personal: bool) -> ItemKey:
        return item_key(self.secret(), parts, personal)

    # -- the audit trail ------------------------------------------------------------------------
    def append_audit(self, fields: Mapping[str, object], seal: Sealer, genesis: str) -> int:
        """Append an audit record in one transaction (see :func:`append_audit_locked`)."""
        with self.transaction() as conn:
            return append_audit_locked(conn, fields, seal, genesis)

    def audit_issued(self) -> int:
        """The highest audit seq ever handed out (kept in ``kakari.audit_counter``)."""
        row = self._one("SELECT last_seq FROM kakari.audit_counter")
        return int(row["last_seq"]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
