"""The shapes of bots and workflows: pydantic models for the files, dataclasses for what runs.

A bot manifest (``bots/<bot_id>/bot.yaml``) names a workflow, its input, its settings, the
credentials it needs and the time-saved baseline. A workflow (``workflows/*.yaml``) declares its
items and the steps that run before, for each item, and after. Unknown keys are refused
everywhere (``extra="forbid"``) so a typo is reported rather than ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from framework.errors import SourcePos
from framework.locator import Locator
from framework.templating import Expression
from framework.yamlio import PathKey, format_path

if TYPE_CHECKING:
    from framework.items import ItemsSpec
    from framework.registry import StepSpec

SettingValue = str | int | float | bool


class Strict(BaseModel):
    """Base for file models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Baseline(Strict):
    """How long staff took by hand, measured before the bot: the basis of time saved."""

    minutes_per_item: float = Field(ge=0)
    """Manual minutes for one item (one application typed in by hand)."""
    minutes_per_run: float = Field(default=0, ge=0)
    """Manual minutes per batch regardless of size (opening the system, printing a list...)."""
    minutes_per_exception: float = Field(default=0, ge=0)
    """Minutes staff spend on each item the bot could not finish (refused, failed, bad input):
    subtracted from the time saved, so exceptions are never hidden in the figures."""
    measured_by: str = Field(min_length=1)
    measured_on: dt.date
    note: str = ""


class InputSpec(Strict):
    """The bot's input: a workbook, a PDF, or a folder of them (the section's inbox)."""

    default: str | None = None
    """Path used when ``rpa run`` gets no ``--input``; relative to the bot's folder."""
    description: str = ""


class ScheduleSpec(Strict):
    """One entry of ``schedules:``: when ``rpa scheduler`` runs the bot unattended.

    ``cron`` says at which times (``0 19 * * mon-fri``: weekdays at 19:00), ``calendar`` on
    which of those days: ``business_days`` (the default: no weekends, national holidays,
    年末年始 or closures from ``calendar.yaml``), ``every_day``, or only the listed ``dates``.
    """

    name: str | None = Field(default=None, min_length=1)
    """A short name for logs and ``rpa schedule`` (default: the cron expression)."""
    cron: str = Field(min_length=1)
    """``分 時 日 月 曜日`` (crontab; 1 = Monday, 0 and 7 = Sunday), optionally seconds first."""
    timezone: str = "Asia/Tokyo"
    calendar: Literal["business_days", "every_day", "dates"] = "business_days"
    dates: list[dt.date] = Field(default_factory=list, validate_default=True)
    """With ``calendar: dates``: the only days the bot runs (at the cron times)."""
    catch_up_until: dt.time | None = None
    """If the PC was off at the fire time, run once when the scheduler starts before this time
    of day (the first one after the fire time, e.g. ``"07:30"`` the next morning); later it is
    recorded as missed. Without it, a run that could not start on time is recorded as missed."""
    time_limit_minutes: float = Field(default=120, gt=0, le=1440)
    """A run still going after this many minutes is stopped (then killed) and recorded aborted."""
    input: str | None = None
    """Input for the scheduled run, relative to the bot's folder (default: ``input.default``)."""

    @property
    def key(self) -> str:
        """How the scheduler and the run log name this schedule."""
        return self.name or self.cron

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from framework.cron import parse_cron

        parse_cron(value)  # raises CronError (a ValueError) with a Japanese message
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"タイムゾーン「{value}」はありません。例: Asia/Tokyo (unknown time zone)"
            ) from None
        return value

    @field_validator("catch_up_until", mode="before")
    @classmethod
    def _time_of_day(cls, value: object) -> object:
        if value is None or isinstance(value, dt.time):
            return value
        text = str(value).strip()
        hours, sep, minutes = text.partition(":")
        if (
            sep
            and hours.isdigit()
            and minutes.isdigit()
            and len(minutes) == 2
            and int(hours) < 24
            and int(minutes) < 60
        ):
            return dt.time(int(hours), int(minutes))
        raise ValueError(
            f'時刻を "07:30" の形で書いてください: {text!r} (expected a time of day HH:MM)'
        )

    @field_validator("dates")
    @classmethod
    def _dates(cls, value: list[dt.date], info: ValidationInfo) -> list[dt.date]:
        calendar = info.data.get("calendar")
        if calendar == "dates" and not value:
            raise ValueError(
                "calendar: dates のときは dates に実行する日を書いてください (dates is required)"
            )
        if calendar is not None and calendar != "dates" and value:
            raise ValueError(
                "dates は calendar: dates のときだけ書けます (dates needs calendar: dates)"
            )
        return sorted(set(value))


class PoolSpec(Strict):
    """``pool:`` - how the bot runs in a runner pool (``rpa worker`` on several PCs).

    ``queue`` names the runner PCs that can reach the bot's business system (``rpa worker
    --queue welfare`` on the PCs with the welfare system): ``rpa enqueue`` and the scheduler in
    distributed mode put the bot's runs there. Runs of one bot never overlap anywhere in the pool
    (the pool's bot lock). ``session`` names an account that allows one session at a time:
    bots naming the same session never run at the same time either.
    """

    queue: str = Field(default="default", min_length=1, max_length=64)
    """The queue of the PCs that run this bot (ASCII letters, digits, ``_`` and ``-``)."""
    session: str | None = Field(default=None, min_length=1, max_length=64)
    """The single-session account the bot logs in with (e.g. ``welfare_system``): bots naming
    the same session run one at a time across the whole pool. Without it, only the bot's own
    runs are kept apart."""
    time_limit_minutes: float = Field(default=120, gt=0, le=1440)
    """A queued run still going after this many minutes is stopped (then killed); a scheduled
    run keeps its schedule's own ``time_limit_minutes``."""

    @field_validator("queue", "session")
    @classmethod
    def _ascii_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isascii() or not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError(
                f"名前は半角英数字と _ - で書いてください: {value!r}"
                " (names: ASCII letters, digits, _ and -)"
            )
        return value

    def lock(self, bot_id: str) -> str:
        """The pool's job lock for the bot's runs: its session's, else the bot's own."""
        return f"session:{self.session}" if self.session else f"bot:{bot_id}"


class BotManifest(Strict):
    """``bots/<bot_id>/bot.yaml``."""

    name: str = Field(min_length=1)
    """Japanese display name shown to staff, e.g. 障害福祉サービス申請入力."""
    department: str = Field(min_length=1)
    description: str = ""
    workflow: str = Field(min_length=1)
    """File name in ``workflows/`` (or a path relative to the bot's folder)."""
    input: InputSpec | None = None
    settings: dict[str, SettingValue] = Field(default_factory=dict)
    credentials: dict[str, list[str]] = Field(default_factory=dict)
    """Credential name → the fields it has, e.g. ``welfare_system: [username, password]``."""
    baseline: Baseline
    retention_days: int = Field(default=30, ge=1, le=3650)
    """Days the run folders (results workbooks, screenshots: personal data) are kept before
    ``rpa cleanup`` deletes them."""
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    """When ``rpa scheduler`` runs the bot (overnight batches); see :class:`ScheduleSpec`."""
    pool: PoolSpec = Field(default_factory=PoolSpec)
    """Its queue and whether it may run only once at a time city-wide; see :class:`PoolSpec`."""

    @field_validator("schedules")
    @classmethod
    def _schedule_names(cls, value: list[ScheduleSpec]) -> list[ScheduleSpec]:
        seen: set[str] = set()
        for spec in value:
            if spec.key in seen:
                raise ValueError(
                    f"同じ名前のスケジュールが2つあります: {spec.key!r}。name で区別してください"
                    " (duplicate schedule name)"
                )
            seen.add(spec.key)
        return value

    @field_validator("credentials")
    @classmethod
    def _credential_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, fields in value.items():
            for part in (name, *fields):
                if not part.replace("_", "").isalnum() or not part.isascii():
                    raise ValueError(
                        f"資格情報の名前は半角英数字と _ で書いてください: {part!r}"
                        " (credential names: ASCII letters, digits and _)"
                    )
            if not fields:
                raise ValueError(f"{name}: 項目（username など）を書いてください (no fields)")
        return value


class RetryPolicy(Strict):
    """``retry:`` - how an item is tried again after a transient failure.

    Transient: a timeout, a page answering 5xx, a page the workflow marks as busy
    (``busy_if``), a crashed page. The item is repeated from its first step after a pause that
    doubles each time (with random jitter), unless its ``commit`` step had already started: then
    the workflow's ``check`` decides, or the item is reported as 要確認 (needs review).
    Refusals by the system (business errors) are never retried.
    """

    attempts: int = Field(default=3, ge=1, le=20)
    """Tries per item, the first included (1 = never retry)."""
    delay: float = Field(default=2.0, ge=0, le=600)
    """Seconds before the second try; doubled for each further try."""
    max_delay: float = Field(default=60.0, ge=0, le=3600)
    busy_if: Locator | None = None
    """What a busy page shows, e.g. ``{text: 混雑しています}``: such a page is retried later."""


class SessionPolicy(Strict):
    """``session:`` - recognise a logged-out page and log in again."""

    expired_if: Locator
    """What shows when the session has ended, e.g. ``{role: button, name: ログイン}``."""
    restore: str = Field(min_length=1)
    """The workflow that logs in again (usually the same one ``setup`` calls)."""
    attempts: int = Field(default=3, ge=1, le=20)
    """Re-logins per item before it is reported as failed."""


class StepRetry(Strict):
    """``retry:`` on one step: try that step again in place after a transient failure."""

    attempts: int = Field(default=3, ge=1, le=20)
    delay: float = Field(default=1.0, ge=0, le=600)


class WorkflowFile(Strict):
    """The top level of a workflow file (steps are checked separately, each by its own model)."""

    title: str = ""
    """A Japanese title for people reading logs and lists."""
    description: str = ""
    items: dict[str, Any] | None = None
    setup: list[Any] = Field(default_factory=list)
    """Steps that run once before the items (e.g. ``- call: welfare_login.yaml``)."""
    steps: list[Any] = Field(default_factory=list)
    """Steps for each item; when there are no items, they run once."""
    teardown: list[Any] = Field(default_factory=list)
    """Steps that run once at the end, even when earlier steps failed."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    session: SessionPolicy | None = None
    check: dict[str, Any] | None = None
    """``check: {steps: [...], entered: <expression>}``: finds out whether an item whose
    registration was interrupted did reach the system (checked separately, like steps)."""


class StepOptions(Strict):
    """Keys any step may carry beside its name."""

    name: str | None = None
    """A short description shown in logs."""
    when: Expression | None = None
    """Run the step only if this expression is true, e.g. ``when: item.支給量 > 100``."""
    commit: bool = False
    """This step changes the target system (e.g. the click on 登録する). The item is recorded
    as in progress before it runs, so an interrupted registration is never repeated blindly."""
    retry: StepRetry | None = None
    """Try this step again in place after a transient failure (not allowed with ``commit``)."""


@dataclass
class StepCall:
    """One step as written in a workflow, validated, with where it was written."""

    spec: StepSpec
    args: BaseModel
    pos: SourcePos
    path: PathKey
    """The step's path in its file, e.g. ``("steps", 3)``."""
    title: str | None = None
    when: Expression | None = None
    commit: bool = False
    retry: StepRetry | None = None

    @property
    def where(self) -> str:
        return format_path(self.path)

    @property
    def label(self) -> str:
        return f"{self.pos} {self.spec.name}" + (f" ({self.title})" if self.title else "")


@dataclass
class Workflow:
    """A loaded, validated workflow."""

    path: Path
    file: str
    title: str
    description: str
    items: ItemsSpec | None
    setup: list[StepCall] = field(default_factory=list)
    steps: list[StepCall] = field(default_factory=list)
    teardown: list[StepCall] = field(default_factory=list)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    session: SessionPolicy | None = None
    session_restore: Workflow | None = None
    """The loaded ``session.restore`` workflow."""
    check: Check | None = None

    @property
    def commits(self) -> bool:
        """Whether a per-item step is marked ``commit`` (else every step counts as one)."""
        return any(call.commit for call in walk_steps(self.steps))


def walk_steps(steps: list[StepCall]) -> Iterator[StepCall]:
    """Every step, nested ones (``then``, ``else``, ``for_each``) included, in order."""
    from framework.registry import block_fields

    for call in steps:
        yield call
        for attr, _key in block_fields(call.spec.args):
            yield from walk_steps(getattr(call.args, attr))


@dataclass
class Check:
    """``check:`` - steps that look up an item in the target system, and the verdict."""

    steps: list[StepCall]
    entered: Expression


@dataclass
class Bot:
    """A loaded, validated bot: its manifest and its workflow."""

    id: str
    dir: Path
    file: str
    manifest: BotManifest
    workflow: Workflow

    @property
    def name(self) -> str:
        return self.manifest.name

    def default_input(self) -> Path | None:
        spec = self.manifest.input
        if spec is None or spec.default is None:
            return None
        return (self.dir / spec.default).resolve()
