"""The duty demo: three weeks of the roster (the week ending today and the two ahead) over the demo organisation, with one deliberate gap
in the coming week, one swap, and the six pioneer posts of the article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.utils import translation

from fangkong.checkpoints.demo_duty import seed_duty_demo
from fangkong.checkpoints.models import DutyPost, PioneerPost, Shift, ShiftSwap
from fangkong.checkpoints.selectors import duty as selectors
from fangkong.core.scoping import Operator
from fangkong.org import demo as org_demo

from .duty_kit import at

TODAY = dt.date(2020, 2, 5)


@pytest.fixture(autouse=True)
def _english_at_ten() -> Iterator[None]:
    with translation.override("en"), time_machine.travel(at(5, 10), tick=False):
        yield


@pytest.fixture
def counts(db: None) -> dict[str, int]:
    org_demo.seed_demo(persons=300)
    return seed_duty_demo(today=TODAY)


def test_the_demo_makes_posts_shifts_pioneer_posts_and_a_swap(counts: dict[str, int]) -> None:
    assert counts == {
        "posts": 2,
        "shifts": Shift.objects.count(),
        "pioneer_posts": 6,
        "swaps": 1,
    }
    assert set(DutyPost.objects.values_list("kind", "name")) >= {
        ("office", "联防联控办公室"),
        ("checkpoint", "场区东门卡口"),
        ("pioneer", "疫情防控党员先锋岗"),
    }
    assert PioneerPost.objects.count() == 6
    for pioneer in PioneerPost.objects.all():
        assert pioneer.members.filter(is_leader=True).count() == 1
    swap = ShiftSwap.objects.get()
    assert (swap.from_name, swap.to_name, swap.shift.start) == ("陈丽", "马小军", at(6, 8))


def test_the_office_has_one_gap_in_the_coming_week(counts: dict[str, int]) -> None:
    office = DutyPost.objects.get(name="联防联控办公室")
    gate = DutyPost.objects.get(name="场区东门卡口")

    past = selectors.coverage(office, TODAY - dt.timedelta(days=6), TODAY)
    ahead = selectors.coverage(office, TODAY, TODAY + dt.timedelta(days=14))

    assert past.gaps == []
    assert ahead.gaps == [(at(8, 16), at(9, 0))]
    assert (
        selectors.coverage(gate, TODAY - dt.timedelta(days=6), TODAY + dt.timedelta(days=14)).gaps
        == []
    )
    rows = selectors.roster(Operator(), at(5, 10))
    assert [row.post.name for row in rows if row.gaps] == ["联防联控办公室"]


def test_the_demo_runs_once(counts: dict[str, int]) -> None:
    assert seed_duty_demo(today=TODAY) == {"posts": 0, "shifts": 0, "pioneer_posts": 0, "swaps": 0}
