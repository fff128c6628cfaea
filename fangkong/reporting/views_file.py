"""The unit's report of a day (filed by the unit head on a phone; by a grid worker for a
grid's sub-report when the office has turned those on): the values pre-filled from the
register with the register's value beside each number, a reason when a number differs, the
abnormal cases with the action taken, the day's work, the notes, "nothing to report" as one
button, a confirmation before submitting, and — after the office returned it — the comment,
to correct and submit again.

Query budget: a fixed number of queries whatever the register's size (the pre-fill reads
the register once per auto-fill rule)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404
from fangkong.core.viewkit import AuthedRequest, requires
from fangkong.org.models import OrgUnit

from . import selectors, services
from .forms import (
    ReportForm,
    action_field,
    apply_report_errors,
    reason_field,
    report_initial,
    value_field,
)
from .models import Indicator, ReportStatus, UnitReport
from .prefill import Case
from .rules import current_rules, deadline_of, is_due
from .viewhelpers import day_param, try_out

NOTHING = "nothing"
SUBMIT = "submit"
DRAFT = "draft"


@dataclass
class CountLine:
    """A number of the form with its reason and the register's value beside it."""

    indicator: Indicator
    value: forms.BoundField
    reason: forms.BoundField
    register: int | None

    @property
    def differs(self) -> bool:
        typed = str(self.value.value() or "").strip()
        return self.register is not None and typed != "" and typed != str(self.register)


@dataclass
class CaseLine:
    case: Case
    action: forms.BoundField


def file_url(unit: OrgUnit, day: dt.date) -> str:
    return f"{reverse('reporting:file', kwargs={'orgunit_id': unit.pk})}?day={day.isoformat()}"


def _unit(request: AuthedRequest, orgunit_id: int) -> OrgUnit:
    unit = get_scoped_or_404(
        OrgUnit.objects.filter(is_active=True).select_related("parent"),
        request.user,
        orgunit_id,
        Perm.REPORTING_FILE,
    )
    if unit.kind not in (OrgUnit.Kind.UNIT, OrgUnit.Kind.GRID):
        raise Http404
    return unit


def _service_call(
    intent: str, user: Any, unit: OrgUnit, day: dt.date, values: dict[str, Any]
) -> Any:
    if intent == DRAFT:
        return lambda: services.save_draft(actor=user, unit=unit, day=day, **values)
    return lambda: services.submit_report(actor=user, unit=unit, day=day, **values)


def _lines(
    form: ReportForm, register: dict[str, int], records: dict[str, str]
) -> tuple[list[CountLine], list[tuple[Any, str]]]:
    """The count lines, and the text fields each with the text written from the day's
    records (shown beside it, as the register's value is beside a count)."""
    counts = []
    texts = []
    for indicator in form.indicators:
        code = indicator.code
        if indicator.is_count:
            counts.append(
                CountLine(
                    indicator, form[value_field(code)], form[reason_field(code)], register.get(code)
                )
            )
        else:
            texts.append((form[value_field(code)], records.get(code, "")))
    return counts, texts


def _confirm_lines(snapshot: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **line,
            "differs": line["kind"] == "count"
            and line.get("in_register") is not None
            and line["value"] != line["in_register"],
        }
        for line in snapshot
    ]


@require_http_methods(["GET", "POST"])
@requires(Perm.REPORTING_FILE)
def file_report(request: AuthedRequest, orgunit_id: int) -> HttpResponseBase:
    """GET: the report of ``?day=`` (today by default) to fill in. POST ``intent=nothing``:
    "nothing to report" with the register's figures; ``intent=submit``: the form; both
    answered with a confirmation of what will be submitted (or the service's refusal), then
    submitted with ``confirm``. ``intent=draft`` keeps the form as a draft."""
    user = request.user
    unit = _unit(request, orgunit_id)
    today = timezone.localdate()
    day = min(day_param(request), today)
    rules = current_rules()
    indicators = services.active_indicators()
    filled = services.prefill(units=[unit], day=day, indicators=indicators, rules=rules)[unit.pk]
    report: UnitReport | None = (
        selectors.reports_for(user, day=day, unit=unit).filter(unit=unit).first()
    )
    draft = selectors.draft_of(report) if report is not None else None
    version = draft or (report.current if report is not None else None)
    initial = report_initial(
        indicators,
        filled,
        snapshot=version.snapshot if version is not None else None,
        cases=version.cases if version is not None else None,
        nothing_to_report=version.nothing_to_report if version is not None else False,
        notes=version.notes if version is not None else "",
    )
    intent = request.POST.get("intent", SUBMIT) if request.method == "POST" else ""
    bound = request.method == "POST" and intent != NOTHING
    form = ReportForm(
        request.POST if bound else None,
        initial=initial,
        indicators=indicators,
        cases=filled.cases,
    )
    nothing_errors: list[str] = []
    editing = bool(request.POST.get("edit"))  # "Change" on the confirmation: the form again
    if request.method == "POST" and not editing and (intent == NOTHING or form.is_valid()):
        values = {"nothing_to_report": True} if intent == NOTHING else form.submission()
        call = _service_call(intent, user, unit, day, values)
        if intent == DRAFT or request.POST.get("confirm"):
            try:
                call()
            except ValidationError as error:
                if intent == NOTHING:
                    nothing_errors = error.messages
                else:
                    apply_report_errors(form, error)
            else:
                messages.success(request, _done(intent, unit, day, rules))
                return redirect(file_url(unit, day))
        else:
            result, refused = try_out(call)
            if refused is not None:
                if intent == NOTHING:
                    nothing_errors = refused.messages
                else:
                    apply_report_errors(form, refused)
            else:
                return _confirm(request, unit, day, intent, result, report)
    counts, texts = _lines(form, filled.register, filled.texts)
    now = timezone.now()
    status = report.status if report is not None else ""
    context = {
        "unit": unit,
        "day": day,
        "today": today,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1) if day < today else None,
        "deadline": deadline_of(day, rules),
        "due": is_due(day, now, rules),
        "report": report,
        "draft": draft,
        "board": selectors.board_status(
            status,
            report.first_submitted_at if report else None,
            bool(report and report.late),
            is_due(day, now, rules),
        ),
        "form": form,
        "counts": counts,
        "texts": texts,
        "cases": [CaseLine(case, form[action_field(case.person_id)]) for case in filled.cases],
        "nothing_errors": nothing_errors,
        "closed": unit.kind == OrgUnit.Kind.GRID and not rules.grid_reports,
        "approved": status == ReportStatus.APPROVED,
        "grid_reports": rules.grid_reports,
        "grids": selectors.grid_reports_of(user, unit, day)
        if unit.kind == OrgUnit.Kind.UNIT and rules.grid_reports
        else [],
        "used_grid_reports": set(filled.grid_reports),
    }
    return render(request, "reporting/file.html", context)


def _done(intent: str, unit: OrgUnit, day: dt.date, rules: Any) -> str:
    if intent == DRAFT:
        return _("Draft saved. It is not a report yet: submit it by %(deadline)s on %(day)s.") % {
            "deadline": timezone.localtime(deadline_of(day, rules)).strftime("%H:%M"),
            "day": day.isoformat(),
        }
    if intent == NOTHING:
        return _("%(unit)s: 'nothing to report' submitted for %(day)s.") % {
            "unit": unit.name,
            "day": day.isoformat(),
        }
    return _("%(unit)s: the report of %(day)s is submitted.") % {
        "unit": unit.name,
        "day": day.isoformat(),
    }


def _confirm(
    request: AuthedRequest,
    unit: OrgUnit,
    day: dt.date,
    intent: str,
    result: UnitReport | None,
    report: UnitReport | None,
) -> HttpResponse:
    """What will be submitted (as the service would keep it), with the form's values in
    hidden fields and a button to confirm."""
    assert result is not None and result.current is not None
    version = result.current
    posted = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", "confirm")
        for value in values
    ]
    return render(
        request,
        "reporting/file_confirm.html",
        {
            "unit": unit,
            "day": day,
            "intent": intent,
            "nothing_to_report": version.nothing_to_report,
            "lines": _confirm_lines(version.snapshot),
            "cases": version.cases,
            "notes": version.notes,
            "late": result.late and (report is None or report.first_submitted_at is None),
            "correction": report is not None and report.first_submitted_at is not None,
            "number": version.number,
            "posted": posted,
            "back": file_url(unit, day),
        },
    )
