"""Shared reads of the organisation and the register, always through the user's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from fangkong.core.models import SensitiveAccess
from fangkong.core.permissions import Perm
from fangkong.core.scoping import minimal_paths, restrict, scope_for
from fangkong.core.search import substring_filter

from .models import GridCount, Household, OrgUnit, Person, TimelineEvent


def units_for(user: Any, *, kind: str | None = None) -> QuerySet[OrgUnit]:
    qs = restrict(OrgUnit.objects.filter(is_active=True), user)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("path")


def _under(qs: QuerySet[Any], unit: OrgUnit | None, field: str = "grid") -> QuerySet[Any]:
    if unit is None:
        return qs
    return qs.filter(**{f"{field}__path__startswith": unit.path})


@dataclass(frozen=True)
class PersonFilters:
    q: str = ""
    unit: OrgUnit | None = None  # any node: its whole subtree
    category: str = ""
    status: str = ""
    lacks_id: bool = False
    household: Household | None = None


def persons_for(user: Any, filters: PersonFilters | None = None) -> QuerySet[Person]:
    f = filters or PersonFilters()
    qs = restrict(Person.objects.filter(is_active=True), user)
    qs = _under(qs, f.unit)
    if f.household is not None:
        qs = qs.filter(household=f.household)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.lacks_id:
        qs = qs.filter(id_number="")
    if f.q:
        qs = substring_filter(qs, f.q)
    return qs.select_related("grid", "grid__parent", "household").order_by("grid_id", "name", "pk")


@dataclass(frozen=True)
class HouseholdFilters:
    q: str = ""
    unit: OrgUnit | None = None


def households_for(user: Any, filters: HouseholdFilters | None = None) -> QuerySet[Household]:
    f = filters or HouseholdFilters()
    qs = restrict(Household.objects.filter(is_active=True), user)
    qs = _under(qs, f.unit)
    if f.q:
        qs = substring_filter(qs, f.q)
    return qs.select_related("grid", "grid__parent", "head").order_by("grid_id", "address", "pk")


def attach_member_counts(households: Sequence[Household]) -> None:
    """Set ``member_count`` on each household of a page, in one query. (Counting in the list
    query itself would count every household in scope before the first page is cut.)"""
    counts = dict(
        Person.objects.filter(household__in=[h.pk for h in households], is_active=True)
        .values_list("household")
        .annotate(n=Count("pk"))
        .values_list("household", "n")
    )
    for household in households:
        household.member_count = counts.get(household.pk, 0)  # type: ignore[attr-defined]


def home_counts(user: Any) -> dict[str, int]:
    """The figures on the home page, all within the user's scope. Households and persons
    (living there: moved out not counted) are summed from the grids' kept counts; those under
    observation and without an ID number are counted from their indexes."""
    units = units_for(user).aggregate(
        units=Count("pk", filter=Q(kind=OrgUnit.Kind.UNIT)),
        grids=Count("pk", filter=Q(kind=OrgUnit.Kind.GRID)),
    )
    kept = GridCount.objects.filter(
        grid__in=restrict(OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID), user).values("pk")
    ).aggregate(households=Sum("households"), persons=Sum("persons"))
    persons = restrict(Person.objects.filter(is_active=True), user)
    return {
        "units": units["units"],
        "grids": units["grids"],
        "households": kept["households"] or 0,
        "persons": kept["persons"] or 0,
        "under_observation": persons.filter(status=Person.Status.UNDER_OBSERVATION).count(),
        "lacks_id": persons.filter(id_number="").count(),
    }


def attach_subtree_counts(user: Any, units: Sequence[OrgUnit]) -> None:
    """Set ``household_count`` and ``person_count`` on each unit: the active ones in its whole
    subtree that the user may see. Three queries for any number of units: the grids below
    them, then households and persons counted per grid (through the grid index) and added up
    the tree along the materialised paths."""
    if not units:
        return
    within = Q(pk__in=[])
    for path in minimal_paths({u.path for u in units}):
        within |= Q(path__startswith=path)
    grids = OrgUnit.objects.filter(within, kind=OrgUnit.Kind.GRID)
    ancestors = {
        pk: [int(a) for a in path.strip("/").split("/")]
        for pk, path in grids.values_list("pk", "path")
    }
    totals: dict[str, dict[int, int]] = {}
    for name, model in (("households", Household), ("persons", Person)):
        per_grid = (
            restrict(model.objects.filter(is_active=True), user)
            .filter(grid__in=grids.values("pk"))
            .values_list("grid_id")
            .annotate(n=Count("pk"))
            .values_list("grid_id", "n")
        )
        sums: dict[int, int] = {}
        for grid_id, n in per_grid:
            for ancestor in ancestors.get(grid_id, ()):
                sums[ancestor] = sums.get(ancestor, 0) + n
        totals[name] = sums
    for unit in units:
        unit.household_count = totals["households"].get(unit.pk, 0)  # type: ignore[attr-defined]
        unit.person_count = totals["persons"].get(unit.pk, 0)  # type: ignore[attr-defined]


def timeline_for(person: Person) -> QuerySet[TimelineEvent]:
    return person.timeline.select_related("actor").order_by("-occurred_at", "-id")


@dataclass
class HistoryEntry:
    at: Any
    user: Any
    kind: str
    changes: list[tuple[str, str, str]]


def audit_trail(obj: Any, *, masked: dict[str, Any]) -> list[HistoryEntry]:
    """The record's audit trail (before → after), newest first. Personal numbers are masked,
    choices shown by their label and linked records by name (one query per linked model)."""
    records = list(
        obj.history.select_related("history_user").order_by("-history_date", "-history_id")[:200]
    )
    raw: list[tuple[Any, list[tuple[Any, Any, Any]]]] = []
    linked: dict[Any, set[Any]] = {}
    for index, record in enumerate(records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None:
            for change in record.diff_against(previous).changes:
                field = obj._meta.get_field(change.field)
                if field.many_to_one:
                    linked.setdefault(field.related_model, set()).update(
                        v for v in (change.old, change.new) if v is not None
                    )
                changes.append((field, change.old, change.new))
        raw.append((record, changes))
    names = {
        model: {o.pk: str(o) for o in model._default_manager.filter(pk__in=pks)}
        for model, pks in linked.items()
    }

    def show(field: Any, value: Any) -> str:
        if field.name in masked:
            return _plain(masked[field.name](value or ""))
        if field.many_to_one and value is not None:
            return names[field.related_model].get(value, f"#{value}")
        if field.choices and value is not None:
            return str(dict(field.flatchoices).get(value, value))
        return _plain(value)

    return [
        HistoryEntry(
            at=record.history_date,
            user=record.history_user,
            kind=record.get_history_type_display(),
            changes=[(str(f.verbose_name), show(f, old), show(f, new)) for f, old, new in changes],
        )
        for record, changes in raw
    ]


def sensitive_accesses(object_type: str, object_id: int) -> QuerySet[SensitiveAccess]:
    """Who saw or exported the full personal numbers of a record, newest first."""
    return (
        SensitiveAccess.objects.filter(object_type=object_type, object_id=object_id)
        .select_related("user")
        .order_by("-at", "-id")
    )


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


def can(user: Any, perm: Perm) -> bool:
    return not scope_for(user, perm).empty
