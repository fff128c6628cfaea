"""Screening at the door: what is refused (with its message) and leaves nothing written, what
is written (the result, the visit, the timeline, the contact link), and the person's status
following what was found."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.org.models import Person, TimelineEvent
from fangkong.screening import services
from fangkong.screening.models import (
    Campaign,
    CampaignHousehold,
    CampaignTally,
    ContactLink,
    HouseholdVisit,
    Region,
    Screening,
)

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2020, 2, 15, 10, 0, tzinfo=SH)


def _written(campaign: Campaign) -> tuple[int, ...]:
    """Counts of everything a screening writes."""
    return (
        Screening.objects.filter(campaign=campaign).count(),
        HouseholdVisit.objects.filter(campaign=campaign).count(),
        CampaignHousehold.objects.filter(campaign=campaign).count(),
        ContactLink.objects.count(),
        TimelineEvent.objects.count(),
        sum(
            t.persons_screened + t.households_visited
            for t in CampaignTally.objects.filter(campaign=campaign)
        ),
    )


def _refused(world: World, person: Person | None = None, **kwargs: Any) -> ValidationError:
    before = _written(world.campaign1)
    arguments: dict[str, Any] = {
        "actor": world.user("worker11"),
        "campaign": world.campaign1,
        "person": person or world.person11b,
        "at": AT,
        **kwargs,
    }
    with pytest.raises(ValidationError) as error:
        services.screen_person(**arguments)
    assert _written(world.campaign1) == before
    return error.value


# ---------------------------------------------------------------------------------------------
# Refusals


def test_a_closed_campaign_records_nothing(world: World) -> None:
    services.close_campaign(actor=world.user("office"), campaign=world.campaign1)
    world.campaign1.refresh_from_db()

    error = _refused(world)

    assert error.messages == ["The campaign 一站摸排 is closed: nothing more is recorded in it."]


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (dt.datetime(2020, 1, 31, 23, 59, tzinfo=SH), "2020-01-31"),
        (dt.datetime(2020, 2, 11, 0, 0, tzinfo=SH), "2020-02-11"),  # UTC: still the 10th
    ],
    ids=["day-before", "day-after"],
)
def test_a_screening_outside_the_campaign_period_is_refused(
    world: World, at: dt.datetime, day: str
) -> None:
    services.update_campaign(actor=None, campaign=world.campaign1, end=D(2020, 2, 10))
    world.campaign1.refresh_from_db()

    error = _refused(world, at=at)

    assert error.messages == [
        f"The campaign runs from 2020-02-01 to 2020-02-10; {day} is outside it."
    ]


@pytest.mark.parametrize(
    "at",
    [dt.datetime(2020, 2, 1, 0, 0, tzinfo=SH), dt.datetime(2020, 2, 10, 23, 59, tzinfo=SH)],
    ids=["first-minute", "last-minute"],
)
def test_the_first_and_last_day_of_the_campaign_are_inside_it(
    world: World, at: dt.datetime
) -> None:
    services.update_campaign(actor=None, campaign=world.campaign1, end=D(2020, 2, 10))
    world.campaign1.refresh_from_db()

    screening = services.screen_person(
        actor=None, campaign=world.campaign1, person=world.person11b, at=at
    )

    assert screening.screened_at == at


def test_an_open_ended_campaign_refuses_a_day_before_its_start(world: World) -> None:
    error = _refused(world, at=dt.datetime(2020, 1, 20, 9, 0, tzinfo=SH))

    assert error.messages == ["The campaign runs from 2020-02-01 to —; 2020-01-20 is outside it."]


def test_a_person_outside_the_campaign_scope_is_refused(world: World) -> None:
    error = _refused(world, person=world.person21, actor=None)

    assert error.messages == ["二站一网格 is outside the campaign's scope (第一作业站)."]


def test_a_person_no_longer_in_the_register_is_refused(world: World) -> None:
    Person.objects.filter(pk=world.person11b.pk).update(is_active=False)

    error = _refused(world)

    assert error.messages == ["张小明 is no longer in the register."]


@pytest.mark.parametrize(
    ("findings", "errors"),
    [
        (
            {"temperature": 45},
            {
                "temperature": [
                    "45 °C is not a body temperature: enter a reading between 34.0 and "
                    "43.0 °C, e.g. 36.5."
                ]
            },
        ),
        (
            {"temperature": "abc"},
            {"temperature": ["Enter the temperature as a number in °C, e.g. 36.5."]},
        ),
        (
            {"temperature": "33.9"},
            {
                "temperature": [
                    "33.9 °C is not a body temperature: enter a reading between 34.0 and "
                    "43.0 °C, e.g. 36.5."
                ]
            },
        ),
        (
            {"arrived_at": AT + dt.timedelta(minutes=1), "region": "420102"},
            {"arrived_at": ["The arrival cannot be later than the screening (2020-02-15 10:00)."]},
        ),
        (
            {
                "departed_at": dt.datetime(2020, 2, 10, 12, 1, tzinfo=SH),
                "arrived_at": dt.datetime(2020, 2, 10, 12, 0, tzinfo=SH),
                "region": "420102",
            },
            {"departed_at": ["The departure from there cannot be later than the arrival here."]},
        ),
        (
            {"contact_kind": "case"},
            {"contact_name": ["Name the person met, or choose them from the register."]},
        ),
        (
            {"contact_name": "刘某"},
            {
                "contact_kind": [
                    "Say who the contact was: a case, someone from a risk area or a fever patient."
                ]
            },
        ),
        (
            {"contact_kind": "case", "contact_name": "刘某", "contact_date": D(2020, 2, 16)},
            {"contact_date": ["The contact cannot be later than the screening day."]},
        ),
        (
            {"symptoms": ["cough", "headache"]},
            {"symptoms": ["Unknown symptom headache: choose from the list."]},
        ),
        (
            {"arrived_at": dt.datetime(2020, 2, 10, 12, 0, tzinfo=SH)},
            {"from_region": ["Say where the person came from (province, city or county)."]},
        ),
        (
            {"region": "420102"},
            {"arrived_at": ["Enter when the person arrived here from 江岸区."]},
        ),
        (
            {"presence": "gone", "transport": "horse", "contact_relation": "x"},
            {
                "presence": ["Choose one of the listed values."],
                "transport": ["Choose one of the listed values."],
                "contact_relation": ["Choose one of the listed values."],
                # a transport says there was a trip: from where?
                "from_region": ["Say where the person came from (province, city or county)."],
            },
        ),
        (
            {"transport_no": "G" * 21, "temperature": "abc"},
            {
                "transport_no": ["At most 20 characters."],
                "temperature": ["Enter the temperature as a number in °C, e.g. 36.5."],
            },
        ),
    ],
    ids=[
        "temperature-45",
        "temperature-abc",
        "temperature-33.9",
        "arrival-after-screening",
        "departure-after-arrival",
        "contact-without-name",
        "name-without-contact-kind",
        "contact-after-screening-day",
        "unknown-symptom",
        "arrival-without-region",
        "region-without-arrival",
        "unknown-choices",
        "every-error-at-once",
    ],
)
def test_invalid_findings_are_refused_with_their_message(
    world: World, findings: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    findings = dict(findings)
    if "region" in findings:
        findings["from_region"] = Region.objects.get(code=findings.pop("region"))

    error = _refused(world, **findings)

    assert error.message_dict == errors


def test_the_arrival_may_be_the_minute_of_the_screening(world: World) -> None:
    screening = services.screen_person(
        actor=None,
        campaign=world.campaign1,
        person=world.person11b,
        at=AT,
        from_region=Region.objects.get(code="420102"),
        arrived_at=AT,
        departed_at=AT,
    )

    assert screening.arrived_at == AT


@pytest.mark.parametrize("username", ["auditor1", "head2", "leader", "gate1"])
def test_an_actor_who_may_not_record_here_is_refused_and_nothing_is_written(
    world: World, username: str
) -> None:
    before = _written(world.campaign1)
    status = world.person11b.status

    with pytest.raises(PermissionDenied):
        services.screen_person(
            actor=world.user(username),
            campaign=world.campaign1,
            person=world.person11b,
            at=AT,
            presence="away",
        )

    assert _written(world.campaign1) == before
    world.person11b.refresh_from_db()
    assert world.person11b.status == status


def test_the_auditor_may_not_record_nobody_home_either(world: World) -> None:
    before = _written(world.campaign1)

    with pytest.raises(PermissionDenied):
        services.record_nobody_home(
            actor=world.user("auditor1"), campaign=world.campaign1, household=world.household12
        )

    assert _written(world.campaign1) == before


def test_unknown_findings_are_a_programming_error(world: World) -> None:
    with pytest.raises(TypeError, match=r"unknown screening fields: \['colour'\]"):
        services.screen_person(
            actor=None, campaign=world.campaign1, person=world.person11b, at=AT, colour="red"
        )


# ---------------------------------------------------------------------------------------------
# What a screening writes


def _events(person: Person, kind: str) -> list[tuple[str, dt.datetime, dict[str, Any]]]:
    return [
        (e.summary, e.occurred_at, e.data)
        for e in TimelineEvent.objects.filter(person=person, kind=kind).order_by("pk")
    ]


def test_a_no_risk_screening_writes_the_result_the_visit_and_the_timeline(world: World) -> None:
    worker = world.user("worker11")

    screening = services.screen_person(
        actor=worker, campaign=world.campaign1, person=world.person11b, at=AT, temperature="36.6"
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
        screening.temperature,
        screening.category,
        screening.is_key,
        screening.is_urgent,
        screening.reasons,
    ) == (
        "door",
        world.campaign1.pk,
        world.grid11.pk,
        world.household11.pk,
        AT,
        worker.pk,
        "present",
        Decimal("36.6"),
        "no_risk",
        False,
        False,
        [],
    )
    assert screening.history.get().history_user == worker
    assert _events(world.person11b, "screening") == [
        (
            "一站摸排: No risk",
            AT,
            {
                "screening": screening.pk,
                "campaign": world.campaign1.pk,
                "category": "no_risk",
                "key": False,
                "urgent": False,
                "presence": "present",
            },
        )
    ]
    event = TimelineEvent.objects.get(person=world.person11b, kind="screening")
    assert event.actor == worker
    assert [
        (v.household_id, v.visited_at, v.visited_by_id, v.outcome)
        for v in HouseholdVisit.objects.filter(
            campaign=world.campaign1, household=world.household11
        ).order_by("visited_at")
    ] == [
        # build_world screened 张建国 on 2020-02-02 (no actor); this is a second knock.
        (world.household11.pk, dt.datetime(2020, 2, 2, 10, 0, tzinfo=SH), None, "answered"),
        (world.household11.pk, AT, worker.pk, "answered"),
    ]
    state = CampaignHousehold.objects.get(campaign=world.campaign1, household=world.household11)
    assert (state.status, state.visits, state.last_visit_at) == ("visited", 2, AT)


@pytest.mark.parametrize(
    ("findings", "summary", "data"),
    [
        (
            {"region": "420102", "arrived_at": dt.datetime(2020, 2, 10, 12, 0, tzinfo=SH)},
            "一站摸排: key person: Arrival from a risk area",
            {"category": "risk_area_arrival", "key": True, "urgent": False, "presence": "present"},
        ),
        (
            {"contact_kind": "case", "contact_name": "刘某", "temperature": "38.0"},
            "一站摸排: key person: Close contact, urgent",
            {"category": "close_contact", "key": True, "urgent": True, "presence": "present"},
        ),
        (
            {"symptoms": ["cough"]},
            "一站摸排: No risk, urgent",
            {"category": "no_risk", "key": False, "urgent": True, "presence": "present"},
        ),
        (
            {"presence": "moved_out"},
            "一站摸排: Moved out",
            {"category": "no_risk", "key": False, "urgent": False, "presence": "moved_out"},
        ),
        (
            {"presence": "away"},
            "一站摸排: No risk",
            {"category": "no_risk", "key": False, "urgent": False, "presence": "away"},
        ),
    ],
    ids=["risk-arrival", "contact-urgent", "symptoms", "moved-out", "away"],
)
def test_the_timeline_event_of_each_screening(
    world: World, findings: dict[str, Any], summary: str, data: dict[str, Any]
) -> None:
    services.set_risk_level(
        actor=None, region=Region.objects.get(code="420100"), level="high", start=D(2020, 1, 23)
    )
    findings = dict(findings)
    if "region" in findings:
        findings["from_region"] = Region.objects.get(code=findings.pop("region"))

    screening = services.screen_person(
        actor=None, campaign=world.campaign1, person=world.person11b, at=AT, **findings
    )

    assert _events(world.person11b, "screening") == [
        (summary, AT, {"screening": screening.pk, "campaign": world.campaign1.pk, **data})
    ]


def test_a_correction_writes_a_second_event_and_keeps_one_result(world: World) -> None:
    first = services.screen_person(
        actor=None, campaign=world.campaign1, person=world.person11b, at=AT, symptoms=["cough"]
    )
    later = AT + dt.timedelta(hours=2)

    second = services.screen_person(
        actor=None, campaign=world.campaign1, person=world.person11b, at=later
    )

    assert second.pk == first.pk
    assert Screening.objects.filter(campaign=world.campaign1, person=world.person11b).count() == 1
    assert [s for s, _at, _d in _events(world.person11b, "screening")] == [
        "一站摸排: No risk, urgent",
        "一站摸排: No risk",
    ]
    assert second.history.count() == 2
    assert (second.symptoms, second.is_urgent, second.reasons) == ([], False, [])


def test_a_contact_becomes_a_link_and_a_correction_replaces_it(world: World) -> None:
    screening = services.screen_person(
        actor=world.user("head1"),
        campaign=world.campaign1,
        person=world.person12,
        at=AT,
        contact_kind="risk_arrival",
        contact_person=world.person11,
        contact_name="ignored when the person is chosen",
        contact_date=D(2020, 2, 12),
        contact_relation="colleague",
        contact_mode="meal",
    )

    assert [
        (link.person_id, link.source_id, link.source_name, link.kind, link.last_contact)
        for link in ContactLink.objects.filter(screening=screening)
    ] == [(world.person12.pk, world.person11.pk, "", "risk_arrival", D(2020, 2, 12))]

    services.screen_person(
        actor=None,
        campaign=world.campaign1,
        person=world.person12,
        at=AT,
        contact_kind="fever",
        contact_name="刘某",
    )

    assert [
        (link.source_id, link.source_name, link.kind, link.last_contact)
        for link in ContactLink.objects.filter(screening=screening)
    ] == [(None, "刘某", "fever", None)]

    services.screen_person(actor=None, campaign=world.campaign1, person=world.person12, at=AT)

    assert ContactLink.objects.filter(screening=screening).count() == 0


# ---------------------------------------------------------------------------------------------
# The person's status follows presence


def _status(person: Person) -> str:
    person.refresh_from_db()
    return person.status


def test_the_status_follows_what_was_found_at_the_door(world: World) -> None:
    def screen(presence: str) -> None:
        services.screen_person(
            actor=world.user("worker11"),
            campaign=world.campaign1,
            person=world.person11b,
            at=AT,
            presence=presence,
        )

    screen("away")
    assert _status(world.person11b) == Person.Status.AWAY

    screen("present")
    assert _status(world.person11b) == Person.Status.NORMAL

    screen("moved_out")
    assert _status(world.person11b) == Person.Status.MOVED_OUT

    screen("present")  # a correction: they had not moved out after all
    assert _status(world.person11b) == Person.Status.NORMAL

    screen("moved_out")
    screen("away")  # a correction: away, not moved out
    assert _status(world.person11b) == Person.Status.AWAY

    # The timeline names the statuses by their labels.
    assert [
        e.summary
        for e in TimelineEvent.objects.filter(person=world.person11b, kind="changed").order_by("pk")
    ] == [
        "Changed status: Normal → Away (一站摸排)",
        "Changed status: Away → Normal (一站摸排)",
        "Changed status: Normal → Moved out (一站摸排)",
        "Changed status: Moved out → Normal (一站摸排)",
        "Changed status: Normal → Moved out (一站摸排)",
        "Changed status: Moved out → Away (一站摸排)",
    ]


def test_a_person_under_observation_found_away_keeps_that_status(world: World) -> None:
    org_services.update_person(
        actor=None,
        person=world.person11b,
        status=Person.Status.UNDER_OBSERVATION,
        status_by_episodes=True,
    )

    services.screen_person(
        actor=None, campaign=world.campaign1, person=world.person11b, at=AT, presence="away"
    )
    assert _status(world.person11b) == Person.Status.UNDER_OBSERVATION

    services.screen_person(actor=None, campaign=world.campaign1, person=world.person11b, at=AT)
    assert _status(world.person11b) == Person.Status.UNDER_OBSERVATION


# ---------------------------------------------------------------------------------------------
# Households: nobody home, checked, people added at the door


def test_nobody_home_keeps_the_household_to_do_and_a_later_answer_visits_it(
    world: World,
) -> None:
    worker = world.user("head1")
    h = world.household12

    services.record_nobody_home(
        actor=worker, campaign=world.campaign1, household=h, at=AT, note=" 敲门无人 "
    )
    services.record_nobody_home(
        actor=worker, campaign=world.campaign1, household=h, at=AT + dt.timedelta(hours=3)
    )
    state = CampaignHousehold.objects.get(campaign=world.campaign1, household=h)
    assert (state.status, state.visits) == ("nobody_home", 2)
    tally = CampaignTally.objects.get(campaign=world.campaign1, grid=world.grid12)
    assert (tally.households_visited, tally.households_nobody_home) == (0, 1)

    services.screen_person(
        actor=worker, campaign=world.campaign1, person=world.person12, at=AT + dt.timedelta(days=1)
    )

    state.refresh_from_db()
    tally.refresh_from_db()
    assert (state.status, state.visits, state.last_visit_at) == (
        "visited",
        3,
        AT + dt.timedelta(days=1),
    )
    assert (tally.households_visited, tally.households_nobody_home, tally.persons_screened) == (
        1,
        0,
        1,
    )
    assert [
        (v.outcome, v.note)
        for v in HouseholdVisit.objects.filter(campaign=world.campaign1, household=h).order_by(
            "visited_at"
        )
    ] == [("nobody_home", "敲门无人"), ("nobody_home", ""), ("answered", "")]


def test_nobody_home_after_a_visit_leaves_it_visited(world: World) -> None:
    services.screen_person(actor=None, campaign=world.campaign1, person=world.person12, at=AT)

    services.record_nobody_home(
        actor=None, campaign=world.campaign1, household=world.household12, at=AT
    )

    state = CampaignHousehold.objects.get(campaign=world.campaign1, household=world.household12)
    tally = CampaignTally.objects.get(campaign=world.campaign1, grid=world.grid12)
    assert (state.status, state.visits) == ("visited", 2)
    assert (tally.households_visited, tally.households_nobody_home) == (1, 0)


def test_screening_a_household_member_by_member_is_one_visit_within_the_hour(
    world: World,
) -> None:
    worker = world.user("worker11")
    campaign = services.create_campaign(
        actor=world.user("office"), name="复查", unit=world.unit1, start=D(2020, 2, 10)
    )

    services.screen_person(actor=worker, campaign=campaign, person=world.person11, at=AT)
    services.screen_person(
        actor=worker, campaign=campaign, person=world.person11b, at=AT + dt.timedelta(minutes=5)
    )

    assert HouseholdVisit.objects.filter(campaign=campaign).count() == 1
    state = CampaignHousehold.objects.get(campaign=campaign, household=world.household11)
    assert state.visits == 1
    tally = CampaignTally.objects.get(campaign=campaign, grid=world.grid11)
    assert (tally.households_visited, tally.persons_screened) == (1, 2)


def test_nobody_home_outside_the_scope_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        services.record_nobody_home(
            actor=None, campaign=world.campaign1, household=world.household21, at=AT
        )

    assert error.value.messages == ["二站一网格 is outside the campaign's scope (第一作业站)."]
    assert not HouseholdVisit.objects.filter(
        campaign=world.campaign1, household=world.household21
    ).exists()


def test_a_person_added_at_the_door_joins_the_household(world: World) -> None:
    result = services.add_person_at_door(
        actor=world.user("worker11"),
        campaign=world.campaign1,
        household=world.household11,
        name="张奶奶",
        relation=Person.Relation.GRANDPARENT,
    )

    person = result.person
    assert (person.household_id, person.grid_id, person.status) == (
        world.household11.pk,
        world.grid11.pk,
        "normal",
    )
    assert [e.summary for e in TimelineEvent.objects.filter(person=person)] == [
        "Added to the register (一站摸排): no ID number"
    ]


def test_a_person_cannot_be_added_at_the_door_of_a_closed_campaign(world: World) -> None:
    services.close_campaign(actor=None, campaign=world.campaign1)
    world.campaign1.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        services.add_person_at_door(
            actor=None, campaign=world.campaign1, household=world.household11, name="张奶奶"
        )

    assert error.value.messages == [
        "The campaign 一站摸排 is closed: nothing more is recorded in it."
    ]
    assert not Person.objects.filter(name="张奶奶").exists()
