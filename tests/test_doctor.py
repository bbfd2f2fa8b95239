"""``rpa doctor``: one line per check, a fix for each failure, exit 3 only for failures."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest
from conftest import REPO, MemoryKeyring

from framework import doctor
from framework.cli import main
from framework.home import Home
from framework.outcome import ExitCode
from framework.runlog import MIGRATIONS

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file permissions")


def _doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--project", str(REPO), "doctor"])
    return code, capsys.readouterr().out.splitlines()


def _line(lines: list[str], name: str) -> str:
    """The line of one check (its mark, then its name)."""
    [line] = [line for line in lines if re.match(rf"(OK  |注意|NG  ) {re.escape(name)}", line)]
    return line


def test_all_green_once_the_credentials_are_set(
    rpa_home: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = _doctor(capsys)
    assert code == ExitCode.ABORTED
    line = _line(lines, "資格情報 (credentials) welfare_entry")
    assert line.startswith("NG")
    assert "welfare_system.username、welfare_system.password" in line
    fix = lines[lines.index(line) + 1]
    assert "対処 (fix): rpa credentials set welfare_system" in fix

    memory_keyring.set_password("kakari/welfare_system", "username", "clerk")
    memory_keyring.set_password("kakari/welfare_system", "password", "doctor-pw-1")
    code, lines = _doctor(capsys)
    assert code == ExitCode.OK, "\n".join(lines)
    assert not [line for line in lines if line.startswith("NG")]
    for name in (
        "Python",
        "パッケージ (packages)",
        "ブラウザ (browser)",
        "キーリング (keyring)",
        "資格情報 (credentials) welfare_entry",
        "RPA_HOME",
        "実行記録 (run log)",
        "空き容量 (free disk)",
    ):
        assert _line(lines, name).startswith("OK"), name
    assert _line(lines, "スケジューラー (scheduler)").startswith("注意")
    assert "doctor-pw-1" not in "\n".join(lines)
    assert lines[-1].startswith("準備できています (ready)")


def test_heartbeat(rpa_home: Path) -> None:
    home = Home(rpa_home)
    now = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    assert doctor.heartbeat_check(home, now).level is doctor.Level.WARN
    folder = rpa_home / "scheduler"
    folder.mkdir(parents=True)
    beat = {"last_tick": (now - dt.timedelta(seconds=30)).isoformat(), "tick_seconds": 30}
    (folder / "heartbeat.json").write_text(json.dumps(beat), encoding="utf-8")
    assert doctor.heartbeat_check(home, now).level is doctor.Level.OK
    later = now + dt.timedelta(minutes=5)
    check = doctor.heartbeat_check(home, later)
    assert check.level is doctor.Level.WARN and "stale" in check.detail
    (folder / "heartbeat.json").write_text("{", encoding="utf-8")
    assert doctor.heartbeat_check(home, now).level is doctor.Level.WARN


@POSIX_ONLY
def test_rpa_home_others_may_open_fails(rpa_home: Path) -> None:
    rpa_home.mkdir(mode=0o755)
    rpa_home.chmod(0o755)
    check = doctor.home_check(Home(rpa_home))
    assert check.level is doctor.Level.FAIL
    assert check.fix == f"chmod 700 {rpa_home}"
    rpa_home.chmod(0o700)
    assert doctor.home_check(Home(rpa_home)).level is doctor.Level.OK


def test_run_log_schema_and_audit_chain(rpa_home: Path) -> None:
    from framework import audit
    from framework.runlog import SqliteRunLog

    home = Home(rpa_home)
    store = SqliteRunLog(home.runlog_path)
    audit.record(store, audit.Action.CLEANUP, detail="runs=0")
    store.close()
    checks = list(doctor.runlog_checks(home))
    assert [c.level for c in checks] == [doctor.Level.OK, doctor.Level.OK]
    assert checks[0].detail == f"スキーマ (schema) {len(MIGRATIONS)}"
    assert "1 件" in checks[1].detail

    db = sqlite3.connect(home.runlog_path)
    db.execute("UPDATE audit SET detail = 'runs=9'")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    [check] = list(doctor.runlog_checks(home))
    assert check.level is doctor.Level.FAIL and "upgrade kakari" in check.fix

    db = sqlite3.connect(home.runlog_path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    db.commit()
    db.close()
    checks = list(doctor.runlog_checks(home))
    assert checks[1].level is doctor.Level.FAIL and "seq 1" in checks[1].detail


def test_run_log_on_postgres(rpa_home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    from framework import audit
    from framework.runlog.pgschema import PG_MIGRATIONS
    from framework.runlog.postgres import PostgresRunLog

    home = Home(rpa_home)
    [check] = list(doctor.runlog_checks(home))
    assert check.name == "実行記録 (run log) SQLite"  # no URL: this PC's SQLite file
    monkeypatch.setenv("RPA_DATABASE_URL", pg_url)
    [check] = list(doctor.runlog_checks(home))
    assert check.level is doctor.Level.OK and check.name.endswith(pg_url.split("//")[1])
    assert "最初の実行で作られます" in check.detail

    store = PostgresRunLog(pg_url)
    audit.record(store, audit.Action.CLEANUP, detail="runs=0")
    store.close()
    schema, chain = doctor.runlog_checks(home)
    assert (schema.level, chain.level) == (doctor.Level.OK, doctor.Level.OK)
    assert f"スキーマ (schema) {len(PG_MIGRATIONS)}" in schema.detail and "1 件" in chain.detail

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE kakari.schema_version SET version = version - 1")
        [older] = list(doctor.runlog_checks(home))
        assert older.level is doctor.Level.WARN and "upgraded on next run" in older.detail
        conn.execute("UPDATE kakari.schema_version SET version = version + 2")
        [newer] = list(doctor.runlog_checks(home))
        assert newer.level is doctor.Level.FAIL and "upgrade kakari" in newer.fix


def test_run_log_database_problems(rpa_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(rpa_home)
    monkeypatch.setenv("RPA_DATABASE_URL", "postgresql://kakari:pw-Doctor-1@127.0.0.1:1/rpa")
    [check] = list(doctor.runlog_checks(home))
    assert check.level is doctor.Level.FAIL and "cannot connect" in check.detail
    assert "pw-Doctor-1" not in check.name + check.detail and "***" in check.detail
    monkeypatch.setenv("RPA_DATABASE_URL", "sqlite:///x")
    [check] = list(doctor.runlog_checks(home))
    assert check.level is doctor.Level.FAIL and "postgresql://" in check.detail
