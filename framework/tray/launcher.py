"""Each run the tray starts: a child ``rpa run BOT --trigger tray`` process, followed to its end.

The tray never runs a bot in its own process: a crashing bot or a hung browser cannot freeze
or take down the icon. Progress comes from the run's progress file and the run log, never from
the child's console text, which goes to today's log under ``RPA_HOME/tray/logs``. Stopping
is what ``rpa stop`` does (:func:`framework.stopping.stop_bot`): the run finishes the item it is
registering, records everything and exits with 3.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framework.botlock import BotLock
from framework.home import private_dir
from framework.progress import read_progress
from framework.runlog import RunFilter, RunLog, RunRecord, open_runlog, runlog_exists
from framework.stopping import STOP_FILE, stop_bot
from framework.tray.control import log_line
from framework.tray.menu import BotChoice
from framework.tray.state import Ended, RunningBot, RunView

TRIGGER = "tray"
_CLOCK_SLACK = dt.timedelta(seconds=2)
"""A run recorded this much before the launch still counts as the launched one (clocks are
read in two processes, to the second)."""

Argv = Callable[[str, Path | None], list[str]]


def child_python(executable: str | None = None) -> str:
    """The Python for runs: ``python.exe`` beside a ``pythonw.exe`` tray (no window either way)."""
    path = Path(executable or sys.executable)
    if path.name.lower() == "pythonw.exe":
        console = path.with_name("python.exe")
        if console.exists():
            return str(console)
    return str(path)


def rpa_argv(project_root: Path, python: str | None = None) -> Argv:
    """``python -m framework.cli --project ROOT run BOT --trigger tray [--input FILE]``."""

    def argv(bot_id: str, input_path: Path | None) -> list[str]:
        command = [child_python(python), "-m", "framework.cli", "--project", str(project_root)]
        command += ["run", bot_id, "--trigger", TRIGGER]
        if input_path is not None:
            command += ["--input", str(input_path)]
        return command

    return argv


@dataclass
class Launch:
    """One child process and what is known about its run."""

    bot: BotChoice
    proc: subprocess.Popen[bytes]
    launched: dt.datetime
    log: Path
    input: Path | None = None
    run_id: str | None = None
    """Known once the run holds its bot lock (read from ``locks/<bot>.json``)."""


class Launcher:
    """Starts runs, reports their progress and how they ended; thread-safe."""

    def __init__(self, project_root: Path, home_root: Path, argv: Argv | None = None) -> None:
        self.project_root = project_root
        self.home_root = home_root
        self.argv = argv or rpa_argv(project_root)
        self._launches: dict[str, Launch] = {}
        self._lock = threading.Lock()

    # -- starting ---------------------------------------------------------------------------
    def is_running(self, bot_id: str) -> bool:
        with self._lock:
            launch = self._launches.get(bot_id)
            return launch is not None and launch.proc.poll() is None

    def start(self, bot: BotChoice, input_path: Path | None = None) -> Launch | None:
        """Start ``rpa run`` for ``bot``; None if this tray's run of it is still going."""
        with self._lock:
            current = self._launches.get(bot.id)
            if current is not None and current.proc.poll() is None:
                return None
            argv = self.argv(bot.id, input_path)
            where = f" 入力 (input): {input_path}" if input_path else " 既定の入力 (default input)"
            log = log_line(self.home_root, f"開始 (start): {bot.name} ({bot.id}){where}")
            log_line(self.home_root, "$ " + " ".join(argv))
            options: dict[str, Any] = {}
            if sys.platform == "win32":
                options["creationflags"] = (
                    subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
                )
            else:
                options["start_new_session"] = True  # the tray's signals are not the run's
            env = {**os.environ, "RPA_HOME": str(self.home_root), "PYTHONIOENCODING": "utf-8"}
            private_dir(log.parent)
            launched = dt.datetime.now().astimezone()
            with log.open("ab") as output:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    cwd=self.project_root,
                    env=env,
                    **options,
                )
            launch = Launch(bot, proc, launched, log, input_path)
            self._launches[bot.id] = launch
            return launch

    def stop(self, bot_id: str) -> str | None:
        """Ask the bot's running run to stop (``rpa stop``): its run id, or None if none runs."""
        run_id = stop_bot(self.home_root, bot_id)
        if run_id is not None:
            log_line(self.home_root, f"停止を指示しました (stop requested): {bot_id} run {run_id}")
        return run_id

    # -- following --------------------------------------------------------------------------
    def running(self) -> tuple[RunningBot, ...]:
        """This tray's runs still going, with their progress."""
        with self._lock:
            launches = [la for la in self._launches.values() if la.proc.poll() is None]
        shown = []
        for launch in launches:
            if launch.run_id is None:
                launch.run_id = self._run_id_of(launch)
            progress = None
            if launch.run_id is not None:
                progress = read_progress(self.home_root / "runs" / launch.run_id)
            shown.append(
                RunningBot(
                    bot_id=launch.bot.id,
                    bot_name=launch.bot.name,
                    run_id=launch.run_id,
                    settled=progress.settled if progress else 0,
                    total=progress.total if progress else None,
                    attention=progress.attention if progress else 0,
                )
            )
        return tuple(shown)

    def poll(self) -> list[Ended]:
        """The runs that ended since the last call, with their run log records."""
        with self._lock:
            ended = [la for la in self._launches.values() if la.proc.poll() is not None]
            for launch in ended:
                del self._launches[launch.bot.id]
        return [self._ended(launch) for launch in ended]

    def forget(self) -> list[str]:
        """Let go of the runs still going (the tray quits; they finish on their own)."""
        with self._lock:
            names = [la.bot.name for la in self._launches.values() if la.proc.poll() is None]
            self._launches.clear()
        return names

    def _run_id_of(self, launch: Launch) -> str | None:
        """The run holding the bot's lock, if it is this launch's (by PID or start time)."""
        try:
            data = json.loads(
                (self.home_root / "locks" / f"{launch.bot.id}.json").read_text(encoding="utf-8")
            )
            run_id = str(data["run_id"])
            if data.get("pid") == launch.proc.pid:
                return run_id
            # on Windows a venv's python.exe starts the real interpreter as its own child
            started = dt.datetime.fromisoformat(str(data["started_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return run_id if started >= launch.launched - _CLOCK_SLACK else None

    def _ended(self, launch: Launch) -> Ended:
        code = launch.proc.returncode
        record: RunRecord | None = None
        if runlog_exists(self.home_root):
            runlog = open_runlog(self.home_root)
            try:
                if launch.run_id is not None:
                    record = runlog.get_run(launch.run_id)
                else:
                    since = launch.launched.replace(microsecond=0) - _CLOCK_SLACK
                    found = [
                        r
                        for r in runlog.find_runs(RunFilter(bot_id=launch.bot.id), 5)
                        if r.trigger == TRIGGER and r.started_at >= since
                    ]
                    record = found[0] if found else None
                if record is not None and record.exit_code is None and record.ended_at is None:
                    record = self._close_dead_run(runlog, record, code)
            finally:
                runlog.close()
        view = RunView.of(record) if record is not None else None
        stopped = record is not None and (Path(record.run_dir) / STOP_FILE).exists()
        log_line(
            self.home_root,
            f"終了 (end): {launch.bot.name} ({launch.bot.id})"
            + (f" run {record.id}" if record else "")
            + f" 終了コード (exit code) {code}",
        )
        return Ended(launch.bot.id, launch.bot.name, code, view, stopped, launch.log)

    def _close_dead_run(self, runlog: RunLog, record: RunRecord, code: int | None) -> RunRecord:
        """A run whose process died while marked running: record it as aborted now."""
        if BotLock(self.home_root / "locks", record.bot_id).held():
            return record  # something still runs the bot: its next start closes the run
        runlog.close_unfinished(
            record.id, f"異常終了しました（終了コード {code}） (the process crashed)"
        )
        return runlog.get_run(record.id) or record
