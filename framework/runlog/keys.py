"""Item keys as the run log stores them: a keyed hash (HMAC-SHA256 with the installation's secret).

Item keys made of personal fields are stored only as a keyed hash (HMAC with a secret kept in
``RPA_HOME``): runs can still be matched by key, but the log itself holds no recipient numbers or
names. Keys that are not personal also keep their clear text, for people reading the log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ItemKey:
    """How an item is identified in the log: a keyed hash, and the clear text when not personal."""

    hash: str
    text: str | None


def item_key(secret: bytes, parts: Sequence[str], personal: bool) -> ItemKey:
    """The key of an item made of ``parts`` (its key fields, in order)."""
    joined = "\x1f".join(parts)
    digest = hmac.new(secret, joined.encode("utf-8"), hashlib.sha256).hexdigest()
    return ItemKey(hash=digest, text=None if personal else " / ".join(parts))


def load_secret(path: Path) -> bytes:
    """The installation's key for item-key hashes, created on first use (readable by owner)."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:  # another process created it first
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key
