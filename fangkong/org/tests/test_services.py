"""Writes to the organisation and the register (services), search and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from fangkong.core.models import SensitiveAccess
from fangkong.core.testing import World, make_id_number
from fangkong.org import services
from fangkong.org.models import Household, OrgUnit, Person, TimelineEvent, User
from fangkong.org.selectors import (
    HouseholdFilters,
    PersonFilters,
    audit_trail,
    households_for,
    persons_for,
    units_for,
)

STANDARD_EXAMPLE = "11010519491231002X"
P11_ID = "620723197503141316"  # person11 (张建国), built by the world
P11_ID_CORRECTED = "620723197503141332"  # same birth date and sex, another serial
DUPLICATE_MESSAGE = (
    "Another person in the register already has this ID number. "
    "Search for them instead of adding a duplicate."
)
PHONE_MESSAGE = "A mobile number has 11 digits and starts with 13–19, e.g. 13812345678."

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def field_errors(caught: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return caught.value.message_dict


def events(person: Person, kind: str) -> list[TimelineEvent]:
    return list(person.timeline.filter(kind=kind).order_by("id"))


def fresh(user: User) -> User:
    """The user re-read, so that no scope is cached from an earlier call."""
    return User.objects.get(pk=user.pk)


# ---------------------------------------------------------------------------------------------
# create_person


def test_a_new_persons_id_number_is_normalised_and_birth_date_and_sex_derived(
    world: World,
) -> None:
    result = services.create_person(
        actor=world.user("worker11"),
        name=" 赵桂兰 ",
        household=world.household11,
        id_number=" 11010519491231002x ",
    )
    person = Person.objects.get(pk=result.person.pk)
    assert (person.name, person.id_number, person.birth_date, person.sex) == (
        "赵桂兰",
        STANDARD_EXAMPLE,
        dt.date(1949, 12, 31),
        Person.Sex.FEMALE,
    )
    assert result.warnings == []
    assert not person.lacks_id_number


def test_a_sex_that_contradicts_the_id_number_is_a_field_error(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_person(
            actor=None, name="赵桂兰", grid=world.grid11, id_number=STANDARD_EXAMPLE, sex="M"
        )
    assert field_errors(caught) == {
        "sex": ["The ID number says the sex is Female; correct one of them."]
    }


def test_a_birth_date_that_contradicts_the_id_number_is_a_field_error(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_person(
            actor=None,
            name="赵桂兰",
            grid=world.grid11,
            id_number=STANDARD_EXAMPLE,
            birth_date=dt.date(1950, 1, 1),
        )
    assert field_errors(caught) == {
        "birth_date": ["The ID number says the birth date is 1949-12-31; correct one of them."]
    }


def test_a_matching_sex_and_birth_date_are_accepted(world: World) -> None:
    person = services.create_person(
        actor=None,
        name="赵桂兰",
        grid=world.grid11,
        id_number=STANDARD_EXAMPLE,
        sex="F",
        birth_date=dt.date(1949, 12, 31),
    ).person
    assert (person.sex, person.birth_date) == ("F", dt.date(1949, 12, 31))


def test_all_field_errors_are_reported_together(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_person(
            actor=None,
            name=" ",
            grid=world.grid11,
            id_number="110105194912310025",
            phone="12812345678",
        )
    assert field_errors(caught) == {
        "name": ["Enter the name."],
        "id_number": [
            "The last character (check character) should be X, not 5: a digit was probably mistyped."
        ],
        "phone": [PHONE_MESSAGE],
    }
    assert not Person.objects.filter(id_number="110105194912310025").exists()


def test_an_unknown_region_code_is_saved_with_a_warning(world: World) -> None:
    number = make_id_number("999999", dt.date(1980, 1, 1), 123)
    result = services.create_person(actor=None, name="钱多多", grid=world.grid11, id_number=number)
    assert Person.objects.get(pk=result.person.pk).id_number == "999999198001011233"
    assert result.warnings == [
        "Region code 999999 is not in the list of known codes; it may be an old code. "
        "Please double-check."
    ]


def test_an_id_number_already_held_by_an_active_person_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_person(actor=None, name="张建国", grid=world.grid21, id_number=P11_ID)
    assert field_errors(caught) == {"id_number": [DUPLICATE_MESSAGE]}
    assert Person.objects.filter(id_number=P11_ID).count() == 1


def test_a_duplicate_written_with_a_lower_case_x_is_refused(world: World) -> None:
    services.create_person(actor=None, name="赵桂兰", grid=world.grid11, id_number=STANDARD_EXAMPLE)
    with pytest.raises(ValidationError) as caught:
        services.create_person(
            actor=None, name="赵桂兰", grid=world.grid12, id_number="11010519491231002x"
        )
    assert field_errors(caught) == {"id_number": [DUPLICATE_MESSAGE]}


def test_an_id_number_is_free_again_once_its_holder_is_inactive(world: World) -> None:
    Person.objects.filter(pk=world.person11.pk).update(is_active=False)
    person = services.create_person(
        actor=None, name="张建国", grid=world.grid21, id_number=P11_ID
    ).person
    assert Person.objects.filter(id_number=P11_ID).count() == 2
    assert Person.objects.get(id_number=P11_ID, is_active=True).pk == person.pk


def test_a_person_without_an_id_number_is_allowed_and_flagged(world: World) -> None:
    person = services.create_person(actor=None, name="张小红", household=world.household11).person
    assert person.lacks_id_number
    assert (person.id_number, person.birth_date, person.sex) == ("", None, Person.Sex.UNKNOWN)
    assert [e.summary for e in events(person, "created")] == ["Added to the register: no ID number"]


def test_several_persons_without_an_id_number_do_not_clash(world: World) -> None:
    services.create_person(actor=None, name="张小红", household=world.household11)
    services.create_person(actor=None, name="张小兰", household=world.household11)
    assert persons_for(world.user("admin"), PersonFilters(lacks_id=True)).count() == 3


def test_the_creation_is_on_the_timeline_with_its_source_and_actor(world: World) -> None:
    worker = world.user("worker11")
    person = services.create_person(
        actor=worker,
        name="赵桂兰",
        household=world.household11,
        id_number=STANDARD_EXAMPLE,
        source="排查表 2020-02-01.xlsx",
    ).person
    [event] = events(person, "created")
    assert event.summary == "Added to the register (排查表 2020-02-01.xlsx)"
    assert event.actor == worker
    assert event.data == {
        "household": world.household11.pk,
        "grid": world.grid11.pk,
        "source": "排查表 2020-02-01.xlsx",
    }
    assert person.history.get().history_user == worker


@pytest.mark.parametrize(
    "phone", ["+86 139-0000-1111", "139 0000 1111", "13900001111", "+8613900001111"]
)
def test_a_phone_number_is_stored_normalised(world: World, phone: str) -> None:
    person = services.create_person(
        actor=None, name="赵桂兰", grid=world.grid11, phone=phone
    ).person
    assert Person.objects.get(pk=person.pk).phone == "13900001111"


@pytest.mark.parametrize("phone", ["12812345678", "1390000111", "0931-1234567"])
def test_a_phone_that_is_not_a_mobile_number_is_a_field_error(world: World, phone: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_person(actor=None, name="赵桂兰", grid=world.grid11, phone=phone)
    assert field_errors(caught) == {"phone": [PHONE_MESSAGE]}


def test_a_person_added_to_a_household_gets_the_households_grid(world: World) -> None:
    person = services.create_person(
        actor=None, name="李小花", household=world.household12, grid=world.grid11
    ).person
    assert Person.objects.get(pk=person.pk).grid == world.grid12


def test_a_person_needs_a_household_or_a_grid(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_person(actor=None, name="无名")
    assert field_errors(caught) == {"household": ["Choose a household or at least a grid."]}


def test_a_person_cannot_be_placed_directly_in_a_unit(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_person(actor=None, name="无名", grid=world.unit1)
    assert field_errors(caught) == {"grid": ["Choose a grid, not a unit."]}


def test_the_first_head_of_household_becomes_the_households_head(world: World) -> None:
    household = services.create_household(actor=None, grid=world.grid12, address="一站3排1号")
    person = services.create_person(
        actor=None, name="孙强", household=household, relation=Person.Relation.HEAD
    ).person
    assert Household.objects.get(pk=household.pk).head == person


def test_a_grid_worker_cannot_add_a_person_to_another_grid(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.create_person(
            actor=world.user("worker11"), name="李小花", household=world.household12
        )
    assert not Person.objects.filter(name="李小花").exists()


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1"])
def test_a_read_only_user_cannot_add_a_person(world: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        services.create_person(actor=world.user(username), name="李小花", grid=world.grid11)


# ---------------------------------------------------------------------------------------------
# update_person


def test_changed_fields_are_listed_on_the_timeline_with_numbers_masked(world: World) -> None:
    head1 = world.user("head1")
    services.update_person(
        actor=head1,
        person=world.person11,
        id_number=P11_ID_CORRECTED,
        phone="135 0000 0000",
        occupation="司机",
    )
    [event] = events(world.person11, "changed")
    assert event.summary == (
        "Changed ID number: 620723********1316 → 620723********1332; "
        "phone: 139****5678 → 135****0000; occupation: — → 司机"
    )
    assert event.data == {"fields": ["id_number", "phone", "occupation"], "source": ""}
    assert event.actor == head1
    person = Person.objects.get(pk=world.person11.pk)
    assert (person.id_number, person.phone, person.occupation) == (
        P11_ID_CORRECTED,
        "13500000000",
        "司机",
    )


def test_an_update_that_changes_nothing_records_nothing(world: World) -> None:
    records = world.person11.history.count()
    services.update_person(
        actor=world.user("head1"), person=world.person11, phone="+86 139 1234 5678", name="张建国"
    )
    assert events(world.person11, "changed") == []
    assert world.person11.history.count() == records


def test_a_new_id_number_brings_its_own_birth_date_and_sex(world: World) -> None:
    new_id = make_id_number("620723", dt.date(1975, 3, 15), 132)  # even serial: female
    person = services.update_person(
        actor=None,
        person=world.person11,
        id_number=new_id,
        birth_date=dt.date(1975, 3, 14),  # the old values, as an edit form sends them
        sex=Person.Sex.MALE,
    ).person
    assert (person.birth_date, person.sex) == (dt.date(1975, 3, 15), Person.Sex.FEMALE)


def test_a_new_id_number_with_a_different_typed_birth_date_is_a_field_error(world: World) -> None:
    new_id = make_id_number("620723", dt.date(1975, 3, 15), 131)
    with pytest.raises(ValidationError) as caught:
        services.update_person(
            actor=None, person=world.person11, id_number=new_id, birth_date=dt.date(1980, 1, 1)
        )
    assert field_errors(caught) == {
        "birth_date": ["The ID number says the birth date is 1975-03-15; correct one of them."]
    }


def test_an_update_cannot_take_another_active_persons_id_number(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.update_person(
            actor=None,
            person=world.person12,
            id_number=P11_ID,
            birth_date=dt.date(1975, 3, 14),
            sex="M",
        )
    assert field_errors(caught) == {"id_number": [DUPLICATE_MESSAGE]}


def test_moving_to_another_household_records_a_moved_event_and_keeps_the_old_one_in_history(
    world: World,
) -> None:
    head1 = world.user("head1")
    services.update_person(actor=head1, person=world.person12, household=world.household11)

    person = Person.objects.get(pk=world.person12.pk)
    assert (person.household, person.grid) == (world.household11, world.grid11)
    [event] = events(person, "moved")
    assert event.summary == "Moved from household 一站2排5号 to 一站1排3号"
    assert event.actor == head1
    assert event.data == {
        "from_household": world.household12.pk,
        "to_household": world.household11.pk,
        "from_grid": world.grid12.pk,
        "to_grid": world.grid11.pk,
    }
    assert events(person, "changed") == []

    latest, previous = person.history.order_by("-history_date", "-history_id")[:2]
    assert (latest.household_id, latest.grid_id, latest.history_user) == (
        world.household11.pk,
        world.grid11.pk,
        head1,
    )
    assert (previous.household_id, previous.grid_id) == (world.household12.pk, world.grid12.pk)

    # 李秀英 was the head of her old household, which now has none.
    assert Household.objects.get(pk=world.household12.pk).head is None


def test_leaving_a_household_keeps_the_grid(world: World) -> None:
    services.update_person(actor=None, person=world.person12, household=None)
    person = Person.objects.get(pk=world.person12.pk)
    assert (person.household, person.grid) == (None, world.grid12)
    assert [e.summary for e in events(person, "moved")] == ["Moved from household 一站2排5号 to —"]


def test_a_grid_worker_cannot_move_a_person_out_of_their_grid(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.update_person(
            actor=world.user("worker11"), person=world.person11, household=world.household12
        )
    assert Person.objects.get(pk=world.person11.pk).household == world.household11


def test_an_outsider_cannot_change_a_person(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.update_person(actor=world.user("head2"), person=world.person11, note="x")


def test_an_unknown_person_field_is_a_programming_error(world: World) -> None:
    with pytest.raises(TypeError, match=r"unknown Person fields: \['is_active'\]"):
        services.update_person(actor=None, person=world.person11, is_active=False)


# ---------------------------------------------------------------------------------------------
# update_household


def test_moving_a_household_to_another_grid_moves_its_active_members(world: World) -> None:
    head1 = world.user("head1")
    gone = services.create_person(actor=None, name="张老汉", household=world.household11).person
    Person.objects.filter(pk=gone.pk).update(is_active=False)

    services.update_household(actor=head1, household=world.household11, grid=world.grid12)

    assert Household.objects.get(pk=world.household11.pk).grid == world.grid12
    for member in (world.person11, world.person11b):
        member.refresh_from_db()
        assert member.grid == world.grid12
        [event] = events(member, "household_moved")
        assert event.summary == "Household moved from grid 一站一网格 to 一站二网格"
        assert event.actor == head1
        assert event.data == {
            "household": world.household11.pk,
            "from_grid": world.grid11.pk,
            "to_grid": world.grid12.pk,
        }
        assert member.history.latest("history_date").history_user == head1
    gone.refresh_from_db()
    assert gone.grid == world.grid11
    assert events(gone, "household_moved") == []


def test_a_household_cannot_be_moved_into_a_grid_outside_the_actors_scope(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.update_household(
            actor=world.user("head1"), household=world.household11, grid=world.grid21
        )
    assert Household.objects.get(pk=world.household11.pk).grid == world.grid11
    assert Person.objects.get(pk=world.person11.pk).grid == world.grid11


def test_a_household_cannot_be_moved_into_a_unit(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.update_household(actor=None, household=world.household11, grid=world.unit1)
    assert field_errors(caught) == {"grid": ["第一作业站 (LZ-01) is not a grid; choose a grid."]}


def test_the_head_of_a_household_must_be_a_member(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.update_household(actor=None, household=world.household11, head=world.person12)
    assert field_errors(caught) == {"head": ["The head of household must be a member of it."]}


def test_changing_a_households_address_does_not_move_its_members(world: World) -> None:
    services.update_household(
        actor=world.user("worker11"), household=world.household11, address=" 一站1排4号 "
    )
    assert Household.objects.get(pk=world.household11.pk).address == "一站1排4号"
    assert events(world.person11, "household_moved") == []


# ---------------------------------------------------------------------------------------------
# create_org_unit


def test_an_org_units_path_and_depth_follow_its_parent(world: World) -> None:
    root = services.create_org_unit(actor=None, code="GT", name="甘泰分公司", kind="branch")
    unit = services.create_org_unit(actor=None, code="GT-01", name="一队", kind="unit", parent=root)
    grid = services.create_org_unit(
        actor=None, code="GT-01-01", name="一队一网格", kind="grid", parent=unit
    )
    stored = {u.code: (u.path, u.depth) for u in OrgUnit.objects.filter(code__startswith="GT")}
    assert stored == {
        "GT": (f"/{root.pk:010d}/", 0),
        "GT-01": (f"/{root.pk:010d}/{unit.pk:010d}/", 1),
        "GT-01-01": (f"/{root.pk:010d}/{unit.pk:010d}/{grid.pk:010d}/", 2),
    }


def test_the_audit_trail_of_a_new_org_unit_records_its_path_and_depth(world: World) -> None:
    [created] = world.grid21.history.all()
    assert (created.path, created.depth) == (world.grid21.path, 2)


def test_renaming_an_org_unit_shows_only_the_name_in_its_audit_trail(world: World) -> None:
    office = world.user("office")
    services.update_org_unit(actor=office, unit=world.grid11, name=" 一站东网格 ")
    latest = audit_trail(world.grid11, masked={})[0]
    assert (latest.user, latest.changes) == (office, [("name", "一站一网格", "一站东网格")])


def test_the_world_is_a_tree_of_paths(world: World) -> None:
    assert world.unit1.path == f"{world.branch.path}{world.unit1.pk:010d}/"
    assert world.grid21.path == f"{world.branch.path}{world.unit2.pk:010d}/{world.grid21.pk:010d}/"


@pytest.mark.parametrize(
    ("kind", "parent_name"),
    [
        ("unit", None),
        ("grid", None),
        ("grid", "branch"),
        ("branch", "unit1"),
        ("branch", "grid11"),
        ("unit", "grid11"),
    ],
)
def test_a_kind_may_only_be_placed_under_an_allowed_parent(
    world: World, kind: str, parent_name: str | None
) -> None:
    parent = getattr(world, parent_name) if parent_name else None
    with pytest.raises(ValidationError) as caught:
        services.create_org_unit(actor=None, code="X-1", name="新", kind=kind, parent=parent)
    assert field_errors(caught) == {"parent": [f"A {kind} cannot be placed under this parent."]}


@pytest.mark.parametrize(
    ("kind", "parent_name"),
    [
        ("branch", None),
        ("branch", "branch"),
        ("unit", "branch"),
        ("unit", "unit1"),
        ("grid", "unit1"),
        ("grid", "grid11"),
    ],
)
def test_the_allowed_kind_and_parent_combinations(
    world: World, kind: str, parent_name: str | None
) -> None:
    parent = getattr(world, parent_name) if parent_name else None
    unit = services.create_org_unit(actor=None, code="X-1", name="新", kind=kind, parent=parent)
    assert (unit.kind, unit.parent) == (kind, parent)


def test_an_unknown_kind_is_a_field_error(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_org_unit(
            actor=None, code="X-1", name="新", kind="zone", parent=world.branch
        )
    assert field_errors(caught) == {"kind": ["Choose branch, unit or grid."]}


def test_an_org_unit_code_is_stored_upper_case(world: World) -> None:
    unit = services.create_org_unit(
        actor=None, code=" lz-03 ", name=" 第三作业站 ", kind="unit", parent=world.branch
    )
    assert OrgUnit.objects.filter(pk=unit.pk).values_list("code", "name").get() == (
        "LZ-03",
        "第三作业站",
    )


def test_a_code_already_in_use_is_refused_whatever_its_case(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_org_unit(
            actor=None, code="lz-01", name="重复", kind="unit", parent=world.branch
        )
    assert field_errors(caught) == {"code": ["Org unit with this Code already exists."]}


def test_a_code_with_other_characters_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_org_unit(
            actor=None, code="LZ 03", name="第三作业站", kind="unit", parent=world.branch
        )
    assert field_errors(caught) == {"code": ["Use letters, digits and dashes only, e.g. LZ-03-12."]}


def test_the_responsible_phone_is_validated(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_org_unit(
            actor=None,
            code="LZ-03",
            name="第三作业站",
            kind="unit",
            parent=world.branch,
            responsible_phone="12345",
        )
    assert field_errors(caught) == {"responsible_phone": [PHONE_MESSAGE]}


def test_the_office_may_add_a_unit_and_a_unit_head_may_not(world: World) -> None:
    unit = services.create_org_unit(
        actor=world.user("office"),
        code="LZ-03",
        name="第三作业站",
        kind="unit",
        parent=world.branch,
    )
    assert unit.history.get().history_user == world.user("office")
    with pytest.raises(PermissionDenied):
        services.create_org_unit(
            actor=world.user("head1"),
            code="LZ-01-03",
            name="三网格",
            kind="grid",
            parent=world.unit1,
        )


@pytest.mark.parametrize("username", ["office", "head1", "worker11"])
def test_only_the_administrator_may_add_a_top_level_branch(world: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        services.create_org_unit(
            actor=fresh(world.user(username)), code="GT", name="甘泰分公司", kind="branch"
        )
    assert not OrgUnit.objects.filter(code="GT").exists()
    root = services.create_org_unit(
        actor=world.user("admin"), code="GT", name="甘泰分公司", kind="branch"
    )
    assert root.depth == 0


# ---------------------------------------------------------------------------------------------
# create_user and assign_role


def test_the_office_may_add_a_grid_worker_in_its_branch(world: World) -> None:
    user = services.create_user(
        actor=fresh(world.user("office")),
        username="worker12",
        password="Qzkvwpx#7",
        role="grid_worker",
        org_unit=world.grid12,
    )
    assert list(user.assignments.values_list("role", "org_unit")) == [
        ("grid_worker", world.grid12.pk)
    ]
    assert not user.is_staff


@pytest.mark.parametrize("username", ["office", "head1"])
def test_only_the_administrator_may_create_an_administrator(world: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=fresh(world.user(username)),
            username="root2",
            password="Qzkvwpx#7",
            role="admin",
            org_unit=None,
        )
    assert not User.objects.filter(username="root2").exists()
    with pytest.raises(PermissionDenied):
        services.assign_role(
            actor=fresh(world.user(username)),
            user=world.user("worker11"),
            role="admin",
            org_unit=None,
        )
    admin = services.create_user(
        actor=fresh(world.user("admin")),
        username="root2",
        password="Qzkvwpx#7",
        role="admin",
        org_unit=None,
    )
    assert (admin.is_staff, admin.is_superuser) == (True, True)


def test_a_unit_head_may_not_hand_out_roles(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.assign_role(
            actor=fresh(world.user("head1")),
            user=world.user("worker11"),
            role="grid_worker",
            org_unit=world.grid12,
        )
    assert world.user("worker11").assignments.count() == 1


def test_the_office_may_not_hand_out_roles_outside_its_branch(world: World) -> None:
    other = services.create_org_unit(actor=None, code="GT", name="甘泰分公司", kind="branch")
    with pytest.raises(PermissionDenied):
        services.assign_role(
            actor=fresh(world.user("office")),
            user=world.user("worker11"),
            role="leader",
            org_unit=other,
        )


# ---------------------------------------------------------------------------------------------
# reveal_person_field


@pytest.mark.parametrize("username", ["office", "head1", "worker11", "admin"])
def test_revealing_a_full_number_returns_it_and_records_who_saw_it(
    world: World, username: str
) -> None:
    user = world.user(username)
    value = services.reveal_person_field(actor=user, person=world.person11, field_name="id_number")
    assert value == P11_ID
    access = SensitiveAccess.objects.get()
    assert (access.user, access.action, access.object_type, access.object_id, access.detail) == (
        user,
        "reveal",
        "person",
        world.person11.pk,
        {"field": "id_number"},
    )


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1", "head2"])
def test_a_role_without_reveal_rights_gets_403_and_nothing_is_recorded(
    world: World, username: str
) -> None:
    with pytest.raises(PermissionDenied):
        services.reveal_person_field(
            actor=world.user(username), person=world.person11, field_name="phone"
        )
    assert not SensitiveAccess.objects.exists()


def test_only_the_id_number_and_the_phone_can_be_revealed(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.reveal_person_field(
            actor=world.user("office"), person=world.person11, field_name="name"
        )
    assert field_errors(caught) == {"field": ["Only the ID number and the phone can be revealed."]}
    assert not SensitiveAccess.objects.exists()


# ---------------------------------------------------------------------------------------------
# Search


def search(user: User, q: str) -> set[str]:
    return {p.name for p in persons_for(fresh(user), PersonFilters(q=q))}


@pytest.mark.parametrize(
    ("q", "found"), [("1234", {"张建国"}), ("00005", {"李秀英"}), ("222", {"王立新"})]
)
def test_part_of_a_phone_number_finds_the_person(world: World, q: str, found: set[str]) -> None:
    assert search(world.user("admin"), q) == found


def test_part_of_an_id_number_finds_the_person(world: World) -> None:
    assert search(world.user("admin"), "19821102") == {"李秀英"}
    assert search(world.user("admin"), "6207") == {"张建国", "李秀英", "王立新"}


def test_an_id_number_ending_in_x_is_found_whatever_the_case(world: World) -> None:
    services.create_person(actor=None, name="赵桂兰", grid=world.grid11, id_number=STANDARD_EXAMPLE)
    assert search(world.user("admin"), "231002X") == {"赵桂兰"}
    assert search(world.user("admin"), "231002x") == {"赵桂兰"}


def test_a_two_character_query_matches_the_start_of_the_name(world: World) -> None:
    assert search(world.user("admin"), "张建") == {"张建国"}
    assert search(world.user("admin"), "张") == {"张建国", "张小明"}


def test_a_two_character_query_matches_the_middle_of_the_name_too(world: World) -> None:
    assert search(world.user("admin"), "建国") == {"张建国"}
    assert search(world.user("admin"), "小") == {"张小明"}


def test_a_short_query_stays_within_the_scope(world: World) -> None:
    services.create_person(actor=None, name="王建国", grid=world.grid21)
    assert search(world.user("head1"), "建国") == {"张建国"}
    assert search(world.user("head2"), "建国") == {"王建国"}


def test_a_three_character_query_matches_anywhere_in_the_name(world: World) -> None:
    services.create_person(actor=None, name="欧阳建国强", grid=world.grid11)
    assert search(world.user("admin"), "建国强") == {"欧阳建国强"}


def test_like_wildcards_in_a_query_match_only_themselves(world: World) -> None:
    assert search(world.user("admin"), "139_234") == set()
    assert search(world.user("admin"), "139%") == set()


def test_search_follows_a_changed_phone_number(world: World) -> None:
    services.update_person(actor=None, person=world.person11, phone="13588886666")
    assert search(world.user("admin"), "1234") == set()
    assert search(world.user("admin"), "88866") == {"张建国"}


def test_search_skips_inactive_persons(world: World) -> None:
    Person.objects.filter(pk=world.person11.pk).update(is_active=False)
    assert search(world.user("admin"), "1234") == set()


def test_search_stays_within_the_users_scope(world: World) -> None:
    assert search(world.user("head2"), "1234") == set()
    assert search(world.user("head2"), "6207") == {"王立新"}
    assert search(world.user("head2"), "张") == set()
    assert search(world.user("worker11"), "李秀") == set()
    assert search(world.user("worker11"), "19821102") == set()
    assert search(world.user("head1"), "6207") == {"张建国", "李秀英"}


def test_search_finds_nothing_for_a_user_without_assignments(world: World) -> None:
    nobody = User.objects.create_user(username="nobody", password="Xx#12345678")
    assert search(nobody, "6207") == set()


# ---------------------------------------------------------------------------------------------
# Audit trail


def test_the_audit_trail_masks_phone_and_id_numbers_in_before_and_after(world: World) -> None:
    head1 = world.user("head1")
    services.update_person(
        actor=head1, person=world.person11, id_number=P11_ID_CORRECTED, phone="13500000000"
    )
    latest, created = audit_trail(world.person11, masked=services.MASKED_FIELDS)
    assert (latest.user, latest.kind) == (head1, "Changed")
    assert sorted(latest.changes) == [
        ("ID number", "620723********1316", "620723********1332"),
        ("phone", "139****5678", "135****0000"),
    ]
    assert (created.user, created.kind, created.changes) == (None, "Created", [])


def test_the_audit_trail_shows_cleared_values_as_a_dash(world: World) -> None:
    services.update_person(actor=None, person=world.person11, phone="")
    latest = audit_trail(world.person11, masked=services.MASKED_FIELDS)[0]
    assert latest.changes == [("phone", "139****5678", "—")]


def test_the_audit_trail_of_a_household_masks_its_phone(world: World) -> None:
    services.update_household(actor=None, household=world.household11, phone="13600001234")
    latest = audit_trail(world.household11, masked={"phone": services.MASKED_FIELDS["phone"]})[0]
    assert latest.changes == [("phone", "138****1111", "136****1234")]


def test_the_audit_trail_names_linked_records_and_choice_labels(world: World) -> None:
    services.update_person(
        actor=world.user("head1"),
        person=world.person11b,
        household=world.household12,
        category=Person.Category.VISITOR,
    )
    with translation.override("en"):
        latest = audit_trail(world.person11b, masked=services.MASKED_FIELDS)[0]
    assert sorted(latest.changes) == [
        ("category", "Resident", "Visitor"),
        ("grid", "一站一网格 (LZ-01-01)", "一站二网格 (LZ-01-02)"),
        ("household", "一站1排3号", "一站2排5号"),
    ]
    assert latest.user == world.user("head1")


def test_opening_a_person_for_editing_records_that_the_full_numbers_were_shown(
    world: World,
) -> None:
    services.open_person_for_editing(actor=world.user("worker11"), person=world.person11)
    access = SensitiveAccess.objects.get()
    assert (access.user, access.object_type, access.object_id, access.detail) == (
        world.user("worker11"),
        "person",
        world.person11.pk,
        {"field": "id_number,phone", "via": "edit"},
    )


def test_opening_a_person_without_numbers_for_editing_records_nothing(world: World) -> None:
    services.open_person_for_editing(actor=world.user("worker11"), person=world.person11b)
    assert SensitiveAccess.objects.count() == 0


def test_a_read_only_role_cannot_open_a_person_for_editing(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.open_person_for_editing(actor=world.user("auditor1"), person=world.person11)
    assert SensitiveAccess.objects.count() == 0


def test_the_tree_lists_siblings_in_creation_order_past_nine(world: World) -> None:
    # Paths of unpadded ids sort "/…/10/" before "/…/4/": the tree would jump about.
    for n in range(3, 12):
        services.create_org_unit(
            actor=None,
            code=f"LZ-01-{n:02d}",
            name=f"一站{n}网格",
            kind=OrgUnit.Kind.GRID,
            parent=world.unit1,
        )
    codes = [u.code for u in units_for(world.user("head1"))]
    assert codes == ["LZ-01", *(f"LZ-01-{n:02d}" for n in range(1, 12))]


def test_households_are_found_by_a_short_part_of_the_address(world: World) -> None:
    found = households_for(world.user("office"), HouseholdFilters(q="3号"))
    assert [h.address for h in found] == ["一站1排3号"]
    longer = households_for(world.user("office"), HouseholdFilters(q="2排5号"))
    assert [h.address for h in longer] == ["一站2排5号"]
