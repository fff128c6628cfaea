"""API of the duty (mounted by api.py): the posts, the shifts (list, add, swap, cancel), a
post's coverage and gaps, and the pioneer posts.

The contracts of :mod:`fangkong.org.api` hold here too: a post or shift outside the caller's
scope is 404 as a path parameter, and a 422 on its field in a body ("No such post in your
scope."), exactly as if it did not exist. Writes need ``duty.manage`` (403 before the body is
looked at) and call :mod:`fangkong.checkpoints.services.duty` with ``actor`` = the token's
user. Lists are paginated by ``limit`` and ``offset`` and cost the same number of queries
whatever their length.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404
from fangkong.org.api import (
    ERRORS,
    PageIn,
    UnitRef,
    _actor,
    _field_error,
    _page,
    _ref,
    _require,
    _service_errors,
)
from fangkong.org.models import User

from .models import DutyPost, PioneerPost, Shift, ShiftMember
from .selectors import duty as selectors
from .services import duty as services

router = Router(tags=["duty"])

# Service errors name their arguments; the API names what it takes.
_API_FIELD = {
    "post": "post_id",
    "leader": "leader_id",
    "from_member": "member_id",
    "to_user": "to_user_id",
}
# The longest range a list of shifts or a coverage covers.
RANGE_MAX = dt.timedelta(days=62)


# ---------------------------------------------------------------------------------------------
# Schemas


class PostOut(Schema):
    id: int
    kind: str = Field(description="office, checkpoint, pioneer or other")
    name: str
    unit: UnitRef
    checkpoint_id: int | None
    round_the_clock: bool = Field(description="Every hour of every day must be covered.")
    is_active: bool


class PostPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PostOut]


class PostQuery(PageIn):
    unit_id: int | None = Field(None, description="An org unit: the posts of its subtree.")
    kind: str | None = None
    include_inactive: bool = False


class PostRef(Schema):
    id: int
    name: str


class MemberOut(Schema):
    id: int
    user_id: int | None
    name: str


class SwapOut(Schema):
    from_name: str
    to_name: str
    reason: str
    recorded_by: str
    recorded_at: dt.datetime


class ShiftOut(Schema):
    id: int
    post: PostRef
    start: dt.datetime
    end: dt.datetime
    members: list[MemberOut]
    leader_id: int | None
    leader: str
    note: str
    is_cancelled: bool


class ShiftDetailOut(ShiftOut):
    swaps: list[SwapOut]


class ShiftPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ShiftOut]


class ShiftQuery(PageIn):
    post_id: int | None = None
    start: dt.date | None = Field(
        None, alias="from", description="From this day on (default: today)."
    )
    end: dt.date | None = Field(
        None, alias="to", description="Up to this day, included (default: 6 days later)."
    )
    include_cancelled: bool = False


class MemberIn(Schema):
    user_id: int | None = Field(None, description="A user you may put on duty …")
    name: str = Field("", description="… or the name of someone without an account")
    phone: str = Field("", description="and their mobile number.")


class ShiftIn(Schema):
    post_id: int
    start: dt.datetime
    end: dt.datetime = Field(description="After the start, at most 24 hours later.")
    members: list[MemberIn] = Field(description="At least one.")
    leader_id: int | None = Field(None, description="A leader or a member of the office.")
    note: str = ""


class SwapIn(Schema):
    member_id: int = Field(description="The member of the shift who hands it over.")
    to_user_id: int | None = Field(None, description="The user who takes over …")
    to_name: str = Field("", description="… or the name of someone without an account")
    to_phone: str = ""
    reason: str


class CancelIn(Schema):
    reason: str = ""


class GapOut(Schema):
    start: dt.datetime
    end: dt.datetime


class CoverageOut(Schema):
    post: PostRef
    round_the_clock: bool = Field(description="Only a round-the-clock post has gaps.")
    start: dt.datetime
    end: dt.datetime
    covered: bool
    gaps: list[GapOut]


class CoverageQuery(Schema):
    start: dt.date | None = Field(None, alias="from", description="Default: today.")
    end: dt.date | None = Field(
        None, alias="to", description="Included; default: 13 days after the start."
    )


class PioneerMemberOut(Schema):
    person_id: int | None
    user_id: int | None
    name: str
    is_leader: bool


class PioneerOut(Schema):
    id: int
    name: str
    duty: str
    unit: UnitRef
    post_id: int | None = Field(description="Its duty post in the roster (its shifts).")
    is_active: bool
    members: list[PioneerMemberOut]


class PioneerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PioneerOut]


class PioneerQuery(PageIn):
    unit_id: int | None = None
    include_inactive: bool = False


# ---------------------------------------------------------------------------------------------
# Helpers


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _post_out(post: DutyPost) -> dict[str, Any]:
    return {
        "id": post.pk,
        "kind": post.kind,
        "name": post.name,
        "unit": _ref(post.unit),
        "checkpoint_id": post.checkpoint_id,
        "round_the_clock": post.round_the_clock,
        "is_active": post.is_active,
    }


def _shift_out(shift: Shift) -> dict[str, Any]:
    return {
        "id": shift.pk,
        "post": {"id": shift.post_id, "name": shift.post.name},
        "start": _local(shift.start),
        "end": _local(shift.end),
        "members": [
            {"id": m.pk, "user_id": m.user_id, "name": selectors.member_label(m)}
            for m in shift.members.all()
        ],
        "leader_id": shift.leader_id,
        "leader": selectors.user_label(shift.leader),
        "note": shift.note,
        "is_cancelled": shift.is_cancelled,
    }


def _shift_detail(user: User, shift_id: int) -> dict[str, Any]:
    shift = get_scoped_or_404(selectors.shifts_for(user, include_cancelled=True), user, shift_id)
    out = _shift_out(shift)
    out["swaps"] = [
        {
            "from_name": s.from_name,
            "to_name": s.to_name,
            "reason": s.reason,
            "recorded_by": selectors.user_label(s.recorded_by),
            "recorded_at": _local(s.recorded_at),
        }
        for s in shift.swaps.select_related("recorded_by").order_by("recorded_at", "pk")
    ]
    return out


def _pioneer_out(pioneer: PioneerPost) -> dict[str, Any]:
    return {
        "id": pioneer.pk,
        "name": pioneer.name,
        "duty": pioneer.duty,
        "unit": _ref(pioneer.unit),
        "post_id": pioneer.post_id,
        "is_active": pioneer.is_active,
        "members": [
            {
                "person_id": m.person_id,
                "user_id": m.user_id,
                "name": m.name,
                "is_leader": m.is_leader,
            }
            for m in pioneer.members.all()
        ],
    }


def _unit_filter(user: User, pk: int | None) -> Any:
    if pk is None:
        return None
    from fangkong.core.scoping import units_in_scope

    unit = units_in_scope(user, Perm.DUTY_VIEW).filter(pk=pk).first()
    if unit is None:
        raise _field_error("query", "unit_id", _("No such org unit in your scope."))
    return unit


def _range(
    start: dt.date | None, end: dt.date | None, default_days: int
) -> tuple[dt.date, dt.date]:
    first = start or timezone.localdate()
    last = end or first + dt.timedelta(days=default_days)
    if last < first:
        raise _field_error("query", "to", _("The end must not be before the start."))
    if last - first > RANGE_MAX:
        raise _field_error(
            "query", "to", _("Ask for at most %(days)d days at once.") % {"days": RANGE_MAX.days}
        )
    return first, last


def _body_user(actor: User, pk: int | None, field: str, *, leaders: bool = False) -> User | None:
    """The user ``pk`` named in a body, among those the caller may put on duty (or the
    leaders), else a 422 on ``field``."""
    if pk is None:
        return None
    candidates = selectors.leader_candidates() if leaders else selectors.duty_users(actor)
    user = candidates.filter(pk=pk).first()
    if user is None:
        raise _field_error("body", field, _("No such user among those you may choose."))
    return user


# ---------------------------------------------------------------------------------------------
# Endpoints


@router.get("/duty-posts", response={200: PostPage, **ERRORS}, summary="List duty posts")
def list_posts(request: HttpRequest, filters: Query[PostQuery]) -> dict[str, Any]:
    """The duty posts of the caller's scope (the office, checkpoints, pioneer posts, …)."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    posts = selectors.posts_for(
        user,
        unit=_unit_filter(user, filters.unit_id),
        kind=filters.kind or "",
        include_inactive=filters.include_inactive,
    )
    return _page(posts, filters, _post_out)


@router.get(
    "/duty-posts/{post_id}/coverage",
    response={200: CoverageOut, **ERRORS},
    summary="A post's coverage and gaps",
)
def post_coverage(
    request: HttpRequest, post_id: int, filters: Query[CoverageQuery]
) -> dict[str, Any]:
    """The gaps in the 24 hours of a round-the-clock post over the days ``from`` to ``to``
    (Asia/Shanghai): the times no non-cancelled shift with someone on it covers."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    post = get_scoped_or_404(DutyPost.objects.select_related("unit"), user, post_id)
    first, last = _range(filters.start, filters.end, 13)
    covered = selectors.coverage(post, first, last)
    return {
        "post": {"id": post.pk, "name": post.name},
        "round_the_clock": post.round_the_clock,
        "start": _local(covered.start),
        "end": _local(covered.end),
        "covered": covered.covered,
        "gaps": [{"start": _local(a), "end": _local(b)} for a, b in covered.gaps],
    }


@router.get("/shifts", response={200: ShiftPage, **ERRORS}, summary="List shifts")
def list_shifts(request: HttpRequest, filters: Query[ShiftQuery]) -> dict[str, Any]:
    """The shifts of the caller's scope that touch the days ``from`` to ``to`` (a week from
    today by default), of one post with ``post_id``, in order, with their members."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    post = None
    if filters.post_id is not None:
        post = selectors.posts_for(user, include_inactive=True).filter(pk=filters.post_id).first()
        if post is None:
            raise _field_error("query", "post_id", _("No such post in your scope."))
    first, last = _range(filters.start, filters.end, 6)
    shifts = selectors.shifts_for(
        user,
        post=post,
        start=selectors.day_start(first),
        end=selectors.day_start(last + dt.timedelta(days=1)),
        include_cancelled=filters.include_cancelled,
    )
    return _page(shifts, filters, _shift_out)


@router.post("/shifts", response={201: ShiftDetailOut, **ERRORS}, summary="Add a shift")
def create_shift(request: HttpRequest, payload: ShiftIn) -> Status[dict[str, Any]]:
    """A shift of a post: start and end (it may cross midnight; at most 24 hours), the staff
    on duty (at least one: users, or names with a mobile number) and the leader on duty.
    Someone already on an overlapping shift anywhere is refused, naming that shift."""
    user = _actor(request)
    _require(user, Perm.DUTY_MANAGE)
    post = selectors.posts_for(user, include_inactive=True).filter(pk=payload.post_id).first()
    if post is None:
        raise _field_error("body", "post_id", _("No such post in your scope."))
    members = [
        services.MemberIn(user=_body_user(user, m.user_id, "members"), name=m.name, phone=m.phone)
        for m in payload.members
    ]
    leader = _body_user(user, payload.leader_id, "leader_id", leaders=True)
    with _service_errors(_API_FIELD):
        shift = services.create_shift(
            actor=user,
            post=post,
            start=payload.start,
            end=payload.end,
            members=members,
            leader=leader,
            note=payload.note,
        )
    return Status(201, _shift_detail(user, shift.pk))


def _managed_shift(user: User, shift_id: int) -> Shift:
    _require(user, Perm.DUTY_MANAGE)
    return get_scoped_or_404(
        Shift.objects.select_related("post", "post__unit"), user, shift_id, Perm.DUTY_MANAGE
    )


@router.post(
    "/shifts/{shift_id}/swap", response={200: ShiftDetailOut, **ERRORS}, summary="Swap a shift"
)
def swap_shift(request: HttpRequest, shift_id: int, payload: SwapIn) -> dict[str, Any]:
    """One member hands the shift over to someone else, for a reason; the swap is recorded.
    Refused for a shift that has ended or is cancelled."""
    user = _actor(request)
    shift = _managed_shift(user, shift_id)
    member = ShiftMember.objects.filter(pk=payload.member_id, shift=shift).first()
    if member is None:
        raise _field_error("body", "member_id", _("Choose someone who is on this shift."))
    to_user = _body_user(user, payload.to_user_id, "to_user_id")
    with _service_errors(_API_FIELD):
        services.swap_shift(
            actor=user,
            shift=shift,
            from_member=member,
            to_user=to_user,
            to_name=payload.to_name,
            to_phone=payload.to_phone,
            reason=payload.reason,
        )
    return _shift_detail(user, shift.pk)


@router.post(
    "/shifts/{shift_id}/cancel",
    response={200: ShiftDetailOut, **ERRORS},
    summary="Cancel a shift",
)
def cancel_shift(request: HttpRequest, shift_id: int, payload: CancelIn) -> dict[str, Any]:
    """Cancel a shift that has not ended; it stays on the record."""
    user = _actor(request)
    shift = _managed_shift(user, shift_id)
    with _service_errors(_API_FIELD):
        services.cancel_shift(actor=user, shift=shift, reason=payload.reason)
    return _shift_detail(user, shift.pk)


@router.get("/pioneer-posts", response={200: PioneerPage, **ERRORS}, summary="Pioneer posts")
def list_pioneers(request: HttpRequest, filters: Query[PioneerQuery]) -> dict[str, Any]:
    """The party-member pioneer posts of the caller's scope with their members (the leader
    first)."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    pioneers = selectors.pioneers_for(
        user, unit=_unit_filter(user, filters.unit_id), include_inactive=filters.include_inactive
    )
    return _page(pioneers, filters, _pioneer_out)
