"""The risk-area list import page: upload a file, and it is imported whole or not at all
(the problems are shown by row and column); and the template to fill in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from fangkong.core.permissions import Perm
from fangkong.core.viewkit import AuthedRequest, requires, xlsx_response

from . import imports

# Problems shown on the page (all of them are counted; the command line prints them all).
SHOWN_PROBLEMS = 500


class RiskAreaImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("The filled-in template (.xlsx), or a CSV file."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


@requires(Perm.RISK_AREAS_MANAGE)
def risk_area_import(request: AuthedRequest) -> HttpResponse:
    """GET: the upload form. POST: import the file (all or nothing); with problems, the
    page again with the table of problems, else back to the risk areas with the counts."""
    form = RiskAreaImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = imports.import_risk_areas(actor=request.user, source=upload, name=upload.name)
        if report.committed:
            messages.success(request, report.summary())
            return redirect("screening:risk_area_list")
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "problems": report.problems[:SHOWN_PROBLEMS] if report else [],
        "more_problems": max(0, len(report.problems) - SHOWN_PROBLEMS) if report else 0,
        "max_megabytes": f"{settings.IMPORT_MAX_BYTES / 1_000_000:g}",
    }
    return render(request, "screening/risk_area_import.html", context)


@require_GET
@requires(Perm.RISK_AREAS_MANAGE)
def risk_area_template(request: AuthedRequest) -> FileResponse:
    """The import template: the list sheet with an example row, and its instructions."""
    return xlsx_response(imports.write_template, imports.template_filename())
