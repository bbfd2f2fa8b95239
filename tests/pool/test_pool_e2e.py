"""End to end: real `rpa worker` processes on a real PostgreSQL run the welfare bot.

Each worker has an RPA_HOME of its own (as two runner PCs would) and the same RPA_DATABASE_URL:
the queue and the run log are shared in PostgreSQL. What landed is checked in the practice
system's ``GET /api/records`` (it accepts duplicates here, so a double entry would show), not in
our own log. Heartbeats every second and a 4-second stall timeout keep the tests short.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import REPO

from framework.practice import PracticeConfig, PracticeServer
from framework.practice.applicants import Applicant, generate_applicants
from framework.practice.samples import write_workbook

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and POSIX signals")

BOTS = ("welfare_entry", "welfare_entry_b")
"""The welfare bot, and a copy of it under another id (another section's bot)."""
RPA = str(Path(sys.executable).parent / "rpa")
DEADLINE = 120.0
WORKER_OPTIONS = "--heartbeat 1 --stalled-after 4 --busy-retry 1 --stop-grace 10".split()
"""Short heartbeats and stall timeout; a stop that hangs ends itself in 40 s (10 + the margin)."""


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


class Pool:
    """A project with the welfare bot, the practice system, the database, and the processes."""

    def __init__(self, tmp: Path, practice: PracticeServer, url: str) -> None:
        self.tmp = tmp
        self.practice = practice
        self.url = url
        self.project = tmp / "project"
        (self.project / "bots" / "welfare_entry").mkdir(parents=True)
        (self.project / "workflows").mkdir()
        for name in ("welfare_entry.yaml", "welfare_login.yaml"):
            text = (REPO / "workflows" / name).read_text(encoding="utf-8")
            (self.project / "workflows" / name).write_text(text, encoding="utf-8")
        manifest = (REPO / "bots" / "welfare_entry" / "bot.yaml").read_text(encoding="utf-8")
        self.base_manifest = manifest.split("\nschedules:")[0].replace(
            "http://127.0.0.1:8765", practice.url
        )
        self.set_pool()
        self.procs: list[tuple[subprocess.Popen[bytes], Any]] = []
        self.killed: list[int] = []
        """PIDs that did not end within 60 s of SIGTERM."""
        self._applicants = iter(generate_applicants(200, seed=8))

    def set_pool(self, *, session: str | None = None, extra: str = "") -> None:
        """The welfare bot, and a second bot of the same workflow (another section's copy)."""
        block = "\npool:\n  queue: welfare\n" + (f"  session: {session}\n" if session else "")
        for bot_id in BOTS:
            manifest = self.project / "bots" / bot_id / "bot.yaml"
            manifest.parent.mkdir(parents=True, exist_ok=True)
            manifest.write_text(self.base_manifest + block + extra, encoding="utf-8")
            extra = ""  # schedules: the first bot only

    def env(self, home: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
        env.update(
            RPA_HOME=str(self.tmp / home),
            RPA_DATABASE_URL=self.url,
            RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME="demo",
            RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD="demo-pass",
        )
        return env

    def rpa(self, *args: str, home: str = "office") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RPA, "--project", str(self.project), *args],
            env=self.env(home),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    def start(self, home: str, *args: str) -> subprocess.Popen[bytes]:
        out = (self.tmp / f"{home}.out").open("wb")
        proc = subprocess.Popen(
            [RPA, "--project", str(self.project), *args],
            env=self.env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((proc, out))
        return proc

    def worker(self, home: str) -> subprocess.Popen[bytes]:
        return self.start(home, "worker", "--queue", "welfare", *WORKER_OPTIONS)

    def output(self, home: str) -> str:
        return (self.tmp / f"{home}.out").read_text(encoding="utf-8", errors="replace")

    def worker_log(self, home: str) -> str:
        """The end of a worker's own log (procrastinate's lines too), for a failure message."""
        path = self.tmp / home / "pool" / "worker.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return text[-12000:]

    def applicants(self, count: int) -> list[Applicant]:
        return [next(self._applicants) for _ in range(count)]

    def workbook(self, name: str, rows: list[Applicant]) -> Path:
        path = self.tmp / "shared" / f"{name}.xlsx"
        path.parent.mkdir(exist_ok=True)
        write_workbook(path, rows, messy=False)
        return path

    def enqueue(self, path: Path, bot_id: str = "welfare_entry") -> int:
        done = self.rpa("enqueue", bot_id, "--input", str(path), "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        return int(json.loads(done.stdout)["job_id"])

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())

    def job_states(self) -> list[str]:
        import psycopg

        try:
            rows = self.query("SELECT status FROM procrastinate_jobs ORDER BY id")
        except psycopg.errors.UndefinedTable:  # no worker has created the queue yet
            return []
        return [row[0] for row in rows]

    def all_done(self, count: int) -> bool:
        states = self.job_states()
        assert "failed" not in states, states
        return len(states) == count and set(states) == {"succeeded"}

    def records(self) -> list[dict[str, object]]:
        with urllib.request.urlopen(f"{self.practice.url}/api/records", timeout=10) as answer:
            data = json.loads(answer.read().decode("utf-8"))
        return list(data["records"] if isinstance(data, dict) else data)

    def assert_entered_once(self, expected: list[Applicant]) -> None:
        records = self.records()
        counts = Counter(str(r["recipient_no"]) for r in records)
        twice = {k: n for k, n in counts.items() if n != 1}
        assert not twice, f"entered more than once: {twice}"
        assert sorted(counts) == sorted(a.recipient_no for a in expected)

    def stop(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        for proc, out in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                self.killed.append(proc.pid)
                proc.kill()
                proc.wait()
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            out.close()


def practice_config(**options: Any) -> PracticeConfig:
    return PracticeConfig(accept_duplicates=True, **options)


@pytest.fixture
def practice_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def pool(tmp_path: Path, pg_url: str, practice_options: dict[str, Any]) -> Iterator[Pool]:
    with PracticeServer(practice_config(**practice_options)) as practice:
        setup = Pool(tmp_path, practice, pg_url)
        try:
            yield setup
        finally:
            setup.stop()


def run_intervals(
    pool: Pool, bot_ids: tuple[str, ...] = BOTS
) -> list[tuple[dt.datetime, dt.datetime]]:
    rows = pool.query(
        "SELECT started_at, ended_at FROM kakari.runs WHERE bot_id = ANY(%s) ORDER BY started_at",
        list(bot_ids),
    )
    return [(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)) for a, b in rows]


def assert_one_at_a_time(intervals: list[tuple[dt.datetime, dt.datetime]]) -> None:
    for (_, ended), (started, _) in zip(intervals, intervals[1:], strict=False):
        assert ended <= started, f"two runs overlapped: {intervals}"


def test_two_workers_drain_a_queue_of_welfare_runs(pool: Pool) -> None:
    batches = [pool.applicants(3) for _ in range(4)]
    books = [pool.workbook(f"batch{number}", rows) for number, rows in enumerate(batches)]
    for number, book in enumerate(books):  # two bots, alternately: A B A B
        pool.enqueue(book, BOTS[number % 2])
    pool.enqueue(books[0])  # the same workbook queued again (by a person and the scheduler)
    assert {row[0] for row in pool.query("SELECT lock FROM procrastinate_jobs")} == {
        f"bot:{bot_id}" for bot_id in BOTS
    }
    pool.worker("pc1")
    pool.worker("pc2")
    wait_for(lambda: pool.all_done(5), "the queue to drain")

    pool.assert_entered_once([a for rows in batches for a in rows])
    runs = pool.query("SELECT trigger, status, items_done FROM kakari.runs ORDER BY started_at")
    assert [(t, s) for t, s, _ in runs] == [("queue", "completed")] * 5
    assert sum(done for _, _, done in runs) == 12  # the second run of batch0 skipped all 3
    # the two bots ran side by side; each bot's own runs one at a time (the pool's bot lock)
    for bot_id in BOTS:
        assert_one_at_a_time(run_intervals(pool, (bot_id,)))
    # both runner PCs took a share (each keeps the output of its runs in its own RPA_HOME)
    for home in ("pc1", "pc2"):
        assert list((pool.tmp / home / "pool" / "logs").glob("*/*.log")), home

    shown = pool.rpa("workers", "--json")
    assert shown.returncode == 0, shown.stderr
    workers = json.loads(shown.stdout)
    assert [w["state"] for w in workers] == ["running", "running"]
    assert all(w["queues"] == ["welfare"] for w in workers)

    pool.stop()
    assert not pool.killed, "a worker ignored SIGTERM"
    for home, (proc, _) in zip(("pc1", "pc2"), pool.procs, strict=True):
        assert proc.returncode == 0, pool.worker_log(home)  # 3: its stop hung (stacks logged)
        assert "ワーカーを停止しました" in pool.output(home), pool.worker_log(home)
    states = [w["state"] for w in json.loads(pool.rpa("workers", "--json").stdout)]
    assert states == ["stopped", "stopped"]


def test_bots_sharing_a_one_session_account_never_run_at_once(pool: Pool) -> None:
    pool.set_pool(session="welfare_account")
    batches = [pool.applicants(2) for _ in range(3)]
    for number, rows in enumerate(batches):
        pool.enqueue(pool.workbook(f"batch{number}", rows), BOTS[number % 2])
    assert {row[0] for row in pool.query("SELECT lock FROM procrastinate_jobs")} == {
        "session:welfare_account"
    }
    pool.worker("pc1")
    pool.worker("pc2")
    wait_for(lambda: pool.all_done(3), "the queue to drain")

    pool.assert_entered_once([a for rows in batches for a in rows])
    intervals = run_intervals(pool)
    assert len(intervals) == 3
    assert_one_at_a_time(intervals)


@pytest.mark.parametrize("practice_options", [{"latency_ms": 150}])
def test_a_worker_killed_mid_job_leaves_a_stalled_job_another_worker_finishes(
    pool: Pool,
) -> None:
    rows = pool.applicants(8)
    pool.enqueue(pool.workbook("batch", rows))
    doomed = pool.worker("pc1")
    wait_for(lambda: len(pool.records()) >= 2, "the first worker to enter some applications")
    os.kill(doomed.pid, signal.SIGKILL)  # the PC dies: its bot goes with it (PDEATHSIG)
    doomed.wait(10)
    entered_before = len(pool.records())
    assert entered_before < len(rows), "the run finished before the kill; slow it down"
    assert pool.job_states() == ["doing"]

    pool.worker("pc2")
    wait_for(lambda: pool.all_done(1), "the stalled job to be retried and finished")

    pool.assert_entered_once(rows)
    [(attempts,)] = pool.query("SELECT attempts FROM procrastinate_jobs")
    assert attempts == 2  # the stalled-job search's retry, then the finish (each counts one)
    assert "キューに戻しました" in pool.output("pc2")
    # the dead PC's run is closed by the worker that took over; the retried run completed
    runs = pool.query("SELECT status, message FROM kakari.runs ORDER BY started_at")
    assert [status for status, _ in runs] == ["aborted", "completed"], runs
    assert "ランナーPC" in runs[0][1]
    states = {w["host_state"] for w in _states(pool)}
    assert states == {"stale", "running"}
    table = pool.rpa("workers")
    assert table.returncode == 0 and "応答なし" in table.stdout


def _states(pool: Pool) -> list[dict[str, str]]:
    workers = json.loads(pool.rpa("workers", "--json").stdout)
    return [{"host_state": w["state"]} for w in workers]


def test_a_scheduled_run_fires_once_with_two_schedulers_and_two_workers(pool: Pool) -> None:
    rows = pool.applicants(3)
    path = pool.workbook("nightly", rows)
    fire = (dt.datetime.now(ZoneInfo("Asia/Tokyo")) + dt.timedelta(seconds=12)).replace(
        microsecond=0
    )
    pool.set_pool(
        extra=(
            "schedules:\n"
            "  - name: e2e\n"
            f'    cron: "{fire.second} {fire.minute} {fire.hour} * * *"\n'
            "    calendar: every_day\n"
            f"    input: {path}\n"
            "    time_limit_minutes: 10\n"
        ),
    )
    pool.worker("pc1")
    pool.worker("pc2")
    # two schedulers in distributed mode (two PCs configured by mistake): still one run
    pool.start("sched1", "scheduler", "start", "--enqueue", "--tick", "1")
    pool.start("sched2", "scheduler", "start", "--enqueue", "--tick", "1")

    def settled() -> bool:
        """Both schedulers decided about the fire time, and every job they queued is done."""
        import psycopg

        try:
            [(decisions,)] = pool.query(
                "SELECT count(*) FROM kakari.schedule_events"
                " WHERE event IN ('started', 'already_running')"
            )
        except psycopg.errors.UndefinedTable:  # no scheduler has opened the run log yet
            return False
        states = pool.job_states()
        return decisions >= 2 and bool(states) and set(states) <= {"succeeded"}

    wait_for(settled, "both schedulers' decisions and the scheduled run to finish")
    # one job, or two of which the second was not run (the fire time was claimed)
    pool.assert_entered_once(rows)
    runs = pool.query("SELECT trigger, status FROM kakari.runs")
    assert runs == [("schedule", "completed")]
    claims = pool.query("SELECT bot_id, schedule, fire_time FROM kakari.pool_claims")
    assert claims == [("welfare_entry", "e2e", fire.isoformat())]
    events = pool.query("SELECT event, message FROM kakari.schedule_events ORDER BY id")
    kinds = [kind for kind, _ in events]
    assert kinds.count("finished") == 1, events
    assert "started" in kinds and set(kinds) <= {"started", "already_running", "finished"}, events
    assert "分散モード" in pool.output("sched1")
