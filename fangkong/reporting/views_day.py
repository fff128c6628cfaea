"""The office's list of a day's reports (every unit with where its report stands), the review
page of one report (its values against the register, the reasons of the differences, every
version with what changed) and approving or returning it — in place with htmx, or through a
confirmation page without script.

Query budget (tests/test_pages_day.py): the list costs the same for 2 units as for 30 (the
filter's units, the rules, the counts per status, the page of units with their reports); the
review page the same for 1 version as for 5."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    query_without_page,
    render_page,
    requires,
)

from . import selectors, services
from .exports import case_rows
from .forms import BOARD_LABELS, DayFilterForm, ReviewForm
from .models import ReportStatus, UnitReport
from .selectors import Board
from .viewhelpers import requires_any, try_out

PER_PAGE = 50
REPORT_TEMPLATE = "reporting/report.html"
APPROVE = "approve"
RETURN = "return"


class _CountedPaginator(Paginator):
    """A paginator told its count (the board has it from the counts per status)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def report_url(report_id: int) -> str:
    return reverse("reporting:report", kwargs={"report_id": report_id})


# ---------------------------------------------------------------------------------------------
# A day's list


@require_GET
@requires(Perm.REPORTING_VIEW)
def day_list(request: AuthedRequest) -> HttpResponse:
    """Every unit of the scope with its report of the day: on time, late, returned,
    approved, missing or not yet due; filtered by day, status and unit, a page at a time."""
    user = request.user
    form = DayFilterForm(request.GET or None, user=user)
    day, status, unit = form.selection(timezone.localdate())
    board = selectors.day_board(user, day, unit=unit, status=status)
    total = board.counts.get(status, 0) if status else board.expected
    page = _CountedPaginator(board.units, PER_PAGE, count=total).get_page(request.GET.get("page"))
    page.object_list = board.rows(page.object_list)
    params = request.GET.copy()
    for name in ("page", "status"):
        params.pop(name, None)
    return render_page(
        request,
        "reporting/day.html",
        {
            "form": form,
            "board": board,
            "day": day,
            "status": status,
            "page": page,
            "query": query_without_page(request),
            "status_query": params.urlencode(),
            "counts": [(s, BOARD_LABELS[s], board.counts[s]) for s in Board.ALL],
            "mine": selectors.my_reports(user, day),
            "may_manage": has_perm(user, Perm.REPORTING_MANAGE),
        },
        partial="results",
    )


# ---------------------------------------------------------------------------------------------
# One report


def _report(request: AuthedRequest, report_id: int) -> UnitReport:
    return get_scoped_or_404(
        UnitReport.objects.select_related(
            "unit", "unit__parent", "current", "filled_by", "reviewed_by"
        ),
        request.user,
        report_id,
    )


def _value_lines(snapshot: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The version's lines with the difference from the register of each count."""
    lines = []
    for line in snapshot:
        register = line.get("in_register")
        value = line.get("value")
        difference = None
        if line.get("kind") == "count" and isinstance(value, int) and isinstance(register, int):
            difference = value - register or None
        differs = difference is not None
        lines.append({**line, "differs": differs, "difference": difference})
    return lines


def _review_context(
    request: AuthedRequest,
    report: UnitReport,
    *,
    form: ReviewForm | None = None,
    action: str = "",
    done: str = "",
) -> dict[str, Any]:
    may_review = report.status == ReportStatus.SUBMITTED and selectors.may_review(
        request.user, report
    )
    return {
        "report": report,
        "may_review": may_review,
        "approve_form": form
        if action == APPROVE and form is not None
        else ReviewForm(auto_id="id_approve_%s"),
        "return_form": form
        if action == RETURN and form is not None
        else ReviewForm(auto_id="id_return_%s"),
        "action": action,
        "done": done,
        "board": selectors.board_status(
            report.status,
            report.first_submitted_at,
            report.late,
            timezone.now() >= selectors.deadline_for(report.day),
        ),
    }


@require_GET
@requires(Perm.REPORTING_VIEW)
def report_detail(request: AuthedRequest, report_id: int) -> HttpResponse:
    """The report as last submitted, its values against the register (differences with
    their reasons), the abnormal cases, every version with what it changed, and the review."""
    report = _report(request, report_id)
    versions = selectors.versions_of(report)
    history = [
        (version, selectors.version_diff(versions[i - 1] if i else None, version))
        for i, version in enumerate(versions)
    ]
    current = report.current
    context = {
        **_review_context(request, report),
        "lines": _value_lines(current.snapshot) if current is not None else [],
        "cases": case_rows(current.cases) if current is not None else [],
        "version": current,
        "history": list(reversed(history)),
        "may_file": may(request.user, Perm.REPORTING_FILE, report),
    }
    return render(request, REPORT_TEMPLATE, context)


def _review(request: AuthedRequest, report_id: int, action: str) -> HttpResponseBase:
    """GET: the action as a page (no script); POST: the page again, asking to confirm (or
    with what the service refuses); POST with ``confirm``: done. With htmx the answer is
    the review panel of the report page."""
    user = request.user
    report = _report(request, report_id)
    if not selectors.may_review(user, report):
        raise PermissionDenied
    form = ReviewForm(request.POST if request.method == "POST" else None)
    asked = False
    if request.method == "POST" and form.is_valid():
        comment = form.cleaned_data["comment"]

        def call() -> UnitReport:
            if action == APPROVE:
                return services.approve_report(actor=user, report=report, comment=comment)
            return services.return_report(actor=user, report=report, comment=comment)

        if request.POST.get("confirm"):
            try:
                call()
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                done = _done(action, report)
                if request.htmx:
                    return _panel(request, report_id, done=done)
                messages.success(request, done)
                return redirect(report_url(report.pk))
        else:
            _result, refused = try_out(call)
            if refused is not None:
                apply_service_errors(form, refused)
            asked = refused is None
    if request.htmx:
        return _panel(request, report_id, form=form, action=action)
    return render(
        request,
        "reporting/review_confirm.html",
        {**_review_context(request, report), "form": form, "action": action, "asked": asked},
    )


def _done(action: str, report: UnitReport) -> str:
    values = {"unit": report.unit.name, "day": report.day.isoformat()}
    if action == APPROVE:
        return _("%(unit)s, %(day)s: approved. It counts in the branch report.") % values
    return _("%(unit)s, %(day)s: returned to the unit with your comment.") % values


def _panel(
    request: AuthedRequest,
    report_id: int,
    *,
    form: ReviewForm | None = None,
    action: str = "",
    done: str = "",
) -> HttpResponse:
    report = _report(request, report_id)
    context = _review_context(request, report, form=form, action=action, done=done)
    response = render(request, f"{REPORT_TEMPLATE}#review", context)
    response.headers["Vary"] = "HX-Request"
    return response


@require_http_methods(["GET", "POST"])
@requires_any(Perm.REPORTING_REVIEW, Perm.REPORTING_FILE)
def approve(request: AuthedRequest, report_id: int) -> HttpResponseBase:
    """Approve a submitted report (a comment is optional): it counts in the branch report."""
    return _review(request, report_id, APPROVE)


@require_http_methods(["GET", "POST"])
@requires_any(Perm.REPORTING_REVIEW, Perm.REPORTING_FILE)
def return_report(request: AuthedRequest, report_id: int) -> HttpResponseBase:
    """Return a submitted report to the unit with a comment saying what to correct."""
    return _review(request, report_id, RETURN)
