"""The practice system's HTTP server: the request handler and PracticeServer's life cycle."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from framework.practice.app import PracticeApp, Request, Response
from framework.practice.config import PracticeConfig
from framework.practice.pages import SYSTEM_NAME
from framework.practice.sessions import session_id_from
from framework.practice.store import RecordStore

_log = logging.getLogger(__name__)

_MAX_BODY = 1_000_000
_MAX_FIELDS = 100
_IDLE_TIMEOUT = 120.0
"""Seconds an idle keep-alive connection is kept open."""
_POLL_INTERVAL = 0.05
"""Seconds between checks for a stop request; stopping waits at most this long."""
_DEFAULT_CONFIG = PracticeConfig()


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP/1.1 requests into :class:`Request` objects for the app; logs nothing."""

    protocol_version = "HTTP/1.1"
    server_version = "KakariPractice/1"
    sys_version = ""
    timeout = _IDLE_TIMEOUT
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve(form={})

    def do_POST(self) -> None:
        form = self._read_form()
        if form is not None:
            self._serve(form=form)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: no access log on stderr."""

    def _serve(self, *, form: dict[str, str]) -> None:
        app = cast(_HTTPServer, self.server).app
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=_first_values(url.query, errors="replace"),
            form=form,
            session_id=session_id_from(self.headers.get("Cookie")),
        )
        try:
            response = app.handle(request)
        except Exception:
            _log.exception("practice system: %s %s failed", self.command, self.path)
            response = app.error_page(
                500, "システムエラー", "システムエラーが発生しました。管理者に連絡してください。"
            )
        self._send(response)

    def _read_form(self) -> dict[str, str] | None:
        """The urlencoded POST body, or None after answering a request that has none usable."""
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            if self.headers.get("Transfer-Encoding"):
                self._refuse(411, "Content-Length が必要です。")
                return None
            return {}
        try:
            length = int(length_header)
        except ValueError:
            self._refuse(400, "Content-Length を読み取れません。")
            return None
        if not 0 <= length <= _MAX_BODY:
            self._refuse(413, "送信された内容が大きすぎます。")
            return None
        body = self.rfile.read(length)
        try:
            return _first_values(body.decode("utf-8"), errors="strict")
        except ValueError:
            self._refuse(400, "送信された内容を読み取れません。")
            return None

    def _refuse(self, status: int, message: str) -> None:
        self.close_connection = True
        app = cast(_HTTPServer, self.server).app
        self._send(app.error_page(status, "不正なリクエストです", message))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)


def _first_values(encoded: str, *, errors: str) -> dict[str, str]:
    parsed = parse_qs(encoded, keep_blank_values=True, errors=errors, max_num_fields=_MAX_FIELDS)
    return {name: values[0] for name, values in parsed.items()}


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that knows its open connections, so stopping can close them."""

    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # the default 5 drops connections when several browsers connect

    def __init__(self, address: tuple[str, int], app: PracticeApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can take seconds; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Browsers drop connections all the time: ignore that; log anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        _log.exception("practice system: connection from %s failed", client_address)

    def close_connections(self) -> None:
        """End every open connection, so idle keep-alive threads finish now."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class PracticeServer:
    """The practice system (障害福祉システム（練習用）) served on a local port.

    Use as a context manager, or call :meth:`start` and :meth:`stop`; :meth:`serve_forever`
    is the blocking variant for the command line.
    """

    def __init__(self, config: PracticeConfig = _DEFAULT_CONFIG) -> None:
        self.config = config
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._store: RecordStore | None = None
        self._temp_db: Path | None = None

    def start(self) -> None:
        """Serve in a daemon thread; returns once the socket is listening."""
        httpd = self._open()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            args=(_POLL_INTERVAL,),
            name="kakari-practice",
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl+C, then stop cleanly."""
        httpd = self._open()
        print(
            f"{SYSTEM_NAME}: {self.url} で待ち受けています"
            f"（ユーザーID {self.config.user}、Ctrl+C で終了）",
            flush=True,
        )
        try:
            httpd.serve_forever(_POLL_INTERVAL)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, close the database and remove a temporary one. Safe to repeat."""
        httpd, thread, store = self._httpd, self._thread, self._store
        self._httpd = self._thread = self._store = None
        if httpd is not None:
            if thread is not None:
                httpd.shutdown()
                thread.join()
            httpd.close_connections()
            httpd.server_close()
        if store is not None:
            store.close()
        if self._temp_db is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self._temp_db}{suffix}").unlink(missing_ok=True)
            self._temp_db = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        if self._httpd is None:
            raise RuntimeError("the practice server is not running")
        host, port = self._httpd.server_address[:2]
        host = str(host)
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def records(self) -> list[dict[str, object]]:
        """All stored applications, as ``GET /api/records`` returns them."""
        if self._store is None:
            raise RuntimeError("the practice server is not running")
        return [record.to_json() for record in self._store.records()]

    def __enter__(self) -> PracticeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _open(self) -> _HTTPServer:
        if self._httpd is not None:
            raise RuntimeError("the practice server is already running")
        if self.config.db_path is None:
            fd, name = tempfile.mkstemp(prefix="kakari-practice-", suffix=".sqlite3")
            os.close(fd)
            self._temp_db = db_path = Path(name)
        else:
            db_path = Path(self.config.db_path)
            db_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._store = RecordStore(db_path)
            app = PracticeApp(self.config, self._store)
            self._httpd = _HTTPServer((self.config.host, self.config.port), app)
        except BaseException:
            self.stop()
            raise
        return self._httpd
