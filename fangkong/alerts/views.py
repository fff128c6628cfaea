"""The alerts inbox of the user's scope, one alert with its history, acknowledging and
resolving (in place with htmx, or as pages without script), and the escalation rules.

Query budgets (tests/test_pages.py): the inbox costs the same for 1 alert as for 20 (the
filter's units, the counts per kind, the page: units and persons come with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, get_scoped_or_404, has_perm, may
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    query_without_page,
    render_page,
    requires,
)
from fangkong.org.selectors import audit_trail

from . import selectors, services
from .forms import AcknowledgeForm, AlertRulesForm, InboxFilterForm, NoteForm, ResolveForm
from .models import Alert, AlertKind

INBOX_PER_PAGE = 25
HISTORY_ROWS = 50
INBOX_TEMPLATE = "alerts/inbox.html"
KIND_CSS: dict[str, str] = {
    AlertKind.FEVER: "text-bg-danger",
    AlertKind.SYMPTOMS: "text-bg-warning",
    AlertKind.MISSED_CHECK: "text-bg-secondary",
    AlertKind.MISSED_VISIT: "text-bg-info",
    AlertKind.UNANSWERED_NEED: "text-bg-primary",
}


class _CountedPaginator(Paginator):
    """A paginator told its count (the inbox has it from the counts per kind already)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@dataclass
class Row:
    """One alert as the inbox shows it, with the outcome of an action just tried on it."""

    alert: Alert
    may_handle: bool
    action: str = ""  # "acknowledge" or "resolve" when the note below was refused
    note: str = ""
    note_errors: list[str] = field(default_factory=list)
    error: str = ""
    done: str = ""  # what was just done, said in the row
    next: str = ""  # where the row's forms return without script

    @property
    def kind_css(self) -> str:
        return KIND_CSS.get(self.alert.kind, "text-bg-secondary")


def _row(request: AuthedRequest, alert: Alert, **outcome: Any) -> Row:
    return Row(alert=alert, may_handle=may(request.user, Perm.ALERTS_HANDLE, alert), **outcome)


def _alert(request: AuthedRequest, alert_id: int) -> Alert:
    return get_scoped_or_404(
        Alert.objects.select_related("unit", "unit__parent", "person"), request.user, alert_id
    )


# ---------------------------------------------------------------------------------------------
# The inbox


@require_GET
@requires(Perm.ALERTS_VIEW)
def inbox(request: AuthedRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None, user=request.user)
    chosen = form.selection()
    kind = chosen.pop("kind")
    # The counts per kind under the other filters (a badge per kind filters by it), and the
    # page's count from them: one query for both.
    others = selectors.alerts_for(request.user, **chosen)
    by_kind = dict(
        others.order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    counts = [(value, label, by_kind.get(value, 0)) for value, label in AlertKind.choices]
    total = by_kind.get(kind, 0) if kind else sum(by_kind.values())
    alerts = (others.filter(kind=kind) if kind else others).select_related("unit__parent")
    paginator = _CountedPaginator(alerts, INBOX_PER_PAGE, count=total)
    page = paginator.get_page(request.GET.get("page"))
    here = request.get_full_path()
    page.object_list = [_row(request, a, next=here) for a in page.object_list]
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("kind", None)
    return render_page(
        request,
        INBOX_TEMPLATE,
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "kind_query": params.urlencode(),
            "kind": kind,
            "counts": counts,
            "total": sum(by_kind.values()),
            "may_manage": has_perm(request.user, Perm.OBSERVATION_MANAGE),
        },
        partial="results",
    )


# ---------------------------------------------------------------------------------------------
# One alert


@dataclass(frozen=True)
class HistoryLine:
    at: Any
    by: str
    what: str
    level: str
    note: str


def _history(alert: Alert) -> list[HistoryLine]:
    """What happened to the alert, oldest first: its audit trail (simple-history), with its
    raising and escalation, which the jobs write in bulk (no trail of their own)."""
    records = list(
        alert.history.select_related("history_user").order_by("-history_date", "-history_id")[
            :HISTORY_ROWS
        ]
    )
    system = _("the system")
    lines = [
        HistoryLine(
            at=alert.raised_at if r.history_type == "+" else r.history_date,
            by=str(r.history_user) if r.history_user else system,
            what=_("Raised") if r.history_type == "+" else r.get_status_display(),
            level=r.get_level_display(),
            note=r.note,
        )
        for r in records
    ]
    if not any(r.history_type == "+" for r in records):
        lines.append(HistoryLine(alert.raised_at, system, _("Raised"), "", ""))
    if alert.escalated_at is not None:
        lines.append(
            HistoryLine(alert.escalated_at, system, _("Escalated"), alert.get_level_display(), "")
        )
    return sorted(lines, key=lambda line: line.at)


@require_GET
@requires(Perm.ALERTS_VIEW)
def alert_detail(request: AuthedRequest, alert_id: int) -> HttpResponse:
    """The alert, the record it is about, what happened to it, and the actions."""
    alert = _alert(request, alert_id)
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "kind_css": KIND_CSS.get(alert.kind, "text-bg-secondary"),
            "history": _history(alert),
            "may_handle": may(request.user, Perm.ALERTS_HANDLE, alert),
            "acknowledge_form": AcknowledgeForm(auto_id="id_ack_%s"),
            "resolve_form": ResolveForm(auto_id="id_resolve_%s"),
        },
    )


def _next_url(request: AuthedRequest, alert: Alert) -> str:
    """Where a form posted without script returns: the page it came from (on this site), or
    the alert."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return alert.get_absolute_url()


def _act(
    request: AuthedRequest, alert_id: int, action: str, form_class: type[NoteForm]
) -> HttpResponseBase:
    """GET: the action as a page (no script, a link); POST: do it. With htmx the answer is
    the alert's inbox row, showing what was done or the note's error in place."""
    alert = _alert(request, alert_id)
    check_perm_on(request.user, Perm.ALERTS_HANDLE, alert)
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if action == "acknowledge":
                alert = services.acknowledge_alert(actor=request.user, alert=alert, note=note)
                done = _("Acknowledged: the alert no longer escalates.")
            else:
                alert = services.resolve_alert(actor=request.user, alert=alert, note=note)
                done = _("Resolved.")
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if request.htmx:
                return _row_response(
                    request, _row(request, alert, done=done, next=_next_url(request, alert))
                )
            messages.success(request, done)
            return redirect(_next_url(request, alert))
    if request.htmx:
        return _row_response(
            request,
            _row(
                request,
                alert,
                action=action,
                note=str(form.data.get("note", "")),
                note_errors=list(form.errors.get("note", [])),
                error=" ".join(str(e) for e in form.non_field_errors()),
                next=_next_url(request, alert),
            ),
        )
    return render(
        request,
        "alerts/action.html",
        {
            "alert": alert,
            "form": form,
            "action": action,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
    )


def _row_response(request: AuthedRequest, row: Row) -> HttpResponse:
    alert = Alert.objects.select_related("unit", "unit__parent", "person").get(pk=row.alert.pk)
    row.alert = alert
    response = render(request, f"{INBOX_TEMPLATE}#alert_row", {"row": row})
    response.headers["Vary"] = "HX-Request"
    return response


@require_http_methods(["GET", "POST"])
@requires(Perm.ALERTS_HANDLE)
def acknowledge(request: AuthedRequest, alert_id: int) -> HttpResponseBase:
    """Someone has taken the alert on (a note is optional): it stops escalating."""
    return _act(request, alert_id, "acknowledge", AcknowledgeForm)


@require_http_methods(["GET", "POST"])
@requires(Perm.ALERTS_HANDLE)
def resolve(request: AuthedRequest, alert_id: int) -> HttpResponseBase:
    """Close the alert, saying what was done."""
    return _act(request, alert_id, "resolve", ResolveForm)


# ---------------------------------------------------------------------------------------------
# The escalation rules


@require_http_methods(["GET", "POST"])
@requires(Perm.OBSERVATION_MANAGE)
def rules(request: AuthedRequest) -> HttpResponse:
    """When an alert nobody has acknowledged goes to the unit head, then to the office: set
    by the office (the observation rules' managers), kept in the audit trail."""
    current = services.current_rules()
    initial = {name: getattr(current, name) for name in AlertRulesForm.FIELDS}
    form = AlertRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rules(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, _("Escalation rules saved. They apply to every alert from now on.")
            )
            return redirect(reverse("alerts:settings"))
    may_audit = has_perm(request.user, Perm.AUDIT_VIEW)
    return render(
        request,
        "alerts/settings.html",
        {
            "rules": current,
            "form": form,
            "may_audit": may_audit,
            "audit": audit_trail(current, masked={}) if may_audit else [],
        },
    )
