"""Every write of the records: the places to disinfect, each disinfection done, and the
publicity done.

Each call validates (a ``ValidationError`` names the field and says how to fix it), checks
the permission (``actor=None`` is the system itself: a command, the demo) and runs in one
transaction; the audit trail (simple-history) is attributed to the actor.

- Places are set up by ``duty.manage`` (the office, a unit head) over the place's unit;
  disinfections and publicity are recorded by ``duty.record`` (also grid workers and
  checkpoint operators).
- A place keeps the time of its latest disinfection (``last_done_at``), so that the overdue
  list never reads the disinfections: a disinfection recorded for an earlier time does not
  move it back, a correction recomputes it from the place's records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.permissions import Perm
from fangkong.core.services import acting_user as _user
from fangkong.core.services import attribute_history as _history_actor
from fangkong.core.services import check_actor_on as _check_on
from fangkong.core.services import clean_text as _text
from fangkong.org.models import OrgUnit

from ..models import Disinfection, DisinfectionPlace, PublicityRecord
from ..rules_records import MAX_TIMES_PER_DAY, MIN_TIMES_PER_DAY

# A time this far ahead of the server's clock is a phone's clock running fast, not a
# disinfection done in the future.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# Older records are typing mistakes (a wrong year) rather than paper records caught up.
LOOKBACK = dt.timedelta(days=31)
NAME_MAX = 80
LOCATION_MAX = 200
AGENT_MAX = 80
DONE_BY_MAX = 50
NOTE_MAX = 200
CONTENT_MAX = 2000
WHERE_MAX = 200
# People reached, copies or times: above this it is a typing mistake.
NUMBER_MAX = 10_000_000


def _active_unit(unit: OrgUnit | None) -> OrgUnit:
    if unit is None:
        raise ValidationError({"unit": _("Choose the unit the place belongs to.")})
    unit = OrgUnit.objects.get(pk=unit.pk)
    if not unit.is_active:
        raise ValidationError(
            {"unit": _("%(unit)s is no longer active: choose another unit.") % {"unit": unit.name}}
        )
    return unit


def _times_per_day(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        value = None
    try:
        number = int(value) if value is not None else None
    except ValueError:
        number = None
    if number is None or not MIN_TIMES_PER_DAY <= number <= MAX_TIMES_PER_DAY:
        raise ValidationError(
            {
                "times_per_day": _(
                    "Enter how many times a day the place is disinfected: a whole number from "
                    "%(min)d to %(max)d (2: every 12 hours)."
                )
                % {"min": MIN_TIMES_PER_DAY, "max": MAX_TIMES_PER_DAY}
            }
        )
    return number


def _day(value: dt.date) -> str:
    return value.isoformat()


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------
# Places to disinfect


def _clean_place(
    *, unit: OrgUnit | None, name: str, location: str, times_per_day: Any, place_id: int | None
) -> tuple[OrgUnit, str, str, int]:
    unit = _active_unit(unit)
    name = _text(name, "name", NAME_MAX, required=_("Name the place, e.g. 食堂 or 东门卡口."))
    location = _text(location, "location", LOCATION_MAX)
    times = _times_per_day(times_per_day)
    same = DisinfectionPlace.objects.filter(unit=unit, name=name)
    if place_id is not None:
        same = same.exclude(pk=place_id)
    if same.exists():
        raise ValidationError(
            {
                "name": _("%(unit)s already has a place called %(name)s: choose another name.")
                % {"unit": unit.name, "name": name}
            }
        )
    return unit, name, location, times


@transaction.atomic
def create_place(
    *,
    actor: Any,
    unit: OrgUnit,
    name: str,
    location: str = "",
    times_per_day: int = 2,
    at: dt.datetime | None = None,
) -> DisinfectionPlace:
    """Add a place to disinfect ``times_per_day`` times a day (1 to 24). Until its first
    disinfection it is due counted from now (``at``)."""
    if unit is not None:
        _check_on(actor, Perm.DUTY_MANAGE, unit)
    unit, name, location, times = _clean_place(
        unit=unit, name=name, location=location, times_per_day=times_per_day, place_id=None
    )
    place = DisinfectionPlace(
        unit=unit,
        name=name,
        location=location,
        times_per_day=times,
        created_at=at or timezone.now(),
    )
    _history_actor(place, actor)
    place.save()
    return place


def _locked_place(place: DisinfectionPlace) -> DisinfectionPlace:
    return DisinfectionPlace.objects.select_for_update().select_related("unit").get(pk=place.pk)


@transaction.atomic
def update_place(
    *,
    actor: Any,
    place: DisinfectionPlace,
    name: str,
    location: str = "",
    times_per_day: int = 2,
    unit: OrgUnit | None = None,
) -> DisinfectionPlace:
    """Change a place's name, location, frequency or unit (``duty.manage`` over the unit it
    is in and the one it moves to). Its disinfections stay with it."""
    place = _locked_place(place)
    _check_on(actor, Perm.DUTY_MANAGE, place.unit)
    target = unit if unit is not None else place.unit
    if target.pk != place.unit_id:
        _check_on(actor, Perm.DUTY_MANAGE, target)
    target, name, location, times = _clean_place(
        unit=target, name=name, location=location, times_per_day=times_per_day, place_id=place.pk
    )
    place.unit = target
    place.name = name
    place.location = location
    place.times_per_day = times
    _history_actor(place, actor)
    place.save()
    return place


@transaction.atomic
def deactivate_place(*, actor: Any, place: DisinfectionPlace) -> DisinfectionPlace:
    """Stop disinfecting a place (closed, no longer used): it leaves the overdue list and the
    record page; its disinfections are kept."""
    place = _locked_place(place)
    _check_on(actor, Perm.DUTY_MANAGE, place.unit)
    if not place.is_active:
        raise ValidationError(_("%(name)s is already inactive.") % {"name": place.name})
    place.is_active = False
    _history_actor(place, actor)
    place.save()
    return place


@transaction.atomic
def reactivate_place(*, actor: Any, place: DisinfectionPlace) -> DisinfectionPlace:
    """Put an inactive place back on the schedule (due counted from its last disinfection)."""
    place = _locked_place(place)
    _check_on(actor, Perm.DUTY_MANAGE, place.unit)
    if place.is_active:
        raise ValidationError(_("%(name)s is active already.") % {"name": place.name})
    if not place.unit.is_active:
        raise ValidationError(
            {
                "unit": _("%(unit)s is no longer active: move the place to another unit first.")
                % {"unit": place.unit.name}
            }
        )
    place.is_active = True
    _history_actor(place, actor)
    place.save()
    return place


# ---------------------------------------------------------------------------------------------
# Disinfections


def _done_at(value: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if value is None:
        return now
    if not isinstance(value, dt.datetime):
        raise ValidationError({"done_at": _("Enter the date and time, e.g. 2020-02-01 08:30.")})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError(
            {
                "done_at": _(
                    "%(time)s is in the future: enter when the disinfection was done (now or "
                    "earlier)."
                )
                % {"time": _local(value)}
            }
        )
    if value < now - LOOKBACK:
        raise ValidationError(
            {
                "done_at": _(
                    "%(time)s is more than %(days)d days ago: check the date (records are kept "
                    "for the last %(days)d days)."
                )
                % {"time": _local(value), "days": LOOKBACK.days}
            }
        )
    return value


def _done_by(value: str, actor: Any) -> str:
    done_by = str(value or "").strip()
    user = _user(actor)
    if not done_by and user is not None:
        done_by = user.get_full_name() or user.get_username()
    return _text(done_by, "done_by", DONE_BY_MAX, required=_("Name who did it, e.g. 王芳."))


def _clean_disinfection(
    *, done_at: dt.datetime | None, agent: str, done_by: str, note: str, actor: Any
) -> tuple[dt.datetime, str, str, str]:
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    checks = (
        ("done_at", lambda: _done_at(done_at, now)),
        (
            "agent",
            lambda: _text(
                agent, "agent", AGENT_MAX, required=_("Name the disinfectant, e.g. 84消毒液 1:100.")
            ),
        ),
        ("done_by", lambda: _done_by(done_by, actor)),
        ("note", lambda: _text(note, "note", NOTE_MAX)),
    )
    for name, check in checks:
        try:
            cleaned[name] = check()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return cleaned["done_at"], cleaned["agent"], cleaned["done_by"], cleaned["note"]


def _move_last_done(place_id: int, done_at: dt.datetime) -> None:
    """Set the place's latest disinfection time to ``done_at`` unless it has a later one
    (one conditional update: two records at once never move it back)."""
    DisinfectionPlace.objects.filter(pk=place_id).filter(
        Q(last_done_at__isnull=True) | Q(last_done_at__lt=done_at)
    ).update(last_done_at=done_at)


@transaction.atomic
def record_disinfection(
    *,
    actor: Any,
    place: DisinfectionPlace,
    agent: str,
    done_at: dt.datetime | None = None,
    done_by: str = "",
    note: str = "",
) -> Disinfection:
    """Record a disinfection of ``place`` (``duty.record`` over its unit): when (now by
    default; not in the future, not more than a month ago), with what, by whom (the user's
    name by default) and a note. The place's latest time moves forward, never back."""
    place = DisinfectionPlace.objects.select_related("unit").get(pk=place.pk)
    _check_on(actor, Perm.DUTY_RECORD, place.unit)
    if not place.is_active:
        raise ValidationError(
            {
                "place": _("%(name)s is inactive: ask for it to be reactivated first.")
                % {"name": place.name}
            }
        )
    when, agent, done_by, note = _clean_disinfection(
        done_at=done_at, agent=agent, done_by=done_by, note=note, actor=actor
    )
    record = Disinfection(
        place=place,
        done_at=when,
        agent=agent,
        done_by=done_by,
        note=note,
        recorded_by=_user(actor),
        created_at=timezone.now(),
    )
    _history_actor(record, actor)
    record.save()
    _move_last_done(place.pk, when)
    return record


@transaction.atomic
def correct_disinfection(
    *,
    actor: Any,
    disinfection: Disinfection,
    agent: str,
    done_at: dt.datetime,
    done_by: str,
    note: str = "",
) -> Disinfection:
    """Correct a disinfection's time, disinfectant, who did it or note (``duty.record`` over
    the place's unit); the audit trail keeps what it was. The place's latest time is read
    again from its records (a correction may move it back)."""
    record = (
        Disinfection.objects.select_for_update(of=("self",))
        .select_related("place", "place__unit")
        .get(pk=disinfection.pk)
    )
    _check_on(actor, Perm.DUTY_RECORD, record.place.unit)
    when, agent, done_by, note = _clean_disinfection(
        done_at=done_at, agent=agent, done_by=done_by, note=note, actor=actor
    )
    record.done_at = when
    record.agent = agent
    record.done_by = done_by
    record.note = note
    _history_actor(record, actor)
    record.save()
    latest = Disinfection.objects.filter(place_id=record.place_id).aggregate(last=Max("done_at"))
    DisinfectionPlace.objects.filter(pk=record.place_id).update(last_done_at=latest["last"])
    return record


# ---------------------------------------------------------------------------------------------
# Publicity


def _number(value: Any, field: str, message: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError({field: message})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: message}) from None
    if not 0 <= number <= NUMBER_MAX:
        raise ValidationError({field: message})
    return number


def _clean_publicity(
    *,
    unit: OrgUnit | None,
    day: dt.date | None,
    kind: str,
    content: str,
    place: str,
    reach: Any,
    quantity: Any,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    today = timezone.localdate()

    def clean_unit() -> OrgUnit:
        if unit is None:
            raise ValidationError({"unit": _("Choose the unit that did it.")})
        return _active_unit(unit)

    def clean_day() -> dt.date:
        if not isinstance(day, dt.date):
            raise ValidationError({"day": _("Enter the date, e.g. 2020-02-01.")})
        if day > today:
            raise ValidationError(
                {
                    "day": _("%(day)s has not come yet: record publicity on its day or later.")
                    % {"day": _day(day)}
                }
            )
        return day

    def clean_kind() -> str:
        if kind not in PublicityRecord.Kind.values:
            raise ValidationError(
                {"kind": _("Choose the kind: notice, poster, broadcast, meeting, …")}
            )
        return kind

    checks = (
        ("unit", clean_unit),
        ("day", clean_day),
        ("kind", clean_kind),
        (
            "content",
            lambda: _text(
                content,
                "content",
                CONTENT_MAX,
                required=_("Say what was published, e.g. 致全场职工群众的一封信."),
            ),
        ),
        ("place", lambda: _text(place, "place", WHERE_MAX)),
        (
            "reach",
            lambda: _number(
                reach,
                "reach",
                _("Enter about how many people it reached: a whole number, or leave it empty."),
            ),
        ),
        (
            "quantity",
            lambda: _number(
                quantity,
                "quantity",
                _("Enter how many (posters, broadcasts…): a whole number, or leave it empty."),
            ),
        ),
    )
    for name, check in checks:
        try:
            cleaned[name] = check()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def create_publicity(
    *,
    actor: Any,
    unit: OrgUnit,
    day: dt.date,
    kind: str,
    content: str,
    place: str = "",
    reach: int | None = None,
    quantity: int | None = None,
) -> PublicityRecord:
    """Record publicity done (``duty.record`` over the unit): the day (not in the future),
    the kind, what was published, where, about how many people it reached and how many
    copies or times."""
    if unit is not None:
        _check_on(actor, Perm.DUTY_RECORD, unit)
    cleaned = _clean_publicity(
        unit=unit,
        day=day,
        kind=kind,
        content=content,
        place=place,
        reach=reach,
        quantity=quantity,
    )
    record = PublicityRecord(**cleaned, recorded_by=_user(actor), created_at=timezone.now())
    _history_actor(record, actor)
    record.save()
    return record


@transaction.atomic
def update_publicity(
    *,
    actor: Any,
    record: PublicityRecord,
    day: dt.date,
    kind: str,
    content: str,
    place: str = "",
    reach: int | None = None,
    quantity: int | None = None,
    unit: OrgUnit | None = None,
) -> PublicityRecord:
    """Correct a publicity record (``duty.record`` over its unit, and over the unit it moves
    to); the audit trail keeps what it was."""
    record = (
        PublicityRecord.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=record.pk)
    )
    _check_on(actor, Perm.DUTY_RECORD, record.unit)
    target = unit if unit is not None else record.unit
    if target.pk != record.unit_id:
        _check_on(actor, Perm.DUTY_RECORD, target)
    cleaned = _clean_publicity(
        unit=target,
        day=day,
        kind=kind,
        content=content,
        place=place,
        reach=reach,
        quantity=quantity,
    )
    for name, value in cleaned.items():
        setattr(record, name, value)
    _history_actor(record, actor)
    record.save()
    return record
