"""One run in progress: the lock, the run folder and logs, setup, the items, teardown, results.

Items are transactions. Each one is recorded as *pending* before its steps run and as *in
progress* right before its ``commit`` step (the one that changes the target system) starts;
its end state is recorded after. So whatever happens to the browser, the network or the PC,
the run log says for every item whether it may have reached the system:

* pending: nothing was sent, it is simply entered again next time;
* in progress: ambiguous; the workflow's ``check`` looks it up in the system, and without a
  check it is reported as 要確認 (needs review), never re-entered silently;
* done: skipped by later runs of the same bot (matched by the item's key).

A workflow without a ``commit`` step is taken to change nothing outside kakari (reading,
Excel output): its items are simply done again.

Transient failures (timeouts, busy or 5xx pages, a crashed page) are retried with exponential
backoff and jitter; a logged-out session is restored with the workflow's ``session.restore``;
refusals by the system are never retried.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from framework import audit
from framework.botlock import BotLock
from framework.browsers import BrowserSession
from framework.context import PageMarkers, RunInfo, StepContext
from framework.errors import (
    AbortedError,
    ApplicationError,
    BusinessError,
    SessionExpiredError,
    StepFailedError,
)
from framework.items import Item, estimate_total, iter_items
from framework.model import StepCall, Workflow
from framework.outcome import ExitCode, ItemOutcome, ItemStatus, RunStatus
from framework.progress import ProgressFile
from framework.redact import Redactor
from framework.resultbook import write_exception_report, write_result_list
from framework.runlog import ItemKey, PriorItem, RunLog, RunRecord
from framework.savings import exception_items, minutes_saved
from framework.stopping import StopRequestedError, StopSignal
from framework.templating import TemplateProblem

if TYPE_CHECKING:
    from loguru import Logger

    from framework.runner import Prepared, Runner, RunRequest, RunResult

HUMAN_FORMAT = "{time:YYYY-MM-DD HH:mm:ss} | {level: <7} | {message}"
EXCEPTIONS_FILE = "exceptions.xlsx"


def new_run_id(now: dt.datetime) -> str:
    """Sortable, readable and safe as a folder name on Windows: ``20261127-045801-3f2a``."""
    return f"{now:%Y%m%d-%H%M%S}-{os.urandom(2).hex()}"


def backoff(attempt: int, delay: float, max_delay: float) -> float:
    """Seconds to wait after failed try ``attempt`` (1-based): doubling, capped, with jitter.

    "Equal jitter": half the doubled delay is fixed, half random, so retries from several PCs
    against the same busy system spread out but never fire immediately.
    """
    base = min(max_delay, delay * 2.0 ** (attempt - 1))
    return float(base / 2 + random.uniform(0, base / 2))


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, ApplicationError) and exc.transient


@dataclass
class RerunTargets:
    """The items of an earlier run that ``--rerun-failed`` repeats."""

    run_id: str
    keys: set[str]
    rows: set[tuple[str, int | None]]

    def wants(self, key: ItemKey, item: Item) -> bool:
        return key.hash in self.keys or (item.source, item.row) in self.rows


class Execution:
    """Everything that lives from the start of a run to its end."""

    def __init__(
        self, runner: Runner, prepared: Prepared, request: RunRequest, runlog: RunLog
    ) -> None:
        self.runner = runner
        self.prepared = prepared
        self.request = request
        self.runlog = runlog
        self.bot = prepared.bot
        self.workflow = prepared.bot.workflow
        now = dt.datetime.now().astimezone().replace(microsecond=0)
        self.run_id = new_run_id(now)
        self.run_dir = runner.home.run_dir(self.run_id)
        self.started_at = now
        self.redactor = Redactor()
        self.outcomes: list[ItemOutcome] = []
        self.reported: list[ItemOutcome] = []
        """The outcomes as the run log has them (masked): what leaves the run besides the
        results workbooks."""
        self.input_sha256: str | None = None
        self.run_variables: dict[str, object] = {}
        """Variables set by setup: every item starts from these."""
        self.seen_keys: dict[str, str] = {}
        """Keys of this run's items → where the first one is (duplicates in the input)."""
        self.sinks: list[int] = []
        self.stop = StopSignal(self.run_dir)
        self.progress = ProgressFile(self.run_dir, self.run_id, self.bot.id, self.bot.name)
        self.committing = False
        self._commit_hook: Any = None
        self.rerun: RerunTargets | None = None
        self.log: Logger = logger.bind(run_id=self.run_id).patch(self.redactor.patch)
        baseline = self.bot.manifest.baseline
        self.record = RunRecord(
            id=self.run_id,
            bot_id=self.bot.id,
            bot_name=self.bot.name,
            department=self.bot.manifest.department,
            workflow=self.workflow.file,
            trigger=request.trigger,
            os_user=audit.os_user(),
            host=socket.gethostname(),
            input=str(prepared.input_path) if prepared.input_path else None,
            started_at=now,
            run_dir=str(self.run_dir),
            baseline_minutes_per_item=baseline.minutes_per_item,
            baseline_minutes_per_run=baseline.minutes_per_run,
            baseline_minutes_per_exception=baseline.minutes_per_exception,
            baseline_measured_by=baseline.measured_by,
            baseline_measured_on=baseline.measured_on.isoformat(),
        )

    # -- lifecycle --------------------------------------------------------------------------
    def run(self) -> RunResult:
        """Run to the end; raises AlreadyRunningError before writing anything if locked."""
        lock = BotLock(self.runner.home.root / "locks", self.bot.id)
        stale = lock.acquire(self.run_id)
        try:
            ctx = self._open()
            if stale is not None:
                self.log.warning(
                    f"前回の実行 {stale.run_id} は途中で止まっていました（異常終了）"
                    f" (previous run {stale.run_id} did not finish)"
                )
            self._close_dead_runs()
            self.stop.install()
            try:
                return self._run(ctx)
            finally:
                self.stop.uninstall()
        finally:
            lock.release()

    def _open(self) -> StepContext:
        self.runner.home.make_run_dir(self.run_id)

        def only_this_run(record: Any) -> bool:
            return bool(record["extra"].get("run_id") == self.run_id)

        for target, serialize in (
            (self.run_dir / "run.log", False),
            (self.run_dir / "run.jsonl", True),
        ):
            self.sinks.append(
                logger.add(
                    target,
                    format=HUMAN_FORMAT,
                    serialize=serialize,
                    level="DEBUG",
                    filter=only_this_run,
                    encoding="utf-8",
                    backtrace=False,
                    diagnose=False,
                )
            )
        for values in self.prepared.credentials.values():
            self.redactor.add_secrets(v.get_secret_value() for v in values.values())
        self.runlog.start_run(self.record)
        self.input_sha256 = audit.input_sha256(
            self.prepared.input_path, [entry.path for entry in self.prepared.inputs]
        )
        audit.run_started(self.runlog, self.record, self.input_sha256)
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
        self.item_markers = PageMarkers(
            busy=self.workflow.retry.busy_if,
            expired=self.workflow.session.expired_if if self.workflow.session else None,
        )
        # the login page is expected while logging in: only a busy page counts there
        self.login_markers = PageMarkers(busy=self.workflow.retry.busy_if)
        return StepContext(
            run=info,
            settings=self.prepared.settings,
            credentials=self.prepared.credentials,
            log=self.log,
            executor=self,
            browser_session=session,
            markers=self.login_markers,
        )

    def _close_dead_runs(self) -> None:
        """This PC's runs of this bot still marked running died with their process: close them.

        This run holds the bot's lock on this PC, so no other run of the bot is alive *here*.
        Runs of other PCs (a shared run log) may well be alive and are left alone: a dead
        runner's run is closed by the pool worker that takes over its job.
        """
        for dead in self.runlog.unfinished_runs(self.bot.id, self.run_id):
            if dead.host != self.record.host:
                continue
            self.runlog.close_unfinished(
                dead.id,
                "異常終了: 実行中にプロセスが止まりました (the process died during the run)",
            )
            audit.record(
                self.runlog,
                audit.Action.RUN_FINISHED,
                trigger=self.request.trigger,
                bot_id=self.bot.id,
                run_id=dead.id,
                outcome="aborted",
                detail=f"process died; closed by run {self.run_id}",
            )
            self.log.warning(f"run {dead.id} を異常終了として記録しました (closed a dead run)")

    def _run(self, ctx: StepContext) -> RunResult:
        if self.request.rerun_of is not None:
            keys, rows = self.runlog.rerun_targets(self.request.rerun_of)
            self.rerun = RerunTargets(self.request.rerun_of, keys, rows)
        total = estimate_total(self.prepared.inputs) if self.prepared.inputs else None
        self.runner.reporter.started(self.bot, self.run_id, total)
        self.progress.start(total)
        self.log.info(
            f"開始: {self.bot.name} ({self.bot.id}) run={self.run_id}"
            f" trigger={self.request.trigger} input={self.record.input or '-'}"
            + (f" rerun-failed={self.request.rerun_of}" if self.request.rerun_of else "")
        )
        status = RunStatus.COMPLETED
        message = ""
        try:
            self._run_level(ctx, self.workflow.setup, "setup")
            self.run_variables = dict(ctx.variables)
            if self.workflow.items is not None:
                for item in iter_items(self.prepared.inputs, self.workflow.items):
                    if self.stop.requested:
                        raise StopRequestedError
                    self._item(ctx, item)
            else:
                self._run_level(ctx, self.workflow.steps, "steps")
        except AbortedError as exc:
            status, message = RunStatus.ABORTED, exc.reason
            self.log.error(f"中断しました (aborted): {exc.reason}")
        except StopRequestedError:
            status, message = RunStatus.ABORTED, "停止の指示で止めました (stopped on request)"
            self.log.warning(message)
        except KeyboardInterrupt:
            status, message = RunStatus.ABORTED, "強制停止しました (stopped at once)"
            self.log.warning(message)
        except Exception as exc:  # a bug or an unforeseen input: end the run cleanly anyway
            status = RunStatus.ABORTED
            message = (
                f"予期しないエラーで中断しました (internal error): {type(exc).__name__}: {exc}"
            )
            self.log.error(message)
            self.log.debug("".join(traceback.format_exception(exc)))
        finally:
            ctx.item = None
            self.redactor.set_personal({})
            try:
                self._run_level(ctx, self.workflow.teardown, "teardown", retry=False)
            except (AbortedError, StopRequestedError) as exc:
                self.log.error(f"teardown に失敗しました: {exc}")
            for error in ctx.close_resources():
                self.log.error(f"後始末に失敗しました (cleanup failed): {error}")
            try:
                ctx.browser_session.close()
            except Exception as exc:  # a browser killed under us must not lose the results
                self.log.debug(f"browser close failed: {type(exc).__name__}")
        files = self._write_results()
        return self._finish(status, message, files)

    # -- run-level steps (setup, teardown, steps without items) -----------------------------
    def _run_level(
        self, ctx: StepContext, steps: Sequence[StepCall], name: str, *, retry: bool = True
    ) -> None:
        """Run-level steps: transient failures are retried; any other failure aborts the run."""
        if not steps:
            return
        policy = self.workflow.retry
        attempt = 1
        while True:
            try:
                self.run_steps(ctx, steps)
                return
            except StepFailedError as exc:
                if retry and not exc.is_business and _is_transient(exc.cause):
                    if attempt < policy.attempts:
                        self._pause_before_retry(ctx, attempt, f"{name}: {exc.reason}")
                        attempt += 1
                        continue
                self._screenshot(ctx, name)
                raise AbortedError(f"{name} が失敗しました: {exc}") from None

    def _pause_before_retry(self, ctx: StepContext, attempt: int, why: str) -> None:
        policy = self.workflow.retry
        wait = backoff(attempt, policy.delay, policy.max_delay)
        self.log.warning(
            f"一時的な失敗のため {wait:.1f} 秒後にやり直します"
            f"（{attempt + 1}/{policy.attempts}回目）: {why} (transient failure; retrying)"
        )
        if self.stop.wait(wait):
            raise StopRequestedError
        if not ctx.browser_session.healthy():
            self.log.warning("ブラウザの画面を作り直します (rebuilding the browser context)")
            ctx.browser_session.reset()
            self._relogin(ctx)

    def _relogin(self, ctx: StepContext) -> None:
        """A fresh browser context has no session: log in again (restore, else setup)."""
        restore = self.workflow.session_restore
        item, variables, markers = ctx.item, ctx.variables, ctx.markers
        ctx.item, ctx.variables, ctx.markers = None, dict(self.run_variables), self.login_markers
        try:
            if restore is not None:
                self.call(ctx, restore, {})
            elif self.workflow.setup:
                self.run_steps(ctx, self.workflow.setup)
        except StepFailedError as exc:
            raise AbortedError(f"再ログインに失敗しました: {exc}") from None
        finally:
            ctx.item, ctx.variables, ctx.markers = item, variables, markers

    # -- items ------------------------------------------------------------------------------
    def _item(self, ctx: StepContext, item: Item) -> None:
        spec = self.workflow.items
        assert spec is not None
        self.redactor.set_personal(item.personal)
        parts = item.key(spec)
        key = self.runlog.item_key(parts, bool(set(spec.key) & spec.pii_fields))
        outcome = ItemOutcome(
            item.seq, item.source, item.row, ItemStatus.PENDING, key=" / ".join(parts)
        )
        if self.rerun is not None and not self.rerun.wants(key, item):
            return  # not one of the failed items of the run being repeated
        if item.is_bad:
            self._finish_item(outcome, key, ItemStatus.BAD_INPUT, item.problem_text())
            return
        if not spec.key:  # without a key items cannot be matched: no resume, no duplicates
            self.runlog.item_started(self.record, outcome, key)
            self._enter(ctx, item, outcome, key)
            return
        first = self.seen_keys.get(key.hash)
        if first is not None:
            self._finish_item(
                outcome,
                key,
                ItemStatus.BAD_INPUT,
                f"同じ申請（キー: {'・'.join(spec.key)}）が {first} にもあります。二重に登録しない"
                f"よう、この行は入力していません (duplicate of {first} in the input)",
            )
            return
        self.seen_keys[key.hash] = item.where
        prior = self.runlog.prior_item(self.bot.id, key, self.run_id)
        ambiguous = False
        if prior is not None:
            decided = self._decide_from_prior(outcome, key, prior)
            if decided:
                return
            ambiguous = prior.status is ItemStatus.IN_PROGRESS or (
                prior.status is ItemStatus.NEEDS_REVIEW and self.workflow.check is not None
            )
        if ambiguous:
            # it stays "may have reached the system" until the check says otherwise: a run that
            # stops or dies while checking must not leave it pending (entered without a check)
            outcome.status = ItemStatus.IN_PROGRESS
        self.runlog.item_started(self.record, outcome, key)
        if ambiguous:
            verdict = self._check(ctx, item)
            if verdict is True:
                outcome.results = dict(item.results)
                self._finish_item(
                    outcome,
                    key,
                    ItemStatus.DONE,
                    "前回の処理で登録済みでした（システムで確認） (found already entered)",
                )
                return
            if verdict is None:
                self._finish_item(
                    outcome,
                    key,
                    ItemStatus.NEEDS_REVIEW,
                    f"前回の実行 {prior.run_id if prior else ''} で登録の途中で止まりました。"
                    "システムに登録されているか確認してください"
                    " (interrupted while registering; check the system)",
                )
                return
            # not in the system, and nothing of it sent by this run yet: an ordinary pending item
            outcome.status = ItemStatus.PENDING
            self.runlog.item_state(self.run_id, outcome.seq, ItemStatus.PENDING)
        self._enter(ctx, item, outcome, key)

    def _decide_from_prior(self, outcome: ItemOutcome, key: ItemKey, prior: PriorItem) -> bool:
        """Settle an item from an earlier run's record; return True if nothing is left to do."""
        where = f"{prior.source} {prior.row}行目" if prior.row else prior.source
        if prior.status is ItemStatus.DONE:
            outcome.results = dict(prior.results)
            how = f"、{prior.reviewed_by} が確認" if prior.reviewed_by else ""
            self._finish_item(
                outcome,
                key,
                ItemStatus.SKIPPED,
                f"登録済みのため入力しません（run {prior.run_id}、{where}{how}）"
                " (already entered by an earlier run)",
            )
            return True
        if prior.status is ItemStatus.NEEDS_REVIEW and self.rerun is None:
            self._finish_item(
                outcome,
                key,
                ItemStatus.NEEDS_REVIEW,
                f"前回の実行 {prior.run_id} から要確認のままです。システムを確認して"
                f" rpa review {prior.run_id} で結果を記録してください (still needs review)",
            )
            return True
        return False

    def _enter(self, ctx: StepContext, item: Item, outcome: ItemOutcome, key: ItemKey) -> None:
        """Run the item's steps with retries, session restores and the commit rule."""
        policy = self.workflow.retry
        session = self.workflow.session
        attempt, restores = 1, 0
        while True:
            ctx.item = item
            ctx.markers = self.item_markers
            ctx.variables = dict(self.run_variables)
            item.results.clear()
            self.committing = False
            self._commit_hook = lambda: self._mark_committing(outcome)
            try:
                self.run_steps(ctx, self.workflow.steps)
                outcome.results = dict(item.results)
                self._finish_item(outcome, key, ItemStatus.DONE, "")
                return
            except StopRequestedError:
                self._finish_item(
                    outcome,
                    key,
                    ItemStatus.SKIPPED,
                    "停止の指示があったため入力していません (not entered: stopped)",
                )
                raise
            except KeyboardInterrupt:
                raise  # the second Ctrl+C: the log keeps the last state (pending / in progress)
            except StepFailedError as exc:
                outcome.screenshot = self._screenshot(ctx, f"item-{item.seq:05d}")
                if exc.is_business:
                    self._finish_item(outcome, key, ItemStatus.BUSINESS_ERROR, exc.reason)
                    return
                expired = self._session_expired(ctx, exc)
                relogged = expired and session is not None and restores < session.attempts
                if relogged:
                    restores += 1
                    self._restore_session(ctx, item.where)
                if self.committing:
                    verdict = self._check(ctx, item)
                    if verdict is True:
                        outcome.results = dict(item.results)
                        self._finish_item(
                            outcome,
                            key,
                            ItemStatus.DONE,
                            "登録の途中で失敗しましたが、システムに登録済みでした（確認済み）"
                            " (entered; confirmed by check)",
                        )
                        return
                    if verdict is None:
                        self._finish_item(
                            outcome,
                            key,
                            ItemStatus.NEEDS_REVIEW,
                            f"登録の途中で失敗しました。システムに登録されたか確認してください:"
                            f" {self._reason(exc)} (failed while registering; check the system)",
                        )
                        return
                    # the check says it is not there: entering it again is safe
                if relogged:
                    continue  # logged in again: the item from its first step
                if _is_transient(exc.cause) and attempt < policy.attempts:
                    self._pause_before_retry(ctx, attempt, f"{item.where}: {exc.reason}")
                    attempt += 1
                    continue
                self._finish_item(outcome, key, ItemStatus.SYSTEM_ERROR, self._reason(exc))
                return
            finally:
                ctx.item = None
                ctx.markers = self.login_markers
                self._commit_hook = None
                self.committing = False

    def _reason(self, exc: StepFailedError) -> str:
        """A failure's reason with where it happened (for IT staff)."""
        return f"{exc.reason} [{exc.pos} {exc.step}]"

    def _mark_committing(self, outcome: ItemOutcome) -> None:
        if not self.committing:
            self.committing = True
            outcome.status = ItemStatus.IN_PROGRESS
            self.runlog.item_state(self.run_id, outcome.seq, ItemStatus.IN_PROGRESS)

    def _session_expired(self, ctx: StepContext, exc: StepFailedError) -> bool:
        if isinstance(exc.cause, SessionExpiredError):
            return True
        markers = ctx.markers
        if markers.expired is None or not ctx.browser_session.started:
            return False
        try:
            return ctx.page_shows(markers.expired)
        except Exception:
            return False

    def _restore_session(self, ctx: StepContext, where: str) -> None:
        self.log.warning(
            f"{where}: ログアウトされていたため、ログインし直します"
            " (session expired; logging in again)"
        )
        if not ctx.browser_session.healthy():
            ctx.browser_session.reset()
        self._relogin(ctx)

    def _check(self, ctx: StepContext, item: Item) -> bool | None:
        """Ask the target system whether the item was entered; None if it cannot be told."""
        check = self.workflow.check
        if check is None:
            return None
        policy = self.workflow.retry
        for attempt in range(1, policy.attempts + 1):
            ctx.item = item
            ctx.markers = self.item_markers
            ctx.variables = dict(self.run_variables)
            item.results.clear()
            try:
                self.run_steps(ctx, check.steps)
                verdict = bool(ctx.evaluate(check.entered))
                self.log.info(
                    f"{item.where}: 登録済みか確認しました: {'登録済み' if verdict else '未登録'}"
                    f" (check: {'entered' if verdict else 'not entered'})"
                )
                return verdict
            except (StepFailedError, TemplateProblem) as exc:
                self.log.warning(f"{item.where}: 確認に失敗しました (check failed): {exc}")
                failed = exc if isinstance(exc, StepFailedError) else None
                if failed is not None and self._session_expired(ctx, failed):
                    self._restore_session(ctx, item.where)
                elif failed is None or not _is_transient(failed.cause):
                    return None
                if attempt < policy.attempts:
                    self._pause_before_retry(ctx, attempt, f"check: {exc}")
            finally:
                ctx.item = None
                ctx.markers = self.login_markers
        return None

    def _finish_item(
        self,
        outcome: ItemOutcome,
        key: ItemKey,
        status: ItemStatus,
        message: str,
    ) -> None:
        """Record an item's end state (masked in the log), report it, keep it for the results."""
        outcome.status = status
        outcome.message = self.redactor(message)
        # the run log gets masked results; the results workbook (for staff) keeps them as read
        logged = replace(
            outcome, results={k: self.redactor(v) for k, v in outcome.results.items()}, key=""
        )
        self.runlog.item_finished(self.record, logged, key)
        self.outcomes.append(outcome)
        self.reported.append(logged)
        level = "INFO" if status in (ItemStatus.DONE, ItemStatus.SKIPPED) else "WARNING"
        where = f"{outcome.source} {outcome.row}行目" if outcome.row else outcome.source
        extra = " ".join(f"{k}={v}" for k, v in logged.results.items())
        detail = f": {outcome.message}" if outcome.message else ""
        self.log.log(level, f"[{outcome.seq}] {where}: {status.label}{detail} {extra}".rstrip())
        self.runner.reporter.item_done(logged)
        self.progress.item(status)

    # -- steps ------------------------------------------------------------------------------
    def run_steps(self, ctx: StepContext, steps: Sequence[StepCall]) -> None:
        """Run steps in order; each failure becomes a StepFailedError with the step's place."""
        for call in steps:
            if self.stop.requested and not self.committing:
                raise StopRequestedError
            ctx.current = call
            try:
                if call.when is not None and not ctx.evaluate(call.when):
                    continue
            except TemplateProblem as exc:
                raise StepFailedError(call.pos, call.spec.name, exc, str(exc)) from None
            if call.commit and self._commit_hook is not None:
                self._commit_hook()
            self.log.debug(call.label)
            self._invoke(ctx, call)

    def _invoke(self, ctx: StepContext, call: StepCall) -> None:
        attempts = call.retry.attempts if call.retry else 1
        for attempt in range(1, attempts + 1):
            try:
                call.spec.func(ctx, call.args)
                return
            except (StepFailedError, KeyboardInterrupt, AbortedError, StopRequestedError):
                raise
            except BusinessError as exc:
                raise StepFailedError(call.pos, call.spec.name, exc, exc.reason) from None
            except (ApplicationError, TemplateProblem) as exc:
                message = exc.reason if isinstance(exc, ApplicationError) else str(exc)
                if call.retry and _is_transient(exc) and attempt < attempts:
                    self.log.warning(f"{call.pos} {call.spec.name}: {message} → やり直します")
                    pause = call.retry.delay * 2 ** (attempt - 1)
                    if self.committing:  # registering: the item is finished before stopping
                        time.sleep(pause)
                    elif self.stop.wait(pause):
                        raise StopRequestedError from None
                    continue
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
        if not ctx.browser_session.started or not ctx.browser_session.healthy():
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
        attention = [o for o in self.outcomes if o.status.needs_attention]
        if attention:
            files.append(write_exception_report(attention, self.run_dir / EXCEPTIONS_FILE))
        return files

    def _finish(self, status: RunStatus, message: str, files: list[Path]) -> RunResult:
        from framework.runner import RunResult

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
        record.minutes_saved = minutes_saved(
            done, exception_items(counts), batch_completed, record.baseline()
        )
        record.message = self.redactor(message)
        failed = any(s.needs_attention for s in counts if counts[s])
        if status is RunStatus.ABORTED:
            record.exit_code = ExitCode.ABORTED
        elif failed:
            record.exit_code = ExitCode.ITEMS_FAILED
        else:
            record.exit_code = ExitCode.OK
        self.runlog.finish_run(record)
        self.progress.finish(status)
        audit.run_finished(self.runlog, record, self.input_sha256)
        skipped = counts.get(ItemStatus.SKIPPED, 0)
        self.log.info(
            f"終了: {status.label} 登録済み {done} / 全 {record.items_total} 件"
            + (f"（登録済みのためスキップ {skipped} 件）" if skipped else "")
            + f", 削減時間 {record.minutes_saved:g} 分"
        )
        for sink in self.sinks:
            logger.remove(sink)
        return RunResult(
            exit_code=ExitCode(record.exit_code),
            record=record,
            outcomes=self.reported,
            run_dir=self.run_dir,
            files=files,
            message=record.message,
        )
