"""API endpoints of the daily report: the indicators, unit reports (list, read with every
version and what changed, submit, return, approve), the completeness of a period and the
branch report of a day — the aggregate a higher-level system pulls — with its approval.

The contracts of :mod:`fangkong.org.api` hold here too:

- A report outside the caller's scope is 404 as a path parameter; an org unit outside it is a
  422 on its field in a body ("No such org unit in your scope."), exactly as if it did not
  exist. Lists, the matrix and the aggregate only ever cover the units the caller may see.
- Writes call :mod:`fangkong.reporting.services` with ``actor`` = the token's user.
  ``reporting.file`` submits (the unit head; a grid worker for a grid's sub-report when the
  office has turned those on), ``reporting.review`` returns and approves (the office),
  ``reporting.approve`` approves the branch report (the leader). Without the permission
  anywhere the call is 403 before the body is looked at; over a report or unit the caller may
  see but not act on, 403 as well.
- Invalid input is 422 with the field in ``loc``: ``["body", "payload", "values", "fevers"]``
  for an indicator's value, ``["body", "payload", "reasons", "fevers"]`` for the reason of a
  difference from the register, ``["body", "payload", "nothing_to_report"]`` when the
  register has something to report.
- Lists are paginated by ``limit`` and ``offset``; each read costs the same number of queries
  whatever its length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError as ApiValidationError

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, restrict
from fangkong.org.api import ERRORS, PageIn, UnitRef, _actor, _local, _name, _page, _ref, _require
from fangkong.org.models import OrgUnit, User

from . import selectors, services
from .models import ReportStatus, ReportVersion, UnitReport

router = Router(tags=["reporting"])

# Service errors name their arguments; the API names what it takes.
_API_FIELD = {"unit": "orgunit_id", "branch": "orgunit_id"}


# ---------------------------------------------------------------------------------------------
# Schemas


class IndicatorOut(Schema):
    id: int
    code: str
    name: str
    kind: str = Field(description="count or text")
    order: int
    rule: str = Field(description="The auto-fill rule from the register; empty: by hand.")
    is_abnormal: bool = Field(description="A number above zero means something to report.")
    is_active: bool
    retired_at: dt.datetime | None


class IndicatorQuery(Schema):
    include_retired: bool = False


class ValueOut(Schema):
    code: str
    name: str
    kind: str
    value: int | str | None
    in_register: int | None = Field(description="The register's value at filing (counts).")
    reason: str = Field(description="Why the value differs from the register.")


class CaseOut(Schema):
    person_id: int
    name: str
    temperature: str = Field("", description="The day's highest, e.g. 38.1.")
    symptoms: list[str] = Field(default_factory=list)
    what: str = Field("", description="fever, symptoms, referred, suspected or confirmed")
    action: str = ""
    open: bool = Field(False, description="An alert about it is not resolved.")


class ChangeOut(Schema):
    field: str = Field(description="An indicator's code, nothing_to_report, notes, person:<id>")
    label: str
    before: Any
    after: Any


class VersionOut(Schema):
    number: int
    submitted_at: dt.datetime | None
    submitted_by: str
    nothing_to_report: bool
    notes: str
    values: list[ValueOut]
    cases: list[CaseOut]
    review_status: str
    reviewed_by: str
    reviewed_at: dt.datetime | None
    review_comment: str
    changes: list[ChangeOut] = Field(description="What changed from the previous version.")


class ReportOut(Schema):
    id: int
    unit: UnitRef
    day: dt.date
    status: str = Field(description="draft, submitted, returned or approved")
    version: int | None = Field(description="The number of the current submitted version.")
    first_submitted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    late: bool = Field(description="First submitted after the day's deadline.")
    nothing_to_report: bool
    filled_by: str
    reviewed_by: str
    reviewed_at: dt.datetime | None
    review_comment: str


class ReportDetailOut(ReportOut):
    notes: str
    values: list[ValueOut] = Field(description="The current version's values.")
    cases: list[CaseOut]
    versions: list[VersionOut]


class ReportPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReportOut]


class ReportQuery(PageIn):
    day: dt.date | None = None
    start: dt.date | None = Field(None, description="From this day on.")
    end: dt.date | None = Field(None, description="Up to this day.")
    unit_id: int | None = Field(None, description="An org unit: the reports of its subtree.")
    status: ReportStatus | None = None
    kind: Literal["unit", "grid"] | None = Field(None, description="Unit reports or grids'.")


class SubmitIn(Schema):
    orgunit_id: int = Field(description="The unit (or grid) the report is for.")
    day: dt.date
    values: dict[str, int | str] = Field(
        default_factory=dict,
        description="By indicator code; an indicator left out keeps its pre-filled value.",
    )
    reasons: dict[str, str] = Field(
        default_factory=dict, description="By code: why a count differs from the register."
    )
    nothing_to_report: bool = False
    notes: str = ""
    actions: dict[str, str] = Field(
        default_factory=dict, description="By person id: the action taken for an abnormal case."
    )


class ReturnIn(Schema):
    comment: str = Field(description="What to correct (required).")


class ApproveIn(Schema):
    comment: str = ""


class RateOut(Schema):
    expected: int
    received: int
    on_time: int
    completeness: float | None = Field(description="Received ÷ expected, in per cent.")
    timeliness: float | None = Field(description="On time ÷ expected, in per cent.")


class MatrixRowOut(Schema):
    unit: UnitRef
    cells: list[str] = Field(description="Per day: on_time, late, missing, returned, not_due.")
    reports: list[int | None]
    rate: RateOut


class CompletenessOut(Schema):
    start: dt.date
    end: dt.date
    days: list[dt.date]
    units: list[MatrixRowOut]
    overall: RateOut


class CompletenessQuery(Schema):
    start: dt.date | None = Field(None, description="Default: 6 days before the end.")
    end: dt.date | None = Field(None, description="Default: today.")
    unit_id: int | None = Field(None, description="An org unit: the units of its subtree.")


class TotalOut(Schema):
    code: str
    name: str
    kind: str
    total: int | None = Field(description="The sum of the approved unit reports (counts).")
    in_register: int | None = Field(description="The sum of their register values at filing.")


class UnitLineOut(Schema):
    unit: UnitRef
    report_id: int | None
    status: str = Field(description="The report's status, or missing / not_due.")
    submitted_at: dt.datetime | None
    late: bool
    nothing_to_report: bool
    counted: bool = Field(description="Approved: in the totals.")
    values: dict[str, int | str | None]


class BranchCaseOut(CaseOut):
    unit: UnitRef


class DifferenceOut(Schema):
    unit: UnitRef
    code: str
    name: str
    value: int
    in_register: int
    reason: str


class ApprovalOut(Schema):
    approved_at: dt.datetime
    approved_by: str
    note: str


class BranchOut(Schema):
    day: dt.date
    branch: UnitRef | None
    expected: int
    received: int
    approved: int
    totals: list[TotalOut]
    units: list[UnitLineOut]
    cases: list[BranchCaseOut]
    missing: list[UnitRef]
    differences: list[DifferenceOut]
    approval: ApprovalOut | None = Field(description="The leader's approval: sent when set.")


class BranchQuery(Schema):
    day: dt.date | None = Field(None, description="Default: today.")
    branch_id: int | None = Field(None, description="A branch; default: the caller's scope.")


class BranchApproveIn(Schema):
    orgunit_id: int = Field(description="The branch.")
    day: dt.date
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Helpers


def _report_out(report: UnitReport) -> dict[str, Any]:
    current = report.current
    return {
        "id": report.pk,
        "unit": _ref(report.unit),
        "day": report.day,
        "status": report.status,
        "version": current.number if current is not None else None,
        "first_submitted_at": _local(report.first_submitted_at),
        "submitted_at": _local(report.submitted_at),
        "late": report.late,
        "nothing_to_report": report.nothing_to_report,
        "filled_by": _name(report.filled_by),
        "reviewed_by": _name(report.reviewed_by),
        "reviewed_at": _local(report.reviewed_at),
        "review_comment": report.review_comment,
    }


def _cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("person_id", "name", "temperature", "symptoms", "what", "action", "open")
    return [{key: case[key] for key in keys if key in case} for case in cases]


def _version_out(version: ReportVersion, before: ReportVersion | None) -> dict[str, Any]:
    return {
        "number": version.number,
        "submitted_at": _local(version.submitted_at),
        "submitted_by": _name(version.submitted_by),
        "nothing_to_report": version.nothing_to_report,
        "notes": version.notes,
        "values": version.snapshot,
        "cases": _cases(version.cases),
        "review_status": version.review_status,
        "reviewed_by": _name(version.reviewed_by),
        "reviewed_at": _local(version.reviewed_at),
        "review_comment": version.review_comment,
        "changes": [change.__dict__ for change in selectors.version_diff(before, version)],
    }


def _detail(user: User, report_id: int) -> dict[str, Any]:
    report = get_scoped_or_404(_REPORT, user, report_id)
    versions = selectors.versions_of(report)
    out = _report_out(report)
    current = report.current
    out["notes"] = report.notes
    out["values"] = current.snapshot if current is not None else []
    out["cases"] = _cases(current.cases) if current is not None else []
    out["versions"] = [
        _version_out(version, versions[i - 1] if i else None) for i, version in enumerate(versions)
    ]
    return out


_REPORT = UnitReport.objects.select_related("unit", "filled_by", "reviewed_by", "current")


def _rate(rate: selectors.Rate) -> dict[str, Any]:
    return {
        "expected": rate.expected,
        "received": rate.received,
        "on_time": rate.on_time,
        "completeness": rate.completeness,
        "timeliness": rate.timeliness,
    }


def _unit_in_scope(user: User, unit_id: int, source: str, field: str) -> OrgUnit:
    unit = restrict(OrgUnit.objects.filter(is_active=True), user, Perm.REPORTING_VIEW).filter(
        pk=unit_id
    )
    found = unit.first()
    if found is None:
        loc = [source, "payload", field] if source == "body" else [source, field]
        raise ApiValidationError(
            [{"loc": loc, "msg": _("No such org unit in your scope."), "type": "value_error"}]
        )
    return found


@contextmanager
def _service_errors() -> Iterator[None]:
    """Turn a service's ValidationError into a 422 naming the request's fields
    (``values.fevers`` becomes ``["body", "payload", "values", "fevers"]``)."""
    try:
        yield
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            pairs = [(f, m) for f, messages in error.message_dict.items() for m in messages]
        else:
            pairs = [(NON_FIELD_ERRORS, m) for m in error.messages]
        detail = []
        for name, message in pairs:
            loc: list[str] = ["body", "payload"]
            if name != NON_FIELD_ERRORS:
                loc += _API_FIELD.get(name, name).split(".")
            detail.append({"loc": loc, "msg": message, "type": "value_error"})
        raise ApiValidationError(detail) from None


# ---------------------------------------------------------------------------------------------
# Endpoints


@router.get(
    "/reporting/indicators",
    response={200: list[IndicatorOut], **ERRORS},
    summary="The report's indicators",
)
def list_indicators(request: HttpRequest, filters: Query[IndicatorQuery]) -> list[dict[str, Any]]:
    """In the report's order: those in force, or all of them with ``include_retired``."""
    _require(_actor(request), Perm.REPORTING_VIEW)
    return [
        {
            "id": i.pk,
            "code": i.code,
            "name": i.name,
            "kind": i.kind,
            "order": i.order,
            "rule": i.rule,
            "is_abnormal": i.is_abnormal,
            "is_active": i.is_active,
            "retired_at": _local(i.retired_at),
        }
        for i in selectors.indicators(include_retired=filters.include_retired)
    ]


@router.get("/reporting/reports", response={200: ReportPage, **ERRORS}, summary="List reports")
def list_reports(request: HttpRequest, filters: Query[ReportQuery]) -> dict[str, Any]:
    """The daily reports of the caller's scope, newest day first."""
    user = _actor(request)
    _require(user, Perm.REPORTING_VIEW)
    unit = None
    if filters.unit_id is not None:
        unit = _unit_in_scope(user, filters.unit_id, "query", "unit_id")
    reports = selectors.reports_for(
        user,
        day=filters.day,
        start=filters.start,
        end=filters.end,
        unit=unit,
        status=filters.status or "",
        kind=filters.kind or "",
    )
    return _page(reports, filters, _report_out)


@router.post(
    "/reporting/reports",
    response={200: ReportDetailOut, **ERRORS},
    summary="Submit a unit's daily report",
)
def submit_report(request: HttpRequest, payload: SubmitIn) -> dict[str, Any]:
    """Submit (or, after a return or before the review, submit again) the report of a unit
    for a day. Indicators left out keep the value pre-filled from the register; a count that
    differs from the register needs a reason; ``nothing_to_report`` is refused, with what is
    abnormal, while the register has a case that day. Needs ``reporting.file``."""
    user = _actor(request)
    _require(user, Perm.REPORTING_FILE)
    unit = _unit_in_scope(user, payload.orgunit_id, "body", "orgunit_id")
    with _service_errors():
        report = services.submit_report(
            actor=user,
            unit=unit,
            day=payload.day,
            values=payload.values,
            reasons=payload.reasons,
            nothing_to_report=payload.nothing_to_report,
            notes=payload.notes,
            actions=payload.actions,
        )
    return _detail(user, report.pk)


@router.get(
    "/reporting/reports/{report_id}", response={200: ReportDetailOut, **ERRORS}, summary="Report"
)
def get_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    """With the current values, the abnormal cases and every submitted version with what it
    changed from the one before."""
    user = _actor(request)
    _require(user, Perm.REPORTING_VIEW)
    return _detail(user, report_id)


def _reviewable(user: User, report_id: int) -> UnitReport:
    if not (has_perm(user, Perm.REPORTING_REVIEW) or has_perm(user, Perm.REPORTING_FILE)):
        raise PermissionDenied
    return get_scoped_or_404(UnitReport.objects.select_related("unit"), user, report_id)


@router.post(
    "/reporting/reports/{report_id}/return",
    response={200: ReportDetailOut, **ERRORS},
    summary="Return a report for correction",
)
def return_report(request: HttpRequest, report_id: int, payload: ReturnIn) -> dict[str, Any]:
    """Send a submitted report back with a comment saying what to correct. Needs
    ``reporting.review`` (or, for a grid's sub-report, ``reporting.file`` over its unit)."""
    user = _actor(request)
    report = _reviewable(user, report_id)
    with _service_errors():
        services.return_report(actor=user, report=report, comment=payload.comment)
    return _detail(user, report.pk)


@router.post(
    "/reporting/reports/{report_id}/approve",
    response={200: ReportDetailOut, **ERRORS},
    summary="Approve a report",
)
def approve_report(request: HttpRequest, report_id: int, payload: ApproveIn) -> dict[str, Any]:
    """Approve a submitted report: it counts in the branch report from now on."""
    user = _actor(request)
    report = _reviewable(user, report_id)
    with _service_errors():
        services.approve_report(actor=user, report=report, comment=payload.comment)
    return _detail(user, report.pk)


@router.get(
    "/reporting/completeness",
    response={200: CompletenessOut, **ERRORS},
    summary="Completeness and timeliness",
)
def completeness(request: HttpRequest, filters: Query[CompletenessQuery]) -> dict[str, Any]:
    """Per unit and day whether the report came on time, late, was returned or is missing,
    with the rates (DHIS2 style) per unit and overall; the last 7 days by default."""
    user = _actor(request)
    _require(user, Perm.REPORTING_VIEW)
    end = filters.end or timezone.localdate()
    start = filters.start or end - dt.timedelta(days=6)
    unit = None
    if filters.unit_id is not None:
        unit = _unit_in_scope(user, filters.unit_id, "query", "unit_id")
    try:
        matrix = selectors.completeness_matrix(user, start, end, unit=unit)
    except DjangoValidationError as error:
        raise ApiValidationError(
            [
                {"loc": ["query", name], "msg": message, "type": "value_error"}
                for name, messages in error.message_dict.items()
                for message in messages
            ]
        ) from None
    return {
        "start": matrix.start,
        "end": matrix.end,
        "days": matrix.days,
        "units": [
            {
                "unit": _ref(row.unit),
                "cells": row.cells,
                "reports": row.reports,
                "rate": _rate(row.rate),
            }
            for row in matrix.rows
        ],
        "overall": _rate(matrix.rate),
    }


@router.get("/reporting/branch", response={200: BranchOut, **ERRORS}, summary="Branch report")
def branch_report(request: HttpRequest, filters: Query[BranchQuery]) -> dict[str, Any]:
    """The branch report of a day over the caller's scope: per indicator the sum of the
    approved unit reports, one line per unit, the abnormal cases, the units still missing,
    the differences from the register, and the leader's approval (sent) when there is one.
    What a higher-level system pulls every day."""
    user = _actor(request)
    _require(user, Perm.REPORTING_VIEW)
    branch = None
    if filters.branch_id is not None:
        branch = _unit_in_scope(user, filters.branch_id, "query", "branch_id")
    day = filters.day or timezone.localdate()
    return selectors.branch_aggregate(user, day, branch=branch).as_dict()


@router.post(
    "/reporting/branch/approve",
    response={200: BranchOut, **ERRORS},
    summary="Approve the branch report (it is sent)",
)
def approve_branch(request: HttpRequest, payload: BranchApproveIn) -> dict[str, Any]:
    """The leader or a deputy approves the branch report of a day; it counts as sent from
    then on, with who and when. Needs ``reporting.approve`` over the branch."""
    user = _actor(request)
    _require(user, Perm.REPORTING_APPROVE)
    branch = _unit_in_scope(user, payload.orgunit_id, "body", "orgunit_id")
    with _service_errors():
        services.approve_branch_report(
            actor=user, branch=branch, day=payload.day, note=payload.note
        )
    return selectors.branch_aggregate(user, payload.day, branch=branch).as_dict()
