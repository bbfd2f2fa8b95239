"""The time-saved figure (the KPI the DX office reports)."""

from __future__ import annotations

import pytest

from framework.outcome import ItemStatus
from framework.savings import BaselineFigures, exception_items, minutes_saved

BASELINE = BaselineFigures(minutes_per_item=6, minutes_per_run=10, minutes_per_exception=3)


@pytest.mark.parametrize(
    ("done", "exceptions", "completed", "expected"),
    [
        (35, 3, True, 35 * 6 - 3 * 3 + 10),  # the demo
        (35, 0, True, 220),
        (10, 2, False, 10 * 6 - 2 * 3),  # aborted: done items only, no per-run minutes
        (0, 0, False, 0),
        (0, 5, False, -15),  # a run of exceptions costs staff time: never hidden
    ],
)
def test_minutes_saved(done: int, exceptions: int, completed: bool, expected: float) -> None:
    assert minutes_saved(done, exceptions, completed, BASELINE) == expected


def test_exception_items_are_the_ones_a_person_handles() -> None:
    counts = {
        ItemStatus.DONE: 5,
        ItemStatus.SKIPPED: 4,
        ItemStatus.BUSINESS_ERROR: 1,
        ItemStatus.SYSTEM_ERROR: 2,
        ItemStatus.BAD_INPUT: 3,
        ItemStatus.NEEDS_REVIEW: 1,
    }
    assert exception_items(counts) == 7
