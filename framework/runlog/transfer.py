"""Moving a PC's history to the shared log: :func:`import_sqlite`, SQLite → PostgreSQL.

Everything is copied in one transaction (all or nothing): runs, items, reviews, the scheduler's
decisions, the audit trail, and the item-key secret. The secret matters most: item keys are
keyed hashes, so the PC's ``secret.key`` becomes the database's secret when the database has
none yet, and the PC's old items keep matching (resume by key, ``--rerun-failed``). A database
with a different secret, or already holding one of the runs, is refused before anything is
written; importing the same file twice is therefore refused the second time.

The audit trail is copied as it is (same seq, hashes and chain) into a database whose trail is
still empty; into one that already has records (a second PC's history), the records are
appended to the shared chain with new seq and hashes, each noting where it came from. Either
way one ``runlog_import`` record says who imported what.
"""

from __future__ import annotations

import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework import audit
from framework.runlog.postgres import AUDIT_LOCK, append_audit_locked
from framework.runlog.schema import MIGRATIONS
from framework.runlog.store import RunLogError, SchemaTooNewError

if TYPE_CHECKING:
    from framework.runlog.postgres import Connection, PostgresRunLog

IMPORT_LOCK = 0x6B616B61_00000003
"""Advisory lock held by an import (two imports at once would race on the run-id check)."""


class ImportRefusedError(RunLogError):
    """The history cannot be imported as asked; nothing was written."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"取り込みを中止しました（何も書き込んでいません）: {ja} ({en})")


@dataclass
class ImportCounts:
    """What an import copied."""

    runs: int = 0
    items: int = 0
    reviews: int = 0
    schedule_events: int = 0
    audit: int = 0
    audit_kept_chain: bool = True
    """True: records copied with their seq and hashes; False: appended to the existing chain."""
    secret: str = "adopted"
    """``adopted`` (the PC's secret became the database's), ``same``, or ``missing``."""


def _open_source(path: Path) -> sqlite3.Connection:
    """The SQLite log, read-only, at the current schema (an older one is upgraded first)."""
    if not path.is_file():
        raise ImportRefusedError(
            f"{path} がありません", f"no such file: {path}; give the path of runlog.sqlite3"
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise ImportRefusedError(
            f"{path} を読めません（{exc}）", f"not a readable SQLite run log: {path}"
        ) from exc
    if version > len(MIGRATIONS):
        conn.close()
        raise SchemaTooNewError(str(path), version, len(MIGRATIONS))
    if version < len(MIGRATIONS):  # upgrade it in place, as the next run on that PC would
        conn.close()
        from framework.runlog.sqlite import SqliteRunLog

        SqliteRunLog(path, secret_path=path.parent / "secret.key").close()
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _read_secret(path: Path) -> bytes | None:
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ImportRefusedError(
            f"鍵ファイル {path} を読めません", f"cannot read the key file {path}"
        ) from exc


def _adopt_secret(conn: Connection, secret: bytes | None) -> str:
    row = conn.execute("SELECT key_hex FROM kakari.secret").fetchone()
    if secret is None:
        return "missing"
    if row is None:
        conn.execute("INSERT INTO kakari.secret (key_hex) VALUES (%s)", (secret.hex(),))
        return "adopted"
    if bytes.fromhex(row["key_hex"]) != secret:
        raise ImportRefusedError(
            "データベースには別の鍵（secret.key）がすでにあります。この PC の申請のキーは"
            "一致しなくなるため取り込めません。docs/shared-runlog.md を見てください",
            "the database already has a different item-key secret; keys from this PC would"
            " not match (see docs/shared-runlog.md)",
        )
    return "same"


def _copy(
    conn: Connection, source: sqlite3.Connection, table: str, skip: tuple[str, ...] = ()
) -> int:
    """Copy every row of ``table`` (the same columns in both stores); return how many."""
    cursor = source.execute(f"SELECT * FROM {table} ORDER BY rowid")
    columns = [d[0] for d in cursor.description if d[0] not in skip]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    count = 0
    with conn.cursor() as out:
        while rows := cursor.fetchmany(2_000):
            out.executemany(
                f"INSERT INTO kakari.{table} ({names}) VALUES ({marks})",
                [tuple(row[c] for c in columns) for row in rows],
            )
            count += len(rows)
    return count


def _copy_audit(conn: Connection, source: sqlite3.Connection, origin: str) -> tuple[int, bool]:
    """The audit trail: as it is into an empty trail, else appended to the shared chain."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
    rows = [dict(r) for r in source.execute("SELECT * FROM audit ORDER BY seq")]
    issued_row = source.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    issued = int(issued_row[0]) if issued_row else 0
    counter = conn.execute("SELECT last_seq FROM kakari.audit_counter").fetchone()
    if counter is None or int(counter["last_seq"]) == 0:
        names = list(audit.SEALED) + ["hash"]
        with conn.cursor() as out:
            out.executemany(
                f"INSERT INTO kakari.audit ({', '.join(names)})"
                f" VALUES ({', '.join(['%s'] * len(names))})",
                [tuple(r[n] for n in names) for r in rows],
            )
        conn.execute("UPDATE kakari.audit_counter SET last_seq = %s", (issued,))
        return len(rows), True
    for r in rows:
        fields = {n: r[n] for n in audit.SEALED if n not in ("seq", "prev_hash")}
        fields["detail"] = f"{r['detail']} [取り込み元 (imported from) {origin} seq {r['seq']}]"
        append_audit_locked(conn, fields, audit.seal, audit.GENESIS)
    return len(rows), False


def import_sqlite(
    target: PostgresRunLog, source_path: Path, secret_path: Path | None = None
) -> ImportCounts:
    """Copy the SQLite log at ``source_path`` into ``target`` in one transaction."""
    secret = _read_secret(secret_path or source_path.parent / "secret.key")
    source = _open_source(source_path)
    counts = ImportCounts()
    try:
        with target.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (IMPORT_LOCK,))
            counts.secret = _adopt_secret(conn, secret)
            ids = [r[0] for r in source.execute("SELECT id FROM runs")]
            clash = conn.execute(
                "SELECT id FROM kakari.runs WHERE id = ANY(%s) ORDER BY id LIMIT 5", (ids,)
            ).fetchall()
            if clash:
                shown = ", ".join(r["id"] for r in clash)
                raise ImportRefusedError(
                    f"同じ実行 ID がデータベースにすでにあります（{shown}）。"
                    "取り込み済みではありませんか",
                    f"the database already has runs with these ids ({shown}): already imported?",
                )
            counts.runs = _copy(conn, source, "runs")
            counts.items = _copy(conn, source, "items")
            counts.reviews = _copy(conn, source, "reviews")
            counts.schedule_events = _copy(conn, source, "schedule_events", skip=("id",))
            origin = f"{socket.gethostname()}:{source_path.resolve()}"
            counts.audit, counts.audit_kept_chain = _copy_audit(conn, source, origin)
            append_audit_locked(conn, _import_record(counts, origin), audit.seal, audit.GENESIS)
    finally:
        source.close()
    return counts


def _import_record(counts: ImportCounts, origin: str) -> dict[str, Any]:
    return {
        "at": audit.now(),
        "os_user": audit.os_user(),
        "host": socket.gethostname(),
        "trigger": "cli",
        "action": audit.Action.RUNLOG_IMPORT.value,
        "bot_id": "",
        "run_id": None,
        "input_sha256": None,
        "outcome": "ok",
        "detail": (
            f"from={origin} runs={counts.runs} items={counts.items} reviews={counts.reviews}"
            f" schedule_events={counts.schedule_events} audit={counts.audit}"
            f" chain={'kept' if counts.audit_kept_chain else 'appended'} secret={counts.secret}"
        ),
    }
