"""What a queued bot run carries (:class:`BotJob`) and the locks it is queued with.

A job names the bot, not the project: each runner PC runs it from its own copy of the project
(``rpa worker --project``). ``input`` is an absolute path that every runner PC of the queue must
see under the same name (a shared folder, e.g. ``\\\\fileserver\\福祉\\受付``); without it the
bot's ``input.default`` on the runner PC is used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

QUEUE_TRIGGER = "queue"
SCHEDULE_TRIGGER = "schedule"


@dataclass(frozen=True)
class BotJob:
    """One bot run waiting in (or taken from) a queue."""

    bot_id: str
    input: str | None = None
    trigger: str = QUEUE_TRIGGER
    """``queue`` (``rpa enqueue``) or ``schedule`` (the scheduler in distributed mode)."""
    schedule: str | None = None
    """The schedule's name, for a scheduled run."""
    fire_time: str | None = None
    """The fire time (ISO 8601 with its offset), for a scheduled run."""
    time_limit_minutes: float = 120.0
    enqueued_by: str = ""
    """``user@host`` of whoever queued it (shown by ``rpa workers``)."""

    def as_args(self) -> dict[str, Any]:
        """The task's arguments (JSON)."""
        return asdict(self)

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> BotJob:
        known = {name: args[name] for name in cls.__dataclass_fields__ if name in args}
        return cls(**known)

    @property
    def scheduled(self) -> bool:
        return self.trigger == SCHEDULE_TRIGGER and bool(self.schedule and self.fire_time)

    def queueing_lock(self) -> str | None:
        """A scheduled fire time is queued at most once (procrastinate refuses a second job
        with the same queueing lock while the first waits)."""
        if not self.scheduled:
            return None
        return f"schedule:{self.bot_id}:{self.schedule}:{self.fire_time}"

    def describe(self) -> str:
        """``welfare_entry`` or ``welfare_entry 予定「夜間入力」 2026-11-27T19:00:00+09:00``."""
        if self.scheduled:
            return f"{self.bot_id} 予定「{self.schedule}」 {self.fire_time}"
        return self.bot_id
