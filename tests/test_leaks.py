"""Nothing secret or personal leaks out of a run (issue 7), end to end in child processes.

The welfare bot runs against the practice system with a random password and random applicants
(names, フリガナ, birth dates and recipient numbers written the many ways people write them).
Then everything under RPA_HOME - logs, the run log database and its WAL, the audit trail, lock
files, anything else - and everything the command printed is searched for the password and for
every personal value in every form a program might write it. Only the results and exception
workbooks and the failure screenshots, which staff need to act on, are allowed to hold them.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import REPO, TempProject

from framework import normalize
from framework.practice import PracticeConfig, PracticeServer
from framework.practice.applicants import Applicant, generate_applicants
from framework.practice.samples import write_workbook

STAFF_FILES = ("_結果.xlsx", "結果一覧.xlsx", "exceptions.xlsx")
"""Workbooks staff act on: they may hold personal data (as do screenshots/)."""


def _rpa(project: Path, home: Path, password: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
    env.update(
        {
            "RPA_HOME": str(home),
            "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "demo",
            "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": password,
            "RPA_BROWSER_TIMEOUT_MS": "5000",
        }
    )
    return subprocess.run(
        [str(Path(sys.executable).parent / "rpa"), "--project", str(project), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
        check=False,
    )


def _forms(person: Applicant) -> set[str]:
    """Every way a program might write this person's personal values."""
    day = person.birth_date
    texts = {
        person.name,
        person.name.replace("\u3000", ""),
        person.name.replace("\u3000", " "),
        person.kana,
        person.kana.replace("\u3000", ""),
        person.recipient_no,
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        day.strftime("%Y/%m/%d"),
        day.strftime("%Y%m%d"),
        f"{day.year}年{day.month}月{day.day}日",
        normalize.format_wareki(day),
        normalize.format_wareki(day, short=True),
    }
    return texts | {quote(t) for t in texts}


def _leaks(home: Path, console: str, values: set[str]) -> list[str]:
    found: list[str] = []
    for path in sorted(home.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(home)
        if path.name.endswith(STAFF_FILES) or "screenshots" in relative.parts:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{relative}: {v!r}" for v in values if v in text]
    found += [f"console: {v!r}" for v in values if v in console]
    return found


@pytest.fixture
def password() -> str:
    return "Pw-" + secrets.token_urlsafe(12)


@pytest.fixture
def system(password: str) -> Iterator[PracticeServer]:
    with PracticeServer(PracticeConfig(password=password)) as server:
        yield server


@pytest.fixture
def applicants() -> list[Applicant]:
    return generate_applicants(6, seed=random.randrange(1_000_000))


def _bad_rows(rng_seed: int) -> tuple[list[list[object]], set[str]]:
    """Rows whose validation errors echo a personal value: an impossible birth date and a
    recipient number with a letter in it."""
    [a, b] = generate_applicants(2, seed=rng_seed)
    rows: list[list[object]] = [
        [a.name, a.kana, "昭和60年2月30日", a.recipient_no, a.service_type, 10, a.start_date,
         a.support_level, ""],
        [b.name, b.kana, b.birth_date, b.recipient_no[:9] + "X", b.service_type, 10,
         b.start_date, b.support_level, ""],
    ]  # fmt: skip
    return rows, _forms(a) | _forms(b) | {"昭和60年2月30日", b.recipient_no[:9] + "X"}


def test_a_run_leaks_nothing(
    rpa_home: Path,
    tmp_path: Path,
    system: PracticeServer,
    password: str,
    applicants: list[Applicant],
) -> None:
    workbook = tmp_path / "申請一覧.xlsx"
    extra, bad_values = _bad_rows(random.randrange(1_000_000, 2_000_000))
    write_workbook(workbook, applicants, messy=True, seed=7, extra_rows=extra)
    done = _rpa(
        REPO,
        rpa_home,
        password,
        "run",
        "welfare_entry",
        "--input",
        str(workbook),
        "--set",
        f"target_url={system.url}",
        "--json",
    )
    assert done.returncode == 1, done.stderr  # the two bad rows
    assert len(system.records()) == len(applicants)
    assert "[生年月日]" in done.stdout  # the validation error, masked
    audit = _rpa(REPO, rpa_home, password, "audit")
    runs = _rpa(REPO, rpa_home, password, "runs", "--json")

    values = {password} | bad_values
    for person in applicants:
        values |= _forms(person)
    console = done.stdout + done.stderr + audit.stdout + runs.stdout
    assert _leaks(rpa_home, console, values) == []
    # the staff workbooks are there, and do hold what staff need
    [run_dir] = list((rpa_home / "runs").iterdir())
    assert (run_dir / "exceptions.xlsx").exists()
    assert (run_dir / "申請一覧_結果.xlsx").exists()


def test_a_wrong_password_leaks_nothing(
    rpa_home: Path, tmp_path: Path, system: PracticeServer, applicants: list[Applicant]
) -> None:
    workbook = tmp_path / "申請一覧.xlsx"
    write_workbook(workbook, applicants, messy=False)
    wrong = "Wrong-" + secrets.token_urlsafe(12)
    done = _rpa(
        REPO,
        rpa_home,
        wrong,
        "run",
        "welfare_entry",
        "--input",
        str(workbook),
        "--set",
        f"target_url={system.url}",
    )
    assert done.returncode == 3, done.stderr  # setup (the login) failed: aborted
    assert "setup" in done.stdout
    assert system.records() == []
    values = {wrong, quote(wrong)}
    for person in applicants:
        values |= _forms(person)
    assert _leaks(rpa_home, done.stdout + done.stderr, values) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ECHOING_WORKFLOW = """
items:
  fields:
    氏名: {type: text, pii: true}
    フリガナ: {type: kana, pii: true}
    生年月日: {type: date, pii: true}
    受給者番号: {type: digits, length: 10, pii: true}
    サービス種類: {type: text}
    支給量: {type: integer, unit: 時間}
    開始日: {type: date}
    障害支援区分: {type: text}
    備考: {type: text, required: false}
  key: [受給者番号]
  excel: {sheet: 申請一覧}
retry: {attempts: 1}
setup:
  - call: welfare_login.yaml
steps:
  - log: "{{ item.氏名 }} {{ item.フリガナ }} {{ item.生年月日 }} {{ item.受給者番号 }}
      as {{ credentials.welfare_system.username }} / {{ credentials.welfare_system.password }}"
  - fail: >-
      {{ item.氏名 }}（{{ item.フリガナ }}、{{ item.生年月日 }}生、受給者番号
      {{ item.受給者番号 }}）は対象外です
    when: item.支給量 > 100
  - browser.goto: >-
      http://127.0.0.1:PORT/lookup?name={{ item.氏名 }}&kana={{ item.フリガナ }}&no={{
      item.受給者番号 }}&birth={{ item.生年月日 }}&pw={{ credentials.welfare_system.password }}
"""


def test_failures_that_echo_personal_values_leak_nothing(
    rpa_home: Path,
    tmp_path: Path,
    temp_project: TempProject,
    system: PracticeServer,
    password: str,
    applicants: list[Applicant],
) -> None:
    """Business errors quoting every personal field, Playwright errors quoting them and the
    password in a URL (percent-encoded), log lines with them, validation errors echoing them."""
    temp_project.write(
        "workflows/welfare_login.yaml",
        (REPO / "workflows" / "welfare_login.yaml").read_text(encoding="utf-8"),
    )
    temp_project.write("workflows/echo.yaml", ECHOING_WORKFLOW.replace("PORT", str(_free_port())))
    temp_project.bot(
        "echo",
        "echo.yaml",
        settings=f"{{target_url: '{system.url}'}}",
        credentials="{welfare_system: [username, password]}",
    )
    workbook = tmp_path / "申請一覧.xlsx"
    extra, bad_values = _bad_rows(random.randrange(2_000_000, 3_000_000))
    write_workbook(workbook, applicants, messy=True, seed=3, extra_rows=extra)
    done = _rpa(temp_project.root, rpa_home, password, "run", "echo", "--input", str(workbook))
    assert done.returncode == 1, done.stdout + done.stderr
    console = done.stdout + done.stderr
    assert "ERR_CONNECTION_REFUSED" in console  # Playwright's own words reached the log...
    assert "name=[氏名]" in console  # ...with the encoded name masked
    assert "pw=***" in console
    assert "[受給者番号]）は対象外です" in console or all(p.hours <= 100 for p in applicants)
    values = {password} | bad_values
    for person in applicants:
        values |= _forms(person)
    assert _leaks(rpa_home, console, values) == []
