"""The run log's SQLite schema: :data:`MIGRATIONS`, applied in order, counted by ``user_version``.

The schema is versioned with ``PRAGMA user_version``: a log at version *n* is upgraded in place by
running migrations *n+1* onwards, each in its own transaction with the new version number, so an
upgrade interrupted half-way resumes at the next start. A log newer than this kakari is refused
(:class:`~framework.runlog.sqlite.SqliteRunLog`). Migrations are only ever appended, never edited.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: runs and items
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        bot_id TEXT NOT NULL,
        bot_name TEXT NOT NULL,
        department TEXT NOT NULL,
        workflow TEXT NOT NULL,
        trigger TEXT NOT NULL,
        os_user TEXT NOT NULL,
        host TEXT NOT NULL,
        input TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        items_total INTEGER NOT NULL DEFAULT 0,
        items_done INTEGER NOT NULL DEFAULT 0,
        items_business_error INTEGER NOT NULL DEFAULT 0,
        items_system_error INTEGER NOT NULL DEFAULT 0,
        items_bad_input INTEGER NOT NULL DEFAULT 0,
        items_skipped INTEGER NOT NULL DEFAULT 0,
        baseline_minutes_per_item REAL NOT NULL,
        baseline_minutes_per_run REAL NOT NULL,
        baseline_measured_by TEXT NOT NULL,
        baseline_measured_on TEXT NOT NULL,
        minutes_saved REAL NOT NULL DEFAULT 0,
        exit_code INTEGER,
        message TEXT NOT NULL DEFAULT '',
        run_dir TEXT NOT NULL
    );
    CREATE INDEX runs_bot_started ON runs (bot_id, started_at);
    CREATE INDEX runs_started ON runs (started_at);
    CREATE TABLE items (
        run_id TEXT NOT NULL REFERENCES runs (id),
        seq INTEGER NOT NULL,
        source TEXT NOT NULL,
        row INTEGER,
        key_hash TEXT NOT NULL,
        key_text TEXT,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        results TEXT NOT NULL DEFAULT '{}',
        screenshot TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX items_key ON items (key_hash, status);
    """,
    # 2: items know their bot (resume by key across runs), and the needs-review count
    """
    ALTER TABLE items ADD COLUMN bot_id TEXT NOT NULL DEFAULT '';
    UPDATE items SET bot_id = (SELECT bot_id FROM runs WHERE runs.id = items.run_id);
    CREATE INDEX items_bot_key ON items (bot_id, key_hash);
    ALTER TABLE runs ADD COLUMN items_needs_review INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: what staff found when they checked an item that needed review (rpa review)
    """
    CREATE TABLE reviews (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        bot_id TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('entered', 'not_entered')),
        note TEXT NOT NULL DEFAULT '',
        reviewed_by TEXT NOT NULL,
        reviewed_at TEXT NOT NULL,
        PRIMARY KEY (run_id, seq),
        FOREIGN KEY (run_id, seq) REFERENCES items (run_id, seq)
    );
    CREATE INDEX reviews_bot_key ON reviews (bot_id, key_hash);
    """,
    # 4: the baseline's minutes per exception item (KPI reports subtract them)
    """
    ALTER TABLE runs ADD COLUMN baseline_minutes_per_exception REAL NOT NULL DEFAULT 0;
    CREATE INDEX runs_department_started ON runs (department, started_at);
    """,
    # 5: what the scheduler decided (started, skipped for a holiday, missed, caught up, ...)
    """
    CREATE TABLE schedule_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        bot_id TEXT NOT NULL,
        schedule TEXT NOT NULL,
        fire_time TEXT NOT NULL,
        event TEXT NOT NULL,
        run_id TEXT,
        message TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX schedule_events_bot_fire ON schedule_events (bot_id, fire_time);
    """,
    # 6: the audit trail: who did what; each record carries the hash of the previous one
    """
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        os_user TEXT NOT NULL,
        host TEXT NOT NULL,
        trigger TEXT NOT NULL,
        action TEXT NOT NULL,
        bot_id TEXT NOT NULL DEFAULT '',
        run_id TEXT,
        input_sha256 TEXT,
        outcome TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    """,
)
