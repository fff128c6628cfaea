"""Every write of alerts: raise (idempotent by key), acknowledge, resolve, escalate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, has_perm
from fangkong.core.services import attribute_history as _history_actor
from fangkong.org.models import OrgUnit, Person, User

from .models import Alert, AlertLevel, AlertRules

NOTE_MAX = 1000


def current_rules() -> AlertRules:
    rules = AlertRules.objects.filter(pk=AlertRules.SINGLETON_PK).first()
    return rules if rules is not None else AlertRules(pk=AlertRules.SINGLETON_PK)


def raise_alert(
    *,
    kind: str,
    key: str,
    unit: OrgUnit,
    summary: str,
    at: dt.datetime,
    person: Person | None = None,
    object_type: str = "",
    object_id: int | None = None,
    url: str = "",
    data: dict[str, Any] | None = None,
) -> tuple[Alert, bool]:
    """The alert for ``key``, raised now unless it already exists (then it is returned as it
    is, whatever its status: an alert handled once is not raised again). Returns (alert,
    created)."""
    existing = Alert.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    alert = Alert(
        kind=kind,
        key=key,
        unit=unit,
        person=person,
        object_type=object_type,
        object_id=object_id,
        url=url,
        summary=summary[:300],
        data=data or {},
        raised_at=at,
    )
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError:  # raised at the same moment by another process
        return Alert.objects.get(key=key), False
    return alert, True


def _clean_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError(
            {"note": _("Say what was done, e.g. 'Called the household: 36.8 °C on re-check'.")}
        )
    if len(note) > NOTE_MAX:
        raise ValidationError(
            {"note": _("Keep the note under %(max)d characters.") % {"max": NOTE_MAX}}
        )
    return note


def _locked(alert: Alert, actor: Any) -> Alert:
    locked = Alert.objects.select_for_update().select_related("unit").get(pk=alert.pk)
    if actor is not None:
        check_perm_on(actor, Perm.ALERTS_HANDLE, locked)
    return locked


@transaction.atomic
def acknowledge_alert(*, actor: User, alert: Alert, note: str = "") -> Alert:
    """Someone has taken the alert on: it stops escalating. A resolved alert stays resolved."""
    alert = _locked(alert, actor)
    if alert.status == Alert.Status.RESOLVED:
        raise ValidationError(_("This alert is already resolved."))
    if alert.status == Alert.Status.ACKNOWLEDGED:
        return alert
    alert.status = Alert.Status.ACKNOWLEDGED
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    note = _clean_note(note, required=False)
    if note:
        alert.note = note
    _history_actor(alert, actor)
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "note"])
    return alert


@transaction.atomic
def resolve_alert(*, actor: User | None, alert: Alert, note: str) -> Alert:
    """Close the alert with a note saying what was done (required)."""
    alert = _locked(alert, actor)
    if alert.status == Alert.Status.RESOLVED:
        raise ValidationError(_("This alert is already resolved."))
    note = _clean_note(note, required=True)
    now = timezone.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = actor
    alert.status = Alert.Status.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = actor
    alert.note = note
    _history_actor(alert, actor)
    alert.save()
    return alert


def escalate_due(*, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Move alerts nobody has acknowledged up a level once they are older than the rules
    allow: to the unit head, then to the office. Conditional updates, so running twice (or
    two schedulers at once) escalates each alert once per level. Returns how many moved."""
    rules = current_rules()
    moved = 0
    steps = (
        (AlertLevel.OFFICE, rules.escalate_to_office_minutes),
        (AlertLevel.UNIT, rules.escalate_to_unit_minutes),
    )
    for level, minutes in steps:
        cutoff = now - dt.timedelta(minutes=minutes)
        moved += Alert.objects.filter(
            status=Alert.Status.OPEN, level__lt=level, raised_at__lte=cutoff
        ).update(level=level, escalated_at=now)
    return moved


@transaction.atomic
def update_rules(*, actor: User | None, **values: Any) -> AlertRules:
    """Change when alerts escalate (the office: the observation rules' permission)."""
    if actor is not None and not has_perm(actor, Perm.OBSERVATION_MANAGE):
        raise PermissionDenied
    rules = AlertRules.objects.select_for_update().filter(pk=AlertRules.SINGLETON_PK).first()
    rules = rules or AlertRules(pk=AlertRules.SINGLETON_PK)
    for name, value in values.items():
        setattr(rules, name, value)
    if rules.escalate_to_office_minutes < rules.escalate_to_unit_minutes:
        raise ValidationError(
            {
                "escalate_to_office_minutes": _(
                    "Escalate to the office no sooner than to the unit head."
                )
            }
        )
    _history_actor(rules, actor)
    rules.save()
    return rules
