"""A virtual desktop for tray tests: Xvfb, a system tray host (trayer) and a mouse (XTEST)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1280, 720
BACKGROUND = 0x2F6690
"""A desktop colour, so the screenshots look like a screen and the icon stands out."""


def wait_until(condition: Callable[[], Any], what: str, deadline: float = 20.0) -> Any:
    """Poll ``condition`` until it returns something true (no fixed sleeps); fail after
    ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Desktop:
    """``Xvfb`` on a free display, with ``trayer`` as the notification area when installed."""

    def __init__(self) -> None:
        self.xvfb: subprocess.Popen[bytes] | None = None
        self.host: subprocess.Popen[bytes] | None = None
        self.display = ""
        self._x: Any = None
        self.missing = ""
        """Why there is no tray host (then the icon cannot dock, be clicked or be seen)."""

    # -- life -------------------------------------------------------------------------------
    def start(self) -> Desktop:
        read, write = os.pipe()
        try:
            self.xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{WIDTH}x{HEIGHT}x24"]
                + ["-nolisten", "tcp"],
                pass_fds=(write,),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            os.close(write)
            write = -1
            number = b""
            while not number.endswith(b"\n"):
                chunk = os.read(read, 16)
                if not chunk:
                    raise RuntimeError("Xvfb did not start")
                number += chunk
        finally:
            os.close(read)
            if write >= 0:
                os.close(write)
        self.display = f":{number.decode().strip()}"
        from Xlib import display as xdisplay

        self._x = xdisplay.Display(self.display)
        root = self._x.screen().root
        root.change_attributes(background_pixel=BACKGROUND)
        root.clear_area(0, 0, 0, 0)
        self._x.sync()
        trayer = shutil.which("trayer")
        if trayer is None:
            self.missing = (
                "no system tray host in the virtual display: the Debian package `trayer` is"
                " not installed (./install.sh --dev installs it)"
            )
            return self
        self.host = subprocess.Popen(
            # bottom right like Windows' notification area, leaving room right of the icon
            # for the menu and a submenu side by side in the screenshots
            [trayer, "--edge", "bottom", "--align", "right", "--margin", "700"]
            + ["--widthtype", "request"]
            + ["--height", "32", "--transparent", "false", "--tint", "0xe8e8e8"]
            + ["--SetDockType", "true", "--SetPartialStrut", "true"],
            env={**os.environ, "DISPLAY": self.display},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self.tray_host_ready, "trayer to own the notification area")
        return self

    def close(self) -> None:
        if self._x is not None:
            with suppress(Exception):
                self._x.close()
        for proc in (self.host, self.xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    # -- looking ----------------------------------------------------------------------------
    def tray_host_ready(self) -> bool:
        atom = self._x.intern_atom("_NET_SYSTEM_TRAY_S0")
        return bool(self._x.get_selection_owner(atom))

    def icon(self, wm_instance: str = "kakariSystemTrayIcon") -> tuple[int, int, int, int] | None:
        """Where the docked (viewable) icon window is: x, y, width, height on the screen."""
        from Xlib import X

        root = self._x.screen().root

        def search(window: Any) -> Any:
            for child in window.query_tree().children:
                with suppress(Exception):
                    wm_class = child.get_wm_class()
                    if wm_class and wm_class[0] == wm_instance:
                        if child.get_attributes().map_state == X.IsViewable:
                            return child
                found = search(child)
                if found is not None:
                    return found
            return None

        window = search(root)
        if window is None:
            return None
        geometry = window.get_geometry()
        where = root.translate_coords(window, 0, 0)
        return where.x, where.y, geometry.width, geometry.height

    def screenshot(self, path: Path, box: tuple[int, int, int, int] | None = None) -> Path:
        from PIL import ImageGrab

        image = ImageGrab.grab(xdisplay=self.display)
        if box is not None:
            image = image.crop(box)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        return path

    def menus(self) -> list[tuple[int, int, int, int]]:
        """Where Tk's popup menus are on the screen (x, y, width, height), first opened first."""
        from Xlib import X

        found = []
        for window in self._x.screen().root.query_tree().children:
            with suppress(Exception):
                wm_class = window.get_wm_class()
                if wm_class and wm_class[1] == "Menu":
                    if window.get_attributes().map_state == X.IsViewable:
                        g = window.get_geometry()
                        found.append((g.x, g.y, g.width, g.height))
        return found

    # -- touching ---------------------------------------------------------------------------
    def click(self, x: int, y: int) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        xtest.fake_input(self._x, X.MotionNotify, x=x, y=y)
        self._x.sync()
        xtest.fake_input(self._x, X.ButtonPress, 1)
        xtest.fake_input(self._x, X.ButtonRelease, 1)
        self._x.sync()

    def move(self, x: int, y: int) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        xtest.fake_input(self._x, X.MotionNotify, x=x, y=y)
        self._x.sync()

    def key(self, name: str) -> None:
        from Xlib import XK, X
        from Xlib.ext import xtest

        code = self._x.keysym_to_keycode(XK.string_to_keysym(name))
        xtest.fake_input(self._x, X.KeyPress, code)
        xtest.fake_input(self._x, X.KeyRelease, code)
        self._x.sync()
