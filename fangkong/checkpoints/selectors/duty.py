"""The shared reads of the duty: posts, shifts, the coverage of a round-the-clock post and its
gaps, the week of a post, the roster overview, who is on duty now, the pioneer posts, and the
duty of a day for the daily report (:func:`shifts_on`).

Every read a user makes is scoped with :func:`fangkong.core.scoping.restrict`; the coverage
arithmetic (:func:`find_gaps`) is a pure function of intervals. Days are Asia/Shanghai days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from fangkong.core.permissions import Perm, Role
from fangkong.core.scoping import ancestor_paths, restrict, scope_for
from fangkong.org.models import OrgUnit, Person, User

from ..models import DutyPost, DutyRules, PioneerMember, PioneerPost, Shift, ShiftMember, ShiftSwap

Interval = tuple[dt.datetime, dt.datetime]

# The roles a leader on duty holds (组长/副组长, or the office).
LEADER_ROLES = (Role.LEADER, Role.OFFICE)
# How far ahead the home page looks for the user's own next shift.
MINE_AHEAD = dt.timedelta(days=14)


def current_rules() -> DutyRules:
    """The duty rules in force (the defaults until the office changes them)."""
    rules = DutyRules.objects.filter(pk=DutyRules.SINGLETON_PK).first()
    return rules if rules is not None else DutyRules(pk=DutyRules.SINGLETON_PK)


# ---------------------------------------------------------------------------------------------
# Days and weeks


def day_start(day: dt.date) -> dt.datetime:
    """The moment ``day`` begins (00:00 local time)."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=timezone.get_current_timezone())


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


# ---------------------------------------------------------------------------------------------
# Coverage


def find_gaps(
    intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """The parts of [start, end) that no interval covers, in order: the complement of the
    union of ``intervals`` (each [from, to), overlapping or not, in any order) within the
    range. A pure function."""
    if end <= start:
        return []
    clipped = sorted(
        (max(a, start), min(b, end)) for a, b in intervals if b > start and a < end and b > a
    )
    gaps: list[Interval] = []
    cursor = start
    for a, b in clipped:
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def split_by_day(gaps: Iterable[Interval]) -> dict[dt.date, list[Interval]]:
    """``gaps`` cut at local midnight, by day (a gap from 22:00 to 02:00 is two: 22:00–24:00
    of the first day and 00:00–02:00 of the next)."""
    found: dict[dt.date, list[Interval]] = {}
    for a, b in gaps:
        cursor = a
        while cursor < b:
            day = local_day(cursor)
            stop = min(b, day_start(day + dt.timedelta(days=1)))
            found.setdefault(day, []).append((cursor, stop))
            cursor = stop
    return found


@dataclass(frozen=True)
class Coverage:
    """The coverage of a post from ``start`` to ``end``: the gaps (none for a post that need
    not be staffed around the clock)."""

    post: DutyPost
    start: dt.datetime
    end: dt.datetime
    gaps: list[Interval]

    @property
    def covered(self) -> bool:
        return not self.gaps

    def on(self, day: dt.date) -> list[Interval]:
        """The gaps of ``day`` (cut at midnight)."""
        return split_by_day(self.gaps).get(day, [])


def _staffed() -> Exists:
    return Exists(ShiftMember.objects.filter(shift=OuterRef("pk")))


def staffed_intervals(
    post_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[int, list[Interval]]:
    """The (start, end) of the non-cancelled shifts with at least one person on them that
    touch [start, end), by post (one query)."""
    rows = (
        Shift.objects.filter(
            post_id__in=list(post_ids), is_cancelled=False, start__lt=end, end__gt=start
        )
        .filter(_staffed())
        .values_list("post_id", "start", "end")
    )
    found: dict[int, list[Interval]] = {pk: [] for pk in post_ids}
    for post_id, a, b in rows:
        found[post_id].append((a, b))
    return found


def coverage(
    post: DutyPost,
    first_day: dt.date,
    last_day: dt.date,
    *,
    shifts: Iterable[Interval] | None = None,
) -> Coverage:
    """The coverage of ``post`` over the days ``first_day`` to ``last_day`` (24 hours each):
    the union of its non-cancelled shifts with someone on them, and the gaps. ``shifts`` (the
    intervals) when already read, else one query. A post not staffed around the clock has no
    gaps."""
    start, end = day_start(first_day), day_start(last_day + dt.timedelta(days=1))
    if not post.round_the_clock:
        return Coverage(post, start, end, [])
    if shifts is None:
        shifts = staffed_intervals([post.pk], start, end)[post.pk]
    return Coverage(post, start, end, find_gaps(shifts, start, end))


# ---------------------------------------------------------------------------------------------
# Posts and shifts


def posts_for(
    user: Any, *, unit: OrgUnit | None = None, kind: str = "", include_inactive: bool = False
) -> QuerySet[DutyPost]:
    """The duty posts ``user`` sees (in ``unit``'s subtree when given), by unit and name."""
    qs = restrict(DutyPost.objects.all(), user)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("unit", "checkpoint", "pioneer").order_by(
        "unit__path", "kind", "name", "pk"
    )


def _members_prefetch() -> Prefetch[Any]:
    return Prefetch("members", queryset=ShiftMember.objects.select_related("user").order_by("pk"))


def shifts_for(
    user: Any,
    *,
    post: DutyPost | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    include_cancelled: bool = False,
) -> QuerySet[Shift]:
    """The shifts ``user`` sees that touch [start, end) (of ``post`` when given), in order,
    with their post, leader and members."""
    qs = restrict(Shift.objects.all(), user)
    if post is not None:
        qs = qs.filter(post=post)
    if start is not None:
        qs = qs.filter(end__gt=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    if not include_cancelled:
        qs = qs.filter(is_cancelled=False)
    return (
        qs.select_related("post", "post__unit", "leader")
        .prefetch_related(_members_prefetch())
        .order_by("start", "pk")
    )


def member_label(member: ShiftMember) -> str:
    return member.name or (str(member.user) if member.user_id else "")


def user_label(user: User | None) -> str:
    return "" if user is None else (user.full_name or user.username)


@dataclass
class DayColumn:
    """One day of a post's week: the shifts starting that day, those running on from the day
    before, and the gaps of the day."""

    day: dt.date
    shifts: list[Shift] = field(default_factory=list)
    continued: list[Shift] = field(default_factory=list)
    gaps: list[Interval] = field(default_factory=list)
    is_today: bool = False


@dataclass
class Week:
    post: DutyPost
    monday: dt.date
    days: list[DayColumn]
    gaps: list[Interval]
    cancelled: list[Shift]

    @property
    def previous(self) -> dt.date:
        return self.monday - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.monday + dt.timedelta(days=7)

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)


def post_week(user: Any, post: DutyPost, monday: dt.date, *, today: dt.date | None = None) -> Week:
    """The week from ``monday`` of ``post``: its shifts by day with their members and leader
    and the swaps made, the gaps by day (a round-the-clock post), and the cancelled shifts.
    A fixed number of queries (the shifts, their members, their swaps)."""
    start = day_start(monday)
    end = day_start(monday + dt.timedelta(days=7))
    shifts = list(
        shifts_for(user, post=post, start=start, end=end, include_cancelled=True).prefetch_related(
            Prefetch("swaps", queryset=ShiftSwap.objects.order_by("recorded_at", "pk"))
        )
    )
    live = [s for s in shifts if not s.is_cancelled]
    staffed = [(s.start, s.end) for s in live if s.members.all()]
    covered = coverage(post, monday, monday + dt.timedelta(days=6), shifts=staffed)
    by_day = split_by_day(covered.gaps)
    today = today or timezone.localdate()
    days = [
        DayColumn(
            day=monday + dt.timedelta(days=i), is_today=monday + dt.timedelta(days=i) == today
        )
        for i in range(7)
    ]
    index = {column.day: column for column in days}
    for shift in live:
        first = local_day(shift.start)
        if first in index:
            index[first].shifts.append(shift)
        last = local_day(shift.end - dt.timedelta(microseconds=1))
        day = max(first + dt.timedelta(days=1), monday)
        while day <= last and day in index:
            index[day].continued.append(shift)
            day += dt.timedelta(days=1)
    for column in days:
        column.gaps = by_day.get(column.day, [])
    return Week(
        post=post,
        monday=monday,
        days=days,
        gaps=covered.gaps,
        cancelled=[s for s in shifts if s.is_cancelled],
    )


# ---------------------------------------------------------------------------------------------
# The roster overview and who is on duty now


@dataclass
class PostRow:
    """A post on the roster overview: its gaps in the days ahead and who is on duty now."""

    post: DutyPost
    gaps: list[Interval] = field(default_factory=list)
    now: list[Shift] = field(default_factory=list)

    @property
    def on_duty(self) -> list[str]:
        return [member_label(m) for shift in self.now for m in shift.members.all()]

    @property
    def leaders(self) -> list[str]:
        found: list[str] = []
        for shift in self.now:
            name = user_label(shift.leader)
            if name and name not in found:
                found.append(name)
        return found


def _current_shifts(post_ids: Sequence[int], now: dt.datetime) -> dict[int, list[Shift]]:
    shifts = (
        Shift.objects.filter(
            post_id__in=list(post_ids), is_cancelled=False, start__lte=now, end__gt=now
        )
        .select_related("leader")
        .prefetch_related(_members_prefetch())
        .order_by("start", "pk")
    )
    found: dict[int, list[Shift]] = {}
    for shift in shifts:
        found.setdefault(shift.post_id, []).append(shift)
    return found


def roster(
    user: Any, now: dt.datetime, *, unit: OrgUnit | None = None, rules: DutyRules | None = None
) -> list[PostRow]:
    """Every active post ``user`` sees with its gaps from now over the next
    ``gap_days_ahead`` days (round-the-clock posts) and the shifts running now; the posts with
    a gap come first (the soonest gap first), then the others by unit and name. A fixed
    number of queries (the rules, the posts, the shifts ahead, the shifts now and their
    members)."""
    rules = rules or current_rules()
    posts = list(posts_for(user, unit=unit))
    end = day_start(local_day(now) + dt.timedelta(days=rules.gap_days_ahead + 1))
    watched = [p.pk for p in posts if p.round_the_clock]
    intervals = staffed_intervals(watched, now, end) if watched else {}
    current = _current_shifts([p.pk for p in posts], now) if posts else {}
    rows = []
    for post in posts:
        gaps = find_gaps(intervals[post.pk], now, end) if post.pk in intervals else []
        rows.append(PostRow(post=post, gaps=gaps, now=current.get(post.pk, [])))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda row: (not row.gaps, row.gaps[0][0] if row.gaps else far))
    return rows


@dataclass
class OnDuty:
    """The home page's card: the posts with someone on duty now, and the user's own current
    or next shift."""

    posts: list[PostRow]
    mine: Shift | None
    # Whether the user sees the post of their own shift (its week is a page they may open).
    mine_visible: bool = False


def on_duty_now(user: Any, now: dt.datetime) -> OnDuty:
    """Who is on duty now at the posts ``user`` sees (with the leader on duty), and the
    user's own current or next shift (within two weeks): one query, the shifts' members with
    their shift, post and leader."""
    posts = restrict(DutyPost.objects.filter(is_active=True), user)
    current = Q(shift__post__in=posts, shift__start__lte=now)
    mine = Q(user_id=user.pk, shift__start__lt=now + MINE_AHEAD)
    rows = (
        ShiftMember.objects.filter(current | mine)
        .filter(shift__is_cancelled=False, shift__end__gt=now, shift__post__is_active=True)
        .select_related("user", "shift", "shift__post__unit", "shift__leader")
        .order_by("shift__post__unit__path", "shift__post__name", "shift__start", "shift_id", "pk")
    )
    shifts: dict[int, Shift] = {}
    members: dict[int, list[ShiftMember]] = {}
    my_shift: Shift | None = None
    for member in rows:
        shift = shifts.setdefault(member.shift_id, member.shift)
        members.setdefault(shift.pk, []).append(member)
        if member.user_id == user.pk and (my_shift is None or shift.start < my_shift.start):
            my_shift = shift
    # A shift of the user's own at a post the user does not see came with the user's row
    # only: it is the user's next shift, never listed among the posts.
    visible = scope_for(user, Perm.DUTY_VIEW)
    by_post: dict[int, PostRow] = {}
    for shift in shifts.values():
        if shift.start > now or not visible.covers(shift.post.unit):
            continue
        shift._prefetched_objects_cache = {"members": members[shift.pk]}  # type: ignore[attr-defined]
        by_post.setdefault(shift.post_id, PostRow(post=shift.post)).now.append(shift)
    return OnDuty(
        posts=list(by_post.values()),
        mine=my_shift,
        mine_visible=my_shift is not None and visible.covers(my_shift.post.unit),
    )


# ---------------------------------------------------------------------------------------------
# The day's duty, for the daily report


@dataclass(frozen=True)
class DutyDay:
    """The duty of a unit on a day: how many shifts touched the day, and who was on duty
    (each once, in shift order) and the leaders on duty."""

    shifts: int = 0
    names: tuple[str, ...] = ()
    leaders: tuple[str, ...] = ()


def shifts_on(day: dt.date, org_units: Iterable[OrgUnit]) -> dict[int, DutyDay]:
    """The duty of ``day`` (Asia/Shanghai) per unit of ``org_units``, by unit id: the
    non-cancelled shifts of the posts in the unit's subtree (the unit included) that touch
    the day, with the names of the staff and of the leaders on duty. For the "day's work" of
    the daily report; the system's read (no user: the caller has scoped ``org_units``).
    Two queries whatever the number of units."""
    units = list(org_units)
    if not units:
        return {}
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    under = Q(pk__in=[])
    for unit in units:
        under |= Q(post__unit__path__startswith=unit.path)
    shifts = list(
        Shift.objects.filter(under, is_cancelled=False, start__lt=end, end__gt=start)
        .select_related("leader", "post__unit")
        .prefetch_related(_members_prefetch())
        .order_by("start", "pk")
    )
    result: dict[int, DutyDay] = {}
    for unit in units:
        mine = [s for s in shifts if s.post.unit.path.startswith(unit.path)]
        names: list[str] = []
        leaders: list[str] = []
        for shift in mine:
            for member in shift.members.all():
                label = member_label(member)
                if label and label not in names:
                    names.append(label)
            leader = user_label(shift.leader)
            if leader and leader not in leaders:
                leaders.append(leader)
        result[unit.pk] = DutyDay(shifts=len(mine), names=tuple(names), leaders=tuple(leaders))
    return result


# ---------------------------------------------------------------------------------------------
# Who may be put on duty


def duty_users(actor: Any, unit: OrgUnit | None = None) -> QuerySet[User]:
    """The active users ``actor`` may put on duty: those holding a role in a unit of the
    actor's ``duty.manage`` scope (every user with a unit, for the system); with ``unit``,
    only those whose role's unit is inside ``unit``'s subtree or above it."""
    users = User.objects.filter(is_active=True)
    condition = Q(assignments__org_unit__isnull=False)
    if actor is not None:
        scope = scope_for(actor, Perm.DUTY_MANAGE)
        if scope.empty:
            return users.none()
        if not scope.everything:
            condition &= Q(
                assignments__org_unit__in=restrict(OrgUnit.objects.all(), actor, Perm.DUTY_MANAGE)
            )
    if unit is not None:
        condition &= Q(assignments__org_unit__path__startswith=unit.path) | Q(
            assignments__org_unit__path__in=ancestor_paths(unit.path)
        )
    return users.filter(condition).distinct().order_by("username")


def leader_candidates(unit: OrgUnit | None = None) -> QuerySet[User]:
    """The active users who may be the leader on duty: those holding the leader or the office
    role (with ``unit``, over a unit above it, the unit itself, or inside it)."""
    condition = Q(assignments__role__in=LEADER_ROLES)
    if unit is not None:
        condition &= Q(assignments__org_unit__path__startswith=unit.path) | Q(
            assignments__org_unit__path__in=ancestor_paths(unit.path)
        )
    return User.objects.filter(condition, is_active=True).distinct().order_by("username")


# ---------------------------------------------------------------------------------------------
# Pioneer posts


def pioneers_for(
    user: Any, *, unit: OrgUnit | None = None, include_inactive: bool = False
) -> QuerySet[PioneerPost]:
    """The pioneer posts ``user`` sees, with their members (leader first)."""
    qs = restrict(PioneerPost.objects.all(), user)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return (
        qs.select_related("unit", "post")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=PioneerMember.objects.select_related("person", "user").order_by(
                    "-is_leader", "name", "pk"
                ),
            )
        )
        .order_by("unit__path", "name", "pk")
    )


def pioneer_person_choices(actor: Any) -> QuerySet[Person]:
    """The persons of the register ``actor`` may make members of a pioneer post: those the
    actor sees (register) within the actor's ``duty.manage`` scope."""
    return restrict(
        restrict(Person.objects.filter(is_active=True), actor), actor, Perm.DUTY_MANAGE
    ).select_related("grid")
