"""Campaign pages: the list, adding and editing, live coverage, the to-do list, grid
assignment, closing and reopening, and the classification rules.

Query budgets (see tests/test_campaign_pages.py), each page starting with the three every
page has (session, user, role assignments): the list 9, the coverage page 10, the to-do list
9 (10 with a grid chosen) — the same for 10 grids or households as for 200.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.health import Symptom
from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may, scope_for
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    paginate,
    query_without_page,
    render_page,
    requires,
    save_form,
)
from fangkong.org.models import OrgUnit, User
from fangkong.org.selectors import audit_trail

from . import selectors, services
from .forms_campaigns import (
    AssignForm,
    CampaignFilterForm,
    CampaignForm,
    RulesForm,
    TodoFilterForm,
)
from .models import Campaign, CampaignAssignment

# Campaigns per page of the list: their coverage is computed for the whole page at once.
CAMPAIGNS_PER_PAGE = 20
# Households or persons per page of the to-do list (a phone scrolls; keep it short).
TODO_PER_PAGE = 30
# Grids per page of the assignment overview.
GRIDS_PER_PAGE = 50
# Rows of the coverage page's unit and grid worker tables, per page.
COVERAGE_ROWS = 50


def _query_without(request: AuthedRequest, name: str) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    return params.urlencode()


# How often the coverage page refreshes its figures, in seconds.
POLL_SECONDS = 30


def _campaign(request: AuthedRequest, campaign_id: int, perm: Perm | None = None) -> Campaign:
    return get_scoped_or_404(
        Campaign.objects.select_related("unit"), request.user, campaign_id, perm
    )


@requires(Perm.SCREENING_VIEW)
def campaign_list(request: AuthedRequest) -> HttpResponse:
    form = CampaignFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = paginate(
        request, selectors.campaigns_for(request.user, status=status), CAMPAIGNS_PER_PAGE
    )
    campaigns = list(page.object_list)
    figures = selectors.campaigns_coverage(campaigns, request.user)
    page.object_list = [(c, figures[c.pk]) for c in campaigns]
    return render_page(
        request,
        "screening/campaign_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "may_create": has_perm(request.user, Perm.SCREENING_MANAGE),
        },
        partial="results",
    )


@requires(Perm.SCREENING_MANAGE)
def campaign_create(request: AuthedRequest) -> HttpResponse:
    form = CampaignForm(
        request.POST or None, user=request.user, initial={"start": timezone.localdate()}
    )
    saved = save_form(
        request,
        form,
        lambda data: (services.create_campaign(actor=request.user, **data), ()),
        _("Campaign opened. Its grids are given to their grid workers."),
    )
    if saved:
        return saved
    return render(request, "screening/campaign_form.html", {"form": form, "campaign": None})


@requires(Perm.SCREENING_MANAGE)
def campaign_edit(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id, Perm.SCREENING_MANAGE)
    initial = {name: getattr(campaign, name) for name in services.CAMPAIGN_FIELDS}
    form = CampaignForm(request.POST or None, user=request.user, editing=True, initial=initial)
    saved = save_form(
        request,
        form,
        lambda data: (
            services.update_campaign(actor=request.user, campaign=campaign, **data),
            (),
        ),
        _("Changes saved."),
    )
    if saved:
        return saved
    return render(request, "screening/campaign_form.html", {"form": form, "campaign": campaign})


@requires(Perm.SCREENING_VIEW)
def campaign_detail(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The live coverage of a campaign, drilled down with ``?unit=<id>``."""
    campaign = _campaign(request, campaign_id)
    under = None
    trail: list[OrgUnit] = []
    wanted = request.GET.get("unit", "")
    if wanted:
        # Any unit of the campaign whose subtree meets the user's scope: the grid worker of
        # one grid drills down through the units above it.
        scope = scope_for(request.user, Perm.SCREENING_VIEW)
        under = (
            OrgUnit.objects.filter(path__startswith=campaign.unit.path, pk=int(wanted)).first()
            if wanted.isdigit()
            else None
        )
        if under is None or not scope.overlaps(under):
            raise Http404
        if under.pk == campaign.unit.pk:
            under = None
        else:
            between = under.path_ids[len(campaign.unit.path_ids) : -1]
            trail = list(OrgUnit.objects.filter(pk__in=between).order_by("path"))
    total, rows = selectors.coverage(campaign, request.user, under=under, units=False)
    may_manage = may(request.user, Perm.SCREENING_MANAGE, campaign)
    # A unit may hold thousands of grids and grid workers: both tables are paged.
    row_page = Paginator(rows, COVERAGE_ROWS).get_page(request.GET.get("page"))
    selectors.attach_units(list(row_page.object_list))
    worker_page = Paginator(
        selectors.worker_sums(campaign, request.user, under=under), COVERAGE_ROWS
    ).get_page(request.GET.get("wpage"))
    worker_page.object_list = selectors.worker_rows(list(worker_page.object_list))
    context: dict[str, Any] = {
        "campaign": campaign,
        "under": under,
        "trail": trail,
        "total": total,
        "rows": row_page,
        "workers": worker_page,
        "rows_query": _query_without(request, "page"),
        "workers_query": _query_without(request, "wpage"),
        "may_manage": may_manage,
        "poll_seconds": POLL_SECONDS,
        "refreshed_at": timezone.localtime(),
    }
    return render_page(request, "screening/campaign_detail.html", context, partial="coverage")


@requires(Perm.SCREENING_MANAGE)
def campaign_close(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """GET: what is left and a confirmation; POST: close."""
    campaign = _campaign(request, campaign_id, Perm.SCREENING_MANAGE)
    if request.method == "POST":
        try:
            services.close_campaign(actor=request.user, campaign=campaign)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Campaign closed. Its ledger and coverage remain."))
        return redirect(campaign.get_absolute_url())
    total, _rows = selectors.coverage(campaign, request.user)
    return render(
        request,
        "screening/campaign_confirm.html",
        {"campaign": campaign, "total": total, "action": "close"},
    )


@requires(Perm.SCREENING_MANAGE)
def campaign_reopen(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """GET: a confirmation; POST: reopen."""
    campaign = _campaign(request, campaign_id, Perm.SCREENING_MANAGE)
    if request.method == "POST":
        try:
            services.reopen_campaign(actor=request.user, campaign=campaign)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Campaign reopened: screening can be recorded again."))
        return redirect(campaign.get_absolute_url())
    return render(
        request,
        "screening/campaign_confirm.html",
        {"campaign": campaign, "total": None, "action": "reopen"},
    )


@requires(Perm.SCREENING_VIEW)
def campaign_todo(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """What is left: households nobody has answered at, persons never seen. A grid worker
    with grids in the campaign sees their own grids unless they ask for every grid."""
    campaign = _campaign(request, campaign_id)
    grids = selectors.grids_of(campaign, request.user)
    has_mine = CampaignAssignment.objects.filter(campaign=campaign, worker=request.user).exists()
    form = TodoFilterForm(request.GET or None, grids=grids)
    form.is_valid()  # an unknown grid is left out; the valid filters still apply
    data: dict[str, Any] = getattr(form, "cleaned_data", {})
    show = data.get("show") or TodoFilterForm.SHOW_HOUSEHOLDS
    mine = has_mine and (data.get("mine") or "1") == "1"
    filters = selectors.TodoFilters(grid=data.get("grid"), mine=mine)
    households = selectors.households_left(campaign, request.user, filters)
    persons = selectors.persons_never_seen(campaign, request.user, filters)
    worker = None
    wanted = request.GET.get("worker", "")
    if wanted.isdigit():
        # Only a grid worker of this campaign in the user's view (no other user is named).
        worker = User.objects.filter(
            pk=int(wanted),
            campaign_assignments__campaign=campaign,
            campaign_assignments__grid__in=grids.values("pk"),
        ).first()
        if worker is not None:
            own = selectors.assigned_grids(campaign, worker).values("pk")
            households = households.filter(grid__in=own)
            persons = persons.filter(grid__in=own)
    if show == TodoFilterForm.SHOW_PERSONS:
        page = paginate(request, persons, TODO_PER_PAGE)
        counts = {"households": households.count(), "persons": page.paginator.count}
    else:
        page = paginate(request, households.select_related("head"), TODO_PER_PAGE)
        counts = {"households": page.paginator.count, "persons": persons.count()}
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("show", None)
    return render_page(
        request,
        "screening/campaign_todo.html",
        {
            "campaign": campaign,
            "form": form,
            "page": page,
            "show": show,
            "counts": counts,
            "has_mine": has_mine,
            "mine": mine,
            "worker": worker,
            "query": query_without_page(request),
            "tab_query": params.urlencode(),
        },
        partial="results",
    )


@requires(Perm.SCREENING_MANAGE)
def campaign_assign(request: AuthedRequest, campaign_id: int, orgunit_id: int) -> HttpResponse:
    """For a grid: choose its grid workers. For a unit: its grids and who has each."""
    campaign = _campaign(request, campaign_id, Perm.SCREENING_MANAGE)
    unit = get_scoped_or_404(
        OrgUnit.objects.filter(path__startswith=campaign.unit.path, is_active=True).select_related(
            "parent"
        ),
        request.user,
        orgunit_id,
    )
    if unit.kind != OrgUnit.Kind.GRID:
        page = paginate(
            request,
            selectors.grids_of(campaign, request.user, under=unit).select_related("parent"),
            GRIDS_PER_PAGE,
        )
        grids = list(page.object_list)
        workers = selectors.workers_by_grid(campaign, grids)
        page.object_list = [(g, workers[g.pk]) for g in grids]
        return render(
            request,
            "screening/campaign_assign.html",
            {
                "campaign": campaign,
                "unit": unit,
                "page": page,
                "query": query_without_page(request),
            },
        )
    current = [a.worker for a in CampaignAssignment.objects.filter(campaign=campaign, grid=unit)]
    form = AssignForm(
        request.POST or None,
        candidates=selectors.grid_worker_candidates(unit),
        initial={"workers": [w.pk for w in current]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.assign_grid(
                actor=request.user,
                campaign=campaign,
                grid=unit,
                workers=list(form.cleaned_data["workers"]),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("%(grid)s: grid workers saved.") % {"grid": unit.name})
            back = (
                unit.parent
                if unit.parent and unit.parent.path.startswith(campaign.unit.path)
                else None
            )
            if back is not None:
                return redirect(
                    reverse(
                        "screening:campaign_assign",
                        kwargs={"campaign_id": campaign.pk, "orgunit_id": back.pk},
                    )
                )
            return redirect(campaign.get_absolute_url())
    return render(
        request,
        "screening/campaign_assign.html",
        {"campaign": campaign, "unit": unit, "form": form, "current": current},
    )


@requires(Perm.SCREENING_VIEW)
def rules(request: AuthedRequest) -> HttpResponse:
    """The classification rules, in plain words; the office changes them here."""
    current = selectors.current_rules()
    may_manage = has_perm(request.user, Perm.SCREENING_MANAGE)
    if request.method == "POST" and not may_manage:
        raise PermissionDenied
    form = None
    if may_manage:
        initial = {name: getattr(current, name) for name in services.RULE_FIELDS}
        form = RulesForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.update_rules(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Rules saved. New results are classified by them; recorded ones keep theirs."
                    ),
                )
                return redirect(reverse("screening:rules"))
    may_audit = may_manage or has_perm(request.user, Perm.AUDIT_VIEW)
    return render(
        request,
        "screening/rules.html",
        {
            "rules": current,
            "form": form,
            "may_manage": may_manage,
            "may_audit": may_audit,
            "audit": audit_trail(current, masked={}) if may_audit else [],
            "symptoms": [str(label) for label in Symptom.labels],
        },
    )
