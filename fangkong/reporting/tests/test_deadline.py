"""The deadline job: at each day's deadline (13:00 Asia/Shanghai by default) a unit without a
submitted report is missing — exactly once, however often or late the job runs: a lapse
against the unit for the accountability register, and an alert to the unit head unless the
report has arrived meanwhile.

The world's units LZ-01 (head1) and LZ-02 (head2) have their reports of 2020-02-03; the day
here is 2020-02-05."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangkong.alerts.models import Alert, AlertKind, AlertLevel
from fangkong.alerts.selectors import alerts_for
from fangkong.command.models import Lapse
from fangkong.core import jobs
from fangkong.core.models import JobRun
from fangkong.core.testing import World
from fangkong.reporting import services

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2020, 2, 5)
DEADLINE = dt.datetime(2020, 2, 5, 13, 0, tzinfo=SH)
JOB = "reporting.missing_reports"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(DEADLINE - dt.timedelta(hours=2), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _ran_at_eleven(db: None) -> None:
    """The scheduler last ran at 11:00 on the day (it found yesterday's missing reports)."""
    JobRun.objects.create(name=JOB, covered_until=DEADLINE - dt.timedelta(hours=2))


def run(now: dt.datetime) -> int:
    with time_machine.travel(now, tick=False):
        return jobs.run_due(now, names=[JOB])[JOB]


def lapses() -> list[tuple[str, str, str, str | None]]:
    return [
        (
            lapse.kind,
            lapse.unit.code,
            lapse.day.isoformat(),
            lapse.responsible.username if lapse.responsible else None,
        )
        for lapse in Lapse.objects.select_related("unit", "responsible").order_by(
            "day", "unit__code"
        )
    ]


def missing_alerts() -> list[tuple[str, str, int, str]]:
    return [
        (a.unit.code, a.summary, a.level, a.status)
        for a in Alert.objects.filter(kind=AlertKind.MISSING_REPORT)
        .select_related("unit")
        .order_by("raised_at", "unit__code")
    ]


def file(world: World, username: str, at: dt.datetime) -> None:
    unit = world.unit1 if username == "head1" else world.unit2
    with time_machine.travel(at, tick=False):
        services.submit_report(actor=world.user(username), unit=unit, day=DAY, at=at)


def test_the_job_is_registered() -> None:
    assert JOB in jobs.registered()


def test_a_unit_without_a_report_is_missing_exactly_once_when_the_job_runs_twice(
    world: World,
) -> None:
    file(world, "head2", DEADLINE - dt.timedelta(minutes=30))

    first = run(DEADLINE)
    second = run(DEADLINE + dt.timedelta(minutes=1))
    third = run(DEADLINE + dt.timedelta(hours=5))

    assert (first, second, third) == (1, 0, 0)
    assert lapses() == [("missing_report", "LZ-01", "2020-02-05", "head1")]
    assert missing_alerts() == [
        ("LZ-01", "第一作业站: no daily report for 2020-02-05 by 13:00", AlertLevel.UNIT, "open")
    ]
    alert = Alert.objects.get(kind=AlertKind.MISSING_REPORT)
    assert (alert.raised_at, alert.key, alert.data) == (
        DEADLINE,
        f"missing_report:{world.unit1.pk}:2020-02-05",
        {"day": "2020-02-05", "deadline": "2020-02-05T13:00:00+08:00"},
    )


def test_one_second_before_the_deadline_nothing_is_missing_yet(world: World) -> None:
    assert run(DEADLINE - dt.timedelta(seconds=1)) == 0
    assert run(DEADLINE) == 2


def test_a_job_that_runs_late_finds_the_unit_missing_once_and_alerts_only_if_still_missing(
    world: World,
) -> None:
    """The scheduler was down from 11:00 to 15:00; LZ-02 filed late, at 14:00."""
    file(world, "head2", DEADLINE + dt.timedelta(hours=1))

    assert run(DEADLINE + dt.timedelta(hours=2)) == 2
    assert run(DEADLINE + dt.timedelta(hours=3)) == 0

    assert lapses() == [
        ("missing_report", "LZ-01", "2020-02-05", "head1"),
        ("missing_report", "LZ-02", "2020-02-05", "head2"),
    ]
    # LZ-02's report has arrived (late): nobody needs to be told to file it.
    assert [code for code, *_rest in missing_alerts()] == ["LZ-01"]
    late = Lapse.objects.get(unit=world.unit2)
    assert (late.object_type, late.object_id) == ("reporting.unitreport", services_report(world))


def services_report(world: World) -> int:
    from fangkong.reporting.models import UnitReport

    return UnitReport.objects.get(unit=world.unit2, day=DAY).pk


def test_after_days_of_downtime_each_missed_deadline_is_found_once(world: World) -> None:
    assert run(DEADLINE + dt.timedelta(days=2, hours=1)) == 6
    assert run(DEADLINE + dt.timedelta(days=2, hours=2)) == 0

    assert [(code, day) for _kind, code, day, _who in lapses()] == [
        ("LZ-01", "2020-02-05"),
        ("LZ-02", "2020-02-05"),
        ("LZ-01", "2020-02-06"),
        ("LZ-02", "2020-02-06"),
        ("LZ-01", "2020-02-07"),
        ("LZ-02", "2020-02-07"),
    ]


def test_the_first_run_looks_back_to_the_latest_deadline_only(world: World) -> None:
    JobRun.objects.filter(name=JOB).delete()

    assert run(DEADLINE + dt.timedelta(days=3)) == 2
    assert {lapse.day for lapse in Lapse.objects.all()} == {dt.date(2020, 2, 8)}


def test_the_missing_alert_goes_to_the_unit_head_and_the_office_not_to_grid_workers(
    world: World,
) -> None:
    file(world, "head2", DEADLINE - dt.timedelta(hours=1))
    run(DEADLINE)

    def kinds(username: str) -> list[str]:
        return list(alerts_for(world.user(username)).values_list("kind", flat=True))

    assert kinds("head1") == [AlertKind.MISSING_REPORT]
    assert kinds("office") == [AlertKind.MISSING_REPORT]
    assert kinds("worker11") == []
    assert kinds("head2") == []


def test_submitting_the_missing_report_resolves_its_alert(world: World) -> None:
    run(DEADLINE)

    file(world, "head1", DEADLINE + dt.timedelta(hours=2))

    alert = Alert.objects.get(kind=AlertKind.MISSING_REPORT, unit=world.unit1)
    assert (alert.status, alert.note) == ("resolved", "Report submitted at 2020-02-05 15:00.")
    assert Lapse.objects.filter(unit=world.unit1).count() == 1  # the lapse stays


def test_a_draft_at_the_deadline_is_missing(world: World) -> None:
    services.save_draft(actor=world.user("head1"), unit=world.unit1, day=DAY)

    run(DEADLINE)

    assert [code for _kind, code, _day, _who in lapses()] == ["LZ-01", "LZ-02"]


def test_a_unit_without_an_active_head_is_missing_with_nobody_named(world: World) -> None:
    head1 = world.user("head1")
    head1.is_active = False
    head1.save()

    run(DEADLINE)

    assert ("missing_report", "LZ-01", "2020-02-05", None) in lapses()


def test_the_deadline_job_follows_the_offices_deadline(world: World) -> None:
    services.update_rules(actor=None, deadline=dt.time(12, 0))

    assert run(DEADLINE - dt.timedelta(hours=1)) == 2


def test_a_deactivated_unit_and_grids_are_not_expected_to_report(world: World) -> None:
    from fangkong.org.models import OrgUnit

    OrgUnit.objects.filter(pk=world.unit2.pk).update(is_active=False)

    run(DEADLINE)

    assert [code for _kind, code, _day, _who in lapses()] == ["LZ-01"]
