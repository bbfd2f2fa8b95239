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
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
