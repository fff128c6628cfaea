"""The duty pages (24小时值班值守): the roster overview with the gaps ahead and who is on
duty now, the posts, a post's week, shifts (add, change, cancel, swap, repeat a week), the
printable week roster of a unit, the duty rules, and the pioneer posts (党员先锋岗).
Query budgets: fangkong/org/tests/test_query_budgets.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may, restrict, units_in_scope
from fangkong.core.search import substring_filter
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    list_page,
    query_without_page,
    requires,
)
from fangkong.org.models import OrgUnit
from fangkong.org.selectors import audit_trail

from .forms_duty import (
    CancelForm,
    DutyRulesForm,
    PioneerForm,
    PostForm,
    ShiftForm,
    SwapForm,
    leader_value_of_person,
    parse_week,
)
from .models import Checkpoint, DutyPost, PioneerPost, Shift
from .selectors import duty as selectors
from .services import duty as services

# Persons offered by the pioneer members' search, at most.
PERSON_RESULTS = 8


def _week_url(post: DutyPost | int, day: dt.date) -> str:
    pk = post if isinstance(post, int) else post.pk
    monday = selectors.week_start(day)
    return reverse("checkpoints:post_week", kwargs={"post_id": pk}) + f"?week={monday.isoformat()}"


def _manage_units(user: Any) -> Any:
    return units_in_scope(user, Perm.DUTY_MANAGE).order_by("path")


# ---------------------------------------------------------------------------------------------
# The roster overview and the posts


@require_GET
@requires(Perm.DUTY_VIEW)
def roster(request: AuthedRequest) -> HttpResponse:
    """Every post in the user's scope: the gaps of the round-the-clock posts over the days
    ahead (the posts with a gap first) and who is on duty now."""
    now = timezone.now()
    rules = selectors.current_rules()
    rows = selectors.roster(request.user, now, rules=rules)
    page = Paginator(rows, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "checkpoints/duty_roster.html",
        {
            "page": page,
            "query": query_without_page(request),
            "rules": rules,
            "with_gaps": sum(1 for row in rows if row.gaps),
            "now": now,
            "may_manage": has_perm(request.user, Perm.DUTY_MANAGE),
        },
    )


def _list_with_inactive(
    request: AuthedRequest, template: str, rows: Callable[..., QuerySet[Any]]
) -> HttpResponse:
    """A list of the user's scope (``rows(user, include_inactive=…)``), the inactive ones
    too with ``?inactive=1``."""
    inactive = request.GET.get("inactive") == "1"
    return list_page(
        request,
        template,
        rows(request.user, include_inactive=inactive),
        {"inactive": inactive, "may_manage": has_perm(request.user, Perm.DUTY_MANAGE)},
        partial=None,
    )


@require_GET
@requires(Perm.DUTY_VIEW)
def post_list(request: AuthedRequest) -> HttpResponse:
    """The posts of the user's scope by unit, the inactive ones too with ``?inactive=1``."""
    return _list_with_inactive(request, "checkpoints/duty_posts.html", selectors.posts_for)


def _post_form(request: AuthedRequest, initial: dict[str, Any]) -> PostForm:
    return PostForm(
        request.POST if request.method == "POST" else None,
        units=_manage_units(request.user),
        checkpoints=restrict(
            Checkpoint.objects.filter(is_active=True), request.user, Perm.DUTY_MANAGE
        )
        .select_related("unit")
        .order_by("unit__path", "name"),
        initial=initial,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def post_create(request: AuthedRequest) -> HttpResponseBase:
    """Add a post: the office, a checkpoint or another post (pioneer posts are added as
    such)."""
    form = _post_form(request, {"kind": DutyPost.Kind.OFFICE, "round_the_clock": True})
    if request.method == "POST" and form.is_valid():
        try:
            post = services.create_post(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Post %(name)s added.") % {"name": post.name})
            return redirect(post.get_absolute_url())
    return render(request, "checkpoints/duty_post_form.html", {"form": form, "post": None})


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def post_edit(request: AuthedRequest, post_id: int) -> HttpResponseBase:
    """Change a post. A pioneer post's duty post changes with the pioneer post: here only
    whether it is staffed around the clock."""
    post = get_scoped_or_404(
        DutyPost.objects.select_related("unit", "checkpoint"),
        request.user,
        post_id,
        Perm.DUTY_MANAGE,
    )
    form = _post_form(request, {name: getattr(post, name) for name in PostForm.FIELDS})
    pioneer = post.kind == DutyPost.Kind.PIONEER
    if pioneer:
        for name in ("kind", "name", "unit", "checkpoint"):
            form.fields[name].disabled = True
            form.fields[name].required = False
        form.fields["kind"].choices = DutyPost.Kind.choices  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {"round_the_clock": data["round_the_clock"]} if pioneer else data
        try:
            services.update_post(actor=request.user, post=post, **changes)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Post %(name)s saved.") % {"name": post.name})
            return redirect(post.get_absolute_url())
    return render(
        request, "checkpoints/duty_post_form.html", {"form": form, "post": post, "pioneer": pioneer}
    )


ACTIVATE = "activate"
DEACTIVATE = "deactivate"


def _wanted_active(request: AuthedRequest) -> bool:
    """Whether the POST asks to activate (``action``: activate or deactivate, else 404)."""
    wanted = request.POST.get("action")
    if wanted not in (ACTIVATE, DEACTIVATE):
        raise Http404
    return wanted == ACTIVATE


def _state_changed(request: AuthedRequest, active: bool, name: str) -> None:
    done = (
        _("%(name)s is active again.")
        if active
        else _("%(name)s is deactivated: it is no longer on the roster.")
    )
    messages.success(request, done % {"name": name})


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def post_state(request: AuthedRequest, post_id: int) -> HttpResponseBase:
    """Deactivate a post (it leaves the roster; its shifts stay) or bring it back, after a
    confirmation."""
    post = get_scoped_or_404(
        DutyPost.objects.select_related("unit"), request.user, post_id, Perm.DUTY_MANAGE
    )
    action = DEACTIVATE if post.is_active else ACTIVATE
    if request.method == "POST":
        active = _wanted_active(request)
        try:
            services.update_post(actor=request.user, post=post, is_active=active)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            _state_changed(request, active, post.name)
        return redirect(post.get_absolute_url())
    return render(request, "checkpoints/duty_post_state.html", {"post": post, "action": action})


@require_GET
@requires(Perm.DUTY_VIEW)
def post_week(request: AuthedRequest, post_id: int) -> HttpResponse:
    """A post's week (``?week=`` any day of it): seven day columns with the shifts, their
    staff and leader, the gaps in red, and the way to the previous and next weeks."""
    post = get_scoped_or_404(
        DutyPost.objects.select_related("unit", "checkpoint", "pioneer"), request.user, post_id
    )
    today = timezone.localdate()
    monday = parse_week(request.GET.get("week"), today)
    week = selectors.post_week(request.user, post, monday, today=today)
    return render(
        request,
        "checkpoints/duty_post_week.html",
        {
            "post": post,
            "week": week,
            "now": timezone.now(),
            "this_week": selectors.week_start(today),
            "may_manage": may(request.user, Perm.DUTY_MANAGE, post),
        },
    )


# ---------------------------------------------------------------------------------------------
# Shifts


def _shift_form(request: AuthedRequest, post: DutyPost, initial: dict[str, Any]) -> ShiftForm:
    return ShiftForm(
        request.POST if request.method == "POST" else None,
        users=selectors.duty_users(request.user, post.unit),
        leaders=selectors.leader_candidates(post.unit),
        initial=initial,
    )


def _initial_times(request: AuthedRequest) -> dict[str, Any]:
    """The times a new shift starts from: ``?start=&end=`` (a gap to fill), or ``?day=``
    (08:00 to 16:00 that day)."""
    zone = timezone.get_current_timezone()
    try:
        if request.GET.get("start") and request.GET.get("end"):
            start = dt.datetime.fromisoformat(request.GET["start"])
            end = dt.datetime.fromisoformat(request.GET["end"])
        else:
            day = (
                dt.date.fromisoformat(request.GET["day"])
                if request.GET.get("day")
                else timezone.localdate()
            )
            start = dt.datetime.combine(day, dt.time(8, 0))
            end = dt.datetime.combine(day, dt.time(16, 0))
    except ValueError:
        return {}
    if timezone.is_naive(start):
        start = start.replace(tzinfo=zone)
    if timezone.is_naive(end):
        end = end.replace(tzinfo=zone)
    return {"start": start, "end": end}


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def shift_create(request: AuthedRequest, post_id: int) -> HttpResponseBase:
    """Add a shift to a post: start and end, the staff on duty, the leader on duty."""
    post = get_scoped_or_404(
        DutyPost.objects.select_related("unit"), request.user, post_id, Perm.DUTY_MANAGE
    )
    form = _shift_form(request, post, _initial_times(request))
    if request.method == "POST" and form.is_valid():
        try:
            shift = services.create_shift(actor=request.user, post=post, **form.values())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Shift of %(span)s added.")
                % {"span": services.format_span(shift.start, shift.end)},
            )
            return redirect(_week_url(post, timezone.localtime(shift.start).date()))
    return render(
        request, "checkpoints/duty_shift_form.html", {"form": form, "post": post, "shift": None}
    )


def _shift(request: AuthedRequest, shift_id: int) -> Shift:
    return get_scoped_or_404(
        Shift.objects.select_related("post", "post__unit", "leader").prefetch_related(
            "members__user"
        ),
        request.user,
        shift_id,
        Perm.DUTY_MANAGE,
    )


def _closed(shift: Shift) -> str:
    """Why the shift can no longer change ("" when it can)."""
    if shift.is_cancelled:
        return _("This shift is cancelled: add a new one instead.")
    if shift.end <= timezone.now():
        return _("This shift ended at %(end)s: a past shift stays as it was.") % {
            "end": services.format_time(shift.end)
        }
    return ""


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def shift_edit(request: AuthedRequest, shift_id: int) -> HttpResponseBase:
    """Change a shift that has not ended."""
    shift = _shift(request, shift_id)
    post = shift.post
    form = _shift_form(request, post, ShiftForm.initial_for(shift))
    closed = _closed(shift)
    if request.method == "POST" and not closed and form.is_valid():
        try:
            services.update_shift(actor=request.user, shift=shift, **form.values())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Shift saved."))
            return redirect(_week_url(post, timezone.localtime(form.cleaned_data["start"]).date()))
    return render(
        request,
        "checkpoints/duty_shift_form.html",
        {"form": form, "post": post, "shift": shift, "closed": closed},
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def shift_cancel(request: AuthedRequest, shift_id: int) -> HttpResponseBase:
    """Cancel a shift, after a confirmation."""
    shift = _shift(request, shift_id)
    closed = _closed(shift)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not closed and form.is_valid():
        try:
            services.cancel_shift(
                actor=request.user, shift=shift, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Shift of %(span)s cancelled.")
                % {"span": services.format_span(shift.start, shift.end)},
            )
            return redirect(_week_url(shift.post, timezone.localtime(shift.start).date()))
    return render(
        request,
        "checkpoints/duty_shift_cancel.html",
        {"form": form, "shift": shift, "post": shift.post, "closed": closed},
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def shift_swap(request: AuthedRequest, shift_id: int) -> HttpResponseBase:
    """Record a swap: one member hands the shift over to someone else, with the reason."""
    shift = _shift(request, shift_id)
    closed = _closed(shift)
    form = SwapForm(
        request.POST if request.method == "POST" else None,
        members=shift.members.select_related("user").order_by("pk"),
        users=selectors.duty_users(request.user, shift.post.unit),
    )
    if request.method == "POST" and not closed and form.is_valid():
        data = form.cleaned_data
        try:
            swap = services.swap_shift(
                actor=request.user,
                shift=shift,
                from_member=data["from_member"],
                to_user=data["to_user"],
                to_name=data["to_name"],
                to_phone=data["to_phone"],
                reason=data["reason"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(from)s handed the shift over to %(to)s.")
                % {"from": swap.from_name, "to": swap.to_name},
            )
            return redirect(_week_url(shift.post, timezone.localtime(shift.start).date()))
    return render(
        request,
        "checkpoints/duty_shift_swap.html",
        {
            "form": form,
            "shift": shift,
            "post": shift.post,
            "closed": closed,
            "swaps": list(shift.swaps.select_related("recorded_by").order_by("recorded_at", "pk")),
        },
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def copy_week(request: AuthedRequest, post_id: int) -> HttpResponseBase:
    """Repeat a week's shifts the next week, after a confirmation listing them."""
    post = get_scoped_or_404(
        DutyPost.objects.select_related("unit"), request.user, post_id, Perm.DUTY_MANAGE
    )
    source = request.POST.get("week") if request.method == "POST" else request.GET.get("week")
    monday = parse_week(source, timezone.localdate())
    if request.method == "POST":
        try:
            result = services.copy_week(actor=request.user, post=post, week=monday)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(_week_url(post, monday))
        messages.success(
            request,
            _(
                "%(created)d shifts added to the week of %(monday)s (%(skipped)d were there already)."
            )
            % {
                "created": len(result.created),
                "skipped": result.skipped,
                "monday": (monday + dt.timedelta(days=7)).isoformat(),
            },
        )
        return redirect(_week_url(post, monday + dt.timedelta(days=7)))
    start = selectors.day_start(monday)
    shifts = list(
        selectors.shifts_for(request.user, post=post).filter(
            start__gte=start, start__lt=start + dt.timedelta(days=7)
        )
    )
    return render(
        request,
        "checkpoints/duty_copy_week.html",
        {
            "post": post,
            "monday": monday,
            "target": monday + dt.timedelta(days=7),
            "shifts": shifts,
        },
    )


# ---------------------------------------------------------------------------------------------
# The printable week roster of a unit


@require_GET
@requires(Perm.DUTY_VIEW)
def roster_print(request: AuthedRequest) -> HttpResponse:
    """The week roster of a unit (``?unit=``; the first unit of the user's scope by default,
    a grid for a grid worker) for A4: one row per post of the unit's subtree, one column per
    day."""
    in_scope = units_in_scope(request.user, Perm.DUTY_VIEW).order_by("path")
    units = list(in_scope.filter(kind__in=[OrgUnit.Kind.BRANCH, OrgUnit.Kind.UNIT]))
    units = units or list(in_scope)  # a grid worker: their grids
    unit: OrgUnit | None = units[0] if units else None
    if request.GET.get("unit"):
        unit = next((u for u in units if str(u.pk) == request.GET["unit"]), None)
        if unit is None:
            raise Http404
    today = timezone.localdate()
    monday = parse_week(request.GET.get("week"), today)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    posts = list(selectors.posts_for(request.user, unit=unit)) if unit is not None else []
    start = selectors.day_start(monday)
    shifts = (
        list(
            selectors.shifts_for(
                request.user, start=start, end=start + dt.timedelta(days=7)
            ).filter(post__in=[p.pk for p in posts])
        )
        if posts
        else []
    )
    cells: dict[tuple[int, dt.date], list[Shift]] = {}
    for shift in shifts:
        cells.setdefault((shift.post_id, selectors.local_day(shift.start)), []).append(shift)
    rows = [(post, [cells.get((post.pk, day), []) for day in days]) for post in posts]
    return render(
        request,
        "checkpoints/duty_print.html",
        {
            "units": units,
            "unit": unit,
            "monday": monday,
            "days": days,
            "rows": rows,
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
        },
    )


# ---------------------------------------------------------------------------------------------
# The duty rules


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def rules_page(request: AuthedRequest) -> HttpResponseBase:
    """When the roster warns; the office changes it (others see it)."""
    rules = selectors.current_rules()
    may_change = services.may_manage_rules(request.user)
    if request.method == "POST" and not may_change:
        raise PermissionDenied
    initial = {name: getattr(rules, name) for name in DutyRulesForm.FIELDS}
    form = DutyRulesForm(request.POST if request.method == "POST" else None, initial=initial)
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.update_duty_rules(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Duty rules saved. They apply from now on."))
            return redirect(reverse("checkpoints:duty_rules"))
    may_audit = has_perm(request.user, Perm.AUDIT_VIEW)
    return render(
        request,
        "checkpoints/duty_rules.html",
        {
            "form": form,
            "rules": rules,
            "may_change": may_change,
            "may_audit": may_audit,
            "audit": audit_trail(rules, masked={}) if may_audit and rules.pk and may_change else [],
        },
    )


# ---------------------------------------------------------------------------------------------
# Pioneer posts


@require_GET
@requires(Perm.DUTY_VIEW)
def pioneer_list(request: AuthedRequest) -> HttpResponse:
    """The pioneer posts of the user's scope with their duty, leader and members."""
    return _list_with_inactive(request, "checkpoints/duty_pioneers.html", selectors.pioneers_for)


@require_GET
@requires(Perm.DUTY_VIEW)
def pioneer_detail(request: AuthedRequest, pioneer_id: int) -> HttpResponse:
    """A pioneer post: its duty, leader and members, and its shifts this week (from the
    roster)."""
    pioneer = get_scoped_or_404(
        selectors.pioneers_for(request.user, include_inactive=True), request.user, pioneer_id
    )
    today = timezone.localdate()
    monday = parse_week(request.GET.get("week"), today)
    week = (
        selectors.post_week(request.user, pioneer.post, monday, today=today)
        if pioneer.post is not None
        else None
    )
    return render(
        request,
        "checkpoints/duty_pioneer_detail.html",
        {
            "pioneer": pioneer,
            "members": list(pioneer.members.all()),
            "week": week,
            "may_manage": may(request.user, Perm.DUTY_MANAGE, pioneer),
        },
    )


def _pioneer_form(request: AuthedRequest, initial: dict[str, Any]) -> PioneerForm:
    return PioneerForm(
        request.POST if request.method == "POST" else None,
        units=_manage_units(request.user),
        users=selectors.duty_users(request.user),
        persons=selectors.pioneer_person_choices(request.user),
        initial=initial,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def pioneer_create(request: AuthedRequest) -> HttpResponseBase:
    """Add a pioneer post with its members and leader (its duty post comes with it)."""
    form = _pioneer_form(request, {})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pioneer = services.create_pioneer_post(
                actor=request.user,
                name=data["name"],
                duty=data["duty"],
                unit=data["unit"],
                round_the_clock=data["round_the_clock"],
                members=form.members(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Pioneer post %(name)s added.") % {"name": pioneer.name})
            return redirect(pioneer.get_absolute_url())
    return render(request, "checkpoints/duty_pioneer_form.html", {"form": form, "pioneer": None})


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def pioneer_edit(request: AuthedRequest, pioneer_id: int) -> HttpResponseBase:
    """Change a pioneer post: name, duty, unit, members and leader."""
    pioneer = get_scoped_or_404(
        selectors.pioneers_for(request.user, include_inactive=True),
        request.user,
        pioneer_id,
        Perm.DUTY_MANAGE,
    )
    form = _pioneer_form(request, PioneerForm.initial_for(pioneer))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_pioneer_post(
                actor=request.user,
                pioneer=pioneer,
                name=data["name"],
                duty=data["duty"],
                unit=data["unit"],
                round_the_clock=data["round_the_clock"],
                members=form.members(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Pioneer post %(name)s saved.") % {"name": data["name"]})
            return redirect(pioneer.get_absolute_url())
    return render(request, "checkpoints/duty_pioneer_form.html", {"form": form, "pioneer": pioneer})


@require_http_methods(["GET", "POST"])
@requires(Perm.DUTY_MANAGE)
def pioneer_state(request: AuthedRequest, pioneer_id: int) -> HttpResponseBase:
    """Deactivate a pioneer post (with its duty post) or bring it back, after a
    confirmation."""
    pioneer = get_scoped_or_404(
        PioneerPost.objects.select_related("unit"), request.user, pioneer_id, Perm.DUTY_MANAGE
    )
    action = DEACTIVATE if pioneer.is_active else ACTIVATE
    if request.method == "POST":
        active = _wanted_active(request)
        services.update_pioneer_post(actor=request.user, pioneer=pioneer, is_active=active)
        _state_changed(request, active, pioneer.name)
        return redirect(pioneer.get_absolute_url())
    return render(
        request, "checkpoints/duty_pioneer_state.html", {"pioneer": pioneer, "action": action}
    )


@require_GET
@requires(Perm.DUTY_MANAGE)
def pioneer_person_search(request: AuthedRequest) -> HttpResponse:
    """Persons of the register matching ``?q=`` (name, ID or phone, part is enough) to add
    to a pioneer post: the htmx part of the members' search."""
    q = (request.GET.get("q") or "").strip()
    persons = []
    if q:
        found = substring_filter(selectors.pioneer_person_choices(request.user), q)
        persons = list(found.order_by("name", "pk")[:PERSON_RESULTS])
    return render(
        request,
        "checkpoints/duty_pioneer_persons.html",
        {
            "persons": [(p, leader_value_of_person(p)) for p in persons],
            "q": q,
        },
    )
