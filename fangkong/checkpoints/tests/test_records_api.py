"""The records' API: places with when each is due (the overdue ones first), the overdue
list, adding a place, recording a disinfection, the log, publicity; 422 with the field, 404
out of scope, 403 for a read-only role, and nothing changes on a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest

from fangkong.checkpoints.models import Disinfection, DisinfectionPlace, PublicityRecord
from fangkong.core.tests.apikit import ApiFor, errors, ok, token_api

from .records_kit import RecordsWorld, at, frozen_clock, place, records_world


@pytest.fixture
def rworld(db: None) -> Iterator[RecordsWorld]:
    with frozen_clock():
        yield records_world()


@pytest.fixture
def api_as(rworld: RecordsWorld) -> ApiFor:
    return partial(token_api, rworld)


def _state() -> tuple[int, int, int]:
    return (
        DisinfectionPlace.objects.count(),
        Disinfection.objects.count(),
        PublicityRecord.objects.count(),
    )


def test_the_places_come_with_when_each_is_due_overdue_first(
    rworld: RecordsWorld, api_as: ApiFor
) -> None:
    place(rworld, "一站东门卡口", times_per_day=2, at=at(5, 9))

    body = ok(api_as("office").get("/disinfection-places"))

    assert body["count"] == 3
    assert [(p["name"], p["due_at"], p["overdue"]) for p in body["items"]] == [
        ("一站职工食堂", "2020-02-04T21:00:00+08:00", True),
        ("二站办公室", "2020-02-05T10:00:00+08:00", False),
        ("一站东门卡口", "2020-02-05T21:00:00+08:00", False),
    ]
    assert body["items"][0] == {
        "id": rworld.place1.pk,
        "name": "一站职工食堂",
        "unit": {"id": rworld.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
        "location": "",
        "times_per_day": 2,
        "last_done_at": "2020-02-04T09:00:00+08:00",
        "due_at": "2020-02-04T21:00:00+08:00",
        "overdue": True,
        "is_active": True,
        "created_at": "2020-02-03T08:00:00+08:00",
    }


def test_the_overdue_list_holds_the_overdue_places_of_the_scope(
    rworld: RecordsWorld, api_as: ApiFor
) -> None:
    assert [
        p["name"] for p in ok(api_as("office").get("/disinfection-places/overdue"))["items"]
    ] == ["一站职工食堂"]
    assert ok(api_as("head2").get("/disinfection-places/overdue"))["items"] == []


def test_a_unit_head_adds_a_place_and_an_error_names_the_field(
    rworld: RecordsWorld, api_as: ApiFor
) -> None:
    api = api_as("head1")

    created = ok(
        api.post(
            "/disinfection-places",
            {"orgunit_id": rworld.grid11.pk, "name": "一排公厕", "times_per_day": 3},
        ),
        201,
    )
    refused = api.post(
        "/disinfection-places", {"orgunit_id": rworld.unit1.pk, "name": "东门", "times_per_day": 0}
    )
    outside = api.post("/disinfection-places", {"orgunit_id": rworld.unit2.pk, "name": "东门"})

    assert (created["name"], created["unit"]["code"], created["due_at"]) == (
        "一排公厕",
        "LZ-01-01",
        "2020-02-05T18:00:00+08:00",
    )
    assert errors(refused) == [
        (
            ["body", "payload", "times_per_day"],
            "Enter how many times a day the place is disinfected: a whole number from 1 to 24 "
            "(2: every 12 hours).",
        )
    ]
    assert errors(outside) == [
        (["body", "payload", "orgunit_id"], "No such org unit in your scope.")
    ]
    assert DisinfectionPlace.objects.filter(name="东门").count() == 0


def test_a_disinfection_is_recorded_and_listed(rworld: RecordsWorld, api_as: ApiFor) -> None:
    api = api_as("head1")

    created = ok(
        api.post(
            f"/disinfection-places/{rworld.place1.pk}/disinfections",
            {"agent": "75%酒精", "done_at": "2020-02-05T09:30:00+08:00", "note": "早班"},
        ),
        201,
    )
    log = ok(api.get("/disinfections", place_id=rworld.place1.pk))
    today = ok(api.get("/disinfections", start="2020-02-05"))

    assert created == {
        "id": created["id"],
        "place": {"id": rworld.place1.pk, "name": "一站职工食堂"},
        "unit": {"id": rworld.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
        "done_at": "2020-02-05T09:30:00+08:00",
        "agent": "75%酒精",
        "done_by": "head1",
        "note": "早班",
        "recorded_by": "head1",
        "created_at": "2020-02-05T10:00:00+08:00",
    }
    assert [r["done_at"] for r in log["items"]] == [
        "2020-02-05T09:30:00+08:00",
        "2020-02-04T09:00:00+08:00",
    ]
    assert [r["id"] for r in today["items"]] == [created["id"]]
    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).last_done_at == at(5, 9, 30)


def test_a_future_disinfection_is_a_422_on_its_field(rworld: RecordsWorld, api_as: ApiFor) -> None:
    before = _state()

    response = api_as("head1").post(
        f"/disinfection-places/{rworld.place1.pk}/disinfections",
        {"agent": "75%酒精", "done_at": "2020-02-05T12:00:00+08:00"},
    )

    assert errors(response) == [
        (
            ["body", "payload", "done_at"],
            "2020-02-05 12:00 is in the future: enter when the disinfection was done (now or "
            "earlier).",
        )
    ]
    assert _state() == before


def test_out_of_scope_is_404_and_read_only_is_403_and_nothing_changes(
    rworld: RecordsWorld, api_as: ApiFor
) -> None:
    before = _state()
    path = f"/disinfection-places/{rworld.place1.pk}/disinfections"

    outsider = api_as("head2").post(path, {"agent": "75%酒精"})
    auditor = api_as("auditor1")

    assert outsider.status_code == 404
    assert auditor.post(path, {"agent": "75%酒精"}).status_code == 403
    assert (
        auditor.post(
            "/disinfection-places", {"orgunit_id": rworld.unit1.pk, "name": "东门"}
        ).status_code
        == 403
    )
    assert (
        auditor.post(
            "/publicity",
            {"orgunit_id": rworld.unit1.pk, "day": "2020-02-05", "kind": "tv", "content": ""},
        ).status_code
        == 403
    )
    assert ok(auditor.get("/disinfections"))["count"] == 1
    assert _state() == before


def test_publicity_is_recorded_and_listed_with_filters(
    rworld: RecordsWorld, api_as: ApiFor
) -> None:
    api = api_as("worker11")

    created = ok(
        api.post(
            "/publicity",
            {
                "orgunit_id": rworld.grid11.pk,
                "day": "2020-02-05",
                "kind": "meeting",
                "content": "户主会",
                "reach": 35,
            },
        ),
        201,
    )
    refused = api.post(
        "/publicity",
        {"orgunit_id": rworld.grid11.pk, "day": "2020-02-06", "kind": "tv", "content": "x"},
    )
    office = api_as("office")

    assert (created["kind"], created["reach"], created["quantity"], created["recorded_by"]) == (
        "meeting",
        35,
        None,
        "worker11",
    )
    assert errors(refused) == [
        (
            ["body", "payload", "day"],
            "2020-02-06 has not come yet: record publicity on its day or later.",
        ),
        (["body", "payload", "kind"], "Choose the kind: notice, poster, broadcast, meeting, …"),
    ]
    assert [r["content"] for r in ok(office.get("/publicity"))["items"]] == [
        "户主会",
        "广播防疫知识",
        "张贴防疫海报",
    ]
    assert [r["content"] for r in ok(office.get("/publicity", kind="poster"))["items"]] == [
        "张贴防疫海报"
    ]
    assert [
        r["content"] for r in ok(office.get("/publicity", unit_id=rworld.unit2.pk))["items"]
    ] == ["广播防疫知识"]
    assert errors(office.get("/publicity", kind="tv")) == [
        (["query", "kind"], "Choose the kind: notice, poster, broadcast, meeting, …")
    ]
