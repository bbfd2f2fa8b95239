"""Cron expressions as staff write them in ``schedules:``: parsed and checked without apscheduler.

The format is the usual crontab one, ``分 時 日 月 曜日`` (``0 19 * * mon-fri``), optionally with
seconds in front (``30 0 19 * * mon-fri``). Each field is ``*``, a number or name, a range
``a-b``, a step ``*/n`` or ``a-b/n``, or a comma list of those. Weekday numbers mean what they
mean in crontab (0 and 7 are Sunday, 1 is Monday).

Every field is expanded here into an explicit list before the scheduler sees it, so the meaning
is ours alone: APScheduler 3 counts weekdays from Monday (``1-5`` would be Tuesday to Saturday)
and combines day-of-month and weekday with "and" where crontab uses "or". Restricting both the
day of the month and the weekday is therefore refused as ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAYS_JA = "日月火水木金土"


@dataclass(frozen=True)
class _Field:
    name: str
    ja: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Names accepted instead of numbers, the first one standing for ``first_name``."""
    first_name: int = 0


_SECOND = _Field("second", "秒", 0, 59)
_FIELDS = (
    _Field("minute", "分", 0, 59),
    _Field("hour", "時", 0, 23),
    _Field("day", "日", 1, 31),
    _Field("month", "月", 1, 12, _MONTHS, 1),
    _Field("day_of_week", "曜日", 0, 7, _WEEKDAYS, 0),
)


class CronError(ValueError):
    """A cron expression that cannot be used; the message says which field and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class CronSpec:
    """A checked cron expression: each field as the set of values it allows (None = every)."""

    text: str
    second: tuple[int, ...]
    minute: tuple[int, ...] | None
    hour: tuple[int, ...] | None
    day: tuple[int, ...] | None
    month: tuple[int, ...] | None
    day_of_week: tuple[int, ...] | None
    """Weekdays as in crontab: 0 = Sunday ... 6 = Saturday."""

    def trigger_fields(self) -> dict[str, str]:
        """The fields in APScheduler 3's ``CronTrigger`` terms (explicit lists, named weekdays)."""

        def listed(values: tuple[int, ...] | None) -> str:
            return "*" if values is None else ",".join(str(v) for v in values)

        weekdays = (
            "*" if self.day_of_week is None else ",".join(_WEEKDAYS[d] for d in self.day_of_week)
        )
        return {
            "second": listed(self.second),
            "minute": listed(self.minute),
            "hour": listed(self.hour),
            "day": listed(self.day),
            "month": listed(self.month),
            "day_of_week": weekdays,
        }

    def describe(self) -> str:
        """A short Japanese reading for staff, e.g. ``月〜金 19:00``."""
        if self.day_of_week is not None:
            days = _weekday_words(self.day_of_week)
        elif self.day is not None:
            days = "毎月" + "・".join(f"{d}日" for d in self.day)
        else:
            days = "毎日"
        if self.month is not None:
            days = "・".join(f"{m}月" for m in self.month) + " " + days
        if (
            self.hour is not None
            and self.minute is not None
            and len(self.hour) * len(self.minute) <= 4
        ):
            seconds = self.second != (0,)
            times = [
                f"{h:02d}:{m:02d}" + (f":{s:02d}" if seconds else "")
                for h in self.hour
                for m in self.minute
                for s in self.second
            ]
            return f"{days} {'・'.join(times)}"
        return f"{days} ({self.text})"


def _weekday_words(days: tuple[int, ...]) -> str:
    if days == (1, 2, 3, 4, 5):
        return "月〜金"
    if len(days) == 7:
        return "毎日"
    return "・".join(_WEEKDAYS_JA[d] for d in days)


def parse_cron(text: str) -> CronSpec:
    """Check a cron expression and expand its fields; raise :class:`CronError` if it is wrong."""
    parts = text.split()
    if len(parts) not in (5, 6):
        raise CronError(
            "cron は「分 時 日 月 曜日」の5項目（先頭に秒を加えた6項目も可）を空白で区切って"
            f"書いてください。例: 0 19 * * mon-fri (expected 5 fields, got {len(parts)})"
        )
    second: tuple[int, ...] = (0,)
    if len(parts) == 6:
        parsed_second = _parse_field(_SECOND, parts[0])
        second = parsed_second if parsed_second is not None else tuple(range(60))
        parts = parts[1:]
    minute, hour, day, month, weekday = (
        _parse_field(spec, part) for spec, part in zip(_FIELDS, parts, strict=True)
    )
    if weekday is not None:
        weekday = tuple(sorted({d % 7 for d in weekday}))
        if len(weekday) == 7:
            weekday = None
    if day is not None and weekday is not None:
        raise CronError(
            "日と曜日の両方は指定できません（どちらかを * にしてください。営業日だけにするには"
            " calendar: business_days を使います） (day of month and weekday both restricted)"
        )
    return CronSpec(text.strip(), second, minute, hour, day, month, weekday)


def _parse_field(spec: _Field, text: str) -> tuple[int, ...] | None:
    """The values a field allows, sorted; None for ``*`` (every value)."""
    if text == "*":
        return None
    values: set[int] = set()
    for part in text.split(","):
        values |= _parse_part(spec, part)
    return tuple(sorted(values))


def _parse_part(spec: _Field, part: str) -> set[int]:
    body, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(
                f"{spec.ja}: 「/」の後は1以上の数を書いてください: {part!r}"
                f" (bad step in {spec.name})"
            )
        step = int(step_text)
    if body == "*":
        low, high = spec.low, spec.high
    elif "-" in body:
        first, _, last = body.partition("-")
        low, high = _value(spec, first, part), _value(spec, last, part)
        if low > high:
            raise CronError(
                f"{spec.ja}: 範囲は小さい方から書いてください: {part!r}"
                f" (range start after its end in {spec.name})"
            )
    else:
        low = _value(spec, body, part)
        if slash:
            raise CronError(
                f"{spec.ja}: 「/」は * か範囲（a-b）の後に書いてください: {part!r}"
                f" (a step needs * or a range in {spec.name})"
            )
        high = low
    return set(range(low, high + 1, step))


def _value(spec: _Field, text: str, part: str) -> int:
    lowered = text.lower()
    if spec.names and lowered in spec.names:
        return spec.names.index(lowered) + spec.first_name
    if text.isdigit() and spec.low <= int(text) <= spec.high:
        return int(text)
    allowed = f"{spec.low}〜{spec.high}"
    if spec.names:
        allowed += f" または {spec.names[0]}〜{spec.names[-1]}"
    raise CronError(
        f"{spec.ja}: 「{text}」は使えません（{allowed}）: {part!r}"
        f" (invalid {spec.name} value {text!r})"
    )
