"""``python -m framework.cli``: the ``rpa`` command (how the scheduler starts each run)."""

from framework.cli import run_console

run_console()
