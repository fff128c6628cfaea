"""API of the records (mounted by api.py): places to disinfect (with when each is due), the
overdue ones, disinfections, and publicity.

The contracts of :mod:`fangkong.org.api` hold here too:

- A place outside the caller's scope is 404 as a path parameter; an org unit outside it is a
  422 on ``orgunit_id`` in a body ("No such org unit in your scope."), exactly as if it did
  not exist. Lists only ever cover what the caller may see.
- Writes call :mod:`fangkong.checkpoints.services.records` with ``actor`` = the token's user:
  ``duty.manage`` adds places, ``duty.record`` records disinfections and publicity. Without
  the permission anywhere the call is 403 before the body is looked at; over a place or unit
  the caller may see but not act on, 403 as well.
- Invalid input is 422 with the field in ``loc`` (``["body", "payload", "done_at"]``).
- Lists are paginated by ``limit`` and ``offset``; each costs the same number of queries
  whatever its length.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, get_scoped_or_404, restrict
from fangkong.org.api import (
    ERRORS,
    PageIn,
    UnitRef,
    _actor,
    _field_error,
    _local,
    _name,
    _page,
    _ref,
    _require,
    _service_errors,
    _unit_filter,
)
from fangkong.org.models import OrgUnit, User

from .models import Disinfection, DisinfectionPlace, PublicityRecord
from .selectors import records as selectors
from .services import records as services

router = Router(tags=["checkpoints: records"])


# ---------------------------------------------------------------------------------------------
# Schemas


class PlaceRef(Schema):
    id: int
    name: str


class PlaceOut(Schema):
    id: int
    name: str
    unit: UnitRef
    location: str
    times_per_day: int
    last_done_at: dt.datetime | None = Field(description="The latest disinfection.")
    due_at: dt.datetime | None = Field(
        description="When it is due again: the latest disinfection (or, never disinfected, "
        "its creation) + 24 h ÷ times a day."
    )
    overdue: bool = Field(description="Active and past its due time.")
    is_active: bool
    created_at: dt.datetime


class PlacePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PlaceOut]


class PlaceQuery(PageIn):
    unit_id: int | None = Field(None, description="An org unit: the places of its subtree.")
    q: str = Field("", description="Part of the name or location.")
    include_inactive: bool = False


class OverdueQuery(PageIn):
    unit_id: int | None = Field(None, description="An org unit: the places of its subtree.")


class PlaceIn(Schema):
    orgunit_id: int = Field(description="The org unit the place belongs to.")
    name: str
    location: str = ""
    times_per_day: int = Field(2, description="1 to 24 (2: every 12 hours).")


class DisinfectionOut(Schema):
    id: int
    place: PlaceRef
    unit: UnitRef
    done_at: dt.datetime
    agent: str
    done_by: str
    note: str
    recorded_by: str
    created_at: dt.datetime


class DisinfectionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DisinfectionOut]


class DisinfectionQuery(PageIn):
    place_id: int | None = Field(None, description="One place.")
    unit_id: int | None = Field(None, description="An org unit: the places of its subtree.")
    start: dt.date | None = Field(None, description="From this day on (Asia/Shanghai).")
    end: dt.date | None = Field(None, description="Up to this day.")


class DisinfectionIn(Schema):
    done_at: dt.datetime | None = Field(None, description="Default: now; never in the future.")
    agent: str = Field(description="The disinfectant, e.g. 84消毒液 1:100.")
    done_by: str = Field("", description="Default: the caller's name.")
    note: str = ""


class PublicityOut(Schema):
    id: int
    unit: UnitRef
    day: dt.date
    kind: str = Field(description="notice, poster, broadcast, meeting, message, leaflet, other")
    content: str
    place: str = Field(description="Where.")
    reach: int | None = Field(description="About how many people it reached.")
    quantity: int | None = Field(description="Copies or times.")
    recorded_by: str
    created_at: dt.datetime


class PublicityPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PublicityOut]


class PublicityQuery(PageIn):
    unit_id: int | None = Field(None, description="An org unit: the records of its subtree.")
    kind: str = Field("", description="One kind (notice, poster, broadcast, …).")
    start: dt.date | None = Field(None, description="From this day on.")
    end: dt.date | None = Field(None, description="Up to this day.")


class PublicityIn(Schema):
    orgunit_id: int = Field(description="The org unit that did it.")
    day: dt.date
    # A plain string checked by the service, after the permission.
    kind: str = Field(description="notice, poster, broadcast, meeting, message, leaflet, other")
    content: str
    place: str = ""
    reach: int | None = None
    quantity: int | None = None


# ---------------------------------------------------------------------------------------------
# Helpers


# Service errors name their arguments; the API names what it takes.
_API_FIELD = {"unit": "orgunit_id"}


def _place_out(place: DisinfectionPlace) -> dict[str, Any]:
    return {
        "id": place.pk,
        "name": place.name,
        "unit": _ref(place.unit),
        "location": place.location,
        "times_per_day": place.times_per_day,
        "last_done_at": _local(place.last_done_at),
        "due_at": _local(getattr(place, "due", None)),
        "overdue": bool(getattr(place, "overdue", False)),
        "is_active": place.is_active,
        "created_at": _local(place.created_at),
    }


def _disinfection_out(record: Disinfection) -> dict[str, Any]:
    return {
        "id": record.pk,
        "place": {"id": record.place_id, "name": record.place.name},
        "unit": _ref(record.place.unit),
        "done_at": _local(record.done_at),
        "agent": record.agent,
        "done_by": record.done_by,
        "note": record.note,
        "recorded_by": _name(record.recorded_by),
        "created_at": _local(record.created_at),
    }


def _publicity_out(record: PublicityRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "unit": _ref(record.unit),
        "day": record.day,
        "kind": record.kind,
        "content": record.content,
        "place": record.place,
        "reach": record.reach,
        "quantity": record.quantity,
        "recorded_by": _name(record.recorded_by),
        "created_at": _local(record.created_at),
    }


def _body_unit(user: User, orgunit_id: int, perm: Perm) -> OrgUnit:
    """The org unit of a body, seen by the user (else 422 as if it did not exist), where the
    user holds ``perm`` (else 403)."""
    unit = restrict(OrgUnit.objects.filter(is_active=True), user).filter(pk=orgunit_id).first()
    if unit is None:
        raise _field_error("body", "orgunit_id", _("No such org unit in your scope."))
    check_perm_on(user, perm, unit)
    return unit


def _place_detail(user: User, place_id: int) -> dict[str, Any]:
    places = selectors.with_due(DisinfectionPlace.objects.select_related("unit"), timezone.now())
    return _place_out(get_scoped_or_404(places, user, place_id))


# ---------------------------------------------------------------------------------------------
# Places


@router.get(
    "/disinfection-places", response={200: PlacePage, **ERRORS}, summary="Places to disinfect"
)
def list_places(request: HttpRequest, filters: Query[PlaceQuery]) -> dict[str, Any]:
    """The places in the caller's scope, the overdue ones first, then by due time; active
    ones only unless ``include_inactive``."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    places = selectors.places_for(
        user,
        unit=_unit_filter(user, filters.unit_id),
        q=filters.q,
        active=None if filters.include_inactive else True,
    )
    return _page(places, filters, _place_out)


@router.get(
    "/disinfection-places/overdue",
    response={200: PlacePage, **ERRORS},
    summary="Places overdue for disinfection",
)
def list_overdue(request: HttpRequest, filters: Query[OverdueQuery]) -> dict[str, Any]:
    """The active places past their due time now, the longest overdue first (read from the
    places alone)."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    places = selectors.overdue_places(user, unit=_unit_filter(user, filters.unit_id))
    return _page(places, filters, _place_out)


@router.post(
    "/disinfection-places", response={201: PlaceOut, **ERRORS}, summary="Add a place to disinfect"
)
def create_place(request: HttpRequest, payload: PlaceIn) -> Status[dict[str, Any]]:
    """Needs ``duty.manage`` over the org unit."""
    user = _actor(request)
    _require(user, Perm.DUTY_MANAGE)
    unit = _body_unit(user, payload.orgunit_id, Perm.DUTY_MANAGE)
    with _service_errors(_API_FIELD):
        place = services.create_place(
            actor=user,
            unit=unit,
            name=payload.name,
            location=payload.location,
            times_per_day=payload.times_per_day,
        )
    return Status(201, _place_detail(user, place.pk))


# ---------------------------------------------------------------------------------------------
# Disinfections


@router.get(
    "/disinfections", response={200: DisinfectionPage, **ERRORS}, summary="The disinfection log"
)
def list_disinfections(request: HttpRequest, filters: Query[DisinfectionQuery]) -> dict[str, Any]:
    """The disinfections in the caller's scope, newest first."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    place = None
    if filters.place_id is not None:
        place = restrict(DisinfectionPlace.objects.all(), user).filter(pk=filters.place_id).first()
        if place is None:
            raise _field_error("query", "place_id", _("No such place in your scope."))
    records = selectors.disinfections_for(
        user,
        selectors.LogFilters(
            unit=_unit_filter(user, filters.unit_id),
            place=place,
            start=filters.start,
            end=filters.end,
        ),
    )
    return _page(records, filters, _disinfection_out)


@router.post(
    "/disinfection-places/{place_id}/disinfections",
    response={201: DisinfectionOut, **ERRORS},
    summary="Record a disinfection",
)
def record_disinfection(
    request: HttpRequest, place_id: int, payload: DisinfectionIn
) -> Status[dict[str, Any]]:
    """A disinfection of the place, done now unless ``done_at`` says when (not in the
    future). Needs ``duty.record`` over the place's unit."""
    user = _actor(request)
    _require(user, Perm.DUTY_RECORD)
    place = get_scoped_or_404(
        DisinfectionPlace.objects.select_related("unit"), user, place_id, Perm.DUTY_RECORD
    )
    with _service_errors(_API_FIELD):
        record = services.record_disinfection(
            actor=user,
            place=place,
            done_at=payload.done_at,
            agent=payload.agent,
            done_by=payload.done_by,
            note=payload.note,
        )
    record = Disinfection.objects.select_related("place", "place__unit", "recorded_by").get(
        pk=record.pk
    )
    return Status(201, _disinfection_out(record))


# ---------------------------------------------------------------------------------------------
# Publicity


@router.get("/publicity", response={200: PublicityPage, **ERRORS}, summary="Publicity records")
def list_publicity(request: HttpRequest, filters: Query[PublicityQuery]) -> dict[str, Any]:
    """The publicity records in the caller's scope, newest day first."""
    user = _actor(request)
    _require(user, Perm.DUTY_VIEW)
    if filters.kind and filters.kind not in PublicityRecord.Kind.values:
        raise _field_error(
            "query", "kind", _("Choose the kind: notice, poster, broadcast, meeting, …")
        )
    records = selectors.publicity_for(
        user,
        selectors.PublicityFilters(
            unit=_unit_filter(user, filters.unit_id),
            kind=filters.kind,
            start=filters.start,
            end=filters.end,
        ),
    )
    return _page(records, filters, _publicity_out)


@router.post("/publicity", response={201: PublicityOut, **ERRORS}, summary="Record publicity")
def create_publicity(request: HttpRequest, payload: PublicityIn) -> Status[dict[str, Any]]:
    """Needs ``duty.record`` over the org unit."""
    user = _actor(request)
    _require(user, Perm.DUTY_RECORD)
    unit = _body_unit(user, payload.orgunit_id, Perm.DUTY_RECORD)
    with _service_errors(_API_FIELD):
        record = services.create_publicity(
            actor=user,
            unit=unit,
            day=payload.day,
            kind=payload.kind,
            content=payload.content,
            place=payload.place,
            reach=payload.reach,
            quantity=payload.quantity,
        )
    record = PublicityRecord.objects.select_related("unit", "recorded_by").get(pk=record.pk)
    return Status(201, _publicity_out(record))
