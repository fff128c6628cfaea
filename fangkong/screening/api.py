"""API endpoints of carpet screening: risk areas, campaigns and their coverage, screenings
from a phone client, household visits, new arrivals, and the ledger (排查台账).

The contracts of :mod:`fangkong.org.api` hold here too:

- Reads go through :mod:`fangkong.screening.selectors` and :mod:`fangkong.core.scoping`: a
  campaign or a screening outside the caller's view scope is 404, exactly as if it did not
  exist. Risk areas are national data, the same for every caller holding
  ``screening.view``.
- Writes call :mod:`fangkong.screening.services` with ``actor`` = the token's user.
- Foreign keys in bodies are ids (``campaign_id``, ``person_id``, ``household_id``,
  ``contact_person_id``, ``unit_id``) and regions are GB/T 2260 codes (``region_code``,
  ``from_region_code``). An id that does not exist or lies outside the caller's scope is a
  422 on that field ("No such campaign in your scope."); an unknown code is a 422 on its field.
- ID numbers and phone numbers are always masked.
- Invalid input is 422 ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``; the last
  element of ``loc`` names the field as written in the request (``from_region_code``, not
  ``from_region``; ``["body", "payload", "new_person", "id_number"]`` inside ``new_person``).
- Lists are paginated by ``limit`` and ``offset`` and report ``count`` and ``limit``; each costs
  the same number of queries whatever its length.
- Permissions: ``screening.view`` to read (403 without it anywhere); ``screening.record`` to
  screen, register arrivals and record visits, checked before anything else (403);
  ``screening.manage`` to open and close campaigns; ``risk_areas.manage`` to set and end risk
  levels. An object path parameter outside the view scope is 404 before any of these.

Screening at the door is idempotent for phone retries: ``POST /screenings`` for a person and
campaign already screened corrects that one result (200 instead of 201); the same body sent
twice leaves one result, one visit of the household and the campaign's counts unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as ApiValidationError

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import check_perm_on, get_scoped_or_404, restrict
from fangkong.org.api import (
    ERRORS,
    PageIn,
    UnitRef,
    _actor,
    _page,
    _ref,
    _require,
)
from fangkong.org.models import Household, OrgUnit, Person, User

from . import selectors, services
from .models import (
    Campaign,
    CampaignHousehold,
    ContactKind,
    ContactMode,
    ContactRelation,
    HouseholdVisit,
    Region,
    RiskAreaPeriod,
    RiskLevel,
    Screening,
    Transport,
)
from .rules import describe

router = Router(tags=["screening"])

# Service errors name model fields; the API names the ids and codes it takes.
_API_FIELD = {
    "region": "region_code",
    "from_region": "from_region_code",
    "contact_person": "contact_person_id",
    "person": "person_id",
    "campaign": "campaign_id",
    "household": "household_id",
    "unit": "unit_id",
    "grid": "grid_id",
}
_BODY = ("body", "payload")


# ---------------------------------------------------------------------------------------------
# Schemas


class RegionRef(Schema):
    code: str
    name: str
    full_name: str = Field(
        description="Province, prefecture and county, e.g. 甘肃省 张掖市 临泽县."
    )


class RiskPeriodOut(Schema):
    id: int
    region: RegionRef
    level: str
    start: dt.date
    end: dt.date | None = Field(description="The last day at this level; null while it holds.")
    in_force: bool = Field(description="Whether the period holds today.")
    note: str
    created_at: dt.datetime


class RiskPeriodPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RiskPeriodOut]


class RiskPeriodQuery(PageIn):
    q: str = Field("", description="Region code (its start) or part of its name.")
    level: RiskLevel | None = None
    current: bool = Field(False, description="Only the periods in force today.")


class RiskLevelSet(Schema):
    """An open period of the region that started earlier ends on the day before ``start``;
    any other overlap is refused (422 on ``start``)."""

    region_code: str = Field(description="6-digit GB/T 2260 code, e.g. 420100.", max_length=12)
    level: RiskLevel
    start: dt.date
    end: dt.date | None = Field(None, description="The last day; null while it holds.")
    note: str = Field("", max_length=200)


class RiskPeriodEnd(Schema):
    region_code: str = Field(description="6-digit GB/T 2260 code.", max_length=12)
    end: dt.date = Field(description="The last day the open period holds.")


class CampaignOut(Schema):
    id: int
    name: str
    unit: UnitRef = Field(description="The scope: the branch, unit or grid screened.")
    start: dt.date
    end: dt.date | None
    instructions: str
    status: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


class CampaignPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CampaignOut]


class CampaignQuery(PageIn):
    status: Campaign.Status | None = None


class CampaignCreate(Schema):
    name: str = Field(max_length=100)
    unit_id: int = Field(description="The org unit whose subtree is screened.")
    start: dt.date
    end: dt.date | None = None
    instructions: str = ""


class CoverageRow(Schema):
    unit: UnitRef | None
    households_total: int
    households_visited: int
    households_nobody_home: int
    households_left: int
    households_percent: int = Field(description="Visited of total, whole percent rounded down.")
    persons_total: int
    persons_screened: int
    persons_moved_out: int
    persons_never_seen: int
    persons_percent: int = Field(description="Screened of total, whole percent rounded down.")
    key_persons: int
    urgent_persons: int
    complete: bool


class CoverageOut(Schema):
    campaign: CampaignOut
    total: CoverageRow
    rows: list[CoverageRow] = Field(description="One per unit one level below, in tree order.")


class CoverageQuery(Schema):
    unit_id: int | None = Field(None, description="A unit of the campaign: its rows (drill-down).")


class NewPerson(Schema):
    """A person found at the door who is not in the register: added to the household."""

    name: str = Field(max_length=50)
    household_id: int
    sex: Person.Sex = Person.Sex.UNKNOWN
    id_number: str = Field("", max_length=30)
    phone: str = ""
    relation: Person.Relation = Person.Relation.OTHER


class _Findings(Schema):
    """What was found about one person (shared by door screenings and arrivals)."""

    from_region_code: str = Field("", max_length=12, description="Where they came from.")
    departed_at: dt.datetime | None = None
    arrived_at: dt.datetime | None = None
    transport: Transport | None = None
    transport_no: str = Field("", max_length=40, description="Train or flight number.")
    stopovers: str = Field("", max_length=400)
    contact_kind: ContactKind | None = None
    contact_person_id: int | None = Field(None, description="The one met, if in the register.")
    contact_name: str = Field("", max_length=100)
    contact_date: dt.date | None = None
    contact_relation: ContactRelation | None = None
    contact_mode: ContactMode | None = None
    symptoms: list[str] = Field(default_factory=list, description="Codes from the list.")
    temperature: Decimal | None = Field(None, description="°C, e.g. 36.5.")
    note: str = Field("", max_length=400)


class ScreeningIn(_Findings):
    """A door screening; ``person_id`` or ``new_person`` (added in the same transaction)."""

    campaign_id: int
    person_id: int | None = None
    new_person: NewPerson | None = None
    presence: Screening.Presence = Screening.Presence.PRESENT
    screened_at: dt.datetime | None = Field(None, description="Default: now.")


class ArrivalIn(_Findings):
    person_id: int
    registered_at: dt.datetime | None = Field(None, description="Default: now.")


class VisitIn(Schema):
    at: dt.datetime | None = Field(None, description="Default: now.")
    note: str = Field("", max_length=200)


class VisitOut(Schema):
    campaign_id: int
    household_id: int
    outcome: str
    visited_at: dt.datetime
    status: str = Field(description="The household in the campaign: visited or nobody_home.")
    visits: int


class PersonBrief(Schema):
    id: int
    name: str
    id_number: str = Field(description="Masked, e.g. 110105********002X.")
    phone: str = Field(description="Masked, e.g. 138****5678.")


class Ref(Schema):
    id: int
    name: str


class HouseholdBrief(Schema):
    id: int
    address: str


class ReasonOut(Schema):
    rule: str = Field(description="risk_area_arrival, close_contact, fever or symptoms.")
    text: str = Field(description="Why the rule fired, in the caller's language.")
    facts: dict[str, Any]


class ScreeningOut(Schema):
    id: int
    kind: str
    campaign: Ref | None
    person: PersonBrief
    grid: UnitRef
    household: HouseholdBrief | None
    screened_at: dt.datetime
    screened_by: str
    presence: str
    from_region: RegionRef | None
    departed_at: dt.datetime | None
    arrived_at: dt.datetime | None
    transport: str
    transport_no: str
    stopovers: str
    contact_kind: str
    contact_person: Ref | None = Field(description="Null when outside the caller's scope.")
    contact_name: str
    contact_date: dt.date | None
    contact_relation: str
    contact_mode: str
    symptoms: list[str]
    temperature: float | None
    category: str
    is_key: bool
    is_urgent: bool
    reasons: list[ReasonOut]
    late_registration: bool
    note: str
    recorded_at: dt.datetime


class ScreeningPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ScreeningOut]


class LedgerQuery(PageIn):
    q: str = Field("", description="Part of the name, ID number or phone.")
    campaign_id: int | None = None
    unit_id: int | None = Field(None, description="An org unit: results in its subtree.")
    kind: Screening.Kind | None = None
    category: Screening.Category | None = None
    key_only: bool = False
    urgent_only: bool = False
    late_only: bool = Field(False, description="Only arrivals registered late.")
    date_from: dt.date | None = None
    date_to: dt.date | None = None


# ---------------------------------------------------------------------------------------------
# Helpers


def _problem(loc: Sequence[str], message: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": message, "type": "value_error"}


@contextmanager
def _service_errors(prefix: Sequence[str] = _BODY) -> Iterator[None]:
    """Turn a service's ValidationError into a 422 naming the request's fields."""
    try:
        yield
    except DjangoValidationError as error:
        raise ApiValidationError(_error_details(error, prefix)) from None


def _error_details(error: DjangoValidationError, prefix: Sequence[str]) -> list[dict[str, Any]]:
    if hasattr(error, "error_dict"):
        pairs = [
            (field, message)
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        pairs = [(NON_FIELD_ERRORS, message) for message in error.messages]
    return [
        _problem(
            [*prefix] + ([] if field == NON_FIELD_ERRORS else [_API_FIELD.get(field, field)]),
            message,
        )
        for field, message in pairs
    ]


class _Lookups:
    """Ids and codes of a request resolved to objects; every unknown one is collected, then
    reported at once as a 422."""

    def __init__(self, user: User, source: Sequence[str] = _BODY) -> None:
        self.user = user
        self.source = tuple(source)
        self.problems: list[dict[str, Any]] = []

    def scoped(
        self, queryset: QuerySet[Any], pk: int | None, field: str, message: str, *, at: str = ""
    ) -> Any:
        if pk is None:
            return None
        obj = restrict(queryset, self.user).filter(pk=pk).first()
        if obj is None:
            self.problems.append(_problem([*self.source, *([at] if at else []), field], message))
        return obj

    def region(self, code: str, field: str) -> Region | None:
        code = (code or "").strip()
        if not code:
            return None
        region = (
            Region.objects.select_related("parent__parent").filter(pk=code).first()
            if len(code) == 6 and code.isdigit()
            else None
        )
        if region is None:
            self.problems.append(
                _problem(
                    [*self.source, field],
                    _("No region has the code %(code)s: enter a 6-digit GB/T 2260 code.")
                    % {"code": code},
                )
            )
        return region

    def check(self) -> None:
        if self.problems:
            raise ApiValidationError(self.problems)


def _campaigns(lookups: _Lookups, pk: int | None, *, at: str = "") -> Campaign | None:
    return lookups.scoped(
        Campaign.objects.select_related("unit"),
        pk,
        "campaign_id",
        _("No such campaign in your scope."),
        at=at,
    )


def _persons(lookups: _Lookups, pk: int | None, field: str = "person_id") -> Person | None:
    return lookups.scoped(
        Person.objects.filter(is_active=True).select_related("grid"),
        pk,
        field,
        _("No such person in your scope."),
    )


def _units(lookups: _Lookups, pk: int | None) -> OrgUnit | None:
    return lookups.scoped(
        OrgUnit.objects.filter(is_active=True),
        pk,
        "unit_id",
        _("No such org unit in your scope."),
    )


def _region_out(region: Region | None) -> dict[str, Any] | None:
    if region is None:
        return None
    return {"code": region.code, "name": region.name, "full_name": region.full_name}


def _period_out(period: RiskAreaPeriod, today: dt.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "id": period.pk,
        "region": _region_out(period.region),
        "level": period.level,
        "start": period.start,
        "end": period.end,
        "in_force": period.start <= today and (period.end is None or period.end >= today),
        "note": period.note,
        "created_at": period.created_at,
    }


def _campaign_out(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "unit": _ref(campaign.unit),
        "start": campaign.start,
        "end": campaign.end,
        "instructions": campaign.instructions,
        "status": campaign.status,
        "created_at": campaign.created_at,
        "closed_at": campaign.closed_at,
    }


def _coverage_out(cov: selectors.Coverage) -> dict[str, Any]:
    return {
        "unit": _ref(cov.unit),
        **{name: getattr(cov, name) for name in selectors.COUNT_FIELDS},
        "households_left": cov.households_left,
        "households_percent": cov.households_percent,
        "persons_never_seen": cov.persons_never_seen,
        "persons_percent": cov.persons_percent,
        "complete": cov.complete,
    }


def _screening_out(screening: Screening, visible_contacts: set[int]) -> dict[str, Any]:
    person = screening.person
    household = screening.household
    contact = screening.contact_person
    by = screening.screened_by
    return {
        "id": screening.pk,
        "kind": screening.kind,
        "campaign": (
            {"id": screening.campaign.pk, "name": screening.campaign.name}
            if screening.campaign is not None
            else None
        ),
        "person": {
            "id": person.pk,
            "name": person.name,
            "id_number": mask_id_number(person.id_number),
            "phone": mask_phone(person.phone),
        },
        "grid": _ref(screening.grid),
        "household": (
            {"id": household.pk, "address": household.address} if household is not None else None
        ),
        "screened_at": screening.screened_at,
        "screened_by": (by.get_full_name() or by.get_username()) if by is not None else "",
        "presence": screening.presence,
        "from_region": _region_out(screening.from_region),
        "departed_at": screening.departed_at,
        "arrived_at": screening.arrived_at,
        "transport": screening.transport,
        "transport_no": screening.transport_no,
        "stopovers": screening.stopovers,
        "contact_kind": screening.contact_kind,
        "contact_person": (
            {"id": contact.pk, "name": contact.name}
            if contact is not None and contact.pk in visible_contacts
            else None
        ),
        "contact_name": screening.contact_name,
        "contact_date": screening.contact_date,
        "contact_relation": screening.contact_relation,
        "contact_mode": screening.contact_mode,
        "symptoms": list(screening.symptoms or []),
        "temperature": float(screening.temperature) if screening.temperature is not None else None,
        "category": screening.category,
        "is_key": screening.is_key,
        "is_urgent": screening.is_urgent,
        "reasons": [
            {
                "rule": str(reason.get("rule", "")),
                "text": describe(reason),
                "facts": {k: v for k, v in reason.items() if k != "rule"},
            }
            for reason in screening.reasons or []
        ],
        "late_registration": screening.late_registration,
        "note": screening.note,
        "recorded_at": screening.recorded_at,
    }


def _visible_contacts(user: User, screenings: Sequence[Screening]) -> set[int]:
    """The contact persons of ``screenings`` the user may see (one query, none without any):
    a contact elsewhere is not named."""
    ids = {s.contact_person_id for s in screenings if s.contact_person_id is not None}
    if not ids:
        return set()
    return set(restrict(Person.objects.filter(pk__in=ids), user).values_list("pk", flat=True))


def _screenings_page(user: User, queryset: QuerySet[Screening], page: PageIn) -> dict[str, Any]:
    visible: set[int] = set()

    def prepare(rows: Sequence[Screening]) -> None:
        visible.update(_visible_contacts(user, rows))

    return _page(queryset, page, lambda s: _screening_out(s, visible), prepare)


def _ledger(user: User, filters: selectors.LedgerFilters | None = None) -> QuerySet[Screening]:
    # The household where the person was screened (the selector loads the person's own).
    return selectors.screenings_for(user, filters).select_related("household")


def _screening_detail(user: User, pk: int) -> dict[str, Any]:
    screening = get_scoped_or_404(_ledger(user), user, pk)
    return _screening_out(screening, _visible_contacts(user, [screening]))


def _findings(payload: _Findings, lookups: _Lookups) -> dict[str, Any]:
    """Service keyword arguments for the findings of a body (ids and codes resolved)."""
    return {
        "from_region": lookups.region(payload.from_region_code, "from_region_code"),
        "departed_at": payload.departed_at,
        "arrived_at": payload.arrived_at,
        "transport": payload.transport or "",
        "transport_no": payload.transport_no,
        "stopovers": payload.stopovers,
        "contact_kind": payload.contact_kind or "",
        "contact_person": _persons(lookups, payload.contact_person_id, "contact_person_id"),
        "contact_name": payload.contact_name,
        "contact_date": payload.contact_date,
        "contact_relation": payload.contact_relation or "",
        "contact_mode": payload.contact_mode or "",
        "symptoms": payload.symptoms,
        "temperature": payload.temperature,
        "note": payload.note,
    }


# ---------------------------------------------------------------------------------------------
# Risk areas


@router.get(
    "/risk-areas", response={200: RiskPeriodPage, **ERRORS}, summary="List risk-area periods"
)
def list_risk_areas(request: HttpRequest, filters: Query[RiskPeriodQuery]) -> dict[str, Any]:
    """Current and past periods, newest first; ``current`` keeps those in force today."""
    user = _actor(request)
    _require(user, Perm.SCREENING_VIEW)
    today = timezone.localdate()
    periods = selectors.risk_periods(
        selectors.RiskPeriodFilters(
            q=filters.q, level=filters.level or "", current_on=today if filters.current else None
        )
    )
    return _page(periods, filters, lambda p: _period_out(p, today))


@router.post(
    "/risk-areas", response={201: RiskPeriodOut, **ERRORS}, summary="Set a region's risk level"
)
def set_risk_level(request: HttpRequest, payload: RiskLevelSet) -> Status[dict[str, Any]]:
    """Needs ``risk_areas.manage``."""
    user = _actor(request)
    _require(user, Perm.RISK_AREAS_MANAGE)
    lookups = _Lookups(user)
    region = lookups.region(payload.region_code, "region_code")
    if region is None and not lookups.problems:
        lookups.problems.append(
            _problem([*_BODY, "region_code"], _("Enter the 6-digit region code."))
        )
    lookups.check()
    assert region is not None
    with _service_errors():
        period = services.set_risk_level(
            actor=user,
            region=region,
            level=payload.level,
            start=payload.start,
            end=payload.end,
            note=payload.note,
        )
    period.region = region
    return Status(201, _period_out(period))


@router.post(
    "/risk-areas/end", response={200: RiskPeriodOut, **ERRORS}, summary="End a region's period"
)
def end_risk_period(request: HttpRequest, payload: RiskPeriodEnd) -> dict[str, Any]:
    """End the open period of the region on ``end`` (its last day). Needs
    ``risk_areas.manage``. (The region is in the body, not the path: a region is national
    data, and an object path parameter is reserved for objects of the caller's scope.)"""
    user = _actor(request)
    _require(user, Perm.RISK_AREAS_MANAGE)
    lookups = _Lookups(user)
    region = lookups.region(payload.region_code, "region_code")
    if region is None and not lookups.problems:
        lookups.problems.append(
            _problem([*_BODY, "region_code"], _("Enter the 6-digit region code."))
        )
    lookups.check()
    assert region is not None
    with _service_errors():
        period = services.end_risk_period(actor=user, region=region, end=payload.end)
    period.region = region
    return _period_out(period)


# ---------------------------------------------------------------------------------------------
# Campaigns and coverage


@router.get("/campaigns", response={200: CampaignPage, **ERRORS}, summary="List campaigns")
def list_campaigns(request: HttpRequest, filters: Query[CampaignQuery]) -> dict[str, Any]:
    """The campaigns whose scope overlaps the caller's (a branch-wide campaign is seen by the
    grid worker of one grid), newest first."""
    user = _actor(request)
    _require(user, Perm.SCREENING_VIEW)
    campaigns = selectors.campaigns_for(user, status=filters.status or "")
    return _page(campaigns, filters, _campaign_out)


def _scoped_campaign(user: User, campaign_id: int, perm: Perm | None = None) -> Campaign:
    return get_scoped_or_404(Campaign.objects.select_related("unit"), user, campaign_id, perm)


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS}, summary="Campaign")
def get_campaign(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return _campaign_out(_scoped_campaign(_actor(request), campaign_id))


@router.post("/campaigns", response={201: CampaignOut, **ERRORS}, summary="Open a campaign")
def create_campaign(request: HttpRequest, payload: CampaignCreate) -> Status[dict[str, Any]]:
    """Needs ``screening.manage`` over the unit. The unit's grids are given to their grid
    workers."""
    user = _actor(request)
    _require(user, Perm.SCREENING_MANAGE)
    lookups = _Lookups(user)
    unit = _units(lookups, payload.unit_id)
    lookups.check()
    assert unit is not None
    check_perm_on(user, Perm.SCREENING_MANAGE, unit)
    with _service_errors():
        campaign = services.create_campaign(
            actor=user,
            name=payload.name,
            unit=unit,
            start=payload.start,
            end=payload.end,
            instructions=payload.instructions,
        )
    return Status(201, _campaign_out(_scoped_campaign(user, campaign.pk)))


@router.post(
    "/campaigns/{campaign_id}/close",
    response={200: CampaignOut, **ERRORS},
    summary="Close a campaign",
)
def close_campaign(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    """Nothing more is recorded in a closed campaign; its ledger and coverage remain. Needs
    ``screening.manage`` over the campaign's unit."""
    user = _actor(request)
    campaign = _scoped_campaign(user, campaign_id, Perm.SCREENING_MANAGE)
    with _service_errors():
        campaign = services.close_campaign(actor=user, campaign=campaign)
    return _campaign_out(campaign)


@router.get(
    "/campaigns/{campaign_id}/coverage",
    response={200: CoverageOut, **ERRORS},
    summary="Coverage of a campaign",
)
def get_coverage(
    request: HttpRequest, campaign_id: int, filters: Query[CoverageQuery]
) -> dict[str, Any]:
    """What is done and what is left, in what the caller may see: the total and one row per
    unit one level below the campaign's unit (or below ``unit_id``); per grid at the bottom.
    Totals come live from the register; moved-out persons found in the campaign count in
    both the total and the screened."""
    user = _actor(request)
    campaign = _scoped_campaign(user, campaign_id)
    under = None
    if filters.unit_id is not None:
        lookups = _Lookups(user, ("query",))
        under = _units(lookups, filters.unit_id)
        lookups.check()
        assert under is not None
        if not under.path.startswith(campaign.unit.path):
            raise ApiValidationError(
                [
                    _problem(
                        ["query", "unit_id"],
                        _("Choose a unit inside the campaign's scope (%(scope)s).")
                        % {"scope": campaign.unit.name},
                    )
                ]
            )
    total, rows = selectors.coverage(campaign, user, under=under)
    return {
        "campaign": _campaign_out(campaign),
        "total": _coverage_out(total),
        "rows": [_coverage_out(row) for row in rows],
    }


# ---------------------------------------------------------------------------------------------
# Screening at the door, household visits


@router.post(
    "/screenings",
    response={200: ScreeningOut, 201: ScreeningOut, **ERRORS},
    summary="Screen a person (or correct their result)",
)
def screen_person(request: HttpRequest, payload: ScreeningIn) -> Status[dict[str, Any]]:
    """Record what was found about a person in a campaign: 201 for a new result, 200 when it
    corrects the person's result in that campaign (a phone retrying is harmless). With
    ``new_person`` instead of ``person_id``, the person found at the door is added to the
    household first, in the same transaction. The answer carries the classification and the
    rules that fired. Needs ``screening.record`` over the person's grid."""
    user = _actor(request)
    _require(user, Perm.SCREENING_RECORD)
    lookups = _Lookups(user)
    campaign = _campaigns(lookups, payload.campaign_id)
    person = _persons(lookups, payload.person_id)
    household: Household | None = None
    if payload.new_person is not None:
        household = lookups.scoped(
            Household.objects.filter(is_active=True).select_related("grid"),
            payload.new_person.household_id,
            "household_id",
            _("No such household in your scope."),
            at="new_person",
        )
    if (payload.person_id is None) == (payload.new_person is None):
        lookups.problems.append(
            _problem(
                [*_BODY, "person_id"],
                _("Give either person_id (a person in the register) or new_person."),
            )
        )
    findings = _findings(payload, lookups)
    lookups.check()
    assert campaign is not None
    with transaction.atomic():
        if payload.new_person is not None:
            assert household is not None
            new = payload.new_person
            with _service_errors([*_BODY, "new_person"]):
                person = services.add_person_at_door(
                    actor=user,
                    campaign=campaign,
                    household=household,
                    name=new.name,
                    sex=new.sex,
                    id_number=new.id_number,
                    phone=new.phone,
                    relation=new.relation,
                ).person
        assert person is not None
        existed = Screening.objects.filter(campaign=campaign, person=person).exists()
        with _service_errors():
            screening = services.screen_person(
                actor=user,
                campaign=campaign,
                person=person,
                at=payload.screened_at,
                presence=payload.presence,
                **findings,
            )
    return Status(200 if existed else 201, _screening_detail(user, screening.pk))


def _visit(
    request: HttpRequest, campaign_id: int, household_id: int, payload: VisitIn, *, answered: bool
) -> dict[str, Any]:
    user = _actor(request)
    _require(user, Perm.SCREENING_RECORD)
    campaign = _scoped_campaign(user, campaign_id)
    household = get_scoped_or_404(
        Household.objects.filter(is_active=True).select_related("grid"), user, household_id
    )
    record = services.record_household_checked if answered else services.record_nobody_home
    with _service_errors():
        visit: HouseholdVisit = record(
            actor=user, campaign=campaign, household=household, at=payload.at, note=payload.note
        )
    state = CampaignHousehold.objects.get(campaign=campaign, household=household)
    return {
        "campaign_id": campaign.pk,
        "household_id": household.pk,
        "outcome": visit.outcome,
        "visited_at": visit.visited_at,
        "status": state.status,
        "visits": state.visits,
    }


@router.post(
    "/campaigns/{campaign_id}/households/{household_id}/nobody-home",
    response={200: VisitOut, **ERRORS},
    summary="Nobody answered at a household",
)
def nobody_home(
    request: HttpRequest, campaign_id: int, household_id: int, payload: VisitIn
) -> dict[str, Any]:
    """The visit is recorded; the household stays on the to-do list. Needs
    ``screening.record`` over the household's grid."""
    return _visit(request, campaign_id, household_id, payload, answered=False)


@router.post(
    "/campaigns/{campaign_id}/households/{household_id}/checked",
    response={200: VisitOut, **ERRORS},
    summary="A household answered, nobody left to screen",
)
def household_checked(
    request: HttpRequest, campaign_id: int, household_id: int, payload: VisitIn
) -> dict[str, Any]:
    """Someone answered at a household with nobody left to screen (empty, or every member
    already screened): it counts as visited. Needs ``screening.record``."""
    return _visit(request, campaign_id, household_id, payload, answered=True)


# ---------------------------------------------------------------------------------------------
# New arrivals


@router.post("/arrivals", response={201: ScreeningOut, **ERRORS}, summary="Register a new arrival")
def register_arrival(request: HttpRequest, payload: ArrivalIn) -> Status[dict[str, Any]]:
    """A person arriving (or returning) between campaigns, classified like a screening;
    ``late_registration`` says whether it was registered later than the rules allow after
    the arrival. Needs ``screening.record`` over the person's grid."""
    user = _actor(request)
    _require(user, Perm.SCREENING_RECORD)
    lookups = _Lookups(user)
    person = _persons(lookups, payload.person_id)
    findings = _findings(payload, lookups)
    lookups.check()
    assert person is not None
    from_region = findings.pop("from_region")
    arrived_at = findings.pop("arrived_at")
    with _service_errors():
        screening = services.register_arrival(
            actor=user,
            person=person,
            from_region=from_region,
            arrived_at=arrived_at,
            registered_at=payload.registered_at,
            **findings,
        )
    return Status(201, _screening_detail(user, screening.pk))


# ---------------------------------------------------------------------------------------------
# The ledger


@router.get("/screenings", response={200: ScreeningPage, **ERRORS}, summary="The screening ledger")
def list_screenings(request: HttpRequest, filters: Query[LedgerQuery]) -> dict[str, Any]:
    """Screening results (door and arrivals) in scope, newest first; ID and phone masked."""
    user = _actor(request)
    _require(user, Perm.SCREENING_VIEW)
    lookups = _Lookups(user, ("query",))
    campaign = _campaigns(lookups, filters.campaign_id)
    unit = _units(lookups, filters.unit_id)
    lookups.check()
    screenings = _ledger(
        user,
        selectors.LedgerFilters(
            q=filters.q,
            campaign=campaign,
            unit=unit,
            kind=filters.kind or "",
            category=filters.category or "",
            key_only=filters.key_only,
            urgent_only=filters.urgent_only,
            late_only=filters.late_only,
            date_from=filters.date_from,
            date_to=filters.date_to,
        ),
    )
    return _screenings_page(user, screenings, filters)


@router.get(
    "/screenings/{screening_id}", response={200: ScreeningOut, **ERRORS}, summary="Screening"
)
def get_screening(request: HttpRequest, screening_id: int) -> dict[str, Any]:
    return _screening_detail(_actor(request), screening_id)
