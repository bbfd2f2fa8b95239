"""The audit trail: a hash chain that names the first edited, inserted or deleted record."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from framework import audit
from framework.cli import main
from framework.outcome import ExitCode
from framework.runlog import SqliteRunLog


@pytest.fixture
def runlog(rpa_home: Path) -> Iterator[SqliteRunLog]:
    store = SqliteRunLog(rpa_home / "runlog.sqlite3")
    yield store
    store.close()


def _fill(store: SqliteRunLog, n: int) -> None:
    for i in range(n):
        audit.record(
            store,
            audit.Action.RUN_STARTED,
            bot_id="welfare_entry",
            run_id=f"run-{i}",
            input_sha256="ab" * 32,
            detail=f"input=in-{i}.xlsx",
        )


def _sql(home: Path, sql: str, *params: object) -> None:
    db = sqlite3.connect(home / "runlog.sqlite3")
    db.execute(sql, params)
    db.commit()
    db.close()


def _verify(store: SqliteRunLog) -> audit.Broken | None:
    return audit.verify(store.audit_records(), store.audit_issued())


def test_records_chain_to_the_previous_one(runlog: SqliteRunLog) -> None:
    _fill(runlog, 3)
    records = runlog.audit_records()
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == audit.GENESIS
    assert records[1].prev_hash == records[0].hash
    assert records[2].prev_hash == records[1].hash
    assert records[0].os_user == audit.os_user()
    assert _verify(runlog) is None


def test_the_hash_is_sha256_of_the_canonical_json(runlog: SqliteRunLog) -> None:
    """Anyone can recompute a record's hash without kakari (documented in docs/security.md)."""
    _fill(runlog, 1)
    [rec] = runlog.audit_records()
    fields = {k: v for k, v in rec.as_json().items() if k != "hash"}
    text = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == rec.hash


@pytest.mark.parametrize(
    ("tamper", "broken_seq", "words"),
    [
        ("UPDATE audit SET detail = 'input=other.xlsx' WHERE seq = 3", 3, "hash mismatch"),
        ("UPDATE audit SET os_user = 'someone' WHERE seq = 1", 1, "hash mismatch"),
        ("DELETE FROM audit WHERE seq = 2", 2, "records deleted"),
        ("DELETE FROM audit WHERE seq >= 4", 4, "newest records deleted"),
    ],
)
def test_tampering_is_named_by_seq(
    runlog: SqliteRunLog, rpa_home: Path, tamper: str, broken_seq: int, words: str
) -> None:
    _fill(runlog, 5)
    _sql(rpa_home, tamper)
    broken = _verify(runlog)
    assert broken is not None
    assert broken.seq == broken_seq
    assert words in broken.reason


def test_an_edit_with_its_own_hash_recomputed_breaks_the_next_link(
    runlog: SqliteRunLog, rpa_home: Path
) -> None:
    _fill(runlog, 4)
    [_, second, *_] = runlog.audit_records()
    forged = {**second.as_json(), "outcome": "completed"}
    _sql(
        rpa_home,
        "UPDATE audit SET outcome = ?, hash = ? WHERE seq = 2",
        "completed",
        audit.seal(forged),
    )
    broken = _verify(runlog)
    assert broken is not None and broken.seq == 3
    assert "prev_hash" in broken.reason


def test_two_writers_at_once_still_form_one_chain(rpa_home: Path) -> None:
    """Two bots finishing at the same moment on one PC (two processes, two connections)."""
    stores = [SqliteRunLog(rpa_home / "runlog.sqlite3") for _ in range(2)]
    try:
        threads = [threading.Thread(target=_fill, args=(s, 25)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(stores[0].audit_records()) == 50
        assert _verify(stores[0]) is None
    finally:
        for store in stores:
            store.close()


def test_input_hash_of_a_file_and_of_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "b.pdf").write_bytes(b"pdf")
    (folder / "a.xlsx").write_bytes(b"book")
    file_hash = hashlib.sha256(b"book").hexdigest()
    assert audit.input_sha256(folder / "a.xlsx") == file_hash
    # what `sha256sum * | sha256sum` prints in the folder
    lines = f"{file_hash}  a.xlsx\n{hashlib.sha256(b'pdf').hexdigest()}  b.pdf\n"
    assert audit.input_sha256(folder) == hashlib.sha256(lines.encode()).hexdigest()
    assert audit.input_sha256(None) is None
    assert audit.input_sha256(tmp_path / "gone.xlsx") is None


# -- rpa audit ---------------------------------------------------------------------------------


def _rpa(*args: str) -> int:
    return main(["--project", str(REPO), *args])


def test_rpa_audit_lists_filters_and_verifies(
    runlog: SqliteRunLog, rpa_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(runlog, 3)
    _sql(rpa_home, "UPDATE audit SET at = '2026-10-01T09:00:00+09:00' WHERE seq = 1")
    _sql(rpa_home, "UPDATE audit SET at = '2026-10-31T23:59:59+09:00' WHERE seq = 2")
    _sql(rpa_home, "UPDATE audit SET at = '2026-11-01T00:00:00+09:00' WHERE seq = 3")

    assert _rpa("audit", "--from", "2026-10-02", "--to", "2026-10-31", "--json") == ExitCode.OK
    listed = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in listed] == [2]
    assert _rpa("audit") == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "実行開始(run_started)  welfare_entry  run=run-1" in lines[1]

    # the dates were edited above: every record from 1 on is named
    assert _rpa("audit", "--verify") == ExitCode.ABORTED
    out = capsys.readouterr().out
    assert "NG" in out and "seq 1:" in out


def test_rpa_audit_verify_names_the_tampered_record(
    runlog: SqliteRunLog, rpa_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(runlog, 4)
    assert _rpa("audit", "--verify") == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("OK 監査ログ 4 件、改ざんなし (chain intact)")
    assert runlog.audit_records()[-1].hash in out

    _sql(rpa_home, "UPDATE audit SET bot_id = 'other' WHERE seq = 3")
    assert _rpa("audit", "--verify", "--json") == ExitCode.ABORTED
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["broken_seq"] == 3


def test_no_run_log_yet(rpa_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _rpa("audit") == ExitCode.OK
    assert "no audit records" in capsys.readouterr().out
    assert _rpa("audit", "--verify") == ExitCode.OK
    assert not (rpa_home / "runlog.sqlite3").exists()


def test_review_is_recorded(runlog: SqliteRunLog) -> None:
    from framework.outcome import ItemOutcome, ItemStatus
    from framework.runlog import RunRecord

    run = RunRecord(
        id="r1",
        bot_id="welfare_entry",
        bot_name="b",
        department="d",
        workflow="w.yaml",
        trigger="cli",
        os_user="u",
        host="h",
        input=None,
        started_at=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC),
        run_dir="/tmp/r1",
        baseline_minutes_per_item=1,
        baseline_minutes_per_run=0,
        baseline_measured_by="x",
        baseline_measured_on="2026-10-01",
    )
    runlog.start_run(run)
    outcome = ItemOutcome(1, "a.xlsx", 4, ItemStatus.NEEDS_REVIEW, "check the system")
    runlog.item_finished(run, outcome, runlog.item_key(["0123456789"], True))
    runlog.review_item("r1", 1, True, "tanaka", note="画面で確認")
    [rec] = runlog.audit_records()
    assert (rec.action, rec.os_user, rec.run_id, rec.outcome, rec.detail) == (
        "review",
        "tanaka",
        "r1",
        "entered",
        "No.1",
    )
