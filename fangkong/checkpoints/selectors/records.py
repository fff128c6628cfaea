"""The shared reads of the records: places to disinfect (with when each is due and whether it
is overdue), the disinfection log and the publicity records, all in the user's scope.

When a place is due is computed by the database from the place's own row (its latest
disinfection time, kept by the services, or its creation; plus 24 h ÷ times a day): listing
the overdue places never reads the disinfections. The rule itself is
:mod:`fangkong.checkpoints.rules_records`; this is the same rule as an SQL expression."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from fangkong.core.permissions import Perm
from fangkong.core.scoping import restrict
from fangkong.observation.rules import day_end
from fangkong.org.models import OrgUnit

from ..models import Disinfection, DisinfectionPlace, PublicityRecord
from ..rules_records import MAX_TIMES_PER_DAY, MIN_TIMES_PER_DAY, interval


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The aware start (00:00) and end (the next 00:00) of ``day`` in Asia/Shanghai."""
    return day_end(day - dt.timedelta(days=1)), day_end(day)


def due_expression() -> Case:
    """``due`` of a place as SQL: its anchor (latest disinfection, else creation) plus its
    interval, one branch per frequency (1 to 24 a day), on SQLite and PostgreSQL alike."""
    anchor = Coalesce(F("last_done_at"), F("created_at"))
    return Case(
        *(
            When(
                times_per_day=times,
                then=ExpressionWrapper(
                    anchor + Value(interval(times), output_field=DurationField()),
                    output_field=DateTimeField(),
                ),
            )
            for times in range(MIN_TIMES_PER_DAY, MAX_TIMES_PER_DAY + 1)
        ),
        default=None,
        output_field=DateTimeField(),
    )


def with_due(places: QuerySet[DisinfectionPlace], now: dt.datetime) -> QuerySet[DisinfectionPlace]:
    """``places`` annotated with ``due`` (when each is due again) and ``overdue`` (active and
    due before ``now``: exactly at its due time a place is not overdue yet)."""
    return places.annotate(due=due_expression()).annotate(
        overdue=Case(
            When(Q(is_active=True, due__lt=now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def places_for(
    user: Any,
    *,
    unit: OrgUnit | None = None,
    q: str = "",
    active: bool | None = True,
    overdue: bool = False,
    perm: Perm | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[DisinfectionPlace]:
    """The places in the user's scope (where they hold ``perm``; ``duty.view`` by default),
    in ``unit``'s subtree, whose name or location contains ``q``; active ones only by default
    (``active=None``: all). Annotated with ``due`` and ``overdue``; the overdue ones first
    (the longest overdue first), then by due time; inactive ones last."""
    now = now or timezone.now()
    places = DisinfectionPlace.objects.all()
    if active is not None:
        places = places.filter(is_active=active)
    if unit is not None:
        places = places.filter(unit__path__startswith=unit.path)
    q = (q or "").strip()
    if q:
        places = places.filter(Q(name__icontains=q) | Q(location__icontains=q))
    places = with_due(restrict(places, user, perm), now)
    if overdue:
        places = places.filter(overdue=True)  # type: ignore[misc]  # the annotation above
    return places.select_related("unit").order_by("-is_active", "due", "name", "pk")


def overdue_places(
    user: Any, *, unit: OrgUnit | None = None, now: dt.datetime | None = None
) -> QuerySet[DisinfectionPlace]:
    """The active places in the user's scope that are overdue at ``now``, longest overdue
    first (read from the places alone)."""
    return places_for(user, unit=unit, overdue=True, now=now)


@dataclass(frozen=True)
class LogFilters:
    """The disinfection log's filters: a unit's subtree, one place, and days (inclusive, in
    Asia/Shanghai)."""

    unit: OrgUnit | None = None
    place: DisinfectionPlace | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    q: str = ""


def disinfections_for(user: Any, filters: LogFilters | None = None) -> QuerySet[Disinfection]:
    """The disinfections in the user's scope, newest first, with their place and unit."""
    filters = filters or LogFilters()
    records = Disinfection.objects.all()
    if filters.place is not None:
        records = records.filter(place=filters.place)
    if filters.unit is not None:
        records = records.filter(place__unit__path__startswith=filters.unit.path)
    if filters.start is not None:
        records = records.filter(done_at__gte=day_bounds(filters.start)[0])
    if filters.end is not None:
        records = records.filter(done_at__lt=day_bounds(filters.end)[1])
    q = (filters.q or "").strip()
    if q:
        records = records.filter(
            Q(place__name__icontains=q) | Q(agent__icontains=q) | Q(done_by__icontains=q)
        )
    return (
        restrict(records, user)
        .select_related("place", "place__unit", "recorded_by")
        .order_by("-done_at", "-id")
    )


@dataclass(frozen=True)
class PublicityFilters:
    """The publicity list's filters: a unit's subtree, a kind, days (inclusive) and text."""

    unit: OrgUnit | None = None
    kind: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    q: str = ""


def publicity_for(user: Any, filters: PublicityFilters | None = None) -> QuerySet[PublicityRecord]:
    """The publicity records in the user's scope, newest day first, with their unit."""
    filters = filters or PublicityFilters()
    records = PublicityRecord.objects.all()
    if filters.unit is not None:
        records = records.filter(unit__path__startswith=filters.unit.path)
    if filters.kind:
        records = records.filter(kind=filters.kind)
    if filters.start is not None:
        records = records.filter(day__gte=filters.start)
    if filters.end is not None:
        records = records.filter(day__lte=filters.end)
    q = (filters.q or "").strip()
    if q:
        records = records.filter(Q(content__icontains=q) | Q(place__icontains=q))
    return restrict(records, user).select_related("unit", "recorded_by").order_by("-day", "-id")
