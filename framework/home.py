"""``RPA_HOME``: where runs, logs and the run log of this PC are kept (default ``<project>/var``).

Layout::

    RPA_HOME/               owner-only (0700 on POSIX; on Windows the folder's ACL)
      runlog.sqlite3        the run log (runs, items, the audit trail), owner-only (0600)
      secret.key            key for hashing item keys (owner-readable only)
      runs/<run id>/        one folder per run: run.log, run.jsonl, screenshots/, results
      crash/                tracebacks of internal errors (messages masked)

With ``RPA_DATABASE_URL`` set, the run log and the secret live in PostgreSQL instead (shared by
every PC; docs/shared-runlog.md) and the rest stays here. kakari creates these folders itself
and sets their permissions whatever the umask is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create a folder (with missing parents) only its owner may open; existing ones are kept.

    On POSIX the folders created here get 0700 whatever the umask; on Windows permissions come
    from the parent folder's ACL (see docs/security.md).
    """
    created = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    if os.name != "nt":
        for folder in created:
            folder.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path) -> None:
    """Make a file this process created readable by its owner only (POSIX; best effort)."""
    if os.name == "nt":
        return
    try:
        path.chmod(PRIVATE_FILE)
    except OSError:
        pass  # not ours: `rpa doctor` reports it


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

    @property
    def crash_dir(self) -> Path:
        return self.root / "crash"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def make_run_dir(self, run_id: str) -> Path:
        """Create a new run's folder, owner-only (FileExistsError if it exists)."""
        private_dir(self.runs_dir)
        path = self.run_dir(run_id)
        path.mkdir(mode=PRIVATE_DIR)
        if os.name != "nt":
            path.chmod(PRIVATE_DIR)
        return path
