"""The unit's report of a day through Django's test client: pre-filled values with the
register's beside them, a reason when a number differs, "nothing to report" as one button
(refused while a fever is open), the confirmation before submitting, drafts, the office's
comment after a return and the corrected version, approved reports, grid sub-reports, and
who may open the page.

The world with its episodes: on 2020-02-05 the register of LZ-01 has 3 persons, 1 in home
isolation (张小明, a close contact) and nothing abnormal; LZ-02 has 1 person, 王立新, in home
isolation with an open fever alert (38.1 °C on 2020-02-04). The place to disinfect of LZ-01,
一站职工食堂 (twice a day), was last disinfected on 2020-02-04 at 09:00: overdue, and nothing
else is recorded that day (the publicity and the shifts are of 2020-02-04). Now is 2020-02-05
10:30; the deadline is 13:00."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from fangkong.core.testing import World
from fangkong.reporting import services
from fangkong.reporting.models import ReportStatus, ReportValue, ReportVersion, UnitReport

from .pagekit import (
    HTMX,
    at,
    client_of,
    count_queries,
    element,
    field_value,
    has_element,
    submit,
    text,
)

DAY = dt.date(2020, 2, 5)
NOW = at(2020, 2, 5, 10, 30)
# Session, user, scope; the unit; the rules, the indicators; the pre-fill: the tree, one
# query per auto-fill rule (12), the day's work (3 text rules: 4, the duty reads the roster
# and the entry log), the cases (alerts, decisions); the report, its draft.
FORM_BUDGET = 26


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def url(unit: Any, day: dt.date = DAY) -> str:
    return f"/reporting/units/{unit.pk}/file/?day={day.isoformat()}"


def reports_of(day: dt.date = DAY) -> list[tuple[str, str]]:
    return list(
        UnitReport.objects.filter(day=day)
        .order_by("unit__code")
        .values_list("unit__code", "status")
    )


def snapshot_value(report: UnitReport, code: str) -> dict[str, Any]:
    report.refresh_from_db()
    assert report.current is not None
    return next(line for line in report.current.snapshot if line["code"] == code)


# ---------------------------------------------------------------------------------------------
# The form


def test_the_form_is_prefilled_with_the_register_beside_each_number(oworld: World) -> None:
    response = client_of(oworld, "head1").get(url(oworld.unit1))

    assert response.status_code == 200
    assert element(response, "report-title") == "Daily report · 第一作业站"
    assert element(response, "status-not-filed") == "Not filed yet. Due by 13:00."
    assert [field_value(response, f"v_{code}") for code in ("registered", "home_isolation")] == [
        "3",
        "1",
    ]
    assert field_value(response, "v_fevers") == "0"
    assert (
        element(response, "line-registered")
        == "在册人数 register 3 why it differs from the register"
    )
    assert element(response, "no-cases") == "None in the register for this day."
    assert 'class="line border-bottom py-2 differs"' not in response.content.decode()
    assert [field_value(response, f"v_{c}") for c in ("disinfection", "publicity", "duty")] == [
        "未登记消毒，1 处场所逾期",
        "",
        "",
    ]
    assert not has_element(response, "records-disinfection")  # the value is the records' text


def test_the_abnormal_cases_of_the_register_are_listed_with_an_action_to_fill_in(
    oworld: World,
) -> None:
    response = client_of(oworld, "head2").get(url(oworld.unit2))

    case = element(response, f"case-{oworld.person21.pk}")
    assert case == "王立新 38.1 °C Fever not resolved action taken"
    assert field_value(response, f"a_{oworld.person21.pk}") == ""


# ---------------------------------------------------------------------------------------------
# Nothing to report


def test_nothing_to_report_is_one_button_then_a_confirmation(oworld: World) -> None:
    client = client_of(oworld, "head1")

    asked = client.post(url(oworld.unit1), {"intent": "nothing"})

    assert asked.status_code == 200
    assert element(asked, "confirm-title") == (
        'Submit "nothing to report" for 第一作业站 on 2020-02-05?'
    )
    assert element(asked, "nothing-mark") == "Nothing to report"
    assert element(asked, "confirm-registered") == "在册人数 3 3"
    assert not has_element(asked, "late-warning")
    assert reports_of() == []  # nothing is kept before the confirmation

    done = client.post(url(oworld.unit1), {"intent": "nothing", "confirm": "1"}, follow=True)

    assert done.redirect_chain == [(url(oworld.unit1), 302)]
    assert "第一作业站: 'nothing to report' submitted for 2020-02-05." in text(done)
    assert element(done, "status-submitted") == (
        "Submitted at 2020-02-05 10:30 (version 1, on time): waiting for review. "
        "You may still submit a corrected version."
    )
    report = UnitReport.objects.get(unit=oworld.unit1, day=DAY)
    assert (report.status, report.nothing_to_report, report.late) == (
        ReportStatus.SUBMITTED,
        True,
        False,
    )
    assert snapshot_value(report, "registered") == {
        "code": "registered",
        "name": "在册人数",
        "kind": "count",
        "value": 3,
        "in_register": 3,
        "reason": "",
    }


def test_nothing_to_report_is_refused_with_the_services_explanation_while_a_fever_is_open(
    oworld: World,
) -> None:
    response = client_of(oworld, "head2").post(url(oworld.unit2), {"intent": "nothing"})

    assert response.status_code == 200
    assert element(response, "nothing-error") == (
        "Not 'nothing to report' on 2020-02-05: 王立新 (38.1 °C, fever, not resolved). "
        "Report what happened and what was done."
    )
    assert reports_of() == []


def test_a_confirmed_nothing_to_report_is_refused_too_when_the_register_changed_meanwhile(
    oworld: World,
) -> None:
    response = client_of(oworld, "head2").post(
        url(oworld.unit2), {"intent": "nothing", "confirm": "1"}
    )

    assert element(response, "nothing-error").startswith("Not 'nothing to report' on 2020-02-05")
    assert reports_of() == []


# ---------------------------------------------------------------------------------------------
# Numbers, reasons, cases, texts


def form_data(response: Any, **changes: str) -> dict[str, str]:
    """The form's fields as shown, with ``changes``."""
    page = response.content.decode()
    form = page[page.index('id="report-form"') :]
    data: dict[str, str] = {}
    for name in dict.fromkeys(re.findall(r'name="((?:v|r|a)_\w+|notes)"', form)):
        data[name] = field_value(response, name)
    data.update(changes)
    return data


def test_a_number_changed_from_the_register_needs_a_reason_named_on_its_field(
    oworld: World,
) -> None:
    client = client_of(oworld, "head1")
    shown = client.get(url(oworld.unit1))

    response = client.post(url(oworld.unit1), form_data(shown, v_registered="5", intent="submit"))

    assert response.status_code == 200
    assert element(response, "id_r_registered_error") == (
        "在册人数: 5 differs from the register (3): say why, e.g. 'two arrivals not yet "
        "registered'."
    )
    assert 'class="line border-bottom py-2 differs" id="line-registered"' in (
        response.content.decode()
    )
    assert field_value(response, "v_registered") == "5"
    assert reports_of() == []


def test_a_number_with_its_reason_is_confirmed_then_submitted_with_the_registers_value(
    oworld: World,
) -> None:
    client = client_of(oworld, "head1")
    data = form_data(
        client.get(url(oworld.unit1)),
        v_registered="5",
        r_registered="两名新到人员未登记",
        v_disinfection="办公区消毒两次",
        notes="无",
        intent="submit",
    )

    asked = client.post(url(oworld.unit1), data)

    assert element(asked, "confirm-title") == "Submit the report of 第一作业站 for 2020-02-05?"
    assert element(asked, "confirm-registered") == "在册人数 两名新到人员未登记 5 3"
    assert 'id="confirm-registered" class="table-warning differs"' in asked.content.decode()
    assert reports_of() == []

    done = client.post(url(oworld.unit1), {**data, "confirm": "1"})

    assert done.status_code == 302
    report = UnitReport.objects.get(unit=oworld.unit1, day=DAY)
    value = ReportValue.objects.get(version=report.current, indicator__code="registered")
    assert (value.number, value.register, value.reason) == (5, 3, "两名新到人员未登记")
    assert snapshot_value(report, "disinfection")["value"] == "办公区消毒两次"
    assert (report.notes, report.nothing_to_report) == ("无", False)


def test_a_number_that_is_not_one_gets_the_services_message_on_its_field(oworld: World) -> None:
    client = client_of(oworld, "head1")
    data = form_data(client.get(url(oworld.unit1)), v_fevers="两个", intent="submit")

    response = client.post(url(oworld.unit1), data)

    assert element(response, "id_v_fevers_error") == (
        "今日发热人数: enter a whole number from 0 to 10000000."
    )
    assert reports_of() == []


def test_the_action_taken_for_a_case_is_submitted_with_the_case(oworld: World) -> None:
    client = client_of(oworld, "head2")
    person = oworld.person21.pk
    data = form_data(
        client.get(url(oworld.unit2)),
        **{f"a_{person}": "已复测36.8°C，继续居家观察", "intent": "submit", "confirm": "1"},
    )

    client.post(url(oworld.unit2), data)

    version = UnitReport.objects.get(unit=oworld.unit2, day=DAY).current
    assert version is not None
    assert [(c["name"], c["temperature"], c["action"], c["open"]) for c in version.cases] == [
        ("王立新", "38.1", "已复测36.8°C，继续居家观察", True)
    ]


def test_the_change_button_of_the_confirmation_brings_back_what_was_typed(oworld: World) -> None:
    client = client_of(oworld, "head1")
    data = form_data(client.get(url(oworld.unit1)), v_registered="5", r_registered="新到两人")

    response = client.post(url(oworld.unit1), {**data, "intent": "submit", "edit": "1"})

    assert response.status_code == 200
    assert has_element(response, "report-form")
    assert (field_value(response, "v_registered"), field_value(response, "r_registered")) == (
        "5",
        "新到两人",
    )
    assert reports_of() == []


def test_a_draft_is_kept_without_confirmation_and_is_not_a_report(oworld: World) -> None:
    client = client_of(oworld, "head1")
    data = form_data(client.get(url(oworld.unit1)), v_duty="站长值班", intent="draft")

    done = client.post(url(oworld.unit1), data, follow=True)

    assert "Draft saved. It is not a report yet: submit it by 13:00 on 2020-02-05." in text(done)
    assert element(done, "draft-note") == (
        "A draft is saved: it is not a report until you submit it."
    )
    assert field_value(done, "v_duty") == "站长值班"
    assert element(done, "status-not-filed") == "Not filed yet. Due by 13:00."
    assert reports_of() == [("LZ-01", ReportStatus.DRAFT)]


# ---------------------------------------------------------------------------------------------
# Lateness, returns, approval


def test_after_the_deadline_the_page_says_missing_and_the_report_is_late(
    oworld: World, _frozen: Any
) -> None:
    _frozen.move_to(at(2020, 2, 5, 13, 0, 1))
    client = client_of(oworld, "head1")

    shown = client.get(url(oworld.unit1))
    asked = client.post(url(oworld.unit1), {"intent": "nothing"})
    client.post(url(oworld.unit1), {"intent": "nothing", "confirm": "1"})

    assert element(shown, "status-missing") == (
        "Not filed: the deadline (13:00) has passed. File it now: it will be late."
    )
    assert element(asked, "late-warning") == (
        "The deadline has passed: the report will be recorded as late."
    )
    assert UnitReport.objects.get(unit=oworld.unit1, day=DAY).late is True


def test_a_returned_report_shows_the_comment_and_its_correction_is_version_2(
    oworld: World,
) -> None:
    report = submit(oworld, "head1", oworld.unit1, DAY, at=at(2020, 2, 5, 9, 0))
    services.return_report(
        actor=oworld.user("office"), report=report, comment="在册人数请与台账核对后再报"
    )
    client = client_of(oworld, "head1")

    shown = client.get(url(oworld.unit1))
    data = form_data(shown, v_registered="4", r_registered="一人探亲返回", intent="submit")
    asked = client.post(url(oworld.unit1), data)
    client.post(url(oworld.unit1), {**data, "confirm": "1"})

    assert element(shown, "status-returned") == (
        "Returned by office at 2020-02-05 10:30: 在册人数请与台账核对后再报 "
        "Correct the report below and submit it again."
    )
    assert field_value(shown, "v_registered") == "3"  # the returned version's value
    assert element(asked, "confirm-title") == (
        "Submit version 2 of the report of 第一作业站 for 2020-02-05?"
    )
    report.refresh_from_db()
    assert (report.status, report.late, report.current and report.current.number) == (
        ReportStatus.SUBMITTED,
        False,
        2,
    )
    assert ReportVersion.objects.filter(report=report).count() == 2


def test_an_approved_report_can_no_longer_be_changed(oworld: World) -> None:
    client = client_of(oworld, "head2")
    day = dt.date(2020, 2, 3)
    before = oworld.report2.current_id

    shown = client.get(url(oworld.unit2, day))
    refused = client.post(url(oworld.unit2, day), {"intent": "nothing", "confirm": "1"})

    assert element(shown, "status-approved") == (
        "Approved by office at 2020-02-03 15:00. It can no longer be changed."
    )
    assert not has_element(shown, "report-form")
    assert not has_element(shown, "nothing-form")
    assert refused.status_code == 200
    oworld.report2.refresh_from_db()
    assert (oworld.report2.status, oworld.report2.current_id) == (ReportStatus.APPROVED, before)


# ---------------------------------------------------------------------------------------------
# Grids' sub-reports


def test_a_grid_worker_files_a_sub_report_once_the_office_turns_them_on(oworld: World) -> None:
    services.update_rules(actor=oworld.user("office"), grid_reports=True)
    worker = client_of(oworld, "worker11")

    shown = worker.get(url(oworld.grid11))
    worker.post(url(oworld.grid11), {"intent": "nothing", "confirm": "1"})
    unit_page = client_of(oworld, "head1").get(url(oworld.unit1))

    assert element(shown, "sub-report") == "Grid sub-report to 第一作业站"
    sub = UnitReport.objects.get(unit=oworld.grid11, day=DAY)
    assert (sub.status, sub.nothing_to_report) == (ReportStatus.SUBMITTED, True)
    assert element(unit_page, f"grid-{oworld.grid11.pk}") == (
        "一站一网格 Submitted on time in the figures View"
    )
    assert element(unit_page, f"grid-{oworld.grid12.pk}") == "一站二网格 Not yet due"


def test_without_sub_reports_a_grids_page_says_so_and_has_no_form(oworld: World) -> None:
    response = client_of(oworld, "worker11").get(url(oworld.grid11))

    assert "Grids do not file sub-reports: the office has not turned them on." in text(response)
    assert not has_element(response, "report-form")


# ---------------------------------------------------------------------------------------------
# Who may open the page


def test_a_unit_outside_the_scope_is_404_and_nothing_changes(oworld: World) -> None:
    client = client_of(oworld, "head2")

    get = client.get(url(oworld.unit1))
    post = client.post(url(oworld.unit1), {"intent": "nothing", "confirm": "1"})

    assert (get.status_code, post.status_code) == (404, 404)
    assert reports_of() == []


@pytest.mark.parametrize("username", ["auditor1", "office", "leader", "gate1"])
def test_a_role_that_does_not_file_gets_403_and_nothing_changes(
    oworld: World, username: str
) -> None:
    client = client_of(oworld, username)

    get = client.get(url(oworld.unit1))
    post = client.post(url(oworld.unit1), {"intent": "nothing", "confirm": "1"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert reports_of() == []


def test_a_branch_has_no_form(oworld: World) -> None:
    response = client_of(oworld, "admin").get(url(oworld.branch))

    assert response.status_code == 404


def test_the_form_answers_htmx_with_the_whole_page(oworld: World) -> None:
    response = client_of(oworld, "head1").get(url(oworld.unit1), **HTMX)

    assert response.status_code == 200
    assert has_element(response, "report-form")


def test_the_form_costs_the_same_queries_for_4_abnormal_cases_as_for_1(oworld: World) -> None:
    from fangkong.alerts.models import AlertKind
    from fangkong.alerts.services import raise_alert
    from fangkong.org import services as org_services

    client = client_of(oworld, "head2")
    few = count_queries(client, url(oworld.unit2))
    for i in range(3):
        person = org_services.create_person(actor=None, name=f"发热{i}", grid=oworld.grid21).person
        raise_alert(
            kind=AlertKind.FEVER,
            key=f"fever-{i}",
            unit=oworld.grid21,
            person=person,
            summary=f"发热{i}",
            data={"value": "38.0"},
            at=at(2020, 2, 5, 8, 0),
        )
    many = count_queries(client, url(oworld.unit2))

    assert many[0] == few[0] <= FORM_BUDGET
    assert many[1] > few[1]
