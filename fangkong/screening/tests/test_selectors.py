"""The risk level of a region on a day: edges of periods, parents, changes of level."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.screening import services
from fangkong.screening.models import Region, RiskLevel
from fangkong.screening.selectors import risk_areas_current, risk_level_on

D = dt.date


def _set(code: str, level: str, start: dt.date, end: dt.date | None = None) -> None:
    services.set_risk_level(
        actor=None, region=Region.objects.get(code=code), level=level, start=start, end=end
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2020, 1, 31), None),  # the day before the start
        (D(2020, 2, 1), RiskLevel.HIGH),  # the start day
        (D(2020, 2, 14), RiskLevel.HIGH),  # the end day
        (D(2020, 2, 15), None),  # the day after the end
    ],
    ids=["day-before", "start", "end", "day-after"],
)
def test_a_period_holds_from_its_start_day_to_its_end_day_included(
    regions: None, day: dt.date, expected: RiskLevel | None
) -> None:
    _set("620723", "high", D(2020, 2, 1), D(2020, 2, 14))

    assert risk_level_on("620723", day) == expected


def test_an_open_period_holds_from_its_start_on(regions: None) -> None:
    _set("620723", "medium", D(2020, 2, 1))

    assert risk_level_on("620723", D(2020, 1, 31)) is None
    assert risk_level_on("620723", D(2030, 1, 1)) == RiskLevel.MEDIUM


def test_a_province_declared_high_risk_makes_its_counties_high_risk(regions: None) -> None:
    _set("620000", "high", D(2020, 2, 1), D(2020, 2, 14))

    assert risk_level_on("620723", D(2020, 2, 1)) == RiskLevel.HIGH
    assert risk_level_on("620700", D(2020, 2, 14)) == RiskLevel.HIGH
    assert risk_level_on("620723", D(2020, 2, 15)) is None
    assert risk_level_on("420102", D(2020, 2, 1)) is None  # another province


def test_the_most_severe_of_a_county_and_its_parents_wins(regions: None) -> None:
    _set("620000", "low", D(2020, 2, 1))
    _set("620700", "high", D(2020, 2, 5), D(2020, 2, 9))
    _set("620723", "medium", D(2020, 2, 3))

    assert risk_level_on("620723", D(2020, 2, 2)) == RiskLevel.LOW
    assert risk_level_on("620723", D(2020, 2, 3)) == RiskLevel.MEDIUM
    assert risk_level_on("620723", D(2020, 2, 5)) == RiskLevel.HIGH
    assert risk_level_on("620723", D(2020, 2, 10)) == RiskLevel.MEDIUM
    assert risk_level_on("620702", D(2020, 2, 10)) == RiskLevel.LOW  # a sibling county


def test_a_level_changed_between_two_dates_is_answered_for_each(regions: None) -> None:
    _set("420100", "high", D(2020, 1, 23))
    _set("420100", "low", D(2020, 4, 8))

    assert risk_level_on("420102", D(2020, 4, 7)) == RiskLevel.HIGH  # left Wuhan the day before
    assert risk_level_on("420102", D(2020, 4, 8)) == RiskLevel.LOW


def test_the_current_risk_areas_are_those_in_force_most_severe_first(regions: None) -> None:
    _set("620723", "low", D(2020, 2, 1))
    _set("420100", "high", D(2020, 1, 23))
    _set("110105", "medium", D(2020, 2, 1))
    _set("310101", "high", D(2020, 1, 1), D(2020, 1, 31))  # over before the day

    current = risk_areas_current(D(2020, 2, 10))

    assert [(p.region_id, p.level) for p in current] == [
        ("420100", "high"),
        ("110105", "medium"),
        ("620723", "low"),
    ]
