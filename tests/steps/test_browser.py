"""Exploration."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from conftest import DEMO_CREDENTIALS, RunBot, TempProject
from framework.practice import PracticeServer, PracticeConfig

REPO = Path(__file__).resolve().parents[2]


def _bot(tp: TempProject, practice: PracticeServer, body: str) -> None:
    name = "welfare_login.yaml"
    tp.write(f"workflows/{name}", (REPO / "workflows" / name).read_text(encoding="utf-8"))
    tp.write("workflows/t.yaml", body)
    tp.bot(
        "t",
        "t.yaml",
        settings=f"{{target_url: '{practice.url}'}}",
        credentials="{welfare_system: [username, password]}",
    )

def _book(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["番号"])
    ws.append(["1"])
    wb.save(path)
    return path

ITEMS = """
items:
  fields: {番号: {type: text}}
  excel: {}
setup:
  - call: welfare_login.yaml
steps:
"""

def test_explore(temp_project: TempProject, run_bot: RunBot, tmp_path: Path) -> None:
    for cfg, steps in [
        (PracticeConfig(), "  - browser.goto: '{{ settings.target_url }}/applications/new'\n  - browser.check: {label: 区分}\n"),
        (PracticeConfig(), "  - browser.goto: '{{ settings.target_url }}/applications/new'\n  - browser.check: {label: 区分, nth: 3}\n  - browser.read: {css: 'input:checked', attribute: value, into: results.v}\n"),
        (PracticeConfig(), "  - browser.goto: '{{ settings.target_url }}/applications/new'\n  - browser.click: {role: button}\n"),
        (PracticeConfig(), "  - browser.goto: '{{ settings.target_url }}/applications/new'\n  - browser.click: {role: button, within: {css: form.search}}\n"),
        (PracticeConfig(), "  - browser.goto: '{{ settings.target_url }}/applications'\n  - browser.read: {text: 該当件数, pattern: '(\\d+)件', into: results.n}\n  - browser.read_table: {css: table, into: rows}\n  - log: '{{ rows }}'\n  - browser.wait_for: {url: '**/applications'}\n"),
        (PracticeConfig(), "  - browser.goto: '{{ settings.target_url }}/applications'\n  - browser.read: {text: 該当件数, pattern: 'X(\\d+)', into: results.n}\n"),
        (PracticeConfig(), "  - browser.goto: '{{ settings.target_url }}/applications'\n  - browser.wait_for: {url: '**/menu'}\n"),
    ]:
        with PracticeServer(cfg) as practice:
            _bot(temp_project, practice, ITEMS + steps)
            result = run_bot(temp_project.project, "t", input=_book(tmp_path / "i.xlsx"), credentials=DEMO_CREDENTIALS, timeout_ms=2000)
            print("----", steps)
            print(result.message, result.exit_code)
            for o in result.outcomes:
                print(o)
            print((result.run_dir/"run.log").read_text()[-600:])
    assert 0
