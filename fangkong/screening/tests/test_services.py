"""Setting and ending risk levels: dates validated, periods of a region never overlapping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.core.testing import World
from fangkong.screening import services
from fangkong.screening.models import Region, RiskAreaPeriod, RiskLevel

D = dt.date


@pytest.fixture
def linze(regions: None) -> Region:
    return Region.objects.get(code="620723")


def _periods(region: Region) -> list[tuple[str, dt.date, dt.date | None]]:
    return [
        (p.level, p.start, p.end)
        for p in RiskAreaPeriod.objects.filter(region=region).order_by("start")
    ]


def test_the_office_sets_a_level_and_is_recorded_as_its_author(world: World, linze: Region) -> None:
    office = world.user("office")

    period = services.set_risk_level(
        actor=office, region=linze, level=RiskLevel.HIGH, start=D(2020, 2, 1), note=" 通报 "
    )

    assert (period.level, period.start, period.end, period.note) == (
        "high",
        D(2020, 2, 1),
        None,
        "通报",
    )
    assert period.set_by == office
    assert period.history.get().history_user == office


def test_a_new_period_closes_the_open_one_on_the_day_before(world: World, linze: Region) -> None:
    office = world.user("office")
    services.set_risk_level(actor=office, region=linze, level="high", start=D(2020, 2, 1))

    services.set_risk_level(actor=office, region=linze, level="medium", start=D(2020, 2, 15))

    assert _periods(linze) == [
        ("high", D(2020, 2, 1), D(2020, 2, 14)),
        ("medium", D(2020, 2, 15), None),
    ]


def test_a_new_period_starting_with_the_open_one_is_refused(world: World, linze: Region) -> None:
    office = world.user("office")
    services.set_risk_level(actor=office, region=linze, level="high", start=D(2020, 2, 1))

    with pytest.raises(ValidationError) as error:
        services.set_risk_level(actor=office, region=linze, level="low", start=D(2020, 2, 1))

    assert error.value.message_dict == {
        "start": [
            "临泽县 already has a period from 2020-02-01 to today that overlaps this one. "
            "End or change that period first."
        ]
    }
    assert _periods(linze) == [("high", D(2020, 2, 1), None)]


def test_a_period_overlapping_a_closed_one_is_refused(world: World, linze: Region) -> None:
    office = world.user("office")
    services.set_risk_level(
        actor=office, region=linze, level="high", start=D(2020, 2, 1), end=D(2020, 2, 10)
    )

    with pytest.raises(ValidationError) as error:
        services.set_risk_level(
            actor=office, region=linze, level="low", start=D(2020, 1, 20), end=D(2020, 2, 1)
        )

    assert error.value.message_dict == {
        "start": [
            "临泽县 already has a period from 2020-02-01 to 2020-02-10 that overlaps this one. "
            "End or change that period first."
        ]
    }


def test_an_open_period_before_a_closed_one_is_refused(world: World, linze: Region) -> None:
    office = world.user("office")
    services.set_risk_level(
        actor=office, region=linze, level="high", start=D(2020, 2, 1), end=D(2020, 2, 10)
    )

    with pytest.raises(ValidationError):
        services.set_risk_level(actor=office, region=linze, level="low", start=D(2020, 1, 1))

    assert _periods(linze) == [("high", D(2020, 2, 1), D(2020, 2, 10))]


def test_adjacent_periods_are_accepted(world: World, linze: Region) -> None:
    office = world.user("office")
    services.set_risk_level(
        actor=office, region=linze, level="high", start=D(2020, 2, 1), end=D(2020, 2, 10)
    )

    services.set_risk_level(actor=office, region=linze, level="low", start=D(2020, 2, 11))

    assert _periods(linze) == [
        ("high", D(2020, 2, 1), D(2020, 2, 10)),
        ("low", D(2020, 2, 11), None),
    ]


def test_an_end_before_the_start_is_refused(world: World, linze: Region) -> None:
    with pytest.raises(ValidationError) as error:
        services.set_risk_level(
            actor=world.user("office"),
            region=linze,
            level="high",
            start=D(2020, 2, 10),
            end=D(2020, 2, 9),
        )

    assert error.value.message_dict == {"end": ["The end date cannot be before the start date."]}
    assert _periods(linze) == []


def test_a_one_day_period_is_accepted(world: World, linze: Region) -> None:
    services.set_risk_level(
        actor=None, region=linze, level="medium", start=D(2020, 2, 10), end=D(2020, 2, 10)
    )

    assert _periods(linze) == [("medium", D(2020, 2, 10), D(2020, 2, 10))]


def test_an_unknown_level_is_refused(world: World, linze: Region) -> None:
    with pytest.raises(ValidationError) as error:
        services.set_risk_level(actor=None, region=linze, level="extreme", start=D(2020, 2, 1))

    assert error.value.message_dict == {"level": ["Choose high, medium or low risk."]}


@pytest.mark.parametrize("username", ["head1", "leader", "worker11", "auditor1"])
def test_only_the_office_and_the_administrator_may_set_a_level(
    world: World, linze: Region, username: str
) -> None:
    with pytest.raises(PermissionDenied):
        services.set_risk_level(
            actor=world.user(username), region=linze, level="high", start=D(2020, 2, 1)
        )

    assert _periods(linze) == []


def test_the_open_period_ends_on_the_given_day(world: World, linze: Region) -> None:
    office = world.user("office")
    services.set_risk_level(actor=office, region=linze, level="high", start=D(2020, 2, 1))

    services.end_risk_period(actor=office, region=linze, end=D(2020, 2, 20))

    assert _periods(linze) == [("high", D(2020, 2, 1), D(2020, 2, 20))]


def test_a_period_cannot_end_before_it_started(world: World, linze: Region) -> None:
    office = world.user("office")
    services.set_risk_level(actor=office, region=linze, level="high", start=D(2020, 2, 1))

    with pytest.raises(ValidationError) as error:
        services.end_risk_period(actor=office, region=linze, end=D(2020, 1, 31))

    assert error.value.message_dict == {
        "end": ["The period started on 2020-02-01: it cannot end before."]
    }


def test_ending_without_an_open_period_is_refused(world: World, linze: Region) -> None:
    with pytest.raises(ValidationError) as error:
        services.end_risk_period(actor=world.user("office"), region=linze, end=D(2020, 2, 1))

    assert error.value.message_dict == {"end": ["临泽县 (620723) has no open period."]}


def test_a_unit_head_may_not_end_a_period(world: World, linze: Region) -> None:
    services.set_risk_level(actor=None, region=linze, level="high", start=D(2020, 2, 1))

    with pytest.raises(PermissionDenied):
        services.end_risk_period(actor=world.user("head1"), region=linze, end=D(2020, 2, 5))

    assert _periods(linze) == [("high", D(2020, 2, 1), None)]
