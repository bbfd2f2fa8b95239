"""Queue throughput: 1,000 short jobs drained by 1, 2 and 4 worker processes on PostgreSQL.

Starts a private PostgreSQL server (``tests/pgserver.py``), and for each worker count: a fresh
database with the pool schema, 1,000 jobs of a no-op task queued in one batch, then that many
worker processes (procrastinate's worker on kakari's ``build_app``, the settings ``rpa worker``
uses) that drain the queue and exit. The figures come from procrastinate's own event table: the
time from the first job started to the last job finished. The task does nothing, so all of a
job's time is the queue's own overhead: fetching it (row lock, ``SKIP LOCKED``), recording it
started and finished.

``--bot-jobs N`` (default 20) then queues N runs of two no-op bots (one ``log`` step) and drains
them with two real ``rpa worker`` processes: the cost of a bot run's child process
(``rpa run``: Python start, loading the bot, the run log) next to the queue's.

    .venv/bin/python bench/queue_throughput.py [--jobs 1000] [--workers 1 2 4] [--bot-jobs 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from pgserver import PgServer  # noqa: E402

from framework.pool.app import build_app, prepare_database  # noqa: E402

NOOP_TASK = "bench.noop"


def drain(url: str) -> None:
    """A worker process: take no-op jobs until the queue is empty, then exit."""
    app = build_app(url, max_connections=4)

    def noop(**args: object) -> None:
        return None

    app.task(name=NOOP_TASK)(noop)
    app.run_worker(wait=False, install_signal_handlers=False, fetch_job_polling_interval=0.5)


def span(url: str) -> tuple[int, float]:
    """Jobs finished, and seconds from the first start to the last finish."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            """SELECT count(*) FILTER (WHERE type = 'succeeded'),
                      extract(epoch FROM max(at) FILTER (WHERE type = 'succeeded')
                                        - min(at) FILTER (WHERE type = 'started'))
               FROM procrastinate_events"""
        ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1] or 0.0)


def queue_round(server: PgServer, jobs: int, workers: int) -> tuple[float, float, float]:
    url = server.create_database()
    prepare_database(url)
    app = build_app(url, max_connections=2)
    app.open()
    try:
        app.configure_task(NOOP_TASK, queue="bench").batch_defer(*({"n": n} for n in range(jobs)))
    finally:
        app.close()
    started = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, __file__, "--drain", url], cwd=REPO)
        for _ in range(workers)
    ]
    for proc in procs:
        proc.wait()
    wall = time.perf_counter() - started
    done, seconds = span(url)
    assert done == jobs, f"{done} of {jobs} jobs done"
    return jobs / seconds, seconds * workers / jobs * 1000, wall


def bot_round(server: PgServer, count: int) -> tuple[float, float]:
    """``count`` runs of two no-op bots (alternately: runs of one bot never overlap in a pool)
    through two real ``rpa worker`` processes."""
    import psycopg

    url = server.create_database()
    root = Path(tempfile.mkdtemp(prefix="kakari-bench-"))
    (root / "workflows").mkdir()
    (root / "workflows" / "noop.yaml").write_text("steps:\n  - log: noop\n", encoding="utf-8")
    bots = ("noop_a", "noop_b")
    for bot in bots:
        (root / "bots" / bot).mkdir(parents=True)
        (root / "bots" / bot / "bot.yaml").write_text(
            "name: 何もしない\ndepartment: ベンチ\nworkflow: noop.yaml\n"
            "baseline: {minutes_per_item: 1, measured_by: bench, measured_on: 2026-11-27}\n",
            encoding="utf-8",
        )
    rpa = str(Path(sys.executable).parent / "rpa")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
    env["RPA_DATABASE_URL"] = url
    for number in range(count):
        subprocess.run(
            [rpa, "--project", str(root), "enqueue", bots[number % 2]],
            env={**env, "RPA_HOME": str(root / "office")},
            check=True,
            capture_output=True,
        )
    procs = [
        subprocess.Popen(
            [rpa, "--project", str(root), "worker", "--heartbeat", "1", "--stalled-after", "5"],
            env={**env, "RPA_HOME": str(root / f"pc{n}")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in (1, 2)
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
            ).fetchone()
            if row is not None and row[0] >= count:
                break
            time.sleep(0.2)
    for proc in procs:
        proc.terminate()
        proc.wait(60)
    done, seconds = span(url)
    return count / seconds, seconds * 2 / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--bot-jobs", type=int, default=20)
    parser.add_argument("--drain", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        drain(args.drain)
        return 0
    server = PgServer.start()
    try:
        print(f"queue: {args.jobs:,} no-op jobs, PostgreSQL on loopback (fsync off, as in tests)")
        print("workers   jobs/s   overhead/job (worker-ms)   wall incl. process start")
        for workers in args.workers:
            rate, per_job, wall = queue_round(server, args.jobs, workers)
            print(f"{workers:>7}  {rate:>7.0f}   {per_job:>10.2f} ms               {wall:>6.1f} s")
        if args.bot_jobs:
            rate, per_run = bot_round(server, args.bot_jobs)
            print(
                f"no-op bots: {args.bot_jobs} runs of 2 bots, 2 rpa worker processes:"
                f" {rate:.2f} runs/s, {per_run:.2f} worker-s per run (child rpa run)"
            )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
