"""Framework overhead: 200 applications through `rpa run` vs a plain Playwright script.

Both run as child processes (interpreter start, browser launch, login and 200 entries each) against
their own fresh practice system at latency 0, in the same invocation, alternating; the figures are
wall times and the ratio framework / plain. Goal: at most 1.15.

    .venv/bin/python bench/entry_speed.py [--count 200] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from framework.practice import PracticeConfig, PracticeServer
from framework.practice.applicants import generate_applicants
from framework.practice.samples import write_workbook

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RPA = str(Path(PYTHON).parent / "rpa")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=False, capture_output=True)
    return time.perf_counter() - started


def one_round(workbook: Path, count: int, home: Path) -> tuple[float, float]:
    env = {**os.environ, "RPA_HOME": str(home),
           "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "demo",
           "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": "demo-pass"}  # fmt: skip
    with PracticeServer(PracticeConfig()) as plain_server:
        plain = timed([PYTHON, "bench/plain_playwright.py", plain_server.url, str(workbook)], env)
        plain_records = len(plain_server.records())
    with PracticeServer(PracticeConfig()) as server:
        command = [RPA, "run", "welfare_entry", "--input", str(workbook),
                   "--set", f"target_url={server.url}"]  # fmt: skip
        framework = timed(command, env)
        framework_records = len(server.records())
    if plain_records != count or framework_records != count:
        raise SystemExit(
            f"expected {count} records each, got plain={plain_records} rpa={framework_records}"
        )
    return framework, plain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workbook = Path(tmp) / "bench.xlsx"
        write_workbook(workbook, generate_applicants(args.count, seed=1), messy=False)
        results = [one_round(workbook, args.count, Path(tmp) / "home") for _ in range(args.rounds)]
    framework = statistics.median(r[0] for r in results)
    plain = statistics.median(r[1] for r in results)
    print(f"applications:        {args.count} (rounds: {args.rounds}, median)")
    print(f"plain Playwright:    {plain:7.2f} s  ({plain / args.count * 1000:6.1f} ms/item)")
    print(
        f"rpa run (kakari):    {framework:7.2f} s  ({framework / args.count * 1000:6.1f} ms/item)"
    )
    print(f"ratio rpa / plain:   {framework / plain:7.3f}  (goal <= 1.15)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
