"""Application records of the practice system: SQLite storage, receipt numbers, duplicates."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from framework.practice.validation import Application

_COLUMNS = (
    "receipt_no, name, kana, birth_date, recipient_no, service_type, hours, start_date,"
    " support_level, notes, registered_at, registered_by"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    seq INTEGER PRIMARY KEY,
    receipt_no TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kana TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    recipient_no TEXT NOT NULL,
    service_type TEXT NOT NULL,
    hours INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    support_level TEXT NOT NULL,
    notes TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applications_duplicate
    ON applications (recipient_no, service_type, start_date);
"""
_REIWA_OFFSET = 2018  # 令和1年 = 2019


@dataclass(frozen=True)
class Record:
    """A stored application; field order is the key order of ``/api/records``."""

    receipt_no: str
    name: str
    kana: str
    birth_date: str
    recipient_no: str
    service_type: str
    hours: int
    start_date: str
    support_level: str
    notes: str
    registered_at: str
    registered_by: str

    def to_json(self) -> dict[str, object]:
        """The record as ``/api/records`` shows it (plain values, no copying of nested data)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


class DuplicateApplicationError(Exception):
    """An application with the same 受給者番号, サービス種類 and 開始日 is already stored."""

    def __init__(self, receipt_no: str) -> None:
        self.receipt_no = receipt_no
        super().__init__(f"既に登録されています（受付番号 {receipt_no}）。")


def receipt_prefix(day: date) -> str:
    """ "R" and the two-digit Reiwa year of ``day``: 2026-04-01 → "R08"."""
    return f"R{day.year - _REIWA_OFFSET:02d}"


def receipt_number(day: date, sequence: int) -> str:
    """The receipt number (受付番号) of the ``sequence``-th application: "R08-000001"."""
    return f"{receipt_prefix(day)}-{sequence:06d}"


class RecordStore:
    """Applications in one SQLite file; safe to share between request threads."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except BaseException:
            self._conn.close()
            raise

    def register(
        self,
        application: Application,
        *,
        user: str,
        now: datetime,
        allow_duplicate: bool = False,
    ) -> Record:
        """Store ``application`` under the next receipt number and return the record.

        Raises :class:`DuplicateApplicationError` (with the first matching receipt number)
        when the same 受給者番号 + サービス種類 + 開始日 exists, unless ``allow_duplicate``.
        """
        values = application.form_values()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if not allow_duplicate:
                    existing = self._conn.execute(
                        "SELECT receipt_no FROM applications"
                        " WHERE recipient_no = ? AND service_type = ? AND start_date = ?"
                        " ORDER BY seq LIMIT 1",
                        (values["recipient_no"], values["service_type"], values["start_date"]),
                    ).fetchone()
                    if existing is not None:
                        raise DuplicateApplicationError(str(existing[0]))
                (seq,) = self._conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM applications"
                ).fetchone()
                record = Record(
                    receipt_no=receipt_number(now.date(), int(seq)),
                    name=application.name,
                    kana=application.kana,
                    birth_date=values["birth_date"],
                    recipient_no=application.recipient_no,
                    service_type=application.service_type,
                    hours=application.hours,
                    start_date=values["start_date"],
                    support_level=application.support_level,
                    notes=application.notes,
                    registered_at=now.isoformat(timespec="seconds"),
                    registered_by=user,
                )
                self._conn.execute(
                    f"INSERT INTO applications (seq, {_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, *dataclasses.astuple(record)),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return record

    def find(self, receipt_no: str) -> Record | None:
        """The record with this receipt number, if any."""
        rows = self._select("WHERE receipt_no = ?", (receipt_no,))
        return rows[0] if rows else None

    def records(self, *, recipient_no: str | None = None) -> list[Record]:
        """All records in registration order, or those of one 受給者番号 (exact match)."""
        if recipient_no:
            return self._select("WHERE recipient_no = ? ORDER BY seq", (recipient_no,))
        return self._select("ORDER BY seq", ())

    def search(self, *, recipient_no: str = "", keyword: str = "") -> list[Record]:
        """Records newest first; ``recipient_no`` matches part of the 受給者番号 and
        ``keyword`` part of the 氏名, フリガナ or 受付番号. Empty criteria match all."""
        conditions: list[str] = []
        params: list[str] = []
        if recipient_no:
            conditions.append("instr(recipient_no, ?) > 0")
            params.append(recipient_no)
        if keyword:
            conditions.append(
                "(instr(name, ?) > 0 OR instr(kana, ?) > 0 OR instr(receipt_no, ?) > 0)"
            )
            params.extend((keyword, keyword, keyword))
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        return self._select(f"{where}ORDER BY seq DESC", tuple(params))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _select(self, clause: str, params: tuple[str, ...]) -> list[Record]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM applications {clause}", params
            ).fetchall()
        return [Record(*row) for row in rows]
