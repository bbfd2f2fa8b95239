"""Starting the tray at logon for the current user: Windows' Startup folder, or XDG autostart.

Windows: a shortcut ``kakari-tray.lnk`` in the user's Startup folder that runs ``pythonw.exe``
(no console window), made by PowerShell through ``WScript.Shell`` (no pywin32 needed). Where
policy blocks that (constrained PowerShell), a ``kakari-tray.cmd`` does the same, with a console
window that flashes at logon. Linux: ``~/.config/autostart/kakari-tray.desktop``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENTRY = "kakari-tray"
_SHORTCUT_SCRIPT = (
    "$s = (New-Object -ComObject WScript.Shell).CreateShortcut($env:KAKARI_LNK); "
    "$s.TargetPath = $env:KAKARI_TARGET; $s.Arguments = $env:KAKARI_ARGS; "
    "$s.WorkingDirectory = $env:KAKARI_DIR; $s.Description = $env:KAKARI_DESC; $s.Save()"
)
DESCRIPTION = "kakari トレイ: 通知領域からボットを実行 (start RPA bots from the tray)"

Runner = Callable[..., "subprocess.CompletedProcess[Any]"]


@dataclass(frozen=True)
class Autostart:
    """What was installed: the file, the command it runs, and its kind."""

    path: Path
    command: list[str]
    kind: str
    """``shortcut`` (.lnk), ``cmd`` (.cmd, the fallback on Windows) or ``desktop`` (XDG)."""
    note: str = ""


def gui_python(executable: str | None = None, platform: str = sys.platform) -> str:
    """``pythonw.exe`` beside ``python.exe`` on Windows (no console window), else the same."""
    path = Path(executable or sys.executable)
    if platform == "win32" and path.name.lower() == "python.exe":
        windowless = path.with_name("pythonw.exe")
        if windowless.exists():
            return str(windowless)
    return str(path)


def tray_command(
    project_root: Path,
    home_root: Path | None = None,
    *,
    python: str | None = None,
    platform: str = sys.platform,
) -> list[str]:
    """``pythonw -m framework.cli --project ROOT tray [--home DIR]``."""
    command = [gui_python(python, platform), "-m", "framework.cli", "--project", str(project_root)]
    command.append("tray")
    if home_root is not None:
        command += ["--home", str(home_root)]
    return command


def startup_dir(env: Mapping[str, str]) -> Path:
    """The current user's Startup folder on Windows."""
    appdata = env.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"


def autostart_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/autostart`` (default ``~/.config/autostart``)."""
    config = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "autostart"


def entries(platform: str = sys.platform, env: Mapping[str, str] | None = None) -> list[Path]:
    """The autostart files of the tray that exist now."""
    env = os.environ if env is None else env
    if platform == "win32":
        folder = startup_dir(env)
        candidates = [folder / f"{ENTRY}.lnk", folder / f"{ENTRY}.cmd"]
    else:
        candidates = [autostart_dir(env) / f"{ENTRY}.desktop"]
    return [p for p in candidates if p.exists()]


def install(
    command: list[str],
    working_dir: Path,
    *,
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    run: Runner = subprocess.run,
) -> Autostart:
    """Start ``command`` at each logon of the current user (replacing an earlier entry)."""
    env = os.environ if env is None else env
    remove(platform=platform, env=env)
    if platform == "win32":
        return _install_windows(command, working_dir, env, run)
    folder = autostart_dir(env)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ENTRY}.desktop"
    path.write_text(desktop_entry(command, working_dir), encoding="utf-8")
    return Autostart(path, command, "desktop")


def remove(*, platform: str = sys.platform, env: Mapping[str, str] | None = None) -> list[Path]:
    """Delete the tray's autostart files; return those deleted."""
    found = entries(platform, env)
    for path in found:
        path.unlink()
    return found


def _install_windows(
    command: list[str], working_dir: Path, env: Mapping[str, str], run: Runner
) -> Autostart:
    folder = startup_dir(env)
    folder.mkdir(parents=True, exist_ok=True)
    shortcut = folder / f"{ENTRY}.lnk"
    values = {
        "KAKARI_LNK": str(shortcut),
        "KAKARI_TARGET": command[0],
        "KAKARI_ARGS": subprocess.list2cmdline(command[1:]),
        "KAKARI_DIR": str(working_dir),
        "KAKARI_DESC": DESCRIPTION,
    }
    problem = ""
    try:
        done = run(
            ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"]
            + ["-Command", _SHORTCUT_SCRIPT],
            env={**env, **values},
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode == 0 and shortcut.exists():
            return Autostart(shortcut, command, "shortcut")
        problem = f"PowerShell exit {done.returncode}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"PowerShell: {type(exc).__name__}"
    script = folder / f"{ENTRY}.cmd"
    text = (
        "@echo off\r\n"
        "rem kakari tray: started at logon (remove with: rpa tray --remove-autostart)\r\n"
        f'cd /d "{working_dir}"\r\n'
        f'start "" {subprocess.list2cmdline(command)}\r\n'
    )
    # cmd.exe reads batch files in the console's code page (cp932 on Japanese Windows)
    script.write_text(text, encoding="mbcs" if sys.platform == "win32" else "utf-8", newline="")
    return Autostart(
        script,
        command,
        "cmd",
        note=f"ショートカットを作れなかったため .cmd を置きました ({problem})",
    )


_RESERVED = re.compile(r"[\s\"'\\><~|&;$*?#()`]")


def desktop_quote(arg: str) -> str:
    """Quote one argument for a ``.desktop`` file's ``Exec=`` (XDG Desktop Entry spec)."""
    arg = arg.replace("%", "%%")
    if arg and not _RESERVED.search(arg):
        return arg
    quoted = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    return quoted.replace("\\", "\\\\")  # the string-escape rule applies on top of quoting


def desktop_entry(command: list[str], working_dir: Path) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.0\n"
        "Name=kakari tray\n"
        "Name[ja]=kakari トレイ\n"
        "Comment=Start RPA bots from the notification area\n"
        "Comment[ja]=通知領域からボットを実行する\n"
        f"Exec={' '.join(desktop_quote(a) for a in command)}\n"
        f"Path={working_dir}\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )
