"""Filing a unit's daily report: on time or late against the deadline, corrections of the
register with their reasons, "nothing to report" and when it is refused, drafts, versions
and their differences, review by the office, and who may do what.

The world (``fangkong.core.testing``) with its running episodes: 王立新 (LZ-02-01) had
38.1 °C on 2020-02-04 (an open fever alert); 张小明 (LZ-01-01) 36.6 °C. The world's reports
of 2020-02-03 exist already. The day filed here is 2020-02-05 unless said otherwise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.core.testing import World
from fangkong.observation import services as observation
from fangkong.reporting import selectors, services
from fangkong.reporting.models import ReportStatus, ReportValue, ReportVersion, UnitReport

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2020, 2, 5)
DEADLINE = dt.datetime(2020, 2, 5, 13, 0, tzinfo=SH)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(dt.datetime(2020, 2, 5, 18, 0, tzinfo=SH), tick=False) as t:
        yield t


def messages(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


def submit(world: World, username: str = "head1", **kwargs: Any) -> UnitReport:
    kwargs.setdefault("unit", world.unit1 if username != "head2" else world.unit2)
    kwargs.setdefault("day", DAY)
    return services.submit_report(actor=world.user(username), **kwargs)


# ---------------------------------------------------------------------------------------------
# The deadline


def test_a_report_one_second_before_the_deadline_is_on_time(oworld: World) -> None:
    report = submit(oworld, at=DEADLINE - SECOND)

    assert (report.status, report.late) == (ReportStatus.SUBMITTED, False)
    assert report.first_submitted_at == DEADLINE - SECOND


def test_a_report_at_the_deadline_itself_is_on_time(oworld: World) -> None:
    assert submit(oworld, at=DEADLINE).late is False


def test_a_report_one_second_after_the_deadline_is_late(oworld: World) -> None:
    report = submit(oworld, at=DEADLINE + SECOND)

    assert (report.status, report.late) == (ReportStatus.SUBMITTED, True)


def test_the_deadline_is_the_offices_rule(oworld: World) -> None:
    services.update_rules(actor=oworld.user("office"), deadline=dt.time(10, 0))

    report = submit(oworld, at=dt.datetime(2020, 2, 5, 10, 0, 1, tzinfo=SH))

    assert report.late is True


def test_a_correction_after_a_return_does_not_make_an_on_time_report_late(
    oworld: World,
) -> None:
    report = submit(oworld, at=DEADLINE - SECOND)
    services.return_report(actor=oworld.user("office"), report=report, comment="请补充说明")

    again = submit(oworld, at=DEADLINE + dt.timedelta(hours=3), notes="已补充")

    assert (again.status, again.late, again.first_submitted_at) == (
        ReportStatus.SUBMITTED,
        False,
        DEADLINE - SECOND,
    )
    assert again.submitted_at == DEADLINE + dt.timedelta(hours=3)


def test_a_report_for_a_day_not_yet_come_is_refused(oworld: World) -> None:
    with pytest.raises(ValidationError) as error:
        submit(oworld, day=dt.date(2020, 2, 6))

    assert messages(error) == {
        "day": ["2020-02-06 has not come yet: a report is filed on its day or later."]
    }


# ---------------------------------------------------------------------------------------------
# Values, the register and reasons


def _line(report: UnitReport, code: str) -> dict[str, Any]:
    assert report.current is not None
    return next(line for line in report.current.snapshot if line["code"] == code)


def test_the_report_keeps_the_register_values_when_nothing_is_corrected(oworld: World) -> None:
    report = submit(oworld, values={"disinfection": "办公区消毒两次"})

    assert _line(report, "registered") == {
        "code": "registered",
        "name": "在册人数",
        "kind": "count",
        "value": 3,
        "in_register": 3,
        "reason": "",
    }
    assert _line(report, "home_isolation")["value"] == 1  # 张小明
    assert _line(report, "disinfection")["value"] == "办公区消毒两次"
    assert ReportValue.objects.filter(version=report.current).count() == 15


def test_a_number_that_differs_from_the_register_needs_a_reason(oworld: World) -> None:
    with pytest.raises(ValidationError) as error:
        submit(oworld, values={"registered": 5})

    assert messages(error) == {
        "reasons.registered": [
            "在册人数: 5 differs from the register (3): say why, e.g. 'two arrivals not yet "
            "registered'."
        ]
    }
    assert not UnitReport.objects.filter(unit=oworld.unit1, day=DAY).exists()


def test_the_difference_and_its_reason_stay_visible(oworld: World) -> None:
    report = submit(oworld, values={"registered": "5"}, reasons={"registered": "两名新到未登记"})

    value = ReportValue.objects.get(version=report.current, indicator__code="registered")
    assert (value.number, value.register, value.reason, value.differs) == (
        5,
        3,
        "两名新到未登记",
        True,
    )


def test_a_reason_without_a_difference_is_not_kept(oworld: World) -> None:
    report = submit(oworld, reasons={"registered": "无"})

    assert _line(report, "registered")["reason"] == ""


@pytest.mark.parametrize("value", [-1, "abc", 1.5, True, 10_000_001])
def test_a_count_must_be_a_whole_number_in_range(oworld: World, value: Any) -> None:
    with pytest.raises(ValidationError) as error:
        submit(oworld, values={"away": value}, reasons={"away": "x"})

    assert messages(error) == {
        "values.away": ["外出人数: enter a whole number from 0 to 10000000."]
    }


def test_an_unknown_or_retired_indicator_is_refused(oworld: World) -> None:
    from fangkong.reporting.models import Indicator

    services.retire_indicator(actor=None, indicator=Indicator.objects.get(code="duty"))

    with pytest.raises(ValidationError) as error:
        submit(oworld, values={"duty": "24小时值班"})

    assert messages(error) == {
        "values.duty": ["duty is not an indicator of the report (it may have been retired)."]
    }


# ---------------------------------------------------------------------------------------------
# Nothing to report


def test_nothing_to_report_is_one_click_when_the_register_has_nothing_abnormal(
    oworld: World,
) -> None:
    report = submit(oworld, nothing_to_report=True)

    assert report.nothing_to_report is True
    assert report.current is not None and report.current.cases == []


def test_nothing_to_report_is_refused_while_a_fever_is_open(oworld: World) -> None:
    """王立新's fever alert of 2020-02-04 is still open on 2020-02-05."""
    with pytest.raises(ValidationError) as error:
        submit(oworld, "head2", nothing_to_report=True)

    assert messages(error) == {
        "nothing_to_report": [
            "Not 'nothing to report' on 2020-02-05: 王立新 (38.1 °C, fever, not resolved). "
            "Report what happened and what was done."
        ]
    }


def test_the_same_report_with_the_case_and_its_action_is_accepted(oworld: World) -> None:
    report = submit(oworld, "head2", actions={str(oworld.person21.pk): "已复测，送医观察"})

    assert report.current is not None
    assert report.current.cases == [
        {
            "person_id": oworld.person21.pk,
            "name": "王立新",
            "unit_id": oworld.grid21.pk,
            "temperature": "38.1",
            "symptoms": [],
            "what": "fever",
            "action": "已复测，送医观察",
            "open": True,
        }
    ]


def test_nothing_to_report_is_refused_with_a_fever_reported_by_hand(oworld: World) -> None:
    with pytest.raises(ValidationError) as error:
        submit(
            oworld,
            nothing_to_report=True,
            values={"fevers": 1},
            reasons={"fevers": "访视时发现发热"},
        )

    assert messages(error)["nothing_to_report"] == [
        "Not 'nothing to report' on 2020-02-05: 今日发热人数: 1. Report what happened and what "
        "was done."
    ]


def test_nothing_to_report_is_refused_on_the_day_of_a_fever_even_once_resolved(
    oworld: World,
) -> None:
    result = observation.record_reading(
        actor=None,
        episode=oworld.episode1,
        value="37.6",
        taken_at=dt.datetime(2020, 2, 5, 8, 0, tzinfo=SH),
    )
    from fangkong.alerts.services import resolve_alert

    assert result.alert is not None
    resolve_alert(actor=None, alert=result.alert, note="复测36.7℃")

    with pytest.raises(ValidationError) as error:
        submit(oworld, nothing_to_report=True)

    assert "张小明 (37.6 °C, fever)" in messages(error)["nothing_to_report"][0]


def test_an_action_for_someone_who_is_no_case_is_refused(oworld: World) -> None:
    with pytest.raises(ValidationError) as error:
        submit(oworld, actions={str(oworld.person11.pk): "无"})

    assert messages(error) == {
        f"actions.{oworld.person11.pk}": ["This person is not among the day's abnormal cases."]
    }


# ---------------------------------------------------------------------------------------------
# Drafts, versions, review


def test_a_draft_is_kept_and_is_not_a_report(oworld: World) -> None:
    report = services.save_draft(
        actor=oworld.user("head1"), unit=oworld.unit1, day=DAY, values={"registered": 4}
    )

    assert (report.status, report.current, report.first_submitted_at) == (
        ReportStatus.DRAFT,
        None,
        None,
    )
    draft = selectors.draft_of(report)
    assert draft is not None and draft.number == 1
    assert next(v for v in draft.snapshot if v["code"] == "registered")["value"] == 4


def test_submitting_after_a_draft_turns_the_draft_into_version_one(oworld: World) -> None:
    services.save_draft(actor=oworld.user("head1"), unit=oworld.unit1, day=DAY, notes="草稿")

    report = submit(oworld, notes="正式")

    assert ReportVersion.objects.filter(report=report).count() == 1
    assert report.current is not None
    assert (report.current.number, report.current.notes) == (1, "正式")


def test_a_draft_of_a_submitted_report_waiting_for_review_is_refused(oworld: World) -> None:
    submit(oworld)

    with pytest.raises(ValidationError) as error:
        services.save_draft(actor=oworld.user("head1"), unit=oworld.unit1, day=DAY)

    assert error.value.messages == [
        "The report is submitted and waits for review: submit a corrected version instead."
    ]


def test_a_returned_report_is_corrected_and_every_version_is_kept_with_its_changes(
    oworld: World,
) -> None:
    first = submit(oworld, nothing_to_report=True)
    services.return_report(actor=oworld.user("office"), report=first, comment="外出人数请核实")
    second = submit(oworld, values={"away": 1}, reasons={"away": "张建国出差"})

    versions = selectors.versions_of(second)

    assert [(v.number, v.review_status, v.review_comment) for v in versions] == [
        (1, ReportStatus.RETURNED, "外出人数请核实"),
        (2, "", ""),
    ]
    changes = selectors.version_diff(versions[0], versions[1])
    assert [(c.field, c.label, c.before, c.after) for c in changes] == [
        ("away", "外出人数", 0, 1),
        ("nothing_to_report", "Nothing to report", True, False),
    ]
    assert (second.status, second.review_comment) == (ReportStatus.SUBMITTED, "")


def test_a_draft_of_a_returned_report_leaves_the_submitted_version_as_it_was(
    oworld: World,
) -> None:
    report = submit(oworld, notes="第一版")
    services.return_report(actor=oworld.user("office"), report=report, comment="请补充")

    services.save_draft(actor=oworld.user("head1"), unit=oworld.unit1, day=DAY, notes="草稿")

    report.refresh_from_db()
    assert (report.status, report.notes) == (ReportStatus.RETURNED, "第一版")
    assert report.current is not None and report.current.number == 1
    draft = selectors.draft_of(report)
    assert draft is not None and (draft.number, draft.notes) == (2, "草稿")
    assert [v.number for v in selectors.versions_of(report)] == [1]


def test_returning_needs_a_comment(oworld: World) -> None:
    report = submit(oworld)

    with pytest.raises(ValidationError) as error:
        services.return_report(actor=oworld.user("office"), report=report, comment="  ")

    assert messages(error) == {
        "comment": ["Say what to correct, e.g. 'fevers: 张三 was re-checked at 36.8 °C'."]
    }


def test_an_approved_report_can_no_longer_change(oworld: World) -> None:
    report = submit(oworld)
    services.approve_report(actor=oworld.user("office"), report=report)

    with pytest.raises(ValidationError) as error:
        submit(oworld)

    assert error.value.messages == [
        "The report of 2020-02-05 is approved: it can no longer be changed."
    ]


def test_only_a_submitted_report_is_reviewed(oworld: World) -> None:
    report = services.save_draft(actor=oworld.user("head1"), unit=oworld.unit1, day=DAY)

    with pytest.raises(ValidationError) as error:
        services.approve_report(actor=oworld.user("office"), report=report)

    assert error.value.messages == ["Only a submitted report can be reviewed (this one is Draft)."]


# ---------------------------------------------------------------------------------------------
# Who may


def test_a_unit_head_files_for_their_unit_only(oworld: World) -> None:
    with pytest.raises(PermissionDenied):
        submit(oworld, "head1", unit=oworld.unit2)


@pytest.mark.parametrize("username", ["office", "leader", "auditor1", "worker11", "gate1"])
def test_who_is_not_a_unit_head_does_not_file_the_units_report(
    oworld: World, username: str
) -> None:
    with pytest.raises(PermissionDenied):
        submit(oworld, username, unit=oworld.unit1)


@pytest.mark.parametrize("username", ["head1", "leader", "auditor1", "worker11"])
def test_only_the_office_reviews_unit_reports(oworld: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        services.approve_report(actor=oworld.user(username), report=oworld.report1)
    with pytest.raises(PermissionDenied):
        services.return_report(actor=oworld.user(username), report=oworld.report1, comment="x")


def test_a_grid_files_a_sub_report_only_when_the_office_turns_them_on(oworld: World) -> None:
    with pytest.raises(ValidationError) as error:
        submit(oworld, "worker11", unit=oworld.grid11)

    assert messages(error) == {
        "unit": [
            "Grids do not file sub-reports (the office has not turned them on): the unit head "
            "files the unit's report."
        ]
    }
    services.update_rules(actor=oworld.user("office"), grid_reports=True)
    assert submit(oworld, "worker11", unit=oworld.grid11).status == ReportStatus.SUBMITTED


def test_the_unit_head_reviews_their_grids_sub_reports(oworld: World) -> None:
    services.update_rules(actor=None, grid_reports=True)
    report = submit(oworld, "worker11", unit=oworld.grid11)

    with pytest.raises(PermissionDenied):
        services.approve_report(actor=oworld.user("head2"), report=report)
    approved = services.approve_report(actor=oworld.user("head1"), report=report)

    assert approved.status == ReportStatus.APPROVED


def test_a_branch_files_no_report(oworld: World) -> None:
    with pytest.raises(ValidationError) as error:
        submit(oworld, "admin", unit=oworld.branch)

    assert messages(error) == {
        "unit": ["Only units (and grids, when turned on) file daily reports."]
    }


def test_the_rules_are_changed_by_the_office_only(oworld: World) -> None:
    with pytest.raises(PermissionDenied):
        services.update_rules(actor=oworld.user("head1"), deadline=dt.time(12, 0))

    rules = services.update_rules(actor=oworld.user("office"), deadline=dt.time(12, 0))

    assert (rules.deadline, rules.grid_reports) == (dt.time(12, 0), False)
    last = rules.history.first()
    assert last is not None and last.history_user == oworld.user("office")


def test_filing_keeps_an_audit_trail_of_the_report(oworld: World) -> None:
    report = submit(oworld)
    services.approve_report(actor=oworld.user("office"), report=report)

    trail = list(
        UnitReport.history.filter(id=report.pk)
        .order_by("history_date", "history_id")
        .values_list("status", "history_user__username")
    )

    assert trail == [
        ("draft", "head1"),
        ("submitted", "head1"),
        ("approved", "office"),
    ]
