"""The office's list of a day's reports and the review of one report through Django's test
client: every unit with its status (on time, late, missing, returned, approved, not yet due),
the filters, the pages, the values against the register with the differences and their
reasons, every version with what changed, approving and returning (in place with htmx, or
confirmed on a page), who may do it, and the query budgets.

The world with its episodes; its reports of 2020-02-03: LZ-01's submitted at 12:00 and
waiting for review, LZ-02's approved. Now is 2020-02-05 18:00; the deadline is 13:00."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.org.models import OrgUnit
from fangkong.reporting import services, views_day
from fangkong.reporting.models import ReportStatus, UnitReport

from .pagekit import HTMX, at, client_of, count_queries, element, has_element, submit, text

DAY = dt.date(2020, 2, 5)
NOW = at(2020, 2, 5, 18, 0)
LIST = "/reporting/"
# The list's queries: session, user, scope; the filter's units (and the unit chosen); the
# rules, the counts per status, the page of units with their reports; for those who file,
# their own units (a unit head: 8).
LIST_BUDGET = 8
# The review page: session, user, scope; the report, its versions; the rules.
REVIEW_BUDGET = 6


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def rows(response: Any) -> list[tuple[str, str]]:
    """(unit name, status shown) of each row of the list."""
    page = response.content.decode()
    return re.findall(
        r'<span class="fw-semibold unit-name">([^<]*)</span>.*?'
        r'<span class="badge [^"]*status-badge">([^<]*)</span>',
        page,
        re.S,
    )


def add_units(world: World, n: int, start: int = 3) -> list[OrgUnit]:
    return [
        org_services.create_org_unit(
            actor=None,
            code=f"LZ-{i:02d}",
            name=f"第{i}作业站",
            kind=OrgUnit.Kind.UNIT,
            parent=world.branch,
        )
        for i in range(start, start + n)
    ]


# ---------------------------------------------------------------------------------------------
# The list of a day


def test_the_list_shows_every_unit_with_where_its_report_stands(oworld: World) -> None:
    response = client_of(oworld, "office").get(LIST, {"day": "2020-02-03"})

    assert response.status_code == 200
    assert rows(response) == [("第一作业站", "Submitted on time"), ("第二作业站", "Approved")]
    assert element(response, "summary") == "Received 2 of 2 · missing 0 · due by 13:00"
    assert element(response, f"unit-{oworld.unit1.pk}") == (
        "第一作业站 LZ-01 Submitted on time Nothing to report 2020-02-03 12:00 1 Review"
    )


def test_a_unit_without_a_report_is_not_yet_due_before_the_deadline_and_missing_after(
    oworld: World, _frozen: Any
) -> None:
    client = client_of(oworld, "office")
    _frozen.move_to(at(2020, 2, 5, 12, 59, 59))
    before = client.get(LIST)
    _frozen.move_to(at(2020, 2, 5, 13, 0, 1))
    after = client.get(LIST)

    assert rows(before) == [("第一作业站", "Not yet due"), ("第二作业站", "Not yet due")]
    assert rows(after) == [("第一作业站", "Missing"), ("第二作业站", "Missing")]
    assert element(after, "summary") == "Received 0 of 2 · missing 2 · due by 13:00"


def test_late_and_returned_reports_are_told_apart(oworld: World) -> None:
    submit(oworld, "head1", oworld.unit1, DAY, nothing_to_report=True, at=at(2020, 2, 5, 14, 0))
    report = submit(oworld, "head2", oworld.unit2, DAY, at=at(2020, 2, 5, 12, 0))
    services.return_report(actor=oworld.user("office"), report=report, comment="请补充处置措施")

    response = client_of(oworld, "office").get(LIST)

    assert rows(response) == [("第一作业站", "Submitted late"), ("第二作业站", "Returned")]
    assert [element(response, f"count-{s}") for s in ("on_time", "late", "returned")] == [
        "Submitted on time 0",
        "Submitted late 1",
        "Returned 1",
    ]


def test_the_status_and_unit_filters(oworld: World) -> None:
    client = client_of(oworld, "office")
    day = "2020-02-03"

    approved = client.get(LIST, {"day": day, "status": "approved"})
    unit = client.get(LIST, {"day": day, "unit": oworld.unit1.pk})
    htmx = client.get(LIST, {"day": day, "status": "on_time"}, **HTMX)

    assert rows(approved) == [("第二作业站", "Approved")]
    assert element(approved, "count-all") == "All 2"  # the counts ignore the status filter
    assert rows(unit) == [("第一作业站", "Submitted on time")]
    assert rows(htmx) == [("第一作业站", "Submitted on time")]
    assert "<html" not in htmx.content.decode()  # the results only


def test_the_list_is_paginated(oworld: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views_day, "PER_PAGE", 2)
    add_units(oworld, 3)
    client = client_of(oworld, "office")

    first = client.get(LIST)
    last = client.get(LIST, {"page": 3})

    assert [name for name, _status in rows(first)] == ["第一作业站", "第二作业站"]
    assert [name for name, _status in rows(last)] == ["第5作业站"]
    assert "Page 3 of 3" in text(last)


def test_a_unit_head_sees_their_unit_only_and_a_button_to_file(oworld: World) -> None:
    response = client_of(oworld, "head1").get(LIST)

    assert rows(response) == [("第一作业站", "Missing")]
    assert element(response, f"mine-{oworld.unit1.pk}") == (
        "第一作业站 Missing Due by 13:00 File the report"
    )
    assert f'href="/reporting/units/{oworld.unit1.pk}/file/?day=2020-02-05"' in (
        response.content.decode()
    )
    assert "第二作业站" not in text(response)


def test_the_checkpoint_operator_may_not_open_the_list(oworld: World) -> None:
    assert client_of(oworld, "gate1").get(LIST).status_code == 403


def test_the_list_costs_the_same_queries_for_30_units_as_for_2(oworld: World) -> None:
    client = client_of(oworld, "office")
    url = f"{LIST}?day=2020-02-03&unit={oworld.unit1.pk}&status=on_time"
    few = count_queries(client, LIST)
    few_filtered = count_queries(client, url)
    for unit in add_units(oworld, 28):
        submit(oworld, "admin", unit, DAY, nothing_to_report=True, at=at(2020, 2, 5, 12, 0))
    many = count_queries(client, LIST)
    many_filtered = count_queries(client, url)

    assert many[0] == few[0] <= LIST_BUDGET
    assert many_filtered[0] == few_filtered[0] <= LIST_BUDGET
    assert many[1] > few[1]


# ---------------------------------------------------------------------------------------------
# One report


def report_url(report: UnitReport, action: str = "") -> str:
    return f"/reporting/reports/{report.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def corrected(oworld: World) -> UnitReport:
    """LZ-01's report of 2020-02-05: version 1 (nothing to report) returned by the office,
    version 2 with 5 persons on the register (3 in it) and the reason, on time."""
    submit(oworld, "head1", oworld.unit1, DAY, nothing_to_report=True, at=at(2020, 2, 5, 9, 0))
    report = UnitReport.objects.get(unit=oworld.unit1, day=DAY)
    services.return_report(
        actor=oworld.user("office"),
        report=report,
        comment="在册人数与台账不符",
        at=at(2020, 2, 5, 10, 0),
    )
    return submit(
        oworld,
        "head1",
        oworld.unit1,
        DAY,
        values={"registered": 5, "duty": "站长值班"},
        reasons={"registered": "两名新到人员未登记"},
        at=at(2020, 2, 5, 11, 0),
    )


def test_the_review_page_shows_the_values_against_the_register_and_the_reasons(
    oworld: World, corrected: UnitReport
) -> None:
    response = client_of(oworld, "office").get(report_url(corrected))

    assert response.status_code == 200
    assert element(response, "report-title") == "第一作业站 · 2020-02-05"
    assert element(response, "submitted") == (
        "First submitted at 2020-02-05 09:00 by head1 · last version at 2020-02-05 11:00"
    )
    assert element(response, "value-registered") == "在册人数 两名新到人员未登记 5 3 +2"
    assert 'id="value-registered" class="table-warning differs"' in response.content.decode()
    assert element(response, "value-home_isolation") == "居家隔离人数 1 1 —"
    assert element(response, "board-status") == "Submitted on time"
    assert element(response, "text-duty") == "站长值班"
    assert element(response, "review-status") == "Submitted"


def test_every_version_is_listed_with_what_changed_from_the_one_before(
    oworld: World, corrected: UnitReport
) -> None:
    response = client_of(oworld, "office").get(report_url(corrected))

    second = element(response, "version-2")
    assert second.startswith("Version 2 submitted at 2020-02-05 11:00 by head1")
    page = response.content.decode()
    block = page[page.index('id="version-2"') : page.index('id="version-1"')]
    changes = re.findall(
        r'data-field="([^"]+)"><td>([^<]*)</td><td class="before text-break">([^<]*)</td>'
        r'<td class="after text-break">([^<]*)</td>',
        block,
    )
    assert changes == [
        ("registered", "在册人数", "3", "5"),
        ("duty", "值班值守", "", "站长值班"),
        ("nothing_to_report", "Nothing to report", "Yes", "No"),
    ]
    assert "Returned office 2020-02-05 10:00: 在册人数与台账不符" in element(response, "version-1")


def test_the_office_approves_in_place_with_htmx(oworld: World, corrected: UnitReport) -> None:
    response = client_of(oworld, "office").post(
        report_url(corrected, "approve"), {"comment": "", "confirm": "1"}, **HTMX
    )

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section class="card mb-3" id="review"')
    assert element(response, "review-done") == (
        "第一作业站, 2020-02-05: approved. It counts in the branch report."
    )
    assert element(response, "review-status") == "Approved"
    assert not has_element(response, "review-actions")
    assert 'id="board-status" hx-swap-oob="true">Approved</span>' in response.content.decode()
    corrected.refresh_from_db()
    assert (corrected.status, corrected.reviewed_by) == (
        ReportStatus.APPROVED,
        oworld.user("office"),
    )


def test_returning_needs_a_comment_and_says_so_in_place(
    oworld: World, corrected: UnitReport
) -> None:
    client = client_of(oworld, "office")

    refused = client.post(report_url(corrected, "return"), {"comment": " ", "confirm": "1"}, **HTMX)
    done = client.post(
        report_url(corrected, "return"), {"comment": "请补充消毒情况", "confirm": "1"}, **HTMX
    )

    assert "Say what to correct, e.g. 'fevers: 张三 was re-checked at 36.8 °C'." in text(refused)
    assert element(done, "review-comment") == "请补充消毒情况"
    corrected.refresh_from_db()
    assert (corrected.status, corrected.review_comment) == (ReportStatus.RETURNED, "请补充消毒情况")


def test_without_script_an_approval_is_confirmed_on_a_page_first(
    oworld: World, corrected: UnitReport
) -> None:
    client = client_of(oworld, "office")

    page = client.get(report_url(corrected, "approve"))
    asked = client.post(report_url(corrected, "approve"), {"comment": "同意"})
    corrected.refresh_from_db()
    status_when_asked = corrected.status
    done = client.post(report_url(corrected, "approve"), {"comment": "同意", "confirm": "1"})

    assert element(page, "confirm-title") == "Approve the report of 第一作业站 for 2020-02-05?"
    assert 'name="confirm" value="1"' in asked.content.decode()
    assert status_when_asked == ReportStatus.SUBMITTED
    assert (done.status_code, done["Location"]) == (302, report_url(corrected))
    corrected.refresh_from_db()
    assert (corrected.status, corrected.review_comment) == (ReportStatus.APPROVED, "同意")


def test_a_report_already_reviewed_is_not_reviewed_again(oworld: World) -> None:
    client = client_of(oworld, "office")
    report = oworld.report2  # approved

    shown = client.get(report_url(report))
    refused = client.post(report_url(report, "return"), {"comment": "再看看", "confirm": "1"})

    assert not has_element(shown, "review-actions")
    assert refused.status_code == 200
    assert "Only a submitted report can be reviewed (this one is Approved)." in text(refused)
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED


def test_a_unit_head_may_read_their_report_but_not_review_it(oworld: World) -> None:
    client = client_of(oworld, "head1")
    report = oworld.report1

    shown = client.get(report_url(report))
    approve = client.post(report_url(report, "approve"), {"confirm": "1"})
    get_approve = client.get(report_url(report, "approve"))

    assert shown.status_code == 200
    assert not has_element(shown, "review-actions")
    assert (approve.status_code, get_approve.status_code) == (403, 403)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


@pytest.mark.parametrize(
    ("username", "expected"), [("head2", 404), ("auditor1", 403), ("leader", 403)]
)
def test_others_may_not_review_and_nothing_changes(
    oworld: World, username: str, expected: int
) -> None:
    report = oworld.report1
    client = client_of(oworld, username)

    responses = [
        client.post(report_url(report, action), {"comment": "x", "confirm": "1"})
        for action in ("approve", "return")
    ]

    assert [r.status_code for r in responses] == [expected, expected]
    report.refresh_from_db()
    assert (report.status, report.review_comment) == (ReportStatus.SUBMITTED, "")


def test_a_report_outside_the_scope_is_404(oworld: World) -> None:
    assert client_of(oworld, "head2").get(report_url(oworld.report1)).status_code == 404


def test_a_unit_head_reviews_a_grids_sub_report_of_their_unit(oworld: World) -> None:
    services.update_rules(actor=oworld.user("office"), grid_reports=True)
    sub = submit(oworld, "worker11", oworld.grid11, DAY, nothing_to_report=True, at=NOW)

    shown = client_of(oworld, "head1").get(report_url(sub))
    done = client_of(oworld, "head1").post(
        report_url(sub, "return"), {"comment": "请核对", "confirm": "1"}, **HTMX
    )

    assert has_element(shown, "review-actions")
    assert element(done, "review-status") == "Returned"


def test_the_review_page_costs_the_same_queries_for_3_versions_as_for_1(oworld: World) -> None:
    client = client_of(oworld, "office")
    report = submit(oworld, "head1", oworld.unit1, DAY, nothing_to_report=True, at=NOW)
    few = count_queries(client, report_url(report))
    for text_value in ("一", "二"):
        submit(oworld, "head1", oworld.unit1, DAY, values={"duty": text_value}, at=NOW)
    many = count_queries(client, report_url(report))

    assert many[0] == few[0] <= REVIEW_BUDGET
    assert many[1] > few[1]
