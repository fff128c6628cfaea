"""The person ledger export (page and ``export_people``) and the roster import template.

Files are read back with python-calamine (cell values) and openpyxl (validations, formats).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from python_calamine import CalamineWorkbook

from fangkong.core.models import SensitiveAccess
from fangkong.core.permissions import Role
from fangkong.core.tabular.writing import XLSX_CONTENT_TYPE
from fangkong.core.testing import PASSWORD, World
from fangkong.org import exports, services
from fangkong.org.models import Household, OrgUnit, Person, User, person_search_text

EXPORT = "/org/persons/export/"
UNMASKED = "/org/persons/export/full/"
TEMPLATE = "/org/persons/template/"
KEYS = [c.key for c in exports.LEDGER_COLUMNS]
HEADERS = [
    "网格编码",
    "户地址",
    "户联系电话",
    "姓名",
    "与户主关系",
    "性别",
    "身份证号",
    "出生日期",
    "手机号",
    "人员类别",
    "职业",
    "备注",
    "单位",
    "网格",
    "状态",
]
NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

# person11 of the test world, as each export shows them
ZHANG_MASKED = {
    "grid_code": "LZ-01-01",
    "address": "一站1排3号",
    "household_phone": "138****1111",
    "name": "张建国",
    "relation": "户主",
    "sex": "男",
    "id_number": "620723********1316",
    "birth_date": dt.date(1975, 3, 14),
    "phone": "139****5678",
    "category": "职工",
    "occupation": "",
    "note": "",
    "unit_name": "第一作业站",
    "grid_name": "一站一网格",
    "status": "正常",
}
ZHANG_FULL = {
    **ZHANG_MASKED,
    "household_phone": "13800001111",
    "id_number": "620723197503141316",
    "phone": "13912345678",
}


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """A fixed day for file names, and no session write to count among the queries."""
    with time_machine.travel(NOW, tick=False):
        yield


def _client(user: User, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _book(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    return b"".join(response.streaming_content)


def _sheet(data: bytes, sheet: int | str = 0) -> list[list[Any]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    found = (
        book.get_sheet_by_index(sheet) if isinstance(sheet, int) else book.get_sheet_by_name(sheet)
    )
    return found.to_python()


def _ledger(data: bytes) -> list[dict[str, Any]]:
    """The ledger's rows by column key (its header checked)."""
    header, *rows = _sheet(data)
    assert header == HEADERS
    return [dict(zip(KEYS, row, strict=True)) for row in rows]


def _names(data: bytes) -> list[str]:
    return [row["name"] for row in _ledger(data)]


def _by_name(data: bytes) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in _ledger(data)}


# ---------------------------------------------------------------------------------------------
# The export page: masked


def test_the_export_holds_the_ledger_with_masked_numbers_by_default(world: World) -> None:
    data = _book(_client(world.user("head1")).get(EXPORT))

    rows = _by_name(data)
    assert sorted(rows) == sorted(["张建国", "张小明", "李秀英"])
    assert rows["张建国"] == ZHANG_MASKED
    assert rows["张小明"]["id_number"] == ""
    assert rows["李秀英"]["id_number"] == "620723********2424"
    assert SensitiveAccess.objects.count() == 0


def test_the_headers_and_labels_are_chinese_whatever_the_ui_language(world: World) -> None:
    data = _book(_client(world.user("head1"), "en").get(EXPORT))

    assert _by_name(data)["张建国"] == ZHANG_MASKED


def test_the_file_is_named_after_the_ledger_and_the_day(world: World) -> None:
    response = _client(world.user("head1")).get(EXPORT)

    with translation.override("zh-hans"):
        title = gettext("Person ledger")
    assert exports.ledger_filename() == f"{title}-2026-11-29.xlsx"
    assert response["Content-Disposition"] == content_disposition_header(
        True, f"{title}-2026-11-29.xlsx"
    )


def test_a_chinese_file_name_is_sent_as_rfc_5987(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "ledger_filename", lambda: "人员台账-2026-11-29.xlsx")

    response = _client(world.user("head1")).get(EXPORT)

    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E4%BA%BA%E5%91%98%E5%8F%B0%E8%B4%A6-2026-11-29.xlsx"
    )


@pytest.mark.parametrize(
    ("persona", "names"),
    [
        ("head1", {"张建国", "张小明", "李秀英"}),
        ("worker11", {"张建国", "张小明"}),
        ("head2", {"王立新"}),
        ("leader", {"张建国", "张小明", "李秀英", "王立新"}),
    ],
)
def test_an_export_holds_only_the_users_scope(world: World, persona: str, names: set[str]) -> None:
    data = _book(_client(world.user(persona)).get(EXPORT))

    assert set(_names(data)) == names


def test_a_unit_head_cannot_export_another_unit_by_filtering_on_it(world: World) -> None:
    """A unit outside the scope is not a valid filter: ignored, as on the list page."""
    client = _client(world.user("head1"))

    data = _book(client.get(EXPORT, {"unit": world.unit2.pk}))
    searched = _book(client.get(EXPORT, {"q": "王立新"}))

    assert "王立新" not in _names(data)
    assert _names(searched) == []


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "张"},
        {"q": "1391234"},
        {"unit": "<grid12>"},
        {"unit": "<unit1>", "category": "resident"},
        {"category": "employee"},
        {"status": "normal"},
        {"lacks_id": "on"},
        {"unit": "<unit2>"},  # outside the scope: the list ignores the filter, so does the file
    ],
)
def test_the_export_holds_the_rows_the_list_page_shows(world: World, query: dict[str, str]) -> None:
    objects = {"<grid12>": world.grid12, "<unit1>": world.unit1, "<unit2>": world.unit2}
    params = {k: objects[v].pk if v in objects else v for k, v in query.items()}
    client = _client(world.user("office"))

    listed = [p.name for p in client.get("/org/persons/", params).context["page"]]
    data = _book(client.get(EXPORT, params))

    assert _names(data) == listed


def test_cells_that_start_like_formulas_come_back_as_the_same_text(world: World) -> None:
    Person.objects.filter(pk=world.person11.pk).update(
        name="=1+1", occupation="+86 138", note="-2+3"
    )
    Household.objects.filter(pk=world.household11.pk).update(
        address='@SUM(A1)=HYPERLINK("http://x.cn")'
    )

    rows = _by_name(_book(_client(world.user("worker11")).get(EXPORT)))

    row = rows["=1+1"]
    assert (row["occupation"], row["note"], row["address"]) == (
        "+86 138",
        "-2+3",
        '@SUM(A1)=HYPERLINK("http://x.cn")',
    )


def test_a_person_without_a_household_has_empty_household_columns(world: World) -> None:
    services.create_person(actor=None, name="赵访客", grid=world.grid12, category="visitor")

    row = _by_name(_book(_client(world.user("head1")).get(EXPORT)))["赵访客"]

    assert (row["grid_code"], row["address"], row["household_phone"]) == ("LZ-01-02", "", "")
    assert (row["category"], row["relation"]) == ("访客", "其他")


# ---------------------------------------------------------------------------------------------
# The export with full numbers


def test_asking_for_full_numbers_shows_what_the_file_holds_and_that_it_is_recorded(
    world: World,
) -> None:
    response = _client(world.user("head1"), "en").get(UNMASKED, {"category": "employee"})

    assert response.status_code == 200
    text = response.content.decode()
    assert "The file will hold the full ID and phone numbers of 1 person." in text
    assert "This export is recorded in the audit trail" in text
    assert '<input type="hidden" name="category" value="employee">' in text
    assert SensitiveAccess.objects.count() == 0


def test_the_export_with_full_numbers_is_recorded_with_its_filters_and_row_count(
    world: World,
) -> None:
    client = _client(world.user("head1"))

    data = _book(client.post(UNMASKED, {"category": "employee", "unit": world.unit1.pk}))

    assert _ledger(data) == [ZHANG_FULL]
    access = SensitiveAccess.objects.get()
    assert (access.user, access.action, access.object_type, access.object_id) == (
        world.user("head1"),
        SensitiveAccess.Action.EXPORT,
        "person_ledger",
        None,
    )
    assert access.detail == {
        "via": "web",
        "filters": {"unit": "LZ-01", "category": "employee"},
        "rows": 1,
    }


def test_full_id_numbers_are_18_character_text(world: World) -> None:
    data = _book(_client(world.user("head1")).post(UNMASKED))

    ids = {row["name"]: row["id_number"] for row in _ledger(data)}
    assert ids == {"张建国": "620723197503141316", "张小明": "", "李秀英": "620723198211022424"}
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    id_cells = [sheet.cell(row, 7) for row in range(2, 5) if sheet.cell(row, 7).value]
    assert [(c.data_type, c.number_format, len(c.value)) for c in id_cells] == [("s", "@", 18)] * 2


@pytest.mark.parametrize("persona", ["auditor1", "leader", "gate1"])
def test_full_numbers_are_refused_to_a_role_without_pii_reveal(world: World, persona: str) -> None:
    client = _client(world.user(persona))

    assert client.get(UNMASKED).status_code == 403
    assert client.post(UNMASKED).status_code == 403
    assert client.get(EXPORT).status_code == 200
    assert SensitiveAccess.objects.count() == 0


def test_the_service_refuses_full_numbers_without_pii_reveal(world: World) -> None:
    with pytest.raises(PermissionDenied):
        exports.export_person_ledger(io.BytesIO(), user=world.user("auditor1"), unmasked=True)
    assert SensitiveAccess.objects.count() == 0


def test_full_numbers_only_for_the_persons_where_the_user_may_see_them(world: World) -> None:
    """A grid worker of LZ-01-01 who also audits LZ-02 sees both, but full numbers only of
    the grid."""
    user = services.create_user(
        username="mixed", password=PASSWORD, role=Role.GRID_WORKER, org_unit=world.grid11
    )
    services.assign_role(user=user, role=Role.AUDITOR, org_unit=world.unit2)
    client = _client(user, "en")

    masked = _book(client.get(EXPORT))
    page = client.get(UNMASKED).content.decode()
    full = _book(client.post(UNMASKED))

    assert set(_names(masked)) == {"张建国", "张小明", "王立新"}
    assert "full ID and phone numbers of 2 persons" in page
    assert "1 person of the list is in a unit where you may not see full numbers" in page
    assert set(_names(full)) == {"张建国", "张小明"}
    assert SensitiveAccess.objects.get().detail["rows"] == 2


# ---------------------------------------------------------------------------------------------
# Queries: the same for 10 rows as for 200


def _grow(grid: OrgUnit, total: int) -> None:
    """Households of two persons in ``grid`` until it holds ``total`` persons."""
    have = Person.objects.filter(grid=grid).count()
    for start in range(have, total, 2):
        household = Household.objects.create(
            grid=grid, address=f"测试{start}号", phone="13800000000"
        )
        Person.objects.bulk_create(
            Person(
                name=f"测{start + i}",
                grid=grid,
                household=household,
                id_number="",
                phone="13900000000",
                search_text=person_search_text(f"测{start + i}", "", "13900000000"),
            )
            for i in range(min(2, total - start))
        )


def _queries(client: Client, method: str, url: str) -> tuple[int, int]:
    getattr(client, method)(url)  # warm up: translations, the session
    with CaptureQueriesContext(connection) as queries:
        rows = len(_ledger(_book(getattr(client, method)(url))))
    return len(queries), rows


@pytest.mark.parametrize(("method", "url"), [("get", EXPORT), ("post", UNMASKED)])
def test_an_export_costs_the_same_queries_for_200_rows_as_for_10(
    world: World, method: str, url: str
) -> None:
    client = _client(world.user("head1"))

    _grow(world.grid11, 10)
    few = _queries(client, method, url)
    _grow(world.grid11, 200)
    many = _queries(client, method, url)

    assert (few[1], many[1]) == (10 + 1, 200 + 1)  # and 李秀英 of LZ-01-02
    assert few[0] == many[0]
    # session, user, role assignments, the filter's units, the grids, the persons (+ the record);
    # on SQLite also the four PRAGMAs of core.bulk.streaming_reads (cache and map, set and back)
    pragmas = 4 if connection.vendor == "sqlite" else 0
    assert many[0] == (6 if method == "get" else 7) + pragmas


# ---------------------------------------------------------------------------------------------
# The person list's buttons


def test_the_person_list_offers_the_exports_with_its_filters(world: World) -> None:
    text = _client(world.user("head1")).get("/org/persons/", {"category": "employee"}).content
    page = text.decode()

    assert f'href="{EXPORT}?category=employee"' in page
    assert f'href="{UNMASKED}?category=employee"' in page
    assert f'href="{TEMPLATE}"' in page


def test_a_read_only_user_is_offered_the_masked_export_only(world: World) -> None:
    page = _client(world.user("auditor1")).get("/org/persons/").content.decode()

    assert f'href="{EXPORT}"' in page
    assert UNMASKED not in page
    assert TEMPLATE not in page


# ---------------------------------------------------------------------------------------------
# The import template


def _validations(data: bytes) -> dict[str, tuple[str, str | None]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return {str(v.sqref): (v.type, v.formula1) for v in sheet.data_validations.dataValidation}


def test_the_template_has_the_roster_the_instructions_and_the_grids(world: World) -> None:
    data = _book(_client(world.user("head1"), "en").get(TEMPLATE))

    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names == [
        "人员名册",
        "填写说明",
        "网格",
    ]
    assert _sheet(data, "人员名册") == [
        HEADERS[:12],
        [
            "LZ-01-01",
            "一站1排3号",
            "13800001111",
            "张建国",
            "户主",
            "男",
            "620723197503141316",
            dt.date(1975, 3, 14),
            "13912345678",
            "职工",
            "农机手",
            "",
        ],
    ]
    instructions = _sheet(data, "填写说明")
    assert [row[0] for row in instructions[1:13]] == HEADERS[:12]
    assert instructions[5][4] == "户主、配偶、子女、父母、兄弟姐妹、孙子女、祖父母、租户、其他"


def test_the_template_lists_exactly_the_grids_the_user_may_import_into(world: World) -> None:
    head1 = _sheet(_book(_client(world.user("head1")).get(TEMPLATE)), "网格")
    worker = _sheet(_book(_client(world.user("worker11")).get(TEMPLATE)), "网格")

    assert head1 == [
        ["网格编码", "网格", "单位"],
        ["LZ-01-01", "一站一网格", "第一作业站"],
        ["LZ-01-02", "一站二网格", "第一作业站"],
    ]
    assert worker == [["网格编码", "网格", "单位"], ["LZ-01-01", "一站一网格", "第一作业站"]]


def test_the_template_has_drop_downs_for_the_coded_columns_and_the_grid_code(
    world: World,
) -> None:
    validations = _validations(_book(_client(world.user("head1")).get(TEMPLATE)))

    assert validations == {
        "A2:A1048576": ("list", "'网格'!$A$2:$A$3"),
        "E2:E1048576": ("list", '"户主,配偶,子女,父母,兄弟姐妹,孙子女,祖父母,租户,其他"'),
        "F2:F1048576": ("list", '"男,女,未知"'),
        "J2:J1048576": ("list", '"居民,职工,临时工,访客"'),
    }


def test_the_template_keeps_id_and_phone_numbers_as_text(world: World) -> None:
    data = _book(_client(world.user("head1")).get(TEMPLATE))

    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    for letter in "CGI":  # household phone, ID number, mobile phone
        index = openpyxl.utils.column_index_from_string(letter)
        (column,) = [d for d in sheet.column_dimensions.values() if d.min <= index <= d.max]
        assert column.number_format == "@", letter
        assert sheet[f"{letter}2"].data_type == "s"


@pytest.mark.parametrize("persona", ["auditor1", "leader", "gate1"])
def test_the_template_needs_the_right_to_edit_the_register(world: World, persona: str) -> None:
    assert _client(world.user(persona)).get(TEMPLATE).status_code == 403


# ---------------------------------------------------------------------------------------------
# export_people


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_people", *args, stdout=out)
    return out.getvalue()


def test_the_command_exports_everyone_masked(world: World, tmp_path: Path, english: None) -> None:
    path = tmp_path / "ledger.xlsx"

    out = _run("--output", str(path))

    assert out == f"Exported 4 persons to {path} (ID and phone numbers masked).\n"
    rows = _by_name(path.read_bytes())
    assert set(rows) == {"张建国", "张小明", "李秀英", "王立新"}
    assert rows["张建国"] == ZHANG_MASKED
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.xlsx"]
    assert SensitiveAccess.objects.count() == 0


def test_the_command_narrows_to_an_org_units_subtree(
    world: World, tmp_path: Path, english: None
) -> None:
    path = tmp_path / "lz01.xlsx"

    out = _run("--output", str(path), "--scope", "lz-01")

    assert out.startswith("Exported 3 persons to ")
    assert set(_names(path.read_bytes())) == {"张建国", "张小明", "李秀英"}


def test_the_command_with_full_numbers_records_the_export(
    world: World, tmp_path: Path, english: None
) -> None:
    path = tmp_path / "full.xlsx"

    out = _run("--output", str(path), "--scope", "LZ-01-01", "--unmasked")

    assert "(recorded in the audit trail)" in out
    assert _by_name(path.read_bytes())["张建国"] == ZHANG_FULL
    access = SensitiveAccess.objects.get()
    assert (access.user, access.action, access.object_type) == (None, "export", "person_ledger")
    assert access.detail == {"via": "cli", "filters": {"unit": "LZ-01-01"}, "rows": 2}


def test_an_unknown_org_unit_code_is_an_error_and_writes_nothing(
    world: World, tmp_path: Path, english: None
) -> None:
    path = tmp_path / "x.xlsx"

    with pytest.raises(CommandError, match="No org unit has the code LZ-99"):
        _run("--output", str(path), "--scope", "LZ-99")
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(
            ["manage.py", "export_people", "--output", str(path), "--scope", "LZ-99"]
        )

    assert exited.value.code == 1
    assert list(tmp_path.iterdir()) == []


def test_a_missing_output_folder_is_an_error(world: World, tmp_path: Path, english: None) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        _run("--output", str(tmp_path / "nowhere" / "x.xlsx"))
