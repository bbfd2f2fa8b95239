"""Where the shared database is: ``RPA_DATABASE_URL``, checked, and shown without its password.

One PC keeps its run log in SQLite under ``RPA_HOME``. Setting ``RPA_DATABASE_URL`` to a
``postgresql://`` URL moves the run log into that PostgreSQL database (docs/shared-runlog.md).
The password should not be in the URL at all (libpq reads ``PGPASSFILE`` / ``pgpass.conf`` and
``PGPASSWORD``); when it is, :func:`masked` hides it in every message kakari prints, and
:func:`driver_reason` in the driver's own error messages (libpq quotes a malformed URL).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from framework.errors import KakariError

ENV = "RPA_DATABASE_URL"
SCHEMES = ("postgresql", "postgres")


class DatabaseUrlError(KakariError):
    """``RPA_DATABASE_URL`` is set but is not a PostgreSQL URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"{ENV} が正しくありません: {masked(url)}。postgresql://ユーザー@ホスト:5432/データベース"
            f" の形で指定してください ({ENV} must be a postgresql:// URL)"
        )


class PsycopgMissingError(KakariError):
    """A database URL is set but the PostgreSQL driver is not installed."""

    def __init__(self) -> None:
        super().__init__(
            f"{ENV} が設定されていますが、PostgreSQL 用の部品が入っていません。"
            " pip install kakari[pool] で入れてください"
            f" ({ENV} is set but psycopg is missing: pip install kakari[pool])"
        )


def database_url() -> str | None:
    """The configured database URL, or None for the default (SQLite under ``RPA_HOME``).

    Raises :class:`DatabaseUrlError` when the variable is set to something else than a
    ``postgresql://`` (or ``postgres://``) URL.
    """
    url = os.environ.get(ENV, "").strip()
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:
        raise DatabaseUrlError(url) from exc
    if scheme not in SCHEMES:
        raise DatabaseUrlError(url)
    return url


def masked(url: str) -> str:
    """The URL for messages: any password replaced by ``***`` (query options are dropped too,
    since ``?password=...`` is also accepted by libpq)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return "(読めない URL / unreadable URL)"
    if not netloc:  # not a URL at all, e.g. libpq's "host=db password=..." form
        return "(URL の形ではない値 / not a URL)"
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def driver_reason(url: str, exc: BaseException) -> str:
    """The first line of a database driver's error, with the password of ``url`` (as written
    and percent-decoded, in the user part or as ``?password=``) replaced by ``***``."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    for secret in sorted(_passwords(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _passwords(url: str) -> set[str]:
    try:
        parts = urlsplit(url)
        found = {parts.password or ""}
        found |= {value for key, value in parse_qsl(parts.query) if key == "password"}
    except ValueError:
        return {url}  # unreadable: hide all of it
    found |= {unquote(secret) for secret in found}
    return {secret for secret in found if secret}


def require_psycopg() -> None:
    """Fail with a clear message (not an ImportError) when psycopg is not installed."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PsycopgMissingError() from exc
