"""Coverage against a hand-counted campaign, the running counts against a recount, and each
grid worker's to-do list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from fangkong.core.permissions import Role
from fangkong.core.testing import PASSWORD, World
from fangkong.org import services as org_services
from fangkong.org.models import Household, OrgUnit, Person, User
from fangkong.screening import services
from fangkong.screening.models import Campaign, CampaignAssignment, CampaignTally, Region
from fangkong.screening.selectors import (
    COUNT_FIELDS,
    Coverage,
    TodoFilters,
    coverage,
    households_left,
    persons_never_seen,
    worker_coverage,
)

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
DAY1 = dt.datetime(2020, 2, 3, 9, 0, tzinfo=SH)
DAY2 = dt.datetime(2020, 2, 4, 15, 0, tzinfo=SH)


def _grid_worker(username: str, where: OrgUnit) -> User:
    return org_services.create_user(
        username=username, password=PASSWORD, role=Role.GRID_WORKER, org_unit=where
    )


def _household(grid: OrgUnit, address: str, *names: str) -> tuple[Household, list[Person]]:
    household = org_services.create_household(actor=None, grid=grid, address=address)
    members = [
        org_services.create_person(actor=None, name=name, household=household).person
        for name in names
    ]
    return household, members


def _counts(cov: Coverage) -> tuple[Any, ...]:
    """(unit code or worker, households total/visited/nobody home, persons total/screened/
    moved out, key, urgent)."""
    who = cov.unit.code if cov.unit is not None else [str(w) for w in cov.workers]
    return (who, *(getattr(cov, name) for name in COUNT_FIELDS))


def _tallies(campaign: Campaign) -> dict[str, tuple[int, ...]]:
    return {
        t.grid.code: (
            t.households_visited,
            t.households_nobody_home,
            t.persons_screened,
            t.persons_moved_out,
            t.key_persons,
            t.urgent_persons,
        )
        for t in CampaignTally.objects.filter(campaign=campaign).select_related("grid")
    }


# ---------------------------------------------------------------------------------------------
# The hand-counted campaign


@dataclass
class Farm:
    world: World
    campaign: Campaign
    household_g: Household  # nobody home, still to do
    person_g: Person  # in household_g, never seen
    person_h2: Person  # added at the door
    person_b2: Person  # found moved out
    persons_total_before_door: int


@pytest.fixture
def farm(world: World) -> Farm:
    """A campaign over the whole branch, counted by hand:

    LZ-01-01 (worker11)                        households       persons
      一站1排3号 张建国 present; 张小明 present,   visited          2 screened
        then corrected to away; 张老三 moved out
        before the campaign; 张四 inactive
      一站1排4号 empty (checked)                  visited          —
      一站1排5号 赵一 from Wuhan (key);            visited          2 screened, 1 moved out
        赵二 found moved out
      一站1排6号 钱一: nobody home on day 1,       visited          1 screened (urgent)
        38.0 °C on day 2
      一站1排7号 inactive, with an inactive 孙一   not counted      not counted
      → households 4/4, nobody home 0; persons 5/5 (4 in the register + 1 moved out)

    LZ-01-02 (worker12)
      一站2排5号 李秀英                            left             never seen
      一站2排6号 周一: nobody home                  left (tried)     never seen
      一站2排7号 吴一 key, corrected to no risk;    visited          2 screened
        吴二 added at the door and screened
      → households 1/3, nobody home 1; persons 2/4

    LZ-02-01 (nobody assigned)
      二站4排1号 王立新                            left             never seen
      → households 0/1; persons 0/1
    """
    w = world
    services.set_risk_level(
        actor=None, region=Region.objects.get(code="420100"), level="high", start=D(2020, 1, 23)
    )
    worker11 = w.user("worker11")
    worker12 = _grid_worker("worker12", w.grid12)
    # The register before the campaign.
    p_e = org_services.create_person(actor=None, name="张老三", household=w.household11).person
    org_services.update_person(actor=None, person=p_e, status=Person.Status.MOVED_OUT)
    p_f = org_services.create_person(actor=None, name="张四", household=w.household11).person
    Person.objects.filter(pk=p_f.pk).update(is_active=False)
    h_a, _none = _household(w.grid11, "一站1排4号")
    _h_b, (p_b1, p_b2) = _household(w.grid11, "一站1排5号", "赵一", "赵二")
    h_c, (p_c1,) = _household(w.grid11, "一站1排6号", "钱一")
    h_d, (p_d1,) = _household(w.grid11, "一站1排7号", "孙一")
    Household.objects.filter(pk=h_d.pk).update(is_active=False)
    Person.objects.filter(pk=p_d1.pk).update(is_active=False)
    h_g, (p_g1,) = _household(w.grid12, "一站2排6号", "周一")
    h_h, (p_h1,) = _household(w.grid12, "一站2排7号", "吴一")

    campaign = services.create_campaign(
        actor=w.user("office"), name="全场摸排", unit=w.branch, start=D(2020, 2, 1)
    )

    def screen(actor: User, person: Person, at: dt.datetime, **findings: Any) -> None:
        services.screen_person(actor=actor, campaign=campaign, person=person, at=at, **findings)

    screen(worker11, w.person11, DAY1)
    screen(worker11, w.person11b, DAY1)
    screen(worker11, w.person11b, DAY1 + dt.timedelta(minutes=3), presence="away")
    services.record_household_checked(actor=worker11, campaign=campaign, household=h_a, at=DAY1)
    screen(
        worker11,
        p_b1,
        DAY1,
        from_region=Region.objects.get(code="420102"),
        arrived_at=dt.datetime(2020, 2, 1, 18, 0, tzinfo=SH),
        transport="train",
        transport_no="G1234",
    )
    screen(worker11, p_b2, DAY1, presence="moved_out")
    services.record_nobody_home(actor=worker11, campaign=campaign, household=h_c, at=DAY1)
    screen(worker11, p_c1, DAY2, temperature="38.0")
    services.record_nobody_home(actor=worker12, campaign=campaign, household=h_g, at=DAY1)
    screen(worker12, p_h1, DAY1, contact_kind="case", contact_name="刘某")
    screen(worker12, p_h1, DAY2)
    before = coverage(campaign, w.user("office"))[0].persons_total
    p_h2 = services.add_person_at_door(
        actor=worker12, campaign=campaign, household=h_h, name="吴二"
    ).person
    screen(worker12, p_h2, DAY2)
    return Farm(w, campaign, h_g, p_g1, p_h2, p_b2, before)


GRID11 = (4, 4, 0, 5, 5, 1, 1, 1)
GRID12 = (3, 1, 1, 4, 2, 0, 0, 0)
GRID21 = (1, 0, 0, 1, 0, 0, 0, 0)
UNIT1 = (7, 5, 1, 9, 7, 1, 1, 1)
BRANCH = (8, 5, 1, 10, 7, 1, 1, 1)


def test_the_campaign_coverage_matches_the_hand_count(farm: Farm) -> None:
    total, rows = coverage(farm.campaign, farm.world.user("office"))

    assert _counts(total) == ("LZ", *BRANCH)
    assert [_counts(row) for row in rows] == [("LZ-01", *UNIT1), ("LZ-02", *GRID21)]
    assert (
        total.households_left,
        total.persons_never_seen,
        total.households_percent,
        total.persons_percent,
        total.complete,
    ) == (3, 3, 62, 70, False)


def test_the_coverage_of_a_unit_has_one_row_per_grid(farm: Farm) -> None:
    total, rows = coverage(farm.campaign, farm.world.user("office"), under=farm.world.unit1)

    assert _counts(total) == ("LZ-01", *UNIT1)
    assert [_counts(row) for row in rows] == [("LZ-01-01", *GRID11), ("LZ-01-02", *GRID12)]
    assert (rows[0].complete, rows[0].households_percent, rows[0].persons_percent) == (
        True,
        100,
        100,
    )
    assert (rows[1].households_left, rows[1].persons_never_seen) == (2, 2)


def test_each_user_sees_the_coverage_of_their_scope_only(farm: Farm) -> None:
    w = farm.world

    worker_total, worker_rows = coverage(farm.campaign, w.user("worker11"))
    head2_total, head2_rows = coverage(farm.campaign, w.user("head2"))

    assert _counts(worker_total) == ("LZ", *GRID11)
    assert [_counts(row) for row in worker_rows] == [("LZ-01", *GRID11)]
    assert _counts(head2_total) == ("LZ", *GRID21)
    assert [_counts(row) for row in head2_rows] == [("LZ-02", *GRID21)]


def test_the_coverage_per_grid_worker(farm: Farm) -> None:
    w = farm.world

    # The workers with most households left come first (worker12: 2 left; worker11: none).
    assert [_counts(row) for row in worker_coverage(farm.campaign, w.user("office"))] == [
        (["worker12"], *GRID12),
        (["worker11"], *GRID11),
    ]
    assert [_counts(row) for row in worker_coverage(farm.campaign, w.user("worker11"))] == [
        (["worker11"], *GRID11)
    ]
    assert worker_coverage(farm.campaign, w.user("head2")) == []


def test_what_is_left_is_listed_exactly(farm: Farm) -> None:
    w = farm.world
    office = w.user("office")

    assert [
        (h.pk, h.campaign_status)  # type: ignore[attr-defined]
        for h in households_left(farm.campaign, office)
    ] == [
        (w.household12.pk, None),
        (farm.household_g.pk, "nobody_home"),
        (w.household21.pk, None),
    ]
    assert list(persons_never_seen(farm.campaign, office)) == [
        w.person12,
        farm.person_g,
        w.person21,
    ]
    assert list(households_left(farm.campaign, w.user("worker11"))) == []
    assert list(persons_never_seen(farm.campaign, w.user("worker11"))) == []


def test_a_person_added_at_the_door_grows_the_total_by_one(farm: Farm) -> None:
    total, _rows = coverage(farm.campaign, farm.world.user("office"))

    assert (farm.persons_total_before_door, total.persons_total) == (9, 10)


def test_a_person_found_moved_out_is_screened_and_kept_in_the_total(farm: Farm) -> None:
    farm.person_b2.refresh_from_db()

    assert farm.person_b2.status == Person.Status.MOVED_OUT
    assert farm.person_b2 not in persons_never_seen(farm.campaign, farm.world.user("office"))


def test_the_running_counts_are_the_hand_count_and_a_recount_changes_nothing(
    farm: Farm,
) -> None:
    running = _tallies(farm.campaign)

    services.recount_campaign(campaign=farm.campaign)

    assert running == {
        "LZ-01-01": (4, 0, 5, 1, 1, 1),
        "LZ-01-02": (1, 1, 2, 0, 0, 0),
    }
    assert _tallies(farm.campaign) == running


def test_visiting_the_last_households_completes_the_campaign(farm: Farm) -> None:
    w = farm.world
    office = w.user("office")

    for person in (w.person12, farm.person_g, w.person21):
        services.screen_person(actor=office, campaign=farm.campaign, person=person, at=DAY2)

    total, _rows = coverage(farm.campaign, office)
    assert _counts(total) == ("LZ", 8, 8, 0, 10, 10, 1, 1, 1)
    assert (total.complete, total.households_percent, total.persons_percent) == (True, 100, 100)
    assert list(households_left(farm.campaign, office)) == []
    assert list(persons_never_seen(farm.campaign, office)) == []


# ---------------------------------------------------------------------------------------------
# Corrections never count twice


@pytest.mark.parametrize(
    ("first", "second", "tally"),
    [
        ({}, {"presence": "moved_out"}, (1, 0, 1, 1, 0, 0)),
        ({"presence": "moved_out"}, {}, (1, 0, 1, 0, 0, 0)),
        (
            {"presence": "away"},
            {"contact_kind": "case", "contact_name": "刘某"},
            (1, 0, 1, 0, 1, 0),
        ),
        (
            {"contact_kind": "case", "contact_name": "刘某"},
            {"symptoms": ["cough"]},
            (1, 0, 1, 0, 0, 1),
        ),
        ({"temperature": "38.5"}, {"temperature": "37.4"}, (1, 0, 1, 0, 0, 1)),
    ],
    ids=[
        "present-then-moved-out",
        "moved-out-then-present",
        "away-then-key",
        "key-then-urgent",
        "still-urgent",
    ],
)
def test_a_correction_does_not_count_twice(
    world: World, first: dict[str, Any], second: dict[str, Any], tally: tuple[int, ...]
) -> None:
    campaign = services.create_campaign(
        actor=None, name="复查", unit=world.unit1, start=D(2020, 2, 1)
    )
    office = world.user("office")
    services.screen_person(
        actor=office, campaign=campaign, person=world.person11b, at=DAY1, **first
    )
    total_before = coverage(campaign, office)[0].persons_total

    services.screen_person(
        actor=office, campaign=campaign, person=world.person11b, at=DAY2, **second
    )

    running = _tallies(campaign)
    assert running == {"LZ-01-01": tally}
    total, _rows = coverage(campaign, office)
    assert (total.persons_total, total.persons_screened) == (total_before, 1)
    services.recount_campaign(campaign=campaign)
    assert _tallies(campaign) == running


def test_a_correction_after_a_move_to_another_grid_moves_the_counts(world: World) -> None:
    campaign = services.create_campaign(
        actor=None, name="复查", unit=world.unit1, start=D(2020, 2, 1)
    )
    services.screen_person(
        actor=None, campaign=campaign, person=world.person11b, at=DAY1, symptoms=["cough"]
    )
    org_services.update_person(actor=None, person=world.person11b, household=world.household12)

    services.screen_person(
        actor=None, campaign=campaign, person=world.person11b, at=DAY2, symptoms=["cough"]
    )

    running = _tallies(campaign)
    services.recount_campaign(campaign=campaign)
    assert _tallies(campaign) == running
    total, rows = coverage(campaign, world.user("office"), under=world.unit1)
    assert (total.persons_total, total.persons_screened, total.urgent_persons) == (3, 1, 1)
    assert [(r.unit.code if r.unit else "", r.persons_screened) for r in rows] == [
        ("LZ-01-01", 0),
        ("LZ-01-02", 1),
    ]


# ---------------------------------------------------------------------------------------------
# Each grid worker's to-do list


def test_a_grid_worker_sees_only_their_grids_to_do_in_a_branch_wide_campaign(
    world: World,
) -> None:
    campaign = services.create_campaign(
        actor=None, name="全场摸排", unit=world.branch, start=D(2020, 2, 1)
    )
    worker11 = world.user("worker11")

    assert list(households_left(campaign, worker11)) == [world.household11]
    assert list(persons_never_seen(campaign, worker11)) == [world.person11b, world.person11]
    assert list(households_left(campaign, world.user("office"))) == [
        world.household11,
        world.household12,
        world.household21,
    ]


def test_the_campaign_gives_each_grid_to_its_grid_workers(world: World) -> None:
    unit_worker = _grid_worker("worker1", world.unit1)
    worker12 = _grid_worker("worker12", world.grid12)
    _grid_worker("worker21", world.grid21)  # outside the campaign

    campaign = services.create_campaign(
        actor=None, name="一站复查", unit=world.unit1, start=D(2020, 2, 1)
    )

    assert sorted(
        CampaignAssignment.objects.filter(campaign=campaign).values_list(
            "grid__code", "worker__username"
        )
    ) == [
        ("LZ-01-01", "worker1"),
        ("LZ-01-01", "worker11"),
        ("LZ-01-02", "worker1"),
        ("LZ-01-02", "worker12"),
    ]
    assert unit_worker.pk != worker12.pk


def test_mine_lists_only_the_grids_assigned_to_the_worker(world: World) -> None:
    unit_worker = _grid_worker("worker1", world.unit1)  # sees both grids of LZ-01
    worker12 = _grid_worker("worker12", world.grid12)
    campaign = services.create_campaign(
        actor=None, name="全场摸排", unit=world.branch, start=D(2020, 2, 1)
    )
    mine = TodoFilters(mine=True)

    services.assign_grid(
        actor=world.user("office"), campaign=campaign, grid=world.grid12, workers=[worker12]
    )

    assert list(households_left(campaign, unit_worker)) == [
        world.household11,
        world.household12,
    ]
    assert list(households_left(campaign, unit_worker, mine)) == [world.household11]
    assert list(persons_never_seen(campaign, unit_worker, mine)) == [
        world.person11b,
        world.person11,
    ]
    assert list(households_left(campaign, worker12, mine)) == [world.household12]
    assert list(households_left(campaign, world.user("office"), mine)) == []
    assert list(
        households_left(campaign, world.user("office"), TodoFilters(grid=world.grid12))
    ) == [world.household12]


def test_a_grid_is_given_only_to_its_grid_workers(world: World) -> None:
    campaign = services.create_campaign(
        actor=None, name="全场摸排", unit=world.branch, start=D(2020, 2, 1)
    )

    with pytest.raises(ValidationError) as error:
        services.assign_grid(
            actor=None, campaign=campaign, grid=world.grid12, workers=[world.user("worker11")]
        )
    assert error.value.message_dict == {"workers": ["worker11 not grid workers of this grid."]}

    with pytest.raises(ValidationError) as error:
        services.assign_grid(actor=None, campaign=world.campaign1, grid=world.grid21, workers=[])
    assert error.value.message_dict == {"grid": ["Choose a grid inside the campaign's scope."]}
    assert list(
        CampaignAssignment.objects.filter(campaign=campaign).values_list(
            "grid__code", "worker__username"
        )
    ) == [("LZ-01-01", "worker11")]
