"""One episode's working pages (the day rows, readings, visits, needs, the responsible
people, the self-report link and the printable notice), the grid worker's today list and
the list of needs.

The reading and visit forms are htmx forms: the answer replaces the form (with its field
errors, or fresh with a new idempotency key) and the day table (or the today card) in place.
Without script the same URLs are pages. Query budgets: tests/test_today_pages.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.alerts.selectors import alerts_for
from fangkong.core.health import symptom_labels
from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    paginate,
    query_without_page,
    render_page,
    requires,
)
from fangkong.org.selectors import audit_trail

from . import rules as period_rules
from . import selectors, services
from .forms_episode import (
    LinkActionForm,
    NeedForm,
    NeedUpdateForm,
    QuickReadingForm,
    QuickVisitForm,
    ReadingForm,
    ResponsibleForm,
    VisitForm,
)
from .models import EpisodeResponsible, Need, ObservationEpisode, SelfReportLink, Slot

DETAIL = "observation/episode_detail.html"
FORM_PAGE = "observation/episode_form.html"
TODAY = "observation/today.html"
NEEDS = "observation/needs_list.html"
TODAY_PAGE_SIZE = 20
NEEDS_PAGE_SIZE = 50
CARE_SHOWN = 20  # care visits of the household on the episode page (the rest: care pages)
ALERTS_SHOWN = 20
# Pages of the other parts of the episode (decisions, 一人一表): linked when they exist.
OTHER_PAGES = ("decide", "change_period", "sheet", "sheet_xlsx", "chart")
STATUS_CSS: dict[str, str] = {
    ObservationEpisode.Status.ACTIVE: "text-bg-primary",
    ObservationEpisode.Status.RELEASED: "text-bg-success",
    ObservationEpisode.Status.REFERRED: "text-bg-warning",
    ObservationEpisode.Status.SUSPECTED: "text-bg-danger",
    ObservationEpisode.Status.CONFIRMED: "text-bg-danger",
}


# ---------------------------------------------------------------------------------------------
# Fetching


def _episode(
    request: AuthedRequest, episode_id: int, perm: Perm | None = None
) -> ObservationEpisode:
    return get_scoped_or_404(
        ObservationEpisode.objects.select_related(
            "person", "person__grid", "person__grid__parent", "person__household", "preset"
        ),
        request.user,
        episode_id,
        perm,
    )


def _optional_url(name: str, **kwargs: Any) -> str:
    """The URL of a page another part of the observation pages provides ("" until it exists)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def _detail_url(episode: ObservationEpisode, anchor: str = "") -> str:
    url = reverse("observation:episode_detail", kwargs={"episode_id": episode.pk})
    return f"{url}#{anchor}" if anchor else url


def _next_url(request: AuthedRequest, default: str) -> str:
    """Where a form posted without script returns: the page it came from (on this site)."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


def live_link(episode: ObservationEpisode) -> SelfReportLink | None:
    return SelfReportLink.objects.filter(episode=episode, revoked_at__isnull=True).first()


# ---------------------------------------------------------------------------------------------
# The period in words


@dataclass(frozen=True)
class PeriodView:
    day: int | None  # today's day number, while today is in the period
    total: int  # the last day's number
    overdue: bool  # still running after the planned end: the release is to be decided


def period_of(episode: ObservationEpisode, today: dt.date) -> PeriodView:
    last = episode.ended_on or episode.planned_end
    day = (today - episode.counts_from).days if episode.start_date <= today <= last else None
    return PeriodView(
        day=day,
        total=episode.total_days,
        overdue=episode.is_active and today > episode.planned_end,
    )


# ---------------------------------------------------------------------------------------------
# The episode page


def _mark_needs(needs: list[Need], user: Any) -> list[Need]:
    for need in needs:
        need.can_update = need.status != Need.Status.RESOLVED and may(  # type: ignore[attr-defined]
            user, Perm.OBSERVATION_RECORD, need
        )
    return needs


def _episode_needs(request: AuthedRequest, episode: ObservationEpisode) -> list[Need]:
    needs = selectors.needs_for(request.user, episode=episode).select_related(
        "episode__person__grid"
    )
    return _mark_needs(list(needs), request.user)


def _days_context(request: AuthedRequest, episode: ObservationEpisode) -> dict[str, Any]:
    days = selectors.episode_days(episode)
    for row in days:
        row.symptom_text = symptom_labels(row.symptoms)  # type: ignore[attr-defined]
    return {
        "episode": episode,
        "days": days,
        "threshold": services.current_rules().fever_threshold,
    }


def _detail_context(
    request: AuthedRequest,
    episode: ObservationEpisode,
    *,
    reading_form: ReadingForm | None = None,
    visit_form: VisitForm | None = None,
    need_form: NeedForm | None = None,
) -> dict[str, Any]:
    user = request.user
    person = episode.person
    today = timezone.localdate()
    may_record = may(user, Perm.OBSERVATION_RECORD, episode)
    may_audit = may(user, Perm.AUDIT_VIEW, episode)
    roles = list(EpisodeResponsible.Role.values)
    responsible = sorted(episode.responsible.all(), key=lambda r: roles.index(r.role))
    care_visits = (
        list(selectors.care_visits_for(user, household=person.household_id)[:CARE_SHOWN])
        if person.household_id
        else []
    )
    alerts = (
        list(
            alerts_for(user, status="unhandled").filter(
                object_type="observation.episode", object_id=episode.pk
            )[:ALERTS_SHOWN]
        )
        if has_perm(user, Perm.ALERTS_VIEW)
        else []
    )
    context: dict[str, Any] = {
        **_days_context(request, episode),
        "person": person,
        "period": period_of(episode, today),
        "status_css": STATUS_CSS.get(episode.status, "text-bg-secondary"),
        "responsible": responsible,
        "needs": _episode_needs(request, episode),
        "care_visits": care_visits,
        "alerts": alerts,
        "link": live_link(episode),
        "may_record": may_record,
        "may_decide": may(user, Perm.OBSERVATION_DECIDE, episode),
        "may_audit": may_audit,
        "may_care": may_record and person.household_id is not None,
        "urls": {
            name: _optional_url(f"observation:{name}", episode_id=episode.pk)
            for name in OTHER_PAGES
        },
        "reading_form": reading_form or ReadingForm(),
        "visit_form": visit_form or VisitForm(),
        "need_form": need_form or NeedForm(),
        "next": request.get_full_path(),
    }
    if may_audit:
        context["audit"] = audit_trail(episode, masked={})
    return context


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def episode_detail(request: AuthedRequest, episode_id: int) -> HttpResponse:
    """Everything about one episode: the period, the day rows, the forms of the day's work,
    the needs, the responsible people, the self-report link and the care visits."""
    episode = _episode(request, episode_id)
    return render(request, DETAIL, _detail_context(request, episode))


# ---------------------------------------------------------------------------------------------
# The today list (the grid worker's phone page)


@dataclass
class TodayCard:
    """One person under observation as the today list shows them."""

    episode: ObservationEpisode
    status: selectors.TodayStatus
    day: int | None
    may_record: bool
    reading_form: QuickReadingForm
    visit_form: QuickVisitForm
    message: str = ""
    level: str = "success"
    errors: list[str] = field(default_factory=list)

    @property
    def checks_done(self) -> int:
        return int(self.status.morning is not None) + int(self.status.afternoon is not None)


def _card(
    request: AuthedRequest,
    episode: ObservationEpisode,
    status: selectors.TodayStatus,
    today: dt.date,
    *,
    reading_form: QuickReadingForm | None = None,
    visit_form: QuickVisitForm | None = None,
    **outcome: Any,
) -> TodayCard:
    return TodayCard(
        episode=episode,
        status=status,
        day=period_of(episode, today).day,
        may_record=episode.is_active and may(request.user, Perm.OBSERVATION_RECORD, episode),
        reading_form=reading_form or QuickReadingForm(auto_id=f"card{episode.pk}r_%s"),
        visit_form=visit_form or QuickVisitForm(auto_id=f"card{episode.pk}v_%s"),
        **outcome,
    )


def _window() -> tuple[str, Any]:
    """The check window open now ("" between windows) and the rules."""
    rules = services.current_rules()
    _day, slot = period_rules.slot_of(timezone.now(), rules)
    return slot, rules


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def today(request: AuthedRequest) -> HttpResponse:
    """The active episodes in the user's scope, a card each with today's checks and visit and
    the quick forms to record them: a fixed number of queries for any page size."""
    query = request.GET.get("q", "").strip()
    episodes = selectors.episodes_for(
        request.user, selectors.EpisodeFilters(q=query, status=ObservationEpisode.Status.ACTIVE)
    )
    page = paginate(request, episodes, TODAY_PAGE_SIZE)
    listed = list(page.object_list)
    statuses = selectors.today_status(listed)
    day = timezone.localdate()
    page.object_list = [_card(request, e, statuses[e.pk], day) for e in listed]
    slot, rules = _window()
    return render_page(
        request,
        TODAY,
        {
            "page": page,
            "q": query,
            "query": query_without_page(request),
            "today": day,
            "slot": slot,
            "rules": rules,
            "slots": Slot,
        },
        partial="results",
    )


def _card_response(request: AuthedRequest, card: TodayCard) -> HttpResponse:
    slot, rules = _window()
    response = render(
        request, f"{TODAY}#card", {"card": card, "slot": slot, "rules": rules, "slots": Slot}
    )
    response.headers["Vary"] = "HX-Request"
    return response


def _fresh_card(request: AuthedRequest, episode: ObservationEpisode, **outcome: Any) -> TodayCard:
    status = selectors.today_status([episode])[episode.pk]
    return _card(request, episode, status, timezone.localdate(), **outcome)


# ---------------------------------------------------------------------------------------------
# Recording a reading, a visit, a need


def _form_page(
    request: AuthedRequest, episode: ObservationEpisode, which: str, form: Any
) -> HttpResponse:
    """The form as a page of its own (no script, or a link opened directly)."""
    return render(
        request,
        FORM_PAGE,
        {
            "episode": episode,
            "person": episode.person,
            "which": which,
            "form": form,
            f"{which}_form": form,
            "plain": True,
        },
    )


def _in_place(
    request: AuthedRequest,
    episode: ObservationEpisode,
    partial: str,
    context: dict[str, Any],
    *,
    days: bool,
    needs: bool = False,
) -> HttpResponse:
    """The form again (fresh or with its errors) and, after a change, the day table and the
    needs swapped out of band."""
    base = {
        "episode": episode,
        "person": episode.person,
        "may_record": True,
        "next": _detail_url(episode, "needs"),
    }
    parts = [render_to_string(f"{DETAIL}#{partial}", {**base, **context}, request)]
    if days:
        parts.append(
            render_to_string(
                f"{DETAIL}#days", {**base, **_days_context(request, episode), "oob": True}, request
            )
        )
    if needs:
        parts.append(
            render_to_string(
                f"{DETAIL}#needs",
                {
                    **base,
                    "needs": _episode_needs(request, episode),
                    "need_form": NeedForm(),
                    "oob": True,
                },
                request,
            )
        )
    response = HttpResponse("".join(parts))
    response.headers["Vary"] = "HX-Request"
    return response


def _reading_message(result: services.ReadingResult) -> tuple[str, str]:
    reading = result.reading
    when = timezone.localtime(reading.taken_at)
    if not result.created:
        return "info", _("Already recorded: %(value)s °C at %(time)s.") % {
            "value": reading.value,
            "time": f"{when:%H:%M}",
        }
    if reading.is_fever:
        return "danger", _("Fever: %(value)s °C recorded at %(time)s. An alert is raised.") % {
            "value": reading.value,
            "time": f"{when:%H:%M}",
        }
    if reading.symptoms:
        return "warning", _(
            "%(value)s °C recorded at %(time)s, with symptoms. An alert is raised."
        ) % {"value": reading.value, "time": f"{when:%H:%M}"}
    return "success", _("%(value)s °C recorded at %(time)s.") % {
        "value": reading.value,
        "time": f"{when:%H:%M}",
    }


LEVELS = {
    "success": messages.SUCCESS,
    "info": messages.INFO,
    "warning": messages.WARNING,
    "danger": messages.ERROR,
}


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def add_reading(request: AuthedRequest, episode_id: int) -> HttpResponseBase:
    """Record a temperature (the episode page's form, or a today card's quick form with
    ``card=1``). The same idempotency key twice records once."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_RECORD)
    card = request.POST.get("card") == "1"
    data = request.POST if request.method == "POST" else None
    form: ReadingForm | QuickReadingForm = (
        QuickReadingForm(data, auto_id=f"card{episode.pk}r_%s") if card else ReadingForm(data)
    )
    result = None
    if data is not None and form.is_valid():
        try:
            result = services.record_reading(actor=request.user, episode=episode, **form.reading())
        except ValidationError as error:
            apply_service_errors(form, error)
    if result is not None:
        level, message = _reading_message(result)
        if not request.htmx:
            messages.add_message(request, LEVELS[level], message)
            default = (
                reverse("observation:today") + f"#card-{episode.pk}"
                if card
                else _detail_url(episode, "days")
            )
            return redirect(_next_url(request, default))
        if card:
            return _card_response(
                request, _fresh_card(request, episode, message=message, level=level)
            )
        return _in_place(
            request,
            episode,
            "reading_form",
            {"reading_form": ReadingForm(), "message": message, "level": level},
            days=True,
        )
    if not request.htmx:
        return _form_page(request, episode, "reading", form)
    if card:
        return _card_response(
            request,
            _fresh_card(request, episode, reading_form=form),
        )
    return _in_place(request, episode, "reading_form", {"reading_form": form}, days=False)


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def add_visit(request: AuthedRequest, episode_id: int) -> HttpResponseBase:
    """Record the day's follow-up visit (the episode page's form, or a today card's "visit
    done" with ``card=1``). The same idempotency key twice records once."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_RECORD)
    card = request.POST.get("card") == "1"
    data = request.POST if request.method == "POST" else None
    form: VisitForm | QuickVisitForm = (
        QuickVisitForm(data, auto_id=f"card{episode.pk}v_%s") if card else VisitForm(data)
    )
    saved = None
    if data is not None and form.is_valid():
        try:
            saved = services.record_visit(actor=request.user, episode=episode, **form.visit())
        except ValidationError as error:
            apply_service_errors(form, error)
    if saved is not None:
        visit, created = saved
        when = timezone.localtime(visit.visited_at)
        values = {"mode": visit.get_mode_display(), "time": f"{when:%H:%M}"}
        if created:
            level, message = "success", _("Visit (%(mode)s) recorded at %(time)s.") % values
        else:
            level, message = "info", _("Already recorded: visit (%(mode)s) at %(time)s.") % values
        if not request.htmx:
            messages.add_message(request, LEVELS[level], message)
            default = (
                reverse("observation:today") + f"#card-{episode.pk}"
                if card
                else _detail_url(episode, "days")
            )
            return redirect(_next_url(request, default))
        if card:
            return _card_response(
                request, _fresh_card(request, episode, message=message, level=level)
            )
        return _in_place(
            request,
            episode,
            "visit_form",
            {"visit_form": VisitForm(), "message": message, "level": level},
            days=True,
            needs=bool(form.cleaned_data.get("need_kind")),
        )
    if not request.htmx:
        return _form_page(request, episode, "visit", form)
    if card:
        return _card_response(
            request,
            _fresh_card(request, episode, visit_form=form),
        )
    return _in_place(request, episode, "visit_form", {"visit_form": form}, days=False)


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def add_need(request: AuthedRequest, episode_id: int) -> HttpResponseBase:
    """Record a difficulty of the household, tracked until resolved."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_RECORD)
    data = request.POST if request.method == "POST" else None
    form = NeedForm(data)
    if data is not None and form.is_valid():
        try:
            services.raise_need(actor=request.user, episode=episode, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            message = _("Need recorded: %(text)s.") % {"text": form.cleaned_data["description"]}
            if not request.htmx:
                messages.success(request, message)
                return redirect(_detail_url(episode, "needs"))
            return _in_place(
                request,
                episode,
                "needs",
                {
                    "needs": _episode_needs(request, episode),
                    "need_form": NeedForm(),
                    "message": message,
                },
                days=True,
            )
    if not request.htmx:
        return _form_page(request, episode, "need", form)
    return _in_place(
        request,
        episode,
        "needs",
        {"needs": _episode_needs(request, episode), "need_form": form},
        days=False,
    )


# ---------------------------------------------------------------------------------------------
# Needs


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def needs(request: AuthedRequest) -> HttpResponse:
    """The needs not yet resolved in the user's scope (or those of one status), oldest
    answers first to be seen: newest raised first, as the selector orders them."""
    status = request.GET.get("status", "unresolved")
    if status not in ("unresolved", *Need.Status.values):
        status = "unresolved"
    found = selectors.needs_for(request.user, status=status).select_related("episode__person__grid")
    page = paginate(request, found, NEEDS_PAGE_SIZE)
    page.object_list = _mark_needs(list(page.object_list), request.user)
    return render_page(
        request,
        NEEDS,
        {
            "page": page,
            "status": status,
            "statuses": [("unresolved", _("Not resolved")), *Need.Status.choices],
            "query": query_without_page(request),
            "next": request.get_full_path(),
        },
        partial="results",
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def need_update(request: AuthedRequest, need_id: int) -> HttpResponseBase:
    """Take a need on (it is then in progress, with you) or resolve it saying what was done.
    GET: the need as a page with both forms."""
    need = get_scoped_or_404(
        Need.objects.select_related(
            "episode", "episode__person", "episode__person__grid", "assigned_to"
        ),
        request.user,
        need_id,
        Perm.OBSERVATION_RECORD,
    )
    data = request.POST if request.method == "POST" else None
    form = NeedUpdateForm(data, auto_id=f"need{need.pk}_%s")
    message = ""
    if data is not None and form.is_valid():
        try:
            services.update_need(
                actor=request.user,
                need=need,
                status=form.status(),
                resolution=form.cleaned_data["resolution"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if form.cleaned_data["action"] == NeedUpdateForm.RESOLVE:
                message = _("Resolved: %(text)s.") % {"text": form.cleaned_data["resolution"]}
            else:
                message = _("Taken on: the need is in progress with you.")
            if not request.htmx:
                messages.success(request, message)
                return redirect(_next_url(request, _detail_url(need.episode, "needs")))
            form = NeedUpdateForm(auto_id=f"need{need.pk}_%s")
    if request.htmx:
        fresh = (
            Need.objects.select_related("episode__person__grid", "assigned_to")
            .filter(pk=need.pk)
            .first()
        )
        assert fresh is not None
        _mark_needs([fresh], request.user)
        response = render(
            request,
            f"{NEEDS}#need_row",
            {
                "need": fresh,
                "update_form": form,
                "message": message,
                "next": request.POST.get("next", ""),
            },
        )
        response.headers["Vary"] = "HX-Request"
        return response
    _mark_needs([need], request.user)
    return render(
        request,
        "observation/needs_detail.html",
        {
            "need": need,
            "form": form,
            "update_form": form,
            "next": request.POST.get("next", "") or request.GET.get("next", ""),
        },
    )


# ---------------------------------------------------------------------------------------------
# The responsible people


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def responsible(request: AuthedRequest, episode_id: int) -> HttpResponseBase:
    """The named people responsible for the household ("五包一"), one per role."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_RECORD)
    current = ResponsibleForm.initial_for(episode.responsible.all())
    form = ResponsibleForm(request.POST if request.method == "POST" else None, initial=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_responsible(actor=request.user, episode=episode, entries=form.entries())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Responsible people saved."))
            return redirect(_detail_url(episode, "responsible"))
    return render(
        request,
        "observation/episode_responsible.html",
        {"episode": episode, "person": episode.person, "form": form},
    )


# ---------------------------------------------------------------------------------------------
# The self-report link and the notice


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_RECORD)
def link(request: AuthedRequest, episode_id: int) -> HttpResponseBase:
    """Issue a new self-report link (the old one stops working) or stop it: GET is the
    confirmation, POST does it."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_RECORD)
    form = LinkActionForm(
        request.POST if request.method == "POST" else None,
        initial={"action": request.GET.get("action", "")},
    )
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        try:
            if action == LinkActionForm.REISSUE:
                services.reissue_link(actor=request.user, episode=episode)
            else:
                revoked = services.revoke_link(actor=request.user, episode=episode)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if action == LinkActionForm.REISSUE:
                messages.success(
                    request,
                    _(
                        "A new self-report link is issued and the old one no longer works: "
                        "print the notice again and hand it to the household."
                    ),
                )
                return redirect(reverse("observation:notice", kwargs={"episode_id": episode.pk}))
            messages.success(
                request,
                _("The self-report link is stopped.")
                if revoked
                else _("There was no working link to stop."),
            )
            return redirect(_detail_url(episode, "self-report"))
    action = request.GET.get("action", "")
    return render(
        request,
        "observation/episode_link.html",
        {
            "episode": episode,
            "person": episode.person,
            "form": form,
            "action": action if action in (LinkActionForm.REISSUE, LinkActionForm.REVOKE) else "",
            "link": live_link(episode),
        },
    )


def qr_svg(url: str) -> SafeString:
    """The QR code of ``url`` as inline SVG (made here: no request leaves the server)."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(
        scale=5, border=2, title=url, svgclass="qr", lineclass=None, omitsize=True
    )
    # segno's own markup; the URL is escaped in the title.
    return mark_safe(svg)


@require_GET
@requires(Perm.OBSERVATION_RECORD)
def notice(request: AuthedRequest, episode_id: int) -> HttpResponse:
    """The home-observation notice (居家隔离医学观察告知书), A4, with the QR code of the
    self-report link: printed and handed to the household."""
    episode = _episode(request, episode_id, Perm.OBSERVATION_RECORD)
    current = live_link(episode) if episode.is_active else None
    url = request.build_absolute_uri(current.get_absolute_url()) if current else ""
    roles = list(EpisodeResponsible.Role.values)
    person = episode.person
    unit = person.grid.parent
    return render(
        request,
        "observation/notice.html",
        {
            "episode": episode,
            "person": person,
            "unit": unit,
            "address": episode.place or (person.household.address if person.household else ""),
            "responsible": sorted(episode.responsible.all(), key=lambda r: roles.index(r.role)),
            "rules": services.current_rules(),
            "link": current,
            "url": url,
            "qr": qr_svg(url) if url else "",
            "today": timezone.localdate(),
        },
    )
