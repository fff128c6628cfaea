"""The shared reads of the checkpoints and their entry log, always through the user's scope.

The log is read newest first from the indexes of :class:`~fangkong.checkpoints.models.Entry`
((-at, -id), (unit, -at, -id), (checkpoint, -at, -id), (plate, -at) and the flagged entries'
partial index); a day range becomes a range of times, so that the same index serves the
range and the order. The daily counts are one grouped query.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from fangkong.alerts.models import Alert
from fangkong.core.permissions import Perm
from fangkong.core.scoping import restrict, restrict_newest_first, scope_for
from fangkong.core.validators import PLATE_PROVINCES, clean_plate
from fangkong.org.models import OrgUnit, Person
from fangkong.org.selectors import PersonFilters, persons_for

from ..models import Checkpoint, Entry

# Persons offered by the gate's search as one types: a phone screen of big tap targets.
MATCH_LIMIT = 8
# Shorter queries match too much to be useful (and cannot use the trigram index).
MATCH_MIN_LENGTH = 2


def checkpoints_for(user: Any, *, active: bool | None = None) -> QuerySet[Checkpoint]:
    """The checkpoints the user may see, by unit and name."""
    checkpoints = restrict(Checkpoint.objects.all(), user)
    if active is not None:
        checkpoints = checkpoints.filter(is_active=active)
    return checkpoints.select_related("unit").order_by("unit__path", "name", "pk")


def recordable_checkpoints(user: Any) -> QuerySet[Checkpoint]:
    """The active checkpoints where the user may log entries."""
    return restrict(
        Checkpoint.objects.filter(is_active=True), user, Perm.CHECKPOINTS_RECORD
    ).select_related("unit")


# ---------------------------------------------------------------------------------------------
# The log


@dataclass(frozen=True)
class EntryFilters:
    checkpoint: Checkpoint | None = None
    day_from: dt.date | None = None
    day_to: dt.date | None = None
    direction: str = ""
    flagged: bool = False
    fever: bool = False
    plate: str = ""  # a whole plate, its start (甘G12) or any part of it


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Asia/Shanghai."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _plate_filter(entries: QuerySet[Entry], text: str) -> QuerySet[Entry]:
    """A whole plate is found by the plate index; its start too (a range of the index on
    SQLite, whose text order is the bytes'); any other part by a scan of the rows the other
    filters leave."""
    wanted = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    if not wanted:
        return entries
    try:
        return entries.filter(plate=clean_plate(wanted))
    except ValidationError:  # not a whole plate: a part of one
        pass
    if wanted[0] in PLATE_PROVINCES:
        if connection.vendor == "sqlite":
            return entries.filter(plate__gte=wanted, plate__lt=wanted + "\U0010ffff")
        return entries.filter(plate__startswith=wanted)
    return entries.filter(plate__contains=wanted)


def scoped_entries(user: Any) -> QuerySet[Entry]:
    """The entries the user may see, in the shape the log reads fastest newest first.

    An entry's unit is its checkpoint's, never a grid (a checkpoint belongs to a unit or a
    branch). So a scope holding one such unit (a unit head's, a checkpoint operator's) is
    ``unit_id = X``: the (unit, -at, -id) index gives the newest rows in order whatever the
    planner's statistics say (with ``unit_id IN`` or a join to the units, SQLite without
    fresh statistics collects a unit's every entry and sorts them: 0.35 s at 1,000,000).
    The whole organisation needs no condition; a scope of several units is read through the
    join to the units (:func:`fangkong.core.scoping.restrict_newest_first`)."""
    scope = scope_for(user, Perm.CHECKPOINTS_VIEW)
    if scope.everything or scope.whole_tree or scope.empty:
        return restrict(Entry.objects.all(), user)
    units = list(
        restrict(
            OrgUnit.objects.exclude(kind=OrgUnit.Kind.GRID), user, Perm.CHECKPOINTS_VIEW
        ).values_list("pk", flat=True)[:2]
    )
    if not units:
        return Entry.objects.none()
    if len(units) == 1:
        return Entry.objects.filter(unit_id=units[0])
    return restrict_newest_first(Entry.objects.all(), user)


def entries_for(user: Any, filters: EntryFilters | None = None) -> QuerySet[Entry]:
    """The entries the user may see, newest first, filtered."""
    f = filters or EntryFilters()
    entries = scoped_entries(user)
    if f.checkpoint is not None:
        entries = entries.filter(checkpoint=f.checkpoint)
    if f.day_from is not None:
        entries = entries.filter(at__gte=day_start(f.day_from))
    if f.day_to is not None:
        entries = entries.filter(at__lt=day_start(f.day_to + dt.timedelta(days=1)))
    if f.direction:
        entries = entries.filter(direction=f.direction)
    if f.flagged or f.fever:
        # A fever always flags: the flagged entries' partial index serves both.
        entries = entries.filter(is_flagged=True)
    if f.fever:
        entries = entries.filter(has_fever=True)
    if f.plate:
        entries = _plate_filter(entries, f.plate)
    return entries.select_related("checkpoint", "from_region").order_by("-at", "-id")


def recent_entries(checkpoint: Checkpoint, day: dt.date, limit: int = 10) -> list[Entry]:
    """The last entries of ``checkpoint`` on ``day``, newest first (the gate page's list)."""
    return list(
        Entry.objects.filter(checkpoint=checkpoint, day=day)
        .select_related("from_region")
        .order_by("-at", "-id")[:limit]
    )


# ---------------------------------------------------------------------------------------------
# Counts


@dataclass
class Counts:
    """What passed a checkpoint (or several) in a day (or several)."""

    entries: int = 0
    persons: int = 0
    vehicles: int = 0
    fevers: int = 0  # entries with someone at or above the fever threshold
    flagged: int = 0

    def add(self, other: Counts) -> None:
        self.entries += other.entries
        self.persons += other.persons
        self.vehicles += other.vehicles
        self.fevers += other.fevers
        self.flagged += other.flagged


COUNT_FIELDS = ("entries", "persons", "vehicles", "fevers", "flagged")


def _count_aggregates() -> dict[str, Any]:
    return {
        "entries": Count("pk"),
        "persons": Coalesce(Sum("people_count"), 0),
        "vehicles": Count("pk", filter=~Q(plate="")),
        "fevers": Count("pk", filter=Q(has_fever=True)),
        "flagged": Count("pk", filter=Q(is_flagged=True)),
    }


def _counts(row: dict[str, Any]) -> Counts:
    return Counts(**{name: row[name] or 0 for name in COUNT_FIELDS})


def counts_by_checkpoint(checkpoint_ids: list[int], day: dt.date) -> dict[int, Counts]:
    """The day's counts of each checkpoint (already scoped by the caller), in one query."""
    if not checkpoint_ids:
        return {}
    rows = (
        Entry.objects.filter(checkpoint_id__in=checkpoint_ids, day=day)
        .values("checkpoint_id")
        .annotate(**_count_aggregates())
        .order_by()
    )
    return {row["checkpoint_id"]: _counts(row) for row in rows}


@dataclass
class CountRow:
    """One checkpoint on one day."""

    day: dt.date
    checkpoint_id: int
    checkpoint: str
    unit: str
    counts: Counts


@dataclass
class DailyCounts:
    rows: list[CountRow] = field(default_factory=list)
    total: Counts = field(default_factory=Counts)


def daily_counts(
    user: Any,
    day_from: dt.date,
    day_to: dt.date,
    *,
    checkpoint: Checkpoint | None = None,
) -> DailyCounts:
    """Per checkpoint per day (newest day first, then by unit and checkpoint) from
    ``day_from`` to ``day_to``: entries, persons, vehicles, fevers and flagged entries, in
    one grouped query; only the days with entries are listed."""
    entries = restrict(Entry.objects.all(), user).filter(day__gte=day_from, day__lte=day_to)
    if checkpoint is not None:
        entries = entries.filter(checkpoint=checkpoint)
    grouped = (
        entries.values(
            "day",
            "checkpoint_id",
            "checkpoint__name",
            "checkpoint__unit__name",
            "checkpoint__unit__path",
        )
        .annotate(**_count_aggregates())
        .order_by("-day", "checkpoint__unit__path", "checkpoint__name", "checkpoint_id")
    )
    result = DailyCounts()
    for row in grouped:
        counts = _counts(row)
        result.rows.append(
            CountRow(
                day=row["day"],
                checkpoint_id=row["checkpoint_id"],
                checkpoint=row["checkpoint__name"],
                unit=row["checkpoint__unit__name"],
                counts=counts,
            )
        )
        result.total.add(counts)
    return result


# ---------------------------------------------------------------------------------------------
# The gate's person search


def match_persons(user: Any, query: str, limit: int = MATCH_LIMIT) -> list[Person]:
    """Persons of the register the user may see whose name, ID number or phone holds
    ``query`` (a part is enough), through the register's substring index: at most
    ``limit``. Too short a query matches nobody."""
    query = " ".join(query.split())
    if len(query) < MATCH_MIN_LENGTH:
        return []
    return list(persons_for(user, PersonFilters(q=query))[:limit])


def alert_key(entry_id: int) -> str:
    """The key of the alert a flagged entry raises (one per entry)."""
    return f"entry:{entry_id}"


def alert_of(entry: Entry) -> Alert | None:
    """The alert a flagged entry raised; None for an entry not flagged (no query)."""
    if not entry.is_flagged:
        return None
    return Alert.objects.filter(key=alert_key(entry.pk)).first()
