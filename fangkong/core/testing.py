"""A small organisation with named people, shared by the tests of every app.

Personas (their user names): ``admin`` (system administrator), ``leader`` and ``office``
(the branch LZ), ``head1`` (unit head of LZ-01), ``worker11`` (grid worker of grid LZ-01-01),
``auditor1`` (auditor of LZ-01), ``gate1`` (checkpoint operator of LZ-01) and ``head2`` (unit
head of LZ-02, an outsider to LZ-01).

The world has the daily reports of 2020-02-03 of both units (see add_reporting_world).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fangkong.core.permissions import Role
from fangkong.core.validators import id_check_character
from fangkong.org import services
from fangkong.org.models import Household, OrgUnit, Person, User

PASSWORD = "Test#2020pass"


def make_id_number(region: str, birth: dt.date, serial: int) -> str:
    """A valid 18-character ID number; ``serial`` (0–999) sets the sex by its parity."""
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_character(first17)


@dataclass
class World:
    branch: OrgUnit
    unit1: OrgUnit
    unit2: OrgUnit
    grid11: OrgUnit
    grid12: OrgUnit
    grid21: OrgUnit
    household11: Household
    household12: Household
    household21: Household
    person11: Person  # head of household11, with ID and phone
    person11b: Person  # child in household11, without ID number
    person12: Person
    person21: Person
    users: dict[str, User] = field(default_factory=dict)
    # Screening: one open campaign per unit, with one person screened in each (see
    # add_screening_world), set by build_world.
    campaign1: Any = None  # over LZ-01
    campaign2: Any = None  # over LZ-02
    # Observation (see add_observation_world): one running episode per unit.
    episode1: Any = None  # 张小明 (person11b), LZ-01-01
    episode2: Any = None  # 王立新 (person21), LZ-02-01
    # The daily reports of 2020-02-03 (see add_reporting_world).
    report1: Any = None  # LZ-01, submitted on time, not yet reviewed
    report2: Any = None  # LZ-02, submitted on time and approved
    # Checkpoints and duty (see fangkong.checkpoints.testing_*): the duty posts, shifts and
    # pioneer posts of both units; a place to disinfect with one disinfection, and one
    # publicity record, in each unit.
    checkpoint1: Any = None  # LZ-01's gate, gate1 its operator
    entry1: Any = None
    checkpoint2: Any = None  # LZ-02's gate
    entry2: Any = None
    duty: Any = None
    place1: Any = None  # 一站职工食堂 (LZ-01)
    disinfection1: Any = None
    publicity1: Any = None
    place2: Any = None  # 二站办公室 (LZ-02)
    disinfection2: Any = None
    publicity2: Any = None

    def user(self, name: str) -> User:
        return self.users[name]


def _ensure_reference_data() -> None:
    """Data the migrations load (regions, presets, report indicators): a test that flushes
    the database (the browser tests) removes it for the tests that come after."""
    from fangkong.core.regions import load_regions
    from fangkong.screening.models import Region

    if not Region.objects.filter(pk="620723").exists():
        load_regions(Region)
    from fangkong.observation.reference import ensure
    from fangkong.reporting.reference import ensure as ensure_indicators

    ensure()
    ensure_indicators()


def build_world(*, observation: bool = False) -> World:
    """The world; with ``observation``, also the episodes of :func:`add_observation_world`
    (which change the status of 张小明 and 王立新 to under observation)."""
    _ensure_reference_data()
    unit = services.create_org_unit
    branch = unit(actor=None, code="LZ", name="临泽分公司", kind=OrgUnit.Kind.BRANCH)
    unit1 = unit(actor=None, code="LZ-01", name="第一作业站", kind=OrgUnit.Kind.UNIT, parent=branch)
    unit2 = unit(actor=None, code="LZ-02", name="第二作业站", kind=OrgUnit.Kind.UNIT, parent=branch)
    grid11 = unit(
        actor=None, code="LZ-01-01", name="一站一网格", kind=OrgUnit.Kind.GRID, parent=unit1
    )
    grid12 = unit(
        actor=None, code="LZ-01-02", name="一站二网格", kind=OrgUnit.Kind.GRID, parent=unit1
    )
    grid21 = unit(
        actor=None, code="LZ-02-01", name="二站一网格", kind=OrgUnit.Kind.GRID, parent=unit2
    )
    h11 = services.create_household(
        actor=None, grid=grid11, address="一站1排3号", phone="13800001111"
    )
    h12 = services.create_household(actor=None, grid=grid12, address="一站2排5号")
    h21 = services.create_household(actor=None, grid=grid21, address="二站4排1号")
    p11 = services.create_person(
        actor=None,
        name="张建国",
        household=h11,
        relation=Person.Relation.HEAD,
        id_number=make_id_number("620723", dt.date(1975, 3, 14), 131),
        phone="13912345678",
        category=Person.Category.EMPLOYEE,
    ).person
    p11b = services.create_person(
        actor=None, name="张小明", household=h11, relation=Person.Relation.CHILD, sex="M"
    ).person
    p12 = services.create_person(
        actor=None,
        name="李秀英",
        household=h12,
        relation=Person.Relation.HEAD,
        id_number=make_id_number("620723", dt.date(1982, 11, 2), 242),
        phone="13700005555",
    ).person
    p21 = services.create_person(
        actor=None,
        name="王立新",
        household=h21,
        relation=Person.Relation.HEAD,
        id_number=make_id_number("620702", dt.date(1968, 6, 30), 17),
        phone="15100002222",
    ).person
    world = World(branch, unit1, unit2, grid11, grid12, grid21, h11, h12, h21, p11, p11b, p12, p21)
    for username, role, where in [
        ("admin", Role.ADMIN, None),
        ("leader", Role.LEADER, branch),
        ("office", Role.OFFICE, branch),
        ("head1", Role.UNIT_HEAD, unit1),
        ("worker11", Role.GRID_WORKER, grid11),
        ("auditor1", Role.AUDITOR, unit1),
        ("gate1", Role.CHECKPOINT, unit1),
        ("head2", Role.UNIT_HEAD, unit2),
    ]:
        world.users[username] = services.create_user(
            username=username, password=PASSWORD, role=role, org_unit=where
        )
    add_screening_world(world)
    add_reporting_world(world)
    add_standing_world(world)
    if observation:
        add_observation_world(world)
    for p in (p11, p11b, p12, p21, h11, h12, h21):
        p.refresh_from_db()
    return world


def add_standing_world(world: World) -> None:
    """The checkpoints, the duty roster and the records of the standing systems."""
    from fangkong.checkpoints.testing_duty import add_duty_world
    from fangkong.checkpoints.testing_entries import add_entries_world
    from fangkong.checkpoints.testing_records import add_records_world

    add_entries_world(world)
    world.duty = add_duty_world(world)
    add_records_world(world)


def add_screening_world(world: World) -> None:
    """Campaign "一站摸排" over LZ-01 (from 2020-02-01) with 张建国 (person11) screened present
    and without risk on 2020-02-02, and a contact link from 张小明 (person11b) to him;
    campaign "二站摸排" over LZ-02 with 王立新 (person21) screened the same way. The other
    persons of the world are not screened."""
    from fangkong.screening import services as screening
    from fangkong.screening.models import ContactLink

    at = dt.datetime(2020, 2, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    world.campaign1 = screening.create_campaign(
        actor=None, name="一站摸排", unit=world.unit1, start=dt.date(2020, 2, 1)
    )
    world.campaign2 = screening.create_campaign(
        actor=None, name="二站摸排", unit=world.unit2, start=dt.date(2020, 2, 1)
    )
    screening.screen_person(actor=None, campaign=world.campaign1, person=world.person11, at=at)
    screening.screen_person(actor=None, campaign=world.campaign2, person=world.person21, at=at)
    ContactLink.objects.create(
        person=world.person11b, source=world.person11, kind="risk_arrival", last_contact=at.date()
    )


def add_reporting_world(world: World) -> None:
    """The daily reports of 2020-02-03, both pre-filled from the register and marked
    "nothing to report": LZ-01's submitted by head1 at 12:00 (on time, waiting for review),
    LZ-02's submitted by head2 at 12:30 and approved by the office at 15:00."""
    from fangkong.reporting import services as reporting

    zone = dt.timezone(dt.timedelta(hours=8))
    day = dt.date(2020, 2, 3)
    world.report1 = reporting.submit_report(
        actor=world.user("head1"),
        unit=world.unit1,
        day=day,
        nothing_to_report=True,
        at=dt.datetime(2020, 2, 3, 12, 0, tzinfo=zone),
    )
    world.report2 = reporting.submit_report(
        actor=world.user("head2"),
        unit=world.unit2,
        day=day,
        nothing_to_report=True,
        at=dt.datetime(2020, 2, 3, 12, 30, tzinfo=zone),
    )
    world.report2 = reporting.approve_report(
        actor=world.user("office"),
        report=world.report2,
        at=dt.datetime(2020, 2, 3, 15, 0, tzinfo=zone),
    )


def add_observation_world(world: World) -> None:
    """Home isolation for 张小明 (person11b, close contact of 2020-02-01) and 王立新 (person21,
    arrival of 2020-02-02), both started on 2020-02-03 at 08:00 with the 14-day preset (last
    day 2020-02-15 and 2020-02-16). Each has a morning reading on 2020-02-04 (36.6 °C for
    张小明, 38.1 °C for 王立新: a fever alert in LZ-02-01), a follow-up visit that day and an
    open need; the household of 张小明 has had a care visit (10 kg rice)."""
    from fangkong.observation import services as observation
    from fangkong.observation.models import CareItemKind, Need, ObservationEpisode

    zone = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime(2020, 2, 3, 8, 0, tzinfo=zone)
    reason = ObservationEpisode.Reason
    counts = ObservationEpisode.CountsFrom
    world.episode1 = observation.start_episode(
        actor=None,
        entry=observation.EpisodeStart(
            person=world.person11b,
            reason=reason.CONTACT,
            counts_from=dt.date(2020, 2, 1),
            counts_from_kind=counts.LAST_CONTACT,
        ),
        at=start,
    )
    world.episode2 = observation.start_episode(
        actor=None,
        entry=observation.EpisodeStart(
            person=world.person21,
            reason=reason.ARRIVAL,
            counts_from=dt.date(2020, 2, 2),
            counts_from_kind=counts.ARRIVAL,
        ),
        at=start,
    )
    morning = dt.datetime(2020, 2, 4, 8, 30, tzinfo=zone)
    for episode, value in ((world.episode1, "36.6"), (world.episode2, "38.1")):
        observation.record_reading(actor=None, episode=episode, value=value, taken_at=morning)
        observation.record_visit(
            actor=None,
            episode=episode,
            mode="phone",
            visited_at=morning,
            visitor_name="赵网格员",
            findings="无异常",
        )
        observation.raise_need(
            actor=None, episode=episode, kind=Need.Kind.SUPPLIES, description="大米、食用油"
        )
    rice = CareItemKind.objects.get(name="大米")
    observation.record_care_visit(
        actor=None,
        household=world.household11,
        visited_on=dt.date(2020, 2, 5),
        visitors="张书记、赵网格员",
        items={rice.pk: Decimal("10")},
        words="感谢组织关心",
        episode=world.episode1,
    )
    for name in ("episode1", "episode2"):
        getattr(world, name).refresh_from_db()


def english_client(world: World, username: str) -> Any:
    """A test client logged in as the persona ``username``, asking for English pages (the
    tests compare messages with their English source text)."""
    from django.test import Client

    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user(username))
    return client
