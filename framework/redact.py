"""Masking secrets and personal data in every text that leaves a run (logs, the run log).

Credentials in use and the personal fields of the current item (``pii: true``) are replaced by a
placeholder wherever they appear, whichever step or library produced the text - including
Playwright messages that quote a value that was typed, or a URL that carries it
percent-encoded.
"""

from __future__ import annotations

import json
import re
import traceback
import weakref
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

SECRET_MASK = "***"
MIN_LENGTH = 2

_alive: weakref.WeakSet[Redactor] = weakref.WeakSet()
"""Every redactor of this process, for texts written outside a run (crash reports)."""


def encoded_forms(text: str) -> set[str]:
    """The text and the ways programs escape it: in a URL, in a form body, in JSON."""
    return {
        text,
        quote(text, safe=""),
        quote(text),
        quote_plus(text),
        json.dumps(text)[1:-1],
    }


class Redactor:
    """Replaces known secret and personal strings; cheap to call on every log line."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._personal: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._replacement: dict[str, str] = {}
        _alive.add(self)

    def add_secrets(self, values: Iterable[str]) -> None:
        self._secrets |= {form for v in values if len(v) >= MIN_LENGTH for form in encoded_forms(v)}
        self._compile()

    def set_personal(self, values: Mapping[str, str]) -> None:
        """The current item's personal values (text → field name); replaces the previous item's."""
        self._personal = {
            form: name
            for text, name in values.items()
            if len(text) >= MIN_LENGTH
            for form in encoded_forms(text)
        }
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


def mask_everywhere(text: str) -> str:
    """Mask with every redactor still alive in this process (the secrets of a run in progress)."""
    for redactor in list(_alive):
        text = redactor(text)
    return text


def safe_traceback(exc: BaseException) -> str:
    """A traceback for a crash report: where it happened, and the messages masked.

    Frames (file, line, function, the source line) hold no data; exception messages may, so
    they go through every live redactor.
    """
    lines: list[str] = []
    for block in traceback.TracebackException.from_exception(exc).format():
        lines.append(mask_everywhere(block))
    return "".join(lines)
