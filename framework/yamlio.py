"""YAML loading that remembers the line and column of every key and value.

Workflows and bot manifests are written by people who are not programmers, so every error must
point at the line they wrote. ruamel.yaml (YAML 1.2: ``on``/``no`` stay strings, ``010`` is not
octal) parses the file; we turn its tree into plain Python values plus a table of positions keyed
by the path of each node, e.g. ``("steps", 2, "browser.fill", "label")``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from framework.errors import InvalidError, Problem, SourcePos

PathKey = tuple[str | int, ...]


def format_path(path: PathKey) -> str:
    """Render a node path the way a reader finds it in the file: ``steps[2].browser.fill.label``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class YamlDoc:
    """A parsed YAML file: plain data and where each node came from."""

    file: str
    data: Any
    values: dict[PathKey, SourcePos] = field(default_factory=dict)
    keys: dict[PathKey, SourcePos] = field(default_factory=dict)

    def pos(self, path: PathKey, *, prefer_key: bool = False) -> SourcePos:
        """The position of a node, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while True:
            first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            if probe in first:
                return first[probe]
            if probe in second:
                return second[probe]
            if not probe:
                return SourcePos(self.file, 1, 1)
            probe = probe[:-1]

    def problem(self, path: PathKey, message: str, *, prefer_key: bool = False) -> Problem:
        return Problem.at(self.pos(path, prefer_key=prefer_key), format_path(path), message)


class _Constructor(RoundTripConstructor):
    """Keeps dates as the text the person wrote, so the models check them (with a position)."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)


def _yaml() -> YAML:
    loader = YAML(typ="rt")
    loader.Constructor = _Constructor
    loader.allow_duplicate_keys = False
    return loader


def _plain(node: Any, path: PathKey, doc: YamlDoc) -> Any:
    """Copy a ruamel tree into dicts/lists/scalars, recording positions as we go."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            k = str(key)
            child = (*path, k)
            try:
                kl, kc = node.lc.key(key)
                doc.keys[child] = SourcePos(doc.file, kl + 1, kc + 1)
                vl, vc = node.lc.value(key)
                doc.values[child] = SourcePos(doc.file, vl + 1, vc + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            out[k] = _plain(value, child, doc)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*path, index)
            try:
                il, ic = node.lc.item(index)
                doc.values[child] = SourcePos(doc.file, il + 1, ic + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_plain(value, child, doc))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool | int | float | dt.date) or node is None:
        if isinstance(node, int) and not isinstance(node, bool):
            return int(node)
        if isinstance(node, float):
            return float(node)
        return node
    return str(node)


def _fullwidth_indent(text: str, file: str) -> list[Problem]:
    """Full-width spaces where indentation belongs are a common, invisible mistake."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\u3000"):
            col = len(line) - len(stripped) + 1
            problems.append(
                Problem(
                    file,
                    number,
                    col,
                    "",
                    "行頭に全角スペースがあります。字下げは半角スペースで書いてください"
                    " (full-width space used for indentation)",
                )
            )
        elif stripped.startswith("\t"):
            col = len(line) - len(stripped) + 1
            problems.append(
                Problem(
                    file,
                    number,
                    col,
                    "",
                    "行頭にタブがあります。字下げは半角スペースで書いてください"
                    " (tab used for indentation)",
                )
            )
    return problems


def _marked_problem(exc: MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    problem = exc.problem or ""
    context = exc.context or ""
    if "duplicate key" in problem:
        message = f"同じキーが2回書かれています ({problem})"
    else:
        detail = f"{context}: {problem}" if context else problem
        message = f"YAMLの書き方に誤りがあります ({detail})"
    return Problem(file, line, col, "", message)


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse YAML text; raise :class:`InvalidError` with file:line:col for malformed input."""
    indent_problems = _fullwidth_indent(text, file)
    try:
        root = _yaml().load(text)
    except MarkedYAMLError as exc:
        # wrong indentation is the cause of the parse error: report only the cause
        raise InvalidError(indent_problems or [_marked_problem(exc, file)]) from None
    except YAMLError as exc:
        problem = Problem(file, 1, 1, "", f"YAMLを読めません ({exc})")
        raise InvalidError(indent_problems or [problem]) from None
    if indent_problems:
        raise InvalidError(indent_problems)
    doc = YamlDoc(file=file, data=None)
    doc.data = _plain(root, (), doc)
    return doc


def load_yaml(path: Path, file: str | None = None) -> YamlDoc:
    """Read and parse a YAML file; ``file`` is the name shown in messages (default: the path)."""
    shown = file if file is not None else str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidError.one(
            None, "", "ファイルが見つかりません (file not found)", file=shown
        ) from None
    except OSError as exc:
        raise InvalidError.one(
            None, "", f"ファイルを読めません (cannot read: {exc.strerror})", file=shown
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidError(
            [
                Problem(
                    shown,
                    line,
                    1,
                    "",
                    "文字コードがUTF-8ではありません。UTF-8で保存し直してください"
                    " (file is not UTF-8; Shift_JIS is not supported)",
                )
            ]
        ) from None
    return parse_yaml(text, shown)
