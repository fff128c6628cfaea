"""The daily-report demo: a week of reports consistent with the services' rules, one missed
report with its lapse and alert, and today's report left for the demo unit head."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from fangkong.alerts.models import Alert, AlertKind
from fangkong.command.models import Lapse
from fangkong.core.regions import load_regions
from fangkong.observation.reference import ensure as ensure_presets
from fangkong.org.models import OrgUnit
from fangkong.reporting.demo import DAYS
from fangkong.reporting.models import BranchReport, ReportStatus, UnitReport
from fangkong.reporting.reference import ensure as ensure_indicators
from fangkong.screening.models import Region

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai
TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def seeded(db: None) -> str:
    if not Region.objects.filter(pk="620723").exists():
        load_regions(Region)
    ensure_presets()
    ensure_indicators()
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", persons=1500, stdout=out)
    return out.getvalue()


def test_a_week_of_reports_with_one_missed_and_today_left_to_the_demo_unit_head(
    seeded: str,
) -> None:
    units = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.UNIT, is_active=True))
    past_days = [TODAY - dt.timedelta(days=n) for n in range(1, DAYS + 1)]
    filed = set(UnitReport.objects.values_list("unit_id", "day"))
    expected = {(u.pk, d) for u in units for d in past_days}
    # Every unit reported every past day but one.
    (missed,) = expected - filed
    # Past reports were reviewed and approved (the returned one after its correction).
    past = UnitReport.objects.filter(day__lt=TODAY)
    assert set(past.values_list("status", flat=True)) == {ReportStatus.APPROVED}
    assert UnitReport.objects.filter(day=TODAY, status=ReportStatus.SUBMITTED).count() == (
        len(units) - 1
    )
    head_unit = OrgUnit.objects.get(code="LZ-01")
    assert not UnitReport.objects.filter(unit=head_unit, day=TODAY).exists()
    # The missed report: one lapse and one alert still open; a late report: a lapse only.
    # At 17:00 the demo unit head's report of today is past its deadline: missing too.
    late = set(UnitReport.objects.filter(late=True).values_list("unit_id", "day"))
    today_missing = (head_unit.pk, TODAY)
    assert set(Lapse.objects.values_list("unit_id", "day")) == late | {missed, today_missing}
    alerts = Alert.objects.filter(kind=AlertKind.MISSING_REPORT)
    assert {(a.unit_id, a.data["day"], a.status) for a in alerts} == {
        (missed[0], missed[1].isoformat(), Alert.Status.OPEN),
        (head_unit.pk, TODAY.isoformat(), Alert.Status.OPEN),
    }
    # The leader approved the branch report of each past day.
    assert set(BranchReport.objects.values_list("day", flat=True)) == set(past_days)
    assert "Daily reports: " in seeded
