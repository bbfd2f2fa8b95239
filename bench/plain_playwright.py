"""The baseline for bench/entry_speed.py: the welfare entry written as a plain Playwright script.

No framework: read the (clean) workbook with openpyxl, log in, and enter every row with the same
locators the workflow uses. Run: python bench/plain_playwright.py URL WORKBOOK
"""

from __future__ import annotations

import sys
from datetime import date, datetime

from openpyxl import load_workbook
from playwright.sync_api import sync_playwright

from framework.browsers import find_browser, launch_args

HEADERS = ["氏名", "フリガナ", "生年月日", "受給者番号", "サービス種類", "支給量", "開始日",
           "障害支援区分", "備考"]  # fmt: skip


def iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def main(url: str, workbook: str) -> int:
    book = load_workbook(workbook, read_only=True, data_only=True)
    rows = list(book["申請一覧"].iter_rows(min_row=3, values_only=True))
    book.close()
    header = [str(h) if h is not None else "" for h in rows[0]]
    index = {name: header.index(name) for name in HEADERS}
    choice = find_browser()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(headless=True, args=launch_args(), **choice.launch_kwargs())
        page = browser.new_context(locale="ja-JP").new_page()
        page.goto(f"{url}/login")
        page.get_by_label("ユーザーID").fill("demo")
        page.get_by_label("パスワード").fill("demo-pass")
        page.get_by_role("button", name="ログイン").click()
        page.get_by_text("メニュー").first.wait_for()
        for row in rows[1:]:
            if all(v is None for v in row):
                continue
            value = {name: row[i] for name, i in index.items()}
            page.goto(f"{url}/applications/new")
            page.get_by_label("氏名").fill(str(value["氏名"]))
            page.get_by_label("フリガナ").fill(str(value["フリガナ"]))
            page.get_by_label("生年月日").fill(iso(value["生年月日"]))
            page.get_by_label("受給者番号").fill(str(value["受給者番号"]))
            page.get_by_label("サービス種類").select_option(label=str(value["サービス種類"]))
            page.get_by_label("支給量").fill(str(value["支給量"]))
            page.get_by_label("開始日").fill(iso(value["開始日"]))
            page.get_by_label(str(value["障害支援区分"]), exact=True).check()
            page.get_by_label("備考").fill(str(value["備考"] or ""))
            page.get_by_role("button", name="確認画面へ").click()
            page.get_by_text("入力内容の確認").first.wait_for()
            page.get_by_role("button", name="登録する").click()
            page.get_by_text("受付が完了しました").first.wait_for()
            page.get_by_test_id("receipt-no").inner_text()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
