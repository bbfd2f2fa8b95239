"""`rpa schedule`, `rpa scheduler status` and the schedules in `rpa validate` (file:line:col)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, TempProject

from framework.cli import main
from framework.scheduler import Scheduler


def test_welfare_bot_skips_the_year_end(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--project", str(REPO), "schedule", "welfare_entry", "--from", "2026-12-28"]
    assert main([*args, "--count", "5"]) == 0
    out = capsys.readouterr().out
    runs = out.split("次の実行 (next runs):\n")[1].split("  この間の")[0]
    assert runs.splitlines() == [
        "    2026-12-28 (月) 19:00",
        "    2027-01-04 (月) 19:00",
        "    2027-01-05 (火) 19:00",
        "    2027-01-06 (水) 19:00",
        "    2027-01-07 (木) 19:00",
    ]
    assert "    2027-01-01 (金) 19:00  祝日: 元日 (national holiday)、年末年始" in out
    assert "遅れても 07:30 まで実行" in out


def test_json_for_every_bot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(REPO), "schedule", "--from", "2026-05-01", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)  # welfare_list_export has no schedule
    assert row["bot_id"] == "welfare_entry" and row["schedule"] == "夜間入力"
    assert row["runs"][:3] == [
        "2026-05-01T19:00:00+09:00",
        "2026-05-07T19:00:00+09:00",
        "2026-05-08T19:00:00+09:00",
    ]
    assert [s["time"][:10] for s in row["skipped"]] == ["2026-05-04", "2026-05-05", "2026-05-06"]


def test_a_bot_without_schedules(
    temp_project: TempProject, capsys: pytest.CaptureFixture[str]
) -> None:
    temp_project.write("workflows/w.yaml", "steps:\n  - log: x\n")
    temp_project.bot("plain", "w.yaml")
    assert main(["--project", str(temp_project.root), "schedule", "plain"]) == 0
    assert "ボット plain にはスケジュールがありません" in capsys.readouterr().out


def test_schedule_mistakes_point_at_the_line(
    temp_project: TempProject, capsys: pytest.CaptureFixture[str]
) -> None:
    temp_project.write(
        "workflows/items.yaml",
        """
        items:
          fields:
            氏名: {type: text}
          excel: {}
        steps:
          - log: "{{ item.氏名 }}"
        """,
    )
    temp_project.write(
        "bots/night/bot.yaml",
        """
        name: 夜間
        department: テスト課
        workflow: items.yaml
        baseline: {minutes_per_item: 1, measured_by: テスト, measured_on: 2026-10-01}
        schedules:
          - cron: "0 19 * * fri-mon"
            timezone: Asia/Tokio
          - name: 朝
            cron: "0 7 * * *"
            catch_up_until: "7時半"
            calendar: dates
          - name: 朝
            cron: "0 8 * * *"
            calender: every_day
        """,
    )
    assert main(["--project", str(temp_project.root), "validate"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("bots/")]
    assert lines == [
        "bots/night/bot.yaml:6:11: schedules[0].cron: 曜日: 範囲は小さい方から書いてください:"
        " 'fri-mon' (range start after its end in day_of_week)",
        "bots/night/bot.yaml:7:15: schedules[0].timezone: タイムゾーン「Asia/Tokio」はありません。"
        "例: Asia/Tokyo (unknown time zone)",
        "bots/night/bot.yaml:8:5: schedules[1].dates: calendar: dates のときは dates に実行する日を"
        "書いてください (dates is required)",
        'bots/night/bot.yaml:10:21: schedules[1].catch_up_until: 時刻を "07:30" の形で'
        "書いてください: '7時半' (expected a time of day HH:MM)",
        "bots/night/bot.yaml:14:5: schedules[2].calender: 「calender」という項目はありません。"
        "「calendar」のことですか？ (unknown field 'calender'; did you mean 'calendar'?)",
    ]


def test_duplicate_names_and_a_missing_input(
    temp_project: TempProject, capsys: pytest.CaptureFixture[str]
) -> None:
    temp_project.write(
        "workflows/items.yaml",
        "items:\n  fields:\n    氏名: {type: text}\n  excel: {}\nsteps:\n  - log: x\n",
    )
    path = temp_project.write(
        "bots/night/bot.yaml",
        """
        name: 夜間
        department: テスト課
        workflow: items.yaml
        baseline: {minutes_per_item: 1, measured_by: テスト, measured_on: 2026-10-01}
        schedules:
          - {name: 夜, cron: "0 19 * * *"}
          - {name: 夜, cron: "0 20 * * *"}
        """,
    )
    assert main(["--project", str(temp_project.root), "validate"]) == 2
    assert "bots/night/bot.yaml:6:3: schedules: 同じ名前のスケジュールが2つあります: '夜'" in (
        capsys.readouterr().err
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace('  - {name: 夜, cron: "0 20 * * *"}\n', ""),
        encoding="utf-8",
    )
    assert main(["--project", str(temp_project.root), "validate"]) == 2
    assert (
        "bots/night/bot.yaml:6:5: schedules[0]: 予定実行の入力がありません。"
        "input（受付フォルダなど）か input.default を書いてください" in capsys.readouterr().err
    )


def test_status_when_nothing_runs(rpa_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(REPO), "scheduler", "status"]) == 3
    assert "スケジューラは動いていません (not running)" in capsys.readouterr().out
    assert main(["--project", str(REPO), "scheduler", "--reload"]) == 3
    capsys.readouterr()
    assert main(["--project", str(REPO), "scheduler", "status", "--json"]) == 3
    assert json.loads(capsys.readouterr().out) == {
        "running": False,
        "healthy": False,
        "age_seconds": None,
        "heartbeat": None,
    }


def test_status_of_a_running_scheduler(
    temp_project: TempProject, rpa_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    temp_project.write("workflows/w.yaml", "steps:\n  - log: x\n")
    temp_project.write(
        "bots/night/bot.yaml",
        """
        name: 夜間
        department: テスト課
        workflow: w.yaml
        baseline: {minutes_per_item: 1, measured_by: テスト, measured_on: 2026-10-01}
        schedules:
          - {name: 夜, cron: "0 19 * * mon-fri"}
        """,
    )
    scheduler = Scheduler(temp_project.project, rpa_home)
    scheduler.start()
    try:
        assert main(["--project", str(temp_project.root), "scheduler", "status"]) == 0
        out = capsys.readouterr().out
        assert "動作中 (running)" in out and "night" in out and " 19:00 " in out
        assert main(["--project", str(temp_project.root), "scheduler", "status", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["running"] and data["healthy"]
        assert data["heartbeat"]["jobs"][0]["next_fire"].endswith("T19:00:00+09:00")
        second = Scheduler(temp_project.project, rpa_home)
        with pytest.raises(Exception, match="スケジューラは既に動いています"):
            second.start()
    finally:
        scheduler.shutdown()
    assert main(["--project", str(temp_project.root), "scheduler", "status"]) == 3
