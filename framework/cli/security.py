"""Commands about credentials and personal data: ``rpa credentials``, ``audit``, ``cleanup``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from framework.cli.app import app, current_project, err, fail, out
from framework.errors import InvalidError, Problem, unknown_name
from framework.outcome import ExitCode


def _say(text: str, *, to_err: bool = False) -> None:
    """A line as it is: no markup, no highlighting, never wrapped."""
    (err() if to_err else out()).print(text, markup=False, highlight=False, soft_wrap=True)


def _needs(project: Any, bot_ids: list[str]) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """Credentials each bot needs (from bot.yaml only); and the bots that cannot be read."""
    from framework.loader import load_manifest

    needs: dict[str, dict[str, list[str]]] = {}
    broken: list[str] = []
    for bot_id in bot_ids:
        try:
            needs[bot_id] = load_manifest(bot_id, project).credentials
        except InvalidError:
            broken.append(bot_id)
    return needs, broken


@app.group("credentials")
def credentials_group() -> None:
    """資格情報の設定と確認 (set and check the credentials bots need; values are never shown)."""


@credentials_group.command("set")
@click.argument("name")
@click.option(
    "--field",
    "fields",
    multiple=True,
    help="この項目だけ設定する (only this field; default: every field the bots name)",
)
@click.option(
    "--file",
    "to_file",
    is_flag=True,
    help="キーリングではなく credentials/NAME.yaml（本人だけが読める）に保存する"
    " (store in an owner-only file instead of the keyring; for PCs without one)",
)
def credentials_set(name: str, fields: tuple[str, ...], to_file: bool) -> int:
    """資格情報を入力して OS のキーリングに保存する (ask for a credential and store it).

    NAME is a credential a bot names in its bot.yaml (e.g. welfare_system). Each field is asked
    twice without echo and stored in the OS keyring (Windows Credential Manager, macOS
    Keychain, Secret Service) as service kakari/NAME; with --file, in credentials/NAME.yaml
    readable by you only. The values are never printed or logged.
    """
    from pydantic import SecretStr

    from framework import audit
    from framework import credentials as credential_store
    from framework.home import Home
    from framework.runlog import open_runlog

    project = current_project()
    needs, _broken = _needs(project, project.bot_ids())
    known: dict[str, list[str]] = {}
    for per_bot in needs.values():
        for credential, names in per_bot.items():
            known.setdefault(credential, [])
            known[credential] += [n for n in names if n not in known[credential]]
    if name not in known:
        message = unknown_name("資格情報", "credential", name, sorted(known))
        return fail([Problem("rpa credentials set", 0, 0, name, message)])
    wanted = list(fields) or known[name]
    extra = [f for f in wanted if f not in known[name]]
    if extra:
        message = unknown_name("項目", "field", extra[0], known[name])
        return fail([Problem("rpa credentials set", 0, 0, f"{name}.{extra[0]}", message)])
    state = credential_store.keyring_state()
    if not to_file and not state.usable:
        return fail(
            [
                Problem(
                    "rpa credentials set",
                    0,
                    0,
                    name,
                    f"{state.description}。`rpa credentials set {name} --file` で本人だけが読める"
                    f" credentials/{name}.yaml に保存するか、環境変数"
                    f" {credential_store.env_name(name, wanted[0])} などを使ってください"
                    " (no keyring on this PC: use --file or environment variables)",
                )
            ]
        )
    where = f"credentials/{name}.yaml" if to_file else state.description
    _say(f"{name} を保存します → {where}（入力は表示されません / input is hidden）", to_err=True)
    values: dict[str, SecretStr] = {}
    for field_name in wanted:
        typed = click.prompt(
            f"{name}.{field_name}",
            hide_input=True,
            confirmation_prompt="もう一度 (repeat)",
            err=True,
        )
        values[field_name] = SecretStr(str(typed))
    if to_file:
        credential_store.store_in_file(project.credentials_dir, name, values)
    else:
        credential_store.store_in_keyring(name, values, state)
    home = Home.locate(project.root)
    runlog = open_runlog(home.root)
    try:
        audit.record(
            runlog,
            audit.Action.CREDENTIALS_SET,
            outcome="ok",
            detail=f"{name}: {','.join(values)} → {'file' if to_file else 'keyring'}",
        )
    finally:
        runlog.close()
    _say(f"保存しました (stored): {', '.join(f'{name}.{f}' for f in values)} → {where}")
    return ExitCode.OK


@credentials_group.command("check")
@click.argument("bot", required=False)
def credentials_check(bot: str | None) -> int:
    """資格情報が揃っているか確認する (which credentials are missing; values are never shown).

    For each bot (or only BOT), each field it needs and where its value would come from:
    the OS keyring, an environment variable or credentials/NAME.yaml. Exit code 2 when one is
    missing or a credentials file may not be used.
    """
    from framework import credentials as credential_store
    from framework.errors import CredentialError

    project = current_project()
    bot_ids = [bot] if bot else project.bot_ids()
    if bot and bot not in project.bot_ids():
        message = unknown_name("ボット", "bot", bot, project.bot_ids())
        return fail([Problem("rpa credentials check", 0, 0, bot, message)])
    needs, broken = _needs(project, bot_ids)
    lookup = credential_store.Lookup(project.credentials_dir)
    ok = True
    for bot_id in broken:
        ok = False
        _say(f"NG  {bot_id}: bot.yaml を読めません (invalid; see rpa validate)")
    for bot_id, credentials in needs.items():
        if not credentials:
            _say(f"OK  {bot_id}: 資格情報は不要です (none needed)")
        for credential, fields in credentials.items():
            for field_name in fields:
                try:
                    _value, source = lookup.find(credential, field_name)
                except CredentialError as exc:
                    ok = False
                    _say(f"NG  {bot_id}: {credential}.{field_name}: {exc}")
                    continue
                if source is None:
                    ok = False
                    _say(
                        f"NG  {bot_id}: {credential}.{field_name}: 未設定 (missing) →"
                        f" rpa credentials set {credential}  または環境変数"
                        f" {credential_store.env_name(credential, field_name)}"
                    )
                else:
                    _say(f"OK  {bot_id}: {credential}.{field_name} ← {source}")
    note = lookup.keyring_error or lookup.keyring.description
    _say(f"キーリング (keyring): {note}")
    return ExitCode.OK if ok else ExitCode.INVALID


@app.command("audit")
@click.option(
    "--from",
    "since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="この日から (from this day, YYYY-MM-DD)",
)
@click.option(
    "--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="この日まで (to this day, included)"
)
@click.option("--verify", is_flag=True, help="改ざん・削除がないか確かめる (check the hash chain)")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力 (print JSON)")
def audit_command(
    since: dt.datetime | None, until: dt.datetime | None, verify: bool, as_json: bool
) -> int:
    """監査ログ: 誰がいつ何をしたか (the audit trail: who ran what, when, with which input).

    --verify checks the whole chain: each record holds the hash of the one before, so an edited,
    inserted or deleted record is named by its seq (exit code 3).
    """
    from framework import audit
    from framework.console import dump_json
    from framework.home import Home
    from framework.runlog import open_runlog, runlog_exists

    home = Home.locate(current_project().root)
    records: list[audit.AuditRecord] = []
    issued = 0
    if runlog_exists(home.root):
        runlog = open_runlog(home.root)
        try:
            if verify:
                records, issued = runlog.audit_records(), runlog.audit_issued()
            else:
                start, end = audit.day_range(
                    since.date() if since else None, until.date() if until else None
                )
                records = runlog.audit_records(start, end)
        finally:
            runlog.close()
    if verify:
        broken = audit.verify(records, issued)
        if as_json:
            dump_json(
                out(),
                {
                    "ok": broken is None,
                    "records": len(records),
                    "broken_seq": broken.seq if broken else None,
                    "reason": broken.reason if broken else None,
                    "last_hash": records[-1].hash if records else None,
                },
            )
        elif broken is None:
            last = f"、最新 seq {records[-1].seq} hash {records[-1].hash}" if records else ""
            _say(f"OK 監査ログ {len(records)} 件、改ざんなし (chain intact){last}")
        else:
            _say(
                f"NG 監査ログが改ざんされています (audit chain broken) seq {broken.seq}:"
                f" {broken.reason}"
            )
        return ExitCode.OK if broken is None else ExitCode.ABORTED
    if as_json:
        dump_json(out(), [r.as_json() for r in records])
        return ExitCode.OK
    if not records:
        _say("監査ログの記録はありません (no audit records)")
    for rec in records:
        known = rec.action in {a.value for a in audit.Action}
        label = audit.Action(rec.action).label if known else rec.action
        parts = [
            f"{rec.seq:>5}",
            rec.at,
            f"{rec.os_user}@{rec.host}",
            rec.trigger,
            f"{label}({rec.action})",
            rec.bot_id or "-",
            f"run={rec.run_id}" if rec.run_id else "",
            rec.outcome,
            f"input-sha256={rec.input_sha256[:16]}…" if rec.input_sha256 else "",
            rec.detail,
        ]
        _say("  ".join(p for p in parts if p))
    return ExitCode.OK


@app.command("cleanup")
@click.option("--dry-run", is_flag=True, help="削除せずに一覧だけ表示する (list only)")
@click.option(
    "--trigger", type=click.Choice(["cli", "tray", "schedule"]), default="cli", hidden=True
)
def cleanup_command(dry_run: bool, trigger: str) -> int:
    """保存期間を過ぎた実行フォルダを削除する (delete run folders past their retention period).

    Each bot keeps its run folders (results and exception workbooks, screenshots, logs)
    retention_days days (bot.yaml, default 30) after the run; older ones are deleted, the run
    log's rows stay. The scheduler runs this daily. Recorded in the audit log.
    """
    from framework.home import Home
    from framework.retention import cleanup

    project = current_project()
    home = Home.locate(project.root)
    report = cleanup(home, project, dry_run=dry_run, trigger=trigger)
    verb = "削除予定 (would delete)" if dry_run else "削除しました (deleted)"
    for expired in report.expired:
        _say(
            f"{verb}: {expired.path}  ({expired.bot_id or '?'}, 終了 {expired.ended:%Y-%m-%d},"
            f" 保存期間 {expired.days} 日)"
        )
    for crash in report.crash_reports:
        _say(f"{verb}: {crash}")
    for problem in report.problems:
        _say(f"注意: {problem}", to_err=True)
    _say(
        f"{'削除予定' if dry_run else '削除'} {len(report.expired)} 件、残す {report.kept} 件"
        f" (runs {'to delete' if dry_run else 'deleted'}: {len(report.expired)},"
        f" kept: {report.kept})"
    )
    return ExitCode.ABORTED if report.undeletable else ExitCode.OK
