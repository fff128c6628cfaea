"""The branch report of a day (统一信息报送): the print-ready A4 page (branch totals per
indicator, one row per unit, the abnormal cases, the units still missing, the differences
from the register), the leader's approval — after which it counts as sent — and the
``.xlsx`` in the upward format. Everything through
:func:`fangkong.reporting.selectors.branch_aggregate` (a fixed number of queries)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, scope_for
from fangkong.core.viewkit import AuthedRequest, apply_service_errors, requires, xlsx_response
from fangkong.org.models import OrgUnit

from . import selectors, services
from .exports import UNIT_STATUS, branch_filename, case_rows, write_branch_report
from .forms import BranchApproveForm, BranchFilterForm
from .viewhelpers import html_value


def _selection(request: AuthedRequest) -> tuple[BranchFilterForm, Any, OrgUnit | None]:
    form = BranchFilterForm(request.GET or None, user=request.user)
    day, branch = form.selection(timezone.localdate())
    return form, day, branch


def branch_url(day: Any, branch: OrgUnit | None, name: str = "reporting:branch") -> str:
    params = {"day": day.isoformat()}
    if branch is not None:
        params["branch"] = str(branch.pk)
    return f"{reverse(name)}?{urlencode(params)}"


def unit_rows(
    aggregate: selectors.BranchAggregate, counts: list[selectors.Line]
) -> list[tuple[SafeString, bool, bool, SafeString]]:
    """The units' table written once here (600 units × a cell per count cost the template
    most of the page), a row per unit: its HTML up to the status word, whether it was late
    and had nothing to report (the template adds those words), and the rest of the row with
    the number cells (empty when the report is not counted)."""
    codes = [line.code for line in counts]
    empty = '<td class="num"></td>' * len(codes)
    rows = []
    for u in aggregate.units:
        if u.counted:
            values = u.values
            cells = "".join(
                '<td class="num"></td>'
                if (value := values.get(code)) is None
                else f'<td class="num">{html_value(value)}</td>'
                for code in codes
            )
        else:
            cells = empty
        status = UNIT_STATUS.get(u.status)
        submitted = template_localtime(u.submitted_at)
        head = (
            f'<tr id="unit-{html_value(u.unit.pk)}" class="{"" if u.counted else "not-counted"}">'
            f"\n        <td>{html_value(u.unit.name)}</td>"
            f'\n        <td class="status">{"" if status is None else html_value(status)}'
        )
        tail = (
            "</td>\n        <td>"
            + ("—" if submitted is None else f"{submitted.hour:02d}:{submitted.minute:02d}")
            + f"</td>\n        {cells}\n      </tr>"
        )
        rows.append((mark_safe(head), u.late, u.nothing_to_report, mark_safe(tail)))
    return rows


def work_items(aggregate: selectors.BranchAggregate) -> SafeString:
    """The day's work, as the list's items: each text filled in a counted report, with its
    unit and indicator."""
    texts = [(line.code, html_value(line.name)) for line in aggregate.lines if line.kind == "text"]
    return mark_safe(
        "".join(
            f"<li>{html_value(u.unit.name)} · {name}: {html_value(text)}</li>"
            for u in aggregate.units
            if u.counted
            for code, name in texts
            if (text := u.values.get(code))
        )
    )


@require_GET
@requires(Perm.REPORTING_VIEW)
def branch(request: AuthedRequest) -> HttpResponse:
    """The branch report of ``?day=`` (today by default) over the user's scope."""
    user = request.user
    form, day, the_branch = _selection(request)
    aggregate = selectors.branch_aggregate(user, day, branch=the_branch)
    approval = aggregate.approval
    target = aggregate.branch
    counts = [line for line in aggregate.lines if line.kind == "count"]
    return render(
        request,
        "reporting/branch.html",
        {
            "form": form,
            "aggregate": aggregate,
            "day": day,
            "cases": case_rows(aggregate.cases),
            "counts": counts,
            "rows": unit_rows(aggregate, counts),
            "work": work_items(aggregate),
            "may_approve": target is not None
            and scope_for(user, Perm.REPORTING_APPROVE).covers(target),
            "changed": approval is not None
            and approval.snapshot != aggregate.as_dict(with_approval=False),
            "xlsx_url": branch_url(day, the_branch, "reporting:branch_xlsx"),
            "approve_url": branch_url(day, target, "reporting:branch_approve"),
            "previous_url": branch_url(day - dt.timedelta(days=1), the_branch),
            "next_url": branch_url(day + dt.timedelta(days=1), the_branch)
            if day < timezone.localdate()
            else "",
        },
    )


@require_GET
@requires(Perm.REPORTING_VIEW)
def branch_xlsx(request: AuthedRequest) -> HttpResponseBase:
    """The branch report as ``.xlsx`` in the upward format (see exports.py)."""
    _form, day, the_branch = _selection(request)
    aggregate = selectors.branch_aggregate(request.user, day, branch=the_branch)
    return xlsx_response(
        lambda file: write_branch_report(file, aggregate), branch_filename(aggregate)
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.REPORTING_APPROVE)
def branch_approve(request: AuthedRequest) -> HttpResponse:
    """GET: what will be approved (and then counts as sent), to confirm with an optional
    note; POST: the leader's approval, recorded with who and when."""
    user = request.user
    _form, day, the_branch = _selection(request)
    if the_branch is None:
        raise Http404
    check_perm_on(user, Perm.REPORTING_APPROVE, the_branch)
    form = BranchApproveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.approve_branch_report(
                actor=user, branch=the_branch, day=day, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The branch report of %(day)s is approved: it counts as sent.")
                % {"day": day.isoformat()},
            )
            return redirect(branch_url(day, the_branch))
    aggregate = selectors.branch_aggregate(user, day, branch=the_branch)
    return render(
        request,
        "reporting/branch_approve.html",
        {
            "form": form,
            "aggregate": aggregate,
            "day": day,
            "counts": [line for line in aggregate.lines if line.kind == "count"],
            "back": branch_url(day, the_branch),
        },
    )
