"""The tray's menu model: action ids, the bots of a project, which ones this PC lists, the menu."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from traykit import (
    BASELINE,
    BROKEN,
    EXPORT,
    EXPORT_NAME,
    TAX,
    TAX_DEPT,
    TAX_NAME,
    WELFARE,
    WELFARE_DEPT,
    WELFARE_NAME,
    choices,
    log_runs,
    record,
    write_bot,
    write_office,
)

from framework.loader import Project
from framework.localsettings import TraySettings, load_local_settings
from framework.outcome import ExitCode, ItemStatus
from framework.tray.menu import (
    Act,
    BotChoice,
    Entry,
    MenuFacts,
    TrayMenu,
    action_id,
    bot_choices,
    build_menu,
    gather,
    parse_action,
    shown_bots,
)
from framework.tray.state import Ended, RunningBot, RunView, TrayStatus

WELFARE_ONLY = TraySettings(departments=[WELFARE_DEPT])


@pytest.fixture
def office(tmp_path: Path) -> Project:
    return Project(write_office(tmp_path / "project"))


def _submenu(menu: TrayMenu, label: str) -> Entry:
    found = next((e for e in menu.walk() if e.label.startswith(label)), None)
    assert found is not None, f"no entry {label!r} in\n{menu.text()}"
    return found


def _labels(entries: tuple[Entry, ...]) -> list[str]:
    return [e.label for e in entries]


# -- action ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("run:welfare_entry", (Act.RUN, "welfare_entry")),
        ("run-file:welfare_entry", (Act.RUN_FILE, "welfare_entry")),
        ("open-run:20261127-090000-ab12", (Act.OPEN_RUN, "20261127-090000-ab12")),
        ("quit", (Act.QUIT, "")),
        ("last-exceptions", (Act.LAST_EXCEPTIONS, "")),
        ("folder:a:b", (Act.FOLDER, "a:b")),
    ],
)
def test_an_action_id_is_a_kind_and_an_optional_target(
    action: str, expected: tuple[Act, str]
) -> None:
    assert parse_action(action) == expected


@pytest.mark.parametrize(
    "action",
    ["", "bogus", "run", "run:", "stop", "quit:now", "status:x", "RUN:welfare_entry", " quit"],
)
def test_an_action_id_of_the_wrong_shape_is_refused(action: str) -> None:
    with pytest.raises(ValueError):
        parse_action(action)


@pytest.mark.parametrize("kind", list(Act))
def test_every_kind_of_action_survives_a_round_trip_through_its_id(kind: Act) -> None:
    targeted = kind in (
        Act.RUN,
        Act.RUN_FILE,
        Act.STOP,
        Act.RESULTS,
        Act.EXCEPTIONS,
        Act.FOLDER,
        Act.OPEN_RUN,
    )
    target = "welfare_entry" if targeted else ""
    assert parse_action(action_id(kind, target)) == (kind, target)


# -- the bots of a project ---------------------------------------------------------------------


def test_bots_are_read_from_their_manifests_in_id_order(office: Project) -> None:
    found = bot_choices(office)
    assert [b.id for b in found] == [BROKEN, TAX, WELFARE, EXPORT]
    welfare = found[2]
    assert (welfare.name, welfare.department, welfare.problem) == (WELFARE_NAME, WELFARE_DEPT, "")
    assert welfare.takes_input
    assert welfare.default_input == (office.bots_dir / WELFARE / "inbox").resolve()
    export = found[3]
    assert (export.name, export.takes_input, export.default_input) == (EXPORT_NAME, False, None)


def test_a_default_input_file_is_resolved_against_the_bots_folder(tmp_path: Path) -> None:
    write_bot(tmp_path, "book_bot", "ブック入力", WELFARE_DEPT, input_default="data/申請一覧.xlsx")
    (choice,) = bot_choices(Project(tmp_path))
    assert choice.default_input == (tmp_path / "bots" / "book_bot" / "data" / "申請一覧.xlsx")


def test_an_input_section_without_default_takes_input_but_has_no_default(tmp_path: Path) -> None:
    path = write_bot(tmp_path, "ask_bot", "毎回選ぶボット", WELFARE_DEPT)
    path.write_text(
        path.read_text(encoding="utf-8") + "input:\n  description: 申請一覧\n", encoding="utf-8"
    )
    (choice,) = bot_choices(Project(tmp_path))
    assert choice.takes_input
    assert choice.default_input is None


def test_an_invalid_bot_yaml_is_listed_with_its_problem(office: Project) -> None:
    broken = bot_choices(office)[0]
    assert broken.id == BROKEN
    assert broken.name == BROKEN
    assert broken.department == ""
    assert broken.problem.startswith(f"bots/{BROKEN}/bot.yaml:")
    assert "baseline" in broken.problem


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("name: [\n", "YAML"),
        ("", "「名前: 値」"),
        ("- a list\n", "「名前: 値」"),
        ("name: x\ndepartment: y\nworkflow: z\n" + BASELINE + "bogus: 1\n", "bogus"),
    ],
    ids=["not-yaml", "empty", "a-list", "unknown-field"],
)
def test_any_kind_of_broken_manifest_is_listed_rather_than_stopping_the_tray(
    tmp_path: Path, text: str, said: str
) -> None:
    (tmp_path / "bots" / "bad").mkdir(parents=True)
    (tmp_path / "bots" / "bad" / "bot.yaml").write_text(text, encoding="utf-8")
    (choice,) = bot_choices(Project(tmp_path))
    assert choice.id == "bad"
    assert said in choice.problem


def test_a_folder_without_bot_yaml_is_not_a_bot(office: Project) -> None:
    (office.bots_dir / "notes").mkdir()
    (office.bots_dir / "notes" / "readme.txt").write_text("メモ", encoding="utf-8")
    assert "notes" not in [b.id for b in bot_choices(office)]


def test_a_project_without_a_bots_folder_has_no_bots(tmp_path: Path) -> None:
    assert bot_choices(Project(tmp_path)) == []


# -- which bots this PC lists ------------------------------------------------------------------


def test_a_bot_of_another_department_is_not_listed(office: Project) -> None:
    shown = shown_bots(bot_choices(office), WELFARE_ONLY)
    assert TAX not in [b.id for b in shown]
    assert {WELFARE, EXPORT} <= {b.id for b in shown}


def test_every_department_is_listed_when_the_pc_sets_none(office: Project) -> None:
    shown = shown_bots(bot_choices(office), TraySettings())
    assert [b.id for b in shown] == [BROKEN, TAX, WELFARE, EXPORT]


def test_an_invalid_bot_is_listed_whatever_the_departments(office: Project) -> None:
    for settings in (TraySettings(), WELFARE_ONLY, TraySettings(departments=[TAX_DEPT])):
        assert BROKEN in [b.id for b in shown_bots(bot_choices(office), settings)]


def test_a_pc_may_list_several_departments(office: Project) -> None:
    settings = TraySettings(departments=[TAX_DEPT, WELFARE_DEPT])
    assert len(shown_bots(bot_choices(office), settings)) == 4


def test_the_departments_come_from_this_pcs_settings_yaml(office: Project, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.yaml").write_text("tray:\n  departments: [税務課]\n", encoding="utf-8")
    bots = bot_choices(office)
    settings = load_local_settings(home, {b.department for b in bots if b.department})
    menu = build_menu(MenuFacts(bots=bots, settings=settings.tray))
    assert menu.find(f"run:{TAX}") is not None
    assert menu.find(f"run:{WELFARE}") is None
    assert f"【{WELFARE_DEPT}】" not in menu.text()


# -- the menu ----------------------------------------------------------------------------------


def test_the_menu_of_an_idle_pc_reads_as_expected(tmp_path: Path) -> None:
    facts = MenuFacts(bots=choices(tmp_path / "inbox"), settings=WELFARE_ONLY)
    assert build_menu(facts).text() == "\n".join(
        [
            "kakari: 待機中 (既定)  [status]",
            "────",
            "【（設定エラー）】",
            f"{BROKEN}（設定エラー: rpa validate で確認してください） ▸",
            "    bots/broken_bot/bot.yaml:1:1: baseline: 必須",
            "────",
            f"【{WELFARE_DEPT}】",
            f"{WELFARE_NAME} ▸",
            f"    既定の入力で実行（inbox） (run)  [run:{WELFARE}]",
            f"    ファイルを選んで実行… (choose a file)  [run-file:{WELFARE}]",
            f"    停止 (stop)  [stop:{WELFARE}]",
            "    ────",
            f"    最新の結果を開く (results) (使用不可)  [results:{WELFARE}]",
            f"    要対応リストを開く (exception report) (使用不可)  [exceptions:{WELFARE}]",
            f"    実行フォルダを開く (run folder) (使用不可)  [folder:{WELFARE}]",
            f"{EXPORT_NAME} ▸",
            f"    実行 (run)  [run:{EXPORT}]",
            f"    停止 (stop)  [stop:{EXPORT}]",
            "    ────",
            f"    最新の結果を開く (results) (使用不可)  [results:{EXPORT}]",
            f"    要対応リストを開く (exception report) (使用不可)  [exceptions:{EXPORT}]",
            f"    実行フォルダを開く (run folder) (使用不可)  [folder:{EXPORT}]",
            "────",
            "最近の実行 (recent runs) ▸",
            "    まだ実行記録がありません (no runs yet)",
            "今日のログを開く (today's log)  [log]",
            "終了 (quit)  [quit]",
        ]
    )


def test_the_status_line_comes_first_and_is_the_default_entry() -> None:
    menu = build_menu(MenuFacts(bots=choices()))
    first = menu.entries[0]
    assert (first.label, first.action, first.default) == ("kakari: 待機中", "status", True)
    assert [e for e in menu.walk() if e.default] == [first]


def test_the_menu_ends_with_recent_runs_todays_log_and_quit() -> None:
    menu = build_menu(MenuFacts(bots=choices()))
    assert [e.action for e in menu.entries[-3:]] == [None, "log", "quit"]
    assert menu.entries[-3].label == "最近の実行 (recent runs)"


def test_bots_are_grouped_under_their_departments_headers() -> None:
    menu = build_menu(MenuFacts(bots=choices()))
    headers = [e.label for e in menu.entries if e.label.startswith("【")]
    assert headers == ["【（設定エラー）】", f"【{TAX_DEPT}】", f"【{WELFARE_DEPT}】"]
    assert all(not e.enabled for e in menu.entries if e.label.startswith("【"))
    labels = _labels(menu.entries)
    welfare_header = labels.index(f"【{WELFARE_DEPT}】")
    assert labels[welfare_header + 1 : welfare_header + 3] == [WELFARE_NAME, EXPORT_NAME]


def test_an_invalid_bot_has_no_run_entry_only_its_problem() -> None:
    menu = build_menu(MenuFacts(bots=choices()))
    broken = _submenu(menu, BROKEN)
    assert "設定エラー" in broken.label
    assert broken.action is None
    assert [(e.label, e.enabled, e.action) for e in broken.children] == [
        ("bots/broken_bot/bot.yaml:1:1: baseline: 必須", False, None)
    ]
    assert not any(a.endswith(f":{BROKEN}") for a in menu.actions())


def test_a_bot_taking_input_offers_its_default_input_and_a_chosen_file(tmp_path: Path) -> None:
    menu = build_menu(MenuFacts(bots=choices(tmp_path / "inbox")))
    run = menu.find(f"run:{WELFARE}")
    run_file = menu.find(f"run-file:{WELFARE}")
    assert run is not None and run_file is not None
    assert run.label == "既定の入力で実行（inbox） (run)"
    assert run.enabled and run_file.enabled


def test_a_bot_taking_input_without_a_default_can_only_be_run_with_a_chosen_file() -> None:
    menu = build_menu(MenuFacts(bots=choices(inbox=None)))
    run = menu.find(f"run:{WELFARE}")
    assert run is not None
    assert run.label == "既定の入力がありません"
    assert not run.enabled
    assert f"run-file:{WELFARE}" in menu.actions()


def test_choosing_a_file_is_disabled_where_no_file_dialog_can_be_shown(tmp_path: Path) -> None:
    menu = build_menu(MenuFacts(bots=choices(tmp_path / "inbox"), file_dialog=False))
    assert f"run:{WELFARE}" in menu.actions()
    assert f"run-file:{WELFARE}" not in menu.actions()


def test_a_bot_without_input_has_a_plain_run_entry() -> None:
    menu = build_menu(MenuFacts(bots=choices()))
    run = menu.find(f"run:{EXPORT}")
    assert run is not None and run.label == "実行 (run)" and run.enabled
    assert menu.find(f"run-file:{EXPORT}") is None


def test_a_running_bot_shows_its_progress_and_cannot_be_started_again(tmp_path: Path) -> None:
    running = RunningBot(WELFARE, WELFARE_NAME, "r1", settled=3, total=10)
    facts = MenuFacts(bots=choices(tmp_path / "inbox"), status=TrayStatus(running=(running,)))
    menu = build_menu(facts)
    assert menu.entries[0].label == f"kakari: 実行中 — {WELFARE_NAME} 3/10 件"
    assert _submenu(menu, WELFARE_NAME).label == f"{WELFARE_NAME} — 実行中 3/10 件"
    actions = menu.actions()
    assert f"run:{WELFARE}" not in actions
    assert f"run-file:{WELFARE}" not in actions
    assert f"stop:{WELFARE}" in actions
    assert f"run:{EXPORT}" in actions  # another bot can still be started


def test_results_exceptions_and_folder_are_disabled_before_the_first_run() -> None:
    actions = build_menu(MenuFacts(bots=choices())).actions()
    for kind in ("results", "exceptions", "folder"):
        assert f"{kind}:{EXPORT}" not in actions


def test_after_a_clean_run_results_and_folder_open_but_there_is_no_exception_report(
    tmp_path: Path,
) -> None:
    view = RunView(record(counts={ItemStatus.DONE: 5}, run_dir=tmp_path))
    menu = build_menu(MenuFacts(bots=choices(), last_runs={WELFARE: view}))
    actions = menu.actions()
    assert f"results:{WELFARE}" in actions
    assert f"folder:{WELFARE}" in actions
    assert f"exceptions:{WELFARE}" not in actions


def test_the_exception_report_entry_counts_the_items_needing_a_person(tmp_path: Path) -> None:
    counts = {
        ItemStatus.DONE: 5,
        ItemStatus.BUSINESS_ERROR: 2,
        ItemStatus.BAD_INPUT: 1,
        ItemStatus.SKIPPED: 4,
    }
    view = RunView(record(counts=counts), exceptions=tmp_path / "exceptions.xlsx")
    menu = build_menu(MenuFacts(bots=choices(), last_runs={WELFARE: view}))
    entry = menu.find(f"exceptions:{WELFARE}")
    assert entry is not None and entry.enabled
    assert entry.label == "要対応リストを開く（3 件） (exception report)"


def test_the_last_runs_exception_report_is_offered_at_the_top_after_a_run_with_exceptions(
    tmp_path: Path,
) -> None:
    view = RunView(
        record(counts={ItemStatus.SYSTEM_ERROR: 2}, exit_code=ExitCode.ITEMS_FAILED),
        exceptions=tmp_path / "exceptions.xlsx",
    )
    last = Ended(WELFARE, WELFARE_NAME, ExitCode.ITEMS_FAILED, view)
    menu = build_menu(MenuFacts(bots=choices(), status=TrayStatus(last=last)))
    assert menu.entries[1].action == "last-exceptions"
    assert menu.entries[1].label == "前回の要対応リストを開く（2 件） (exception report)"
    # while a run goes on, the top stays the status line only
    running = TrayStatus(running=(RunningBot(EXPORT, EXPORT_NAME),), last=last)
    again = build_menu(MenuFacts(bots=choices(), status=running))
    assert again.find("last-exceptions") is None


def test_the_top_has_no_exception_report_after_a_clean_run() -> None:
    last = Ended(WELFARE, WELFARE_NAME, 0, RunView(record(counts={ItemStatus.DONE: 3})))
    menu = build_menu(MenuFacts(bots=choices(), status=TrayStatus(last=last)))
    assert menu.find("last-exceptions") is None


def test_a_pc_with_no_bots_for_its_departments_says_so() -> None:
    bots = [BotChoice(TAX, TAX_NAME, TAX_DEPT)]
    menu = build_menu(MenuFacts(bots=bots, settings=WELFARE_ONLY))
    assert "表示するボットがありません (no bots for this PC's departments)" in menu.text()
    assert menu.actions() == ["status", "log", "quit"]


def test_recent_runs_are_listed_newest_first_up_to_the_pcs_setting() -> None:
    views = [
        RunView(record(f"r{n}", started_at=dt.datetime(2026, 11, 27, 9 + n, 0))) for n in (3, 2, 1)
    ]
    facts = MenuFacts(
        bots=choices(),
        settings=TraySettings(recent_runs=2),
        recent=views,
        now=dt.datetime(2026, 11, 27, 18, 0),
    )
    recent = _submenu(build_menu(facts), "最近の実行")
    assert [e.action for e in recent.children] == ["open-run:r3", "open-run:r2"]
    assert recent.children[0].label == f"12:00 {WELFARE_NAME}: 完了・削減 0 分"


def test_recent_runs_say_no_runs_yet_when_there_are_none_or_the_pc_lists_none() -> None:
    one = [RunView(record("r1"))]
    for facts in (
        MenuFacts(bots=choices()),
        MenuFacts(bots=choices(), recent=one, settings=TraySettings(recent_runs=0)),
    ):
        recent = _submenu(build_menu(facts), "最近の実行")
        assert _labels(recent.children) == ["まだ実行記録がありません (no runs yet)"]
        assert not recent.children[0].enabled


def test_the_same_facts_always_give_the_same_menu(tmp_path: Path) -> None:
    facts = MenuFacts(bots=choices(tmp_path), recent=[RunView(record())], now=dt.datetime.now())
    assert build_menu(facts) == build_menu(facts)


# -- TrayMenu ----------------------------------------------------------------------------------


def test_find_looks_inside_submenus_and_says_none_for_what_is_not_there() -> None:
    menu = build_menu(MenuFacts(bots=choices()))
    stop = menu.find(f"stop:{EXPORT}")
    assert stop is not None and stop.label == "停止 (stop)"
    assert menu.find("stop:nobody") is None
    assert menu.find("") is None


def test_actions_are_the_enabled_entries_in_menu_order() -> None:
    menu = build_menu(MenuFacts(bots=[BotChoice(EXPORT, EXPORT_NAME, WELFARE_DEPT)]))
    assert menu.actions() == ["status", f"run:{EXPORT}", f"stop:{EXPORT}", "log", "quit"]


def test_the_text_marks_submenus_disabled_entries_the_default_and_separators() -> None:
    menu = TrayMenu(
        (
            Entry("上", "status", default=True),
            Entry("-", enabled=False),
            Entry(
                "親", children=(Entry("子", "quit", enabled=False), Entry("見出し", enabled=False))
            ),
        )
    )
    assert menu.text() == "\n".join(
        ["上 (既定)  [status]", "────", "親 ▸", "    子 (使用不可)  [quit]", "    見出し"]
    )


# -- gathering the facts -----------------------------------------------------------------------


def test_gather_reads_each_listed_bots_last_run_and_the_recent_runs(
    office: Project, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    run_dir = tmp_path / "runs" / "w2"
    run_dir.mkdir(parents=True)
    (run_dir / "結果一覧.xlsx").write_bytes(b"")
    log_runs(
        home,
        record("w1", started_at=dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)),
        record("w2", run_dir=run_dir, started_at=dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)),
        record(
            "t1",
            bot_id=TAX,
            bot_name=TAX_NAME,
            started_at=dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC),
        ),
    )
    facts = gather(office, home, WELFARE_ONLY, TrayStatus(), file_dialog=False)
    assert set(facts.last_runs) == {WELFARE}
    assert facts.last_runs[WELFARE].record.id == "w2"
    assert facts.last_runs[WELFARE].results == run_dir / "結果一覧.xlsx"
    assert [v.record.id for v in facts.recent] == ["w2", "w1"]  # the tax bot is not listed
    assert [b.id for b in facts.bots] == [BROKEN, TAX, WELFARE, EXPORT]
    assert not facts.file_dialog
    assert f"results:{WELFARE}" in build_menu(facts).actions()


def test_gather_without_a_run_log_has_no_runs_and_creates_none(
    office: Project, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    facts = gather(office, home, TraySettings(), TrayStatus())
    assert facts.last_runs == {}
    assert list(facts.recent) == []
    assert not (home / "runlog.sqlite3").exists()
