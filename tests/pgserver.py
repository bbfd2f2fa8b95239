"""A private PostgreSQL server for the tests: Debian's binaries, a temporary cluster, loopback only.

The server is started once per test session (``initdb`` into a temporary folder, ``pg_ctl start``
on a free loopback port, trust authentication for the ``kakari`` role) and every test that asks
for :func:`fresh_database` gets an empty database of its own. As root (CI), the server runs as
the ``postgres`` system user, because PostgreSQL refuses to run as root.

Where no server can be started (no PostgreSQL binaries), the PostgreSQL tests are skipped with
a message that says how to install them, except in CI (``CI`` set), where they must run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

ROLE = "kakari"


class NoPostgres(RuntimeError):
    """No PostgreSQL server could be started on this machine."""


def _bindir() -> Path:
    explicit = os.environ.get("KAKARI_TEST_PG_BINDIR")
    candidates = [explicit] if explicit else sorted(glob.glob("/usr/lib/postgresql/*/bin"))[::-1]
    for candidate in candidates:
        if candidate and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise NoPostgres(
        "PostgreSQL のサーバーがありません (no PostgreSQL server binaries): "
        "`apt-get install postgresql` or `./install.sh --dev`"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running private cluster; :meth:`url` names a database on it."""

    bindir: Path
    root: Path
    port: int
    as_user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.as_user, "--"] if self.as_user else []
        return [*prefix, *args]

    @classmethod
    def start(cls, *, durable: bool = False) -> PgServer:
        """Start a cluster; ``durable`` keeps PostgreSQL's own defaults (``fsync``,
        ``synchronous_commit``), which tests turn off for speed but benchmarks need."""
        bindir = _bindir()
        root = Path(tempfile.mkdtemp(prefix="kakari-pg-"))
        as_user = "postgres" if os.geteuid() == 0 else None
        if as_user:
            shutil.chown(root, user=as_user)
        server = cls(bindir, root, _free_port(), as_user)
        subprocess.run(
            server._cmd(
                str(bindir / "initdb"), "-D", str(server.data), "-U", ROLE, "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            ),
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -c port={server.port} -k {root} "
        if not durable:
            options += "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options += "-c max_connections=200"
        subprocess.run(
            server._cmd(
                str(bindir / "pg_ctl"), "-D", str(server.data), "-o", options,
                "-l", str(root / "server.log"), "-w", "-t", "60", "start",
            ),
            check=True, capture_output=True,
        )  # fmt: skip
        return server

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "stop"),
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
