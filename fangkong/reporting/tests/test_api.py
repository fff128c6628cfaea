"""The daily report's API: indicators, unit reports (list, read, submit, return, approve),
completeness and the branch report a higher-level system pulls; scope (a unit head sees their
unit's reports only, outside the scope is 404, a read-only role gets 403), 422 with the field,
and lists that cost the same queries whatever their length.

The world (with episodes) has LZ-01's report of 2020-02-03 submitted and LZ-02's approved.
Time is frozen at 2020-02-05 18:00 in Shanghai."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.testing import World
from fangkong.core.tests.apikit import ApiFor, errors, ok, token_api
from fangkong.org import services as org_services
from fangkong.reporting import services
from fangkong.reporting.models import UnitReport

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

BASE = "/api/v1/reporting"
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2020, 2, 5, 18, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api_as(oworld: World) -> ApiFor:
    return partial(token_api, oworld, base=BASE)


def ids(response: Response) -> list[int]:
    return [item["id"] for item in ok(response)["items"]]


# ---------------------------------------------------------------------------------------------
# Reading


def test_a_unit_head_lists_their_units_reports_only(oworld: World, api_as: ApiFor) -> None:
    assert ids(api_as("head1").get("/reports")) == [oworld.report1.pk]
    assert ids(api_as("head2").get("/reports")) == [oworld.report2.pk]
    assert sorted(ids(api_as("office").get("/reports"))) == sorted(
        [oworld.report1.pk, oworld.report2.pk]
    )


def test_the_checkpoint_operator_has_no_reports(api_as: ApiFor) -> None:
    assert api_as("gate1").get("/reports").status_code == 403


def test_the_list_is_filtered(oworld: World, api_as: ApiFor) -> None:
    office = api_as("office")

    assert ids(office.get("/reports", status="approved")) == [oworld.report2.pk]
    assert ids(office.get("/reports", unit_id=oworld.unit1.pk)) == [oworld.report1.pk]
    assert ids(office.get("/reports", day="2020-02-04")) == []
    assert errors(api_as("head1").get("/reports", unit_id=oworld.unit2.pk)) == [
        (["query", "unit_id"], "No such org unit in your scope.")
    ]


def test_a_report_reads_with_its_values_cases_and_versions(oworld: World, api_as: ApiFor) -> None:
    data = ok(api_as("head1").get(f"/reports/{oworld.report1.pk}"))

    assert {k: data[k] for k in ("unit", "day", "status", "version", "late")} == {
        "unit": {"id": oworld.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
        "day": "2020-02-03",
        "status": "submitted",
        "version": 1,
        "late": False,
    }
    assert data["first_submitted_at"] == "2020-02-03T12:00:00+08:00"
    assert data["nothing_to_report"] is True
    assert data["values"][0] == {
        "code": "registered",
        "name": "在册人数",
        "kind": "count",
        "value": 3,
        "in_register": 3,
        "reason": "",
    }
    assert [v["number"] for v in data["versions"]] == [1]
    assert data["versions"][0]["submitted_by"] == "head1"


def test_a_report_outside_the_scope_is_404(oworld: World, api_as: ApiFor) -> None:
    head2 = api_as("head2")

    assert head2.get(f"/reports/{oworld.report1.pk}").status_code == 404
    assert head2.post(f"/reports/{oworld.report1.pk}/approve").status_code == 404
    assert head2.post(f"/reports/{oworld.report1.pk}/return", {"comment": "x"}).status_code == 404


@pytest.mark.parametrize("username", ["auditor1", "leader"])
def test_a_read_only_role_reads_but_gets_403_for_writing(
    oworld: World, api_as: ApiFor, username: str
) -> None:
    api = api_as(username)
    report = oworld.report1

    assert api.get(f"/reports/{report.pk}").status_code == 200
    assert api.post(f"/reports/{report.pk}/approve").status_code == 403
    assert api.post(f"/reports/{report.pk}/return", {"comment": "x"}).status_code == 403
    body = {"orgunit_id": oworld.unit1.pk, "day": "2020-02-05"}
    assert api.post("/reports", body).status_code == 403
    report.refresh_from_db()
    assert report.status == "submitted"


def test_the_indicators_are_listed_in_order(api_as: ApiFor) -> None:
    data = ok(api_as("auditor1").get("/indicators"))

    assert [i["code"] for i in data][:3] == ["registered", "away", "arrivals"]
    assert data[0]["rule"] == "registered"
    assert len(data) == 15


def test_a_retired_indicator_is_listed_only_when_asked_for(api_as: ApiFor) -> None:
    from fangkong.reporting.models import Indicator

    services.retire_indicator(actor=None, indicator=Indicator.objects.get(code="duty"))
    api = api_as("office")

    assert "duty" not in [i["code"] for i in ok(api.get("/indicators"))]
    duty = ok(api.get("/indicators", include_retired=True))[-1]
    assert (duty["code"], duty["is_active"], duty["retired_at"]) == (
        "duty",
        False,
        "2020-02-05T18:00:00+08:00",
    )


# ---------------------------------------------------------------------------------------------
# Writing


def test_a_unit_head_submits_the_days_report(oworld: World, api_as: ApiFor) -> None:
    body = {
        "orgunit_id": oworld.unit1.pk,
        "day": "2020-02-05",
        "values": {"away": 1, "disinfection": "全站消毒"},
        "reasons": {"away": "张建国出差"},
    }

    data = ok(api_as("head1").post("/reports", body))

    assert (data["status"], data["late"], data["version"]) == ("submitted", True, 1)
    away = next(v for v in data["values"] if v["code"] == "away")
    assert (away["value"], away["in_register"], away["reason"]) == (1, 0, "张建国出差")


def test_bad_input_is_422_naming_the_field(oworld: World, api_as: ApiFor) -> None:
    body = {"orgunit_id": oworld.unit1.pk, "day": "2020-02-05", "values": {"away": -2}}

    assert errors(api_as("head1").post("/reports", body)) == [
        (
            ["body", "payload", "values", "away"],
            "外出人数: enter a whole number from 0 to 10000000.",
        )
    ]


def test_a_difference_without_a_reason_is_422_on_the_reason(oworld: World, api_as: ApiFor) -> None:
    body = {"orgunit_id": oworld.unit1.pk, "day": "2020-02-05", "values": {"away": 1}}

    assert errors(api_as("head1").post("/reports", body)) == [
        (
            ["body", "payload", "reasons", "away"],
            "外出人数: 1 differs from the register (0): say why, e.g. 'two arrivals not yet "
            "registered'.",
        )
    ]


def test_nothing_to_report_with_an_open_fever_is_422(oworld: World, api_as: ApiFor) -> None:
    body = {"orgunit_id": oworld.unit2.pk, "day": "2020-02-05", "nothing_to_report": True}

    ((loc, message),) = errors(api_as("head2").post("/reports", body))

    assert loc == ["body", "payload", "nothing_to_report"]
    assert "王立新 (38.1 °C, fever, not resolved)" in message


def test_a_unit_outside_the_scope_is_422_as_if_it_did_not_exist(
    oworld: World, api_as: ApiFor
) -> None:
    head1 = api_as("head1")

    outside = head1.post("/reports", {"orgunit_id": oworld.unit2.pk, "day": "2020-02-05"})
    missing = head1.post("/reports", {"orgunit_id": 987654321, "day": "2020-02-05"})

    assert (
        errors(outside)
        == errors(missing)
        == [(["body", "payload", "orgunit_id"], "No such org unit in your scope.")]
    )
    assert not UnitReport.objects.filter(unit=oworld.unit2, day="2020-02-05").exists()


def test_a_grid_worker_sees_their_unit_but_may_not_file_for_it(
    oworld: World, api_as: ApiFor
) -> None:
    response = api_as("worker11").post(
        "/reports", {"orgunit_id": oworld.grid11.pk, "day": "2020-02-05"}
    )

    assert errors(response) == [
        (
            ["body", "payload", "orgunit_id"],
            "Grids do not file sub-reports (the office has not turned them on): the unit head "
            "files the unit's report.",
        )
    ]


def test_the_office_returns_a_report_with_a_comment_and_approves_the_correction(
    oworld: World, api_as: ApiFor
) -> None:
    office = api_as("office")
    report = oworld.report1

    assert errors(office.post(f"/reports/{report.pk}/return", {"comment": ""})) == [
        (
            ["body", "payload", "comment"],
            "Say what to correct, e.g. 'fevers: 张三 was re-checked at 36.8 °C'.",
        )
    ]
    returned = ok(office.post(f"/reports/{report.pk}/return", {"comment": "请补充消毒情况"}))
    assert (returned["status"], returned["review_comment"]) == ("returned", "请补充消毒情况")
    resubmitted = ok(
        api_as("head1").post(
            "/reports",
            {
                "orgunit_id": oworld.unit1.pk,
                "day": "2020-02-03",
                "values": {"disinfection": "已消毒"},
            },
        )
    )
    approved = ok(office.post(f"/reports/{report.pk}/approve", {"comment": "同意"}))

    assert resubmitted["version"] == 2
    assert (approved["status"], approved["reviewed_by"], approved["late"]) == (
        "approved",
        "office",
        False,
    )
    assert [v["review_status"] for v in approved["versions"]] == ["returned", "approved"]
    # The first version was filed before the episodes of 2020-02-03 were recorded: the
    # correction carries the register as it stands now.
    assert approved["versions"][1]["changes"] == [
        {"field": "home_isolation", "label": "居家隔离人数", "before": 0, "after": 1},
        {"field": "home_isolation_new", "label": "今日新增居家隔离", "before": 0, "after": 1},
        {"field": "close_contacts", "label": "密切接触者", "before": 0, "after": 1},
        {"field": "disinfection", "label": "消毒工作", "before": "", "after": "已消毒"},
        {
            "field": "nothing_to_report",
            "label": "Nothing to report",
            "before": True,
            "after": False,
        },
    ]


def test_reviewing_a_report_twice_is_422(oworld: World, api_as: ApiFor) -> None:
    response = api_as("office").post(f"/reports/{oworld.report2.pk}/approve")

    assert errors(response) == [
        (["body", "payload"], "Only a submitted report can be reviewed (this one is Approved).")
    ]


# ---------------------------------------------------------------------------------------------
# The branch report and completeness


def test_the_branch_report_of_a_day_is_pulled_with_its_totals(
    oworld: World, api_as: ApiFor
) -> None:
    data = ok(api_as("office").get("/branch", day="2020-02-03"))

    assert (data["day"], data["expected"], data["received"], data["approved"]) == (
        "2020-02-03",
        2,
        2,
        1,
    )
    assert data["branch"] == {"id": oworld.branch.pk, "code": "LZ", "name": "临泽分公司"}
    assert data["totals"][0] == {
        "code": "registered",
        "name": "在册人数",
        "kind": "count",
        "total": 1,
        "in_register": 1,
    }
    assert [(u["unit"]["code"], u["status"], u["counted"]) for u in data["units"]] == [
        ("LZ-01", "submitted", False),
        ("LZ-02", "approved", True),
    ]
    assert (data["missing"], data["cases"], data["approval"]) == ([], [], None)


def test_the_leader_approves_the_branch_report_through_the_api(
    oworld: World, api_as: ApiFor
) -> None:
    body = {"orgunit_id": oworld.branch.pk, "day": "2020-02-03", "note": "已上报县防控办"}

    data = ok(api_as("leader").post("/branch/approve", body))

    assert data["approval"] == {
        "approved_at": "2020-02-05T18:00:00+08:00",
        "approved_by": "leader",
        "note": "已上报县防控办",
    }
    assert api_as("office").post("/branch/approve", body).status_code == 403


def test_a_unit_head_pulls_the_aggregate_of_their_unit_only(oworld: World, api_as: ApiFor) -> None:
    data = ok(api_as("head2").get("/branch", day="2020-02-03"))

    assert [u["unit"]["code"] for u in data["units"]] == ["LZ-02"]
    assert data["branch"] is None


def test_completeness_of_the_last_days(oworld: World, api_as: ApiFor) -> None:
    data = ok(api_as("office").get("/completeness", start="2020-02-03", end="2020-02-05"))

    assert [(u["unit"]["code"], u["cells"]) for u in data["units"]] == [
        ("LZ-01", ["on_time", "missing", "missing"]),
        ("LZ-02", ["on_time", "missing", "missing"]),
    ]
    assert data["overall"] == {
        "expected": 6,
        "received": 2,
        "on_time": 2,
        "completeness": 33.3,
        "timeliness": 33.3,
    }
    assert errors(api_as("office").get("/completeness", start="2020-02-05", end="2020-02-01")) == [
        (["query", "end"], "The period must end on or after its start.")
    ]


# ---------------------------------------------------------------------------------------------
# Query budgets


def _more_reports(world: World, n: int) -> None:
    for i in range(n):
        unit = org_services.create_org_unit(
            actor=None, code=f"LZ-6{i}", name=f"六{i}站", kind="unit", parent=world.branch
        )
        org_services.create_org_unit(
            actor=None, code=f"LZ-6{i}-01", name="网格", kind="grid", parent=unit
        )
        report = services.submit_report(actor=None, unit=unit, day=dt.date(2020, 2, 3))
        services.approve_report(actor=None, report=report)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/reports", {}),
        ("/branch", {"day": "2020-02-03"}),
        ("/completeness", {"start": "2020-02-01", "end": "2020-02-05"}),
        ("/indicators", {}),
    ],
)
def test_a_list_costs_the_same_queries_whatever_its_length(
    oworld: World, api_as: ApiFor, path: str, params: dict[str, Any]
) -> None:
    api = api_as("office")
    api.get(path, **params)  # warm up: the token's last use is written
    with CaptureQueriesContext(connection) as few:
        ok(api.get(path, **params))

    _more_reports(oworld, 5)
    with CaptureQueriesContext(connection) as many:
        ok(api.get(path, **params))

    assert len(many) == len(few)


def test_reading_a_report_costs_the_same_queries_whatever_its_versions(
    oworld: World, api_as: ApiFor
) -> None:
    api = api_as("office")
    report = oworld.report1
    api.get(f"/reports/{report.pk}")
    with CaptureQueriesContext(connection) as one:
        ok(api.get(f"/reports/{report.pk}"))
    for note in ("一", "二", "三"):
        services.return_report(actor=None, report=report, comment=note)
        services.submit_report(actor=None, unit=oworld.unit1, day=dt.date(2020, 2, 3), notes=note)

    with CaptureQueriesContext(connection) as four:
        data = ok(api.get(f"/reports/{report.pk}"))

    assert len(data["versions"]) == 4
    assert len(four) == len(one)
