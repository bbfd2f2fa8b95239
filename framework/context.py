"""What a step sees while it runs: the current item, variables, the browser, the run folder.

Step functions receive a :class:`StepContext`. They render their templated arguments with
:meth:`StepContext.render`, store what they read with :meth:`StepContext.store`, and reach the
browser page with :attr:`StepContext.page` (the browser starts on first use, so a workflow that
only touches Excel never launches one).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import GetCoreSchemaHandler, SecretStr
from pydantic_core import core_schema

from framework.templating import Expression, Template, TemplateProblem

if TYPE_CHECKING:
    from loguru import Logger
    from playwright.sync_api import Page

    from framework.browsers import BrowserSession
    from framework.items import Item
    from framework.locator import Locator
    from framework.model import StepCall, Workflow

T = TypeVar("T")

_TARGET = re.compile(r"^(results\.)?([^\W\d][\w]*)$")
RESERVED_NAMES = frozenset(
    {"item", "results", "settings", "credentials", "run", "today", "range", "dict", "loop"}
)


class Target:
    """Where a step stores a value: ``results.受付番号`` (the item's results) or a variable name.

    Item results are written to the results workbook next to the item's row; variables live until
    the end of the run and can be used by later steps as ``{{ name }}``.
    """

    def __init__(self, text: str) -> None:
        match = _TARGET.match(text.strip())
        if match is None:
            raise ValueError(
                f"保存先は「results.名前」か変数名で書いてください: {text!r}"
                " (target must be results.NAME or a variable name)"
            )
        self.text = text.strip()
        self.in_results = match.group(1) is not None
        self.name = match.group(2)
        if not self.in_results and self.name in RESERVED_NAMES:
            raise ValueError(f"「{self.name}」は予約された名前です (reserved name)")

    def __repr__(self) -> str:
        return f"Target({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Target) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def parse(value: Any) -> Target:
            if isinstance(value, Target):
                return value
            if not isinstance(value, str):
                raise ValueError("保存先を文字列で書いてください (expected a target name)")
            return cls(value)

        return core_schema.no_info_plain_validator_function(parse)


@dataclass(frozen=True)
class RunInfo:
    """The run a step belongs to."""

    id: str
    bot_id: str
    dir: Path
    started_at: dt.datetime
    bot_dir: Path
    dry_run: bool = False

    def as_template_value(self) -> dict[str, object]:
        return {
            "id": self.id,
            "bot": self.bot_id,
            "dir": str(self.dir),
            "started_at": self.started_at,
            "date": self.started_at.date(),
        }


@dataclass(frozen=True)
class PageMarkers:
    """What the workflow says a busy page and a logged-out page look like (may be None)."""

    busy: Locator | None = None
    expired: Locator | None = None


class Executor(Protocol):
    """The part of the runner a context needs to run nested steps."""

    def run_steps(self, ctx: StepContext, steps: Sequence[StepCall]) -> None: ...

    def call(self, ctx: StepContext, workflow: Workflow, params: Mapping[str, object]) -> None: ...


@dataclass
class StepContext:
    """The state visible to steps during one run (one context per run; ``item`` changes)."""

    run: RunInfo
    settings: Mapping[str, object]
    credentials: Mapping[str, Mapping[str, SecretStr]]
    """Secrets: only templates see the values (``{{ credentials.x.password }}``)."""
    log: Logger
    executor: Executor
    browser_session: BrowserSession
    markers: PageMarkers = field(default_factory=PageMarkers)
    item: Item | None = None
    variables: dict[str, object] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    current: StepCall | None = None

    # -- templates -------------------------------------------------------------------------
    def names(self) -> dict[str, object]:
        """The names templates can use."""
        names: dict[str, object] = dict(self.variables)
        names["settings"] = MappingProxyType(dict(self.settings))
        names["credentials"] = {
            name: MappingProxyType({k: v.get_secret_value() for k, v in fields.items()})
            for name, fields in self.credentials.items()
        }
        names["run"] = self.run.as_template_value()
        names["today"] = dt.date.today()
        if self.item is not None:
            names["item"] = MappingProxyType(self.item.values)
            names["results"] = MappingProxyType(self.item.results)
        return names

    def render(self, template: Template) -> str:
        """Render a templated argument with the current item, settings and variables."""
        if template.is_constant:
            return template.source
        return template.render(self.names())

    def render_opt(self, template: Template | None) -> str | None:
        return None if template is None else self.render(template)

    def evaluate(self, expression: Expression) -> Any:
        """Evaluate an expression argument (a condition, a list to loop over)."""
        return expression.evaluate(self.names())

    def store(self, target: Target, value: object) -> None:
        """Store a value read by a step into the item's results or a variable."""
        if target.in_results:
            if self.item is None:
                raise TemplateProblem(
                    f"{target.text}: results はアイテムの処理中にだけ使えます"
                    " (results exist only while an item is processed)"
                )
            self.item.results[target.name] = "" if value is None else str(value)
        else:
            self.variables[target.name] = value

    # -- nested steps ----------------------------------------------------------------------
    def run_steps(self, steps: Sequence[StepCall]) -> None:
        """Run nested steps (used by control steps such as ``if`` and ``for_each``)."""
        self.executor.run_steps(self, steps)

    def call(self, workflow: Workflow, params: Mapping[str, object]) -> None:
        self.executor.call(self, workflow, params)

    # -- resources -------------------------------------------------------------------------
    @property
    def page(self) -> Page:
        """The browser page; the browser is started the first time a step asks for it."""
        return self.browser_session.page()

    def page_shows(self, locator: Locator) -> bool:
        """Whether the current page shows this element now (no waiting)."""
        from framework.locator import resolve

        return bool(resolve(self, locator).first.is_visible())

    def resource(self, key: str, factory: Callable[[], T], close: Callable[[T], None]) -> T:
        """A per-run object (an output workbook, say), created once and closed at the end."""
        if key not in self.resources:
            obj = factory()
            self.resources[key] = obj
            self.closers.append(lambda: close(obj))
        value: T = self.resources[key]
        return value

    def close_resources(self) -> list[BaseException]:
        """Close every resource; return errors instead of raising so all get closed."""
        errors: list[BaseException] = []
        while self.closers:
            closer = self.closers.pop()
            try:
                closer()
            except Exception as exc:
                errors.append(exc)
        self.resources.clear()
        return errors

    def input_path(self, text: str) -> Path:
        """A path to read: relative paths are relative to the bot's folder."""
        path = Path(text).expanduser()
        return path if path.is_absolute() else (self.run.bot_dir / path)

    def output_path(self, text: str) -> Path:
        """A path to write: relative paths are relative to the run folder."""
        path = Path(text).expanduser()
        path = path if path.is_absolute() else (self.run.dir / path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
