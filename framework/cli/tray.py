"""``rpa tray``: the tray launcher for staff, its autostart entry, its menu and its status."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from framework.cli.app import app, current_project, err, fail, out
from framework.errors import InvalidError, Problem, unknown_name
from framework.outcome import ExitCode


@app.command("tray")
@click.option(
    "--install-autostart",
    "install",
    is_flag=True,
    help="ログオン時にトレイを起動する（この利用者だけ） (start the tray at logon)",
)
@click.option(
    "--remove-autostart", "remove", is_flag=True, help="ログオン時の起動をやめる (stop that)"
)
@click.option(
    "--print-menu", "print_menu", is_flag=True, help="メニューを文字で表示 (print the menu)"
)
@click.option("--status", "status", is_flag=True, help="動いているトレイの状態 (tray status)")
@click.option("--json", "as_json", is_flag=True, help="--status を JSON で (print JSON)")
@click.option(
    "--send",
    "send",
    metavar="ACTION",
    help="動いているトレイにメニューの操作を送る（例: run:welfare_entry） (send a menu action)",
)
@click.option(
    "--home",
    "home",
    type=click.Path(file_okay=False, path_type=Path),
    help="RPA_HOME（このトレイと、そこから実行するボット） (RPA_HOME for the tray and its runs)",
)
def tray_command(
    install: bool,
    remove: bool,
    print_menu: bool,
    status: bool,
    as_json: bool,
    send: str | None,
    home: Path | None,
) -> int:
    """通知領域のアイコンからボットを実行する (the tray launcher for staff).

    Right-click the icon next to the clock: each bot of this PC's departments (RPA_HOME/
    settings.yaml) can be run on its default input or on a chosen file, stopped, and its
    results, exception report and run folder opened. Each run is its own `rpa run BOT
    --trigger tray` process. One tray per RPA_HOME: a second start exits with 4.
    """
    from framework.home import Home

    if home is not None:
        os.environ["RPA_HOME"] = str(home.expanduser().resolve())
    project = current_project()
    home_root = Home.locate(project.root).root
    if install or remove:
        return _autostart(project.root, home, install)
    if send is not None:
        return _send(home_root, send)
    if status:
        return _status(home_root, as_json)
    try:
        from framework.tray.menu import load_settings

        settings = load_settings(project, home_root)
    except InvalidError as exc:
        return fail(exc.problems, nothing_run=False)
    if print_menu:
        from framework.tray.menu import build_menu, gather
        from framework.tray.state import TrayStatus

        facts = gather(project, home_root, settings.tray, TrayStatus())
        out().print(build_menu(facts).text(), markup=False, highlight=False, soft_wrap=True)
        return ExitCode.OK
    return _run_tray(project, home_root, settings)


def _run_tray(project: Any, home_root: Path, settings: Any) -> int:
    from framework.tray.control import TrayLock, TrayRunningError, log_line, prune_logs, send_action

    lock = TrayLock(home_root)
    try:
        lock.acquire()
    except TrayRunningError as exc:
        err().print(str(exc), markup=False, highlight=False)
        log_line(home_root, f"2つ目のトレイは起動しません (second tray refused): PID {os.getpid()}")
        send_action(home_root, "status")  # the running tray says it is there
        return ExitCode.ALREADY_RUNNING
    try:
        prune_logs(home_root)
        try:
            from framework.tray.app import TrayApp
        except Exception as exc:  # pystray finds no display or no tray backend
            message = (
                "通知領域のアイコンを表示できません（画面やデスクトップがありません）"
                f" (cannot show a tray icon: {type(exc).__name__}: {exc})"
            )
            err().print(message, markup=False, highlight=False)
            log_line(home_root, message)
            return ExitCode.ABORTED
        TrayApp(project, home_root, settings).run()
    finally:
        lock.release()
    return ExitCode.OK


def _send(home_root: Path, action: str) -> int:
    from framework.tray.control import TrayLock, send_action
    from framework.tray.menu import parse_action

    try:
        parse_action(action)
    except ValueError:
        return fail(
            [Problem("--send", 0, 0, action, "そのような操作はありません (unknown action)")],
            nothing_run=False,
        )
    if not TrayLock(home_root).held():
        err().print("トレイは起動していません (the tray is not running)", markup=False)
        return ExitCode.ABORTED
    send_action(home_root, action)
    out().print(f"トレイに送りました (sent): {action}", markup=False, highlight=False)
    return ExitCode.OK


def _status(home_root: Path, as_json: bool) -> int:
    from framework.console import dump_json
    from framework.tray.control import TrayLock, read_status

    alive = TrayLock(home_root).held()
    data = read_status(home_root) if alive else None
    if as_json:
        dump_json(out(), {"running": alive, **(data or {})})
    elif not alive:
        out().print("トレイは起動していません (the tray is not running)", markup=False)
    else:
        holder = TrayLock(home_root).holder()
        tooltip = (data or {}).get("tooltip", "")
        out().print(
            f"トレイ起動中 (running): PID {holder.get('pid', '?')}、{tooltip}",
            markup=False,
            highlight=False,
        )
    return ExitCode.OK if alive else ExitCode.ABORTED


def _autostart(project_root: Path, home: Path | None, install: bool) -> int:
    from framework.tray import autostart

    if not install:
        removed = autostart.remove()
        if not removed:
            out().print("ログオン時の起動は設定されていません (no autostart entry)", markup=False)
        for path in removed:
            out().print(f"削除しました (removed): {path}", markup=False, highlight=False)
        return ExitCode.OK
    command = autostart.tray_command(
        project_root, home.expanduser().resolve() if home is not None else _home_if_set()
    )
    entry = autostart.install(command, project_root)
    out().print(
        f"ログオン時にトレイを起動します (autostart installed): {entry.path}",
        markup=False,
        highlight=False,
    )
    if entry.note:
        out().print(entry.note, markup=False, highlight=False)
    return ExitCode.OK


def _home_if_set() -> Path | None:
    configured = os.environ.get("RPA_HOME")
    return Path(configured).expanduser().resolve() if configured else None


@app.command("open")
@click.argument("bot")
@click.argument("what", type=click.Choice(["results", "exceptions", "folder"]), default="results")
@click.option("--print", "print_only", is_flag=True, help="開かずにパスだけ表示 (print the path)")
def open_command(bot: str, what: str, print_only: bool) -> int:
    """最新の実行の結果・要対応リスト・フォルダを開く (open the bot's latest results).

    WHAT is ``results`` (結果一覧.xlsx), ``exceptions`` (the exception report) or ``folder``
    (the run folder): what the tray's menu entries for the bot open, for the same latest run.
    """
    from framework.home import Home
    from framework.tray.actions import open_path
    from framework.tray.state import last_run

    project = current_project()
    if bot not in project.bot_ids():
        message = unknown_name("ボット", "bot", bot, project.bot_ids())
        return fail([Problem("rpa open", 0, 0, bot, message)], nothing_run=False)
    view = last_run(Home.locate(project.root).root, bot)
    if view is None:
        out().print(f"ボット {bot} はまだ実行されていません (no runs yet)", markup=False)
        return ExitCode.ABORTED
    if what == "exceptions":
        path = view.exceptions
        if path is None:
            out().print(
                f"前回の実行（{view.record.id}）に要対応の申請はありません (no exceptions)",
                markup=False,
            )
            return ExitCode.OK
    elif what == "results":
        path = view.results or view.folder
    else:
        path = view.folder
    out().print(str(path), markup=False, highlight=False, soft_wrap=True)
    if not print_only:
        open_path(path)
    return ExitCode.OK
