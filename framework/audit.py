"""The audit trail: who did what and when, each record sealed with the hash of the one before.

Records are appended to the ``audit`` table of the run log, never changed. Each record's
``hash`` is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of its fields,
``seq`` and ``prev_hash`` included; ``prev_hash`` is the previous record's hash (64 zeros for the
first). Editing a record breaks its own hash; deleting or inserting one breaks the chain at the
next; deleting the newest ones leaves a gap to the sequence SQLite has handed out. ``verify``
names the first broken record. Nothing secret or personal is recorded: who (OS user, host), how
(cli / tray / schedule), what (bot, run, SHA-256 of the input), and the outcome.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from framework.runlog import RunRecord

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record."""

SEALED = (
    "seq",
    "at",
    "os_user",
    "host",
    "trigger",
    "action",
    "bot_id",
    "run_id",
    "input_sha256",
    "outcome",
    "detail",
    "prev_hash",
)
"""The fields a record's hash covers (every column but ``hash``)."""


class Action(StrEnum):
    """What was done."""

    RUN_STARTED = "run_started"
    RUN_FINISHED = "run_finished"
    REVIEW = "review"
    CLEANUP = "cleanup"
    CREDENTIALS_SET = "credentials_set"
    RUNLOG_IMPORT = "runlog_import"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Action.RUN_STARTED: "実行開始",
    Action.RUN_FINISHED: "実行終了",
    Action.REVIEW: "要確認の記録",
    Action.CLEANUP: "保存期間切れの削除",
    Action.CREDENTIALS_SET: "資格情報の設定",
    Action.RUNLOG_IMPORT: "実行記録の取り込み",
}


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit trail, as stored."""

    seq: int
    at: str
    os_user: str
    host: str
    trigger: str
    action: str
    bot_id: str
    run_id: str | None
    input_sha256: str | None
    outcome: str
    detail: str
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, object]:
        return asdict(self)


Sealer = Callable[[Mapping[str, object]], str]


class AuditStore(Protocol):
    """Where the audit trail is kept (the run log)."""

    def append_audit(self, fields: Mapping[str, object], seal: Sealer, genesis: str) -> int: ...

    def audit_records(
        self, since: str | None = None, until: str | None = None
    ) -> list[AuditRecord]: ...

    def audit_issued(self) -> int: ...


def seal(fields: Mapping[str, object]) -> str:
    """The hash of a record: SHA-256 of the canonical JSON of its sealed fields."""
    canonical = json.dumps(
        {name: fields[name] for name in SEALED},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def os_user() -> str:
    """Who is signed in (``getpass``; the environment where it cannot tell, as on some services)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def record(
    store: AuditStore,
    action: Action,
    *,
    trigger: str = "cli",
    bot_id: str = "",
    run_id: str | None = None,
    input_sha256: str | None = None,
    outcome: str = "",
    detail: str = "",
    user: str | None = None,
    host: str | None = None,
) -> int:
    """Append one record (who: this OS user on this host unless given); return its seq."""
    fields: dict[str, object] = {
        "at": now(),
        "os_user": user or os_user(),
        "host": host or socket.gethostname(),
        "trigger": trigger,
        "action": action.value,
        "bot_id": bot_id,
        "run_id": run_id,
        "input_sha256": input_sha256,
        "outcome": outcome,
        "detail": detail,
    }
    return store.append_audit(fields, seal, GENESIS)


def run_started(store: AuditStore, run: RunRecord, input_sha256: str | None) -> None:
    record(
        store,
        Action.RUN_STARTED,
        trigger=run.trigger,
        bot_id=run.bot_id,
        run_id=run.id,
        input_sha256=input_sha256,
        detail=f"input={run.input}" if run.input else "",
        user=run.os_user,
        host=run.host,
    )


def run_finished(store: AuditStore, run: RunRecord, input_sha256: str | None) -> None:
    counts = " ".join(f"{status.value}={n}" for status, n in run.counts.items() if n)
    record(
        store,
        Action.RUN_FINISHED,
        trigger=run.trigger,
        bot_id=run.bot_id,
        run_id=run.id,
        input_sha256=input_sha256,
        outcome=run.status.value,
        detail=f"exit={run.exit_code} items={run.items_total}" + (f" {counts}" if counts else ""),
        user=run.os_user,
        host=run.host,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_sha256(path: Path | None, files: Sequence[Path] = ()) -> str | None:
    """The SHA-256 of a run's input; None when there is none or it cannot be read.

    A file: its own hash (compare with ``sha256sum`` / ``Get-FileHash``). A folder: the hash of
    the lines ``<sha256>  <name>`` of the files read (``files``, else every file in it), sorted
    by name - what ``sha256sum * | sha256sum`` prints in that folder.
    """
    if path is None:
        return None
    try:
        if path.is_file():
            return file_sha256(path)
        chosen = list(files) or [p for p in path.iterdir() if p.is_file()]
        lines = "".join(
            f"{file_sha256(p)}  {p.name}\n" for p in sorted(chosen, key=lambda p: p.name)
        )
    except OSError:
        return None
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Broken:
    """The first record where the chain does not hold."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.reason}"


def verify(records: Iterable[AuditRecord], issued: int = 0) -> Broken | None:
    """Check the whole chain (records in seq order); ``issued``: the highest seq ever handed out."""
    previous = GENESIS
    expected = 1
    for rec in records:
        if rec.seq != expected:
            return Broken(
                expected,
                f"記録 {expected}〜{rec.seq - 1} が削除されています (records deleted)",
            )
        if rec.prev_hash != previous:
            return Broken(
                rec.seq,
                "前の記録とのつながりが切れています。前の記録が書き換えられたか、削除・挿入されています"
                " (prev_hash does not match the record before: it was changed, deleted or"
                " inserted)",
            )
        if seal(asdict(rec)) != rec.hash:
            return Broken(
                rec.seq, "記録の内容が書き換えられています (the record was edited: hash mismatch)"
            )
        previous = rec.hash
        expected += 1
    if issued >= expected:
        return Broken(
            expected,
            f"記録 {expected}〜{issued} が削除されています（最新の記録の削除）"
            " (newest records deleted)",
        )
    return None


def day_range(since: dt.date | None, until: dt.date | None) -> tuple[str | None, str | None]:
    """``--from`` / ``--to`` days (both included) as bounds on the ``at`` text."""
    start = since.isoformat() if since else None
    end = (until + dt.timedelta(days=1)).isoformat() if until else None
    return start, end
