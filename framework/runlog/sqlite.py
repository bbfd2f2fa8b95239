"""The SQLite run-log store: :class:`SqliteRunLog`, one file under ``RPA_HOME``.

Every state change of an item is its own committed transaction (WAL mode), so a process killed at
any instant leaves a consistent log; ``synchronous=FULL`` puts each commit on the disk before the
bot goes on, so an item marked "in progress" before its registration also survives a power cut.
Item keys are stored as keyed hashes with the PC's ``secret.key`` (:mod:`framework.runlog.keys`).
The schema is versioned with ``PRAGMA user_version`` and upgraded in place by
:data:`~framework.runlog.schema.MIGRATIONS`. The queries are :class:`~framework.runlog.sqlstore.
SqlRunLog`'s, shared with the PostgreSQL store.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from framework.audit import Sealer
from framework.home import private_dir, private_file
from framework.runlog.keys import ItemKey, item_key, load_secret
from framework.runlog.schema import MIGRATIONS
from framework.runlog.sqlstore import Row, SqlRunLog, drain
from framework.runlog.store import SchemaTooNewError


class SqliteRunLog(SqlRunLog):
    """The run log in one SQLite file (WAL mode, one transaction per state change)."""

    SECONDS = "(strftime('%s', ended_at) - strftime('%s', started_at))"

    def __init__(self, path: Path, secret_path: Path | None = None) -> None:
        self.path = path
        private_dir(path.parent)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if part.exists():
                private_file(part)  # the WAL files SQLite creates later take the same mode
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL would lose the last commits on a power cut: an item in progress would come back
        # as pending (or not at all) and be entered a second time
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self._secret = load_secret(secret_path or path.parent / "secret.key")

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise SchemaTooNewError(str(self.path), version, len(MIGRATIONS))
        for number in range(version, len(MIGRATIONS)):
            with self._transaction() as conn:
                conn.executescript(
                    f"BEGIN;{MIGRATIONS[number]}PRAGMA user_version={number + 1};COMMIT;"
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def _rows(self, sql: str, params: Sequence[object] = ()) -> Sequence[Row]:
        with self._lock:
            rows: Sequence[Row] = self._conn.execute(sql, params).fetchall()
            return rows

    def _stream(self, sql: str, params: Sequence[object]) -> Iterator[tuple[Any, ...]]:
        with self._lock:
            cursor = self._conn.execute(sql, params)
            cursor.row_factory = None  # plain tuples
        return drain(cursor, self._lock)

    def _write(self, sql: str, params: Sequence[object] | dict[str, object]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(sql, params)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def item_key(self, parts: Sequence[str], personal: bool) -> ItemKey:
        return item_key(self._secret, parts, personal)

    def append_audit(self, fields: Mapping[str, object], seal: Sealer, genesis: str) -> int:
        """Append an audit record in one transaction: its seq and the previous hash are read
        under the write lock, so two processes appending at once still form one chain."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                last = self._conn.execute(
                    "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                sealed = {**fields, "prev_hash": last[0] if last else genesis}
                cursor = self._conn.execute(
                    """INSERT INTO audit (at, os_user, host, trigger, action, bot_id, run_id,
                           input_sha256, outcome, detail, prev_hash, hash)
                       VALUES (:at, :os_user, :host, :trigger, :action, :bot_id, :run_id,
                           :input_sha256, :outcome, :detail, :prev_hash, '')""",
                    sealed,
                )
                seq = int(cursor.lastrowid or 0)
                self._conn.execute(
                    "UPDATE audit SET hash = ? WHERE seq = ?", (seal({**sealed, "seq": seq}), seq)
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return seq

    def audit_issued(self) -> int:
        """The highest audit seq ever handed out (SQLite's AUTOINCREMENT counter)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'audit'"
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
