"""Every write of the duty (24小时值班值守): posts, shifts (create, change, cancel, repeat a
week), swaps, the duty rules, the pioneer posts (党员先锋岗) and their members, and the
scheduled job that warns of an uncovered shift before it starts.

Each call validates, checks the permission (``duty.manage`` over the post's unit;
``actor=None`` is the system itself: the scheduler, a command, the demo) and runs in one
transaction; the audit trail (simple-history) is attributed to the actor. Validation errors
name the argument and say how to fix it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.alerts.models import AlertKind
from fangkong.alerts.services import raise_alert
from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, restrict, scope_for
from fangkong.core.services import acting_user as _user
from fangkong.core.services import attribute_history as _history_actor
from fangkong.core.services import clean_text as _clean_text
from fangkong.core.validators import validate_mobile
from fangkong.org.models import OrgUnit, Person, RoleAssignment, User
from fangkong.org.services import add_timeline_event

from ..models import (
    Checkpoint,
    DutyPost,
    DutyRules,
    PioneerMember,
    PioneerPost,
    Shift,
    ShiftMember,
    ShiftSwap,
)
from ..selectors import duty as selectors

SHIFT_MAX = dt.timedelta(hours=24)
MEMBERS_MAX = 20
PIONEER_MEMBERS_MAX = 60
NAME_MAX = 50
POST_NAME_MAX = 60
NOTE_MAX = 200
REASON_MAX = 200
DUTY_MAX = 2000
ALERT_BEFORE_MAX = 24 * 60
GAP_DAYS_MAX = 62


def format_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def format_span(start: dt.datetime, end: dt.datetime) -> str:
    """``2020-02-05 22:00–2020-02-06 06:00``, or ``2020-02-05 08:00–16:00`` within a day."""
    a, b = timezone.localtime(start), timezone.localtime(end)
    if a.date() == b.date():
        return f"{a:%Y-%m-%d %H:%M}–{b:%H:%M}"
    return f"{a:%Y-%m-%d %H:%M}–{b:%Y-%m-%d %H:%M}"


def _check_manage(actor: Any, obj: Any) -> None:
    if actor is not None:
        check_perm_on(actor, Perm.DUTY_MANAGE, obj)


# ---------------------------------------------------------------------------------------------
# Posts


POST_FIELDS = ("kind", "name", "unit", "checkpoint", "round_the_clock", "is_active")


def _clean_post(post: DutyPost) -> None:
    if post.kind not in DutyPost.Kind.values:
        raise ValidationError(
            {"kind": _("Choose the kind of post: office, checkpoint, pioneer post or other.")}
        )
    post.name = _clean_text(
        post.name,
        "name",
        POST_NAME_MAX,
        required=_("Name the post, e.g. '联防联控办公室' or '东门卡口'."),
    )
    unit = post.unit
    if not unit.is_active:
        raise ValidationError(
            {"unit": _("%(unit)s is no longer active: choose another unit.") % {"unit": unit.name}}
        )
    checkpoint = post.checkpoint
    if checkpoint is None:
        return
    if post.kind != DutyPost.Kind.CHECKPOINT:
        raise ValidationError(
            {
                "checkpoint": _(
                    "Only a checkpoint post has a checkpoint: clear it or change the kind."
                )
            }
        )
    if not checkpoint.unit.path.startswith(unit.path):
        raise ValidationError(
            {
                "checkpoint": _(
                    "%(checkpoint)s belongs to %(unit)s: choose a checkpoint of the post's unit."
                )
                % {"checkpoint": checkpoint.name, "unit": checkpoint.unit.name}
            }
        )
    other = DutyPost.objects.filter(checkpoint=checkpoint).exclude(pk=post.pk).first()
    if other is not None:
        raise ValidationError(
            {
                "checkpoint": _("%(checkpoint)s already has its post, %(post)s.")
                % {"checkpoint": checkpoint.name, "post": other.name}
            }
        )


@transaction.atomic
def create_post(
    *,
    actor: Any,
    kind: str,
    name: str,
    unit: OrgUnit,
    checkpoint: Checkpoint | None = None,
    round_the_clock: bool = True,
) -> DutyPost:
    """Add a duty post of ``unit``: the office, a checkpoint (with the checkpoint, when it is
    in the register of checkpoints), or another post. A pioneer post's duty post comes with
    the pioneer post (:func:`create_pioneer_post`)."""
    _check_manage(actor, unit)
    if kind == DutyPost.Kind.PIONEER:
        raise ValidationError(
            {
                "kind": _(
                    "A pioneer post's duty post is made with the pioneer post: add that instead."
                )
            }
        )
    post = DutyPost(
        kind=kind,
        name=name,
        unit=unit,
        checkpoint=checkpoint,
        round_the_clock=bool(round_the_clock),
    )
    _clean_post(post)
    _history_actor(post, actor)
    post.save()
    return post


@transaction.atomic
def update_post(*, actor: Any, post: DutyPost, **changes: Any) -> DutyPost:
    """Change a post: its kind, name, unit, checkpoint, whether it is staffed around the
    clock, or whether it is active (``is_active=False`` deactivates it: it leaves the roster
    and its gaps are no longer shown; its shifts stay). A pioneer post's duty post changes
    with the pioneer post, but for ``round_the_clock``."""
    unknown = set(changes) - set(POST_FIELDS)
    if unknown:
        raise TypeError(f"unknown post fields: {sorted(unknown)}")
    post = (
        DutyPost.objects.select_for_update(of=("self",))
        .select_related("unit", "checkpoint")
        .get(pk=post.pk)
    )
    _check_manage(actor, post)
    if post.kind == DutyPost.Kind.PIONEER and set(changes) - {"round_the_clock"}:
        raise ValidationError(
            {"kind": _("This is a pioneer post's duty post: change it on the pioneer post.")}
        )
    if changes.get("kind") == DutyPost.Kind.PIONEER:
        raise ValidationError(
            {
                "kind": _(
                    "A pioneer post's duty post is made with the pioneer post: add that instead."
                )
            }
        )
    if "unit" in changes and changes["unit"] != post.unit:
        _check_manage(actor, changes["unit"])
    for name, value in changes.items():
        setattr(post, name, bool(value) if name in ("round_the_clock", "is_active") else value)
    _clean_post(post)
    _history_actor(post, actor)
    post.save()
    return post


# ---------------------------------------------------------------------------------------------
# Shifts


@dataclass(frozen=True)
class MemberIn:
    """Someone on duty: a user, or a name (and a mobile number) for someone without an
    account."""

    user: User | None = None
    name: str = ""
    phone: str = ""

    @classmethod
    def of(cls, member: ShiftMember) -> MemberIn:
        if member.user_id is not None:
            return cls(user=member.user)
        return cls(name=member.name, phone=member.phone)


@dataclass(frozen=True)
class _Member:
    user: User | None
    name: str
    phone: str

    @property
    def key(self) -> tuple[Any, ...]:
        return ("user", self.user.pk) if self.user is not None else ("name", self.name, self.phone)


def _in_scope_users(actor: Any, users: Sequence[User]) -> set[int]:
    if actor is None or not users:
        return {u.pk for u in users}
    return set(
        selectors.duty_users(actor)
        .filter(pk__in=[u.pk for u in users])
        .values_list("pk", flat=True)
    )


def _clean_members(actor: Any, members: Sequence[MemberIn], name: str = "members") -> list[_Member]:
    if not members:
        raise ValidationError(
            {name: _("Put at least one person on duty: a user, or a name and a mobile number.")}
        )
    if len(members) > MEMBERS_MAX:
        raise ValidationError(
            {name: _("At most %(max)d people on one shift.") % {"max": MEMBERS_MAX}}
        )
    allowed = _in_scope_users(actor, [m.user for m in members if m.user is not None])
    cleaned: list[_Member] = []
    for member in members:
        if member.user is not None:
            user = member.user
            if not user.is_active or user.pk not in allowed:
                raise ValidationError(
                    {
                        name: _("%(user)s is not among the users you may put on duty.")
                        % {"user": selectors.user_label(user)}
                    }
                )
            entry = _Member(user=user, name=selectors.user_label(user)[:NAME_MAX], phone=user.phone)
        else:
            label = _clean_text(
                member.name,
                name,
                NAME_MAX,
                required=_("Give the name of everyone on duty without an account."),
            )
            phone = ""
            if str(member.phone or "").strip():
                try:
                    phone = validate_mobile(str(member.phone))
                except ValidationError as error:
                    raise ValidationError({name: f"{label}: {' '.join(error.messages)}"}) from None
            entry = _Member(user=None, name=label, phone=phone)
        if any(c.key == entry.key for c in cleaned):
            raise ValidationError({name: _("%(name)s is listed twice.") % {"name": entry.name}})
        cleaned.append(entry)
    return cleaned


def _clean_leader(leader: User | None) -> None:
    if leader is None:
        return
    holds = RoleAssignment.objects.filter(user=leader, role__in=selectors.LEADER_ROLES).exists()
    if not leader.is_active or not holds:
        raise ValidationError(
            {
                "leader": _(
                    "%(user)s cannot be the leader on duty: choose a leader or a member of the "
                    "office."
                )
                % {"user": selectors.user_label(leader)}
            }
        )


def _clean_times(start: dt.datetime | None, end: dt.datetime | None) -> None:
    if start is None:
        raise ValidationError({"start": _("Enter when the shift starts, e.g. 2020-02-05 08:00.")})
    if end is None:
        raise ValidationError({"end": _("Enter when the shift ends, e.g. 2020-02-05 16:00.")})
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise TypeError("shift times must be aware datetimes")
    if end <= start:
        raise ValidationError(
            {
                "end": _(
                    "The end must be after the start (a night shift ends the next day, e.g. "
                    "22:00 to 08:00 the next day)."
                )
            }
        )
    if end - start > SHIFT_MAX:
        raise ValidationError(
            {"end": _("A shift lasts at most 24 hours: split a longer duty into shifts.")}
        )


def _check_overlaps(
    members: Sequence[_Member],
    start: dt.datetime,
    end: dt.datetime,
    *,
    exclude: Shift | None = None,
    name: str = "members",
) -> None:
    """Refuse a member already on a shift (anywhere) that overlaps [start, end)."""
    users = [m.user.pk for m in members if m.user is not None]
    named = [m for m in members if m.user is None]
    if users:
        # Row locks on the users: two shifts made at once for the same person are checked in
        # turn.
        list(User.objects.select_for_update().filter(pk__in=users).values_list("pk", flat=True))
    condition = Q(user_id__in=users)
    for member in named:
        condition |= Q(user__isnull=True, name=member.name, phone=member.phone)
    clashes = (
        ShiftMember.objects.filter(condition)
        .filter(shift__is_cancelled=False, shift__start__lt=end, shift__end__gt=start)
        .select_related("shift", "shift__post")
        .order_by("shift__start", "pk")
    )
    if exclude is not None:
        clashes = clashes.exclude(shift=exclude)
    clash = clashes.first()
    if clash is None:
        return
    shift = clash.shift
    raise ValidationError(
        {
            name: _(
                "%(name)s is already on duty at %(post)s from %(span)s: choose someone else or "
                "change that shift first."
            )
            % {
                "name": selectors.member_label(clash),
                "post": shift.post.name,
                "span": format_span(shift.start, shift.end),
            }
        }
    )


def _write_members(shift: Shift, members: Sequence[_Member], actor: Any) -> None:
    """Make the shift's members ``members``: those already on it stay (their audit trail
    goes on), the others are removed or added."""
    existing = list(shift.members.select_related("user").order_by("pk"))
    wanted = {m.key: m for m in members}
    kept: set[tuple[Any, ...]] = set()
    for row in existing:
        key = _Member(row.user, row.name, row.phone).key
        if key in wanted and key not in kept:
            kept.add(key)
            continue
        _history_actor(row, actor)
        row.delete()
    for member in members:
        if member.key in kept:
            continue
        row = ShiftMember(shift=shift, user=member.user, name=member.name, phone=member.phone)
        _history_actor(row, actor)
        row.save()


def _active_post(post: DutyPost) -> DutyPost:
    post = DutyPost.objects.select_related("unit").get(pk=post.pk)
    if not post.is_active:
        raise ValidationError(
            {
                "post": _("%(post)s is not active: reactivate it to give it shifts.")
                % {"post": post.name}
            }
        )
    return post


@transaction.atomic
def create_shift(
    *,
    actor: Any,
    post: DutyPost,
    start: dt.datetime,
    end: dt.datetime,
    members: Sequence[MemberIn],
    leader: User | None = None,
    note: str = "",
) -> Shift:
    """Add a shift to ``post`` from ``start`` to ``end`` (it may cross midnight; at most 24
    hours) with the staff on duty (at least one) and the leader on duty (optional; a leader
    or a member of the office). A shift may overlap another of the same post (the handover),
    but nobody is on two overlapping shifts anywhere."""
    _check_manage(actor, post)
    post = _active_post(post)
    _clean_times(start, end)
    cleaned = _clean_members(actor, members)
    _clean_leader(leader)
    note = _clean_text(note, "note", NOTE_MAX)
    _check_overlaps(cleaned, start, end)
    shift = Shift(
        post=post, start=start, end=end, leader=leader, note=note, created_by=_user(actor)
    )
    _history_actor(shift, actor)
    shift.save()
    _write_members(shift, cleaned, actor)
    return shift


def _locked_shift(shift: Shift) -> Shift:
    return (
        Shift.objects.select_for_update(of=("self",))
        .select_related("post", "post__unit")
        .get(pk=shift.pk)
    )


def _check_changeable(shift: Shift, now: dt.datetime, name: str = "shift") -> None:
    if shift.is_cancelled:
        raise ValidationError({name: _("This shift is cancelled: add a new one instead.")})
    if shift.end <= now:
        raise ValidationError(
            {
                name: _("This shift ended at %(end)s: a past shift stays as it was.")
                % {"end": format_time(shift.end)}
            }
        )


@transaction.atomic
def update_shift(
    *,
    actor: Any,
    shift: Shift,
    start: dt.datetime,
    end: dt.datetime,
    members: Sequence[MemberIn],
    leader: User | None = None,
    note: str = "",
) -> Shift:
    """Change a shift that has not ended: its times, staff, leader and note (the same rules
    as :func:`create_shift`). To hand one member's duty to someone else, record a swap
    (:func:`swap_shift`)."""
    shift = _locked_shift(shift)
    _check_manage(actor, shift)
    _check_changeable(shift, timezone.now())
    _clean_times(start, end)
    cleaned = _clean_members(actor, members)
    _clean_leader(leader)
    note = _clean_text(note, "note", NOTE_MAX)
    _check_overlaps(cleaned, start, end, exclude=shift)
    shift.start, shift.end, shift.leader, shift.note = start, end, leader, note
    _history_actor(shift, actor)
    shift.save()
    _write_members(shift, cleaned, actor)
    return shift


@transaction.atomic
def cancel_shift(*, actor: Any, shift: Shift, reason: str = "") -> Shift:
    """Cancel a shift that has not ended (it stays on the record, struck out; its hours
    become a gap of a round-the-clock post). The reason, if given, becomes its note."""
    shift = _locked_shift(shift)
    _check_manage(actor, shift)
    _check_changeable(shift, timezone.now())
    reason = _clean_text(reason, "reason", REASON_MAX)
    shift.is_cancelled = True
    if reason:
        shift.note = reason
    _history_actor(shift, actor)
    shift.save()
    return shift


@dataclass
class CopyResult:
    """What :func:`copy_week` did: the shifts made, and those already there."""

    created: list[Shift] = field(default_factory=list)
    skipped: int = 0


@transaction.atomic
def copy_week(*, actor: Any, post: DutyPost, week: dt.date) -> CopyResult:
    """Repeat the shifts of ``post`` in the week of ``week`` (Monday to Sunday) one week
    later, with the same staff and leader: the roster is mostly the same every week. A shift
    already there (same start and end) is left alone, so repeating twice adds nothing; a
    member who is on another overlapping shift then refuses the whole copy, naming the
    shift. Cancelled shifts are not repeated."""
    _check_manage(actor, post)
    post = _active_post(post)
    monday = selectors.week_start(week)
    start = selectors.day_start(monday)
    end = selectors.day_start(monday + dt.timedelta(days=7))
    source = list(
        Shift.objects.filter(post=post, is_cancelled=False, start__gte=start, start__lt=end)
        .select_related("leader")
        .prefetch_related("members__user")
        .order_by("start", "pk")
    )
    if not source:
        raise ValidationError(
            {
                "week": _("The week of %(monday)s has no shifts to repeat.")
                % {"monday": monday.isoformat()}
            }
        )
    there = set(
        Shift.objects.filter(
            post=post,
            is_cancelled=False,
            start__gte=start + dt.timedelta(days=7),
            start__lt=end + dt.timedelta(days=7),
        ).values_list("start", "end")
    )
    result = CopyResult()
    for shift in source:
        new_start = _week_later(shift.start)
        new_end = _week_later(shift.end)
        if (new_start, new_end) in there:
            result.skipped += 1
            continue
        members = [MemberIn.of(m) for m in shift.members.all()]
        try:
            made = create_shift(
                actor=actor,
                post=post,
                start=new_start,
                end=new_end,
                members=members,
                leader=shift.leader if shift.leader is None or shift.leader.is_active else None,
                note=shift.note,
            )
        except ValidationError as error:
            raise ValidationError(
                {
                    "week": _("The shift of %(span)s: %(problem)s")
                    % {"span": format_span(new_start, new_end), "problem": " ".join(error.messages)}
                }
            ) from None
        result.created.append(made)
    return result


def _week_later(moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    return timezone.make_aware(local.replace(tzinfo=None) + dt.timedelta(days=7))


@transaction.atomic
def swap_shift(
    *,
    actor: Any,
    shift: Shift,
    from_member: ShiftMember,
    to_user: User | None = None,
    to_name: str = "",
    to_phone: str = "",
    reason: str,
) -> ShiftSwap:
    """Hand ``from_member``'s duty on ``shift`` to ``to_user`` (or to someone without an
    account: ``to_name`` and ``to_phone``), for ``reason``. The member is replaced (the
    audit trail keeps who was on it) and the swap is recorded: who, to whom, why, by whom,
    when. Refused for a shift that has ended or is cancelled."""
    now = timezone.now()
    shift = _locked_shift(shift)
    _check_manage(actor, shift)
    _check_changeable(shift, now)
    member = (
        ShiftMember.objects.select_related("user").filter(pk=from_member.pk, shift=shift).first()
    )
    if member is None:
        raise ValidationError({"from_member": _("Choose someone who is on this shift.")})
    reason = _clean_text(
        reason, "reason", REASON_MAX, required=_("Say why, e.g. 'sick leave' or 'family matter'.")
    )
    if to_user is None and not str(to_name or "").strip():
        raise ValidationError(
            {"to_user": _("Say who takes over: a user, or a name and a mobile number.")}
        )
    (taker,) = _clean_members(
        actor,
        [MemberIn(user=to_user, name=to_name, phone=to_phone)]
        if to_user is not None
        else [MemberIn(name=to_name, phone=to_phone)],
        name="to_user" if to_user is not None else "to_name",
    )
    others = [
        _Member(m.user, m.name, m.phone)
        for m in shift.members.select_related("user").exclude(pk=member.pk)
    ]
    if (
        any(o.key == taker.key for o in others)
        or _Member(member.user, member.name, member.phone).key == taker.key
    ):
        raise ValidationError(
            {"to_user": _("%(name)s is on this shift already.") % {"name": taker.name}}
        )
    _check_overlaps([taker], shift.start, shift.end, exclude=shift, name="to_user")
    swap = ShiftSwap(
        shift=shift,
        from_name=selectors.member_label(member)[:NAME_MAX],
        from_user=member.user,
        to_name=taker.name,
        to_user=taker.user,
        reason=reason,
        recorded_by=_user(actor),
        recorded_at=now,
    )
    member.user, member.name, member.phone = taker.user, taker.name, taker.phone
    _history_actor(member, actor)
    member.save()
    swap.save()
    return swap


# ---------------------------------------------------------------------------------------------
# The duty rules


RULE_FIELDS = ("alert_before_minutes", "gap_days_ahead")


def may_manage_rules(actor: Any) -> bool:
    """The duty rules are the office's: ``duty.manage`` over the whole organisation."""
    if actor is None:
        return True
    scope = scope_for(actor, Perm.DUTY_MANAGE)
    return scope.everything or scope.whole_tree


@transaction.atomic
def update_duty_rules(*, actor: Any, **values: Any) -> DutyRules:
    """Change when the roster warns: ``alert_before_minutes`` (an uncovered shift this soon
    raises an alert; 0 to 1440) and ``gap_days_ahead`` (how far ahead gaps are shown; 1 to
    62). The office only (``duty.manage`` over the whole organisation)."""
    if not may_manage_rules(actor):
        raise PermissionDenied
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown duty rules: {sorted(unknown)}")
    rules = DutyRules.objects.select_for_update().filter(pk=DutyRules.SINGLETON_PK).first()
    rules = rules or DutyRules(pk=DutyRules.SINGLETON_PK)
    if "alert_before_minutes" in values:
        minutes = values["alert_before_minutes"]
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or not (0 <= minutes <= ALERT_BEFORE_MAX)
        ):
            raise ValidationError(
                {
                    "alert_before_minutes": _(
                        "Enter the minutes before an uncovered shift, from 0 to %(max)d (e.g. 120)."
                    )
                    % {"max": ALERT_BEFORE_MAX}
                }
            )
        rules.alert_before_minutes = minutes
    if "gap_days_ahead" in values:
        days = values["gap_days_ahead"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= GAP_DAYS_MAX:
            raise ValidationError(
                {
                    "gap_days_ahead": _("Enter the days ahead, from 1 to %(max)d (e.g. 14).")
                    % {"max": GAP_DAYS_MAX}
                }
            )
        rules.gap_days_ahead = days
    _history_actor(rules, actor)
    rules.save()
    return rules


# ---------------------------------------------------------------------------------------------
# The scheduled job: uncovered shifts about to start


def gap_key(post_id: int, start: dt.datetime) -> str:
    """What the alert of a gap of a post starting at ``start`` is keyed by."""
    return f"duty_gap:{post_id}:{timezone.localtime(start).isoformat()}"


def find_uncovered_shifts(*, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """A DUTY_GAP alert for each gap of an active round-the-clock post, and each shift with
    nobody on it, that starts within ``alert_before_minutes`` of ``now`` (or has started and
    is not over): once, however often or late this runs — the alert is keyed by the post and
    the gap's start. A gap is looked for from the start of yesterday: a post left without
    anyone for days is alerted once a day. Returns the alerts raised."""
    rules = selectors.current_rules()
    horizon = now + dt.timedelta(minutes=rules.alert_before_minutes)
    window_start = selectors.day_start(selectors.local_day(now) - dt.timedelta(days=1))
    # Read a day past the horizon: a gap's end is where it really ends, not at the horizon.
    window_end = horizon + dt.timedelta(days=1)
    posts = {p.pk: p for p in DutyPost.objects.filter(is_active=True).select_related("unit")}
    found: dict[tuple[int, dt.datetime], dt.datetime] = {}
    watched = [pk for pk, post in posts.items() if post.round_the_clock]
    intervals = selectors.staffed_intervals(watched, window_start, window_end) if watched else {}
    for pk, shifts in intervals.items():
        for gap_start, gap_end in selectors.find_gaps(shifts, window_start, window_end):
            if gap_start <= horizon and gap_end > now:
                found[(pk, gap_start)] = gap_end
    empty = (
        Shift.objects.filter(
            post_id__in=list(posts), is_cancelled=False, start__lte=horizon, end__gt=now
        )
        .exclude(members__isnull=False)
        .values_list("post_id", "start", "end")
    )
    for pk, start, end in empty:
        found.setdefault((pk, start), end)
    raised = 0
    for (pk, start), end in sorted(found.items(), key=lambda item: (item[0][1], item[0][0])):
        post = posts[pk]
        monday = selectors.week_start(selectors.local_day(start))
        _alert, created = raise_alert(
            kind=AlertKind.DUTY_GAP,
            key=gap_key(pk, start),
            unit=post.unit,
            summary=_("%(post)s: nobody on duty from %(start)s to %(end)s")
            % {"post": post.name, "start": format_time(start), "end": format_time(end)},
            at=now,
            object_type="checkpoints.dutypost",
            object_id=pk,
            url=reverse("checkpoints:post_week", kwargs={"post_id": pk})
            + f"?week={monday.isoformat()}",
            data={
                "start": timezone.localtime(start).isoformat(),
                "end": timezone.localtime(end).isoformat(),
            },
        )
        raised += int(created)
    return raised


# ---------------------------------------------------------------------------------------------
# Pioneer posts


@dataclass(frozen=True)
class PioneerMemberIn:
    """A member of a pioneer post: a person of the register (a party member) or a user; one
    member of the post is its leader."""

    person: Person | None = None
    user: User | None = None
    is_leader: bool = False


def _clean_pioneer_fields(name: Any, duty: Any, unit: OrgUnit) -> tuple[str, str]:
    name = _clean_text(
        name, "name", POST_NAME_MAX, required=_("Name the post, e.g. '疫情防控党员先锋岗'.")
    )
    duty = _clean_text(
        duty,
        "duty",
        DUTY_MAX,
        required=_("Say what the post is responsible for, e.g. '卡口值守、人员车辆登记消毒'."),
    )
    if not unit.is_active:
        raise ValidationError(
            {"unit": _("%(unit)s is no longer active: choose another unit.") % {"unit": unit.name}}
        )
    return name, duty


@transaction.atomic
def create_pioneer_post(
    *,
    actor: Any,
    name: str,
    duty: str,
    unit: OrgUnit,
    members: Sequence[PioneerMemberIn],
    round_the_clock: bool = False,
) -> PioneerPost:
    """Add a party-member pioneer post of ``unit`` with its members (one of them its
    leader), and its duty post in the roster (kind pioneer; not staffed around the clock
    unless asked), which its shifts belong to."""
    _check_manage(actor, unit)
    name, duty = _clean_pioneer_fields(name, duty, unit)
    post = DutyPost(
        kind=DutyPost.Kind.PIONEER, name=name, unit=unit, round_the_clock=bool(round_the_clock)
    )
    _history_actor(post, actor)
    post.save()
    pioneer = PioneerPost(name=name, duty=duty, unit=unit, post=post)
    _history_actor(pioneer, actor)
    pioneer.save()
    _set_members(actor, pioneer, members)
    return pioneer


PIONEER_FIELDS = ("name", "duty", "unit", "is_active", "round_the_clock", "members")


@transaction.atomic
def update_pioneer_post(*, actor: Any, pioneer: PioneerPost, **changes: Any) -> PioneerPost:
    """Change a pioneer post's name, duty, unit, whether it is active (``is_active=False``
    deactivates it with its duty post) or whether its duty post is staffed around the
    clock; the duty post follows. With ``members``, also its members (as
    :func:`set_members`)."""
    unknown = set(changes) - set(PIONEER_FIELDS)
    if unknown:
        raise TypeError(f"unknown pioneer post fields: {sorted(unknown)}")
    pioneer = (
        PioneerPost.objects.select_for_update(of=("self",))
        .select_related("unit", "post")
        .get(pk=pioneer.pk)
    )
    _check_manage(actor, pioneer)
    unit = changes.get("unit", pioneer.unit)
    if unit != pioneer.unit:
        _check_manage(actor, unit)
    name, duty = _clean_pioneer_fields(
        changes.get("name", pioneer.name), changes.get("duty", pioneer.duty), unit
    )
    pioneer.name, pioneer.duty, pioneer.unit = name, duty, unit
    if "is_active" in changes:
        pioneer.is_active = bool(changes["is_active"])
    _history_actor(pioneer, actor)
    pioneer.save()
    post = pioneer.post
    if post is None:
        post = DutyPost(kind=DutyPost.Kind.PIONEER, round_the_clock=False)
    post.name, post.unit, post.is_active = pioneer.name, pioneer.unit, pioneer.is_active
    if "round_the_clock" in changes:
        post.round_the_clock = bool(changes["round_the_clock"])
    _history_actor(post, actor)
    post.save()
    if pioneer.post_id is None:
        pioneer.post = post
        _history_actor(pioneer, actor)
        pioneer.save()
    if "members" in changes:
        _set_members(actor, pioneer, changes["members"])
    return pioneer


@transaction.atomic
def set_members(
    *, actor: Any, pioneer: PioneerPost, members: Sequence[PioneerMemberIn]
) -> list[PioneerMember]:
    """Make the members of ``pioneer`` exactly ``members`` (party members from the register
    the actor sees, or users the actor may put on duty), exactly one of them the leader.
    Members who stay keep their audit trail; a person who joins or leaves has it on their
    timeline."""
    pioneer = (
        PioneerPost.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=pioneer.pk)
    )
    _check_manage(actor, pioneer)
    return _set_members(actor, pioneer, members)


def _member_key(person_id: int | None, user_id: int | None) -> tuple[str, int]:
    return ("person", person_id) if person_id is not None else ("user", user_id or 0)


def _set_members(
    actor: Any, pioneer: PioneerPost, members: Sequence[PioneerMemberIn]
) -> list[PioneerMember]:
    if not members:
        raise ValidationError(
            {"members": _("Add the post's members: party members from the register, or users.")}
        )
    if len(members) > PIONEER_MEMBERS_MAX:
        raise ValidationError(
            {"members": _("At most %(max)d members on one post.") % {"max": PIONEER_MEMBERS_MAX}}
        )
    leaders = [m for m in members if m.is_leader]
    if len(leaders) != 1:
        raise ValidationError({"leader": _("Choose one member as the post's leader.")})
    persons = [m.person for m in members if m.person is not None]
    visible = set()
    if persons:
        qs = Person.objects.filter(pk__in=[p.pk for p in persons], is_active=True)
        if actor is not None:
            qs = restrict(qs, actor)
        visible = set(qs.values_list("pk", flat=True))
    users = [m.user for m in members if m.person is None and m.user is not None]
    allowed = _in_scope_users(actor, users)
    wanted: dict[tuple[str, int], tuple[PioneerMemberIn, str]] = {}
    for member in members:
        if member.person is not None:
            if member.person.pk not in visible:
                raise ValidationError(
                    {"members": _("No such person in your register: search again.")}
                )
            key = _member_key(member.person.pk, None)
            label = member.person.name
        elif member.user is not None:
            if not member.user.is_active or member.user.pk not in allowed:
                raise ValidationError(
                    {
                        "members": _("%(user)s is not among the users you may add.")
                        % {"user": selectors.user_label(member.user)}
                    }
                )
            key = _member_key(None, member.user.pk)
            label = selectors.user_label(member.user)
        else:
            raise ValidationError({"members": _("A member is a person of the register or a user.")})
        if key in wanted:
            raise ValidationError({"members": _("%(name)s is listed twice.") % {"name": label}})
        wanted[key] = (member, label[:NAME_MAX])
    now = timezone.now()
    existing = {
        _member_key(row.person_id, row.user_id): row
        for row in PioneerMember.objects.filter(pioneer=pioneer).select_related("person")
    }
    # The leader is cleared before another is set (one leader per post, a constraint).
    for key, row in existing.items():
        if key not in wanted or (row.is_leader and not wanted[key][0].is_leader):
            if key in wanted:
                row.is_leader = False
                _history_actor(row, actor)
                row.save()
                continue
            _history_actor(row, actor)
            row.delete()
            if row.person is not None:
                add_timeline_event(
                    person=row.person,
                    kind="pioneer_post",
                    summary=_("Left the pioneer post %(post)s") % {"post": pioneer.name},
                    actor=_user(actor),
                    data={"pioneer_id": pioneer.pk},
                    occurred_at=now,
                )
    result = []
    for key, (member, label) in wanted.items():
        found = existing.get(key)
        joined = found is None
        row = found or PioneerMember(
            pioneer=pioneer, person=member.person, user=None if member.person else member.user
        )
        if row.name != label or row.is_leader != member.is_leader or joined:
            row.name, row.is_leader = label, member.is_leader
            _history_actor(row, actor)
            row.save()
        if joined and member.person is not None:
            add_timeline_event(
                person=member.person,
                kind="pioneer_post",
                summary=_("Joined the pioneer post %(post)s") % {"post": pioneer.name},
                actor=_user(actor),
                data={"pioneer_id": pioneer.pk},
                occurred_at=now,
            )
        result.append(row)
    return result
