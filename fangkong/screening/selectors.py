"""Reads of the risk areas. Risk areas are national data, the same for every user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from fangkong.core.regions import ancestor_codes

from .models import SEVERITY, Region, RiskAreaPeriod, RiskLevel


def _in_force(day: dt.date) -> Q:
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def risk_level_on(region_code: str, day: dt.date) -> RiskLevel | None:
    """The risk level of the region ``region_code`` on ``day``: the most severe of the periods
    in force that day for the region, its prefecture and its province; None when none is."""
    levels = RiskAreaPeriod.objects.filter(
        _in_force(day), region_id__in=ancestor_codes(region_code)
    ).values_list("level", flat=True)
    worst = max(levels, key=lambda level: SEVERITY[level], default=None)
    return RiskLevel(worst) if worst is not None else None


_SEVERITY_ORDER = Case(
    *(When(level=level, then=Value(rank)) for level, rank in SEVERITY.items()),
    output_field=IntegerField(),
)


def risk_areas_current(day: dt.date) -> QuerySet[RiskAreaPeriod]:
    """The periods in force on ``day``, most severe first, then by region code."""
    return (
        RiskAreaPeriod.objects.filter(_in_force(day))
        .select_related("region", "region__parent", "region__parent__parent")
        .annotate(severity=_SEVERITY_ORDER)
        .order_by("-severity", "region_id")
    )


@dataclass(frozen=True)
class RiskPeriodFilters:
    q: str = ""  # region code (its start) or part of its name
    level: str = ""
    current_on: dt.date | None = None  # only the periods in force on that day


def risk_periods(filters: RiskPeriodFilters | None = None) -> QuerySet[RiskAreaPeriod]:
    """Current and past periods, newest first."""
    f = filters or RiskPeriodFilters()
    qs = RiskAreaPeriod.objects.all()
    if f.level:
        qs = qs.filter(level=f.level)
    if f.current_on is not None:
        qs = qs.filter(_in_force(f.current_on))
    if f.q:
        qs = qs.filter(region__in=regions_matching(f.q))
    return qs.select_related("region", "region__parent", "region__parent__parent", "set_by")


def regions_matching(query: str) -> QuerySet[Region]:
    """Regions whose code starts with ``query`` or whose name contains it."""
    query = query.strip()
    if query.isdigit():
        return Region.objects.filter(code__startswith=query)
    return Region.objects.filter(name__icontains=query)


def open_period(region: Region) -> RiskAreaPeriod | None:
    return RiskAreaPeriod.objects.filter(region=region, end__isnull=True).first()
