"""API of the checkpoints and their entry log (mounted by api.py under /api/v1/).

- ``GET /checkpoints``, ``GET /checkpoints/{checkpoint_id}``: the checkpoints in scope.
- ``POST /checkpoints/{checkpoint_id}/entries``: log an entry (a person on foot, or a
  vehicle with its occupants). 201 with the entry when recorded; 200 with the same entry when
  the request repeats an idempotency key (in the body, or the ``Idempotency-Key`` header): a
  gate phone retrying on a bad network records once. Needs ``checkpoints.record`` over the
  checkpoint: without it anywhere 403 before the body is looked at, a checkpoint outside the
  caller's scope 404, one the caller may only see 403.
- ``GET /checkpoint-entries`` (newest first, paginated), ``GET /checkpoint-entries/{entry_id}``.
- ``GET /checkpoint-counts?from=&to=``: per checkpoint per day, entries, persons, vehicles,
  fevers and flagged entries.

The contracts of :mod:`fangkong.org.api` hold: invalid input is 422 with the field in
``loc`` (``["body", "payload", "people", 0, "temperature"]``, ``["body", "payload",
"plate"]``), a person or checkpoint outside the scope is a 422 on its field in a body or a
query (as if it did not exist), ID and phone numbers are masked, each list costs the same
number of queries whatever its length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as ApiValidationError
from ninja.params import HeaderEx, P

from fangkong.alerts.models import Alert
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, get_scoped_or_404, may_see, restrict
from fangkong.org.api import ERRORS, PageIn, UnitRef, _actor, _local, _page, _ref, _require
from fangkong.org.models import Person, User
from fangkong.screening.models import Region

from .models import Checkpoint, Entry, EntryPerson
from .selectors import entries as selectors
from .services import entries as services

router = Router(tags=["checkpoints"])

Loc = list[str | int]
_BODY: Loc = ["body", "payload"]
# Service errors name model fields; the API names the ids it takes.
_API_FIELD = {"person": "person_id", "checkpoint": "checkpoint_id"}
IDEMPOTENCY_HEADER = P(
    alias="Idempotency-Key", description="The key of a gate phone's entry, if not in the body."
)


# ---------------------------------------------------------------------------------------------
# Schemas


class CheckpointOperatorOut(Schema):
    id: int
    username: str
    name: str


class CheckpointOut(Schema):
    id: int
    name: str
    location: str
    unit: UnitRef
    intake_grid: UnitRef | None = Field(
        description="Where a flagged outsider is registered (None: the unit's first grid)."
    )
    operators: list[CheckpointOperatorOut]
    is_active: bool


class CheckpointPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CheckpointOut]


class CheckpointQuery(PageIn):
    active: bool | None = Field(None, description="Only the open (true) or closed (false) ones.")


class EntryCountsOut(Schema):
    entries: int
    persons: int
    vehicles: int
    fevers: int = Field(description="Entries with someone at or above the fever threshold.")
    flagged: int


class CheckpointDetailOut(CheckpointOut):
    today: EntryCountsOut = Field(description="What passed today (Asia/Shanghai).")


class EntryPersonBody(Schema):
    person_id: int | None = Field(None, description="A person of the register in your scope.")
    name: str = Field("", description="An outsider's name (when there is no person_id).")
    id_number: str = Field("", description="An outsider's resident ID number, if known.")
    phone: str = Field("", description="An outsider's mobile number, if known.")
    temperature: str | float | None = Field(
        None, description="°C, e.g. 36.5 (34.0 to 43.0); needed for everyone entering."
    )
    symptoms: list[str] = Field(default_factory=list, description="Codes from the list.")
    disinfected: bool | None = None


class EntryBody(Schema):
    at: dt.datetime | None = Field(None, description="Default: now; never in the future.")
    direction: Literal["in", "out"] = "in"
    plate: str = Field("", description="A Chinese plate (甘G12345, 甘GD12345); empty on foot.")
    vehicle_disinfected: bool | None = None
    from_region: str | None = Field(
        None, description="Where from: a GB/T 2260 region code, e.g. 420100."
    )
    purpose: str = ""
    note: str = ""
    idempotency_key: str = Field(
        "", max_length=80, description="Or the Idempotency-Key header: sent again, same entry."
    )
    people: list[EntryPersonBody] = Field(
        default_factory=list, description="The person on foot, or the driver first."
    )


class EntryPersonOut(Schema):
    person_id: int | None = Field(description="The register's person (None: an outsider).")
    name: str
    id_number: str = Field(description="Masked, e.g. 110105********002X.")
    phone: str = Field(description="Masked, e.g. 138****5678.")
    temperature: float | None = Field(description="°C")
    symptoms: list[str]
    is_fever: bool
    is_flagged: bool
    disinfected: bool | None
    screening_id: int | None = Field(description="The new-arrival record made for them.")


class EntryOut(Schema):
    id: int
    checkpoint_id: int
    at: dt.datetime
    day: dt.date
    direction: str
    plate: str
    vehicle_disinfected: bool | None
    from_region: str | None = Field(description="The region code.")
    risk_level: str = Field(description="high, medium, low or empty: the origin's that day.")
    purpose: str
    note: str
    names: str
    people_count: int
    max_temperature: float | None
    has_fever: bool
    is_flagged: bool
    people: list[EntryPersonOut]
    alert_id: int | None = Field(description="The alert a flagged entry raised.")


class EntryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EntryOut]


class EntryQuery(PageIn):
    checkpoint_id: int | None = None
    day: dt.date | None = Field(None, description="One day (Asia/Shanghai).")
    flagged: bool | None = Field(None, description="true: only the flagged entries.")
    fever: bool | None = Field(None, description="true: only entries with a fever.")
    direction: Literal["in", "out"] | None = None
    plate: str = Field("", description="A whole plate, or its start.")


class EntryCountRowOut(EntryCountsOut):
    day: dt.date
    checkpoint_id: int
    checkpoint: str
    unit: str


class EntryCountsPage(Schema):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    rows: list[EntryCountRowOut]
    total: EntryCountsOut


class EntryCountsQuery(Schema):
    start: dt.date | None = Field(None, alias="from", description="Default: 6 days before to.")
    end: dt.date | None = Field(None, alias="to", description="Default: today.")
    checkpoint_id: int | None = None


# ---------------------------------------------------------------------------------------------
# Helpers


def _problem(loc: Sequence[str | int], message: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": message, "type": "value_error"}


def _api_loc(field: str) -> Loc:
    """``people.2.person`` → ``["people", 2, "person_id"]``."""
    return [
        int(part) if part.isdigit() else _API_FIELD.get(part, part) for part in field.split(".")
    ]


@contextmanager
def _service_errors(prefix: Sequence[str | int] = _BODY) -> Iterator[None]:
    """Turn a service's ValidationError into a 422 naming the request's fields."""
    try:
        yield
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            pairs = [(f, m) for f, messages in error.message_dict.items() for m in messages]
        else:
            pairs = [(NON_FIELD_ERRORS, m) for m in error.messages]
        raise ApiValidationError(
            [
                _problem([*prefix, *([] if f == NON_FIELD_ERRORS else _api_loc(f))], m)
                for f, m in pairs
            ]
        ) from None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _counts_out(counts: selectors.Counts) -> dict[str, int]:
    return {name: getattr(counts, name) for name in selectors.COUNT_FIELDS}


def _user_out(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "name": user.full_name or user.username}


def _checkpoint_out(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "id": checkpoint.pk,
        "name": checkpoint.name,
        "location": checkpoint.location,
        "unit": _ref(checkpoint.unit),
        "intake_grid": _ref(checkpoint.intake_grid),
        "operators": [
            _user_out(u) for u in sorted(checkpoint.operators.all(), key=lambda u: u.username)
        ],
        "is_active": checkpoint.is_active,
    }


def _person_out(row: EntryPerson) -> dict[str, Any]:
    person = row.person if row.person_id is not None else None
    return {
        "person_id": row.person_id,
        "name": row.name,
        "id_number": mask_id_number(person.id_number if person is not None else row.id_number),
        "phone": mask_phone(person.phone if person is not None else row.phone),
        "temperature": _float(row.temperature),
        "symptoms": row.symptoms,
        "is_fever": row.is_fever,
        "is_flagged": row.is_flagged,
        "disinfected": row.disinfected,
        "screening_id": row.screening_id,
    }


def _entry_out(entry: Entry, people: Sequence[EntryPerson], alert_id: int | None) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "checkpoint_id": entry.checkpoint_id,
        "at": _local(entry.at),
        "day": entry.day,
        "direction": entry.direction,
        "plate": entry.plate,
        "vehicle_disinfected": entry.vehicle_disinfected,
        "from_region": entry.from_region_id,
        "risk_level": entry.risk_level,
        "purpose": entry.purpose,
        "note": entry.note,
        "names": entry.names,
        "people_count": entry.people_count,
        "max_temperature": _float(entry.max_temperature),
        "has_fever": entry.has_fever,
        "is_flagged": entry.is_flagged,
        "people": [_person_out(row) for row in people],
        "alert_id": alert_id,
    }


def _people_of(entries: Sequence[Entry]) -> dict[int, list[EntryPerson]]:
    found: dict[int, list[EntryPerson]] = {}
    rows = (
        EntryPerson.objects.filter(entry__in=[e.pk for e in entries])
        .select_related("person")
        .order_by("entry_id", "position")
    )
    for row in rows:
        found.setdefault(row.entry_id, []).append(row)
    return found


def _alerts_of(entries: Sequence[Entry]) -> dict[int, int]:
    """The alert of each flagged entry (one query, when any is flagged)."""
    keys = {selectors.alert_key(e.pk): e.pk for e in entries if e.is_flagged}
    if not keys:
        return {}
    return {
        keys[key]: pk for key, pk in Alert.objects.filter(key__in=keys).values_list("key", "pk")
    }


def _scoped_checkpoint(user: User, checkpoint_id: int) -> Checkpoint:
    return get_scoped_or_404(
        Checkpoint.objects.select_related("unit", "intake_grid").prefetch_related("operators"),
        user,
        checkpoint_id,
    )


def _checkpoint_filter(user: User, checkpoint_id: int | None) -> Checkpoint | None:
    if checkpoint_id is None:
        return None
    checkpoint = restrict(Checkpoint.objects.all(), user).filter(pk=checkpoint_id).first()
    if checkpoint is None:
        raise ApiValidationError(
            [_problem(["query", "checkpoint_id"], _("No such checkpoint in your scope."))]
        )
    return checkpoint


def _resolve_people(user: User, body: EntryBody) -> list[services.EntryPersonIn]:
    """The body's people with their register persons (one query); an unknown person is a
    422 on its ``person_id``."""
    ids = {p.person_id for p in body.people if p.person_id is not None}
    persons: dict[int, Person] = {}
    if ids:
        persons = {
            p.pk: p
            for p in restrict(
                Person.objects.filter(pk__in=ids, is_active=True).select_related("grid"), user
            )
        }
    problems = [
        _problem([*_BODY, "people", i, "person_id"], _("No such person in your scope."))
        for i, p in enumerate(body.people)
        if p.person_id is not None and p.person_id not in persons
    ]
    if problems:
        raise ApiValidationError(problems)
    return [
        services.EntryPersonIn(
            person=persons[p.person_id] if p.person_id is not None else None,
            name=p.name,
            id_number=p.id_number,
            phone=p.phone,
            temperature=None if p.temperature is None else str(p.temperature),
            symptoms=p.symptoms,
            disinfected=p.disinfected,
        )
        for p in body.people
    ]


def _region(code: str | None) -> Region | None:
    if not code:
        return None
    region = Region.objects.filter(pk=code.strip()).first()
    if region is None:
        raise ApiValidationError(
            [
                _problem(
                    [*_BODY, "from_region"],
                    _("No region has the code %(code)s: send a GB/T 2260 code, e.g. 420100.")
                    % {"code": code},
                )
            ]
        )
    return region


# ---------------------------------------------------------------------------------------------
# Checkpoints


@router.get("/checkpoints", response={200: CheckpointPage, **ERRORS}, summary="List checkpoints")
def list_checkpoints(request: HttpRequest, filters: Query[CheckpointQuery]) -> dict[str, Any]:
    """The checkpoints in scope, by unit and name, with their operators."""
    user = _actor(request)
    _require(user, Perm.CHECKPOINTS_VIEW)
    checkpoints = (
        selectors.checkpoints_for(user, active=filters.active)
        .select_related("intake_grid")
        .prefetch_related("operators")
    )
    return _page(checkpoints, filters, _checkpoint_out)


@router.get(
    "/checkpoints/{checkpoint_id}",
    response={200: CheckpointDetailOut, **ERRORS},
    summary="Checkpoint",
)
def get_checkpoint(request: HttpRequest, checkpoint_id: int) -> dict[str, Any]:
    """A checkpoint, with today's counts."""
    user = _actor(request)
    checkpoint = _scoped_checkpoint(user, checkpoint_id)
    today = timezone.localdate()
    counts = selectors.counts_by_checkpoint([checkpoint.pk], today)
    return {
        **_checkpoint_out(checkpoint),
        "today": _counts_out(counts.get(checkpoint.pk, selectors.Counts())),
    }


# ---------------------------------------------------------------------------------------------
# Entries


@router.post(
    "/checkpoints/{checkpoint_id}/entries",
    response={200: EntryOut, 201: EntryOut, **ERRORS},
    summary="Log an entry",
)
def log_entry(
    request: HttpRequest,
    checkpoint_id: int,
    payload: EntryBody,
    idempotency_key: HeaderEx[str | None, IDEMPOTENCY_HEADER] = None,
) -> Status[dict[str, Any]]:
    """201 with the entry (its people, flags and the ``alert_id`` a flagged one raised);
    200 with the first entry when its idempotency key was seen already, recording nothing.
    A key used at another checkpoint is a 422 on ``idempotency_key``."""
    user = _actor(request)
    _require(user, Perm.CHECKPOINTS_RECORD)
    checkpoint = Checkpoint.objects.select_related("unit").filter(pk=checkpoint_id).first()
    if checkpoint is None or not may_see(user, checkpoint):
        raise Http404
    check_perm_on(user, Perm.CHECKPOINTS_RECORD, checkpoint)
    people = _resolve_people(user, payload)
    region = _region(payload.from_region)
    with _service_errors():
        result = services.log_entry(
            actor=user,
            checkpoint=checkpoint,
            people=people,
            at=payload.at,
            direction=payload.direction,
            plate=payload.plate,
            vehicle_disinfected=payload.vehicle_disinfected,
            from_region=region,
            purpose=payload.purpose,
            note=payload.note,
            idempotency_key=(payload.idempotency_key or idempotency_key or "").strip(),
        )
    entry = result.entry
    rows = list(result.people) if result.created else _people_of([entry]).get(entry.pk, [])
    alert_id = result.alert.pk if result.alert is not None else None
    return Status(201 if result.created else 200, _entry_out(entry, rows, alert_id))


@router.get("/checkpoint-entries", response={200: EntryPage, **ERRORS}, summary="List entries")
def list_entries(request: HttpRequest, filters: Query[EntryQuery]) -> dict[str, Any]:
    """The entries of the caller's scope, newest first, with their people (masked)."""
    user = _actor(request)
    _require(user, Perm.CHECKPOINTS_VIEW)
    checkpoint = _checkpoint_filter(user, filters.checkpoint_id)
    entries = selectors.entries_for(
        user,
        selectors.EntryFilters(
            checkpoint=checkpoint,
            day_from=filters.day,
            day_to=filters.day,
            direction=filters.direction or "",
            flagged=bool(filters.flagged),
            fever=bool(filters.fever),
            plate=filters.plate,
        ),
    )
    people: dict[int, list[EntryPerson]] = {}
    alerts: dict[int, int] = {}

    def prepare(rows: Sequence[Entry]) -> None:
        if rows:
            people.update(_people_of(rows))
            alerts.update(_alerts_of(rows))

    return _page(
        entries,
        filters,
        lambda e: _entry_out(e, people.get(e.pk, []), alerts.get(e.pk)),
        prepare,
    )


@router.get("/checkpoint-entries/{entry_id}", response={200: EntryOut, **ERRORS}, summary="Entry")
def get_entry(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    user = _actor(request)
    entry = get_scoped_or_404(Entry.objects.all(), user, entry_id)
    return _entry_out(
        entry, _people_of([entry]).get(entry.pk, []), _alerts_of([entry]).get(entry.pk)
    )


@router.get(
    "/checkpoint-counts",
    response={200: EntryCountsPage, **ERRORS},
    summary="Daily counts per checkpoint",
    by_alias=True,
)
def entry_counts(request: HttpRequest, filters: Query[EntryCountsQuery]) -> dict[str, Any]:
    """Per checkpoint per day from ``from`` to ``to`` (the last 7 days by default, at most
    92): entries, persons, vehicles, fevers and flagged entries, newest day first."""
    user = _actor(request)
    _require(user, Perm.CHECKPOINTS_VIEW)
    checkpoint = _checkpoint_filter(user, filters.checkpoint_id)
    end = filters.end or (
        filters.start + dt.timedelta(days=6) if filters.start else timezone.localdate()
    )
    start = filters.start or end - dt.timedelta(days=6)
    if start > end:
        raise ApiValidationError(
            [_problem(["query", "to"], _("The end date cannot be before the start date."))]
        )
    if (end - start).days >= 92:
        raise ApiValidationError(
            [_problem(["query", "to"], _("Choose at most %(days)d days at once.") % {"days": 92})]
        )
    counts = selectors.daily_counts(user, start, end, checkpoint=checkpoint)
    return {
        "from": start,
        "to": end,
        "rows": [
            {
                "day": row.day,
                "checkpoint_id": row.checkpoint_id,
                "checkpoint": row.checkpoint,
                "unit": row.unit,
                **_counts_out(row.counts),
            }
            for row in counts.rows
        ],
        "total": _counts_out(counts.total),
    }
