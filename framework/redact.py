"""Masking secrets and personal data in every text that leaves a run (logs, the run log).

Credentials in use and the personal fields of the current item (``pii: true``) are replaced by a
placeholder wherever they appear, whichever step or library produced the text - including
Playwright messages that quote a value that was typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_MASK = "***"
MIN_LENGTH = 2


class Redactor:
    """Replaces known secret and personal strings; cheap to call on every log line."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._personal: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._replacement: dict[str, str] = {}

    def add_secrets(self, values: Iterable[str]) -> None:
        self._secrets |= {v for v in values if len(v) >= MIN_LENGTH}
        self._compile()

    def set_personal(self, values: Mapping[str, str]) -> None:
        """The current item's personal values (text → field name); replaces the previous item's."""
        self._personal = {k: v for k, v in values.items() if len(k) >= MIN_LENGTH}
        self._compile()

    def _compile(self) -> None:
        replacement = {text: f"[{field}]" for text, field in self._personal.items()}
        replacement.update({text: SECRET_MASK for text in self._secrets})
        self._replacement = replacement
        if not replacement:
            self._pattern = None
            return
        ordered = sorted(replacement, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(t) for t in ordered))

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(lambda m: self._replacement[m.group(0)], text)

    def patch(self, record: Any) -> None:
        """A loguru patcher: masks the message of every record."""
        record["message"] = self(record["message"])
