"""Importing the person roster: preview, all or nothing, matching, scope, limits, the command
and the page.

Files are written here with XlsxWriter (and as CSV) under the Chinese headers a user has.
The personas are those of :mod:`fangkong.core.testing`: ``head1`` heads LZ-01 (grids
LZ-01-01 and LZ-01-02), ``head2`` heads LZ-02 (grid LZ-02-01).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import translation

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.testing import World, make_id_number
from fangkong.core.validators import validate_mobile, validate_resident_id
from fangkong.org import imports, services
from fangkong.org.ledger import LEDGER_EXTRA_COLUMNS, ROSTER_COLUMNS
from fangkong.org.models import Household, Person, TimelineEvent

KEYS = [c.key for c in ROSTER_COLUMNS]
ID_A = make_id_number("620723", dt.date(1980, 1, 2), 11)  # male
ID_B = make_id_number("620723", dt.date(1982, 5, 6), 22)  # female
ID_C = make_id_number("620702", dt.date(2008, 9, 10), 33)  # male
ID_D = make_id_number("620702", dt.date(1950, 12, 1), 44)  # female


@pytest.fixture(autouse=True)
def _english_and_private_folder(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Messages in English (the file's headers stay Chinese); uploads kept in a temporary
    folder."""
    settings.IMPORT_DIR = tmp_path / "imports"
    with translation.override("en"):
        yield


def zh(text: Any) -> str:
    with translation.override("zh-hans"):
        return str(text)


HEADERS = [zh(c.header) for c in ROSTER_COLUMNS]
HEADER = {c.key: zh(c.header) for c in ROSTER_COLUMNS}


def person(**values: str) -> dict[str, str]:
    """A roster row in Chinese labels: a head of household in grid LZ-01-01 by default."""
    row = {
        "grid_code": "LZ-01-01",
        "address": "一站8排1号",
        "name": "赵新民",
        "relation": "户主",
        "category": "职工",
    }
    row.update(values)
    return row


def write_xlsx(
    path: Path,
    rows: list[dict[str, Any]],
    *,
    headers: list[str] | None = None,
    keys: list[str] | None = None,
) -> Path:
    """The rows under the headers, every value as text (as the template's cells are)."""
    keys = keys or KEYS
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("人员名册")
    sheet.write_row(0, 0, headers or [HEADER.get(k, k) for k in keys])
    for number, row in enumerate(rows, start=1):
        for index, key in enumerate(keys):
            value = row.get(key, "")
            if isinstance(value, str):
                if value:
                    sheet.write_string(number, index, value)
            else:
                sheet.write(number, index, value)
    workbook.close()
    return path


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str) -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([row.get(key, "") for key in KEYS])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def snapshot() -> dict[str, int]:
    """Row counts of every table (the audit trail's included)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model is not Session
    }


def problems(report: imports.ImportReport) -> list[tuple[int | None, str, str]]:
    return [(p.row, p.column, p.message) for p in report.problems]


def id_error(number: str) -> str:
    try:
        validate_resident_id(number)
    except ValidationError as error:
        return str(error.messages[0])
    raise AssertionError(f"{number} is valid")


def phone_error(number: str) -> str:
    try:
        validate_mobile(number)
    except ValidationError as error:
        return str(error.messages[0])
    raise AssertionError(f"{number} is valid")


# ---------------------------------------------------------------------------------------------
# One of each problem, then fixed, then again


def flawed_rows(world: World) -> list[dict[str, str]]:
    """Row 2 is right; rows 3–13 have one problem each (households B and C: rows 10–12)."""
    bad_check = ID_B[:17] + ("0" if ID_B[17] != "0" else "1")
    return [
        person(id_number=ID_A, phone="13900000001"),  # 2
        person(name="钱秀兰", relation="配偶", id_number=bad_check),  # 3
        person(grid_code="LZ-09-09", name="孙一"),  # 4: no such grid
        person(grid_code="LZ-02-01", address="二站9排9号", name="孙二"),  # 5: outside the scope
        person(name="赵小刚", relation="子女", id_number=ID_A),  # 6: same ID as row 2
        person(name="周三", relation="子女", phone="1381234"),  # 7
        person(name="吴四", relation="子女", category=""),  # 8: required value missing
        person(name="郑五", relation="表哥"),  # 9: not an allowed label
        person(address="一站8排2号", name="冯六"),  # 10: household B, head
        person(address="一站8排2号", name="陈七"),  # 11: household B, a second head
        person(address="一站8排3号", name="褚八", relation="子女"),  # 12: household C, no head
        person(name="王某", relation="其他", id_number=world.person21.id_number),  # 13
    ]


def fixed_rows() -> list[dict[str, str]]:
    return [
        person(id_number=ID_A, phone="13900000001", household_phone="13900000001"),
        person(name="钱秀兰", relation="配偶", id_number=ID_B),
        person(grid_code="LZ-01-02", address="一站9排1号", name="孙一", id_number=ID_D),
        person(grid_code="lz-01-02", address=" 一站9排1号 ", name="孙二", relation="子女"),
        person(name="赵小刚", relation="子女", id_number=ID_C, birth_date="2008-09-10"),
        person(name="周三", relation="其他", category="临时工", phone="138 1234 5678"),
        person(name="吴四", relation="子女", category="居民", birth_date="2015/6/1"),
        person(name="郑五", relation="其他", sex="男", occupation="农机手", note="表哥"),
        person(address="一站8排2号", name="冯六"),
        person(address="一站8排2号", name="陈七", relation="配偶", sex="女"),
        person(address="一站8排3号", name="褚八", relation="户主"),
    ]


def test_a_file_with_one_of_each_problem_reports_exactly_those_and_writes_nothing(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "名册.xlsx", flawed_rows(world))
    before = snapshot()

    previewed = imports.preview(actor=world.user("head1"), source=path)
    committed = imports.commit(actor=world.user("head1"), source=path)

    bad_check = ID_B[:17] + ("0" if ID_B[17] != "0" else "1")
    labels = "、".join(str(label) for label in Person.Relation.labels)
    expected = [
        (3, HEADER["id_number"], id_error(bad_check)),
        (
            4,
            HEADER["grid_code"],
            "There is no grid with this code. Use a code from the Grids sheet of the template, "
            "e.g. LZ-01-03.",
        ),
        (
            5,
            HEADER["grid_code"],
            "This grid is outside the area you may change. Import only into the grids listed "
            "on the Grids sheet of your template.",
        ),
        (
            6,
            HEADER["id_number"],
            "Rows 2 and 6 have the same ID number. A person is listed once: delete one of the "
            "rows.",
        ),
        (7, HEADER["phone"], phone_error("1381234")),
        (8, HEADER["category"], f"“{HEADER['category']}” is required: fill it in."),
        (9, HEADER["relation"], f"Choose one of: {labels}."),
        (
            11,
            HEADER["relation"],
            "Rows 10 and 11 are both the head of household 一站8排2号. Mark only one row "
            "“Head of household” and give the others their relation to the head.",
        ),
        (
            12,
            HEADER["relation"],
            "Household 一站8排3号 has no head: mark one of its rows “Head of household”.",
        ),
        (
            13,
            HEADER["id_number"],
            "A person with this ID number is registered outside the area you may change. Ask "
            "the office to move the person to your area, or delete the row.",
        ),
    ]
    assert problems(previewed) == expected
    assert problems(committed) == expected
    assert not committed.committed
    assert snapshot() == before
    # Each problem names its sheet, its column letter and the value as written.
    assert {p.sheet for p in previewed.problems} == {"人员名册"}
    by_row = {p.row: p for p in previewed.problems}
    assert (by_row[4].letter, by_row[4].value) == ("A", "LZ-09-09")
    assert (by_row[7].letter, by_row[7].value) == ("I", "1381234")
    assert (by_row[13].value, by_row[9].value) == (world.person21.id_number, "表哥")


def test_the_problem_of_an_id_number_outside_the_scope_does_not_say_whose_it_is(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "r.xlsx", [person(name="王某", id_number=world.person21.id_number)]
    )

    report = imports.preview(actor=world.user("head1"), source=path)

    (problem,) = report.problems
    text = str(problem)
    for secret in (world.person21.name, world.household21.address, world.grid21.name, "LZ-02"):
        assert secret not in text


def test_fixing_the_problems_creates_everything_once_and_a_third_import_changes_nothing(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "名册.xlsx", fixed_rows())
    head1 = world.user("head1")
    persons_before = Person.objects.count()

    previewed = imports.preview(actor=head1, source=path)
    assert previewed.ok, problems(previewed)
    assert (previewed.persons.created, previewed.households.created) == (11, 4)
    committed = imports.commit(actor=head1, source=path)

    assert committed.committed and committed.ok
    assert committed.persons == imports.Counts(created=11)
    assert committed.households == imports.Counts(created=4)
    assert Person.objects.count() == persons_before + 11
    household_a = Household.objects.get(grid=world.grid11, address="一站8排1号")
    assert household_a.phone == "13900000001"
    assert household_a.head is not None and household_a.head.id_number == ID_A
    assert set(household_a.members.values_list("name", flat=True)) == {
        "赵新民",
        "钱秀兰",
        "赵小刚",
        "周三",
        "吴四",
        "郑五",
    }
    # One household for "一站9排1号" and " 一站9排1号 " (and the grid code in lower case).
    household_d = Household.objects.get(grid=world.grid12, address="一站9排1号")
    assert household_d.members.count() == 2
    assert household_d.head is not None and household_d.head.name == "孙一"
    zhao = Person.objects.get(id_number=ID_A)
    assert (zhao.sex, zhao.birth_date, zhao.phone, zhao.category) == (
        "M",
        dt.date(1980, 1, 2),
        "13900000001",
        Person.Category.EMPLOYEE,
    )
    zhou = Person.objects.get(name="周三")
    assert (zhou.phone, zhou.category, zhou.id_number) == ("13812345678", "temporary", "")
    assert Person.objects.get(name="吴四").birth_date == dt.date(2015, 6, 1)
    zheng = Person.objects.get(name="郑五")
    assert (zheng.sex, zheng.occupation, zheng.note) == ("M", "农机手", "表哥")
    assert Person.objects.get(name="陈七").relation == Person.Relation.SPOUSE

    again = snapshot()
    third = imports.commit(actor=head1, source=path)

    assert third.committed and third.ok
    assert third.persons == imports.Counts(unchanged=11)
    assert third.households == imports.Counts(unchanged=4)
    assert third.changes == 0
    assert snapshot() == again


def test_the_import_is_in_the_audit_trail_and_on_the_timeline_of_each_person(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", fixed_rows()[:2])
    head1 = world.user("head1")

    imports.commit(actor=head1, source=path)

    zhao = Person.objects.get(id_number=ID_A)
    record = zhao.history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+",
        head1,
        "import roster.xlsx",
    )
    assert record.household_id == zhao.household_id
    household = zhao.household
    assert household is not None
    household_record = household.history.get()
    assert (household_record.history_user, household_record.head_id) == (head1, zhao.pk)
    (event,) = zhao.timeline.all()
    assert (event.kind, event.actor, event.summary) == (
        "created",
        head1,
        "Added to the register (import roster.xlsx)",
    )
    assert event.data == {
        "household": household.pk,
        "grid": world.grid11.pk,
        "source": "import roster.xlsx",
    }
    # Found by search like anyone added on a form (the search index follows the import).
    assert list(services.Person.objects.filter(pk=zhao.pk).values_list("search_text", flat=True))
    from fangkong.org.selectors import PersonFilters, persons_for

    assert list(persons_for(head1, PersonFilters(q=ID_A[-8:]))) == [zhao]
    assert list(persons_for(head1, PersonFilters(q="一站8排1"))) == []  # persons: names, numbers


def test_an_edited_file_updates_only_the_changed_persons(world: World, tmp_path: Path) -> None:
    head1 = world.user("head1")
    rows = fixed_rows()
    imports.commit(actor=head1, source=write_xlsx(tmp_path / "v1.xlsx", rows))
    rows[1] = {**rows[1], "phone": "13700001234", "occupation": "会计"}
    before = snapshot()

    report = imports.commit(actor=head1, source=write_xlsx(tmp_path / "v2.xlsx", rows))

    assert report.committed
    assert report.persons == imports.Counts(updated=1, unchanged=10)
    assert report.households == imports.Counts(unchanged=4)
    qian = Person.objects.get(id_number=ID_B)
    assert (qian.phone, qian.occupation) == ("13700001234", "会计")
    after = snapshot()
    assert after["org.HistoricalPerson"] == before["org.HistoricalPerson"] + 1
    assert after["org.TimelineEvent"] == before["org.TimelineEvent"] + 1
    assert after["org.Person"] == before["org.Person"]
    record = qian.history.order_by("-history_id").first()
    assert record is not None
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "~",
        head1,
        "import v2.xlsx",
    )
    assert (record.phone, record.occupation, record.name) == ("13700001234", "会计", "钱秀兰")
    event = qian.timeline.order_by("-id").first()
    assert event is not None
    assert event.kind == "changed"
    assert event.actor == head1
    assert event.summary == (
        # (as update_person writes it: a masked empty number is empty, other fields a dash)
        f"Changed phone:  → {mask_phone('13700001234')}; occupation: — → 会计 (import v2.xlsx)"
    )
    assert event.data == {"fields": ["phone", "occupation"], "source": "import v2.xlsx"}


# ---------------------------------------------------------------------------------------------
# Matching registered persons


def test_a_person_without_an_id_number_is_matched_by_name_and_household(
    world: World, tmp_path: Path
) -> None:
    rows = [
        person(address="一站1排3号", name="张建国", id_number=world.person11.id_number),
        person(address="一站1排3号", name="张小明", relation="子女", category="居民", note="上学"),
    ]
    path = write_xlsx(tmp_path / "r.xlsx", rows)

    report = imports.commit(actor=world.user("head1"), source=path)

    assert report.ok and report.committed
    assert report.persons == imports.Counts(updated=1, unchanged=1)  # the child's note
    assert report.households == imports.Counts(unchanged=1)
    world.person11b.refresh_from_db()
    assert world.person11b.note == "上学"
    assert Person.objects.filter(name="张小明").count() == 1


def test_an_id_number_given_to_a_person_registered_without_one_updates_them(
    world: World, tmp_path: Path
) -> None:
    number = make_id_number("620723", dt.date(2010, 4, 5), 15)
    rows = [person(address="一站1排3号", name="张小明", relation="子女", id_number=number)]
    path = write_xlsx(tmp_path / "r.xlsx", rows)

    report = imports.commit(actor=world.user("head1"), source=path)

    assert report.persons == imports.Counts(updated=1)
    world.person11b.refresh_from_db()
    assert (world.person11b.id_number, world.person11b.birth_date) == (
        number,
        dt.date(2010, 4, 5),
    )
    assert Person.objects.filter(name="张小明").count() == 1


def test_a_person_found_by_id_number_in_another_household_moves_and_the_old_loses_its_head(
    world: World, tmp_path: Path
) -> None:
    li = world.person12  # head of household12 (LZ-01-02)
    rows = [
        person(
            address="一站1排3号",
            name=li.name,
            relation="配偶",
            category="居民",
            id_number=li.id_number,
        )
    ]
    path = write_xlsx(tmp_path / "move.xlsx", rows)

    report = imports.commit(actor=world.user("head1"), source=path)

    assert report.ok and report.committed
    assert report.persons == imports.Counts(updated=1)
    assert report.households == imports.Counts(updated=1, unchanged=1)
    li.refresh_from_db()
    assert (li.household, li.grid, li.relation) == (
        world.household11,
        world.grid11,
        Person.Relation.SPOUSE,
    )
    world.household12.refresh_from_db()
    assert world.household12.head is None
    assert world.household12.history.order_by("-history_id")[0].history_change_reason == (
        "import move.xlsx"
    )
    kinds = list(li.timeline.order_by("id").values_list("kind", "summary"))[-2:]
    assert kinds == [
        ("moved", "Moved from household 一站2排5号 to 一站1排3号 (import move.xlsx)"),
        ("changed", "Changed relation to head: Head of household → Spouse (import move.xlsx)"),
    ]


def test_empty_cells_keep_what_is_stored(world: World, tmp_path: Path) -> None:
    zhang = world.person11  # ID, phone 13912345678, employee
    rows = [person(address="一站1排3号", name="张建国", note="党员")]  # no ID, no phone
    path = write_xlsx(tmp_path / "r.xlsx", rows)

    report = imports.commit(actor=world.user("head1"), source=path)

    assert report.persons == imports.Counts(updated=1)
    zhang.refresh_from_db()
    assert (zhang.note, zhang.phone, zhang.id_number) == (
        "党员",
        "13912345678",
        world.person11.id_number,
    )


def test_a_household_phone_is_updated_and_rows_must_agree_on_it(
    world: World, tmp_path: Path
) -> None:
    head1 = world.user("head1")
    rows = [person(address="一站1排3号", name="张建国", household_phone="13800002222")]
    report = imports.commit(actor=head1, source=write_xlsx(tmp_path / "a.xlsx", rows))
    assert report.households == imports.Counts(updated=1)
    world.household11.refresh_from_db()
    assert world.household11.phone == "13800002222"
    record = world.household11.history.order_by("-history_id")[0]
    assert (record.history_type, record.phone, record.history_user) == ("~", "13800002222", head1)

    rows = [
        person(household_phone="13800003333"),
        person(name="钱二", relation="配偶", household_phone="13800004444"),
    ]
    report = imports.preview(actor=head1, source=write_xlsx(tmp_path / "b.xlsx", rows))
    assert [(p.row, p.column) for p in report.problems] == [(3, HEADER["household_phone"])]
    assert report.problems[0].message.startswith("Rows 2 and 3 are one household with different")


def test_two_persons_of_the_same_name_need_a_birth_date_or_id_number(
    world: World, tmp_path: Path
) -> None:
    twin = services.create_person(
        actor=None, name="张小明", household=world.household11, relation="child"
    ).person
    rows = [person(address="一站1排3号", name="张小明", relation="子女", note="x")]
    path = write_xlsx(tmp_path / "r.xlsx", rows)

    report = imports.preview(actor=world.user("head1"), source=path)

    assert [(p.row, p.column) for p in report.problems] == [(2, HEADER["name"])]
    assert report.problems[0].message.startswith("2 persons with this name live in")
    Person.objects.filter(pk=twin.pk).update(birth_date=dt.date(2012, 1, 1))
    rows[0]["birth_date"] = "2012-01-01"
    report = imports.commit(actor=world.user("head1"), source=write_xlsx(tmp_path / "s.xlsx", rows))
    assert report.ok and report.persons == imports.Counts(updated=1)
    twin.refresh_from_db()
    assert twin.note == "x"


def test_a_household_with_two_heads_in_the_register_is_not_the_files_problem(
    world: World, tmp_path: Path
) -> None:
    Person.objects.filter(pk=world.person11b.pk).update(relation=Person.Relation.HEAD)
    rows = [person(address="一站1排3号", name="新成员", relation="子女", category="居民")]

    report = imports.commit(actor=world.user("head1"), source=write_xlsx(tmp_path / "r.xlsx", rows))

    assert report.ok and report.persons == imports.Counts(created=1)
    world.household11.refresh_from_db()
    assert world.household11.head == world.person11


def test_a_registered_person_may_move_into_a_new_household(world: World, tmp_path: Path) -> None:
    number = make_id_number("620723", dt.date(2001, 4, 5), 17)
    Person.objects.filter(pk=world.person11b.pk).update(id_number=number)
    rows = [person(address="一站8排8号", name="张小明", category="居民", id_number=number)]

    report = imports.commit(actor=world.user("head1"), source=write_xlsx(tmp_path / "r.xlsx", rows))

    assert report.ok and report.committed
    assert report.persons == imports.Counts(updated=1)
    assert report.households == imports.Counts(created=1)
    world.person11b.refresh_from_db()
    household = world.person11b.household
    assert household is not None and household.address == "一站8排8号"
    assert household.head == world.person11b
    assert household.history.get().history_change_reason == "import r.xlsx"


def test_a_head_added_to_a_household_that_has_one_is_a_problem(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person(address="一站1排3号", name="张新")])

    report = imports.preview(actor=world.user("head1"), source=path)

    assert problems(report) == [
        (
            2,
            HEADER["relation"],
            "Household 一站1排3号 already has a head in the register. Give this row its "
            "relation to the head, or add a row for the current head with their new relation.",
        )
    ]


def test_an_exported_ledger_imported_again_changes_nothing(world: World, tmp_path: Path) -> None:
    """The ledger's columns (the roster's, then the extra ones), numbers masked."""
    keys = [c.key for c in ROSTER_COLUMNS + LEDGER_EXTRA_COLUMNS]
    headers = [zh(c.header) for c in ROSTER_COLUMNS + LEDGER_EXTRA_COLUMNS]
    rows = []
    with translation.override("zh-hans"):
        for p in Person.objects.filter(grid__parent=world.unit1).select_related(
            "household", "grid", "grid__parent"
        ):
            assert p.household is not None
            rows.append(
                {
                    "grid_code": p.grid.code,
                    "address": p.household.address,
                    "household_phone": mask_phone(p.household.phone),
                    "name": p.name,
                    "relation": str(p.get_relation_display()),
                    "sex": str(p.get_sex_display()),
                    "id_number": mask_id_number(p.id_number),
                    "birth_date": p.birth_date.isoformat() if p.birth_date else "",
                    "phone": mask_phone(p.phone),
                    "category": str(p.get_category_display()),
                    "occupation": p.occupation,
                    "note": p.note,
                    "unit_name": p.grid.parent.name if p.grid.parent else "",
                    "grid_name": p.grid.name,
                    "status": str(p.get_status_display()),
                }
            )
    assert len(rows) == 3 and any("*" in r["id_number"] for r in rows)
    path = write_xlsx(tmp_path / "人员台账.xlsx", rows, headers=headers, keys=keys)
    before = snapshot()

    report = imports.commit(actor=world.user("head1"), source=path)

    assert report.ok, problems(report)
    assert report.persons == imports.Counts(unchanged=3)
    assert report.households == imports.Counts(unchanged=2)
    assert snapshot() == before


def test_a_masked_number_that_is_not_the_stored_one_is_a_problem(
    world: World, tmp_path: Path
) -> None:
    rows = [
        person(
            address="一站1排3号",
            name="张建国",
            id_number=mask_id_number(world.person11.id_number),
            phone="139****0000",
        )
    ]
    path = write_xlsx(tmp_path / "r.xlsx", rows)

    report = imports.preview(actor=world.user("head1"), source=path)

    assert problems(report) == [
        (
            2,
            HEADER["phone"],
            "This masked number (with *) is not the stored one. Type the full number to change it.",
        )
    ]


def test_a_masked_number_for_a_new_person_is_a_problem(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person(id_number="620723********1316")])

    report = imports.preview(actor=world.user("head1"), source=path)

    assert [(p.row, p.column) for p in report.problems] == [(2, HEADER["id_number"])]
    assert "masked" in report.problems[0].message


def test_the_template_example_row_is_left_out_with_a_note(world: World, tmp_path: Path) -> None:
    example = {c.key: c.example for c in ROSTER_COLUMNS}
    path = write_xlsx(tmp_path / "r.xlsx", [example, person(id_number=ID_A)])

    report = imports.preview(actor=world.user("head1"), source=path)

    assert report.ok
    assert report.persons == imports.Counts(created=1)
    assert [(w.row, w.message) for w in report.warnings] == [
        (2, "This is the template's example row: it was left out of the import.")
    ]


# ---------------------------------------------------------------------------------------------
# File formats


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_a_csv_file_in_gbk_or_utf8_is_imported(world: World, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "名册.csv", fixed_rows(), encoding)

    report = imports.commit(actor=world.user("head1"), source=path)

    assert report.committed, problems(report)
    assert report.persons == imports.Counts(created=11)
    assert Person.objects.get(id_number=ID_B).name == "钱秀兰"


def test_a_formula_is_read_as_its_value(world: World, tmp_path: Path) -> None:
    path = tmp_path / "formula.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADERS)
    sheet.write_formula("A2", '="LZ-01-01"', None, "LZ-01-01")
    sheet.write_row(1, 1, ["一站8排1号", "", "赵新民", "户主", "", ID_A, "", "", "职工"])
    workbook.close()

    report = imports.commit(actor=world.user("head1"), source=path)

    assert report.committed, problems(report)
    assert Person.objects.get(id_number=ID_A).grid == world.grid11


def test_an_id_number_typed_as_a_number_is_a_problem_that_says_to_type_it_as_text(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "number.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("名册")
    sheet.write_row(0, 0, HEADERS)
    sheet.write_row(1, 0, ["LZ-01-01", "一站8排1号", 13900000001, "赵新民", "户主", "男"])
    sheet.write_number(1, 6, float(ID_A[:17] + "0"))
    sheet.write_string(1, 9, "职工")
    workbook.close()

    report = imports.preview(actor=world.user("head1"), source=path)

    (problem,) = report.problems
    assert (problem.sheet, problem.row, problem.column, problem.letter) == (
        "名册",
        2,
        HEADER["id_number"],
        "G",
    )
    assert problem.value.endswith("E+17")
    assert "type the value again (an ID number must be typed as text)" in problem.message
    assert report.persons == imports.Counts()  # the row is not taken for someone without ID


# ---------------------------------------------------------------------------------------------
# Scope and permissions


def test_a_unit_head_cannot_import_into_another_units_grid(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person(grid_code="LZ-01-01")])
    before = snapshot()

    report = imports.commit(actor=world.user("head2"), source=path)

    assert not report.committed
    assert [(p.row, p.column) for p in report.problems] == [(2, HEADER["grid_code"])]
    assert "outside the area you may change" in report.problems[0].message
    assert snapshot() == before


def test_a_unit_head_may_import_into_their_own_unit(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person(grid_code="LZ-02-01", address="二站9排9号")])

    report = imports.commit(actor=world.user("head2"), source=path)

    assert report.committed and report.persons.created == 1


def test_a_grid_worker_may_import_only_into_their_grid(world: World, tmp_path: Path) -> None:
    rows = [person(), person(grid_code="LZ-01-02", address="一站9排1号", name="孙一")]
    path = write_xlsx(tmp_path / "r.xlsx", rows)

    report = imports.preview(actor=world.user("worker11"), source=path)

    assert [(p.row, p.column) for p in report.problems] == [(3, HEADER["grid_code"])]


@pytest.mark.parametrize("username", ["auditor1", "leader", "gate1"])
def test_a_read_only_role_may_not_import(world: World, tmp_path: Path, username: str) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person()])

    with pytest.raises(PermissionDenied):
        imports.preview(actor=world.user(username), source=path)


def test_an_address_longer_than_the_register_keeps_is_a_problem(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person(address="一" * 201)])

    report = imports.preview(actor=world.user("head1"), source=path)

    assert problems(report) == [
        (2, HEADER["address"], "Shorten the address to 200 characters or fewer.")
    ]


def test_a_unit_is_not_a_grid(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person(grid_code="LZ-01")])

    report = imports.preview(actor=world.user("head1"), source=path)

    assert problems(report) == [
        (2, HEADER["grid_code"], "LZ-01 is a unit, not a grid: give the code of one of its grids.")
    ]


# ---------------------------------------------------------------------------------------------
# Limits and files that are no roster


def test_a_file_with_more_rows_than_the_limit_is_refused(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_ROWS = 3
    rows = [person(name=f"赵{i}", relation="户主" if i == 0 else "子女") for i in range(4)]
    path = write_xlsx(tmp_path / "r.xlsx", rows)

    report = imports.commit(actor=world.user("head1"), source=path)

    assert not report.committed
    assert [(p.row, p.message) for p in report.problems] == [
        (
            None,
            "The file has more than 3 rows. Split it into several files (for example one per "
            "unit) and import them one after the other.",
        )
    ]


def test_a_file_larger_than_the_limit_is_refused(
    world: World, tmp_path: Path, settings: Any
) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [person()])
    settings.IMPORT_MAX_BYTES = path.stat().st_size - 1

    report = imports.preview(actor=world.user("head1"), source=path)

    assert len(report.problems) == 1
    assert report.problems[0].message.startswith("The file is larger than")


@pytest.mark.parametrize(
    ("name", "content", "start"),
    [
        ("名册.txt", b"grid,name\n", "Import an Excel workbook (.xlsx) or a CSV file (.csv)"),
        (
            "名册.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
            "This is an old Excel file",
        ),
        ("名册.xlsx", b"just text, not a workbook", "The file is named .xlsx but is not"),
        ("名册.csv", b"PK\x03\x04" + b"\0" * 100, "The file is named .csv but is not a text file"),
        ("名册.pdf", b"%PDF-1.4", "Import an Excel workbook (.xlsx) or a CSV file (.csv)"),
    ],
)
def test_a_file_that_is_not_a_roster_is_refused_with_a_message(
    world: World, tmp_path: Path, name: str, content: bytes, start: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    report = imports.commit(actor=world.user("head1"), source=path)

    assert not report.committed
    assert len(report.problems) == 1
    assert report.problems[0].message.startswith(start)


def test_a_sheet_without_the_required_columns_names_each_missing_one(
    world: World, tmp_path: Path
) -> None:
    keys = ["grid_code", "address", "name", "id_number"]
    path = write_xlsx(tmp_path / "r.xlsx", [person(id_number=ID_A)], keys=keys)

    report = imports.preview(actor=world.user("head1"), source=path)

    # One problem per missing column, in the language of the other headers; the rows are
    # not checked until the columns are there.
    assert [(p.row, p.column) for p in report.problems] == [
        (1, HEADER["relation"]),
        (1, HEADER["category"]),
    ]
    assert report.problems[0].message == (
        f"The required column “{HEADER['relation']}” is missing. Add it to the header row "
        "(copy it from the template)."
    )


# ---------------------------------------------------------------------------------------------
# The command


def run_command(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import_people", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_the_command_prints_the_problems_and_exits_1_writing_nothing(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "名册.xlsx", flawed_rows(world))
    before = snapshot()

    status, output = run_command(str(path))

    assert status == 1
    assert snapshot() == before
    assert output.splitlines()[0] == "File: 名册.xlsx, 12 rows"
    assert f"人员名册 7 {HEADER['phone']}: 1381234 — {phone_error('1381234')}" in output
    assert "人员名册 4 " + HEADER["grid_code"] + ": LZ-09-09 — There is no grid" in output
    # The operator may write everywhere: rows 5 and 13 (in LZ-02) are no problem for them.
    assert "8 problems: nothing was imported." in output


def test_the_command_imports_a_correct_file_and_exits_0(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名册.xlsx", fixed_rows())

    status, output = run_command(str(path))

    assert status == 0, output
    assert "Persons: 11 created, 0 updated, 0 unchanged" in output
    assert Person.objects.filter(id_number=ID_A).exists()
    (event,) = Person.objects.get(id_number=ID_A).timeline.all()
    assert event.actor is None and event.summary == "Added to the register (import 名册.xlsx)"


def test_the_command_dry_run_writes_nothing(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名册.xlsx", fixed_rows())
    before = snapshot()

    status, output = run_command(str(path), "--dry-run")

    assert status == 0, output
    assert "Persons: 11 to create, 0 to update, 0 unchanged" in output
    assert "Dry run: nothing was written." in output
    assert snapshot() == before


def test_the_command_scope_limits_the_grids(world: World, tmp_path: Path) -> None:
    rows = [person(), person(grid_code="LZ-02-01", address="二站9排9号", name="孙二")]
    path = write_xlsx(tmp_path / "名册.xlsx", rows)

    status, output = run_command(str(path), "--scope", "lz-02")

    assert status == 1
    assert "人员名册 2 " + HEADER["grid_code"] + ": LZ-01-01 — This grid is outside" in output
    assert not Person.objects.filter(name="孙二").exists()


def test_the_command_refuses_an_unknown_scope_or_file(world: World, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名册.xlsx", fixed_rows())

    assert run_command(str(path), "--scope", "XX-99")[0] == 1
    assert run_command(str(tmp_path / "missing.xlsx"))[0] == 1


# ---------------------------------------------------------------------------------------------
# The page


def upload(client: Client, path: Path) -> Any:
    with path.open("rb") as file:
        return client.post("/org/persons/import/", {"action": "upload", "file": file})


def test_the_page_previews_an_upload_keeps_the_file_and_imports_it(
    world: World, tmp_path: Path, settings: Any
) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("head1"))
    bad = write_xlsx(tmp_path / "名册.xlsx", flawed_rows(world)[:4])

    response = upload(client, bad)
    assert response.status_code == 302
    page = client.get("/org/persons/import/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="problems"' in text and "There is no grid with this code" in text
    assert 'id="import"' not in text
    kept = list(Path(settings.IMPORT_DIR).glob("*/*"))
    assert [p.name for p in kept] == ["名册.xlsx"]

    good = write_xlsx(tmp_path / "名册v2.xlsx", fixed_rows())
    upload(client, good)
    assert not kept[0].exists()  # replaced
    text = client.get("/org/persons/import/").content.decode()
    assert 'id="problems"' not in text
    assert 'id="import"' in text
    assert "11 persons will be added and 0 changed; 4 households added" in text

    response = client.post("/org/persons/import/", {"action": "import"})

    assert response.status_code == 302 and response["Location"] == "/org/persons/"
    assert Person.objects.filter(id_number=ID_A).exists()
    assert list(Path(settings.IMPORT_DIR).glob("*/*")) == []
    listing = client.get("/org/persons/").content.decode()
    assert "Imported 名册v2.xlsx: 11 persons added" in listing
    assert "赵新民" in listing


def test_importing_a_kept_file_with_problems_shows_them_and_writes_nothing(
    world: World, tmp_path: Path
) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("head1"))
    upload(client, write_xlsx(tmp_path / "r.xlsx", flawed_rows(world)))
    before = snapshot()

    response = client.post("/org/persons/import/", {"action": "import"})

    assert response.status_code == 200
    assert "10 problems" in response.content.decode()
    assert snapshot() == before


def test_the_page_offers_the_template_and_discards_the_kept_file(
    world: World, tmp_path: Path, settings: Any
) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("head1"))
    text = client.get("/org/persons/import/").content.decode()
    assert 'href="/org/persons/template/"' in text
    upload(client, write_xlsx(tmp_path / "r.xlsx", fixed_rows()))

    client.post("/org/persons/import/", {"action": "discard"})

    assert list(Path(settings.IMPORT_DIR).glob("*/*")) == []
    assert 'id="no-file"' in client.get("/org/persons/import/").content.decode()


def test_another_user_does_not_see_the_kept_file(world: World, tmp_path: Path) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("head1"))
    upload(client, write_xlsx(tmp_path / "r.xlsx", fixed_rows()))
    session = client.session
    other = Client(headers={"accept-language": "en"})
    other.force_login(world.user("office"))
    other_session = other.session
    other_session["fk_person_import"] = session["fk_person_import"]
    other_session.save()

    text = other.get("/org/persons/import/").content.decode()

    assert 'id="no-file"' in text


def test_a_wrong_file_type_is_shown_on_the_page(world: World, tmp_path: Path) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("head1"))
    path = tmp_path / "名册.docx"
    path.write_bytes(b"PK\x03\x04 not a roster")

    upload(client, path)
    text = client.get("/org/persons/import/").content.decode()

    assert "Import an Excel workbook (.xlsx) or a CSV file (.csv)" in text


def test_the_person_list_links_to_the_import(world: World) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("head1"))

    assert 'href="/org/persons/import/"' in client.get("/org/persons/").content.decode()


def test_a_file_with_nothing_new_says_so_and_offers_no_import(world: World, tmp_path: Path) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("head1"))
    rows = [person(address="一站1排3号", name="张建国")]
    upload(client, write_xlsx(tmp_path / "r.xlsx", rows))

    text = client.get("/org/persons/import/").content.decode()

    assert 'id="nothing-to-import"' in text and 'id="import"' not in text


def test_a_read_only_user_gets_403(world: World) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user("auditor1"))

    assert client.get("/org/persons/import/").status_code == 403
    assert client.post("/org/persons/import/", {"action": "import"}).status_code == 403


def test_timeline_events_of_an_import_carry_the_actor(world: World, tmp_path: Path) -> None:
    imports.commit(actor=world.user("head1"), source=write_xlsx(tmp_path / "r.xlsx", [person()]))

    assert TimelineEvent.objects.filter(actor=world.user("head1"), kind="created").count() == 1


# ---------------------------------------------------------------------------------------------
# The benchmark (its figures come from `make bench`; here only that it runs)


@pytest.mark.scenarios
def test_the_import_benchmark_runs_on_a_small_roster() -> None:
    from fangkong.org.bench import bench_import

    figures = bench_import(300)

    assert figures["persons"] == 300 and figures["preview_problems"] == 0
    assert figures["import"] == pytest.approx(figures["preview"] + figures["commit"], abs=0.01)
    assert figures["floor"] > 0
