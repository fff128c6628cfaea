"""Demo data of the daily zero report, over the register, screening and observation demos.

For each of the last :data:`DAYS` days every demo unit files its report through the services,
as the pages would: "nothing to report" when the register had nothing abnormal that day,
otherwise the pre-filled figures with an action for each abnormal case. Most are filed in the
morning, a few after the deadline, and one unit missed one day (its lapse and alert are then
recorded by the deadline job). The office approves the reports the afternoon they come, but
returned one, which the unit corrected the next morning; the leader approved each past day's
branch report. Today's reports are filed by the units other than the demo unit head's, so that
the demo unit head has today's report to file.

Drawn from one ``random.Random(seed)``; the days follow the date of ``now``.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fangkong.core.permissions import Role
from fangkong.core.scoping import Operator
from fangkong.org import demo as org_demo
from fangkong.org.models import OrgUnit, RoleAssignment, User

from . import selectors, services
from .models import BranchReport, UnitReport

DAYS = 7
# Of the units' reports: filed after the deadline.
LATE = 0.08
# The demo unit head's unit files nothing today (theirs to do in the demo).
DEMO_HEAD = "unit_head"


@dataclass
class ReportingSummary:
    reports: int = 0
    late: int = 0
    missing: int = 0
    returned: int = 0
    branch_approved: int = 0
    seconds: float = 0.0


def seed_reporting_demo(
    *,
    seed: int = org_demo.DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> ReportingSummary:
    """Add the daily-report demo. Does nothing (an empty summary) without the demo branch, or
    when a report already exists. One transaction."""
    started = time.monotonic()
    say = progress or (lambda message: None)
    now = now or timezone.now()
    summary = ReportingSummary()
    branch = OrgUnit.objects.filter(code=org_demo.BRANCH_CODE).first()
    if branch is None or UnitReport.objects.exists():
        return summary
    rng = random.Random(seed)
    users = {u.username: u for u in User.objects.filter(username__in=["office", "leader"])}
    office, leader = users.get("office"), users.get("leader")
    heads = {
        a.org_unit_id: a.user
        for a in RoleAssignment.objects.filter(role=Role.UNIT_HEAD).select_related("user")
    }
    units = list(selectors.reporting_units(Operator()))
    if not units:
        return summary
    today = timezone.localdate(now)
    missing = (rng.choice(units).pk, today - dt.timedelta(days=3))
    returned = (rng.choice(units).pk, today - dt.timedelta(days=2))
    with transaction.atomic():
        for offset in range(DAYS, -1, -1):
            day = today - dt.timedelta(days=offset)
            for unit in units:
                head = heads.get(unit.pk)
                if (unit.pk, day) == missing:
                    summary.missing += 1
                    continue
                if offset == 0 and (head is not None and head.username == DEMO_HEAD):
                    continue
                at = _filing_time(rng, day, summary)
                if at > now:
                    continue
                report = _file(unit, day, head, at)
                summary.reports += 1
                if offset == 0 or office is None:
                    continue
                review_at = _local(day, 15, rng.randrange(60))
                if (unit.pk, day) == returned:
                    services.return_report(
                        actor=office,
                        report=report,
                        comment="发热人数与体温记录不符，请核对后重新上报。",
                        at=review_at,
                    )
                    summary.returned += 1
                    report = _file(unit, day, head, _local(day + dt.timedelta(days=1), 9, 10))
                    review_at = _local(day + dt.timedelta(days=1), 10, 0)
                services.approve_report(actor=office, report=report, at=review_at)
            if offset > 0 and leader is not None:
                services.approve_branch_report(
                    actor=leader,
                    branch=branch,
                    day=day,
                    at=_local(day + dt.timedelta(days=1), 9, 0),
                )
                summary.branch_approved += 1
        # The deadlines passed in the demo's week: the missed report's lapse and alert.
        services.find_missing_reports(now=now, since=_local(today - dt.timedelta(days=DAYS), 0, 0))
    summary.branch_approved = BranchReport.objects.count()
    say(  # not translated yet: the catalogue is updated with the report pages
        f"Daily reports: {summary.reports} filed ({summary.late} late, {summary.missing} "
        f"missing, {summary.returned} returned), {summary.branch_approved} branch reports "
        "approved"
    )
    summary.seconds = time.monotonic() - started
    return summary


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _filing_time(rng: random.Random, day: dt.date, summary: ReportingSummary) -> dt.datetime:
    if rng.random() < LATE:
        summary.late += 1
        return _local(day, 14 + rng.randrange(3), rng.randrange(60))
    return _local(day, 8 + rng.randrange(4), rng.randrange(60))


def _file(unit: OrgUnit, day: dt.date, head: User | None, at: dt.datetime) -> UnitReport:
    """The unit's report as its head would file it: "nothing to report" when the register has
    nothing abnormal, else the pre-filled figures with an action for each case."""
    (prefill,) = services.prefill(units=[unit], day=day).values()
    if not prefill.abnormal(services.active_indicators()):
        return services.submit_report(actor=head, unit=unit, day=day, nothing_to_report=True, at=at)
    actions = {case.person_id: "已安排复测体温，网格员跟进随访" for case in prefill.cases}
    return services.submit_report(actor=head, unit=unit, day=day, actions=actions, at=at)
