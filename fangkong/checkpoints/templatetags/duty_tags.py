"""Template filters of the duty pages: shift times in Asia/Shanghai, a gap's end at midnight
written 24:00."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def hm_end(value: dt.datetime | None) -> str:
    """The end of a part of a day: ``HH:MM``, midnight written ``24:00``."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return "24:00" if (local.hour, local.minute) == (0, 0) else f"{local:%H:%M}"


@register.filter
def shift_span(shift: Any) -> str:
    """``08:00–16:00``, or ``22:00–08:00 (+1)`` for a shift ending on a later day."""
    start, end = timezone.localtime(shift.start), timezone.localtime(shift.end)
    days = (end.date() - start.date()).days
    if days and (end.hour, end.minute) == (0, 0) and days == 1:
        return f"{start:%H:%M}–24:00"
    suffix = f" (+{days})" if days else ""
    return f"{start:%H:%M}–{end:%H:%M}{suffix}"


@register.filter
def gap_span(gap: tuple[dt.datetime, dt.datetime]) -> str:
    """``2020-02-05 08:00–12:00`` within a day (midnight at the end written 24:00), else
    ``2020-02-05 22:00–2020-02-06 06:00``."""
    start, end = timezone.localtime(gap[0]), timezone.localtime(gap[1])
    if end.date() == start.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    if end.date() == start.date() + dt.timedelta(days=1) and (end.hour, end.minute) == (0, 0):
        return f"{start:%Y-%m-%d %H:%M}–24:00"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"
