"""What both run-log stores do the same way: :class:`SqlRunLog`, all the SQL written once.

The SQLite and PostgreSQL stores keep the same tables and columns, so every query lives here,
written in the SQL both understand: ``?`` placeholders, ``<>``, ``CASE`` for counting, the
``"row"`` column quoted, unqualified table names (the PostgreSQL store's connection puts the
``kakari`` schema first on its search path). A store supplies only what really differs:

* :meth:`SqlRunLog._rows` / :meth:`~SqlRunLog._write` — how a statement reaches the database
  (SQLite: one ``BEGIN IMMEDIATE`` transaction per write; PostgreSQL: autocommit, placeholders
  turned into ``%s``);
* :attr:`SqlRunLog.SECONDS` — a run's wall time in seconds from its two ISO timestamps;
* its schema and migrations, where the item-key secret lives, and how an audit record is
  appended under a lock (:meth:`~framework.runlog.store.RunLog.append_audit`).

Times are stored as ISO 8601 text with the PC's UTC offset, in both stores, so reports group by
the date the PC saw and sort the same way whatever the server's time zone.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from framework import audit
from framework.audit import AuditRecord, Sealer
from framework.outcome import ItemOutcome, ItemStatus, RunStatus
from framework.runlog.keys import ItemKey
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
from framework.savings import exception_items, minutes_saved

CHUNK = 5_000
"""Rows per page when a report streams the runs of a year."""

_COUNTED_VALUES = {s.value for s in COUNTED_STATUSES}
_TALLY_STATUSES = (
    ItemStatus.DONE,
    ItemStatus.BUSINESS_ERROR,
    ItemStatus.SYSTEM_ERROR,
    ItemStatus.BAD_INPUT,
    ItemStatus.NEEDS_REVIEW,
    ItemStatus.SKIPPED,
)


class Row(Protocol):
    """A row read by column name: ``sqlite3.Row``, or a dict from psycopg."""

    def keys(self) -> Any: ...

    def __getitem__(self, key: str, /) -> Any: ...


def iso(value: dt.datetime) -> str:
    """A time as stored: ISO 8601 to the second, with its offset when it has one."""
    return value.isoformat(timespec="seconds")


def moment() -> str:
    """Now, to the microsecond: items of two runs started in the same second still sort in
    the order they happened (resume by key takes an item's latest state)."""
    return dt.datetime.now().isoformat(timespec="microseconds")


def where_sql(where: RunFilter) -> tuple[str, list[object]]:
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


def drain(cursor: Any, lock: threading.Lock) -> Iterator[tuple[Any, ...]]:
    """The rows of an open cursor, :data:`CHUNK` at a time with ``lock`` held for each fetch
    (the connection is shared between threads); the cursor is closed at the end, or when the
    reader stops early."""
    try:
        while True:
            with lock:
                chunk = cursor.fetchmany(CHUNK)
            if not chunk:
                return
            yield from chunk
    finally:
        with lock:
            cursor.close()


def _aware(value: dt.datetime) -> dt.datetime:
    """Times written without an offset are local times."""
    return value if value.tzinfo is not None else value.astimezone()


def _count(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


class SqlRunLog:
    """The run log's queries over the shared tables; subclasses connect them to a database."""

    SECONDS = ""
    """SQL for a run's wall time in whole seconds (``ended_at`` − ``started_at``)."""

    # -- what a store provides --------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[object] = ()) -> Sequence[Row]:
        raise NotImplementedError

    def _stream(self, sql: str, params: Sequence[object]) -> Iterator[tuple[Any, ...]]:
        """A query's rows as plain tuples in column order, fetched :data:`CHUNK` at a time
        (for results too big to hold, read once: the cheapest rows either driver makes)."""
        raise NotImplementedError

    def _write(self, sql: str, params: Sequence[object]) -> None:
        """Run one statement in a transaction of its own, committed (durable) on return."""
        raise NotImplementedError

    def item_key(self, parts: Sequence[str], personal: bool) -> ItemKey:
        raise NotImplementedError

    def append_audit(self, fields: Mapping[str, object], seal: Sealer, genesis: str) -> int:
        raise NotImplementedError

    def audit_issued(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    # -- runs and items -----------------------------------------------------------------------
    def start_run(self, run: RunRecord) -> None:
        self._write(
            """INSERT INTO runs (id, bot_id, bot_name, department, workflow, trigger, os_user,
                   host, input, started_at, status, baseline_minutes_per_item,
                   baseline_minutes_per_run, baseline_minutes_per_exception,
                   baseline_measured_by, baseline_measured_on, run_dir)
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
                iso(run.started_at),
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
            """INSERT INTO items (run_id, bot_id, seq, source, "row", key_hash, key_text,
                   status, started_at)
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
                moment(),
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
        now = moment()
        self._write(
            """INSERT INTO items (run_id, bot_id, seq, source, "row", key_hash, key_text,
                   status, message, results, screenshot, started_at, ended_at)
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
                iso(run.ended_at or dt.datetime.now()),
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

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._one("SELECT * FROM runs WHERE id = ?", (run_id,))
        return run_from_row(row) if row else None

    def recent_runs(self, limit: int = 20, bot_id: str | None = None) -> list[RunRecord]:
        return self.find_runs(RunFilter(bot_id=bot_id or None), limit)

    def find_runs(self, where: RunFilter, limit: int = 20) -> list[RunRecord]:
        """Runs matching ``where``, newest first (``rpa runs`` with filters)."""
        sql, params = where_sql(where)
        rows = self._rows(
            f"SELECT * FROM runs WHERE {sql} ORDER BY started_at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [run_from_row(r) for r in rows]

    def items(self, run_id: str) -> list[ItemOutcome]:
        rows = self._rows("SELECT * FROM items WHERE run_id = ? ORDER BY seq", (run_id,))
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

    # -- resume, review, rerun ----------------------------------------------------------------
    def prior_item(self, bot_id: str, key: ItemKey, before_run: str) -> PriorItem | None:
        """What happened to this key in earlier runs of the bot (on any PC of a shared log): a
        done one if any, else the latest state (in progress: a run died while registering it)."""
        row = self._one(
            """SELECT i.run_id, i.status, i.results, i.source, i."row", r.decision,
                      r.reviewed_by
               FROM items i LEFT JOIN reviews r ON r.run_id = i.run_id AND r.seq = i.seq
               WHERE i.bot_id = ? AND i.key_hash = ? AND i.run_id <> ?
               ORDER BY CASE WHEN i.status = 'done' OR r.decision = 'entered' THEN 1 ELSE 0
                        END DESC, i.started_at DESC, i.run_id DESC
               LIMIT 1""",
            (bot_id, key.hash, before_run),
        )
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
        row = self._one("SELECT * FROM items WHERE run_id = ? AND seq = ?", (run_id, seq))
        if row is None:
            raise LookupError(f"run {run_id} has no item {seq}")
        if row["status"] not in (ItemStatus.NEEDS_REVIEW.value, ItemStatus.IN_PROGRESS.value):
            raise ValueError(ItemStatus(row["status"]).label)
        decision = "entered" if entered else "not_entered"
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
                decision,
                note,
                reviewed_by,
                iso(dt.datetime.now()),
            ),
        )
        audit.record(
            self,
            audit.Action.REVIEW,
            bot_id=row["bot_id"],
            run_id=run_id,
            outcome=decision,
            detail=f"No.{seq}",
            user=reviewed_by,
        )
        return ItemOutcome(
            seq=seq, source=row["source"], row=row["row"], status=ItemStatus(row["status"])
        )

    def rerun_targets(self, run_id: str) -> tuple[set[str], set[tuple[str, int | None]]]:
        """Keys and (source, row) of a run's items that did not end done or skipped."""
        rows = self._rows(
            """SELECT key_hash, source, "row" FROM items
               WHERE run_id = ? AND status NOT IN ('done', 'skipped')""",
            (run_id,),
        )
        return {r["key_hash"] for r in rows}, {(r["source"], r["row"]) for r in rows}

    def unfinished_runs(self, bot_id: str, except_run: str) -> list[RunRecord]:
        """Runs of the bot still marked running (the caller knows which of them died)."""
        rows = self._rows(
            "SELECT * FROM runs WHERE bot_id = ? AND status = 'running' AND id <> ?",
            (bot_id, except_run),
        )
        return [run_from_row(r) for r in rows]

    def close_unfinished(self, run_id: str, message: str) -> None:
        """Close a run whose process died: aborted, with counts from its items."""
        record = self.get_run(run_id)
        if record is None:
            return
        counts = self._rows(
            "SELECT status, count(*) AS n FROM items WHERE run_id = ? GROUP BY status", (run_id,)
        )
        record.status = RunStatus.ABORTED
        record.counts = {
            ItemStatus(r["status"]): int(r["n"]) for r in counts if r["status"] in _COUNTED_VALUES
        }
        record.exit_code = 3
        record.message = message
        record.minutes_saved = minutes_saved(
            record.count(ItemStatus.DONE), exception_items(record.counts), False, record.baseline()
        )
        last = self._one(
            "SELECT max(coalesce(ended_at, started_at)) AS last FROM items WHERE run_id = ?",
            (run_id,),
        )
        moment = last["last"] if last else None
        record.ended_at = dt.datetime.fromisoformat(moment) if moment else record.started_at
        self.finish_run(record)

    # -- what the KPI reports read --------------------------------------------------------------
    def tally_runs(self, where: RunFilter) -> list[RunTally]:
        """Runs added up per department, bot and month, in one aggregate query.

        Rows still running have zero counts and minutes until they finish, so summing every
        row is the sum over finished runs; they are counted apart (``running``).
        """
        sql, params = where_sql(where)
        needs_person = (
            "status = 'aborted' OR items_business_error + items_system_error + items_bad_input"
            " + items_needs_review > 0"
        )
        rows = self._rows(
            f"""SELECT department, bot_id, max(bot_name) AS bot_name,
                   substr(started_at, 1, 7) AS month,
                   {_count("status <> 'running'")} AS finished,
                   {_count("status = 'running'")} AS running,
                   {_count("status = 'aborted'")} AS aborted,
                   {_count(needs_person)} AS needing_person,
                   sum(items_done) AS s0, sum(items_business_error) AS s1,
                   sum(items_system_error) AS s2, sum(items_bad_input) AS s3,
                   sum(items_needs_review) AS s4, sum(items_skipped) AS s5,
                   coalesce(sum({self.SECONDS}), 0) AS wall_seconds,
                   sum(minutes_saved) AS minutes_saved
               FROM runs WHERE {sql}
               GROUP BY department, bot_id, substr(started_at, 1, 7)
               ORDER BY department, bot_id, month""",
            params,
        )
        return [
            RunTally(
                department=r["department"],
                bot_id=r["bot_id"],
                bot_name=r["bot_name"],
                month=r["month"],
                runs=int(r["finished"]),
                running=int(r["running"]),
                aborted=int(r["aborted"]),
                needing_person=int(r["needing_person"]),
                items={s: int(r[f"s{n}"]) for n, s in enumerate(_TALLY_STATUSES)},
                wall_seconds=float(r["wall_seconds"]),
                minutes_saved=float(r["minutes_saved"]),
            )
            for r in rows
        ]

    def baseline_uses(self, where: RunFilter) -> list[BaselineUse]:
        """Each distinct baseline stored with finished runs, with how many runs used it."""
        sql, params = where_sql(where)
        rows = self._rows(
            f"""SELECT department, bot_id, baseline_minutes_per_item,
                   baseline_minutes_per_run, baseline_minutes_per_exception,
                   baseline_measured_by, baseline_measured_on,
                   min(started_at) AS first_started, max(started_at) AS last_started,
                   count(*) AS runs, sum(minutes_saved) AS minutes_saved
               FROM runs WHERE {sql} AND status <> 'running'
               GROUP BY 1, 2, 3, 4, 5, 6, 7
               ORDER BY department, bot_id, min(started_at)""",
            params,
        )
        return [
            BaselineUse(
                department=r["department"],
                bot_id=r["bot_id"],
                minutes_per_item=r["baseline_minutes_per_item"],
                minutes_per_run=r["baseline_minutes_per_run"],
                minutes_per_exception=r["baseline_minutes_per_exception"],
                measured_by=r["baseline_measured_by"],
                measured_on=r["baseline_measured_on"],
                first_started=r["first_started"],
                last_started=r["last_started"],
                runs=int(r["runs"]),
                minutes_saved=float(r["minutes_saved"]),
            )
            for r in rows
        ]

    def run_lines(self, where: RunFilter) -> Iterator[RunLine]:
        """Finished runs in start order, streamed (a year may hold 100,000 runs)."""
        sql, params = where_sql(where)
        rows = self._stream(
            f"""SELECT id, department, bot_id, bot_name, trigger, started_at, ended_at,
                   status, items_done, items_business_error, items_system_error,
                   items_bad_input, items_needs_review, items_skipped, minutes_saved,
                   baseline_minutes_per_item, baseline_minutes_per_run,
                   baseline_minutes_per_exception, baseline_measured_by,
                   baseline_measured_on, {self.SECONDS} AS wall_seconds
               FROM runs WHERE {sql} AND status <> 'running'
               ORDER BY started_at, id""",
            params,
        )
        for *values, seconds in rows:
            line = (*values, int(seconds) if seconds is not None else None)
            yield RunLine(*line)

    def bot_departments(self) -> dict[str, str]:
        """Every bot in the log and the department of its latest run."""
        rows = self._rows(
            """SELECT r.bot_id, r.department FROM runs r
               JOIN (SELECT bot_id, max(started_at) AS latest FROM runs GROUP BY bot_id) m
                 ON m.bot_id = r.bot_id AND m.latest = r.started_at
               ORDER BY r.bot_id, r.id"""
        )
        return {r["bot_id"]: r["department"] for r in rows}

    # -- the audit trail ----------------------------------------------------------------------
    def audit_records(
        self, since: str | None = None, until: str | None = None
    ) -> list[AuditRecord]:
        """Audit records in seq order; ``since`` <= at < ``until`` (ISO text) when given."""
        terms, params = ["1 = 1"], []
        if since is not None:
            terms.append("at >= ?")
            params.append(since)
        if until is not None:
            terms.append("at < ?")
            params.append(until)
        rows = self._rows(f"SELECT * FROM audit WHERE {' AND '.join(terms)} ORDER BY seq", params)
        return [AuditRecord(**r) for r in rows]

    # -- the scheduler's decisions ------------------------------------------------------------
    def record_schedule_event(self, event: ScheduleEvent) -> None:
        """Record what the scheduler decided about one fire time (or a manifest it refused)."""
        self._write(
            """INSERT INTO schedule_events (bot_id, schedule, fire_time, event, run_id, message,
                   at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                event.bot_id,
                event.schedule,
                iso(event.fire_time),
                event.event.value,
                event.run_id,
                event.message,
                iso(event.at or dt.datetime.now().astimezone()),
            ),
        )

    def schedule_events(self, limit: int = 20, bot_id: str | None = None) -> list[ScheduleEvent]:
        """The scheduler's latest decisions, newest first (for ``rpa runs``)."""
        mine = "WHERE bot_id = ?" if bot_id else ""
        rows = self._rows(
            f"SELECT * FROM schedule_events {mine} ORDER BY id DESC LIMIT ?",
            (bot_id, limit) if bot_id else (limit,),
        )
        return [_schedule_event(r) for r in rows]

    def fire_events(
        self, bot_id: str, schedule: str, fire_time: dt.datetime
    ) -> list[ScheduleEvent]:
        """Every decision recorded about one fire time of a schedule, oldest first."""
        rows = self._rows(
            """SELECT * FROM schedule_events
               WHERE bot_id = ? AND schedule = ? AND fire_time = ? ORDER BY id""",
            (bot_id, schedule, iso(fire_time)),
        )
        return [_schedule_event(r) for r in rows]

    def last_fire_time(self, bot_id: str, schedule: str) -> dt.datetime | None:
        """The latest fire time of a schedule that the scheduler recorded a decision about."""
        rows = self._rows(
            "SELECT DISTINCT fire_time FROM schedule_events WHERE bot_id = ? AND schedule = ?",
            (bot_id, schedule),
        )
        return max((dt.datetime.fromisoformat(r["fire_time"]) for r in rows), default=None)

    def scheduled_runs_since(self, bot_id: str, since: dt.datetime) -> list[RunRecord]:
        """Runs of the bot started by the scheduler at or after ``since``, oldest first."""
        # stored times carry their UTC offset: the SQL bound only narrows, Python compares
        coarse = (since - dt.timedelta(days=2)).isoformat(timespec="seconds")[:19]
        rows = self._rows(
            """SELECT * FROM runs WHERE bot_id = ? AND trigger = 'schedule'
               AND started_at >= ? ORDER BY started_at, id""",
            (bot_id, coarse),
        )
        records = [run_from_row(r) for r in rows]
        return [r for r in records if _aware(r.started_at) >= since]


def _schedule_event(row: Row) -> ScheduleEvent:
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
