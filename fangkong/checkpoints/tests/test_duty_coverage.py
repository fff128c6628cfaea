"""The coverage of a round-the-clock post: the union of its shifts over each day's 24 hours
and the gaps — first as the pure function of intervals, then over the shifts in the
database (cancelled shifts and shifts with nobody on them do not count)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.utils import translation

from fangkong.checkpoints.models import Shift, ShiftMember
from fangkong.checkpoints.selectors.duty import coverage, find_gaps, split_by_day
from fangkong.checkpoints.services import duty as services
from fangkong.core.testing import World

from .duty_kit import MONDAY, NOW, at, post, shift


@pytest.fixture(autouse=True)
def _english_at_now() -> Iterator[None]:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


DAY_START, DAY_END = at(5, 0), at(6, 0)


# ---------------------------------------------------------------------------------------------
# The pure function


def test_three_eight_hour_shifts_cover_a_day() -> None:
    shifts = [(at(5, 0), at(5, 8)), (at(5, 8), at(5, 16)), (at(5, 16), at(6, 0))]

    assert find_gaps(shifts, DAY_START, DAY_END) == []


def test_shifts_crossing_midnight_cover_both_days() -> None:
    night_before = (at(4, 20), at(5, 8))  # 20:00 the day before to 08:00
    day = (at(5, 8), at(5, 20))
    night = (at(5, 20), at(6, 8))  # 20:00 to 08:00 the next day

    assert find_gaps([night, day, night_before], DAY_START, DAY_END) == []


def test_a_night_shift_crossing_midnight_leaves_the_evening_uncovered() -> None:
    shifts = [(at(4, 22), at(5, 6)), (at(5, 6), at(5, 18))]

    assert find_gaps(shifts, DAY_START, DAY_END) == [(at(5, 18), at(6, 0))]


def test_overlapping_shifts_count_once() -> None:
    shifts = [
        (at(5, 0), at(5, 9)),
        (at(5, 8), at(5, 17)),  # the handover 08:00–09:00 overlaps
        (at(5, 8), at(5, 12)),  # inside another shift
        (at(5, 16), at(6, 1)),
    ]

    assert find_gaps(shifts, DAY_START, DAY_END) == []


def test_a_one_minute_gap_is_found() -> None:
    shifts = [(at(5, 0), at(5, 12)), (at(5, 12, 1), at(6, 0))]

    assert find_gaps(shifts, DAY_START, DAY_END) == [(at(5, 12), at(5, 12, 1))]


def test_a_day_without_shifts_is_one_gap() -> None:
    assert find_gaps([], DAY_START, DAY_END) == [(DAY_START, DAY_END)]


def test_gaps_at_both_ends_and_between_in_order() -> None:
    shifts = [(at(5, 14), at(5, 18)), (at(5, 2), at(5, 6))]

    assert find_gaps(shifts, DAY_START, DAY_END) == [
        (at(5, 0), at(5, 2)),
        (at(5, 6), at(5, 14)),
        (at(5, 18), at(6, 0)),
    ]


def test_a_week_with_full_coverage_has_no_gap() -> None:
    shifts = []
    for day in range(3, 10):  # 2020-02-03 to 2020-02-09: 08:00–20:00 and 20:00–08:00
        shifts += [(at(day, 8), at(day, 20)), (at(day, 20), at(day + 1, 8))]
    shifts.append((at(2, 20), at(3, 8)))  # the Sunday night before the week

    assert find_gaps(shifts, at(3, 0), at(10, 0)) == []


def test_a_gap_across_midnight_is_split_by_day() -> None:
    gaps = [(at(5, 22), at(6, 2))]

    assert split_by_day(gaps) == {
        dt.date(2020, 2, 5): [(at(5, 22), at(6, 0))],
        dt.date(2020, 2, 6): [(at(6, 0), at(6, 2))],
    }


# ---------------------------------------------------------------------------------------------
# Over the shifts of a post


def test_the_coverage_of_a_post_counts_its_shifts_with_someone_on_them(world: World) -> None:
    office = post(world)
    shift(office, at(4, 20), at(5, 8), "甲")
    shift(office, at(5, 8), at(5, 16), "乙")
    cancelled = shift(office, at(5, 16), at(6, 0), "丙")
    services.cancel_shift(actor=None, shift=cancelled, reason="改派")
    empty = shift(office, at(5, 16), at(5, 20), "丁")
    ShiftMember.objects.filter(shift=empty).delete()  # nobody left on it
    shift(office, at(5, 20), at(6, 8), "戊")

    found = coverage(office, dt.date(2020, 2, 5), dt.date(2020, 2, 5))

    assert found.gaps == [(at(5, 16), at(5, 20))]
    assert found.on(dt.date(2020, 2, 5)) == [(at(5, 16), at(5, 20))]
    assert not found.covered


def test_a_post_not_staffed_around_the_clock_has_no_gaps(world: World) -> None:
    daytime = post(world, "先锋岗", round_the_clock=False)
    shift(daytime, at(5, 8), at(5, 12), "甲")

    assert coverage(daytime, MONDAY, MONDAY + dt.timedelta(days=6)).gaps == []


def test_the_gaps_of_a_post_in_another_posts_shifts_are_not_mixed(world: World) -> None:
    office = post(world)
    other = post(world, "东门卡口")
    shift(other, at(5, 0), at(6, 0), "甲")
    shift(office, at(5, 0), at(5, 23, 59), "乙")

    assert coverage(office, dt.date(2020, 2, 5), dt.date(2020, 2, 5)).gaps == [
        (at(5, 23, 59), at(6, 0))
    ]
    assert Shift.objects.filter(post__in=[office, other]).count() == 2
    assert Shift.objects.count() == 4  # and the world's two
