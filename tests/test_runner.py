"""The runner: what is refused before anything runs, how items and runs end, exit codes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import DEMO_CREDENTIALS, REPO, RunBot, TempProject

from framework.cli import main
from framework.errors import InvalidError
from framework.outcome import ExitCode, ItemStatus, RunStatus
from framework.practice import PracticeServer
from framework.practice.applicants import generate_applicants
from framework.practice.samples import write_workbook

WELFARE = [
    "--project",
    str(REPO),
    "run",
    "welfare_entry",
]


@pytest.fixture
def small_workbook(tmp_path: Path) -> Path:
    path = tmp_path / "three.xlsx"
    write_workbook(path, generate_applicants(3, seed=7), messy=True)
    return path


def _welfare_project() -> TempProject:
    return TempProject(REPO)


def test_all_done_is_exit_0_and_saves_time(
    practice: PracticeServer, small_workbook: Path, run_bot: RunBot
) -> None:
    result = run_bot(
        _welfare_project().project,
        "welfare_entry",
        input=small_workbook,
        overrides={"target_url": practice.url},
        credentials=DEMO_CREDENTIALS,
    )
    assert result.exit_code is ExitCode.OK
    assert result.record is not None
    assert result.record.status is RunStatus.COMPLETED
    assert result.record.count(ItemStatus.DONE) == 3
    assert result.record.minutes_saved == 3 * 6 + 10
    assert len(practice.records()) == 3
    assert [o.results["受付番号"] for o in result.outcomes] == [
        r["receipt_no"] for r in practice.records()
    ]


def test_wrong_password_aborts_the_run_before_any_item(
    practice: PracticeServer, small_workbook: Path, run_bot: RunBot
) -> None:
    result = run_bot(
        _welfare_project().project,
        "welfare_entry",
        input=small_workbook,
        overrides={"target_url": practice.url},
        credentials={"welfare_system": {"username": "demo", "password": "wrong"}},
    )
    assert result.exit_code is ExitCode.ABORTED
    assert result.record is not None
    assert result.record.status is RunStatus.ABORTED
    assert result.record.items_total == 0
    assert result.record.minutes_saved == 0
    assert "ユーザーIDまたはパスワードが正しくありません" in result.message
    assert "wrong" not in result.message
    assert result.run_dir is not None
    assert (result.run_dir / "screenshots" / "setup.png").exists()
    assert practice.records() == []


def test_a_failing_item_does_not_stop_the_others(
    practice: PracticeServer, temp_project: TempProject, small_workbook: Path, run_bot: RunBot
) -> None:
    """A system error (here: a field that is not on the page) fails that item only."""
    first = generate_applicants(3, seed=7)[0].recipient_no
    workflow = (REPO / "workflows" / "welfare_entry.yaml").read_text(encoding="utf-8")
    anchor = "  - browser.click: {role: button, name: 確認画面へ}\n"
    assert anchor in workflow
    workflow = workflow.replace(
        anchor,
        "  - browser.fill: {label: 存在しない項目, value: x}\n"
        f"    when: item.受給者番号 == '{first}'\n" + anchor,
    )
    # one quick retry, so the failure is also retried (and fails again)
    workflow = workflow.replace("attempts: 4\n  delay: 2", "attempts: 2\n  delay: 0")
    assert "attempts: 2" in workflow
    temp_project.write("workflows/welfare_entry.yaml", workflow)
    for name in ("workflows/welfare_login.yaml", "bots/welfare_entry/bot.yaml"):
        temp_project.write(name, (REPO / name).read_text(encoding="utf-8"))
    result = run_bot(
        temp_project.project,
        "welfare_entry",
        input=small_workbook,
        overrides={"target_url": practice.url},
        credentials=DEMO_CREDENTIALS,
        timeout_ms=1_500,
    )
    assert result.exit_code is ExitCode.ITEMS_FAILED
    statuses = [o.status for o in result.outcomes]
    assert statuses == [ItemStatus.SYSTEM_ERROR, ItemStatus.DONE, ItemStatus.DONE]
    failed = result.outcomes[0]
    assert "存在しない項目" in failed.message
    assert failed.screenshot is not None
    assert result.run_dir is not None
    assert (result.run_dir / failed.screenshot).exists()
    assert len(practice.records()) == 2


def test_itemless_workflow_counts_the_run_baseline(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    temp_project.write("workflows/w.yaml", "steps:\n  - log: hello\n")
    temp_project.bot("b", "w.yaml")
    result = run_bot(temp_project.project, "b")
    assert result.exit_code is ExitCode.OK
    assert result.record is not None
    assert result.record.minutes_saved == 10


def test_teardown_runs_after_a_failure(temp_project: TempProject, run_bot: RunBot) -> None:
    temp_project.write(
        "workflows/w.yaml",
        """
        steps:
          - fail: だめです
        teardown:
          - excel.write_rows: {file: teardown.xlsx, rows: "[{'a': 1}]"}
        """,
    )
    temp_project.bot("b", "w.yaml")
    result = run_bot(temp_project.project, "b")
    assert result.exit_code is ExitCode.ABORTED
    assert "だめです" in result.message
    assert result.run_dir is not None
    assert (result.run_dir / "teardown.xlsx").exists()


# -- refused before anything runs (exit 2) ---------------------------------------------------


def test_missing_credentials_are_named(
    rpa_home: Path, small_workbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*WELFARE, "--input", str(small_workbook)])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID
    assert "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD" in err
    assert "何も実行していません" in err
    assert not (rpa_home / "runlog.sqlite3").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--set", "target_ur=http://x"], "「target_url」のことですか"),
        (["--input", "/no/such/file.xlsx"], "見つかりません"),
        (["--set", "novalue"], "key=value"),
    ],
)
def test_bad_options(
    rpa_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    fragment: str,
) -> None:
    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME", "demo")
    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD", "demo-pass")
    code = main([*WELFARE, *args])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID
    assert fragment in err
    assert "Traceback" not in err


def test_unknown_bot_suggests(rpa_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(REPO), "run", "welfare_entri"])
    assert code == ExitCode.INVALID
    assert "「welfare_entry」のことですか" in capsys.readouterr().err


def test_unreadable_input_type(
    rpa_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framework.home import Home
    from framework.registry import Registry
    from framework.runlog import SqliteRunLog
    from framework.runner import Runner, RunRequest

    text = tmp_path / "list.csv"
    text.write_text("a,b\n", encoding="utf-8")
    project = _welfare_project().project
    runlog = SqliteRunLog(tmp_path / "log.sqlite3")
    try:
        runner = Runner(project, Home.locate(project.root), Registry.default(), runlog)
        with pytest.raises(InvalidError, match="この種類のファイルを読みません"):
            runner.prepare(
                RunRequest(bot="welfare_entry", input=text, credentials=DEMO_CREDENTIALS)
            )
    finally:
        runlog.close()


def test_dry_run_reads_and_checks_without_running(
    rpa_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME", "demo")
    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD", "demo-pass")
    code = main([*WELFARE, "--dry-run", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.ITEMS_FAILED  # the sample has one bad row
    assert out["run"] is None
    bad = [i for i in out["items"] if i["status"] == "bad_input"]
    assert len(bad) == 1
    assert "生年月日" in bad[0]["message"]
    assert len(out["items"]) == 38
    # nothing was recorded
    if (rpa_home / "runlog.sqlite3").exists():
        db = sqlite3.connect(rpa_home / "runlog.sqlite3")
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        db.close()
    assert not (rpa_home / "runs").exists()


def test_a_run_closes_only_this_pcs_dead_runs(
    temp_project: TempProject, run_bot: RunBot, rpa_home: Path
) -> None:
    """With a shared run log, a run of the bot marked running on another PC may be alive."""
    import datetime as dt
    import socket

    from framework.runlog import RunRecord, SqliteRunLog

    temp_project.write("workflows/w.yaml", "steps:\n  - log: hello\n")
    temp_project.bot("b", "w.yaml")
    store = SqliteRunLog(rpa_home / "runlog.sqlite3")
    started = dt.datetime.now().astimezone().replace(microsecond=0) - dt.timedelta(minutes=5)
    for run_id, host in [("here-dead", socket.gethostname()), ("there-alive", "other-pc")]:
        store.start_run(
            RunRecord(
                id=run_id, bot_id="b", bot_name="テストボット", department="テスト課",
                workflow="w.yaml", trigger="queue", os_user="u", host=host, input=None,
                started_at=started, run_dir=str(rpa_home / "runs" / run_id),
                baseline_minutes_per_item=5, baseline_minutes_per_run=10,
                baseline_measured_by="テスト", baseline_measured_on="2026-10-01",
            )
        )  # fmt: skip
    result = run_bot(temp_project.project, "b")
    assert result.exit_code is ExitCode.OK
    here, there = store.get_run("here-dead"), store.get_run("there-alive")
    store.close()
    assert here is not None and here.status is RunStatus.ABORTED
    assert there is not None and there.status is RunStatus.RUNNING
