"""Shared reads of key-group control, always through the user's scope: the episode ledger,
the day rows of an episode (the detail page, 一人一表 and its .xlsx read the same rows), what
today still needs for a list of episodes, needs, care totals and the home page figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from fangkong.core.scoping import restrict, restrict_newest_first
from fangkong.core.search import substring_filter
from fangkong.org.models import OrgUnit, Person

from .models import (
    CareItem,
    CareItemKind,
    CareVisit,
    FollowUpVisit,
    Need,
    ObservationEpisode,
    PeriodPreset,
    Slot,
    TemperatureReading,
)
from .services import current_rules  # noqa: F401  (re-exported: the rules are read here too)

Status = ObservationEpisode.Status


@dataclass
class EpisodeFilters:
    q: str = ""  # part of the person's name, ID or phone
    status: str = ""  # an episode status; "ended" for all but active
    kind: str = ""
    reason: str = ""
    unit: OrgUnit | None = None
    due_by: dt.date | None = None  # active and planned to end on or before this day
    started_from: dt.date | None = None
    started_to: dt.date | None = None
    fever_on: dt.date | None = None  # with a fever reading that day
    no_visit_on: dt.date | None = None  # active that day without a follow-up visit


def episodes_for(user: Any, filters: EpisodeFilters | None = None) -> QuerySet[ObservationEpisode]:
    """The episodes the user may see, newest start first, filtered."""
    f = filters or EpisodeFilters()
    episodes = restrict_newest_first(ObservationEpisode.objects.all(), user)
    if f.q:
        episodes = episodes.filter(person__in=substring_filter(Person.objects.all(), f.q))
    if f.status == "ended":
        episodes = episodes.exclude(status=Status.ACTIVE)
    elif f.status:
        episodes = episodes.filter(status=f.status)
    if f.kind:
        episodes = episodes.filter(kind=f.kind)
    if f.reason:
        episodes = episodes.filter(reason=f.reason)
    if f.unit is not None:
        episodes = episodes.filter(person__grid__path__startswith=f.unit.path)
    if f.due_by is not None:
        episodes = episodes.filter(status=Status.ACTIVE, planned_end__lte=f.due_by)
    if f.started_from is not None:
        episodes = episodes.filter(start_date__gte=f.started_from)
    if f.started_to is not None:
        episodes = episodes.filter(start_date__lte=f.started_to)
    if f.fever_on is not None:
        episodes = episodes.filter(
            Exists(
                TemperatureReading.objects.filter(
                    episode=OuterRef("pk"), day=f.fever_on, is_fever=True
                )
            )
        )
    if f.no_visit_on is not None:
        episodes = episodes.filter(
            status=Status.ACTIVE, start_date__lte=f.no_visit_on, planned_end__gte=f.no_visit_on
        ).exclude(Exists(FollowUpVisit.objects.filter(episode=OuterRef("pk"), day=f.no_visit_on)))
    return episodes.select_related("person", "person__grid", "person__grid__parent").order_by(
        "-start_date", "-id"
    )


def active_episode(person: Person) -> ObservationEpisode | None:
    return person.episodes.filter(status=Status.ACTIVE).first()


def episodes_of_person(user: Any, person: Person) -> QuerySet[ObservationEpisode]:
    return restrict(ObservationEpisode.objects.filter(person=person), user).order_by(
        "-start_date", "-id"
    )


# ---------------------------------------------------------------------------------------------
# The day rows of one episode


@dataclass
class DayRow:
    """One day of an episode: 一人一表's row."""

    day: dt.date
    number: int  # day N of the period counted from ``counts_from``
    morning: TemperatureReading | None = None
    afternoon: TemperatureReading | None = None
    others: list[TemperatureReading] = field(default_factory=list)
    visits: list[FollowUpVisit] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    is_future: bool = False
    is_today: bool = False

    @property
    def readings(self) -> list[TemperatureReading]:
        return [r for r in (self.morning, self.afternoon) if r is not None] + self.others

    @property
    def symptoms(self) -> list[str]:
        seen: list[str] = []
        for reading in self.readings:
            seen.extend(code for code in reading.symptoms if code not in seen)
        return seen

    @property
    def has_fever(self) -> bool:
        return any(r.is_fever for r in self.readings)

    @property
    def missed_visit(self) -> bool:
        """A past day (or today) without a visit: visible on the page and the form."""
        return not self.is_future and not self.visits

    @property
    def abnormal(self) -> bool:
        return self.has_fever or bool(self.symptoms) or any(v.abnormal for v in self.visits)


def episode_days(episode: ObservationEpisode, *, today: dt.date | None = None) -> list[DayRow]:
    """One row per day from the start to the end (the planned end, or the day it ended),
    with both checks, other readings, the visits and the needs raised: three queries."""
    today = today or timezone.localdate()
    last = episode.ended_on or episode.planned_end
    rows: dict[dt.date, DayRow] = {}
    day = episode.start_date
    while day <= last:
        rows[day] = DayRow(
            day=day,
            number=(day - episode.counts_from).days,
            is_future=day > today,
            is_today=day == today,
        )
        day += dt.timedelta(days=1)
    for reading in episode.readings.select_related("taken_by").order_by("taken_at", "id"):
        row = rows.get(reading.day)
        if row is None:
            continue
        if reading.slot == Slot.MORNING and row.morning is None:
            row.morning = reading
        elif reading.slot == Slot.AFTERNOON and row.afternoon is None:
            row.afternoon = reading
        else:
            row.others.append(reading)
    for visit in episode.visits.select_related("visitor").order_by("visited_at", "id"):
        if visit.day in rows:
            rows[visit.day].visits.append(visit)
    for need in episode.needs_raised.order_by("raised_at", "id"):
        need_day = timezone.localtime(need.raised_at).date()
        if need_day in rows:
            rows[need_day].needs.append(need)
    return list(rows.values())


# ---------------------------------------------------------------------------------------------
# Today, for a page of episodes


@dataclass(frozen=True)
class TodayStatus:
    morning: Decimal | None
    afternoon: Decimal | None
    fever: bool
    visited: bool


def today_status(
    episodes: Sequence[ObservationEpisode], day: dt.date | None = None
) -> dict[int, TodayStatus]:
    """For each episode (a page of them), the day's morning and afternoon readings and
    whether it has had its visit: two queries whatever the number of episodes."""
    day = day or timezone.localdate()
    ids = [e.pk for e in episodes]
    readings: dict[int, dict[str, Decimal]] = defaultdict(dict)
    fevers: set[int] = set()
    for episode_id, slot, value, fever in (
        TemperatureReading.objects.filter(episode_id__in=ids, day=day)
        .order_by("taken_at", "id")
        .values_list("episode_id", "slot", "value", "is_fever")
    ):
        readings[episode_id].setdefault(slot, value)
        if fever:
            fevers.add(episode_id)
    visited = set(
        FollowUpVisit.objects.filter(episode_id__in=ids, day=day).values_list(
            "episode_id", flat=True
        )
    )
    return {
        pk: TodayStatus(
            morning=readings[pk].get(Slot.MORNING),
            afternoon=readings[pk].get(Slot.AFTERNOON),
            fever=pk in fevers,
            visited=pk in visited,
        )
        for pk in ids
    }


# ---------------------------------------------------------------------------------------------
# Needs, care, presets, figures


def needs_for(
    user: Any, *, status: str = "", episode: ObservationEpisode | None = None
) -> QuerySet[Need]:
    needs = restrict(Need.objects.all(), user)
    if status == "unresolved":
        needs = needs.exclude(status=Need.Status.RESOLVED)
    elif status:
        needs = needs.filter(status=status)
    if episode is not None:
        needs = needs.filter(episode=episode)
    return needs.select_related("episode__person", "assigned_to").order_by("-raised_at", "-id")


def care_visits_for(user: Any, *, household: Any = None) -> QuerySet[CareVisit]:
    visits = restrict(CareVisit.objects.all(), user)
    if household is not None:
        visits = visits.filter(household=household)
    return (
        visits.select_related("household", "household__grid")
        .prefetch_related("items__kind")
        .order_by("-visited_on", "-id")
    )


@dataclass(frozen=True)
class CareTotal:
    kind: CareItemKind
    quantity: Decimal
    households: int


def care_totals(user: Any, *, household: Any = None) -> tuple[list[CareTotal], int, int]:
    """Per item kind: the quantity given and to how many households, over the user's scope
    (or one household); plus the number of visits and of households visited."""
    visits = care_visits_for(user, household=household)
    items = (
        CareItem.objects.filter(visit__in=visits.values("pk"))
        .values("kind_id")
        .annotate(quantity=Sum("quantity"), households=Count("visit__household", distinct=True))
    )
    kinds = {k.pk: k for k in CareItemKind.objects.all()}
    totals = sorted(
        (CareTotal(kinds[row["kind_id"]], row["quantity"], row["households"]) for row in items),
        key=lambda t: (t.kind.order, t.kind.pk),
    )
    figures = visits.order_by().aggregate(
        visits=Count("pk"), households=Count("household", distinct=True)
    )
    return totals, figures["visits"], figures["households"]


def active_presets() -> QuerySet[PeriodPreset]:
    return PeriodPreset.objects.filter(is_active=True).order_by("order", "pk")


@dataclass(frozen=True)
class ObservationCounts:
    due_today: int  # running with the planned end today or earlier: release to decide
    fevers_today: int  # persons with a fever reading today


def observation_counts(user: Any, today: dt.date | None = None) -> ObservationCounts:
    """The home page figures of the user's scope, two queries that read only the rows they
    count (the running episodes due by their (status, planned_end) index, the day's fevers by
    their partial index): the number under observation is the register's (the person's
    status follows from their episodes), counted from the persons' status index."""
    today = today or timezone.localdate()
    due = restrict(
        ObservationEpisode.objects.filter(status=Status.ACTIVE, planned_end__lte=today), user
    ).count()
    fevers = (
        restrict(TemperatureReading.objects.filter(day=today, is_fever=True), user)
        .values("episode_id")
        .distinct()
        .count()
    )
    return ObservationCounts(due, fevers)


# ---------------------------------------------------------------------------------------------
# Key persons to put under observation (the bulk start)


def key_screenings(
    user: Any, *, startable: bool = False, q: str = "", unit: OrgUnit | None = None
) -> QuerySet[Any]:
    """Key screening results (arrival from a risk area, close contact…) of active persons
    the user may both see in the screening ledger and put under observation. With
    ``startable``, only the latest key result of each person who is not under observation
    and has had no episode since that result: the bulk start's list, newest first."""
    from fangkong.core.permissions import Perm
    from fangkong.screening.models import Screening
    from fangkong.screening.selectors import LedgerFilters, screenings_for

    found = screenings_for(user, LedgerFilters(key_only=True, q=q, unit=unit)).filter(
        person__is_active=True,
        person__in=restrict(Person.objects.all(), user, Perm.OBSERVATION_RECORD).values("pk"),
    )
    if not startable:
        return found
    newer = Screening.objects.filter(person=OuterRef("person"), is_key=True).filter(
        Q(screened_at__gt=OuterRef("screened_at"))
        | Q(screened_at=OuterRef("screened_at"), pk__gt=OuterRef("pk"))
    )
    since = ObservationEpisode.objects.filter(person=OuterRef("person")).filter(
        Q(status=Status.ACTIVE)
        | Q(created_at__gte=OuterRef("screened_at"))
        | Q(screening=OuterRef("pk"))
    )
    return found.exclude(Exists(newer)).exclude(Exists(since))
