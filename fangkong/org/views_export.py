"""Excel downloads of the register: the person ledger (台账) with masked numbers, the same
with full numbers (after a confirmation, recorded), and the roster import template."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import restrict
from fangkong.core.viewkit import AuthedRequest, query_without_page, requires, xlsx_response

from . import exports, selectors
from .forms import PersonFilterForm
from .models import Person


def person_filters(data: QueryDict, user: Any) -> tuple[PersonFilterForm, selectors.PersonFilters]:
    """The person list's filters read from ``data`` as the list page reads them (invalid
    filters are ignored there too), so that an export holds the rows the list shows."""
    form = PersonFilterForm(data or None, user=user)
    filters = selectors.PersonFilters()
    if form.is_valid():
        cleaned = form.cleaned_data
        filters = selectors.PersonFilters(
            q=cleaned["q"],
            unit=cleaned["unit"],
            category=cleaned["category"],
            status=cleaned["status"],
            lacks_id=cleaned["lacks_id"],
        )
    return form, filters


@require_GET
@requires(Perm.REGISTER_VIEW)
def person_export(request: AuthedRequest) -> FileResponse:
    """The person list with its filters as a ledger, ID and phone numbers masked."""
    _form, filters = person_filters(request.GET, request.user)
    return xlsx_response(
        lambda file: exports.export_person_ledger(file, user=request.user, filters=filters),
        exports.ledger_filename(),
    )


def _filter_summary(form: PersonFilterForm) -> list[tuple[str, str]]:
    """The filters in force, as (label, value) pairs to show."""
    if not form.is_bound or not form.is_valid():
        return []
    data = form.cleaned_data
    summary = []
    if data["q"]:
        summary.append((str(form.fields["q"].label), data["q"]))
    if data["unit"] is not None:
        summary.append((str(form.fields["unit"].label), str(data["unit"])))
    if data["category"]:
        summary.append((_("category"), str(Person.Category(data["category"]).label)))
    if data["status"]:
        summary.append((_("status"), str(Person.Status(data["status"]).label)))
    if data["lacks_id"]:
        summary.append((str(form.fields["lacks_id"].label), ""))
    return summary


@require_http_methods(["GET", "POST"])
@requires(Perm.PII_REVEAL)
def person_export_unmasked(request: AuthedRequest) -> HttpResponseBase:
    """GET: what the export will hold and that it is recorded, with a button to confirm.
    POST (the confirmation, with the list's filters): the ledger with full numbers, of the
    persons where the user may see them; the export is recorded in the audit trail."""
    if request.method == "POST":
        _form, filters = person_filters(request.POST, request.user)
        return xlsx_response(
            lambda file: exports.export_person_ledger(
                file, user=request.user, filters=filters, unmasked=True
            ),
            exports.ledger_filename(),
        )
    form, filters = person_filters(request.GET, request.user)
    listed = selectors.persons_for(request.user, filters)
    count = restrict(listed, request.user, Perm.PII_REVEAL).count()
    context = {
        "form": form,
        "summary": _filter_summary(form),
        "count": count,
        "left_out": listed.count() - count,
        "hidden": [
            (name, value)
            for name, values in request.GET.lists()
            if name in form.fields
            for value in values
        ],
        "query": query_without_page(request),
    }
    return render(request, "org/person_export_confirm.html", context)


@require_GET
@requires(Perm.REGISTER_EDIT)
def roster_template(request: AuthedRequest) -> FileResponse:
    """The roster import template, with the grids the user may import into."""
    return xlsx_response(
        lambda file: exports.write_roster_template(file, user=request.user),
        exports.template_filename(),
    )
