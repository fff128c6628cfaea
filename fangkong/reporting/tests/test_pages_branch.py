"""The branch report of a day through Django's test client: the print page (totals of the
approved reports, one row per unit, the cases, the missing units, the differences from the
register), the leader's approval with its confirmation, and the ``.xlsx`` in the upward
format read back with python-calamine.

Now is 2020-02-05 18:00. A third unit, LZ-03 (one person), never reports. LZ-01 reports 5
persons on the register (3 in it: "两名新到未登记") and its duty; LZ-02 the register's figures
with the action taken for 王立新's fever (38.1 °C, open); the office approves both. Both keep
the disinfection text pre-filled from the records: the world's place of each unit (一站职工食堂,
二站办公室) was last disinfected on 2020-02-04, so it is overdue that day."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.utils import translation
from python_calamine import CalamineWorkbook

from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.org.models import OrgUnit
from fangkong.reporting import exports, selectors, services
from fangkong.reporting.models import BranchReport, UnitReport

from .pagekit import at, client_of, count_queries, element, has_element, submit, text

DAY = dt.date(2020, 2, 5)
NOW = at(2020, 2, 5, 18, 0)
PAGE = "/reporting/branch/?day=2020-02-05"
XLSX = "/reporting/branch.xlsx?day=2020-02-05"
APPROVE = "/reporting/branch/approve/?day=2020-02-05"
# Session, user, scope; the branches of the filter; the rules, the units, their reports, the
# indicators, the values of the approved reports, the leader's approval.
BUDGET = 10


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


@pytest.fixture
def day(oworld: World, unit3: OrgUnit) -> dict[str, UnitReport]:
    office = oworld.user("office")
    lz01 = submit(
        oworld,
        "head1",
        oworld.unit1,
        DAY,
        values={"registered": 5, "duty": "站长值班"},
        reasons={"registered": "两名新到未登记"},
        at=at(2020, 2, 5, 12, 0),
    )
    lz02 = submit(
        oworld,
        "head2",
        oworld.unit2,
        DAY,
        actions={oworld.person21.pk: "已复测，居家观察"},
        at=at(2020, 2, 5, 12, 30),
    )
    return {
        "lz01": services.approve_report(actor=office, report=lz01),
        "lz02": services.approve_report(actor=office, report=lz02),
    }


def totals(response: Any) -> dict[str, tuple[str, str]]:
    """Per indicator code: (total, register) as the page shows them."""
    return {
        code: (total, register)
        for code, total, register in re.findall(
            r'id="total-(\w+)"[^>]*><td>[^<]*</td><td class="num total">([^<]*)</td>'
            r'<td class="num register">([^<]*)</td>',
            response.content.decode(),
        )
    }


# ---------------------------------------------------------------------------------------------
# The page


def test_the_branch_totals_are_the_sums_of_the_approved_reports(
    oworld: World, day: dict[str, UnitReport]
) -> None:
    response = client_of(oworld, "office").get(PAGE)

    assert response.status_code == 200
    shown = totals(response)
    assert shown["registered"] == ("6", "4")
    assert shown["home_isolation"] == ("2", "2")
    assert shown["close_contacts"] == ("1", "1")
    assert shown["fevers"] == ("0", "0")
    assert element(response, "branch-facts") == (
        "2020-02-05 · units 3 · received 2 · approved (counted) 2 · missing 1"
    )
    assert 'id="total-registered" class="differs"' in response.content.decode()


def test_the_page_lists_the_units_the_cases_the_missing_and_the_differences(
    oworld: World, day: dict[str, UnitReport]
) -> None:
    response = client_of(oworld, "office").get(PAGE)

    assert element(response, f"unit-{oworld.unit1.pk}").startswith(
        "第一作业站 Approved 12:00 5 0 0 0 1"
    )
    assert element(response, "unit-" + str(day["lz02"].unit_id)).startswith(
        "第二作业站 Approved 12:30 1 0 0 0 1"
    )
    assert element(response, "cases") == (
        "unit name temperature what action taken "
        "第二作业站 王立新 38.1 °C Fever not resolved 已复测，居家观察"
    )
    assert element(response, "missing") == "第三作业站"
    assert element(response, "differences") == (
        "unit indicator reported register reason for the difference 第一作业站 在册人数 5 3 两名新到未登记"
    )
    assert element(response, "work") == (
        "第一作业站 · 消毒工作: 未登记消毒，1 处场所逾期 "
        "第一作业站 · 值班值守: 站长值班 "
        "第二作业站 · 消毒工作: 未登记消毒，1 处场所逾期"
    )


def test_a_returned_or_unreviewed_report_is_not_counted(oworld: World, unit3: OrgUnit) -> None:
    lz01 = submit(
        oworld,
        "head1",
        oworld.unit1,
        DAY,
        values={"registered": 5},
        reasons={"registered": "新到"},
        at=at(2020, 2, 5, 12, 0),
    )
    services.return_report(actor=oworld.user("office"), report=lz01, comment="请核对")
    submit(oworld, "head2", oworld.unit2, DAY, at=at(2020, 2, 5, 12, 0))

    response = client_of(oworld, "office").get(PAGE)

    assert totals(response)["registered"] == ("0", "—")
    assert element(response, f"unit-{oworld.unit1.pk}").startswith("第一作业站 Returned 12:00")
    assert element(response, "missing") == "第三作业站"


def test_a_unit_head_sees_their_unit_only_and_no_approval(
    oworld: World, day: dict[str, UnitReport]
) -> None:
    response = client_of(oworld, "head1").get(PAGE)

    assert totals(response)["registered"] == ("5", "3")
    assert "第二作业站" not in text(response)
    assert element(response, "approval") == ""
    assert not has_element(response, "approve-link")


def test_the_page_costs_the_same_queries_for_30_units_as_for_3(
    oworld: World, day: dict[str, UnitReport]
) -> None:
    client = client_of(oworld, "office")
    few = count_queries(client, PAGE)
    office = oworld.user("office")
    for i in range(4, 31):
        unit = org_services.create_org_unit(
            actor=None, code=f"LZ-{i:02d}", name=f"第{i}站", kind="unit", parent=oworld.branch
        )
        report = submit(oworld, "admin", unit, DAY, at=at(2020, 2, 5, 9, 0))
        services.approve_report(actor=office, report=report)
    many = count_queries(client, PAGE)

    assert many[0] == few[0] <= BUDGET
    assert many[1] > few[1]


# ---------------------------------------------------------------------------------------------
# The leader's approval


def test_the_leader_approves_after_a_confirmation_and_the_page_says_who_and_when(
    oworld: World, day: dict[str, UnitReport]
) -> None:
    client = client_of(oworld, "leader")

    page = client.get(PAGE)
    asked = client.get(APPROVE)
    done = client.post(APPROVE, {"note": "已报县指挥部"}, follow=True)

    assert has_element(page, "approve-link")
    assert element(page, "approval") == (
        "Not approved yet: it counts as sent once the leader approves it."
    )
    assert element(asked, "confirm-title") == "Approve the report of 临泽分公司 for 2020-02-05?"
    assert element(asked, "confirm-facts") == (
        "2 of 3 unit reports approved and counted; 2 received; 1 missing."
    )
    assert done.redirect_chain == [
        (f"/reporting/branch/?day=2020-02-05&branch={oworld.branch.pk}", 302)
    ]
    assert "The branch report of 2020-02-05 is approved: it counts as sent." in text(done)
    assert element(done, "approval") == (
        "Approved and sent by leader at 2020-02-05 18:00 · 已报县指挥部"
    )
    assert not has_element(done, "approve-link")
    approval = BranchReport.objects.get()
    assert (approval.branch, approval.day, approval.approved_by, approval.approved_at) == (
        oworld.branch,
        DAY,
        oworld.user("leader"),
        NOW,
    )
    assert approval.snapshot["totals"][0] == {
        "code": "registered",
        "name": "在册人数",
        "kind": "count",
        "total": 6,
        "in_register": 4,
    }


def test_a_change_after_the_approval_asks_for_another(
    oworld: World, day: dict[str, UnitReport], unit3: OrgUnit
) -> None:
    services.approve_branch_report(actor=oworld.user("leader"), branch=oworld.branch, day=DAY)
    late = submit(oworld, "admin", unit3, DAY, at=at(2020, 2, 5, 17, 0))
    services.approve_report(actor=oworld.user("office"), report=late)

    response = client_of(oworld, "leader").get(PAGE)

    assert element(response, "changed") == "changed since: approve again"
    assert element(response, "approve-link") == "Approve again"


def test_the_approval_is_refused_while_no_unit_report_is_approved(oworld: World) -> None:
    response = client_of(oworld, "leader").post(APPROVE, {"note": ""})

    assert response.status_code == 200
    assert element(response, "approve-errors") == (
        "No unit report of 2020-02-05 is approved yet: approve the units' reports first."
    )
    assert BranchReport.objects.count() == 0


@pytest.mark.parametrize("username", ["office", "head1", "auditor1"])
def test_only_the_leader_approves_and_nothing_changes_for_others(
    oworld: World, day: dict[str, UnitReport], username: str
) -> None:
    client = client_of(oworld, username)

    get = client.get(APPROVE)
    post = client.post(APPROVE, {"note": "x"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert BranchReport.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# The .xlsx in the upward format


def read_xlsx(response: Any) -> dict[str, list[list[Any]]]:
    data = b"".join(response.streaming_content)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def in_zh(call: Any) -> Any:
    with translation.override("zh-hans"):
        return call()


def test_the_xlsx_has_the_totals_the_units_and_the_cases(
    oworld: World, day: dict[str, UnitReport]
) -> None:
    response = client_of(oworld, "office").get(XLSX)

    assert response.status_code == 200
    assert response.filename == f"{zh('Daily zero report summary')}-临泽分公司-2020-02-05.xlsx"
    sheets = read_xlsx(response)
    names = in_zh(exports.sheet_names)
    assert list(sheets) == names
    totals_sheet, units_sheet, cases_sheet = (sheets[name] for name in names)

    header = [zh(h) for h in ("Code", "Indicator", "Total", "Register total")]
    start = totals_sheet.index(header)
    lines = {row[0]: row[2:4] for row in totals_sheet[start + 1 :]}
    assert lines["registered"] == [6.0, 4.0]
    assert lines["home_isolation"] == [2.0, 2.0]
    assert lines["fevers"] == [0.0, 0.0]
    assert lines["duty"] == ["", ""]
    facts = {row[0]: row[1] for row in totals_sheet[1:start] if row and row[0]}
    assert facts[zh("Units expected")] == 3.0
    assert facts[zh("Reports approved (counted)")] == 2.0
    assert facts[zh("Approved by")] == zh("Not approved yet")

    aggregate = selectors.branch_aggregate(oworld.user("office"), DAY)
    assert units_sheet[0] == in_zh(lambda: exports.unit_headers(aggregate))
    by_code = {row[0]: row for row in units_sheet[1:]}
    assert by_code["LZ-01"][1] == "第一作业站"
    assert by_code["LZ-01"][7] == 5.0  # 在册人数, the first indicator
    assert by_code["LZ-02"][7] == 1.0
    assert by_code["LZ-03"][1:3] == ["第三作业站", zh("Missing")]
    assert by_code["LZ-03"][7] == ""
    assert units_sheet[-1][1:2] + units_sheet[-1][7:8] == [zh("Total (approved reports)"), 6.0]

    assert cases_sheet[0] == in_zh(exports.case_headers)
    assert [row[:4] + row[6:7] for row in cases_sheet[1:]] == [
        ["LZ-02", "第二作业站", "王立新", 38.1, "已复测，居家观察"]
    ]


def test_a_unit_heads_xlsx_holds_their_unit_only(oworld: World, day: dict[str, UnitReport]) -> None:
    sheets = read_xlsx(client_of(oworld, "head1").get(XLSX))

    everything = "\n".join(str(cell) for rows in sheets.values() for row in rows for cell in row)
    assert "第一作业站" in everything
    assert "第二作业站" not in everything
    assert "王立新" not in everything
