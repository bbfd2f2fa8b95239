"""Loading and validating workflows and bots, reporting every problem with its file:line:col.

Validation runs in passes so that each problem is reported where the person wrote it:

1. YAML syntax (:mod:`framework.yamlio`);
2. the file's skeleton (top-level keys, the ``items`` section, each step's name);
3. each step's arguments against that step's own model, from the registry;
4. names: every template and expression is checked against what exists at that point (item
   fields, settings, credentials, variables set by earlier steps), so ``{{ item.氏明 }}`` is
   refused before anything runs (:mod:`framework.names`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from framework.calendar import CALENDAR_FILE, calendar_path, parse_calendar
from framework.errors import InvalidError, Problem, SourcePos, unknown_name
from framework.items import FieldSpec, ItemsSpec
from framework.model import (
    Bot,
    BotManifest,
    Check,
    RetryPolicy,
    StepCall,
    StepOptions,
    Workflow,
    WorkflowFile,
)
from framework.names import NameCheck, Names, check_names
from framework.pydantic_yaml import validate_at
from framework.registry import Registry, UnknownNameError, block_fields
from framework.reports.targets import FILE_NAME as KPI_FILE
from framework.reports.targets import load_targets, project_bots
from framework.templating import ENVIRONMENT, Expression, TemplateProblem
from framework.yamlio import PathKey, YamlDoc, load_yaml

STEP_OPTION_KEYS = frozenset(StepOptions.model_fields)
JINJA_GLOBALS = frozenset(ENVIRONMENT.globals)


class Project:
    """Where a project's files are: ``bots/``, ``workflows/``, ``credentials/``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.bots_dir = self.root / "bots"
        self.workflows_dir = self.root / "workflows"
        self.credentials_dir = self.root / "credentials"

    def shown(self, path: Path) -> str:
        """A path as messages show it: relative to the project when inside it."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def bot_ids(self) -> list[str]:
        if not self.bots_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self.bots_dir.glob("*/bot.yaml"))

    def bot_file(self, bot: str) -> Path:
        """The manifest of a bot given by id or by a path to its folder or bot.yaml."""
        candidate = Path(bot)
        if candidate.suffix in (".yaml", ".yml") and candidate.exists():
            return candidate.resolve()
        if (candidate / "bot.yaml").exists() and (candidate.is_absolute() or "/" in bot):
            return (candidate / "bot.yaml").resolve()
        return self.bots_dir / bot / "bot.yaml"

    def workflow_files(self) -> list[Path]:
        if not self.workflows_dir.is_dir():
            return []
        return sorted([*self.workflows_dir.glob("*.yaml"), *self.workflows_dir.glob("*.yml")])


@dataclass
class _Loading:
    """State shared while one bot or workflow tree is loaded."""

    registry: Registry
    project: Project
    problems: list[Problem] = field(default_factory=list)
    cache: dict[Path, Workflow | None] = field(default_factory=dict)
    docs: dict[Path, YamlDoc] = field(default_factory=dict)
    with_items: set[Path] = field(default_factory=set)
    """Workflows that declare items (even if that section has errors)."""


# -- pass 2 and 3: skeleton, items, steps -------------------------------------------------------


def _parse_items(st: _Loading, doc: YamlDoc, raw: dict[str, Any]) -> ItemsSpec | None:
    base: PathKey = ("items",)
    ok = True
    fields: dict[str, FieldSpec] = {}
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        st.problems.append(
            doc.problem(
                (*base, "fields") if "fields" in raw else base,
                "fields に項目（氏名など）を1つ以上書いてください (items.fields is required)",
            )
        )
        ok = False
    else:
        for name, value in raw_fields.items():
            spec = validate_at(doc, (*base, "fields", name), FieldSpec, value or {}, st.problems)
            if spec is None:
                ok = False
            else:
                fields[name] = spec
    key = raw.get("key", [])
    if isinstance(key, str):
        key = [key]
    if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
        st.problems.append(doc.problem((*base, "key"), "key は項目名のリストで書いてください"))
        ok = False
        key = []
    for index, name in enumerate(key):
        if raw_fields and isinstance(raw_fields, dict) and name not in raw_fields:
            st.problems.append(
                doc.problem(
                    (*base, "key", index), unknown_name("項目", "field", name, list(raw_fields))
                )
            )
            ok = False
    sources: dict[str, BaseModel] = {}
    for name, value in raw.items():
        if name in ("fields", "key"):
            continue
        spec_source = st.registry.sources.get(name)
        if spec_source is None:
            choices = ["fields", "key", *st.registry.sources]
            st.problems.append(
                doc.problem(
                    (*base, name),
                    unknown_name("入力形式", "item source", name, choices),
                    prefer_key=True,
                )
            )
            ok = False
            continue
        options = validate_at(doc, (*base, name), spec_source.options, value or {}, st.problems)
        if options is None:
            ok = False
        else:
            sources[name] = options
    if not sources and ok:
        readable = ", ".join(st.registry.sources)
        st.problems.append(
            doc.problem(
                base,
                f"読み込む形式（{readable}）を1つ以上書いてください"
                " (no item source: add e.g. excel:)",
            )
        )
        ok = False
    return ItemsSpec(fields=fields, key=list(key), sources=sources) if ok else None


def _parse_steps(st: _Loading, doc: YamlDoc, path: PathKey, raw: Any) -> list[StepCall]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        st.problems.append(
            doc.problem(
                path, "ステップは「- 」で始まる行の並びで書いてください (steps must be a list)"
            )
        )
        return []
    calls = []
    for index, entry in enumerate(raw):
        call = _parse_step(st, doc, (*path, index), entry)
        if call is not None:
            calls.append(call)
    return calls


def _parse_step(st: _Loading, doc: YamlDoc, path: PathKey, entry: Any) -> StepCall | None:
    if isinstance(entry, str) and entry in st.registry.steps:
        entry = {entry: None}
    if not isinstance(entry, dict):
        st.problems.append(
            doc.problem(
                path,
                "ステップは「ステップ名: 引数」の形で書いてください"
                " (a step is a mapping such as `browser.click: {...}`)",
            )
        )
        return None
    step_keys = [k for k in entry if k not in STEP_OPTION_KEYS]
    if len(step_keys) != 1:
        message = (
            "ステップ名がありません (no step name)"
            if not step_keys
            else f"1つのステップに1つの操作だけを書いてください: {', '.join(step_keys)}"
            " (one step per list entry; start each with '- ')"
        )
        target = (*path, step_keys[1]) if len(step_keys) > 1 else path
        st.problems.append(doc.problem(target, message, prefer_key=True))
        return None
    name = step_keys[0]
    step_path = (*path, name)
    try:
        spec = st.registry.step(name)
    except UnknownNameError as exc:
        st.problems.append(doc.problem(step_path, str(exc), prefer_key=True))
        return None
    options_raw = {k: v for k, v in entry.items() if k in STEP_OPTION_KEYS}
    options = validate_at(doc, path, StepOptions, options_raw, st.problems)
    raw_args = entry[name]
    if raw_args is None:
        raw_args = {}
    elif not isinstance(raw_args, dict):
        if spec.shorthand is None:
            st.problems.append(
                doc.problem(
                    step_path,
                    f"{name} の引数は「名前: 値」の形で書いてください (expected a mapping)",
                )
            )
            return None
        raw_args = {spec.shorthand: raw_args}
    else:
        raw_args = dict(raw_args)
    for _attr, key in block_fields(spec.args):
        if key in raw_args:
            raw_args[key] = _parse_steps(st, doc, (*step_path, key), raw_args[key])
    args = validate_at(doc, step_path, spec.args, raw_args, st.problems)
    if args is None or options is None:
        return None
    if options.commit and options.retry is not None:
        st.problems.append(
            doc.problem(
                (*path, "retry"),
                "commit のステップは retry できません（二重登録のおそれ）。item 全体の retry と"
                " check を使ってください (a commit step cannot be retried in place)",
                prefer_key=True,
            )
        )
        return None
    return StepCall(
        spec=spec,
        args=args,
        pos=doc.pos(path),
        path=path,
        title=options.name,
        when=options.when,
        commit=options.commit,
        retry=options.retry,
    )


def _workflow_doc(st: _Loading, path: Path) -> YamlDoc | None:
    path = path.resolve()
    if path in st.docs:
        return st.docs[path]
    try:
        doc = load_yaml(path, st.project.shown(path))
    except InvalidError as exc:
        st.problems.extend(exc.problems)
        return None
    st.docs[path] = doc
    return doc


def _load_workflow(st: _Loading, path: Path, stack: tuple[Path, ...] = ()) -> Workflow | None:
    path = path.resolve()
    if path in st.cache:
        return st.cache[path]
    doc = _workflow_doc(st, path)
    if doc is None:
        st.cache[path] = None
        return None
    if not isinstance(doc.data, dict):
        st.problems.append(
            doc.problem((), "ワークフローは「steps:」などのキーを持つ形で書いてください")
        )
        st.cache[path] = None
        return None
    sections = ("setup", "steps", "teardown")
    top = validate_at(
        doc,
        (),
        WorkflowFile,
        {k: v for k, v in doc.data.items() if k not in (*sections, "check")}
        | {k: [] for k in sections if k in doc.data}
        | ({"check": {}} if "check" in doc.data else {}),
        st.problems,
    )
    items = None
    if isinstance(doc.data.get("items"), dict):
        items = _parse_items(st, doc, doc.data["items"])
    if "items" in doc.data:
        st.with_items.add(path)
    workflow = Workflow(
        path=path,
        file=doc.file,
        title=top.title if top else "",
        description=top.description if top else "",
        items=items,
        setup=_parse_steps(st, doc, ("setup",), doc.data.get("setup")),
        steps=_parse_steps(st, doc, ("steps",), doc.data.get("steps")),
        teardown=_parse_steps(st, doc, ("teardown",), doc.data.get("teardown")),
        retry=top.retry if top else RetryPolicy(),
        session=top.session if top else None,
        check=_parse_check(st, doc, doc.data["check"]) if "check" in doc.data else None,
    )
    if workflow.check is not None and items is None and "items" not in doc.data:
        st.problems.append(
            doc.problem(
                ("check",), "check は items のあるワークフローで使います (check needs items)"
            )
        )
    written = any(doc.data.get(k) for k in ("setup", "steps", "teardown"))
    if not written and top is not None:
        st.problems.append(doc.problem((), "steps が空です (the workflow has no steps)"))
    st.cache[path] = workflow
    _resolve_calls(st, doc, workflow, (*stack, path))
    if workflow.session is not None:
        workflow.session_restore = _resolve_workflow(
            st,
            workflow.path.parent / workflow.session.restore,
            doc.pos(("session", "restore")),
            "session.restore",
            (*stack, path),
        )
    return workflow


def _parse_check(st: _Loading, doc: YamlDoc, raw: Any) -> Check | None:
    """``check: {steps: [...], entered: <expression>}``."""
    if not isinstance(raw, dict):
        st.problems.append(
            doc.problem(
                ("check",), "check は steps と entered を書いてください (expected a mapping)"
            )
        )
        return None
    unknown = [k for k in raw if k not in ("steps", "entered")]
    for key in unknown:
        st.problems.append(
            doc.problem(
                ("check", key),
                unknown_name("項目", "field", key, ["steps", "entered"]),
                prefer_key=True,
            )
        )
    steps = _parse_steps(st, doc, ("check", "steps"), raw.get("steps"))
    if "entered" not in raw:
        st.problems.append(
            doc.problem(
                ("check",),
                "entered（登録済みかどうかを判定する式）を書いてください (entered is required)",
                prefer_key=True,
            )
        )
        return None
    try:
        entered = Expression(str(raw["entered"]))
    except TemplateProblem as exc:
        st.problems.append(doc.problem(("check", "entered"), str(exc)))
        return None
    return None if unknown else Check(steps=steps, entered=entered)


def _all_calls(steps: Sequence[StepCall]) -> Iterator[StepCall]:
    for call in steps:
        yield call
        for attr, _key in block_fields(call.spec.args):
            yield from _all_calls(getattr(call.args, attr))


def _resolve_calls(st: _Loading, doc: YamlDoc, workflow: Workflow, stack: tuple[Path, ...]) -> None:
    for call in _all_calls([*workflow.setup, *workflow.steps, *workflow.teardown]):
        target_name = getattr(call.args, "workflow", None)
        if call.spec.name != "call" or not isinstance(target_name, str):
            continue
        call.args._target = _resolve_workflow(  # type: ignore[attr-defined]
            st,
            workflow.path.parent / target_name,
            call.pos,
            f"{call.where}.call.workflow",
            stack,
        )


def _resolve_workflow(
    st: _Loading, target: Path, pos: SourcePos, where: str, stack: tuple[Path, ...]
) -> Workflow | None:
    """Load a workflow another one runs (``call``, ``session.restore``): no cycles, no items."""
    target = target.resolve()
    if target in stack:
        chain = " → ".join(st.project.shown(p) for p in (*stack, target))
        st.problems.append(
            Problem.at(pos, where, f"呼び出しが循環しています: {chain} (call cycle)")
        )
        return None
    if not target.exists():
        st.problems.append(
            Problem.at(
                pos,
                where,
                f"呼び出すワークフローが見つかりません: {st.project.shown(target)}"
                " (called workflow not found)",
            )
        )
        return None
    callee = _load_workflow(st, target, stack)
    if callee is not None and callee.items is not None:
        st.problems.append(
            Problem.at(
                pos,
                where,
                "呼び出されるワークフローには items を書けません (a called workflow has no items)",
            )
        )
    return callee


# -- public API ------------------------------------------------------------------------------


def _name_check(st: _Loading) -> NameCheck:
    return NameCheck(docs=st.docs, with_items=st.with_items, problems=st.problems)


def load_workflow(path: Path, registry: Registry, project: Project) -> Workflow:
    """Load one workflow on its own (settings and credentials names are not known)."""
    st = _Loading(registry, project)
    workflow = _load_workflow(st, path)
    if workflow is not None:
        check_names(_name_check(st), workflow, Names(None, False, None, None))
    if st.problems or workflow is None:
        raise InvalidError(st.problems)
    return workflow


def _manifest_workflow_path(project: Project, bot_dir: Path, name: str) -> Path:
    local = (bot_dir / name).resolve()
    if "/" in name or "\\" in name:
        return local
    in_workflows = project.workflows_dir / name
    return in_workflows if in_workflows.exists() or not local.exists() else local


def load_manifest(bot: str, project: Project) -> BotManifest:
    """Only a bot's manifest (``bot.yaml``), validated; its workflow is not loaded."""
    file = project.bot_file(bot)
    shown = project.shown(file)
    if not file.exists():
        raise InvalidError.one(
            None, "", unknown_name("ボット", "bot", bot, project.bot_ids()), file=shown
        )
    problems: list[Problem] = []
    doc = load_yaml(file, shown)
    manifest = validate_at(doc, (), BotManifest, doc.data, problems)
    if manifest is None:
        raise InvalidError(problems)
    return manifest


def load_bot(bot: str, registry: Registry, project: Project) -> Bot:
    """Load a bot (by id or path) and its workflow, checking them together."""
    file = project.bot_file(bot)
    shown = project.shown(file)
    if not file.exists():
        raise InvalidError.one(
            None, "", unknown_name("ボット", "bot", bot, project.bot_ids()), file=shown
        )
    st = _Loading(registry, project)
    doc = load_yaml(file, shown)
    manifest = validate_at(doc, (), BotManifest, doc.data, st.problems)
    if manifest is None:
        raise InvalidError(st.problems)
    workflow_path = _manifest_workflow_path(project, file.parent, manifest.workflow)
    if not workflow_path.exists():
        raise InvalidError(
            [
                doc.problem(
                    ("workflow",),
                    f"ワークフローが見つかりません: {project.shown(workflow_path)}"
                    " (workflow file not found)",
                )
            ]
        )
    workflow = _load_workflow(st, workflow_path)
    if workflow is not None and workflow.items is not None:
        if manifest.input is None or manifest.input.default is None:
            pass  # --input is then required at run time
    elif workflow is not None and manifest.input is not None:
        st.problems.append(
            doc.problem(
                ("input",),
                "このワークフローは items を持たないので input は使えません"
                " (workflow has no items)",
                prefer_key=True,
            )
        )
    if workflow is not None:
        _check_schedule_inputs(st, doc, manifest, workflow.items is not None)
        names = Names(
            item=None,
            in_item=False,
            settings=frozenset(manifest.settings),
            credentials=tuple((k, frozenset(v)) for k, v in manifest.credentials.items()),
        )
        check_names(_name_check(st), workflow, names)
    if st.problems or workflow is None:
        raise InvalidError(st.problems)
    return Bot(
        id=file.parent.name, dir=file.parent, file=shown, manifest=manifest, workflow=workflow
    )


def validate_project(
    project: Project, registry: Registry, paths: Sequence[Path] = ()
) -> tuple[list[str], list[Problem]]:
    """Validate the given files (bots or workflows), or every bot and workflow of the project.

    Returns the names of what was checked and every problem found.
    """
    checked: list[str] = []
    problems: list[Problem] = []
    covered: set[Path] = set()
    targets: list[tuple[str, Path]] = []
    if paths:
        for path in paths:
            resolved = path.resolve()
            if resolved.is_dir() and (resolved / "bot.yaml").exists():
                targets.append(("bot", resolved / "bot.yaml"))
            elif resolved.name == CALENDAR_FILE:
                targets.append(("calendar", resolved))
            elif resolved.name == KPI_FILE:
                targets.append(("kpi", resolved))
            elif resolved.name == "bot.yaml":
                targets.append(("bot", resolved))
            else:
                targets.append(("workflow", resolved))
    else:
        targets = [("bot", project.bot_file(b)) for b in project.bot_ids()]
        targets += [("workflow", p.resolve()) for p in project.workflow_files()]
        if calendar_path(project.root).exists():
            targets.append(("calendar", calendar_path(project.root)))
        if (project.root / KPI_FILE).exists():
            targets.append(("kpi", project.root / KPI_FILE))
    for kind, path in targets:
        if kind == "kpi":
            checked.append(project.shown(path))
            problems.extend(_kpi_problems(project, path))
            continue
        if kind == "calendar":
            checked.append(project.shown(path))
            try:
                parse_calendar(path, project.shown(path))
            except InvalidError as exc:
                problems.extend(exc.problems)
            continue
        if kind == "bot":
            checked.append(project.shown(path))
            try:
                bot = load_bot(str(path), registry, project)
                covered.add(bot.workflow.path)
                covered |= _called_paths(bot.workflow)
            except InvalidError as exc:
                problems.extend(exc.problems)
            continue
        if path in covered and not paths:
            continue
        checked.append(project.shown(path))
        try:
            load_workflow(path, registry, project)
        except InvalidError as exc:
            problems.extend(exc.problems)
    # a workflow of a bot that failed is checked again on its own: report each problem once
    return checked, InvalidError(problems).problems


def _kpi_problems(project: Project, path: Path) -> list[Problem]:
    """Check ``kpi.yaml`` (the DX office's targets) against the project's bots."""
    known = {bot: department for bot, (department, _name) in project_bots(project.bots_dir).items()}
    try:
        load_targets(path, project.shown(path), known)
    except InvalidError as exc:
        return exc.problems
    return []


def _called_paths(workflow: Workflow) -> set[Path]:
    found: set[Path] = set()
    for call in _all_calls([*workflow.setup, *workflow.steps, *workflow.teardown]):
        target = getattr(call.args, "_target", None)
        if isinstance(target, Workflow) and target.path not in found:
            found.add(target.path)
            found |= _called_paths(target)
    return found


def _check_schedule_inputs(
    st: _Loading, doc: YamlDoc, manifest: BotManifest, has_items: bool
) -> None:
    """A scheduled run has nobody to pass ``--input``: it needs one when the workflow has items."""
    default = manifest.input.default if manifest.input is not None else None
    for index, spec in enumerate(manifest.schedules):
        if has_items and spec.input is None and default is None:
            st.problems.append(
                doc.problem(
                    ("schedules", index),
                    "予定実行の入力がありません。input（受付フォルダなど）か input.default を"
                    "書いてください (a scheduled run needs an input)",
                )
            )
        elif not has_items and spec.input is not None:
            st.problems.append(
                doc.problem(
                    ("schedules", index, "input"),
                    "このワークフローは items を持たないので input は使えません"
                    " (workflow has no items)",
                    prefer_key=True,
                )
            )
