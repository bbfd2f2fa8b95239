"""Whether this PC is ready to run bots (``rpa doctor``): one result per check, with a fix.

Checks: Python and package versions, a usable browser, the OS keyring, the credentials each bot
needs (where each value would come from, never the value), ``RPA_HOME`` (writable, owner-only),
the run log (which store; for PostgreSQL the connection), its schema version and audit chain,
the scheduler's heartbeat and free disk space.
A failed check (NG) makes ``rpa doctor`` exit with 3; a warning (注意) does not.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path

from framework import audit
from framework import credentials as credential_store
from framework.errors import CredentialError, InvalidError, KakariError
from framework.home import Home, private_dir
from framework.loader import Project, load_manifest

HEARTBEAT_STALE = dt.timedelta(minutes=10)
"""A scheduler heartbeat older than this is stale (3 ticks when it says how long a tick is)."""
DISK_FAIL = 500 * 1024**2
DISK_WARN = 2 * 1024**3
MIN_PYTHON = (3, 11)


class Level(StrEnum):
    OK = "OK"
    WARN = "注意"
    FAIL = "NG"


@dataclass(frozen=True)
class Check:
    """The result of one check; ``fix`` says what to do when it is not OK."""

    level: Level
    name: str
    detail: str
    fix: str = ""


def run_checks(project: Project, home: Home) -> list[Check]:
    """Every check, in the order they are shown."""
    return [
        python_check(),
        packages_check(),
        browser_check(),
        keyring_check(),
        *credential_checks(project),
        home_check(home),
        *runlog_checks(home),
        heartbeat_check(home),
        disk_check(home),
    ]


def python_check() -> Check:
    version = ".".join(str(n) for n in sys.version_info[:3])
    if sys.version_info[:2] < MIN_PYTHON:
        return Check(
            Level.FAIL,
            "Python",
            f"{version} は古すぎます (too old; 3.11 or newer is needed)",
            "Python 3.11 以上を入れ、./install.sh をやり直してください (install Python 3.11+)",
        )
    return Check(Level.OK, "Python", version)


def packages_check() -> Check:
    """kakari's dependencies are installed in versions it accepts."""
    name = "パッケージ (packages)"
    try:
        from packaging.requirements import Requirement

        wanted = [Requirement(r) for r in metadata.requires("kakari") or []]
        own = metadata.version("kakari")
    except (metadata.PackageNotFoundError, ImportError):
        return Check(
            Level.WARN,
            name,
            "kakari がパッケージとして入っていないため、版を確かめられません (not installed)",
            "./install.sh（Windows は docs/install-windows.md）で入れてください",
        )
    bad: list[str] = []
    shown: list[str] = [f"kakari {own}"]
    for req in wanted:
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # dev extras
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            bad.append(f"{req.name} がありません (missing; needs {req.specifier})")
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            bad.append(f"{req.name} {have} (needs {req.specifier})")
        else:
            shown.append(f"{req.name} {have}")
    if bad:
        return Check(
            Level.FAIL,
            name,
            "、".join(bad),
            f"{Path(sys.executable).parent / 'pip'} install -e . で入れ直してください"
            " (reinstall the project)",
        )
    return Check(Level.OK, name, ", ".join(shown))


def browser_check() -> Check:
    from framework.browsers import find_browser

    name = "ブラウザ (browser)"
    try:
        choice = find_browser()
    except KakariError as exc:
        return Check(
            Level.FAIL,
            name,
            str(exc),
            "Chromium か Edge を入れるか、RPA_BROWSER_PATH で実行ファイルを指定してください",
        )
    return Check(Level.OK, name, choice.description)


def keyring_check() -> Check:
    state = credential_store.keyring_state()
    name = "キーリング (keyring)"
    if state.usable:
        return Check(Level.OK, name, state.description)
    return Check(
        Level.WARN,
        name,
        f"{state.description}: 資格情報は環境変数か credentials/ のファイルから読みます",
        "Windows・macOS では OS のキーリングが使えます。Linux では Secret Service"
        " (gnome-keyring など) を動かすか、`rpa credentials set NAME --file` を使ってください",
    )


def credential_checks(project: Project, bot_ids: list[str] | None = None) -> Iterator[Check]:
    """One check per bot: every credential field it needs is set somewhere."""
    lookup = credential_store.Lookup(project.credentials_dir)
    for bot_id in project.bot_ids() if bot_ids is None else bot_ids:
        name = f"資格情報 (credentials) {bot_id}"
        try:
            needs = load_manifest(bot_id, project).credentials
        except InvalidError as exc:
            yield Check(
                Level.FAIL,
                name,
                f"bot.yaml を読めません ({len(exc.problems)} problems)",
                f"rpa validate bots/{bot_id}",
            )
            continue
        if not needs:
            yield Check(Level.OK, name, "不要 (none needed)")
            continue
        found: list[str] = []
        missing: list[str] = []
        fixes: list[str] = []
        for credential, fields in needs.items():
            try:
                for field_name in fields:
                    _value, source = lookup.find(credential, field_name)
                    if source is None:
                        missing.append(f"{credential}.{field_name}")
                        fixes.append(f"rpa credentials set {credential}")
                    else:
                        found.append(f"{credential}.{field_name} ← {source}")
            except CredentialError as exc:
                missing.append(exc.reason)
                fixes.append(f"chmod 600 credentials/{credential}.yaml")
        if missing:
            yield Check(
                Level.FAIL,
                name,
                "設定されていません (missing): " + "、".join(missing),
                " / ".join(dict.fromkeys(fixes)),
            )
        else:
            yield Check(Level.OK, name, "、".join(found))
    if lookup.keyring_error:
        yield Check(
            Level.WARN,
            "キーリング (keyring)",
            lookup.keyring_error,
            "キーリングのロックを解除するか、ログインし直してください (unlock the keyring)",
        )


def _shared(path: Path) -> bool:
    """Whether group or others may access a file or folder (always False on Windows)."""
    if os.name == "nt":
        return False
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def home_check(home: Home) -> Check:
    name = f"RPA_HOME {home.root}"
    try:
        private_dir(home.root)
        probe = home.root / f".doctor-{os.getpid()}"
        probe.write_text("ok", encoding="ascii")
        probe.unlink()
    except OSError as exc:
        return Check(
            Level.FAIL,
            name,
            f"書き込めません (not writable: {type(exc).__name__})",
            "RPA_HOME を自分が書き込めるローカルのフォルダにしてください"
            " (use a local folder you own)",
        )
    if _shared(home.root):
        return Check(
            Level.FAIL,
            name,
            "他のユーザーも開けます (group or others may open it)",
            f"chmod 700 {home.root}",
        )
    note = "（Windows: フォルダの ACL で保護; docs/security.md）" if os.name == "nt" else ""
    return Check(Level.OK, name, f"書き込み可、本人のみ (writable, owner only){note}")


def runlog_checks(home: Home) -> Iterator[Check]:
    """The run log: which store (SQLite on this PC, or PostgreSQL from ``RPA_DATABASE_URL``),
    whether it can be opened, its schema version, its permissions and the audit chain."""
    from framework.database import database_url, masked

    try:
        url = database_url()
    except KakariError as exc:
        yield Check(
            Level.FAIL,
            "実行記録 (run log) RPA_DATABASE_URL",
            str(exc),
            "RPA_DATABASE_URL を直すか、この PC だけで使うなら消してください"
            " (fix RPA_DATABASE_URL, or unset it to use SQLite on this PC)",
        )
        return
    if url is None:
        yield from _sqlite_checks(home)
    else:
        yield from _postgres_checks(f"実行記録 (run log) PostgreSQL {masked(url)}", url)


def _schema_check(name: str, version: int, current: int) -> Check:
    if version > current:
        return Check(
            Level.FAIL,
            name,
            f"スキーマ {version} はこの kakari（{current}）より新しい (schema newer than kakari)",
            "kakari を新しい版にしてください (upgrade kakari)",
        )
    if version < current:
        return Check(
            Level.WARN,
            name,
            f"スキーマ {version} → 次の実行で {current} に更新されます (upgraded on next run)",
        )
    return Check(Level.OK, name, f"スキーマ (schema) {current}")


def _sqlite_checks(home: Home) -> Iterator[Check]:
    from framework.runlog import MIGRATIONS, SqliteRunLog

    name = "実行記録 (run log) SQLite"
    path = home.runlog_path
    if not path.exists():
        yield Check(
            Level.OK, name, "まだありません。最初の実行で作られます (created by the first run)"
        )
        return
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        yield Check(
            Level.FAIL, name, f"読めません (cannot read: {exc})", f"{path} を確認してください"
        )
        return
    schema = _schema_check(name, version, len(MIGRATIONS))
    if schema.level is Level.FAIL:
        yield schema
        return
    if _shared(path):
        yield Check(
            Level.FAIL, name, "他のユーザーも読めます (readable by others)", f"chmod 600 {path}*"
        )
    else:
        yield schema
    if version < 6:
        return
    runlog = SqliteRunLog(path)
    try:
        yield _audit_check(runlog)
    finally:
        runlog.close()


def _postgres_checks(name: str, url: str) -> Iterator[Check]:
    from framework.runlog.pgschema import PG_MIGRATIONS
    from framework.runlog.postgres import PostgresRunLog, schema_version

    try:
        version = schema_version(url)
    except KakariError as exc:
        yield Check(
            Level.FAIL,
            name,
            str(exc),
            "サーバーが動いているか、ネットワーク、ユーザー名、pgpass を確認してください"
            " (check the server, the network, the user and the password file)",
        )
        return
    if version == 0:
        yield Check(
            Level.OK,
            name,
            "接続できます。表は最初の実行で作られます (connected; tables are created by the"
            " first run)",
        )
        return
    schema = _schema_check(name, version, len(PG_MIGRATIONS))
    yield Check(schema.level, name, f"接続できます (connected)、{schema.detail}", schema.fix)
    if version != len(PG_MIGRATIONS):
        return
    runlog = PostgresRunLog(url)
    try:
        yield _audit_check(runlog)
    finally:
        runlog.close()


def _audit_check(runlog: audit.AuditStore) -> Check:
    records = runlog.audit_records()
    broken = audit.verify(records, runlog.audit_issued())
    if broken is not None:
        return Check(
            Level.FAIL,
            "監査ログ (audit log)",
            f"改ざんまたは削除があります (chain broken): {broken}",
            "情報セキュリティ担当に連絡し、rpa audit --verify の結果を渡してください",
        )
    return Check(Level.OK, "監査ログ (audit log)", f"{len(records)} 件、改ざんなし (chain intact)")


def heartbeat_check(home: Home, now: dt.datetime | None = None) -> Check:
    """The scheduler writes ``RPA_HOME/scheduler/heartbeat.json`` (``last_tick``) while it runs."""
    name = "スケジューラー (scheduler)"
    path = home.root / "scheduler" / "heartbeat.json"
    start = (
        "定期実行を使う場合はスケジューラーを起動してください"
        " (start the scheduler if bots run on a schedule)"
    )
    if not path.exists():
        return Check(
            Level.WARN, name, "動いていません（heartbeat なし） (not running / no heartbeat)", start
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        last = dt.datetime.fromisoformat(str(data["last_tick"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Check(Level.WARN, name, f"{path.name} を読めません (unreadable heartbeat)", start)
    moment = now or dt.datetime.now().astimezone()
    if last.tzinfo is None:
        last = last.astimezone()
    age = moment - last
    stale = HEARTBEAT_STALE
    if isinstance(data.get("tick_seconds"), int | float):
        stale = dt.timedelta(seconds=3 * float(data["tick_seconds"]) + 5)
    if age > stale:
        return Check(
            Level.WARN,
            name,
            f"最後の動作 {last:%Y-%m-%d %H:%M}（{int(age.total_seconds() // 60)} 分前）:"
            " 止まっている可能性があります (heartbeat is stale)",
            start,
        )
    return Check(Level.OK, name, f"動いています（最後の動作 {last:%H:%M:%S}） (running)")


def disk_check(home: Home) -> Check:
    name = "空き容量 (free disk)"
    folder = home.root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    shown = f"{free / 1024**3:.1f} GB"
    fix = "古い実行フォルダを rpa cleanup で削除するか、ディスクを空けてください (free some disk)"
    if free < DISK_FAIL:
        return Check(Level.FAIL, name, f"{shown}（0.5 GB 未満） (too little)", fix)
    if free < DISK_WARN:
        return Check(Level.WARN, name, f"{shown}（2 GB 未満） (low)", fix)
    return Check(Level.OK, name, shown)
