"""What each menu entry does: the callbacks the tray's menu and ``rpa tray --send`` both call."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from framework.tray.control import log_line, log_path
from framework.tray.launcher import Launcher
from framework.tray.menu import Act, BotChoice, MenuFacts, build_menu, parse_action, shown_bots
from framework.tray.notify import Notifier
from framework.tray.state import RunView, last_run

FileChooser = Callable[[str, Path | None], Path | None]
"""(title, folder to start in) → the chosen file, or None when cancelled."""


def open_path(path: Path) -> None:
    """Open a file or folder with the desktop's program (Excel for .xlsx, Explorer for folders)."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined,unused-ignore]
        return
    command = "open" if sys.platform == "darwin" else "xdg-open"
    subprocess.Popen(
        [command, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class TrayActions:
    """Runs menu actions by id (``run:welfare_entry``); one at a time, off the GUI thread."""

    def __init__(
        self,
        home_root: Path,
        launcher: Launcher,
        notify: Notifier,
        facts: Callable[[], MenuFacts],
        *,
        choose_file: FileChooser | None = None,
        opener: Callable[[Path], None] = open_path,
        on_quit: Callable[[], None] | None = None,
        on_menu: Callable[[], None] | None = None,
    ) -> None:
        self.home_root = home_root
        self.launcher = launcher
        self.notify = notify
        self.facts = facts
        self.choose_file = choose_file
        self.opener = opener
        self.on_quit = on_quit
        self.on_menu = on_menu
        self._handlers: dict[Act, Callable[[str, MenuFacts], None]] = {
            Act.STATUS: self._status,
            Act.MENU: self._menu,
            Act.RUN: self._run,
            Act.RUN_FILE: self._run_file,
            Act.STOP: self._stop,
            Act.RESULTS: self._results,
            Act.EXCEPTIONS: self._exceptions,
            Act.FOLDER: self._folder,
            Act.LAST_EXCEPTIONS: self._last_exceptions,
            Act.OPEN_RUN: self._open_run,
            Act.LOG: self._log,
            Act.QUIT: self._quit,
        }

    def dispatch(self, action: str) -> None:
        """Do what the menu entry ``action`` stands for; problems become notifications."""
        facts = self.facts()
        try:
            act, target = parse_action(action)
        except ValueError:
            act, target = None, ""
        if act is None or (act not in _ALWAYS and build_menu(facts).find(action) is None):
            log_line(self.home_root, f"不明な操作 (unknown action): {action}")
            self.notify("kakari", f"その操作はメニューにありません: {action} (unknown action)")
            return
        log_line(self.home_root, f"操作 (action): {action}")
        self._handlers[act](target, facts)

    # -- running ----------------------------------------------------------------------------
    def _bot(self, bot_id: str, facts: MenuFacts) -> BotChoice | None:
        return next((b for b in shown_bots(facts.bots, facts.settings) if b.id == bot_id), None)

    def _run(self, bot_id: str, facts: MenuFacts, input_path: Path | None = None) -> None:
        bot = self._bot(bot_id, facts)
        if bot is None:
            return
        if bot.takes_input and input_path is None and bot.default_input is None:
            self.notify(
                f"{bot.name}: 既定の入力がありません",
                "「ファイルを選んで実行…」で入力ファイルを選んでください (no default input)",
            )
            return
        if self.launcher.start(bot, input_path) is None:
            self.notify(
                f"{bot.name}: すでに実行中です", "終わるまでお待ちください (already running)"
            )
            return
        where = input_path.name if input_path else (bot.default_input or Path("")).name
        self.notify(
            f"{bot.name}: 開始しました",
            (f"入力: {where}。" if where else "")
            + "終わると通知します。進み具合はアイコンにマウスを重ねると見られます"
            " (started; hover over the icon to see progress)",
        )

    def _run_file(self, bot_id: str, facts: MenuFacts) -> None:
        bot = self._bot(bot_id, facts)
        if bot is None:
            return
        if self.choose_file is None:
            self.notify(
                f"{bot.name}: ファイルを選べません",
                "この PC ではファイル選択の画面を開けません（tkinter がありません）"
                " (no file dialog on this PC)",
            )
            return
        start = bot.default_input
        if start is not None and not start.is_dir():
            start = start.parent
        chosen = self.choose_file(f"{bot.name}: 入力ファイルを選んでください", start)
        if chosen is None:
            log_line(self.home_root, f"ファイル選択を取り消しました (cancelled): {bot.id}")
            return
        self._run(bot_id, facts, chosen)

    def _stop(self, bot_id: str, facts: MenuFacts) -> None:
        bot = self._bot(bot_id, facts)
        name = bot.name if bot else bot_id
        if self.launcher.stop(bot_id) is None:
            self.notify(f"{name}: 実行中ではありません", "止めるものはありません (not running)")
            return
        self.notify(
            f"{name}: 停止を指示しました",
            "今の申請を終えてから止まります (stopping after the current item)",
        )

    # -- opening ----------------------------------------------------------------------------
    def _open(self, path: Path, what: str) -> None:
        log_line(self.home_root, f"{what}を開きます (opening): {path}")
        try:
            self.opener(path)
        except OSError as exc:
            self.notify(f"{what}を開けません", f"{path}: {exc.strerror or exc} (cannot open)")

    def _last_run(self, bot_id: str) -> RunView | None:
        return last_run(self.home_root, bot_id)

    def _nothing(self, bot_id: str, facts: MenuFacts, what: str) -> None:
        bot = self._bot(bot_id, facts)
        name = bot.name if bot else bot_id
        self.notify(f"{name}: {what}", "まだ実行されていません (no runs yet)")

    def _results(self, bot_id: str, facts: MenuFacts) -> None:
        view = self._last_run(bot_id)
        if view is None:
            self._nothing(bot_id, facts, "結果")
        else:
            self._open(view.results or view.folder, "結果")

    def _exceptions(self, bot_id: str, facts: MenuFacts) -> None:
        view = self._last_run(bot_id)
        if view is None or view.exceptions is None:
            self.notify("要対応リスト", "前回の実行に要対応の申請はありません (no exceptions)")
        else:
            self._open(view.exceptions, "要対応リスト")

    def _folder(self, bot_id: str, facts: MenuFacts) -> None:
        view = self._last_run(bot_id)
        if view is None:
            self._nothing(bot_id, facts, "実行フォルダ")
        else:
            self._open(view.folder, "実行フォルダ")

    def _last_exceptions(self, target: str, facts: MenuFacts) -> None:
        last = facts.status.last
        if last is None or last.view is None or last.view.exceptions is None:
            self.notify("要対応リスト", "前回の実行に要対応の申請はありません (no exceptions)")
        else:
            self._open(last.view.exceptions, "要対応リスト")

    def _open_run(self, run_id: str, facts: MenuFacts) -> None:
        view = next((v for v in facts.recent if v.record.id == run_id), None)
        if view is not None:
            self._open(view.folder, "実行フォルダ")

    def _log(self, target: str, facts: MenuFacts) -> None:
        path = log_path(self.home_root)
        if not path.exists():
            log_line(self.home_root, "今日のログ (today's log)")
        self._open(path, "今日のログ")

    # -- the tray itself --------------------------------------------------------------------
    def _status(self, target: str, facts: MenuFacts) -> None:
        status = facts.status
        self.notify(f"kakari: {status.state.label}", status.line)

    def _menu(self, target: str, facts: MenuFacts) -> None:
        if self.on_menu is not None:
            self.on_menu()

    def _quit(self, target: str, facts: MenuFacts) -> None:
        if self.on_quit is not None:
            self.on_quit()


_ALWAYS = frozenset({Act.STATUS, Act.MENU, Act.LOG, Act.QUIT, Act.LAST_EXCEPTIONS})
"""Actions that need no menu entry of their own to be valid."""
