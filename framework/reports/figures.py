"""The numbers of a KPI report, added up once from the run log; every format renders these.

Hours saved are the sum of the minutes each finished run stored (``runs.minutes_saved``, computed
by :mod:`framework.savings` with the baseline of that run), so a later change of a baseline never
changes a past figure. Targets come from ``kpi.yaml``; for a period that is only part of a fiscal
year they are prorated by days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

from framework.outcome import ItemStatus
from framework.reports.period import Period, fiscal_year_label, month_bounds
from framework.reports.targets import Targets
from framework.runlog import BaselineUse, RunFilter, RunLog, RunTally

Breakdown = Literal["department", "bot", "month"]
BREAKDOWNS: tuple[Breakdown, ...] = ("department", "bot", "month")

FORMULA = (
    "削減時間 = 登録済み件数 × 1件あたりの手作業時間 − 要対応件数 × 例外1件あたりの対応時間"
    " + 1回あたりの手作業時間（最後まで完了し登録があった実行のみ。中断した実行には加えない）"
)
FORMULA_EN = (
    "time saved = done × minutes per item − exception items × minutes per exception"
    " + minutes per run (only for runs that completed with work done; never for aborted runs)"
)


@dataclass(frozen=True)
class Tally:
    """Counts and times of a set of finished runs."""

    runs: int = 0
    running: int = 0
    """Runs still running in the period: not counted anywhere else."""
    aborted: int = 0
    needing_person: int = 0
    """Runs that had an exception item or were aborted."""
    done: int = 0
    business_error: int = 0
    system_error: int = 0
    bad_input: int = 0
    needs_review: int = 0
    skipped: int = 0
    wall_seconds: float = 0.0
    minutes_saved: float = 0.0

    @classmethod
    def of(cls, row: RunTally) -> Tally:
        return cls(
            runs=row.runs,
            running=row.running,
            aborted=row.aborted,
            needing_person=row.needing_person,
            done=row.items.get(ItemStatus.DONE, 0),
            business_error=row.items.get(ItemStatus.BUSINESS_ERROR, 0),
            system_error=row.items.get(ItemStatus.SYSTEM_ERROR, 0),
            bad_input=row.items.get(ItemStatus.BAD_INPUT, 0),
            needs_review=row.items.get(ItemStatus.NEEDS_REVIEW, 0),
            skipped=row.items.get(ItemStatus.SKIPPED, 0),
            wall_seconds=row.wall_seconds,
            minutes_saved=row.minutes_saved,
        )

    def __add__(self, other: Tally) -> Tally:
        values = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return Tally(**values)

    @property
    def completed(self) -> int:
        return self.runs - self.aborted

    @property
    def exception_items(self) -> int:
        """Items a person had to handle: refused, failed, bad input, needing review."""
        return self.business_error + self.system_error + self.bad_input + self.needs_review

    @property
    def items(self) -> dict[ItemStatus, int]:
        return {
            ItemStatus.DONE: self.done,
            ItemStatus.BUSINESS_ERROR: self.business_error,
            ItemStatus.SYSTEM_ERROR: self.system_error,
            ItemStatus.BAD_INPUT: self.bad_input,
            ItemStatus.NEEDS_REVIEW: self.needs_review,
            ItemStatus.SKIPPED: self.skipped,
        }

    @property
    def hours_saved(self) -> float:
        return self.minutes_saved / 60

    @property
    def wall_hours(self) -> float:
        return self.wall_seconds / 3600


def total(tallies: Iterable[Tally]) -> Tally:
    result = Tally()
    for tally in tallies:
        result = result + tally
    return result


@dataclass(frozen=True)
class Line:
    """One row of a breakdown (a department, a bot, a month, or the total) and its target."""

    tally: Tally
    department: str = ""
    bot_id: str = ""
    bot_name: str = ""
    month: str = ""
    """``YYYY-MM`` for month rows."""
    target_hours: float | None = None
    achieved_hours: float | None = None
    """The hours set against the target when they are not all of ``tally``'s: the total and
    the months count only departments that have a target."""

    @property
    def counted_hours(self) -> float:
        """The hours the achievement is computed from."""
        return self.tally.hours_saved if self.achieved_hours is None else self.achieved_hours

    @property
    def achievement(self) -> float | None:
        """Hours saved ÷ target (1.0 = 100 %), or None without a target."""
        if not self.target_hours:
            return None
        return self.counted_hours / self.target_hours

    @property
    def month_label(self) -> str:
        return f"{int(self.month[:4])}年{int(self.month[5:7])}月" if self.month else ""

    def label(self, by: Breakdown) -> str:
        if by == "month":
            return self.month_label
        if by == "bot":
            return self.bot_name or self.bot_id
        return self.department


@dataclass(frozen=True)
class Figures:
    """Everything a KPI report shows for one period."""

    period: Period
    generated_at: dt.datetime
    total: Line
    by_department: list[Line]
    by_bot: list[Line]
    by_month: list[Line]
    """Every month of the period in order (April first), empty months included."""
    baselines: list[BaselineUse]
    targets_file: str | None = None
    notes: list[str] = field(default_factory=list)
    """Things the reader must know to read the figures right (Japanese, English alongside)."""

    @property
    def empty(self) -> bool:
        return self.total.tally.runs == 0

    @property
    def partly_targeted(self) -> bool:
        """Some departments with runs have no target: achievements leave their hours out."""
        return self.total.target_hours is not None and any(
            line.target_hours is None and line.tally.runs for line in self.by_department
        )

    def breakdown(self, by: Breakdown) -> list[Line]:
        return {"department": self.by_department, "bot": self.by_bot, "month": self.by_month}[by]

    def cumulative(self) -> list[tuple[str, float, float | None]]:
        """Per month: hours saved so far (of the departments with a target, when there are
        targets) and the target so far (None without targets)."""
        out: list[tuple[str, float, float | None]] = []
        hours = 0.0
        target: float | None = None
        for line in self.by_month:
            hours += line.counted_hours
            if line.target_hours is not None:
                target = (target or 0.0) + line.target_hours
            out.append((line.month, hours, target))
        return out


NO_RUNS = "この期間の実行はありません (no runs in this period)"


def compute(
    runlog: RunLog | None,
    period: Period,
    targets: Targets | None,
    now: dt.datetime | None = None,
    names: Mapping[str, str] | None = None,
) -> Figures:
    """Add up the finished runs of ``period`` (one aggregate query) and set them against targets.

    ``runlog`` None means there is no run log yet: the report says there were no runs.
    ``names`` (bot id → display name) names the bots that have a target but no run.
    """
    where = RunFilter(first_day=period.first_day, last_day=period.last_day)
    rows = runlog.tally_runs(where) if runlog is not None else []
    baselines = runlog.baseline_uses(where) if runlog is not None else []
    goal = _Goals(period, targets)

    departments: dict[str, Tally] = {}
    bots: dict[tuple[str, str], Tally] = {}
    seen: dict[tuple[str, str], tuple[str, str]] = {}  # (department, bot) → (month, its name)
    months: dict[str, Tally] = {month: Tally() for month in period.months()}
    targeted: dict[str, float] = dict.fromkeys(period.months(), 0.0)  # minutes, targeted depts
    with_target = {name for name in goal.departments() if goal.department(name) is not None}
    for row in rows:
        tally = Tally.of(row)
        departments[row.department] = departments.get(row.department, Tally()) + tally
        key = (row.department, row.bot_id)
        bots[key] = bots.get(key, Tally()) + tally
        if row.month >= seen.get(key, ("", ""))[0]:
            seen[key] = (row.month, row.bot_name)
        months[row.month] = months.get(row.month, Tally()) + tally
        if row.department in with_target:
            targeted[row.month] = targeted.get(row.month, 0.0) + row.minutes_saved
    for department in goal.departments():
        departments.setdefault(department, Tally())
    for key in goal.bots():
        bots.setdefault(key, Tally())

    by_department = [
        Line(tally, department=name, target_hours=goal.department(name))
        for name, tally in sorted(departments.items())
    ]
    by_bot = [
        Line(
            tally,
            department=department,
            bot_id=bot_id,
            bot_name=seen.get((department, bot_id), ("", (names or {}).get(bot_id, "")))[1],
            target_hours=goal.bot(department, bot_id),
        )
        for (department, bot_id), tally in sorted(bots.items())
    ]
    by_month = [
        Line(
            tally,
            month=month,
            target_hours=goal.month(month),
            achieved_hours=targeted.get(month, 0.0) / 60 if with_target else None,
        )
        for month, tally in sorted(months.items())
    ]
    department_targets = [line.target_hours for line in by_department if line.target_hours]
    grand = Line(
        total(departments.values()),
        target_hours=sum(department_targets) if department_targets else None,
        achieved_hours=(
            sum(line.tally.hours_saved for line in by_department if line.target_hours)
            if department_targets
            else None
        ),
    )
    return Figures(
        period=period,
        generated_at=now or dt.datetime.now().astimezone().replace(microsecond=0),
        total=grand,
        by_department=by_department,
        by_bot=by_bot,
        by_month=by_month,
        baselines=baselines,
        targets_file=targets.file if targets else None,
        notes=_notes(period, targets, grand, by_department),
    )


class _Goals:
    """Targets of the period: annual targets prorated by the days of each fiscal year covered."""

    def __init__(self, period: Period, targets: Targets | None) -> None:
        self.period = period
        self.targets = targets

    def departments(self) -> set[str]:
        if self.targets is None:
            return set()
        years = [self.targets.years.get(y, {}) for y in self.period.fiscal_years()]
        return {name for year in years for name in year}

    def bots(self) -> set[tuple[str, str]]:
        if self.targets is None:
            return set()
        found = set()
        for year in self.period.fiscal_years():
            for department, target in self.targets.years.get(year, {}).items():
                found |= {(department, bot_id) for bot_id in target.bots}
        return found

    def _prorated(
        self, annual: Callable[[int], float | None], first: dt.date, last: dt.date
    ) -> float | None:
        """Σ over the fiscal years of ``first..last``: annual target × days covered ÷ days.

        None when one of those years has no target: a partial target would overstate the
        achievement.
        """
        part = Period("range", max(first, self.period.first_day), min(last, self.period.last_day))
        hours = 0.0
        for year in part.fiscal_years():
            target = annual(year)
            if target is None:
                return None
            whole = Period.fiscal_year(year)
            hours += target * part.overlap_days(whole.first_day, whole.last_day) / whole.days
        return hours

    def _department(self, name: str, first: dt.date, last: dt.date) -> float | None:
        targets = self.targets
        if targets is None:
            return None
        return self._prorated(lambda year: targets.department(year, name), first, last)

    def department(self, name: str) -> float | None:
        return self._department(name, self.period.first_day, self.period.last_day)

    def bot(self, department: str, bot_id: str) -> float | None:
        targets = self.targets
        if targets is None:
            return None
        return self._prorated(
            lambda year: targets.bot(year, department, bot_id),
            self.period.first_day,
            self.period.last_day,
        )

    def month(self, month: str) -> float | None:
        """The month's share of the targets of the departments that have one for the period."""
        first, last = month_bounds(month)
        parts = [
            self._department(name, first, last)
            for name in sorted(self.departments())
            if self.department(name) is not None
        ]
        known = [p for p in parts if p is not None]
        return sum(known) if known else None


def _notes(
    period: Period, targets: Targets | None, grand: Line, by_department: list[Line]
) -> list[str]:
    notes = []
    if grand.tally.runs == 0:
        notes.append(NO_RUNS)
    if grand.tally.running:
        notes.append(
            f"実行中の {grand.tally.running} 件は集計に含めていません"
            f" ({grand.tally.running} runs still running are not counted)"
        )
    if targets is None:
        notes.append(
            "kpi.yaml がないため、目標と達成率は表示していません"
            " (no kpi.yaml: no targets or achievement)"
        )
        return notes
    missing = [y for y in period.fiscal_years() if y not in targets.years]
    if missing:
        years = "、".join(fiscal_year_label(y) for y in missing)
        notes.append(f"{targets.file} に{years}の目標がありません (no targets for {years})")
    without = [
        line.department for line in by_department if line.target_hours is None and line.tally.runs
    ]
    if without and grand.target_hours is not None:
        notes.append(
            f"目標のない課: {'、'.join(without)}。合計と月別の達成率は目標のある課の削減時間で"
            "計算しています (achievement counts only departments with a target)"
        )
    whole_years = period.kind == "fiscal_year"
    if not whole_years:
        notes.append(
            "目標は年間目標を期間の日数で按分しています（年間目標 × 期間の日数 ÷ 年度の日数）"
            " (annual targets are prorated by days)"
        )
    return notes
