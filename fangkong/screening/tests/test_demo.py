"""The screening demo: an open campaign under way over the demo branch, consistent with
what the services would have recorded."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F, Sum

from fangkong.org.models import Household, Person, TimelineEvent
from fangkong.screening import services
from fangkong.screening.models import (
    Campaign,
    CampaignAssignment,
    CampaignHousehold,
    CampaignTally,
    ContactLink,
    HouseholdVisit,
    RiskAreaPeriod,
    Screening,
)

TALLIES = (
    "households_visited",
    "households_nobody_home",
    "persons_screened",
    "persons_moved_out",
    "key_persons",
    "urgent_persons",
)


def _tallies() -> dict[str, int]:
    return CampaignTally.objects.aggregate(**{name: Sum(name) for name in TALLIES})


@pytest.mark.django_db
@time_machine.travel(dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC), tick=False)
def test_seed_demo_adds_an_open_campaign_with_consistent_progress(regions: None) -> None:
    # The demo draws its times back from now: a fixed now gives the same draws every run
    # (at some hours, 1,500 persons' few trips all fell outside the 14-day window).
    call_command("seed_demo", persons=1500, stdout=StringIO())
    campaign = Campaign.objects.get()
    assert campaign.is_open and campaign.unit.code == "LZ"
    assert CampaignAssignment.objects.filter(
        campaign=campaign, grid__code="LZ-01-01", worker__username="grid_worker"
    ).exists()
    assert set(RiskAreaPeriod.objects.values_list("region_id", flat=True)) >= {"420100"}

    households = Household.objects.count()
    visited = CampaignHousehold.objects.filter(status="visited").count()
    assert 0.6 < visited / households < 0.8
    # Every household marked visited had an answered knock; each door screening is in one.
    assert HouseholdVisit.objects.filter(outcome="answered").count() == visited
    door = Screening.objects.filter(kind=Screening.Kind.DOOR)
    assert set(door.values_list("household_id", flat=True)) == set(
        CampaignHousehold.objects.filter(status="visited").values_list("household_id", flat=True)
    )
    assert door.filter(is_key=True).exists()
    for screening in door.filter(is_key=True):
        assert screening.reasons and screening.reasons[0]["rule"] in (
            "risk_area_arrival",
            "close_contact",
        )
    # Each contact recorded at the door is a link of the contact graph.
    assert ContactLink.objects.count() == door.exclude(contact_kind="").count()
    assert not ContactLink.objects.exclude(screening__person=F("person")).exists()
    # The register follows the door: moved-out and away persons.
    moved = door.filter(presence="moved_out").values_list("person_id", flat=True)
    assert set(Person.objects.filter(status="moved_out").values_list("pk", flat=True)) == set(moved)
    # New arrivals between campaigns, some late; all on the timeline.
    assert Screening.objects.filter(kind=Screening.Kind.ARRIVAL, campaign=None).exists()
    assert TimelineEvent.objects.filter(kind="screening").count() == door.count()
    # The running counts are those the records give.
    seeded = _tallies()
    services.recount_campaign(campaign=campaign)
    assert _tallies() == seeded
    assert seeded["persons_screened"] == door.count()
    assert seeded["households_visited"] == visited
