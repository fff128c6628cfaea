"""The phone pages of a grid worker at the door, and the registration of new arrivals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, may, restrict
from fangkong.core.viewkit import AuthedRequest, apply_service_errors, requires
from fangkong.org import selectors as org_selectors
from fangkong.org import services as org_services
from fangkong.org.models import Household, OrgUnit, Person

from . import rules, selectors, services
from .forms_door import AddPersonForm, ArrivalForm, DoorScreeningForm
from .models import Campaign, CampaignHousehold, Screening

# Search under a field: at most this many choices.
MAX_CHOICES = 20
# The register fields a person search may fill (the hidden input's name).
PICK_FIELDS = frozenset({"contact_person", "person"})

HOUSEHOLD_TEMPLATE = "screening/door_household.html"


# ---------------------------------------------------------------------------------------------
# Fetching


def _campaign(request: AuthedRequest, campaign_id: int) -> Campaign:
    return get_scoped_or_404(Campaign.objects.select_related("unit"), request.user, campaign_id)


def _in_campaign(campaign: Campaign, unit: OrgUnit | None) -> None:
    """404 for a household or person the campaign does not cover."""
    if unit is None or not unit.path.startswith(campaign.unit.path):
        raise Http404


def _household(request: AuthedRequest, campaign: Campaign, household_id: int) -> Household:
    household = get_scoped_or_404(
        Household.objects.filter(is_active=True).select_related("grid", "grid__parent", "head"),
        request.user,
        household_id,
    )
    _in_campaign(campaign, household.grid)
    return household


def _person(request: AuthedRequest, campaign: Campaign, person_id: int) -> Person:
    person = get_scoped_or_404(
        Person.objects.filter(is_active=True).select_related("grid", "grid__parent", "household"),
        request.user,
        person_id,
    )
    _in_campaign(campaign, person.grid)
    return person


def _back(campaign: Campaign, person: Person) -> str:
    """Where a screening of ``person`` returns: their household's door page (or their file)."""
    if person.household_id is not None:
        url = reverse(
            "screening:door_household",
            kwargs={"campaign_id": campaign.pk, "household_id": person.household_id},
        )
        return f"{url}#person-{person.pk}"
    return reverse("org:person_detail", kwargs={"person_id": person.pk})


def _household_url(campaign: Campaign, household: Household) -> str:
    return reverse(
        "screening:door_household",
        kwargs={"campaign_id": campaign.pk, "household_id": household.pk},
    )


# ---------------------------------------------------------------------------------------------
# What the door page shows


@dataclass
class MemberRow:
    person: Person
    result: Screening | None
    reasons: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def screened(self) -> bool:
        return self.result is not None

    @property
    def moved_out(self) -> bool:
        return self.result is not None and self.result.presence == Screening.Presence.MOVED_OUT


def _row(person: Person, result: Screening | None, error: str = "") -> MemberRow:
    reasons = [rules.describe(r) for r in result.reasons] if result is not None else []
    return MemberRow(person=person, result=result, reasons=reasons, error=error)


def outcome_text(result: Screening) -> str:
    """The classification of a result in a few words."""
    if result.presence == Screening.Presence.MOVED_OUT:
        text = str(Screening.Presence.MOVED_OUT.label)
    elif result.is_key:
        text = _("Key person: %(category)s") % {"category": result.get_category_display()}
    else:
        text = str(Screening.Category.NO_RISK.label)
        if result.presence == Screening.Presence.AWAY:
            text += " · " + str(Screening.Presence.AWAY.label)
    if result.is_urgent:
        text += " · " + _("urgent")
    return text


def _household_context(
    request: AuthedRequest, campaign: Campaign, household: Household
) -> dict[str, Any]:
    members = list(selectors.household_members(household))
    results = selectors.results_by_person(campaign, members)
    rows = [_row(p, results.get(p.pk)) for p in members]
    member_ids = {p.pk for p in members}
    # Members found moved out in this campaign are no longer expected, but were screened here.
    rows += [
        _row(s.person, s)
        for s in selectors.household_results(campaign, household)
        if s.person_id not in member_ids
    ]
    left = sum(1 for r in rows if not r.screened)
    return {
        "campaign": campaign,
        "household": household,
        "rows": rows,
        "left": left,
        "state": selectors.household_state(campaign, household),
        "coverage": selectors.coverage(campaign, request.user, under=household.grid)[0],
        "may_record": campaign.is_open and may(request.user, Perm.SCREENING_RECORD, household),
        "visited": CampaignHousehold.Status.VISITED,
        "todo_url": _optional_url("screening:campaign_todo", campaign_id=campaign.pk),
    }


def _optional_url(name: str, **kwargs: Any) -> str:
    """The URL of a page another part of the campaign pages provides ("" until it exists)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


# ---------------------------------------------------------------------------------------------
# Pages


@requires(Perm.SCREENING_RECORD)
def door_household(request: AuthedRequest, campaign_id: int, household_id: int) -> HttpResponse:
    """The household at the door: its members to screen, and the grid's coverage on top."""
    campaign = _campaign(request, campaign_id)
    household = _household(request, campaign, household_id)
    return render(request, HOUSEHOLD_TEMPLATE, _household_context(request, campaign, household))


def _confirm(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    """The page a POST-only action shows when opened without posting (no script, a link)."""
    return render(request, "screening/door_confirm.html", context)


@requires(Perm.SCREENING_RECORD)
def door_quick(request: AuthedRequest, campaign_id: int, person_id: int) -> HttpResponse:
    """One tap: the person is present and nothing was found."""
    campaign = _campaign(request, campaign_id)
    person = _person(request, campaign, person_id)
    if request.method != "POST":
        return _confirm(
            request,
            {
                "campaign": campaign,
                "title": _("%(name)s: present, no risk?") % {"name": person.name},
                "text": _("Record that %(name)s is here and nothing was found.")
                % {"name": person.name},
                "button": _("Present, no risk"),
                "back": _back(campaign, person),
            },
        )
    error = ""
    result: Screening | None = None
    try:
        result = services.screen_person(
            actor=request.user,
            campaign=campaign,
            person=person,
            presence=Screening.Presence.PRESENT,
        )
    except ValidationError as problem:
        error = " ".join(problem.messages)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            assert result is not None
            messages.success(request, _screened_message(person, result))
        return redirect(_back(campaign, person))
    if result is None:
        result = selectors.results_by_person(campaign, [person]).get(person.pk)
    household = person.household
    if household is None:  # not on a household page: nothing to update in place
        response = HttpResponse(status=204)
        response["HX-Redirect"] = _back(campaign, person)
        return response
    context = _household_context(request, campaign, household)
    row = next((r for r in context["rows"] if r.person.pk == person.pk), None) or _row(
        person, result
    )
    row.error = error
    parts = [
        render_to_string(f"{HOUSEHOLD_TEMPLATE}#member_row", {**context, "row": row}, request),
        render_to_string(f"{HOUSEHOLD_TEMPLATE}#coverage", {**context, "oob": True}, request),
        render_to_string(f"{HOUSEHOLD_TEMPLATE}#actions", {**context, "oob": True}, request),
    ]
    response = HttpResponse("".join(parts))
    response.headers["Vary"] = "HX-Request"
    return response


def _screened_message(person: Person, result: Screening) -> str:
    return _("%(name)s screened: %(outcome)s.") % {
        "name": person.name,
        "outcome": outcome_text(result),
    }


@requires(Perm.SCREENING_RECORD)
def door_person(request: AuthedRequest, campaign_id: int, person_id: int) -> HttpResponse:
    """The full screening of one person: presence, travel, contact, symptoms, temperature."""
    campaign = _campaign(request, campaign_id)
    person = _person(request, campaign, person_id)
    existing = selectors.results_by_person(campaign, [person]).get(person.pk)
    initial: dict[str, Any] = {}
    if existing is not None:
        initial = {name: getattr(existing, name) for name in services.SCREENING_FIELDS}
        initial["temperature"] = existing.temperature if existing.temperature is not None else ""
    form = DoorScreeningForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.screen_person(
                actor=request.user, campaign=campaign, person=person, **form.findings()
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if result.is_key or result.is_urgent:
                messages.warning(request, _screened_message(person, result))
            else:
                messages.success(request, _screened_message(person, result))
            return redirect(_back(campaign, person))
    region = _chosen(form, "from_region")
    contact = _chosen(form, "contact_person")
    return render(
        request,
        "screening/door_person.html",
        {
            "campaign": campaign,
            "person": person,
            "form": form,
            "existing": existing,
            "region": region,
            "contact": contact,
            "back": _back(campaign, person),
            "may_record": campaign.is_open and may(request.user, Perm.SCREENING_RECORD, person),
        },
    )


def _chosen(form: Any, name: str) -> Any:
    """The object a model choice field holds (posted or initial), for its label; None."""
    if form.is_bound:
        value = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
        if value is not None:
            return value
        raw = form.data.get(name)
    else:
        raw = form.initial.get(name)
    if raw in (None, ""):
        return None
    if hasattr(raw, "pk"):
        return raw
    try:
        return form.fields[name].queryset.filter(pk=str(raw).strip()).first()
    except (ValueError, TypeError):
        return None


@requires(Perm.SCREENING_RECORD)
def door_nobody_home(request: AuthedRequest, campaign_id: int, household_id: int) -> HttpResponse:
    """Nobody answered: the visit is recorded, the household stays on the to-do list."""
    campaign = _campaign(request, campaign_id)
    household = _household(request, campaign, household_id)
    back = _household_url(campaign, household)
    if request.method != "POST":
        return _confirm(
            request,
            {
                "campaign": campaign,
                "title": _("Nobody home at %(address)s?") % {"address": household.address},
                "text": _("The visit is recorded; the household stays on the to-do list."),
                "button": _("Nobody home"),
                "back": back,
            },
        )
    try:
        services.record_nobody_home(actor=request.user, campaign=campaign, household=household)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.info(
            request,
            _(
                "Nobody home at %(address)s: the visit is recorded and the household stays on "
                "the to-do list."
            )
            % {"address": household.address},
        )
    return redirect(back)


@requires(Perm.SCREENING_RECORD)
def door_checked(request: AuthedRequest, campaign_id: int, household_id: int) -> HttpResponse:
    """Someone answered and nobody is left to screen: the household counts as visited."""
    campaign = _campaign(request, campaign_id)
    household = _household(request, campaign, household_id)
    back = _household_url(campaign, household)
    if request.method != "POST":
        return _confirm(
            request,
            {
                "campaign": campaign,
                "title": _("%(address)s checked?") % {"address": household.address},
                "text": _("Someone answered and every member is screened."),
                "button": _("Checked"),
                "back": back,
            },
        )
    members = list(selectors.household_members(household))
    left = len(members) - len(selectors.results_by_person(campaign, members))
    if left:
        messages.error(
            request,
            _("%(count)s member(s) of the household are not screened yet: screen them first.")
            % {"count": left},
        )
        return redirect(back)
    try:
        services.record_household_checked(
            actor=request.user, campaign=campaign, household=household
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(address)s checked.") % {"address": household.address})
    return redirect(back)


@requires(Perm.SCREENING_RECORD)
def door_add_person(request: AuthedRequest, campaign_id: int, household_id: int) -> HttpResponse:
    """A person found at the door who is not in the register: added to the household."""
    campaign = _campaign(request, campaign_id)
    household = _household(request, campaign, household_id)
    form = AddPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.add_person_at_door(
                actor=request.user, campaign=campaign, household=household, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s added to the household: screen them now.")
                % {"name": added.person.name},
            )
            for warning in added.warnings:
                messages.warning(request, warning)
            return redirect(f"{_household_url(campaign, household)}#person-{added.person.pk}")
    return render(
        request,
        "screening/door_add_person.html",
        {
            "campaign": campaign,
            "household": household,
            "form": form,
            "back": _household_url(campaign, household),
        },
    )


# ---------------------------------------------------------------------------------------------
# New arrivals


@requires(Perm.SCREENING_RECORD)
def arrival_create(request: AuthedRequest) -> HttpResponse:
    """Quick registration of a person arriving or returning between campaigns."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = ArrivalForm(request.POST or None, user=request.user, initial={"registered_at": now})
    if request.method == "POST" and form.is_valid():
        try:
            result = _register_arrival(request, form)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            message = _("Arrival of %(name)s registered: %(outcome)s.") % {
                "name": result.person.name,
                "outcome": outcome_text(result),
            }
            if result.late_registration:
                message += " " + _late_text()
            if result.is_key or result.is_urgent or result.late_registration:
                messages.warning(request, message)
            else:
                messages.success(request, message)
            return HttpResponseRedirect(
                f"{reverse('screening:arrival_create')}?registered={result.pk}"
            )
    registered = None
    if request.GET.get("registered", "").isdigit():
        registered = (
            restrict(Screening.objects.filter(kind=Screening.Kind.ARRIVAL), request.user)
            .select_related("person", "person__household", "from_region", "grid")
            .filter(pk=request.GET["registered"])
            .first()
        )
    return render(
        request,
        "screening/arrival_form.html",
        {
            "form": form,
            "registered": registered,
            "registered_reasons": (
                [rules.describe(r) for r in registered.reasons] if registered else []
            ),
            "registered_outcome": outcome_text(registered) if registered else "",
            "late_text": _late_text(),
            "person": _chosen(form, "person"),
            "household": _chosen(form, "household"),
            "region": _chosen(form, "from_region"),
            "contact": _chosen(form, "contact_person"),
            "report_hours": selectors.current_rules().arrival_report_hours,
        },
    )


def _late_text() -> str:
    return _("Registered late: more than %(hours)s hours after arriving.") % {
        "hours": selectors.current_rules().arrival_report_hours
    }


@transaction.atomic
def _register_arrival(request: AuthedRequest, form: ArrivalForm) -> Screening:
    """The new person (if any) and the arrival, in one transaction: both or neither."""
    data = form.cleaned_data
    person = data["person"]
    if person is None:
        created = org_services.create_person(
            actor=request.user, source=_("New arrival"), **form.new_person()
        )
        person = created.person
        for warning in created.warnings:
            messages.warning(request, warning)
    findings = form.findings()
    return services.register_arrival(
        actor=request.user,
        person=person,
        from_region=findings.pop("from_region"),
        arrived_at=findings.pop("arrived_at"),
        registered_at=data["registered_at"],
        **findings,
    )


# ---------------------------------------------------------------------------------------------
# Searches under a field (htmx)


@requires(Perm.SCREENING_RECORD)
def door_region_search(request: AuthedRequest) -> HttpResponse:
    """Up to 20 regions matching ``q`` by code or name, for the "came from" field."""
    query = request.GET.get("q", "").strip()
    choices = (
        selectors.regions_matching(query).select_related("parent__parent")[:MAX_CHOICES]
        if query
        else []
    )
    return render(request, "screening/door_choices.html#regions", {"choices": choices})


@requires(Perm.SCREENING_RECORD)
def door_person_search(request: AuthedRequest) -> HttpResponse:
    """Up to 20 persons of the register in the user's scope matching ``q`` (name, ID, phone),
    for the field ``field`` (the contact, or the arriving person)."""
    query = request.GET.get("q", "").strip()
    target = request.GET.get("field", "contact_person")
    if target not in PICK_FIELDS:
        target = "contact_person"
    persons = org_selectors.persons_for(request.user, org_selectors.PersonFilters(q=query))
    if target == "person":  # the arriving person: only where the user may record
        persons = restrict(persons, request.user, Perm.SCREENING_RECORD)
    choices = list(persons[:MAX_CHOICES]) if query else []
    return render(
        request,
        "screening/door_choices.html#persons",
        {"choices": choices, "target": target},
    )
