"""Tests of the practice system over real HTTP, driven by the standard library client."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import socket
import struct
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from framework.practice import PracticeConfig, PracticeServer
from framework.practice.sessions import SessionStore
from framework.practice.store import receipt_number, receipt_prefix
from framework.practice.validation import (
    SERVICE_TYPES,
    SUPPORT_LEVELS,
    ApplicationFormError,
    validate_application,
)

VALID: dict[str, str] = {
    "name": "山田 太郎",
    "kana": "ヤマダ　タロウ",
    "birth_date": "1980-04-01",
    "recipient_no": "1234567890",
    "service_type": "居宅介護",
    "hours": "20",
    "start_date": "2026-04-01",
    "support_level": "区分3",
    "notes": "特記事項なし",
}
BUSY = "ただいま混雑しています。しばらくしてから再度お試しください。"
EXPIRED = "セッションの有効期限が切れました。再度ログインしてください。"
CSRF = "不正なリクエストです（CSRFトークンが一致しません）"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    text: str

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @property
    def csrf_token(self) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.text)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def json(self) -> Any:
        return json.loads(self.text)


class _NoRedirectsNoErrors(urllib.request.HTTPErrorProcessor):
    """Hand every response back as is: no redirects followed, no HTTPError raised."""

    def http_response(self, request: Any, response: Any) -> Any:
        return response


class Client:
    """A browser stand-in: keeps cookies, does not follow redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirectsNoErrors()
        )

    def get(self, path: str) -> Reply:
        return self._send(urllib.request.Request(self.base_url + path))

    def post(self, path: str, form: Mapping[str, str]) -> Reply:
        data = urllib.parse.urlencode(form).encode()
        return self._send(urllib.request.Request(self.base_url + path, data=data))

    def login(self) -> Reply:
        token = self.get("/login").csrf_token
        reply = self.post(
            "/login", {"csrf_token": token, "username": "demo", "password": "demo-pass"}
        )
        assert (reply.status, reply.location) == (303, "/menu")
        return reply

    def session_id(self) -> str | None:
        return next((c.value for c in self.cookies if c.name == "PRACTICE_SESSION"), None)

    def confirm(self, form: Mapping[str, str]) -> Reply:
        token = self.get("/applications/new").csrf_token
        return self.post("/applications/confirm", {**form, "csrf_token": token})

    def register(self, form: Mapping[str, str]) -> Reply:
        token = self.get("/applications/new").csrf_token
        return self.post("/applications", {**form, "csrf_token": token})

    def _send(self, request: urllib.request.Request) -> Reply:
        with self._opener.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read().decode("utf-8"))


@contextmanager
def running(**settings: Any) -> Iterator[PracticeServer]:
    with PracticeServer(PracticeConfig(**settings)) as server:
        yield server


@pytest.fixture
def server() -> Iterator[PracticeServer]:
    with running() as practice:
        yield practice


@pytest.fixture
def client(server: PracticeServer) -> Client:
    return Client(server.url)


@pytest.fixture
def user(client: Client) -> Client:
    """A client that is logged in."""
    client.login()
    return client


def today_receipt(sequence: int) -> str:
    return receipt_number(date.today(), sequence)


# -- login and sessions ----------------------------------------------------------------------


def test_root_sends_to_login_then_to_menu(client: Client) -> None:
    assert (client.get("/").status, client.get("/").location) == (302, "/login")
    client.login()
    assert (client.get("/").status, client.get("/").location) == (302, "/menu")


def test_login_page(client: Client) -> None:
    page = client.get("/login")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<html lang="ja">' in page.text
    assert "<title>ログイン</title>" in page.text
    assert "障害福祉システム（練習用）" in page.text
    assert '<label class="name" for="username">ユーザーID</label>' in page.text
    assert '<input type="text" id="username" name="username"' in page.text
    assert '<label class="name" for="password">パスワード</label>' in page.text
    assert '<input type="password" id="password" name="password"' in page.text
    assert '<button type="submit" class="primary">ログイン</button>' in page.text
    assert page.csrf_token
    assert client.session_id() is not None
    assert EXPIRED not in page.text
    assert "http://" not in page.text and "https://" not in page.text and "<script" not in page.text


def test_wrong_password_shows_the_error_and_keeps_the_user_id(client: Client) -> None:
    token = client.get("/login").csrf_token
    reply = client.post("/login", {"csrf_token": token, "username": "demo", "password": "x"})
    assert reply.status == 200
    assert (
        '<div role="alert" class="errors">ユーザーIDまたはパスワードが正しくありません。</div>'
        in reply.text
    )
    assert 'name="username" value="demo"' in reply.text
    assert client.get("/menu").location == "/login"


def test_login_starts_a_new_session(client: Client) -> None:
    client.get("/login")
    before = client.session_id()
    reply = client.login()
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("PRACTICE_SESSION=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert client.session_id() not in (None, before)
    menu = client.get("/menu")
    assert menu.status == 200
    assert "<h1>メニュー</h1>" in menu.text
    assert "ログイン中: demo" in menu.text
    assert '<a href="/applications/new">新規申請の登録</a>' in menu.text
    assert '<a href="/applications">申請一覧・検索</a>' in menu.text
    assert ">ログアウト</button>" in menu.text


def test_login_without_csrf_token_is_refused(client: Client) -> None:
    client.get("/login")
    reply = client.post("/login", {"username": "demo", "password": "demo-pass"})
    assert reply.status == 403
    assert CSRF in reply.text
    assert client.get("/menu").location == "/login"


@pytest.mark.parametrize(
    "path",
    [
        "/menu",
        "/applications/new",
        "/applications",
        f"/applications/{receipt_number(date.today(), 1)}/done",
    ],
)
def test_pages_need_a_login(client: Client, path: str) -> None:
    reply = client.get(path)
    assert (reply.status, reply.location) == (303, "/login")


def test_posts_need_a_login(client: Client) -> None:
    token = client.get("/login").csrf_token
    reply = client.post("/applications", {**VALID, "csrf_token": token})
    assert (reply.status, reply.location) == (303, "/login")


def test_logout(user: Client) -> None:
    token = user.get("/menu").csrf_token
    reply = user.post("/logout", {"csrf_token": token})
    assert (reply.status, reply.location) == (303, "/login")
    assert user.get("/menu").location == "/login"


def test_logout_by_get(user: Client) -> None:
    assert user.get("/logout").location == "/login"
    assert user.get("/menu").location == "/login"


def test_idle_session_expires() -> None:
    with running(session_timeout=0.3) as server:
        client = Client(server.url)
        client.login()
        assert client.get("/menu").status == 200
        time.sleep(0.45)
        reply = client.get("/applications/new")
        assert (reply.status, reply.location) == (303, "/login?expired=1")
        page = client.get("/login?expired=1")
        assert f'<div role="alert" class="errors">{EXPIRED}</div>' in page.text
        client.login()
        assert client.get("/menu").status == 200


def test_session_store_timeout_is_measured_from_the_last_request() -> None:
    now = [0.0]
    sessions = SessionStore(timeout=10, clock=lambda: now[0])
    anonymous = sessions.create()
    logged_in = sessions.create("demo")
    for now[0] in (9.0, 18.0, 27.0):
        assert sessions.lookup(logged_in.id).session is logged_in
    now[0] = 37.5
    assert sessions.lookup(logged_in.id).expired
    assert sessions.lookup(logged_in.id).expired, "stays expired"
    assert sessions.lookup(anonymous.id).session is anonymous, "pre-login sessions do not expire"
    assert sessions.lookup("unknown").session is None
    assert not sessions.lookup("unknown").expired


def test_session_store_without_timeout_never_expires() -> None:
    now = [0.0]
    sessions = SessionStore(timeout=0, clock=lambda: now[0])
    session = sessions.create("demo")
    now[0] = 1e9
    assert sessions.lookup(session.id).session is session


# -- the application form ----------------------------------------------------------------------


def test_new_application_form(user: Client) -> None:
    page = user.get("/applications/new")
    assert page.status == 200
    assert "<h1>新規申請の登録</h1>" in page.text
    assert '<form method="post" action="/applications/confirm"' in page.text
    for field, label in [
        ("name", "氏名"),
        ("kana", "フリガナ"),
        ("birth_date", "生年月日"),
        ("recipient_no", "受給者番号"),
        ("service_type", "サービス種類"),
        ("hours", "支給量（時間／月）"),
        ("start_date", "開始日"),
        ("notes", "備考"),
    ]:
        assert f'<label for="{field}">{label}</label>' in page.text
        assert f'id="{field}" name="{field}"' in page.text
    assert '<input type="date" id="birth_date"' in page.text
    assert '<input type="date" id="start_date"' in page.text
    assert '<input type="number" id="hours"' in page.text
    assert 'inputmode="numeric" maxlength="10"' in page.text
    assert '<textarea id="notes" name="notes"' in page.text
    options = re.findall(r'<option value="([^"]*)"', page.text)
    assert options == ["", *SERVICE_TYPES]
    assert '<option value="">選択してください</option>' in page.text
    assert "<legend>障害支援区分</legend>" in page.text
    radios = re.findall(
        r'<input type="radio" id="(support_level_\d)" name="support_level" value="([^"]+)">'
        r'<label for="(support_level_\d)">([^<]+)</label>',
        page.text,
    )
    assert [(r[1], r[3]) for r in radios] == [(level, level) for level in SUPPORT_LEVELS]
    assert all(r[0] == r[2] for r in radios)
    assert '<button type="submit" class="primary">確認画面へ</button>' in page.text
    assert 'name="csrf_token"' in page.text


def test_confirm_shows_the_values_and_carries_them(user: Client) -> None:
    page = user.confirm({**VALID, "hours": " 20 ", "notes": "一行目\r\n二行目"})
    assert page.status == 200
    assert "<h1>入力内容の確認</h1>" in page.text
    assert "<td>山田 太郎</td>" in page.text
    assert "<td>区分3</td>" in page.text
    assert '<input type="hidden" name="hours" value="20">' in page.text
    assert '<input type="hidden" name="notes" value="一行目\n二行目">' in page.text
    assert '<form method="post" action="/applications">' in page.text
    assert 'formaction="/applications/new">修正する</button>' in page.text
    assert ">登録する</button>" in page.text
    assert 'role="alert"' not in page.text


def test_fix_button_shows_the_form_with_the_values(user: Client) -> None:
    token = user.get("/applications/new").csrf_token
    page = user.post("/applications/new", {**VALID, "csrf_token": token})
    assert "<h1>新規申請の登録</h1>" in page.text
    assert 'value="山田 太郎"' in page.text
    assert '<option value="居宅介護" selected>' in page.text
    assert 'value="区分3" checked>' in page.text
    assert "特記事項なし</textarea>" in page.text


def test_errors_are_listed_and_the_values_kept(user: Client) -> None:
    form = {**VALID, "name": "", "birth_date": "1980-02-30", "hours": "0", "support_level": ""}
    page = user.confirm(form)
    assert page.status == 200
    assert (
        '<div role="alert" class="errors"><p>入力内容に誤りがあります。</p><ul>\n'
        "<li>氏名：必須項目です。</li>\n"
        "<li>生年月日：日付を正しく入力してください。</li>\n"
        "<li>支給量：1から744までの整数で入力してください。</li>\n"
        "<li>障害支援区分：必須項目です。</li>\n"
        "</ul></div>"
    ) in page.text
    assert "<h1>新規申請の登録</h1>" in page.text
    assert 'value="ヤマダ　タロウ"' in page.text
    assert 'id="name" name="name" value="" required aria-invalid="true"' in page.text


def test_csrf_mismatch_is_refused(user: Client) -> None:
    for form in (VALID, {**VALID, "csrf_token": "forged"}):
        for path in ("/applications/confirm", "/applications"):
            reply = user.post(path, form)
            assert reply.status == 403
            assert CSRF in reply.text
    assert user.get("/api/records").json() == []


# -- validation rules ----------------------------------------------------------------------------


def messages(**changes: str) -> list[str]:
    try:
        validate_application({**VALID, **changes}, today=date(2026, 5, 1))
    except ApplicationFormError as error:
        return [e.message for e in error.errors]
    return []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"name": "　"}, ["氏名：必須項目です。"]),
        ({"name": "あ" * 50}, []),
        ({"name": "あ" * 51}, ["氏名：50文字以内で入力してください。"]),
        ({"kana": ""}, ["フリガナ：必須項目です。"]),
        ({"kana": "ヤマダ タロー"}, []),
        ({"kana": "ヴァイオレット　エヴァーガーデン"}, []),
        ({"kana": "やまだ"}, ["フリガナ：全角カタカナで入力してください。"]),
        ({"kana": "ﾔﾏﾀﾞ"}, ["フリガナ：全角カタカナで入力してください。"]),
        ({"kana": "ヤマダ・タロウ"}, ["フリガナ：全角カタカナで入力してください。"]),
        ({"birth_date": ""}, ["生年月日：必須項目です。"]),
        ({"birth_date": "1980/04/01"}, ["生年月日：日付を正しく入力してください。"]),
        ({"birth_date": "19800401"}, ["生年月日：日付を正しく入力してください。"]),
        ({"birth_date": "2026-05-02"}, ["生年月日：未来の日付は入力できません。"]),
        ({"birth_date": "2026-05-01", "start_date": "2026-05-01"}, []),
        ({"recipient_no": ""}, ["受給者番号：必須項目です。"]),
        ({"recipient_no": "123456789"}, ["受給者番号：半角数字10桁で入力してください。"]),
        (
            {"recipient_no": "１２３４５６７８９０"},
            ["受給者番号：半角数字10桁で入力してください。"],
        ),
        ({"service_type": ""}, ["サービス種類：必須項目です。"]),
        ({"service_type": "訪問看護"}, ["サービス種類：一覧から選択してください。"]),
        ({"hours": ""}, ["支給量：必須項目です。"]),
        ({"hours": "1"}, []),
        ({"hours": "744"}, []),
        ({"hours": "745"}, ["支給量：1から744までの整数で入力してください。"]),
        ({"hours": "1.5"}, ["支給量：1から744までの整数で入力してください。"]),
        ({"hours": "２０"}, ["支給量：1から744までの整数で入力してください。"]),
        ({"start_date": ""}, ["開始日：必須項目です。"]),
        ({"start_date": "2026-13-01"}, ["開始日：日付を正しく入力してください。"]),
        ({"start_date": "1980-03-31"}, ["開始日：生年月日より前の日付は入力できません。"]),
        ({"support_level": "区分7"}, ["障害支援区分：一覧から選択してください。"]),
        ({"notes": ""}, []),
        ({"notes": "あ" * 200}, []),
        ({"notes": "あ" * 201}, ["備考：200文字以内で入力してください。"]),
    ],
)
def test_validation(changes: dict[str, str], expected: list[str]) -> None:
    assert messages(**changes) == expected


def test_every_missing_field_is_reported_in_form_order() -> None:
    empty = dict.fromkeys(VALID, "")
    assert messages(**empty) == [
        "氏名：必須項目です。",
        "フリガナ：必須項目です。",
        "生年月日：必須項目です。",
        "受給者番号：必須項目です。",
        "サービス種類：必須項目です。",
        "支給量：必須項目です。",
        "開始日：必須項目です。",
        "障害支援区分：必須項目です。",
    ]


# -- registering ---------------------------------------------------------------------------------


def test_register_flow(server: PracticeServer, user: Client) -> None:
    confirm = user.confirm(VALID)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', confirm.text))
    reply = user.post("/applications", hidden)
    receipt = today_receipt(1)
    assert (reply.status, reply.location) == (303, f"/applications/{receipt}/done")
    done = user.get(reply.location or "")
    assert done.status == 200
    assert "<h1>受付が完了しました</h1>" in done.text
    assert f'受付番号：<strong data-testid="receipt-no">{receipt}</strong>' in done.text
    assert '<a href="/menu">メニューへ戻る</a>' in done.text
    assert '<a href="/applications/new">続けて新規申請を登録する</a>' in done.text

    (record,) = user.get("/api/records").json()
    assert record.pop("registered_at")[:10] == date.today().isoformat()
    assert record == {
        "receipt_no": receipt,
        "name": "山田 太郎",
        "kana": "ヤマダ　タロウ",
        "birth_date": "1980-04-01",
        "recipient_no": "1234567890",
        "service_type": "居宅介護",
        "hours": 20,
        "start_date": "2026-04-01",
        "support_level": "区分3",
        "notes": "特記事項なし",
        "registered_by": "demo",
    }
    assert [r["receipt_no"] for r in server.records()] == [receipt]


def test_receipt_numbers_count_up(user: Client) -> None:
    for sequence, recipient_no in enumerate(("1000000001", "1000000002", "1000000003"), 1):
        reply = user.register({**VALID, "recipient_no": recipient_no})
        assert reply.location == f"/applications/{today_receipt(sequence)}/done"


def test_receipt_numbers_use_the_reiwa_year() -> None:
    assert receipt_prefix(date(2019, 5, 1)) == "R01"
    assert receipt_prefix(date(2026, 1, 1)) == "R08"
    assert receipt_number(date(2026, 12, 31), 12) == "R08-000012"
    assert receipt_number(date(2030, 4, 1), 1234567) == "R12-1234567"


def test_invalid_registration_shows_the_form(user: Client) -> None:
    reply = user.register({**VALID, "recipient_no": "12345"})
    assert reply.status == 200
    assert "<li>受給者番号：半角数字10桁で入力してください。</li>" in reply.text
    assert user.get("/api/records").json() == []


def test_duplicate_is_refused(user: Client) -> None:
    first = user.register(VALID)
    receipt = today_receipt(1)
    assert first.location == f"/applications/{receipt}/done"
    again = user.register({**VALID, "name": "山田 花子"})
    assert again.status == 200
    assert "<h1>入力内容の確認</h1>" in again.text
    assert (
        f'<div role="alert" class="errors">既に登録されています（受付番号 {receipt}）。</div>'
        in (again.text)
    )
    assert '<input type="hidden" name="name" value="山田 花子">' in again.text
    assert len(user.get("/api/records").json()) == 1
    other_month = user.register({**VALID, "start_date": "2026-05-01"})
    assert other_month.location == f"/applications/{today_receipt(2)}/done"


def test_duplicates_can_be_accepted() -> None:
    with running(accept_duplicates=True) as server:
        client = Client(server.url)
        client.login()
        assert client.register(VALID).location == f"/applications/{today_receipt(1)}/done"
        assert client.register(VALID).location == f"/applications/{today_receipt(2)}/done"
        assert [r["recipient_no"] for r in server.records()] == ["1234567890"] * 2


def test_unknown_receipt_is_not_found(user: Client) -> None:
    reply = user.get(f"/applications/{today_receipt(99)}/done")
    assert reply.status == 404
    assert "ページが見つかりません" in reply.text


def test_concurrent_registrations_get_distinct_numbers(user: Client) -> None:
    token = user.get("/applications/new").csrf_token
    replies: list[Reply] = []

    def register(index: int) -> None:
        form = {**VALID, "recipient_no": f"{index:010d}", "csrf_token": token}
        replies.append(user.post("/applications", form))

    threads = [threading.Thread(target=register, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    locations = sorted(r.location or "" for r in replies)
    assert locations == sorted(f"/applications/{today_receipt(n)}/done" for n in range(1, 13))


# -- the list and the API -------------------------------------------------------------------------


def test_list_page(user: Client) -> None:
    empty = user.get("/applications")
    assert "<h1>申請一覧・検索</h1>" in empty.text
    assert '<label for="search_recipient_no">受給者番号</label>' in empty.text
    assert '<button type="submit">検索</button>' in empty.text
    headers = re.findall(r'<th scope="col">([^<]+)</th>', empty.text)
    assert headers == [
        "受付番号",
        "氏名",
        "受給者番号",
        "サービス種類",
        "支給量",
        "開始日",
        "登録日時",
    ]
    assert "該当する申請はありません。" in empty.text

    user.register({**VALID, "recipient_no": "1111111111", "name": "青木 一郎"})
    user.register({**VALID, "recipient_no": "2222222222", "name": "井上 二郎", "hours": "35"})
    rows = re.findall(r"<tr><td>(R\d\d-\d{6})</td><td>([^<]+)</td>", user.get("/applications").text)
    assert rows == [(today_receipt(2), "井上 二郎"), (today_receipt(1), "青木 一郎")]
    assert '<td class="num">35</td><td>2026-04-01</td>' in user.get("/applications").text

    found = user.get("/applications?recipient_no=1111111111")
    assert re.findall(r"<tr><td>(R\d\d-\d{6})</td>", found.text) == [today_receipt(1)]
    assert 'name="recipient_no" value="1111111111"' in found.text
    assert "該当する申請はありません。" not in found.text
    by_name = user.get("/applications?q=" + urllib.parse.quote("井上"))
    assert re.findall(r"<tr><td>(R\d\d-\d{6})</td>", by_name.text) == [today_receipt(2)]
    none = user.get("/applications?recipient_no=9999999999")
    assert "該当する申請はありません。" in none.text
    assert "<tbody>\n</tbody>" in none.text


def test_api_records_and_filter(user: Client) -> None:
    user.register({**VALID, "recipient_no": "1111111111"})
    user.register({**VALID, "recipient_no": "2222222222"})
    anonymous = Client(user.base_url)
    reply = anonymous.get("/api/records")
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "山田" in reply.text, "not ASCII-escaped"
    assert [r["receipt_no"] for r in reply.json()] == [today_receipt(1), today_receipt(2)]
    filtered = anonymous.get("/api/records?recipient_no=2222222222").json()
    assert [r["receipt_no"] for r in filtered] == [today_receipt(2)]
    assert anonymous.get("/api/records?recipient_no=2222").json() == []


def test_health(client: Client) -> None:
    reply = client.get("/api/health")
    assert reply.json() == {"status": "ok"}


def test_unknown_page(client: Client) -> None:
    reply = client.get("/nowhere")
    assert reply.status == 404
    assert '<html lang="ja">' in reply.text and "ページが見つかりません" in reply.text


# -- misbehaviour on purpose ----------------------------------------------------------------------


def test_every_nth_post_is_busy_and_does_nothing() -> None:
    with running(fail_every=3) as server:
        client = Client(server.url)
        client.login()  # POST 1
        token = client.get("/applications/new").csrf_token
        form = {**VALID, "csrf_token": token}
        assert client.post("/applications/confirm", form).status == 200  # POST 2
        busy = client.post("/applications", form)  # POST 3
        assert busy.status == 503
        assert "<h1>混雑しています</h1>" in busy.text and BUSY in busy.text
        assert server.records() == []
        assert client.post("/applications", form).status == 303  # POST 4
        assert client.post("/applications", {**form, "recipient_no": "2" * 10}).status == 303
        assert client.post("/logout", {"csrf_token": token}).status == 503  # POST 6
        assert client.get("/menu").status == 200, "the busy logout did not log out"
        assert len(server.records()) == 2


def test_busy_login_does_not_log_in() -> None:
    with running(fail_every=1) as server:
        client = Client(server.url)
        token = client.get("/login").csrf_token
        form = {"csrf_token": token, "username": "demo", "password": "demo-pass"}
        assert client.post("/login", form).status == 503
        assert client.get("/menu").location == "/login"


def test_latency() -> None:
    with running(latency_ms=150) as server:
        client = Client(server.url)
        started = time.perf_counter()
        client.get("/api/health")
        assert time.perf_counter() - started >= 0.15


# -- the server ----------------------------------------------------------------------------------


def test_keep_alive_with_content_length(server: PracticeServer) -> None:
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=5)
    try:
        for path in ("/api/health", "/login", "/nowhere"):
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            assert response.version == 11
            assert int(response.headers["Content-Length"]) == len(body)
            assert not response.will_close
        connection.request(
            "POST",
            "/login",
            body=b"username=demo&password=demo-pass",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        assert response.status == 403
        response.read()
        connection.request("GET", "/api/health")
        response = connection.getresponse()
        assert response.read() == b'{"status": "ok"}'
    finally:
        connection.close()


def test_stop_closes_idle_connections_and_the_temporary_database() -> None:
    server = PracticeServer()
    server.start()
    temp_db = server._temp_db
    assert temp_db is not None and temp_db.exists()
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=5)
    try:
        connection.request("GET", "/api/health")
        connection.getresponse().read()
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 2
    finally:
        connection.close()
    assert not temp_db.exists()
    server.stop()  # again: nothing happens
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018


def test_database_file_persists(tmp_path: Path) -> None:
    db = tmp_path / "practice" / "records.sqlite3"
    with running(db_path=db) as server:
        client = Client(server.url)
        client.login()
        client.register(VALID)
    assert db.exists()
    with running(db_path=db) as server:
        client = Client(server.url)
        client.login()
        assert client.register(VALID).status == 200, "duplicate of the stored one"
        reply = client.register({**VALID, "recipient_no": "9876543210"})
        assert reply.location == f"/applications/{today_receipt(2)}/done"
        assert len(server.records()) == 2


def test_quiet(capfd: pytest.CaptureFixture[str], user: Client) -> None:
    user.register(VALID)
    user.get("/nowhere")
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_dropped_connections_are_quiet(
    capfd: pytest.CaptureFixture[str], server: PracticeServer
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    for partial in (
        b"GET /api/health HTTP/1.1\r\n",
        b"POST /login HTTP/1.1\r\nContent-Length: 9\r\n\r\na",
    ):
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            connection.sendall(partial)
            time.sleep(0.05)
            # Close with a reset (RST), as a browser that gives up on a page does.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert Client(server.url).get("/api/health").status == 200
    time.sleep(0.05)
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        PracticeConfig(latency_ms=-1)
    with pytest.raises(ValueError):
        PracticeConfig(fail_every=-1)
    with pytest.raises(ValueError):
        PracticeConfig(session_timeout=-0.5)


def test_future_birth_date_is_refused_over_http(user: Client) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    reply = user.confirm({**VALID, "birth_date": tomorrow, "start_date": tomorrow})
    assert "<li>生年月日：未来の日付は入力できません。</li>" in reply.text
