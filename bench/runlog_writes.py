"""Run-log writes: items and runs per second on SQLite and on PostgreSQL, in one invocation.

Writes straight through the ``RunLog`` interface, as the runner does, with no bot and no browser:

* **items/s** — one item is ``item_started`` then ``item_finished`` (two committed writes; the
  runner adds an ``item_state`` for items with a commit step);
* **runs/s** — one run is ``start_run``, the audit records ``run_started`` and ``run_finished``
  (the hash chain, serialised across writers) and ``finish_run``, with no items.

Both stores are durable as shipped: SQLite in WAL mode with ``synchronous=FULL``; PostgreSQL on
a private server started here (``tests/pgserver.py``, loopback, ``durable=True``: ``fsync`` and
``synchronous_commit`` on). ``--writers N`` also runs N processes at once on each store (N runner
PCs sharing one log; on SQLite they queue for its single write lock).

    .venv/bin/python bench/runlog_writes.py [--items 2000] [--runs 300] [--writers 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the private PostgreSQL server of the tests

from pgserver import PgServer  # noqa: E402

from framework import audit  # noqa: E402
from framework.outcome import ItemOutcome, ItemStatus, RunStatus  # noqa: E402
from framework.runlog import RunLog, RunRecord, SqliteRunLog  # noqa: E402
from framework.runlog.postgres import PostgresRunLog  # noqa: E402


def open_store(target: str) -> RunLog:
    """``postgresql://...`` or the path of a SQLite file."""
    if target.startswith("postgresql://"):
        return PostgresRunLog(target)
    return SqliteRunLog(Path(target))


def _record(run_id: str) -> RunRecord:
    return RunRecord(
        run_id, "bench", "ベンチ", "情報政策課", "w.yaml", "cli", "bench", "pc", None,
        dt.datetime.now().astimezone(), "/tmp", 1, 1, "bench", "2026-01-01",
    )  # fmt: skip


def _wait(start_at: float | None) -> float:
    """Sleep until ``start_at`` (wall clock; processes start together) and return the time."""
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    return time.time()


def write_items(target: str, tag: str, count: int, start_at: float | None = None) -> float:
    """Write ``count`` items into one run; return when the last write ended (wall clock)."""
    store = open_store(target)
    run = _record(f"{tag}-items")
    store.start_run(run)
    keys = [store.item_key([tag, str(n)], personal=True) for n in range(count)]
    _wait(start_at)
    for seq, key in enumerate(keys):
        outcome = ItemOutcome(seq, "in.xlsx", seq, ItemStatus.PENDING)
        store.item_started(run, outcome, key)
        outcome.status = ItemStatus.DONE
        store.item_finished(run, outcome, key)
    ended = time.time()
    store.close()
    return ended


def write_runs(target: str, tag: str, count: int, start_at: float | None = None) -> float:
    """Start and finish ``count`` runs (with their two audit records); return when it ended."""
    store = open_store(target)
    _wait(start_at)
    for n in range(count):
        run = _record(f"{tag}-run-{n}")
        store.start_run(run)
        audit.run_started(store, run, None)
        run.status = RunStatus.COMPLETED
        run.ended_at = dt.datetime.now().astimezone()
        store.finish_run(run)
        audit.run_finished(store, run, None)
    ended = time.time()
    store.close()
    return ended


@dataclass
class Rates:
    items: float
    runs: float
    items_parallel: float | None = None
    runs_parallel: float | None = None


def _solo(job: str, target: str, count: int) -> float:
    """The rate of one writer in this process."""
    func = write_items if job == "items" else write_runs
    start_at = time.time() + 0.2
    return count / (func(target, f"{job}-solo", count, start_at) - start_at)


def _parallel(target: str, job: str, count: int, writers: int) -> float:
    """Aggregate rate of ``writers`` processes each writing ``count``, released at one instant
    once they have started (process start-up is not measured), until the slowest ends."""
    func = write_items if job == "items" else write_runs
    context = multiprocessing.get_context("spawn")
    with context.Pool(writers) as pool:
        start_at = time.time() + 5.0
        ends = pool.starmap(
            func, [(target, f"{job}-w{n}", count, start_at) for n in range(writers)]
        )
    return writers * count / (max(ends) - start_at)


def measure(target: str, items: int, runs: int, writers: int) -> Rates:
    open_store(target).close()  # the schema, created before the clock starts
    rates = Rates(items=_solo("items", target, items), runs=_solo("runs", target, runs))
    if writers > 1:
        rates.items_parallel = _parallel(target, "items", items // writers, writers)
        rates.runs_parallel = _parallel(target, "runs", runs // writers, writers)
    return rates


def _line(label: str, sqlite: float | None, postgres: float | None) -> str:
    if sqlite is None or postgres is None:
        return ""
    return f"{label:<28}{sqlite:>12,.0f}{postgres:>14,.0f}{postgres / sqlite:>10.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000, help="items per measurement")
    parser.add_argument("--runs", type=int, default=300, help="runs per measurement")
    parser.add_argument("--writers", type=int, default=4, help="processes at once (1: none)")
    args = parser.parse_args()

    server = PgServer.start(durable=True)
    try:
        with tempfile.TemporaryDirectory(prefix="kakari-bench-") as folder:
            sqlite = measure(
                str(Path(folder) / "runlog.sqlite3"), args.items, args.runs, args.writers
            )
            postgres = measure(server.create_database(), args.items, args.runs, args.writers)
    finally:
        server.stop()
    print(f"run-log writes: {args.items} items, {args.runs} runs, durable commits on both stores")
    print(f"{'':<28}{'SQLite':>12}{'PostgreSQL':>14}{'PG/SQLite':>10}")
    print(_line("items/s (1 writer)", sqlite.items, postgres.items))
    print(_line("runs/s  (1 writer)", sqlite.runs, postgres.runs))
    if args.writers > 1:
        print(
            _line(
                f"items/s ({args.writers} writers)", sqlite.items_parallel, postgres.items_parallel
            )
        )
        print(
            _line(f"runs/s  ({args.writers} writers)", sqlite.runs_parallel, postgres.runs_parallel)
        )
    print("items: item_started + item_finished; runs: start_run + 2 audit records + finish_run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
