"""The ``rpa`` command group and what every command shares (consoles, project, errors)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from framework.errors import Problem
from framework.outcome import ExitCode

_state: dict[str, Any] = {}


def out() -> Console:
    console: Console = _state["out"]
    return console


def err() -> Console:
    console: Console = _state["err"]
    return console


def current_project() -> Any:
    from framework.loader import Project

    root = _state.get("project_root")
    if root is None:
        root = find_project_root(Path.cwd())
    return Project(Path(root))


def find_project_root(start: Path) -> Path:
    """``--project``, ``RPA_PROJECT``, or the nearest folder upwards that has ``bots/``."""
    configured = os.environ.get("RPA_PROJECT")
    if configured:
        return Path(configured)
    for folder in (start, *start.parents):
        if (folder / "bots").is_dir():
            return folder
    return start


@click.group(
    name="rpa",
    help="kakari: 自治体の定型業務を自動化する RPA (declarative RPA for city halls)",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    help="プロジェクトのフォルダ (project folder with bots/ and workflows/)",
)
def app(project: Path | None) -> None:
    if project is not None:
        _state["project_root"] = project


def fail(problems: list[Problem], *, nothing_run: bool = True) -> int:
    from framework.console import print_problems

    print_problems(err(), problems, nothing_run=nothing_run)
    return ExitCode.INVALID
