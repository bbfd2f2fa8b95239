"""Commands about the project: ``rpa bots``, ``rpa steps``, ``rpa validate``, ``rpa doctor``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from framework.cli.app import app, current_project, err, fail, out
from framework.errors import InvalidError
from framework.outcome import ExitCode


@app.command("bots")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力 (print JSON)")
def bots_command(as_json: bool) -> int:
    """ボットの一覧 (list the bots of this project)."""
    from framework.loader import load_bot
    from framework.registry import Registry

    project = current_project()
    registry = Registry.default()
    rows: list[dict[str, object]] = []
    for bot_id in project.bot_ids():
        try:
            bot = load_bot(bot_id, registry, project)
            rows.append(
                {
                    "id": bot.id,
                    "name": bot.name,
                    "department": bot.manifest.department,
                    "workflow": bot.workflow.file,
                    "valid": True,
                }
            )
        except InvalidError as exc:
            rows.append(
                {
                    "id": bot_id,
                    "name": "",
                    "department": "",
                    "workflow": "",
                    "valid": False,
                    "errors": len(exc.problems),
                }
            )
    if as_json:
        from framework.console import dump_json

        dump_json(out(), rows)
        return ExitCode.OK
    table = Table(title="ボット (bots)")
    for column in ("id", "名前 (name)", "担当課 (department)", "状態"):
        table.add_column(column, overflow="fold")
    for row in rows:
        state = "OK" if row["valid"] else f"[red]エラー {row.get('errors')} 件 (rpa validate)[/]"
        table.add_row(str(row["id"]), str(row["name"]), str(row["department"]), state)
    out().print(table)
    return ExitCode.OK


@app.command("steps")
@click.argument("name", required=False)
def steps_command(name: str | None) -> int:
    """使えるステップの一覧と説明 (list steps, or describe one)."""
    from framework.registry import Registry, UnknownNameError

    registry = Registry.default()
    if name is None:
        table = Table(title="ステップ (steps)")
        table.add_column("name")
        table.add_column("説明 (summary)")
        for spec in sorted(registry.steps.values(), key=lambda s: (s.pack, s.name)):
            table.add_row(spec.name, spec.summary)
        out().print(table)
        out().print(
            "詳しくは: rpa steps <name>   (item sources: " + ", ".join(registry.sources) + ")"
        )
        return ExitCode.OK
    try:
        spec = registry.step(name)
    except UnknownNameError as exc:
        err().print(str(exc), markup=False)
        return ExitCode.INVALID
    from framework.console import arguments_table

    out().print(f"[bold]{spec.name}[/]  ({spec.pack})")
    out().print(spec.doc, markup=False, highlight=False, soft_wrap=True)
    if spec.shorthand:
        out().print(
            f"短い書き方 (shorthand): `- {spec.name}: 値` は {spec.shorthand} を指定します",
            markup=False,
        )
    out().print(arguments_table(spec.args))
    return ExitCode.OK


@app.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate_command(paths: tuple[Path, ...]) -> int:
    """ボットとワークフローを検査する (check bots and workflows; nothing runs)."""
    from framework.loader import validate_project
    from framework.registry import Registry

    project = current_project()
    checked, problems = validate_project(project, Registry.default(), list(paths))
    if problems:
        return fail(problems, nothing_run=False)
    for name in checked:
        out().print(f"OK  {name}", highlight=False)
    out().print(f"[green]問題ありません[/] ({len(checked)} files valid)")
    return ExitCode.OK


@app.command("doctor")
def doctor_command() -> int:
    """この PC で動かせるか確認する (check this PC: versions, browser, credentials, folders).

    One line per check: OK, 注意 (warning) or NG (failed, with what to do). Exit code 3 when a
    check failed.
    """
    from framework.doctor import Level, run_checks
    from framework.home import Home

    project = current_project()
    home = Home.locate(project.root)
    out().print(f"プロジェクト (project): {project.root}", highlight=False)
    checks = run_checks(project, home)
    mark = {Level.OK: "[green]OK  [/]", Level.WARN: "[yellow]注意[/]", Level.FAIL: "[red]NG  [/]"}
    for check in checks:
        out().print(
            f"{mark[check.level]} {escape(check.name)}: {escape(check.detail)}",
            highlight=False,
            soft_wrap=True,
        )
        if check.fix and check.level is not Level.OK:
            out().print(f"      → 対処 (fix): {escape(check.fix)}", highlight=False, soft_wrap=True)
    failed = sum(1 for c in checks if c.level is Level.FAIL)
    warned = sum(1 for c in checks if c.level is Level.WARN)
    if failed:
        out().print(f"[red]NG {failed} 件[/] (checks failed), 注意 {warned} 件", highlight=False)
        return ExitCode.ABORTED
    out().print(f"[green]準備できています[/] (ready), 注意 {warned} 件", highlight=False)
    return ExitCode.OK
