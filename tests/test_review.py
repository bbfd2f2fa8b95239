"""Items that need review (要確認): reported until staff record what they found."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunBot, TempProject
from openpyxl import Workbook

from framework.cli import main
from framework.outcome import ItemStatus

WORKFLOW = """
items:
  fields: {番号: {type: text}}
  key: [番号]
  excel: {}
steps:
  - log: "{{ item.番号 }} を登録します"
    commit: true
  - excel.read_rows: {file: no-such-file.xlsx, into: x}
    when: settings.fail == 'yes'
"""


@pytest.fixture
def browser() -> None:
    """No browser: these workflows only log and read workbooks."""
    return None


def _input(tmp_path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["番号"])
    sheet.append(["A-1"])
    sheet.append(["A-2"])
    path = tmp_path / "in.xlsx"
    book.save(path)
    return path


def test_needs_review_until_staff_record_the_answer(
    temp_project: TempProject,
    run_bot: RunBot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    temp_project.write("workflows/w.yaml", WORKFLOW)
    temp_project.bot("b", "w.yaml", settings="{fail: 'no'}")
    path = _input(tmp_path)
    project = temp_project.project

    # a failure after the commit step, and no `check`: kakari cannot know, so it asks a person
    first = run_bot(project, "b", input=path, overrides={"fail": "yes"})
    assert [o.status for o in first.outcomes] == [ItemStatus.NEEDS_REVIEW] * 2
    assert first.run_dir is not None and (first.run_dir / "exceptions.xlsx").exists()

    # a later run does not enter them silently
    second = run_bot(project, "b", input=path)
    assert [o.status for o in second.outcomes] == [ItemStatus.NEEDS_REVIEW] * 2
    assert "rpa review" in second.outcomes[0].message
    assert second.record is not None

    # staff checked the system: A-1 is there, A-2 is not
    base = ["--project", str(project.root), "review", second.record.id]
    assert main([*base, "1", "--entered", "--note", "一覧で確認"]) == 0
    assert main([*base, "2", "--not-entered"]) == 0
    assert "登録済み (entered) と記録しました" in capsys.readouterr().out

    third = run_bot(project, "b", input=path)
    assert [o.status for o in third.outcomes] == [ItemStatus.SKIPPED, ItemStatus.DONE]
    assert "が確認" in third.outcomes[0].message


def test_review_refuses_items_that_do_not_need_it(
    temp_project: TempProject,
    run_bot: RunBot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    temp_project.write("workflows/w.yaml", WORKFLOW)
    temp_project.bot("b", "w.yaml", settings="{fail: 'no'}")
    done = run_bot(temp_project.project, "b", input=_input(tmp_path))
    assert done.record is not None
    code = main(
        ["--project", str(temp_project.root), "review", done.record.id, "1", "9", "--entered"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "要確認の申請ではありません（登録済み）" in err
    assert "No.9: その申請はありません" in err
