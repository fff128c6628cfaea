"""Reads of alerts shared by pages, the API and the home page: always through the scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from fangkong.core.scoping import restrict, restrict_newest_first

from .models import Alert, AlertLevel


def alerts_for(
    user: Any,
    *,
    status: str = "",
    kind: str = "",
    level: int | None = None,
    unit_path: str = "",
) -> QuerySet[Alert]:
    """The alerts the user may see, newest first, filtered."""
    alerts = restrict_newest_first(Alert.objects.all(), user)
    if status == "unhandled":
        alerts = alerts.exclude(status=Alert.Status.RESOLVED)
    elif status:
        alerts = alerts.filter(status=status)
    if kind:
        alerts = alerts.filter(kind=kind)
    if level is not None:
        alerts = alerts.filter(level__gte=level)
    if unit_path:
        alerts = alerts.filter(unit__path__startswith=unit_path)
    return alerts.select_related("unit", "person").order_by("-raised_at", "-id")


@dataclass(frozen=True)
class AlertCounts:
    open: int
    acknowledged: int
    escalated: int  # open and escalated to the unit head or above


def alert_counts(user: Any) -> AlertCounts:
    """Open and acknowledged alerts in the user's scope, in one query."""
    figures = restrict(Alert.objects.exclude(status=Alert.Status.RESOLVED), user).aggregate(
        open=Count("pk", filter=Q(status=Alert.Status.OPEN)),
        acknowledged=Count("pk", filter=Q(status=Alert.Status.ACKNOWLEDGED)),
        escalated=Count("pk", filter=Q(status=Alert.Status.OPEN, level__gte=AlertLevel.UNIT)),
    )
    return AlertCounts(**figures)
