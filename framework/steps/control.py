"""Control steps: loops, conditions, variables, calling another workflow, log messages, refusal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel, field_validator

from framework.context import RESERVED_NAMES, StepContext, Target
from framework.errors import BusinessError
from framework.registry import BLOCK, Registry, step
from framework.templating import Expression, Template, TemplateProblem


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)


def _variable_name(name: str) -> str:
    """A name steps may bind: an identifier that is not one of the reserved names."""
    if not name.isidentifier():
        raise ValueError(f"名前として使えません: {name!r} (not a valid name)")
    if name in RESERVED_NAMES:
        raise ValueError(f"「{name}」は予約された名前です (reserved name)")
    return name


_UNSET = object()


class ForEachArgs(Args):
    items: Expression
    """The list to walk over, as an expression: ``rows`` or ``item.明細``."""
    as_: str = Field(default="entry", alias="as")
    """The name each element gets inside ``steps`` (default ``entry``)."""
    steps: Annotated[list[Any], BLOCK]

    @field_validator("as_")
    @classmethod
    def _name(cls, value: str) -> str:
        return _variable_name(value)

    def block_names(self, block: str) -> set[str]:
        return {self.as_, "loop_index"}


@step("for_each")
def for_each(ctx: StepContext, args: ForEachArgs) -> None:
    """リストの1つずつに同じ操作をする (run steps for every element of a list).

    Run ``steps`` once for every element of a list.

    Example (write every row read from a page into a workbook)::

        - for_each:
            items: rows
            as: row
            steps:
              - excel.append_row: {file: 一覧.xlsx, values: {氏名: "{{ row.氏名 }}"}}

    Inside ``steps`` the element is ``{{ row }}`` (the name given by ``as``, default ``entry``)
    and ``{{ loop_index }}`` counts from 1.
    """
    values = ctx.evaluate(args.items)
    if isinstance(values, Mapping) or isinstance(values, str | bytes):
        raise TemplateProblem(
            f"for_each の items はリストにしてください: {args.items} (items must be a list)"
        )
    if not isinstance(values, Iterable):
        raise TemplateProblem(f"for_each の items はリストにしてください: {args.items}")
    saved = {name: ctx.variables.get(name, _UNSET) for name in (args.as_, "loop_index")}
    try:
        for index, value in enumerate(values, start=1):
            ctx.variables[args.as_] = value
            ctx.variables["loop_index"] = index
            ctx.run_steps(args.steps)
    finally:
        for name, old in saved.items():
            if old is _UNSET:
                ctx.variables.pop(name, None)
            else:
                ctx.variables[name] = old


class IfArgs(Args):
    condition: Expression
    """An expression such as ``item.支給量 > 100``, or ``item.備考`` (true when not empty: an empty
    optional field is ``none``, so ``item.備考 != ''`` would be true for it too)."""
    then: Annotated[list[Any], BLOCK] = Field(default_factory=list)
    else_: Annotated[list[Any], BLOCK] = Field(default_factory=list, alias="else")


@step("if", shorthand="condition")
def if_(ctx: StepContext, args: IfArgs) -> None:
    """条件によって操作を分ける (run then or else depending on a condition).

    Run ``then`` when the condition is true, otherwise ``else``.

    Example::

        - if:
            condition: item.備考
            then:
              - browser.fill: {label: 備考, value: "{{ item.備考 }}"}

    For a single step, the shorter ``when:`` on that step does the same.
    """
    ctx.run_steps(args.then if ctx.evaluate(args.condition) else args.else_)


class SetArgs(RootModel[dict[Target, Template]]):
    """Variable name (or ``results.名前``) → value (text; templates allowed)."""

    def declared_names(self) -> set[str]:
        return {target.name for target in self.root if not target.in_results}


@step("set")
def set_(ctx: StepContext, args: SetArgs) -> None:
    """値に名前をつけて覚える (set variables for later steps).

    Set variables for later steps: ``- set: {受付日: "{{ today | date('%Y/%m/%d') }}"}``.

    Values are text (templates are rendered now); later steps use them as ``{{ 受付日 }}``.
    A name ``results.受付番号`` sets a result of the current item instead (written to the
    results workbook), e.g. in a ``check`` that found the item already entered.
    """
    for target, template in args.root.items():
        ctx.store(target, ctx.render(template))


class CallArgs(Args):
    workflow: str
    """The workflow file to run, relative to this workflow's folder: ``welfare_login.yaml``."""
    params: dict[str, Template] = Field(default_factory=dict, alias="with")
    """Extra names the called workflow can use: ``with: {account: welfare_system}``."""
    _target: Any = PrivateAttr(default=None)

    @field_validator("params")
    @classmethod
    def _names(cls, value: dict[str, Template]) -> dict[str, Template]:
        for name in value:
            _variable_name(name)
        return value


@step("call", shorthand="workflow")
def call(ctx: StepContext, args: CallArgs) -> None:
    """ほかのワークフローを呼び出す (run another workflow file here).

    Run the steps of another workflow file here, e.g. a shared login.

    ``- call: welfare_login.yaml`` lets many bots share one login workflow. The called workflow
    sees the same settings, credentials, item and variables, plus the names given in ``with``.
    """
    params = {name: ctx.render(value) for name, value in args.params.items()}
    ctx.call(args._target, params)


class LogArgs(Args):
    message: Template
    level: Literal["info", "warning"] = "info"


@step("log", shorthand="message")
def log(ctx: StepContext, args: LogArgs) -> None:
    """ログにメッセージを書く (write a message to the run's log).

    Write a message to the run's log: ``- log: "{{ item.受付番号 }} を処理しました"``.

    Personal fields of the item are masked in the log whatever the message says.
    """
    ctx.log.log(args.level.upper(), ctx.render(args.message))


class FailArgs(Args):
    message: Template


@step("fail", shorthand="message")
def fail(ctx: StepContext, args: FailArgs) -> None:
    """その申請を「登録不可」にする (refuse the current item with a message).

    Refuse the current item with a message staff will read (a business exception).

    Use with ``when:`` for business rules the target system does not check itself::

        - fail: 支給量が上限を超えています
          when: item.支給量 > 300

    The item is reported as 登録不可 with this message and is not retried.
    """
    raise BusinessError(ctx.render(args.message))


def register(registry: Registry) -> None:
    """Add the control steps to a registry."""
    registry.add_all([for_each, if_, set_, call, log, fail], pack="control")
