"""Running a bot: validate everything first, then work through the items one by one.

A run has two phases:

1. :meth:`Runner.prepare` loads and validates the bot, its workflow(s), the settings, the
   credentials and the input files. Nothing is started and nothing is written; any problem is an
   :class:`~framework.errors.InvalidError` (exit code 2).
2. :meth:`Runner.execute` runs it (:mod:`framework.execution`): the bot lock, the run log row,
   the run folder and logs, ``setup``, ``steps`` for each item as a transaction, ``teardown``,
   and the results workbooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from framework import credentials as credential_store
from framework.browsers import BrowserOptions
from framework.errors import (
    CredentialError,
    InvalidError,
    Problem,
)
from framework.home import Home
from framework.items import OpenInput, estimate_total, iter_items, open_inputs
from framework.loader import Project, load_bot
from framework.model import Bot, SettingValue
from framework.outcome import ExitCode, ItemOutcome, ItemStatus
from framework.registry import Registry
from framework.runlog import RunLog, RunRecord

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@dataclass
class RunRequest:
    """What to run and how: the options of ``rpa run``."""

    bot: str
    input: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    trigger: str = "cli"
    dry_run: bool = False
    browser: BrowserOptions = field(default_factory=BrowserOptions)
    credentials: Mapping[str, Mapping[str, str | SecretStr]] | None = None
    """Credential values given directly (``rpa demo``); otherwise keyring, env or files."""
    rerun_of: str | None = None
    """``--rerun-failed RUN_ID``: only the items that did not get done in that run."""


@dataclass
class Prepared:
    """A validated run, ready to execute."""

    bot: Bot
    settings: dict[str, SettingValue]
    credentials: credential_store.Secrets
    inputs: list[OpenInput]
    input_path: Path | None


@dataclass
class RunResult:
    """What a run did, for the command line and tests."""

    exit_code: ExitCode
    record: RunRecord | None
    outcomes: list[ItemOutcome]
    run_dir: Path | None = None
    files: list[Path] = field(default_factory=list)
    message: str = ""


class Reporter(Protocol):
    """Progress callbacks (the CLI shows a progress bar; the tray will show a tooltip)."""

    def started(self, bot: Bot, run_id: str | None, total: int | None) -> None: ...

    def item_done(self, outcome: ItemOutcome) -> None: ...


class SilentReporter:
    def started(self, bot: Bot, run_id: str | None, total: int | None) -> None:
        pass

    def item_done(self, outcome: ItemOutcome) -> None:
        pass


def _coerce(key: str, raw: str, default: SettingValue) -> SettingValue:
    if isinstance(default, bool):
        if raw.lower() in ("true", "1", "yes", "on"):
            return True
        if raw.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"--set {key}: true か false を指定してください (expected true/false)")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"--set {key}: 整数を指定してください (expected an integer)") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"--set {key}: 数値を指定してください (expected a number)") from None
    return raw


def merge_settings(bot: Bot, overrides: Mapping[str, str]) -> dict[str, SettingValue]:
    """The bot's settings with ``--set`` overrides; unknown keys and bad values are refused."""
    import difflib

    settings: dict[str, SettingValue] = dict(bot.manifest.settings)
    problems: list[Problem] = []
    for key, raw in overrides.items():
        if key not in settings:
            close = difflib.get_close_matches(key, list(settings), n=1)
            hint = f"「{close[0]}」のことですか？ " if close else ""
            known = ", ".join(settings) or "(なし)"
            problems.append(
                Problem(
                    "--set",
                    0,
                    0,
                    key,
                    f"この設定はありません (unknown setting). {hint}設定できるもの: {known}",
                )
            )
            continue
        try:
            settings[key] = _coerce(key, raw, settings[key])
        except ValueError as exc:
            problems.append(Problem("--set", 0, 0, key, str(exc)))
    if problems:
        raise InvalidError(problems)
    return settings


class Runner:
    """Runs bots of one project, recording into one run log."""

    def __init__(
        self,
        project: Project,
        home: Home,
        registry: Registry,
        runlog: RunLog | None,
        reporter: Reporter | None = None,
        *,
        browser: Browser | None = None,
    ) -> None:
        """``runlog`` may be None until a run is executed (preparing writes nothing).

        ``browser``: an already running Playwright browser to share (tests); default: own.
        """
        self.browser = browser
        self.project = project
        self.home = home
        self.registry = registry
        self.runlog = runlog
        self.reporter: Reporter = reporter or SilentReporter()

    # -- phase 1 ----------------------------------------------------------------------------
    def prepare(self, request: RunRequest) -> Prepared:
        """Validate everything a run needs; raise InvalidError (exit 2) if anything is wrong."""
        bot = load_bot(request.bot, self.registry, self.project)
        settings = merge_settings(bot, request.overrides)
        if request.credentials is not None:
            creds = credential_store.as_secrets(request.credentials)
        else:
            try:
                creds = credential_store.resolve(
                    bot.manifest.credentials, self.project.credentials_dir
                )
            except CredentialError as exc:
                raise InvalidError.one(None, "", exc.reason, file=bot.file) from None
        workflow = bot.workflow
        inputs: list[OpenInput] = []
        input_path = request.input.resolve() if request.input is not None else None
        if workflow.items is not None:
            if input_path is None:
                input_path = bot.default_input()
            if input_path is None:
                raise InvalidError.one(
                    None,
                    "input",
                    "入力ファイルを --input で指定してください"
                    "（bot.yaml に input.default がありません） (no input given)",
                    file=bot.file,
                )
            inputs = open_inputs(input_path, workflow.items, self.registry, shown=str(input_path))
        elif input_path is not None:
            raise InvalidError.one(
                None,
                "--input",
                "このボットは入力ファイルを使いません (this bot takes no input)",
                file=bot.file,
            )
        return Prepared(bot, settings, creds, inputs, input_path)

    # -- phase 2 ----------------------------------------------------------------------------
    def execute(self, prepared: Prepared, request: RunRequest) -> RunResult:
        if request.dry_run:
            return self._dry_run(prepared)
        if self.runlog is None:
            raise RuntimeError("Runner.execute needs a run log")
        from framework.execution import Execution

        return Execution(self, prepared, request, self.runlog).run()

    def run(self, request: RunRequest) -> RunResult:
        """Prepare and execute; InvalidError propagates (the caller prints it, exit 2)."""
        return self.execute(self.prepare(request), request)

    def _dry_run(self, prepared: Prepared) -> RunResult:
        """Read and check every item without starting a browser or writing anything."""
        bot = prepared.bot
        workflow = bot.workflow
        total = estimate_total(prepared.inputs) if prepared.inputs else 0
        self.reporter.started(bot, None, total)
        outcomes: list[ItemOutcome] = []
        if workflow.items is not None:
            for item in iter_items(prepared.inputs, workflow.items):
                status = ItemStatus.BAD_INPUT if item.is_bad else ItemStatus.PENDING
                outcome = ItemOutcome(item.seq, item.source, item.row, status, item.problem_text())
                outcomes.append(outcome)
                self.reporter.item_done(outcome)
        bad = any(o.status is ItemStatus.BAD_INPUT for o in outcomes)
        return RunResult(
            exit_code=ExitCode.ITEMS_FAILED if bad else ExitCode.OK,
            record=None,
            outcomes=outcomes,
            message="ドライラン: ブラウザは起動せず、何も登録していません"
            " (dry run: nothing was entered)",
        )
