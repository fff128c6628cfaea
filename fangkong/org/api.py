"""API endpoints of the organisation and the register: org units, households and persons.

Contracts, the same for every endpoint here:

- Reads go through :mod:`fangkong.org.selectors` and :mod:`fangkong.core.scoping`: an object
  outside the caller's view scope is 404, exactly as if it did not exist; lists, counts and
  searches only ever contain what the caller may see.
- Writes call :mod:`fangkong.org.services` with ``actor`` = the token's user. An object the
  caller may see but not change is 403, and nothing is written.
- Foreign keys in bodies are ids (``grid_id``, ``household_id``, ``parent_id``, ``head_id``).
  An id that does not exist or lies outside the caller's scope is a 422 error on that field
  ("No such grid in your scope."), never a hint that the object exists.
- ID numbers and phone numbers are always masked (``110105********002X``, ``138****5678``),
  whatever the role; the full value is only returned by ``POST /persons/{person_id}/reveal``,
  which records the access.
- Invalid input is 422 ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``; the last
  element of ``loc`` names the field, as written in the request (``grid_id``, not ``grid``).
- Lists are paginated by ``limit`` and ``offset`` and report the total ``count`` and the
  ``limit`` applied: a limit above :data:`MAX_PAGE_SIZE` is reduced to it. Each list costs the
  same number of queries whatever its length.
- Creating needs the right somewhere before anything else is looked at (403 otherwise), like
  the pages: ``register.edit`` for households and persons, ``org.manage`` for org units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, cast

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as ApiValidationError

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, get_scoped_or_404, has_perm, restrict

from . import selectors, services
from .models import Household, OrgUnit, Person, User

router = Router(tags=["org"])

MAX_PAGE_SIZE = 200
M = TypeVar("M", bound=models.Model)

# Service errors name model fields; the API names the ids it takes.
_API_FIELD = {
    "grid": "grid_id",
    "household": "household_id",
    "parent": "parent_id",
    "head": "head_id",
}


# ---------------------------------------------------------------------------------------------
# Schemas


class Message(Schema):
    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(Schema):
    detail: list[FieldError]


ERRORS: dict[int, type[Schema]] = {403: Message, 404: Message, 422: ValidationErrors}


class UnitRef(Schema):
    id: int
    code: str
    name: str


class PersonRef(Schema):
    id: int
    name: str


class HouseholdRef(Schema):
    id: int
    address: str


class PageIn(Schema):
    limit: int = Field(
        settings.PAGE_SIZE, ge=1, description=f"Page size; at most {MAX_PAGE_SIZE} are returned."
    )
    offset: int = Field(0, ge=0, description="Rows to skip.")


class OrgUnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent: UnitRef | None
    depth: int
    responsible: str
    responsible_phone: str = Field(description="Masked, e.g. 138****5678.")
    is_active: bool


class OrgUnitPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrgUnitOut]


class OrgUnitQuery(PageIn):
    kind: OrgUnit.Kind | None = None
    parent: str = Field("", description="Code of the parent unit: its direct children.")


class OrgUnitCreate(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    kind: OrgUnit.Kind
    parent_id: int | None = None
    responsible: str = Field("", max_length=200)
    responsible_phone: str = ""


class OrgUnitUpdate(Schema):
    """Only the fields sent are changed. Code, kind and parent never change."""

    name: str = Field("", max_length=100)
    responsible: str = Field("", max_length=200)
    responsible_phone: str = ""


class HouseholdOut(Schema):
    id: int
    address: str
    phone: str = Field(description="Masked, e.g. 138****5678.")
    note: str
    grid: UnitRef
    unit: UnitRef | None = Field(description="The org unit the grid belongs to.")
    head: PersonRef | None
    member_count: int
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class HouseholdPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[HouseholdOut]


class HouseholdQuery(PageIn):
    q: str = Field("", description="Substring of the address or phone.")
    unit_id: int | None = Field(None, description="An org unit: households in its subtree.")


class HouseholdCreate(Schema):
    grid_id: int
    address: str = Field(max_length=200)
    phone: str = ""
    note: str = Field("", max_length=200)


class HouseholdUpdate(Schema):
    """Only the fields sent are changed. A new ``grid_id`` moves the household and its members;
    ``head_id`` must be a member of the household (null: no head)."""

    grid_id: int | None = None
    address: str = Field("", max_length=200)
    phone: str = ""
    note: str = Field("", max_length=200)
    head_id: int | None = None


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    id_number: str = Field(description="Masked, e.g. 110105********002X; empty if none.")
    lacks_id_number: bool
    birth_date: dt.date | None
    phone: str = Field(description="Masked, e.g. 138****5678.")
    grid: UnitRef
    household: HouseholdRef | None
    relation: str
    category: str
    status: str
    occupation: str
    note: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class PersonWriteOut(PersonOut):
    warnings: list[str] = Field(description="Accepted, but worth a second look.")


class PersonPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PersonOut]


class PersonQuery(PageIn):
    q: str = Field("", description="Substring of the name, ID number or phone.")
    unit_id: int | None = Field(None, description="An org unit: persons in its subtree.")
    category: Person.Category | None = None
    status: Person.Status | None = None
    lacks_id: bool = Field(False, description="Only persons without an ID number.")
    household_id: int | None = None


class PersonCreate(Schema):
    """A person in a household (the grid is the household's) or directly in a grid."""

    name: str = Field(max_length=50)
    household_id: int | None = None
    grid_id: int | None = None
    sex: Person.Sex = Person.Sex.UNKNOWN
    id_number: str = Field("", max_length=30)
    birth_date: dt.date | None = None
    phone: str = ""
    relation: Person.Relation = Person.Relation.OTHER
    category: Person.Category = Person.Category.RESIDENT
    occupation: str = Field("", max_length=50)
    note: str = Field("", max_length=200)


class PersonUpdate(Schema):
    """Only the fields sent are changed. ``household_id`` null takes the person out of their
    household (they stay in its grid unless ``grid_id`` is sent too)."""

    name: str = Field("", max_length=50)
    household_id: int | None = None
    grid_id: int | None = None
    sex: Person.Sex = Person.Sex.UNKNOWN
    id_number: str = Field("", max_length=30)
    birth_date: dt.date | None = None
    phone: str = ""
    relation: Person.Relation = Person.Relation.OTHER
    category: Person.Category = Person.Category.RESIDENT
    status: Person.Status = Person.Status.NORMAL
    occupation: str = Field("", max_length=50)
    note: str = Field("", max_length=200)


class RevealIn(Schema):
    field: Literal["id_number", "phone"]


class RevealOut(Schema):
    field: str
    value: str


# ---------------------------------------------------------------------------------------------
# Helpers


def _actor(request: HttpRequest) -> User:
    """The user of the bearer token (set by fangkong.api.BearerToken)."""
    return cast(User, request.auth)  # type: ignore[attr-defined]


def _answer(request: HttpRequest, status: int, data: dict[str, Any]) -> HttpResponse:
    """``data`` rendered with ``status`` as the API renders every answer, without validating it
    once more against the operation's response schema. For the phones' hot paths only, whose
    answer one function builds from the saved row with the schema's types (a test holds each
    to its schema): that second pass cost about a twentieth of a reading's time."""
    from fangkong.api import api

    return api.create_response(request, data, status=status)


def _require(user: User, perm: Perm) -> None:
    """403 unless ``user`` holds ``perm`` somewhere (what the pages' ``requires`` checks)."""
    if not has_perm(user, perm):
        raise PermissionDenied


def _field_error(source: str, field: str, message: str) -> ApiValidationError:
    loc: list[str] = [source, "payload", field] if source == "body" else [source, field]
    return ApiValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


@contextmanager
def _service_errors(names: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn a service's ValidationError into a 422 naming the request's fields (``names``:
    the API's name of a service's field, this module's :data:`_API_FIELD` by default)."""
    fields = _API_FIELD if names is None else names
    try:
        yield
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            pairs = [
                (field, message)
                for field, messages in error.message_dict.items()
                for message in messages
            ]
        else:
            pairs = [(NON_FIELD_ERRORS, message) for message in error.messages]
        detail = [
            {
                "loc": ["body", "payload"]
                + ([] if field == NON_FIELD_ERRORS else [fields.get(field, field)]),
                "msg": message,
                "type": "value_error",
            }
            for field, message in pairs
        ]
        raise ApiValidationError(detail) from None


def _in_scope(
    queryset: QuerySet[M], user: User, pk: int, *, field: str, message: str, source: str = "body"
) -> M:
    """The object ``pk`` among those ``user`` may see, or a 422 on ``field``."""
    obj = restrict(queryset, user).filter(pk=pk).first()
    if obj is None:
        raise _field_error(source, field, message)
    return obj


def _grid(user: User, pk: int) -> OrgUnit:
    return _in_scope(
        OrgUnit.objects.filter(is_active=True),
        user,
        pk,
        field="grid_id",
        message=_("No such grid in your scope."),
    )


def _household(user: User, pk: int) -> Household:
    return _in_scope(
        Household.objects.filter(is_active=True).select_related("grid"),
        user,
        pk,
        field="household_id",
        message=_("No such household in your scope."),
    )


def _unit_filter(user: User, pk: int | None) -> OrgUnit | None:
    if pk is None:
        return None
    return _in_scope(
        OrgUnit.objects.filter(is_active=True),
        user,
        pk,
        field="unit_id",
        message=_("No such org unit in your scope."),
        source="query",
    )


def _page(
    queryset: QuerySet[M],
    page: PageIn,
    convert: Callable[[M], dict[str, Any]],
    prepare: Callable[[Sequence[M]], None] | None = None,
) -> dict[str, Any]:
    """One page of ``queryset``: count and rows (and ``prepare``'s batch query for the page),
    whatever the page size."""
    limit = min(page.limit, MAX_PAGE_SIZE)
    rows: Sequence[M] = list(queryset[page.offset : page.offset + limit])
    if prepare is not None:
        prepare(rows)
    return {
        "count": queryset.count(),
        "limit": limit,
        "offset": page.offset,
        "items": [convert(row) for row in rows],
    }


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Times are answered in local time (Asia/Shanghai), however they were stored."""
    return timezone.localtime(moment) if moment is not None else None


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _ref(unit: OrgUnit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"id": unit.pk, "code": unit.code, "name": unit.name}


def _unit_out(unit: OrgUnit) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": _ref(unit.parent),
        "depth": unit.depth,
        "responsible": unit.responsible,
        "responsible_phone": mask_phone(unit.responsible_phone),
        "is_active": unit.is_active,
    }


def _household_out(household: Household) -> dict[str, Any]:
    head = household.head
    return {
        "id": household.pk,
        "address": household.address,
        "phone": mask_phone(household.phone),
        "note": household.note,
        "grid": _ref(household.grid),
        "unit": _ref(household.grid.parent),
        "head": {"id": head.pk, "name": head.name} if head is not None else None,
        "member_count": household.member_count,  # type: ignore[attr-defined]
        "is_active": household.is_active,
        "created_at": household.created_at,
        "updated_at": household.updated_at,
    }


def _person_out(person: Person) -> dict[str, Any]:
    household = person.household
    return {
        "id": person.pk,
        "name": person.name,
        "sex": person.sex,
        "id_number": mask_id_number(person.id_number),
        "lacks_id_number": person.lacks_id_number,
        "birth_date": person.birth_date,
        "phone": mask_phone(person.phone),
        "grid": _ref(person.grid),
        "household": (
            {"id": household.pk, "address": household.address} if household is not None else None
        ),
        "relation": person.relation,
        "category": person.category,
        "status": person.status,
        "occupation": person.occupation,
        "note": person.note,
        "is_active": person.is_active,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
    }


def _scoped_unit(user: User, orgunit_id: int) -> OrgUnit:
    return get_scoped_or_404(selectors.units_for(user).select_related("parent"), user, orgunit_id)


def _scoped_household(user: User, household_id: int) -> Household:
    household = get_scoped_or_404(selectors.households_for(user), user, household_id)
    selectors.attach_member_counts([household])
    return household


def _scoped_person(user: User, person_id: int) -> Person:
    return get_scoped_or_404(selectors.persons_for(user), user, person_id)


# ---------------------------------------------------------------------------------------------
# Org units


@router.get("/org-units", response=OrgUnitPage, summary="List org units")
def list_org_units(request: HttpRequest, filters: Query[OrgUnitQuery]) -> dict[str, Any]:
    """Active org units in scope, in tree order; ``kind`` and ``parent`` (a code) filter."""
    user = _actor(request)
    units = selectors.units_for(user, kind=filters.kind).select_related("parent")
    if filters.parent:
        units = units.filter(parent__code=filters.parent.strip().upper())
    return _page(units, filters, _unit_out)


@router.get("/org-units/{orgunit_id}", response={200: OrgUnitOut, **ERRORS}, summary="Org unit")
def get_org_unit(request: HttpRequest, orgunit_id: int) -> dict[str, Any]:
    return _unit_out(_scoped_unit(_actor(request), orgunit_id))


@router.post("/org-units", response={201: OrgUnitOut, **ERRORS}, summary="Add an org unit")
def create_org_unit(request: HttpRequest, payload: OrgUnitCreate) -> Status[dict[str, Any]]:
    """Needs ``org.manage`` over the parent (over everything for a unit without parent)."""
    user = _actor(request)
    _require(user, Perm.ORG_MANAGE)
    parent = None
    if payload.parent_id is not None:
        parent = _in_scope(
            OrgUnit.objects.filter(is_active=True),
            user,
            payload.parent_id,
            field="parent_id",
            message=_("No such org unit in your scope."),
        )
        check_perm_on(user, Perm.ORG_MANAGE, parent)
    with _service_errors():
        unit = services.create_org_unit(
            actor=user,
            code=payload.code,
            name=payload.name,
            kind=payload.kind,
            parent=parent,
            responsible=payload.responsible,
            responsible_phone=payload.responsible_phone,
        )
    return Status(201, _unit_out(_scoped_unit(user, unit.pk)))


@router.patch(
    "/org-units/{orgunit_id}", response={200: OrgUnitOut, **ERRORS}, summary="Change an org unit"
)
def update_org_unit(
    request: HttpRequest, orgunit_id: int, payload: OrgUnitUpdate
) -> dict[str, Any]:
    """Needs ``org.manage`` over the unit."""
    user = _actor(request)
    unit = get_scoped_or_404(
        OrgUnit.objects.filter(is_active=True), user, orgunit_id, Perm.ORG_MANAGE
    )
    with _service_errors():
        services.update_org_unit(actor=user, unit=unit, **payload.model_dump(exclude_unset=True))
    return _unit_out(_scoped_unit(user, unit.pk))


# ---------------------------------------------------------------------------------------------
# Households


@router.get(
    "/households", response={200: HouseholdPage, 422: ValidationErrors}, summary="List households"
)
def list_households(request: HttpRequest, filters: Query[HouseholdQuery]) -> dict[str, Any]:
    """Active households in scope, by grid and address."""
    user = _actor(request)
    households = selectors.households_for(
        user,
        selectors.HouseholdFilters(q=filters.q, unit=_unit_filter(user, filters.unit_id)),
    )
    return _page(households, filters, _household_out, selectors.attach_member_counts)


@router.get(
    "/households/{household_id}", response={200: HouseholdOut, **ERRORS}, summary="Household"
)
def get_household(request: HttpRequest, household_id: int) -> dict[str, Any]:
    return _household_out(_scoped_household(_actor(request), household_id))


@router.post("/households", response={201: HouseholdOut, **ERRORS}, summary="Add a household")
def create_household(request: HttpRequest, payload: HouseholdCreate) -> Status[dict[str, Any]]:
    """Needs ``register.edit`` over the grid."""
    user = _actor(request)
    _require(user, Perm.REGISTER_EDIT)
    grid = _grid(user, payload.grid_id)
    check_perm_on(user, Perm.REGISTER_EDIT, grid)
    with _service_errors():
        household = services.create_household(
            actor=user, grid=grid, address=payload.address, phone=payload.phone, note=payload.note
        )
    return Status(201, _household_out(_scoped_household(user, household.pk)))


@router.patch(
    "/households/{household_id}",
    response={200: HouseholdOut, **ERRORS},
    summary="Change or move a household",
)
def update_household(
    request: HttpRequest, household_id: int, payload: HouseholdUpdate
) -> dict[str, Any]:
    """Needs ``register.edit`` over the household, and over the new grid when it moves."""
    user = _actor(request)
    household = get_scoped_or_404(
        Household.objects.filter(is_active=True), user, household_id, Perm.REGISTER_EDIT
    )
    data = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {k: v for k, v in data.items() if k not in ("grid_id", "head_id")}
    if "grid_id" in data:
        changes["grid"] = None if data["grid_id"] is None else _grid(user, data["grid_id"])
        if changes["grid"] is not None:
            check_perm_on(user, Perm.REGISTER_EDIT, changes["grid"])
    if "head_id" in data:
        changes["head"] = (
            None
            if data["head_id"] is None
            else _in_scope(
                Person.objects.filter(is_active=True),
                user,
                data["head_id"],
                field="head_id",
                message=_("No such person in your scope."),
            )
        )
    with _service_errors():
        services.update_household(actor=user, household=household, **changes)
    return _household_out(_scoped_household(user, household.pk))


# ---------------------------------------------------------------------------------------------
# Persons


@router.get("/persons", response={200: PersonPage, 422: ValidationErrors}, summary="List persons")
def list_persons(request: HttpRequest, filters: Query[PersonQuery]) -> dict[str, Any]:
    """Active persons in scope, by grid and name."""
    user = _actor(request)
    household = None
    if filters.household_id is not None:
        household = _in_scope(
            Household.objects.filter(is_active=True),
            user,
            filters.household_id,
            field="household_id",
            message=_("No such household in your scope."),
            source="query",
        )
    persons = selectors.persons_for(
        user,
        selectors.PersonFilters(
            q=filters.q,
            unit=_unit_filter(user, filters.unit_id),
            category=filters.category or "",
            status=filters.status or "",
            lacks_id=filters.lacks_id,
            household=household,
        ),
    )
    return _page(persons, filters, _person_out)


@router.get("/persons/{person_id}", response={200: PersonOut, **ERRORS}, summary="Person")
def get_person(request: HttpRequest, person_id: int) -> dict[str, Any]:
    return _person_out(_scoped_person(_actor(request), person_id))


def _person_changes(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Service keyword arguments from a body: ids become objects in the caller's scope."""
    changes = {k: v for k, v in data.items() if k not in ("grid_id", "household_id")}
    if "household_id" in data:
        changes["household"] = (
            None if data["household_id"] is None else _household(user, data["household_id"])
        )
    if "grid_id" in data:
        changes["grid"] = None if data["grid_id"] is None else _grid(user, data["grid_id"])
    return changes


def _write_out(result: services.PersonResult, user: User) -> dict[str, Any]:
    return {**_person_out(_scoped_person(user, result.person.pk)), "warnings": result.warnings}


@router.post("/persons", response={201: PersonWriteOut, **ERRORS}, summary="Add a person")
def create_person(request: HttpRequest, payload: PersonCreate) -> Status[dict[str, Any]]:
    """Needs ``register.edit`` over the household (or the grid, for a person without one)."""
    user = _actor(request)
    _require(user, Perm.REGISTER_EDIT)
    changes = _person_changes(user, payload.model_dump())
    target = changes.get("household") or changes.get("grid")
    if target is not None:
        check_perm_on(user, Perm.REGISTER_EDIT, target)
    with _service_errors():
        result = services.create_person(actor=user, **changes)
    return Status(201, _write_out(result, user))


@router.patch(
    "/persons/{person_id}", response={200: PersonWriteOut, **ERRORS}, summary="Change a person"
)
def update_person(request: HttpRequest, person_id: int, payload: PersonUpdate) -> dict[str, Any]:
    """Needs ``register.edit`` over the person, and over the new household or grid."""
    user = _actor(request)
    person = get_scoped_or_404(
        Person.objects.filter(is_active=True), user, person_id, Perm.REGISTER_EDIT
    )
    changes = _person_changes(user, payload.model_dump(exclude_unset=True))
    target = changes.get("household") or changes.get("grid")
    if target is not None:
        check_perm_on(user, Perm.REGISTER_EDIT, target)
    with _service_errors():
        result = services.update_person(actor=user, person=person, **changes)
    return _write_out(result, user)


@router.post(
    "/persons/{person_id}/reveal",
    response={200: RevealOut, **ERRORS},
    summary="Show a full ID or phone number (recorded)",
)
def reveal_person_field(request: HttpRequest, person_id: int, payload: RevealIn) -> dict[str, Any]:
    """Needs ``pii.reveal`` over the person. Every call is recorded as a SensitiveAccess."""
    user = _actor(request)
    person = get_scoped_or_404(
        Person.objects.filter(is_active=True), user, person_id, Perm.PII_REVEAL
    )
    with _service_errors():
        value = services.reveal_person_field(actor=user, person=person, field_name=payload.field)
    return {"field": payload.field, "value": value}
