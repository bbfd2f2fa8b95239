"""RPA_HOME: what kakari creates there is its owner's only, whatever the umask."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.home import Home
from framework.runlog import SqliteRunLog

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes (Windows: ACLs)")


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_home_run_log_and_run_folders_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    home = Home(tmp_path / "a" / "var")
    store = SqliteRunLog(home.runlog_path)
    try:
        assert store.schema_version > 0
        for name in ("runlog.sqlite3-wal", "runlog.sqlite3-shm"):  # SQLite copies the mode
            assert _mode(home.root / name) == 0o600, name
    finally:
        store.close()
    run_dir = home.make_run_dir("20261127-090000-abcd")
    assert _mode(home.root) == 0o700
    assert _mode(home.runs_dir) == 0o700
    assert _mode(run_dir) == 0o700
    for name in ("runlog.sqlite3", "secret.key"):
        assert _mode(home.root / name) == 0o600, name
    with pytest.raises(FileExistsError):
        home.make_run_dir("20261127-090000-abcd")


def test_an_existing_run_log_is_made_owner_only(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "runlog.sqlite3"
    SqliteRunLog(path).close()
    path.chmod(0o644)
    SqliteRunLog(path).close()
    assert _mode(path) == 0o600
