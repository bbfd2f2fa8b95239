"""The time-saved figure: what staff would have spent by hand, from the bot's baseline.

This is the number the DX office feeds into the city's KPIs, so it is computed in one place and
stored with each run together with the baseline that produced it (a later change of baseline never
rewrites past figures).
"""

from __future__ import annotations


def minutes_saved(
    done_items: int, batch_completed: bool, minutes_per_item: float, minutes_per_run: float
) -> float:
    """Minutes saved by one run.

    ``done items × minutes per item``, plus ``minutes per run`` only when ``batch_completed``:
    the run went to its end and did real work (at least one item done, or - for a workflow
    without items - its steps completed). An aborted batch still needed a person to finish it,
    and refused, failed or bad-input items save nothing: staff handle them by hand.
    """
    minutes = done_items * minutes_per_item
    if batch_completed:
        minutes += minutes_per_run
    return round(minutes, 2)
