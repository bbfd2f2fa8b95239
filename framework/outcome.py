"""How one item or one run ended: the statuses staff see and the run log stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class ItemStatus(StrEnum):
    """The state of one item (one row of a workbook, one PDF form)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    """Entered into the target system."""
    BUSINESS_ERROR = "business_error"
    """The target system (or a business rule) refused it; the reason is the system's own."""
    SYSTEM_ERROR = "system_error"
    """A technical failure (timeout, unexpected page); the item was not completed."""
    BAD_INPUT = "bad_input"
    """The input row could not be read or normalised; nothing was sent."""
    SKIPPED = "skipped"
    """Not processed in this run (e.g. already done earlier)."""
    NEEDS_REVIEW = "needs_review"
    """It may or may not have been entered (a run died while registering it, and the workflow
    has no ``check`` to find out): a person must look; it is never re-entered silently."""

    @property
    def label(self) -> str:
        """The Japanese word staff see in results workbooks and reports."""
        return _LABELS[self]

    @property
    def needs_attention(self) -> bool:
        return self in (
            ItemStatus.BUSINESS_ERROR,
            ItemStatus.SYSTEM_ERROR,
            ItemStatus.BAD_INPUT,
            ItemStatus.NEEDS_REVIEW,
        )


_LABELS = {
    ItemStatus.PENDING: "未処理",
    ItemStatus.IN_PROGRESS: "処理中",
    ItemStatus.DONE: "登録済み",
    ItemStatus.BUSINESS_ERROR: "登録不可",
    ItemStatus.SYSTEM_ERROR: "システムエラー",
    ItemStatus.BAD_INPUT: "入力不備",
    ItemStatus.SKIPPED: "スキップ",
    ItemStatus.NEEDS_REVIEW: "要確認",
}


class RunStatus(StrEnum):
    """The state of a whole run."""

    RUNNING = "running"
    COMPLETED = "completed"
    """Every item was attempted (some may have failed)."""
    ABORTED = "aborted"
    """The run stopped before attempting every item (login failed, stopped by the user)."""

    @property
    def label(self) -> str:
        return {"running": "実行中", "completed": "完了", "aborted": "中断"}[self.value]


class ExitCode(IntEnum):
    """Exit codes of ``rpa run`` (and of every command that runs a bot)."""

    OK = 0
    """Every item was done."""
    ITEMS_FAILED = 1
    """The run finished, but some items were refused, failed or had bad input."""
    INVALID = 2
    """The bot, workflow, settings, credentials or input are invalid: nothing was run."""
    ABORTED = 3
    """The run stopped before the end."""
    ALREADY_RUNNING = 4
    """The same bot is already running (on this PC): this start was refused, nothing was run."""


@dataclass
class ItemOutcome:
    """The result of one item, as written to the run log and the results workbook."""

    seq: int
    source: str
    row: int | None
    status: ItemStatus
    message: str = ""
    results: dict[str, str] = field(default_factory=dict)
    screenshot: str | None = None
    key: str = ""
    """The item's key values in clear (for staff workbooks only; never logged)."""
