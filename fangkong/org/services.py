"""Every write to the organisation and the register. Views, the API, commands and imports
call these functions; each validates, runs in one transaction, and records the timeline and
the audit trail explicitly.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import fastpath
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm, Role
from fangkong.core.scoping import check_perm_on, clear_scope_cache, scope_for
from fangkong.core.services import record_reveal
from fangkong.core.validators import validate_mobile, validate_resident_id

from .models import (
    ApiToken,
    GridCount,
    Household,
    OrgUnit,
    Person,
    RoleAssignment,
    TimelineEvent,
    User,
)

M = TypeVar("M", bound=models.Model)

# ---------------------------------------------------------------------------------------------
# Timeline


def add_timeline_event(
    *,
    person: Person,
    kind: str,
    summary: str,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> TimelineEvent:
    """Append an event to a person's timeline. Every workflow records its events here."""
    event = timeline_event(
        person=person,
        kind=kind,
        summary=summary,
        actor=actor,
        data=data,
        occurred_at=occurred_at,
    )
    event.save()
    return event


def timeline_event(
    *,
    person: Person,
    kind: str,
    summary: str,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> TimelineEvent:
    """The event :func:`add_timeline_event` appends, not saved yet (for a caller that saves
    it with other rows)."""
    return TimelineEvent(
        person=person,
        kind=kind,
        summary=summary[:300],
        actor=actor if actor is not None and actor.is_authenticated else None,
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
    )


def refresh_grid_counts(
    grid_ids: Iterable[int | None] | None = None, *, under: OrgUnit | None = None
) -> None:
    """Count again the households and persons of the grids ``grid_ids`` (every grid below
    ``under``, or every grid when neither is given) into :class:`GridCount`. A recount, not
    an increment: calling it once more is harmless, and nothing drifts."""
    grids = OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID)
    if grid_ids is not None:
        grids = grids.filter(pk__in={pk for pk in grid_ids if pk is not None})
    if under is not None:
        grids = grids.filter(path__startswith=under.path)
    ids = list(grids.values_list("pk", flat=True))
    if not ids:
        return
    counts = {pk: [0, 0] for pk in ids}
    for chunk in (ids[i : i + 5000] for i in range(0, len(ids), 5000)):
        households = (
            Household.objects.filter(is_active=True, grid__in=chunk)
            .values_list("grid")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for grid_id, n in households:
            counts[grid_id][0] = n
        persons = (
            Person.objects.filter(is_active=True, grid__in=chunk)
            .exclude(status=Person.Status.MOVED_OUT)
            .values_list("grid")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for grid_id, n in persons:
            counts[grid_id][1] = n
    GridCount.objects.bulk_create(
        [GridCount(grid_id=pk, households=h, persons=p) for pk, (h, p) in counts.items()],
        update_conflicts=True,
        unique_fields=["grid"],
        update_fields=["households", "persons"],
        batch_size=2000,
    )


def _lock_for_change(
    obj: M, *, actor: User | None, perm: Perm, changes: dict[str, Any], allowed: tuple[str, ...]
) -> M:
    """The object re-read under a row lock, once the change names only ``allowed`` fields and
    the actor holds ``perm`` over it (403 otherwise)."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {type(obj).__name__} fields: {sorted(unknown)}")
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if actor is not None:
        check_perm_on(actor, perm, locked)
    return locked


def _history_actor(obj: Any, actor: User | None) -> None:
    """Attribute the audit-trail record of the next save to ``actor``."""
    if actor is not None and actor.is_authenticated:
        obj._history_user = actor


# ---------------------------------------------------------------------------------------------
# Org units


def _set_path(unit: OrgUnit) -> None:
    unit.path = OrgUnit.child_path(unit.parent.path if unit.parent else "", unit.pk)
    unit.depth = unit.parent.depth + 1 if unit.parent else 0


_ALLOWED_PARENT: dict[str, set[str | None]] = {
    OrgUnit.Kind.BRANCH: {None, OrgUnit.Kind.BRANCH},
    OrgUnit.Kind.UNIT: {OrgUnit.Kind.BRANCH, OrgUnit.Kind.UNIT},
    OrgUnit.Kind.GRID: {OrgUnit.Kind.UNIT, OrgUnit.Kind.GRID},
}


@transaction.atomic
def create_org_unit(
    *,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None = None,
    responsible: str = "",
    responsible_phone: str = "",
) -> OrgUnit:
    if actor is not None and parent is not None:
        check_perm_on(actor, Perm.ORG_MANAGE, parent)
    elif actor is not None and not scope_for(actor, Perm.ORG_MANAGE).everything:
        raise PermissionDenied  # a new top-level unit needs the right over everything
    parent_kind = parent.kind if parent else None
    if kind not in OrgUnit.Kind.values:
        raise ValidationError({"kind": _("Choose branch, unit or grid.")})
    if parent_kind not in _ALLOWED_PARENT[OrgUnit.Kind(kind)]:
        raise ValidationError(
            {"parent": _("A %(kind)s cannot be placed under this parent.") % {"kind": kind}}
        )
    if responsible_phone:
        try:
            responsible_phone = validate_mobile(responsible_phone)
        except ValidationError as error:
            raise ValidationError({"responsible_phone": error.messages}) from None
    unit = OrgUnit(
        code=code.strip().upper(),
        name=name.strip(),
        kind=kind,
        parent=parent,
        responsible=responsible.strip(),
        responsible_phone=responsible_phone,
    )
    unit.full_clean(exclude=["path", "depth"])
    _history_actor(unit, actor)
    unit.save()
    _set_path(unit)
    OrgUnit.objects.filter(pk=unit.pk).update(path=unit.path, depth=unit.depth)
    # The creation record in the audit trail was written before the path was known.
    unit.history.filter(history_type="+").update(path=unit.path, depth=unit.depth)
    return unit


ORG_UNIT_FIELDS = ("name", "responsible", "responsible_phone")


@transaction.atomic
def update_org_unit(*, actor: User | None, unit: OrgUnit, **changes: Any) -> OrgUnit:
    """Rename a unit or change its responsible people. Code, kind and parent stay fixed."""
    unit = _lock_for_change(
        unit, actor=actor, perm=Perm.ORG_MANAGE, changes=changes, allowed=ORG_UNIT_FIELDS
    )
    for name, value in changes.items():
        setattr(unit, name, value.strip())
    if "responsible_phone" in changes:
        unit.responsible_phone = _clean_phone(unit.responsible_phone, "responsible_phone")
    unit.full_clean(exclude=["path", "depth"])
    _history_actor(unit, actor)
    unit.save()
    return unit


# ---------------------------------------------------------------------------------------------
# Households


def _clean_phone(value: str, field_name: str) -> str:
    if not value.strip():
        return ""
    try:
        return validate_mobile(value)
    except ValidationError as error:
        raise ValidationError({field_name: error.messages}) from None


def _require_grid(grid: OrgUnit | None, field_name: str = "grid") -> OrgUnit:
    if grid is None:
        raise ValidationError({field_name: _("Choose the grid.")})
    if grid.kind != OrgUnit.Kind.GRID:
        raise ValidationError(
            {field_name: _("%(unit)s is not a grid; choose a grid.") % {"unit": grid}}
        )
    return grid


@transaction.atomic
def create_household(
    *, actor: User | None, grid: OrgUnit, address: str, phone: str = "", note: str = ""
) -> Household:
    grid = _require_grid(grid)
    if actor is not None:
        check_perm_on(actor, Perm.REGISTER_EDIT, grid)
    household = Household(
        grid=grid, address=address.strip(), phone=_clean_phone(phone, "phone"), note=note.strip()
    )
    household.full_clean(exclude=["head"])
    _history_actor(household, actor)
    household.save()
    refresh_grid_counts([grid.pk])
    return household


HOUSEHOLD_FIELDS = ("grid", "address", "phone", "note", "head")


@transaction.atomic
def update_household(*, actor: User | None, household: Household, **changes: Any) -> Household:
    """Change a household. Moving it to another grid moves its members and keeps history."""
    household = _lock_for_change(
        household, actor=actor, perm=Perm.REGISTER_EDIT, changes=changes, allowed=HOUSEHOLD_FIELDS
    )
    old_grid = household.grid
    if "grid" in changes:
        changes["grid"] = _require_grid(changes["grid"])
        if actor is not None:
            check_perm_on(actor, Perm.REGISTER_EDIT, changes["grid"])
    if "phone" in changes:
        changes["phone"] = _clean_phone(changes["phone"], "phone")
    if "address" in changes:
        changes["address"] = changes["address"].strip()
    head = changes.get("head")
    if head is not None and head.household_id != household.pk:
        raise ValidationError({"head": _("The head of household must be a member of it.")})
    for name, value in changes.items():
        setattr(household, name, value)
    household.full_clean()
    _history_actor(household, actor)
    household.save()
    if household.grid_id != old_grid.pk:
        members = list(household.members.filter(is_active=True))
        for member in members:
            member.grid = household.grid
            _history_actor(member, actor)
            member.save(update_fields=["grid", "search_text", "updated_at"])
            add_timeline_event(
                person=member,
                kind="household_moved",
                summary=_("Household moved from grid %(old)s to %(new)s")
                % {"old": old_grid.name, "new": household.grid.name},
                actor=actor,
                data={
                    "household": household.pk,
                    "from_grid": old_grid.pk,
                    "to_grid": household.grid_id,
                },
            )
        refresh_grid_counts([old_grid.pk, household.grid_id])
    return household


# ---------------------------------------------------------------------------------------------
# Persons

PERSON_FIELDS = (
    "name",
    "sex",
    "id_number",
    "birth_date",
    "phone",
    "household",
    "grid",
    "relation",
    "category",
    "status",
    "occupation",
    "note",
)
# Fields whose values are personal numbers: masked wherever a change is described.
MASKED_FIELDS = {"id_number": mask_id_number, "phone": mask_phone}


@dataclass
class PersonResult:
    person: Person
    warnings: list[str] = field(default_factory=list)

    def saved(self) -> tuple[Person, list[str]]:
        return self.person, self.warnings


# The fields :func:`clean_person_fields` checks: a person's own data, not where they live.
OWN_FIELDS = (
    "name",
    "sex",
    "id_number",
    "birth_date",
    "phone",
    "relation",
    "category",
    "status",
    "occupation",
    "note",
)
_CHOICES: dict[str, type[models.TextChoices]] = {
    "sex": Person.Sex,
    "relation": Person.Relation,
    "category": Person.Category,
    "status": Person.Status,
}
# Computed once: ``TextChoices.values`` builds a new list on every access.
_CHOICE_VALUES: dict[str, frozenset[str]] = {
    name: frozenset(choices.values) for name, choices in _CHOICES.items()
}
_TEXT_FIELDS = ("occupation", "note")
_MAX_LENGTHS: dict[str, int] = {
    name: limit
    for name in ("name", *_TEXT_FIELDS)
    if (limit := getattr(Person._meta.get_field(name), "max_length", None)) is not None
}


def choice_error(field_name: str) -> str:
    """The message for a value that is not one of a coded field's choices: it lists them."""
    labels = "、".join(str(label) for label in _CHOICES[field_name].labels)
    return _("Choose one of: %(labels)s.") % {"labels": labels}


def clean_person_fields(values: dict[str, Any], *, today: dt.date | None = None) -> list[str]:
    """The rules for a person's own data, shared by every way a person is written (the forms,
    the API, the import), without the database.

    ``values`` maps names among :data:`OWN_FIELDS` to values; a name left out is not checked
    (but ``sex`` and ``birth_date`` are set from a valid ID number). The values are normalised
    in place: text stripped, the ID number upper-case with its birth date and sex, the phone
    number without spaces. Returns the warnings (an unknown region code); raises a
    ValidationError with every problem by field. Whether another person holds the same ID
    number is for the caller to check against the register.
    """
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    if "name" in values:
        name = values["name"] = (values["name"] or "").strip()
        if not name:
            errors["name"] = [_("Enter the name.")]
        else:
            _check_length("name", name, errors)
    id_number = values["id_number"] = (values.get("id_number") or "").strip().upper()
    if id_number:
        try:
            rid = validate_resident_id(id_number, today=today)
        except ValidationError as error:
            errors["id_number"] = list(error.messages)
        else:
            values["id_number"] = rid.number
            warnings.extend(rid.warnings)
            birth_date = values.get("birth_date")
            if birth_date and birth_date != rid.birth_date:
                errors["birth_date"] = [
                    _("The ID number says the birth date is %(date)s; correct one of them.")
                    % {"date": rid.birth_date.isoformat()}
                ]
            values["birth_date"] = rid.birth_date
            if values.get("sex") not in (None, "", Person.Sex.UNKNOWN, rid.sex):
                errors["sex"] = [
                    _("The ID number says the sex is %(sex)s; correct one of them.")
                    % {"sex": Person.Sex(rid.sex).label}
                ]
            values["sex"] = rid.sex
    if "phone" in values:
        phone = (values["phone"] or "").strip()
        if phone:
            try:
                phone = validate_mobile(phone)
            except ValidationError as error:
                errors["phone"] = list(error.messages)
        values["phone"] = phone
    for field_name, allowed in _CHOICE_VALUES.items():
        if field_name in values:
            if field_name == "sex" and not values["sex"]:
                values["sex"] = Person.Sex.UNKNOWN
            if values[field_name] not in allowed and field_name not in errors:
                errors[field_name] = [choice_error(field_name)]
    for field_name in _TEXT_FIELDS:
        if field_name in values:
            text = values[field_name] = (values[field_name] or "").strip()
            _check_length(field_name, text, errors)
    birth_date = values.get("birth_date")
    if birth_date and birth_date > (today or timezone.localdate()) and "birth_date" not in errors:
        errors["birth_date"] = [_("The birth date is in the future.")]
    if errors:
        raise ValidationError(errors)
    return warnings


def _check_length(field_name: str, text: str, errors: dict[str, list[str]]) -> None:
    limit = _MAX_LENGTHS[field_name]
    if len(text) > limit:
        try:
            MaxLengthValidator(limit)(text)
        except ValidationError as error:
            errors.setdefault(field_name, []).extend(error.messages)


def id_number_taken_message() -> str:
    return _(
        "Another person in the register already has this ID number. Search for them instead of adding a duplicate."
    )


def _normalise_person(person: Person, *, today: dt.date | None = None) -> list[str]:
    """Validate and derive fields in place (:func:`clean_person_fields`, then the rules that
    need the register); return warnings. Raises ValidationError by field."""
    values = {name: getattr(person, name) for name in OWN_FIELDS}
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    try:
        warnings = clean_person_fields(values, today=today)
    except ValidationError as error:
        errors = error.message_dict
    for name in OWN_FIELDS:
        if name not in errors:
            setattr(person, name, values[name])
    if (
        person.id_number
        and "id_number" not in errors
        # (The empty-number exclusion lets the database use the partial unique index.)
        and Person.objects.filter(id_number=person.id_number, is_active=True)
        .exclude(id_number="")
        .exclude(pk=person.pk)
        .exists()
    ):
        errors.setdefault("id_number", []).append(id_number_taken_message())
    if person.household is not None:
        person.grid = person.household.grid
    elif person.grid_id is None:
        errors.setdefault("household", []).append(_("Choose a household or at least a grid."))
    elif person.grid.kind != OrgUnit.Kind.GRID:
        errors.setdefault("grid", []).append(_("Choose a grid, not a unit."))
    if errors:
        raise ValidationError(errors)
    return warnings


@transaction.atomic
def create_person(
    *,
    actor: User | None,
    name: str,
    household: Household | None = None,
    grid: OrgUnit | None = None,
    sex: str = Person.Sex.UNKNOWN,
    id_number: str = "",
    birth_date: dt.date | None = None,
    phone: str = "",
    relation: str = Person.Relation.OTHER,
    category: str = Person.Category.RESIDENT,
    occupation: str = "",
    note: str = "",
    source: str = "",
) -> PersonResult:
    """Add a person to the register. ``source`` names where the record came from (an import)."""
    person = Person(
        name=name,
        household=household,
        grid=household.grid if household is not None else grid,
        sex=sex or Person.Sex.UNKNOWN,
        id_number=id_number or "",
        birth_date=birth_date,
        phone=phone or "",
        relation=relation,
        category=category,
        occupation=occupation,
        note=note,
    )
    warnings = _normalise_person(person)
    if actor is not None:
        check_perm_on(actor, Perm.REGISTER_EDIT, person.grid)
    _history_actor(person, actor)
    person.save()
    refresh_grid_counts([person.grid_id])
    if (
        household is not None
        and person.relation == Person.Relation.HEAD
        and household.head_id is None
    ):
        household.head = person
        _history_actor(household, actor)
        household.save(update_fields=["head", "search_text", "updated_at"])
    add_timeline_event(
        person=person,
        kind="created",
        summary=created_summary(source, lacks_id_number=person.lacks_id_number),
        actor=actor,
        data={"household": person.household_id, "grid": person.grid_id, "source": source},
    )
    return PersonResult(person=person, warnings=warnings)


def _label(field_name: str) -> str:
    return str(getattr(Person._meta.get_field(field_name), "verbose_name", field_name))


def _describe(field_name: str, value: Any) -> str:
    if field_name in MASKED_FIELDS:
        return MASKED_FIELDS[field_name](value or "")
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    choices = dict(getattr(Person._meta.get_field(field_name), "flatchoices", None) or ())
    return str(choices.get(value, value))


def _source_suffix(source: str) -> str:
    return f" ({source})" if source else ""


def created_summary(source: str, *, lacks_id_number: bool) -> str:
    """The timeline summary of a person added to the register (from ``source``)."""
    return (
        _("Added to the register")
        + _source_suffix(source)
        + (_(": no ID number") if lacks_id_number else "")
    )


def moved_summary(old: Any, new: Any, source: str) -> str:
    """The timeline summary of a move from household ``old`` to ``new`` (either may be None)."""
    return _("Moved from household %(old)s to %(new)s") % {
        "old": old or "—",
        "new": new or "—",
    } + _source_suffix(source)


def changed_summary(changes: Sequence[tuple[str, Any, Any]], source: str) -> str:
    """The timeline summary of changed fields, as (field name, before, after), numbers masked."""
    labels = [
        f"{_label(name)}: {_describe(name, old)} → {_describe(name, new)}"
        for name, old, new in changes
    ]
    return _("Changed ") + "; ".join(labels) + _source_suffix(source)


# Statuses that follow from the person's observation episodes (observation.services sets
# them, in one place); the register's own forms and API cannot set or clear them.
EPISODE_STATUSES = frozenset(
    {
        Person.Status.UNDER_OBSERVATION,
        Person.Status.REFERRED,
        Person.Status.SUSPECTED,
        Person.Status.CONFIRMED,
    }
)


def _check_status_change(person: Person, changes: dict[str, Any], by_episodes: bool) -> None:
    new = changes.get("status", person.status)
    if by_episodes or new == person.status:
        return
    if new in EPISODE_STATUSES or person.status in EPISODE_STATUSES:
        raise ValidationError(
            {
                "status": _(
                    "Under observation, referred, suspected and confirmed follow from the "
                    "person's observation episodes: start or decide an episode instead."
                )
            }
        )


@transaction.atomic
def update_person(
    *,
    actor: User | None,
    person: Person,
    source: str = "",
    status_by_episodes: bool = False,
    **changes: Any,
) -> PersonResult:
    """Change a person. A move to another household keeps the old one in the history.
    ``status_by_episodes`` is for the observation workflow, the one place that sets the
    statuses its episodes imply."""
    person = _lock_for_change(
        person, actor=actor, perm=Perm.REGISTER_EDIT, changes=changes, allowed=PERSON_FIELDS
    )
    _check_status_change(person, changes, status_by_episodes)
    before = {name: getattr(person, name) for name in PERSON_FIELDS}
    old_household = person.household
    for name, value in changes.items():
        if name in ("id_number", "phone", "occupation", "note") and value is None:
            value = ""
        setattr(person, name, value)
    if "household" in changes and changes["household"] is None and "grid" not in changes:
        person.grid = before["grid"]
    if (person.id_number or "").strip().upper() != before["id_number"]:
        # A new ID number brings its own birth date and sex: values left as they were (a
        # form sends every field) give way to the derived ones instead of conflicting.
        if person.birth_date == before["birth_date"]:
            person.birth_date = None
        if person.sex == before["sex"]:
            person.sex = Person.Sex.UNKNOWN
    warnings = _normalise_person(person)
    if actor is not None:
        check_perm_on(actor, Perm.REGISTER_EDIT, person.grid)
    changed = [name for name in PERSON_FIELDS if getattr(person, name) != before[name]]
    if not changed:
        return PersonResult(person=person, warnings=warnings)
    _history_actor(person, actor)
    person.save()
    if {"grid", "status"} & set(changed):
        refresh_grid_counts([before["grid"].pk, person.grid_id])
    if (
        old_household is not None
        and old_household.head_id == person.pk
        and person.household_id != old_household.pk
    ):
        old_household.head = None
        _history_actor(old_household, actor)
        old_household.save(update_fields=["head", "search_text", "updated_at"])
    if person.household_id != (old_household.pk if old_household else None):
        add_timeline_event(
            person=person,
            kind="moved",
            summary=moved_summary(old_household, person.household, source),
            actor=actor,
            data={
                "from_household": old_household.pk if old_household else None,
                "to_household": person.household_id,
                "from_grid": before["grid"].pk,
                "to_grid": person.grid_id,
            },
        )
    details = [
        name for name in changed if name not in ("household", "grid") or person.household_id is None
    ]
    if details:
        add_timeline_event(
            person=person,
            kind="changed",
            summary=changed_summary(
                [(name, before[name], getattr(person, name)) for name in details], source
            ),
            actor=actor,
            data={"fields": details, "source": source},
        )
    return PersonResult(person=person, warnings=warnings)


@transaction.atomic
def reveal_person_field(*, actor: User, person: Person, field_name: str) -> str:
    """Return a full ID or phone number and record who saw it."""
    if field_name not in MASKED_FIELDS:
        raise ValidationError({"field": _("Only the ID number and the phone can be revealed.")})
    check_perm_on(actor, Perm.PII_REVEAL, person)
    record_reveal(
        user=actor, object_type="person", object_id=person.pk, detail={"field": field_name}
    )
    return str(getattr(person, field_name))


@transaction.atomic
def open_person_for_editing(*, actor: User, person: Person) -> None:
    """The edit form shows the full ID and phone numbers: allowed to those who may reveal them,
    and recorded like a reveal."""
    check_perm_on(actor, Perm.REGISTER_EDIT, person)
    shown = [name for name in MASKED_FIELDS if getattr(person, name)]
    if not shown:
        return
    check_perm_on(actor, Perm.PII_REVEAL, person)
    record_reveal(
        user=actor,
        object_type="person",
        object_id=person.pk,
        detail={"field": ",".join(shown), "via": "edit"},
    )


# ---------------------------------------------------------------------------------------------
# Users, roles and API tokens


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    role: str,
    org_unit: OrgUnit | None,
    full_name: str = "",
    phone: str = "",
    actor: User | None = None,
) -> User:
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("This username is taken; choose another.")]
    user = User(username=username, full_name=full_name, phone=phone)
    try:
        validate_password(password, user)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if role not in Role.values:
        errors["role"] = [
            _("Unknown role; choose one of: %(roles)s") % {"roles": ", ".join(Role.values)}
        ]
    elif role != Role.ADMIN and org_unit is None:
        errors["org_unit"] = [_("Give the org unit this role applies to.")]
    if errors:
        raise ValidationError(errors)
    _check_may_assign(actor, role, org_unit)
    user.set_password(password)
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    user.save()
    assign_role(user=user, role=role, org_unit=org_unit, actor=actor)
    return user


def _check_may_assign(actor: User | None, role: str, org_unit: OrgUnit | None) -> None:
    """403 unless ``actor`` manages users over ``org_unit`` (over everything, for an admin)."""
    if actor is None:
        return
    if role == Role.ADMIN or org_unit is None:
        if not scope_for(actor, Perm.USERS_MANAGE).everything:
            raise PermissionDenied
    else:
        check_perm_on(actor, Perm.USERS_MANAGE, org_unit)


@transaction.atomic
def assign_role(
    *, user: User, role: str, org_unit: OrgUnit | None, actor: User | None = None
) -> RoleAssignment:
    if role != Role.ADMIN and org_unit is None:
        raise ValidationError({"org_unit": _("Give the org unit this role applies to.")})
    _check_may_assign(actor, role, org_unit)
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, org_unit=None if role == Role.ADMIN else org_unit
    )
    clear_scope_cache(user)
    return assignment


def _token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_api_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token; the plain key is returned once and never stored."""
    key = "fk_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:10], key_hash=_token_hash(key)
    )
    return token, key


def revoke_api_token(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def user_for_api_key(key: str) -> User | None:
    """The active user owning an unrevoked token with this key, or None. Every API call
    asks: one statement, written once (see :mod:`fangkong.core.fastpath`)."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [_token_hash(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, last_used_at = row[0], fastpath.convert(_LAST_USED, row[1])
    now = timezone.now()
    if last_used_at is None or now - last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return fastpath.from_row(User, row[2:])


_LAST_USED = ApiToken._meta.get_field("last_used_at")


@functools.cache
def _token_sql() -> str:
    q = fastpath.quote
    return (
        f"SELECT t.{q('id')}, t.{q('last_used_at')}, {fastpath.columns(User, 'u')} "
        f"FROM {q(ApiToken._meta.db_table)} t JOIN {q(User._meta.db_table)} u "
        f"ON u.{q('id')} = t.{q('user_id')} "
        f"WHERE t.{q('key_hash')} = %s AND t.{q('revoked_at')} IS NULL AND u.{q('is_active')}"
    )
