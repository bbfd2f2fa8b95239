"""``rpa runlog import``: a PC's SQLite history moved into PostgreSQL gives the same reports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import REPO

from framework import audit
from framework.cli import main
from framework.outcome import ExitCode, ItemOutcome, ItemStatus, RunStatus
from framework.runlog import RunRecord, ScheduleEvent, ScheduleEventKind, SqliteRunLog
from framework.runlog.postgres import PostgresRunLog

JST = dt.timezone(dt.timedelta(hours=9))


def _history(path: Path) -> None:
    """Runs over two fiscal years, with items, a review, scheduler decisions and audit records."""
    store = SqliteRunLog(path)
    plan = [  # id, bot, department, start, status, done, business errors, review
        (
            "h1",
            "welfare_entry",
            "障がい福祉課",
            "2026-03-31T23:30:00",
            RunStatus.COMPLETED,
            3,
            0,
            0,
        ),
        (
            "h2",
            "welfare_entry",
            "障がい福祉課",
            "2026-04-01T00:30:00",
            RunStatus.COMPLETED,
            2,
            1,
            1,
        ),
        ("h3", "welfare_entry", "障がい福祉課", "2026-06-10T10:00:00", RunStatus.ABORTED, 1, 0, 0),
        ("h4", "juminhyo_entry", "市民課", "2026-09-01T09:00:00", RunStatus.COMPLETED, 4, 0, 0),
        ("h5", "welfare_entry", "障がい福祉課", "2026-11-01T10:00:00", RunStatus.RUNNING, 0, 0, 0),
    ]
    try:
        for run_id, bot, department, start, status, done, refused, review in plan:
            run = RunRecord(
                run_id, bot, "ボット", department, "w.yaml", "schedule", "clerk", "pc-07",
                "in.xlsx", dt.datetime.fromisoformat(start).replace(tzinfo=JST), f"/r/{run_id}",
                6, 10, "受付担当", "2025-04-10", 3,
            )  # fmt: skip
            store.start_run(run)
            audit.record(store, audit.Action.RUN_STARTED, bot_id=bot, run_id=run_id)
            seq = 0
            for status_, n in (
                (ItemStatus.DONE, done),
                (ItemStatus.BUSINESS_ERROR, refused),
                (ItemStatus.NEEDS_REVIEW, review),
            ):
                for _ in range(n):
                    seq += 1
                    outcome = ItemOutcome(seq, "in.xlsx", seq + 1, status_)
                    store.item_finished(run, outcome, store.item_key([run_id, str(seq)], True))
            if status is RunStatus.RUNNING:
                continue
            run.status = status
            run.counts = {ItemStatus.DONE: done, ItemStatus.BUSINESS_ERROR: refused}
            run.counts[ItemStatus.NEEDS_REVIEW] = review
            run.minutes_saved = 6 * done + (10 if status is RunStatus.COMPLETED else 0)
            run.ended_at = run.started_at + dt.timedelta(minutes=4)
            run.exit_code = 0
            store.finish_run(run)
        store.review_item("h2", 4, True, "確認者")
        store.record_schedule_event(
            ScheduleEvent("welfare_entry", "夜間", dt.datetime(2026, 6, 10, 19, tzinfo=JST),
                          ScheduleEventKind.STARTED, run_id="h3")
        )  # fmt: skip
    finally:
        store.close()


def _report(capsys: pytest.CaptureFixture[str], period: str) -> dict[str, Any]:
    code = main(
        ["--project", str(REPO), "report", "--period", period, "--format", "json", "--out", "-"]
    )
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.err
    data: dict[str, Any] = json.loads(captured.out)
    data.pop("generated_at")
    return data


def test_imported_history_gives_identical_reports(
    rpa_home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RPA_DATABASE_URL", raising=False)
    path = rpa_home / "runlog.sqlite3"
    _history(path)
    periods = ("FY2025", "FY2026", "2026-04")
    before = {p: _report(capsys, p) for p in periods}
    assert before["FY2026"]["total"]["runs"] == 3

    monkeypatch.setenv("RPA_DATABASE_URL", pg_url)
    assert main(["runlog", "import", str(path)]) == ExitCode.OK
    said = capsys.readouterr().out
    assert "実行 (runs): 5" in said and "申請 (items): 12" in said
    assert "確認結果 (reviews): 1" in said and "監査ログ (audit records): 6" in said
    assert "この PC の鍵をデータベースの鍵にしました" in said
    after = {p: _report(capsys, p) for p in periods}
    assert after == before

    assert main(["--project", str(REPO), "audit", "--verify", "--json"]) == ExitCode.OK
    verified = json.loads(capsys.readouterr().out)
    assert verified["ok"] and verified["records"] == 7  # 6 copied as they were + the import
    store = PostgresRunLog(pg_url)
    try:
        assert store.secret() == bytes.fromhex((rpa_home / "secret.key").read_text())
        prior = store.prior_item("welfare_entry", store.item_key(["h2", "4"], True), "new")
        assert prior is not None and prior.status is ItemStatus.DONE  # reviewed as entered
        assert store.schedule_events()[0].run_id == "h3"
        assert store.audit_records()[-1].action == "runlog_import"
    finally:
        store.close()

    assert main(["runlog", "import", str(path)]) == ExitCode.INVALID  # all or nothing: refused
    assert "already imported" in capsys.readouterr().err
    assert _report(capsys, "FY2026") == before["FY2026"]


def test_a_database_with_another_secret_is_refused(
    rpa_home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = rpa_home / "runlog.sqlite3"
    _history(path)
    store = PostgresRunLog(pg_url)
    store.secret()  # another PC already created the database's secret
    store.close()
    monkeypatch.setenv("RPA_DATABASE_URL", pg_url)
    assert main(["runlog", "import", str(path)]) == ExitCode.INVALID
    assert "different item-key secret" in capsys.readouterr().err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM kakari.runs").fetchone() == (0,)


def test_a_second_pc_is_appended_to_the_shared_chain(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "pc1" / "runlog.sqlite3", tmp_path / "pc2" / "runlog.sqlite3"
    _history(first)
    store = SqliteRunLog(second, secret_path=first.parent / "secret.key")  # the same key
    run = RunRecord(
        "p2", "welfare_entry", "ボット", "障がい福祉課", "w.yaml", "cli", "clerk", "pc-08", None,
        dt.datetime(2026, 5, 1, 9, tzinfo=JST), "/r/p2", 6, 10, "受付担当", "2025-04-10",
    )  # fmt: skip
    store.start_run(run)
    audit.record(store, audit.Action.RUN_STARTED, run_id="p2")
    store.close()
    monkeypatch.setenv("RPA_DATABASE_URL", pg_url)
    assert main(["runlog", "import", str(first)]) == ExitCode.OK
    assert main(["runlog", "import", str(second)]) == ExitCode.OK
    assert "appended to the shared chain" in capsys.readouterr().out
    shared = PostgresRunLog(pg_url)
    try:
        records = shared.audit_records()
        assert len(records) == 6 + 1 + 1 + 1  # pc1 as it was, its import, pc2's record, import
        assert audit.verify(records, shared.audit_issued()) is None
        assert str(second.resolve()) in records[7].detail and "seq 1]" in records[7].detail
        assert shared.get_run("p2") is not None
    finally:
        shared.close()


def test_import_needs_a_database_and_a_file(
    rpa_home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RPA_DATABASE_URL", raising=False)
    assert main(["runlog", "import", str(rpa_home / "runlog.sqlite3")]) == ExitCode.INVALID
    assert "RPA_DATABASE_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("RPA_DATABASE_URL", pg_url)
    assert main(["runlog", "import", str(rpa_home / "nope.sqlite3")]) == ExitCode.INVALID
    assert "no such file" in capsys.readouterr().err
