"""Pass 4 of validation: every name a template or expression uses must exist where it is used.

Names are checked in the order the steps run: ``item`` and ``results`` only in the per-item
steps, variables only after the step that sets them, ``settings.X`` and ``credentials.X.Y``
against the bot's manifest, item fields against the workflow's ``items``. Called workflows are
checked with the caller's names, so one shared login serves many bots.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel

from framework.context import RESERVED_NAMES, Target
from framework.errors import Problem, unknown_name
from framework.model import StepCall, Workflow
from framework.registry import StepBlock, block_fields
from framework.templating import ENVIRONMENT, Expression, Template
from framework.yamlio import PathKey, YamlDoc

JINJA_GLOBALS = frozenset(ENVIRONMENT.globals)


@dataclass(frozen=True)
class Names:
    """What templates may refer to at one point of a workflow.

    ``None`` for item fields, settings or credentials means "not known here" (a workflow
    validated on its own, without a bot): attribute names are then not checked.
    """

    item: frozenset[str] | None
    in_item: bool
    settings: frozenset[str] | None
    credentials: tuple[tuple[str, frozenset[str]], ...] | None
    variables: frozenset[str] = frozenset()

    def credential_fields(self) -> dict[str, frozenset[str]] | None:
        return None if self.credentials is None else dict(self.credentials)

    def with_variables(self, names: Sequence[str] | set[str]) -> Names:
        return replace(self, variables=self.variables | frozenset(names))

    def roots(self) -> set[str]:
        roots = {"settings", "credentials", "run", "today"} | JINJA_GLOBALS | self.variables
        if self.in_item:
            roots |= {"item", "results"}
        return roots


@dataclass
class NameCheck:
    """What the name pass needs from loading: the parsed files and where problems go."""

    docs: dict[Path, YamlDoc]
    with_items: set[Path]
    problems: list[Problem] = field(default_factory=list)


def _values(obj: Any, path: PathKey) -> Iterator[tuple[PathKey, Any]]:
    """Every Template, Expression and Target inside a step's arguments, with its path."""
    if isinstance(obj, Template | Expression | Target):
        yield path, obj
    elif isinstance(obj, RootModel):
        yield from _values(obj.root, path)
    elif isinstance(obj, BaseModel):
        for name, info in type(obj).model_fields.items():
            if any(isinstance(m, StepBlock) for m in info.metadata):
                continue
            yield from _values(getattr(obj, name), (*path, info.alias or name))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, Target):  # a mapping whose keys say where values go (`set`)
                yield (*path, key.text), key
            yield from _values(value, (*path, key.text if isinstance(key, Target) else key))
    elif isinstance(obj, list | tuple):
        for index, value in enumerate(obj):
            yield from _values(value, (*path, index))


def _check_reference(
    doc: YamlDoc, path: PathKey, value: Template | Expression, names: Names
) -> list[Problem]:
    problems = []
    roots = names.roots()
    for ref in value.references():
        if ref.root not in roots:
            if ref.root in ("item", "results"):
                message = (
                    f"「{ref.root}」はアイテムごとの steps の中でだけ使えます"
                    f" ({ref.root} exists only in the per-item steps)"
                )
            else:
                message = unknown_name("名前", "name", ref.root, sorted(roots - JINJA_GLOBALS))
            problems.append(doc.problem(path, message))
            continue
        if not ref.attrs:
            continue
        first = ref.attrs[0]
        known: Sequence[str] | None = None
        kind = ("", "")
        if ref.root == "item":
            known = None if names.item is None else sorted(names.item)
            kind = ("項目", "item field")
        elif ref.root == "settings":
            known = None if names.settings is None else sorted(names.settings)
            kind = ("設定", "setting")
        elif ref.root == "credentials" and names.credentials is not None:
            creds = names.credential_fields() or {}
            known, kind = sorted(creds), ("資格情報", "credential")
            if first in creds and len(ref.attrs) > 1:
                fields = creds[first]
                if ref.attrs[1] not in fields:
                    problems.append(
                        doc.problem(
                            path,
                            unknown_name(
                                f"{first} の項目", f"{first} field", ref.attrs[1], sorted(fields)
                            ),
                        )
                    )
        elif ref.root == "run":
            known, kind = ["bot", "date", "dir", "id", "started_at"], ("run の項目", "run field")
        if known is not None and first not in known:
            problems.append(doc.problem(path, unknown_name(*kind, first, known)))
    return problems


def _check_steps(
    st: NameCheck,
    doc: YamlDoc,
    steps: Sequence[StepCall],
    names: Names,
    seen_calls: set[tuple[Path, Names]],
) -> Names:
    """Check names in order; return the names known after these steps."""
    for call in steps:
        step_path = call.path
        if call.when is not None:
            st.problems.extend(_check_reference(doc, (*step_path, "when"), call.when, names))
        introduced: set[str] = set()
        for path, value in _values(call.args, (*step_path, call.spec.name)):
            if isinstance(value, Target):
                if value.in_results and not names.in_item:
                    st.problems.append(
                        doc.problem(
                            path,
                            "results はアイテムごとの steps の中でだけ使えます"
                            " (results exist only in the per-item steps)",
                        )
                    )
                elif not value.in_results:
                    introduced.add(value.name)
            else:
                st.problems.extend(_check_reference(doc, path, value, names))
        declared = getattr(call.args, "declared_names", None)
        if callable(declared):
            for name in declared():
                if name in RESERVED_NAMES:
                    st.problems.append(
                        doc.problem((*step_path, call.spec.name), f"「{name}」は予約された名前です")
                    )
                introduced.add(name)
        for attr, block_key in block_fields(call.spec.args):
            inner_names = names
            block_names = getattr(call.args, "block_names", None)
            if callable(block_names):
                inner_names = names.with_variables(block_names(block_key))
            after = _check_steps(st, doc, getattr(call.args, attr), inner_names, seen_calls)
            introduced |= after.variables - inner_names.variables
        target = getattr(call.args, "_target", None)
        if isinstance(target, Workflow) and target.items is None:
            params = getattr(call.args, "params", {}) or {}
            callee_names = names.with_variables(set(params))
            seen = (target.path, callee_names)
            if seen not in seen_calls:
                seen_calls.add(seen)
                callee_doc = st.docs[target.path]
                for section in (target.setup, target.steps, target.teardown):
                    after = _check_steps(st, callee_doc, section, callee_names, seen_calls)
                    introduced |= after.variables - callee_names.variables
        names = names.with_variables(introduced)
    return names


def check_names(st: NameCheck, workflow: Workflow, names: Names) -> None:
    """Check every template and expression of a workflow (and what it calls) in order."""
    doc = st.docs[workflow.path]
    seen: set[tuple[Path, Names]] = set()
    outer = replace(names, in_item=False, item=None)
    after_setup = _check_steps(st, doc, workflow.setup, outer, seen)
    if workflow.items is not None:
        per_item = replace(after_setup, in_item=True, item=frozenset(workflow.items.fields))
    elif workflow.path in st.with_items:  # the items section is wrong: do not pile errors on it
        per_item = replace(after_setup, in_item=True, item=None)
    else:
        per_item = after_setup
    after_steps = _check_steps(st, doc, workflow.steps, per_item, seen)
    _check_steps(st, doc, workflow.teardown, replace(after_steps, in_item=False, item=None), seen)
    if workflow.check is not None:
        after_check = _check_steps(st, doc, workflow.check.steps, per_item, seen)
        path: PathKey = ("check", "entered")
        st.problems.extend(_check_reference(doc, path, workflow.check.entered, after_check))
    restore = workflow.session_restore
    if restore is not None and restore.items is None:
        restore_doc = st.docs[restore.path]
        for section in (restore.setup, restore.steps, restore.teardown):
            _check_steps(st, restore_doc, section, outer, seen)
