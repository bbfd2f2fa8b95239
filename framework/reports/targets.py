"""``kpi.yaml``: each department's annual target of hours saved per fiscal year (and per bot).

::

    令和8年度:                    # FY2026, R8 and 令和8年度 are the same year
      障がい福祉課:
        hours: 600               # the department's annual target (hours saved)
        bots:                    # optional: targets of single bots
          welfare_entry: 500
        note: アクションプログラム No.12

Read like every other file: YAML with positions, then one pydantic model per department block, so
every problem is reported as ``kpi.yaml:LINE:COL: where: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import Field

from framework.errors import InvalidError, Problem, unknown_name
from framework.model import Strict
from framework.pydantic_yaml import validate_at
from framework.reports.period import PeriodError, fiscal_year_label, parse_period
from framework.yamlio import YamlDoc, load_yaml

FILE_NAME = "kpi.yaml"


class DepartmentTarget(Strict):
    """One department's targets for one fiscal year."""

    hours: float = Field(gt=0)
    """Hours of staff time the department's bots should save in the year."""
    bots: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    """Bot id → that bot's annual target in hours (optional, a part of ``hours``)."""
    note: str = ""
    """Where the target comes from (e.g. the action programme's item)."""


@dataclass(frozen=True)
class Targets:
    """Validated targets: fiscal year → department → its target."""

    file: str
    years: dict[int, dict[str, DepartmentTarget]] = field(default_factory=dict)

    def department(self, year: int, department: str) -> float | None:
        target = self.years.get(year, {}).get(department)
        return target.hours if target else None

    def bot(self, year: int, department: str, bot_id: str) -> float | None:
        target = self.years.get(year, {}).get(department)
        return target.bots.get(bot_id) if target else None


def load_targets(
    path: Path, shown: str = FILE_NAME, known_bots: Mapping[str, str] | None = None
) -> Targets:
    """Read and check ``kpi.yaml``; raise :class:`InvalidError` listing every problem.

    ``known_bots`` (bot id → its department, from the project and the run log) lets a misspelt
    bot or department be caught: an unknown bot id, a bot under another department, or a
    department name close to a known one but not equal to it.
    """
    doc = load_yaml(path, shown)
    problems: list[Problem] = []
    targets = _read(doc, problems, known_bots)
    if problems:
        raise InvalidError(problems)
    return targets


def _read(doc: YamlDoc, problems: list[Problem], known_bots: Mapping[str, str] | None) -> Targets:
    targets = Targets(file=doc.file)
    if doc.data is None:
        return targets
    if not isinstance(doc.data, dict):
        problems.append(
            doc.problem(
                (),
                "年度ごとに「令和8年度:」の形で書いてください"
                " (expected fiscal years as keys, e.g. 令和8年度:)",
            )
        )
        return targets
    seen: dict[int, str] = {}
    for key, block in doc.data.items():
        try:
            period = parse_period(key)
        except PeriodError:
            period = None
        if period is None or period.kind != "fiscal_year":
            problems.append(
                doc.problem(
                    (key,),
                    f"「{key}」は年度として読めません。令和8年度・R8・FY2026 のように書いてください"
                    " (expected a fiscal year)",
                    prefer_key=True,
                )
            )
            continue
        year = period.first_day.year
        if year in seen:
            problems.append(
                doc.problem(
                    (key,),
                    f"{fiscal_year_label(year)}が2回書かれています（{seen[year]} と {key}）"
                    " (the same fiscal year twice)",
                    prefer_key=True,
                )
            )
            continue
        seen[year] = key
        if not isinstance(block, dict) or not block:
            problems.append(
                doc.problem(
                    (key,),
                    "課ごとに「障がい福祉課: {hours: 600}」の形で書いてください"
                    " (expected departments with their hours)",
                )
            )
            continue
        departments: dict[str, DepartmentTarget] = {}
        for department, raw in block.items():
            path = (key, department)
            target = validate_at(doc, path, DepartmentTarget, raw, problems)
            if target is not None:
                departments[department] = target
                _check_sum(doc, path, target, problems)
            if known_bots is not None:
                bots = raw.get("bots") if isinstance(raw, dict) else None
                names = [str(b) for b in bots] if isinstance(bots, dict) else []
                _check_names(doc, path, department, names, problems, known_bots)
        targets.years[year] = departments
    return targets


def _check_sum(
    doc: YamlDoc, path: tuple[str, str], target: DepartmentTarget, problems: list[Problem]
) -> None:
    parts = sum(target.bots.values())
    if parts > target.hours + 1e-9:
        problems.append(
            doc.problem(
                (*path, "bots"),
                f"ボットの目標の合計（{parts:g} 時間）が課の目標（{target.hours:g} 時間）"
                "を超えています (bot targets add up to more than the department's)",
                prefer_key=True,
            )
        )


def _check_names(
    doc: YamlDoc,
    path: tuple[str, str],
    department: str,
    bot_ids: list[str],
    problems: list[Problem],
    known_bots: Mapping[str, str],
) -> None:
    """A department close to a known one but not it, a bot nobody knows, a bot of another."""
    departments = sorted(set(known_bots.values()))
    if department not in departments:
        close = difflib.get_close_matches(department, departments, n=1, cutoff=0.6)
        if close:
            problems.append(
                doc.problem(
                    path, unknown_name("課", "department", department, close), prefer_key=True
                )
            )
    for bot_id in bot_ids:
        where = (*path, "bots", bot_id)
        if bot_id not in known_bots:
            message = unknown_name("ボット", "bot", bot_id, sorted(known_bots))
            problems.append(doc.problem(where, message, prefer_key=True))
        elif known_bots[bot_id] != department:
            problems.append(
                doc.problem(
                    where,
                    f"ボット {bot_id} は {known_bots[bot_id]} のボットです"
                    f" (bot {bot_id!r} belongs to {known_bots[bot_id]})",
                    prefer_key=True,
                )
            )


def project_bots(bots_dir: Path) -> dict[str, tuple[str, str]]:
    """Bot id → (department, name), read from each ``bots/<id>/bot.yaml`` (unreadable: left out)."""
    found: dict[str, tuple[str, str]] = {}
    for manifest in sorted(bots_dir.glob("*/bot.yaml")):
        try:
            data = load_yaml(manifest).data
        except InvalidError:
            continue
        if isinstance(data, dict) and isinstance(data.get("department"), str):
            found[manifest.parent.name] = (data["department"], str(data.get("name") or ""))
    return found
