"""kpi.yaml: targets per fiscal year, department and bot; every mistake with its file:line:col."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from framework.errors import InvalidError
from framework.reports.targets import load_targets, project_bots

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "kpi"
GOLDEN = HERE.parent / "golden" / "kpi_invalid.txt"
REPO = HERE.parents[1]
KNOWN = {
    "welfare_entry": "障がい福祉課",
    "welfare_list_export": "障がい福祉課",
    "juminhyo_entry": "市民課",
}


def test_a_good_file() -> None:
    targets = load_targets(DATA / "good.yaml", "kpi.yaml", KNOWN)
    assert sorted(targets.years) == [2025, 2026]
    assert targets.department(2026, "障がい福祉課") == 600
    assert targets.bot(2026, "障がい福祉課", "welfare_entry") == 520
    assert targets.bot(2026, "障がい福祉課", "juminhyo_entry") is None
    assert targets.department(2026, "市民課") == 120
    assert targets.department(2025, "市民課") is None
    assert targets.years[2026]["障がい福祉課"].note == "アクションプログラム No.12"


def test_the_shipped_example_is_valid() -> None:
    bots = project_bots(REPO / "bots")
    assert bots["welfare_entry"][0] == "障がい福祉課"
    known = {bot_id: department for bot_id, (department, _name) in bots.items()}
    targets = load_targets(REPO / "kpi.yaml", "kpi.yaml", known)
    assert set(targets.years[2026]) == {"障がい福祉課"}
    assert set(targets.years[2026]["障がい福祉課"].bots) == {"welfare_entry", "welfare_list_export"}


def _problems(name: str) -> list[str]:
    with pytest.raises(InvalidError) as caught:
        load_targets(DATA / name, f"{name}", KNOWN)
    return [str(p) for p in caught.value.problems]


def test_bad_files_golden() -> None:
    lines = []
    for name in ("many_problems.yaml", "syntax.yaml", "not_years.yaml"):
        lines += _problems(name)
    text = "\n".join(lines) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_every_block_of_the_bad_file_is_reported() -> None:
    found = "\n".join(_problems("many_problems.yaml"))
    for expected in (
        "「hour」という項目はありません。「hours」のことですか？",
        "「welfare_entri」というボットはありません。「welfare_entry」のことですか？",
        "0 より大きい値にしてください",
        "数値で書いてください",
        "「障害福祉課」という課はありません。「障がい福祉課」のことですか？",
        "ボットの目標の合計（130 時間）が課の目標（100 時間）を超えています",
        "ボット juminhyo_entry は 市民課 のボットです",
        "令和8年度が2回書かれています",
        "「令和8年」は年度として読めません",
        "「名前: 値」の形で書いてください",
    ):
        assert expected in found, expected


def test_without_known_bots_only_the_file_itself_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "kpi.yaml"
    path.write_text("R8:\n  新しい課:\n    hours: 10\n    bots: {future_bot: 5}\n", "utf-8")
    assert load_targets(path).bot(2026, "新しい課", "future_bot") == 5
    with pytest.raises(InvalidError, match="future_bot"):
        load_targets(path, known_bots=KNOWN)


def test_an_empty_file_has_no_targets(tmp_path: Path) -> None:
    path = tmp_path / "kpi.yaml"
    path.write_text("# 目標はまだありません\n", "utf-8")
    assert load_targets(path).years == {}
