"""The ``rpa`` command: run, validate and inspect bots; start the practice system and the demo.

``main(argv) -> int`` is the whole command line as a function (tests call it directly); exit codes
are :class:`~framework.outcome.ExitCode`: 0 all done, 1 some items failed, 2 invalid input
(nothing was run), 3 aborted, 4 already running. Each command group lives in its own module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from loguru import logger
from rich.console import Console

from framework.cli import bots as _bot_commands  # noqa: F401  (registers commands)
from framework.cli import pool as _pool_commands  # noqa: F401  (registers commands)
from framework.cli import report as _report_commands  # noqa: F401  (registers commands)
from framework.cli import runlog as _runlog_commands  # noqa: F401  (registers commands)
from framework.cli import runs as _run_commands  # noqa: F401  (registers commands)
from framework.cli import schedule as _schedule_commands  # noqa: F401  (registers commands)
from framework.cli import security as _security_commands  # noqa: F401  (registers commands)
from framework.cli import tray as _tray_commands  # noqa: F401  (registers commands)
from framework.cli.app import _state, app, current_project, err, fail, find_project_root
from framework.database import DatabaseUrlError, PsycopgMissingError
from framework.errors import InvalidError, KakariError
from framework.outcome import ExitCode

__all__ = ["app", "find_project_root", "main", "run_console"]


def _configure_logging(console: Console) -> None:
    logger.remove()
    logger.add(
        lambda message: console.print(str(message).rstrip("\n"), markup=False, highlight=False),
        level=os.environ.get("RPA_LOG_LEVEL", "ERROR"),
        format="{level}: {message}",
        backtrace=False,
        diagnose=False,
    )


def _crash_report(exc: BaseException) -> str:
    """Write the traceback of an unexpected error to an owner-only file and return its path.

    Exception messages are masked with the secrets of any run still in memory; `rpa cleanup`
    deletes crash reports with the run folders.
    """
    import datetime as dt
    import tempfile

    from framework.home import Home, private_dir, private_file
    from framework.redact import safe_traceback

    try:
        folder = Home.locate(current_project().root).crash_dir
    except Exception:
        folder = Path(tempfile.gettempdir()) / "kakari-crash"
    try:
        private_dir(folder)
        path = folder / f"crash-{dt.datetime.now():%Y%m%d-%H%M%S}.txt"
        path.write_text(safe_traceback(exc), encoding="utf-8")
        private_file(path)
        return str(path)
    except OSError:
        return "(could not write a crash report)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    _state.clear()
    _state["out"] = Console(highlight=False)
    _state["err"] = Console(stderr=True, highlight=False)
    _configure_logging(_state["err"])
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["--help"]
    try:
        result = app.main(args=args, prog_name="rpa", standalone_mode=False)
    except click.ClickException as exc:
        err().print(f"エラー: {exc.format_message()}", markup=False, highlight=False)
        err().print("使い方は rpa --help を見てください (see rpa --help)", markup=False)
        return ExitCode.INVALID
    except click.exceptions.Abort:
        err().print("中断しました (aborted)", markup=False)
        return ExitCode.ABORTED
    except InvalidError as exc:
        return fail(exc.problems)
    except (DatabaseUrlError, PsycopgMissingError) as exc:  # configuration: nothing was run
        err().print(str(exc), markup=False, highlight=False)
        return ExitCode.INVALID
    except KakariError as exc:
        err().print(str(exc), markup=False, highlight=False)
        return ExitCode.ABORTED
    except Exception as exc:  # a bug: say so plainly, keep the traceback in a file
        report = _crash_report(exc)
        err().print(
            f"予期しないエラーが発生しました (internal error): {type(exc).__name__}."
            f" 詳細 (details): {report}",
            markup=False,
            highlight=False,
        )
        return ExitCode.ABORTED
    finally:
        logger.remove()
    if isinstance(result, int):
        return result
    return ExitCode.OK


def run_console() -> None:
    """The ``rpa`` console script."""
    sys.exit(main())
