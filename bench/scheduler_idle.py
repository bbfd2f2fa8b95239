"""Idle scheduler: CPU and memory of `rpa scheduler` holding 50 bots' schedules, vs an idle Python.

Generates a temporary project with N bots (a one-step workflow each, schedules spread over the
evening on business days, a calendar.yaml with a closure), starts ``rpa scheduler start`` as a
child process, waits for its first heartbeat (start-up is not measured), then samples the child's
CPU time (utime + stime in ``/proc/PID/stat``) and resident memory (``VmRSS`` in
``/proc/PID/status``) once a second for ``--seconds``. A plain ``python -c 'import time;
time.sleep(...)'`` child is measured the same way, at the same time, as the baseline.
Goal: under 1 % of one core and under 100 MB. Linux only (/proc).

    .venv/bin/python bench/scheduler_idle.py [--bots 50] [--seconds 60] [--tick 30]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CPU_GOAL = 1.0
"""Percent of one core."""
RSS_GOAL = 100.0
"""MB."""
RPA = Path(sys.executable).parent / "rpa"


@dataclass
class Samples:
    """CPU seconds and RSS of one process over time."""

    pid: int
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def take(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rpartition(")")[2].split()
        self.cpu.append((int(fields[11]) + int(fields[12])) / ticks)  # utime + stime
        with open(f"/proc/{self.pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    self.rss_mb.append(int(line.split()[1]) / 1024)
        self.times.append(time.monotonic())

    @property
    def cpu_seconds(self) -> float:
        return self.cpu[-1] - self.cpu[0]

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu_seconds / (self.times[-1] - self.times[0])

    @property
    def rss_mean(self) -> float:
        return sum(self.rss_mb) / len(self.rss_mb)


def write_project(root: Path, bots: int) -> None:
    (root / "workflows").mkdir(parents=True)
    (root / "workflows" / "note.yaml").write_text("steps:\n  - log: 夜間処理\n", encoding="utf-8")
    (root / "calendar.yaml").write_text(
        "closures:\n  - {date: 2026-08-14, reason: 庁舎停電}\n", encoding="utf-8"
    )
    for n in range(bots):
        folder = root / "bots" / f"bot{n:02d}"
        folder.mkdir(parents=True)
        folder.joinpath("bot.yaml").write_text(
            f"name: 夜間ボット{n}\n"
            "department: 情報政策課\n"
            "workflow: note.yaml\n"
            "baseline: {minutes_per_item: 0, minutes_per_run: 10, measured_by: bench,"
            " measured_on: 2026-10-01}\n"
            "schedules:\n"
            f"  - cron: '{n % 60} {18 + n % 5} * * mon-fri'\n"
            "    catch_up_until: '07:30'\n",
            encoding="utf-8",
        )


def wait_for_heartbeat(home: Path, proc: subprocess.Popen[bytes]) -> float:
    beat = home / "scheduler" / "heartbeat.json"
    started = time.monotonic()
    while not beat.exists():
        if proc.poll() is not None:
            sys.exit(f"rpa scheduler ended with {proc.returncode} before its first heartbeat")
        if time.monotonic() - started > 120:
            sys.exit("no heartbeat within 120 s")
        time.sleep(0.1)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tick", type=float, default=30.0, help="the scheduler's --tick")
    args = parser.parse_args()
    if not Path("/proc/self/stat").exists():
        sys.exit("this benchmark reads /proc (Linux)")
    with tempfile.TemporaryDirectory(prefix="kakari-bench-") as tmp:
        root, home = Path(tmp) / "project", Path(tmp) / "home"
        write_project(root, args.bots)
        env = {**os.environ, "RPA_HOME": str(home)}
        scheduler = subprocess.Popen(
            [str(RPA), "--project", str(root), "scheduler", "start", "--tick", str(args.tick)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        idle = subprocess.Popen(
            [sys.executable, "-c", f"import time; time.sleep({args.seconds + 300})"]
        )
        try:
            startup = wait_for_heartbeat(home, scheduler)
            time.sleep(1.0)  # let the start-up work settle before the first sample
            measured = [Samples(scheduler.pid), Samples(idle.pid)]
            end = time.monotonic() + args.seconds
            while True:
                for samples in measured:
                    samples.take()
                if time.monotonic() >= end:
                    break
                time.sleep(1.0)
        finally:
            scheduler.send_signal(signal.SIGTERM)
            idle.kill()
            code = scheduler.wait(60)
            idle.wait()
    ours, base = measured
    print(f"bots scheduled:   {args.bots} (tick {args.tick:g} s; start-up {startup:.1f} s)")
    print(f"measured for:     {ours.times[-1] - ours.times[0]:.0f} s, {len(ours.cpu)} samples")
    for label, samples in (("rpa scheduler:", ours), ("idle python:", base)):
        print(
            f"{label:<17} CPU {samples.cpu_percent:6.3f} % of one core"
            f" ({samples.cpu_seconds:.2f} s)   RSS {samples.rss_mean:6.1f} MB"
            f" (max {max(samples.rss_mb):.1f})"
        )
    cpu_ratio = (
        f"{ours.cpu_seconds / base.cpu_seconds:.1f}x" if base.cpu_seconds > 0 else "n/a (0 s)"
    )
    print(f"ratio / idle:     CPU {cpu_ratio}   RSS {ours.rss_mean / base.rss_mean:.1f}x")
    ok = ours.cpu_percent < CPU_GOAL and max(ours.rss_mb) < RSS_GOAL
    print(
        f"goal:             CPU < {CPU_GOAL:g} %, RSS < {RSS_GOAL:g} MB:"
        f" {'OK' if ok else 'NOT MET'}  (scheduler exit code after SIGTERM: {code})"
    )


if __name__ == "__main__":
    main()
