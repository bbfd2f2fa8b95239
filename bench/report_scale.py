"""Reporting at scale: ``rpa report --period FY2026 --format xlsx`` on 100,000 runs and 5M items.

Writes a run log straight into a ``SqliteRunLog`` database (schema from the class itself, rows with
``executemany`` in big transactions): five departments, twelve bots, runs on weekdays of FY2025
and FY2026 growing month by month (FY2026 is treated as finished, so the report covers a whole,
busy year), items per run spread around 50, a few aborted runs, exceptions in every status, and
a baseline measured again in October 2026 for some bots. Then, in one invocation:

* the report: ``rpa report --period FY2026 --format xlsx`` as a child process: wall time and peak
  memory (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``), against the goals (< 5 s, < 500 MB);
* a baseline: a child Python that runs the plain ``SELECT count(*), sum(minutes_saved) FROM runs
  WHERE ...`` for the same period in sqlite3, and the ratio of the two;
* a check that the report's totals (its JSON rendering) equal that plain query.

This process generates the log itself and keeps its own memory small: on Linux a child's
``ru_maxrss`` starts from its parent's size at the moment it is started.

    .venv/bin/python bench/report_scale.py [--runs 100000] [--items 5000000] [--home DIR]
                                           [--rounds 3]

``--home DIR`` keeps the generated run log there and reuses it on the next invocation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 5.0
GOAL_MB = 500
JST = dt.timezone(dt.timedelta(hours=9))
FIRST_DAY = dt.date(2025, 4, 1)
LAST_DAY = dt.date(2027, 3, 31)

# bot id: (department, name, minutes per item, per run, per exception, has items)
BOTS: dict[str, tuple[str, str, float, float, float, bool]] = {
    "welfare_entry": ("障がい福祉課", "障害福祉サービス申請入力", 6, 10, 3, True),
    "welfare_list_export": ("障がい福祉課", "申請一覧の書き出し", 0, 20, 0, False),
    "jiritsu_entry": ("障がい福祉課", "自立支援医療の申請入力", 5, 8, 3, True),
    "juminhyo_entry": ("市民課", "住民票の写し交付申請入力", 4, 5, 2, True),
    "tenkyo_check": ("市民課", "転居届の照合", 3, 10, 2, True),
    "kazei_entry": ("税務課", "課税資料の入力", 7, 15, 4, True),
    "nofu_check": ("税務課", "納付書の消込確認", 2, 10, 2, True),
    "kaigo_nintei_entry": ("介護保険課", "要介護認定申請入力", 8, 10, 4, True),
    "kaigo_list_export": ("介護保険課", "認定一覧の書き出し", 0, 30, 0, False),
    "hoiku_entry": ("子育て支援課", "保育施設利用申込入力", 6, 10, 3, True),
    "jido_teate_entry": ("子育て支援課", "児童手当の現況入力", 4, 8, 2, True),
    "ninpu_entry": ("子育て支援課", "妊婦健診受診票の入力", 3, 5, 2, True),
}
REMEASURED = {"welfare_entry": (5, 12, 4), "kazei_entry": (6, 15, 5)}
"""Bots whose baseline was measured again on 2026-10-15 (per item, per run, per exception)."""
STATUSES = (
    ("done", 0.93),
    ("business_error", 0.02),
    ("bad_input", 0.02),
    ("system_error", 0.01),
    ("skipped", 0.015),
    ("needs_review", 0.005),
)


def _weekdays() -> list[dt.date]:
    days = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _plan(runs: int, items: int, rng: random.Random) -> list[tuple[dt.datetime, str, int]]:
    """(start, bot, item count) per run: more runs each month, exactly ``items`` items."""
    days = _weekdays()
    weights = [0.6 + 0.8 * i / len(days) for i in range(len(days))]
    bot_ids = list(BOTS)
    plan = []
    for day in sorted(rng.choices(days, weights, k=runs)):
        bot = rng.choice(bot_ids)
        at = dt.datetime.combine(day, dt.time(8), JST) + dt.timedelta(seconds=rng.randrange(43200))
        plan.append((at, bot, rng.randint(5, 95) if BOTS[bot][5] else 0))
    plan.sort()
    counted = [i for i, (_, bot, _) in enumerate(plan) if BOTS[bot][5]]
    difference = items - sum(n for _, _, n in plan)
    step = 1 if difference > 0 else -1
    index = 0
    while difference:
        at, bot, n = plan[counted[index % len(counted)]]
        if n + step >= 1:
            plan[counted[index % len(counted)]] = (at, bot, n + step)
            difference -= step
        index += 1
    return plan


def generate(path: Path, runs: int, items: int, seed: int = 7) -> None:
    """Write the run log: runs and items in transactions of 500,000 rows."""
    sys.path.insert(0, str(REPO))
    from framework.runlog import SqliteRunLog
    from framework.savings import BaselineFigures, minutes_saved

    SqliteRunLog(path).close()  # the schema, exactly as kakari creates it
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("DROP INDEX items_key")
    conn.execute("DROP INDEX items_bot_key")
    names = [name for name, _ in STATUSES]
    shares = [share for _, share in STATUSES]
    run_rows: list[tuple[object, ...]] = []

    def item_rows() -> Iterator[tuple[object, ...]]:
        for number, (at, bot, count) in enumerate(_plan(runs, items, rng)):
            department, name, per_item, per_run, per_exception, has_items = BOTS[bot]
            measured_on = "2025-04-10"
            if bot in REMEASURED and at.date() >= dt.date(2026, 10, 15):
                per_item, per_run, per_exception = REMEASURED[bot]
                measured_on = "2026-10-15"
            aborted = rng.random() < 0.03
            done_upto = rng.randint(0, count) if aborted else count
            statuses = rng.choices(names, shares, k=done_upto)
            counts = {status: statuses.count(status) for status in names}
            run_id = f"{at:%Y%m%d-%H%M%S}-{number:06x}"
            seconds = 20 + count * rng.uniform(4, 9)
            ended = at + dt.timedelta(seconds=int(seconds))
            exceptions = sum(counts[s] for s in names if s not in ("done", "skipped"))
            completed = not aborted and (counts["done"] > 0 or not has_items)
            minutes = minutes_saved(
                counts["done"],
                exceptions,
                completed,
                BaselineFigures(per_item, per_run, per_exception),
            )
            run_rows.append(
                (run_id, bot, name, department, f"workflows/{bot}.yaml", "schedule", "rpa-svc",
                 "pc-01", None, at.isoformat(), ended.isoformat(),
                 "aborted" if aborted else "completed", done_upto, counts["done"],
                 counts["business_error"], counts["system_error"], counts["bad_input"],
                 counts["needs_review"], counts["skipped"], per_item, per_run, per_exception,
                 f"{department} 担当", measured_on, minutes, 3 if aborted else 0, "",
                 f"/var/kakari/runs/{run_id}")
            )  # fmt: skip
            stamp = at.isoformat()
            for seq in range(1, count + 1):
                status = statuses[seq - 1] if seq <= done_upto else "pending"
                key = f"{number:016x}{seq:048x}"
                yield (run_id, bot, seq, "申請一覧.xlsx", seq + 2, key, None, status, "", "{}",
                       None, stamp, stamp)  # fmt: skip

    insert_items = (
        "INSERT INTO items (run_id, bot_id, seq, source, row, key_hash, key_text, status,"
        " message, results, screenshot, started_at, ended_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    insert_runs = (
        "INSERT INTO runs (id, bot_id, bot_name, department, workflow, trigger, os_user, host,"
        " input, started_at, ended_at, status, items_total, items_done, items_business_error,"
        " items_system_error, items_bad_input, items_needs_review, items_skipped,"
        " baseline_minutes_per_item, baseline_minutes_per_run, baseline_minutes_per_exception,"
        " baseline_measured_by, baseline_measured_on, minutes_saved, exit_code, message, run_dir)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?)"
    )
    stream = item_rows()
    while True:  # executemany reads the generator lazily: a chunk is never a list in memory
        before = conn.total_changes
        conn.execute("BEGIN")
        conn.executemany(insert_items, itertools.islice(stream, 500_000))
        inserted = conn.total_changes - before
        conn.executemany(insert_runs, run_rows)
        conn.execute("COMMIT")
        run_rows.clear()
        if not inserted:
            break
    conn.execute("CREATE INDEX items_key ON items (key_hash, status)")
    conn.execute("CREATE INDEX items_bot_key ON items (bot_id, key_hash)")
    conn.execute("ANALYZE")
    conn.close()


def _count(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        items = conn.execute("SELECT max(rowid) FROM items").fetchone()[0] or 0
    finally:
        conn.close()
    return int(runs), int(items)


BASELINE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(*conn.execute(
    "SELECT count(*), sum(minutes_saved) FROM runs"
    " WHERE started_at >= '2026-04-01' AND started_at < '2027-04-01' AND status != 'running'"
).fetchone())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=5_000_000)
    parser.add_argument("--home", type=Path, help="keep (and reuse) the run log in this folder")
    parser.add_argument("--rounds", type=int, default=1, help="time the report N times (median)")
    args = parser.parse_args()
    scratch = None
    if args.home is None:
        scratch = tempfile.TemporaryDirectory(prefix="kakari-report-scale-")
        home = Path(scratch.name)
    else:
        home = args.home.resolve()
        home.mkdir(parents=True, exist_ok=True)
    db = home / "runlog.sqlite3"
    try:
        if db.exists() and _count(db) == (args.runs, args.items):
            print(f"run log:           reusing {db}")
        else:
            for stale in home.glob("runlog.sqlite3*"):
                stale.unlink()
            started = time.perf_counter()
            generate(db, args.runs, args.items)
            print(f"run log generated: {time.perf_counter() - started:.1f} s ({db})")
        runs, items = _count(db)
        size = db.stat().st_size / 2**20
        print(f"run log:           {runs:,} runs, {items:,} items, {size:,.0f} MB")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"this process:      {own:.0f} MB peak (a child's peak starts at least this high)")
        rpa = str(Path(sys.executable).parent / "rpa")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
        env["RPA_HOME"] = str(home)
        out = home / "kpi-FY2026.xlsx"
        command = [rpa, "--project", str(REPO), "report", "--period", "FY2026", "--format", "xlsx"]
        report_times, plain_times = [], []
        for _round in range(args.rounds):
            started = time.perf_counter()
            done = subprocess.run(
                [*command, "--out", str(out)], env=env, capture_output=True, text=True, check=False
            )
            report_times.append(time.perf_counter() - started)
            if done.returncode != 0:
                print(done.stdout, done.stderr)
                return 1
        # the largest ru_maxrss of the children waited for so far: only `rpa report` ran
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        for _round in range(args.rounds):
            started = time.perf_counter()
            plain = subprocess.run(
                [sys.executable, "-c", BASELINE, str(db)],
                capture_output=True,
                text=True,
                check=True,
            )
            plain_times.append(time.perf_counter() - started)
        report_s = statistics.median(report_times)
        plain_s = statistics.median(plain_times)
        count, minutes = plain.stdout.split()
        figures = subprocess.run(
            [rpa, "--project", str(REPO), "report", "--period", "FY2026", "--format", "json",
             "--out", "-"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        total = json.loads(figures.stdout)["total"]
        agree = total["runs"] == int(count) and abs(total["minutes_saved"] - float(minutes)) < 0.01
        print(f"report:            {out.name}, {out.stat().st_size / 2**20:.1f} MB, "
              f"{total['runs']:,} runs in FY2026")  # fmt: skip
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average:      {load} ({os.cpu_count()} CPUs; other work skews the times)")
        print()
        rounds = f"median of {args.rounds}" if args.rounds > 1 else "1 round"
        print(f"rpa report --period FY2026 --format xlsx (child process, {rounds})")
        mark = "OK" if report_s < GOAL_SECONDS else "SLOW"
        print(f"  wall time:       {report_s:7.2f} s    (goal < {GOAL_SECONDS:.0f} s)   {mark}")
        if args.rounds > 1:
            print(f"  all rounds:      {', '.join(f'{t:.2f}' for t in report_times)} s")
        mark = "OK" if peak_mb < GOAL_MB else "TOO MUCH"
        print(f"  peak memory:     {peak_mb:7.0f} MB   (goal < {GOAL_MB} MB)  {mark}")
        print("baseline: SELECT count(*), sum(minutes_saved) ... (child python + sqlite3)")
        print(f"  wall time:       {plain_s:7.2f} s")
        print(f"ratio report / baseline: {report_s / plain_s:.1f}")
        print(
            f"report totals = plain SQL: {'yes' if agree else 'NO'}"
            f" ({int(count):,} runs, {float(minutes):,.2f} minutes)"
        )
        return 0 if agree else 1
    finally:
        if scratch is not None:
            scratch.cleanup()


if __name__ == "__main__":
    sys.exit(main())
