"""Runs that lose nothing: real `rpa run` child processes, a real browser, the practice system.

Each test starts the bot as its own process (with its own browser) against an in-process
practice system, makes something go wrong at an exact point of a registration (a busy page, an
expired session, ``kill -9``, a stop request, a second start), starts it again, and checks where
the outcomes land: the records stored in the practice system, the run log file under
``RPA_HOME`` and ``rpa runs --json``.

The practice system runs with ``accept_duplicates``: a second copy of an application would be
stored, not refused, so every "exactly once" below is the bot's own doing. Its ``observer`` hook
(called in the server thread when a request arrives, "before", and when its answer is ready but
not yet sent, "after") is where the faults are injected.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SAMPLE_DIR

from framework.practice import PracticeConfig, PracticeServer
from framework.practice.applicants import Applicant, generate_applicants
from framework.practice.samples import write_workbook
from framework.runlog import SqliteRunLog
from framework.stopping import request_stop

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="kills child processes with POSIX signals"
)

EXPECTED = json.loads((SAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))
RECORD_KEYS = (
    "name",
    "kana",
    "birth_date",
    "recipient_no",
    "service_type",
    "hours",
    "start_date",
    "support_level",
    "notes",
)
RPA = str(Path(sys.executable).parent / "rpa")
DEADLINE = 120.0
"""Seconds any one wait in these tests may take before the test fails (never a fixed sleep)."""

SETTLED = {"done", "skipped", "business_error", "system_error", "bad_input", "needs_review"}
COUNTED = ("done", "business_error", "system_error", "bad_input", "needs_review", "skipped")


# -- the practice system's observer: record every request, act at chosen points --------------


@dataclass
class _Rule:
    phase: str
    method: str
    path: re.Pattern[str]
    nth: int
    action: Callable[[], None]
    seen: int = 0


class Tripwire:
    """The practice system's observer: keeps every request and fires actions at the nth match.

    Actions run in the server thread, before the request is answered ("before") or before the
    answer is sent ("after"), so whatever they do happens at that exact point of the bot's work.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self._rules: list[_Rule] = []
        self._gates: list[threading.Event] = []
        self._lock = threading.Lock()

    def __call__(self, phase: str, method: str, path: str) -> None:
        due: list[_Rule] = []
        with self._lock:
            self.seen.append((phase, method, path))
            for rule in self._rules:
                if (rule.phase, rule.method) == (phase, method) and rule.path.fullmatch(path):
                    rule.seen += 1
                    if rule.seen == rule.nth:
                        due.append(rule)
        for rule in due:
            rule.action()

    def at(self, phase: str, method: str, path: str, nth: int, action: Callable[[], None]) -> None:
        """Run ``action`` when the ``nth`` request matching (from now on) arrives or is answered."""
        with self._lock:
            self._rules.append(_Rule(phase, method, re.compile(path), nth, action))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def gate(self, phase: str, method: str, path: str, nth: int) -> Gate:
        """Hold the ``nth`` matching request in the server until the test opens the gate."""
        gate = Gate()
        with self._lock:
            self._gates.append(gate.opened)
        self.at(phase, method, path, nth, gate.hold)
        return gate

    def open_all(self) -> None:
        for event in self._gates:
            event.set()

    def posts(self) -> list[str]:
        """The paths of the POST requests received, in order."""
        with self._lock:
            return [p for phase, m, p in self.seen if phase == "before" and m == "POST"]

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return sum(1 for s in self.seen if s == ("before", method, path))


@dataclass
class Gate:
    """A request held in the server thread: ``reached`` once it is there, until ``open()``."""

    reached: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)

    def hold(self) -> None:
        self.reached.set()
        self.opened.wait(DEADLINE)

    def wait_reached(self, child: Child | None = None) -> None:
        deadline = time.monotonic() + DEADLINE
        while not self.reached.wait(0.1):
            if child is not None and child.proc.poll() is not None:
                pytest.fail(f"the bot ended ({child.proc.returncode}) before the point:\n{child}")
            if time.monotonic() > deadline:
                pytest.fail("the bot never reached the point")

    def open(self) -> None:
        self.opened.set()


# -- the bot as a child process ---------------------------------------------------------------


@dataclass
class Child:
    """One `rpa` process; its output goes to files (a killed bot's orphans may keep pipes open)."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def wait(self) -> int:
        try:
            return self.proc.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the bot did not end within {DEADLINE:.0f} s:\n{self}")

    def kill(self) -> None:
        """``kill -9`` the bot (not its browser: that is what a crash or a power cut leaves)."""
        with suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    @property
    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    @property
    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def __str__(self) -> str:
        return f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


@dataclass
class Run:
    """A finished `rpa run`: its exit code, JSON output and run log folder."""

    code: int
    child: Child
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["run"]["id"])

    @property
    def log(self) -> str:
        return (Path(self.data["run"]["run_dir"]) / "run.log").read_text(encoding="utf-8")

    def items(self) -> dict[int, dict[str, Any]]:
        return {int(item["seq"]): item for item in self.data["items"]}

    def statuses(self) -> dict[int, str]:
        return {seq: str(item["status"]) for seq, item in self.items().items()}


class Office:
    """One PC's worth of kakari: a project, RPA_HOME, the practice system and the bot processes."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        self.project = tmp / "project"
        self.tripwire = Tripwire()
        self.server: PracticeServer | None = None
        self.children: list[Child] = []
        self.bot: Child | None = None
        """The latest `rpa run` started (the one a fault action kills)."""
        self.write_project()

    # -- setup ------------------------------------------------------------------------------
    def write_project(self, *, attempts: int = 4, with_check: bool = True) -> None:
        """The shipped welfare bot, with short retry pauses (and other changes for a test)."""
        (self.project / "bots" / "welfare_entry").mkdir(parents=True, exist_ok=True)
        (self.project / "workflows").mkdir(exist_ok=True)
        manifest = (REPO / "bots" / "welfare_entry" / "bot.yaml").read_text(encoding="utf-8")
        (self.project / "bots" / "welfare_entry" / "bot.yaml").write_text(
            manifest, encoding="utf-8"
        )
        login = (REPO / "workflows" / "welfare_login.yaml").read_text(encoding="utf-8")
        (self.project / "workflows" / "welfare_login.yaml").write_text(login, encoding="utf-8")
        workflow = (REPO / "workflows" / "welfare_entry.yaml").read_text(encoding="utf-8")
        workflow = _replace_once(
            workflow,
            "  attempts: 4\n  delay: 2\n",
            f"  attempts: {attempts}\n  delay: 0.1\n  max_delay: 0.2\n",
        )
        if not with_check:
            workflow = re.sub(
                r"\n# 登録の途中で止まった申請.*?\n  entered: [^\n]*\n", "\n", workflow, flags=re.S
            )
            assert "\ncheck:" not in workflow
        (self.project / "workflows" / "welfare_entry.yaml").write_text(workflow, encoding="utf-8")

    def start_system(self, **config: Any) -> PracticeServer:
        assert self.server is None
        self.server = PracticeServer(
            PracticeConfig(accept_duplicates=True, observer=self.tripwire, **config)
        )
        self.server.start()
        return self.server

    @property
    def system(self) -> PracticeServer:
        assert self.server is not None
        return self.server

    def workbook(
        self, people: Sequence[Applicant], *, extra_rows: Sequence[Sequence[object]] = ()
    ) -> Path:
        path = self.tmp / f"applications-{len(list(self.tmp.glob('applications-*')))}.xlsx"
        write_workbook(path, people, messy=False, extra_rows=extra_rows)
        return path

    # -- the bot ----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
        env.update(
            RPA_HOME=str(self.home),
            RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME="demo",
            RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD="demo-pass",
        )
        return env

    def rpa(self, *args: str) -> Child:
        """Start `rpa --project <project> ARGS` in its own process group."""
        n = len(self.children)
        out, err = self.tmp / f"rpa-{n}.out", self.tmp / f"rpa-{n}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                [RPA, "--project", str(self.project), *args],
                env=self.env(),
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        child = Child(proc, out, err)
        self.children.append(child)
        return child

    def start(self, *args: str, input: Path | None = None) -> Child:
        where = ["--input", str(input)] if input is not None else []
        url = f"target_url={self.system.url}"
        self.bot = self.rpa("run", "welfare_entry", "--json", "--set", url, *where, *args)
        return self.bot

    def kill_bot(self) -> None:
        assert self.bot is not None
        self.bot.kill()

    def run(self, *args: str, input: Path | None = None) -> Run:
        return self.finish(self.start(*args, input=input))

    def finish(self, child: Child) -> Run:
        code = child.wait()
        assert "Traceback" not in child.stderr, str(child)
        try:
            data = child.json()
        except ValueError:
            pytest.fail(f"no JSON from the bot (exit {code}):\n{child}")
        assert data["exit_code"] == code
        return Run(code, child, data)

    # -- where outcomes land ----------------------------------------------------------------
    def records(self) -> list[dict[str, object]]:
        return self.system.records()

    def query(self, sql: str, *params: object) -> list[sqlite3.Row]:
        """Read the run log file the way IT would (read-only, its own connection)."""
        uri = f"file:{self.home / 'runlog.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()

    def runs(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM runs ORDER BY rowid")

    def run_row(self, run_id: str) -> sqlite3.Row:
        [row] = [r for r in self.runs() if r["id"] == run_id]
        return row

    def items(self, run_id: str) -> dict[int, str]:
        rows = self.query("SELECT seq, status FROM items WHERE run_id = ? ORDER BY seq", run_id)
        return {int(r["seq"]): str(r["status"]) for r in rows}

    def running_run(self) -> str:
        [row] = [r for r in self.runs() if r["status"] == "running"]
        return str(row["id"])

    # -- cleanup ----------------------------------------------------------------------------
    def close(self) -> None:
        """Kill what still runs, let the killed bots' browsers close, stop the system."""
        self.tripwire.open_all()
        for child in self.children:
            if child.proc.poll() is None:
                child.kill()
        deadline = time.monotonic() + 30
        for child in self.children:
            # a killed bot's Playwright driver notices and closes its browser; wait for that,
            # then make sure nothing of the process group is left
            while time.monotonic() < deadline and _group_alive(child.proc.pid):
                time.sleep(0.05)
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)
        if self.server is not None:
            self.server.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):  # gone (or the number is someone else's now)
        return False
    return True


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the shipped workflow changed: {old!r} not found once"
    return text.replace(old, new)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    office = Office(tmp_path)
    try:
        yield office
    finally:
        office.close()


# -- checks -------------------------------------------------------------------------------------


def key_of(record: dict[str, object]) -> tuple[object, object, object]:
    return (record["recipient_no"], record["service_type"], record["start_date"])


def assert_entered_exactly_once(office: Office, expected: Sequence[dict[str, object]]) -> None:
    """Every expected application is in the system once, with its values, and nothing else."""
    records = office.records()
    counts = Counter(key_of(r) for r in records)
    twice = {k: n for k, n in counts.items() if n != 1}
    assert not twice, f"entered more than once: {twice}"
    got = sorted(({k: r[k] for k in RECORD_KEYS} for r in records), key=key_of)
    assert got == sorted((dict(e) for e in expected), key=key_of)


def assert_run_log_consistent(office: Office) -> list[sqlite3.Row]:
    """No run still 'running'; counts match the items; every item left pending or in progress
    by a run has been settled by a later run; `rpa runs --json` says the same."""
    runs = office.runs()
    order = {r["id"]: i for i, r in enumerate(runs)}
    items = office.query("SELECT * FROM items")
    assert [r["id"] for r in runs if r["status"] == "running"] == []
    for run in runs:
        mine = Counter(i["status"] for i in items if i["run_id"] == run["id"])
        counted = {s: run[f"items_{s}"] for s in COUNTED}
        assert counted == {s: mine.get(s, 0) for s in COUNTED}, run["id"]
        assert run["items_total"] == sum(counted.values())
        assert run["ended_at"] is not None and run["exit_code"] in (0, 1, 3)
    for item in items:
        if item["status"] in SETTLED:
            continue
        later = [
            i
            for i in items
            if i["key_hash"] == item["key_hash"]
            and order[i["run_id"]] > order[item["run_id"]]
            and i["status"] in SETTLED
        ]
        assert later, (
            f"run {item['run_id']} item {item['seq']} left {item['status']}, never settled"
        )
    listed = office.rpa("runs", "--json", "--limit", "100")
    assert listed.wait() == 0, str(listed)
    shown = {r["id"]: (r["status"], r["items"]["done"], r["exit_code"]) for r in listed.json()}
    assert shown == {r["id"]: (r["status"], r["items_done"], r["exit_code"]) for r in runs}
    return runs


def people(n: int, seed: int) -> tuple[list[Applicant], list[dict[str, object]]]:
    chosen = generate_applicants(n, seed=seed)
    return chosen, [dict(p.to_record()) for p in chosen]


# -- 1. a busy system ---------------------------------------------------------------------------


def test_busy_system_every_valid_sample_row_is_entered_exactly_once(office: Office) -> None:
    """Every 4th POST answers 503 混雑: items are retried (a busy 登録 is checked first)."""
    office.start_system(fail_every=4)
    run = office.run(input=SAMPLE_DIR)

    assert run.code == 1, str(run.child)  # the sample's bad, duplicate and refused rows
    assert_entered_exactly_once(office, EXPECTED["records"])
    row = office.run_row(run.id)
    assert (row["status"], row["items_done"], row["items_business_error"]) == ("completed", 35, 1)
    assert (row["items_bad_input"], row["items_system_error"], row["items_needs_review"]) == (
        2,
        0,
        0,
    )
    # every 4th POST was refused as busy, and each one cost exactly one retry of its item
    busy = len(office.tripwire.posts()) // 4
    assert busy >= 15
    assert run.log.count("一時的な失敗のため") == busy
    assert_run_log_consistent(office)


# -- 2. a session that expires mid-batch --------------------------------------------------------


SESSION_TIMEOUT = 1.5


@pytest.mark.parametrize(
    ("phase", "method", "path"),
    [
        ("before", "GET", "/applications/new"),
        ("before", "POST", "/applications"),
        ("after", "POST", "/applications"),
    ],
    ids=["opening-the-form", "at-registration-lost", "after-registration-stored"],
)
def test_expired_session_logs_in_again_and_enters_every_item_once(
    office: Office, phase: str, method: str, path: str
) -> None:
    """The 3rd item's request waits longer than the idle timeout: the session has expired when
    the system looks at it (before: that request meets the login page; after: the next one)."""
    office.start_system(session_timeout=SESSION_TIMEOUT)
    chosen, expected = people(4, seed=21)
    office.tripwire.at(phase, method, path, 3, lambda: time.sleep(SESSION_TIMEOUT + 0.7))
    run = office.run(input=office.workbook(chosen))

    assert run.code == 0, str(run.child)
    assert set(run.statuses().values()) == {"done"}
    assert_entered_exactly_once(office, expected)
    # logged in again, once per expiry (a busy machine may add one), and each time said so
    logins = office.tripwire.count("POST", "/login")
    assert logins >= 2
    assert run.log.count("ログアウトされていたため、ログインし直します") == logins - 1, run.log
    assert_run_log_consistent(office)


# -- 3. kill -9 at each point of a registration, then run again -----------------------------


DONE_PAGE = r"/applications/R\d{2}-\d+/done"


@dataclass(frozen=True)
class KillPoint:
    """Where in a registration the bot dies, and what becomes of the request it was making."""

    phase: str
    method: str
    path: str
    lost: bool = False
    """The request dies with the bot: the system never acts on it."""

    @property
    def committing(self) -> bool:
        """The bot had started its ``commit`` step (登録する): the item is in progress."""
        return self.path != "/applications/confirm"

    @property
    def stored(self) -> bool:
        """The system holds the application afterwards."""
        return self.committing and not self.lost


KILL_POINTS = {
    "before-confirm": KillPoint("before", "POST", "/applications/confirm"),
    "between-confirm-and-register": KillPoint("after", "POST", "/applications/confirm"),
    "during-register": KillPoint("before", "POST", "/applications"),
    "during-register-request-lost": KillPoint("before", "POST", "/applications", lost=True),
    "after-receipt-page": KillPoint("after", "GET", DONE_PAGE),
}


def kill_at(office: Office, point: KillPoint, nth: int) -> None:
    """kill -9 the bot at ``point`` of its ``nth`` registration. The system then goes on with
    the request (storing the application at 登録), unless the request is lost with the bot."""

    def kill() -> None:
        office.kill_bot()
        if point.lost:
            raise ConnectionAbortedError("the request is lost with the bot (test)")

    office.tripwire.at(point.phase, point.method, point.path, nth, kill)


def killed_run(office: Office, workbook: Path) -> str:
    """Start the bot, wait until the tripwire has killed it; return the run it left running."""
    assert office.start(input=workbook).wait() == -signal.SIGKILL
    office.tripwire.clear()
    return office.running_run()


def assert_closed_by(office: Office, dead: str, by: Run) -> None:
    """The killed run is recorded as aborted, closed (and named) by the next start."""
    row = office.run_row(dead)
    assert row["status"] == "aborted" and row["exit_code"] == 3
    assert "異常終了" in row["message"]
    assert f"前回の実行 {dead} は途中で止まっていました" in by.log
    assert f"run {dead} を異常終了として記録しました" in by.log


@pytest.mark.parametrize("name", list(KILL_POINTS))
def test_kill_during_the_second_item_and_run_again(office: Office, name: str) -> None:
    point = KILL_POINTS[name]
    office.start_system()
    chosen, expected = people(3, seed=31)
    workbook = office.workbook(chosen)
    kill_at(office, point, 2)
    killed = killed_run(office, workbook)
    # what the dead run left: item 1 done, item 2 pending, or in progress once 登録 had started
    assert office.items(killed) == {1: "done", 2: "in_progress" if point.committing else "pending"}
    assert len(office.records()) == (2 if point.stored else 1)

    again = office.run(input=workbook)

    assert again.code == 0, str(again.child)
    assert_closed_by(office, killed, again)
    items = again.items()
    assert again.statuses() == {1: "skipped", 2: "done", 3: "done"}
    assert "登録済みのため入力しません" in items[1]["message"]
    if point.committing:  # the workflow's check looked the application up in the system
        verdict = "登録済み" if point.stored else "未登録"
        assert f"登録済みか確認しました: {verdict}" in again.log
    else:
        assert "登録済みか確認しました" not in again.log
    if point.stored:
        assert "前回の処理で登録済みでした" in items[2]["message"]
    else:
        assert items[2]["message"] == ""  # entered by this run
    assert_entered_exactly_once(office, expected)
    receipts = {r["recipient_no"]: r["receipt_no"] for r in office.records()}
    for seq, person in enumerate(chosen, start=1):
        assert items[seq]["results"]["受付番号"] == receipts[person.recipient_no]
    assert_run_log_consistent(office)


def test_killed_again_while_checking_the_interrupted_item(office: Office) -> None:
    """A run that dies while its check is looking the interrupted item up must leave it
    ambiguous (in progress), or the next run would enter it a second time."""
    office.start_system()
    chosen, expected = people(3, seed=32)
    workbook = office.workbook(chosen)
    kill_at(office, KILL_POINTS["during-register"], 2)
    first = killed_run(office, workbook)
    office.tripwire.at("before", "GET", "/applications", 1, office.kill_bot)  # the check's list
    second = killed_run(office, workbook)
    assert office.items(second) == {1: "skipped", 2: "in_progress"}

    third = office.run(input=workbook)
    assert third.code == 0, str(third.child)
    assert third.statuses() == {1: "skipped", 2: "done", 3: "done"}
    assert "前回の処理で登録済みでした" in third.items()[2]["message"]
    assert_entered_exactly_once(office, expected)
    assert_closed_by(office, second, third)
    assert office.run_row(first)["status"] == "aborted"
    assert_run_log_consistent(office)


def test_kill_during_register_without_a_check_needs_review_until_a_person_reruns_it(
    office: Office,
) -> None:
    """Without ``check`` an interrupted registration is 要確認: never entered again silently.

    ``--rerun-failed`` is how staff say "I looked: enter it again". The bot cannot tell, so it
    does exactly that: here the first run's registration had reached the system, so the system
    now holds it twice (a real system's duplicate check would refuse the second one as 登録不可).
    This is the staff member's explicit decision, which is why the 要確認 message says to check
    the system first.
    """
    office.write_project(with_check=False)
    office.start_system()
    chosen, expected = people(3, seed=33)
    workbook = office.workbook(chosen)
    kill_at(office, KILL_POINTS["during-register"], 2)
    killed = killed_run(office, workbook)

    second = office.run(input=workbook)
    assert second.code == 1, str(second.child)  # 要確認 needs a person
    assert second.statuses() == {1: "skipped", 2: "needs_review", 3: "done"}
    assert "システムに登録されているか確認してください" in second.items()[2]["message"]
    assert_entered_exactly_once(office, expected)  # not entered again
    assert_closed_by(office, killed, second)

    # an ordinary run leaves it alone too
    third = office.run(input=workbook)
    assert third.code == 1
    assert third.statuses() == {1: "skipped", 2: "needs_review", 3: "skipped"}
    assert "要確認のまま" in third.items()[2]["message"]
    assert_entered_exactly_once(office, expected)

    # the staff member asks for it: only that item is entered again (and, here, doubled)
    rerun = office.run("--rerun-failed", third.id)
    assert rerun.code == 0, str(rerun.child)
    assert rerun.statuses() == {2: "done"}
    counts = Counter(key_of(r) for r in office.records())
    assert counts[key_of(expected[1])] == 2
    assert [n for k, n in counts.items() if k != key_of(expected[1])] == [1, 1]
    assert_run_log_consistent(office)


# -- 4. one run of a bot at a time -----------------------------------------------------------


def test_a_second_start_is_refused_and_a_killed_run_leaves_the_lock_free(office: Office) -> None:
    office.start_system()
    chosen, expected = people(2, seed=41)
    workbook = office.workbook(chosen)
    held = office.tripwire.gate("before", "GET", "/applications/new", 1)
    running = office.start(input=workbook)
    held.wait_reached(running)
    run_id = office.running_run()
    logins = office.tripwire.count("POST", "/login")

    refused = office.start(input=workbook)
    assert refused.wait() == 4, str(refused)
    assert f"run {run_id}" in refused.stderr and "実行中" in refused.stderr, str(refused)
    assert refused.stdout == ""
    # refused before anything: no run recorded, no browser, no login
    assert [r["id"] for r in office.runs()] == [run_id]
    assert office.tripwire.count("POST", "/login") == logins

    running.kill()
    held.open()
    office.tripwire.clear()
    taken_over = office.run(input=workbook)
    assert taken_over.code == 0, str(taken_over.child)
    assert_closed_by(office, run_id, taken_over)
    assert taken_over.statuses() == {1: "done", 2: "done"}
    assert_entered_exactly_once(office, expected)
    assert_run_log_consistent(office)


# -- 5. stopping a run --------------------------------------------------------------------------


def test_rpa_stop_before_the_registration_leaves_the_item_unentered(office: Office) -> None:
    """`rpa stop` while the 2nd item is being filled in: it is not registered, the run ends."""
    office.start_system()
    chosen, expected = people(3, seed=51)
    workbook = office.workbook(chosen)
    held = office.tripwire.gate("before", "POST", "/applications/confirm", 2)
    bot = office.start(input=workbook)
    held.wait_reached(bot)
    stop = office.rpa("stop", "welfare_entry")
    assert stop.wait() == 0 and "停止を指示しました" in stop.stdout, str(stop)
    held.open()
    stopped = office.finish(bot)

    assert stopped.code == 3
    assert stopped.statuses() == {1: "done", 2: "skipped"}
    assert "停止の指示があったため入力していません" in stopped.items()[2]["message"]
    row = office.run_row(stopped.id)
    assert (row["status"], row["exit_code"]) == ("aborted", 3)
    assert "停止の指示で止めました" in row["message"]
    assert office.tripwire.count("POST", "/applications") == 1
    assert_entered_exactly_once(office, expected[:1])

    office.tripwire.clear()
    rest = office.run(input=workbook)
    assert rest.code == 0, str(rest.child)
    assert rest.statuses() == {1: "skipped", 2: "done", 3: "done"}
    assert_entered_exactly_once(office, expected)
    assert_run_log_consistent(office)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_during_the_registration_finishes_the_item(office: Office, how: str) -> None:
    office.start_system()
    chosen, expected = people(3, seed=52)
    workbook = office.workbook(chosen)
    held = office.tripwire.gate("before", "POST", "/applications", 2)
    bot = office.start(input=workbook)
    held.wait_reached(bot)
    os.kill(bot.proc.pid, getattr(signal, how))
    held.open()
    stopped = office.finish(bot)

    assert stopped.code == 3
    assert stopped.statuses() == {1: "done", 2: "done"}
    assert office.run_row(stopped.id)["status"] == "aborted"
    assert "停止の指示で止めました" in stopped.log
    assert_entered_exactly_once(office, expected[:2])

    office.tripwire.clear()
    rest = office.run(input=workbook)
    assert rest.code == 0, str(rest.child)
    assert rest.statuses() == {1: "skipped", 2: "skipped", 3: "done"}
    assert_entered_exactly_once(office, expected)
    assert_run_log_consistent(office)


def test_a_second_ctrl_c_stops_at_once_and_the_next_run_settles_the_item(office: Office) -> None:
    office.start_system()
    chosen, expected = people(3, seed=53)
    workbook = office.workbook(chosen)
    held = office.tripwire.gate("before", "POST", "/applications", 2)
    bot = office.start(input=workbook)
    held.wait_reached(bot)
    os.kill(bot.proc.pid, signal.SIGINT)
    # The second press after the first one was handled (it says so on stderr): CPython runs a
    # signal's handler once for signals that arrive before it got to run it, so back-to-back
    # SIGINTs could count as one press.
    deadline = time.monotonic() + DEADLINE
    while "停止します。今の申請を終えてから止まります" not in bot.stderr:
        assert time.monotonic() < deadline, f"the first Ctrl+C was never handled:\n{bot}"
        time.sleep(0.05)
    os.kill(bot.proc.pid, signal.SIGINT)
    stopped = office.finish(bot)  # the registration is still held in the server
    held.open()  # ...and is stored now, after the bot has gone

    assert stopped.code == 3
    assert "強制停止しました" in stopped.log
    assert stopped.statuses() == {1: "done"}
    assert office.items(stopped.id) == {1: "done", 2: "in_progress"}
    assert office.run_row(stopped.id)["status"] == "aborted"

    office.tripwire.clear()
    rest = office.run(input=workbook)
    assert rest.code == 0, str(rest.child)
    assert rest.statuses() == {1: "skipped", 2: "done", 3: "done"}
    assert "前回の処理で登録済みでした" in rest.items()[2]["message"]
    assert_entered_exactly_once(office, expected)
    assert_run_log_consistent(office)


def test_a_stop_during_a_step_retry_after_the_registration_does_not_drop_the_item(
    office: Office,
) -> None:
    """The completion page fails (HTTP 500) after the system stored the application, and the
    workflow retries that step in place (``retry:`` on the step). A stop request during the
    pause must not end the item as 入力していません: it is in the system."""
    workflow = office.project / "workflows" / "welfare_entry.yaml"
    workflow.write_text(
        _replace_once(
            workflow.read_text(encoding="utf-8"),
            "      text: 受付が完了しました\n      refused_if: {role: alert}\n",
            "      text: 受付が完了しました\n      refused_if: {role: alert}\n"
            "    retry: {attempts: 2, delay: 0.5}\n",
        ),
        encoding="utf-8",
    )
    office.start_system()
    chosen, expected = people(3, seed=55)
    workbook = office.workbook(chosen)

    def stop_and_fail() -> None:
        request_stop(office.home / "runs" / office.running_run())  # what `rpa stop` does
        raise RuntimeError("the completion page fails (test)")

    office.tripwire.at("before", "GET", DONE_PAGE, 2, stop_and_fail)
    stopped = office.run(input=workbook)

    assert stopped.code == 3, str(stopped.child)
    assert "→ やり直します" in stopped.log, stopped.log
    assert stopped.statuses() == {1: "done", 2: "done"}
    assert "システムに登録済みでした（確認済み）" in stopped.items()[2]["message"]
    assert_entered_exactly_once(office, expected[:2])

    office.tripwire.clear()
    rest = office.run(input=workbook)
    assert rest.statuses() == {1: "skipped", 2: "skipped", 3: "done"}
    assert_entered_exactly_once(office, expected)
    assert_run_log_consistent(office)


def test_ctrl_c_in_a_terminal_finishes_the_item(office: Office) -> None:
    """A terminal sends Ctrl+C to the foreground process group: the bot, Playwright's driver and
    (unless it is started detached) the browser. The first press must still mean "stop after
    this item"."""
    office.start_system()
    chosen, expected = people(3, seed=54)
    workbook = office.workbook(chosen)
    held = office.tripwire.gate("before", "POST", "/applications", 2)
    bot = office.start(input=workbook)
    held.wait_reached(bot)
    os.killpg(bot.proc.pid, signal.SIGINT)
    # Keep the registration's answer back for a while: a Ctrl+C that closes the browser ends
    # the bot within this time (and the test fails); a bot that survives it waits for the answer.
    with suppress(subprocess.TimeoutExpired):
        bot.proc.wait(5)
    held.open()
    stopped = office.finish(bot)

    assert stopped.code == 3
    assert stopped.statuses() == {1: "done", 2: "done"}
    assert "停止の指示で止めました" in stopped.log
    assert_entered_exactly_once(office, expected[:2])


# -- 6. --rerun-failed ----------------------------------------------------------------------------


def test_rerun_failed_repeats_only_the_failed_items(office: Office) -> None:
    """Items 2 and 4 meet a server error on their first try (one try only in this workflow)."""
    office.write_project(attempts=1)
    office.start_system()
    chosen, expected = people(5, seed=61)
    workbook = office.workbook(chosen)

    def server_error() -> None:
        raise RuntimeError("a server error (test)")

    for nth in (2, 4):
        office.tripwire.at("before", "POST", "/applications/confirm", nth, server_error)
    first = office.run(input=workbook)
    assert first.code == 1, str(first.child)
    assert first.statuses() == {
        1: "done",
        2: "system_error",
        3: "done",
        4: "system_error",
        5: "done",
    }
    assert "HTTP 500" in first.items()[2]["message"]

    office.tripwire.clear()
    rerun = office.run("--rerun-failed", first.id)  # the input is the earlier run's
    assert rerun.code == 0, str(rerun.child)
    assert rerun.statuses() == {2: "done", 4: "done"}
    assert Path(rerun.data["run"]["input"]) == workbook.resolve()
    assert office.items(first.id) == {
        1: "done",
        2: "system_error",
        3: "done",
        4: "system_error",
        5: "done",
    }
    assert_entered_exactly_once(office, expected)
    assert_run_log_consistent(office)


# -- 7. what is retried and what is not ---------------------------------------------------------


def test_a_busy_page_is_retried_and_a_refusal_never(office: Office) -> None:
    """Every 4th POST answers 503 混雑. The 4th row is refused by the system (開始日 before the
    生年月日): one confirm POST and no more, while the busy ones are simply tried again."""
    office.start_system(fail_every=4)
    chosen, expected = people(4, seed=71)
    refused = chosen[3]
    values: list[object] = [
        refused.name,
        refused.kana,
        date(2003, 5, 20),
        refused.recipient_no,
        refused.service_type,
        refused.hours,
        date(1996, 12, 1),
        refused.support_level,
        refused.notes,
    ]
    run = office.run(input=office.workbook(chosen[:3], extra_rows=[values]))

    assert run.code == 1, str(run.child)
    assert run.statuses() == {1: "done", 2: "done", 3: "done", 4: "business_error"}
    assert "生年月日より前の日付は入力できません" in run.items()[4]["message"]
    login, confirm, register = "/login", "/applications/confirm", "/applications"
    assert office.tripwire.posts() == [
        login,  # 1
        confirm,  # 2  row 1
        register,  # 3
        confirm,  # 4  row 2: 503 混雑 -> tried again
        confirm,  # 5
        register,  # 6
        confirm,  # 7  row 3
        register,  # 8  503 混雑 while registering -> checked (not there) -> tried again
        confirm,  # 9
        register,  # 10
        confirm,  # 11 row 4: refused, and never tried again
    ]
    assert run.log.count("一時的な失敗のため") == 2
    assert "登録済みか確認しました: 未登録" in run.log
    assert_entered_exactly_once(office, expected[:3])
    assert_run_log_consistent(office)


def test_the_run_log_waits_for_the_disk_on_every_commit(tmp_path: Path) -> None:
    """An item marked "in progress" must survive a power cut, not only a killed process: with
    WAL and synchronous=NORMAL the last commits would be lost, and the item entered again."""
    store = SqliteRunLog(tmp_path / "runlog.sqlite3")
    try:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()
