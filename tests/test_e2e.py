"""End to end: `rpa run welfare_entry` on the sample input against the real practice system.

What is checked is what really landed: the practice system's /api/records, the run log file, the
results workbook on disk, and the run folder's logs (which must hold no personal data or secret).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from conftest import REPO, SAMPLE_DIR

from framework.practice import PracticeServer

EXPECTED = json.loads((SAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))
RECORD_KEYS = [
    "name",
    "kana",
    "birth_date",
    "recipient_no",
    "service_type",
    "hours",
    "start_date",
    "support_level",
    "notes",
]
PASSWORD = "pw-Secret-7731"


def rpa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `rpa` command in a child process (a real run: its own browser)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "rpa"), "--project", str(REPO), *args],
        env={**_clean_env(), **(env or {})},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
        check=False,
    )


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def practice_with_password() -> object:
    from framework.practice import PracticeConfig

    with PracticeServer(PracticeConfig(password=PASSWORD)) as server:
        yield server


def test_welfare_bot_on_sample_input(
    practice_with_password: PracticeServer, rpa_home: Path
) -> None:
    practice = practice_with_password
    before = _digest(SAMPLE_DIR)

    done = rpa(
        "run",
        "welfare_entry",
        "--set",
        f"target_url={practice.url}",
        "--json",
        env={
            "RPA_HOME": str(rpa_home),
            "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "demo",
            "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": PASSWORD,
        },
    )
    code = done.returncode
    out = json.loads(done.stdout)
    assert "Traceback" not in done.stderr

    # 1. exit code: finished, with a refused and a bad row
    assert code == 1
    # 2. what reached the system: every valid application, once, with normalised values
    records = practice.records()
    got = [{k: r[k] for k in RECORD_KEYS} for r in records]
    assert got == EXPECTED["records"]
    # 3. the run log: counts and time saved
    #    (35 done × 6 min + 10 min per completed run − 3 exceptions × 3 min)
    db = sqlite3.connect(rpa_home / "runlog.sqlite3")
    run = db.execute(
        "SELECT status, items_done, items_business_error, items_bad_input, items_system_error,"
        " minutes_saved, trigger, baseline_minutes_per_item FROM runs"
    ).fetchall()
    db.close()
    assert run == [("completed", 35, 1, 2, 0, 211.0, "cli", 6.0)]
    assert out["run"]["minutes_saved"] == 211.0
    # 4. the results copy: statuses, reasons and receipt numbers next to each row
    run_dir = Path(out["run"]["run_dir"])
    book = openpyxl.load_workbook(run_dir / "applications_結果.xlsx", read_only=True)
    try:
        rows = list(book["申請一覧"].iter_rows(min_row=3, values_only=True))
    finally:
        book.close()
    header = list(rows[0])
    status_col = header.index("処理結果")
    receipt_col = header.index("受付番号")
    message_col = header.index("メッセージ")
    by_row = {3 + i: row for i, row in enumerate(rows)}
    bad_row = EXPECTED["bad_rows"][0]["row"]
    dup = EXPECTED["duplicate_rows"][0]
    refused = EXPECTED["refused_rows"][0]
    assert by_row[bad_row][status_col] == "入力不備"
    assert "生年月日" in by_row[bad_row][message_col]
    # the duplicate is caught by the bot itself (same key as an earlier row): never sent
    assert by_row[dup["row"]][status_col] == "入力不備"
    assert f"{dup['same_as_row']}行目" in by_row[dup["row"]][message_col]
    # the system's own refusal, in its own words
    assert by_row[refused["row"]][status_col] == "登録不可"
    assert by_row[refused["row"]][message_col] == f"入力内容に誤りがあります。 {refused['message']}"
    # the exception report lists exactly the rows that need a person
    report = openpyxl.load_workbook(run_dir / "exceptions.xlsx", read_only=True)
    try:
        listed = [r[2] for r in report["要対応"].iter_rows(min_row=3, values_only=True)]
    finally:
        report.close()
    assert sorted(listed) == sorted([bad_row, dup["row"], refused["row"]])
    receipts = [row[receipt_col] for row in rows[1:] if row[status_col] == "登録済み"]
    assert receipts == [r["receipt_no"] for r in records[:32]]
    # 5. nothing lost or changed in the input
    assert _digest(SAMPLE_DIR) == before
    # 6. no personal data or password in logs or the run log
    leaks = [PASSWORD]
    for record in EXPECTED["records"]:
        leaks += [record["name"], record["kana"], record["recipient_no"], record["birth_date"]]
    for path in [run_dir / "run.log", run_dir / "run.jsonl", rpa_home / "runlog.sqlite3"]:
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = [value for value in leaks if value in text]
        assert not found, f"{path.name} contains personal data or a secret: {found[:3]}"
    # 7. what the tray's menu opens, from the CLI (the same latest run)
    home = {"RPA_HOME": str(rpa_home)}
    for what, expected in [
        ("exceptions", run_dir / "exceptions.xlsx"),
        ("results", run_dir / "結果一覧.xlsx"),
        ("folder", run_dir),
    ]:
        opened = rpa("open", "welfare_entry", what, "--print", env=home)
        assert opened.returncode == 0, opened.stderr
        assert Path(opened.stdout.strip()) == expected


def test_runs_lists_the_run(practice: PracticeServer, rpa_home: Path, tmp_path: Path) -> None:
    from framework.practice.applicants import generate_applicants
    from framework.practice.samples import write_workbook

    workbook = tmp_path / "two.xlsx"
    write_workbook(workbook, generate_applicants(2, seed=11), messy=False)
    env = {
        "RPA_HOME": str(rpa_home),
        "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "demo",
        "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": "demo-pass",
    }
    done = rpa(
        "run",
        "welfare_entry",
        "--input",
        str(workbook),
        "--set",
        f"target_url={practice.url}",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    listed = rpa("runs", "--json", env=env)
    assert listed.returncode == 0
    runs = json.loads(listed.stdout)
    assert len(runs) == 1
    assert runs[0]["items"]["done"] == 2
    assert runs[0]["minutes_saved"] == 2 * 6 + 10
    assert runs[0]["input"] == str(workbook)
    assert runs[0]["trigger"] == "cli"
    assert len(practice.records()) == 2
    table = rpa("runs", env={**env, "COLUMNS": "200"})
    assert "welfare_entry" in table.stdout and "22" in table.stdout


def test_demo_command_in_a_child_process(tmp_path: Path) -> None:
    """The README's demo: `rpa demo` starts the practice system and enters the sample."""
    done = rpa("demo", env={"RPA_HOME": str(tmp_path / "home")})
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "練習システムに登録された申請 (records now in the practice system): 35 件" in done.stdout
    assert "211 分" in done.stdout


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}


def test_list_export_collects_the_system_list_into_a_workbook(
    practice: PracticeServer, rpa_home: Path, tmp_path: Path
) -> None:
    """The other direction: read the list page of the system into a new workbook."""
    from framework.practice.applicants import generate_applicants
    from framework.practice.samples import write_workbook

    workbook = tmp_path / "three.xlsx"
    write_workbook(workbook, generate_applicants(3, seed=12), messy=True)
    env = {
        "RPA_HOME": str(rpa_home),
        "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "demo",
        "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": "demo-pass",
    }
    target = f"target_url={practice.url}"
    entered = rpa("run", "welfare_entry", "--input", str(workbook), "--set", target, env=env)
    assert entered.returncode == 0, entered.stderr
    exported = rpa("run", "welfare_list_export", "--set", target, "--json", env=env)
    assert exported.returncode == 0, exported.stderr
    out = json.loads(exported.stdout)
    assert out["run"]["minutes_saved"] == 20
    run_dir = Path(out["run"]["run_dir"])
    [export] = list(run_dir.glob("申請一覧_*.xlsx"))
    book = openpyxl.load_workbook(export, read_only=True)
    try:
        rows = list(book["申請一覧"].iter_rows(values_only=True))
    finally:
        book.close()
    assert rows[0][:3] == ("受付番号", "氏名", "受給者番号")
    listed = {(r[0], r[2]) for r in rows[1:]}
    assert listed == {(r["receipt_no"], r["recipient_no"]) for r in practice.records()}
