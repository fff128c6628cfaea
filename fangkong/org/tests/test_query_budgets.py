"""Query budgets: every list costs the same number of queries for 10 rows as for 200.

Each list is opened by ``head1`` (unit head of LZ-01) with about 10 rows in LZ-01, then again
after rows are added up to 200: the two counts must be equal (related data loaded in batches,
never one query per row) and within the list's budget below. The budgets are a baseline, as
netbox keeps one: when a change needs more queries, raise the number in the same commit and
say why; when it needs fewer, lower it.

The API's list endpoints are found in the OpenAPI schema (GET operations without path
parameters), so a new list endpoint fails here until it has a budget and a way to grow rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.api import api
from fangkong.core.testing import World
from fangkong.org import services
from fangkong.org.models import (
    Household,
    OrgUnit,
    Person,
    TimelineEvent,
    household_search_text,
    person_search_text,
)

# Queries per request, by URL (object ids written as <household_id>, …). Every page starts
# with three: the session, the user, and the user's role assignments (the scope).
BUDGETS: dict[str, int] = {
    # persons (three figures in one aggregate), units and grids, households; the open
    # campaigns, their grids, households and persons per grid, and the work done per campaign;
    # the alerts (one aggregate) and observation (episodes, fevers today, no visit today);
    # who is on duty now and the user's next shift (one query: the members of the shifts
    # running now, with their shift, post and leader, and the user's own shifts ahead)
    "/": 16,
    "/org/units/": 8,  # count, page of units, grids below them, households and persons per grid
    "/org/households/": 7,  # the filter's units, count, page, member counts of the page
    "/org/persons/": 6,  # the filter's units, count, page
    # household, audit trail, the persons the trail names (one batch), members
    "/org/households/<household_id>/": 7,
    # person, audit trail, the households the trail names (one batch), timeline, who saw
    # the full numbers
    "/org/persons/<person_id>/": 8,
    # unit, audit trail, count and page of the units below it, their grids, households and
    # persons per grid
    "/org/units/<orgunit_id>/": 10,
    # token (with its user), role assignments, page, count
    "/api/v1/org-units": 4,
    "/api/v1/households": 5,  # + member counts of the page
    "/api/v1/persons": 4,
    # token (with its user), role assignments (screening.view), page, count: regions and
    # their parents come with the page (select_related)
    "/api/v1/risk-areas": 4,
    "/api/v1/campaigns": 4,  # the campaigns' units come with the page
    # persons, households, grids, regions, campaigns and workers come with the page; the
    # contact persons the caller may see are one more query (when the page names any)
    "/api/v1/screenings": 5,
    # token (with its user), role assignments, page, count: persons, grids, units, presets
    # and deciders come with the page
    "/api/v1/episodes": 4,
    "/api/v1/needs": 4,  # the episodes, persons, grids and users come with the page
    "/api/v1/alerts": 4,  # units, persons and the users who handled them come with the page
    # token (with its user), role assignments, the indicators
    "/api/v1/reporting/indicators": 3,
    # token (with its user), role assignments, page, count: units, the users and the current
    # version come with the page
    "/api/v1/reporting/reports": 4,
    # token (with its user), role assignments, the rules, the units, their reports
    "/api/v1/reporting/completeness": 5,
    # token (with its user), role assignments, the rules, the units, their reports, the
    # indicators, the values of the approved reports (the branch is not in a unit head's scope)
    "/api/v1/reporting/branch": 7,
    # checkpoints: the count, the page, their operators (one batch), today's counts (grouped)
    "/checkpoints/": 7,
    # the entry log: the filter's checkpoints, the scope's units (one unit: read by its
    # index), the count (capped), the page (checkpoints and regions come with it)
    "/checkpoints/entries/": 7,
    "/checkpoints/counts/": 5,  # the filter's checkpoints, the counts (one grouped query)
    # token (with its user), role assignments, page, count, the operators (one batch)
    "/api/v1/checkpoints": 5,
    # token (with its user), role assignments, the scope's units, page, count, the people of
    # the page (with their persons) and the alerts of its flagged entries
    "/api/v1/checkpoint-entries": 7,
    "/api/v1/checkpoint-counts": 3,  # token (with its user), role assignments, grouped counts
    # the duty rules, the posts (with their units), the shifts ahead, the shifts now and
    # their members
    "/checkpoints/duty/": 8,
    "/checkpoints/duty/posts/": 5,  # count, page (units, checkpoints, pioneer posts joined)
    # the post (unit, checkpoint, pioneer post joined), its shifts of the week (post, leader
    # joined), their members, their swaps
    "/checkpoints/duty/posts/<post_id>/": 7,
    "/checkpoints/pioneers/": 6,  # count, page (units and duty posts joined), members
    # token (with its user), role assignments, page, count
    "/api/v1/duty-posts": 4,
    "/api/v1/shifts": 5,  # + the members of the page
    "/api/v1/pioneer-posts": 5,  # + the members of the page
    # places to disinfect: the filter's units, the count, the page (units joined, when each
    # is due computed in the query), the number overdue
    "/checkpoints/disinfection/": 7,
    "/checkpoints/disinfection/record/": 5,  # the count, the page (units joined)
    # the place (unit joined, due computed), the count and page of its disinfections (users
    # joined), the audit trail (its users joined)
    "/checkpoints/disinfection/places/<place_id>/": 7,
    # the filter's units, the count (capped), the page (places, units and users joined)
    "/checkpoints/disinfection/log/": 6,
    "/checkpoints/publicity/": 6,  # the filter's units, the count (capped), the page
    # token (with its user), role assignments, page, count (units joined, due computed)
    "/api/v1/disinfection-places": 4,
    "/api/v1/disinfection-places/overdue": 4,
    "/api/v1/disinfections": 4,  # places, units and users come with the page
    "/api/v1/publicity": 4,  # units and users come with the page
}

FEW, MANY = 10, 200
NOW = dt.datetime(2020, 2, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """The session's last-seen time is written at most once a minute: keep it out of counts."""
    with time_machine.travel(NOW, tick=False):
        yield


# ---------------------------------------------------------------------------------------------
# Rows, added in bulk up to a total


def _add_households(grid: OrgUnit, count: int) -> None:
    """``count`` households in ``grid``, each with its head as its one member."""
    start = Household.objects.count()
    households = Household.objects.bulk_create(
        Household(
            grid=grid,
            address=f"{grid.name}{start + i}号",
            search_text=household_search_text(f"{grid.name}{start + i}号", ""),
        )
        for i in range(count)
    )
    heads = Person.objects.bulk_create(
        Person(
            name=f"户主{h.pk}",
            grid=grid,
            household=h,
            relation=Person.Relation.HEAD,
            search_text=person_search_text(f"户主{h.pk}", "", ""),
        )
        for h in households
    )
    for household, head in zip(households, heads, strict=True):
        household.head = head
    Household.objects.bulk_update(households, ["head"])


def _persons(world: World, total: int) -> str:
    have = Person.objects.filter(grid=world.grid11).count()
    _add_households(world.grid11, total - have)
    return "/org/persons/"


def _households(world: World, total: int) -> str:
    have = Household.objects.filter(grid=world.grid11).count()
    _add_households(world.grid11, total - have)
    return "/org/households/"


def _grids(world: World, total: int) -> str:
    have = OrgUnit.objects.filter(parent=world.unit1).count()
    grids = OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"LZ-01-B{i:03d}",
            name=f"一站B{i}网格",
            kind=OrgUnit.Kind.GRID,
            parent=world.unit1,
            depth=world.unit1.depth + 1,
        )
        for i in range(have, total)
    )
    for grid in grids:
        grid.path = OrgUnit.child_path(world.unit1.path, grid.pk)
    OrgUnit.objects.bulk_update(grids, ["path"])
    return "/org/units/"


def _unit_children(world: World, total: int) -> str:
    _grids(world, total)
    return f"/org/units/{world.unit1.pk}/"


def _home(world: World, total: int) -> str:
    _grids(world, total)
    _persons(world, total)
    return "/"


def _members(world: World, total: int) -> str:
    household = world.household11
    have = household.members.count()
    Person.objects.bulk_create(
        Person(
            name=f"成员{i}",
            grid=household.grid,
            household=household,
            relation=Person.Relation.CHILD,
            search_text=person_search_text(f"成员{i}", "", ""),
        )
        for i in range(have, total)
    )
    return f"/org/households/{household.pk}/"


def _person_file(world: World, total: int) -> str:
    """A person with ``total`` timeline events and ``total`` audit-trail records (each one
    changing the note, the phone and the household)."""
    person = world.person11
    have = person.timeline.count()
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            person=person,
            occurred_at=NOW - dt.timedelta(hours=i),
            kind="temperature",
            summary=f"体温 36.{i % 10} °C",
            actor=world.user("worker11"),
        )
        for i in range(have, total)
    )
    historical = person.history.model
    current = {
        f.attname: getattr(person, f.attname)
        for f in historical._meta.fields
        if hasattr(person, f.attname)
    }
    households = [world.household11.pk, world.household12.pk]
    have = person.history.count()
    historical.objects.bulk_create(
        historical(
            **{
                **current,
                "note": f"第{i}次",
                "phone": f"139{i:08d}",
                "household_id": households[i % 2],
            },
            history_date=NOW - dt.timedelta(minutes=total - i),
            history_type="~",
            history_user=world.user("worker11"),
        )
        for i in range(have, total)
    )
    return f"/org/persons/{person.pk}/"


PAGES: dict[str, Callable[[World, int], str]] = {
    "/": _home,
    "/org/units/": _grids,
    "/org/households/": _households,
    "/org/persons/": _persons,
    "/org/households/<household_id>/": _members,
    "/org/persons/<person_id>/": _person_file,
    "/org/units/<orgunit_id>/": _unit_children,
}


def _risk_areas(world: World, total: int) -> str:
    """Periods of ``total`` counties in all (national data, seen by every user)."""
    from fangkong.screening.models import Region, RiskAreaPeriod

    have = RiskAreaPeriod.objects.count()
    regions = Region.objects.filter(level=Region.Level.COUNTY, risk_periods__isnull=True)
    RiskAreaPeriod.objects.bulk_create(
        RiskAreaPeriod(
            region=region,
            level="high" if i % 2 else "medium",
            start=dt.date(2020, 1, 20) + dt.timedelta(days=i % 20),
            note=f"第{i}号通告",
        )
        for i, region in enumerate(regions.order_by("code")[: total - have])
    )
    return "/api/v1/risk-areas"


def _campaigns(world: World, total: int) -> str:
    """Campaigns over LZ-01 (and its grids) up to ``total`` seen by head1."""
    from fangkong.screening.models import Campaign

    have = Campaign.objects.filter(unit__path__startswith=world.unit1.path).count()
    units = [world.unit1, world.grid11, world.grid12]
    Campaign.objects.bulk_create(
        Campaign(
            name=f"第{i}轮摸排",
            unit=units[i % 3],
            start=dt.date(2020, 2, 1) + dt.timedelta(days=i % 30),
            instructions="逐户排查",
        )
        for i in range(have, total)
    )
    return "/api/v1/campaigns"


def _screenings(world: World, total: int) -> str:
    """New arrivals of LZ-01-01 up to ``total`` screening results there, from a region with
    its parents, screened by a grid worker, some naming a contact in the register."""
    from fangkong.screening.models import Screening

    have = Screening.objects.filter(grid=world.grid11).count()
    persons = [world.person11, world.person11b]
    Screening.objects.bulk_create(
        Screening(
            kind=Screening.Kind.ARRIVAL,
            person=persons[i % 2],
            grid=world.grid11,
            household=world.household11,
            screened_at=NOW - dt.timedelta(hours=i),
            screened_by=world.user("worker11"),
            from_region_id="420106",
            arrived_at=NOW - dt.timedelta(hours=i + 2),
            contact_kind="risk_arrival",
            contact_person=world.person12,
            category=Screening.Category.RISK_AREA_ARRIVAL,
            is_key=True,
            reasons=[{"rule": "risk_area_arrival", "region": "420106", "level": "high"}],
        )
        for i in range(have, total)
    )
    return "/api/v1/screenings"


def _episodes(world: World, total: int) -> str:
    """Observation episodes of persons of LZ-01-01 up to ``total`` (a new household each),
    every other one released by head1."""
    from fangkong.observation.models import ObservationEpisode, PeriodPreset

    have = ObservationEpisode.objects.filter(person__grid=world.grid11).count()
    _add_households(world.grid11, total - have)
    persons = Person.objects.filter(grid=world.grid11, episodes__isnull=True).order_by("pk")
    preset = PeriodPreset.objects.get(is_default=True)
    end = dt.date(2020, 2, 15)
    ObservationEpisode.objects.bulk_create(
        ObservationEpisode(
            person=person,
            reason="contact",
            counts_from=dt.date(2020, 2, 1),
            counts_from_kind="last_contact",
            start_date=dt.date(2020, 2, 3),
            preset=preset,
            isolation_days=14,
            isolation_end=end,
            planned_end=end,
            place=f"一站{i}排",
            status="released" if i % 2 else "active",
            ended_on=dt.date(2020, 2, 9) if i % 2 else None,
            decided_by=world.user("head1") if i % 2 else None,
        )
        for i, person in enumerate(persons[: total - have], start=have)
    )
    return "/api/v1/episodes"


def _needs(world: World, total: int) -> str:
    """Needs of one episode in LZ-01-01 up to ``total``, raised, taken on and resolved by
    named users."""
    from fangkong.observation.models import Need, ObservationEpisode

    _episodes(world, 1)
    episode = ObservationEpisode.objects.filter(person__grid=world.grid11).first()
    have = Need.objects.filter(episode__person__grid=world.grid11).count()
    Need.objects.bulk_create(
        Need(
            episode=episode,
            kind="supplies",
            description=f"大米{i}袋",
            raised_at=NOW - dt.timedelta(hours=i),
            source="staff",
            raised_by=world.user("worker11"),
            assigned_to=world.user("head1"),
            status="resolved" if i % 2 else "in_progress",
            resolved_by=world.user("head1") if i % 2 else None,
            resolution="已送达" if i % 2 else "",
        )
        for i in range(have, total)
    )
    return "/api/v1/needs"


def _alerts(world: World, total: int) -> str:
    """Alerts of LZ-01-01 up to ``total``, about a person, acknowledged and resolved by
    named users."""
    from fangkong.alerts.models import Alert

    have = Alert.objects.filter(unit__path__startswith=world.unit1.path).count()
    Alert.objects.bulk_create(
        Alert(
            kind="fever",
            key=f"budget:{i}",
            unit=world.grid11,
            person=world.person11,
            summary=f"张建国: 37.{i % 10} °C",
            raised_at=NOW - dt.timedelta(hours=i),
            status="resolved",
            acknowledged_by=world.user("worker11"),
            resolved_by=world.user("head1"),
            note="已复测",
        )
        for i in range(have, total)
    )
    return "/api/v1/alerts"


def _reporting_units(world: World, total: int) -> list[OrgUnit]:
    """Units inside LZ-01 (a unit head's scope) up to ``total``, each with its report of
    2020-02-10 approved."""
    from fangkong.reporting.models import ReportStatus, ReportValue, ReportVersion, UnitReport

    have = list(OrgUnit.objects.filter(parent=world.unit1, kind=OrgUnit.Kind.UNIT))
    units = OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"LZ-01-U{i:03d}",
            name=f"一站U{i}分队",
            kind=OrgUnit.Kind.UNIT,
            parent=world.unit1,
            depth=world.unit1.depth + 1,
        )
        for i in range(len(have), total)
    )
    for unit in units:
        unit.path = OrgUnit.child_path(world.unit1.path, unit.pk)
    OrgUnit.objects.bulk_update(units, ["path"])
    reports = UnitReport.objects.bulk_create(
        UnitReport(
            unit=unit,
            day=NOW.date(),
            status=ReportStatus.APPROVED,
            first_submitted_at=NOW,
            submitted_at=NOW,
            created_at=NOW,
            filled_by=world.user("head1"),
            reviewed_by=world.user("office"),
        )
        for unit in units
    )
    versions = ReportVersion.objects.bulk_create(
        ReportVersion(
            report=report,
            number=1,
            submitted_at=NOW,
            cases=[
                {
                    "person_id": world.person11.pk,
                    "name": f"病例{i}",
                    "unit_id": unit.pk,
                    "temperature": "38.2",
                    "symptoms": ["cough"],
                    "what": "fever",
                    "action": "送医",
                    "open": False,
                }
            ],
        )
        for i, (report, unit) in enumerate(zip(reports, units, strict=True))
    )
    for report, version in zip(reports, versions, strict=True):
        report.current = version
    UnitReport.objects.bulk_update(reports, ["current"])
    from fangkong.reporting.models import Indicator

    registered = Indicator.objects.get(code="registered")
    ReportValue.objects.bulk_create(
        ReportValue(version=version, indicator=registered, number=3, register=2, reason="新到")
        for version in versions
    )
    return have + units


def _indicators(world: World, total: int) -> str:
    from fangkong.reporting.models import Indicator

    have = Indicator.objects.count()
    Indicator.objects.bulk_create(
        Indicator(code=f"extra{i}", name=f"指标{i}", order=100 + i) for i in range(have, total)
    )
    return "/api/v1/reporting/indicators"


def _reports(world: World, total: int) -> str:
    _reporting_units(world, total)
    return "/api/v1/reporting/reports"


def _completeness(world: World, total: int) -> str:
    _reporting_units(world, total)
    return "/api/v1/reporting/completeness"


def _branch(world: World, total: int) -> str:
    _reporting_units(world, total)
    return "/api/v1/reporting/branch"


def _duty_post(world: World) -> Any:
    """The round-the-clock post 联防联控办公室 of LZ-01 (made the first time)."""
    from fangkong.checkpoints.models import DutyPost

    post, _created = DutyPost.objects.get_or_create(
        name="联防联控办公室", unit=world.unit1, defaults={"kind": "office"}
    )
    return post


def _shifts_of(post: Any, world: World, count: int, start: dt.datetime) -> None:
    """``count`` shifts of ``post`` from ``start`` (an hour each, led by the leader), each
    with a user and a typed-in name on it and a swap recorded."""
    from fangkong.checkpoints.models import Shift, ShiftMember, ShiftSwap

    shifts = Shift.objects.bulk_create(
        Shift(
            post=post,
            start=start + dt.timedelta(minutes=50 * i),
            end=start + dt.timedelta(minutes=50 * i + 60),
            leader=world.user("leader"),
        )
        for i in range(count)
    )
    ShiftMember.objects.bulk_create(
        member
        for shift in shifts
        for member in (
            ShiftMember(shift=shift, user=world.user("worker11"), name="worker11"),
            ShiftMember(shift=shift, name=f"值班员{shift.pk}"),
        )
    )
    ShiftSwap.objects.bulk_create(
        ShiftSwap(
            shift=shift,
            from_name="gate1",
            to_name="worker11",
            reason="调班",
            recorded_at=NOW,
        )
        for shift in shifts
    )


def _duty_posts(world: World, total: int) -> str:
    """Round-the-clock posts of LZ-01 up to ``total``, each with a shift now."""
    from fangkong.checkpoints.models import DutyPost

    have = DutyPost.objects.filter(unit=world.unit1).count()
    posts = DutyPost.objects.bulk_create(
        DutyPost(kind="checkpoint", name=f"卡口{i}", unit=world.unit1) for i in range(have, total)
    )
    for post in posts:
        _shifts_of(post, world, 1, NOW - dt.timedelta(minutes=30))
    return "/api/v1/duty-posts"


def _roster(world: World, total: int) -> str:
    _duty_posts(world, total)
    return "/checkpoints/duty/"


def _post_list(world: World, total: int) -> str:
    _duty_posts(world, total)
    return "/checkpoints/duty/posts/"


def _post_week(world: World, total: int) -> str:
    """Shifts of one post in the week of NOW up to ``total``."""
    from fangkong.checkpoints.models import Shift

    post = _duty_post(world)
    have = Shift.objects.filter(post=post).count()
    monday = dt.datetime(2020, 2, 10, 0, 0, tzinfo=NOW.tzinfo)
    _shifts_of(post, world, total - have, monday + dt.timedelta(minutes=50 * have))
    return f"/checkpoints/duty/posts/{post.pk}/"


def _shifts(world: World, total: int) -> str:
    _post_week(world, total)
    return "/api/v1/shifts"


def _pioneer_posts(world: World, total: int) -> str:
    """Pioneer posts of LZ-01 up to ``total``, each with its duty post, a person of the
    register (the leader) and a user."""
    from fangkong.checkpoints.models import DutyPost, PioneerMember, PioneerPost

    have = PioneerPost.objects.filter(unit=world.unit1).count()
    posts = DutyPost.objects.bulk_create(
        DutyPost(kind="pioneer", name=f"先锋岗{i}", unit=world.unit1, round_the_clock=False)
        for i in range(have, total)
    )
    pioneers = PioneerPost.objects.bulk_create(
        PioneerPost(name=post.name, duty="卡口值守", unit=world.unit1, post=post) for post in posts
    )
    PioneerMember.objects.bulk_create(
        member
        for pioneer in pioneers
        for member in (
            PioneerMember(pioneer=pioneer, person=world.person11, name="张建国", is_leader=True),
            PioneerMember(pioneer=pioneer, user=world.user("worker11"), name="worker11"),
        )
    )
    return "/api/v1/pioneer-posts"


def _pioneers(world: World, total: int) -> str:
    _pioneer_posts(world, total)
    return "/checkpoints/pioneers/"


PAGES.update(
    {
        "/checkpoints/duty/": _roster,
        "/checkpoints/duty/posts/": _post_list,
        "/checkpoints/duty/posts/<post_id>/": _post_week,
        "/checkpoints/pioneers/": _pioneers,
    }
)


# Checkpoints and the entry log (fangkong.checkpoints): the checkpoints of LZ-01, each with an
# operator; entries at one gate of LZ-01 (every third flagged, with a fever and its alert);
# one entry a day at each checkpoint for the daily counts.


def _gate(world: World) -> Any:
    from fangkong.checkpoints.models import Checkpoint

    gate = Checkpoint.objects.filter(unit=world.unit1, name="预算卡口").first()
    if gate is None:
        gate = Checkpoint.objects.create(name="预算卡口", unit=world.unit1, location="东门")
        gate.operators.add(world.user("gate1"))
    return gate


def _checkpoints(world: World, total: int) -> str:
    from fangkong.checkpoints.models import Checkpoint

    _gate(world)
    have = Checkpoint.objects.filter(unit=world.unit1).count()
    added = Checkpoint.objects.bulk_create(
        Checkpoint(name=f"卡口{i}", unit=world.unit1, intake_grid=world.grid11, location=f"{i}号路")
        for i in range(have, total)
    )
    Checkpoint.operators.through.objects.bulk_create(
        Checkpoint.operators.through(checkpoint_id=c.pk, user_id=world.user("gate1").pk)
        for c in added
    )
    return "/checkpoints/"


def _entries(world: World, total: int) -> str:
    from decimal import Decimal

    from fangkong.alerts.models import Alert
    from fangkong.checkpoints.models import Entry, EntryPerson

    gate = _gate(world)
    have = Entry.objects.filter(unit=world.unit1).count()
    entries = Entry.objects.bulk_create(
        Entry(
            checkpoint=gate,
            unit=world.unit1,
            at=NOW - dt.timedelta(minutes=i),
            day=NOW.date(),
            plate="甘G12345" if i % 2 else "",
            from_region_id="420106",
            risk_level="high" if i % 3 == 0 else "",
            names=f"人员{i}、同车{i}",
            people_count=2,
            max_temperature=Decimal("37.6") if i % 3 == 0 else Decimal("36.5"),
            has_fever=i % 3 == 0,
            is_flagged=i % 3 == 0,
            recorded_by=world.user("gate1"),
            created_at=NOW,
        )
        for i in range(have, total)
    )
    EntryPerson.objects.bulk_create(
        EntryPerson(
            entry=entry,
            position=position,
            person=world.person11 if position == 0 else None,
            name=f"人员{entry.pk}-{position}",
            phone="" if position == 0 else "13600001234",
            temperature=entry.max_temperature,
        )
        for entry in entries
        for position in (0, 1)
    )
    Alert.objects.bulk_create(
        Alert(
            kind="entry_fever",
            key=f"entry:{entry.pk}",
            unit=world.unit1,
            summary=entry.names,
            raised_at=entry.at,
        )
        for entry in entries
        if entry.is_flagged
    )
    return "/checkpoints/entries/"


def _checkpoint_days(world: World, total: int) -> str:
    """One entry today at each of ``total`` checkpoints: ``total`` rows of daily counts."""
    from fangkong.checkpoints.models import Checkpoint, Entry

    _checkpoints(world, total)
    counted = Entry.objects.filter(unit=world.unit1, day=NOW.date()).values("checkpoint_id")
    Entry.objects.bulk_create(
        Entry(
            checkpoint=checkpoint,
            unit=world.unit1,
            at=NOW,
            day=NOW.date(),
            names="人员",
            people_count=1,
            created_at=NOW,
        )
        for checkpoint in Checkpoint.objects.filter(unit=world.unit1).exclude(pk__in=counted)
    )
    return "/checkpoints/counts/"


PAGES.update(
    {
        "/checkpoints/": _checkpoints,
        "/checkpoints/entries/": _entries,
        "/checkpoints/counts/": _checkpoint_days,
    }
)


# Cleaning and disinfection, publicity (fangkong.checkpoints): places of LZ-01 and its grids
# (all overdue), disinfections of one place by a user, publicity records of LZ-01.


def _places(world: World, total: int) -> str:
    from fangkong.checkpoints.models import DisinfectionPlace

    units = [world.unit1, world.grid11, world.grid12]
    have = DisinfectionPlace.objects.filter(unit__path__startswith=world.unit1.path).count()
    DisinfectionPlace.objects.bulk_create(
        DisinfectionPlace(
            name=f"消毒点{i}",
            unit=units[i % 3],
            location=f"{i}号",
            times_per_day=1 + i % 4,
            last_done_at=NOW - dt.timedelta(hours=25) if i % 2 else None,
            created_at=NOW - dt.timedelta(days=2),
        )
        for i in range(have, total)
    )
    return "/api/v1/disinfection-places"


def _overdue(world: World, total: int) -> str:
    _places(world, total)
    return "/api/v1/disinfection-places/overdue"


def _place_list(world: World, total: int) -> str:
    _places(world, total)
    return "/checkpoints/disinfection/"


def _record_page(world: World, total: int) -> str:
    _places(world, total)
    return "/checkpoints/disinfection/record/"


def _disinfections(world: World, total: int) -> str:
    from fangkong.checkpoints.models import Disinfection, DisinfectionPlace

    place, _created = DisinfectionPlace.objects.get_or_create(
        name="预算食堂", unit=world.unit1, defaults={"created_at": NOW - dt.timedelta(days=9)}
    )
    have = Disinfection.objects.filter(place=place).count()
    Disinfection.objects.bulk_create(
        Disinfection(
            place=place,
            done_at=NOW - dt.timedelta(hours=i),
            agent="84消毒液 1:100",
            done_by=f"王芳{i}",
            recorded_by=world.user("worker11"),
            created_at=NOW,
        )
        for i in range(have, total)
    )
    return "/api/v1/disinfections"


def _disinfection_log(world: World, total: int) -> str:
    _disinfections(world, total)
    return "/checkpoints/disinfection/log/"


def _place_page(world: World, total: int) -> str:
    from fangkong.checkpoints.models import DisinfectionPlace

    _disinfections(world, total)
    return f"/checkpoints/disinfection/places/{DisinfectionPlace.objects.get(name='预算食堂').pk}/"


def _publicity(world: World, total: int) -> str:
    from fangkong.checkpoints.models import PublicityRecord

    units = [world.unit1, world.grid11, world.grid12]
    have = PublicityRecord.objects.filter(unit__path__startswith=world.unit1.path).count()
    PublicityRecord.objects.bulk_create(
        PublicityRecord(
            unit=units[i % 3],
            day=NOW.date() - dt.timedelta(days=i % 7),
            kind="poster",
            content=f"张贴防疫海报{i}",
            place="一站",
            reach=100,
            quantity=10,
            recorded_by=world.user("worker11"),
            created_at=NOW,
        )
        for i in range(have, total)
    )
    return "/api/v1/publicity"


def _publicity_list(world: World, total: int) -> str:
    _publicity(world, total)
    return "/checkpoints/publicity/"


PAGES.update(
    {
        "/checkpoints/disinfection/": _place_list,
        "/checkpoints/disinfection/record/": _record_page,
        "/checkpoints/disinfection/places/<place_id>/": _place_page,
        "/checkpoints/disinfection/log/": _disinfection_log,
        "/checkpoints/publicity/": _publicity_list,
    }
)


# How to grow the rows of an API list, by the last segment of its path.
API_ROWS: dict[str, Callable[[World, int], str]] = {
    "org-units": _grids,
    "households": _households,
    "persons": _persons,
    "risk-areas": _risk_areas,
    "campaigns": _campaigns,
    "screenings": _screenings,
    "episodes": _episodes,
    "needs": _needs,
    "alerts": _alerts,
    "indicators": _indicators,
    "reports": _reports,
    "completeness": _completeness,
    "branch": _branch,
    "checkpoints": _checkpoints,
    "checkpoint-entries": _entries,
    "checkpoint-counts": _checkpoint_days,
    "duty-posts": _duty_posts,
    "shifts": _shifts,
    "pioneer-posts": _pioneer_posts,
    "disinfection-places": _places,
    "overdue": _overdue,
    "disinfections": _disinfections,
    "publicity": _publicity,
}

SCHEMA = api.get_openapi_schema()
API_LISTS: list[str] = [
    path
    for path, item in SCHEMA["paths"].items()
    if "get" in item and not re.search(r"\{\w+\}", path)
]


def _largest_page(path: str) -> str:
    """``?limit=<maximum>`` when the endpoint pages its answer, else ""."""
    for param in SCHEMA["paths"][path]["get"].get("parameters", []):
        if param.get("name") == "limit" and "maximum" in param.get("schema", {}):
            return f"?limit={param['schema']['maximum']}"
    return ""


# ---------------------------------------------------------------------------------------------
# Counting


class Measure(NamedTuple):
    queries: int
    size: int  # of the answer, in bytes


def _measure(client: Client, url: str, **headers: Any) -> Measure:
    """The queries of one GET of ``url``, and the size of its answer."""
    client.get(url, **headers)  # warm up: the session's first write, translations, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return Measure(queries=len(queries), size=len(response.content))


def _assert_within_budget(key: str, few: Measure, many: Measure) -> None:
    assert key in BUDGETS, f"{key} has no query budget: add {key!r}: {many.queries} to BUDGETS"
    assert many.size > few.size, f"{key}: the rows added are not in the answer"
    assert many.queries == few.queries, (
        f"{key}: {few.queries} queries for {FEW} rows but {many.queries} for {MANY}: load "
        "related data in batches (select_related, prefetch_related, one aggregate), not per row"
    )
    assert many.queries <= BUDGETS[key], (
        f"{key}: {many.queries} queries, budget {BUDGETS[key]}: find the new queries, or raise "
        "the budget and say why"
    )


@pytest.mark.parametrize("key", list(PAGES))
def test_a_page_costs_the_same_queries_for_200_rows_as_for_10(world: World, key: str) -> None:
    grow = PAGES[key]
    client = Client()
    client.force_login(world.user("head1"))

    few = _measure(client, grow(world, FEW))
    many = _measure(client, grow(world, MANY))

    _assert_within_budget(key, few, many)


@pytest.mark.parametrize("path", API_LISTS)
def test_an_api_list_costs_the_same_queries_for_200_rows_as_for_10(world: World, path: str) -> None:
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    assert segment in API_ROWS, (
        f"GET {path} is a list endpoint without a way to grow its rows: add {segment!r} to "
        "API_ROWS and a budget to BUDGETS in fangkong/org/tests/test_query_budgets.py"
    )
    grow = API_ROWS[segment]
    _token, key = services.issue_api_token(user=world.user("head1"))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    url = path + _largest_page(path)
    client = Client()

    grow(world, FEW)
    few = _measure(client, url, **headers)
    grow(world, MANY)
    many = _measure(client, url, **headers)

    _assert_within_budget(path, few, many)


def test_the_api_lists_found_in_the_schema_are_the_budgeted_ones() -> None:
    budgeted = {key for key in BUDGETS if key.startswith("/api/")}
    assert set(API_LISTS) == budgeted
