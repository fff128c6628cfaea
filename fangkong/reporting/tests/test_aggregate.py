"""The office's view of a day and of a period: the branch report (the sum of the APPROVED unit
reports, with the cases, the missing units and the differences from the register), the
leader's approval, completeness and timeliness, retired indicators, and the query budgets of
these reads.

The world with its episodes (张小明 in LZ-01, 王立新 in LZ-02 with an open fever alert of
2020-02-04) and a third unit, LZ-03 (one person), that never reports. Time is frozen at
2020-02-05 18:00 in Shanghai; the deadline is 13:00."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.org.models import OrgUnit
from fangkong.reporting import selectors, services
from fangkong.reporting.models import BranchReport, Indicator, ReportValue, UnitReport

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2020, 2, 5)
NOW = dt.datetime(2020, 2, 5, 18, 0, tzinfo=SH)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def unit3(oworld: World) -> OrgUnit:
    unit = org_services.create_org_unit(
        actor=None, code="LZ-03", name="第三作业站", kind="unit", parent=oworld.branch
    )
    grid = org_services.create_org_unit(
        actor=None, code="LZ-03-01", name="三站一网格", kind="grid", parent=unit
    )
    org_services.create_person(actor=None, name="赵三", grid=grid)
    return unit


NOON = at(12)
HALF_PAST_NOON = at(12, 30)


def file_lz01(world: World, when: dt.datetime = NOON) -> UnitReport:
    return services.submit_report(
        actor=world.user("head1"),
        unit=world.unit1,
        day=DAY,
        values={"registered": 5, "duty": "站长值班"},
        reasons={"registered": "两名新到未登记"},
        at=when,
    )


def file_lz02(world: World, when: dt.datetime = HALF_PAST_NOON) -> UnitReport:
    return services.submit_report(
        actor=world.user("head2"),
        unit=world.unit2,
        day=DAY,
        actions={world.person21.pk: "已复测，居家观察"},
        at=when,
    )


def approve(world: World, report: UnitReport) -> UnitReport:
    return services.approve_report(actor=world.user("office"), report=report)


def totals(aggregate: selectors.BranchAggregate) -> dict[str, Any]:
    return {line.code: line.total for line in aggregate.lines}


# ---------------------------------------------------------------------------------------------
# The branch report


def test_the_branch_report_sums_the_approved_unit_reports(oworld: World, unit3: OrgUnit) -> None:
    approve(oworld, file_lz01(oworld))
    approve(oworld, file_lz02(oworld))

    aggregate = selectors.branch_aggregate(oworld.user("office"), DAY)

    assert totals(aggregate) == {
        "registered": 5 + 1,
        "away": 0,
        "arrivals": 0,
        "arrivals_key_areas": 0,
        "home_isolation": 1 + 1,
        "home_isolation_new": 0,
        "home_isolation_released": 0,
        "centralised": 0,
        "fevers": 0,
        "suspected": 0,
        "confirmed": 0,
        "close_contacts": 1,
        "disinfection": None,
        "publicity": None,
        "duty": None,
    }
    registered = next(line for line in aggregate.lines if line.code == "registered")
    assert registered.register == 3 + 1
    assert [(u.unit.code, u.status, u.counted) for u in aggregate.units] == [
        ("LZ-01", "approved", True),
        ("LZ-02", "approved", True),
        ("LZ-03", "missing", False),
    ]
    assert aggregate.units[0].values["duty"] == "站长值班"
    assert [unit.code for unit in aggregate.missing] == ["LZ-03"]
    assert [
        (d.unit.code, d.code, d.value, d.register, d.reason) for d in aggregate.differences
    ] == [("LZ-01", "registered", 5, 3, "两名新到未登记")]
    assert [
        (c["name"], c["temperature"], c["action"], c["unit"]["code"]) for c in aggregate.cases
    ] == [("王立新", "38.1", "已复测，居家观察", "LZ-02")]
    assert (aggregate.expected, aggregate.received, aggregate.approved) == (3, 2, 2)
    assert aggregate.branch == oworld.branch


def test_a_returned_or_unreviewed_report_is_not_counted(oworld: World) -> None:
    approve(oworld, file_lz01(oworld))
    services.return_report(
        actor=oworld.user("office"), report=file_lz02(oworld), comment="请核实病例处置"
    )

    aggregate = selectors.branch_aggregate(oworld.user("office"), DAY)

    assert totals(aggregate)["registered"] == 5
    assert totals(aggregate)["home_isolation"] == 1
    assert aggregate.cases == []
    assert [(u.unit.code, u.status, u.counted) for u in aggregate.units] == [
        ("LZ-01", "approved", True),
        ("LZ-02", "returned", False),
    ]
    assert aggregate.missing == []


def test_before_the_deadline_a_unit_without_a_report_is_not_yet_missing(
    oworld: World, _frozen: Any
) -> None:
    _frozen.move_to(at(12, 59))

    aggregate = selectors.branch_aggregate(oworld.user("office"), DAY)

    assert [(u.unit.code, u.status) for u in aggregate.units] == [
        ("LZ-01", "not_due"),
        ("LZ-02", "not_due"),
    ]
    assert aggregate.missing == []


def test_a_unit_head_gets_the_aggregate_of_their_unit_only(oworld: World, unit3: OrgUnit) -> None:
    approve(oworld, file_lz01(oworld))
    approve(oworld, file_lz02(oworld))

    aggregate = selectors.branch_aggregate(oworld.user("head1"), DAY)

    assert [u.unit.code for u in aggregate.units] == ["LZ-01"]
    assert totals(aggregate)["registered"] == 5
    assert aggregate.cases == [] and aggregate.missing == []
    assert (aggregate.branch, aggregate.approval) == (None, None)


def test_the_leader_approves_the_branch_report_and_it_counts_as_sent(oworld: World) -> None:
    approve(oworld, file_lz01(oworld))
    leader = oworld.user("leader")

    sent = services.approve_branch_report(actor=leader, branch=oworld.branch, day=DAY)

    assert (sent.approved_at, sent.approved_by) == (NOW, leader)
    assert sent.snapshot["totals"][0] == {
        "code": "registered",
        "name": "在册人数",
        "kind": "count",
        "total": 5,
        "in_register": 3,
    }
    aggregate = selectors.branch_aggregate(leader, DAY)
    assert aggregate.approval == sent
    assert aggregate.as_dict()["approval"] == {
        "approved_at": "2020-02-05T18:00:00+08:00",
        "approved_by": "leader",
        "note": "",
    }


def test_approving_again_needs_a_change_since(oworld: World) -> None:
    approve(oworld, file_lz01(oworld))
    leader = oworld.user("leader")
    services.approve_branch_report(actor=leader, branch=oworld.branch, day=DAY)

    with pytest.raises(ValidationError) as error:
        services.approve_branch_report(actor=leader, branch=oworld.branch, day=DAY)
    assert error.value.messages == [
        "leader approved this report at 2020-02-05 18:00 and nothing has changed since."
    ]

    approve(oworld, file_lz02(oworld))
    again = services.approve_branch_report(actor=leader, branch=oworld.branch, day=DAY)
    assert again.snapshot["approved"] == 2
    assert BranchReport.objects.count() == 1
    assert again.history.count() == 2


def test_a_branch_report_without_an_approved_unit_report_is_not_approved(oworld: World) -> None:
    file_lz01(oworld)

    with pytest.raises(ValidationError) as error:
        services.approve_branch_report(actor=oworld.user("leader"), branch=oworld.branch, day=DAY)

    assert error.value.message_dict == {
        "day": ["No unit report of 2020-02-05 is approved yet: approve the units' reports first."]
    }


@pytest.mark.parametrize("username", ["office", "head1", "auditor1"])
def test_only_the_leader_approves_the_branch_report(oworld: World, username: str) -> None:
    approve(oworld, file_lz01(oworld))

    with pytest.raises(PermissionDenied):
        services.approve_branch_report(actor=oworld.user(username), branch=oworld.branch, day=DAY)


# ---------------------------------------------------------------------------------------------
# Retired indicators


def test_retiring_an_indicator_keeps_the_reports_filed_with_it_intact(oworld: World) -> None:
    report = approve(oworld, file_lz01(oworld))
    duty = Indicator.objects.get(code="duty")

    services.retire_indicator(actor=oworld.user("office"), indicator=duty)
    later = services.submit_report(
        actor=oworld.user("head1"), unit=oworld.unit1, day=dt.date(2020, 2, 4)
    )

    old = ReportValue.objects.get(version=report.current, indicator=duty)
    assert old.text == "站长值班"
    assert report.current is not None
    assert [v["code"] for v in report.current.snapshot][-1] == "duty"
    assert not ReportValue.objects.filter(version=later.current, indicator=duty).exists()
    assert "duty" in totals(selectors.branch_aggregate(oworld.user("office"), DAY))
    assert "duty" not in totals(
        selectors.branch_aggregate(oworld.user("office"), dt.date(2020, 2, 4))
    )
    duty.refresh_from_db()
    assert (duty.is_active, duty.retired_at) == (False, NOW)


def test_a_renamed_indicator_keeps_its_name_in_the_versions_filed_before(oworld: World) -> None:
    report = file_lz01(oworld)
    registered = Indicator.objects.get(code="registered")

    services.save_indicator(
        actor=oworld.user("office"),
        indicator=registered,
        code="registered",
        name="在册总人数",
        rule="registered",
        order=registered.order,
    )

    assert report.current is not None
    assert report.current.snapshot[0]["name"] == "在册人数"


def test_an_indicator_used_in_reports_keeps_its_code_and_kind(oworld: World) -> None:
    file_lz01(oworld)
    duty = Indicator.objects.get(code="duty")

    with pytest.raises(ValidationError) as error:
        services.save_indicator(
            actor=oworld.user("office"), indicator=duty, code="duty2", name="值班", kind="count"
        )

    assert error.value.message_dict == {
        "code": ["Reports use this indicator: its code cannot change."],
        "kind": ["Reports use this indicator: it cannot change between count and text."],
    }


def test_the_office_adds_an_indicator_and_the_next_report_has_it(oworld: World) -> None:
    services.save_indicator(
        actor=oworld.user("office"),
        code="masks",
        name="发放口罩数",
        kind="count",
        order=200,
    )

    report = file_lz01(oworld)

    assert report.current is not None
    assert report.current.snapshot[-1] == {
        "code": "masks",
        "name": "发放口罩数",
        "kind": "count",
        "value": 0,
        "in_register": None,
        "reason": "",
    }


def test_indicators_are_managed_by_the_office_only(oworld: World) -> None:
    with pytest.raises(PermissionDenied):
        services.save_indicator(actor=oworld.user("head1"), code="x", name="x")
    with pytest.raises(PermissionDenied):
        services.retire_indicator(
            actor=oworld.user("leader"), indicator=Indicator.objects.get(code="duty")
        )


def test_an_indicator_is_checked_before_it_is_saved(oworld: World) -> None:
    with pytest.raises(ValidationError) as error:
        services.save_indicator(
            actor=None, code="Fevers!", name="", kind="text", rule="no_such_rule"
        )

    assert error.value.message_dict == {
        "code": ["Use lower-case letters, digits and _ (up to 40, a letter first), e.g. fevers."],
        "name": ["Name the indicator as the form shows it, e.g. 今日发热人数."],
        "rule": ["Choose an auto-fill rule from the list, or none."],
    }


# ---------------------------------------------------------------------------------------------
# Completeness and timeliness


def _period(world: World) -> None:
    """LZ-01: 02-03 on time (the world), 02-04 nothing, 02-05 late. LZ-02: 02-03 on time and
    approved (the world), 02-04 nothing, 02-05 on time and returned."""
    file_lz01(world, at(14))
    services.return_report(
        actor=world.user("office"), report=file_lz02(world), comment="请核实病例处置"
    )


def test_the_matrix_shows_each_unit_and_day(oworld: World) -> None:
    _period(oworld)

    matrix = selectors.completeness_matrix(
        oworld.user("office"), dt.date(2020, 2, 3), dt.date(2020, 2, 6)
    )

    assert matrix.days == [dt.date(2020, 2, d) for d in (3, 4, 5, 6)]
    assert [(row.unit.code, row.cells) for row in matrix.rows] == [
        ("LZ-01", ["on_time", "missing", "late", "not_due"]),
        ("LZ-02", ["on_time", "missing", "returned", "not_due"]),
    ]
    assert matrix.rows[0].reports[0] == oworld.report1.pk
    assert matrix.rows[0].reports[1] is None
    assert matrix.counts() == {"on_time": 2, "missing": 2, "late": 1, "returned": 1, "not_due": 2}


def test_rates_are_received_and_on_time_over_expected(oworld: World) -> None:
    _period(oworld)

    found = selectors.rates(oworld.user("office"), dt.date(2020, 2, 3), dt.date(2020, 2, 6))

    assert [
        (unit.code, r.expected, r.received, r.on_time, r.completeness, r.timeliness)
        for unit, r in found.units
    ] == [
        ("LZ-01", 3, 2, 1, 66.7, 33.3),
        ("LZ-02", 3, 2, 2, 66.7, 66.7),
    ]
    overall = found.overall
    assert (overall.expected, overall.received, overall.on_time) == (6, 4, 3)
    assert (overall.completeness, overall.timeliness) == (66.7, 50.0)


def test_a_unit_head_sees_the_matrix_of_their_unit_only(oworld: World) -> None:
    matrix = selectors.completeness_matrix(
        oworld.user("head2"), dt.date(2020, 2, 3), dt.date(2020, 2, 3)
    )

    assert [(row.unit.code, row.cells) for row in matrix.rows] == [("LZ-02", ["on_time"])]


def test_a_period_is_checked(oworld: World) -> None:
    office = oworld.user("office")
    with pytest.raises(ValidationError) as error:
        selectors.completeness_matrix(office, dt.date(2020, 2, 5), dt.date(2020, 2, 4))
    assert error.value.message_dict == {"end": ["The period must end on or after its start."]}
    with pytest.raises(ValidationError):
        selectors.completeness_matrix(office, dt.date(2019, 1, 1), dt.date(2020, 2, 4))


# ---------------------------------------------------------------------------------------------
# Query budgets: the reads cost the same whatever the number of units and reports


def _more_units(world: World, n: int) -> None:
    for i in range(n):
        unit = org_services.create_org_unit(
            actor=None, code=f"LZ-5{i}", name=f"五{i}站", kind="unit", parent=world.branch
        )
        grid = org_services.create_org_unit(
            actor=None, code=f"LZ-5{i}-01", name="网格", kind="grid", parent=unit
        )
        org_services.create_person(actor=None, name="新人", grid=grid)
        for day in (dt.date(2020, 2, 4), DAY):
            report = services.submit_report(actor=None, unit=unit, day=day, at=at(11, day=day))
            approve(world, report)


def _queries(read: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return len(queries)


@pytest.mark.parametrize(
    "read",
    [
        lambda user: selectors.completeness_matrix(user, dt.date(2020, 2, 1), DAY),
        lambda user: selectors.rates(user, dt.date(2020, 2, 1), DAY),
        lambda user: selectors.branch_aggregate(user, DAY),
        lambda user: list(selectors.reports_for(user)[:50]),
    ],
    ids=["matrix", "rates", "branch", "reports"],
)
def test_the_reads_cost_the_same_whatever_the_number_of_units(oworld: World, read: Any) -> None:
    office = oworld.user("office")
    approve(oworld, file_lz01(oworld))
    read(office)  # the scope is cached on the user
    few = _queries(lambda: read(office))

    _more_units(oworld, 6)
    many = _queries(lambda: read(office))

    assert many == few
    assert few <= 8
