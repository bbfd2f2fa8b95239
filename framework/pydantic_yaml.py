"""Validating YAML data with pydantic models, with errors that point at the YAML line.

Pydantic reports a location such as ``("label",)`` inside the data it was given; we add the path of
that data inside the file and look the result up in the :class:`~framework.yamlio.YamlDoc`'s
position table. Messages are translated into plain Japanese (with the English alongside).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from framework.errors import Problem, unknown_name
from framework.yamlio import PathKey, YamlDoc, format_path

M = TypeVar("M", bound=BaseModel)

_TYPE_MESSAGES: dict[str, str] = {
    "missing": "必須の項目がありません (required)",
    "string_type": "文字列で書いてください (expected text)",
    "int_type": "整数で書いてください (expected an integer)",
    "int_parsing": "整数で書いてください (expected an integer)",
    "int_from_float": "整数で書いてください (expected an integer)",
    "float_type": "数値で書いてください (expected a number)",
    "float_parsing": "数値で書いてください (expected a number)",
    "bool_type": "true か false で書いてください (expected true or false)",
    "bool_parsing": "true か false で書いてください (expected true or false)",
    "list_type": "「- 」で始まる行の並び（リスト）で書いてください (expected a list)",
    "dict_type": "「名前: 値」の形で書いてください (expected a mapping)",
    "model_type": "「名前: 値」の形で書いてください (expected a mapping)",
    "model_attributes_type": "「名前: 値」の形で書いてください (expected a mapping)",
    "date_type": "日付を 2026-04-01 の形で書いてください (expected a date)",
    "date_parsing": "日付を 2026-04-01 の形で書いてください (expected a date)",
    "date_from_datetime_parsing": "日付を 2026-04-01 の形で書いてください (expected a date)",
    "string_too_short": "空にはできません (must not be empty)",
    "too_short": "少なくとも {min_length} 個必要です (too short)",
}


def _message(error: ErrorDetails, extra_names: Iterable[str]) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "extra_forbidden":
        name = str(error["loc"][-1]) if error["loc"] else ""
        return unknown_name("項目", "field", name, sorted(extra_names))
    if kind in ("value_error", "assertion_error"):
        message = error["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        return message
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = re.findall(r"'([^']*)'", expected)
        given = error.get("input")
        close = difflib.get_close_matches(str(given), options, n=1, cutoff=0.6)
        if close:
            return (
                f"「{given}」は使えません。「{close[0]}」のことですか？"
                f" (invalid value {given!r}; did you mean {close[0]!r}?)"
            )
        return f"次のどれかを書いてください: {', '.join(options)} (expected one of these)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        words = {
            "greater_than_equal": "以上",
            "greater_than": "より大きい値",
            "less_than_equal": "以下",
            "less_than": "未満",
        }
        return f"{bound} {words[kind]}にしてください ({error['msg']})"
    template = _TYPE_MESSAGES.get(kind)
    if template is not None:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            return template
    return error["msg"]


def _field_names(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names (and aliases) allowed at ``loc``'s parent, for "did you mean"."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # an index into a list keeps the list's model
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                info = next((f for f in current.model_fields.values() if f.alias == part), None)
            if info is None:
                return []
            current = _innermost_model(info.annotation)
        else:
            current = _innermost_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _innermost_model(annotation: Any) -> Any:
    """Unwrap ``list[X]``, ``dict[str, X]``, ``X | None`` to find a model class X."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _innermost_model(arg)
        if found is not None:
            return found
    return None


def problems_from_error(
    doc: YamlDoc, base: PathKey, model: type[BaseModel], error: ValidationError
) -> list[Problem]:
    """Turn a pydantic ValidationError about data at ``base`` into located problems."""
    problems = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        path = (*base, *loc)
        extra = detail["type"] == "extra_forbidden"
        names = _field_names(model, loc) if extra else []
        message = _message(detail, names)
        if detail["type"] == "missing":
            # point at the mapping that lacks the key (its own key), not at what follows it
            pos = doc.pos(path[:-1], prefer_key=True)
            problems.append(Problem.at(pos, format_path(path), message))
        else:
            problems.append(doc.problem(path, message, prefer_key=extra))
    return problems


def validate_at(
    doc: YamlDoc, base: PathKey, model: type[M], data: Any, problems: list[Problem]
) -> M | None:
    """Validate ``data`` (found at ``base`` in ``doc``) as ``model``; collect problems."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_error(doc, base, model, exc))
        return None
