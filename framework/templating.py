"""Templates in workflow values: ``{{ item.氏名 }}``, ``{{ settings.target_url }}/login``.

Workflows are data, written by staff, so templates run in Jinja2's sandbox with strict undefined
names: a misspelt name is an error, never an empty string. Two kinds of value exist:

* :class:`Template` - text with ``{{ ... }}`` placeholders, rendered to a string (step arguments);
* :class:`Expression` - a bare expression such as ``item.支給量 > 100`` or ``rows``, evaluated to a
  Python value (conditions, the list a loop walks over).

Both are compiled when the workflow is loaded, so syntax errors are reported with the file and
line before anything runs, and :meth:`references` lets the loader check every name statically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from framework.errors import unknown_name
from framework.normalize import format_wareki


def _date_format(value: Any, fmt: str = "%Y/%m/%d") -> str:
    """``{{ item.開始日 | date('%Y年%m月%d日') }}``: format a date."""
    if isinstance(value, dt.date):
        return value.strftime(fmt)
    if isinstance(value, str):
        return dt.date.fromisoformat(value).strftime(fmt)
    raise TypeError(f"not a date: {type(value).__name__}")


def _wareki(value: Any, short: bool = False) -> str:
    """``{{ item.生年月日 | wareki }}`` → 令和6年4月1日 (``wareki(true)`` → R6.4.1)."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if not isinstance(value, dt.date):
        raise TypeError(f"not a date: {type(value).__name__}")
    return format_wareki(value, short=short)


def _comparable(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else " ".join(str(value).split())


def _where(rows: Any, **conditions: Any) -> list[Any]:
    """``{{ found | where(サービス種類=item.サービス種類, 開始日=item.開始日) }}``: the rows whose
    columns equal the given values (compared as text; dates as 2026-04-01)."""
    wanted = {name: _comparable(value) for name, value in conditions.items()}
    return [
        row
        for row in rows
        if all(_comparable(row.get(name)) == value for name, value in wanted.items())
    ]


def _digits(value: Any) -> str:
    """``{{ 12 | digits }}``: only the digits of a value."""
    return "".join(ch for ch in str(value) if ch.isdigit())


FILTERS: dict[str, Callable[..., Any]] = {
    "date": _date_format,
    "wareki": _wareki,
    "digits": _digits,
    "where": _where,
}


def _blank_none(value: Any) -> Any:
    """An empty optional field (None) prints as nothing, never as the word "None"."""
    return "" if value is None else value


def _make_environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_blank_none,
    )
    env.filters.update(FILTERS)
    return env


ENVIRONMENT = _make_environment()


class TemplateProblem(ValueError):
    """A template that cannot be compiled or rendered; message in Japanese and English."""


@dataclass(frozen=True)
class Reference:
    """A name a template uses, with up to two attribute levels: ``credentials.x.password``."""

    root: str
    attrs: tuple[str, ...]


def _reference_of(node: nodes.Node) -> Reference | None:
    attrs: list[str] = []
    current = node
    while True:
        if isinstance(current, nodes.Getattr):
            attrs.append(current.attr)
            current = current.node
        elif isinstance(current, nodes.Getitem) and isinstance(current.arg, nodes.Const):
            attrs.append(str(current.arg.value))
            current = current.node
        elif isinstance(current, nodes.Name) and current.ctx == "load":
            return Reference(current.name, tuple(reversed(attrs)))
        else:
            return None


def _references(tree: nodes.Node) -> list[Reference]:
    """Every name (with its attribute chain) that a template reads, outermost chains only."""
    found: list[Reference] = []
    seen: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if id(node) in seen:
            continue
        ref = _reference_of(node)
        if ref is None:
            continue
        # mark the inner chain so it is not reported again on its own
        inner: nodes.Node = node
        while isinstance(inner, nodes.Getattr | nodes.Getitem):
            inner = inner.node
            seen.add(id(inner))
        found.append(ref)
    return found


def _locally_bound(tree: nodes.Node) -> set[str]:
    """Names a template binds itself (``{% set %}``, ``{% for x in %}``), not to be checked."""
    names: set[str] = set()
    for node in tree.find_all(nodes.Name):
        if node.ctx in ("store", "param"):
            names.add(node.name)
    return names


def _filters(tree: nodes.Node) -> Iterator[str]:
    for node in tree.find_all(nodes.Filter):
        yield node.name


def _check_filters(tree: nodes.Node) -> None:
    for name in _filters(tree):
        if name not in ENVIRONMENT.filters:
            raise TemplateProblem(
                unknown_name("フィルター", "filter", name, sorted(ENVIRONMENT.filters))
            )


def _syntax_message(exc: TemplateSyntaxError, source: str) -> str:
    return (
        f"テンプレートの書き方に誤りがあります: {exc.message} (template syntax error in {source!r})"
    )


def _render_message(exc: Exception) -> str:
    if isinstance(exc, UndefinedError):
        return f"テンプレートの名前が定義されていません: {exc.message} (undefined name)"
    return f"テンプレートを展開できません: {exc} (template error)"


class _Compiled:
    """Shared parts of Template and Expression: the source text and its static references."""

    source: str
    _tree: nodes.Template

    def references(self) -> list[Reference]:
        bound = _locally_bound(self._tree)
        return [r for r in _references(self._tree) if r.root not in bound]

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and getattr(other, "source", None) == self.source

    def __hash__(self) -> int:
        return hash((type(self), self.source))


class Template(_Compiled):
    """Text with optional ``{{ ... }}`` placeholders, rendered to a string at run time."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.is_constant = "{{" not in source and "{%" not in source and "{#" not in source
        try:
            self._tree = ENVIRONMENT.parse(source)
            _check_filters(self._tree)
            self._compiled = None if self.is_constant else ENVIRONMENT.from_string(self._tree)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(_syntax_message(exc, source)) from None

    def render(self, context: Mapping[str, Any]) -> str:
        """Render with the given names; raise :class:`TemplateProblem` on an undefined name."""
        if self._compiled is None:
            return self.source
        try:
            return self._compiled.render(context)
        except TemplateError as exc:
            raise TemplateProblem(_render_message(exc)) from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise TemplateProblem(_render_message(exc)) from None

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_to_template)


class Expression(_Compiled):
    """A bare expression (no braces) evaluated to a value: ``item.支給量 > 100``."""

    def __init__(self, source: str) -> None:
        self.source = source
        text = source.strip()
        if text.startswith("{{") and text.endswith("}}"):
            text = text[2:-2]
        try:
            self._tree = ENVIRONMENT.parse("{{ " + text + " }}")
            _check_filters(self._tree)
            self._compiled = ENVIRONMENT.compile_expression(text, undefined_to_none=False)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(_syntax_message(exc, source)) from None

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Evaluate with the given names; raise :class:`TemplateProblem` on failure."""
        try:
            value = self._compiled(**context)
        except TemplateError as exc:
            raise TemplateProblem(_render_message(exc)) from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise TemplateProblem(_render_message(exc)) from None
        if isinstance(value, StrictUndefined):
            raise TemplateProblem(_render_message(UndefinedError(f"'{self.source}'")))
        return value

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_to_expression)


def _to_template(value: Any) -> Template:
    if isinstance(value, Template):
        return value
    if isinstance(value, bool):
        return Template("true" if value else "false")
    if isinstance(value, int | float | str | dt.date):
        return Template(str(value))
    raise ValueError("文字列で書いてください (expected text)")


def _to_expression(value: Any) -> Expression:
    if isinstance(value, Expression):
        return value
    if isinstance(value, bool):
        return Expression("true" if value else "false")
    if isinstance(value, int | float):
        return Expression(str(value))
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("式が空です (empty expression)")
        return Expression(value)
    raise ValueError("式を文字列で書いてください (expected an expression)")
