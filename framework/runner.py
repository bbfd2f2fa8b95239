"""Running a bot: validate everything first, then work through the items one by one.

A run has two phases:

1. :meth:`Runner.prepare` loads and validates the bot, its workflow(s), the settings, the
   credentials and the input files. Nothing is started and nothing is written; any problem is an
   :class:`~framework.errors.InvalidError` (exit code 2).
2. :meth:`Runner.execute` opens the run (run log row, run folder, log files), runs ``setup``,
   then ``steps`` for each item, then ``teardown``, and writes the results workbooks.

Each item ends as done, refused by the system (business error), failed (system error) or bad
input; its state is committed to the run log before and after its steps run.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import secrets
import socket
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger

from framework import credentials as credential_store
from framework.browsers import BrowserOptions, BrowserSession
from framework.context import RunInfo, StepContext
from framework.errors import (
    AbortedError,
    ApplicationError,
    BusinessError,
    CredentialError,
    InvalidError,
    Problem,
    StepFailedError,
)
from framework.home import Home
from framework.items import Item, OpenInput, estimate_total, iter_items, open_inputs
from framework.loader import Project, load_bot
from framework.model import Bot, SettingValue, StepCall, Workflow
from framework.outcome import ExitCode, ItemOutcome, ItemStatus, RunStatus
from framework.redact import Redactor
from framework.registry import Registry
from framework.resultbook import write_result_list
from framework.runlog import RunLog, RunRecord
from framework.savings import minutes_saved
from framework.templating import TemplateProblem

if TYPE_CHECKING:
    from loguru import Logger
    from playwright.sync_api import Browser

HUMAN_FORMAT = "{time:YYYY-MM-DD HH:mm:ss} | {level: <7} | {message}"


@dataclass
class RunRequest:
    """What to run and how: the options of ``rpa run``."""

    bot: str
    input: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    trigger: str = "cli"
    dry_run: bool = False
    browser: BrowserOptions = field(default_factory=BrowserOptions)
    credentials: dict[str, dict[str, str]] | None = None
    """Credential values given directly (``rpa demo``); otherwise read from env/files."""


@dataclass
class Prepared:
    """A validated run, ready to execute."""

    bot: Bot
    settings: dict[str, SettingValue]
    credentials: dict[str, dict[str, str]]
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


def new_run_id(now: dt.datetime) -> str:
    """Sortable, readable and safe as a folder name on Windows: ``20261127-045801-3f2a``."""
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


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
            creds = {name: dict(values) for name, values in request.credentials.items()}
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
        return _Execution(self, prepared, request, self.runlog).run()

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


class _Execution:
    """One run in progress (all the state that lives from start to finish)."""

    def __init__(
        self, runner: Runner, prepared: Prepared, request: RunRequest, runlog: RunLog
    ) -> None:
        self.runner = runner
        self.runlog = runlog
        self.prepared = prepared
        self.request = request
        self.bot = prepared.bot
        self.workflow = prepared.bot.workflow
        now = dt.datetime.now().astimezone().replace(microsecond=0)
        self.run_id = new_run_id(now)
        self.run_dir = runner.home.run_dir(self.run_id)
        self.started_at = now
        self.redactor = Redactor()
        self.outcomes: list[ItemOutcome] = []
        self.run_variables: dict[str, object] = {}
        """Variables set by setup: every item starts from these."""
        self.sinks: list[int] = []
        self.log: Logger = logger.bind(run_id=self.run_id).patch(self.redactor.patch)
        baseline = self.bot.manifest.baseline
        self.record = RunRecord(
            id=self.run_id,
            bot_id=self.bot.id,
            bot_name=self.bot.name,
            department=self.bot.manifest.department,
            workflow=self.workflow.file,
            trigger=request.trigger,
            os_user=_os_user(),
            host=socket.gethostname(),
            input=str(prepared.input_path) if prepared.input_path else None,
            started_at=now,
            run_dir=str(self.run_dir),
            baseline_minutes_per_item=baseline.minutes_per_item,
            baseline_minutes_per_run=baseline.minutes_per_run,
            baseline_measured_by=baseline.measured_by,
            baseline_measured_on=baseline.measured_on.isoformat(),
        )

    # -- lifecycle --------------------------------------------------------------------------
    def _open(self) -> StepContext:
        self.run_dir.mkdir(parents=True, exist_ok=False, mode=0o700)

        def only_this_run(record: Any) -> bool:
            return bool(record["extra"].get("run_id") == self.run_id)

        self.sinks.append(
            logger.add(
                self.run_dir / "run.log",
                format=HUMAN_FORMAT,
                level="DEBUG",
                filter=only_this_run,
                encoding="utf-8",
                backtrace=False,
                diagnose=False,
            )
        )
        self.sinks.append(
            logger.add(
                self.run_dir / "run.jsonl",
                serialize=True,
                level="DEBUG",
                filter=only_this_run,
                encoding="utf-8",
                backtrace=False,
                diagnose=False,
            )
        )
        for values in self.prepared.credentials.values():
            self.redactor.add_secrets(values.values())
        self.runlog.start_run(self.record)
        info = RunInfo(
            id=self.run_id,
            bot_id=self.bot.id,
            dir=self.run_dir,
            started_at=self.started_at,
            bot_dir=self.bot.dir,
        )
        session = BrowserSession(
            self.request.browser, self.run_dir / "downloads", browser=self.runner.browser
        )
        return StepContext(
            run=info,
            settings=self.prepared.settings,
            credentials=self.prepared.credentials,
            log=self.log,
            executor=_Executor(self),
            browser_session=session,
        )

    def run(self) -> RunResult:
        ctx = self._open()
        total = estimate_total(self.prepared.inputs) if self.prepared.inputs else None
        self.runner.reporter.started(self.bot, self.run_id, total)
        self.log.info(
            f"開始: {self.bot.name} ({self.bot.id}) run={self.run_id}"
            f" trigger={self.request.trigger} input={self.record.input or '-'}"
        )
        status = RunStatus.COMPLETED
        message = ""
        try:
            self._section(ctx, self.workflow.setup, "setup")
            self.run_variables = dict(ctx.variables)
            if self.workflow.items is not None:
                for item in iter_items(self.prepared.inputs, self.workflow.items):
                    self._item(ctx, item)
            else:
                self._section(ctx, self.workflow.steps, "steps")
        except AbortedError as exc:
            status, message = RunStatus.ABORTED, exc.reason
            self.log.error(f"中断しました (aborted): {exc.reason}")
        except KeyboardInterrupt:
            status, message = RunStatus.ABORTED, "利用者が停止しました (stopped by the user)"
            self.log.warning(message)
        finally:
            ctx.item = None
            self.redactor.set_personal({})
            try:
                self._section(ctx, self.workflow.teardown, "teardown")
            except AbortedError as exc:
                self.log.error(f"teardown に失敗しました: {exc.reason}")
            for error in ctx.close_resources():
                self.log.error(f"後始末に失敗しました (cleanup failed): {error}")
            ctx.browser_session.close()
        files = self._write_results()
        return self._finish(status, message, files)

    def _section(self, ctx: StepContext, steps: Sequence[StepCall], name: str) -> None:
        """Run-level steps (setup, teardown, or steps without items): a failure aborts the run."""
        if not steps:
            return
        try:
            self.run_steps(ctx, steps)
        except StepFailedError as exc:
            self._screenshot(ctx, name)
            raise AbortedError(f"{name} が失敗しました: {exc}") from None

    # -- items ------------------------------------------------------------------------------
    def _item(self, ctx: StepContext, item: Item) -> None:
        spec = self.workflow.items
        assert spec is not None
        self.redactor.set_personal(item.personal)
        key_parts = item.key(spec)
        personal_key = bool(set(spec.key) & spec.pii_fields)
        key = self.runlog.item_key(key_parts, personal_key)
        outcome = ItemOutcome(item.seq, item.source, item.row, ItemStatus.IN_PROGRESS)
        if item.is_bad:
            outcome.status = ItemStatus.BAD_INPUT
            outcome.message = item.problem_text()
            self._record_item(outcome, key)
            return
        self.runlog.item_started(self.run_id, outcome, key)
        ctx.item = item
        ctx.variables = dict(self.run_variables)
        started = time.perf_counter()
        try:
            self.run_steps(ctx, self.workflow.steps)
            outcome.status = ItemStatus.DONE
        except StepFailedError as exc:
            outcome.status = (
                ItemStatus.BUSINESS_ERROR if exc.is_business else ItemStatus.SYSTEM_ERROR
            )
            # a refusal is the system's own words; a failure also says where (for IT staff)
            outcome.message = (
                exc.reason if exc.is_business else f"{exc.reason} [{exc.pos} {exc.step}]"
            )
            outcome.screenshot = self._screenshot(ctx, f"item-{item.seq:05d}")
            self.log.debug(f"{item.where}: {exc.pos} {exc.step}")
        except KeyboardInterrupt:
            outcome.status = ItemStatus.SYSTEM_ERROR
            outcome.message = "停止したため途中で終わりました (interrupted)"
            self._record_item(outcome, key, item)
            raise
        finally:
            ctx.item = None
        outcome.results = dict(item.results)
        elapsed = time.perf_counter() - started
        self.log.debug(f"{item.where}: {elapsed:.2f}s")
        self._record_item(outcome, key, item)

    def _record_item(self, outcome: ItemOutcome, key: Any, item: Item | None = None) -> None:
        outcome.message = self.redactor(outcome.message)
        # the run log gets masked results; the results workbook (for staff) keeps them as read
        logged = replace(outcome, results={k: self.redactor(v) for k, v in outcome.results.items()})
        self.runlog.item_finished(self.run_id, logged, key)
        self.outcomes.append(outcome)
        level = "INFO" if outcome.status is ItemStatus.DONE else "WARNING"
        where = f"{outcome.source} {outcome.row}行目" if outcome.row else outcome.source
        extra = " ".join(f"{k}={v}" for k, v in logged.results.items())
        detail = f": {outcome.message}" if outcome.message else ""
        self.log.log(
            level, f"[{outcome.seq}] {where}: {outcome.status.label}{detail} {extra}".rstrip()
        )
        self.runner.reporter.item_done(outcome)

    # -- steps ------------------------------------------------------------------------------
    def run_steps(self, ctx: StepContext, steps: Sequence[StepCall]) -> None:
        for call in steps:
            ctx.current = call
            try:
                if call.when is not None and not ctx.evaluate(call.when):
                    continue
                self.log.debug(f"{call.label}")
                call.spec.func(ctx, call.args)
            except StepFailedError:
                raise
            except (KeyboardInterrupt, AbortedError):
                raise
            except BusinessError as exc:
                raise StepFailedError(call.pos, call.spec.name, exc, exc.reason) from None
            except (ApplicationError, TemplateProblem) as exc:
                message = exc.reason if isinstance(exc, ApplicationError) else str(exc)
                self.log.error(f"{call.pos} {call.spec.name}: {message}")
                raise StepFailedError(call.pos, call.spec.name, exc, message) from None
            except Exception as exc:
                message = f"予期しないエラー (unexpected error): {type(exc).__name__}: {exc}"
                self.log.error(f"{call.pos} {call.spec.name}: {message}")
                self.log.debug("".join(traceback.format_exception(exc)))
                raise StepFailedError(call.pos, call.spec.name, exc, message) from None

    def call(self, ctx: StepContext, workflow: Workflow, params: Mapping[str, object]) -> None:
        saved = dict(ctx.variables)
        ctx.variables.update(params)
        try:
            for section in (workflow.setup, workflow.steps, workflow.teardown):
                self.run_steps(ctx, section)
        finally:
            # names passed with `with:` do not leak out; variables the callee sets do
            for name in params:
                if name in saved:
                    ctx.variables[name] = saved[name]
                else:
                    ctx.variables.pop(name, None)

    # -- artefacts --------------------------------------------------------------------------
    def _screenshot(self, ctx: StepContext, name: str) -> str | None:
        if not ctx.browser_session.started:
            return None
        path = self.run_dir / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            ctx.page.screenshot(path=str(path), full_page=True, timeout=5_000)
        except Exception as exc:  # a crashed page cannot be photographed; the run goes on
            self.log.debug(f"screenshot failed: {type(exc).__name__}")
            return None
        return str(path.relative_to(self.run_dir))

    def _write_results(self) -> list[Path]:
        files: list[Path] = []
        if self.workflow.items is None:
            return files
        by_source: dict[str, list[ItemOutcome]] = {}
        for outcome in self.outcomes:
            by_source.setdefault(outcome.source, []).append(outcome)
        for entry in self.prepared.inputs:
            try:
                written = entry.reader.write_results(by_source.get(entry.shown, []), self.run_dir)
            except Exception as exc:
                self.log.error(f"結果ファイルを書けません: {entry.shown}: {exc}")
                continue
            if written is not None:
                files.append(written)
        if self.outcomes:
            files.append(write_result_list(self.outcomes, self.run_dir / "結果一覧.xlsx"))
        return files

    def _finish(self, status: RunStatus, message: str, files: list[Path]) -> RunResult:
        counts: dict[ItemStatus, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        done = counts.get(ItemStatus.DONE, 0)
        has_items = self.workflow.items is not None
        batch_completed = status is RunStatus.COMPLETED and (done > 0 or not has_items)
        record = self.record
        record.status = status
        record.ended_at = dt.datetime.now().astimezone().replace(microsecond=0)
        record.counts = counts
        record.minutes_saved = minutes_saved(done, batch_completed, self.bot.manifest.baseline)
        record.message = self.redactor(message)
        failed = any(s.needs_attention for s in counts if counts[s])
        if status is RunStatus.ABORTED:
            record.exit_code = ExitCode.ABORTED
        elif failed:
            record.exit_code = ExitCode.ITEMS_FAILED
        else:
            record.exit_code = ExitCode.OK
        self.runlog.finish_run(record)
        self.log.info(
            f"終了: {status.label} 登録済み {done} / 全 {record.items_total} 件,"
            f" 削減時間 {record.minutes_saved:g} 分"
        )
        for sink in self.sinks:
            logger.remove(sink)
        return RunResult(
            exit_code=ExitCode(record.exit_code),
            record=record,
            outcomes=self.outcomes,
            run_dir=self.run_dir,
            files=files,
            message=record.message,
        )


class _Executor:
    """The bridge that lets control steps run nested steps in the current execution."""

    def __init__(self, execution: _Execution) -> None:
        self._execution = execution

    def run_steps(self, ctx: StepContext, steps: Sequence[StepCall]) -> None:
        self._execution.run_steps(ctx, steps)

    def call(self, ctx: StepContext, workflow: Workflow, params: Mapping[str, object]) -> None:
        self._execution.call(ctx, workflow, params)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"
