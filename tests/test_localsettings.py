"""This PC's settings (RPA_HOME/settings.yaml): defaults, and errors that point at the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.errors import InvalidError
from framework.localsettings import LocalSettings, load_local_settings, settings_path

KNOWN = ["障がい福祉課", "税務課"]


def _write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = settings_path(home)
    path.write_text(text, encoding="utf-8")
    return path


def _problems(home: Path, known: list[str] | None = KNOWN) -> list[str]:
    with pytest.raises(InvalidError) as caught:
        load_local_settings(home, known)
    return [str(p) for p in caught.value.problems]


def test_a_pc_without_settings_yaml_gets_the_defaults(tmp_path: Path) -> None:
    settings = load_local_settings(tmp_path / "no-such-home", KNOWN)
    assert settings == LocalSettings()
    assert settings.tray.departments is None
    assert settings.tray.recent_runs == 5


@pytest.mark.parametrize(
    "text", ["", "\n\n", "# この PC の設定\n", "---\n", "tray:\n  # departments: []\n"]
)
def test_an_empty_settings_yaml_gives_the_defaults(tmp_path: Path, text: str) -> None:
    _write(tmp_path, text)
    assert load_local_settings(tmp_path, KNOWN) == LocalSettings()


def test_the_departments_and_recent_runs_are_read(tmp_path: Path) -> None:
    _write(tmp_path, "tray:\n  departments: [障がい福祉課, 税務課]\n  recent_runs: 0\n")
    tray = load_local_settings(tmp_path, KNOWN).tray
    assert tray.departments == ["障がい福祉課", "税務課"]
    assert tray.recent_runs == 0


def test_a_misspelt_department_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    path = _write(tmp_path, "# この PC の設定\ntray:\n  departments: [障がい福祉課, 障害福祉課]\n")
    assert _problems(tmp_path) == [
        f"{path}:3:25: tray.departments[1]: 「障害福祉課」という課のボットはありません。"
        "「障がい福祉課」のことですか？"
        " (unknown department '障害福祉課'; did you mean '障がい福祉課'?)"
    ]


def test_a_department_no_bot_belongs_to_lists_the_known_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, "tray:\n  departments:\n    - 国保年金課\n")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(f"{path}:3:7: tray.departments[0]: 「国保年金課」という課のボット")
    assert "税務課" in problem and "障がい福祉課" in problem


def test_every_misspelt_department_is_reported_in_file_order(tmp_path: Path) -> None:
    _write(tmp_path, "tray:\n  departments:\n    - 障害福祉課\n    - 税務課\n    - 税務\n")
    problems = _problems(tmp_path)
    assert [p.split(": ")[0].rsplit(":", 2)[1:] for p in problems] == [["3", "7"], ["5", "7"]]


def test_any_department_is_accepted_when_the_projects_are_not_known(tmp_path: Path) -> None:
    _write(tmp_path, "tray:\n  departments: [どこかの課]\n")
    assert load_local_settings(tmp_path).tray.departments == ["どこかの課"]


def test_a_misspelt_setting_gets_a_did_you_mean(tmp_path: Path) -> None:
    path = _write(tmp_path, "tray:\n  department: [税務課]\n")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(f"{path}:2:3: tray.department: ")
    assert "「departments」のことですか" in problem


def test_an_unknown_section_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "tray: {}\nscheduler: {}\n")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(f"{path}:2:1: scheduler: ")


@pytest.mark.parametrize(("value", "col"), [("-1", 16), ("21", 16), ("たくさん", 16)])
def test_recent_runs_must_be_a_number_from_0_to_20(tmp_path: Path, value: str, col: int) -> None:
    path = _write(tmp_path, f"tray:\n  recent_runs: {value}\n")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(f"{path}:2:{col}: tray.recent_runs: ")


def test_a_yaml_syntax_error_points_at_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "tray:\n  departments: [障がい福祉課\n")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(f"{path}:")
    assert "YAML" in problem


def test_settings_that_are_not_a_mapping_are_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "- tray\n")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(f"{path}:1:1: ")
