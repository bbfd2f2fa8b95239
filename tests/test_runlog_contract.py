"""The run-log contract, part two: resume by key, reviews, reruns, audit, concurrency, schemas.

Tests taking ``open_store`` run against SQLite and PostgreSQL (``tests/conftest.py``); the
others check what only one store has (PostgreSQL's migrations, its shared secret, selection).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, StoreFactory, welfare_run

from framework import audit
from framework.outcome import ItemOutcome, ItemStatus, RunStatus
from framework.runlog import (
    MIGRATIONS,
    RunLog,
    RunRecord,
    SchemaTooNewError,
    SqliteRunLog,
    open_runlog,
)
from framework.runlog.pgschema import BOOTSTRAP, PG_MIGRATIONS


def _item(store: RunLog, run: RunRecord, seq: int, parts: list[str], status: ItemStatus) -> None:
    key = store.item_key(parts, personal=True)
    outcome = ItemOutcome(seq, "in.xlsx", seq + 1, ItemStatus.PENDING)
    store.item_started(run, outcome, key)
    if status in (ItemStatus.PENDING, ItemStatus.IN_PROGRESS):
        store.item_state(run.id, seq, status)
        return
    outcome.status = status
    outcome.results = {"受付番号": f"R-{seq}"} if status is ItemStatus.DONE else {}
    store.item_finished(run, outcome, key)


def test_the_stores_have_the_same_schema_versions() -> None:
    assert len(PG_MIGRATIONS) == len(MIGRATIONS)


def test_resume_by_key_from_another_connection(open_store: StoreFactory) -> None:
    first = open_store()
    one = welfare_run("r1")
    first.start_run(one)
    _item(first, one, 1, ["0123456789", "居宅介護"], ItemStatus.DONE)
    _item(first, one, 2, ["0123456780", "居宅介護"], ItemStatus.IN_PROGRESS)
    two = welfare_run("r2", minute=5)
    first.start_run(two)
    _item(first, two, 1, ["0123456789", "居宅介護"], ItemStatus.SYSTEM_ERROR)
    other = open_store()  # another process (or PC) with the same log
    done = other.prior_item("welfare_entry", other.item_key(["0123456789", "居宅介護"], True), "r3")
    assert done is not None
    assert (done.run_id, done.status, done.results) == ("r1", ItemStatus.DONE, {"受付番号": "R-1"})
    assert (done.source, done.row) == ("in.xlsx", 2)
    died = other.prior_item("welfare_entry", other.item_key(["0123456780", "居宅介護"], True), "r3")
    assert died is not None and died.status is ItemStatus.IN_PROGRESS
    assert other.prior_item("welfare_entry", other.item_key(["x"], True), "r3") is None
    elsewhere = other.item_key(["0123456789", "居宅介護"], True)
    assert other.prior_item("other_bot", elsewhere, "r3") is None
    own = other.prior_item("welfare_entry", other.item_key(["0123456780", "居宅介護"], True), "r1")
    assert own is None  # the run itself is not "earlier"


def test_a_review_decides_the_prior_state_and_is_audited(open_store: StoreFactory) -> None:
    store = open_store()
    run = welfare_run("r1")
    store.start_run(run)
    _item(store, run, 1, ["a"], ItemStatus.NEEDS_REVIEW)
    _item(store, run, 2, ["b"], ItemStatus.IN_PROGRESS)
    _item(store, run, 3, ["c"], ItemStatus.DONE)
    store.review_item("r1", 1, True, "確認者")
    store.review_item("r1", 2, False, "確認者", "未登録でした")
    entered = store.prior_item("welfare_entry", store.item_key(["a"], True), "r2")
    assert entered is not None
    assert (entered.status, entered.reviewed_by) == (ItemStatus.DONE, "確認者")
    again = store.prior_item("welfare_entry", store.item_key(["b"], True), "r2")
    assert again is not None and again.status is ItemStatus.SKIPPED
    with pytest.raises(LookupError):
        store.review_item("r1", 9, True, "確認者")
    with pytest.raises(ValueError):
        store.review_item("r1", 3, True, "確認者")
    records = store.audit_records()
    assert [(r.action, r.outcome, r.detail) for r in records] == [
        ("review", "entered", "No.1"),
        ("review", "not_entered", "No.2"),
    ]


def test_the_latest_state_of_a_key_wins_within_the_same_second(open_store: StoreFactory) -> None:
    """Three quick runs: needs review, needs review again, reviewed "not entered"; then a
    fourth run must see the review, whatever the runs' ids (they sort randomly)."""
    store = open_store()
    for run_id in ("r-zz", "r-aa"):  # the later run has the smaller id
        run = welfare_run(run_id)
        store.start_run(run)
        _item(store, run, 1, ["a"], ItemStatus.NEEDS_REVIEW)
    store.review_item("r-aa", 1, False, "確認者")
    prior = store.prior_item("welfare_entry", store.item_key(["a"], True), "r-next")
    assert prior is not None
    assert (prior.run_id, prior.status) == ("r-aa", ItemStatus.SKIPPED)


def test_rerun_targets_and_close_unfinished(open_store: StoreFactory) -> None:
    store = open_store()
    run = welfare_run("r1")
    store.start_run(run)
    _item(store, run, 1, ["a"], ItemStatus.DONE)
    _item(store, run, 2, ["b"], ItemStatus.BUSINESS_ERROR)
    _item(store, run, 3, ["c"], ItemStatus.SKIPPED)
    _item(store, run, 4, ["d"], ItemStatus.IN_PROGRESS)
    keys, places = store.rerun_targets("r1")
    assert keys == {store.item_key(["b"], True).hash, store.item_key(["d"], True).hash}
    assert places == {("in.xlsx", 3), ("in.xlsx", 5)}
    store.start_run(welfare_run("r2", minute=3))
    assert [r.id for r in store.unfinished_runs("welfare_entry", "r2")] == ["r1"]
    store.close_unfinished("r1", "前回の実行が途中で終了しました")
    closed = store.get_run("r1")
    assert closed is not None
    assert (closed.status, closed.exit_code) == (RunStatus.ABORTED, 3)
    assert closed.count(ItemStatus.DONE) == 1 and closed.count(ItemStatus.BUSINESS_ERROR) == 1
    assert closed.minutes_saved == 6  # one item done, no per-run minutes for an aborted run
    assert closed.ended_at is not None
    assert store.unfinished_runs("welfare_entry", "r2") == []
    store.close_unfinished("nope", "x")  # an unknown run is ignored


def test_the_audit_chain_verifies_and_counts_what_was_issued(open_store: StoreFactory) -> None:
    store = open_store()
    for n in range(5):
        audit.record(store, audit.Action.CLEANUP, outcome="ok", detail=f"n={n}")
    records = open_store().audit_records()
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:], strict=False))
    assert audit.verify(records, store.audit_issued()) is None
    assert store.audit_issued() == 5
    assert store.audit_records(since="2000-01-01", until="2000-01-02") == []
    assert audit.verify(records[:4], store.audit_issued()) is not None  # newest one deleted


WRITER = """
import datetime as dt, sys
from pathlib import Path
from framework import audit
from framework.outcome import ItemOutcome, ItemStatus
from framework.runlog import RunRecord, SqliteRunLog
from framework.runlog.postgres import PostgresRunLog
kind, target, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
store = PostgresRunLog(target) if kind == "postgres" else SqliteRunLog(Path(target))
run = RunRecord(tag, "bot", "b", "d", "w", "worker", "u", tag, None,
                dt.datetime.now().astimezone(), "/tmp", 1, 1, "m", "2026-01-01")
store.start_run(run)
for seq in range(n):
    key = store.item_key([tag, str(seq)], personal=True)
    outcome = ItemOutcome(seq, "in.xlsx", seq, ItemStatus.IN_PROGRESS)
    store.item_started(run, outcome, key)
    audit.record(store, audit.Action.REVIEW, run_id=tag, detail=str(seq), host=tag)
    outcome.status = ItemStatus.DONE
    store.item_finished(run, outcome, key)
store.close()
"""


def test_two_processes_write_items_and_audit_at_once(
    open_store: StoreFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = open_store()  # creates the schema first, as the first run would
    kind = request.node.callspec.params["open_store"]
    target = (
        request.getfixturevalue("pg_url")
        if kind == "postgres"
        else str(tmp_path / "runlog.sqlite3")
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, kind, target, f"pc-{n}", "40"], cwd=REPO)
        for n in (1, 2)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    records = store.audit_records()
    assert len(records) == 80
    assert audit.verify(records, store.audit_issued()) is None
    assert {r.host for r in records} == {"pc-1", "pc-2"}
    for tag in ("pc-1", "pc-2"):
        items = store.items(tag)
        assert len(items) == 40 and {i.status for i in items} == {ItemStatus.DONE}


def test_threads_append_to_one_chain(open_store: StoreFactory) -> None:
    stores = [open_store() for _ in range(3)]

    def work(store: RunLog) -> None:
        for _ in range(20):
            audit.record(store, audit.Action.CLEANUP, outcome="ok")

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = stores[0].audit_records()
    assert len(records) == 60
    assert audit.verify(records, stores[0].audit_issued()) is None


# -- PostgreSQL only ----------------------------------------------------------------------------


def test_postgres_schema_from_empty_and_opened_by_many_at_once(pg_url: str) -> None:
    from framework.runlog.postgres import PostgresRunLog, schema_version

    assert schema_version(pg_url) == 0
    opened: list[PostgresRunLog] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(PostgresRunLog(pg_url))
        except BaseException as exc:  # pragma: no cover - the failure is asserted below
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert schema_version(pg_url) == len(PG_MIGRATIONS)
    assert {s.schema_version for s in opened} == {len(PG_MIGRATIONS)}
    secrets = {s.secret() for s in opened}
    assert len(secrets) == 1  # every PC hashes item keys with the one secret in the database
    for store in opened:
        store.close()


def test_postgres_tables_live_in_the_kakari_schema(pg_url: str) -> None:
    import psycopg

    from framework.runlog.postgres import PostgresRunLog

    PostgresRunLog(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'kakari'"
            )
        }
        public = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert {"runs", "items", "reviews", "schedule_events", "audit", "secret"} <= tables
    assert public == (0,)


def test_an_older_postgres_log_is_upgraded_in_place(pg_url: str) -> None:
    import psycopg

    from framework.runlog import ItemKey
    from framework.runlog.postgres import PostgresRunLog

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(BOOTSTRAP)
        conn.execute(PG_MIGRATIONS[0])
        conn.execute("INSERT INTO kakari.schema_version (version) VALUES (1)")
        conn.execute(
            "INSERT INTO kakari.runs (id, bot_id, bot_name, department, workflow, trigger,"
            " os_user, host, started_at, status, baseline_minutes_per_item,"
            " baseline_minutes_per_run, baseline_measured_by, baseline_measured_on, run_dir,"
            " items_done) VALUES ('old', 'welfare_entry', 'n', 'd', 'w', 'cli', 'u', 'h',"
            " '2026-04-01T09:00:00', 'completed', 6, 10, 'x', '2026-03-01', '/tmp/old', 1)"
        )
        conn.execute(
            'INSERT INTO kakari.items (run_id, seq, source, "row", key_hash, status, started_at)'
            " VALUES ('old', 1, 'a.xlsx', 4, 'h1', 'done', '2026-04-01T09:00:01')"
        )
    store = PostgresRunLog(pg_url)
    try:
        assert store.schema_version == len(PG_MIGRATIONS)
        found = store.prior_item("welfare_entry", ItemKey("h1", None), "new")
        assert found is not None and found.status is ItemStatus.DONE and found.run_id == "old"
    finally:
        store.close()


def test_a_newer_postgres_log_is_refused(pg_url: str) -> None:
    import psycopg

    from framework.runlog.postgres import PostgresRunLog

    PostgresRunLog(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE kakari.schema_version SET version = %s", (len(PG_MIGRATIONS) + 1,))
    with pytest.raises(SchemaTooNewError, match="newer than this kakari"):
        PostgresRunLog(pg_url)


def test_tampering_in_postgres_is_named_by_seq(pg_url: str) -> None:
    import psycopg

    from framework.runlog.postgres import PostgresRunLog

    store = PostgresRunLog(pg_url)
    for _ in range(4):
        audit.record(store, audit.Action.CLEANUP, outcome="ok")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE kakari.audit SET outcome = 'partial' WHERE seq = 3")
    broken = audit.verify(store.audit_records(), store.audit_issued())
    assert broken is not None and broken.seq == 3
    store.close()


# -- choosing the store -------------------------------------------------------------------------


def test_open_runlog_follows_rpa_database_url(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framework.runlog import runlog_exists, store_name
    from framework.runlog.postgres import PostgresRunLog

    monkeypatch.delenv("RPA_DATABASE_URL", raising=False)
    assert not runlog_exists(tmp_path)
    store = open_runlog(tmp_path)
    assert isinstance(store, SqliteRunLog) and store_name() == "SQLite"
    store.close()
    monkeypatch.setenv("RPA_DATABASE_URL", pg_url)
    assert runlog_exists(tmp_path / "elsewhere")
    shared = open_runlog(tmp_path / "elsewhere")
    assert isinstance(shared, PostgresRunLog) and store_name().startswith("PostgreSQL ")
    shared.item_key(["x"], personal=True)
    shared.close()
    assert not (tmp_path / "elsewhere").exists()  # no secret.key or SQLite file on this PC


def test_database_url_is_checked_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.database import DatabaseUrlError, database_url, masked

    monkeypatch.setenv("RPA_DATABASE_URL", "mysql://u:hunter2@db/x")
    with pytest.raises(DatabaseUrlError) as caught:
        database_url()
    assert "hunter2" not in str(caught.value) and "postgresql://" in str(caught.value)
    assert masked("postgresql://kakari:hunter2@db:5432/rpa?sslmode=require") == (
        "postgresql://kakari:***@db:5432/rpa"
    )
    assert masked("postgresql://kakari@db/rpa?password=hunter2") == "postgresql://kakari@db/rpa"
    monkeypatch.setenv("RPA_DATABASE_URL", "  ")
    assert database_url() is None


def test_a_missing_driver_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.database import PsycopgMissingError
    from framework.runlog.postgres import PostgresRunLog

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(PsycopgMissingError, match=r"pip install kakari\[pool\]"):
        PostgresRunLog("postgresql://kakari@127.0.0.1:1/x")


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    from framework.runlog.postgres import DatabaseUnavailableError, PostgresRunLog

    with pytest.raises(DatabaseUnavailableError) as caught:
        PostgresRunLog("postgresql://kakari:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in str(caught.value)
    assert "postgresql://kakari:***@127.0.0.1:1/x" in str(caught.value)


def test_postgres_reconnects_after_the_connection_dropped(pg_url: str) -> None:
    import psycopg

    from framework.runlog.postgres import PostgresRunLog

    store = PostgresRunLog(pg_url)
    store.start_run(welfare_run("r1"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'kakari' AND datname = current_database()"
        )
    assert store.get_run("r1") is not None  # a read is retried on a new connection
    store.start_run(welfare_run("r2"))
    assert [r.id for r in store.recent_runs()] == ["r2", "r1"]
    store.close()


def test_a_driver_error_never_shows_the_password() -> None:
    from framework.database import driver_reason, masked

    url = "postgresql://kakari:s3cr%3Aet@db/rpa?password=other"
    quoted = ValueError('invalid URL "s3cr%3Aet" and "s3cr:et" and other\nsecond line')
    assert driver_reason(url, quoted) == 'invalid URL "***" and "***" and ***'
    assert driver_reason("postgresql://kakari@db/rpa", ValueError("")) == "ValueError"
    assert masked("host=db password=hunter2") == "(URL の形ではない値 / not a URL)"


def test_a_malformed_url_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    from framework.pool.app import DatabaseUnreachableError, connect
    from framework.runlog.postgres import DatabaseUnavailableError, PostgresRunLog

    url = "postgresql://kakari:s3cr%zzet@127.0.0.1:1/x?foo=bar"
    with pytest.raises(DatabaseUnavailableError) as runlog_error:
        PostgresRunLog(url)
    with pytest.raises(DatabaseUnreachableError) as pool_error:
        connect(url)
    for caught in (runlog_error, pool_error):
        assert "s3cr" not in str(caught.value), str(caught.value)


def test_runlog_import_refuses_a_url_that_is_not_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framework.cli import main

    monkeypatch.setenv("RPA_DATABASE_URL", "host=db password=hunter2")
    monkeypatch.setenv("RPA_HOME", str(tmp_path / "home"))
    assert main(["runlog", "import", str(tmp_path / "runlog.sqlite3")]) == 2


def test_every_command_refuses_a_database_url_that_is_not_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from framework.cli import main

    monkeypatch.setenv("RPA_DATABASE_URL", "mysql://u:hunter2@db/x")
    monkeypatch.setenv("RPA_HOME", str(tmp_path / "home"))
    assert main(["runs"]) == 2  # invalid configuration: nothing was run
    shown = capsys.readouterr().err
    assert "postgresql://" in shown and "hunter2" not in shown
