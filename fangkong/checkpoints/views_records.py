"""The records' pages (under /checkpoints/): places to disinfect with the overdue ones first,
the phone page to record disinfections with one tap, a place with its disinfections, the
disinfection log and its export; publicity records, their list and export.

Every list reads a fixed number of queries whatever its length (budgets in
fangkong/org/tests/test_query_budgets.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may
from fangkong.core.tabular.exports import dated_filename
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    list_page,
    requires,
    xlsx_response,
)
from fangkong.org.selectors import audit_trail

from . import exports_records as exports
from .forms_records import (
    DisinfectionForm,
    LogFilterForm,
    PlaceFilterForm,
    PlaceForm,
    PublicityFilterForm,
    PublicityForm,
)
from .models import Disinfection, DisinfectionPlace, PublicityRecord
from .rules_records import AGENTS, interval
from .selectors import records as selectors
from .services import records as services

PAGE_SIZE = 50
# The logs count their rows up to this many; beyond, they say "more than 10,000".
COUNT_CAP = 10_000

PLACES = "checkpoints/records_places.html"
DISINFECT = "checkpoints/records_disinfect.html"


def interval_words(times_per_day: int) -> str:
    """The interval of a frequency in words: "12 h", "3 h 26 min"."""
    minutes = round(interval(times_per_day).total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if not minutes:
        return _("%(h)d h") % {"h": hours}
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def _place(request: AuthedRequest, place_id: int, perm: Perm | None = None) -> DisinfectionPlace:
    """The place (with ``due`` and ``overdue``) if the user may see it (else 404) and, with
    ``perm``, act on it (else 403)."""
    places = selectors.with_due(DisinfectionPlace.objects.select_related("unit"), timezone.now())
    return get_scoped_or_404(places, request.user, place_id, perm)


def _place_url(place: DisinfectionPlace) -> str:
    return reverse("checkpoints:place_detail", kwargs={"place_id": place.pk})


# ---------------------------------------------------------------------------------------------
# Places


@require_GET
@requires(Perm.DUTY_VIEW)
def place_list(request: AuthedRequest) -> HttpResponse:
    """The places to disinfect in the user's scope: the overdue ones first (flagged), then
    by when each is due."""
    user = request.user
    form = PlaceFilterForm(request.GET or None, user=user)
    now = timezone.now()
    return list_page(
        request,
        PLACES,
        selectors.places_for(user, now=now, **form.values()),
        {
            "form": form,
            "overdue_count": selectors.overdue_places(user, now=now).count(),
            "may_manage": has_perm(user, Perm.DUTY_MANAGE),
            "may_record": has_perm(user, Perm.DUTY_RECORD),
        },
        per_page=PAGE_SIZE,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def place_create(request: AuthedRequest) -> HttpResponseBase:
    """Add a place to disinfect (``duty.manage``)."""
    user = request.user
    form = PlaceForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            place = services.create_place(
                actor=user,
                unit=data["unit"],
                name=data["name"],
                location=data.get("location", ""),
                times_per_day=data["times_per_day"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s added.") % {"name": place.name})
            return redirect(_place_url(place))
    return render(request, "checkpoints/records_place_form.html", {"form": form, "place": None})


@require_GET
@requires(Perm.DUTY_VIEW)
def place_detail(request: AuthedRequest, place_id: int) -> HttpResponse:
    """One place: its frequency, when it is due, and its disinfections (newest first)."""
    user = request.user
    place = _place(request, place_id)
    records = selectors.disinfections_for(user, selectors.LogFilters(place=place))
    may_audit = may(user, Perm.AUDIT_VIEW, place)
    return list_page(
        request,
        "checkpoints/records_place_detail.html",
        records,
        {
            "place": place,
            "every": interval_words(place.times_per_day),
            "may_record": place.is_active and may(user, Perm.DUTY_RECORD, place),
            "may_correct": may(user, Perm.DUTY_RECORD, place),
            "may_manage": may(user, Perm.DUTY_MANAGE, place),
            "may_audit": may_audit,
            "audit": audit_trail(place, masked={}) if may_audit else [],
        },
        per_page=PAGE_SIZE,
        partial=None,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def place_edit(request: AuthedRequest, place_id: int) -> HttpResponseBase:
    """Change a place's name, location, frequency or unit."""
    user = request.user
    place = _place(request, place_id, Perm.DUTY_MANAGE)
    initial = {
        "unit": place.unit_id,
        "name": place.name,
        "location": place.location,
        "times_per_day": place.times_per_day,
    }
    form = PlaceForm(
        request.POST if request.method == "POST" else None,
        user=user,
        current=place.unit,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_place(
                actor=user,
                place=place,
                unit=data["unit"],
                name=data["name"],
                location=data.get("location", ""),
                times_per_day=data["times_per_day"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": data["name"]})
            return redirect(_place_url(place))
    return render(request, "checkpoints/records_place_form.html", {"form": form, "place": place})


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def place_state(request: AuthedRequest, place_id: int) -> HttpResponseBase:
    """GET: confirm taking the place off the schedule (or putting it back); POST: do it."""
    user = request.user
    place = _place(request, place_id, Perm.DUTY_MANAGE)
    error = ""
    if request.method == "POST":
        change = services.deactivate_place if place.is_active else services.reactivate_place
        try:
            change(actor=user, place=place)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            done = (
                _("%(name)s is inactive: it is no longer due.")
                if place.is_active
                else _("%(name)s is active again.")
            )
            messages.success(request, done % {"name": place.name})
            return redirect(_place_url(place))
    return render(request, "checkpoints/records_place_state.html", {"place": place, "error": error})


# ---------------------------------------------------------------------------------------------
# Recording disinfections


def _row_response(
    request: AuthedRequest,
    place: DisinfectionPlace,
    *,
    form: DisinfectionForm | None = None,
    done: Disinfection | None = None,
) -> HttpResponse:
    """The place's row of the record page (after a tap: what was recorded, or why not)."""
    response = render(
        request,
        f"{DISINFECT}#row",
        {"place": place, "row_form": form, "done": done, "now": timezone.now()},
    )
    response.headers["Vary"] = "HX-Request"
    return response


@require_GET
@requires(Perm.DUTY_RECORD)
def disinfect(request: AuthedRequest) -> HttpResponse:
    """The phone page: the active places the user may record for, overdue first, each with
    when it is due and a button recording a disinfection done now with the disinfectant
    chosen at the top."""
    user = request.user
    query = request.GET.get("q", "").strip()
    places = selectors.places_for(user, q=query, perm=Perm.DUTY_RECORD)
    name = user.get_full_name() or user.get_username()
    return list_page(
        request,
        DISINFECT,
        places,
        {
            "q": query,
            "agents": AGENTS,
            "agent": request.GET.get("agent") or AGENTS[0],
            "done_by": name,
            "now": timezone.now(),
        },
        per_page=PAGE_SIZE,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_RECORD)
def place_record(request: AuthedRequest, place_id: int) -> HttpResponseBase:
    """Record a disinfection of one place. GET: the form (time now, editable); POST: record
    it, then back to the place, or (a tap on the record page, htmx) its row again."""
    user = request.user
    place = _place(request, place_id, Perm.DUTY_RECORD)
    form = DisinfectionForm(request.POST if request.method == "POST" else None)
    row = bool(request.POST.get("row")) and bool(getattr(request, "htmx", False))
    if request.method == "POST" and form.is_valid():
        try:
            record = services.record_disinfection(actor=user, place=place, **form.values())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if row:
                return _row_response(request, _place(request, place_id), done=record)
            messages.success(
                request,
                _("Disinfection of %(place)s at %(time)s recorded.")
                % {
                    "place": place.name,
                    "time": timezone.localtime(record.done_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect(_place_url(place))
    if row:
        return _row_response(request, place, form=form)
    return render(
        request,
        "checkpoints/records_disinfection_form.html",
        {"form": form, "place": place, "record": None},
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_RECORD)
def disinfection_edit(request: AuthedRequest, disinfection_id: int) -> HttpResponseBase:
    """Correct a disinfection (its time, disinfectant, who, note); the audit trail keeps
    what it was."""
    user = request.user
    record = get_scoped_or_404(
        Disinfection.objects.select_related("place", "place__unit", "recorded_by"),
        user,
        disinfection_id,
        Perm.DUTY_RECORD,
    )
    initial = {
        "done_at": timezone.localtime(record.done_at).replace(second=0, microsecond=0),
        "agent": record.agent,
        "done_by": record.done_by,
        "note": record.note,
    }
    form = DisinfectionForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if values["done_at"] is None:
            values["done_at"] = record.done_at
        try:
            services.correct_disinfection(actor=user, disinfection=record, **values)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The disinfection record is corrected."))
            return redirect(_place_url(record.place))
    may_audit = may(user, Perm.AUDIT_VIEW, record)
    return render(
        request,
        "checkpoints/records_disinfection_form.html",
        {
            "form": form,
            "place": record.place,
            "record": record,
            "may_audit": may_audit,
            "audit": audit_trail(record, masked={}) if may_audit else [],
        },
    )


# ---------------------------------------------------------------------------------------------
# The disinfection log


def _log_filters(request: AuthedRequest) -> tuple[LogFilterForm, selectors.LogFilters]:
    form = LogFilterForm(request.GET or None, user=request.user)
    return form, form.filters()


@require_GET
@requires(Perm.DUTY_VIEW)
def disinfection_list(request: AuthedRequest) -> HttpResponse:
    """Every disinfection in the user's scope, newest first, with filters (unit, days)."""
    form, filters = _log_filters(request)
    return list_page(
        request,
        "checkpoints/records_log.html",
        selectors.disinfections_for(request.user, filters),
        {"form": form},
        per_page=PAGE_SIZE,
        count_cap=COUNT_CAP,
    )


@require_GET
@requires(Perm.DUTY_VIEW)
def disinfection_export(request: AuthedRequest) -> HttpResponseBase:
    """The disinfection log with its filters as an Excel file."""
    _form, filters = _log_filters(request)
    user = request.user
    return xlsx_response(
        lambda file: exports.export_disinfections(file, user=user, filters=filters),
        dated_filename(exports.DISINFECTION_SHEET),
    )


# ---------------------------------------------------------------------------------------------
# Publicity


def _publicity_filters(
    request: AuthedRequest,
) -> tuple[PublicityFilterForm, selectors.PublicityFilters]:
    form = PublicityFilterForm(request.GET or None, user=request.user)
    return form, form.filters()


def _publicity_url(record: PublicityRecord) -> str:
    return reverse("checkpoints:publicity_detail", kwargs={"publicity_id": record.pk})


@require_GET
@requires(Perm.DUTY_VIEW)
def publicity_list(request: AuthedRequest) -> HttpResponse:
    """The publicity records in the user's scope, newest first, with filters (unit, kind,
    days)."""
    form, filters = _publicity_filters(request)
    return list_page(
        request,
        "checkpoints/records_publicity_list.html",
        selectors.publicity_for(request.user, filters),
        {"form": form, "may_record": has_perm(request.user, Perm.DUTY_RECORD)},
        per_page=PAGE_SIZE,
        count_cap=COUNT_CAP,
    )


@require_GET
@requires(Perm.DUTY_VIEW)
def publicity_export(request: AuthedRequest) -> HttpResponseBase:
    """The publicity records with their filters as an Excel file."""
    _form, filters = _publicity_filters(request)
    user = request.user
    return xlsx_response(
        lambda file: exports.export_publicity(file, user=user, filters=filters),
        dated_filename(exports.PUBLICITY_SHEET),
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_RECORD)
def publicity_create(request: AuthedRequest) -> HttpResponseBase:
    """Record publicity done (``duty.record``)."""
    user = request.user
    form = PublicityForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.create_publicity(actor=user, **form.values())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Publicity of %(day)s recorded.") % {"day": record.day})
            return redirect(_publicity_url(record))
    return render(
        request, "checkpoints/records_publicity_form.html", {"form": form, "record": None}
    )


def _publicity(request: AuthedRequest, publicity_id: int, perm: Perm | None = None) -> Any:
    return get_scoped_or_404(
        PublicityRecord.objects.select_related("unit", "recorded_by"),
        request.user,
        publicity_id,
        perm,
    )


@require_GET
@requires(Perm.DUTY_VIEW)
def publicity_detail(request: AuthedRequest, publicity_id: int) -> HttpResponse:
    user = request.user
    record = _publicity(request, publicity_id)
    may_audit = may(user, Perm.AUDIT_VIEW, record)
    return render(
        request,
        "checkpoints/records_publicity_detail.html",
        {
            "record": record,
            "may_edit": may(user, Perm.DUTY_RECORD, record),
            "may_audit": may_audit,
            "audit": audit_trail(record, masked={}) if may_audit else [],
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_RECORD)
def publicity_edit(request: AuthedRequest, publicity_id: int) -> HttpResponseBase:
    """Correct a publicity record; the audit trail keeps what it was."""
    user = request.user
    record = _publicity(request, publicity_id, Perm.DUTY_RECORD)
    initial = {
        "unit": record.unit_id,
        "day": record.day,
        "kind": record.kind,
        "content": record.content,
        "place": record.place,
        "reach": record.reach,
        "quantity": record.quantity,
    }
    form = PublicityForm(
        request.POST if request.method == "POST" else None,
        user=user,
        current=record.unit,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_publicity(actor=user, record=record, **form.values())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The publicity record is saved."))
            return redirect(_publicity_url(record))
    return render(
        request, "checkpoints/records_publicity_form.html", {"form": form, "record": record}
    )
