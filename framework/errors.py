"""Source positions and the error types of kakari (where a problem is, and what kind it is).

Two families matter to the runner:

* problems with what staff wrote (a workflow, a bot manifest, an input file) are found before
  anything runs and reported compiler-style, one per line: ``file:line:col: where: message``;
* problems while a run is under way are either a :class:`BusinessError` (the target system or a
  business rule refused this item: reported, never retried) or an :class:`ApplicationError`
  (a timeout, a crash, a broken page: the item failed for technical reasons and may be retried).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SourcePos:
    """A place in a file that a person wrote: 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, with where it is and what to do about it."""

    file: str
    line: int
    col: int
    where: str
    message: str

    @classmethod
    def at(cls, pos: SourcePos | None, where: str, message: str, *, file: str = "") -> Problem:
        if pos is None:
            return cls(file, 0, 0, where, message)
        return cls(pos.file, pos.line, pos.col, where, message)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.col, self.where, self.message)

    def __str__(self) -> str:
        place = self.file
        if self.line:
            place = f"{self.file}:{self.line}:{self.col}"
        where = f" {self.where}:" if self.where else ""
        return f"{place}:{where} {self.message}"


def unknown_name(
    ja: str, en: str, name: str, choices: Iterable[str], *, listing: bool = True
) -> str:
    """「name」という<ja>はありません, with a "did you mean" or the list of what exists."""
    options = list(choices)
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.5) if len(name) > 1 else []
    if close:
        return (
            f"「{name}」という{ja}はありません。「{close[0]}」のことですか？"
            f" (unknown {en} {name!r}; did you mean {close[0]!r}?)"
        )
    if listing and options:
        return (
            f"「{name}」という{ja}はありません。使えるもの: {', '.join(options)}"
            f" (unknown {en} {name!r})"
        )
    return f"「{name}」という{ja}はありません (unknown {en} {name!r})"


class KakariError(Exception):
    """Base class of kakari's own errors; each subclass builds its own message."""


class InvalidError(KakariError):
    """Files that staff wrote (workflow, bot, input) are wrong; nothing was run.

    Holds every problem found, sorted by file and position, so one `rpa validate` shows them all.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        unique = {(p.sort_key()): p for p in problems}
        self.problems: list[Problem] = [unique[k] for k in sorted(unique)]
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(
        cls, pos: SourcePos | None, where: str, message: str, *, file: str = ""
    ) -> InvalidError:
        return cls([Problem.at(pos, where, message, file=file)])


def raise_if_any(problems: Sequence[Problem]) -> None:
    """Raise :class:`InvalidError` when the list is not empty."""
    if problems:
        raise InvalidError(problems)


class BusinessError(KakariError):
    """The target system or a business rule refused this item (e.g. "既に登録されています").

    Reported to staff with the system's own message; never retried.
    """

    def __init__(self, message: str) -> None:
        self.reason = message
        super().__init__(message)


class ApplicationError(KakariError):
    """A technical failure while working on an item (timeout, crash, unexpected page).

    ``transient`` marks failures that may go away when tried again (a timeout, a busy or 5xx
    page, a crashed page); the runner retries those. A wrong cell address or a missing file is
    not transient: trying again cannot help.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        self.reason = message
        self.transient = transient
        super().__init__(message)


class SessionExpiredError(ApplicationError):
    """The target system logged us out (its login page is showing)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class StepFailedError(KakariError):
    """A step failed; carries the step's position in its workflow file and the original cause."""

    def __init__(self, pos: SourcePos, step: str, cause: BaseException, message: str) -> None:
        self.pos = pos
        self.step = step
        self.cause = cause
        self.reason = message
        super().__init__(f"{pos}: {step}: {message}")

    @property
    def is_business(self) -> bool:
        return isinstance(self.cause, BusinessError)


class CredentialError(KakariError):
    """A credential a bot needs is missing or unsafe to read."""

    def __init__(self, message: str) -> None:
        self.reason = message
        super().__init__(message)


class AbortedError(KakariError):
    """The run cannot go on (login failed, browser unavailable, stopped by the user)."""

    def __init__(self, message: str) -> None:
        self.reason = message
        super().__init__(message)
