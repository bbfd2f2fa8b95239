"""Shared fixtures: one real headless browser per session, the practice system, temp projects."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from pgserver import NoPostgres, PgServer

from framework.browsers import BrowserOptions, find_browser, launch_args
from framework.home import Home
from framework.loader import Project
from framework.practice import PracticeConfig, PracticeServer
from framework.registry import Registry
from framework.runlog import RunLog, RunRecord, SqliteRunLog
from framework.runner import Runner, RunRequest, RunResult

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "bots" / "welfare_entry" / "sample"
ARTIFACTS = REPO / "test-artifacts"

DEMO_CREDENTIALS = {"welfare_system": {"username": "demo", "password": "demo-pass"}}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One real headless Chromium for the whole session (tests open their own contexts)."""
    from playwright.sync_api import sync_playwright

    choice = find_browser()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(headless=True, args=launch_args(), **choice.launch_kwargs())
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP")
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def practice() -> Iterator[PracticeServer]:
    """A fresh practice system (empty records) on a free loopback port."""
    with PracticeServer(PracticeConfig()) as server:
        yield server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One private PostgreSQL server for the session (skipped without one, except in CI)."""
    try:
        server = PgServer.start()
    except (NoPostgres, OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        message = f"PostgreSQL を起動できません (cannot start PostgreSQL): {exc} {detail!r}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of an empty database of this test's own on the session's PostgreSQL server."""
    return pg_server.create_database()


StoreFactory = Callable[[], RunLog]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens (and reopens) the same run log; a test using it runs against every store.

    Each call is another connection to the same log, as another process or PC would open it.
    """
    opened: list[RunLog] = []
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""

    def factory() -> RunLog:
        from framework.runlog.postgres import PostgresRunLog

        store: RunLog = PostgresRunLog(url) if url else SqliteRunLog(tmp_path / "runlog.sqlite3")
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def registry() -> Registry:
    return Registry.default()


@pytest.fixture
def rpa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RPA_HOME in tmp, no credentials from the environment and none from the OS keyring."""
    import keyring.core
    from keyring.backends import null

    home = tmp_path / "var"
    monkeypatch.setenv("RPA_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("RPA_CREDENTIAL_"):
            monkeypatch.delenv(name)
    # a developer's real keyring must not answer, in this process or in child `rpa` processes
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", null.Keyring())
    return home


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in memory: the OS keyring's stand-in in tests."""

    priority = -10  # never chosen by keyring itself

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


@pytest.fixture
def memory_keyring(rpa_home: Path, monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """An OS keyring for this test only (in this process)."""
    import keyring.core

    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    return backend


@dataclass
class TempProject:
    """A project folder in tmp_path with helpers to write bots and workflows."""

    root: Path

    @property
    def project(self) -> Project:
        return Project(self.root)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def bot(
        self,
        bot_id: str,
        workflow: str,
        *,
        settings: str = "{}",
        credentials: str = "{}",
        input_default: str | None = None,
    ) -> Path:
        input_block = f"input: {{default: {input_default}}}\n" if input_default else ""
        return self.write(
            f"bots/{bot_id}/bot.yaml",
            f"""
            name: テストボット
            department: テスト課
            workflow: {workflow}
            settings: {settings}
            credentials: {credentials}
            baseline: {{minutes_per_item: 5, minutes_per_run: 10, measured_by: テスト,
                        measured_on: 2026-10-01}}
            """
            + input_block,
        )


@pytest.fixture
def temp_project(tmp_path: Path) -> TempProject:
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "workflows").mkdir()
    return TempProject(root)


RunBot = Callable[..., RunResult]


@pytest.fixture
def run_bot(rpa_home: Path, registry: Registry, browser: Any) -> Iterator[RunBot]:
    """Run a bot of a project in-process, sharing the session's browser."""
    logs: list[SqliteRunLog] = []

    def run(
        project: Project,
        bot: str,
        *,
        input: Path | None = None,
        overrides: dict[str, str] | None = None,
        credentials: dict[str, dict[str, str]] | None = None,
        timeout_ms: int = 5_000,
    ) -> RunResult:
        home = Home.locate(project.root)
        runlog = SqliteRunLog(home.runlog_path)
        logs.append(runlog)
        runner = Runner(project, home, registry, runlog, browser=browser)
        request = RunRequest(
            bot=bot,
            input=input,
            overrides=overrides or {},
            credentials=credentials,
            browser=BrowserOptions(timeout_ms=timeout_ms),
        )
        return runner.run(request)

    yield run
    for log in logs:
        log.close()


def book_of_rows(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """A one-sheet workbook: the keys of the first row as headers, then the rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    headers = list(rows[0])
    ws.append(headers)
    for row in rows:
        ws.append([row[h] for h in headers])
    wb.save(path)
    return path


def artifact(name: str) -> Path:
    """A path under test-artifacts/ for files a person may want to look at after CI."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def welfare_run(run_id: str, bot: str = "welfare_entry", minute: int = 0) -> RunRecord:
    """A run of the welfare bot as the run-log tests record it (nothing started for real)."""
    return RunRecord(
        id=run_id,
        bot_id=bot,
        bot_name="障害福祉サービス申請入力",
        department="障がい福祉課",
        workflow="workflows/welfare_entry.yaml",
        trigger="cli",
        os_user="tester",
        host="pc-01",
        input="in.xlsx",
        started_at=dt.datetime(2026, 11, 27, 9, minute, tzinfo=dt.UTC),
        run_dir=f"/tmp/{run_id}",
        baseline_minutes_per_item=6,
        baseline_minutes_per_run=10,
        baseline_measured_by="受付担当",
        baseline_measured_on="2026-10-15",
    )
