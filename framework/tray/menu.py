"""The tray's menu as plain data: labelled entries with action ids, free of any GUI toolkit.

Built from the project's bots (their manifests only: Japanese name, department, input), this
PC's settings (which departments it shows) and the run log (each bot's last run, recent runs).
The GUI renders it (:mod:`framework.tray.app`); every entry's action id goes to
:meth:`framework.tray.actions.TrayActions.dispatch`, as does ``rpa tray --send ACTION``.

Action ids are ``kind`` or ``kind:target``: ``run:welfare_entry``, ``open-run:<run id>``, ``quit``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from framework.errors import InvalidError
from framework.loader import Project, load_manifest
from framework.localsettings import LocalSettings, TraySettings, load_local_settings
from framework.tray.state import RunningBot, RunView, TrayStatus, recent_label


class Act(StrEnum):
    """What a menu entry does; the target (a bot id or a run id) follows a colon."""

    STATUS = "status"
    """Say how things are (a notification): the default entry, a left click on Windows."""
    MENU = "menu"
    """Show the menu (backends without a native menu: a click on the icon)."""
    RUN = "run"
    RUN_FILE = "run-file"
    STOP = "stop"
    RESULTS = "results"
    EXCEPTIONS = "exceptions"
    FOLDER = "folder"
    LAST_EXCEPTIONS = "last-exceptions"
    OPEN_RUN = "open-run"
    LOG = "log"
    QUIT = "quit"


TARGETED = frozenset(
    {Act.RUN, Act.RUN_FILE, Act.STOP, Act.RESULTS, Act.EXCEPTIONS, Act.FOLDER, Act.OPEN_RUN}
)


def action_id(kind: Act, target: str = "") -> str:
    return f"{kind.value}:{target}" if target else kind.value


def parse_action(action: str) -> tuple[Act, str]:
    """``run:welfare_entry`` → (Act.RUN, "welfare_entry"); ValueError for anything else."""
    kind, _, target = action.partition(":")
    act = Act(kind)
    if (act in TARGETED) != bool(target):
        raise ValueError(action)
    return act, target


@dataclass(frozen=True)
class Entry:
    """One line of the menu: an action, a submenu (``children``), a header or a separator."""

    label: str
    action: str | None = None
    enabled: bool = True
    children: tuple[Entry, ...] = ()
    default: bool = False
    """Activated by a (left) click on the icon, where the backend has one."""

    @property
    def is_separator(self) -> bool:
        return self.label == SEPARATOR_LABEL

    @property
    def is_submenu(self) -> bool:
        return bool(self.children)


SEPARATOR_LABEL = "-"
SEPARATOR = Entry(SEPARATOR_LABEL, enabled=False)


@dataclass(frozen=True)
class TrayMenu:
    """The whole menu."""

    entries: tuple[Entry, ...]

    def walk(self) -> Iterator[Entry]:
        def below(entries: Sequence[Entry]) -> Iterator[Entry]:
            for entry in entries:
                yield entry
                yield from below(entry.children)

        return below(self.entries)

    def find(self, action: str) -> Entry | None:
        return next((e for e in self.walk() if e.action == action), None)

    def actions(self) -> list[str]:
        """The action ids of the enabled entries, in menu order."""
        return [e.action for e in self.walk() if e.action and e.enabled]

    def text(self) -> str:
        """The menu as indented text (``rpa tray --print-menu``, tests, support calls)."""
        lines: list[str] = []

        def dump(entries: Sequence[Entry], depth: int) -> None:
            for entry in entries:
                pad = "    " * depth
                if entry.is_separator:
                    lines.append(f"{pad}────")
                    continue
                marks = ""
                if entry.is_submenu:
                    marks += " ▸"
                if not entry.enabled and (entry.action or entry.is_submenu):
                    marks += " (使用不可)"
                if entry.default:
                    marks += " (既定)"
                action = f"  [{entry.action}]" if entry.action else ""
                lines.append(f"{pad}{entry.label}{marks}{action}")
                dump(entry.children, depth + 1)

        dump(self.entries, 0)
        return "\n".join(lines)


@dataclass(frozen=True)
class BotChoice:
    """A bot as the menu needs it (from its manifest only: fast, no workflow loaded)."""

    id: str
    name: str
    department: str
    takes_input: bool = False
    """The manifest has an ``input:`` section: a file can be chosen."""
    default_input: Path | None = None
    """``input.default``, resolved against the bot's folder."""
    problem: str = ""
    """Why the manifest is invalid (the bot is listed, but cannot be started from here)."""


def bot_choices(project: Project) -> list[BotChoice]:
    """Every bot of the project, valid or not, in id order."""
    choices: list[BotChoice] = []
    for bot_id in project.bot_ids():
        try:
            manifest = load_manifest(bot_id, project)
        except InvalidError as exc:
            problem = str(exc.problems[0]) if exc.problems else "bot.yaml"
            choices.append(BotChoice(bot_id, bot_id, "", problem=problem))
            continue
        spec = manifest.input
        default = None
        if spec is not None and spec.default is not None:
            default = (project.bots_dir / bot_id / spec.default).resolve()
        choices.append(
            BotChoice(
                id=bot_id,
                name=manifest.name,
                department=manifest.department,
                takes_input=spec is not None,
                default_input=default,
            )
        )
    return choices


def load_settings(project: Project, home_root: Path) -> LocalSettings:
    """This PC's settings, checked against the departments the project's bots belong to."""
    departments = {b.department for b in bot_choices(project) if b.department}
    return load_local_settings(home_root, departments)


def shown_bots(bots: Sequence[BotChoice], settings: TraySettings) -> list[BotChoice]:
    """The bots this PC lists: those of its departments (all when none are set).

    A bot whose manifest is invalid has no department to go by: it is listed everywhere, so
    staff see that something is wrong and can tell IT.
    """
    wanted = settings.departments
    return [b for b in bots if wanted is None or b.problem or b.department in wanted]


@dataclass(frozen=True)
class MenuFacts:
    """What the menu is built from, gathered by :func:`gather` (or made up by tests)."""

    bots: Sequence[BotChoice]
    settings: TraySettings = field(default_factory=TraySettings)
    last_runs: Mapping[str, RunView] = field(default_factory=dict)
    """Bot id → its latest run."""
    recent: Sequence[RunView] = ()
    """The latest runs of the listed bots, newest first."""
    status: TrayStatus = field(default_factory=TrayStatus)
    file_dialog: bool = True
    """A file chooser can be shown (Tk is available)."""
    now: dt.datetime | None = None


def build_menu(facts: MenuFacts) -> TrayMenu:
    """The menu for these facts (pure: the same facts always give the same menu)."""
    status = facts.status
    top: list[Entry] = [
        Entry(f"kakari: {status.line}", action_id(Act.STATUS), default=True),
    ]
    last = status.last
    if not status.running and last is not None and last.view and last.view.exceptions:
        top.append(
            Entry(
                f"前回の要対応リストを開く（{last.view.attention} 件） (exception report)",
                action_id(Act.LAST_EXCEPTIONS),
            )
        )
    running = {r.bot_id: r for r in status.running}
    bots = shown_bots(facts.bots, facts.settings)
    departments: dict[str, list[BotChoice]] = {}
    for bot in bots:
        departments.setdefault(bot.department or "（設定エラー）", []).append(bot)
    for department, members in departments.items():
        top.append(SEPARATOR)
        top.append(Entry(f"【{department}】", enabled=False))
        for bot in members:
            top.append(_bot_entry(bot, facts, running.get(bot.id)))
    if not bots:
        top.append(SEPARATOR)
        top.append(
            Entry("表示するボットがありません (no bots for this PC's departments)", enabled=False)
        )
    top.append(SEPARATOR)
    top.append(_recent_entry(facts))
    top.append(Entry("今日のログを開く (today's log)", action_id(Act.LOG)))
    top.append(Entry("終了 (quit)", action_id(Act.QUIT)))
    return TrayMenu(tuple(top))


def _bot_entry(bot: BotChoice, facts: MenuFacts, running: RunningBot | None) -> Entry:
    if bot.problem:
        return Entry(
            f"{bot.id}（設定エラー: rpa validate で確認してください）",
            children=(Entry(bot.problem, enabled=False),),
        )
    busy = running is not None
    children: list[Entry] = []
    if bot.takes_input:
        where = bot.default_input.name if bot.default_input else ""
        children.append(
            Entry(
                f"既定の入力で実行（{where}） (run)" if where else "既定の入力がありません",
                action_id(Act.RUN, bot.id),
                enabled=not busy and bot.default_input is not None,
            )
        )
        children.append(
            Entry(
                "ファイルを選んで実行… (choose a file)",
                action_id(Act.RUN_FILE, bot.id),
                enabled=not busy and facts.file_dialog,
            )
        )
    else:
        children.append(Entry("実行 (run)", action_id(Act.RUN, bot.id), enabled=not busy))
    children.append(Entry("停止 (stop)", action_id(Act.STOP, bot.id)))
    children.append(SEPARATOR)
    view = facts.last_runs.get(bot.id)
    children.append(
        Entry(
            "最新の結果を開く (results)",
            action_id(Act.RESULTS, bot.id),
            enabled=view is not None,
        )
    )
    exceptions = view.attention if view is not None and view.exceptions else 0
    children.append(
        Entry(
            f"要対応リストを開く（{exceptions} 件） (exception report)"
            if exceptions
            else "要対応リストを開く (exception report)",
            action_id(Act.EXCEPTIONS, bot.id),
            enabled=bool(exceptions),
        )
    )
    children.append(
        Entry(
            "実行フォルダを開く (run folder)",
            action_id(Act.FOLDER, bot.id),
            enabled=view is not None,
        )
    )
    label = bot.name
    if running is not None:
        label = f"{bot.name} — 実行中 {running.progress}"
    return Entry(label, children=tuple(children))


def _recent_entry(facts: MenuFacts) -> Entry:
    limit = facts.settings.recent_runs
    views = list(facts.recent)[:limit]
    if not views or not limit:
        children: tuple[Entry, ...] = (
            Entry("まだ実行記録がありません (no runs yet)", enabled=False),
        )
    else:
        children = tuple(
            Entry(recent_label(v, facts.now), action_id(Act.OPEN_RUN, v.record.id)) for v in views
        )
    return Entry("最近の実行 (recent runs)", children=children)


def gather(
    project: Project,
    home_root: Path,
    settings: TraySettings,
    status: TrayStatus,
    *,
    file_dialog: bool = True,
) -> MenuFacts:
    """Read what the menu is built from: the bots' manifests and the run log (if any)."""
    from framework.runlog import RunFilter, open_runlog, runlog_exists

    bots = bot_choices(project)
    listed = {b.id for b in shown_bots(bots, settings)}
    last_runs: dict[str, RunView] = {}
    recent: list[RunView] = []
    if runlog_exists(home_root):
        runlog = open_runlog(home_root)
        try:
            for bot_id in sorted(listed):
                found = runlog.find_runs(RunFilter(bot_id=bot_id), 1)
                if found:
                    last_runs[bot_id] = RunView.of(found[0])
            if settings.recent_runs:
                # the same query as `rpa runs`, a few more to fill the list after filtering
                records = runlog.find_runs(RunFilter(), settings.recent_runs * 4)
                recent = [RunView.of(r) for r in records if r.bot_id in listed]
        finally:
            runlog.close()
    return MenuFacts(
        bots=bots,
        settings=settings,
        last_runs=last_runs,
        recent=recent[: settings.recent_runs],
        status=status,
        file_dialog=file_dialog,
        now=dt.datetime.now().astimezone(),
    )
