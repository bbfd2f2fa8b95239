"""Settings of the practice system: where it listens and how it misbehaves on purpose."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PracticeConfig:
    """How a :class:`~framework.practice.PracticeServer` runs.

    The defaults give a quiet, fast, well-behaved system on a free local port with a
    throw-away database; the other settings reproduce what real systems do to bots
    (slowness, refusals under load, idle sessions that expire, duplicate checks).
    """

    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port; read the address from ``PracticeServer.url``."""
    db_path: Path | None = None
    """None: a temporary SQLite file removed on stop. Otherwise a file that persists."""
    user: str = "demo"
    password: str = "demo-pass"
    latency_ms: int = 0
    """Sleep this long before answering every request."""
    fail_every: int = 0
    """0: never. N: every Nth POST since start answers 503 (混雑) and does nothing."""
    session_timeout: float = 0
    """Seconds a logged-in session may stay idle; 0 means it never expires."""
    accept_duplicates: bool = False
    """Store a duplicate application again instead of refusing it."""
    observer: Callable[[str, str, str], None] | None = field(default=None, compare=False)
    """Fault-test hook: called as ``observer(phase, method, path)`` with phase ``"before"`` (the
    request arrived) and ``"after"`` (its answer is ready, not yet sent), in the server thread.
    Tests use it to kill a bot process at an exact point of a registration."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must not be negative, not {self.latency_ms}")
        if self.fail_every < 0:
            raise ValueError(f"fail_every must not be negative, not {self.fail_every}")
        if self.session_timeout < 0:
            raise ValueError(f"session_timeout must not be negative, not {self.session_timeout}")
        if not self.user:
            raise ValueError("user must not be empty")
