"""How services stop: signals handled outside the signal handler, and the stop deadline."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from loguru import logger

from framework.servicestop import StopDeadline, signal_handlers, stacks
from framework.stopping import StopSignal

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@POSIX
def test_a_handler_may_take_a_lock_the_main_thread_holds_when_the_signal_arrives() -> None:
    held = threading.Lock()
    ran_in: list[str] = []
    done = threading.Event()

    def handler() -> None:
        with held:  # inside a real signal handler this would deadlock the main thread
            ran_in.append(threading.current_thread().name)
            done.set()

    with signal_handlers({"SIGUSR1": handler}):
        with held:
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.3)  # not a wait for a condition: the lock stays held while it lands
            assert not done.is_set()
        assert done.wait(5)
    assert ran_in == ["kakari-signals"]


@POSIX
def test_the_previous_handlers_and_wakeup_descriptor_come_back() -> None:
    before = signal.getsignal(signal.SIGUSR1)
    with signal_handlers({"SIGUSR1": lambda: None, "SIGNOTHERE": lambda: None}):
        assert signal.getsignal(signal.SIGUSR1) is not before
    assert signal.getsignal(signal.SIGUSR1) is before
    assert signal.set_wakeup_fd(-1) == -1  # nothing left behind


def test_outside_the_main_thread_nothing_is_installed() -> None:
    seen: list[object] = []

    def body() -> None:
        with signal_handlers({"SIGTERM": lambda: None}):
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=body)
    thread.start()
    thread.join(5)
    assert seen == [before]


def test_the_deadline_logs_the_stacks_then_ends_the_process() -> None:
    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}")
    exits: list[int] = []
    try:

        async def stuck_forever() -> None:
            await asyncio.Event().wait()

        async def main() -> None:
            stuck = asyncio.create_task(stuck_forever(), name="stuck")  # kept: tasks are weak
            loop = asyncio.get_running_loop()
            deadline = StopDeadline(0.2, logger, loop=loop, exit_process=exits.append)
            deadline.start()
            deadline.start()  # once only
            for _ in range(100):  # until it fires (10 s at most)
                if exits:
                    break
                await asyncio.sleep(0.1)
            stuck.cancel()

        # a thread of its own: the session's Playwright keeps an event loop in the main thread
        thread = threading.Thread(target=asyncio.run, args=[main()])
        thread.start()
        thread.join(10)
    finally:
        logger.remove(sink)
    assert exits == [3]
    [message] = lines
    assert "0.2 秒たっても終了できない" in message
    assert "--- thread MainThread" in message
    assert "--- task stuck" in message and "in stuck_forever" in message


def test_a_cancelled_deadline_does_nothing() -> None:
    exits: list[int] = []
    deadline = StopDeadline(0.1, logger, exit_process=exits.append)
    deadline.start()
    deadline.cancel()
    timer = deadline._timer
    assert timer is not None
    timer.join(5)  # a cancelled timer ends without calling back
    assert not timer.is_alive()
    assert exits == []


def test_stacks_show_code_locations_not_values() -> None:
    secret = "password-1234"  # noqa: S105 - a local value that must not appear
    text = stacks()
    assert "test_stacks_show_code_locations_not_values" in text
    assert secret not in text.replace('secret = "password-1234"', "")


@POSIX
def test_a_service_whose_stop_hangs_exits_3_with_its_stacks(tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, threading
            from loguru import logger
            from framework.servicestop import StopDeadline, signal_handlers

            logger.remove()
            logger.add(sys.stderr, format="{message}")
            deadline = StopDeadline(1.0, logger)
            stuck = threading.Lock()
            stuck.acquire()

            def stop():
                deadline.start()
                print("stopping", flush=True)

            with signal_handlers({"SIGTERM": stop}):
                print("ready", flush=True)
                stuck.acquire()  # the stop never completes
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "stopping" in out
    assert "did not stop within 1 s" in err
    assert "stuck.acquire()" in err  # where the main thread hangs


def test_a_signalled_run_stop_is_a_flag_not_a_lock(tmp_path: Path) -> None:
    stop = StopSignal(tmp_path)
    assert not stop.requested
    stop._event._cond.acquire()  # type: ignore[attr-defined]  # as if mid Event.wait
    try:
        stop._handle(signal.SIGTERM, None)  # would deadlock if it set the event
    finally:
        stop._event._cond.release()  # type: ignore[attr-defined]
    assert not stop._event.is_set()
    started = time.monotonic()
    assert stop.requested
    assert stop.wait(5.0)
    assert time.monotonic() - started < 1.0


def test_ctrl_c_in_a_run_says_so_once(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    stop = StopSignal(tmp_path)
    stop._handle(signal.SIGINT, None)
    assert stop.requested
    assert stop.requested
    assert capfd.readouterr().err.count("もう一度 Ctrl+C") == 1


@POSIX
def test_a_failing_handler_does_not_deafen_the_next_signal() -> None:
    calls: list[int] = []
    heard = threading.Event()

    def handler() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first one fails")
        heard.set()

    with signal_handlers({"SIGUSR1": handler}):
        os.kill(os.getpid(), signal.SIGUSR1)
        for _ in range(100):
            if calls:
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGUSR1)
        assert heard.wait(5)
    assert len(calls) == 2
