"""New arrivals between campaigns: classified like a screening, flagged late past the rules'
limit (exactly at the limit is in time), written on the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.org.models import Person, TimelineEvent
from fangkong.screening import services
from fangkong.screening.models import CampaignTally, Region, Screening

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
ARRIVED = dt.datetime(2020, 2, 15, 4, 0, tzinfo=SH)


@pytest.fixture
def wuhan_high(world: World) -> Region:
    services.set_risk_level(
        actor=None, region=Region.objects.get(code="420100"), level="high", start=D(2020, 1, 23)
    )
    return Region.objects.get(code="420102")


def _register(
    world: World, registered_at: dt.datetime, *, region: Region | None = None, **more: Any
) -> Screening:
    return services.register_arrival(
        actor=world.user("worker11"),
        person=world.person11b,
        from_region=region or Region.objects.get(code="620702"),
        arrived_at=more.pop("arrived_at", ARRIVED),
        registered_at=registered_at,
        **more,
    )


def _events(person: Person) -> list[tuple[str, dt.datetime, dict[str, Any]]]:
    return [
        (e.summary, e.occurred_at, e.data)
        for e in TimelineEvent.objects.filter(person=person, kind="arrival").order_by("pk")
    ]


def test_registered_exactly_at_the_limit_is_in_time(world: World) -> None:
    at = ARRIVED + dt.timedelta(hours=6)

    screening = _register(world, at)

    assert screening.late_registration is False
    assert _events(world.person11b) == [
        (
            "New arrival: No risk",
            at,
            {
                "screening": screening.pk,
                "category": "no_risk",
                "key": False,
                "urgent": False,
                "late": False,
            },
        )
    ]


def test_registered_one_second_over_the_limit_is_late(world: World) -> None:
    at = ARRIVED + dt.timedelta(hours=6, seconds=1)

    screening = _register(world, at)

    assert screening.late_registration is True
    assert _events(world.person11b) == [
        (
            "New arrival: No risk (registered more than 6 hours after arriving)",
            at,
            {
                "screening": screening.pk,
                "category": "no_risk",
                "key": False,
                "urgent": False,
                "late": True,
            },
        )
    ]


def test_the_limit_comes_from_the_rules(world: World) -> None:
    services.update_rules(actor=world.user("office"), arrival_report_hours=2)

    in_time = _register(world, ARRIVED + dt.timedelta(hours=2))
    late = _register(world, ARRIVED + dt.timedelta(hours=2, seconds=1))

    assert (in_time.late_registration, late.late_registration) == (False, True)
    assert _events(world.person11b)[1][0] == (
        "New arrival: No risk (registered more than 2 hours after arriving)"
    )


def test_an_arrival_from_a_high_risk_area_is_a_key_person_and_recorded(
    world: World, wuhan_high: Region
) -> None:
    worker = world.user("worker11")
    at = ARRIVED + dt.timedelta(hours=7)

    screening = _register(
        world,
        at,
        region=wuhan_high,
        departed_at=dt.datetime(2020, 2, 14, 20, 0, tzinfo=SH),
        transport="train",
        transport_no=" g 1234 ",
        temperature="37.3",
    )

    screening.refresh_from_db()
    assert (
        screening.kind,
        screening.campaign_id,
        screening.grid_id,
        screening.household_id,
        screening.screened_at,
        screening.screened_by_id,
        screening.presence,
        screening.transport_no,
        screening.category,
        screening.is_key,
        screening.is_urgent,
        screening.late_registration,
    ) == (
        "arrival",
        None,
        world.grid11.pk,
        world.household11.pk,
        at,
        worker.pk,
        "present",
        "G1234",
        "risk_area_arrival",
        True,
        True,
        True,
    )
    assert screening.reasons == [
        {
            "rule": "risk_area_arrival",
            "region": "420102",
            "region_name": "江岸区",
            "level": "high",
            "level_on": "2020-02-14",
            "arrived_on": "2020-02-15",
            "window_days": 14,
        },
        {"rule": "fever", "temperature": "37.3", "threshold": "37.3"},
    ]
    assert [s for s, _at, _d in _events(world.person11b)] == [
        "New arrival: key person: Arrival from a risk area, urgent "
        "(registered more than 6 hours after arriving)"
    ]
    event = TimelineEvent.objects.get(person=world.person11b, kind="arrival")
    assert event.actor == worker


def test_an_arrival_counts_in_no_campaign(world: World, wuhan_high: Region) -> None:
    before = list(CampaignTally.objects.order_by("pk").values())

    _register(world, ARRIVED + dt.timedelta(hours=1), region=wuhan_high)

    assert list(CampaignTally.objects.order_by("pk").values()) == before


def test_a_person_away_is_back_when_registered_as_arriving(world: World) -> None:
    org_services.update_person(actor=None, person=world.person11b, status=Person.Status.AWAY)

    _register(world, ARRIVED + dt.timedelta(hours=1))

    world.person11b.refresh_from_db()
    assert world.person11b.status == Person.Status.NORMAL


def test_a_person_under_observation_keeps_that_status(world: World) -> None:
    org_services.update_person(
        actor=None,
        person=world.person11b,
        status=Person.Status.UNDER_OBSERVATION,
        status_by_episodes=True,
    )

    _register(world, ARRIVED + dt.timedelta(hours=1))

    world.person11b.refresh_from_db()
    assert world.person11b.status == Person.Status.UNDER_OBSERVATION


def test_an_arrival_needs_where_from_and_when(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        services.register_arrival(
            actor=None, person=world.person11b, from_region=None, arrived_at=None
        )

    assert error.value.message_dict == {
        "from_region": ["Say where the person came from (province, city or county)."],
        "arrived_at": ["Enter when the person arrived."],
    }
    assert not Screening.objects.filter(kind="arrival").exists()


def test_an_arrival_after_the_registration_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        _register(world, ARRIVED - dt.timedelta(minutes=1))

    assert error.value.message_dict == {
        "arrived_at": ["The arrival cannot be later than the screening (2020-02-15 03:59)."]
    }
    assert not Screening.objects.filter(kind="arrival").exists()
    assert _events(world.person11b) == []


@pytest.mark.parametrize("username", ["auditor1", "head2"])
def test_an_actor_who_may_not_record_here_registers_nothing(world: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        services.register_arrival(
            actor=world.user(username),
            person=world.person11b,
            from_region=Region.objects.get(code="420102"),
            arrived_at=ARRIVED,
            registered_at=ARRIVED,
        )

    assert not Screening.objects.filter(kind="arrival").exists()
    assert _events(world.person11b) == []


def test_presence_is_not_a_finding_of_an_arrival(world: World) -> None:
    with pytest.raises(TypeError, match=r"unknown arrival fields: \['presence'\]"):
        _register(world, ARRIVED, presence="away")
