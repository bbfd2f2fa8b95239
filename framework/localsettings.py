"""This PC's own settings (``RPA_HOME/settings.yaml``): which departments' bots the tray lists.

::

    tray:
      departments: [障がい福祉課]   # the bots of these departments; absent: every department
      recent_runs: 5               # how many recent runs the tray's menu lists

The file is optional (absent or empty: defaults) and is checked like every other file, so a
mistake is reported as ``settings.yaml:2:18: tray.departments[0]: ...`` with a "did you mean"
against the departments the project's bots belong to.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from pydantic import Field, field_validator

from framework.errors import InvalidError, Problem, unknown_name
from framework.model import Strict
from framework.pydantic_yaml import validate_at
from framework.yamlio import load_yaml

SETTINGS_FILE = "settings.yaml"


class TraySettings(Strict):
    """``tray:`` — what this PC's tray shows."""

    departments: list[str] | None = None
    """Departments (as in each bot's ``department``) whose bots are listed; None: all."""
    recent_runs: int = Field(default=5, ge=0, le=20)
    """How many recent runs the menu lists."""


class LocalSettings(Strict):
    """``RPA_HOME/settings.yaml``."""

    tray: TraySettings = Field(default_factory=TraySettings)

    @field_validator("tray", mode="before")
    @classmethod
    def _empty_section(cls, value: object) -> object:
        return {} if value is None else value  # `tray:` with everything commented out


def settings_path(home_root: Path) -> Path:
    return home_root / SETTINGS_FILE


def load_local_settings(
    home_root: Path, known_departments: Collection[str] | None = None
) -> LocalSettings:
    """Read and check this PC's settings; raise :class:`InvalidError` listing every problem.

    ``known_departments`` (the departments of the project's bots) turns a misspelt department,
    which would silently list nothing, into an error with a "did you mean".
    """
    path = settings_path(home_root)
    if not path.exists():
        return LocalSettings()
    doc = load_yaml(path, str(path))
    if doc.data is None:
        return LocalSettings()
    problems: list[Problem] = []
    settings = validate_at(doc, (), LocalSettings, doc.data, problems)
    if settings is not None and known_departments is not None:
        for index, name in enumerate(settings.tray.departments or []):
            if name not in known_departments:
                problems.append(
                    doc.problem(
                        ("tray", "departments", index),
                        unknown_name("課のボット", "department", name, sorted(known_departments)),
                    )
                )
    if problems or settings is None:
        raise InvalidError(problems)
    return settings
