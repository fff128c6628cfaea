"""The register's REST API (/api/v1/): tokens, scope, masking, reveal, errors, query budget."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from io import StringIO
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.core.models import SensitiveAccess
from fangkong.core.testing import World, make_id_number
from fangkong.org import services
from fangkong.org.models import ApiToken, Household, OrgUnit, Person, TimelineEvent, User

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

BASE = "/api/v1"
NEW_ID = "11010519491231002X"  # valid; masked 110105********002X


class Api:
    """A JSON client holding one bearer token; messages in English."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.headers = {"Accept-Language": "en"}
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> Response:
        return self.client.get(BASE + path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any]) -> Response:
        return self.client.post(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body: dict[str, Any]) -> Response:
        return self.client.patch(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )


ApiFor = Callable[[str], Api]


@pytest.fixture
def api_as(world: World, client: Client) -> ApiFor:
    """``api_as("head1")``: a client with a fresh token of that persona."""

    def make(username: str) -> Api:
        _token, key = services.issue_api_token(user=world.user(username), name="test")
        return Api(client, key)

    return make


def errors(response: Response) -> list[tuple[str, str]]:
    """A 422 body as (field, message) pairs; the field is the last element of ``loc``."""
    assert response.status_code == 422, response.content
    return [(str(e["loc"][-1]), e["msg"]) for e in response.json()["detail"]]


def snapshot() -> dict[str, Any]:
    """Everything a denied write could have touched."""
    return {
        "units": list(OrgUnit.objects.order_by("pk").values()),
        "households": list(Household.objects.order_by("pk").values()),
        "persons": list(Person.objects.order_by("pk").values()),
        "timeline": TimelineEvent.objects.count(),
        "history": (
            OrgUnit.history.count(),
            Household.history.count(),
            Person.history.count(),
        ),
        "access": SensitiveAccess.objects.count(),
    }


def json_time(value: dt.datetime) -> str:
    """A time as the API writes it (DjangoJSONEncoder: milliseconds, Z for UTC)."""
    return str(DjangoJSONEncoder().default(value))


def masked_person(world: World) -> dict[str, Any]:
    """person11 as every role receives it."""
    p = world.person11
    return {
        "id": p.pk,
        "name": "张建国",
        "sex": "M",
        "id_number": "620723********1316",
        "lacks_id_number": False,
        "birth_date": "1975-03-14",
        "phone": "139****5678",
        "grid": {"id": world.grid11.pk, "code": "LZ-01-01", "name": "一站一网格"},
        "household": {"id": world.household11.pk, "address": "一站1排3号"},
        "relation": "head",
        "category": "employee",
        "status": "normal",
        "occupation": "",
        "note": "",
        "is_active": True,
        "created_at": json_time(p.created_at),
        "updated_at": json_time(p.updated_at),
    }


# ---------------------------------------------------------------------------------------------
# Tokens


def test_a_request_without_a_token_is_401(world: World, client: Client) -> None:
    response = Api(client, None).get("/persons")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_a_request_with_an_unknown_token_is_401(world: World, client: Client) -> None:
    response = Api(client, "fk_not-a-real-token").get("/persons")
    assert response.status_code == 401


def test_a_revoked_token_is_401(world: World, client: Client) -> None:
    token, key = services.issue_api_token(user=world.user("head1"))
    assert Api(client, key).get("/persons").status_code == 200
    services.revoke_api_token(token=token)
    assert Api(client, key).get("/persons").status_code == 401


def test_a_token_of_a_deactivated_user_is_401(world: World, client: Client) -> None:
    _token, key = services.issue_api_token(user=world.user("head1"))
    User.objects.filter(username="head1").update(is_active=False)
    assert Api(client, key).get("/persons").status_code == 401


def test_a_session_login_does_not_open_the_api(world: World, client: Client) -> None:
    client.force_login(world.user("admin"))
    assert Api(client, None).get("/persons").status_code == 401


def test_a_token_acts_as_its_user_and_records_its_last_use(world: World, client: Client) -> None:
    token, key = services.issue_api_token(user=world.user("worker11"))
    response = Api(client, key).get("/persons")
    assert response.status_code == 200
    assert {p["name"] for p in response.json()["items"]} == {"张建国", "张小明"}
    token.refresh_from_db()
    assert token.last_used_at is not None


# ---------------------------------------------------------------------------------------------
# Org units


def test_office_lists_every_org_unit_of_the_branch_in_tree_order(api_as: ApiFor) -> None:
    body = api_as("office").get("/org-units").json()
    assert body["count"] == 6
    assert [u["code"] for u in body["items"]] == [
        "LZ",
        "LZ-01",
        "LZ-01-01",
        "LZ-01-02",
        "LZ-02",
        "LZ-02-01",
    ]


def test_a_grid_worker_lists_only_their_grid(api_as: ApiFor) -> None:
    body = api_as("worker11").get("/org-units").json()
    assert [u["code"] for u in body["items"]] == ["LZ-01-01"]
    assert body["count"] == 1


def test_org_units_are_filtered_by_kind_and_by_parent_code(api_as: ApiFor) -> None:
    api = api_as("office")
    grids = api.get("/org-units", kind="grid").json()
    assert [u["code"] for u in grids["items"]] == ["LZ-01-01", "LZ-01-02", "LZ-02-01"]
    children = api.get("/org-units", parent="lz-01").json()
    assert [u["code"] for u in children["items"]] == ["LZ-01-01", "LZ-01-02"]


def test_an_unknown_kind_is_a_422_on_kind(api_as: ApiFor) -> None:
    response = api_as("office").get("/org-units", kind="village")
    assert [field for field, _msg in errors(response)] == ["kind"]
    assert response.json()["detail"][0]["loc"] == ["query", "kind"]


def test_an_org_unit_is_returned_with_its_parent_and_a_masked_phone(
    world: World, api_as: ApiFor
) -> None:
    OrgUnit.objects.filter(pk=world.grid11.pk).update(
        responsible="赵网格", responsible_phone="13812345678"
    )
    response = api_as("head1").get(f"/org-units/{world.grid11.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": world.grid11.pk,
        "code": "LZ-01-01",
        "name": "一站一网格",
        "kind": "grid",
        "parent": {"id": world.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
        "depth": 2,
        "responsible": "赵网格",
        "responsible_phone": "138****5678",
        "is_active": True,
    }


def test_an_org_unit_outside_scope_is_404_like_a_missing_one(world: World, api_as: ApiFor) -> None:
    api = api_as("head2")
    outside = api.get(f"/org-units/{world.grid11.pk}")
    missing = api.get("/org-units/999999")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json() == {"detail": "Not found."}


def test_office_adds_a_grid_under_a_unit(world: World, api_as: ApiFor) -> None:
    response = api_as("office").post(
        "/org-units",
        {
            "code": "lz-01-03",
            "name": "一站三网格",
            "kind": "grid",
            "parent_id": world.unit1.pk,
            "responsible_phone": "138 1234 5678",
        },
    )
    assert response.status_code == 201, response.content
    unit = OrgUnit.objects.get(code="LZ-01-03")
    assert response.json()["id"] == unit.pk
    assert response.json()["parent"] == {
        "id": world.unit1.pk,
        "code": "LZ-01",
        "name": "第一作业站",
    }
    assert response.json()["responsible_phone"] == "138****5678"
    assert unit.path == f"{world.unit1.path}{unit.pk:010d}/"
    assert unit.responsible_phone == "13812345678"
    assert unit.history.get().history_user == world.user("office")


def test_a_unit_head_may_not_add_an_org_unit_and_nothing_is_created(
    world: World, api_as: ApiFor
) -> None:
    before = snapshot()
    response = api_as("head1").post(
        "/org-units",
        {"code": "LZ-01-09", "name": "x", "kind": "grid", "parent_id": world.unit1.pk},
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_only_a_manager_of_everything_adds_a_top_level_branch(api_as: ApiFor) -> None:
    body = {"code": "GT", "name": "甘台分公司", "kind": "branch"}
    assert api_as("office").post("/org-units", body).status_code == 403
    assert not OrgUnit.objects.filter(code="GT").exists()
    response = api_as("admin").post("/org-units", body)
    assert response.status_code == 201
    assert response.json()["parent"] is None
    assert OrgUnit.objects.get(code="GT").depth == 0


def test_a_parent_outside_scope_is_a_422_on_parent_id(world: World, api_as: ApiFor) -> None:
    OrgUnit.objects.filter(pk=world.unit2.pk).update(is_active=False)
    response = api_as("office").post(
        "/org-units", {"code": "LZ-02-09", "name": "x", "kind": "grid", "parent_id": world.unit2.pk}
    )
    assert errors(response) == [("parent_id", "No such org unit in your scope.")]
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "parent_id"]


def test_a_duplicate_code_and_a_wrong_parent_kind_are_422_by_field(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("office")
    duplicate = api.post(
        "/org-units", {"code": "LZ-01-01", "name": "x", "kind": "grid", "parent_id": world.unit1.pk}
    )
    assert errors(duplicate) == [("code", "Org unit with this Code already exists.")]
    wrong_parent = api.post(
        "/org-units", {"code": "LZ-09", "name": "x", "kind": "unit", "parent_id": world.grid11.pk}
    )
    assert errors(wrong_parent) == [("parent_id", "A unit cannot be placed under this parent.")]


def test_office_renames_an_org_unit_and_changes_its_responsible_people(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("office").patch(
        f"/org-units/{world.unit1.pk}",
        {"name": "第一作业站（东）", "responsible": "刘站长", "responsible_phone": "13600001234"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "第一作业站（东）"
    assert response.json()["responsible_phone"] == "136****1234"
    unit = OrgUnit.objects.get(pk=world.unit1.pk)
    assert (unit.code, unit.name, unit.responsible, unit.responsible_phone) == (
        "LZ-01",
        "第一作业站（东）",
        "刘站长",
        "13600001234",
    )


def test_a_bad_responsible_phone_is_a_422_on_that_field(world: World, api_as: ApiFor) -> None:
    response = api_as("office").patch(
        f"/org-units/{world.unit1.pk}", {"responsible_phone": "12345"}
    )
    assert errors(response) == [
        (
            "responsible_phone",
            "A mobile number has 11 digits and starts with 13–19, e.g. 13812345678.",
        )
    ]


def test_a_unit_head_may_not_change_their_unit_and_nothing_changes(
    world: World, api_as: ApiFor
) -> None:
    before = snapshot()
    response = api_as("head1").patch(f"/org-units/{world.unit1.pk}", {"name": "改名"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role does not allow this action."}
    assert snapshot() == before


def test_changing_an_org_unit_outside_scope_is_404(world: World, api_as: ApiFor) -> None:
    before = snapshot()
    assert api_as("head2").patch(f"/org-units/{world.unit1.pk}", {"name": "x"}).status_code == 404
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Households


def test_a_unit_head_lists_the_households_of_their_unit(world: World, api_as: ApiFor) -> None:
    body = api_as("head1").get("/households").json()
    assert body["count"] == 2
    assert [(h["address"], h["member_count"], h["grid"]["code"]) for h in body["items"]] == [
        ("一站1排3号", 2, "LZ-01-01"),
        ("一站2排5号", 1, "LZ-01-02"),
    ]


def test_a_household_is_returned_with_grid_unit_head_and_a_masked_phone(
    world: World, api_as: ApiFor
) -> None:
    h = world.household11
    response = api_as("worker11").get(f"/households/{h.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": h.pk,
        "address": "一站1排3号",
        "phone": "138****1111",
        "note": "",
        "grid": {"id": world.grid11.pk, "code": "LZ-01-01", "name": "一站一网格"},
        "unit": {"id": world.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
        "head": {"id": world.person11.pk, "name": "张建国"},
        "member_count": 2,
        "is_active": True,
        "created_at": json_time(h.created_at),
        "updated_at": json_time(h.updated_at),
    }


def test_a_household_outside_scope_is_404(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").get(f"/households/{world.household12.pk}")
    assert response.status_code == 404


def test_households_are_searched_by_a_substring_of_the_address(api_as: ApiFor) -> None:
    api = api_as("office")
    assert [h["address"] for h in api.get("/households", q="4排1").json()["items"]] == [
        "二站4排1号"
    ]
    assert [h["address"] for h in api.get("/households", q="一站").json()["items"]] == [
        "一站1排3号",
        "一站2排5号",
    ]


def test_a_household_search_never_finds_what_is_out_of_scope(api_as: ApiFor) -> None:
    body = api_as("head1").get("/households", q="二站4排").json()
    assert body == {"count": 0, "limit": 50, "offset": 0, "items": []}


def test_households_are_filtered_by_the_subtree_of_a_unit(world: World, api_as: ApiFor) -> None:
    api = api_as("office")
    by_unit = api.get("/households", unit_id=world.unit1.pk).json()
    assert [h["address"] for h in by_unit["items"]] == ["一站1排3号", "一站2排5号"]
    by_grid = api.get("/households", unit_id=world.grid12.pk).json()
    assert [h["address"] for h in by_grid["items"]] == ["一站2排5号"]


def test_a_unit_filter_outside_scope_is_a_422_on_unit_id(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").get("/households", unit_id=world.unit2.pk)
    assert errors(response) == [("unit_id", "No such org unit in your scope.")]
    assert response.json()["detail"][0]["loc"] == ["query", "unit_id"]


def test_the_household_list_is_paginated_with_a_total_count(api_as: ApiFor) -> None:
    api = api_as("office")
    first = api.get("/households", limit=2).json()
    second = api.get("/households", limit=2, offset=2).json()
    assert (first["count"], first["limit"], first["offset"]) == (3, 2, 0)
    assert [h["address"] for h in first["items"]] == ["一站1排3号", "一站2排5号"]
    assert (second["count"], second["offset"]) == (3, 2)
    assert [h["address"] for h in second["items"]] == ["二站4排1号"]


def test_a_page_larger_than_200_is_cut_to_200(world: World, api_as: ApiFor) -> None:
    Household.objects.bulk_create(
        Household(grid=world.grid11, address=f"批量{i:03d}号") for i in range(205)
    )
    body = api_as("office").get("/households", limit=1000).json()
    assert (body["count"], body["limit"], len(body["items"])) == (208, 200, 200)


@pytest.mark.parametrize(("params", "field"), [({"limit": 0}, "limit"), ({"offset": -1}, "offset")])
def test_a_page_parameter_below_its_minimum_is_a_422_on_it(
    api_as: ApiFor, params: dict[str, int], field: str
) -> None:
    response = api_as("office").get("/households", **params)
    assert [f for f, _msg in errors(response)] == [field]


def test_a_grid_worker_adds_a_household_to_their_grid(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        "/households",
        {"grid_id": world.grid11.pk, "address": " 一站7排2号 ", "phone": "13655556666"},
    )
    assert response.status_code == 201, response.content
    household = Household.objects.get(address="一站7排2号")
    assert response.json()["id"] == household.pk
    assert response.json()["phone"] == "136****6666"
    assert response.json()["member_count"] == 0
    assert household.grid == world.grid11
    assert household.phone == "13655556666"
    assert household.history.get().history_user == world.user("worker11")


def test_a_grid_out_of_scope_or_unknown_is_a_422_no_such_grid(world: World, api_as: ApiFor) -> None:
    before = snapshot()
    api = api_as("worker11")
    for grid_id in (world.grid21.pk, 999999):
        response = api.post("/households", {"grid_id": grid_id, "address": "x"})
        assert errors(response) == [("grid_id", "No such grid in your scope.")]
        assert response.json()["detail"][0]["loc"] == ["body", "payload", "grid_id"]
    assert snapshot() == before


def test_a_household_must_be_placed_in_a_grid_not_a_unit(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post("/households", {"grid_id": world.unit1.pk, "address": "x"})
    assert errors(response) == [("grid_id", "第一作业站 (LZ-01) is not a grid; choose a grid.")]


def test_a_missing_address_is_a_422_on_address(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post("/households", {"grid_id": world.grid11.pk})
    assert errors(response) == [("address", "Field required")]
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "address"]


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1"])
def test_read_only_roles_may_not_add_a_household_and_nothing_is_created(
    world: World, api_as: ApiFor, username: str
) -> None:
    before = snapshot()
    response = api_as(username).post("/households", {"grid_id": world.grid11.pk, "address": "x"})
    assert response.status_code == 403
    assert snapshot() == before


def test_moving_a_household_to_another_grid_moves_its_members(world: World, api_as: ApiFor) -> None:
    h = world.household11
    response = api_as("head1").patch(
        f"/households/{h.pk}", {"grid_id": world.grid12.pk, "note": "搬迁"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["grid"] == {
        "id": world.grid12.pk,
        "code": "LZ-01-02",
        "name": "一站二网格",
    }
    assert response.json()["note"] == "搬迁"
    assert response.json()["address"] == "一站1排3号"
    assert set(Person.objects.filter(household=h).values_list("grid__code", flat=True)) == {
        "LZ-01-02"
    }
    assert TimelineEvent.objects.filter(kind="household_moved").count() == 2


def test_a_grid_worker_may_not_move_a_household_out_of_their_grid(
    world: World, api_as: ApiFor
) -> None:
    before = snapshot()
    response = api_as("worker11").patch(
        f"/households/{world.household11.pk}", {"grid_id": world.grid12.pk}
    )
    assert errors(response) == [("grid_id", "No such grid in your scope.")]
    assert snapshot() == before


def test_the_head_of_a_household_must_be_one_of_its_members(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")
    h = world.household11
    wrong = api.patch(f"/households/{h.pk}", {"head_id": world.person12.pk})
    assert errors(wrong) == [("head_id", "The head of household must be a member of it.")]
    right = api.patch(f"/households/{h.pk}", {"head_id": world.person11b.pk})
    assert right.json()["head"] == {"id": world.person11b.pk, "name": "张小明"}


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1"])
def test_read_only_roles_may_not_change_a_household_and_nothing_changes(
    world: World, api_as: ApiFor, username: str
) -> None:
    before = snapshot()
    response = api_as(username).patch(f"/households/{world.household11.pk}", {"address": "x"})
    assert response.status_code == 403
    assert snapshot() == before


def test_changing_a_household_outside_scope_is_404(world: World, api_as: ApiFor) -> None:
    before = snapshot()
    response = api_as("head2").patch(f"/households/{world.household11.pk}", {"address": "x"})
    assert response.status_code == 404
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Persons


def test_a_grid_worker_lists_only_the_persons_of_their_grid(api_as: ApiFor) -> None:
    body = api_as("worker11").get("/persons").json()
    assert body["count"] == 2
    assert [p["name"] for p in body["items"]] == ["张小明", "张建国"]


def test_a_person_is_returned_masked_with_grid_household_and_flags(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("worker11").get(f"/persons/{world.person11.pk}")
    assert response.status_code == 200
    assert response.json() == masked_person(world)


def test_a_person_without_an_id_number_is_flagged(world: World, api_as: ApiFor) -> None:
    body = api_as("worker11").get(f"/persons/{world.person11b.pk}").json()
    assert (body["id_number"], body["lacks_id_number"], body["phone"]) == ("", True, "")


@pytest.mark.parametrize(
    "username", ["admin", "leader", "office", "head1", "worker11", "auditor1", "gate1"]
)
def test_every_role_receives_masked_numbers_in_lists_and_details(
    world: World, api_as: ApiFor, username: str
) -> None:
    api = api_as(username)
    listed = api.get("/persons", q="张建国").json()["items"]
    assert listed == [masked_person(world)]
    assert api.get(f"/persons/{world.person11.pk}").json() == masked_person(world)
    household = api.get(f"/households/{world.household11.pk}").json()
    assert household["phone"] == "138****1111"


def test_a_person_outside_scope_is_404_like_a_missing_one(world: World, api_as: ApiFor) -> None:
    api = api_as("head2")
    assert api.get(f"/persons/{world.person11.pk}").status_code == 404
    assert api.get("/persons/999999").status_code == 404


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"category": "employee"}, ["张建国"]),
        ({"status": "observation"}, ["李秀英"]),
        ({"lacks_id": "true"}, ["张小明"]),
        ({"q": "李秀"}, ["李秀英"]),
        ({"q": "19750314"}, ["张建国"]),
        ({"q": "15100002222"}, ["王立新"]),
        ({"unit_id": "unit2"}, ["王立新"]),
        ({"household_id": "household11"}, ["张小明", "张建国"]),
    ],
)
def test_persons_are_filtered_by_search_category_status_id_unit_and_household(
    world: World, api_as: ApiFor, params: dict[str, str], names: list[str]
) -> None:
    Person.objects.filter(pk=world.person12.pk).update(status=Person.Status.UNDER_OBSERVATION)
    resolved = {
        key: (str(getattr(world, value).pk) if key in ("unit_id", "household_id") else value)
        for key, value in params.items()
    }
    body = api_as("office").get("/persons", **resolved).json()
    assert [p["name"] for p in body["items"]] == names
    assert body["count"] == len(names)


def test_a_household_filter_outside_scope_is_a_422_on_household_id(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("worker11").get("/persons", household_id=world.household21.pk)
    assert errors(response) == [("household_id", "No such household in your scope.")]


def test_a_grid_worker_adds_a_person_to_a_household_of_their_grid(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("worker11").post(
        "/persons",
        {
            "name": " 张丽 ",
            "household_id": world.household11.pk,
            "id_number": NEW_ID.lower(),
            "phone": "13812345678",
            "relation": "spouse",
        },
    )
    assert response.status_code == 201, response.content
    person = Person.objects.get(name="张丽")
    body = response.json()
    assert body["id"] == person.pk
    assert (body["id_number"], body["phone"]) == ("110105********002X", "138****5678")
    assert (body["birth_date"], body["sex"], body["lacks_id_number"]) == ("1949-12-31", "F", False)
    assert body["grid"]["code"] == "LZ-01-01"
    assert body["household"] == {"id": world.household11.pk, "address": "一站1排3号"}
    assert body["warnings"] == []
    assert (person.id_number, person.phone, person.grid) == (NEW_ID, "13812345678", world.grid11)
    assert person.timeline.get().kind == "created"
    assert person.history.get().history_user == world.user("worker11")


def test_a_person_may_be_added_to_a_grid_without_a_household(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post(
        "/persons", {"name": "访客甲", "grid_id": world.grid12.pk, "category": "visitor"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["household"] is None
    assert response.json()["grid"]["code"] == "LZ-01-02"
    assert response.json()["lacks_id_number"] is True


def test_a_wrong_id_check_character_is_a_422_on_id_number(world: World, api_as: ApiFor) -> None:
    before = snapshot()
    response = api_as("worker11").post(
        "/persons",
        {"name": "张丽", "household_id": world.household11.pk, "id_number": NEW_ID[:17] + "3"},
    )
    assert errors(response) == [
        (
            "id_number",
            "The last character (check character) should be X, not 3: a digit was probably mistyped.",
        )
    ]
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "id_number"]
    assert snapshot() == before


def test_a_bad_phone_is_a_422_on_phone(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").patch(f"/persons/{world.person11.pk}", {"phone": "1381234567"})
    assert errors(response) == [
        ("phone", "A mobile number has 11 digits and starts with 13–19, e.g. 13812345678.")
    ]
    assert Person.objects.get(pk=world.person11.pk).phone == "13912345678"


def test_several_bad_fields_are_reported_together(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        "/persons",
        {"name": "", "household_id": world.household11.pk, "phone": "123"},
    )
    assert sorted(field for field, _msg in errors(response)) == ["name", "phone"]


def test_an_unknown_or_out_of_scope_grid_is_a_422_on_grid_id(world: World, api_as: ApiFor) -> None:
    before = snapshot()
    api = api_as("head1")
    for grid_id in (world.grid21.pk, 999999):
        response = api.post("/persons", {"name": "x", "grid_id": grid_id})
        assert errors(response) == [("grid_id", "No such grid in your scope.")]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/persons", {"name": "x"}),
        ("/households", {"grid_id": 999999, "address": "x"}),
        ("/org-units", {"code": "X", "name": "x", "kind": "grid", "parent_id": 999999}),
    ],
)
def test_a_role_that_may_not_add_anywhere_is_403_before_its_body_is_looked_at(
    api_as: ApiFor, path: str, body: dict[str, Any]
) -> None:
    before = snapshot()
    assert api_as("auditor1").post(path, body).status_code == 403
    assert snapshot() == before


def test_a_person_needs_a_household_or_a_grid(api_as: ApiFor) -> None:
    response = api_as("head1").post("/persons", {"name": "x"})
    assert errors(response) == [("household_id", "Choose a household or at least a grid.")]


def test_a_schema_error_names_the_field(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post(
        "/persons",
        {"name": "x", "grid_id": world.grid11.pk, "sex": "X", "birth_date": "2020-02-30"},
    )
    assert response.status_code == 422
    assert sorted(tuple(e["loc"]) for e in response.json()["detail"]) == [
        ("body", "payload", "birth_date"),
        ("body", "payload", "sex"),
    ]


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1"])
def test_read_only_roles_may_not_add_a_person_and_nothing_is_created(
    world: World, api_as: ApiFor, username: str
) -> None:
    before = snapshot()
    response = api_as(username).post(
        "/persons", {"name": "x", "household_id": world.household11.pk}
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_a_grid_worker_changes_a_persons_status_and_phone(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").patch(
        f"/persons/{world.person11.pk}", {"status": "away", "phone": "13811112222"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["phone"]) == ("away", "138****2222")
    person = Person.objects.get(pk=world.person11.pk)
    assert (person.status, person.phone, person.name) == ("away", "13811112222", "张建国")
    event = person.timeline.get(kind="changed")
    assert "138****2222" in event.summary
    assert "13811112222" not in event.summary


@pytest.mark.parametrize("status", ["observation", "confirmed"])
def test_a_status_that_follows_from_observation_cannot_be_set_by_hand(
    world: World, api_as: ApiFor, status: str
) -> None:
    before = snapshot()
    response = api_as("worker11").patch(f"/persons/{world.person11.pk}", {"status": status})
    assert errors(response) == [
        (
            "status",
            "Under observation, referred, suspected and confirmed follow from the person's "
            "observation episodes: start or decide an episode instead.",
        )
    ]
    assert snapshot() == before


def test_moving_a_person_to_another_household_of_the_unit(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").patch(
        f"/persons/{world.person11b.pk}", {"household_id": world.household12.pk}
    )
    assert response.status_code == 200, response.content
    assert response.json()["household"] == {"id": world.household12.pk, "address": "一站2排5号"}
    assert response.json()["grid"]["code"] == "LZ-01-02"


def test_moving_a_person_to_a_household_out_of_scope_is_a_422(world: World, api_as: ApiFor) -> None:
    before = snapshot()
    response = api_as("worker11").patch(
        f"/persons/{world.person11b.pk}", {"household_id": world.household12.pk}
    )
    assert errors(response) == [("household_id", "No such household in your scope.")]
    assert snapshot() == before


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1"])
def test_read_only_roles_may_not_change_a_person_and_nothing_changes(
    world: World, api_as: ApiFor, username: str
) -> None:
    before = snapshot()
    response = api_as(username).patch(f"/persons/{world.person11.pk}", {"status": "observation"})
    assert response.status_code == 403
    assert snapshot() == before


def test_changing_a_person_outside_scope_is_404(world: World, api_as: ApiFor) -> None:
    before = snapshot()
    response = api_as("head2").patch(f"/persons/{world.person11.pk}", {"name": "x"})
    assert response.status_code == 404
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Reveal


@pytest.mark.parametrize("username", ["admin", "office", "head1", "worker11"])
@pytest.mark.parametrize(
    ("field", "value"), [("id_number", "620723197503141316"), ("phone", "13912345678")]
)
def test_roles_with_the_reveal_right_get_the_full_value_and_the_access_is_recorded(
    world: World, api_as: ApiFor, username: str, field: str, value: str
) -> None:
    response = api_as(username).post(f"/persons/{world.person11.pk}/reveal", {"field": field})
    assert response.status_code == 200
    assert response.json() == {"field": field, "value": value}
    access = SensitiveAccess.objects.get()
    assert (access.user, access.action, access.object_type, access.object_id, access.detail) == (
        world.user(username),
        "reveal",
        "person",
        world.person11.pk,
        {"field": field},
    )


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1"])
def test_leader_auditor_and_checkpoint_may_not_reveal_and_nothing_is_recorded(
    world: World, api_as: ApiFor, username: str
) -> None:
    response = api_as(username).post(f"/persons/{world.person11.pk}/reveal", {"field": "id_number"})
    assert response.status_code == 403
    assert SensitiveAccess.objects.count() == 0


def test_revealing_a_person_outside_scope_is_404_and_nothing_is_recorded(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("head2").post(f"/persons/{world.person11.pk}/reveal", {"field": "phone"})
    assert response.status_code == 404
    assert SensitiveAccess.objects.count() == 0


def test_only_the_id_number_and_the_phone_can_be_revealed(world: World, api_as: ApiFor) -> None:
    response = api_as("office").post(f"/persons/{world.person11.pk}/reveal", {"field": "name"})
    assert [tuple(e["loc"]) for e in response.json()["detail"]] == [("body", "payload", "field")]
    assert response.status_code == 422
    assert SensitiveAccess.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# Query budget


def _queries(api: Api, path: str, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path, limit=200)
    assert response.status_code == 200
    assert len(response.json()["items"]) == expected_rows
    return len(ctx.captured_queries)


def _add_persons(world: World, count: int, start: int) -> None:
    households = Household.objects.bulk_create(
        Household(grid=world.grid12, address=f"批量{start + i}号") for i in range(count)
    )
    Person.objects.bulk_create(
        Person(
            name=f"批量{start + i}",
            grid=world.grid12,
            household=household,
            id_number=make_id_number("620723", dt.date(1990, 1, 1), start + i),
            phone=f"137{start + i:08d}",
        )
        for i, household in enumerate(households)
    )


def test_lists_cost_the_same_number_of_queries_for_10_and_200_rows(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("head1")
    api.get("/persons")  # records the token's first use
    # head1 sees 3 persons, 2 households and 3 org units to begin with.
    _add_persons(world, 7, start=0)
    Household.objects.create(grid=world.grid12, address="空户")
    small = {
        "/persons": _queries(api, "/persons", 10),
        "/households": _queries(api, "/households", 10),
        "/org-units": _queries(api, "/org-units", 3),
    }
    _add_persons(world, 190, start=100)
    for i in range(197):
        services.create_org_unit(
            actor=None, code=f"LZ-01-B{i}", name=f"网格{i}", kind="grid", parent=world.unit1
        )
    large = {
        "/persons": _queries(api, "/persons", 200),
        "/households": _queries(api, "/households", 200),
        "/org-units": _queries(api, "/org-units", 200),
    }
    # The token, the caller's assignments, the page of rows and the count.
    # Households: one more query for the member counts of the page.
    assert small == large == {"/persons": 4, "/households": 5, "/org-units": 4}


# ---------------------------------------------------------------------------------------------
# OpenAPI and docs


def test_the_openapi_document_lists_every_endpoint_with_model_named_parameters(
    world: World, client: Client
) -> None:
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {path: sorted(ops) for path, ops in paths.items()} == {
        "/api/v1/org-units": ["get", "post"],
        "/api/v1/org-units/{orgunit_id}": ["get", "patch"],
        "/api/v1/households": ["get", "post"],
        "/api/v1/households/{household_id}": ["get", "patch"],
        "/api/v1/persons": ["get", "post"],
        "/api/v1/persons/{person_id}": ["get", "patch"],
        "/api/v1/persons/{person_id}/reveal": ["post"],
        # screening (fangkong/screening/tests/test_api.py)
        "/api/v1/risk-areas": ["get", "post"],
        "/api/v1/risk-areas/end": ["post"],
        "/api/v1/campaigns": ["get", "post"],
        "/api/v1/campaigns/{campaign_id}": ["get"],
        "/api/v1/campaigns/{campaign_id}/close": ["post"],
        "/api/v1/campaigns/{campaign_id}/coverage": ["get"],
        "/api/v1/campaigns/{campaign_id}/households/{household_id}/nobody-home": ["post"],
        "/api/v1/campaigns/{campaign_id}/households/{household_id}/checked": ["post"],
        "/api/v1/screenings": ["get", "post"],
        "/api/v1/screenings/{screening_id}": ["get"],
        "/api/v1/arrivals": ["post"],
        # observation (fangkong/observation/tests/test_api.py)
        "/api/v1/episodes": ["get", "post"],
        "/api/v1/episodes/bulk": ["post"],
        "/api/v1/episodes/{episode_id}": ["get"],
        "/api/v1/episodes/{episode_id}/release": ["post"],
        "/api/v1/episodes/{episode_id}/decision": ["post"],
        "/api/v1/episodes/{episode_id}/period": ["post"],
        "/api/v1/episodes/{episode_id}/readings": ["get", "post"],
        "/api/v1/readings/batch": ["post"],
        "/api/v1/episodes/{episode_id}/visits": ["get", "post"],
        "/api/v1/needs": ["get"],
        "/api/v1/episodes/{episode_id}/needs": ["post"],
        "/api/v1/needs/{need_id}": ["post"],
        # alerts (fangkong/alerts/tests/test_api.py)
        "/api/v1/alerts": ["get"],
        "/api/v1/alerts/{alert_id}": ["get"],
        "/api/v1/alerts/{alert_id}/acknowledge": ["post"],
        "/api/v1/alerts/{alert_id}/resolve": ["post"],
        # reporting (fangkong/reporting/tests/test_api.py)
        "/api/v1/reporting/indicators": ["get"],
        "/api/v1/reporting/reports": ["get", "post"],
        "/api/v1/reporting/reports/{report_id}": ["get"],
        "/api/v1/reporting/reports/{report_id}/return": ["post"],
        "/api/v1/reporting/reports/{report_id}/approve": ["post"],
        "/api/v1/reporting/completeness": ["get"],
        "/api/v1/reporting/branch": ["get"],
        "/api/v1/reporting/branch/approve": ["post"],
        # checkpoints (fangkong/checkpoints/tests/test_entries_api.py, test_duty_api.py and
        # test_records_api.py): post_id, place_id name a DutyPost and a DisinfectionPlace by
        # the URL arguments their models are registered with (fangkong.core.scoping)
        "/api/v1/checkpoints": ["get"],
        "/api/v1/checkpoints/{checkpoint_id}": ["get"],
        "/api/v1/checkpoints/{checkpoint_id}/entries": ["post"],
        "/api/v1/checkpoint-entries": ["get"],
        "/api/v1/checkpoint-entries/{entry_id}": ["get"],
        "/api/v1/checkpoint-counts": ["get"],
        "/api/v1/duty-posts": ["get"],
        "/api/v1/duty-posts/{post_id}/coverage": ["get"],
        "/api/v1/shifts": ["get", "post"],
        "/api/v1/shifts/{shift_id}/swap": ["post"],
        "/api/v1/shifts/{shift_id}/cancel": ["post"],
        "/api/v1/pioneer-posts": ["get"],
        "/api/v1/disinfection-places": ["get", "post"],
        "/api/v1/disinfection-places/overdue": ["get"],
        "/api/v1/disinfections": ["get"],
        "/api/v1/disinfection-places/{place_id}/disinfections": ["post"],
        "/api/v1/publicity": ["get", "post"],
    }
    assert response.json()["components"]["securitySchemes"] == {
        "BearerToken": {"type": "http", "scheme": "bearer"}
    }


def test_the_docs_page_loads_swagger_from_the_apps_own_static_files(client: Client) -> None:
    response = client.get(f"{BASE}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"(?:https?:)?//[^\s\"'<>]+", html) == []
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert sorted(assets) == [
        "/static/ninja/favicon.png",
        "/static/ninja/favicon.svg",
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
        "/static/ninja/swagger-ui.css",
    ]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert '"url": "/api/v1/openapi.json"' in html


# ---------------------------------------------------------------------------------------------
# The api_token command


def test_the_api_token_command_prints_a_working_token(world: World, client: Client) -> None:
    out, err = StringIO(), StringIO()
    call_command("api_token", "head1", "--name", "日报脚本", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert re.fullmatch(r"fk_[A-Za-z0-9_-]{43}", key)
    token = ApiToken.objects.get(user__username="head1")
    assert (token.name, token.prefix, token.revoked_at) == ("日报脚本", key[:10], None)
    assert key not in err.getvalue()
    assert Api(client, key).get("/persons").json()["count"] == 3


def test_the_api_token_command_fails_clearly_for_an_unknown_user(world: World) -> None:
    with pytest.raises(CommandError, match=r"^No user named 'nobody'\."):
        call_command("api_token", "nobody", stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.count() == 0


def test_the_api_token_command_refuses_an_inactive_user(world: World) -> None:
    User.objects.filter(username="head1").update(is_active=False)
    with pytest.raises(CommandError, match=r"^User 'head1' is inactive"):
        call_command("api_token", "head1", stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.count() == 0


def test_the_api_token_command_revokes_every_token_of_the_user(
    world: World, client: Client
) -> None:
    _t1, key1 = services.issue_api_token(user=world.user("head1"))
    _t2, key2 = services.issue_api_token(user=world.user("head1"))
    _t3, other = services.issue_api_token(user=world.user("head2"))
    out = StringIO()
    call_command("api_token", "head1", "--revoke-all", stdout=out, stderr=StringIO())
    assert out.getvalue() == "Revoked 2 token(s) of head1.\n"
    assert Api(client, key1).get("/persons").status_code == 401
    assert Api(client, key2).get("/persons").status_code == 401
    assert Api(client, other).get("/persons").status_code == 200
    assert ApiToken.objects.filter(user__username="head1").count() == 2


def test_the_hot_operations_resolve_first_and_every_route_still_reaches_its_own() -> None:
    from django.urls import resolve

    from fangkong import api as api_module

    patterns, _app_name, _namespace = api_module.urls()
    assert [p.name for p in patterns[:2]] == ["record_reading", "log_entry"]
    assert sorted(str(p.pattern) for p in patterns) == sorted(
        str(p.pattern) for p in api_module.api.urls[0]
    )
    # A URL made from each route resolves to that route: moving the hot ones first shadows none.
    for pattern in patterns:
        route = str(pattern.pattern)
        match = resolve("/api/v1/" + re.sub(r"<[^>]+>", "7", route))
        assert match.route == "api/v1/" + route
