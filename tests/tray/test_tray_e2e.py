"""End to end under Xvfb: a real `rpa tray` process docks its icon in a real notification area
(trayer), runs the welfare bot against the practice system in a child process and follows it.

Menu actions go through the tray's inbox (`rpa tray --send ACTION`), which hands them to the
same callbacks the menu entries call; a click on the docked icon (XTEST) opens the menu itself.
What is checked is what landed: the practice system's records, the run log (trigger ``tray``),
`rpa runs --json`, the tray's status file (state, tooltip, notifications) and its log. The
screenshots are kept in ``test-artifacts/`` (the README's picture comes from here).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, artifact
from xdesktop import Desktop, wait_until

from framework.practice import PracticeConfig, PracticeServer
from framework.practice.applicants import generate_applicants
from framework.practice.samples import write_workbook

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="Xvfb runs on Linux only"),
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed"),
]

RPA = str(Path(sys.executable).parent / "rpa")
BOT = "welfare_entry"
NAME = "障害福祉サービス申請入力"
GOOD = 5
"""Applications in the inbox workbook that the system accepts; one more row has a bad date."""
DEADLINE = 90.0
REGISTER = "/applications"
CONFIRM = "/applications/confirm"


class Gate:
    """Holds the ``nth`` POST to ``path`` in the practice system until the test opens it."""

    def __init__(self, path: str, nth: int) -> None:
        self.path, self.nth = path, nth
        self.seen = 0
        self.reached = threading.Event()
        self.opened = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, phase: str, method: str, path: str) -> None:
        if (phase, method, path) != ("before", "POST", self.path):
            return
        with self._lock:
            self.seen += 1
            hold = self.seen == self.nth
        if hold:
            self.reached.set()
            self.opened.wait(DEADLINE)


class Office:
    """A PC with a project (the welfare bot reading its inbox folder), RPA_HOME and a desktop."""

    def __init__(self, tmp: Path, desktop: Desktop, gate: Gate) -> None:
        self.tmp = tmp
        self.desktop = desktop
        self.gate = gate
        self.server = PracticeServer(PracticeConfig(observer=gate))
        self.server.start()
        self.project = tmp / "project"
        self.home = tmp / "home"
        self.opened = tmp / "opened.txt"
        self.tray: subprocess.Popen[bytes] | None = None
        self._write_project()

    def _write_project(self) -> None:
        bots = self.project / "bots"
        (bots / BOT / "inbox").mkdir(parents=True)
        (self.project / "workflows").mkdir()
        for name in ("welfare_entry.yaml", "welfare_login.yaml"):
            text = (REPO / "workflows" / name).read_text(encoding="utf-8")
            (self.project / "workflows" / name).write_text(text, encoding="utf-8")
        manifest = (REPO / "bots" / BOT / "bot.yaml").read_text(encoding="utf-8")
        manifest = manifest.split("\nschedules:")[0]
        manifest = manifest.replace("http://127.0.0.1:8765", self.server.url)
        assert "  default: sample\n" in manifest
        manifest = manifest.replace("  default: sample\n", "  default: inbox\n")
        (bots / BOT / "bot.yaml").write_text(manifest, encoding="utf-8")
        bad = generate_applicants(GOOD + 1, seed=99)[GOOD]
        bad_row: list[object] = [
            bad.name,
            bad.kana,
            "令和6年13月1日",  # no 13th month: 入力不備, never sent
            bad.recipient_no,
            bad.service_type,
            bad.hours,
            date(2026, 12, 1),
            bad.support_level,
            bad.notes,
        ]
        good = generate_applicants(GOOD, seed=7)
        self.personal = [v for a in [*good, bad] for v in (a.name, a.kana, a.recipient_no)]
        """Citizens' names and recipient numbers: never in what the tray writes or shows."""
        write_workbook(
            bots / BOT / "inbox" / "申請一覧.xlsx",
            good,
            messy=False,
            extra_rows=[bad_row],
        )
        # a bot of another department: this PC's settings leave it out of the menu
        (bots / "tax_notice").mkdir()
        (bots / "tax_notice" / "bot.yaml").write_text(
            "name: 納税通知の作成\ndepartment: 税務課\nworkflow: welfare_login.yaml\n"
            "baseline: {minutes_per_item: 1, minutes_per_run: 1, measured_by: 税務課,"
            " measured_on: 2026-10-01}\n",
            encoding="utf-8",
        )
        self.home.mkdir()
        (self.home / "settings.yaml").write_text(
            "tray:\n  departments: [障がい福祉課]\n", encoding="utf-8"
        )
        # the desktop's "open" program: note what the tray asked to open
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir()
        opener = bin_dir / "xdg-open"
        opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{self.opened}"\n', encoding="utf-8")
        opener.chmod(0o755)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RPA_", "PYSTRAY_"))}
        env.update(
            RPA_HOME=str(self.home),
            RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME="demo",
            RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD="demo-pass",
            DISPLAY=self.desktop.display,
            PYSTRAY_BACKEND="xorg",  # what a Linux PC without AppIndicator gets; deterministic
            PATH=f"{self.tmp / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        return env

    # -- the tray ---------------------------------------------------------------------------
    def start_tray(self) -> subprocess.Popen[bytes]:
        out = (self.tmp / "tray.out").open("wb")
        self.tray = subprocess.Popen(
            [RPA, "--project", str(self.project), "tray"],
            env=self.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        self.wait_status(lambda s: s.get("state") == "idle", "the tray to start")
        return self.tray

    def rpa(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RPA, "--project", str(self.project), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    def send(self, action: str) -> None:
        done = self.rpa("tray", "--send", action)
        assert done.returncode == 0, done.stdout + done.stderr

    def status(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(
                (self.home / "tray" / "status.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return {}
        return data

    def wait_status(self, condition: Any, what: str) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            if self.tray is not None and self.tray.poll() is not None:
                raise AssertionError(f"the tray ended ({self.tray.returncode}):\n{self.output}")
            data = self.status()
            return data if data and condition(data) else None

        try:
            result: dict[str, Any] = wait_until(check, what, DEADLINE)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nstatus: {self.status()}\nlog:\n{self.log()}") from None
        return result

    @property
    def output(self) -> str:
        return (self.tmp / "tray.out").read_text(encoding="utf-8", errors="replace")

    def log(self) -> str:
        logs = sorted((self.home / "tray" / "logs").glob("*.log"))
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)

    def runs(self) -> list[sqlite3.Row]:
        uri = f"file:{self.home / 'runlog.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute("SELECT * FROM runs ORDER BY started_at").fetchall()

    def items(self, run_id: str) -> dict[int, str]:
        uri = f"file:{self.home / 'runlog.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute(
                "SELECT seq, status FROM items WHERE run_id = ? ORDER BY seq", (run_id,)
            ).fetchall()
        return {int(seq): str(status) for seq, status in rows}

    # -- cleanup ----------------------------------------------------------------------------
    def close(self) -> None:
        """End the tray and every process started with this RPA_HOME (bots, browsers)."""
        self.gate.opened.set()
        if self.tray is not None and self.tray.poll() is None:
            self.tray.terminate()
            try:
                self.tray.wait(15)
            except subprocess.TimeoutExpired:
                self.tray.kill()
                self.tray.wait()
        for pid in _processes_with(f"RPA_HOME={self.home}"):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.server.stop()


def _processes_with(variable: str) -> list[int]:
    """Processes whose environment holds ``variable`` (the tray's runs and their browsers)."""
    found = []
    needle = variable.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        with suppress(OSError):
            if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    screen = Desktop()
    try:
        yield screen.start()
    finally:
        screen.close()


@pytest.fixture
def offices(tmp_path: Path, desktop: Desktop) -> Iterator[Callable[[Gate], Office]]:
    """Make the test's office (with its gate); everything it started is ended afterwards."""
    made: list[Office] = []

    def make(gate: Gate) -> Office:
        made.append(Office(tmp_path, desktop, gate))
        return made[-1]

    try:
        yield make
    finally:
        for office in made:
            office.close()


# -- the tests ----------------------------------------------------------------------------------


def test_staff_run_the_welfare_bot_from_the_tray(
    offices: Callable[[Gate], Office], desktop: Desktop
) -> None:
    gate = Gate(REGISTER, 3)  # hold the 3rd registration: the run is seen half-way
    office = offices(gate)
    tray = office.start_tray()
    started = office.status()
    assert started["backend"] == "pystray._xorg" and started["tooltip"] == "kakari: 待機中"
    menu = "\n".join(started["menu"])
    assert "【障がい福祉課】" in menu and f"{NAME} ▸" in menu
    assert "[run:welfare_entry]" in menu and "既定の入力で実行（inbox）" in menu
    assert "税務課" not in menu and "tax_notice" not in menu  # not this PC's department

    # only one tray per user: a second start is refused and the first one says it is there
    second = office.rpa("tray")
    assert second.returncode == 4, second.stdout + second.stderr
    assert "トレイはすでに起動しています" in second.stderr
    office.wait_status(
        lambda s: any(n["title"] == "kakari: 待機中" for n in s["notifications"]),
        "the running tray to answer the second start",
    )

    # staff pick 障害福祉サービス申請入力 → 既定の入力で実行 (the inbox folder)
    office.send("run:welfare_entry")
    assert gate.reached.wait(DEADLINE), office.log()
    running = office.wait_status(
        lambda s: s["state"] == "running" and "2/6 件" in s["tooltip"],
        "progress 2 of 6 in the tooltip",
    )
    assert running["tooltip"] == f"kakari: 実行中 — {NAME} 2/6 件"
    assert running["running"][0]["run_id"]
    shot_running = _icon_shot(office, "tray-running.png")
    gate.opened.set()

    ended = office.wait_status(lambda s: s["state"] != "running", "the run to end")
    assert ended["state"] == "exceptions", ended
    assert ended["tooltip"] == f"kakari: 要対応 1 件 — {NAME}"
    last = ended["last"]
    assert last["exit_code"] == 1 and last["exceptions_file"].endswith("exceptions.xlsx")
    [note] = [n for n in ended["notifications"] if n["title"] == f"{NAME}: 要対応 1 件"]
    assert f"登録 {GOOD} 件・要対応 1 件・削減 " in note["message"]
    assert "要対応リストを開く" in note["message"]

    # what landed: the system's records and the run log, as the CLI shows it too
    assert len(office.server.records()) == GOOD
    [run] = office.runs()
    assert (run["trigger"], run["status"], run["items_done"]) == ("tray", "completed", GOOD)
    assert run["id"] == last["run_id"]
    listed = json.loads(office.rpa("runs", "--json").stdout)
    assert [(r["id"], r["trigger"]) for r in listed] == [(run["id"], "tray")]
    assert listed[0]["exceptions_file"] == last["exceptions_file"]
    assert "開始 (start): 障害福祉サービス申請入力 (welfare_entry)" in office.log()
    assert "--trigger tray" in office.log()
    shown = office.log() + office.output + json.dumps(ended, ensure_ascii=False)
    assert [value for value in office.personal if value in shown] == []

    # one click from the menu opens the exception report (the desktop's program)
    office.send("last-exceptions")
    wait_until(office.opened.exists, "the exception report to be opened")
    assert office.opened.read_text(encoding="utf-8").split() == [last["exceptions_file"]]
    office.send("results:welfare_entry")
    wait_until(lambda: len(office.opened.read_text().split()) == 2, "the results to open")
    assert office.opened.read_text().split()[1].endswith("結果一覧.xlsx")

    # a click on the icon opens the menu (pystray's X backend: the Tk popup of the model)
    shot_menu = _open_menu_shot(office)

    # IT adds a section to this PC's settings: the menu follows without a restart; a typo is
    # reported and the previous settings stay
    settings = office.home / "settings.yaml"
    settings.write_text("tray:\n  departments: [障がい福祉課, 税務課]\n", encoding="utf-8")
    office.wait_status(lambda s: "【税務課】" in s["menu"], "the new section in the menu")
    settings.write_text("tray:\n  departments: [障がい福祉科]\n", encoding="utf-8")
    typo = office.wait_status(
        lambda s: any("設定ファイルに誤り" in n["title"] for n in s["notifications"]),
        "the settings' problem to be reported",
    )
    assert "【税務課】" in typo["menu"]
    [note] = [n for n in typo["notifications"] if "設定ファイルに誤り" in n["title"]]
    assert "settings.yaml:2:" in note["message"] and "障がい福祉課" in note["message"]

    office.send("quit")
    assert tray.wait(DEADLINE) == 0, office.output
    assert office.rpa("tray", "--status").returncode == 3  # not running any more
    if desktop.missing:
        pytest.skip(f"run checked; icon, click and screenshots not: {desktop.missing}")
    assert shot_running is not None and shot_menu is not None


def test_stop_from_the_tray_stops_the_run_cleanly(offices: Callable[[Gate], Office]) -> None:
    gate = Gate(CONFIRM, 2)  # hold the 2nd application before its registration starts
    office = offices(gate)
    tray = office.start_tray()
    office.send("run:welfare_entry")
    assert gate.reached.wait(DEADLINE), office.log()
    running = office.wait_status(
        lambda s: s["state"] == "running" and s["running"][0]["run_id"], "the run's id"
    )
    run_id = running["running"][0]["run_id"]

    office.send("stop:welfare_entry")  # what 停止 (stop) in the bot's menu does
    stop_file = office.home / "runs" / run_id / "STOP"
    wait_until(stop_file.exists, "the STOP file (as `rpa stop` writes it)")
    gate.opened.set()

    ended = office.wait_status(lambda s: s["state"] != "running", "the run to stop")
    assert ended["state"] == "idle", ended  # stopped on request, nothing needs a person
    assert ended["last"]["exit_code"] == 3 and ended["last"]["stopped"] is True
    assert any(n["title"] == f"{NAME}: 停止しました" for n in ended["notifications"])
    # a consistent run log: aborted, every item settled, the held one never sent
    [run] = office.runs()
    assert (run["id"], run["trigger"], run["status"]) == (run_id, "tray", "aborted")
    assert run["exit_code"] == 3 and "停止の指示で止めました" in run["message"]
    assert office.items(run_id) == {1: "done", 2: "skipped"}
    assert len(office.server.records()) == 1
    assert f"停止を指示しました (stop requested): welfare_entry run {run_id}" in office.log()
    office.send("quit")
    assert tray.wait(DEADLINE) == 0, office.output


def test_without_a_display_the_tray_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(RPA_HOME=str(tmp_path / "home"), PYSTRAY_BACKEND="xorg")
    done = subprocess.run(
        [RPA, "--project", str(REPO), "tray"],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "通知領域のアイコンを表示できません" in done.stderr
    assert "Traceback" not in done.stderr


# -- screenshots --------------------------------------------------------------------------------


def _icon_shot(office: Office, name: str) -> Path | None:
    """The notification area with the icon (docked by trayer), or None without a tray host."""
    if office.desktop.missing:
        return None
    x, y, w, h = wait_until(office.desktop.icon, "the icon to dock in the notification area")
    full = office.desktop.screenshot(artifact(name))
    from PIL import Image

    with Image.open(full) as image:
        # the icon is drawn: its centre is not the tray host's grey
        assert image.getpixel((x + w // 2, y + h // 2))[:3] != (0xE8, 0xE8, 0xE8)
    return full


def _open_menu_shot(office: Office) -> Path | None:
    """Click the docked icon: the menu opens; open the bot's submenu with the keyboard (as
    staff may); keep a screenshot; close it again."""
    if office.desktop.missing:
        return None
    x, y, w, h = wait_until(office.desktop.icon, "the icon to dock in the notification area")
    clicks = office.log().count("操作 (action): menu")
    office.desktop.click(x + w // 2, y + h // 2)
    wait_until(lambda: office.log().count("操作 (action): menu") > clicks, "the click")
    [(mx, my, _, _)] = wait_until(office.desktop.menus, "the menu")
    office.desktop.move(mx + 40, my + 8)  # on its first line; the keys go where the mouse is
    wait_until(lambda: _highlighted(office, mx + 4, my + 8), "the first line to be highlighted")
    for key in ("Down", "Down", "Right"):  # past the exception report: the bot; its submenu
        office.desktop.key(key)
    wait_until(lambda: len(office.desktop.menus()) == 2, "the bot's submenu")
    shot = office.desktop.screenshot(artifact("tray-menu.png"))
    office.desktop.key("Escape")
    office.desktop.key("Escape")
    return shot


def _highlighted(office: Office, x: int, y: int) -> bool:
    """Whether the menu line at x, y is the active one (Tk draws it lighter than the rest)."""
    from PIL import ImageGrab

    pixel = ImageGrab.grab(xdisplay=office.desktop.display).getpixel((x, y))
    assert isinstance(pixel, tuple)
    return min(pixel[:3]) > 0xE0
