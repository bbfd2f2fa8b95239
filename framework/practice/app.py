"""What the practice system does: each page and action, from a parsed request to a response."""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from framework.practice.config import PracticeConfig
from framework.practice.pages import Pages
from framework.practice.sessions import (
    Lookup,
    Session,
    SessionStore,
    clear_session_cookie,
    session_cookie,
)
from framework.practice.store import DuplicateApplicationError, RecordStore
from framework.practice.validation import (
    ApplicationFormError,
    form_values,
    validate_application,
)

_DONE_PATH = re.compile(r"/applications/(R[0-9]{2}-[0-9]{6,})/done")
_HTML = "text/html; charset=utf-8"
_JSON = "application/json; charset=utf-8"

LOGIN_FAILED = "ユーザーIDまたはパスワードが正しくありません。"
CSRF_MISMATCH = "不正なリクエストです（CSRFトークンが一致しません）"
BUSY_TITLE = "混雑しています"
BUSY_MESSAGE = "ただいま混雑しています。しばらくしてから再度お試しください。"


@dataclass(frozen=True)
class Request:
    """An HTTP request as the pages need it: form and query values are the first of each."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    session_id: str | None = None


@dataclass(frozen=True)
class Response:
    """An HTTP response; the server adds Content-Length and the standard headers."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def redirect(location: str, status: int = 303, *, cookie: str | None = None) -> Response:
    headers = [("Location", location)]
    if cookie:
        headers.append(("Set-Cookie", cookie))
    return Response(status, headers=tuple(headers))


class PracticeApp:
    """The pages of the practice system over a record store and a session store."""

    def __init__(
        self,
        config: PracticeConfig,
        store: RecordStore,
        *,
        pages: Pages | None = None,
        sessions: SessionStore | None = None,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._config = config
        self._store = store
        self._pages = pages or Pages()
        self._sessions = sessions or SessionStore(config.session_timeout)
        self._clock = clock
        self._posts = 0
        self._posts_lock = threading.Lock()
        self._get_routes: dict[str, Callable[[Request], Response]] = {
            "/": self._root,
            "/login": self._login_page,
            "/logout": self._logout,
            "/menu": self._menu,
            "/applications/new": self._new_application,
            "/applications/confirm": lambda request: redirect("/applications/new"),
            "/applications": self._list,
            "/api/records": self._api_records,
            "/api/health": lambda request: _json({"status": "ok"}),
        }
        self._post_routes: dict[str, Callable[[Request], Response]] = {
            "/login": self._login,
            "/logout": self._logout,
            "/applications/new": self._new_application,
            "/applications/confirm": self._confirm,
            "/applications": self._register,
        }

    def handle(self, request: Request) -> Response:
        """Answer one request (after the configured latency), telling the observer if any."""
        observer = self._config.observer
        if observer is not None:
            observer("before", request.method, request.path)
        response = self._handle(request)
        if observer is not None:
            observer("after", request.method, request.path)
        return response

    def _handle(self, request: Request) -> Response:
        if self._config.latency_ms:
            time.sleep(self._config.latency_ms / 1000)
        if request.method == "POST":
            if self._busy():
                return self._message(503, BUSY_TITLE, BUSY_MESSAGE, extra=(("Retry-After", "1"),))
            route = self._post_routes.get(request.path)
        else:
            route = self._get_routes.get(request.path)
            if route is None and (match := _DONE_PATH.fullmatch(request.path)):
                return self._done(request, match.group(1))
        if route is None:
            return self._not_found()
        return route(request)

    # -- pages -------------------------------------------------------------------------------

    def _root(self, request: Request) -> Response:
        found = self._sessions.lookup(request.session_id)
        logged_in = found.session is not None and found.session.user is not None
        return redirect("/menu" if logged_in else "/login", 302)

    def _login_page(self, request: Request) -> Response:
        found = self._sessions.lookup(request.session_id)
        return self._login_form(found.session, expired=request.query.get("expired") == "1")

    def _login(self, request: Request) -> Response:
        found = self._sessions.lookup(request.session_id)
        if found.session is None and found.expired:
            return self._login_form(None, expired=True)
        if found.session is None or not _csrf_ok(found.session, request.form):
            return self._csrf_refused()
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        if not (_same(username, self._config.user) & _same(password, self._config.password)):
            return self._login_form(found.session, error=LOGIN_FAILED, username=username)
        self._sessions.discard(found.session.id)
        session = self._sessions.create(self._config.user)
        return redirect("/menu", cookie=session_cookie(session.id))

    def _logout(self, request: Request) -> Response:
        found = self._sessions.lookup(request.session_id)
        if found.session is not None:
            if request.method == "POST" and not _csrf_ok(found.session, request.form):
                return self._csrf_refused()
            self._sessions.discard(found.session.id)
        return redirect("/login", cookie=clear_session_cookie())

    def _menu(self, request: Request) -> Response:
        session = self._logged_in(request)
        if isinstance(session, Response):
            return session
        return self._page("menu.html", session, title="メニュー")

    def _new_application(self, request: Request) -> Response:
        """The empty form (GET), or the form again with the values (POST, 修正する)."""
        session = self._checked(request)
        if isinstance(session, Response):
            return session
        return self._form(session, form_values(request.form))

    def _confirm(self, request: Request) -> Response:
        session = self._checked(request)
        if isinstance(session, Response):
            return session
        try:
            application = validate_application(request.form, today=self._clock().date())
        except ApplicationFormError as error:
            return self._form(session, form_values(request.form), error)
        return self._confirmation(session, application.form_values())

    def _register(self, request: Request) -> Response:
        session = self._checked(request)
        if isinstance(session, Response):
            return session
        now = self._clock()
        try:
            application = validate_application(request.form, today=now.date())
        except ApplicationFormError as error:
            return self._form(session, form_values(request.form), error)
        try:
            record = self._store.register(
                application,
                user=session.user or "",
                now=now,
                allow_duplicate=self._config.accept_duplicates,
            )
        except DuplicateApplicationError as duplicate:
            return self._confirmation(session, application.form_values(), str(duplicate))
        return redirect(f"/applications/{record.receipt_no}/done")

    def _done(self, request: Request, receipt_no: str) -> Response:
        session = self._logged_in(request)
        if isinstance(session, Response):
            return session
        record = self._store.find(receipt_no)
        if record is None:
            return self._not_found()
        return self._page("done.html", session, title="受付が完了しました", record=record)

    def _list(self, request: Request) -> Response:
        session = self._logged_in(request)
        if isinstance(session, Response):
            return session
        recipient_no = request.query.get("recipient_no", "").strip()
        keyword = request.query.get("q", "").strip()
        records = self._store.search(recipient_no=recipient_no, keyword=keyword)
        return self._page(
            "list.html",
            session,
            title="申請一覧・検索",
            records=records,
            recipient_no=recipient_no,
            q=keyword,
        )

    def _api_records(self, request: Request) -> Response:
        recipient_no = request.query.get("recipient_no", "").strip() or None
        return _json([r.to_json() for r in self._store.records(recipient_no=recipient_no)])

    # -- helpers -----------------------------------------------------------------------------

    def _busy(self) -> bool:
        with self._posts_lock:
            self._posts += 1
            return self._config.fail_every > 0 and self._posts % self._config.fail_every == 0

    def _logged_in(self, request: Request) -> Session | Response:
        """The logged-in session, or the redirect to the login page."""
        found: Lookup = self._sessions.lookup(request.session_id)
        if found.session is not None and found.session.user is not None:
            return found.session
        return redirect("/login?expired=1" if found.expired else "/login")

    def _checked(self, request: Request) -> Session | Response:
        """Like :meth:`_logged_in`, and for a POST also the CSRF token."""
        session = self._logged_in(request)
        if isinstance(session, Session) and request.method == "POST":
            if not _csrf_ok(session, request.form):
                return self._csrf_refused()
        return session

    def _page(
        self, template: str, session: Session | None, status: int = 200, **context: object
    ) -> Response:
        body = self._pages.render(
            template,
            user=session.user if session else None,
            csrf_token=session.csrf_token if session else "",
            **context,
        )
        return Response(status, body, (("Content-Type", _HTML),))

    def _login_form(
        self,
        session: Session | None,
        *,
        expired: bool = False,
        error: str = "",
        username: str = "",
    ) -> Response:
        cookie = None
        if session is None:
            session = self._sessions.create()
            cookie = session_cookie(session.id)
        body = self._pages.render(
            "login.html",
            title="ログイン",
            user=None,
            csrf_token=session.csrf_token,
            expired=expired,
            error=error,
            username=username,
        )
        headers = [("Content-Type", _HTML)]
        if cookie:
            headers.append(("Set-Cookie", cookie))
        return Response(200, body, tuple(headers))

    def _form(
        self,
        session: Session,
        values: dict[str, str],
        error: ApplicationFormError | None = None,
    ) -> Response:
        return self._page(
            "form.html",
            session,
            title="新規申請の登録",
            values=values,
            errors=error.errors if error else (),
            error_fields=error.fields if error else frozenset(),
        )

    def _confirmation(self, session: Session, values: dict[str, str], error: str = "") -> Response:
        return self._page(
            "confirm.html", session, title="入力内容の確認", values=values, error=error
        )

    def _message(
        self,
        status: int,
        title: str,
        message: str,
        *,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        body = self._pages.render(
            "message.html",
            title=title,
            message=message,
            link_href="/",
            link_text="トップページへ",
            user=None,
            csrf_token="",
        )
        return Response(status, body, (("Content-Type", _HTML), *extra))

    def _csrf_refused(self) -> Response:
        return self._message(403, CSRF_MISMATCH, "画面を開き直してから、もう一度操作してください。")

    def _not_found(self) -> Response:
        return self._message(
            404,
            "ページが見つかりません",
            "お探しのページは見つかりませんでした。URLをご確認ください。",
        )

    def error_page(self, status: int, title: str, message: str) -> Response:
        """A plain error page, for problems found before a request reaches the pages."""
        return self._message(status, title, message)


def _csrf_ok(session: Session, form: Mapping[str, str]) -> bool:
    return session.csrf_matches(form.get("csrf_token", ""))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _json(data: object) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(200, body, (("Content-Type", _JSON),))
