"""The deadline and timeliness of the daily report: pure functions of days, times and the
rules in force.

A day's report is due at the deadline of that day in Asia/Shanghai (13:00 by default): one
submitted at the deadline or before is on time, one submitted a second later is late. Whether
a report is late is decided by its first submission: a correction after the office returned it
does not make it late."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import ReportingRules


def current_rules() -> ReportingRules:
    """The rules in force (the defaults until the office changes them)."""
    rules = ReportingRules.objects.filter(pk=ReportingRules.SINGLETON_PK).first()
    return rules if rules is not None else ReportingRules(pk=ReportingRules.SINGLETON_PK)


def deadline_of(day: dt.date, rules: ReportingRules) -> dt.datetime:
    """The aware moment ``day``'s report is due (local time)."""
    return dt.datetime.combine(day, rules.deadline, tzinfo=timezone.get_current_timezone())


def is_late(day: dt.date, submitted_at: dt.datetime, rules: ReportingRules) -> bool:
    return submitted_at > deadline_of(day, rules)


def is_due(day: dt.date, now: dt.datetime, rules: ReportingRules) -> bool:
    """Whether ``day``'s deadline has passed at ``now`` (a report still missing is missing)."""
    return now >= deadline_of(day, rules)
