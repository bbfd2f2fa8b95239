"""End to end: a real `rpa scheduler` process runs the welfare bot against the practice system.

The scheduler starts with the bot unscheduled; the test then adds a schedule a few seconds ahead
(its input: a workbook of a few generated applications, to keep the test short)
to the manifest (picked up by the scheduler's file watching, no restart), waits for the run, and
checks what landed: the practice system's records, the run log (trigger ``schedule``), the
scheduler's decisions, the run's own log, `rpa scheduler status` and `--reload`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import REPO

from framework.heartbeat import read_heartbeat, scheduler_dir
from framework.practice import PracticeServer
from framework.practice.applicants import generate_applicants
from framework.practice.samples import write_workbook

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the scheduler with SIGTERM")

RPA = str(Path(sys.executable).parent / "rpa")
APPLICANTS = 5
DEADLINE = 180.0
LEAD = 6
"""Seconds between writing the schedule and its fire time (the scheduler ticks every second)."""


def wait_for(condition: Callable[[], object], what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the scheduler ended ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


class Setup:
    def __init__(self, tmp: Path, practice: PracticeServer) -> None:
        self.tmp = tmp
        self.project = tmp / "project"
        self.home = tmp / "home"
        (self.project / "bots" / "welfare_entry").mkdir(parents=True)
        (self.project / "workflows").mkdir()
        for name in ("welfare_entry.yaml", "welfare_login.yaml"):
            text = (REPO / "workflows" / name).read_text(encoding="utf-8")
            (self.project / "workflows" / name).write_text(text, encoding="utf-8")
        manifest = (REPO / "bots" / "welfare_entry" / "bot.yaml").read_text(encoding="utf-8")
        manifest = manifest.split("\nschedules:")[0]  # unscheduled at first
        manifest = manifest.replace("http://127.0.0.1:8765", practice.url)
        self.manifest = self.project / "bots" / "welfare_entry" / "bot.yaml"
        self.manifest.write_text(manifest, encoding="utf-8")
        self.input = tmp / "applications.xlsx"
        write_workbook(self.input, generate_applicants(APPLICANTS), messy=False)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
        env.update(
            RPA_HOME=str(self.home),
            RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME="demo",
            RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD="demo-pass",
        )
        return env

    def rpa(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RPA, "--project", str(self.project), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    def query(self, sql: str, *params: object) -> list[sqlite3.Row]:
        path = self.home / "runlog.sqlite3"
        if not path.exists():
            return []
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def scheduler(
    tmp_path: Path, practice: PracticeServer
) -> Iterator[tuple[Setup, subprocess.Popen[bytes]]]:
    setup = Setup(tmp_path, practice)
    out = (tmp_path / "scheduler.out").open("wb")
    proc = subprocess.Popen(
        [RPA, "--project", str(setup.project), "scheduler", "start", "--tick", "1"],
        env=setup.env(),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield setup, proc
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        out.close()


def test_the_scheduler_runs_the_welfare_bot_unattended(
    scheduler: tuple[Setup, subprocess.Popen[bytes]], practice: PracticeServer
) -> None:
    setup, proc = scheduler
    wait_for(lambda: read_heartbeat(setup.home), "the first heartbeat", proc)
    beat = read_heartbeat(setup.home)
    assert beat is not None and beat.jobs == [] and beat.pid == proc.pid

    fire = (dt.datetime.now(ZoneInfo("Asia/Tokyo")) + dt.timedelta(seconds=LEAD)).replace(
        microsecond=0
    )
    with setup.manifest.open("a", encoding="utf-8") as handle:
        handle.write(
            "\nschedules:\n"
            "  - name: e2e\n"
            f'    cron: "{fire.second} {fire.minute} {fire.hour} * * *"\n'
            "    calendar: every_day\n"
            f"    input: {setup.input}\n"
            "    time_limit_minutes: 10\n"
        )

    def picked_up() -> bool:
        beat = read_heartbeat(setup.home)
        return beat is not None and [j["schedule"] for j in beat.jobs] == ["e2e"]

    wait_for(picked_up, "the new schedule to be picked up", proc)
    assert dt.datetime.now(ZoneInfo("Asia/Tokyo")) < fire, "picked up after the fire time"

    def finished() -> bool:
        return bool(setup.query("SELECT 1 FROM schedule_events WHERE event = 'finished'"))

    wait_for(finished, "the scheduled run to finish", proc)

    [run] = setup.query("SELECT * FROM runs")
    assert (run["bot_id"], run["trigger"], run["status"]) == (
        "welfare_entry",
        "schedule",
        "completed",
    )
    assert run["exit_code"] == 0
    assert run["items_done"] == APPLICANTS == len(practice.records())
    events = [
        (e["event"], e["fire_time"], e["run_id"])
        for e in setup.query("SELECT * FROM schedule_events ORDER BY id")
    ]
    assert events == [
        ("started", fire.isoformat(), None),
        ("finished", fire.isoformat(), run["id"]),
    ]
    [log] = (scheduler_dir(setup.home) / "logs" / "welfare_entry").glob("*.log")
    assert f"run {run['id']}" in log.read_text(encoding="utf-8")

    status = setup.rpa("scheduler", "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["healthy"] is True
    runs = setup.rpa("runs", "--json")
    assert json.loads(runs.stdout)[0]["trigger"] == "schedule"

    reload = setup.rpa("scheduler", "--reload")
    assert reload.returncode == 0, reload.stdout + reload.stderr
    scheduler_log = scheduler_dir(setup.home) / "scheduler.log"
    wait_for(
        lambda: "再読み込みします" in scheduler_log.read_text(encoding="utf-8"),
        "the reload",
        proc,
    )

    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(30) == 0
    stopped = setup.rpa("scheduler", "status")
    assert stopped.returncode == 3 and "動いていません" in stopped.stdout
