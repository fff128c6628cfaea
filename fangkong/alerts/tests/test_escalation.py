"""Escalation on the clock: an alert nobody has acknowledged goes to the unit head after 60
minutes and to the office after 240 (the office's rules), once per level however often the
scheduler runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from fangkong.alerts import services
from fangkong.alerts.models import Alert, AlertKind, AlertLevel, AlertRules
from fangkong.core import jobs
from fangkong.core.testing import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
RAISED = dt.datetime(2020, 2, 4, 8, 30, tzinfo=SHANGHAI)


def after(minutes: int, seconds: int = 0) -> dt.datetime:
    return RAISED + dt.timedelta(minutes=minutes, seconds=seconds)


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(RAISED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def alert(world: World) -> Alert:
    raised, _created = services.raise_alert(
        kind=AlertKind.FEVER,
        key="reading:test",
        unit=world.grid11,
        person=world.person11,
        summary="张建国: 38.2 °C",
        at=RAISED,
    )
    return raised


def level_of(alert: Alert) -> tuple[int, dt.datetime | None]:
    alert.refresh_from_db()
    return alert.level, alert.escalated_at


def test_an_alert_unacknowledged_for_60_minutes_goes_to_the_unit_head(alert: Alert) -> None:
    assert services.escalate_due(now=after(59, 59)) == 0
    assert level_of(alert) == (AlertLevel.GRID, None)

    assert services.escalate_due(now=after(60)) == 1
    assert level_of(alert) == (AlertLevel.UNIT, after(60))


def test_after_240_minutes_it_goes_to_the_office(alert: Alert) -> None:
    services.escalate_due(now=after(60))

    assert services.escalate_due(now=after(239, 59)) == 0
    assert level_of(alert) == (AlertLevel.UNIT, after(60))
    assert services.escalate_due(now=after(240)) == 1
    assert level_of(alert) == (AlertLevel.OFFICE, after(240))


def test_a_scheduler_down_for_hours_sends_the_alert_straight_to_the_office(alert: Alert) -> None:
    assert services.escalate_due(now=after(300)) == 1
    assert level_of(alert) == (AlertLevel.OFFICE, after(300))


def test_running_twice_escalates_once_and_keeps_the_first_time(alert: Alert) -> None:
    first = services.escalate_due(now=after(60))
    second = services.escalate_due(now=after(60))
    third = services.escalate_due(now=after(61))

    assert (first, second, third) == (1, 0, 0)
    assert level_of(alert) == (AlertLevel.UNIT, after(60))


def test_an_acknowledged_alert_does_not_escalate(alert: Alert, world: World, clock: Any) -> None:
    clock.move_to(after(30))
    services.acknowledge_alert(actor=world.user("worker11"), alert=alert, note="正在复测")

    assert services.escalate_due(now=after(300)) == 0
    assert level_of(alert) == (AlertLevel.GRID, None)


def test_an_alert_acknowledged_at_the_unit_head_stays_there(
    alert: Alert, world: World, clock: Any
) -> None:
    services.escalate_due(now=after(60))
    clock.move_to(after(90))
    services.acknowledge_alert(actor=world.user("head1"), alert=alert)

    assert services.escalate_due(now=after(300)) == 0
    assert level_of(alert) == (AlertLevel.UNIT, after(60))


def test_a_resolved_alert_does_not_escalate(alert: Alert, world: World, clock: Any) -> None:
    clock.move_to(after(10))
    services.resolve_alert(actor=world.user("worker11"), alert=alert, note="复测36.8 °C")

    assert services.escalate_due(now=after(300)) == 0
    assert level_of(alert) == (AlertLevel.GRID, None)


def test_the_office_sets_the_minutes(alert: Alert, world: World) -> None:
    services.update_rules(
        actor=world.user("office"), escalate_to_unit_minutes=15, escalate_to_office_minutes=45
    )

    assert services.escalate_due(now=after(14, 59)) == 0
    assert services.escalate_due(now=after(15)) == 1
    assert services.escalate_due(now=after(45)) == 1
    assert level_of(alert) == (AlertLevel.OFFICE, after(45))


def test_the_office_is_not_reached_before_the_unit_head(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.update_rules(
            actor=world.user("office"), escalate_to_unit_minutes=90, escalate_to_office_minutes=60
        )

    assert excinfo.value.message_dict == {
        "escalate_to_office_minutes": ["Escalate to the office no sooner than to the unit head."]
    }
    assert not AlertRules.objects.exists()


def test_the_scheduler_escalates_through_its_registered_job(alert: Alert, clock: Any) -> None:
    clock.move_to(after(60))
    first = jobs.run_due(after(60), names=["alerts.escalate"])
    clock.move_to(after(61))
    second = jobs.run_due(after(61), names=["alerts.escalate"])

    assert (first, second) == ({"alerts.escalate": 1}, {"alerts.escalate": 0})
    assert level_of(alert) == (AlertLevel.UNIT, after(60))


def test_only_alerts_old_enough_move(world: World, alert: Alert) -> None:
    younger, _created = services.raise_alert(
        kind=AlertKind.MISSED_CHECK,
        key="missed_check:test",
        unit=world.grid12,
        summary="李秀英: no Morning temperature on 2020-02-04",
        at=after(30),
    )

    assert services.escalate_due(now=after(60)) == 1

    assert level_of(alert)[0] == AlertLevel.UNIT
    assert level_of(younger) == (AlertLevel.GRID, None)
    assert services.escalate_due(now=after(90)) == 1
    assert level_of(younger) == (AlertLevel.UNIT, after(90))
