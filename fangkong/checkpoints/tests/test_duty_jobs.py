"""The scheduled job ``duty.uncovered_shifts``: a gap of a round-the-clock post, or a shift
with nobody on it, starting within ``alert_before_minutes`` (120 by default) raises one
DUTY_GAP alert, however often, late or repeatedly the scheduler runs.

The office post of LZ-01 is covered on 2020-02-05 from 00:00 to 22:00; nobody is on it from
22:00 (the night shift starts only at 2020-02-06 00:00). The world's round-the-clock post
一站东门卡口 (see :mod:`fangkong.checkpoints.testing_duty`) is staffed here from the end of its
shift, 2020-02-04 20:00, to 2020-02-08 20:00, so that the gaps are the office's alone — and
the world's post is alerted like any other when it is left uncovered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.utils import translation

from fangkong.alerts.models import Alert, AlertKind
from fangkong.checkpoints.models import DutyPost, ShiftMember
from fangkong.checkpoints.services import duty as services
from fangkong.core import jobs
from fangkong.core.testing import World

from .duty_kit import at, post, shift

JOB = "duty.uncovered_shifts"
GAP_KEY_TEMPLATE = "duty_gap:{pk}:2020-02-05T22:00:00+08:00"


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with translation.override("en"), time_machine.travel(at(5, 12), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(world: World) -> World:
    """The world, with 一站东门卡口 covered around the clock through 2020-02-08 20:00."""
    for day in (4, 5, 6, 7):
        shift(world.duty.post1, at(day, 20), at(day + 1, 20), "钱")
    return world


@pytest.fixture
def office(world: World) -> DutyPost:
    office = post(world)
    shift(office, at(5, 0), at(5, 8), "甲")
    shift(office, at(5, 8), at(5, 22), "乙")
    shift(office, at(6, 0), at(6, 23, 59), "丙")
    shift(office, at(6, 23, 59), at(7, 23, 59), "丁")
    return office


def run(clock: Any, hour: int, minute: int = 0, day: int = 5) -> int:
    now = at(day, hour, minute)
    clock.move_to(now)
    return jobs.run_due(now, names=[JOB])[JOB]


def test_the_job_is_registered() -> None:
    assert JOB in jobs.registered()


def test_a_gap_raises_one_alert_two_hours_before_it_starts(
    world: World, office: DutyPost, clock: Any
) -> None:
    early = run(clock, 19, 59)
    due = run(clock, 20, 0)
    again = run(clock, 20, 1)
    late = run(clock, 23, 0)

    assert (early, due, again, late) == (0, 1, 0, 0)
    alert = Alert.objects.get(kind=AlertKind.DUTY_GAP)
    assert (alert.key, alert.unit, alert.summary, alert.raised_at) == (
        GAP_KEY_TEMPLATE.format(pk=office.pk),
        world.unit1,
        "联防联控办公室: nobody on duty from 2020-02-05 22:00 to 2020-02-06 00:00",
        at(5, 20),
    )
    assert alert.url == f"/checkpoints/duty/posts/{office.pk}/?week=2020-02-03"
    assert alert.data == {"start": "2020-02-05T22:00:00+08:00", "end": "2020-02-06T00:00:00+08:00"}


def test_a_scheduler_that_ran_late_still_raises_it_once(
    world: World, office: DutyPost, clock: Any
) -> None:
    assert run(clock, 22, 30) == 1
    assert run(clock, 23, 30) == 0
    assert Alert.objects.filter(kind=AlertKind.DUTY_GAP).count() == 1


def test_a_gap_already_over_is_not_alerted(world: World, office: DutyPost, clock: Any) -> None:
    assert run(clock, 0, 30, day=6) == 0
    assert not Alert.objects.filter(kind=AlertKind.DUTY_GAP).exists()


def test_a_one_minute_gap_is_alerted(world: World, office: DutyPost, clock: Any) -> None:
    services.update_shift(
        actor=None,
        shift=office.shifts.get(start=at(6, 0)),
        start=at(6, 0),
        end=at(6, 23, 58),
        members=[services.MemberIn(name="丙")],
    )
    run(clock, 21, 0)

    found = run(clock, 22, 0, day=6)

    assert found == 1
    newest = Alert.objects.filter(kind=AlertKind.DUTY_GAP).order_by("key").last()
    assert newest is not None
    assert newest.summary == (
        "联防联控办公室: nobody on duty from 2020-02-06 23:58 to 2020-02-06 23:59"
    )


def test_a_covered_post_raises_nothing(world: World, clock: Any) -> None:
    covered = post(world)
    shift(covered, at(4, 0), at(5, 0), "甲")
    shift(covered, at(5, 0), at(6, 0), "乙")
    shift(covered, at(6, 0), at(7, 0), "丙")

    assert run(clock, 20, 0) == 0


def test_the_minutes_before_come_from_the_rules(world: World, office: DutyPost, clock: Any) -> None:
    services.update_duty_rules(actor=None, alert_before_minutes=30)

    assert run(clock, 21, 29) == 0
    assert run(clock, 21, 30) == 1


def test_a_cancelled_shift_opens_a_gap_that_is_alerted(
    world: World, office: DutyPost, clock: Any
) -> None:
    services.cancel_shift(actor=None, shift=office.shifts.get(start=at(5, 8)), reason="改派")

    assert run(clock, 12, 0) == 1
    assert Alert.objects.get(kind=AlertKind.DUTY_GAP).summary == (
        "联防联控办公室: nobody on duty from 2020-02-05 08:00 to 2020-02-06 00:00"
    )


def test_a_shift_with_nobody_on_it_is_alerted_at_any_post(world: World, clock: Any) -> None:
    daytime = post(world, "先锋岗", round_the_clock=False)
    empty = shift(daytime, at(5, 14), at(5, 18), "甲")
    ShiftMember.objects.filter(shift=empty).delete()

    assert run(clock, 11, 59) == 0
    assert run(clock, 12, 0) == 1
    alert = Alert.objects.get(kind=AlertKind.DUTY_GAP)
    assert (alert.key, alert.summary) == (
        f"duty_gap:{daytime.pk}:2020-02-05T14:00:00+08:00",
        "先锋岗: nobody on duty from 2020-02-05 14:00 to 2020-02-05 18:00",
    )


def test_an_inactive_post_is_not_alerted(world: World, office: DutyPost, clock: Any) -> None:
    services.update_post(actor=None, post=office, is_active=False)

    assert run(clock, 21, 0) == 0


def test_a_post_never_staffed_is_alerted_once_a_day(world: World, clock: Any) -> None:
    empty = post(world, "东门卡口")

    first = run(clock, 12, 0)
    same_day = run(clock, 18, 0)
    next_day = run(clock, 9, 0, day=6)

    assert (first, same_day, next_day) == (1, 0, 1)
    assert sorted(Alert.objects.values_list("key", flat=True)) == [
        f"duty_gap:{empty.pk}:2020-02-04T00:00:00+08:00",
        f"duty_gap:{empty.pk}:2020-02-05T00:00:00+08:00",
    ]


def test_the_worlds_post_left_uncovered_is_alerted(world: World, clock: Any) -> None:
    services.cancel_shift(
        actor=None, shift=world.duty.post1.shifts.get(start=at(5, 20)), reason="改派"
    )

    assert run(clock, 17, 59) == 0
    assert run(clock, 18, 0) == 1
    alert = Alert.objects.get(kind=AlertKind.DUTY_GAP)
    assert (alert.key, alert.unit, alert.summary) == (
        f"duty_gap:{world.duty.post1.pk}:2020-02-05T20:00:00+08:00",
        world.unit1,
        "一站东门卡口: nobody on duty from 2020-02-05 20:00 to 2020-02-06 20:00",
    )
