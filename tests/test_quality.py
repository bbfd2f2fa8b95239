"""House rules checked on every test run: ruff (lint and format) and mypy --strict (for Linux
and for Windows)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "framework", "tests", "bench"],
        ["ruff", "format", "--check", "framework", "tests", "bench"],
        ["mypy"],
        # Windows is the main platform: the code paths behind sys.platform == "win32" too
        ["mypy", "--platform", "win32", "--cache-dir", ".mypy_cache/win32"],
    ],
    ids=["ruff-check", "ruff-format", "mypy", "mypy-win32"],
)
def test_tool_is_clean(command: list[str]) -> None:
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
