"""The records' demo: a week of disinfections and publicity over the demo organisation,
one place overdue today (the demo grid worker's toilets), the day's work of the daily report
filled from it, and nothing done twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.utils import translation

from fangkong.checkpoints.demo_records import seed_records_demo
from fangkong.checkpoints.models import Disinfection, DisinfectionPlace, PublicityRecord
from fangkong.checkpoints.selectors import records as selectors
from fangkong.core.scoping import Operator
from fangkong.org import demo as org_demo
from fangkong.org.models import OrgUnit, User
from fangkong.reporting import services as reporting
from fangkong.reporting.reference import ensure as ensure_indicators

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai
TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def seeded(db: None, settings: Any) -> Iterator[dict[str, int]]:
    settings.LANGUAGE_CODE = "en"
    ensure_indicators()
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        org_demo.seed_demo(persons=300)
        yield seed_records_demo(today=TODAY)


def test_a_week_of_disinfections_and_publicity_with_one_place_overdue_today(
    seeded: dict[str, int],
) -> None:
    units = OrgUnit.objects.filter(kind=OrgUnit.Kind.UNIT).count()
    # 5 places a unit, twice a day for 6 days and this morning (17:00 now: 19:00 not yet);
    # the overdue one missed last evening and this morning.
    assert seeded == {
        "places": 5 * units,
        "disinfections": 5 * units * 13 - 2,
        "overdue": 1,
        "publicity": 6 * units + 1,
    }
    assert DisinfectionPlace.objects.count() == seeded["places"]
    assert Disinfection.objects.count() == seeded["disinfections"]
    assert PublicityRecord.objects.count() == seeded["publicity"]
    (overdue,) = selectors.overdue_places(Operator())
    assert (overdue.name, overdue.unit.code) == ("一站公共厕所", "LZ-01-01")
    worker = User.objects.get(username="grid_worker")
    mine = selectors.places_for(worker, perm=None)
    assert [p.name for p in mine] == ["一站公共厕所", "一站住宅区1—5排"]
    assert Disinfection.objects.filter(recorded_by=worker).exists()
    assert Disinfection.objects.filter(recorded_by__username="checkpoint").exists()
    assert not PublicityRecord.objects.filter(day__gt=TODAY).exists()
    assert PublicityRecord.objects.filter(day=TODAY - dt.timedelta(days=6)).count() == units


def test_the_demo_unit_s_report_starts_from_the_demo_records(seeded: dict[str, int]) -> None:
    unit = OrgUnit.objects.get(code="LZ-01")
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        today = reporting.prefill(units=[unit], day=TODAY)[unit.pk].values
        yesterday = reporting.prefill(units=[unit], day=TODAY - dt.timedelta(days=1))[
            unit.pk
        ].values

    assert today["disinfection"] == "4 disinfections (4 places), 1 place overdue"
    assert yesterday["disinfection"] == "9 disinfections (5 places), 1 place overdue"
    assert yesterday["publicity"] == (
        "1 publicity activity: 2 WeChat or text messages, reaching about 180 people"
    )


def test_the_demo_is_made_once(seeded: dict[str, int]) -> None:
    with time_machine.travel(NOW, tick=False):
        again = seed_records_demo(today=TODAY)

    assert again == {"places": 0, "disinfections": 0, "overdue": 0, "publicity": 0}
    assert Disinfection.objects.count() == seeded["disinfections"]
