from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm
from fangkong.core.viewkit import (
    AuthedRequest,
    paginate,
    query_without_page,
    render_page,
    requires,
    save_form,
)

from . import selectors, services
from .forms import RiskAreaEndForm, RiskAreaFilterForm, RiskAreaPeriodForm
from .models import Region

# Region search: at most this many choices under the field.
MAX_REGION_CHOICES = 20


@requires(Perm.REGISTER_VIEW)
def risk_area_list(request: AuthedRequest) -> HttpResponse:
    form = RiskAreaFilterForm(request.GET or None)
    today = timezone.localdate()
    filters = selectors.RiskPeriodFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.RiskPeriodFilters(
            q=data["q"], level=data["level"], current_on=today if data["current"] else None
        )
    page = paginate(request, selectors.risk_periods(filters))
    return render_page(
        request,
        "screening/risk_area_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "today": today,
            "may_manage": has_perm(request.user, Perm.RISK_AREAS_MANAGE),
        },
        partial="results",
    )


@requires(Perm.RISK_AREAS_MANAGE)
def risk_area_create(request: AuthedRequest) -> HttpResponse:
    initial: dict[str, Any] = {"start": timezone.localdate()}
    if request.GET.get("region"):
        initial["region"] = get_object_or_404(Region, pk=request.GET["region"])
    form = RiskAreaPeriodForm(request.POST or None, initial=initial)
    saved = save_form(
        request,
        form,
        lambda data: (services.set_risk_level(actor=request.user, **data), ()),
        _("Risk level saved."),
    )
    if saved:
        return saved
    return render(request, "screening/risk_area_form.html", {"form": form})


@requires(Perm.RISK_AREAS_MANAGE)
def risk_area_end(request: AuthedRequest, region_code: str) -> HttpResponse:
    region = get_object_or_404(Region.objects.select_related("parent__parent"), pk=region_code)
    form = RiskAreaEndForm(request.POST or None, initial={"end": timezone.localdate()})
    saved = save_form(
        request,
        form,
        lambda data: (services.end_risk_period(actor=request.user, region=region, **data), ()),
        _("Period ended."),
    )
    if saved:
        return saved
    return render(
        request,
        "screening/risk_area_end.html",
        {"form": form, "region": region, "period": selectors.open_period(region)},
    )


@requires(Perm.REGISTER_VIEW)
def region_search(request: AuthedRequest) -> HttpResponse:
    """Up to 20 regions matching ``q`` by code or name (for the risk-area form)."""
    query = request.GET.get("q", "").strip()
    choices = (
        selectors.regions_matching(query).select_related("parent__parent")[:MAX_REGION_CHOICES]
        if query
        else []
    )
    return render(request, "screening/risk_area_form.html#region_choices", {"choices": choices})
