"""Period arithmetic and check windows: pure functions of dates, times and the rules.

The observation period is counted from a day (the last contact or the arrival): with N days
of isolation and M of health monitoring, isolation lasts until day N after that day and the
episode until day N+M (the last day, when release is due). A check window is [from, until)
in Asia/Shanghai: a reading at 10:00:00 is not in a 06:00–10:00 window; the window has
closed at 10:00:00."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from .models import ObservationRules, Slot


@dataclass(frozen=True)
class Period:
    isolation_end: dt.date
    planned_end: dt.date


def plan_period(counts_from: dt.date, isolation_days: int, monitoring_days: int = 0) -> Period:
    isolation_end = counts_from + dt.timedelta(days=isolation_days)
    return Period(
        isolation_end=isolation_end,
        planned_end=isolation_end + dt.timedelta(days=monitoring_days),
    )


def windows(rules: ObservationRules) -> list[tuple[str, dt.time, dt.time]]:
    return [
        (Slot.MORNING, rules.morning_start, rules.morning_end),
        (Slot.AFTERNOON, rules.afternoon_start, rules.afternoon_end),
    ]


def slot_of(when: dt.datetime, rules: ObservationRules) -> tuple[dt.date, str]:
    """The local day of ``when`` and the check window it falls in ("" for none)."""
    local = timezone.localtime(when)
    moment = local.time()
    for slot, start, end in windows(rules):
        if start <= moment < end:
            return local.date(), slot
    return local.date(), Slot.OTHER


def window_bounds(
    day: dt.date, slot: str, rules: ObservationRules
) -> tuple[dt.datetime, dt.datetime]:
    """The aware start and end of ``slot`` on ``day`` (local time)."""
    for name, start, end in windows(rules):
        if name == slot:
            zone = timezone.get_current_timezone()
            return (
                dt.datetime.combine(day, start, tzinfo=zone),
                dt.datetime.combine(day, end, tzinfo=zone),
            )
    raise ValueError(f"no check window {slot!r}")


def closed_windows(
    start: dt.datetime, end: dt.datetime, rules: ObservationRules
) -> list[tuple[dt.date, str, dt.datetime]]:
    """The windows that closed in (start, end]: (day, slot, closing time), oldest first."""
    result = []
    day = timezone.localtime(start).date()
    last = timezone.localtime(end).date()
    while day <= last:
        for slot, _from, _until in windows(rules):
            _opened, closed = window_bounds(day, slot, rules)
            if start < closed <= end:
                result.append((day, slot, closed))
        day += dt.timedelta(days=1)
    return result


def is_fever(value: Decimal, threshold: Decimal) -> bool:
    """At or above the threshold is a fever (37.3 is a fever when the threshold is 37.3)."""
    return value >= threshold


def day_end(day: dt.date) -> dt.datetime:
    """The moment ``day`` ends in local time (the next day's 00:00)."""
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
