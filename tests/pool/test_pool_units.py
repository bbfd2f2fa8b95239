"""The pool's pieces on a real PostgreSQL: schema, enqueue, claims, the commands' errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import TempProject

from framework.cli import main
from framework.pool.app import prepare_database
from framework.pool.claims import claim_fire_time
from framework.pool.enqueue import AlreadyQueuedError, enqueue_run
from framework.pool.job import SCHEDULE_TRIGGER, BotJob


def hello_bot(temp_project: TempProject, pool_block: str = "") -> None:
    temp_project.write("workflows/hello.yaml", "steps:\n  - log: こんにちは\n")
    temp_project.bot("hello", "hello.yaml")
    if pool_block:
        path = temp_project.root / "bots" / "hello" / "bot.yaml"
        path.write_text(path.read_text(encoding="utf-8") + pool_block, encoding="utf-8")


def test_the_database_is_prepared_once_and_again_without_harm(pg_url: str) -> None:
    assert prepare_database(pg_url) is True
    assert prepare_database(pg_url) is False


def test_a_fire_time_is_queued_once_and_claimed_by_one_job(pg_url: str) -> None:
    job = BotJob(
        "hello", trigger=SCHEDULE_TRIGGER, schedule="夜間", fire_time="2026-11-27T19:00:00+09:00"
    )
    first = enqueue_run(pg_url, job, queue="tests", lock="bot:hello")
    assert first.lock == "bot:hello"
    with pytest.raises(AlreadyQueuedError, match="既にキューで待っています"):
        enqueue_run(pg_url, job, queue="tests", lock="bot:hello")
    args = ("hello", "夜間", "2026-11-27T19:00:00+09:00")
    assert claim_fire_time(pg_url, *args, first.job_id) == first.job_id
    assert claim_fire_time(pg_url, *args, first.job_id) == first.job_id  # a retry of it
    assert claim_fire_time(pg_url, *args, 999) == first.job_id  # another job: not run


def test_enqueue_uses_the_manifest_queue(
    pg_url: str,
    temp_project: TempProject,
    rpa_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_bot(temp_project, "pool: {queue: tax, session: tax_account}\n")
    monkeypatch.setenv("RPA_DATABASE_URL", pg_url)
    assert main(["--project", str(temp_project.root), "enqueue", "hello", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"queue": "tax"' in out and '"lock": "session:tax_account"' in out


def test_pool_commands_need_the_database_url(
    temp_project: TempProject,
    rpa_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_bot(temp_project)
    monkeypatch.delenv("RPA_DATABASE_URL", raising=False)
    for command in (["enqueue", "hello"], ["workers"], ["worker"]):
        assert main(["--project", str(temp_project.root), *command]) == 2
        assert "RPA_DATABASE_URL が設定されていません" in capsys.readouterr().err


def test_an_unreachable_database_is_reported_without_its_password(
    temp_project: TempProject,
    rpa_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_bot(temp_project)
    monkeypatch.setenv("RPA_DATABASE_URL", "postgresql://kakari:s3cret@127.0.0.1:1/nothing")
    assert main(["--project", str(temp_project.root), "enqueue", "hello"]) == 3
    err = capsys.readouterr().err
    assert "データベースに接続できません" in err and "kakari:***@127.0.0.1:1" in err
    assert "s3cret" not in err and "Traceback" not in err


def test_a_wrong_pool_block_points_at_its_line(
    temp_project: TempProject, rpa_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hello_bot(temp_project, "pool:\n  queue: 福祉\n  sesion: tax\n")
    assert main(["--project", str(temp_project.root), "validate"]) == 2
    err = capsys.readouterr().err
    assert "bots/hello/bot.yaml:9:10: pool.queue: 名前は半角英数字" in err
    assert "bots/hello/bot.yaml:10:3: pool.sesion" in err


def test_a_dead_pool_run_is_closed_with_how_it_ended() -> None:
    from framework.childrun import ChildOutcome
    from framework.scheduling import dead_run_reason

    def reason(**how: Any) -> str:
        return dead_run_reason(10, ChildOutcome(code=-9, **how), stopped_by="ワーカー")

    assert reason().startswith("異常終了しました（終了コード -9）")  # a crash is not a stop
    assert reason(stopped=True).startswith("ワーカーの停止に伴い強制終了しました")
    assert "the worker stopped" in reason(stopped=True)
    assert reason(timed_out=True, stopped=True).startswith("時間制限（10 分）を超えた")
