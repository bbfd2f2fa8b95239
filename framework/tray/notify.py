"""Desktop notifications: the icon's balloon (Windows), else notify-send (Linux); always logged."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

from framework.tray.control import log_line

Native = Callable[[str, str], None]
"""Show (title, message) with the GUI toolkit's own notification."""

KEEP = 10


class Notifier:
    """Shows notifications the best way this desktop allows and remembers the last few."""

    def __init__(self, home_root: Path, native: Native | None = None) -> None:
        self.home_root = home_root
        self.native = native
        self.sent: deque[dict[str, str]] = deque(maxlen=KEEP)
        self.count = 0
        """Notifications so far (the tray republishes its status when it changes)."""

    def __call__(self, title: str, message: str) -> str:
        """Notify; return how it was shown: ``native``, ``notify-send`` or ``log``."""
        how = "log"
        if self.native is not None:
            try:
                self.native(title, message)
                how = "native"
            except Exception as exc:  # a toolkit failing to notify must not stop the tray
                log_line(self.home_root, f"通知できません (notification failed): {exc!r}")
        if how == "log" and _notify_send(title, message):
            how = "notify-send"
        flat = message.replace("\n", " / ")
        log_line(self.home_root, f"通知 (notification, {how}): {title} — {flat}")
        self.count += 1
        self.sent.append(
            {
                "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "title": title,
                "message": message,
                "shown_by": how,
            }
        )
        return how


def _notify_send(title: str, message: str) -> bool:
    if sys.platform == "win32":
        return False
    command = shutil.which("notify-send")
    if command is None:
        return False
    try:
        done = subprocess.run(
            [command, "--app-name=kakari", title, message],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
