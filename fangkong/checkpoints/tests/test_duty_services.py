"""The duty's services: posts, shifts (times, staff, leader, overlaps), cancelling, repeating
a week, swaps, the duty rules, the pioneer posts and their members; who may do what, and
that a refused call changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from fangkong.checkpoints.models import (
    DutyPost,
    DutyRules,
    PioneerMember,
    PioneerPost,
    Shift,
    ShiftMember,
    ShiftSwap,
)
from fangkong.checkpoints.selectors import duty as selectors
from fangkong.checkpoints.services import duty as services
from fangkong.checkpoints.services.duty import MemberIn, PioneerMemberIn
from fangkong.core.testing import World
from fangkong.org.models import TimelineEvent

from .duty_kit import MONDAY, NOW, at, post, shift, table_counts


@pytest.fixture(autouse=True)
def _english_at_now() -> Iterator[None]:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# ---------------------------------------------------------------------------------------------
# Posts


def test_a_unit_head_adds_a_post_of_the_unit(world: World) -> None:
    made = services.create_post(
        actor=world.user("head1"), kind="checkpoint", name=" 东门卡口 ", unit=world.unit1
    )

    assert (made.kind, made.name, made.unit, made.round_the_clock, made.is_active) == (
        DutyPost.Kind.CHECKPOINT,
        "东门卡口",
        world.unit1,
        True,
        True,
    )
    assert made.history.get().history_user == world.user("head1")


@pytest.mark.parametrize(("username", "unit"), [("head1", "unit2"), ("auditor1", "unit1")])
def test_a_post_outside_the_managers_scope_is_refused(
    world: World, username: str, unit: str
) -> None:
    before = table_counts()

    with pytest.raises(PermissionDenied):
        services.create_post(
            actor=world.user(username), kind="office", name="值班室", unit=getattr(world, unit)
        )

    assert table_counts() == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "Name the post, e.g. '联防联控办公室' or '东门卡口'."),
        (
            {"kind": "guard"},
            "kind",
            "Choose the kind of post: office, checkpoint, pioneer post or other.",
        ),
        (
            {"kind": "pioneer"},
            "kind",
            "A pioneer post's duty post is made with the pioneer post: add that instead.",
        ),
    ],
)
def test_a_post_is_checked(world: World, changes: dict[str, str], field: str, message: str) -> None:
    values = {"kind": "office", "name": "值班室", **changes}

    with pytest.raises(ValidationError) as excinfo:
        services.create_post(actor=None, unit=world.unit1, kind=values["kind"], name=values["name"])

    assert errors(excinfo) == {field: [message]}


def test_a_post_is_deactivated_and_leaves_the_roster(world: World) -> None:
    office = post(world)
    the_worlds = [world.duty.post1, world.duty.pioneer1.post]
    roster = selectors.roster(world.user("head1"), NOW)
    assert [row.post for row in roster] == [world.duty.post1, office, world.duty.pioneer1.post]

    services.update_post(actor=world.user("head1"), post=office, is_active=False)

    assert not DutyPost.objects.get(pk=office.pk).is_active
    assert [row.post for row in selectors.roster(world.user("head1"), NOW)] == the_worlds


# ---------------------------------------------------------------------------------------------
# Shifts


def test_a_shift_crossing_midnight_with_staff_and_a_leader(world: World) -> None:
    office = post(world)

    made = services.create_shift(
        actor=world.user("head1"),
        post=office,
        start=at(5, 22),
        end=at(6, 8),
        members=[
            MemberIn(user=world.user("worker11")),
            MemberIn(name="赵卫东", phone="136 0000 1111"),
        ],
        leader=world.user("leader"),
        note="夜班",
    )

    assert (made.start, made.end, made.leader, made.note, made.created_by) == (
        at(5, 22),
        at(6, 8),
        world.user("leader"),
        "夜班",
        world.user("head1"),
    )
    assert list(made.members.order_by("pk").values_list("user__username", "name", "phone")) == [
        ("worker11", "worker11", ""),
        (None, "赵卫东", "13600001111"),
    ]
    assert made.history.get().history_user == world.user("head1")


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (
            at(5, 16),
            at(5, 8),
            "end",
            "The end must be after the start (a night shift ends the next day, e.g. 22:00 to "
            "08:00 the next day).",
        ),
        (at(5, 8), at(5, 8), "end", None),
        (
            at(5, 8),
            at(6, 8, 1),
            "end",
            "A shift lasts at most 24 hours: split a longer duty into shifts.",
        ),
    ],
)
def test_the_times_of_a_shift_are_checked(
    world: World, start: dt.datetime, end: dt.datetime, field: str, message: str | None
) -> None:
    office = post(world)

    with pytest.raises(ValidationError) as excinfo:
        shift(office, start, end, "甲")

    assert list(errors(excinfo)) == [field]
    if message:
        assert errors(excinfo)[field] == [message]


def test_a_shift_of_exactly_24_hours_is_accepted(world: World) -> None:
    assert shift(post(world), at(5, 8), at(6, 8), "甲").end == at(6, 8)


def test_a_shift_needs_someone_on_duty(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.create_shift(
            actor=None, post=post(world), start=at(5, 8), end=at(5, 16), members=[]
        )

    assert errors(excinfo) == {
        "members": ["Put at least one person on duty: a user, or a name and a mobile number."]
    }


def test_a_typed_in_member_needs_a_valid_mobile(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.create_shift(
            actor=None,
            post=post(world),
            start=at(5, 8),
            end=at(5, 16),
            members=[MemberIn(name="赵卫东", phone="12345")],
        )

    assert errors(excinfo) == {
        "members": [
            "赵卫东: A mobile number has 11 digits and starts with 13–19, e.g. 13812345678."
        ]
    }


def test_a_user_outside_the_managers_scope_cannot_be_put_on_duty(world: World) -> None:
    office = post(world)
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.create_shift(
            actor=world.user("head1"),
            post=office,
            start=at(5, 8),
            end=at(5, 16),
            members=[MemberIn(user=world.user("head2"))],
        )

    assert errors(excinfo) == {"members": ["head2 is not among the users you may put on duty."]}
    assert table_counts() == before


def test_the_leader_on_duty_is_a_leader_or_of_the_office(world: World) -> None:
    office = post(world)

    with pytest.raises(ValidationError) as excinfo:
        shift(office, at(5, 8), at(5, 16), "甲", leader=world.user("head1"))
    made = shift(office, at(5, 8), at(5, 16), "甲", leader=world.user("office"))

    assert errors(excinfo) == {
        "leader": ["head1 cannot be the leader on duty: choose a leader or a member of the office."]
    }
    assert made.leader == world.user("office")


def test_shifts_of_a_post_may_overlap_for_the_handover(world: World) -> None:
    office = post(world)
    shift(office, at(5, 0), at(5, 8, 30), world.user("worker11"))

    second = shift(office, at(5, 8), at(5, 16), world.user("gate1"))

    assert second.pk is not None


def test_a_member_on_an_overlapping_shift_anywhere_is_refused_naming_it(world: World) -> None:
    shift(post(world, "东门卡口"), at(5, 8), at(5, 16), world.user("worker11"))
    office = post(world)
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        shift(office, at(5, 15), at(5, 23), world.user("gate1"), world.user("worker11"))

    assert errors(excinfo) == {
        "members": [
            "worker11 is already on duty at 东门卡口 from 2020-02-05 08:00–16:00: choose "
            "someone else or change that shift first."
        ]
    }
    assert table_counts() == before


def test_a_typed_in_member_on_an_overlapping_shift_is_refused(world: World) -> None:
    shift(post(world, "东门卡口"), at(5, 20), at(6, 8), "赵卫东")

    with pytest.raises(ValidationError) as excinfo:
        shift(post(world), at(6, 6), at(6, 14), "赵卫东")

    assert errors(excinfo) == {
        "members": [
            "赵卫东 is already on duty at 东门卡口 from 2020-02-05 20:00–2020-02-06 08:00: "
            "choose someone else or change that shift first."
        ]
    }


def test_back_to_back_and_cancelled_shifts_are_no_overlap(world: World) -> None:
    office = post(world)
    shift(office, at(5, 0), at(5, 8), world.user("worker11"))
    cancelled = shift(office, at(5, 8), at(5, 16), world.user("gate1"))
    services.cancel_shift(actor=None, shift=cancelled)

    made = shift(office, at(5, 8), at(5, 16), world.user("worker11"), world.user("gate1"))

    assert made.members.count() == 2


def test_the_same_member_twice_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        shift(post(world), at(5, 8), at(5, 16), world.user("gate1"), world.user("gate1"))

    assert errors(excinfo) == {"members": ["gate1 is listed twice."]}


def test_an_inactive_post_gets_no_shift(world: World) -> None:
    office = post(world)
    services.update_post(actor=None, post=office, is_active=False)

    with pytest.raises(ValidationError) as excinfo:
        shift(office, at(5, 8), at(5, 16), "甲")

    assert errors(excinfo) == {
        "post": ["联防联控办公室 is not active: reactivate it to give it shifts."]
    }


def test_a_shift_is_changed_keeping_the_members_who_stay(world: World) -> None:
    office = post(world)
    made = shift(office, at(5, 16), at(6, 0), world.user("worker11"), "赵卫东")
    kept = made.members.get(user=world.user("worker11"))

    services.update_shift(
        actor=world.user("head1"),
        shift=made,
        start=at(5, 16),
        end=at(6, 2),
        members=[MemberIn(user=world.user("worker11")), MemberIn(user=world.user("gate1"))],
        leader=world.user("leader"),
        note="延长",
    )

    made.refresh_from_db()
    assert (made.end, made.leader, made.note) == (at(6, 2), world.user("leader"), "延长")
    assert sorted(made.members.values_list("name", flat=True)) == ["gate1", "worker11"]
    assert made.members.get(user=world.user("worker11")).pk == kept.pk
    removed = ShiftMember.history.filter(name="赵卫东", history_type="-").get()
    assert removed.history_user == world.user("head1")


def test_a_shift_that_has_ended_stays_as_it_was(world: World) -> None:
    past = shift(post(world), at(4, 8), at(4, 16), "甲")

    with pytest.raises(ValidationError) as excinfo:
        services.cancel_shift(actor=None, shift=past)

    assert errors(excinfo) == {
        "shift": ["This shift ended at 2020-02-04 16:00: a past shift stays as it was."]
    }
    assert not Shift.objects.get(pk=past.pk).is_cancelled


def test_a_cancelled_shift_becomes_a_gap(world: World) -> None:
    office = post(world)
    shift(office, at(5, 0), at(5, 12), "甲")
    afternoon = shift(office, at(5, 12), at(6, 0), "乙")

    services.cancel_shift(actor=world.user("head1"), shift=afternoon, reason="人员调整")

    afternoon.refresh_from_db()
    assert (afternoon.is_cancelled, afternoon.note) == (True, "人员调整")
    assert selectors.coverage(office, dt.date(2020, 2, 5), dt.date(2020, 2, 5)).gaps == [
        (at(5, 12), at(6, 0))
    ]


def test_an_outsider_cannot_cancel_and_nothing_changes(world: World) -> None:
    made = shift(post(world), at(5, 12), at(6, 0), "甲")
    before = table_counts()

    for username in ("head2", "auditor1", "gate1"):
        with pytest.raises(PermissionDenied):
            services.cancel_shift(actor=world.user(username), shift=made)

    assert table_counts() == before
    assert not Shift.objects.get(pk=made.pk).is_cancelled


# ---------------------------------------------------------------------------------------------
# Repeating a week


def _week_of_shifts(office: DutyPost, world: World) -> None:
    # gate1, not worker11: the world's worker11 is at 一站东门卡口 on 2020-02-04 08:00–20:00.
    for day in range(3, 10):
        shift(office, at(day, 8), at(day, 20), world.user("gate1"), leader=world.user("leader"))
        shift(office, at(day, 20), at(day + 1, 8), "赵卫东")


def test_a_week_is_repeated_the_next_week(world: World) -> None:
    office = post(world)
    _week_of_shifts(office, world)

    result = services.copy_week(actor=world.user("head1"), post=office, week=dt.date(2020, 2, 5))

    assert (len(result.created), result.skipped) == (14, 0)
    copied = Shift.objects.filter(start__gte=at(10, 0)).order_by("start")
    assert [(s.start, s.end) for s in copied[:2]] == [
        (at(10, 8), at(10, 20)),
        (at(10, 20), at(11, 8)),
    ]
    assert copied[0].leader == world.user("leader")
    assert list(copied[1].members.values_list("name", flat=True)) == ["赵卫东"]
    assert selectors.coverage(office, dt.date(2020, 2, 11), dt.date(2020, 2, 16)).gaps == []


def test_repeating_a_week_twice_adds_nothing(world: World) -> None:
    office = post(world)
    _week_of_shifts(office, world)
    services.copy_week(actor=None, post=office, week=MONDAY)

    again = services.copy_week(actor=None, post=office, week=MONDAY)

    assert (len(again.created), again.skipped) == (0, 14)
    assert Shift.objects.filter(post=office).count() == 28
    assert Shift.objects.count() == 30  # and the world's two


def test_a_clash_in_the_next_week_refuses_the_whole_copy(world: World) -> None:
    office = post(world)
    _week_of_shifts(office, world)
    shift(post(world, "东门卡口"), at(12, 10), at(12, 12), world.user("gate1"))
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.copy_week(actor=None, post=office, week=MONDAY)

    assert errors(excinfo) == {
        "week": [
            "The shift of 2020-02-12 08:00–20:00: gate1 is already on duty at 东门卡口 from "
            "2020-02-12 10:00–12:00: choose someone else or change that shift first."
        ]
    }
    assert table_counts() == before


def test_an_empty_week_has_nothing_to_repeat(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.copy_week(actor=None, post=post(world), week=MONDAY)

    assert errors(excinfo) == {"week": ["The week of 2020-02-03 has no shifts to repeat."]}


# ---------------------------------------------------------------------------------------------
# Swaps


def test_a_swap_replaces_the_member_and_is_recorded(world: World) -> None:
    made = shift(post(world), at(5, 16), at(6, 0), world.user("worker11"), "赵卫东")
    leaving = made.members.get(user=world.user("worker11"))

    swap = services.swap_shift(
        actor=world.user("head1"),
        shift=made,
        from_member=leaving,
        to_user=world.user("gate1"),
        reason=" 家中有事 ",
    )

    assert (
        swap.from_name,
        swap.from_user,
        swap.to_name,
        swap.to_user,
        swap.reason,
        swap.recorded_by,
        swap.recorded_at,
    ) == (
        "worker11",
        world.user("worker11"),
        "gate1",
        world.user("gate1"),
        "家中有事",
        world.user("head1"),
        NOW,
    )
    assert sorted(made.members.values_list("name", flat=True)) == ["gate1", "赵卫东"]
    trail = leaving.history.order_by("history_date", "history_id")
    assert [(h.name, h.history_user) for h in trail] == [
        ("worker11", None),
        ("gate1", world.user("head1")),
    ]


def test_a_swap_to_someone_without_an_account(world: World) -> None:
    made = shift(post(world), at(5, 16), at(6, 0), world.user("worker11"))

    swap = services.swap_shift(
        actor=None,
        shift=made,
        from_member=made.members.get(),
        to_name="钱多多",
        to_phone="13900002222",
        reason="病假",
    )

    assert (swap.to_name, swap.to_user) == ("钱多多", None)
    assert list(made.members.values_list("user", "name", "phone")) == [
        (None, "钱多多", "13900002222")
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"to_user": "gate1", "reason": ""},
            {"reason": ["Say why, e.g. 'sick leave' or 'family matter'."]},
        ),
        (
            {"reason": "病假"},
            {"to_user": ["Say who takes over: a user, or a name and a mobile number."]},
        ),
        (
            {"to_user": "worker11", "reason": "病假"},
            {"to_user": ["worker11 is on this shift already."]},
        ),
        (
            {"to_user": "office", "reason": "病假"},
            {
                "to_user": [
                    "office is already on duty at 东门卡口 from 2020-02-05 20:00–2020-02-06 "
                    "08:00: choose someone else or change that shift first."
                ]
            },
        ),
    ],
)
def test_a_swap_is_checked(
    world: World, kwargs: dict[str, str], expected: dict[str, list[str]]
) -> None:
    made = shift(post(world), at(5, 16), at(6, 0), world.user("worker11"))
    shift(post(world, "东门卡口"), at(5, 20), at(6, 8), world.user("office"))
    to_user = world.user(kwargs["to_user"]) if "to_user" in kwargs else None
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.swap_shift(
            actor=None,
            shift=made,
            from_member=made.members.get(),
            to_user=to_user,
            reason=kwargs["reason"],
        )

    assert errors(excinfo) == expected
    assert table_counts() == before


def test_a_past_shift_cannot_be_swapped(world: World) -> None:
    past = world.duty.shift1  # 2020-02-04 08:00–20:00 at 一站东门卡口
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.swap_shift(
            actor=world.user("head1"),
            shift=past,
            from_member=past.members.get(user=world.user("worker11")),
            to_user=world.user("gate1"),
            reason="补记",
        )

    assert errors(excinfo) == {
        "shift": ["This shift ended at 2020-02-04 20:00: a past shift stays as it was."]
    }
    assert ShiftSwap.objects.count() == 0
    assert table_counts() == before


def test_a_member_of_another_shift_cannot_be_swapped(world: World) -> None:
    office = post(world)
    one = shift(office, at(5, 16), at(6, 0), world.user("worker11"))
    other = shift(office, at(6, 8), at(6, 16), world.user("gate1"))

    with pytest.raises(ValidationError) as excinfo:
        services.swap_shift(
            actor=None, shift=one, from_member=other.members.get(), to_name="钱多多", reason="病假"
        )

    assert errors(excinfo) == {"from_member": ["Choose someone who is on this shift."]}


# ---------------------------------------------------------------------------------------------
# The duty rules


def test_the_office_sets_the_duty_rules(world: World) -> None:
    rules = services.update_duty_rules(
        actor=world.user("office"), alert_before_minutes=60, gap_days_ahead=7
    )

    assert (rules.alert_before_minutes, rules.gap_days_ahead) == (60, 7)
    assert selectors.current_rules().alert_before_minutes == 60
    assert rules.history.get().history_user == world.user("office")


def test_a_unit_head_may_not_set_the_duty_rules(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.update_duty_rules(actor=world.user("head1"), alert_before_minutes=60)

    assert not DutyRules.objects.exists()
    assert selectors.current_rules().alert_before_minutes == 120


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"alert_before_minutes": -1}, "alert_before_minutes"),
        ({"alert_before_minutes": 1441}, "alert_before_minutes"),
        ({"gap_days_ahead": 0}, "gap_days_ahead"),
        ({"gap_days_ahead": 63}, "gap_days_ahead"),
    ],
)
def test_the_duty_rules_are_checked(world: World, values: dict[str, int], field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.update_duty_rules(actor=world.user("office"), **values)

    assert list(errors(excinfo)) == [field]


# ---------------------------------------------------------------------------------------------
# Pioneer posts


def test_a_pioneer_post_comes_with_its_duty_post(world: World) -> None:
    pioneer = services.create_pioneer_post(
        actor=world.user("head1"),
        name="疫情防控党员先锋岗",
        duty="卡口值守、人员车辆登记消毒",
        unit=world.unit1,
        members=[
            PioneerMemberIn(person=world.person11, is_leader=True),
            PioneerMemberIn(user=world.user("worker11")),
        ],
    )

    duty_post = pioneer.post
    assert duty_post is not None
    assert (duty_post.kind, duty_post.name, duty_post.unit, duty_post.round_the_clock) == (
        DutyPost.Kind.PIONEER,
        "疫情防控党员先锋岗",
        world.unit1,
        False,
    )
    assert list(pioneer.members.order_by("-is_leader", "pk").values_list("name", "is_leader")) == [
        ("张建国", True),
        ("worker11", False),
    ]
    assert list(
        TimelineEvent.objects.filter(person=world.person11, kind="pioneer_post")
        .order_by("pk")
        .values_list("summary", "actor")
    ) == [
        ("Joined the pioneer post 一站疫情防控党员先锋岗", None),  # the world's
        ("Joined the pioneer post 疫情防控党员先锋岗", world.user("head1").pk),
    ]


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([], {"members": ["Add the post's members: party members from the register, or users."]}),
        ([("person11", False)], {"leader": ["Choose one member as the post's leader."]}),
        (
            [("person11", True), ("person12", True)],
            {"leader": ["Choose one member as the post's leader."]},
        ),
        ([("person21", True)], {"members": ["No such person in your register: search again."]}),
        ([("person11", True), ("person11", False)], {"members": ["张建国 is listed twice."]}),
    ],
)
def test_the_members_of_a_pioneer_post_are_checked(
    world: World, members: list[tuple[str, bool]], expected: dict[str, list[str]]
) -> None:
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.create_pioneer_post(
            actor=world.user("head1"),
            name="先锋岗",
            duty="值守",
            unit=world.unit1,
            members=[
                PioneerMemberIn(person=getattr(world, name), is_leader=leader)
                for name, leader in members
            ],
        )

    assert errors(excinfo) == expected
    assert table_counts() == before


def test_the_members_change_with_a_new_leader(world: World) -> None:
    pioneer = services.create_pioneer_post(
        actor=None,
        name="先锋岗",
        duty="值守",
        unit=world.unit1,
        members=[
            PioneerMemberIn(person=world.person11, is_leader=True),
            PioneerMemberIn(person=world.person12),
        ],
    )

    services.set_members(
        actor=world.user("head1"),
        pioneer=pioneer,
        members=[
            PioneerMemberIn(person=world.person12, is_leader=True),
            PioneerMemberIn(user=world.user("gate1")),
        ],
    )

    assert list(
        PioneerMember.objects.filter(pioneer=pioneer)
        .order_by("-is_leader", "name")
        .values_list("name", "is_leader")
    ) == [("李秀英", True), ("gate1", False)]
    assert list(
        TimelineEvent.objects.filter(kind="pioneer_post")
        .order_by("person__name", "pk")
        .values_list("person__name", "summary")
    ) == [
        ("张建国", "Joined the pioneer post 一站疫情防控党员先锋岗"),  # the world's
        ("张建国", "Joined the pioneer post 先锋岗"),
        ("张建国", "Left the pioneer post 先锋岗"),
        ("李秀英", "Joined the pioneer post 先锋岗"),
        ("王立新", "Joined the pioneer post 二站党员先锋岗"),  # the world's
    ]


def test_a_pioneer_post_is_deactivated_with_its_duty_post(world: World) -> None:
    pioneer = services.create_pioneer_post(
        actor=None,
        name="先锋岗",
        duty="值守",
        unit=world.unit1,
        members=[PioneerMemberIn(person=world.person11, is_leader=True)],
    )

    services.update_pioneer_post(
        actor=world.user("head1"), pioneer=pioneer, is_active=False, name="党员先锋岗"
    )

    pioneer.refresh_from_db()
    assert (pioneer.is_active, pioneer.name) == (False, "党员先锋岗")
    assert pioneer.post is not None
    assert (pioneer.post.is_active, pioneer.post.name) == (False, "党员先锋岗")


def test_an_outsider_cannot_change_a_pioneer_post(world: World) -> None:
    pioneer = services.create_pioneer_post(
        actor=None,
        name="先锋岗",
        duty="值守",
        unit=world.unit1,
        members=[PioneerMemberIn(person=world.person11, is_leader=True)],
    )
    before = table_counts()

    with pytest.raises(PermissionDenied):
        services.set_members(
            actor=world.user("head2"),
            pioneer=pioneer,
            members=[PioneerMemberIn(person=world.person21, is_leader=True)],
        )

    assert table_counts() == before
    assert PioneerPost.objects.get(pk=pioneer.pk).members.get().name == "张建国"


# ---------------------------------------------------------------------------------------------
# The day's duty for the daily report


def test_shifts_on_a_day_per_unit(world: World) -> None:
    office = post(world, unit=world.branch)
    gate = post(world, "东门卡口")
    shift(office, at(4, 20), at(5, 8), "甲", leader=world.user("leader"))
    shift(gate, at(5, 8), at(5, 20), world.user("worker11"), "乙")
    shift(gate, at(5, 20), at(6, 8), "甲")
    shift(gate, at(6, 8), at(6, 20), "丙")
    cancelled = shift(gate, at(5, 10), at(5, 11), "丁")
    services.cancel_shift(actor=None, shift=cancelled)

    found = selectors.shifts_on(dt.date(2020, 2, 5), [world.branch, world.unit1, world.unit2])

    assert found == {
        world.branch.pk: selectors.DutyDay(
            shifts=3, names=("甲", "worker11", "乙"), leaders=("leader",)
        ),
        world.unit1.pk: selectors.DutyDay(shifts=2, names=("worker11", "乙", "甲"), leaders=()),
        world.unit2.pk: selectors.DutyDay(shifts=0, names=(), leaders=()),
    }
