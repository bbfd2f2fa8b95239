"""The Tk side of the tray: the file chooser, and the popup menu where the backend has none.

Tk wants one thread for everything it does, so :class:`TkUI` owns a thread with a hidden root
window; other threads hand it work. On Windows pystray shows its own native menu; Linux
without AppIndicator (pystray's X backend) has no menu of its own, so a click on the icon shows
the same menu model as a Tk popup menu.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from framework.tray.menu import Entry, TrayMenu

if TYPE_CHECKING:
    import tkinter

T = TypeVar("T")

INPUT_TYPES = [
    ("申請ファイル (Excel, PDF)", "*.xlsx *.xlsm *.pdf"),
    ("すべてのファイル (all files)", "*"),
]
_WAIT = 5.0
"""Seconds to wait for Tk to start."""


class TkUnavailableError(Exception):
    """Tk cannot start here (no tkinter, or no display)."""


class TkUI:
    """A thread that owns Tk; ``call`` runs a function there and returns its result."""

    def __init__(self) -> None:
        self._work: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any] | None]] = queue.Queue()
        self._ready = threading.Event()
        self._problem = ""
        self._root: tkinter.Tk | None = None
        self._thread = threading.Thread(target=self._main, name="kakari-tk", daemon=True)

    def start(self) -> str:
        """Start Tk; return "" when it works, else why not (then there is no file dialog)."""
        self._thread.start()
        if not self._ready.wait(_WAIT):
            return "Tk did not start"
        return self._problem

    def _main(self) -> None:
        try:
            import tkinter

            root = tkinter.Tk(className="kakari")
            root.withdraw()
        except Exception as exc:  # ImportError, TclError (no display)
            self._problem = f"{type(exc).__name__}: {exc}"
            self._ready.set()
            return
        self._root = root
        self._ready.set()
        root.after(50, self._pump)
        root.mainloop()

    def _pump(self) -> None:
        assert self._root is not None
        while True:
            try:
                function, answer = self._work.get_nowait()
            except queue.Empty:
                break
            if function is _QUIT:
                self._root.quit()
                return
            try:
                result: Any = function()
            except Exception as exc:  # the caller gets it back
                result = exc
            if answer is not None:
                answer.put(result)
        self._root.after(50, self._pump)

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` in the Tk thread and wait for its result."""
        if self._root is None:
            raise TkUnavailableError(self._problem)
        if threading.current_thread() is self._thread:
            return function()
        answer: queue.Queue[Any] = queue.Queue()
        self._work.put((function, answer))
        result = answer.get()
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[no-any-return]

    def post(self, function: Callable[[], object]) -> None:
        """Run ``function`` in the Tk thread without waiting."""
        if self._root is not None:
            self._work.put((function, None))

    def stop(self) -> None:
        if self._root is not None:
            self._work.put((_QUIT, None))

    # -- what the tray asks for -------------------------------------------------------------
    def choose_file(self, title: str, start: Path | None) -> Path | None:
        """A native "open file" dialog (Excel workbooks and PDF forms); None when cancelled."""

        def ask() -> Path | None:
            from tkinter import filedialog

            root = self._root
            assert root is not None
            root.attributes("-topmost", True)  # in front of the other windows on Windows
            root.update()
            name = filedialog.askopenfilename(
                parent=root,
                title=title,
                initialdir=str(start) if start is not None and start.is_dir() else None,
                filetypes=INPUT_TYPES,
            )
            root.attributes("-topmost", False)
            return Path(name) if name else None

        return self.call(ask)

    def popup(self, menu: TrayMenu, dispatch: Callable[[str], None]) -> None:
        """Show ``menu`` at the mouse pointer; a chosen entry's action goes to ``dispatch``."""

        def show() -> None:
            import tkinter

            root = self._root
            assert root is not None
            widget = tkinter.Menu(root, tearoff=False)
            _fill(widget, menu.entries, dispatch)
            x, y = root.winfo_pointerxy()
            widget.update_idletasks()
            height = widget.winfo_reqheight()
            if y + height > root.winfo_screenheight():
                y -= height + 16  # above the icon, as notification-area menus open
            try:
                widget.tk_popup(x, y)
            finally:
                widget.grab_release()

        self.post(show)


def _fill(widget: Any, entries: Sequence[Entry], dispatch: Callable[[str], None]) -> None:
    import tkinter

    for entry in entries:
        if entry.is_separator:
            widget.add_separator()
            continue
        state = "normal" if entry.enabled else "disabled"
        if entry.is_submenu:
            below = tkinter.Menu(widget, tearoff=False)
            _fill(below, entry.children, dispatch)
            widget.add_cascade(label=entry.label, menu=below, state=state)
        elif entry.action:
            widget.add_command(
                label=entry.label,
                state=state,
                command=lambda action=entry.action: dispatch(action),
            )
        else:
            widget.add_command(label=entry.label, state="disabled")


def _quit() -> None:
    """Marker: stop the Tk thread."""


_QUIT = _quit
