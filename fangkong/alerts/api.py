"""API endpoints of the alerts inbox: list, read, acknowledge and resolve.

The contracts of :mod:`fangkong.org.api` hold here too: an alert outside the caller's scope
(its org unit, the person's grid) is 404; reading needs ``alerts.view`` and handling
``alerts.handle`` over the alert (403 otherwise); invalid input is a 422 naming the field;
lists are paginated and cost the same number of queries whatever their length.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError as ApiValidationError

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, restrict
from fangkong.org.api import (
    ERRORS,
    PageIn,
    PersonRef,
    UnitRef,
    _actor,
    _local,
    _name,
    _page,
    _ref,
    _require,
    _service_errors,
)
from fangkong.org.models import OrgUnit, User

from . import selectors, services
from .models import Alert, AlertKind, AlertLevel

router = Router(tags=["alerts"])


# ---------------------------------------------------------------------------------------------
# Schemas


class AlertOut(Schema):
    id: int
    kind: str = Field(description="fever, symptoms, missed_check, missed_visit, …")
    summary: str
    unit: UnitRef = Field(description="Where the alert belongs (the person's grid).")
    person: PersonRef | None
    object_type: str = Field(description="What the alert is about, e.g. observation.episode.")
    object_id: int | None
    data: dict[str, Any]
    raised_at: dt.datetime
    level: int = Field(description="0 the grid's people, 1 the unit head, 2 the office.")
    escalated_at: dt.datetime | None
    status: str
    acknowledged_at: dt.datetime | None
    acknowledged_by: str
    resolved_at: dt.datetime | None
    resolved_by: str
    note: str


class AlertPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlertOut]


class AlertQuery(PageIn):
    status: Literal["open", "acknowledged", "resolved", "unhandled"] | None = Field(
        None, description="'unhandled': open or acknowledged."
    )
    kind: AlertKind | None = None
    level: AlertLevel | None = Field(None, description="At this level or above.")
    unit_id: int | None = Field(None, description="An org unit: alerts in its subtree.")


class AcknowledgeIn(Schema):
    note: str = ""


class ResolveIn(Schema):
    note: str = Field(description="What was done (required).")


# ---------------------------------------------------------------------------------------------
# Helpers


def _alert_out(alert: Alert) -> dict[str, Any]:
    person = alert.person
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "summary": alert.summary,
        "unit": _ref(alert.unit),
        "person": {"id": person.pk, "name": person.name} if person is not None else None,
        "object_type": alert.object_type,
        "object_id": alert.object_id,
        "data": alert.data or {},
        "raised_at": _local(alert.raised_at),
        "level": alert.level,
        "escalated_at": _local(alert.escalated_at),
        "status": alert.status,
        "acknowledged_at": _local(alert.acknowledged_at),
        "acknowledged_by": _name(alert.acknowledged_by),
        "resolved_at": _local(alert.resolved_at),
        "resolved_by": _name(alert.resolved_by),
        "note": alert.note,
    }


# One alert with everything its answer names.
_ALERT = Alert.objects.select_related("unit", "person", "acknowledged_by", "resolved_by")


def _alerts(user: User, **filters: Any) -> QuerySet[Alert]:
    # The unit and the person come with the selector.
    return selectors.alerts_for(user, **filters).select_related("acknowledged_by", "resolved_by")


# ---------------------------------------------------------------------------------------------
# Endpoints


@router.get("/alerts", response={200: AlertPage, **ERRORS}, summary="List alerts")
def list_alerts(request: HttpRequest, filters: Query[AlertQuery]) -> dict[str, Any]:
    """The alerts of the caller's scope, newest first."""
    user = _actor(request)
    _require(user, Perm.ALERTS_VIEW)
    unit_path = ""
    if filters.unit_id is not None:
        unit = restrict(OrgUnit.objects.filter(is_active=True), user).filter(pk=filters.unit_id)
        found = unit.first()
        if found is None:
            raise ApiValidationError(
                [
                    {
                        "loc": ["query", "unit_id"],
                        "msg": _("No such org unit in your scope."),
                        "type": "value_error",
                    }
                ]
            )
        unit_path = found.path
    alerts = _alerts(
        user,
        status=filters.status or "",
        kind=filters.kind or "",
        level=filters.level,
        unit_path=unit_path,
    )
    return _page(alerts, filters, _alert_out)


@router.get("/alerts/{alert_id}", response={200: AlertOut, **ERRORS}, summary="Alert")
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    user = _actor(request)
    return _alert_out(get_scoped_or_404(_ALERT, user, alert_id))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response={200: AlertOut, **ERRORS},
    summary="Take an alert on",
)
def acknowledge_alert(
    request: HttpRequest, alert_id: int, payload: AcknowledgeIn
) -> dict[str, Any]:
    """The alert stops escalating; acknowledging it again changes nothing. Needs
    ``alerts.handle`` over the alert."""
    user = _actor(request)
    alert = get_scoped_or_404(
        Alert.objects.select_related("unit"), user, alert_id, Perm.ALERTS_HANDLE
    )
    with _service_errors({}):
        services.acknowledge_alert(actor=user, alert=alert, note=payload.note)
    return _alert_out(get_scoped_or_404(_ALERT, user, alert.pk))


@router.post(
    "/alerts/{alert_id}/resolve", response={200: AlertOut, **ERRORS}, summary="Resolve an alert"
)
def resolve_alert(request: HttpRequest, alert_id: int, payload: ResolveIn) -> dict[str, Any]:
    """Close the alert with a note saying what was done. Needs ``alerts.handle``."""
    user = _actor(request)
    alert = get_scoped_or_404(
        Alert.objects.select_related("unit"), user, alert_id, Perm.ALERTS_HANDLE
    )
    with _service_errors({}):
        services.resolve_alert(actor=user, alert=alert, note=payload.note)
    return _alert_out(get_scoped_or_404(_ALERT, user, alert.pk))
