"""A run's progress file (``runs/<id>/progress.json``): items settled of the estimated total.

The run rewrites it atomically after each item, so another process (the tray) can show "12 of
38" without parsing console text or querying the run log while the run writes to it. It is
advisory: a write that fails (a reader holding the file on Windows) is skipped, and the next
item writes it again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from framework.outcome import ItemStatus, RunStatus

PROGRESS_FILE = "progress.json"


@dataclass
class Progress:
    """How far a run is, as its progress file says."""

    run_id: str
    bot_id: str
    bot_name: str
    total: int | None = None
    """The estimated number of items (rows and PDF forms found); None when unknown."""
    counts: dict[str, int] = field(default_factory=dict)
    """Item status value → how many items ended with it so far."""
    status: str = RunStatus.RUNNING.value
    updated_at: str = ""

    @property
    def settled(self) -> int:
        """Items that reached an end state (entered, skipped, or needing a person)."""
        return sum(self.counts.values())

    @property
    def attention(self) -> int:
        """Items that need a person so far."""
        return sum(n for s, n in self.counts.items() if ItemStatus(s).needs_attention)

    @property
    def finished(self) -> bool:
        return self.status != RunStatus.RUNNING.value

    def as_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "bot_id": self.bot_id,
            "bot_name": self.bot_name,
            "total": self.total,
            "counts": dict(self.counts),
            "status": self.status,
            "updated_at": self.updated_at,
        }


class ProgressFile:
    """The writer, owned by the run: ``start(total)``, ``item(status)`` …, ``finish(status)``."""

    def __init__(self, run_dir: Path, run_id: str, bot_id: str, bot_name: str) -> None:
        self.path = run_dir / PROGRESS_FILE
        self.progress = Progress(run_id=run_id, bot_id=bot_id, bot_name=bot_name)

    def start(self, total: int | None) -> None:
        self.progress.total = total
        self._write()

    def item(self, status: ItemStatus) -> None:
        counts = self.progress.counts
        counts[status.value] = counts.get(status.value, 0) + 1
        self._write()

    def finish(self, status: RunStatus) -> None:
        self.progress.status = status.value
        self._write()

    def _write(self) -> None:
        self.progress.updated_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        partial = self.path.with_name(f".{PROGRESS_FILE}.{os.getpid()}.tmp")
        try:
            partial.write_text(
                json.dumps(self.progress.as_json(), ensure_ascii=False), encoding="utf-8"
            )
            partial.replace(self.path)  # atomic: a reader never sees half a file
        except OSError:
            partial.unlink(missing_ok=True)


def read_progress(run_dir: Path) -> Progress | None:
    """The run's progress as last written, or None (not started yet, or unreadable)."""
    try:
        data = json.loads((run_dir / PROGRESS_FILE).read_text(encoding="utf-8"))
        counts = data.get("counts") or {}
        total = data.get("total")
        return Progress(
            run_id=str(data["run_id"]),
            bot_id=str(data["bot_id"]),
            bot_name=str(data.get("bot_name", "")),
            total=total if isinstance(total, int) and not isinstance(total, bool) else None,
            counts={str(k): int(v) for k, v in counts.items() if k in _STATUSES},
            status=str(data.get("status", RunStatus.RUNNING.value)),
            updated_at=str(data.get("updated_at", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


_STATUSES = frozenset(s.value for s in ItemStatus)
