"""When a place is overdue: the pure rule at its boundary, and the same rule as the SQL the
lists use (the overdue list reads the places only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.checkpoints.models import Disinfection
from fangkong.checkpoints.rules_records import due_at, interval, is_overdue
from fangkong.checkpoints.selectors import records as selectors
from fangkong.core.scoping import Operator

from .records_kit import NOW, RecordsWorld, at, frozen_clock, place, records_world


@pytest.fixture
def rworld(db: None) -> Iterator[RecordsWorld]:
    with frozen_clock():
        yield records_world()


SECOND = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (1, dt.timedelta(hours=24)),
        (2, dt.timedelta(hours=12)),
        (3, dt.timedelta(hours=8)),
        (7, dt.timedelta(seconds=12342, microseconds=857143)),
        (24, dt.timedelta(hours=1)),
    ],
)
def test_the_interval_is_24_hours_divided_by_the_times_a_day(
    times: int, expected: dt.timedelta
) -> None:
    assert interval(times) == expected


@pytest.mark.parametrize("times", [0, 25, -1])
def test_a_frequency_outside_1_to_24_has_no_interval(times: int) -> None:
    with pytest.raises(ValueError, match=f"times a day must be from 1 to 24, not {times}"):
        interval(times)


def test_exactly_at_the_interval_a_place_is_not_overdue_a_second_later_it_is() -> None:
    last = at(5, 8)
    created = at(1, 8)

    def overdue(now: dt.datetime) -> bool:
        return is_overdue(times_per_day=2, last_done_at=last, created_at=created, now=now)

    assert due_at(times_per_day=2, last_done_at=last, created_at=created) == at(5, 20)
    assert overdue(at(5, 20) - SECOND) is False
    assert overdue(at(5, 20)) is False
    assert overdue(at(5, 20) + SECOND) is True


def test_a_place_never_disinfected_counts_from_when_it_was_added() -> None:
    created = at(5, 9, 30)

    assert is_overdue(times_per_day=3, last_done_at=None, created_at=created, now=at(5, 17, 30, 1))
    assert not is_overdue(times_per_day=3, last_done_at=None, created_at=created, now=at(5, 17, 30))
    assert due_at(times_per_day=3, last_done_at=None, created_at=created) == at(5, 17, 30)


@pytest.mark.parametrize(
    ("offset", "overdue"), [(-SECOND, False), (dt.timedelta(0), False), (SECOND, True)]
)
def test_the_database_flags_a_place_overdue_at_the_same_boundary(
    rworld: RecordsWorld, offset: dt.timedelta, overdue: bool
) -> None:
    found = place(rworld, "一站公厕", times_per_day=3, at=at(5, 1, 0, 0))
    # 24 h / 3 = 8 h after 01:00:00, never disinfected: due at 09:00:00
    now = at(5, 9) + offset

    row: Any = selectors.places_for(Operator(), now=now).get(pk=found.pk)

    assert (row.due, row.overdue) == (at(5, 9), overdue)


def test_a_frequency_of_seven_a_day_is_due_to_the_microsecond_in_the_database(
    rworld: RecordsWorld,
) -> None:
    found = place(rworld, "一站公厕", times_per_day=7, at=at(5, 0))
    due = at(5, 0) + interval(7)

    row: Any = selectors.places_for(Operator(), now=due).get(pk=found.pk)
    later: Any = selectors.places_for(Operator(), now=due + dt.timedelta(microseconds=1))

    assert (row.due, row.overdue) == (due, False)
    assert later.get(pk=found.pk).overdue is True


def test_the_overdue_list_puts_the_longest_overdue_first_and_reads_the_places_only(
    rworld: RecordsWorld,
) -> None:
    place(rworld, "一站公厕", times_per_day=4, at=at(5, 1))  # due at 07:00
    place(rworld, "一站东门卡口", times_per_day=2, at=at(4, 20))  # due at 08:00
    place(rworld, "一站仓库", times_per_day=1, at=at(5, 9))  # due tomorrow at 09:00
    # The world's: 一站职工食堂 (twice a day, disinfected on the 4th at 09:00) due on the 4th
    # at 21:00; 二站办公室 (once a day, on the 4th at 10:00) due now: not overdue yet.

    with CaptureQueriesContext(connection) as queries:
        overdue: list[Any] = list(selectors.overdue_places(Operator(), now=NOW))

    assert [(p.name, p.due) for p in overdue] == [
        ("一站职工食堂", at(4, 21)),
        ("一站公厕", at(5, 7)),
        ("一站东门卡口", at(5, 8)),
    ]
    assert len(queries) == 1
    assert f'"{Disinfection._meta.db_table}"' not in queries[0]["sql"]


def test_an_inactive_place_is_never_overdue(rworld: RecordsWorld) -> None:
    from fangkong.checkpoints.services import records as services

    services.deactivate_place(actor=None, place=rworld.place1)

    assert not selectors.overdue_places(Operator(), now=NOW).exists()
    listed: Any = selectors.places_for(Operator(), active=None, now=NOW)
    assert [(p.name, p.is_active, p.overdue) for p in listed] == [
        ("二站办公室", True, False),
        ("一站职工食堂", False, False),
    ]
