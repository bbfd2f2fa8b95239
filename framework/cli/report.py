"""``rpa report``: the time-saved KPI report for the DX office (xlsx, csv, html or json)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from framework.cli.app import app, current_project, err, fail, out
from framework.errors import InvalidError, Problem
from framework.outcome import ExitCode

if TYPE_CHECKING:
    from framework.loader import Project
    from framework.reports.figures import Breakdown, Figures
    from framework.reports.targets import Targets
    from framework.runlog import RunLog

FORMATS = ("xlsx", "csv", "html", "json")
PERIOD_HELP = (
    "期間: 2026-11（月）、FY2026・R8・令和8年度（年度: 4月〜3月）。省略時は今年度"
    " (a month or a fiscal year; default: this fiscal year)"
)


def period_problem(period: str | None, message: str) -> Problem:
    """A bad ``--period``/``--from``/``--to`` as a problem line (exit code 2)."""
    return Problem("--period" if period is not None else "--from/--to", 0, 0, "", message)


@app.command("report")
@click.option("--period", help=PERIOD_HELP)
@click.option("--from", "first", metavar="DATE", help="開始日 (first day, e.g. 2026-04-01)")
@click.option("--to", "last", metavar="DATE", help="終了日（この日を含む）(last day, inclusive)")
@click.option(
    "--by",
    type=click.Choice(["department", "bot", "month"]),
    default="department",
    show_default=True,
    help="画面と CSV の内訳: 課・ボット・月 (breakdown of the table and the CSV)",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="xlsx",
    show_default=True,
    help="xlsx（DX戦略室向け）、csv（Excel 用 BOM 付き）、html（1ファイル）、json",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(allow_dash=True),
    help="出力ファイル（省略時 RPA_HOME/reports/ に日時付きで作成; - で標準出力）"
    " (output file; default: a dated file under RPA_HOME/reports)",
)
def report_command(
    period: str | None,
    first: str | None,
    last: str | None,
    by: Breakdown,
    fmt: str,
    out_path: str | None,
) -> int:
    """削減時間の KPI レポートを作る (time-saved report against the targets in kpi.yaml).

    Figures come from the run log: per department, bot and month, the runs, the runs that
    needed a person, items per status, bot time and the minutes saved that each run stored
    with its baseline. Item keys and other personal data are never included.
    """
    from framework.home import Home
    from framework.reports.figures import compute
    from framework.reports.period import PeriodError, choose_period
    from framework.runlog import open_runlog, runlog_exists

    try:
        chosen = choose_period(period, first, last, dt.date.today())
    except PeriodError as exc:
        return fail([period_problem(period, exc.reason)], nothing_run=False)
    assert chosen is not None
    to_stdout = out_path == "-"
    if to_stdout and fmt == "xlsx":
        problem = "xlsx は標準出力に書けません。ファイル名を指定してください (xlsx needs a file)"
        return fail([Problem("--out", 0, 0, "", problem)], nothing_run=False)
    project = current_project()
    home = Home.locate(project.root)
    runlog = open_runlog(home.root) if runlog_exists(home.root) else None
    try:
        try:
            targets, names = _targets(project, runlog)
        except InvalidError as exc:
            code = fail(exc.problems, nothing_run=False)
            err().print("レポートは作成していません (no report written)", markup=False)
            return code
        figures = compute(runlog, chosen, targets, names=names)
        if to_stdout:
            sys.stdout.write(_text(figures, fmt, by).removeprefix("\ufeff"))
            sys.stdout.flush()
            for note in figures.notes:
                err().print(f"※ {note}", markup=False, highlight=False)
            return ExitCode.OK
        path = _out_path(out_path, home.root / "reports", figures, fmt)
        try:
            _write(figures, fmt, by, runlog, path)
            _usual_mode(path)
        except OSError as exc:
            problem = f"{path} に書き込めません（{exc.strerror}） (cannot write the report)"
            return fail([Problem("--out", 0, 0, "", problem)], nothing_run=False)
    finally:
        if runlog is not None:
            runlog.close()
    out().print(figures_table(figures, by))
    for note in figures.notes:
        out().print(f"※ {note}", markup=False, highlight=False)
    out().print(f"レポート (report): {path}", markup=False, highlight=False, soft_wrap=True)
    return ExitCode.OK


def _targets(project: Project, runlog: RunLog | None) -> tuple[Targets | None, dict[str, str]]:
    """``kpi.yaml`` of the project (None without one), checked against the bots it knows; and
    the names of the project's bots (for bots with a target but no run yet)."""
    from framework.reports.targets import FILE_NAME, load_targets, project_bots

    bots = project_bots(project.bots_dir)
    names = {bot_id: name for bot_id, (_department, name) in bots.items()}
    path = project.root / FILE_NAME
    if not path.exists():
        return None, names
    known = {bot_id: department for bot_id, (department, _name) in bots.items()}
    if runlog is not None:
        known = runlog.bot_departments() | known
    return load_targets(path, project.shown(path), known), names


def _out_path(given: str | None, reports: Path, figures: Figures, fmt: str) -> Path:
    """``--out``, or a dated name in it when it is a folder (or ends with /), or in ``reports``."""
    name = f"kpi-{figures.period.slug}-{figures.generated_at:%Y%m%d-%H%M%S}.{fmt}"
    if given is None:
        return reports / name
    if given.endswith(("/", "\\")) or Path(given).is_dir():
        return Path(given) / name
    return Path(given)


def _text(figures: Figures, fmt: str, by: Breakdown) -> str:
    if fmt == "csv":
        from framework.reports.tabular import to_csv

        return to_csv(figures, by)
    if fmt == "json":
        from framework.reports.tabular import to_json

        return to_json(figures)
    from framework.reports.html import render_html

    return render_html(figures)


def _write(figures: Figures, fmt: str, by: Breakdown, runlog: RunLog | None, path: Path) -> None:
    """Write the report through a temporary file, so a failure never leaves half a report."""
    if fmt == "xlsx":
        from framework.reports.xlsx import write_xlsx

        write_xlsx(figures, runlog, path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=".kakari-", suffix=f".{fmt}", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(_text(figures, fmt, by))
        os.replace(scratch, path)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)


def _usual_mode(path: Path) -> None:
    """The permissions of any new file (temporary files are created owner-only): a report
    holds no personal data and is meant to be passed on."""
    mask = os.umask(0)
    os.umask(mask)
    path.chmod(0o666 & ~mask)


def figures_table(figures: Figures, by: Breakdown) -> Table:
    """The breakdown as the terminal shows it, with a 合計 row."""
    from framework.reports.columns import KEY_COLUMNS, SUMMARY_COLUMNS, shown

    period = figures.period
    table = Table(title=f"削減時間 {period.label}（{period.span}）", title_justify="left")
    keys = KEY_COLUMNS[by][:2]  # the bot's display name is left to the files (width)
    for column in keys:
        table.add_column(column.narrow, no_wrap=True, min_width=10)
    for column in SUMMARY_COLUMNS:
        table.add_column(column.narrow, justify="right", min_width=5)
    for line in figures.breakdown(by):
        table.add_row(
            *[shown(c.kind, c.value(line)) for c in keys],
            *[shown(c.kind, c.value(line)) for c in SUMMARY_COLUMNS],
        )
    total = figures.total
    table.add_section()
    table.add_row(
        "合計",
        *[""] * (len(keys) - 1),
        *[shown(c.kind, c.value(total)) for c in SUMMARY_COLUMNS],
        style="bold",
    )
    return table
