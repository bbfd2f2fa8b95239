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

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from framework import audit
from framework.audit import AuditRecord, Sealer
from framework.database import masked, require_psycopg
from framework.outcome import ItemOutcome, ItemStatus, RunStatus
from framework.runlog.keys import ItemKey, item_key
from framework.runlog.pgschema import BOOTSTRAP, PG_MIGRATIONS
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
from framework.runlog.store import RunLogError, SchemaTooNewError
from framework.savings import exception_items, minutes_saved

if TYPE_CHECKING:
    import psycopg

    Connection = psycopg.Connection[dict[str, Any]]

MIGRATION_LOCK = 0x6B616B61_00000001
"""Advisory lock held while the schema is checked or upgraded (one upgrade at a time)."""
AUDIT_LOCK = 0x6B616B61_00000002
"""Advisory lock held while an audit record is appended (one chain, no gaps)."""
CHUNK = 5_000

_COUNTED_VALUES = {s.value for s in COUNTED_STATUSES}
_TALLY_STATUSES = (
    ItemStatus.DONE,
    ItemStatus.BUSINESS_ERROR,
    ItemStatus.SYSTEM_ERROR,
    ItemStatus.BAD_INPUT,
    ItemStatus.NEEDS_REVIEW,
    ItemStatus.SKIPPED,
)
_SECONDS = "extract(epoch from ended_at::timestamptz - started_at::timestamptz)"


class DatabaseUnavailableError(RunLogError):
    """The PostgreSQL server cannot be reached or refused the connection."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"実行記録のデータベースに接続できません: {masked(url)}（{reason}）。"
            " RPA_DATABASE_URL、サーバー、ネットワーク、パスワードファイルを確認してください"
            " (cannot connect to the run-log database; check RPA_DATABASE_URL, the server and"
            " pgpass)"
        )


def _now_iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def _where(where: RunFilter) -> tuple[str, list[object]]:
    """SQL conditions for a filter; dates compare on the local date the ISO text starts with."""
    terms = ["TRUE"]
    params: list[object] = []
    if where.first_day is not None:
        terms.append("started_at >= %s")
        params.append(where.first_day.isoformat())
    if where.last_day is not None:
        terms.append("started_at < %s")
        params.append((where.last_day + dt.timedelta(days=1)).isoformat())
    for column, value in (
        ("department", where.department),
        ("bot_id", where.bot_id),
        ("status", where.status.value if where.status else None),
    ):
        if value is not None:
            terms.append(f"{column} = %s")
            params.append(value)
    return " AND ".join(terms), params


def _reason(exc: Exception) -> str:
    """The first line of a driver error (libpq never puts the password in it)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect(url: str) -> Connection:
    """An autocommit connection with dict rows; :class:`DatabaseUnavailableError` if refused."""
    require_psycopg()
    import psycopg
    from psycopg.rows import dict_row

    try:
        return psycopg.connect(
            url, autocommit=True, row_factory=dict_row, connect_timeout=10,
            application_name="kakari",
        )  # fmt: skip
    except psycopg.Error as exc:
        raise DatabaseUnavailableError(url, _reason(exc)) from exc


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


def schema_version(url: str) -> int:
    """The schema version at ``url`` without changing anything (for ``rpa doctor``)."""
    conn = connect(url)
    try:
        return read_version(conn)
    finally:
        conn.close()


class PostgresRunLog:
    """The run log in a PostgreSQL database (schema ``kakari``), shared by several PCs."""

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

    def _read(self, sql: str, params: Sequence[object], one: bool) -> Any:
        """A query; retried once on a new connection if the old one broke (server restarted,
        network dropped). Writes are not retried: the server may have committed them."""
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                try:
                    cursor = self._connection().execute(sql, params)
                    return cursor.fetchone() if one else cursor.fetchall()
                except psycopg.OperationalError:
                    if attempt == 2 or not self._conn.broken:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._read(sql, params, one=False)
        return rows

    def _one(self, sql: str, params: Sequence[object] = ()) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self._read(sql, params, one=True)
        return row

    def _write(self, sql: str, params: Sequence[object]) -> None:
        """One statement, committed on its own (autocommit): durable when it returns."""
        with self._lock:
            self._connection().execute(sql, params)

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

    # -- runs and items -------------------------------------------------------------------------
    def start_run(self, run: RunRecord) -> None:
        self._write(
            """INSERT INTO kakari.runs (id, bot_id, bot_name, department, workflow, trigger,
                   os_user, host, input, started_at, status, baseline_minutes_per_item,
                   baseline_minutes_per_run, baseline_minutes_per_exception,
                   baseline_measured_by, baseline_measured_on, run_dir)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
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
            """INSERT INTO kakari.items (run_id, bot_id, seq, source, "row", key_hash, key_text,
                   status, started_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
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
            "UPDATE kakari.items SET status = %s WHERE run_id = %s AND seq = %s",
            (status.value, run_id, seq),
        )

    def item_finished(self, run: RunRecord, outcome: ItemOutcome, key: ItemKey) -> None:
        """Record how an item ended (inserting it if it never started, e.g. bad input)."""
        now = _now_iso(dt.datetime.now())
        self._write(
            """INSERT INTO kakari.items (run_id, bot_id, seq, source, "row", key_hash, key_text,
                   status, message, results, screenshot, started_at, ended_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
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
            """UPDATE kakari.runs SET ended_at = %s, status = %s, items_total = %s,
                   items_done = %s, items_business_error = %s, items_system_error = %s,
                   items_bad_input = %s, items_needs_review = %s, items_skipped = %s,
                   minutes_saved = %s, exit_code = %s, message = %s
               WHERE id = %s""",
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

    def recent_runs(self, limit: int = 20, bot_id: str | None = None) -> list[RunRecord]:
        return self.find_runs(RunFilter(bot_id=bot_id or None), limit)

    def find_runs(self, where: RunFilter, limit: int = 20) -> list[RunRecord]:
        """Runs matching ``where``, newest first (``rpa runs`` with filters)."""
        sql, params = _where(where)
        rows = self._rows(
            f"SELECT * FROM kakari.runs WHERE {sql} ORDER BY started_at DESC, id DESC LIMIT %s",
            (*params, limit),
        )
        return [run_from_row(r) for r in rows]

    def tally_runs(self, where: RunFilter) -> list[RunTally]:
        """Runs added up per department, bot and month, in one aggregate query."""
        sql, params = _where(where)
        rows = self._rows(
            f"""SELECT department, bot_id, max(bot_name) AS bot_name,
                   substr(started_at, 1, 7) AS month,
                   count(*) FILTER (WHERE status <> 'running') AS runs,
                   count(*) FILTER (WHERE status = 'running') AS running,
                   count(*) FILTER (WHERE status = 'aborted') AS aborted,
                   count(*) FILTER (WHERE status = 'aborted' OR items_business_error
                       + items_system_error + items_bad_input + items_needs_review > 0)
                       AS needing_person,
                   sum(items_done) AS s0, sum(items_business_error) AS s1,
                   sum(items_system_error) AS s2, sum(items_bad_input) AS s3,
                   sum(items_needs_review) AS s4, sum(items_skipped) AS s5,
                   coalesce(sum(floor({_SECONDS})), 0)::double precision AS wall_seconds,
                   sum(minutes_saved) AS minutes_saved
               FROM kakari.runs WHERE {sql}
               GROUP BY department, bot_id, month
               ORDER BY department, bot_id, month""",
            params,
        )
        return [
            RunTally(
                department=r["department"],
                bot_id=r["bot_id"],
                bot_name=r["bot_name"],
                month=r["month"],
                runs=r["runs"],
                running=r["running"],
                aborted=r["aborted"],
                needing_person=r["needing_person"],
                items={s: int(r[f"s{n}"]) for n, s in enumerate(_TALLY_STATUSES)},
                wall_seconds=float(r["wall_seconds"]),
                minutes_saved=float(r["minutes_saved"]),
            )
            for r in rows
        ]

    def baseline_uses(self, where: RunFilter) -> list[BaselineUse]:
        """Each distinct baseline stored with finished runs, with how many runs used it."""
        sql, params = _where(where)
        rows = self._rows(
            f"""SELECT department, bot_id, baseline_minutes_per_item,
                   baseline_minutes_per_run, baseline_minutes_per_exception,
                   baseline_measured_by, baseline_measured_on,
                   min(started_at) AS first_started, max(started_at) AS last_started,
                   count(*) AS runs, sum(minutes_saved) AS minutes_saved
               FROM kakari.runs WHERE {sql} AND status <> 'running'
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
                runs=r["runs"],
                minutes_saved=float(r["minutes_saved"]),
            )
            for r in rows
        ]

    def run_lines(self, where: RunFilter) -> Iterator[RunLine]:
        """Finished runs in start order, read in pages of :data:`CHUNK` (keyset paging)."""
        sql, params = _where(where)
        after: tuple[str, str] | None = None
        while True:
            page = "" if after is None else "AND (started_at, id) > (%s, %s)"
            rows = self._rows(
                f"""SELECT id, department, bot_id, bot_name, trigger, started_at, ended_at,
                       status, items_done, items_business_error, items_system_error,
                       items_bad_input, items_needs_review, items_skipped, minutes_saved,
                       baseline_minutes_per_item, baseline_minutes_per_run,
                       baseline_minutes_per_exception, baseline_measured_by,
                       baseline_measured_on, floor({_SECONDS})::bigint AS wall_seconds
                   FROM kakari.runs WHERE {sql} AND status <> 'running' {page}
                   ORDER BY started_at, id LIMIT %s""",
                (*params, *(after or ()), CHUNK),
            )
            for row in rows:
                yield RunLine(*row.values())
            if len(rows) < CHUNK:
                return
            after = (rows[-1]["started_at"], rows[-1]["id"])

    def bot_departments(self) -> dict[str, str]:
        """Every bot in the log and the department of its latest run."""
        rows = self._rows(
            """SELECT DISTINCT ON (bot_id) bot_id, department FROM kakari.runs
               ORDER BY bot_id, started_at DESC"""
        )
        return {r["bot_id"]: r["department"] for r in rows}

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._one("SELECT * FROM kakari.runs WHERE id = %s", (run_id,))
        return run_from_row(row) if row else None

    def items(self, run_id: str) -> list[ItemOutcome]:
        rows = self._rows("SELECT * FROM kakari.items WHERE run_id = %s ORDER BY seq", (run_id,))
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
        """What happened to this key in earlier runs of the bot (on any PC): a done one if any,
        else the latest state (an in-progress one means a run died while registering it)."""
        row = self._one(
            """SELECT i.run_id, i.status, i.results, i.source, i."row", r.decision,
                      r.reviewed_by
               FROM kakari.items i
               LEFT JOIN kakari.reviews r ON r.run_id = i.run_id AND r.seq = i.seq
               WHERE i.bot_id = %s AND i.key_hash = %s AND i.run_id <> %s
               ORDER BY coalesce(i.status = 'done' OR r.decision = 'entered', FALSE) DESC,
                        i.started_at DESC, i.run_id DESC LIMIT 1""",
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
        row = self._one("SELECT * FROM kakari.items WHERE run_id = %s AND seq = %s", (run_id, seq))
        if row is None:
            raise LookupError(f"run {run_id} has no item {seq}")
        if row["status"] not in (ItemStatus.NEEDS_REVIEW.value, ItemStatus.IN_PROGRESS.value):
            raise ValueError(ItemStatus(row["status"]).label)
        decision = "entered" if entered else "not_entered"
        self._write(
            """INSERT INTO kakari.reviews (run_id, seq, bot_id, key_hash, decision, note,
                   reviewed_by, reviewed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
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
                _now_iso(dt.datetime.now()),
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
            """SELECT key_hash, source, "row" FROM kakari.items
               WHERE run_id = %s AND status NOT IN ('done', 'skipped')""",
            (run_id,),
        )
        return {r["key_hash"] for r in rows}, {(r["source"], r["row"]) for r in rows}

    def unfinished_runs(self, bot_id: str, except_run: str) -> list[RunRecord]:
        """Runs of the bot still marked running (on this PC the bot lock says they died)."""
        rows = self._rows(
            "SELECT * FROM kakari.runs WHERE bot_id = %s AND status = 'running' AND id <> %s",
            (bot_id, except_run),
        )
        return [run_from_row(r) for r in rows]

    def close_unfinished(self, run_id: str, message: str) -> None:
        """Close a run whose process died: aborted, with counts from its items."""
        counts = {
            r["status"]: r["n"]
            for r in self._rows(
                """SELECT status, count(*) AS n FROM kakari.items WHERE run_id = %s
                   GROUP BY status""",
                (run_id,),
            )
        }
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
        last = self._one(
            """SELECT max(coalesce(ended_at, started_at)) AS last FROM kakari.items
               WHERE run_id = %s""",
            (run_id,),
        )
        moment = last["last"] if last else None
        record.ended_at = dt.datetime.fromisoformat(moment) if moment else record.started_at
        self.finish_run(record)

    # -- the audit trail ------------------------------------------------------------------------
    def append_audit(self, fields: Mapping[str, object], seal: Sealer, genesis: str) -> int:
        """Append an audit record in one transaction (see :func:`append_audit_locked`)."""
        with self.transaction() as conn:
            return append_audit_locked(conn, fields, seal, genesis)

    def audit_records(
        self, since: str | None = None, until: str | None = None
    ) -> list[AuditRecord]:
        """Audit records in seq order; ``since`` <= at < ``until`` (ISO text) when given."""
        terms, params = ["TRUE"], []
        if since is not None:
            terms.append("at >= %s")
            params.append(since)
        if until is not None:
            terms.append("at < %s")
            params.append(until)
        rows = self._rows(
            f"SELECT * FROM kakari.audit WHERE {' AND '.join(terms)} ORDER BY seq", params
        )
        return [AuditRecord(**r) for r in rows]

    def audit_issued(self) -> int:
        """The highest audit seq ever handed out (kept in ``kakari.audit_counter``)."""
        row = self._one("SELECT last_seq FROM kakari.audit_counter")
        return int(row["last_seq"]) if row else 0

    # -- the scheduler's decisions --------------------------------------------------------------
    def record_schedule_event(self, event: ScheduleEvent) -> None:
        """Record what the scheduler decided about one fire time (or a manifest it refused)."""
        self._write(
            """INSERT INTO kakari.schedule_events (bot_id, schedule, fire_time, event, run_id,
                   message, at) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
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

    @staticmethod
    def _schedule_event(row: Mapping[str, Any]) -> ScheduleEvent:
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
        if bot_id:
            rows = self._rows(
                """SELECT * FROM kakari.schedule_events WHERE bot_id = %s
                   ORDER BY id DESC LIMIT %s""",
                (bot_id, limit),
            )
        else:
            rows = self._rows(
                "SELECT * FROM kakari.schedule_events ORDER BY id DESC LIMIT %s", (limit,)
            )
        return [self._schedule_event(r) for r in rows]

    def fire_events(
        self, bot_id: str, schedule: str, fire_time: dt.datetime
    ) -> list[ScheduleEvent]:
        """Every decision recorded about one fire time of a schedule, oldest first."""
        rows = self._rows(
            """SELECT * FROM kakari.schedule_events
               WHERE bot_id = %s AND schedule = %s AND fire_time = %s ORDER BY id""",
            (bot_id, schedule, _now_iso(fire_time)),
        )
        return [self._schedule_event(r) for r in rows]

    def last_fire_time(self, bot_id: str, schedule: str) -> dt.datetime | None:
        """The latest fire time of a schedule that the scheduler recorded a decision about."""
        rows = self._rows(
            """SELECT DISTINCT fire_time FROM kakari.schedule_events
               WHERE bot_id = %s AND schedule = %s""",
            (bot_id, schedule),
        )
        return max((dt.datetime.fromisoformat(r["fire_time"]) for r in rows), default=None)

    def scheduled_runs_since(self, bot_id: str, since: dt.datetime) -> list[RunRecord]:
        """Runs of the bot started by the scheduler at or after ``since``, oldest first."""
        # stored times carry their UTC offset: the SQL bound only narrows, Python compares
        coarse = (since - dt.timedelta(days=2)).isoformat(timespec="seconds")[:19]
        rows = self._rows(
            """SELECT * FROM kakari.runs WHERE bot_id = %s AND trigger = 'schedule'
               AND started_at >= %s ORDER BY started_at, id""",
            (bot_id, coarse),
        )
        records = [run_from_row(r) for r in rows]
        return [r for r in records if _aware(r.started_at) >= since]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _aware(value: dt.datetime) -> dt.datetime:
    """Times written without an offset are local times."""
    return value if value.tzinfo is not None else value.astimezone()
