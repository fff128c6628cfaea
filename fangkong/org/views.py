from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, may, restrict
from fangkong.core.viewkit import (
    AuthedRequest,
    paginate,
    query_without_page,
    render_page,
    requires,
    save_form,
)

from . import selectors, services
from .forms import HouseholdFilterForm, HouseholdForm, OrgUnitForm, PersonFilterForm, PersonForm
from .models import Household, OrgUnit, Person

MASKS = {"id_number": mask_id_number, "phone": mask_phone}


@requires(Perm.REGISTER_VIEW)
def unit_tree(request: AuthedRequest) -> HttpResponse:
    page = paginate(request, selectors.units_for(request.user).select_related("parent"), 100)
    page.object_list = list(page.object_list)
    selectors.attach_subtree_counts(request.user, page.object_list)
    return render(
        request, "org/unit_tree.html", {"page": page, "query": query_without_page(request)}
    )


@requires(Perm.REGISTER_VIEW)
def unit_detail(request: AuthedRequest, orgunit_id: int) -> HttpResponse:
    unit = get_scoped_or_404(OrgUnit.objects.select_related("parent"), request.user, orgunit_id)
    page = paginate(request, selectors.units_for(request.user).filter(parent=unit), 100)
    page.object_list = list(page.object_list)
    selectors.attach_subtree_counts(request.user, [unit, *page.object_list])
    context = {
        "unit": unit,
        "page": page,
        "query": query_without_page(request),
        "may_manage": may(request.user, Perm.ORG_MANAGE, unit),
        "may_edit_register": may(request.user, Perm.REGISTER_EDIT, unit),
        "may_audit": may(request.user, Perm.AUDIT_VIEW, unit),
    }
    if context["may_audit"]:
        context["audit"] = selectors.audit_trail(unit, masked={"responsible_phone": mask_phone})
    return render(request, "org/unit_detail.html", context)


@requires(Perm.ORG_MANAGE)
def unit_create(request: AuthedRequest) -> HttpResponse:
    parent = get_scoped_or_404(
        OrgUnit.objects.all(), request.user, request.GET.get("parent"), Perm.ORG_MANAGE
    )
    kind = OrgUnit.Kind.GRID if parent.kind == OrgUnit.Kind.UNIT else OrgUnit.Kind.UNIT
    form = OrgUnitForm(request.POST or None, initial={"kind": kind, "code": f"{parent.code}-"})
    saved = save_form(
        request,
        form,
        lambda data: (services.create_org_unit(actor=request.user, parent=parent, **data), ()),
        _("Org unit added."),
    )
    if saved:
        return saved
    return render(request, "org/unit_form.html", {"form": form, "parent": parent, "unit": None})


@requires(Perm.ORG_MANAGE)
def unit_edit(request: AuthedRequest, orgunit_id: int) -> HttpResponse:
    unit = get_scoped_or_404(OrgUnit.objects.all(), request.user, orgunit_id, Perm.ORG_MANAGE)
    initial = {f: getattr(unit, f) for f in services.ORG_UNIT_FIELDS}
    form = OrgUnitForm(request.POST or None, initial=initial, editing=True)
    saved = save_form(
        request,
        form,
        lambda data: (services.update_org_unit(actor=request.user, unit=unit, **data), ()),
        _("Changes saved."),
    )
    if saved:
        return saved
    return render(
        request, "org/unit_form.html", {"form": form, "parent": unit.parent, "unit": unit}
    )


@requires(Perm.REGISTER_VIEW)
def household_list(request: AuthedRequest) -> HttpResponse:
    form = HouseholdFilterForm(request.GET or None, user=request.user)
    filters = selectors.HouseholdFilters()
    if form.is_valid():
        filters = selectors.HouseholdFilters(
            q=form.cleaned_data["q"], unit=form.cleaned_data["unit"]
        )
    page = paginate(request, selectors.households_for(request.user, filters))
    page.object_list = list(page.object_list)
    selectors.attach_member_counts(page.object_list)
    return render_page(
        request,
        "org/household_list.html",
        {"form": form, "page": page, "query": query_without_page(request)},
        partial="results",
    )


@requires(Perm.REGISTER_VIEW)
def household_detail(request: AuthedRequest, household_id: int) -> HttpResponse:
    household = get_scoped_or_404(
        Household.objects.select_related("grid", "grid__parent", "head"), request.user, household_id
    )
    members = selectors.persons_for(request.user, selectors.PersonFilters(household=household))
    context = {
        "household": household,
        "members": members,
        "may_edit": may(request.user, Perm.REGISTER_EDIT, household),
        "may_audit": may(request.user, Perm.AUDIT_VIEW, household),
    }
    if context["may_audit"]:
        context["audit"] = selectors.audit_trail(household, masked={"phone": mask_phone})
    return render(request, "org/household_detail.html", context)


@requires(Perm.REGISTER_EDIT)
def household_create(request: AuthedRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("grid"):  # "add household" on a grid's page
        initial["grid"] = get_scoped_or_404(
            OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID),
            request.user,
            request.GET["grid"],
            Perm.REGISTER_EDIT,
        )
    form = HouseholdForm(request.POST or None, user=request.user, initial=initial)
    saved = save_form(
        request,
        form,
        lambda data: (services.create_household(actor=request.user, **data), ()),
        _("Household added."),
    )
    if saved:
        return saved
    return render(request, "org/household_form.html", {"form": form, "household": None})


@requires(Perm.REGISTER_EDIT)
def household_edit(request: AuthedRequest, household_id: int) -> HttpResponse:
    household = get_scoped_or_404(
        Household.objects.select_related("grid"), request.user, household_id, Perm.REGISTER_EDIT
    )
    initial = {
        "grid": household.grid,
        "address": household.address,
        "phone": household.phone,
        "note": household.note,
    }
    form = HouseholdForm(request.POST or None, user=request.user, initial=initial)
    saved = save_form(
        request,
        form,
        lambda data: (
            services.update_household(actor=request.user, household=household, **data),
            (),
        ),
        _("Household saved."),
    )
    if saved:
        return saved
    return render(request, "org/household_form.html", {"form": form, "household": household})


@requires(Perm.REGISTER_EDIT)
def household_pick(request: AuthedRequest) -> HttpResponse:
    """Up to 20 households the user may add people to, matching ``q`` (for the person form)."""
    query = request.GET.get("q", "").strip()
    households = selectors.households_for(request.user, selectors.HouseholdFilters(q=query))
    choices = restrict(households, request.user, Perm.REGISTER_EDIT)[:20] if query else []
    return render(request, "org/person_form.html#household_choices", {"choices": choices})


@requires(Perm.REGISTER_VIEW)
def person_list(request: AuthedRequest) -> HttpResponse:
    form = PersonFilterForm(request.GET or None, user=request.user)
    filters = selectors.PersonFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.PersonFilters(
            q=data["q"],
            unit=data["unit"],
            category=data["category"],
            status=data["status"],
            lacks_id=data["lacks_id"],
        )
    page = paginate(request, selectors.persons_for(request.user, filters))
    return render_page(
        request,
        "org/person_list.html",
        {"form": form, "page": page, "query": query_without_page(request)},
        partial="results",
    )


@requires(Perm.REGISTER_VIEW)
def person_detail(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = get_scoped_or_404(
        Person.objects.select_related("grid", "grid__parent", "household"), request.user, person_id
    )
    context: dict[str, Any] = {
        "person": person,
        "timeline": selectors.timeline_for(person)[:200],
        "may_edit": may(request.user, Perm.REGISTER_EDIT, person),
        "may_reveal": may(request.user, Perm.PII_REVEAL, person),
        "may_audit": may(request.user, Perm.AUDIT_VIEW, person),
    }
    if context["may_audit"]:
        context["audit"] = selectors.audit_trail(person, masked=MASKS)
        context["accesses"] = selectors.sensitive_accesses("person", person.pk)[:100]
        context["show_accesses"] = True
    return render(request, "org/person_detail.html", context)


def _person_form_initial(person: Person) -> dict[str, Any]:
    return {name: getattr(person, name) for name in services.PERSON_FIELDS if name != "status"}


@requires(Perm.REGISTER_EDIT)
def person_create(request: AuthedRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    household = None
    if request.GET.get("household"):
        household = get_scoped_or_404(
            Household.objects.select_related("grid"),
            request.user,
            request.GET["household"],
            Perm.REGISTER_EDIT,
        )
        initial = {"household": household, "grid": household.grid}
    form = PersonForm(request.POST or None, user=request.user, initial=initial)
    saved = save_form(
        request,
        form,
        lambda data: services.create_person(actor=request.user, **data).saved(),
        _("Person added."),
    )
    if saved:
        return saved
    return render(
        request, "org/person_form.html", {"form": form, "person": None, "household": household}
    )


@requires(Perm.REGISTER_EDIT)
def person_edit(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = get_scoped_or_404(
        Person.objects.select_related("grid", "household"),
        request.user,
        person_id,
        Perm.REGISTER_EDIT,
    )
    if request.method == "GET":
        services.open_person_for_editing(actor=request.user, person=person)
    form = PersonForm(request.POST or None, user=request.user, initial=_person_form_initial(person))
    saved = save_form(
        request,
        form,
        lambda data: services.update_person(actor=request.user, person=person, **data).saved(),
        _("Changes saved."),
    )
    if saved:
        return saved
    return render(
        request,
        "org/person_form.html",
        {"form": form, "person": person, "household": person.household},
    )


@require_POST
@requires(Perm.PII_REVEAL)
def person_reveal(request: AuthedRequest, person_id: int, field_name: str) -> HttpResponse:
    person = get_scoped_or_404(Person.objects.all(), request.user, person_id, Perm.PII_REVEAL)
    try:
        value = services.reveal_person_field(
            actor=request.user, person=person, field_name=field_name
        )
    except ValidationError:
        return HttpResponse(status=400)
    return render(request, "org/person_detail.html#revealed", {"value": value})
