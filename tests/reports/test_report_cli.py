"""`rpa report` and `rpa runs` in child processes, on a run log made by real runs of the welfare
bots against the practice system plus synthetic runs (aborted runs, exceptions, a baseline change
mid-year, the fiscal-year boundary). Every total is checked against sums taken from the raw rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from kpi_rows import add_synthetic, expected_from_db
from ruamel.yaml import YAML

from framework.practice import PracticeConfig, PracticeServer
from framework.runlog import SqliteRunLog

REPO = Path(__file__).resolve().parents[2]
FY2026 = ("2026-04-01", "2027-03-31")


def rpa(*args: str, home: Path, project: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RPA_")}
    env |= {
        "RPA_HOME": str(home),
        "RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME": "demo",
        "RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD": "demo-pass",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "rpa"), "--project", str(project), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A run log with two real runs (entry and list export) and the synthetic runs."""
    from framework.practice.applicants import generate_applicants
    from framework.practice.samples import write_workbook

    folder = tmp_path_factory.mktemp("kpi")
    home = folder / "var"
    workbook = folder / "three.xlsx"
    write_workbook(workbook, generate_applicants(3, seed=31), messy=False)
    with PracticeServer(PracticeConfig()) as practice:
        target = f"target_url={practice.url}"
        entered = rpa("run", "welfare_entry", "-i", str(workbook), "--set", target, home=home)
        assert entered.returncode == 0, entered.stderr
        exported = rpa("run", "welfare_list_export", "--set", target, home=home)
        assert exported.returncode == 0, exported.stderr
    store = SqliteRunLog(home / "runlog.sqlite3")
    try:
        add_synthetic(store)
    finally:
        store.close()
    yield home


def _report_path(stdout: str) -> Path:
    match = re.search(r"^レポート \(report\): (.+)$", stdout, re.MULTILINE)
    assert match, stdout
    return Path(match.group(1))


def test_fy2026_in_every_format_equals_the_raw_rows(home: Path, tmp_path: Path) -> None:
    [expected] = expected_from_db(home / "runlog.sqlite3", *FY2026).values()
    real = expected_from_db(home / "runlog.sqlite3", "2026-11-27", "2026-11-27", "bot_id")
    # the two real runs are in the figures: 3 applications entered, one list exported
    assert real["welfare_entry"].done == 3 and real["welfare_list_export"].runs == 1

    done = rpa("report", "--period", "FY2026", "--format", "json", "--out", "-", home=home)
    assert done.returncode == 0, done.stderr
    total = json.loads(done.stdout)["total"]
    assert total["runs"] == expected.runs
    assert total["running"] == expected.running == 1
    assert total["aborted"] == expected.aborted
    assert total["runs_needing_person"] == expected.needing_person
    assert total["items"]["done"] == expected.done
    assert total["exception_items"] == expected.exceptions
    assert total["minutes_saved"] == pytest.approx(expected.minutes, abs=0.01)

    csv_out = tmp_path / "r.csv"
    done = rpa("report", "--period", "R8", "--format", "csv", "--out", str(csv_out), home=home)
    assert done.returncode == 0, done.stderr
    assert _report_path(done.stdout) == csv_out
    data = csv_out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[-1]["担当課"] == "合計"
    assert int(rows[-1]["実行回数"]) == expected.runs
    assert float(rows[-1]["削減時間（分）"]) == pytest.approx(expected.minutes, abs=0.01)
    by_department = expected_from_db(home / "runlog.sqlite3", *FY2026, "department")
    for row in rows[:-1]:
        want = by_department.get(row["担当課"])
        assert float(row["削減時間（分）"]) == pytest.approx(want.minutes if want else 0, abs=0.01)

    done = rpa("report", "--period", "令和8年度", home=home)
    assert done.returncode == 0, done.stderr
    xlsx = _report_path(done.stdout)
    assert xlsx.parent == home / "reports"
    assert re.fullmatch(r"kpi-FY2026-\d{8}-\d{6}\.xlsx", xlsx.name)
    book = openpyxl.load_workbook(xlsx)
    detail = list(book["実行明細"].iter_rows(values_only=True))
    assert len(detail) - 1 == expected.runs
    minutes = detail[0].index("削減時間（分）")
    assert sum(r[minutes] for r in detail[1:]) == pytest.approx(expected.minutes)
    assert len(book["集計"]._charts) == 2

    html_out = tmp_path / "r.html"
    done = rpa(
        "report", "--period", "FY2026", "--format", "html", "--out", str(html_out), home=home
    )
    assert done.returncode == 0, done.stderr
    assert f"{expected.minutes / 60:,.1f}" in html_out.read_text(encoding="utf-8")


def test_the_table_on_screen(home: Path, tmp_path: Path) -> None:
    done = rpa("report", "--period", "FY2026", "--by", "bot", "--out", str(tmp_path), home=home)
    assert done.returncode == 0, done.stderr
    assert "削減時間 令和8年度（2026年4月1日〜2027年3月31日）" in done.stdout
    for text in ("welfare_entry", "welfare_list_export", "juminhyo_entry", "合計"):
        assert text in done.stdout
    assert "実行中の 1 件は集計に含めていません" in done.stdout
    assert _report_path(done.stdout).parent == tmp_path
    # the shipped kpi.yaml: 障がい福祉課 600 h, welfare_entry 520 h
    targets = YAML(typ="safe").load((REPO / "kpi.yaml").read_text(encoding="utf-8"))
    assert str(targets["令和8年度"]["障がい福祉課"]["bots"]["welfare_entry"]) in done.stdout
    months = rpa(
        "report", "--period", "FY2026", "--by", "month", "--format", "csv", "--out", "-", home=home
    )
    labels = [row.split(",")[1] for row in months.stdout.splitlines()[1:]]
    assert labels[:2] == ["2026年4月", "2026年5月"] and labels[-2:] == ["2027年3月", "合計"]


def test_an_empty_period_is_a_report(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    done = rpa("report", "--period", "2030-01", "--out", str(out), home=home)
    assert done.returncode == 0, done.stderr
    assert "この期間の実行はありません (no runs in this period)" in done.stdout
    book = openpyxl.load_workbook(out)
    assert book["実行明細"]["A2"].value == "この期間の実行はありません (no runs in this period)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2026-13"), "--period: 「2026-13」は期間として読めません"),
        (("--period", "R8", "--from", "2026-04-01"), "同時に指定できません"),
        (("--from", "2026-05-01", "--to", "2026-04-01"), "--from/--to: 開始日 2026-05-01 が終了日"),
        (("--from", "2026-04-31"), "--from の「2026-04-31」は日付として読めません"),
        (("--format", "pdf"), "エラー:"),
        (("--format", "xlsx", "--out", "-"), "xlsx は標準出力に書けません"),
        (("--format", "csv", "--out", "{home}/runlog.sqlite3/r.csv"), "に書き込めません"),
    ],
)
def test_wrong_input_exits_2_with_a_japanese_message(
    home: Path, args: tuple[str, ...], message: str
) -> None:
    done = rpa("report", *[a.format(home=home) for a in args], home=home)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    leftovers = list((home / "reports").glob(".kakari-*")) if (home / "reports").exists() else []
    assert leftovers == []


def test_a_malformed_kpi_yaml_is_refused_with_its_line(home: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO / "bots", project / "bots", ignore=shutil.ignore_patterns("sample"))
    (project / "kpi.yaml").write_text(
        "令和8年度:\n  障がい福祉課:\n    hour: 600\n    bots: {welfare_entyr: 10}\n",
        encoding="utf-8",
    )
    done = rpa("report", "--period", "FY2026", home=home, project=project)
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[:3] == [
        "kpi.yaml:2:3: 令和8年度.障がい福祉課.hours: 必須の項目がありません (required)",
        "kpi.yaml:3:5: 令和8年度.障がい福祉課.hour: 「hour」という項目はありません。"
        "「hours」のことですか？ (unknown field 'hour'; did you mean 'hours'?)",
        "kpi.yaml:4:12: 令和8年度.障がい福祉課.bots.welfare_entyr: 「welfare_entyr」という"
        "ボットはありません。「welfare_entry」のことですか？ (unknown bot 'welfare_entyr';"
        " did you mean 'welfare_entry'?)",
    ]
    assert "レポートは作成していません (no report written)" in done.stderr


def test_runs_filters(home: Path) -> None:
    def ids(*args: str) -> list[str]:
        done = rpa("runs", "--json", "--limit", "100", *args, home=home)
        assert done.returncode == 0, done.stderr
        return [run["id"] for run in json.loads(done.stdout)]

    assert ids("--department", "市民課") == ["s09"]
    assert ids("--status", "aborted", "--period", "FY2026") == ["s07", "s06"]
    assert ids("--bot", "welfare_entry", "--from", "2026-04-01", "--to", "2026-04-01") == ["s05"]
    assert ids("--period", "2026-03") == ["s04"]
    assert ids("--status", "running") == ["s12"]
    [expected] = expected_from_db(home / "runlog.sqlite3", *FY2026).values()
    assert len(ids("--period", "FY2026")) == expected.runs + expected.running
    table = rpa("runs", "--period", "R7", home=home)
    assert "s04" in table.stdout and "s05" not in table.stdout
    wrong = rpa("runs", "--period", "来年度", home=home)
    assert wrong.returncode == 2
    assert "「来年度」は期間として読めません" in wrong.stderr
