"""Starting the tray at logon: the XDG .desktop entry and the Windows Startup-folder shortcut."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from framework.tray import autostart
from framework.tray.autostart import (
    desktop_entry,
    desktop_quote,
    gui_python,
    install,
    remove,
    tray_command,
)

COMMAND = ["/opt/kakari/.venv/bin/python", "-m", "framework.cli", "--project", "/srv/rpa", "tray"]


def _exec_argv(value: str) -> list[str]:
    """Read an ``Exec=`` value back as the Desktop Entry spec says a launcher does.

    First the string-type escapes (``\\\\`` → ``\\``, ``\\s``, ``\\n``, ``\\t``, ``\\r``), then the
    arguments (spaces separate, double quotes group, and inside quotes a backslash escapes
    ``"``, `````, ``$`` and ``\\``), then ``%%`` → ``%``.
    """
    text, i = "", 0
    escapes = {"\\": "\\", "s": " ", "n": "\n", "t": "\t", "r": "\r"}
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in escapes:
            text += escapes[value[i + 1]]
            i += 2
        else:
            text += value[i]
            i += 1
    args: list[str] = []
    current: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            current = current or ""
            i += 1
            while text[i] != '"':
                if text[i] == "\\":
                    assert text[i + 1] in '"`$\\', f"bad escape in {value!r}"
                    i += 1
                current += text[i]
                i += 1
        elif char == " ":
            if current is not None:
                args.append(current)
            current = None
        else:
            assert char not in "\"'\\><~|&;$*?#()`\t\n", f"unquoted {char!r} in {value!r}"
            current = (current or "") + char
        i += 1
    if current is not None:
        args.append(current)
    return [arg.replace("%%", "%") for arg in args]


def _fields(entry: str) -> dict[str, str]:
    lines = entry.splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:])


# -- the .desktop entry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("tray", "tray"),
        ("/opt/kakari/.venv/bin/python", "/opt/kakari/.venv/bin/python"),
        ("--project=/srv/rpa", "--project=/srv/rpa"),
        ("/home/山田/rpa", "/home/山田/rpa"),
        ("/home/山田 太郎/rpa", '"/home/山田 太郎/rpa"'),
        ("", '""'),
        ("100%", "100%%"),
        ("50% off", '"50%% off"'),
        ("it's", '"it\'s"'),
        ('say "hi"', '"say \\\\"hi\\\\""'),
        ("$HOME", '"\\\\$HOME"'),
        ("a`b`", '"a\\\\`b\\\\`"'),
        ("C:\\rpa", '"C:\\\\\\\\rpa"'),
        ("a;b", '"a;b"'),
        ("~/rpa", '"~/rpa"'),
    ],
)
def test_an_argument_is_quoted_as_the_desktop_entry_spec_says(arg: str, quoted: str) -> None:
    assert desktop_quote(arg) == quoted


@pytest.mark.parametrize(
    "command",
    [
        COMMAND,
        [
            "/home/山田 太郎/.venv/bin/python",
            "-m",
            "framework.cli",
            "--project",
            "/home/山田 太郎/rpa",
        ],
        ["/usr/bin/python3", "", '100% "sure"', "$PATH", "back\\slash", "(x) & y | z # c"],
    ],
    ids=["plain", "spaces", "reserved"],
)
def test_the_exec_line_reads_back_as_the_same_command(command: list[str], tmp_path: Path) -> None:
    exec_line = _fields(desktop_entry(command, tmp_path))["Exec"]
    assert _exec_argv(exec_line) == command


def test_the_desktop_entry_starts_the_tray_in_the_project_without_a_terminal(
    tmp_path: Path,
) -> None:
    fields = _fields(desktop_entry(COMMAND, tmp_path))
    assert fields == {
        "Type": "Application",
        "Version": "1.0",
        "Name": "kakari tray",
        "Name[ja]": "kakari トレイ",
        "Comment": "Start RPA bots from the notification area",
        "Comment[ja]": "通知領域からボットを実行する",
        "Exec": " ".join(COMMAND),
        "Path": str(tmp_path),
        "Terminal": "false",
        "X-GNOME-Autostart-enabled": "true",
    }


def test_the_tray_command_runs_the_cli_for_the_project_and_home(tmp_path: Path) -> None:
    command = tray_command(tmp_path / "rpa", tmp_path / "home", python="/usr/bin/python3")
    assert command == [
        "/usr/bin/python3",
        "-m",
        "framework.cli",
        "--project",
        str(tmp_path / "rpa"),
        "tray",
        "--home",
        str(tmp_path / "home"),
    ]
    assert "--home" not in tray_command(tmp_path, python="/usr/bin/python3")


# -- Linux: XDG autostart ----------------------------------------------------------------------


def test_install_writes_the_entry_under_xdg_config_home_and_remove_deletes_it(
    tmp_path: Path,
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = install(COMMAND, tmp_path, platform="linux", env=env)
    entry = tmp_path / "config" / "autostart" / "kakari-tray.desktop"
    assert (done.path, done.kind, done.command, done.note) == (entry, "desktop", COMMAND, "")
    assert entry.read_text(encoding="utf-8") == desktop_entry(COMMAND, tmp_path)
    assert autostart.entries("linux", env) == [entry]
    assert remove(platform="linux", env=env) == [entry]
    assert not entry.exists()
    assert remove(platform="linux", env=env) == []


def test_installing_again_replaces_the_earlier_entry(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    install(COMMAND, tmp_path / "old", platform="linux", env=env)
    done = install(COMMAND, tmp_path / "new", platform="linux", env=env)
    assert f"Path={tmp_path / 'new'}\n" in done.path.read_text(encoding="utf-8")
    assert list((tmp_path / "autostart").iterdir()) == [done.path]


@pytest.mark.parametrize("env", [{}, {"XDG_CONFIG_HOME": ""}])
def test_without_xdg_config_home_the_entry_goes_to_dot_config(env: dict[str, str]) -> None:
    assert autostart.autostart_dir(env) == Path.home() / ".config" / "autostart"


def test_the_environment_is_used_when_none_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    done = install(COMMAND, tmp_path, platform="linux")
    assert done.path == tmp_path / "autostart" / "kakari-tray.desktop"
    assert remove(platform="linux") == [done.path]


# -- Windows: the Startup folder ---------------------------------------------------------------

WIN_COMMAND = [
    "C:\\Users\\山田\\kakari\\.venv\\Scripts\\pythonw.exe",
    "-m",
    "framework.cli",
    "--project",
    "C:\\Users\\山田\\Documents\\RPA 案件",
    "tray",
]


class FakePowerShell:
    """Stands in for ``subprocess.run``: remembers the call, maybe writes the shortcut."""

    def __init__(self, returncode: int = 0, *, writes: bool = True, raises: Any = None) -> None:
        self.returncode = returncode
        self.writes = writes
        self.raises = raises
        self.calls: list[tuple[list[str], Mapping[str, str]]] = []

    def __call__(self, argv: list[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
        env = options["env"]
        self.calls.append((argv, env))
        if self.raises is not None:
            raise self.raises
        if self.writes and self.returncode == 0:
            Path(env["KAKARI_LNK"]).write_bytes(b"L\0\0\0")
        return subprocess.CompletedProcess(argv, self.returncode, b"", b"")


@pytest.fixture
def appdata(tmp_path: Path) -> dict[str, str]:
    return {"APPDATA": str(tmp_path / "Roaming"), "USERNAME": "yamada"}


def _startup(env: Mapping[str, str]) -> Path:
    return Path(env["APPDATA"]) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"


def test_windows_gets_a_startup_shortcut_made_by_powershell(
    appdata: dict[str, str], tmp_path: Path
) -> None:
    run = FakePowerShell()
    done = install(WIN_COMMAND, tmp_path, platform="win32", env=appdata, run=run)
    shortcut = _startup(appdata) / "kakari-tray.lnk"
    assert (done.path, done.kind, done.note) == (shortcut, "shortcut", "")
    assert shortcut.exists()
    assert not (_startup(appdata) / "kakari-tray.cmd").exists()
    ((argv, env),) = run.calls
    assert argv[0] == "powershell.exe"
    assert "-NonInteractive" in argv
    assert env["USERNAME"] == "yamada"  # the user's environment is passed on
    assert env["KAKARI_LNK"] == str(shortcut)
    assert env["KAKARI_TARGET"] == WIN_COMMAND[0]
    assert env["KAKARI_ARGS"] == (
        '-m framework.cli --project "C:\\Users\\山田\\Documents\\RPA 案件" tray'
    )
    assert env["KAKARI_DIR"] == str(tmp_path)
    # the values travel in the environment, not in the script PowerShell parses
    assert WIN_COMMAND[4] not in " ".join(argv)


@pytest.mark.parametrize(
    ("run", "why"),
    [
        (FakePowerShell(1), "PowerShell exit 1"),
        (FakePowerShell(0, writes=False), "PowerShell exit 0"),
        (
            FakePowerShell(raises=FileNotFoundError("powershell.exe")),
            "PowerShell: FileNotFoundError",
        ),
        (
            FakePowerShell(raises=subprocess.TimeoutExpired("powershell.exe", 60)),
            "PowerShell: TimeoutExpired",
        ),
    ],
    ids=["fails", "writes-nothing", "missing", "hangs"],
)
def test_when_powershell_cannot_make_the_shortcut_a_cmd_file_does_the_same(
    appdata: dict[str, str], tmp_path: Path, run: FakePowerShell, why: str
) -> None:
    done = install(WIN_COMMAND, tmp_path, platform="win32", env=appdata, run=run)
    script = _startup(appdata) / "kakari-tray.cmd"
    assert (done.path, done.kind) == (script, "cmd")
    assert done.note == f"ショートカットを作れなかったため .cmd を置きました ({why})"
    text = script.read_bytes().decode("utf-8")
    assert text.split("\r\n") == [
        "@echo off",
        "rem kakari tray: started at logon (remove with: rpa tray --remove-autostart)",
        f'cd /d "{tmp_path}"',
        'start "" C:\\Users\\山田\\kakari\\.venv\\Scripts\\pythonw.exe -m framework.cli'
        ' --project "C:\\Users\\山田\\Documents\\RPA 案件" tray',
        "",
    ]


def test_a_shortcut_replaces_an_earlier_cmd_fallback(
    appdata: dict[str, str], tmp_path: Path
) -> None:
    install(WIN_COMMAND, tmp_path, platform="win32", env=appdata, run=FakePowerShell(1))
    done = install(WIN_COMMAND, tmp_path, platform="win32", env=appdata, run=FakePowerShell())
    assert sorted(p.name for p in _startup(appdata).iterdir()) == ["kakari-tray.lnk"]
    assert autostart.entries("win32", appdata) == [done.path]


def test_remove_on_windows_deletes_the_shortcut_and_the_cmd_file(
    appdata: dict[str, str], tmp_path: Path
) -> None:
    folder = _startup(appdata)
    folder.mkdir(parents=True)
    for name in ("kakari-tray.lnk", "kakari-tray.cmd", "other.lnk"):
        (folder / name).write_bytes(b"")
    removed = remove(platform="win32", env=appdata)
    assert sorted(p.name for p in removed) == ["kakari-tray.cmd", "kakari-tray.lnk"]
    assert [p.name for p in folder.iterdir()] == ["other.lnk"]


def test_the_startup_folder_defaults_to_the_roaming_profile() -> None:
    expected = Path.home() / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu"
    assert autostart.startup_dir({}) == expected / "Programs" / "Startup"


# -- which Python ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["python.exe", "Python.EXE"])
def test_windows_starts_the_tray_with_pythonw_when_it_is_beside_python(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).write_bytes(b"")
    (tmp_path / "pythonw.exe").write_bytes(b"")
    assert gui_python(str(tmp_path / name), "win32") == str(tmp_path / "pythonw.exe")
    command = tray_command(tmp_path, python=str(tmp_path / name), platform="win32")
    assert command[0] == str(tmp_path / "pythonw.exe")


def test_windows_keeps_python_when_there_is_no_pythonw(tmp_path: Path) -> None:
    (tmp_path / "python.exe").write_bytes(b"")
    assert gui_python(str(tmp_path / "python.exe"), "win32") == str(tmp_path / "python.exe")


def test_other_platforms_keep_the_same_python(tmp_path: Path) -> None:
    (tmp_path / "python.exe").write_bytes(b"")
    (tmp_path / "pythonw.exe").write_bytes(b"")
    assert gui_python(str(tmp_path / "python.exe"), "linux") == str(tmp_path / "python.exe")
    assert gui_python(None, "linux") == sys.executable
