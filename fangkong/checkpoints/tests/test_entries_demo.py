"""The demo of the checkpoints: two gates and a week of entries ending today, a few of them
flagged, written through the services."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangkong.alerts.models import Alert, AlertKind
from fangkong.checkpoints.demo_entries import seed_entries_demo
from fangkong.checkpoints.models import Checkpoint, Entry, EntryPerson
from fangkong.core.regions import load_regions
from fangkong.org import demo as org_demo
from fangkong.org.models import User
from fangkong.screening import services as screening_services
from fangkong.screening.models import Region, Screening

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai


@pytest.fixture
def demo_branch(db: None) -> None:
    if not Region.objects.filter(pk="620723").exists():
        load_regions(Region)
    org_demo.seed_demo(persons=800)
    screening_services.set_risk_level(
        actor=None, region=Region.objects.get(pk="420100"), level="high", start=dt.date(2020, 1, 23)
    )


def test_the_demo_has_two_gates_and_a_week_of_entries_with_a_few_flagged(demo_branch: None) -> None:
    with time_machine.travel(NOW, tick=False):
        today = timezone.localdate()
        added = seed_entries_demo(today=today)

    east = Checkpoint.objects.get(name="场区东门卡口")
    main = Checkpoint.objects.get(name="分公司大门")
    assert east.intake_grid is not None
    assert (east.unit.code, main.unit.code, east.intake_grid.code) == ("LZ-01", "LZ", "LZ-01-01")
    assert list(east.operators.values_list("username", flat=True)) == ["checkpoint"]
    entries = Entry.objects.all()
    assert added == {
        "checkpoints": 2,
        "entries": entries.count(),
        "people": EntryPerson.objects.count(),
        "flagged": entries.filter(is_flagged=True).count(),
    }
    assert 250 <= added["entries"] <= 400
    days = set(entries.values_list("day", flat=True))
    assert days == {today - dt.timedelta(days=n) for n in range(7)}
    assert not entries.filter(at__gt=NOW).exists()
    assert entries.filter(direction="out").exists() and entries.exclude(plate="").exists()
    assert entries.filter(recorded_by=User.objects.get(username="checkpoint")).count() > 100
    flagged = entries.filter(is_flagged=True).order_by("at")
    assert [(e.has_fever, e.risk_level) for e in flagged] == [
        (True, ""),
        (False, "high"),
        (True, ""),
    ]
    alerts = Alert.objects.filter(key__startswith="entry:")
    assert sorted(alerts.values_list("kind", flat=True)) == [
        AlertKind.ENTRY_FEVER,
        AlertKind.ENTRY_FEVER,
        AlertKind.ENTRY_RISK_AREA,
    ]
    assert Screening.objects.filter(kind=Screening.Kind.ARRIVAL).count() == 4


def test_the_demo_is_added_once(demo_branch: None) -> None:
    with time_machine.travel(NOW, tick=False):
        seed_entries_demo(today=timezone.localdate())
        count = Entry.objects.count()

        assert seed_entries_demo(today=timezone.localdate()) == {}

    assert Entry.objects.count() == count
