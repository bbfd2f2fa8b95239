"""A bot run as a child process: its own session, a time limit, a graceful stop, then a kill.

Every scheduled run is a separate ``rpa run`` process, so a crash or a hang stays outside the
scheduler. Past its time limit (or when the scheduler stops) a run is asked to stop: the STOP file
in its run folder (:mod:`framework.stopping`) and SIGTERM, so it finishes the registration it is
in. If it has not ended after the grace period, it is killed with everything it started (its
browser too): the process tree is read from ``/proc`` on Linux, ``taskkill /T`` on Windows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.stopping import request_stop

if TYPE_CHECKING:
    from loguru import Logger

    from framework.runlog import RunRecord

_KILL_WAIT = 5.0
"""Seconds a killed run's browser driver gets to close the browser before it is killed too."""


@dataclass
class ChildOutcome:
    """How a scheduled ``rpa run`` process ended."""

    code: int | None
    """Its exit code (negative: killed by that signal on POSIX)."""
    timed_out: bool = False
    stopped: bool = False
    """It was asked to stop (time limit or the scheduler stopping)."""
    killed: bool = False
    """It did not stop in time and was killed, with its browser."""
    log: Path | None = None
    run: RunRecord | None = None


def start_child(
    argv: Sequence[str],
    output: Path,
    header: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    die_with_parent: bool = False,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a session of its own (the scheduler's Ctrl+C is not the bot's), its
    output appended to ``output`` after a ``header`` line.

    ``die_with_parent``: the run is killed when the process that started it dies, as it would
    be with its PC (Linux: ``PR_SET_PDEATHSIG``; Windows: a job object,
    :mod:`framework.winjob`). A pool worker uses it: a worker killed mid-job must not leave its
    bot running while the job is retried on another worker.
    """
    options: dict[str, Any] = {}
    if sys.platform == "win32":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    if die_with_parent and sys.platform.startswith("linux"):
        options["preexec_fn"] = _die_with_parent
    with output.open("ab") as sink:
        sink.write(f"{header}\n".encode())
        sink.flush()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            **options,
        )
    if die_with_parent and sys.platform == "win32":
        from framework.winjob import kill_with_parent

        kill_with_parent(proc)
    return proc


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGKILL when the parent dies (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def wait_child(
    proc: subprocess.Popen[bytes],
    limit_seconds: float,
    stopping: threading.Event,
    stop: Callable[[], tuple[int, bool]],
) -> ChildOutcome:
    """Wait for the process to end; past ``limit_seconds``, or once ``stopping`` is set, call
    ``stop`` (its exit code, and whether it had to be killed)."""
    outcome = ChildOutcome(code=None)
    deadline = time.monotonic() + limit_seconds
    while outcome.code is None:
        try:
            outcome.code = proc.wait(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            pass
        if stopping.is_set() or time.monotonic() >= deadline:
            outcome.timed_out = not stopping.is_set()
            outcome.stopped = True
            outcome.code, outcome.killed = stop()
    return outcome


def run_dir_of(home_root: Path, bot_id: str, pid: int) -> Path | None:
    """The run folder of the bot's current run, if the process holding its lock is ``pid``."""
    import json

    holder = home_root / "locks" / f"{bot_id}.json"
    try:
        data = json.loads(holder.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("pid") != pid or "run_id" not in data:
        return None
    return home_root / "runs" / str(data["run_id"])


def stop_child(
    proc: subprocess.Popen[bytes], run_dir: Path | None, grace: float, log: Logger, name: str
) -> tuple[int, bool]:
    """Ask the run to stop (it finishes the item it is registering), then kill it after
    ``grace`` seconds; return its exit code and whether it was killed."""
    log.warning(f"{name}: 停止を指示します (asking the run to stop)")
    if run_dir is not None:
        try:
            request_stop(run_dir)
        except OSError:
            pass
    if sys.platform != "win32":
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        return proc.wait(timeout=grace), False
    except subprocess.TimeoutExpired:
        pass
    log.warning(f"{name}: 止まらないため強制終了します (killing the run)")
    kill_tree(proc)
    return proc.returncode, True


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill a run and everything it started (its browser too)."""
    if sys.platform == "win32":
        subprocess.run(
            ["taskkill", "/PID", str(proc.pid), "/T", "/F"], capture_output=True, check=False
        )
        proc.wait()
        return
    below = _descendants(proc.pid)
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    # the browser driver notices its parent is gone and closes the browser: give it a moment
    deadline = time.monotonic() + _KILL_WAIT
    while time.monotonic() < deadline and any(_alive(p) for p in below):
        time.sleep(0.1)
    for pid in below:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux: from /proc; elsewhere nothing is known)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False
