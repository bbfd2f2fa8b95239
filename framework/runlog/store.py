"""The run-log store interface: :class:`RunLog`, what every store offers the runner and commands.

:class:`~framework.runlog.sqlite.SqliteRunLog` is the default implementation and
:class:`~framework.runlog.postgres.PostgresRunLog` the shared one; ``tests/test_runlog.py`` and
``tests/test_runlog_contract.py`` run one contract against each store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from framework.audit import AuditRecord, Sealer
from framework.errors import KakariError
from framework.outcome import ItemOutcome, ItemStatus
from framework.runlog.keys import ItemKey
from framework.runlog.records import (
    BaselineUse,
    PriorItem,
    RunFilter,
    RunLine,
    RunRecord,
    RunTally,
    ScheduleEvent,
)


class RunLogError(KakariError):
    """The run log cannot be used (the database cannot be reached, or its schema is too new)."""


class SchemaTooNewError(RunLogError, RuntimeError):
    """The run log was written by a newer kakari: this one refuses to touch it."""

    def __init__(self, where: str, version: int, known: int) -> None:
        self.version = version
        self.known = known
        super().__init__(
            f"実行記録 {where} のスキーマ {version} はこの kakari（{known}）より新しいため"
            f"使えません。kakari を新しい版にしてください (run log {where} has schema version"
            f" {version}, newer than this kakari ({known}); upgrade kakari)"
        )


class RunLog(Protocol):
    """What the runner and the commands need from a run-log store."""

    def item_key(self, parts: Sequence[str], personal: bool) -> ItemKey: ...

    def start_run(self, run: RunRecord) -> None: ...

    def item_started(self, run: RunRecord, outcome: ItemOutcome, key: ItemKey) -> None: ...

    def item_state(self, run_id: str, seq: int, status: ItemStatus) -> None: ...

    def item_finished(self, run: RunRecord, outcome: ItemOutcome, key: ItemKey) -> None: ...

    def prior_item(self, bot_id: str, key: ItemKey, before_run: str) -> PriorItem | None: ...

    def review_item(
        self, run_id: str, seq: int, entered: bool, reviewed_by: str, note: str = ""
    ) -> ItemOutcome: ...

    def unfinished_runs(self, bot_id: str, except_run: str) -> list[RunRecord]: ...

    def rerun_targets(self, run_id: str) -> tuple[set[str], set[tuple[str, int | None]]]: ...

    def close_unfinished(self, run_id: str, message: str) -> None: ...

    def finish_run(self, run: RunRecord) -> None: ...

    def recent_runs(self, limit: int = 20, bot_id: str | None = None) -> list[RunRecord]: ...

    def find_runs(self, where: RunFilter, limit: int = 20) -> list[RunRecord]: ...

    def tally_runs(self, where: RunFilter) -> list[RunTally]: ...

    def baseline_uses(self, where: RunFilter) -> list[BaselineUse]: ...

    def run_lines(self, where: RunFilter) -> Iterator[RunLine]: ...

    def bot_departments(self) -> dict[str, str]: ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def items(self, run_id: str) -> list[ItemOutcome]: ...

    def append_audit(self, fields: Mapping[str, object], seal: Sealer, genesis: str) -> int: ...

    def audit_records(
        self, since: str | None = None, until: str | None = None
    ) -> list[AuditRecord]: ...

    def audit_issued(self) -> int: ...

    def record_schedule_event(self, event: ScheduleEvent) -> None: ...

    def schedule_events(
        self, limit: int = 20, bot_id: str | None = None
    ) -> list[ScheduleEvent]: ...

    def fire_events(
        self, bot_id: str, schedule: str, fire_time: dt.datetime
    ) -> list[ScheduleEvent]: ...

    def last_fire_time(self, bot_id: str, schedule: str) -> dt.datetime | None: ...

    def scheduled_runs_since(self, bot_id: str, since: dt.datetime) -> list[RunRecord]: ...

    def close(self) -> None: ...
