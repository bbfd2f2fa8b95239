"""`rpa validate`: every bad workflow and bot is refused with file:line:col (golden output)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from framework.cli import main

HERE = Path(__file__).parent
INVALID = HERE / "data" / "invalid_project"
GOLDEN = HERE / "golden" / "validate_invalid_project.txt"
REPO = HERE.parent


def test_invalid_project_golden(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(INVALID), "validate"])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(captured.err, encoding="utf-8")
    assert captured.err == GOLDEN.read_text(encoding="utf-8")


# valid on their own: wrong only as another file uses them (errors are reported there)
HELPERS = {"workflows/call_with_items.yaml", "bots/typo_settings/bot.yaml"}


def test_every_invalid_file_is_reported() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    for path in sorted((INVALID / "workflows").glob("*.yaml")) + sorted(
        (INVALID / "bots").glob("*/bot.yaml")
    ):
        relative = path.relative_to(INVALID).as_posix()
        if relative in HELPERS:
            continue
        assert f"{relative}:" in text, f"{relative} produced no error"


def test_errors_are_sorted_by_file_and_line() -> None:
    lines = [x for x in GOLDEN.read_text(encoding="utf-8").splitlines() if x.count(":") >= 3]
    keys = []
    for line in lines:
        file, number, col = line.split(":")[:3]
        keys.append((file, int(number), int(col)))
    assert keys == sorted(keys)


def test_sample_project_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(REPO), "validate"]) == 0
    assert "bots/welfare_entry/bot.yaml" in capsys.readouterr().out


def test_single_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--project", str(INVALID), "validate", str(INVALID / "workflows/unknown_step.yaml")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "workflows/unknown_step.yaml:3:5: steps[0].browser.fil:" in err
    assert "browser.fill" in err
    assert "yaml_syntax" not in err


def test_console_script_in_a_child_process() -> None:
    """The installed `rpa` command: exit code 2, compiler-style lines, no traceback."""
    rpa = Path(sys.executable).parent / "rpa"
    done = subprocess.run(
        [str(rpa), "--project", str(INVALID), "validate"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "workflows/templates.yaml:13:38:" in done.stderr
