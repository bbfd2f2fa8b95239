"""``rpa runlog``: the run log's own commands (moving a PC's SQLite history to PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click

from framework.cli.app import app, fail, out
from framework.errors import Problem
from framework.outcome import ExitCode


@app.group("runlog")
def runlog_group() -> None:
    """実行記録の管理 (the run log: where it is kept, moving history to PostgreSQL)."""


@runlog_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--secret",
    "secret_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="その PC の secret.key（省略時は PATH と同じフォルダ）"
    " (that PC's secret.key; default: next to PATH)",
)
def import_command(path: Path, secret_path: Path | None) -> int:
    """SQLite の実行記録を共有データベースに取り込む (copy a runlog.sqlite3 into PostgreSQL).

    PATH is a PC's RPA_HOME/runlog.sqlite3; the database is RPA_DATABASE_URL. Runs, items,
    reviews, the scheduler's decisions and the audit trail are copied in one transaction, and
    the PC's secret.key becomes the database's key for item keys, so resume by key keeps working.
    Refused, with nothing written, if the database has another key or already has those runs.
    Exit codes: 0 imported, 2 refused or RPA_DATABASE_URL missing or invalid (nothing written),
    3 the database cannot be reached.
    """
    from framework.database import ENV, database_url, masked
    from framework.runlog.postgres import PostgresRunLog
    from framework.runlog.transfer import ImportRefusedError, import_sqlite

    url = database_url()  # an invalid URL: exit 2 (framework.cli.main)
    if url is None:
        message = (
            f"{ENV} が設定されていません。取り込み先の postgresql:// URL を設定してください"
            f" ({ENV} is not set: it names the database to import into)"
        )
        return fail([Problem("rpa runlog import", 0, 0, ENV, message)])
    target = PostgresRunLog(url)
    try:
        counts = import_sqlite(target, path, secret_path)
    except ImportRefusedError as exc:
        return fail([Problem("rpa runlog import", 0, 0, str(path), str(exc))])
    finally:
        target.close()
    say = out().print
    say(f"取り込みました (imported): {path} → {masked(url)}", markup=False, soft_wrap=True)
    for label, count in (
        ("実行 (runs)", counts.runs),
        ("申請 (items)", counts.items),
        ("確認結果 (reviews)", counts.reviews),
        ("スケジューラーの記録 (schedule events)", counts.schedule_events),
        ("監査ログ (audit records)", counts.audit),
    ):
        say(f"  {label}: {count}", markup=False, soft_wrap=True)
    chain = (
        "そのまま (chain kept as it is)"
        if counts.audit_kept_chain
        else "共有の記録の後に追加 (appended to the shared chain, each noting its origin)"
    )
    say(f"  監査ログのつながり (audit chain): {chain}", markup=False, soft_wrap=True)
    secret = {
        "adopted": "この PC の鍵をデータベースの鍵にしました (this PC's key is now the database's)",
        "same": "データベースと同じ鍵です (same key as the database)",
        "missing": "secret.key がないため、取り込んだ申請のキーは照合できません"
        " (no secret.key: imported item keys will not match new ones)",
    }[counts.secret]
    say(f"  鍵 (item-key secret): {secret}", markup=False, soft_wrap=True)
    return ExitCode.OK
