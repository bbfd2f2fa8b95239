"""The tray icon itself: the only module that imports pystray; its icons are drawn with Pillow.

Threads: pystray's loop in the main thread (the icon and its native menu); a worker that runs
menu actions one at a time (a file dialog or a slow disk never freezes the icon); a poller
that reads the inbox, follows the child runs, notifies and redraws; Tk's own thread
(:mod:`framework.tray.dialogs`).
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pystray

from framework.errors import InvalidError
from framework.loader import Project
from framework.localsettings import LocalSettings, settings_path
from framework.tray.actions import TrayActions
from framework.tray.control import log_line, take_actions, write_status
from framework.tray.dialogs import TkUI
from framework.tray.icons import icon_image
from framework.tray.launcher import Launcher
from framework.tray.menu import (
    Act,
    Entry,
    MenuFacts,
    TrayMenu,
    action_id,
    build_menu,
    gather,
    load_settings,
)
from framework.tray.notify import Notifier
from framework.tray.state import TrayState, TrayStatus, notification

POLL_SECONDS = 0.5
REFRESH_SECONDS = 15.0
"""How often the menu is rebuilt anyway: runs started elsewhere (the scheduler, the CLI) show."""
LOOP_SECONDS = 0.05


def _icon_class() -> Any:
    """pystray's icon class for this desktop; on X, one that does all its X work in one thread.

    pystray 0.19's X backend has two faults that would hang or deafen the tray: a change to the
    icon from another thread is sent on the X connection its loop thread is blocked reading
    (python-xlib then sometimes waits forever), and its window never asks for button presses,
    so a click does nothing (moses-palmer/pystray#151). The subclass polls the connection in
    its loop thread and runs the tray's changes there, and asks for button presses.
    """
    base: Any = pystray.Icon
    if not base.__module__.endswith("_xorg"):
        return base

    class LoopIcon(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.calls: queue.Queue[Callable[[], object]] = queue.Queue()
            super().__init__(*args, **kwargs)
            from Xlib import X

            self._window.change_attributes(
                event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask
            )
            self._display.flush()

        def _events(self) -> Iterator[Any]:
            display = self._display
            while True:
                while display.pending_events():
                    yield display.next_event()
                try:
                    call = self.calls.get(timeout=LOOP_SECONDS)
                except queue.Empty:
                    continue
                call()
                display.flush()

    return LoopIcon


class TrayApp:
    """One tray: the icon, its menu, the runs it started."""

    def __init__(self, project: Project, home_root: Path, settings: LocalSettings) -> None:
        self.project = project
        self.home_root = home_root
        self.settings = settings
        self.launcher = Launcher(project.root, home_root)
        self.notifier = Notifier(home_root)
        self.tk = TkUI()
        tk_problem = self.tk.start()
        if tk_problem:
            log_line(home_root, f"ファイル選択の画面は使えません (no file dialog): {tk_problem}")
        self.status = TrayStatus()
        self._files = self._signature()
        self._gathered = time.monotonic()
        self._published = 0
        self._facts = gather(
            project, home_root, settings.tray, self.status, file_dialog=not tk_problem
        )
        self._actions_queue: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._icon_lock = threading.Lock()
        """One change to the icon at a time (backends other than X, see :func:`_icon_class`)."""
        self.actions = TrayActions(
            home_root,
            self.launcher,
            self.notifier,
            lambda: self._facts,
            choose_file=None if tk_problem else self.tk.choose_file,
            on_quit=self.quit,
            on_menu=self.popup,
        )
        self.icon = _icon_class()(
            "kakari",
            icon_image(TrayState.IDLE),
            self._tooltip(),
            menu=self._native_menu(build_menu(self._facts)),
        )
        if self.icon.HAS_NOTIFICATION:
            self.notifier.native = self._notify
        self._threads = [
            threading.Thread(target=self._work, name="kakari-actions", daemon=True),
            threading.Thread(target=self._poll, name="kakari-poll", daemon=True),
        ]

    # -- life -------------------------------------------------------------------------------
    def run(self) -> None:
        """Show the icon until Quit (blocks; call from the main thread)."""
        log_line(
            self.home_root,
            f"トレイを起動しました (tray started): backend {pystray.Icon.__module__}",
        )
        self.icon.run(setup=self._setup)
        log_line(self.home_root, "トレイを終了しました (tray stopped)")

    def _setup(self, icon: Any) -> None:
        try:
            self._in_loop(lambda: setattr(icon, "visible", True))
            for thread in self._threads:
                thread.start()
            self._publish()
        except Exception as exc:  # pystray would swallow it: say why the icon is missing
            log_line(self.home_root, "".join(traceback.format_exception(exc)).rstrip())
            self.quit()

    def enqueue(self, action: str) -> None:
        """What every menu entry does: hand its action to the worker thread."""
        self._actions_queue.put(action)

    def quit(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        going = self.launcher.forget()
        if going:
            log_line(
                self.home_root,
                "実行中のボットはそのまま続けます (runs go on): " + "、".join(going),
            )
        self._actions_queue.put(None)
        self.tk.stop()
        self._in_loop(self.icon.stop)

    def _notify(self, title: str, message: str) -> None:
        self._in_loop(lambda: self.icon.notify(message, title))

    def _in_loop(self, change: Callable[[], object]) -> None:
        """Change the icon: in pystray's loop thread on X, else here, one change at a time."""
        calls = getattr(self.icon, "calls", None)
        if calls is not None:
            calls.put(change)
            return
        with self._icon_lock:
            change()

    def popup(self) -> None:
        self.tk.popup(build_menu(self._facts), self.enqueue)

    # -- threads ----------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            action = self._actions_queue.get()
            if action is None:
                return
            try:
                self.actions.dispatch(action)
            except Exception as exc:  # one failing action must not end the tray
                log_line(self.home_root, f"操作に失敗しました (action failed): {action}: {exc!r}")
                log_line(self.home_root, "".join(traceback.format_exception(exc)).rstrip())
                self.notifier(
                    "kakari: 操作に失敗しました",
                    "メニューの「今日のログを開く」で詳細を確認してください"
                    " (an action failed; see today's log)",
                )

    def _poll(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            try:
                self._tick()
            except Exception as exc:  # keep polling: the next tick may succeed
                log_line(self.home_root, f"状態の更新に失敗しました (poll failed): {exc!r}")
                log_line(self.home_root, "".join(traceback.format_exception(exc)).rstrip())

    def _tick(self) -> None:
        for action in take_actions(self.home_root):
            self.enqueue(action)
        last = self.status.last
        ended = self.launcher.poll()
        for run in ended:
            if run.state is not None:
                last = run
            self.notifier(*notification(run))
        status = TrayStatus(self.launcher.running(), last)
        files = self._signature()
        if files != self._files:
            self._reload_settings()
        if status != self.status or ended or files != self._files:
            self.status = status
            self._files = files
            self._publish(rebuild=True)
        elif time.monotonic() - self._gathered > REFRESH_SECONDS:
            self._refresh()
        elif self.notifier.count != self._published:
            self._publish()

    def _refresh(self) -> None:
        """Read the run log again (runs started elsewhere); touch the icon only if the menu
        changed, so that an open menu is not disturbed every few seconds for nothing."""
        facts = self._gather()
        if _without_clock(facts) != _without_clock(self._facts):
            self._facts = facts
            self._publish(menu=True)

    def _reload_settings(self) -> None:
        """Take up an edited ``settings.yaml``; an invalid one is reported and not used."""
        try:
            settings = load_settings(self.project, self.home_root)
        except InvalidError as exc:
            problems = "; ".join(str(p) for p in exc.problems)
            log_line(
                self.home_root, f"設定ファイルに誤り、前の設定のまま (settings kept): {problems}"
            )
            self.notifier("kakari: 設定ファイルに誤りがあります", problems)
            return
        except Exception as exc:  # e.g. a bot.yaml half-saved: try again at the next change
            log_line(self.home_root, f"設定を読めません (settings not read): {exc!r}")
            return
        self.settings = settings

    def _gather(self) -> MenuFacts:
        """The menu's facts read now; the previous ones if they cannot be read."""
        self._gathered = time.monotonic()
        try:
            return gather(
                self.project,
                self.home_root,
                self.settings.tray,
                self.status,
                file_dialog=self._facts.file_dialog,
            )
        except Exception as exc:  # e.g. a bot.yaml half-saved: keep the previous menu
            log_line(self.home_root, f"メニューを作り直せません (menu not rebuilt): {exc!r}")
            return dataclasses.replace(self._facts, status=self.status)

    def _publish(self, *, rebuild: bool = False, menu: bool = False) -> None:
        """Show the status: icon, tooltip, menu, and the status file (``rpa tray --status``).

        ``rebuild``: read the menu's facts again first; ``menu``: they were just read."""
        if rebuild:
            self._facts = self._gather()
        fraction = None
        if self.status.running:
            first = self.status.running[0]
            fraction = first.settled / first.total if first.total else None
        image = icon_image(self.status.state, fraction)
        tooltip = self._tooltip()
        native = self._native_menu(build_menu(self._facts)) if rebuild or menu else None

        def change() -> None:
            if self._stopping.is_set():
                return
            self.icon.icon = image
            self.icon.title = tooltip
            if native is not None:
                self.icon.menu = native
                self.icon.update_menu()

        self._in_loop(change)
        shown = build_menu(self._facts)
        self._published = self.notifier.count
        try:
            write_status(
                self.home_root,
                {
                    **self.status.as_json(),
                    "backend": pystray.Icon.__module__,
                    "native_menu": bool(self.icon.HAS_MENU),
                    "notifications": list(self.notifier.sent),
                    "menu": shown.text().splitlines(),
                },
            )
        except OSError:
            pass  # read by someone at this instant (Windows): the next change writes it

    def _tooltip(self) -> str:
        if pystray.Icon.__module__.endswith("_xorg"):
            return self.status.tooltip_latin  # it writes the title as Latin-1 (WM_NAME)
        return self.status.tooltip

    def _signature(self) -> tuple[tuple[str, int], ...]:
        """Modification times of the files the menu comes from (bots, this PC's settings)."""
        paths = [settings_path(self.home_root), *self.project.bots_dir.glob("*/bot.yaml")]
        found = []
        for path in paths:
            try:
                found.append((str(path), path.stat().st_mtime_ns))
            except OSError:
                continue
        return tuple(sorted(found))

    # -- the native menu --------------------------------------------------------------------
    def _native_menu(self, menu: TrayMenu) -> Any:
        if not self.icon_has_menu():
            # pystray's X backend has no menu: a click shows the Tk popup of the same model
            return pystray.Menu(
                pystray.MenuItem("kakari", self._callback(action_id(Act.MENU)), default=True)
            )
        return pystray.Menu(*self._items(menu.entries))

    def icon_has_menu(self) -> bool:
        icon = getattr(self, "icon", None)
        backend = type(icon) if icon is not None else pystray.Icon
        return bool(backend.HAS_MENU)

    def _items(self, entries: Sequence[Entry]) -> list[Any]:
        items: list[Any] = []
        for entry in entries:
            if entry.is_separator:
                items.append(pystray.Menu.SEPARATOR)
            elif entry.is_submenu:
                submenu = pystray.Menu(*self._items(entry.children))
                items.append(pystray.MenuItem(entry.label, submenu, enabled=entry.enabled))
            else:
                items.append(
                    pystray.MenuItem(
                        entry.label,
                        self._callback(entry.action or ""),
                        enabled=entry.enabled and bool(entry.action),
                        default=entry.default,
                    )
                )
        return items

    def _callback(self, action: str) -> Callable[[Any, Any], None]:
        def chosen(icon: Any, item: Any) -> None:
            if action:
                self.enqueue(action)

        return chosen


def _without_clock(facts: MenuFacts) -> MenuFacts:
    return dataclasses.replace(facts, now=None)
