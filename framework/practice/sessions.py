"""Sessions of the practice system: the session cookie, CSRF tokens and the idle timeout."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SESSION_COOKIE = "PRACTICE_SESSION"

_FORGET_AFTER = 3600.0
"""Seconds after which an idle anonymous or expired session is forgotten entirely."""
_PURGE_EVERY = 60.0


@dataclass
class Session:
    """One browser's session; ``user`` is None until it logs in (a pre-login session)."""

    id: str
    csrf_token: str
    user: str | None
    last_seen: float
    expired: bool = False

    def csrf_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token.encode(), token.encode())


@dataclass(frozen=True)
class Lookup:
    """What a session cookie refers to: a live session, an expired one, or nothing."""

    session: Session | None
    expired: bool = False


class SessionStore:
    """Sessions in memory, shared by the request threads.

    Only logged-in sessions expire: one idle longer than ``timeout`` seconds (0 = never) is
    expired and stays known as such for a while, so the next request can say so.
    """

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout = timeout
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._last_purge = clock()

    def lookup(self, session_id: str | None) -> Lookup:
        """The session for a cookie value, marking it as used now."""
        if not session_id:
            return Lookup(None)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return Lookup(None)
            if not session.expired and self._idle_too_long(session, now):
                session.expired = True
            if session.expired:
                return Lookup(None, expired=True)
            session.last_seen = now
            return Lookup(session)

    def create(self, user: str | None = None) -> Session:
        """A new session with fresh id and CSRF token; ``user`` None for a pre-login one."""
        now = self._clock()
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf_token=secrets.token_urlsafe(32),
            user=user,
            last_seen=now,
        )
        with self._lock:
            if now - self._last_purge > _PURGE_EVERY:
                self._purge(now)
            self._sessions[session.id] = session
        return session

    def discard(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _idle_too_long(self, session: Session, now: float) -> bool:
        if session.user is None or self._timeout <= 0:
            return False
        return now - session.last_seen > self._timeout

    def _purge(self, now: float) -> None:
        self._last_purge = now
        for session_id, session in list(self._sessions.items()):
            forgettable = session.user is None or session.expired or self._timeout > 0
            if forgettable and now - session.last_seen > self._timeout + _FORGET_AFTER:
                del self._sessions[session_id]


def session_cookie(session_id: str) -> str:
    """The Set-Cookie value that hands ``session_id`` to the browser."""
    return f"{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"


def clear_session_cookie() -> str:
    """The Set-Cookie value that removes the session cookie."""
    return f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"


def session_id_from(cookie_header: str | None) -> str | None:
    """The session id in a Cookie request header, if there is one."""
    if not cookie_header:
        return None
    for part in cookie_header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == SESSION_COOKIE:
            return value.strip().strip('"') or None
    return None
