"""Care visits (关爱慰问): the list in the user's scope with the totals per item, one
household's visits, and recording a visit. Query budgets: tests/test_care_pages.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may, restrict
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    paginate,
    query_without_page,
    requires,
)
from fangkong.org.models import Household

from . import selectors, services
from .forms_care import MAX_HOUSEHOLD_OPTIONS, CareVisitForm
from .models import CareItemKind, ObservationEpisode

CARE_PAGE_SIZE = 50


def _household_url(household: Household) -> str:
    return reverse("observation:care_household", kwargs={"household_id": household.pk})


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def care_list(request: AuthedRequest) -> HttpResponse:
    """The care visits in the user's scope, newest first, with the totals given per item."""
    page = paginate(request, selectors.care_visits_for(request.user), CARE_PAGE_SIZE)
    totals, visit_count, household_count = selectors.care_totals(request.user)
    return render(
        request,
        "observation/care_list.html",
        {
            "page": page,
            "query": query_without_page(request),
            "totals": totals,
            "visit_count": visit_count,
            "household_count": household_count,
            "may_record": has_perm(request.user, Perm.OBSERVATION_RECORD),
        },
    )


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def care_household(request: AuthedRequest, household_id: int) -> HttpResponse:
    """One household's care visits and what it was given in all."""
    household = (
        restrict(Household.objects.all(), request.user, Perm.OBSERVATION_VIEW)
        .select_related("grid", "grid__parent", "head")
        .filter(pk=household_id)
        .first()
    )
    if household is None:
        raise Http404
    page = paginate(
        request, selectors.care_visits_for(request.user, household=household), CARE_PAGE_SIZE
    )
    totals, visit_count, _households = selectors.care_totals(request.user, household=household)
    episodes = (
        restrict(ObservationEpisode.objects.filter(person__household=household), request.user)
        .select_related("person")
        .order_by("-start_date", "-id")
    )
    return render(
        request,
        "observation/care_household.html",
        {
            "household": household,
            "page": page,
            "query": query_without_page(request),
            "totals": totals,
            "visit_count": visit_count,
            "episodes": list(episodes[:20]),
            "may_record": may(request.user, Perm.OBSERVATION_RECORD, household),
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def care_create(request: AuthedRequest) -> HttpResponseBase:
    """Record a care visit: the household (given by ``?household=`` or ``?episode=``, or
    chosen), the date, who went, what they brought (one field per care item) and what the
    household said."""
    user = request.user
    households = restrict(
        Household.objects.filter(is_active=True).select_related("grid"),
        user,
        Perm.OBSERVATION_RECORD,
    )
    episodes = restrict(ObservationEpisode.objects.all(), user, Perm.OBSERVATION_RECORD)
    episode = None
    household = None
    if request.GET.get("episode"):
        episode = get_scoped_or_404(
            ObservationEpisode.objects.select_related("person", "person__household__grid"),
            user,
            request.GET["episode"],
            Perm.OBSERVATION_RECORD,
        )
        household = episode.person.household
        if household is None:
            raise Http404
    if request.GET.get("household"):
        chosen = get_scoped_or_404(
            Household.objects.select_related("grid"),
            user,
            request.GET["household"],
            Perm.OBSERVATION_RECORD,
        )
        if household is not None and chosen.pk != household.pk:
            raise Http404
        household = chosen
    listed = None
    if household is None:
        # Households of people under observation (now or before): those care visits go to.
        listed = list(
            households.filter(members__episodes__isnull=False)
            .distinct()
            .order_by("grid__path", "address", "pk")[:MAX_HOUSEHOLD_OPTIONS]
        )
    initial: dict[str, Any] = {}
    if household is not None:
        initial["household"] = household.pk
    if episode is not None:
        initial["episode"] = episode.pk
    form = CareVisitForm(
        request.POST if request.method == "POST" else None,
        households=households,
        listed=listed,
        episodes=episodes,
        kinds=list(CareItemKind.objects.filter(is_active=True).order_by("order", "pk")),
        fixed_household=household is not None,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = services.record_care_visit(
                actor=user,
                household=data["household"],
                visited_on=data["visited_on"],
                visitors=data["visitors"],
                items=form.items(),
                words=data["words"],
                episode=data["episode"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Care visit of %(date)s to %(address)s recorded.")
                % {"date": f"{visit.visited_on:%Y-%m-%d}", "address": visit.household.address},
            )
            return redirect(_household_url(visit.household))
    return render(
        request,
        "observation/care_form.html",
        {"form": form, "household": household, "episode": episode},
    )
