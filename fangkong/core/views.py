from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm
from fangkong.org.selectors import home_counts

# Open campaigns shown on the home page (the newest; the rest are on the campaign list).
HOME_CAMPAIGNS = 5


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The figures of the user's scope and the open campaigns with their coverage (for a grid
    worker, what is left in their own grids): a fixed number of queries, see
    fangkong/org/tests/test_query_budgets.py."""
    from fangkong.screening.models import Campaign
    from fangkong.screening.selectors import campaigns_coverage, campaigns_for

    context: dict[str, Any] = {"counts": home_counts(request.user)}
    if has_perm(request.user, Perm.SCREENING_VIEW):
        campaigns = list(
            campaigns_for(request.user, status=Campaign.Status.OPEN)[: HOME_CAMPAIGNS + 1]
        )
        more = len(campaigns) > HOME_CAMPAIGNS
        campaigns = campaigns[:HOME_CAMPAIGNS]
        figures = campaigns_coverage(campaigns, request.user)
        context["campaigns"] = [(c, figures[c.pk]) for c in campaigns]
        context["more_campaigns"] = more
    return render(request, "core/home.html", context)
