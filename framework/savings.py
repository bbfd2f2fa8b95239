"""The time-saved figure: what staff would have spent by hand, from the bot's baseline.

This is the number the DX office feeds into the city's KPIs, so it is computed in one place and
stored with each run together with the baseline that produced it (a later change of baseline never
rewrites past figures).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from framework.outcome import ItemStatus


@dataclass(frozen=True)
class BaselineFigures:
    """The three manual-time figures of a bot's baseline, as a run used them."""

    minutes_per_item: float
    minutes_per_run: float
    minutes_per_exception: float = 0.0


def exception_items(counts: Mapping[ItemStatus, int]) -> int:
    """Items a person had to handle: refused, failed, bad input, needing review."""
    return sum(n for status, n in counts.items() if status.needs_attention)


def minutes_saved(
    done_items: int, exceptions: int, batch_completed: bool, baseline: BaselineFigures
) -> float:
    """Minutes saved by one run.

    ``done × minutes per item − exceptions × minutes per exception``, plus ``minutes per run``
    only when ``batch_completed``: the run went to its end and did real work (at least one item
    done, or - for a workflow without items - its steps completed). An aborted batch still
    needed a person to finish it, so it counts its done items only; the time staff spend on
    each exception is always subtracted, so a run full of exceptions can save less than
    nothing. Items skipped because an earlier run entered them count in that earlier run.
    """
    minutes = done_items * baseline.minutes_per_item
    minutes -= exceptions * baseline.minutes_per_exception
    if batch_completed:
        minutes += baseline.minutes_per_run
    return round(minutes, 2)
