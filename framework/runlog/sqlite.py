"""The SQLite run-log store: :class:`SqliteRunLog`, one file under ``RPA_HOME``, and all its SQL.

Every state change of an item is its own committed transaction (WAL mode), so a process killed at
any instant leaves a consistent log; ``synchronous=FULL`` puts each commit on the disk before the
bot goes on, so an item marked "in progress" before its registration also survives a power cut.
Item keys are stored as keyed hashes (:mod:`framework.runlog.keys`). The schema is versioned with
``PRAGMA user_version`` and upgraded in place by :data:`~framework.runlog.schema.MIGRATIONS`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from framework import audit
from framework.audit import AuditRecord, Sealer
from framework.home import private_dir, private_file
from framework.outcome import ItemOutcome, ItemStatus, RunStatus
from framework.runlog.keys import ItemKey, item_key, load_secret
from framework.runlog.records import (
    COUNTED_STATUSES,
    BaselineUse,
    PriorItem,
    RunFilter,
    RunLine,
    RunRecord,
    RunTally,
    ScheduleEvent,
    ScheduleEventKind,
    run_from_row,
)
from framework.runlog.schema import MIGRATIONS
from framework.runlog.store import SchemaTooNewError
from framework.savings import exception_items, minutes_saved

_COUNTED_VALUES = {s.value for s in COUNTED_STATUSES}


def _now_iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def _where(where: RunFilter) -> tuple[str, list[object]]:
    """SQL conditions for a filter; dates compare on the local date the ISO text starts with."""
    terms = ["1 = 1"]
    params: list[object] = []
    if where.first_day is not None:
        terms.append("started_at >= ?")
        params.append(where.first_day.isoformat())
    if where.last_day is not None:
        terms.append("started_at < ?")
        params.append((where.last_day + dt.timedelta(days=1)).isoformat())
    for column, value in (
        ("department", where.department),
        ("bot_id", where.bot_id),
        ("status", where.status.value if where.status else None),
    ):
        if value is not None:
            terms.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(terms), params


class SqliteRunLog:
    """The run log in one SQLite file (WAL mode, one transaction per state change)."""

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

    def start_run(self, run: RunRecord) -> None:
        self._write(
            """INSERT INTO runs (id, bot_id, bot_name, department, workflow, trigger, os_user,
                host, input, started_at, status, baseline_minutes_per_item,
                baseline_minutes_per_run, baseline_minutes_per_exception, baseline_measured_by,
                baseline_measured_on, run_dir)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                run.id,
                run.bot_id,
                run.bot_name,
                run.department,
                run.workflow,
                run.trigger,
                run.os_user,
                run.host,
                run.input,
                _now_iso(run.started_at),
                run.status.value,
                run.baseline_minutes_per_item,
                run.baseline_minutes_per_run,
                run.baseline_minutes_per_exception,
                run.baseline_measured_by,
                run.baseline_measured_on,
                run.run_dir,
            ),
        )

    def item_started(self, run: RunRecord, outcome: ItemOutcome, key: ItemKey) -> None:
        """Record an item before its steps run (status pending or in progress)."""
        self._write(
            """INSERT INTO items (run_id, bot_id, seq, source, row, key_hash, key_text, status,
                   started_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                run.id,
                run.bot_id,
                outcome.seq,
                outcome.source,
                outcome.row,
                key.hash,
                key.text,
                outcome.status.value,
                _now_iso(dt.datetime.now()),
            ),
        )

    def item_state(self, run_id: str, seq: int, status: ItemStatus) -> None:
        """Move an item to a new state (pending → in progress when its commit step starts)."""
        self._write(
            "UPDATE items SET status = ? WHERE run_id = ? AND seq = ?",
            (status.value, run_id, seq),
        )

    def item_finished(self, run: RunRecord, outcome: ItemOutcome, key: ItemKey) -> None:
        """Record how an item ended (inserting it if it never started, e.g. bad input)."""
        now = _now_iso(dt.datetime.now())
        self._write(
            """INSERT INTO items (run_id, bot_id, seq, source, row, key_hash, key_text, status,
                   message, results, screenshot, started_at, ended_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id, seq) DO UPDATE SET status = excluded.status,
                   message = excluded.message, results = excluded.results,
                   screenshot = excluded.screenshot, ended_at = excluded.ended_at""",
            (
                run.id,
                run.bot_id,
                outcome.seq,
                outcome.source,
                outcome.row,
                key.hash,
                key.text,
                outcome.status.value,
                outcome.message,
                json.dumps(outcome.results, ensure_ascii=False),
                outcome.screenshot,
                now,
                now,
            ),
        )

    def finish_run(self, run: RunRecord) -> None:
        self._write(
            """UPDATE runs SET ended_at = ?, status = ?, items_total = ?, items_done = ?,
                   items_business_error = ?, items_system_error = ?, items_bad_input = ?,
                   items_needs_review = ?, items_skipped = ?, minutes_saved = ?, exit_code = ?,
                   message = ?
               WHERE id = ?""",
            (
                _now_iso(run.ended_at or dt.datetime.now()),
                run.status.value,
                run.items_total,
                run.count(ItemStatus.DONE),
                run.count(ItemStatus.BUSINESS_ERROR),
                run.count(ItemStatus.SYSTEM_ERROR),
                run.count(ItemStatus.BAD_INPUT),
                run.count(ItemStatus.NEEDS_REVIEW),
                run.count(ItemStatus.SKIPPED),
                run.minutes_saved,
                run.exit_code,
                run.message,
                run.id,
            ),
        )

    def _record(self, row: sqlite3.Row) -> RunRecord:
        return run_from_row(row)

    def recent_runs(self, limit: int = 20, bot_id: str | None = None) -> list[RunRecord]:
        with self._lock:
            if bot_id:
                rows = self._conn.execute(
                    "SELECT * FROM runs WHERE bot_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",
                    (bot_id, limit),
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
                ).fetchall()
        return [self._record(r) for r in rows]

    def find_runs(self, where: RunFilter, limit: int = 20) -> list[RunRecord]:
        """Runs matching ``where``, newest first (``rpa runs`` with filters)."""
        sql, params = _where(where)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM runs WHERE {sql} ORDER BY started_at DESC, id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [self._record(r) for r in rows]

    def tally_runs(self, where: RunFilter) -> list[RunTally]:
        """Runs added up per department, bot and month, in one aggregate query.

        Rows still running have zero counts and minutes until they finish, so summing every
        row is the sum over finished runs; they are counted apart (``running``).
        """
        sql, params = _where(where)
        with self._lock:
            rows = self._conn.execute(
                f"""SELECT department, bot_id, max(bot_name), substr(started_at, 1, 7) AS month,
                       sum(status != 'running'), sum(status = 'running'),
                       sum(status = 'aborted'),
                       sum(status = 'aborted' OR items_business_error + items_system_error
                           + items_bad_input + items_needs_review > 0),
                       sum(items_done), sum(items_business_error), sum(items_system_error),
                       sum(items_bad_input), sum(items_needs_review), sum(items_skipped),
                       coalesce(sum(strftime('%s', ended_at) - strftime('%s', started_at)), 0),
                       sum(minutes_saved)
                   FROM runs WHERE {sql}
                   GROUP BY department, bot_id, month
                   ORDER BY department, bot_id, month""",
                params,
            ).fetchall()
        statuses = (
            ItemStatus.DONE,
            ItemStatus.BUSINESS_ERROR,
            ItemStatus.SYSTEM_ERROR,
            ItemStatus.BAD_INPUT,
            ItemStatus.NEEDS_REVIEW,
            ItemStatus.SKIPPED,
        )
        return [
            RunTally(
                department=r[0],
                bot_id=r[1],
                bot_name=r[2],
                month=r[3],
                runs=r[4],
                running=r[5],
                aborted=r[6],
                needing_person=r[7],
                items=dict(zip(statuses, r[8:14], strict=True)),
                wall_seconds=float(r[14]),
                minutes_saved=float(r[15]),
            )
            for r in rows
        ]

    def baseline_uses(self, where: RunFilter) -> list[BaselineUse]:
        """Each distinct baseline stored with finished runs, with how many runs used it."""
        sql, params = _where(where)
        with self._lock:
            rows = self._conn.execute(
                f"""SELECT department, bot_id, baseline_minutes_per_item,
                       baseline_minutes_per_run, baseline_minutes_per_exception,
                       baseline_measured_by, baseline_measured_on,
                       min(started_at), max(started_at), count(*), sum(minutes_saved)
                   FROM runs WHERE {sql} AND status != 'running'
                   GROUP BY 1, 2, 3, 4, 5, 6, 7
                   ORDER BY department, bot_id, min(started_at)""",
                params,
            ).fetchall()
        return [
            BaselineUse(
                department=r[0],
                bot_id=r[1],
                minutes_per_item=r[2],
                minutes_per_run=r[3],
                minutes_per_exception=r[4],
                measured_by=r[5],
                measured_on=r[6],
                first_started=r[7],
                last_started=r[8],
                runs=r[9],
                minutes_saved=float(r[10]),
            )
            for r in rows
        ]

    def run_lines(self, where: RunFilter) -> Iterator[RunLine]:
        """Finished runs in start order, streamed in chunks (a year may hold 100,000 runs)."""
        sql, params = _where(where)
        with self._lock:
            cursor = self._conn.execute(
                f"""SELECT id, department, bot_id, bot_name, trigger, started_at, ended_at,
                       status, items_done, items_business_error, items_system_error,
                       items_bad_input, items_needs_review, items_skipped, minutes_saved,
                       baseline_minutes_per_item, baseline_minutes_per_run,
                       baseline_minutes_per_exception, baseline_measured_by,
                       baseline_measured_on,
                       strftime('%s', ended_at) - strftime('%s', started_at)
                   FROM runs WHERE {sql} AND status != 'running'
                   ORDER BY started_at, id""",
                params,
            )
            cursor.row_factory = None
        while True:
            with self._lock:
                chunk = cursor.fetchmany(5_000)
            if not chunk:
                return
            for row in chunk:
                yield RunLine(*row)

    def bot_departments(self) -> dict[str, str]:
        """Every bot in the log and the department of its latest run."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT bot_id, department, max(started_at) FROM runs GROUP BY bot_id"
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._record(row) if row else None

    def items(self, run_id: str) -> list[ItemOutcome]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM items WHERE run_id = ? ORDER BY seq", (run_id,)
            ).fetchall()
        return [
            ItemOutcome(
                seq=r["seq"],
                source=r["source"],
                row=r["row"],
                status=ItemStatus(r["status"]),
                message=r["message"],
                results=json.loads(r["results"]),
                screenshot=r["screenshot"],
            )
            for r in rows
        ]

    def prior_item(self, bot_id: str, key: ItemKey, before_run: str) -> PriorItem | None:
        """What happened to this key in earlier runs of the bot: a done one if any, else the
        latest state (an in-progress one means a run died while registering it)."""
        with self._lock:
            row = self._conn.execute(
                """SELECT i.run_id, i.status, i.results, i.source, i.row, r.decision,
                          r.reviewed_by
                   FROM items i LEFT JOIN reviews r ON r.run_id = i.run_id AND r.seq = i.seq
                   WHERE i.bot_id = ? AND i.key_hash = ? AND i.run_id != ?
                   ORDER BY (i.status = 'done' OR r.decision = 'entered') DESC,
                            i.started_at DESC, i.run_id DESC LIMIT 1""",
                (bot_id, key.hash, before_run),
            ).fetchone()
        if row is None:
            return None
        status = ItemStatus(row["status"])
        if row["decision"] == "entered":
            status = ItemStatus.DONE
        elif row["decision"] == "not_entered":
            status = ItemStatus.SKIPPED  # staff checked: not in the system, enter it normally
        return PriorItem(
            run_id=row["run_id"],
            status=status,
            results=json.loads(row["results"]),
            source=row["source"],
            row=row["row"],
            reviewed_by=row["reviewed_by"],
        )

    def review_item(
        self, run_id: str, seq: int, entered: bool, reviewed_by: str, note: str = ""
    ) -> ItemOutcome:
        """Record what staff found about an item that needed review (history is kept as is)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM items WHERE run_id = ? AND seq = ?", (run_id, seq)
            ).fetchone()
        if row is None:
            raise LookupError(f"run {run_id} has no item {seq}")
        if row["status"] not in (ItemStatus.NEEDS_REVIEW.value, ItemStatus.IN_PROGRESS.value):
            raise ValueError(ItemStatus(row["status"]).label)
        self._write(
            """INSERT INTO reviews (run_id, seq, bot_id, key_hash, decision, note, reviewed_by,
                   reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id, seq) DO UPDATE SET decision = excluded.decision,
                   note = excluded.note, reviewed_by = excluded.reviewed_by,
                   reviewed_at = excluded.reviewed_at""",
            (
                run_id,
                seq,
                row["bot_id"],
                row["key_hash"],
                "entered" if entered else "not_entered",
                note,
                reviewed_by,
                _now_iso(dt.datetime.now()),
            ),
        )
        audit.record(
            self,
            audit.Action.REVIEW,
            bot_id=row["bot_id"],
            run_id=run_id,
            outcome="entered" if entered else "not_entered",
            detail=f"No.{seq}",
            user=reviewed_by,
        )
        return ItemOutcome(
            seq=seq, source=row["source"], row=row["row"], status=ItemStatus(row["status"])
        )

    def rerun_targets(self, run_id: str) -> tuple[set[str], set[tuple[str, int | None]]]:
        """Keys and (source, row) of a run's items that did not end done or skipped."""
        with self._lock:
            rows = self._conn.execute(
                """SELECT key_hash, source, row FROM items
                   WHERE run_id = ? AND status NOT IN ('done', 'skipped')""",
                (run_id,),
            ).fetchall()
        return {r["key_hash"] for r in rows}, {(r["source"], r["row"]) for r in rows}

    def unfinished_runs(self, bot_id: str, except_run: str) -> list[RunRecord]:
        """Runs of the bot still marked running: the process died (the bot lock is free)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM runs WHERE bot_id = ? AND status = 'running' AND id != ?",
                (bot_id, except_run),
            ).fetchall()
        return [self._record(r) for r in rows]

    def close_unfinished(self, run_id: str, message: str) -> None:
        """Close a run whose process died: aborted, with counts from its items."""
        with self._lock:
            counts = dict(
                self._conn.execute(
                    "SELECT status, count(*) FROM items WHERE run_id = ? GROUP BY status",
                    (run_id,),
                ).fetchall()
            )
        record = self.get_run(run_id)
        if record is None:
            return
        record.status = RunStatus.ABORTED
        record.counts = {ItemStatus(k): v for k, v in counts.items() if k in _COUNTED_VALUES}
        record.exit_code = 3
        record.message = message
        record.minutes_saved = minutes_saved(
            record.count(ItemStatus.DONE),
            exception_items(record.counts),
            False,
            record.baseline(),
        )
        with self._lock:
            last = self._conn.execute(
                "SELECT max(coalesce(ended_at, started_at)) FROM items WHERE run_id = ?",
                (run_id,),
            ).fetchone()[0]
        record.ended_at = dt.datetime.fromisoformat(last) if last else record.started_at
        self.finish_run(record)

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

    def audit_records(
        self, since: str | None = None, until: str | None = None
    ) -> list[AuditRecord]:
        """Audit records in seq order; ``since`` <= at < ``until`` (ISO text) when given."""
        with self._lock:
            rows = self._conn.execute(
                """SELECT * FROM audit WHERE (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?)
                   ORDER BY seq""",
                (since, since, until, until),
            ).fetchall()
        return [AuditRecord(**dict(r)) for r in rows]

    def audit_issued(self) -> int:
        """The highest audit seq ever handed out (SQLite's AUTOINCREMENT counter)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'audit'"
            ).fetchone()
        return int(row[0]) if row else 0

    # -- the scheduler's decisions ----------------------------------------------------------
    def record_schedule_event(self, event: ScheduleEvent) -> None:
        """Record what the scheduler decided about one fire time (or a manifest it refused)."""
        self._write(
            """INSERT INTO schedule_events (bot_id, schedule, fire_time, event, run_id, message,
                   at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                event.bot_id,
                event.schedule,
                _now_iso(event.fire_time),
                event.event.value,
                event.run_id,
                event.message,
                _now_iso(event.at or dt.datetime.now().astimezone()),
            ),
        )

    def _schedule_event(self, row: sqlite3.Row) -> ScheduleEvent:
        return ScheduleEvent(
            id=row["id"],
            bot_id=row["bot_id"],
            schedule=row["schedule"],
            fire_time=dt.datetime.fromisoformat(row["fire_time"]),
            event=ScheduleEventKind(row["event"]),
            run_id=row["run_id"],
            message=row["message"],
            at=dt.datetime.fromisoformat(row["at"]),
        )

    def schedule_events(self, limit: int = 20, bot_id: str | None = None) -> list[ScheduleEvent]:
        """The scheduler's latest decisions, newest first (for ``rpa runs``)."""
        with self._lock:
            if bot_id:
                rows = self._conn.execute(
                    "SELECT * FROM schedule_events WHERE bot_id = ? ORDER BY id DESC LIMIT ?",
                    (bot_id, limit),
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT * FROM schedule_events ORDER BY id DESC LIMIT ?", (limit,)
                ).fetchall()
        return [self._schedule_event(r) for r in rows]

    def fire_events(
        self, bot_id: str, schedule: str, fire_time: dt.datetime
    ) -> list[ScheduleEvent]:
        """Every decision recorded about one fire time of a schedule, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                """SELECT * FROM schedule_events
                   WHERE bot_id = ? AND schedule = ? AND fire_time = ? ORDER BY id""",
                (bot_id, schedule, _now_iso(fire_time)),
            ).fetchall()
        return [self._schedule_event(r) for r in rows]

    def last_fire_time(self, bot_id: str, schedule: str) -> dt.datetime | None:
        """The latest fire time of a schedule that the scheduler recorded a decision about."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT fire_time FROM schedule_events WHERE bot_id = ? AND schedule = ?",
                (bot_id, schedule),
            ).fetchall()
        return max((dt.datetime.fromisoformat(r[0]) for r in rows), default=None)

    def scheduled_runs_since(self, bot_id: str, since: dt.datetime) -> list[RunRecord]:
        """Runs of the bot started by the scheduler at or after ``since``, oldest first."""
        # stored times carry their UTC offset: the SQL bound only narrows, Python compares
        coarse = (since - dt.timedelta(days=2)).isoformat(timespec="seconds")[:19]
        with self._lock:
            rows = self._conn.execute(
                """SELECT * FROM runs WHERE bot_id = ? AND trigger = 'schedule'
                   AND started_at >= ? ORDER BY started_at, id""",
                (bot_id, coarse),
            ).fetchall()
        records = [self._record(r) for r in rows]
        return [r for r in records if _aware(r.started_at) >= since]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _aware(value: dt.datetime) -> dt.datetime:
    """Times written without an offset are local times."""
    return value if value.tzinfo is not None else value.astimezone()
