"""The observation ledger (居家隔离医学观察台账) and its Excel export; starting observation
for one person or in bulk from the screening results; decisions (release, referral,
suspected, confirmed) and period changes; the rules and period presets; the person page's
observation section."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core import viewkit
from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may, restrict
from fangkong.core.search import substring_filter
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    paginate,
    query_without_page,
    render_page,
    requires,
)
from fangkong.org.forms import ListFilterForm
from fangkong.org.models import Person
from fangkong.org.selectors import audit_trail
from fangkong.screening.models import Screening
from fangkong.screening.rules import describe

from . import exports, selectors, services
from .forms_ledger import (
    RULE_FIELDS,
    BulkStartForm,
    DecideForm,
    EpisodeFilterForm,
    PeriodForm,
    PresetForm,
    RulesForm,
    StartForm,
    default_preset_pk,
)
from .models import ObservationEpisode, ObservationKind, PeriodPreset
from .rules import plan_period

Status = ObservationEpisode.Status

LEDGER_PAGE_SIZE = 50
# The ledger counts its rows up to this many; beyond, it says "more than 10,000".
LEDGER_COUNT_CAP = 10_000
BULK_PAGE_SIZE = 50
PICK_MAX = 20  # persons listed by the search of the start page
PERSON_EPISODES = 20  # episodes shown on the person page


class _DryRun(Exception):
    """Rolls back a service call made only to learn whether it would succeed."""


def _would_fail(call: Callable[[], object]) -> ValidationError | None:
    """What the service would refuse, with nothing kept: the service alone decides what a
    decision or a start needs (a note for an early release, a day counted from on or before
    the start…), so a confirmation is asked only for what it will accept."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        return None
    except ValidationError as error:
        return error


# ---------------------------------------------------------------------------------------------
# The ledger


@dataclass
class LedgerRow:
    """One episode as the ledger shows it: day N of M of the period, and today's checks."""

    episode: ObservationEpisode
    day: int | None  # today's number counted from ``counts_from`` (running episodes only)
    total: int
    today: selectors.TodayStatus | None
    due: bool  # running, and the planned end is today or past: a release to decide


def ledger_rows(episodes: list[ObservationEpisode], today: dt.date) -> list[LedgerRow]:
    running = [e for e in episodes if e.is_active]
    status = selectors.today_status(running, today) if running else {}
    return [
        LedgerRow(
            episode=e,
            day=(today - e.counts_from).days if e.is_active else None,
            total=e.total_days,
            today=status.get(e.pk),
            due=e.is_active and e.planned_end <= today,
        )
        for e in episodes
    ]


def ledger_filters(
    data: QueryDict, user: Any
) -> tuple[EpisodeFilterForm, selectors.EpisodeFilters]:
    """The ledger's filters read from ``data`` as the page reads them (invalid filters are
    ignored), so that an export holds the rows the page shows."""
    form = EpisodeFilterForm(data or None, user=user)
    return form, form.filters()


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def ledger(request: AuthedRequest) -> HttpResponse:
    form, filters = ledger_filters(request.GET, request.user)
    episodes = selectors.episodes_for(request.user, filters)
    page = paginate(request, episodes, LEDGER_PAGE_SIZE, count_cap=LEDGER_COUNT_CAP)
    today = timezone.localdate()
    page.object_list = ledger_rows(list(page.object_list), today)
    return render_page(
        request,
        "observation/ledger.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "query": query_without_page(request),
            "may_reveal": has_perm(request.user, Perm.PII_REVEAL),
            "may_record": has_perm(request.user, Perm.OBSERVATION_RECORD),
        },
        partial="results",
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_VIEW)
def ledger_export(request: AuthedRequest) -> HttpResponseBase:
    """The ledger as an Excel file: masked, or with full numbers after a confirmation
    (see :func:`fangkong.core.viewkit.ledger_export`)."""
    return viewkit.ledger_export(
        request,
        read_filters=ledger_filters,
        rows=selectors.episodes_for,
        write=exports.export_observation_ledger,
        filename=exports.ledger_filename(),
        confirm_template="observation/ledger_export_confirm.html",
    )


# ---------------------------------------------------------------------------------------------
# Starting observation for one person


def _pick_person(request: AuthedRequest) -> HttpResponse:
    """The start page without a person: find them in the register."""
    form = ListFilterForm(request.GET or None, user=request.user)
    form.fields["q"].widget.attrs["placeholder"] = _("Name, ID number or phone (part is enough)")
    persons: list[Person] = []
    if form.is_valid() and form.cleaned_data["q"]:
        found = restrict(
            Person.objects.filter(is_active=True), request.user, Perm.OBSERVATION_RECORD
        )
        if form.cleaned_data["unit"] is not None:
            found = found.filter(grid__path__startswith=form.cleaned_data["unit"].path)
        persons = list(
            substring_filter(found, form.cleaned_data["q"])
            .select_related("grid", "grid__parent", "household")
            .order_by("name", "pk")[:PICK_MAX]
        )
    return render(
        request,
        "observation/start_pick.html",
        {"form": form, "persons": persons, "more": len(persons) >= PICK_MAX},
    )


def _start_initial(person: Person, screening: Screening | None) -> dict[str, Any]:
    today = timezone.localdate()
    initial: dict[str, Any] = {
        "start_date": today,
        "preset": default_preset_pk(),
        "place": person.household.address if person.household is not None else "",
    }
    if screening is not None:
        initial.update(services.start_from_screening(screening))
        if screening.category == "close_contact" and screening.contact_name:
            initial["reason_note"] = screening.contact_name
        elif screening.from_region_id:
            initial["reason_note"] = str(screening.from_region_id)
    return initial


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def start(request: AuthedRequest) -> HttpResponse:
    """Put one person (``?person=``) under observation, optionally from the screening that
    found them (``?screening=``: the reason and the day counted from are filled in)."""
    if not request.GET.get("person"):
        if request.method == "POST":
            raise Http404
        return _pick_person(request)
    user = request.user
    person = get_scoped_or_404(
        Person.objects.filter(is_active=True).select_related("grid", "grid__parent", "household"),
        user,
        request.GET["person"],
        Perm.OBSERVATION_RECORD,
    )
    screening = None
    if request.GET.get("screening"):
        screening = get_scoped_or_404(
            Screening.objects.filter(person=person).select_related("from_region__parent__parent"),
            user,
            request.GET["screening"],
        )
    running = selectors.active_episode(person)
    data = request.POST if request.method == "POST" else None
    if request.htmx and request.method == "GET":
        data = request.GET  # the preview of the period, from the values typed so far
    form = StartForm(data, initial=_start_initial(person, screening))
    if request.method == "POST" and running is None and form.is_valid():
        try:
            episode = services.start_episode(actor=user, entry=form.entry(person, screening))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is under observation until %(end)s.")
                % {"name": person.name, "end": episode.planned_end.isoformat()},
            )
            return redirect(episode.get_absolute_url())
    preview = form.preview()
    return render_page(
        request,
        "observation/start.html",
        {
            "person": person,
            "screening": screening,
            "screening_reasons": [describe(r) for r in screening.reasons or ()]
            if screening is not None
            else [],
            "running": running,
            "form": form,
            "preview": preview,
            "ends_before_start": preview is not None
            and (start_day := form.start_day()) is not None
            and preview.planned_end < start_day,
        },
        partial="preview",
    )


# ---------------------------------------------------------------------------------------------
# Starting observation in bulk, from the key persons of the screening results


@dataclass
class Candidate:
    screening: Screening
    reason: str
    counts_from: dt.date
    counts_from_kind: str
    planned_end: dt.date | None

    @property
    def person(self) -> Person:
        return self.screening.person


def _candidates(screenings: list[Screening], preset: PeriodPreset | None) -> list[Candidate]:
    rows = []
    for screening in screenings:
        found = services.start_from_screening(screening)
        end = (
            plan_period(
                found["counts_from"], preset.isolation_days, preset.monitoring_days
            ).planned_end
            if preset is not None
            else None
        )
        rows.append(
            Candidate(
                screening=screening,
                reason=str(dict(ObservationEpisode.Reason.choices)[found["reason"]]),
                counts_from=found["counts_from"],
                counts_from_kind=str(
                    dict(ObservationEpisode.CountsFrom.choices)[found["counts_from_kind"]]
                ),
                planned_end=end,
            )
        )
    return rows


def _bulk_filters(request: AuthedRequest) -> tuple[ListFilterForm, str, Any]:
    form = ListFilterForm(request.GET or None, user=request.user)
    form.fields["q"].widget.attrs["placeholder"] = _("Name, ID number or phone (part is enough)")
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["q"], form.cleaned_data["unit"]
    return form, "", None


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def bulk_start(request: AuthedRequest) -> HttpResponse:
    """GET: the key persons found by screening who are not under observation, to tick.
    POST: the persons ticked and what they share, to confirm (their number, reasons and
    periods), or what stops one of them, by name; POST with ``confirm``: start them all, or
    none when one cannot start."""
    user = request.user
    filter_form, q, unit = _bulk_filters(request)
    today = timezone.localdate()
    if request.method == "POST":
        form = BulkStartForm(request.POST, screenings=selectors.key_screenings(user))
        if form.is_valid():
            if not request.POST.get("confirm"):
                refused = _would_fail(
                    lambda: services.start_episodes(actor=user, entries=form.entries())
                )
                if refused is not None:
                    apply_service_errors(form, refused)
            else:
                try:
                    episodes = services.start_episodes(actor=user, entries=form.entries())
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    messages.success(
                        request,
                        ngettext(
                            "%(count)d person put under observation.",
                            "%(count)d persons put under observation.",
                            len(episodes),
                        )
                        % {"count": len(episodes)},
                    )
                    return redirect(f"{reverse('observation:ledger')}?status={Status.ACTIVE}")
            chosen = sorted(form.cleaned_data["screenings"], key=lambda s: (s.person.name, s.pk))
            return render(
                request,
                "observation/bulk_start_confirm.html",
                {
                    "form": form,
                    "rows": _candidates(chosen, form.cleaned_data["preset"]),
                    "count": len(chosen),
                    "kind_label": dict(ObservationKind.choices)[form.cleaned_data["kind"]],
                },
            )
    else:
        form = BulkStartForm(
            initial={"start_date": today, "preset": default_preset_pk()},
            screenings=selectors.key_screenings(user),
        )
    page = paginate(
        request, selectors.key_screenings(user, startable=True, q=q, unit=unit), BULK_PAGE_SIZE
    )
    preset = form.preset_options.get(default_preset_pk())  # type: ignore[attr-defined]
    page.object_list = _candidates(list(page.object_list), preset)
    chosen_ids = {str(v) for v in (form["screenings"].value() or [])}
    return render(
        request,
        "observation/bulk_start.html",
        {
            "form": form,
            "filter_form": filter_form,
            "page": page,
            "chosen": chosen_ids,
            "preset": preset,
            "query": query_without_page(request),
        },
    )


# ---------------------------------------------------------------------------------------------
# Decisions and period changes


def _episode(request: AuthedRequest, episode_id: int, perm: Perm) -> ObservationEpisode:
    return get_scoped_or_404(
        ObservationEpisode.objects.select_related(
            "person", "person__grid", "person__grid__parent", "person__household", "preset"
        ),
        request.user,
        episode_id,
        perm,
    )


def _episode_context(episode: ObservationEpisode) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "episode": episode,
        "person": episode.person,
        "day": (today - episode.counts_from).days if episode.is_active else None,
        "today": today,
    }


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_DECIDE)
def decide(request: AuthedRequest, episode_id: int) -> HttpResponse:
    """Release (解除), refer to hospital (转诊), suspected or confirmed: the form, then a
    confirmation of exactly what will be recorded, then the decision."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_DECIDE)
    today = timezone.localdate()
    allowed = services.DECISIONS.get(episode.status, set())
    initial = {"on": today, "outcome": Status.RELEASED if Status.RELEASED in allowed else ""}
    form = DecideForm(request.POST or None, episode=episode, initial=initial)
    context = {**_episode_context(episode), "form": form, "allowed": allowed}
    if request.method == "POST" and form.is_valid():
        values = {
            "outcome": form.cleaned_data["outcome"],
            "on": form.cleaned_data["on"],
            "note": form.cleaned_data["note"],
        }

        def call() -> ObservationEpisode:
            return services.decide(actor=request.user, episode=episode, **values)

        if request.POST.get("confirm"):
            try:
                call()
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(name)s: %(outcome)s on %(on)s.")
                    % {
                        "name": episode.person.name,
                        "outcome": dict(Status.choices)[values["outcome"]],
                        "on": values["on"].isoformat(),
                    },
                )
                return redirect(episode.get_absolute_url())
        else:
            refused = _would_fail(call)
            if refused is not None:
                apply_service_errors(form, refused)
            else:
                context["outcome_label"] = dict(Status.choices)[values["outcome"]]
                context["values"] = values
                return render(request, "observation/decide_confirm.html", context)
    return render(request, "observation/decide.html", context)


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_DECIDE)
def change_period(request: AuthedRequest, episode_id: int) -> HttpResponse:
    """Extend or shorten a running episode: the new last day and why."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_DECIDE)
    form = PeriodForm(request.POST or None, initial={"planned_end": episode.planned_end})
    if request.method == "POST" and form.is_valid():
        old = episode.planned_end
        try:
            services.change_period(
                actor=request.user,
                episode=episode,
                planned_end=form.cleaned_data["planned_end"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s: last day %(old)s → %(new)s.")
                % {
                    "name": episode.person.name,
                    "old": old.isoformat(),
                    "new": form.cleaned_data["planned_end"].isoformat(),
                },
            )
            return redirect(episode.get_absolute_url())
    return render(request, "observation/period.html", {**_episode_context(episode), "form": form})


# ---------------------------------------------------------------------------------------------
# Rules and presets


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_MANAGE)
def settings_page(request: AuthedRequest) -> HttpResponse:
    """The check windows, the fever threshold and the limits in force, and the period
    presets; the office changes them here, every change in the audit trail."""
    current = services.current_rules()
    initial = {name: getattr(current, name) for name in RULE_FIELDS}
    form = RulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rules(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Rules saved. Checks, fevers and limits follow them from now on."),
            )
            return redirect(reverse("observation:settings"))
    may_audit = has_perm(request.user, Perm.AUDIT_VIEW)
    return render(
        request,
        "observation/settings.html",
        {
            "form": form,
            "rules": current,
            "presets": list(PeriodPreset.objects.order_by("-is_active", "order", "pk")),
            "may_audit": may_audit,
            "audit": audit_trail(current, masked={}) if may_audit and current.pk else [],
        },
    )


def _preset_form_page(request: AuthedRequest, preset: PeriodPreset | None) -> HttpResponse:
    initial = (
        {
            name: getattr(preset, name)
            for name in ("name", "isolation_days", "monitoring_days", "is_default", "is_active")
        }
        | {"order": preset.order}
        if preset is not None
        else {}
    )
    form = PresetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_preset(actor=request.user, preset=preset, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Preset %(name)s saved.") % {"name": saved.name})
            return redirect(reverse("observation:settings"))
    may_audit = preset is not None and has_perm(request.user, Perm.AUDIT_VIEW)
    return render(
        request,
        "observation/settings_preset.html",
        {
            "form": form,
            "preset": preset,
            "may_audit": may_audit,
            "audit": audit_trail(preset, masked={}) if may_audit and preset else [],
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_MANAGE)
def preset_create(request: AuthedRequest) -> HttpResponse:
    return _preset_form_page(request, None)


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_MANAGE)
def preset_edit(request: AuthedRequest, preset: int) -> HttpResponse:
    """Presets are the office's reference data, the same for the whole organisation (not
    scoped): whoever may manage them may change any."""
    found = PeriodPreset.objects.filter(pk=preset).first()
    if found is None:
        raise Http404
    return _preset_form_page(request, found)


# ---------------------------------------------------------------------------------------------
# The person page's section


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def person_episodes(request: AuthedRequest, person_id: int) -> HttpResponse:
    """The observation section of the person page (loaded by htmx): the person's episodes,
    latest first, and a button to start one when none is running."""
    person = (
        restrict(Person.objects.select_related("grid"), request.user, Perm.OBSERVATION_VIEW)
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise Http404
    episodes = list(selectors.episodes_of_person(request.user, person)[:PERSON_EPISODES])
    today = timezone.localdate()
    running = any(e.is_active for e in episodes)
    return render(
        request,
        "observation/person_episodes.html",
        {
            "person": person,
            "rows": ledger_rows(episodes, today),
            "may_start": not running
            and person.is_active
            and may(request.user, Perm.OBSERVATION_RECORD, person),
        },
    )
