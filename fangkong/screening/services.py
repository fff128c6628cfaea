"""Every write to the risk areas: each call validates, checks the permission and runs in one
transaction; the audit trail (simple-history) is attributed to the actor."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm

from .models import Region, RiskAreaPeriod, RiskLevel

if TYPE_CHECKING:
    from fangkong.org.models import User


def _check_manage(actor: Any) -> None:
    """403 unless ``actor`` may manage risk areas (``None`` is the system itself)."""
    if actor is not None and not has_perm(actor, Perm.RISK_AREAS_MANAGE):
        raise PermissionDenied


def _history_actor(obj: Any, actor: Any) -> None:
    if actor is not None and getattr(actor, "pk", None) is not None and actor.is_authenticated:
        obj._history_user = actor


def _day(value: dt.date) -> str:
    return value.isoformat()


@transaction.atomic
def set_risk_level(
    *,
    actor: User | None,
    region: Region,
    level: str,
    start: dt.date,
    end: dt.date | None = None,
    note: str = "",
) -> RiskAreaPeriod:
    """Declare ``region`` at ``level`` from ``start`` to ``end`` (both included; ``None``: until
    further notice).

    The periods of one region never overlap. An open period (no end) that started before
    ``start`` is closed on the day before ``start``; any other overlap (an open period starting
    on or after ``start``, or a closed period sharing a day) is refused with a ValidationError.
    """
    _check_manage(actor)
    if level not in RiskLevel.values:
        raise ValidationError({"level": _("Choose high, medium or low risk.")})
    if end is not None and end < start:
        raise ValidationError({"end": _("The end date cannot be before the start date.")})
    Region.objects.select_for_update().get(pk=region.pk)  # one change per region at a time
    periods = RiskAreaPeriod.objects.filter(region_id=region.pk)
    to_close = periods.filter(end__isnull=True, start__lt=start).first()
    others = periods.exclude(pk=to_close.pk) if to_close is not None else periods
    overlapping = others.filter(Q(end__isnull=True) | Q(end__gte=start))
    if end is not None:
        overlapping = overlapping.filter(start__lte=end)
    clash = overlapping.order_by("start").first()
    if clash is not None:
        raise ValidationError(
            {
                "start": _(
                    "%(region)s already has a period from %(start)s to %(end)s that overlaps "
                    "this one. End or change that period first."
                )
                % {
                    "region": region.name,
                    "start": _day(clash.start),
                    "end": _day(clash.end) if clash.end else _("today"),
                }
            }
        )
    if to_close is not None:
        to_close.end = start - dt.timedelta(days=1)
        _history_actor(to_close, actor)
        to_close.save(update_fields=["end"])
    period = RiskAreaPeriod(
        region_id=region.pk,
        level=level,
        start=start,
        end=end,
        note=note.strip(),
        set_by=actor if actor is not None and getattr(actor, "pk", None) is not None else None,
    )
    _history_actor(period, actor)
    period.save()
    return period


@transaction.atomic
def end_risk_period(*, actor: User | None, region: Region, end: dt.date) -> RiskAreaPeriod:
    """End the open period of ``region`` on ``end`` (the last day it holds)."""
    _check_manage(actor)
    period = (
        RiskAreaPeriod.objects.select_for_update()
        .filter(region_id=region.pk, end__isnull=True)
        .first()
    )
    if period is None:
        raise ValidationError({"end": _("%(region)s has no open period.") % {"region": region}})
    if end < period.start:
        raise ValidationError(
            {
                "end": _("The period started on %(start)s: it cannot end before.")
                % {"start": _day(period.start)}
            }
        )
    period.end = end
    _history_actor(period, actor)
    period.save(update_fields=["end"])
    return period
