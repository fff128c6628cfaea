"""The duty's API: posts, shifts (list, add, swap, cancel), a post's coverage, pioneer posts;
scope (outside is 404, or a 422 on the body's field as if it did not exist), read-only roles
get 403 and change nothing, 422 names the field.

The world's duty (see :mod:`fangkong.checkpoints.testing_duty`) plus the office post
联防联控办公室 of LZ-01 with the shifts of 2020-02-05 00:00–08:00 (赵卫东) and 08:00–16:00
(gate1). The clock: 2020-02-05 10:00."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

import pytest
import time_machine

from fangkong.checkpoints.models import DutyPost, Shift, ShiftSwap
from fangkong.checkpoints.testing_duty import DutyWorld
from fangkong.core.testing import World
from fangkong.core.tests.apikit import ApiFor, token_api

from .duty_kit import NOW, at, post, shift, table_counts

if TYPE_CHECKING:
    pass


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(world: World) -> ApiFor:
    return partial(token_api, world)


@pytest.fixture
def duty(world: World) -> DutyWorld:
    return world.duty


@pytest.fixture
def office(world: World, duty: DutyWorld) -> DutyPost:
    office = post(world)
    shift(office, at(5, 0), at(5, 8), "赵卫东")
    shift(office, at(5, 8), at(5, 16), world.user("gate1"), leader=world.user("leader"))
    return office


def test_the_posts_of_the_scope(world: World, office: DutyPost, api: ApiFor) -> None:
    response = api("head1").get("/duty-posts")

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert [p["name"] for p in data["items"]] == [
        "一站东门卡口",
        "联防联控办公室",
        "一站疫情防控党员先锋岗",
    ]
    assert data["items"][1] == {
        "id": office.pk,
        "kind": "office",
        "name": "联防联控办公室",
        "unit": {"id": world.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
        "checkpoint_id": None,
        "round_the_clock": True,
        "is_active": True,
    }


def test_the_shifts_of_a_post_over_days(world: World, office: DutyPost, api: ApiFor) -> None:
    response = api("auditor1").get(
        "/shifts", post_id=office.pk, **{"from": "2020-02-05", "to": "2020-02-05"}
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(s["start"], s["end"]) for s in items] == [
        ("2020-02-05T00:00:00+08:00", "2020-02-05T08:00:00+08:00"),
        ("2020-02-05T08:00:00+08:00", "2020-02-05T16:00:00+08:00"),
    ]
    assert items[1]["members"][0]["name"] == "gate1"
    assert (items[1]["leader"], items[1]["post"]) == (
        "leader",
        {"id": office.pk, "name": "联防联控办公室"},
    )


def test_the_shifts_of_a_post_of_another_unit_are_a_422(
    world: World, office: DutyPost, api: ApiFor
) -> None:
    response = api("head2").get("/shifts", post_id=office.pk)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["query", "post_id"], "msg": "No such post in your scope.", "type": "value_error"}
    ]


def test_a_shift_is_added(world: World, office: DutyPost, api: ApiFor) -> None:
    response = api("head1").post(
        "/shifts",
        {
            "post_id": office.pk,
            "start": "2020-02-05T16:00:00+08:00",
            "end": "2020-02-06T00:00:00+08:00",
            "members": [{"user_id": world.user("worker11").pk}, {"name": "赵卫东", "phone": ""}],
            "leader_id": world.user("office").pk,
            "note": "晚班",
        },
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert [m["name"] for m in data["members"]] == ["worker11", "赵卫东"]
    assert (data["leader"], data["note"], data["swaps"]) == ("office", "晚班", [])
    assert Shift.objects.get(pk=data["id"]).created_by == world.user("head1")


def test_an_overlap_is_a_422_naming_the_other_shift(
    world: World, office: DutyPost, duty: DutyWorld, api: ApiFor
) -> None:
    before = table_counts()

    response = api("head1").post(
        "/shifts",
        {
            "post_id": duty.post1.pk,
            "start": "2020-02-05T12:00:00+08:00",
            "end": "2020-02-05T20:00:00+08:00",
            "members": [{"user_id": world.user("gate1").pk}],
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "payload", "members"],
            "msg": "gate1 is already on duty at 联防联控办公室 from 2020-02-05 08:00–16:00: "
            "choose someone else or change that shift first.",
            "type": "value_error",
        }
    ]
    assert table_counts() == before


def test_a_shift_of_more_than_24_hours_is_a_422_on_end(
    world: World, office: DutyPost, api: ApiFor
) -> None:
    response = api("head1").post(
        "/shifts",
        {
            "post_id": office.pk,
            "start": "2020-02-05T16:00:00+08:00",
            "end": "2020-02-06T17:00:00+08:00",
            "members": [{"name": "赵卫东"}],
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "end"]


@pytest.mark.parametrize("username", ["auditor1", "leader", "gate1"])
def test_a_read_only_role_may_not_add_a_shift(
    world: World, office: DutyPost, api: ApiFor, username: str
) -> None:
    before = table_counts()

    response = api(username).post(
        "/shifts",
        {
            "post_id": office.pk,
            "start": "2020-02-05T16:00:00+08:00",
            "end": "2020-02-06T00:00:00+08:00",
            "members": [{"name": "赵卫东"}],
        },
    )

    assert response.status_code == 403
    assert table_counts() == before


def test_a_swap_is_recorded(world: World, office: DutyPost, api: ApiFor) -> None:
    day = Shift.objects.get(post=office, start=at(5, 8))

    response = api("head1").post(
        f"/shifts/{day.pk}/swap",
        {"member_id": day.members.get().pk, "to_name": "钱多多", "reason": "病假"},
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert [m["name"] for m in data["members"]] == ["钱多多"]
    assert data["swaps"] == [
        {
            "from_name": "gate1",
            "to_name": "钱多多",
            "reason": "病假",
            "recorded_by": "head1",
            "recorded_at": "2020-02-05T10:00:00+08:00",
        }
    ]


def test_a_past_shift_cannot_be_swapped(world: World, office: DutyPost, api: ApiFor) -> None:
    night = Shift.objects.get(post=office, start=at(5, 0))

    response = api("head1").post(
        f"/shifts/{night.pk}/swap",
        {"member_id": night.members.get().pk, "to_name": "钱多多", "reason": "病假"},
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "payload", "shift"],
            "msg": "This shift ended at 2020-02-05 08:00: a past shift stays as it was.",
            "type": "value_error",
        }
    ]
    assert ShiftSwap.objects.count() == 0


def test_a_shift_of_another_unit_is_404(world: World, office: DutyPost, api: ApiFor) -> None:
    day = Shift.objects.get(post=office, start=at(5, 8))
    before = table_counts()

    swap = api("head2").post(
        f"/shifts/{day.pk}/swap",
        {"member_id": day.members.get().pk, "to_name": "甲", "reason": "x"},
    )
    cancel = api("head2").post(f"/shifts/{day.pk}/cancel", {})

    assert (swap.status_code, cancel.status_code) == (404, 404)
    assert table_counts() == before


def test_a_shift_is_cancelled(world: World, office: DutyPost, api: ApiFor) -> None:
    day = Shift.objects.get(post=office, start=at(5, 8))

    response = api("head1").post(f"/shifts/{day.pk}/cancel", {"reason": "改派"})

    assert response.status_code == 200
    assert (response.json()["is_cancelled"], response.json()["note"]) == (True, "改派")


def test_the_coverage_of_a_post_lists_its_gaps(world: World, office: DutyPost, api: ApiFor) -> None:
    response = api("head1").get(
        f"/duty-posts/{office.pk}/coverage", **{"from": "2020-02-05", "to": "2020-02-06"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "post": {"id": office.pk, "name": "联防联控办公室"},
        "round_the_clock": True,
        "start": "2020-02-05T00:00:00+08:00",
        "end": "2020-02-07T00:00:00+08:00",
        "covered": False,
        "gaps": [{"start": "2020-02-05T16:00:00+08:00", "end": "2020-02-07T00:00:00+08:00"}],
    }


def test_the_coverage_of_a_post_of_another_unit_is_404(
    world: World, office: DutyPost, api: ApiFor
) -> None:
    assert api("head2").get(f"/duty-posts/{office.pk}/coverage").status_code == 404


def test_a_coverage_range_is_checked(world: World, office: DutyPost, api: ApiFor) -> None:
    response = api("head1").get(
        f"/duty-posts/{office.pk}/coverage", **{"from": "2020-02-05", "to": "2020-02-04"}
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["query", "to"],
            "msg": "The end must not be before the start.",
            "type": "value_error",
        }
    ]


def test_the_pioneer_posts_with_their_members(
    world: World, office: DutyPost, duty: DutyWorld, api: ApiFor
) -> None:
    response = api("head1").get("/pioneer-posts")

    assert response.status_code == 200
    assert response.json()["items"] == [
        {
            "id": duty.pioneer1.pk,
            "name": "一站疫情防控党员先锋岗",
            "duty": "东门卡口值守，进出人员车辆登记、测温、消毒",
            "unit": {"id": world.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
            "post_id": duty.pioneer1.post_id,
            "is_active": True,
            "members": [
                {
                    "person_id": world.person11.pk,
                    "user_id": None,
                    "name": "张建国",
                    "is_leader": True,
                },
                {
                    "person_id": None,
                    "user_id": world.user("worker11").pk,
                    "name": "worker11",
                    "is_leader": False,
                },
            ],
        }
    ]
