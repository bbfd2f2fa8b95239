"""Exploration."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from conftest import RunBot, TempProject
from framework.errors import InvalidError


def _book(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["番号", "氏名"])
    ws.append(["1", "山田　太郎"])
    wb.save(path)
    return path

ITEMS = """
items:
  fields: {番号: {type: text}, 氏名: {type: text, pii: true}}
  excel: {}
"""

CASES = [
    ITEMS + """
setup:
  - set: {受付日: "2026/12/01"}
steps:
  - log: "{{ 受付日 }}"
""",
    """
steps:
  - for_each: {items: "[1, 2]", as: n, steps: [{log: "{{ n }}"}]}
  - log: "after {{ loop_index }}"
""",
    """
steps:
  - for_each: {items: "[1, 2]", as: item, steps: [{log: "{{ item }}"}]}
""",
    ITEMS + """
steps:
  - log: "{{ item.氏名 }} を処理 {{ 1 / 0 }}"
""",
    ITEMS + """
steps:
  - log: "{{ item.氏名 }} を処理"
  - fail: "{{ item.氏名 }} は対象外"
""",
    ITEMS + """
steps:
  - browser.read: {css: p, pattern: "(\\\\d+", into: results.x}
""",
]

def test_explore(temp_project: TempProject, run_bot: RunBot, tmp_path: Path) -> None:
    for i, body in enumerate(CASES):
        temp_project.write(f"workflows/t{i}.yaml", body)
        temp_project.bot(f"t{i}", f"t{i}.yaml")
        print("-----", body)
        try:
            result = run_bot(temp_project.project, f"t{i}", input=_book(tmp_path / "i.xlsx") if "items" in body else None)
        except InvalidError as exc:
            print("INVALID", exc)
            continue
        print(result.message, result.exit_code)
        for o in result.outcomes:
            print(o)
        print((result.run_dir/"run.log").read_text()[-700:])
        print((result.run_dir/"run.jsonl").read_text()[-1500:])
    assert 0
