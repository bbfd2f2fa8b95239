"""Tests for the control steps: for_each, if, set, call, log and fail, run through the runner.

No browser is started: no step here asks for a page, and ``browser`` is overridden to None.
Outcomes are checked where they land: the item outcomes of the run, the workbooks it writes and
its log files (run.log, run.jsonl).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from conftest import RunBot, TempProject, book_of_rows
from openpyxl import load_workbook

from framework.errors import InvalidError
from framework.outcome import ItemStatus
from framework.runner import RunResult


def reason(message: str) -> str:
    """A system error's message without the step position the runner adds for IT staff."""
    return re.sub(r" \[workflows/\S+ \S+\]$", "", message)


NAME = "山田\u3000太郎"


@pytest.fixture
def browser() -> None:
    """No shared Chromium for this file: control steps never ask for a page."""


def _project(tp: TempProject, workflow: str, **others: str) -> None:
    """The bot ``t`` running ``workflows/t.yaml``; ``others`` are more workflows by file name."""
    tp.write("workflows/t.yaml", workflow)
    for name, text in others.items():
        tp.write(f"workflows/{name}", text)
    tp.bot("t", "t.yaml", settings="{町名: 本町}")


def _run(
    run_bot: RunBot, tp: TempProject, rows: Sequence[Mapping[str, object]] | None = None
) -> RunResult:
    book = book_of_rows(tp.root / "input.xlsx", rows) if rows is not None else None
    return run_bot(tp.project, "t", input=book)


def _log(result: RunResult, name: str = "run.log") -> str:
    assert result.run_dir is not None
    return (result.run_dir / name).read_text(encoding="utf-8")


def _messages(result: RunResult) -> list[str]:
    """The messages of run.log (without time and level), in order."""
    return [line.split(" | ", 2)[2] for line in _log(result).splitlines() if " | " in line]


def _sheet(path: Path) -> list[list[object]]:
    wb = load_workbook(path, read_only=True)
    try:
        ws = wb.active
        assert ws is not None
        return [list(row) for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _problems(tp: TempProject, run_bot: RunBot) -> list[str]:
    with pytest.raises(InvalidError) as caught:
        run_bot(tp.project, "t")
    return [str(p) for p in caught.value.problems]


# -- for_each, set, if, when ----------------------------------------------------------------------


def test_for_each_walks_a_list_with_its_name_and_loop_index(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    steps:
      - for_each:
          items: "['一丁目', '二丁目', '三丁目']"
          as: 丁目
          steps:
            - excel.append_row:
                file: 住所一覧.xlsx
                values: {番号: "{{ loop_index }}", 住所: "{{ settings.町名 }}{{ 丁目 }}"}
      - for_each:
          items: range(1, 3)
          steps:
            - for_each:
                items: "['a', 'b']"
                as: 内
                steps: [log: "内 {{ entry }}{{ 内 }}{{ loop_index }}"]
            - log: "外 {{ entry }} loop_index={{ loop_index }}"
    """
    _project(temp_project, workflow)
    result = _run(run_bot, temp_project)
    assert result.exit_code == 0, result.message
    assert result.run_dir is not None

    assert _sheet(result.run_dir / "住所一覧.xlsx") == [
        ["番号", "住所"],
        ["1", "本町一丁目"],
        ["2", "本町二丁目"],
        ["3", "本町三丁目"],
    ]
    logged = [m for m in _messages(result) if m.startswith(("内 ", "外 "))]
    assert logged == [
        "内 1a1",
        "内 1b2",
        "外 1 loop_index=1",  # the inner loop gave the outer loop_index back
        "内 2a1",
        "内 2b2",
        "外 2 loop_index=2",
    ]


def test_for_each_gives_back_a_variable_of_the_same_name_even_when_it_is_empty(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    steps:
      - excel.find_row: {file: 台帳.xlsx, match: {番号: "999"}, into: row}
      - for_each: {items: "[1, 2]", as: row, steps: [log: "row {{ row }}"]}
      - log: "見つからなかった: {{ row is none }}"
    """
    _project(temp_project, workflow)
    book_of_rows(
        temp_project.root / "bots" / "t" / "台帳.xlsx", [{"番号": "1", "氏名": "本町 花子"}]
    )
    result = _run(run_bot, temp_project)

    assert result.exit_code == 0, result.message
    assert "見つからなかった: True" in _messages(result)


def test_for_each_refuses_a_value_that_is_not_a_list(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {番号: {type: text}}
      excel: {}
    steps:
      - for_each: {items: item.番号, steps: [log: "{{ entry }}"]}
    """
    _project(temp_project, workflow)
    (outcome,) = _run(run_bot, temp_project, [{"番号": "123"}]).outcomes
    assert (outcome.status, reason(outcome.message)) == (
        ItemStatus.SYSTEM_ERROR,
        "for_each の items はリストにしてください: item.番号 (items must be a list)",
    )


def test_set_keeps_text_for_later_steps_and_when_skips_a_step(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    steps:
      - set: {件数: "{{ 1 + 2 }}", 宛名: "{{ settings.町名 }}町内会"}
      - log: "件数は{{ 件数 }}件、宛名は{{ 宛名 }}"
      - log: 数値ではなく文字として比べる
        when: 件数 == '3'
      - log: ここは飛ばされる
        when: 件数 == 3
      - log: {message: "{{ 宛名 }} 確認してください", level: warning}
    """
    _project(temp_project, workflow)
    result = _run(run_bot, temp_project)
    assert result.exit_code == 0, result.message

    messages = _messages(result)
    assert "件数は3件、宛名は本町町内会" in messages
    assert "数値ではなく文字として比べる" in messages
    assert "ここは飛ばされる" not in messages
    assert "| WARNING | 本町町内会 確認してください" in _log(result)


def test_nested_if_then_else_and_fail_decide_each_item(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {番号: {type: text}, 支給量: {type: integer}}
      excel: {}
    steps:
      - if:
          condition: item.支給量 > 100
          then:
            - if:
                condition: item.支給量 > 300
                then:
                  - fail: 支給量 {{ item.支給量 }} 時間は上限（300時間）を超えています
                else:
                  - set: {判定: 多い}
          else:
            - set: {判定: 少ない}
      - excel.append_row: {file: 判定.xlsx, values: {番号: "{{ item.番号 }}", 判定: "{{ 判定 }}"}}
      - log: "{{ item.番号 }} は要確認"
        when: 判定 == '多い'
    """
    _project(temp_project, workflow)
    rows = [{"番号": "1", "支給量": 50}, {"番号": "2", "支給量": 150}, {"番号": "3", "支給量": 400}]
    result = _run(run_bot, temp_project, rows)

    assert [(o.status, o.message) for o in result.outcomes] == [
        (ItemStatus.DONE, ""),
        (ItemStatus.DONE, ""),
        (ItemStatus.BUSINESS_ERROR, "支給量 400 時間は上限（300時間）を超えています"),
    ]
    assert result.run_dir is not None
    assert _sheet(result.run_dir / "判定.xlsx") == [
        ["番号", "判定"],
        ["1", "少ない"],
        ["2", "多い"],
    ]
    messages = _messages(result)
    assert "2 は要確認" in messages and "1 は要確認" not in messages


def test_an_empty_optional_field_is_false_in_a_condition_and_prints_as_nothing(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {番号: {type: text}, 備考: {type: text, required: false}}
      excel: {}
    steps:
      - if:
          condition: item.備考
          then: [log: "{{ item.番号 }} 備考あり: {{ item.備考 }}"]
          else: [log: "{{ item.番号 }} 備考なし"]
      - log: "{{ item.番号 }} 備考欄: [{{ item.備考 }}]"
    """
    _project(temp_project, workflow)
    result = _run(
        run_bot, temp_project, [{"番号": "1", "備考": "通院中"}, {"番号": "2", "備考": None}]
    )

    assert [o.status for o in result.outcomes] == [ItemStatus.DONE, ItemStatus.DONE]
    logged = [m for m in _messages(result) if m.startswith(("1 ", "2 "))]
    assert logged == ["1 備考あり: 通院中", "1 備考欄: [通院中]", "2 備考なし", "2 備考欄: []"]


def test_a_template_that_fails_at_run_time_names_the_step_line(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {番号: {type: text}, 支給量: {type: integer}, 分母: {type: integer}}
      excel: {}
    steps:
      - if:
          condition: item.支給量 > 100
          then:
            - set: {率: "{{ item.支給量 // item.分母 }}"}
      - log: "{{ item.番号 }}: 率 {{ 率 }}"
    """
    _project(temp_project, workflow)
    rows = [
        {"番号": "1", "支給量": 150, "分母": 3},
        {"番号": "2", "支給量": 150, "分母": 0},  # divides by zero inside `then`
        {"番号": "3", "支給量": 50, "分母": 1},  # `then` not taken: 率 was never set
    ]
    result = _run(run_bot, temp_project, rows)

    division = "テンプレートを展開できません: integer division or modulo by zero (template error)"
    undefined = "テンプレートの名前が定義されていません: '率' is undefined (undefined name)"
    assert [(o.status, reason(o.message)) for o in result.outcomes] == [
        (ItemStatus.DONE, ""),
        (ItemStatus.SYSTEM_ERROR, division),
        (ItemStatus.SYSTEM_ERROR, undefined),
    ]
    messages = _messages(result)
    assert "1: 率 50" in messages
    assert f"workflows/t.yaml:8:11 set: {division}" in messages
    assert f"workflows/t.yaml:9:5 log: {undefined}" in messages


# -- call ---------------------------------------------------------------------------------------

NOTIFY = """
steps:
  - log: "呼び出し先: {{ 挨拶 }} → {{ 宛先 }}"
  - set: {送信結果: "{{ 宛先 }}へ送信しました"}
"""


def test_call_runs_another_workflow_with_params_that_do_not_leak(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    steps:
      - set: {挨拶: 外の値}
      - call:
          workflow: notify.yaml
          with: {挨拶: "{{ 挨拶 }}を上書き", 宛先: "{{ settings.町名 }}福祉課"}
      - log: "呼び出し後: {{ 挨拶 }} / {{ 送信結果 }}"
    """
    _project(temp_project, workflow, **{"notify.yaml": NOTIFY})
    result = _run(run_bot, temp_project)
    assert result.exit_code == 0, result.message

    messages = _messages(result)
    assert "呼び出し先: 外の値を上書き → 本町福祉課" in messages
    # 挨拶 is the caller's again; 宛先 is gone; what the callee set stays
    assert "呼び出し後: 外の値 / 本町福祉課へ送信しました" in messages


def test_a_with_param_is_unknown_after_the_call(temp_project: TempProject, run_bot: RunBot) -> None:
    workflow = """
    steps:
      - call: {workflow: notify.yaml, with: {挨拶: こんにちは, 宛先: 福祉課}}
      - log: "{{ 宛先 }}"
    """
    _project(temp_project, workflow, **{"notify.yaml": NOTIFY})
    assert _problems(temp_project, run_bot) == [
        "workflows/t.yaml:3:10: steps[1].log.message: 「宛先」という名前はありません。"
        "使えるもの: credentials, run, settings, today, 送信結果 (unknown name '宛先')"
    ]


def test_a_call_cycle_is_refused_before_running_with_the_whole_chain(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    _project(
        temp_project,
        "steps:\n  - log: 開始\n  - call: a.yaml\n",
        **{"a.yaml": "steps:\n  - call: b.yaml\n", "b.yaml": "steps:\n  - call: a.yaml\n"},
    )
    assert _problems(temp_project, run_bot) == [
        "workflows/b.yaml:2:5: steps[0].call.workflow: 呼び出しが循環しています:"
        " workflows/t.yaml → workflows/a.yaml → workflows/b.yaml → workflows/a.yaml (call cycle)"
    ]


def test_calling_a_missing_workflow_is_refused(temp_project: TempProject, run_bot: RunBot) -> None:
    _project(temp_project, "steps:\n  - log: 開始\n  - call: ログイン.yaml\n")
    assert _problems(temp_project, run_bot) == [
        "workflows/t.yaml:3:5: steps[1].call.workflow: 呼び出すワークフローが見つかりません:"
        " workflows/ログイン.yaml (called workflow not found)"
    ]


def test_reserved_or_invalid_names_cannot_be_bound_by_for_each_or_with(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    steps:
      - log: 開始
      - for_each: {items: "[1]", as: item, steps: [log: x]}
      - for_each: {items: "[1]", as: 1番, steps: [log: x]}
      - call: {workflow: notify.yaml, with: {settings: x, 挨拶: a, 宛先: b}}
    """
    _project(temp_project, workflow, **{"notify.yaml": NOTIFY})
    assert _problems(temp_project, run_bot) == [
        "workflows/t.yaml:3:34: steps[1].for_each.as: 「item」は予約された名前です (reserved name)",
        "workflows/t.yaml:4:34: steps[2].for_each.as: 名前として使えません: '1番'"
        " (not a valid name)",
        "workflows/t.yaml:5:41: steps[3].call.with: 「settings」は予約された名前です"
        " (reserved name)",
    ]


# -- log, fail and personal data ----------------------------------------------------------------


def test_log_and_fail_mask_the_items_personal_fields(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {番号: {type: text}, 氏名: {type: text, pii: true}}
      excel: {}
    steps:
      - log: "{{ item.氏名 }} さん（{{ item.番号 }}番）を処理します"
      - fail: "{{ item.氏名 }} さんは対象外です"
    """
    _project(temp_project, workflow)
    result = _run(run_bot, temp_project, [{"番号": "7", "氏名": f" {NAME} "}])

    (outcome,) = result.outcomes
    assert (outcome.status, outcome.message) == (
        ItemStatus.BUSINESS_ERROR,
        "[氏名] さんは対象外です",
    )
    text_log = _log(result)
    assert "[氏名] さん（7番）を処理します" in _messages(result)
    records = [json.loads(line) for line in _log(result, "run.jsonl").splitlines()]
    json_messages = [r["record"]["message"] for r in records]
    assert "[氏名] さん（7番）を処理します" in json_messages
    for text in (text_log, *json_messages, *(r["text"] for r in records)):
        assert NAME not in text and "山田" not in text


def test_a_variable_set_in_setup_is_visible_to_every_item(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {番号: {type: text}}
      excel: {}
    setup:
      - set: {受付日: "2026/12/01"}
    steps:
      - log: "{{ item.番号 }}: {{ 受付日 }}"
    """
    _project(temp_project, workflow)
    result = _run(run_bot, temp_project, [{"番号": "1"}, {"番号": "2"}])
    assert [o.status for o in result.outcomes] == [ItemStatus.DONE, ItemStatus.DONE]
