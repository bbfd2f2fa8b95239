"""The HTML report: one self-contained page (inline CSS and SVG charts, no script) for PC and print.

The office network has no internet, so the page loads nothing: no scripts, fonts, images or style
sheets from anywhere. Charts are drawn here as small SVG documents; every number they show is also
in a table next to them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from framework.reports.columns import KEY_COLUMNS, SUMMARY_COLUMNS, Column, shown
from framework.reports.figures import FORMULA, NO_RUNS, Breakdown, Figures, Line

WIDTH = 560


@dataclass(frozen=True)
class _Cell:
    text: str
    css: str


@dataclass(frozen=True)
class _Row:
    cells: list[_Cell]
    total: bool = False


@dataclass(frozen=True)
class _Table:
    title: str
    headers: list[str]
    rows: list[_Row]


def _nice_top(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 × 10ⁿ)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _tick(value: float, scale_max: float) -> str:
    return f"{value:,.0f}" if scale_max >= 10 else f"{value:,.1f}"


def _short(label: str, limit: int = 11) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(rows: Sequence[tuple[str, float, float | None]]) -> Markup:
    """Horizontal bars of hours saved per row, a mark at each row's target."""
    if not rows:
        return Markup('<p class="explain">データがありません (no data)</p>')
    left, right, bar, gap, top = 150, 60, 18, 12, 8
    height = top + len(rows) * (bar + gap) + 48
    scale_max = _nice_top(max(max(h, t or 0) for _, h, t in rows))
    span = WIDTH - left - right

    def x(value: float) -> float:
        return left + span * value / scale_max

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" xmlns="http://www.w3.org/2000/svg"'
        ' aria-label="担当課別の削減時間と目標">',
        "<title>担当課別の削減時間と目標（時間）</title>",
    ]
    axis_y = top + len(rows) * (bar + gap)
    for step in range(5):
        value = scale_max * step / 4
        parts.append(
            f'<line class="axis" x1="{x(value):.1f}" y1="{top}" x2="{x(value):.1f}"'
            f' y2="{axis_y}"/>'
            f'<text x="{x(value):.1f}" y="{axis_y + 14}" text-anchor="middle">'
            f"{_tick(value, scale_max)}</text>"
        )
    for index, (label, hours, target) in enumerate(rows):
        y = top + index * (bar + gap)
        parts.append(
            f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end">{escape(_short(label))}'
            f"<title>{escape(label)}</title></text>"
            f'<rect class="bar" x="{left}" y="{y}" width="{max(0.0, x(hours) - left):.1f}"'
            f' height="{bar}"><title>{escape(label)}: {hours:,.1f} 時間</title></rect>'
            f'<text x="{x(hours) + 4:.1f}" y="{y + bar - 4}">{hours:,.1f}</text>'
        )
        if target:
            parts.append(
                f'<line class="goal" x1="{x(target):.1f}" y1="{y - 3}" x2="{x(target):.1f}"'
                f' y2="{y + bar + 3}"><title>目標 {target:,.1f} 時間</title></line>'
            )
    parts.append(_legend(left, height - 6, dashed=False))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(x: float, y: float, *, dashed: bool, saved_label: str = "削減時間") -> str:
    offset = 12 * max(0, len(saved_label) - 4)  # room for a longer label
    goal = (
        f'<line class="goal-line" x1="{x + 110 + offset}" y1="{y - 5}"'
        f' x2="{x + 140 + offset}" y2="{y - 5}"/>'
        if dashed
        else f'<line class="goal" x1="{x + 125 + offset}" y1="{y - 12}"'
        f' x2="{x + 125 + offset}" y2="{y + 1}"/>'
    )
    saved = (
        f'<line class="saved-line" x1="{x}" y1="{y - 5}" x2="{x + 30}" y2="{y - 5}"/>'
        if dashed
        else f'<rect class="bar" x="{x}" y="{y - 11}" width="24" height="10"/>'
    )
    return (
        f"{saved}<text x='{x + 34}' y='{y}'>{escape(saved_label)}</text>"
        f"{goal}<text x='{x + 144 + offset}' y='{y}'>目標</text>"
    )


def line_chart(
    points: Sequence[tuple[str, float, float | None]], saved_label: str = "削減時間"
) -> Markup:
    """Cumulative hours saved by month (solid) against the cumulative target (dashed)."""
    left, right, top, bottom = 56, 16, 10, 48
    height = 260
    plot_h = height - top - bottom
    scale_max = _nice_top(max([h for _, h, _ in points] + [t or 0 for _, _, t in points]))
    step_x = (WIDTH - left - right) / max(1, len(points))

    def x(index: int) -> float:
        return left + step_x * (index + 0.5)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / scale_max)

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" xmlns="http://www.w3.org/2000/svg"'
        ' aria-label="累計の削減時間と目標">',
        "<title>累計の削減時間と目標（時間）</title>",
    ]
    for step in range(5):
        value = scale_max * step / 4
        parts.append(
            f'<line class="axis" x1="{left}" y1="{y(value):.1f}" x2="{WIDTH - right}"'
            f' y2="{y(value):.1f}"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{_tick(value, scale_max)}</text>"
        )
    for index, (label, _hours, _target) in enumerate(points):
        parts.append(
            f'<text x="{x(index):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    saved = " ".join(f"{x(i):.1f},{y(h):.1f}" for i, (_, h, _) in enumerate(points))
    parts.append(f'<polyline class="saved-line" points="{saved}"/>')
    for index, (label, hours, _target) in enumerate(points):
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(hours):.1f}" r="3" fill="#2f7d4f">'
            f"<title>{escape(label)}: {hours:,.1f} 時間</title></circle>"
        )
    goals = [(i, t) for i, (_, _, t) in enumerate(points) if t is not None]
    if goals:
        line = " ".join(f"{x(i):.1f},{y(t):.1f}" for i, t in goals)
        parts.append(f'<polyline class="goal-line" points="{line}"/>')
    parts.append(_legend(left, height - 8, dashed=True, saved_label=saved_label))
    parts.append("</svg>")
    return Markup("".join(parts))


def _cells(line: Line, keys: Sequence[Column], columns: Sequence[Column]) -> list[_Cell]:
    cells = [_Cell(shown(c.kind, c.value(line)), c.key) for c in keys]
    cells += [_Cell(shown(c.kind, c.value(line)), f"num {c.key}") for c in columns]
    return cells


def _table(title: str, by: Breakdown, figures: Figures) -> _Table:
    keys = KEY_COLUMNS[by]
    rows = [_Row(_cells(line, keys, SUMMARY_COLUMNS)) for line in figures.breakdown(by)]
    total = _cells(figures.total, keys, SUMMARY_COLUMNS)
    total[0] = _Cell("合計", total[0].css)
    headers = [c.header for c in (*keys, *SUMMARY_COLUMNS)]
    if by == "month":
        headers += [
            "累計削減時間（目標のある課）" if figures.partly_targeted else "累計削減時間（時間）",
            "累計目標（時間）",
        ]
        for row, (_month, hours, target) in zip(rows, figures.cumulative(), strict=True):
            row.cells.append(_Cell(shown("hours", hours), "num"))
            row.cells.append(_Cell(shown("hours", target), "num"))
        total += [_Cell("", "num"), _Cell("", "num")]
    return _Table(title, headers, [*rows, _Row(total, total=True)])


def _baseline_table(figures: Figures) -> _Table:
    headers = [
        "担当課",
        "ボットID",
        "1件あたり（分）",
        "1回あたり（分）",
        "例外1件あたり（分）",
        "測定者",
        "測定日",
        "適用した実行（回）",
        "期間（最初〜最後の実行）",
        "削減時間（時間）",
    ]
    rows = [
        _Row(
            [
                _Cell(use.department, ""),
                _Cell(use.bot_id, ""),
                _Cell(f"{use.minutes_per_item:g}", "num"),
                _Cell(f"{use.minutes_per_run:g}", "num"),
                _Cell(f"{use.minutes_per_exception:g}", "num"),
                _Cell(use.measured_by, ""),
                _Cell(use.measured_on, "date"),
                _Cell(shown("count", use.runs), "num"),
                _Cell(f"{use.first_started[:10]}〜{use.last_started[:10]}", "date"),
                _Cell(shown("hours", use.minutes_saved / 60), "num"),
            ]
        )
        for use in figures.baselines
    ]
    return _Table("基準値（どの基準でどの数値が出たか） (baselines)", headers, rows)


def render_html(figures: Figures) -> str:
    """The whole page as one string (UTF-8 when written)."""
    env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    source = resources.files("framework.reports").joinpath("templates/report.html")
    template = env.from_string(source.read_text(encoding="utf-8"))
    tally = figures.total.tally
    achievement = shown("percent", figures.total.achievement)
    if figures.partly_targeted:
        counted = shown("hours", figures.total.counted_hours)
        achievement += f"（目標のある課 {counted} 時間）"
    cards = [
        ("削減時間（時間）", shown("hours", tally.hours_saved)),
        ("目標（時間）", shown("hours", figures.total.target_hours)),
        ("達成率", achievement),
        ("実行回数", shown("count", tally.runs)),
        ("人の対応が必要だった実行", shown("count", tally.needing_person)),
        ("登録済み件数", shown("count", tally.done)),
        ("要対応件数", shown("count", tally.exception_items)),
        ("ボットの稼働時間（時間）", shown("hours", tally.wall_hours)),
    ]
    departments = [
        (line.department, line.tally.hours_saved, line.target_hours)
        for line in figures.by_department
    ]
    several_years = len(figures.period.fiscal_years()) > 1
    cumulative = [
        (f"{month[2:4]}/{int(month[5:7])}" if several_years else f"{int(month[5:7])}月", h, t)
        for month, h, t in figures.cumulative()
    ]
    tables = [
        _table("担当課別 (by department)", "department", figures),
        _table("ボット別 (by bot)", "bot", figures),
        _table("月別 (by month)", "month", figures),
    ]
    if figures.baselines:
        tables.append(_baseline_table(figures))
    return template.render(
        period=figures.period,
        generated_at=f"{figures.generated_at:%Y-%m-%d %H:%M}",
        targets_file=figures.targets_file,
        notes=figures.notes,
        no_runs=NO_RUNS,
        cards=[{"label": label, "value": value} for label, value in cards],
        department_chart=bar_chart(departments),
        cumulative_chart=line_chart(
            cumulative,
            "削減時間（目標のある課）" if figures.partly_targeted else "削減時間",
        ),
        tables=tables,
        formula=FORMULA,
    )
