"""The management commands seed_demo and create_user."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q
from django.utils import translation

from fangkong.core.permissions import Role
from fangkong.core.validators import validate_mobile, validate_resident_id
from fangkong.org import demo, services
from fangkong.org.models import (
    Household,
    OrgUnit,
    Person,
    RoleAssignment,
    TimelineEvent,
    User,
    household_search_text,
    person_search_text,
)
from fangkong.org.selectors import PersonFilters, persons_for

PERSONS = 1000  # 10 grids: LZ-01-01 and LZ-01-02 among them
# Beside the register of PERSONS persons in households, the checkpoint demo registers the
# outsiders flagged at its gate (fangkong.checkpoints.demo_entries): visitors in a grid,
# without a household.
AT_THE_GATE = 3


def _registered_at_the_gate() -> Any:
    return Person.objects.filter(household__isnull=True)


@pytest.fixture(autouse=True)
def _fast_and_english(settings: Any) -> Iterator[None]:
    """Fast password hashing (seven demo users per seed) and English messages."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", persons=PERSONS, seed=7, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded(db: None) -> str:
    return seed()


# ---------------------------------------------------------------------------------------------
# Sizes and names


def test_grid_count_is_forty_for_the_default_and_scales_with_the_persons() -> None:
    assert demo.grid_count(4000) == 40
    assert demo.grid_count(1000) == 10
    assert demo.grid_count(300) == 6  # never fewer than one per unit
    assert demo.grid_count(1_000_000) == 10_000


def test_grids_are_split_over_the_units_by_weight_with_at_least_one_each() -> None:
    assert demo.grids_per_unit(40) == [9, 8, 8, 6, 5, 4]
    assert demo.grids_per_unit(10) == [2, 2, 2, 2, 1, 1]
    assert demo.grids_per_unit(6) == [1, 1, 1, 1, 1, 1]
    assert sum(demo.grids_per_unit(10_000)) == 10_000


def test_chinese_numbers_name_the_grids() -> None:
    assert [demo.chinese_number(n) for n in (1, 9, 10, 12, 20, 47, 100)] == [
        "一",
        "九",
        "十",
        "十二",
        "二十",
        "四十七",
        "100",
    ]


def test_the_same_seed_draws_the_same_households() -> None:
    def draw(seed: int) -> list[tuple[str, bool, int, str, str]]:
        drawer = demo.PopulationDrawer(random.Random(seed))
        return [
            (m.relation, m.male, m.age, m.surname, m.category)
            for _ in range(200)
            for m in drawer.household()[0]
        ]

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_the_demo_password_satisfies_the_password_rules() -> None:
    from django.contrib.auth.password_validation import validate_password

    for account in demo.DEMO_USERS:
        validate_password(demo.DEMO_PASSWORD, User(username=account.username))


# ---------------------------------------------------------------------------------------------
# seed_demo


def test_seed_demo_creates_the_branch_six_units_and_their_grids(seeded: str) -> None:
    branch = OrgUnit.objects.get(kind=OrgUnit.Kind.BRANCH)
    assert (branch.code, branch.name, branch.path) == (
        "LZ",
        "亚盛股份临泽分公司",
        f"/{branch.pk:010d}/",
    )
    units = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.UNIT).order_by("code"))
    assert [u.code for u in units] == [f"LZ-0{n}" for n in range(1, 7)]
    assert [u.name for u in units] == [spec.name for spec in demo.UNITS]
    assert all(u.parent_id == branch.pk for u in units)
    grids = OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID)
    per_unit = Counter(grids.values_list("parent__code", flat=True))
    assert [per_unit[u.code] for u in units] == [2, 2, 2, 2, 1, 1]
    first = grids.get(code="LZ-01-01")
    assert (first.name, first.depth, first.path) == (
        "一站一网格",
        2,
        f"{units[0].path}{first.pk:010d}/",
    )
    assert first.responsible == "王芳"


def test_seed_demo_creates_the_persons_in_households_of_one_to_six(seeded: str) -> None:
    assert Person.objects.filter(household__isnull=False).count() == PERSONS
    assert Person.objects.count() == PERSONS + AT_THE_GATE
    households = Household.objects.count()
    assert f"{households:,} households, {PERSONS:,} persons" in seeded
    sizes = Household.objects.annotate(n=Count("members")).values_list("n", flat=True)
    assert min(sizes) == 1
    assert max(sizes) <= 6
    assert 2.4 < PERSONS / households < 2.9
    assert set(Person.objects.values_list("category", flat=True)) == set(Person.Category.values)


def test_every_id_number_is_valid_distinct_and_agrees_with_birth_date_and_sex(
    seeded: str,
) -> None:
    rows = list(Person.objects.exclude(id_number="").values_list("id_number", "birth_date", "sex"))
    numbers = [number for number, _birth, _sex in rows]
    assert len(numbers) == len(set(numbers))
    for number, birth, sex in rows:
        rid = validate_resident_id(number)
        assert (rid.number, rid.birth_date, rid.sex, rid.warnings) == (number, birth, sex, ())
    without = Person.objects.filter(id_number="", household__isnull=False)
    assert 0 < without.count() < PERSONS * 0.05
    assert set(without.values_list("category", flat=True)) <= {"resident", "visitor"}
    assert f"({without.count()} without an ID number)" in seeded


def test_every_phone_is_a_valid_mobile_number_and_distinct(seeded: str) -> None:
    phones = list(Person.objects.exclude(phone="").values_list("phone", flat=True))
    assert len(phones) > PERSONS / 2
    assert len(phones) == len(set(phones))
    assert all(validate_mobile(phone) == phone for phone in phones)


def test_every_person_is_in_a_household_and_its_grid(seeded: str) -> None:
    # but those registered at the gate: visitors, each flagged there
    outsiders = _registered_at_the_gate()
    assert outsiders.count() == AT_THE_GATE
    assert set(outsiders.values_list("category", flat=True)) == {Person.Category.VISITOR}
    assert outsiders.filter(checkpoint_entries__is_flagged=True).distinct().count() == AT_THE_GATE
    assert Person.objects.exclude(grid=F("household__grid")).count() == 0
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID, persons__isnull=True).count() == 0


def test_every_household_has_a_head_who_lives_in_it(seeded: str) -> None:
    assert Household.objects.filter(head__isnull=True).count() == 0
    assert Household.objects.exclude(head__household=F("pk")).count() == 0
    assert Household.objects.exclude(head__relation=Person.Relation.HEAD).count() == 0
    assert Person.objects.filter(relation=Person.Relation.HEAD).count() == Household.objects.count()


def test_search_texts_are_those_the_models_would_write(seeded: str) -> None:
    for person in Person.objects.all():
        assert person.search_text == person_search_text(person.name, person.id_number, person.phone)
    for household in Household.objects.all():
        assert household.search_text == household_search_text(household.address, household.phone)
    assert Household.objects.filter(address="一站1排1号").count() == 1


def test_every_person_has_a_created_event_on_the_timeline(seeded: str) -> None:
    # The screening demo adds its own events (screenings, new arrivals) after these, and the
    # observation demo those of the persons it puts under observation.
    created = TimelineEvent.objects.filter(kind="created").exclude(
        person__in=_registered_at_the_gate()
    )
    assert created.count() == PERSONS
    assert set(TimelineEvent.objects.values_list("kind", flat=True)) <= {
        "created",
        "screening",
        "arrival",
        "changed",  # the register status following the observation
        "observation_started",
        "temperature",
        "follow_up",
        "need",
        "need_resolved",
        "care_visit",
        "observation_decision",
        "checkpoint",  # flagged at a checkpoint
        "pioneer_post",  # a member of a pioneer post
    }
    assert (
        Person.objects.annotate(n=Count("timeline", filter=Q(timeline__kind="created")))
        .filter(n=1)
        .count()
        == PERSONS + AT_THE_GATE
    )
    person = Person.objects.exclude(id_number="").order_by("pk").first()
    assert person is not None
    event = person.timeline.get(kind="created")
    assert event.summary == "Added to the register (demo data)"
    assert event.data == {
        "household": person.household_id,
        "grid": person.grid_id,
        "source": "demo data",
    }
    assert event.actor is None
    lacking = created.filter(person__id_number="")
    assert set(lacking.values_list("summary", flat=True)) == {
        "Added to the register (demo data): no ID number"
    }


def test_the_audit_trail_records_the_creation_of_every_unit_household_and_person(
    seeded: str,
) -> None:
    history = Person.history.model.objects
    assert history.filter(history_type="+").count() == PERSONS + AT_THE_GATE
    record = history.order_by("history_id").first()
    person = Person.objects.get(pk=record.id)
    assert (record.name, record.id_number, record.phone, record.household_id) == (
        person.name,
        person.id_number,
        person.phone,
        person.household_id,
    )
    households = Household.history.model.objects
    assert households.filter(history_type="+").count() == Household.objects.count()
    assert households.filter(head_id__isnull=True).count() == 0
    units = OrgUnit.history.model.objects
    assert units.filter(history_type="+").count() == OrgUnit.objects.count() == 17


def test_seed_demo_creates_one_user_per_role_with_the_demo_password(seeded: str) -> None:
    assignments = {
        (a.user.username, a.role, a.org_unit.code if a.org_unit else None)
        for a in RoleAssignment.objects.select_related("user", "org_unit")
    }
    assert assignments == {
        ("admin", Role.ADMIN, None),
        ("leader", Role.LEADER, "LZ"),
        ("office", Role.OFFICE, "LZ"),
        ("unit_head", Role.UNIT_HEAD, "LZ-01"),
        ("grid_worker", Role.GRID_WORKER, "LZ-01-01"),
        ("checkpoint", Role.CHECKPOINT, "LZ-01"),
        ("auditor", Role.AUDITOR, "LZ"),
    }
    assert User.objects.count() == 7
    assert all(user.check_password(demo.DEMO_PASSWORD) for user in User.objects.all())
    assert User.objects.get(is_superuser=True).username == "admin"


def test_seed_demo_prints_the_demo_logins(seeded: str) -> None:
    table = seeded.split("Demo logins\n", 1)[1].splitlines()
    assert table[0].split() == [
        "用户名",
        "username",
        "角色",
        "role",
        "范围",
        "scope",
        "密码",
        "password",
    ]
    assert table[2].split() == [
        "admin",
        "系统管理员",
        "System",
        "administrator",
        "全部",
        "everything",
        demo.DEMO_PASSWORD,
    ]
    assert table[6].split() == [
        "grid_worker",
        "网格员",
        "Grid",
        "worker",
        "一站一网格",
        "(LZ-01-01)",
        demo.DEMO_PASSWORD,
    ]
    assert len(table) == 2 + 7


def test_search_finds_a_seeded_person_by_part_of_their_phone(seeded: str) -> None:
    person = Person.objects.exclude(phone="").order_by("-pk").first()
    assert person is not None
    admin = User.objects.get(username="admin")
    found = list(persons_for(admin, PersonFilters(q=person.phone[3:9])))
    assert person in found
    assert all(person.phone[3:9] in p.search_text for p in found)


def test_search_by_a_grid_worker_stays_in_their_grid(seeded: str) -> None:
    outsider = Person.objects.exclude(grid__code="LZ-01-01").exclude(phone="").first()
    assert outsider is not None
    worker = User.objects.get(username="grid_worker")
    assert list(persons_for(worker, PersonFilters(q=outsider.phone))) == []
    own = Person.objects.filter(grid__code="LZ-01-01").exclude(phone="").first()
    assert own is not None
    assert list(persons_for(worker, PersonFilters(q=own.phone))) == [own]


def test_the_services_keep_working_after_the_bulk_load(seeded: str) -> None:
    household = Household.objects.order_by("pk").last()
    assert household is not None
    person = services.create_person(actor=None, name="新来的", household=household).person
    assert person.pk == Person.objects.exclude(pk=person.pk).order_by("-pk")[0].pk + 1
    new_household = services.create_household(
        actor=None, grid=household.grid, address="一站99排1号"
    )
    assert new_household.pk == household.pk + 1


def test_seed_demo_if_empty_on_a_seeded_database_changes_nothing_but_prints_the_logins(
    seeded: str,
) -> None:
    counts = (OrgUnit.objects.count(), Household.objects.count(), Person.objects.count())
    out = seed(if_empty=True)
    assert (OrgUnit.objects.count(), Household.objects.count(), Person.objects.count()) == counts
    assert User.objects.count() == 7
    assert out.startswith("The database already holds an organisation: demo data not loaded.")
    assert all(f"\n{u.username} " in out for u in demo.DEMO_USERS)


def test_seed_demo_if_empty_on_an_empty_database_loads_the_data(db: None) -> None:
    out = seed(if_empty=True)
    assert Person.objects.count() == PERSONS + AT_THE_GATE
    assert "Demo data loaded" in out


def test_seed_demo_refuses_a_database_that_already_holds_an_organisation(seeded: str) -> None:
    with pytest.raises(CommandError, match="already holds an organisation"):
        seed()
    assert Person.objects.count() == PERSONS + AT_THE_GATE


def test_seed_demo_refuses_when_a_demo_user_name_is_taken(db: None) -> None:
    User.objects.create_user(username="leader", password="x")
    with pytest.raises(CommandError) as caught:
        seed()
    assert str(caught.value) == "These demo user names are taken: leader."
    assert OrgUnit.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# create_user


@pytest.fixture
def org(db: None) -> OrgUnit:
    branch = services.create_org_unit(actor=None, code="LZ", name="分公司", kind="branch")
    return services.create_org_unit(
        actor=None, code="LZ-01", name="第一作业站", kind="unit", parent=branch
    )


def password_file(tmp_path: Path, password: str) -> str:
    path = tmp_path / "password"
    path.write_text(password + "\n", encoding="utf-8")
    return str(path)


def test_create_user_reads_the_password_file_and_assigns_the_role(
    org: OrgUnit, tmp_path: Path
) -> None:
    out = StringIO()
    call_command(
        "create_user",
        "wangfang",
        role="grid_worker",
        scope="lz-01",
        password_file=password_file(tmp_path, "Grid#2020ok"),
        full_name="王芳",
        stdout=out,
    )
    user = User.objects.get(username="wangfang")
    assert user.full_name == "王芳"
    assert user.check_password("Grid#2020ok")
    assert [(a.role, a.org_unit) for a in user.assignments.all()] == [("grid_worker", org)]
    assert out.getvalue() == "Created user wangfang: Grid worker, scope 第一作业站 (LZ-01).\n"


def test_create_user_asks_for_the_password_twice(
    org: OrgUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["Audit#2020ok", "Audit#2020ok"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("create_user", "jiwei", role="auditor", scope="LZ-01", stdout=StringIO())
    assert User.objects.get(username="jiwei").check_password("Audit#2020ok")


def test_create_user_stops_when_the_two_passwords_differ(
    org: OrgUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["Audit#2020ok", "Audit#2020no"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="The two passwords differ"):
        call_command("create_user", "jiwei", role="auditor", scope="LZ-01")
    assert not User.objects.filter(username="jiwei").exists()


def test_create_user_makes_an_admin_without_scope_a_superuser(db: None, tmp_path: Path) -> None:
    call_command(
        "create_user",
        "root",
        role="admin",
        password_file=password_file(tmp_path, "Admin#2020ok"),
        stdout=StringIO(),
    )
    user = User.objects.get(username="root")
    assert (user.is_superuser, user.is_staff) == (True, True)
    assert [(a.role, a.org_unit) for a in user.assignments.all()] == [("admin", None)]


def test_create_user_with_a_weak_password_fails_and_names_each_rule(
    org: OrgUnit, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as caught:
        call_command(
            "create_user",
            "weak",
            role="unit_head",
            scope="LZ-01",
            password_file=password_file(tmp_path, "abc12"),
        )
    assert str(caught.value) == (
        "The user was not created:\n"
        "  password: This password is too short. It must contain at least 8 characters.\n"
        "  password: Use at least 3 of: lower-case letters, upper-case letters, digits, symbols."
    )
    assert caught.value.returncode == 1
    assert not User.objects.filter(username="weak").exists()


def test_create_user_with_an_unknown_role_fails_and_lists_the_roles(
    org: OrgUnit, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as caught:
        call_command(
            "create_user",
            "boss",
            role="boss",
            scope="LZ-01",
            password_file=password_file(tmp_path, "Boss#2020ok"),
        )
    assert str(caught.value) == (
        "The user was not created:\n  --role: Unknown role; choose one of: "
        "admin, leader, office, unit_head, grid_worker, checkpoint, auditor"
    )
    assert not User.objects.filter(username="boss").exists()


def test_create_user_with_an_unknown_scope_code_fails(org: OrgUnit, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        call_command(
            "create_user",
            "lost",
            role="grid_worker",
            scope="LZ-09-01",
            password_file=password_file(tmp_path, "Lost#2020ok"),
        )
    assert str(caught.value) == (
        "No active org unit has the code LZ-09-01. Check the code, e.g. LZ-01-03."
    )
    assert not User.objects.filter(username="lost").exists()


def test_create_user_without_a_scope_for_a_scoped_role_fails(org: OrgUnit, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        call_command(
            "create_user",
            "nowhere",
            role="office",
            password_file=password_file(tmp_path, "Office#2020ok"),
        )
    assert str(caught.value) == (
        "The user was not created:\n  --scope: Give the org unit this role applies to."
    )


def test_create_user_with_a_taken_username_fails(org: OrgUnit, tmp_path: Path) -> None:
    User.objects.create_user(username="taken", password="x")
    with pytest.raises(CommandError) as caught:
        call_command(
            "create_user",
            "taken",
            role="office",
            scope="LZ",
            password_file=password_file(tmp_path, "Office#2020ok"),
        )
    assert str(caught.value) == (
        "The user was not created:\n  username: This username is taken; choose another."
    )
