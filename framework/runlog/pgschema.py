"""The run log's PostgreSQL schema: :data:`PG_MIGRATIONS`, one per SQLite migration, in order.

Version *n* here is the same schema as version *n* of :data:`~framework.runlog.schema.MIGRATIONS`
(same tables, columns and meaning), written for PostgreSQL, in the ``kakari`` schema of the
database (procrastinate keeps its own tables in the same database). The version is kept in
``kakari.schema_version``; :class:`~framework.runlog.postgres.PostgresRunLog` applies each
migration in its own transaction under an advisory lock, so two PCs starting at once upgrade the
log once. Migrations are only ever appended, never edited, like the SQLite ones.

Times are stored as the same ISO text as in SQLite (the local time of the PC that wrote them,
with its UTC offset), so reports group runs by the date the PC saw, whatever the server's time
zone; text columns use the ``C`` collation so ordering is byte order, as in SQLite.
Extra tables kept only here: ``secret`` (the item-key secret shared by every PC, v1) and
``audit_counter`` (the highest audit seq handed out, SQLite's ``sqlite_sequence``, v6).
"""

from __future__ import annotations

SCHEMA = "kakari"

BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS kakari;
CREATE TABLE IF NOT EXISTS kakari.schema_version (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    version INTEGER NOT NULL
);
"""
"""The schema and the version table (run under the migration lock before migration 1)."""

PG_MIGRATIONS: tuple[str, ...] = (
    # 1: runs and items (and the shared item-key secret)
    """
    CREATE TABLE kakari.runs (
        id TEXT COLLATE "C" PRIMARY KEY,
        bot_id TEXT COLLATE "C" NOT NULL,
        bot_name TEXT COLLATE "C" NOT NULL,
        department TEXT COLLATE "C" NOT NULL,
        workflow TEXT COLLATE "C" NOT NULL,
        trigger TEXT COLLATE "C" NOT NULL,
        os_user TEXT COLLATE "C" NOT NULL,
        host TEXT COLLATE "C" NOT NULL,
        input TEXT COLLATE "C",
        started_at TEXT COLLATE "C" NOT NULL,
        ended_at TEXT COLLATE "C",
        status TEXT COLLATE "C" NOT NULL,
        items_total INTEGER NOT NULL DEFAULT 0,
        items_done INTEGER NOT NULL DEFAULT 0,
        items_business_error INTEGER NOT NULL DEFAULT 0,
        items_system_error INTEGER NOT NULL DEFAULT 0,
        items_bad_input INTEGER NOT NULL DEFAULT 0,
        items_skipped INTEGER NOT NULL DEFAULT 0,
        baseline_minutes_per_item DOUBLE PRECISION NOT NULL,
        baseline_minutes_per_run DOUBLE PRECISION NOT NULL,
        baseline_measured_by TEXT COLLATE "C" NOT NULL,
        baseline_measured_on TEXT COLLATE "C" NOT NULL,
        minutes_saved DOUBLE PRECISION NOT NULL DEFAULT 0,
        exit_code INTEGER,
        message TEXT COLLATE "C" NOT NULL DEFAULT '',
        run_dir TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX runs_bot_started ON kakari.runs (bot_id, started_at);
    CREATE INDEX runs_started ON kakari.runs (started_at);
    CREATE TABLE kakari.items (
        run_id TEXT COLLATE "C" NOT NULL REFERENCES kakari.runs (id),
        seq INTEGER NOT NULL,
        source TEXT COLLATE "C" NOT NULL,
        "row" INTEGER,
        key_hash TEXT COLLATE "C" NOT NULL,
        key_text TEXT COLLATE "C",
        status TEXT COLLATE "C" NOT NULL,
        message TEXT COLLATE "C" NOT NULL DEFAULT '',
        results TEXT COLLATE "C" NOT NULL DEFAULT '{}',
        screenshot TEXT COLLATE "C",
        started_at TEXT COLLATE "C" NOT NULL,
        ended_at TEXT COLLATE "C",
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX items_key ON kakari.items (key_hash, status);
    CREATE TABLE kakari.secret (
        only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        key_hex TEXT NOT NULL
    );
    """,
    # 2: items know their bot (resume by key across runs), and the needs-review count
    """
    ALTER TABLE kakari.items ADD COLUMN bot_id TEXT COLLATE "C" NOT NULL DEFAULT '';
    UPDATE kakari.items SET bot_id = r.bot_id FROM kakari.runs r WHERE r.id = items.run_id;
    CREATE INDEX items_bot_key ON kakari.items (bot_id, key_hash);
    ALTER TABLE kakari.runs ADD COLUMN items_needs_review INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: what staff found when they checked an item that needed review (rpa review)
    """
    CREATE TABLE kakari.reviews (
        run_id TEXT COLLATE "C" NOT NULL,
        seq INTEGER NOT NULL,
        bot_id TEXT COLLATE "C" NOT NULL,
        key_hash TEXT COLLATE "C" NOT NULL,
        decision TEXT COLLATE "C" NOT NULL CHECK (decision IN ('entered', 'not_entered')),
        note TEXT COLLATE "C" NOT NULL DEFAULT '',
        reviewed_by TEXT COLLATE "C" NOT NULL,
        reviewed_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (run_id, seq),
        FOREIGN KEY (run_id, seq) REFERENCES kakari.items (run_id, seq)
    );
    CREATE INDEX reviews_bot_key ON kakari.reviews (bot_id, key_hash);
    """,
    # 4: the baseline's minutes per exception item (KPI reports subtract them)
    """
    ALTER TABLE kakari.runs
        ADD COLUMN baseline_minutes_per_exception DOUBLE PRECISION NOT NULL DEFAULT 0;
    CREATE INDEX runs_department_started ON kakari.runs (department, started_at);
    """,
    # 5: what the scheduler decided (started, skipped for a holiday, missed, caught up, ...)
    """
    CREATE TABLE kakari.schedule_events (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        bot_id TEXT COLLATE "C" NOT NULL,
        schedule TEXT COLLATE "C" NOT NULL,
        fire_time TEXT COLLATE "C" NOT NULL,
        event TEXT COLLATE "C" NOT NULL,
        run_id TEXT COLLATE "C",
        message TEXT COLLATE "C" NOT NULL DEFAULT '',
        at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX schedule_events_bot_fire ON kakari.schedule_events (bot_id, fire_time);
    """,
    # 6: the audit trail: who did what; each record carries the hash of the previous one
    """
    CREATE TABLE kakari.audit (
        seq BIGINT PRIMARY KEY,
        at TEXT COLLATE "C" NOT NULL,
        os_user TEXT COLLATE "C" NOT NULL,
        host TEXT COLLATE "C" NOT NULL,
        trigger TEXT COLLATE "C" NOT NULL,
        action TEXT COLLATE "C" NOT NULL,
        bot_id TEXT COLLATE "C" NOT NULL DEFAULT '',
        run_id TEXT COLLATE "C",
        input_sha256 TEXT COLLATE "C",
        outcome TEXT COLLATE "C" NOT NULL DEFAULT '',
        detail TEXT COLLATE "C" NOT NULL DEFAULT '',
        prev_hash TEXT COLLATE "C" NOT NULL,
        hash TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE kakari.audit_counter (
        only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        last_seq BIGINT NOT NULL
    );
    INSERT INTO kakari.audit_counter (last_seq) VALUES (0);
    """,
)
