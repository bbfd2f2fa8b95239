"""The columns of a breakdown row, shared by every format: header, value and how to show it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from framework.reports.figures import Breakdown, Line

Kind = Literal["text", "count", "hours", "minutes", "percent"]


@dataclass(frozen=True)
class Column:
    key: str
    """The English name (JSON keys, CSS classes)."""
    header: str
    """The Japanese header staff read."""
    kind: Kind
    value: Callable[[Line], str | int | float | None]
    short: str = ""
    """A narrower header for the terminal."""

    @property
    def narrow(self) -> str:
        return self.short or self.header


KEY_COLUMNS: dict[Breakdown, tuple[Column, ...]] = {
    "department": (Column("department", "担当課", "text", lambda x: x.department),),
    "bot": (
        Column("department", "担当課", "text", lambda x: x.department),
        Column("bot_id", "ボットID", "text", lambda x: x.bot_id),
        Column("bot_name", "ボット名", "text", lambda x: x.bot_name),
    ),
    "month": (Column("month", "月", "text", lambda x: x.month_label),),
}

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("runs", "実行回数", "count", lambda x: x.tally.runs, "実行"),
    Column("runs_needing_person", "要対応の実行", "count", lambda x: x.tally.needing_person),
    Column("done", "登録済み件数", "count", lambda x: x.tally.done, "登録済み"),
    Column("exception_items", "要対応件数", "count", lambda x: x.tally.exception_items),
    Column("wall_hours", "稼働時間（時間）", "hours", lambda x: x.tally.wall_hours, "稼働h"),
    Column("hours_saved", "削減時間（時間）", "hours", lambda x: x.tally.hours_saved, "削減h"),
    Column("target_hours", "目標（時間）", "hours", lambda x: x.target_hours, "目標h"),
    Column("achievement", "達成率", "percent", lambda x: x.achievement),
)
"""What the screen, the workbook's summary and the HTML page show per row."""

FULL_COLUMNS: tuple[Column, ...] = (
    Column("runs", "実行回数", "count", lambda x: x.tally.runs),
    Column("completed", "完了", "count", lambda x: x.tally.completed),
    Column("aborted", "中断", "count", lambda x: x.tally.aborted),
    Column("runs_needing_person", "要対応の実行", "count", lambda x: x.tally.needing_person),
    Column("done", "登録済み", "count", lambda x: x.tally.done),
    Column("business_error", "登録不可", "count", lambda x: x.tally.business_error),
    Column("system_error", "システムエラー", "count", lambda x: x.tally.system_error),
    Column("bad_input", "入力不備", "count", lambda x: x.tally.bad_input),
    Column("needs_review", "要確認", "count", lambda x: x.tally.needs_review),
    Column("skipped", "スキップ", "count", lambda x: x.tally.skipped),
    Column("exception_items", "要対応件数", "count", lambda x: x.tally.exception_items),
    Column("wall_hours", "稼働時間（時間）", "hours", lambda x: x.tally.wall_hours),
    Column("minutes_saved", "削減時間（分）", "minutes", lambda x: x.tally.minutes_saved),
    Column("hours_saved", "削減時間（時間）", "hours", lambda x: x.tally.hours_saved),
    Column("target_hours", "目標（時間）", "hours", lambda x: x.target_hours),
    Column("achievement", "達成率", "percent", lambda x: x.achievement),
)
"""Every figure of a row (CSV)."""


def plain(kind: Kind, value: str | int | float | None) -> str | int | float | None:
    """A value rounded the way files carry it: hours and minutes to 2 places, % to 1."""
    if value is None or isinstance(value, str) or kind == "count":
        return value
    if kind == "percent":
        return round(value * 100, 1)
    return round(value, 2)


def shown(kind: Kind, value: str | int | float | None) -> str:
    """A value as people read it on screen and on paper: 1,234 / 12.5 / 45.3% / —."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if kind == "count":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{value * 100:,.1f}%"
    return f"{value:,.1f}"
