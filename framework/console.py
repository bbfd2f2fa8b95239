"""What people see in the terminal: progress bars, run summaries, tables and error lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from framework.errors import Problem
from framework.outcome import ItemOutcome, ItemStatus, RunStatus
from framework.runlog import RunRecord

if TYPE_CHECKING:
    from framework.model import Bot
    from framework.runner import RunResult

SHOWN_STATUSES = (
    ItemStatus.DONE,
    ItemStatus.BUSINESS_ERROR,
    ItemStatus.BAD_INPUT,
    ItemStatus.SYSTEM_ERROR,
    ItemStatus.NEEDS_REVIEW,
    ItemStatus.SKIPPED,
)
ALWAYS_SHOWN = (
    ItemStatus.DONE,
    ItemStatus.BUSINESS_ERROR,
    ItemStatus.BAD_INPUT,
    ItemStatus.SYSTEM_ERROR,
)


def hours(minutes: float) -> str:
    return f"{minutes:g} 分（{minutes / 60:.1f} 時間）"


class ProgressReporter:
    """A progress bar while items run (the runner's :class:`~framework.runner.Reporter`)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[summary]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None
        self.counts: dict[ItemStatus, int] = {}

    def __enter__(self) -> ProgressReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def started(self, bot: Bot, run_id: str | None, total: int | None) -> None:
        self.task = self.progress.add_task(bot.name, total=total, summary="")

    def item_done(self, outcome: ItemOutcome) -> None:
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
        summary = " ".join(
            f"{s.label}{self.counts[s]}" for s in SHOWN_STATUSES if self.counts.get(s)
        )
        if self.task is not None:
            self.progress.update(self.task, advance=1, summary=summary)
        if outcome.status.needs_attention:
            where = f"{outcome.source} {outcome.row}行目" if outcome.row else outcome.source
            self.progress.console.print(
                f"[yellow]{outcome.status.label}[/] {where}: {escape(outcome.message)}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )


def print_problems(console: Console, problems: Sequence[Problem], *, nothing_run: bool) -> None:
    for problem in problems:
        console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    tail = "何も実行していません (nothing was run)" if nothing_run else ""
    plural = "s" if len(problems) != 1 else ""
    line = f"[bold red]エラー {len(problems)} 件[/] (error{plural}) {tail}"
    console.print(line.rstrip(), highlight=False)


def _relative(path: Path | str, base: Path | None) -> str:
    p = Path(path)
    if base is not None:
        try:
            return p.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return str(p)


def print_result(console: Console, result: RunResult, bot: Bot, base: Path | None) -> None:
    """The end-of-run summary staff read: counts, time saved, where the files are."""
    record = result.record
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    if record is None:  # dry run
        bad = sum(1 for o in result.outcomes if o.status is ItemStatus.BAD_INPUT)
        ok = len(result.outcomes) - bad
        table.add_row("登録予定 (to enter)", str(ok))
        table.add_row("入力不備 (bad input)", str(bad))
        console.print(f"[bold]{bot.name}[/] ({bot.id}) ドライラン")
        console.print(table)
        for outcome in result.outcomes:
            if outcome.status is ItemStatus.BAD_INPUT:
                where = f"{outcome.source} {outcome.row}行目" if outcome.row else outcome.source
                console.print(
                    f"  入力不備 {where}: {outcome.message}", highlight=False, markup=False
                )
        console.print(result.message)
        return
    status_style = "green" if record.status is RunStatus.COMPLETED else "red"
    console.print(
        f"[bold]{bot.name}[/] ({bot.id})  run {record.id}  "
        f"[{status_style}]{record.status.label}[/]",
        highlight=False,
    )
    for status in SHOWN_STATUSES:
        if status not in ALWAYS_SHOWN and not record.count(status):
            continue
        table.add_row(f"{status.label} ({status.value})", str(record.count(status)))
    table.add_row("削減時間 (time saved)", hours(record.minutes_saved))
    console.print(table)
    if record.message:
        console.print(f"[red]{record.message}[/]", highlight=False)
    for path in result.files:
        console.print(f"結果 (results): {_relative(path, base)}", highlight=False)
    if result.run_dir is not None:
        console.print(f"ログ (log): {_relative(result.run_dir / 'run.log', base)}", highlight=False)


def exceptions_file(record: RunRecord) -> Path | None:
    """The run's exception report (``exceptions.xlsx``), if it wrote one."""
    path = Path(record.run_dir) / "exceptions.xlsx"
    return path if path.exists() else None


def runs_table(records: Sequence[RunRecord], base: Path | None = None) -> Table:
    table = Table(title="最近の実行 (recent runs)")
    for name, justify in (
        ("run", "left"),
        ("ボット", "left"),
        ("開始", "left"),
        ("起動", "left"),
        ("状態", "left"),
        ("登録済み/全件", "right"),
        ("要対応", "right"),
        ("削減(分)", "right"),
        ("要対応リスト (exceptions)", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in records:
        attention = sum(r.count(s) for s in ItemStatus if s.needs_attention)
        report = exceptions_file(r)
        table.add_row(
            r.id,
            r.bot_id,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.trigger,
            r.status.label,
            f"{r.count(ItemStatus.DONE)}/{r.items_total}",
            str(attention),
            f"{r.minutes_saved:g}",
            _relative(report, base) if report else "",
        )
    return table


def type_name(annotation: Any) -> str:
    """A step argument's type as a workflow author reads it."""
    import types
    import typing

    from pydantic import BaseModel

    from framework.context import Target
    from framework.templating import Expression, Template

    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return " / ".join(type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(str(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return "ステップの並び (steps)"
    if origin in (list, tuple):
        return f"リスト (list of {type_name(args[0]) if args else 'values'})"
    if origin is dict:
        return f"名前: {type_name(args[1]) if len(args) > 1 else '値'} (mapping)"
    names: dict[Any, str] = {
        Template: "テキスト (text; {{ }} 可)",
        Expression: "式 (expression)",
        Target: "保存先 (results.名前 or a variable)",
        bool: "true / false",
        int: "整数 (integer)",
        float: "数値 (number)",
        str: "文字 (text)",
    }
    if annotation in names:
        return names[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "要素の指定 (locator)" if annotation.__name__ == "Locator" else annotation.__name__
    return getattr(annotation, "__name__", str(annotation))


def arguments_table(model: type[Any]) -> Table:
    """The arguments of a step: name, type, required or default, and what it is for."""
    table = Table(title="引数 (arguments)", show_lines=False)
    for column in ("name", "type", "required / default", "説明 (description)"):
        table.add_column(column, overflow="fold")
    for field_name, info in model.model_fields.items():
        if info.is_required():
            need = "必須 (required)"
        else:
            default = info.get_default(call_default_factory=True)
            need = "" if default in (None, [], {}) else repr(default)
        table.add_row(
            info.alias or field_name, type_name(info.annotation), need, info.description or ""
        )
    return table


def events_table(events: Sequence[Any]) -> Table:
    """The scheduler's latest decisions (``ScheduleEvent`` rows), newest first."""
    table = Table(title="スケジューラの判断 (scheduler decisions)")
    for name in ("予定時刻", "ボット", "予定", "判断", "run", "内容"):
        table.add_column(name, overflow="fold")
    for event in events:
        table.add_row(
            f"{event.fire_time:%Y-%m-%d %H:%M}",
            event.bot_id,
            event.schedule,
            event.event.label,
            event.run_id or "",
            event.message,
        )
    return table


def dump_json(console: Console, value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False, default=str))
