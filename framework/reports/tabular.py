"""CSV (UTF-8 with BOM, for Excel in Japan) and JSON (for other tools) renderings of the figures."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from framework.reports.columns import FULL_COLUMNS, KEY_COLUMNS, plain
from framework.reports.figures import FORMULA, FORMULA_EN, Breakdown, Figures, Line
from framework.runlog import BaselineUse

BOM = "\ufeff"


def to_csv(figures: Figures, by: Breakdown) -> str:
    """One row per line of the breakdown and a 合計 row; the period in the first column.

    Returned as text that starts with a BOM; write it with ``newline=""`` (rows end in CRLF).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    keys = KEY_COLUMNS[by]
    headers = [f"{c.header}（%）" if c.kind == "percent" else c.header for c in FULL_COLUMNS]
    writer.writerow(["期間", *[c.header for c in keys], *headers])
    period = figures.period.label
    for line in figures.breakdown(by):
        writer.writerow(
            [
                period,
                *[plain(c.kind, c.value(line)) for c in keys],
                *[_cell(plain(c.kind, c.value(line))) for c in FULL_COLUMNS],
            ]
        )
    writer.writerow(
        [
            period,
            "合計",
            *[""] * (len(keys) - 1),
            *[_cell(plain(c.kind, c.value(figures.total))) for c in FULL_COLUMNS],
        ]
    )
    return BOM + buffer.getvalue()


def _cell(value: str | int | float | None) -> str | int | float:
    return "" if value is None else value


def to_json(figures: Figures) -> str:
    """Every breakdown, the baselines and the notes; English keys, figures unformatted."""
    period = figures.period
    payload: dict[str, Any] = {
        "report": "kakari.kpi",
        "version": 1,
        "generated_at": figures.generated_at.isoformat(),
        "period": {
            "kind": period.kind,
            "label": period.label,
            "first_day": period.first_day.isoformat(),
            "last_day": period.last_day.isoformat(),
            "fiscal_years": period.fiscal_years(),
        },
        "targets_file": figures.targets_file,
        "formula": {"ja": FORMULA, "en": FORMULA_EN},
        "empty": figures.empty,
        "partly_targeted": figures.partly_targeted,
        "notes": figures.notes,
        "total": _line(figures.total),
        "by_department": [_line(x, "department") for x in figures.by_department],
        "by_bot": [_line(x, "bot") for x in figures.by_bot],
        "by_month": [_line(x, "month") for x in figures.by_month],
        "baselines": [_baseline(b) for b in figures.baselines],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def _line(line: Line, by: Breakdown | None = None) -> dict[str, Any]:
    tally = line.tally
    out: dict[str, Any] = {}
    if by == "month":
        out["month"] = line.month
    elif by is not None:
        out["department"] = line.department
        if by == "bot":
            out["bot_id"] = line.bot_id
            out["bot_name"] = line.bot_name
    out.update(
        {
            "runs": tally.runs,
            "running": tally.running,
            "completed": tally.completed,
            "aborted": tally.aborted,
            "runs_needing_person": tally.needing_person,
            "items": {status.value: n for status, n in tally.items.items()},
            "exception_items": tally.exception_items,
            "wall_hours": round(tally.wall_hours, 4),
            "minutes_saved": round(tally.minutes_saved, 2),
            "hours_saved": round(tally.hours_saved, 4),
            "target_hours": None if line.target_hours is None else round(line.target_hours, 4),
            "achievement": None if line.achievement is None else round(line.achievement, 4),
            "achieved_hours": (
                None if line.achieved_hours is None else round(line.achieved_hours, 4)
            ),
        }
    )
    return out


def _baseline(use: BaselineUse) -> dict[str, Any]:
    return {
        "department": use.department,
        "bot_id": use.bot_id,
        "minutes_per_item": use.minutes_per_item,
        "minutes_per_run": use.minutes_per_run,
        "minutes_per_exception": use.minutes_per_exception,
        "measured_by": use.measured_by,
        "measured_on": use.measured_on,
        "first_run": use.first_started,
        "last_run": use.last_started,
        "runs": use.runs,
        "minutes_saved": round(use.minutes_saved, 2),
    }
