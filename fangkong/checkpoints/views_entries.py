"""Pages of the checkpoints and their entry log.

- The checkpoints of the user's scope, one checkpoint (today's counts, operators, the last
  entries), adding, changing and closing one (the office).
- The gate (``<checkpoint>/gate/``): one hand on a phone, an entry in a few taps. Without
  script it is one form: searching, choosing a person from the results and recording are
  its buttons; with htmx the search answers as one types and a result fills the next row.
- The log of every entry in scope with its filters and its Excel export, one entry (its
  people, flags, alert and new arrivals, the audit trail) and its correction, and the
  daily counts per checkpoint.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core import viewkit
from fangkong.core.health import symptom_labels
from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may, scope_for
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    list_page,
    paginate,
    query_without_page,
    requires,
)
from fangkong.org.selectors import audit_trail
from fangkong.screening.selectors import regions_matching

from . import exports_entries as exports
from .forms_entries import (
    GATE_ROWS,
    CheckpointForm,
    CorrectForm,
    CountsForm,
    EntryFilterForm,
    GateForm,
    clear_row,
    correct_initial,
    free_row,
)
from .models import Checkpoint, Direction, Entry
from .selectors import entries as selectors
from .services import entries as services

LOG_PAGE_SIZE = 50
# The log counts its rows up to this many; beyond, it says "more than 10,000".
LOG_COUNT_CAP = 10_000
DETAIL_ENTRIES = 10  # the last entries shown on a checkpoint's page
GATE_ENTRIES = 10  # and on the gate
MAX_REGION_CHOICES = 20
COUNTS_PAGE_SIZE = 100  # checkpoint-days on a page of the daily counts


def _checkpoint(request: AuthedRequest, checkpoint_id: int, perm: Perm | None = None) -> Checkpoint:
    return get_scoped_or_404(
        Checkpoint.objects.select_related("unit", "intake_grid"), request.user, checkpoint_id, perm
    )


# ---------------------------------------------------------------------------------------------
# Checkpoints


@require_GET
@requires(Perm.CHECKPOINTS_VIEW)
def checkpoint_list(request: AuthedRequest) -> HttpResponse:
    """The checkpoints of the user's scope with today's counts; the user's own gates first."""
    user = request.user
    today = timezone.localdate()
    page = paginate(request, selectors.checkpoints_for(user).prefetch_related("operators"))
    checkpoints = list(page.object_list)
    counts = selectors.counts_by_checkpoint([c.pk for c in checkpoints], today)
    recording = scope_for(user, Perm.CHECKPOINTS_RECORD)
    mine = [c for c in checkpoints if c.is_active and user in c.operators.all()]
    return render(
        request,
        "checkpoints/entries_checkpoint_list.html",
        {
            "page": page,
            "rows": [
                (c, counts.get(c.pk, selectors.Counts()), c.is_active and recording.covers(c.unit))
                for c in checkpoints
            ],
            "mine": mine,
            "today": today,
            "may_manage": has_perm(user, Perm.CHECKPOINTS_MANAGE),
            "query": query_without_page(request),
        },
    )


def _checkpoint_values(form: CheckpointForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "location": data["location"],
        "unit": data["unit"],
        "intake_grid": data["intake_grid"],
    }


@require_http_methods(["GET", "POST"])
@requires(Perm.CHECKPOINTS_MANAGE)
def checkpoint_create(request: AuthedRequest) -> HttpResponse:
    form = CheckpointForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            checkpoint = services.create_checkpoint(
                actor=request.user,
                operators=list(form.cleaned_data["operators"]),
                **_checkpoint_values(form),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Checkpoint %(name)s added.") % {"name": checkpoint.name})
            return redirect(checkpoint.get_absolute_url())
    return render(request, "checkpoints/entries_checkpoint_form.html", {"form": form})


@require_GET
@requires(Perm.CHECKPOINTS_VIEW)
def checkpoint_detail(request: AuthedRequest, checkpoint_id: int) -> HttpResponse:
    user = request.user
    checkpoint = _checkpoint(request, checkpoint_id)
    today = timezone.localdate()
    may_audit = may(user, Perm.AUDIT_VIEW, checkpoint)
    return render(
        request,
        "checkpoints/entries_checkpoint_detail.html",
        {
            "checkpoint": checkpoint,
            "today": today,
            "counts": selectors.counts_by_checkpoint([checkpoint.pk], today).get(
                checkpoint.pk, selectors.Counts()
            ),
            "operators": list(checkpoint.operators.order_by("username")),
            "entries": selectors.recent_entries(checkpoint, today, DETAIL_ENTRIES),
            "may_record": checkpoint.is_active and may(user, Perm.CHECKPOINTS_RECORD, checkpoint),
            "may_manage": may(user, Perm.CHECKPOINTS_MANAGE, checkpoint),
            "may_audit": may_audit,
            "audit": audit_trail(checkpoint, masked={}) if may_audit else [],
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.CHECKPOINTS_MANAGE)
def checkpoint_edit(request: AuthedRequest, checkpoint_id: int) -> HttpResponse:
    checkpoint = _checkpoint(request, checkpoint_id, Perm.CHECKPOINTS_MANAGE)
    initial = {
        "name": checkpoint.name,
        "location": checkpoint.location,
        "unit": checkpoint.unit,
        "intake_grid": checkpoint.intake_grid,
        "operators": list(checkpoint.operators.all()),
        "is_active": checkpoint.is_active,
    }
    form = CheckpointForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # the checkpoint and its operators, or neither
                services.update_checkpoint(
                    actor=request.user,
                    checkpoint=checkpoint,
                    is_active=form.cleaned_data["is_active"],
                    **_checkpoint_values(form),
                )
                services.set_operators(
                    actor=request.user,
                    checkpoint=checkpoint,
                    operators=list(form.cleaned_data["operators"]),
                )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Checkpoint saved."))
            return redirect(checkpoint.get_absolute_url())
    return render(
        request,
        "checkpoints/entries_checkpoint_form.html",
        {"form": form, "checkpoint": checkpoint},
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.CHECKPOINTS_MANAGE)
def checkpoint_deactivate(request: AuthedRequest, checkpoint_id: int) -> HttpResponse:
    """Close a checkpoint, after a confirmation: its log stays, nothing more is logged."""
    checkpoint = _checkpoint(request, checkpoint_id, Perm.CHECKPOINTS_MANAGE)
    if request.method == "POST":
        if checkpoint.is_active:
            services.update_checkpoint(actor=request.user, checkpoint=checkpoint, is_active=False)
            messages.success(request, _("Checkpoint %(name)s closed.") % {"name": checkpoint.name})
        return redirect(checkpoint.get_absolute_url())
    return render(
        request,
        "checkpoints/entries_checkpoint_deactivate.html",
        {
            "checkpoint": checkpoint,
            "entries": Entry.objects.filter(checkpoint=checkpoint).count(),
        },
    )


# ---------------------------------------------------------------------------------------------
# The gate


def _gate_context(
    request: AuthedRequest, checkpoint: Checkpoint, form: GateForm, **extra: Any
) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "checkpoint": checkpoint,
        "form": form,
        "region": form.region(),
        "now": timezone.localtime(),
        "today": today,
        "counts": selectors.counts_by_checkpoint([checkpoint.pk], today).get(
            checkpoint.pk, selectors.Counts()
        ),
        "entries": selectors.recent_entries(checkpoint, today, GATE_ENTRIES),
        "gate_rows": GATE_ROWS,
        **extra,
    }


def _saved_entry(request: AuthedRequest, checkpoint: Checkpoint) -> Entry | None:
    """The entry just recorded (``?saved=``), shown at the top of the fresh form."""
    pk = request.GET.get("saved", "")
    if not pk.isdigit():
        return None
    entry = (
        Entry.objects.filter(pk=int(pk), checkpoint=checkpoint)
        .select_related("from_region")
        .prefetch_related("people")
        .first()
    )
    if entry is not None:
        entry.alert = selectors.alert_of(entry)  # type: ignore[attr-defined]
    return entry


def _adjusted(data: QueryDict) -> QueryDict:
    """The posted form after a button that does not record: a person chosen from the
    results goes into the first free row; a row cleared is emptied."""
    data = data.copy()
    pick = str(data.get("pick", ""))
    if pick.isdigit():
        row = free_row(data)
        if row is not None:
            data[f"p{row}_person"] = pick
            for name in ("name", "id_number", "phone"):
                data.pop(f"p{row}_{name}", None)
    cleared = str(data.get("clear", ""))
    if cleared.isdigit() and int(cleared) < GATE_ROWS:
        clear_row(data, int(cleared))
    return data


@require_http_methods(["GET", "POST"])
@requires(Perm.CHECKPOINTS_RECORD)
def gate(request: AuthedRequest, checkpoint_id: int) -> HttpResponseBase:
    """Log an entry at the gate. POST records it and shows the gate again, ready for the
    next one, with the entry just recorded at the top (the same form sent twice records
    once: its key). The buttons ``find``, ``pick`` and ``clear`` change the form without
    recording (the page without script)."""
    user = request.user
    checkpoint = _checkpoint(request, checkpoint_id, Perm.CHECKPOINTS_RECORD)
    if request.method == "GET":
        initial = {}
        if request.GET.get("direction") in Direction.values:
            initial["direction"] = request.GET["direction"]
        form = GateForm(user=user, initial=initial)
        return render(
            request,
            "checkpoints/gate.html",
            _gate_context(request, checkpoint, form, saved=_saved_entry(request, checkpoint)),
        )
    if any(name in request.POST for name in ("find", "pick", "clear")):
        form = GateForm(_adjusted(request.POST), user=user)
        query = request.POST.get("q", "") if "find" in request.POST else ""
        return render(
            request,
            "checkpoints/gate.html",
            _gate_context(
                request,
                checkpoint,
                form,
                matches=selectors.match_persons(user, query) if query else None,
                q=query,
            ),
        )
    form = GateForm(request.POST, user=user)
    if form.is_valid():
        found = form.entry()
        if found is not None:
            values, rows = found
            try:
                result = services.log_entry(actor=user, checkpoint=checkpoint, **values)
            except ValidationError as error:
                form.apply_service_errors(error, rows)
            else:
                url = reverse("checkpoints:gate", args=[checkpoint.pk])
                direction = result.entry.direction
                suffix = f"&direction={direction}" if direction != Direction.IN else ""
                return redirect(f"{url}?saved={result.entry.pk}{suffix}")
    return render(request, "checkpoints/gate.html", _gate_context(request, checkpoint, form))


@require_GET
@requires(Perm.CHECKPOINTS_RECORD)
def gate_persons(request: AuthedRequest, checkpoint_id: int) -> HttpResponse:
    """The register's persons matching ``q`` (name, ID number or phone, a part is enough),
    as big buttons under the gate's search box (htmx)."""
    _checkpoint(request, checkpoint_id, Perm.CHECKPOINTS_RECORD)
    query = request.GET.get("q", "").strip()
    return render(
        request,
        "checkpoints/gate.html#matches",
        {"matches": selectors.match_persons(request.user, query) if query else None, "q": query},
    )


@require_GET
@requires(Perm.CHECKPOINTS_RECORD)
def gate_regions(request: AuthedRequest) -> HttpResponse:
    """Up to 20 regions matching ``q`` by code or name, for the gate's "came from" (the
    screening door's list of choices). The gate's search box is ``region_q`` (its form has
    the person search's ``q``)."""
    query = (request.GET.get("region_q") or request.GET.get("q", "")).strip()
    choices = (
        regions_matching(query).select_related("parent__parent")[:MAX_REGION_CHOICES]
        if query
        else []
    )
    return render(request, "screening/door_choices.html#regions", {"choices": choices})


# ---------------------------------------------------------------------------------------------
# The log


def log_filters(data: QueryDict, user: Any) -> tuple[EntryFilterForm, selectors.EntryFilters]:
    """The log's filters read from ``data`` as the page reads them (invalid filters are
    ignored), so that an export holds the rows the page shows."""
    form = EntryFilterForm(data or None, user=user)
    return form, form.filters()


@require_GET
@requires(Perm.CHECKPOINTS_VIEW)
def entry_list(request: AuthedRequest) -> HttpResponse:
    form, filters = log_filters(request.GET, request.user)
    return list_page(
        request,
        "checkpoints/entries_list.html",
        selectors.entries_for(request.user, filters),
        {"form": form, "may_reveal": has_perm(request.user, Perm.PII_REVEAL)},
        per_page=LOG_PAGE_SIZE,
        count_cap=LOG_COUNT_CAP,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.CHECKPOINTS_VIEW)
def entry_export(request: AuthedRequest) -> HttpResponseBase:
    """The log as an Excel file, one row per person: masked, or with full numbers after a
    confirmation (see :func:`fangkong.core.viewkit.ledger_export`)."""
    return viewkit.ledger_export(
        request,
        read_filters=log_filters,
        rows=selectors.entries_for,
        write=exports.export_entry_log,
        filename=exports.ledger_filename(),
        confirm_template="checkpoints/entries_export_confirm.html",
    )


def _entry(request: AuthedRequest, entry_id: int, perm: Perm | None = None) -> Entry:
    return get_scoped_or_404(
        Entry.objects.select_related(
            "checkpoint", "unit", "from_region__parent__parent", "recorded_by"
        ),
        request.user,
        entry_id,
        perm,
    )


@require_GET
@requires(Perm.CHECKPOINTS_VIEW)
def entry_detail(request: AuthedRequest, entry_id: int) -> HttpResponse:
    user = request.user
    entry = _entry(request, entry_id)
    people = list(entry.people.select_related("person__grid", "screening").order_by("position"))
    register = scope_for(user, Perm.REGISTER_VIEW)
    screening = scope_for(user, Perm.SCREENING_VIEW)
    for row in people:
        person = row.person
        row.visible = person is not None and register.covers(person.grid)  # type: ignore[attr-defined]
        row.arrival_visible = row.screening is not None and screening.covers(  # type: ignore[attr-defined]
            person.grid if person is not None else None
        )
        row.shown_id = person.id_number if person is not None else row.id_number  # type: ignore[attr-defined]
        row.shown_phone = person.phone if person is not None else row.phone  # type: ignore[attr-defined]
        row.symptom_text = symptom_labels(row.symptoms or [])  # type: ignore[attr-defined]
    alert = selectors.alert_of(entry)
    may_audit = may(user, Perm.AUDIT_VIEW, entry)
    return render(
        request,
        "checkpoints/entries_detail.html",
        {
            "entry": entry,
            "people": people,
            "alert": alert,
            "alert_visible": alert is not None and may(user, Perm.ALERTS_VIEW, alert),
            "unregistered": entry.is_flagged
            and any(row.is_flagged and row.person_id is None for row in people),
            "no_arrival": entry.is_flagged and entry.from_region_id is None,
            "may_correct": may(user, Perm.CHECKPOINTS_RECORD, entry),
            "may_audit": may_audit,
            "audit": audit_trail(entry, masked={}) if may_audit else [],
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.CHECKPOINTS_RECORD)
def entry_correct(request: AuthedRequest, entry_id: int) -> HttpResponse:
    """Fix a typo (the plate, the direction, the purpose, the note); the audit trail keeps
    what was logged."""
    entry = _entry(request, entry_id, Perm.CHECKPOINTS_RECORD)
    form = CorrectForm(request.POST or None, initial=correct_initial(entry))
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_entry(actor=request.user, entry=entry, **form.changes())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Entry corrected."))
            return redirect(entry.get_absolute_url())
    return render(request, "checkpoints/entries_correct.html", {"entry": entry, "form": form})


@require_GET
@requires(Perm.CHECKPOINTS_VIEW)
def entry_counts(request: AuthedRequest) -> HttpResponse:
    """Per checkpoint per day: entries, persons, vehicles, fevers and flagged entries
    (``?from=&to=``, the last week by default)."""
    form = CountsForm(request.GET or None, user=request.user)
    start, end, checkpoint = form.period()
    counts = selectors.daily_counts(request.user, start, end, checkpoint=checkpoint)
    page = Paginator(counts.rows, COUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "checkpoints/entries_counts.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "counts": counts,
            "page": page,
            "query": query_without_page(request),
        },
    )
