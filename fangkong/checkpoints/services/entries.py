"""Every write of the checkpoints and their entry log.

- Checkpoints: :func:`create_checkpoint`, :func:`update_checkpoint` (deactivating too) and
  :func:`set_operators`, by those who may manage checkpoints (the office).
- Entries: :func:`log_entry` records a person on foot or a vehicle with its occupants at a
  gate, with an idempotency key (a gate phone retrying on a bad network records once);
  :func:`correct_entry` fixes a typo, the audit trail keeping the value before.

A fever (at or above the observation rules' threshold) or an origin that is a high- or
medium-risk area on the day flags the entry: one alert (kind ``entry_fever`` or
``entry_risk_area``, for the checkpoint's unit), every flagged person put on the screening
workflow's new arrivals (when the origin is known), an outsider first registered in the
register, and an event on each flagged person's timeline. Everything an entry writes is one
transaction: all of it or nothing.

Each call validates and checks the permission (``actor=None`` is the system itself).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.alerts.models import Alert, AlertKind
from fangkong.alerts.services import raise_alert
from fangkong.core import fastpath
from fangkong.core.health import clean_symptoms, clean_temperature, symptom_labels
from fangkong.core.permissions import Perm
from fangkong.core.scoping import scope_for
from fangkong.core.services import acting_user as _user
from fangkong.core.services import attribute_history, clean_text
from fangkong.core.services import check_actor_on as _check_on
from fangkong.core.validators import clean_plate, validate_mobile, validate_resident_id
from fangkong.observation.services import current_rules as observation_rules
from fangkong.org import services as org_services
from fangkong.org.models import OrgUnit, Person, RoleAssignment, User
from fangkong.screening import services as screening_services
from fangkong.screening.models import Region, RiskLevel, Transport
from fangkong.screening.selectors import risk_level_on

from ..models import Checkpoint, Direction, Entry, EntryPerson
from ..selectors.entries import alert_key, alert_of

# An entry's time this far ahead of the server's clock is still "now" (a phone's clock).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# People in one entry: a car, a van or a minibus; a coach is logged as several entries.
MAX_PEOPLE = 9
KEY_MAX = 80
NAMES_MAX = Entry._meta.get_field("names").max_length or 200
FLAGGING_LEVELS = frozenset({RiskLevel.HIGH, RiskLevel.MEDIUM})
ALERT_OBJECT_TYPE = "checkpoints.entry"
TIMELINE_KIND = "checkpoint"

# What a correction may change: what was typed, nothing the flags follow from.
CORRECTABLE = ("direction", "plate", "vehicle_disinfected", "purpose", "note")


# ---------------------------------------------------------------------------------------------
# Checkpoints


def _clean_checkpoint(checkpoint: Checkpoint) -> None:
    """The rules of a checkpoint's own fields (every problem at once, by field)."""
    errors: dict[str, list[str]] = {}
    checkpoint.name = " ".join((checkpoint.name or "").split())
    checkpoint.location = " ".join((checkpoint.location or "").split())
    if not checkpoint.name:
        errors["name"] = [_("Name the checkpoint, e.g. 场区东门卡口.")]
    elif len(checkpoint.name) > 60:
        errors["name"] = [_("Keep this under %(max)d characters.") % {"max": 60}]
    if len(checkpoint.location) > 200:
        errors["location"] = [_("Keep this under %(max)d characters.") % {"max": 200}]
    unit = checkpoint.unit
    if not unit.is_active:
        errors["unit"] = [_("This org unit is no longer active: choose another.")]
    elif unit.kind == OrgUnit.Kind.GRID:
        errors["unit"] = [_("A checkpoint belongs to a unit or to the branch, not to a grid.")]
    grid = checkpoint.intake_grid
    if grid is not None and (
        grid.kind != OrgUnit.Kind.GRID or not grid.is_active or not grid.path.startswith(unit.path)
    ):
        errors["intake_grid"] = [
            _("Choose an active grid of %(unit)s for the new arrivals.") % {"unit": unit.name}
        ]
    if (
        "name" not in errors
        and Checkpoint.objects.filter(unit=unit, name=checkpoint.name, is_active=True)
        .exclude(pk=checkpoint.pk)
        .exists()
    ):
        errors["name"] = [
            _("%(unit)s already has a checkpoint with this name: choose another name.")
            % {"unit": unit.name}
        ]
    if errors:
        raise ValidationError(errors)


def operator_candidates(unit: OrgUnit) -> Any:
    """The users who may be a checkpoint's operators: active users with a role in the
    checkpoint's unit or below it."""
    return (
        User.objects.filter(
            is_active=True,
            pk__in=RoleAssignment.objects.filter(org_unit__path__startswith=unit.path).values(
                "user_id"
            ),
        )
        .distinct()
        .order_by("username")
    )


def _set_operators(checkpoint: Checkpoint, operators: Sequence[User]) -> None:
    chosen = {user.pk: user for user in operators}
    allowed = set(
        operator_candidates(checkpoint.unit).filter(pk__in=chosen).values_list("pk", flat=True)
    )
    refused = [str(user) for pk, user in chosen.items() if pk not in allowed]
    if refused:
        raise ValidationError(
            {
                "operators": _(
                    "%(names)s cannot operate this checkpoint: choose people with a role in "
                    "%(unit)s."
                )
                % {"names": "、".join(sorted(refused)), "unit": checkpoint.unit.name}
            }
        )
    checkpoint.operators.set(list(chosen.values()))


@transaction.atomic
def create_checkpoint(
    *,
    actor: User | None,
    name: str,
    unit: OrgUnit,
    location: str = "",
    intake_grid: OrgUnit | None = None,
    operators: Sequence[User] = (),
) -> Checkpoint:
    """Add a checkpoint of ``unit`` (a unit or the branch) with its operators. Needs
    ``checkpoints.manage`` over the unit."""
    checkpoint = Checkpoint(name=name, unit=unit, location=location, intake_grid=intake_grid)
    _check_on(actor, Perm.CHECKPOINTS_MANAGE, checkpoint)
    _clean_checkpoint(checkpoint)
    attribute_history(checkpoint, actor)
    checkpoint.save()
    _set_operators(checkpoint, operators)
    return checkpoint


@transaction.atomic
def update_checkpoint(*, actor: User | None, checkpoint: Checkpoint, **changes: Any) -> Checkpoint:
    """Change a checkpoint's ``name``, ``location``, ``unit``, ``intake_grid`` or
    ``is_active`` (False deactivates it: its log stays, nothing more can be logged there).
    Needs ``checkpoints.manage`` over its unit, and over the new one when it moves. The
    entries already logged keep the unit they were logged in."""
    allowed = {"name", "location", "unit", "intake_grid", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown checkpoint fields: {sorted(unknown)}")
    checkpoint = (
        Checkpoint.objects.select_for_update(of=("self",))
        .select_related("unit", "intake_grid")
        .get(pk=checkpoint.pk)
    )
    _check_on(actor, Perm.CHECKPOINTS_MANAGE, checkpoint)
    for name, value in changes.items():
        setattr(checkpoint, name, value)
    _check_on(actor, Perm.CHECKPOINTS_MANAGE, checkpoint)  # the new unit, when it moved
    _clean_checkpoint(checkpoint)
    attribute_history(checkpoint, actor)
    checkpoint.save()
    return checkpoint


@transaction.atomic
def set_operators(
    *, actor: User | None, checkpoint: Checkpoint, operators: Sequence[User]
) -> Checkpoint:
    """The checkpoint's operators become ``operators`` (users with a role in its unit or
    below). Needs ``checkpoints.manage`` over its unit."""
    checkpoint = (
        Checkpoint.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=checkpoint.pk)
    )
    _check_on(actor, Perm.CHECKPOINTS_MANAGE, checkpoint)
    _set_operators(checkpoint, operators)
    return checkpoint


# ---------------------------------------------------------------------------------------------
# Entries


@dataclass(frozen=True)
class EntryPersonIn:
    """One person of an entry: ``person`` from the register, or an outsider by ``name`` (with
    an ID number and a phone when known)."""

    person: Person | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""
    temperature: Decimal | str | None = None
    symptoms: Sequence[str] = ()
    disinfected: bool | None = None


@dataclass(frozen=True)
class EntryResult:
    entry: Entry
    created: bool  # False: a retry of a key seen before; nothing was recorded
    alert: Alert | None = None
    # The entry's people as saved (with their register persons) when it was just recorded;
    # empty for a retry (read them from the entry).
    people: tuple[EntryPerson, ...] = ()


@dataclass
class _Person:
    """A person of the entry, validated, before it is saved."""

    row: EntryPerson
    register: Person | None
    flagged: bool = False


def _clean_person(
    index: int,
    given: EntryPersonIn,
    *,
    actor: Any,
    need_temperature: bool,
    threshold: Decimal,
    errors: dict[str, list[str]],
) -> _Person:
    prefix = f"people.{index}"
    row = EntryPerson(position=index, disinfected=given.disinfected)
    person = given.person
    if person is not None:
        if not person.is_active or (
            actor is not None and not scope_for(actor, Perm.REGISTER_VIEW).covers(person.grid)
        ):
            errors[f"{prefix}.person"] = [_("No such person in your scope.")]
        row.person = person
        row.name = person.name
    else:
        name = " ".join((given.name or "").split())
        if not name:
            errors[f"{prefix}.name"] = [
                _("Enter the name, or choose the person from the register.")
            ]
        elif len(name) > 50:
            errors[f"{prefix}.name"] = [_("Keep this under %(max)d characters.") % {"max": 50}]
        row.name = name
        id_number = (given.id_number or "").strip()
        if id_number:
            try:
                id_number = validate_resident_id(id_number).number
            except ValidationError as error:
                errors[f"{prefix}.id_number"] = error.messages
        row.id_number = id_number
        phone = (given.phone or "").strip()
        if phone:
            try:
                phone = validate_mobile(phone)
            except ValidationError as error:
                errors[f"{prefix}.phone"] = error.messages
        row.phone = phone
    try:
        row.temperature = clean_temperature(given.temperature)
    except ValidationError as error:
        errors[f"{prefix}.temperature"] = error.messages
    else:
        if row.temperature is None and need_temperature:
            errors[f"{prefix}.temperature"] = [
                _("Take the temperature of everyone entering, e.g. 36.5.")
            ]
    try:
        row.symptoms = clean_symptoms(given.symptoms)
    except ValidationError as error:
        errors[f"{prefix}.symptoms"] = error.messages
    row.is_fever = row.temperature is not None and row.temperature >= threshold
    return _Person(row=row, register=person)


@dataclass(frozen=True)
class _Checked:
    """An entry validated and classified, ready to be written."""

    entry: Entry
    people: list[_Person]
    region: Region | None


def _check_entry(
    *,
    actor: Any,
    checkpoint: Checkpoint,
    people: Sequence[EntryPersonIn],
    at: dt.datetime | None,
    direction: str,
    plate: str,
    vehicle_disinfected: bool | None,
    from_region: Region | None,
    purpose: str,
    note: str,
    key: str,
    now: dt.datetime,
) -> _Checked:
    """Validate every field (every problem at once, by field: ``people.1.temperature``)
    and classify the entry, without writing anything."""
    errors: dict[str, list[str]] = {}
    if not checkpoint.is_active:
        errors["checkpoint"] = [
            _("%(name)s is closed: nothing more can be logged there.") % {"name": checkpoint.name}
        ]
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + FUTURE_TOLERANCE:
        errors["at"] = [_("The time is in the future: check the date and time.")]
    if direction not in Direction.values:
        errors["direction"] = [_("Choose in (entering) or out (leaving).")]
    try:
        plate = clean_plate(plate)
    except ValidationError as error:
        errors["plate"] = error.messages
    texts = (("purpose", purpose, 100), ("note", note, 200))
    cleaned: dict[str, str] = {}
    for name, value, limit in texts:
        try:
            cleaned[name] = clean_text(value, name, limit, collapse=True)
        except ValidationError as error:
            errors.update(error.message_dict)
    if not people:
        errors["people"] = [_("Add at least one person: the driver or the person on foot.")]
    elif len(people) > MAX_PEOPLE:
        errors["people"] = [
            _("At most %(max)d people in one entry: log the others as another entry.")
            % {"max": MAX_PEOPLE}
        ]
    threshold = observation_rules().fever_threshold
    checked = [
        _clean_person(
            index,
            given,
            actor=actor,
            need_temperature=direction == Direction.IN,
            threshold=threshold,
            errors=errors,
        )
        for index, given in enumerate(people[:MAX_PEOPLE])
    ]
    seen: dict[int, int] = {}
    for index, person in enumerate(checked):
        if person.register is not None:
            if person.register.pk in seen:
                errors[f"people.{index}.person"] = [
                    _("%(name)s is already in this entry.") % {"name": person.register.name}
                ]
            seen[person.register.pk] = index
    if errors:
        raise ValidationError(errors)
    day = timezone.localtime(at).date()
    level = risk_level_on(from_region.code, day) if from_region is not None else None
    risky = level in FLAGGING_LEVELS
    for person in checked:
        person.row.is_flagged = person.flagged = risky or person.row.is_fever
    temperatures = [p.row.temperature for p in checked if p.row.temperature is not None]
    entry = Entry(
        checkpoint=checkpoint,
        unit_id=checkpoint.unit_id,
        at=at,
        day=day,
        direction=direction,
        plate=plate,
        vehicle_disinfected=vehicle_disinfected if plate else None,
        from_region=from_region,
        risk_level=str(level or ""),
        purpose=cleaned["purpose"],
        note=cleaned["note"],
        names="、".join(p.row.name for p in checked)[:NAMES_MAX],
        people_count=len(checked),
        max_temperature=max(temperatures, default=None),
        has_fever=any(p.row.is_fever for p in checked),
        is_flagged=any(p.flagged for p in checked),
        recorded_by=_user(actor),
        idempotency_key=key,
        created_at=now,
    )
    return _Checked(entry=entry, people=checked, region=from_region)


def _seen_entry(checkpoint: Checkpoint, key: str) -> Entry | None:
    """The entry sent before with ``key`` (a retry); refused when it was another
    checkpoint's."""
    if not key:
        return None
    seen = Entry.objects.filter(idempotency_key=key).first()
    if seen is not None and seen.checkpoint_id != checkpoint.pk:
        raise ValidationError(
            {
                "idempotency_key": _(
                    "This key was already used at another checkpoint: send a new key."
                )
            }
        )
    return seen


def intake_grid(checkpoint: Checkpoint) -> OrgUnit | None:
    """Where a flagged outsider is registered: the checkpoint's grid for new arrivals, else
    the first active grid of its unit."""
    grid = checkpoint.intake_grid
    if grid is not None and grid.is_active:
        return grid
    return (
        OrgUnit.objects.filter(
            kind=OrgUnit.Kind.GRID, is_active=True, path__startswith=checkpoint.unit.path
        )
        .order_by("path")
        .first()
    )


def _register_outsider(checkpoint: Checkpoint, row: EntryPerson) -> Person | None:
    """The register's person for a flagged outsider: the active person with the same ID
    number, else a new visitor in the checkpoint's intake grid (None without a grid)."""
    if row.id_number:
        found = Person.objects.filter(id_number=row.id_number, is_active=True).first()
        if found is not None:
            return found
    grid = intake_grid(checkpoint)
    if grid is None:
        return None
    return org_services.create_person(
        actor=None,
        grid=grid,
        name=row.name,
        id_number=row.id_number,
        phone=row.phone,
        category=Person.Category.VISITOR,
        source=checkpoint.name,
    ).person


def _flag_summary(entry: Entry, flagged: list[EntryPerson], region: Region | None) -> str:
    """'张三 38.2 °C、李四 36.5 °C; from 湖北省 武汉市 (high risk); at 场区东门卡口'."""
    people = "、".join(
        " ".join(
            part
            for part in (
                row.name,
                f"{row.temperature} °C" if row.temperature is not None else "",
                symptom_labels(row.symptoms) if row.symptoms else "",
            )
            if part
        )
        for row in flagged
    )
    parts = [people]
    if region is not None:
        level = dict(RiskLevel.choices).get(entry.risk_level, "")
        parts.append(
            _("from %(region)s (%(level)s)") % {"region": region.name, "level": level}
            if level
            else _("from %(region)s") % {"region": region.name}
        )
    parts.append(_("at %(checkpoint)s") % {"checkpoint": entry.checkpoint.name})
    return "；".join(parts)


def _follow_flags(actor: Any, checked: _Checked, now: dt.datetime) -> Alert | None:
    """For a flagged entry: register the outsiders, put everyone flagged on the new
    arrivals (when the origin is known), write their timelines, raise the alert."""
    entry = checked.entry
    flagged = [p for p in checked.people if p.flagged]
    if not flagged:
        return None
    summary = _flag_summary(entry, [p.row for p in flagged], checked.region)
    first_person: Person | None = None
    for person in flagged:
        row = person.row
        if row.person_id is None:
            registered = _register_outsider(entry.checkpoint, row)
            if registered is not None:
                row.person = registered
        if row.person_id is not None:
            register = row.person
            assert register is not None
            first_person = first_person or register
            if checked.region is not None:
                row.screening = screening_services.register_arrival(
                    actor=None,
                    person=register,
                    from_region=checked.region,
                    arrived_at=entry.at,
                    registered_at=max(now, entry.at),
                    temperature=row.temperature,
                    symptoms=row.symptoms,
                    transport=Transport.CAR if entry.plate else "",
                    transport_no=entry.plate,
                    note=_("Logged at checkpoint %(name)s") % {"name": entry.checkpoint.name},
                )
            org_services.add_timeline_event(
                person=register,
                kind=TIMELINE_KIND,
                summary=_("Flagged at a checkpoint: %(summary)s") % {"summary": summary},
                actor=_user(actor),
                data={
                    "entry": entry.pk,
                    "checkpoint": entry.checkpoint_id,
                    "fever": row.is_fever,
                    "risk_level": entry.risk_level,
                },
                occurred_at=entry.at,
            )
            attribute_history(row, actor)
            row.save(update_fields=["person", "screening"])
    alert, _created = raise_alert(
        kind=AlertKind.ENTRY_FEVER if entry.has_fever else AlertKind.ENTRY_RISK_AREA,
        key=alert_key(entry.pk),
        unit=entry.checkpoint.unit,
        person=first_person,
        object_type=ALERT_OBJECT_TYPE,
        object_id=entry.pk,
        url=entry.get_absolute_url(),
        summary=summary,
        at=entry.at,
        data={
            "entry": entry.pk,
            "checkpoint": entry.checkpoint_id,
            "max_temperature": str(entry.max_temperature or ""),
            "from_region": entry.from_region_id or "",
            "risk_level": entry.risk_level,
        },
    )
    return alert


@functools.cache
def _person_history() -> Any:
    """The audit-trail model of the entries' people (simple-history makes a new manager
    class at every access to ``EntryPerson.history``)."""
    return EntryPerson.history.model


def _save(actor: Any, checked: _Checked, now: dt.datetime) -> EntryResult:
    """Write the entry, its people (with their audit records) and what its flags call for."""
    entry = checked.entry
    attribute_history(entry, actor)
    entry.save()
    rows = []
    for person in checked.people:
        person.row.entry = entry
        attribute_history(person.row, actor)
        rows.append(person.row)
    EntryPerson.objects.bulk_create(rows)
    history = _person_history()
    history.objects.bulk_create([fastpath.history_record(history, row) for row in rows])
    alert = _follow_flags(actor, checked, now) if entry.is_flagged else None
    return EntryResult(entry=entry, created=True, alert=alert, people=tuple(rows))


@transaction.atomic
def log_entry(
    *,
    actor: User | None,
    checkpoint: Checkpoint,
    people: Sequence[EntryPersonIn],
    at: dt.datetime | None = None,
    direction: str = Direction.IN,
    plate: str = "",
    vehicle_disinfected: bool | None = None,
    from_region: Region | None = None,
    purpose: str = "",
    note: str = "",
    idempotency_key: str = "",
) -> EntryResult:
    """Log a person on foot, or a vehicle (``plate``) with its occupants (the driver first),
    passing ``checkpoint`` at ``at`` (now by default; never in the future). Everyone
    entering has their temperature taken. A fever or an origin (``from_region``) that is a
    high- or medium-risk area that day flags the entry (see the module). Needs
    ``checkpoints.record`` over the checkpoint, which must be active.

    The same ``idempotency_key`` again returns the first entry (``created=False``) and
    records nothing, also when both arrive at the same moment; a key already used at
    another checkpoint is refused (on ``idempotency_key``)."""
    _check_on(actor, Perm.CHECKPOINTS_RECORD, checkpoint)
    key = (idempotency_key or "").strip()
    if len(key) > KEY_MAX:
        raise ValidationError(
            {"idempotency_key": _("Keep the key under %(max)d characters.") % {"max": KEY_MAX}}
        )
    seen = _seen_entry(checkpoint, key)
    if seen is not None:  # a gate phone retrying
        return EntryResult(entry=seen, created=False, alert=alert_of(seen))
    now = timezone.now()
    checked = _check_entry(
        actor=actor,
        checkpoint=checkpoint,
        people=people,
        at=at,
        direction=direction,
        plate=plate,
        vehicle_disinfected=vehicle_disinfected,
        from_region=from_region,
        purpose=purpose,
        note=note,
        key=key,
        now=now,
    )
    try:
        with transaction.atomic():
            return _save(actor, checked, now)
    except IntegrityError:
        # The same key sent twice at the same moment: the other request saved it.
        seen = _seen_entry(checkpoint, key) if key else None
        if seen is None:
            raise
        return EntryResult(entry=seen, created=False, alert=alert_of(seen))


@transaction.atomic
def correct_entry(*, actor: User | None, entry: Entry, **changes: Any) -> Entry:
    """Fix a typo in an entry: its ``direction``, ``plate``, ``vehicle_disinfected``,
    ``purpose`` or ``note`` (what the flags follow from — time, origin, people and their
    temperatures — stays as logged). The audit trail keeps the value before. Needs
    ``checkpoints.record`` over the entry's unit."""
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise TypeError(f"fields that cannot be corrected: {sorted(unknown)}")
    entry = (
        Entry.objects.select_for_update(of=("self",))
        .select_related("unit", "checkpoint")
        .get(pk=entry.pk)
    )
    _check_on(actor, Perm.CHECKPOINTS_RECORD, entry)
    errors: dict[str, list[str]] = {}
    if "direction" in changes and changes["direction"] not in Direction.values:
        errors["direction"] = [_("Choose in (entering) or out (leaving).")]
    if "plate" in changes:
        try:
            changes["plate"] = clean_plate(changes["plate"])
        except ValidationError as error:
            errors["plate"] = error.messages
    for name, limit in (("purpose", 100), ("note", 200)):
        if name in changes:
            try:
                changes[name] = clean_text(changes[name], name, limit, collapse=True)
            except ValidationError as error:
                errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if changes.get("direction", entry.direction) == Direction.IN and entry.direction != (
        Direction.IN
    ):
        missing = entry.people.filter(temperature__isnull=True).exists()
        if missing:
            raise ValidationError(
                {"direction": _("Someone of this entry has no temperature: it cannot be 'in'.")}
            )
    changed = [name for name, value in changes.items() if getattr(entry, name) != value]
    if not changed:
        return entry
    for name in changed:
        setattr(entry, name, changes[name])
    if not entry.plate:
        entry.vehicle_disinfected = None
    attribute_history(entry, actor)
    entry.save()
    return entry
