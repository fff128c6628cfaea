"""API endpoints of key-group control: observation episodes and their decisions, temperature
readings (one at a time or in batches from a phone), follow-up visits and needs.

The contracts of :mod:`fangkong.org.api` hold here too:

- Reads go through :mod:`fangkong.observation.selectors` and :mod:`fangkong.core.scoping`: an
  episode, a need or a person outside the caller's view scope is 404 as a path parameter, and
  a 422 on its field in a body ("No such person in your scope."), exactly as if it did not
  exist.
- Writes call :mod:`fangkong.observation.services` with ``actor`` = the token's user.
  ``observation.record`` starts episodes and records readings, visits and needs;
  ``observation.decide`` releases, refers and changes a period. Without the permission
  anywhere the call is 403 before the body is looked at; over an object the caller may see
  but not change, 403 as well.
- ID numbers and phone numbers are always masked; the self-report link of an episode is only
  shown to those who may record for it.
- Invalid input is 422 ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``; the last
  elements of ``loc`` name the field as written in the request: ``["body", "payload",
  "person_id"]``, and in a list the index and the field (``["body", "payload", "entries", 2,
  "counts_from"]``, ``["body", "payload", "items", 0, "value"]``).
- Lists are paginated by ``limit`` and ``offset``; each costs the same number of queries
  whatever its length.

A phone that retries is harmless: a reading or a visit sent with an idempotency key (in the
body, or the ``Idempotency-Key`` header) is recorded once, and the same key again answers 200
with the first one; a batch of readings sent again with its key records nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as ApiValidationError
from ninja.params import HeaderEx, P

from fangkong.alerts.models import Alert
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, get_scoped_or_404, may, may_see, restrict
from fangkong.org.api import (
    ERRORS,
    PageIn,
    PersonRef,
    UnitRef,
    _actor,
    _answer,
    _page,
    _ref,
    _require,
)
from fangkong.org.models import OrgUnit, Person, User
from fangkong.screening.models import Screening

from . import selectors, services
from .models import (
    FollowUpVisit,
    Need,
    ObservationEpisode,
    PeriodPreset,
    SelfReportLink,
    TemperatureReading,
)

router = Router(tags=["observation"])

EpisodeStatus = ObservationEpisode.Status
Loc = list[str | int]
_BODY: Loc = ["body", "payload"]

# Service errors name model fields; the API names the ids it takes.
_API_FIELD = {
    "person": "person_id",
    "preset": "preset_id",
    "screening": "screening_id",
    "episode": "episode_id",
}

# ``kind`` in a body is a plain string checked by the service, after the permission: a caller
# who may not write gets 403 whatever they send, and learns nothing from validation.
KIND_HELP = "home_isolation, centralised or health_monitoring."
NEED_KIND_HELP = "supplies, medicine, medical, psychological or other."
# The choices of the models, inline in the schema (an enum class would be an OpenAPI component
# named after the class, and "Status" or "Kind" are taken by other apps' enums).
ReasonChoice = Literal["arrival", "contact", "returnee", "other"]
CountsFromChoice = Literal["last_contact", "arrival", "start"]
RoleChoice = Literal["cadre", "village_cadre", "grid_worker", "doctor", "police"]
ModeChoice = Literal["in_person", "phone", "wechat"]
NeedKindChoice = Literal["supplies", "medicine", "medical", "psychological", "other"]
NeedStatusChoice = Literal["open", "in_progress", "resolved"]

IDEMPOTENCY_HEADER = P(
    alias="Idempotency-Key", description="The key of a phone's submission, if not in the body."
)


# ---------------------------------------------------------------------------------------------
# Schemas


class PersonBrief(Schema):
    id: int
    name: str
    id_number: str = Field(description="Masked, e.g. 110105********002X.")
    phone: str = Field(description="Masked, e.g. 138****5678.")


class PresetRef(Schema):
    id: int
    name: str


class ResponsibleOut(Schema):
    role: str
    name: str
    phone: str = Field(description="Masked, e.g. 138****5678.")


class EpisodeOut(Schema):
    id: int
    person: PersonBrief
    grid: UnitRef = Field(description="The person's grid: the episode's scope.")
    unit: UnitRef | None = Field(description="The org unit the grid belongs to.")
    kind: str
    reason: str
    reason_note: str
    screening_id: int | None = Field(description="The screening that found the person.")
    counts_from: dt.date = Field(description="The last contact, the arrival or the start.")
    counts_from_kind: str
    start_date: dt.date
    preset: PresetRef
    isolation_days: int
    monitoring_days: int
    isolation_end: dt.date
    planned_end: dt.date = Field(description="The last day of the period.")
    place: str
    status: str
    ended_on: dt.date | None
    decided_at: dt.datetime | None
    decided_by: str
    decision_note: str
    created_at: dt.datetime


class EpisodeDetailOut(EpisodeOut):
    responsible: list[ResponsibleOut] = Field(description="The named people (五包一).")
    self_report_url: str | None = Field(
        description="The live self-report link; null when there is none or the caller may "
        "not record for the episode."
    )


class EpisodePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EpisodeOut]


class EpisodeQuery(PageIn):
    q: str = Field("", description="Part of the person's name, ID number or phone.")
    status: Literal["active", "released", "referred", "suspected", "confirmed", "ended"] | None = (
        Field(None, description="'ended': every status but active.")
    )
    kind: Literal["home_isolation", "centralised", "health_monitoring"] | None = None
    reason: ReasonChoice | None = None
    unit_id: int | None = Field(None, description="An org unit: episodes in its subtree.")
    due_by: dt.date | None = Field(
        None, description="Running and planned to end on or before this day."
    )


class ResponsibleIn(Schema):
    role: RoleChoice
    name: str = Field(max_length=50)
    phone: str = Field("", description="11-digit mobile number.")


class EpisodeIn(Schema):
    """One person to put under observation. With ``screening_id``, ``reason``,
    ``counts_from`` and ``counts_from_kind`` default to what the screening found."""

    person_id: int
    kind: str = Field("home_isolation", description=KIND_HELP)
    reason: ReasonChoice | None = None
    reason_note: str = Field("", max_length=200)
    counts_from: dt.date | None = Field(
        None, description="The day the period counts from: the last contact or the arrival."
    )
    counts_from_kind: CountsFromChoice | None = None
    start_date: dt.date | None = Field(None, description="Default: today.")
    preset_id: int | None = Field(None, description="Default: the preset in force.")
    screening_id: int | None = None
    place: str = Field("", max_length=100, description="Default: the household's address.")
    responsible: list[ResponsibleIn] = Field(default_factory=list)


class EpisodeBulkIn(Schema):
    """Several people at once: all of them start, or none does."""

    entries: list[EpisodeIn]


class ReleaseIn(Schema):
    on: dt.date | None = Field(None, description="Default: today.")
    note: str = Field("", description="Required when releasing before the planned end.")


class DecisionIn(Schema):
    outcome: Literal["released", "referred", "suspected", "confirmed"]
    on: dt.date | None = Field(None, description="Default: today.")
    note: str = Field("", description="Required but for a release on time.")


class PeriodIn(Schema):
    planned_end: dt.date = Field(description="The new last day.")
    reason: str = Field(description="Why the period changes.")


class ReadingOut(Schema):
    id: int
    episode_id: int
    taken_at: dt.datetime
    day: dt.date
    slot: str = Field(description="morning, afternoon, or empty outside the check windows.")
    value: float = Field(description="°C")
    symptoms: list[str]
    is_fever: bool
    source: str = Field(description="staff or self.")
    taken_by: str
    note: str
    created_at: dt.datetime
    alert_id: int | None = Field(description="The alert the reading raised, if any.")


class ReadingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReadingOut]


class ReadingIn(Schema):
    value: Decimal = Field(description="°C, e.g. 36.5 (34.0 to 43.0).")
    taken_at: dt.datetime | None = Field(None, description="Default: now.")
    symptoms: list[str] = Field(default_factory=list, description="Codes from the list.")
    note: str = ""
    idempotency_key: str = Field(
        "", max_length=80, description="Or the Idempotency-Key header: sent again, same reading."
    )


class BatchItem(Schema):
    episode_id: int
    value: Decimal = Field(description="°C, e.g. 36.5.")
    taken_at: dt.datetime | None = Field(None, description="Default: now.")
    symptoms: list[str] = Field(default_factory=list)
    note: str = ""


class BatchIn(Schema):
    idempotency_key: str = Field(
        max_length=80, description="One key for the batch (a UUID): sent again, nothing new."
    )
    items: list[BatchItem]


class BatchOut(Schema):
    items: list[ReadingOut]


class VisitOut(Schema):
    id: int
    episode_id: int
    visited_at: dt.datetime
    day: dt.date
    mode: str
    visitor_name: str
    findings: str
    needs: str
    abnormal: bool
    created_at: dt.datetime


class VisitPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[VisitOut]


class VisitIn(Schema):
    mode: ModeChoice
    visited_at: dt.datetime | None = Field(None, description="Default: now.")
    visitor_name: str = Field("", description="Default: the caller's name.")
    findings: str = ""
    needs: str = Field("", description="What the household asked for.")
    need_kind: NeedKindChoice | None = Field(None, description="Track ``needs`` as a need.")
    abnormal: bool = False
    idempotency_key: str = Field(
        "", max_length=80, description="Or the Idempotency-Key header: sent again, same visit."
    )


class NeedOut(Schema):
    id: int
    episode_id: int
    person: PersonRef
    grid: UnitRef
    kind: str
    description: str
    raised_at: dt.datetime
    source: str = Field(description="staff or self.")
    raised_by: str
    assigned_to: str
    status: str
    resolved_at: dt.datetime | None
    resolved_by: str
    resolution: str


class NeedPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[NeedOut]


class NeedQuery(PageIn):
    status: Literal["open", "in_progress", "resolved", "unresolved"] | None = Field(
        None, description="'unresolved': open or in progress."
    )
    episode_id: int | None = None


class NeedIn(Schema):
    kind: str = Field(description=NEED_KIND_HELP)
    description: str = Field(max_length=300)


class NeedUpdate(Schema):
    status: NeedStatusChoice = Field(
        description="in_progress takes the need on; resolved closes it."
    )
    resolution: str = Field("", description="What was done: required to resolve.")


# ---------------------------------------------------------------------------------------------
# Helpers


def _problem(loc: Sequence[str | int], message: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": message, "type": "value_error"}


def _api_loc(field: str, names: dict[str, str]) -> Loc:
    """``items.2.value`` → ``["items", 2, "value"]``, model fields renamed as in the API."""
    loc: Loc = []
    for part in field.split("."):
        name = names.get(part, _API_FIELD.get(part, part))
        if part.isdigit():
            loc.append(int(part))
        elif name:
            loc.append(name)
    return loc


def _details(
    error: DjangoValidationError, prefix: Sequence[str | int], names: dict[str, str]
) -> list[dict[str, Any]]:
    if hasattr(error, "error_dict"):
        pairs = [
            (field, message)
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        pairs = [(NON_FIELD_ERRORS, message) for message in error.messages]
    return [
        _problem([*prefix, *([] if field == NON_FIELD_ERRORS else _api_loc(field, names))], message)
        for field, message in pairs
    ]


@contextmanager
def _service_errors(
    prefix: Sequence[str | int] = _BODY, names: dict[str, str] | None = None
) -> Iterator[None]:
    """Turn a service's ValidationError into a 422 naming the request's fields (``names``
    renames a service's field for this endpoint; an empty name makes its errors the body's)."""
    try:
        yield
    except DjangoValidationError as error:
        raise ApiValidationError(_details(error, prefix, names or {})) from None


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Times are answered in local time (Asia/Shanghai), however they were stored."""
    return timezone.localtime(moment) if moment is not None else None


def _user_name(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _person_brief(person: Person) -> dict[str, Any]:
    return {
        "id": person.pk,
        "name": person.name,
        "id_number": mask_id_number(person.id_number),
        "phone": mask_phone(person.phone),
    }


def _episode_out(episode: ObservationEpisode) -> dict[str, Any]:
    person = episode.person
    return {
        "id": episode.pk,
        "person": _person_brief(person),
        "grid": _ref(person.grid),
        "unit": _ref(person.grid.parent),
        "kind": episode.kind,
        "reason": episode.reason,
        "reason_note": episode.reason_note,
        "screening_id": episode.screening_id,
        "counts_from": episode.counts_from,
        "counts_from_kind": episode.counts_from_kind,
        "start_date": episode.start_date,
        "preset": {"id": episode.preset.pk, "name": episode.preset.name},
        "isolation_days": episode.isolation_days,
        "monitoring_days": episode.monitoring_days,
        "isolation_end": episode.isolation_end,
        "planned_end": episode.planned_end,
        "place": episode.place,
        "status": episode.status,
        "ended_on": episode.ended_on,
        "decided_at": _local(episode.decided_at),
        "decided_by": _user_name(episode.decided_by),
        "decision_note": episode.decision_note,
        "created_at": _local(episode.created_at),
    }


def _episodes(
    user: User, filters: selectors.EpisodeFilters | None = None
) -> QuerySet[ObservationEpisode]:
    # The person, their grid and its unit come with the selector.
    return selectors.episodes_for(user, filters).select_related("preset", "decided_by")


def _episode_detail(request: HttpRequest, user: User, pk: int) -> dict[str, Any]:
    episode = get_scoped_or_404(
        ObservationEpisode.objects.select_related("person__grid__parent", "preset", "decided_by"),
        user,
        pk,
    )
    url = None
    if episode.is_active and may(user, Perm.OBSERVATION_RECORD, episode):
        link = SelfReportLink.objects.filter(episode=episode, revoked_at__isnull=True).first()
        if link is not None:
            url = request.build_absolute_uri(link.get_absolute_url())
    return {
        **_episode_out(episode),
        "responsible": [
            {"role": r.role, "name": r.name, "phone": mask_phone(r.phone)}
            for r in episode.responsible.order_by("pk")
        ],
        "self_report_url": url,
    }


def _scoped_episode(user: User, episode_id: int, perm: Perm | None = None) -> ObservationEpisode:
    return get_scoped_or_404(
        ObservationEpisode.objects.select_related("person__grid"), user, episode_id, perm
    )


def _reading_out(
    reading: TemperatureReading, alert_id: int | None, by: User | None = None
) -> dict[str, Any]:
    """``by``: the caller, named without a query when they took the reading."""
    taker = by if by is not None and reading.taken_by_id == by.pk else reading.taken_by
    return {
        "id": reading.pk,
        "episode_id": reading.episode_id,
        "taken_at": _local(reading.taken_at),
        "day": reading.day,
        "slot": reading.slot,
        "value": float(reading.value),
        "symptoms": list(reading.symptoms or []),
        "is_fever": reading.is_fever,
        "source": reading.source,
        "taken_by": _user_name(taker),
        "note": reading.note,
        "created_at": _local(reading.created_at),
        "alert_id": alert_id,
    }


def _reading_alerts(readings: Sequence[TemperatureReading]) -> dict[int, int]:
    """The alert each of ``readings`` raised (one query, none for no readings)."""
    if not readings:
        return {}
    keys = {f"reading:{r.pk}": r.pk for r in readings}
    return {
        keys[key]: pk
        for key, pk in Alert.objects.filter(key__in=list(keys)).values_list("key", "pk")
    }


def _results_out(results: Sequence[services.ReadingResult], user: User) -> list[dict[str, Any]]:
    """Readings just recorded (with the alert each raised) or found by their key (their
    alerts looked up in one query)."""
    known = _reading_alerts([r.reading for r in results if not r.created])
    return [
        _reading_out(
            r.reading, r.alert.pk if r.alert is not None else known.get(r.reading.pk), user
        )
        for r in results
    ]


def _visit_out(visit: FollowUpVisit) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "episode_id": visit.episode_id,
        "visited_at": _local(visit.visited_at),
        "day": visit.day,
        "mode": visit.mode,
        "visitor_name": visit.visitor_name,
        "findings": visit.findings,
        "needs": visit.needs,
        "abnormal": visit.abnormal,
        "created_at": _local(visit.created_at),
    }


def _need_out(need: Need) -> dict[str, Any]:
    person = need.episode.person
    return {
        "id": need.pk,
        "episode_id": need.episode_id,
        "person": {"id": person.pk, "name": person.name},
        "grid": _ref(person.grid),
        "kind": need.kind,
        "description": need.description,
        "raised_at": _local(need.raised_at),
        "source": need.source,
        "raised_by": _user_name(need.raised_by),
        "assigned_to": _user_name(need.assigned_to),
        "status": need.status,
        "resolved_at": _local(need.resolved_at),
        "resolved_by": _user_name(need.resolved_by),
        "resolution": need.resolution,
    }


def _needs(
    user: User, *, status: str = "", episode: ObservationEpisode | None = None
) -> QuerySet[Need]:
    return selectors.needs_for(user, status=status, episode=episode).select_related(
        "episode__person__grid", "raised_by", "resolved_by"
    )


def _need_detail(user: User, pk: int) -> dict[str, Any]:
    need = get_scoped_or_404(
        Need.objects.select_related(
            "episode__person__grid", "raised_by", "assigned_to", "resolved_by"
        ),
        user,
        pk,
    )
    return _need_out(need)


def _key(body: str, header: str | None) -> str:
    """The idempotency key of the body, else of the ``Idempotency-Key`` header."""
    return (body or header or "").strip()


# ---------------------------------------------------------------------------------------------
# Resolving the ids of a body


class _Lookups:
    """The ids of a body resolved in the caller's scope; every unknown one is collected, then
    reported at once as a 422."""

    def __init__(self, user: User, source: Sequence[str | int] = _BODY) -> None:
        self.user = user
        self.source: Loc = list(source)
        self.problems: list[dict[str, Any]] = []

    def scoped(
        self,
        queryset: QuerySet[Any],
        pk: int | None,
        field: str,
        message: str,
        at: Sequence[str | int] = (),
    ) -> Any:
        if pk is None:
            return None
        obj = restrict(queryset, self.user).filter(pk=pk).first()
        if obj is None:
            self.problems.append(_problem([*self.source, *at, field], message))
        return obj

    def check(self) -> None:
        if self.problems:
            raise ApiValidationError(self.problems)


def _entry(
    lookups: _Lookups, payload: EpisodeIn, at: Sequence[str | int] = ()
) -> services.EpisodeStart | None:
    """The service's EpisodeStart for one body entry (None when an id is unknown)."""
    person = lookups.scoped(
        Person.objects.filter(is_active=True).select_related("grid", "household"),
        payload.person_id,
        "person_id",
        _("No such person in your scope."),
        at,
    )
    screening = lookups.scoped(
        Screening.objects.all(),
        payload.screening_id,
        "screening_id",
        _("No such screening in your scope."),
        at,
    )
    preset = None
    if payload.preset_id is not None:
        preset = PeriodPreset.objects.filter(pk=payload.preset_id, is_active=True).first()
        if preset is None:
            lookups.problems.append(
                _problem(
                    [*lookups.source, *at, "preset_id"],
                    _("No such period preset: choose one in use."),
                )
            )
    if person is None or (payload.screening_id is not None and screening is None):
        return None
    if screening is not None and screening.person_id != person.pk:
        lookups.problems.append(
            _problem(
                [*lookups.source, *at, "screening_id"],
                _("That screening is of another person."),
            )
        )
        return None
    found = services.start_from_screening(screening) if screening is not None else {}
    return services.EpisodeStart(
        person=person,
        kind=payload.kind,
        reason=payload.reason or found.get("reason", ""),
        reason_note=payload.reason_note,
        # None when neither the body nor a screening says: the service names what is missing
        counts_from=payload.counts_from or found.get("counts_from"),  # type: ignore[arg-type]
        counts_from_kind=payload.counts_from_kind or found.get("counts_from_kind", ""),
        start_date=payload.start_date,
        preset=preset,
        screening=screening,
        place=payload.place,
        responsible=[r.model_dump() for r in payload.responsible],
    )


# ---------------------------------------------------------------------------------------------
# Episodes


@router.get("/episodes", response={200: EpisodePage, **ERRORS}, summary="List episodes")
def list_episodes(request: HttpRequest, filters: Query[EpisodeQuery]) -> dict[str, Any]:
    """Observation episodes in scope, newest start first; ID and phone masked."""
    user = _actor(request)
    _require(user, Perm.OBSERVATION_VIEW)
    lookups = _Lookups(user, ["query"])
    unit = lookups.scoped(
        OrgUnit.objects.filter(is_active=True),
        filters.unit_id,
        "unit_id",
        _("No such org unit in your scope."),
    )
    lookups.check()
    episodes = _episodes(
        user,
        selectors.EpisodeFilters(
            q=filters.q,
            status=filters.status or "",
            kind=filters.kind or "",
            reason=filters.reason or "",
            unit=unit,
            due_by=filters.due_by,
        ),
    )
    return _page(episodes, filters, _episode_out)


@router.post("/episodes", response={201: EpisodeDetailOut, **ERRORS}, summary="Start observation")
def start_episode(request: HttpRequest, payload: EpisodeIn) -> Status[dict[str, Any]]:
    """Put a person under observation; the period comes from the preset (the one in force by
    default). Needs ``observation.record`` over the person's grid."""
    user = _actor(request)
    _require(user, Perm.OBSERVATION_RECORD)
    lookups = _Lookups(user)
    entry = _entry(lookups, payload)
    lookups.check()
    assert entry is not None
    check_perm_on(user, Perm.OBSERVATION_RECORD, entry.person)
    with _service_errors():
        episode = services.start_episode(actor=user, entry=entry)
    return Status(201, _episode_detail(request, user, episode.pk))


@router.post(
    "/episodes/bulk",
    response={201: list[EpisodeOut], **ERRORS},
    summary="Start observation for several people",
)
def start_episodes(request: HttpRequest, payload: EpisodeBulkIn) -> Status[list[dict[str, Any]]]:
    """All of them start, or none does: the errors name each entry (``["body", "payload",
    "entries", 2, "counts_from"]``). Needs ``observation.record`` over every person's grid."""
    user = _actor(request)
    _require(user, Perm.OBSERVATION_RECORD)
    if not payload.entries:
        raise ApiValidationError(
            [_problem([*_BODY, "entries"], _("Add at least one person to start."))]
        )
    lookups = _Lookups(user)
    entries = []
    seen: set[int] = set()
    for index, body in enumerate(payload.entries):
        entry = _entry(lookups, body, ["entries", index])
        if entry is not None and entry.person.pk in seen:
            lookups.problems.append(
                _problem(
                    [*_BODY, "entries", index, "person_id"],
                    _("%(name)s is in the list twice.") % {"name": entry.person.name},
                )
            )
        elif entry is not None:
            seen.add(entry.person.pk)
        entries.append(entry)
    lookups.check()
    starts = [entry for entry in entries if entry is not None]
    for entry in starts:
        check_perm_on(user, Perm.OBSERVATION_RECORD, entry.person)
    now = timezone.now()
    problems: list[dict[str, Any]] = []
    with transaction.atomic():
        started = []
        for index, entry in enumerate(starts):
            try:
                started.append(services.start_episode(actor=user, entry=entry, at=now).pk)
            except DjangoValidationError as error:
                problems.extend(_details(error, [*_BODY, "entries", index], {}))
        if problems:
            raise ApiValidationError(problems)  # and none of them starts
    episodes = {e.pk: e for e in _episodes(user).filter(pk__in=started)}
    return Status(201, [_episode_out(episodes[pk]) for pk in started])


@router.get("/episodes/{episode_id}", response={200: EpisodeDetailOut, **ERRORS}, summary="Episode")
def get_episode(request: HttpRequest, episode_id: int) -> dict[str, Any]:
    """With the responsible people and, for those who may record, the self-report link."""
    return _episode_detail(request, _actor(request), episode_id)


def _decide(
    request: HttpRequest,
    episode_id: int,
    outcome: str,
    on: dt.date | None,
    note: str,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    user = _actor(request)
    episode = _scoped_episode(user, episode_id, Perm.OBSERVATION_DECIDE)
    with _service_errors(names=names):
        services.decide(actor=user, episode=episode, outcome=outcome, note=note, on=on)
    return _episode_detail(request, user, episode.pk)


@router.post(
    "/episodes/{episode_id}/release",
    response={200: EpisodeDetailOut, **ERRORS},
    summary="Release (解除) from observation",
)
def release_episode(request: HttpRequest, episode_id: int, payload: ReleaseIn) -> dict[str, Any]:
    """Release on ``on`` (default today); before the planned end a note is required. The
    self-report link stops working. Needs ``observation.decide``."""
    return _decide(
        request, episode_id, EpisodeStatus.RELEASED, payload.on, payload.note, {"outcome": ""}
    )


@router.post(
    "/episodes/{episode_id}/decision",
    response={200: EpisodeDetailOut, **ERRORS},
    summary="Release, refer, or record a suspected or confirmed case",
)
def decide_episode(request: HttpRequest, episode_id: int, payload: DecisionIn) -> dict[str, Any]:
    """Referred and suspected episodes can still be confirmed or released; a confirmed case
    is released when cured. Needs ``observation.decide``."""
    return _decide(request, episode_id, payload.outcome, payload.on, payload.note)


@router.post(
    "/episodes/{episode_id}/period",
    response={200: EpisodeDetailOut, **ERRORS},
    summary="Extend or shorten the period",
)
def change_period(request: HttpRequest, episode_id: int, payload: PeriodIn) -> dict[str, Any]:
    """A running episode ends on ``planned_end`` instead; the reason is kept. Needs
    ``observation.decide``."""
    user = _actor(request)
    episode = _scoped_episode(user, episode_id, Perm.OBSERVATION_DECIDE)
    with _service_errors():
        services.change_period(
            actor=user, episode=episode, planned_end=payload.planned_end, reason=payload.reason
        )
    return _episode_detail(request, user, episode.pk)


# ---------------------------------------------------------------------------------------------
# Readings


@router.get(
    "/episodes/{episode_id}/readings",
    response={200: ReadingPage, **ERRORS},
    summary="Temperature readings of an episode",
)
def list_readings(request: HttpRequest, episode_id: int, filters: Query[PageIn]) -> dict[str, Any]:
    """Newest first, with the alert each raised."""
    user = _actor(request)
    episode = _scoped_episode(user, episode_id)
    readings = TemperatureReading.objects.filter(episode=episode).select_related("taken_by")
    alerts: dict[int, int] = {}

    def prepare(rows: Sequence[TemperatureReading]) -> None:
        alerts.update(_reading_alerts(rows))

    return _page(
        readings.order_by("-taken_at", "-id"),
        filters,
        lambda r: _reading_out(r, alerts.get(r.pk)),
        prepare,
    )


@router.post(
    "/episodes/{episode_id}/readings",
    response={200: ReadingOut, 201: ReadingOut, **ERRORS},
    summary="Record a temperature",
)
def record_reading(
    request: HttpRequest,
    episode_id: int,
    payload: ReadingIn,
    idempotency_key: HeaderEx[str | None, IDEMPOTENCY_HEADER] = None,
) -> HttpResponse:
    """201 with the reading (``is_fever``, the check ``slot``, and the ``alert_id`` of the
    fever or symptoms alert it raised at once); 200 with the first reading when its key was
    seen already, recording nothing. Needs ``observation.record`` over the person's grid."""
    user = _actor(request)
    # The hot path of a phone: no lookup here. The service reads and locks the episode with
    # its person and grid and checks the permission to record; a refusal is then told apart
    # (404 for an episode the caller may not see, 403 for one they may only read) from the
    # scope already loaded, without another query.
    try:
        with _service_errors():
            result = services.record_reading(
                actor=user,
                episode=ObservationEpisode(pk=episode_id),
                value=payload.value,
                taken_at=payload.taken_at,
                symptoms=payload.symptoms,
                note=payload.note,
                idempotency_key=_key(payload.idempotency_key, idempotency_key),
            )
    except ObservationEpisode.DoesNotExist:
        raise Http404 from None
    except PermissionDenied:
        episode = ObservationEpisode.objects.select_related("person__grid").get(pk=episode_id)
        if not may_see(user, episode):
            raise Http404 from None
        raise
    (out,) = _results_out([result], user)
    return _answer(request, 201 if result.created else 200, out)


@router.post(
    "/readings/batch",
    response={200: BatchOut, 201: BatchOut, **ERRORS},
    summary="Record a batch of temperatures",
)
def record_readings(request: HttpRequest, payload: BatchIn) -> Status[dict[str, Any]]:
    """What a phone collected, all recorded or none (errors name the item: ``["body",
    "payload", "items", 2, "value"]``). The batch's key makes each item's key, so the same
    batch sent again records nothing and answers 200 with the same readings. Needs
    ``observation.record`` over every episode's grid."""
    user = _actor(request)
    _require(user, Perm.OBSERVATION_RECORD)
    ids = {item.episode_id for item in payload.items}
    episodes = {
        e.pk: e
        for e in restrict(
            ObservationEpisode.objects.filter(pk__in=ids).select_related("person__grid"), user
        )
    }
    missing = [
        _problem(
            [*_BODY, "items", index, "episode_id"],
            _("No such observation episode in your scope."),
        )
        for index, item in enumerate(payload.items)
        if item.episode_id not in episodes
    ]
    if missing:
        raise ApiValidationError(missing)
    for episode in episodes.values():
        check_perm_on(user, Perm.OBSERVATION_RECORD, episode)
    items = [
        services.ReadingItem(
            episode=episodes[item.episode_id],
            value=item.value,
            taken_at=item.taken_at,
            symptoms=item.symptoms,
            note=item.note,
        )
        for item in payload.items
    ]
    with _service_errors():
        results = services.record_readings(
            actor=user, items=items, idempotency_key=payload.idempotency_key
        )
    created = any(r.created for r in results)
    return Status(201 if created else 200, {"items": _results_out(results, user)})


# ---------------------------------------------------------------------------------------------
# Follow-up visits


@router.get(
    "/episodes/{episode_id}/visits",
    response={200: VisitPage, **ERRORS},
    summary="Follow-up visits of an episode",
)
def list_visits(request: HttpRequest, episode_id: int, filters: Query[PageIn]) -> dict[str, Any]:
    """Newest first."""
    user = _actor(request)
    episode = _scoped_episode(user, episode_id)
    visits = FollowUpVisit.objects.filter(episode=episode).order_by("-visited_at", "-id")
    return _page(visits, filters, _visit_out)


@router.post(
    "/episodes/{episode_id}/visits",
    response={200: VisitOut, 201: VisitOut, **ERRORS},
    summary="Record a follow-up visit",
)
def record_visit(
    request: HttpRequest,
    episode_id: int,
    payload: VisitIn,
    idempotency_key: HeaderEx[str | None, IDEMPOTENCY_HEADER] = None,
) -> Status[dict[str, Any]]:
    """The day's visit; with ``need_kind``, the ``needs`` raised are tracked as a need. 201,
    or 200 with the first visit when its key was seen already. Needs ``observation.record``."""
    user = _actor(request)
    episode = _scoped_episode(user, episode_id, Perm.OBSERVATION_RECORD)
    with _service_errors(names={"kind": "need_kind", "description": "needs"}):
        visit, created = services.record_visit(
            actor=user,
            episode=episode,
            mode=payload.mode,
            visited_at=payload.visited_at,
            visitor_name=payload.visitor_name,
            findings=payload.findings,
            needs=payload.needs,
            need_kind=payload.need_kind or "",
            abnormal=payload.abnormal,
            idempotency_key=_key(payload.idempotency_key, idempotency_key),
        )
    return Status(201 if created else 200, _visit_out(visit))


# ---------------------------------------------------------------------------------------------
# Needs


@router.get("/needs", response={200: NeedPage, **ERRORS}, summary="List needs")
def list_needs(request: HttpRequest, filters: Query[NeedQuery]) -> dict[str, Any]:
    """Needs raised in scope (by staff or self-reported), newest first."""
    user = _actor(request)
    _require(user, Perm.OBSERVATION_VIEW)
    lookups = _Lookups(user, ["query"])
    episode = lookups.scoped(
        ObservationEpisode.objects.all(),
        filters.episode_id,
        "episode_id",
        _("No such observation episode in your scope."),
    )
    lookups.check()
    return _page(_needs(user, status=filters.status or "", episode=episode), filters, _need_out)


@router.post(
    "/episodes/{episode_id}/needs", response={201: NeedOut, **ERRORS}, summary="Raise a need"
)
def raise_need(request: HttpRequest, episode_id: int, payload: NeedIn) -> Status[dict[str, Any]]:
    """A difficulty of the household (supplies, medicine, psychological support, …), open
    until someone takes it on. Needs ``observation.record``."""
    user = _actor(request)
    episode = _scoped_episode(user, episode_id, Perm.OBSERVATION_RECORD)
    with _service_errors():
        need = services.raise_need(
            actor=user, episode=episode, kind=payload.kind, description=payload.description
        )
    return Status(201, _need_detail(user, need.pk))


@router.post("/needs/{need_id}", response={200: NeedOut, **ERRORS}, summary="Take on or resolve")
def update_need(request: HttpRequest, need_id: int, payload: NeedUpdate) -> dict[str, Any]:
    """``in_progress`` assigns the need to the caller (unless it is assigned); ``resolved``
    says what was done and closes its 'unanswered need' alert. Needs ``observation.record``."""
    user = _actor(request)
    need = get_scoped_or_404(
        Need.objects.select_related("episode__person__grid"),
        user,
        need_id,
        Perm.OBSERVATION_RECORD,
    )
    with _service_errors():
        services.update_need(
            actor=user, need=need, status=payload.status, resolution=payload.resolution
        )
    return _need_detail(user, need.pk)
