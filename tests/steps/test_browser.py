"""Tests for the browser steps: small workflows run against the practice system in real Chromium.

Every run goes through ``run_bot`` (the shared session browser, a fresh context per run), and the
checks look where the outcome lands: the practice system's records, the run's item outcomes, the
files in the run folder. What the practice system cannot do (HTTP 503 on a GET, file upload and
download) is served by a tiny local site started in this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import textwrap
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import DEMO_CREDENTIALS, RunBot, TempProject, book_of_rows
from openpyxl import load_workbook

from framework.errors import InvalidError
from framework.loader import load_workflow
from framework.outcome import ItemOutcome, ItemStatus
from framework.practice import PracticeConfig, PracticeServer
from framework.practice.applicants import Applicant, generate_applicants
from framework.practice.samples import write_workbook
from framework.practice.store import RecordStore
from framework.practice.validation import validate_application
from framework.registry import Registry
from framework.runner import RunResult


def reason(message: str) -> str:
    """A system error's message without the step position the runner adds for IT staff."""
    return re.sub(r" \[workflows/\S+ \S+\]$", "", message)


REPO = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
NAME = "山田\u3000太郎"  # family and given name with an ideographic space, as systems store them

# -- a tiny local site for what the practice system does not have --------------------------------

_HTML = "text/html; charset=utf-8"
SITE_PAGES: dict[str, tuple[int, tuple[tuple[str, str], ...], str]] = {
    "/busy": (
        503,
        (("Content-Type", _HTML),),
        "<title>混雑しています</title><h1>ただいま混雑しています</h1>",
    ),
    "/upload": (
        200,
        (("Content-Type", _HTML),),
        """<title>添付</title>
        <label for="f">添付書類</label><input type="file" id="f">
        <p>読み込んだ内容：<output id="out"></output></p>
        <script>
        document.getElementById('f').addEventListener('change', async e => {
          const file = e.target.files[0];
          document.getElementById('out').textContent = file.name + '=' + (await file.text());
        });
        </script>""",
    ),
    "/download": (
        200,
        (("Content-Type", _HTML),),
        '<title>出力</title><a href="/files/list.csv">CSV出力</a>',
    ),
    "/files/list.csv": (
        200,
        (
            ("Content-Type", "text/csv; charset=utf-8"),
            ("Content-Disposition", 'attachment; filename="list.csv"'),
        ),
        "受付番号,氏名\nR08-000001,山田　太郎\n",
    ),
    "/refuse": (
        200,
        (("Content-Type", _HTML),),
        f"""<title>確認</title><h1>入力内容の確認</h1>
        <div role="alert">
          {NAME} さんの申請は
          既に登録されています。
        </div>""",
    ),
}


class _SiteHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, headers, body = SITE_PAGES.get(
            self.path, (404, (("Content-Type", _HTML),), "<title>見つかりません</title>")
        )
        data = body.encode("utf-8")
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The base URL of the local site (HTTP/1.0: every connection closes after its response)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SiteHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}"
    server.shutdown()
    thread.join()
    server.server_close()


# -- helpers ------------------------------------------------------------------------------------


def _project(tp: TempProject, *parts: str, target_url: str, site: str = "") -> None:
    """A project with the shipped login workflow, ``workflows/t.yaml`` and the bot ``t``.

    The workflow is the ``parts`` joined, each dedented on its own (e.g. ``LOGGED_IN`` + steps).
    """
    login = (REPO / "workflows" / "welfare_login.yaml").read_text(encoding="utf-8")
    tp.write("workflows/welfare_login.yaml", login)
    tp.write("workflows/t.yaml", "".join(textwrap.dedent(p).lstrip("\n") for p in parts))
    tp.bot(
        "t",
        "t.yaml",
        settings=f"{{target_url: '{target_url}', site: '{site}'}}",
        credentials="{welfare_system: [username, password]}",
    )


def _run(
    run_bot: RunBot, tp: TempProject, rows: Sequence[Mapping[str, object]] | None = None
) -> RunResult:
    """Run the bot ``t``. Steps expected to time out carry their own short ``timeout:``, so the
    healthy steps keep the default and the tests stay steady on a busy machine."""
    book = book_of_rows(tp.root / "input.xlsx", rows) if rows is not None else None
    return run_bot(tp.project, "t", input=book, credentials=DEMO_CREDENTIALS)


def _only(result: RunResult) -> ItemOutcome:
    assert len(result.outcomes) == 1, result.outcomes
    return result.outcomes[0]


def _run_log(result: RunResult) -> str:
    assert result.run_dir is not None
    return (result.run_dir / "run.log").read_text(encoding="utf-8")


def _seed(db: Path, people: Sequence[Applicant]) -> None:
    """Store applications in a practice database directly (faster than typing them in)."""
    store = RecordStore(db)
    try:
        for person in people:
            form = {key: str(value) for key, value in person.to_record().items()}
            application = validate_application(form, today=dt.date.today())
            store.register(application, user="demo", now=dt.datetime.now())
    finally:
        store.close()


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[PracticeServer]:
    """A practice system that already holds three applications."""
    db = tmp_path / "seeded.sqlite3"
    _seed(db, generate_applicants(3, seed=7))
    with PracticeServer(PracticeConfig(db_path=db)) as server:
        yield server


ONE_ITEM = [{"番号": "1"}]
ITEMS = """
items:
  fields: {番号: {type: text}}
  excel: {}
"""
LOGGED_IN = ITEMS + "setup:\n  - call: welfare_login.yaml\n"


# -- the shipped workflow -----------------------------------------------------------------------


def _shipped(tp: TempProject, practice: PracticeServer) -> None:
    for name in ("welfare_login.yaml", "welfare_entry.yaml"):
        tp.write(f"workflows/{name}", (REPO / "workflows" / name).read_text(encoding="utf-8"))
    tp.bot(
        "entry",
        "welfare_entry.yaml",
        settings=f"{{target_url: '{practice.url}'}}",
        credentials="{welfare_system: [username, password]}",
    )


def _run_shipped(
    run_bot: RunBot, tp: TempProject, practice: PracticeServer, people: Sequence[Applicant]
) -> RunResult:
    _shipped(tp, practice)
    book = tp.root / "申請一覧.xlsx"
    write_workbook(book, people, messy=False)
    return run_bot(tp.project, "entry", input=book, credentials=DEMO_CREDENTIALS)


def test_shipped_workflow_registers_each_row_and_keeps_the_receipt_number(
    temp_project: TempProject, practice: PracticeServer, run_bot: RunBot
) -> None:
    people = generate_applicants(12, seed=3)
    with_notes = next(p for p in people if p.notes)
    without_notes = next(p for p in people if not p.notes)
    result = _run_shipped(run_bot, temp_project, practice, [with_notes, without_notes])

    assert [o.status for o in result.outcomes] == [ItemStatus.DONE, ItemStatus.DONE]
    records = practice.records()
    assert [o.results["受付番号"] for o in result.outcomes] == [r["receipt_no"] for r in records]
    for person, record in zip([with_notes, without_notes], records, strict=True):
        stored = {key: record[key] for key in person.to_record()}
        assert stored == person.to_record()  # radio, select, dates and an empty 備考 included
        assert record["registered_by"] == "demo"


def test_shipped_workflow_refuses_a_duplicate_and_a_form_error_with_the_pages_own_text(
    temp_project: TempProject, tmp_path: Path, run_bot: RunBot
) -> None:
    """The system's refusals: an application it already holds (entered by hand, say) and a
    form error; each is reported with the page's own words and nothing is stored."""
    first, other, third = generate_applicants(3, seed=5)
    unborn = dataclasses.replace(
        other, birth_date=dt.date(2099, 1, 1), start_date=dt.date(2099, 4, 1)
    )
    db = tmp_path / "practice.sqlite3"
    _seed(db, [first])
    with PracticeServer(PracticeConfig(db_path=db)) as practice:
        result = _run_shipped(run_bot, temp_project, practice, [third, first, unborn])
        records = practice.records()

    assert len(records) == 2
    receipt = records[0]["receipt_no"]
    assert [(o.status, o.message) for o in result.outcomes] == [
        (ItemStatus.DONE, ""),
        (ItemStatus.BUSINESS_ERROR, f"既に登録されています（受付番号 {receipt}）。"),
        (
            ItemStatus.BUSINESS_ERROR,
            "入力内容に誤りがあります。 生年月日：未来の日付は入力できません。",
        ),
    ]


# -- goto and HTTP errors -----------------------------------------------------------------------


def test_goto_fails_on_an_http_error_page_404_as_well_as_503(
    temp_project: TempProject, practice: PracticeServer, site: str, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {アドレス: {type: text}}
      excel: {}
    steps:
      - browser.goto: "{{ item.アドレス }}"
    """
    _project(temp_project, workflow, target_url=practice.url)
    urls = [f"{practice.url}/login", f"{practice.url}/no-such-page", f"{site}/busy"]
    result = _run(run_bot, temp_project, [{"アドレス": url} for url in urls])

    assert result.outcomes[1].message.endswith("[workflows/t.yaml:5:5 browser.goto]")
    assert [(o.status, reason(o.message)) for o in result.outcomes] == [
        (ItemStatus.DONE, ""),
        (ItemStatus.SYSTEM_ERROR, f"ページ {urls[1]} がエラーを返しました (HTTP 404)"),
        (ItemStatus.SYSTEM_ERROR, f"ページ {urls[2]} がエラーを返しました (HTTP 503)"),
    ]


def test_a_busy_answer_to_a_form_post_is_named_in_the_timeout_message(
    temp_project: TempProject, run_bot: RunBot
) -> None:
    steps = """
    retry: {attempts: 1}
    steps:
      - browser.goto: "{{ settings.target_url }}/applications/new"
      - browser.click: {role: button, name: 確認画面へ}
      - browser.wait_for: {text: 入力内容の確認, refused_if: {role: alert}, timeout: 5}
    """
    # the 1st POST (login) works, the 2nd (確認画面へ) answers 503 混雑
    with PracticeServer(PracticeConfig(fail_every=2)) as busy:
        _project(temp_project, LOGGED_IN, steps, target_url=busy.url)
        result = _run(run_bot, temp_project, ONE_ITEM)
        assert busy.records() == []

    outcome = _only(result)
    assert outcome.status is ItemStatus.SYSTEM_ERROR
    # noticed at once (not after the 5 s timeout) and named
    assert outcome.message.startswith(
        "文字「入力内容の確認」 を待っている間に、ページが HTTP 503 のエラー画面になりました"
    )


# -- filling in a form step by step -------------------------------------------------------------


def test_fill_select_check_press_click_wait_and_read_one_application(
    temp_project: TempProject, practice: PracticeServer, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {氏名: {type: text, pii: true}, 区分: {type: text}}
      excel: {}
    setup:
      - call: welfare_login.yaml
    steps:
      - browser.goto: "{{ settings.target_url }}/applications/new"
      - browser.fill: {label: 氏名, value: "{{ item.氏名 }}"}
      - browser.fill: {label: フリガナ, value: ヤマダ　タロウ}
      - browser.fill: {label: 生年月日, value: "1980-04-01"}
      - browser.fill: {label: 受給者番号, value: "0123456789"}
      - browser.select: {label: サービス種類, option: 就労継続支援B型, by: value}
      - browser.fill: {label: 支給量, value: "22"}
      - browser.fill: {label: 開始日, value: "2026-12-01"}
      - browser.check: {label: "{{ item.区分 }}", exact: true}
      - browser.press: {label: 受給者番号, key: Enter}  # submits the form like 確認画面へ
      - browser.wait_for: {text: 入力内容の確認, refused_if: {role: alert}}
      - browser.read: {css: table.confirm td, nth: 1, into: results.確認画面の氏名}
      - browser.click: {role: button, name: 登録する}
      - browser.wait_for: {url: "**/applications/*/done"}
      - browser.read: {test_id: receipt-no, into: results.受付番号}
      - browser.read: {css: p.receipt, pattern: 'R\\d{2}-(\\d{6})', into: results.連番}
      - browser.read: {css: p.receipt, pattern: 'R\\d{2}', into: results.年}
    """
    _project(temp_project, workflow, target_url=practice.url)
    result = _run(run_bot, temp_project, [{"氏名": NAME, "区分": "区分1"}])

    outcome = _only(result)
    assert outcome.status is ItemStatus.DONE, outcome.message
    (record,) = practice.records()
    receipt = str(record["receipt_no"])
    assert outcome.results == {
        # read back exactly (full-width space included), so it is recognised as the item's
        # 氏名: masked everywhere but in the results workbooks staff work from
        "確認画面の氏名": "[氏名]",
        "受付番号": receipt,
        "連番": receipt.split("-")[1],
        "年": receipt.split("-")[0],
    }
    assert result.run_dir is not None
    book = load_workbook(result.run_dir / "結果一覧.xlsx", read_only=True)
    try:
        cells = {v for row in book.active.iter_rows(values_only=True) for v in row}
    finally:
        book.close()
    assert NAME in cells
    expected = {
        "name": NAME,
        "kana": "ヤマダ\u3000タロウ",
        "birth_date": "1980-04-01",
        "recipient_no": "0123456789",
        "service_type": "就労継続支援B型",
        "hours": 22,
        "start_date": "2026-12-01",
        "support_level": "区分1",
        "notes": "",
    }
    assert {key: record[key] for key in expected} == expected
    assert NAME not in _run_log(result)  # the results line of the log is masked


def test_nth_and_within_narrow_a_locator_and_wait_for_url_matches_a_glob(
    temp_project: TempProject, seeded: PracticeServer, run_bot: RunBot
) -> None:
    target = seeded.records()[1]
    steps = f"""
    steps:
      - browser.goto: "{{{{ settings.target_url }}}}/applications/new"
      - browser.check: {{label: 区分, nth: 3}}
      - browser.read:
          css: "input[name=support_level]:checked"
          attribute: value
          into: results.区分
      - browser.goto: "{{{{ settings.target_url }}}}/applications"
      - browser.fill:
          {{label: キーワード, within: {{role: search}}, value: "{target["receipt_no"]}"}}
      - browser.click: {{role: button, within: {{role: search}}}}
      - browser.wait_for: {{url: "**/applications?*q=*"}}
      - browser.read: {{text: 該当件数, pattern: '(\\d+)件', into: results.件数}}
      - browser.read: {{css: "#applications tbody tr td", nth: 2, into: results.氏名}}
    """
    _project(temp_project, LOGGED_IN, steps, target_url=seeded.url)
    outcome = _only(_run(run_bot, temp_project, ONE_ITEM))

    assert outcome.status is ItemStatus.DONE, outcome.message
    assert outcome.results == {"区分": "区分3", "件数": "1", "氏名": target["name"]}


def test_read_table_collects_the_list_into_a_workbook(
    temp_project: TempProject, seeded: PracticeServer, run_bot: RunBot
) -> None:
    workflow = """
    setup:
      - call: welfare_login.yaml
    steps:
      - browser.goto: "{{ settings.target_url }}/applications"
      - browser.read_table: {css: "table#applications", into: rows}
      - excel.write_rows: {file: "一覧/申請一覧_{{ run.date }}.xlsx", rows: rows}
    """
    _project(temp_project, workflow, target_url=seeded.url)
    result = _run(run_bot, temp_project)
    assert result.exit_code == 0, result.message
    assert result.run_dir is not None

    (path,) = (result.run_dir / "一覧").glob("申請一覧_*.xlsx")
    wb = load_workbook(path, read_only=True)
    try:
        sheet = [list(row) for row in wb["一覧"].iter_rows(values_only=True)]
    finally:
        wb.close()
    headers = ["受付番号", "氏名", "受給者番号", "サービス種類", "支給量", "開始日", "登録日時"]
    assert sheet[0] == headers
    records = list(reversed(seeded.records()))  # the list page shows the newest first
    expected = [
        [
            r["receipt_no"],
            r["name"],  # 山田　太郎 keeps its full-width space
            r["recipient_no"],  # leading zeros kept: the cells are text
            r["service_type"],
            str(r["hours"]),
            r["start_date"],
            str(r["registered_at"]).replace("T", " "),
        ]
        for r in records
    ]
    assert sheet[1:] == expected


def test_screenshot_writes_a_png_into_the_run_folder(
    temp_project: TempProject, practice: PracticeServer, run_bot: RunBot
) -> None:
    workflow = """
    steps:
      - browser.goto: "{{ settings.target_url }}/login"
      - browser.wait_for: {element: {role: heading, name: ログイン}}
      - browser.wait_for: {element: {role: alert}, state: hidden}
      - browser.screenshot: "画面/ログイン_{{ run.id }}.png"
      - browser.screenshot: {path: visible.png, full_page: false}
    """
    _project(temp_project, workflow, target_url=practice.url)
    result = _run(run_bot, temp_project)
    assert result.exit_code == 0, result.message
    assert result.run_dir is not None and result.record is not None

    for path in (
        result.run_dir / "画面" / f"ログイン_{result.record.id}.png",
        result.run_dir / "visible.png",
    ):
        assert path.read_bytes().startswith(PNG)


def test_upload_attaches_a_file_from_the_bot_folder_and_download_saves_into_the_run(
    temp_project: TempProject, site: str, run_bot: RunBot
) -> None:
    steps = """
    steps:
      - browser.goto: "{{ settings.site }}/upload"
      - browser.upload: {label: 添付書類, file: 添付/申請書.txt}
      - browser.wait_for: {text: "申請書.txt="}
      - browser.read: {css: "#out", into: results.添付}
      - browser.goto: "{{ settings.site }}/download"
      - browser.download: {role: link, name: CSV出力, save_as: 一覧.csv, into: results.保存先}
      - browser.download: {text: CSV出力, into: suggested}
      - fail: "{{ suggested }}"
        when: not suggested.endswith('list.csv')
    """
    _project(temp_project, ITEMS, steps, target_url=site, site=site)
    temp_project.write("bots/t/添付/申請書.txt", "受給者番号 0123456789")
    result = _run(run_bot, temp_project, ONE_ITEM)

    outcome = _only(result)
    assert outcome.status is ItemStatus.DONE, outcome.message
    assert outcome.results["添付"] == "申請書.txt=受給者番号 0123456789"
    assert result.run_dir is not None
    saved = result.run_dir / "downloads" / "一覧.csv"
    assert outcome.results["保存先"] == str(saved)
    expected = "受付番号,氏名\nR08-000001,山田　太郎\n"
    assert saved.read_text(encoding="utf-8") == expected
    assert (result.run_dir / "downloads" / "list.csv").read_text(encoding="utf-8") == expected


def test_a_refusal_quoting_a_name_is_masked_in_the_outcome_and_the_log(
    temp_project: TempProject, site: str, run_bot: RunBot
) -> None:
    workflow = """
    items:
      fields: {氏名: {type: text, pii: true}}
      excel: {}
    steps:
      - browser.goto: "{{ settings.site }}/refuse"
      - browser.wait_for: {text: 受付が完了しました, refused_if: {role: alert}}
    """
    _project(temp_project, workflow, target_url=site, site=site)
    result = _run(run_bot, temp_project, [{"氏名": NAME}])

    outcome = _only(result)
    assert (outcome.status, outcome.message) == (
        ItemStatus.BUSINESS_ERROR,
        "[氏名] さんの申請は 既に登録されています。",
    )
    assert NAME not in _run_log(result)
    assert "[氏名] さんの申請は 既に登録されています。" in _run_log(result)


# -- failures: messages, positions and screenshots ----------------------------------------------


FAILURES = [  # (step, message): each item of one run fails at one of these steps
    (
        "browser.fill: {label: 利用者番号, value: x, timeout: 1}",
        "ラベル「利用者番号」 が時間内に見つからないか操作できませんでした"
        " (timeout: Locator.fill: Timeout 1000ms exceeded.)",
    ),
    (
        "browser.check: {label: 区分}",
        "ラベル「区分」 に当てはまる要素が6個あります。exact: true や nth、within で1つに絞って"
        "ください (locator matched several elements)",
    ),
    (
        "browser.select: {label: サービス種類, option: 訪問看護, timeout: 1}",
        "ラベル「サービス種類」 の選択肢「訪問看護」 が時間内に見つからないか操作できませんでした"
        " (timeout: Locator.select_option: Timeout 1000ms exceeded.)",
    ),
    (
        "browser.read: {css: h1, pattern: '(\\d+)件', into: n}",
        "CSS「h1」 の文字「新規申請の登録」に (\\d+)件 が見つかりません (pattern not found)",
    ),
    (
        "browser.wait_for: {url: '**/done', timeout: 0.5}",
        "アドレス **/done が時間内に見つからないか操作できませんでした"
        " (timeout: Page.wait_for_url: Timeout 500ms exceeded.)",
    ),
    (
        "browser.upload: {label: 添付書類, file: 無い.pdf}",
        "添付するファイルがありません: 無い.pdf (file not found)",
    ),
]


def test_a_failing_step_is_a_system_error_with_its_position_and_a_screenshot(
    temp_project: TempProject, practice: PracticeServer, run_bot: RunBot
) -> None:
    # no retry: each failure is reported as it happened (retries are tested in test_reliability)
    steps = "retry: {attempts: 1}\nsteps:\n"
    steps += "  - browser.goto: '{{ settings.target_url }}/applications/new'\n"
    for number, (step, _message) in enumerate(FAILURES, start=1):
        steps += f"  - {step}\n    when: item.番号 == '{number}'\n"
    steps += "  - log: '{{ item.番号 }} was not stopped'\n"
    _project(temp_project, LOGGED_IN, steps, target_url=practice.url)
    rows = [{"番号": str(number)} for number in range(1, len(FAILURES) + 1)]
    result = _run(run_bot, temp_project, rows)

    messages = [message for _step, message in FAILURES]
    assert [(o.status, reason(o.message)) for o in result.outcomes] == [
        (ItemStatus.SYSTEM_ERROR, message) for message in messages
    ]
    assert result.run_dir is not None
    for outcome in result.outcomes:
        assert outcome.screenshot == f"screenshots/item-{outcome.seq:05d}.png"
        assert (result.run_dir / outcome.screenshot).read_bytes().startswith(PNG)
    log = _run_log(result)
    for index, (step, message) in enumerate(FAILURES):
        line = 9 + 2 * index  # LOGGED_IN takes 6 lines, retry and goto one each, each case two
        assert f"| ERROR   | workflows/t.yaml:{line}:5 {step.split(':')[0]}: {message}" in log
    assert "was not stopped" not in log


# -- locator validation -------------------------------------------------------------------------

BAD_LOCATORS = """
steps:
  - browser.goto: http://127.0.0.1:9/
  - browser.click: {label: 氏名, text: 氏名}
  - browser.click: {exact: true}
  - browser.click: {text: 登録, name: 登録する}
  - browser.click: {role: buton}
  - browser.click: {role: knopf}
  - browser.click:
      role: button
      within: {nth: 2}
  - browser.wait_for: {url: "**/done", refused_if: {role: alert}}
  - browser.read: {css: p, pattern: "(\\\\d+", into: n}
"""
ONE = "要素の指定（label, role, text, placeholder, title, test_id, css, xpath）をちょうど1つ"
ROLES = (
    "alert, article, button, cell, checkbox, columnheader, combobox, dialog, form, grid, group,"
    " heading, img, link, list, listbox, listitem, main, menu, menuitem, navigation, option,"
    " radio, radiogroup, region, row, rowheader, search, searchbox, spinbutton, status, switch,"
    " tab, table, tablist, tabpanel, textbox"
)


def test_the_loader_refuses_bad_locators_with_their_line(
    temp_project: TempProject, registry: Registry
) -> None:
    path = temp_project.write("workflows/locators.yaml", BAD_LOCATORS)
    with pytest.raises(InvalidError) as caught:
        load_workflow(path, registry, temp_project.project)

    file = "workflows/locators.yaml"
    assert [str(p) for p in caught.value.problems] == [
        f"{file}:3:20: steps[1].browser.click: {ONE}書いてください（今は: label, text）"
        " (give exactly one locator)",
        f"{file}:4:20: steps[2].browser.click: {ONE}書いてください（今は: なし）"
        " (give exactly one locator)",
        f"{file}:5:20: steps[3].browser.click: name は role と一緒に使います (name needs role)",
        f"{file}:6:27: steps[4].browser.click.role: 「buton」は使えません。「button」のことですか？"
        " (invalid value 'buton'; did you mean 'button'?)",
        f"{file}:7:27: steps[5].browser.click.role: 次のどれかを書いてください: {ROLES}"
        " (expected one of these)",
        f"{file}:10:15: steps[6].browser.click.within: {ONE}書いてください（今は: なし）"
        " (give exactly one locator)",
        f"{file}:11:23: steps[7].browser.wait_for: refused_if は text か element"
        "（state: visible）と一緒に使います (refused_if needs text or a visible element)",
        f"{file}:12:37: steps[8].browser.read.pattern: 正規表現の書き方に誤りがあります:"
        " missing ), unterminated subpattern at position 0 (invalid regular expression)",
    ]


def test_loader_accepts_every_locator_kind(temp_project: TempProject, registry: Registry) -> None:
    path = temp_project.write(
        "workflows/ok.yaml",
        """
        steps:
          - browser.click: {label: 氏名, exact: true}
          - browser.click: {role: button, name: 登録する}
          - browser.click: {text: 登録, nth: 2}
          - browser.click: {placeholder: 氏名・フリガナ}
          - browser.click: {title: 閉じる}
          - browser.click: {test_id: receipt-no}
          - browser.click: {css: "table#applications", within: {role: main}}
          - browser.click: {xpath: "//button[1]", timeout: 2.5}
        """,
    )
    workflow = load_workflow(path, registry, temp_project.project)
    described = [cast(Any, call.args).describe() for call in workflow.steps]
    assert described == [
        "ラベル「氏名」",
        "button「登録する」",
        "文字「登録」 の2番目",
        "入力例「氏名・フリガナ」",
        "タイトル「閉じる」",
        "test-id「receipt-no」",
        "役割「main」 の中のCSS「table#applications」",
        "XPath「//button[1]」",
    ]
