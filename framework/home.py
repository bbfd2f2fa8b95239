"""``RPA_HOME``: where runs, logs and the run log of this PC are kept (default ``<project>/var``).

Layout::

    RPA_HOME/
      runlog.sqlite3        the run log (runs and items)
      secret.key            key for hashing item keys (owner-readable only)
      runs/<run id>/        one folder per run: run.log, run.jsonl, screenshots/, results
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def locate(cls, project_root: Path) -> Home:
        configured = os.environ.get("RPA_HOME")
        root = Path(configured).expanduser() if configured else project_root / "var"
        return cls(root.resolve())

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def runlog_path(self) -> Path:
        return self.root / "runlog.sqlite3"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id
