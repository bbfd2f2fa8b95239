"""State writes: what the run log costs in a 200-item run against the practice system.

Items are transactions: each one is written to the run log as pending, as in progress before its
``commit`` step and as done, each its own committed SQLite transaction. This runs the welfare bot
in this process (``Runner`` with the real ``SqliteRunLog``, its own browser) on N generated clean
applications against a practice system at latency 0, with the run log wrapped in a proxy that
times every call of a ``RunLog`` method (``perf_counter``), and compares the time spent in those
calls with the run's wall time. Goal: at most 5 %.

The run log commits with ``PRAGMA synchronous=FULL`` (each commit waits for the disk, so an item
marked "in progress" survives a power cut, not only a killed process). ``--compare`` runs the bot
a second time with ``synchronous=NORMAL`` to show what that durability costs.

    .venv/bin/python bench/state_writes.py [--count 200] [--compare]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

from loguru import logger

from framework.browsers import BrowserOptions
from framework.home import Home
from framework.loader import Project
from framework.outcome import ItemStatus
from framework.practice import PracticeConfig, PracticeServer
from framework.practice.applicants import generate_applicants
from framework.practice.samples import write_workbook
from framework.registry import Registry
from framework.runlog import RunLog, SqliteRunLog
from framework.runner import Runner, RunRequest

REPO = Path(__file__).resolve().parents[1]
GOAL = 0.05
_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
CREDENTIALS = {"welfare_system": {"username": "demo", "password": "demo-pass"}}


class TimedRunLog:
    """Passes every call on to the real run log and adds up the time each method takes."""

    def __init__(self, inner: SqliteRunLog) -> None:
        self._inner = inner
        self.calls: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def one_run(
    workbook: Path, count: int, home: Path, synchronous: str | None
) -> tuple[float, TimedRunLog]:
    """Run the bot once on a fresh practice system and run log; return (wall time, timings).

    ``synchronous``: None for the run log as shipped, else the setting to compare with.
    """
    store = SqliteRunLog(home / "runlog.sqlite3")
    if synchronous is not None:
        store._conn.execute(f"PRAGMA synchronous={synchronous}")
    (setting,) = store._conn.execute("PRAGMA synchronous").fetchone()
    print(f"running {count} items, synchronous={_SYNCHRONOUS[setting]} ...", file=sys.stderr)
    runlog = TimedRunLog(store)
    runner = Runner(Project(REPO), Home(home), Registry.default(), cast(RunLog, runlog))
    try:
        with PracticeServer(PracticeConfig(latency_ms=0)) as server:
            request = RunRequest(
                bot="welfare_entry",
                input=workbook,
                overrides={"target_url": server.url},
                credentials=CREDENTIALS,
                browser=BrowserOptions(),
            )
            started = time.perf_counter()
            result = runner.run(request)
            wall = time.perf_counter() - started
            stored = len(server.records())
    finally:
        store.close()
    done = result.record.count(ItemStatus.DONE) if result.record else 0
    if done != count or stored != count:
        raise SystemExit(f"expected {count} items done and stored, got {done} and {stored}")
    return wall, runlog


def report(label: str, count: int, wall: float, runlog: TimedRunLog) -> bool:
    share = runlog.total / wall
    ok = share <= GOAL
    print(f"[{label}]")
    print(f"  items:                {count}")
    print(f"  run wall time:        {wall:8.2f} s   ({wall / count * 1000:6.1f} ms/item)")
    print(
        f"  in run-log calls:     {runlog.total * 1000:8.1f} ms  "
        f"({runlog.total / count * 1000:6.2f} ms/item)"
    )
    for name in sorted(runlog.seconds, key=lambda n: -runlog.seconds[n]):
        seconds, calls = runlog.seconds[name], runlog.calls[name]
        print(
            f"    {name:<18} {calls:5d} calls {seconds * 1000:8.1f} ms"
            f"  ({seconds / calls * 1000:6.3f} ms/call)"
        )
    print(f"  share of the run:     {share * 100:8.3f} %   goal <= {GOAL * 100:.0f} %: ", end="")
    print("PASS" if ok else "FAIL")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument(
        "--compare", action="store_true", help="also run with PRAGMA synchronous=NORMAL"
    )
    args = parser.parse_args()
    logger.remove()  # as `rpa run`: the run's own log files only, errors on the console
    logger.add(sys.stderr, level="ERROR")
    settings: list[str | None] = [None, "NORMAL"] if args.compare else [None]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        workbook = Path(tmp) / "bench.xlsx"
        write_workbook(workbook, generate_applicants(args.count, seed=1), messy=False)
        for synchronous in settings:
            home = Path(tmp) / f"home-{synchronous or 'shipped'}"
            wall, runlog = one_run(workbook, args.count, home, synchronous)
            label = f"synchronous={synchronous}" if synchronous else "as shipped (synchronous=FULL)"
            ok = report(label, args.count, wall, runlog) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
