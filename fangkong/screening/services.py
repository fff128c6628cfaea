"""Every write of the screening workflow: risk areas, the rules, campaigns, screenings and new
arrivals. Each call validates, checks the permission and runs in one transaction; the audit
trail (simple-history) is attributed to the actor, the timeline is written explicitly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.health import clean_symptoms, clean_temperature
from fangkong.core.permissions import Perm, Role
from fangkong.core.scoping import ancestor_paths, has_perm
from fangkong.core.services import attribute_history as _history_actor
from fangkong.core.services import check_actor_on as _check_on
from fangkong.org import services as org_services
from fangkong.org.models import Household, OrgUnit, Person, RoleAssignment, User
from fangkong.org.services import add_timeline_event

from .models import (
    Campaign,
    CampaignAssignment,
    CampaignHousehold,
    CampaignTally,
    ContactKind,
    ContactLink,
    ContactMode,
    ContactRelation,
    HouseholdVisit,
    Region,
    RiskAreaPeriod,
    RiskLevel,
    Screening,
    ScreeningRules,
    Transport,
)
from .rules import Classification, Facts, classify
from .selectors import current_rules, risk_level_on


def _check_manage(actor: Any) -> None:
    """403 unless ``actor`` may manage risk areas (``None`` is the system itself)."""
    if actor is not None and not has_perm(actor, Perm.RISK_AREAS_MANAGE):
        raise PermissionDenied


def _day(value: dt.date) -> str:
    return value.isoformat()


@transaction.atomic
def set_risk_level(
    *,
    actor: User | None,
    region: Region,
    level: str,
    start: dt.date,
    end: dt.date | None = None,
    note: str = "",
) -> RiskAreaPeriod:
    """Declare ``region`` at ``level`` from ``start`` to ``end`` (both included; ``None``: until
    further notice).

    The periods of one region never overlap. An open period (no end) that started before
    ``start`` is closed on the day before ``start``; any other overlap (an open period starting
    on or after ``start``, or a closed period sharing a day) is refused with a ValidationError.
    """
    _check_manage(actor)
    if level not in RiskLevel.values:
        raise ValidationError({"level": _("Choose high, medium or low risk.")})
    if end is not None and end < start:
        raise ValidationError({"end": _("The end date cannot be before the start date.")})
    Region.objects.select_for_update().get(pk=region.pk)  # one change per region at a time
    periods = RiskAreaPeriod.objects.filter(region_id=region.pk)
    to_close = periods.filter(end__isnull=True, start__lt=start).first()
    others = periods.exclude(pk=to_close.pk) if to_close is not None else periods
    overlapping = others.filter(Q(end__isnull=True) | Q(end__gte=start))
    if end is not None:
        overlapping = overlapping.filter(start__lte=end)
    clash = overlapping.order_by("start").first()
    if clash is not None:
        raise ValidationError(
            {
                "start": _(
                    "%(region)s already has a period from %(start)s to %(end)s that overlaps "
                    "this one. End or change that period first."
                )
                % {
                    "region": region.name,
                    "start": _day(clash.start),
                    "end": _day(clash.end) if clash.end else _("today"),
                }
            }
        )
    if to_close is not None:
        to_close.end = start - dt.timedelta(days=1)
        _history_actor(to_close, actor)
        to_close.save(update_fields=["end"])
    period = RiskAreaPeriod(
        region_id=region.pk,
        level=level,
        start=start,
        end=end,
        note=note.strip(),
        set_by=actor if actor is not None and getattr(actor, "pk", None) is not None else None,
    )
    _history_actor(period, actor)
    period.save()
    return period


@transaction.atomic
def end_risk_period(*, actor: User | None, region: Region, end: dt.date) -> RiskAreaPeriod:
    """End the open period of ``region`` on ``end`` (the last day it holds)."""
    _check_manage(actor)
    period = (
        RiskAreaPeriod.objects.select_for_update()
        .filter(region_id=region.pk, end__isnull=True)
        .first()
    )
    if period is None:
        raise ValidationError({"end": _("%(region)s has no open period.") % {"region": region}})
    if end < period.start:
        raise ValidationError(
            {
                "end": _("The period started on %(start)s: it cannot end before.")
                % {"start": _day(period.start)}
            }
        )
    period.end = end
    _history_actor(period, actor)
    period.save(update_fields=["end"])
    return period


# ---------------------------------------------------------------------------------------------
# The rules


RULE_LIMITS: dict[str, tuple[Any, Any]] = {
    "travel_window_days": (1, 60),
    "contact_window_days": (1, 60),
    "fever_threshold": (Decimal("37.0"), Decimal("38.5")),
    "arrival_report_hours": (1, 72),
}
RULE_FIELDS = (*RULE_LIMITS, "medium_risk_is_key")


@transaction.atomic
def update_rules(*, actor: User | None, **values: Any) -> ScreeningRules:
    """Change the classification rules. New results are classified by them; results already
    recorded keep the rules they were classified by (their reasons say which)."""
    if actor is not None and not has_perm(actor, Perm.SCREENING_MANAGE):
        raise PermissionDenied
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in RULE_LIMITS:
            low, high = RULE_LIMITS[name]
            if value is None or not low <= value <= high:
                errors[name] = [
                    _("Enter a value from %(low)s to %(high)s.") % {"low": low, "high": high}
                ]
    if errors:
        raise ValidationError(errors)
    rules = (
        ScreeningRules.objects.select_for_update().filter(pk=ScreeningRules.SINGLETON_PK).first()
    )
    if rules is None:
        rules = ScreeningRules(pk=ScreeningRules.SINGLETON_PK)
    for name, value in values.items():
        setattr(rules, name, value)
    _history_actor(rules, actor)
    rules.save()
    return rules


# ---------------------------------------------------------------------------------------------
# Campaigns


def _clean_period(start: dt.date | None, end: dt.date | None) -> None:
    if start is None:
        raise ValidationError({"start": _("Enter the first day of the campaign.")})
    if end is not None and end < start:
        raise ValidationError({"end": _("The end date cannot be before the start date.")})


def campaign_grids(campaign: Campaign) -> QuerySet[OrgUnit]:
    """The active grids the campaign covers."""
    return OrgUnit.objects.filter(
        kind=OrgUnit.Kind.GRID, is_active=True, path__startswith=campaign.unit.path
    )


@transaction.atomic
def create_campaign(
    *,
    actor: User | None,
    name: str,
    unit: OrgUnit,
    start: dt.date,
    end: dt.date | None = None,
    instructions: str = "",
) -> Campaign:
    """Open a campaign over ``unit``'s subtree and give each grid to its grid workers (those
    holding the grid worker role on the grid or above it)."""
    _check_on(actor, Perm.SCREENING_MANAGE, unit)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the campaign a name, e.g. 2月第一轮摸排.")})
    _clean_period(start, end)
    campaign = Campaign(
        name=name[:100],
        unit=unit,
        start=start,
        end=end,
        instructions=(instructions or "").strip(),
        created_by=actor if actor is not None and actor.pk is not None else None,
    )
    _history_actor(campaign, actor)
    campaign.save()
    grids = list(campaign_grids(campaign).values_list("pk", "path"))
    workers = list(
        RoleAssignment.objects.filter(role=Role.GRID_WORKER, user__is_active=True)
        .filter(
            Q(org_unit__path__startswith=unit.path)
            | Q(org_unit__path__in=ancestor_paths(unit.path))
        )
        .values_list("user_id", "org_unit__path")
    )
    CampaignAssignment.objects.bulk_create(
        [
            CampaignAssignment(campaign=campaign, grid_id=grid_id, worker_id=user_id)
            for grid_id, grid_path in grids
            for user_id, worker_path in workers
            if grid_path.startswith(worker_path)
        ],
        ignore_conflicts=True,
    )
    return campaign


CAMPAIGN_FIELDS = ("name", "start", "end", "instructions")


def _campaign_to_change(actor: User | None, campaign: Campaign) -> Campaign:
    """The campaign re-read under a row lock, once the actor may manage it (403 otherwise)."""
    locked = (
        Campaign.objects.select_for_update(of=("self",)).select_related("unit").get(pk=campaign.pk)
    )
    _check_on(actor, Perm.SCREENING_MANAGE, locked.unit)
    return locked


@transaction.atomic
def update_campaign(*, actor: User | None, campaign: Campaign, **changes: Any) -> Campaign:
    unknown = set(changes) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    campaign = _campaign_to_change(actor, campaign)
    for name, value in changes.items():
        setattr(campaign, name, value.strip() if isinstance(value, str) else value)
    if not campaign.name:
        raise ValidationError({"name": _("Give the campaign a name, e.g. 2月第一轮摸排.")})
    _clean_period(campaign.start, campaign.end)
    _history_actor(campaign, actor)
    campaign.save()
    return campaign


@transaction.atomic
def close_campaign(*, actor: User | None, campaign: Campaign) -> Campaign:
    """Close the campaign: nothing more is recorded in it; its ledger and coverage remain."""
    campaign = _campaign_to_change(actor, campaign)
    if not campaign.is_open:
        raise ValidationError(_("The campaign is already closed."))
    campaign.status = Campaign.Status.CLOSED
    campaign.closed_at = timezone.now()
    _history_actor(campaign, actor)
    campaign.save(update_fields=["status", "closed_at"])
    return campaign


@transaction.atomic
def reopen_campaign(*, actor: User | None, campaign: Campaign) -> Campaign:
    campaign = _campaign_to_change(actor, campaign)
    if campaign.is_open:
        raise ValidationError(_("The campaign is already open."))
    campaign.status = Campaign.Status.OPEN
    campaign.closed_at = None
    _history_actor(campaign, actor)
    campaign.save(update_fields=["status", "closed_at"])
    return campaign


@transaction.atomic
def assign_grid(
    *, actor: User | None, campaign: Campaign, grid: OrgUnit, workers: Sequence[User]
) -> list[CampaignAssignment]:
    """Give ``grid`` of ``campaign`` to ``workers`` (replacing who had it). Each must hold the
    grid worker role on the grid or above it."""
    _check_on(actor, Perm.SCREENING_MANAGE, campaign.unit)
    if grid.kind != OrgUnit.Kind.GRID or not grid.path.startswith(campaign.unit.path):
        raise ValidationError({"grid": _("Choose a grid inside the campaign's scope.")})
    allowed = set(
        RoleAssignment.objects.filter(
            role=Role.GRID_WORKER,
            user__in=[w.pk for w in workers],
            org_unit__path__in=[*ancestor_paths(grid.path), grid.path],
        ).values_list("user_id", flat=True)
    )
    refused = [str(w) for w in workers if w.pk not in allowed]
    if refused:
        raise ValidationError(
            {
                "workers": _("%(names)s not grid workers of this grid.")
                % {"names": "、".join(refused)}
            }
        )
    CampaignAssignment.objects.filter(campaign=campaign, grid=grid).delete()
    return CampaignAssignment.objects.bulk_create(
        [CampaignAssignment(campaign=campaign, grid=grid, worker=w) for w in workers]
    )


# ---------------------------------------------------------------------------------------------
# Screening at the door, new arrivals


def _bump(campaign: Campaign, grid_id: int, **deltas: int) -> None:
    changes = {name: F(name) + delta for name, delta in deltas.items() if delta}
    if not changes:
        return
    tally, _created = CampaignTally.objects.get_or_create(campaign=campaign, grid_id=grid_id)
    CampaignTally.objects.filter(pk=tally.pk).update(**changes)


def _check_recordable(campaign: Campaign, unit: OrgUnit, day: dt.date) -> None:
    if not campaign.is_open:
        raise ValidationError(
            _("The campaign %(name)s is closed: nothing more is recorded in it.")
            % {"name": campaign.name}
        )
    if not unit.path.startswith(campaign.unit.path):
        raise ValidationError(
            _("%(unit)s is outside the campaign's scope (%(scope)s).")
            % {"unit": unit.name, "scope": campaign.unit.name}
        )
    if day < campaign.start or (campaign.end is not None and day > campaign.end):
        raise ValidationError(
            _("The campaign runs from %(start)s to %(end)s; %(day)s is outside it.")
            % {
                "start": campaign.start.isoformat(),
                "end": campaign.end.isoformat() if campaign.end else "—",
                "day": day.isoformat(),
            }
        )


def _visit(
    *,
    actor: User | None,
    campaign: Campaign,
    household: Household,
    answered: bool,
    at: dt.datetime,
    note: str = "",
) -> HouseholdVisit:
    """Record a knock at ``household``'s door (one visit per worker and hour for the taps of
    one household) and move the household's campaign status and the grid's counts."""
    by = actor if actor is not None and actor.pk is not None else None
    outcome = HouseholdVisit.Outcome.ANSWERED if answered else HouseholdVisit.Outcome.NOBODY_HOME
    visit = (
        HouseholdVisit.objects.filter(
            campaign=campaign,
            household=household,
            visited_by=by,
            outcome=outcome,
            visited_at__gte=at - VISIT_MERGE,
            visited_at__lte=at + VISIT_MERGE,
        )
        .order_by("-visited_at")
        .first()
        if answered
        else None
    )
    new_visit = visit is None
    if visit is None:
        visit = HouseholdVisit.objects.create(
            campaign=campaign,
            household=household,
            grid_id=household.grid_id,
            visited_at=at,
            visited_by=by,
            outcome=outcome,
            note=note.strip()[:200],
        )
    status = CampaignHousehold.Status.VISITED if answered else CampaignHousehold.Status.NOBODY_HOME
    state = (
        CampaignHousehold.objects.select_for_update()
        .filter(campaign=campaign, household=household)
        .first()
    )
    if state is None:
        CampaignHousehold.objects.create(
            campaign=campaign,
            household=household,
            grid_id=household.grid_id,
            status=status,
            visits=1,
            last_visit_at=at,
        )
        if answered:
            _bump(campaign, household.grid_id, households_visited=1)
        else:
            _bump(campaign, household.grid_id, households_nobody_home=1)
        return visit
    if new_visit:
        state.visits += 1
    state.last_visit_at = max(state.last_visit_at, at)
    if answered and state.status == CampaignHousehold.Status.NOBODY_HOME:
        state.status = CampaignHousehold.Status.VISITED
        _bump(state.campaign, state.grid_id, households_visited=1, households_nobody_home=-1)
    state.save(update_fields=["status", "visits", "last_visit_at"])
    return visit


VISIT_MERGE = dt.timedelta(hours=1)


@transaction.atomic
def record_nobody_home(
    *,
    actor: User | None,
    campaign: Campaign,
    household: Household,
    at: dt.datetime | None = None,
    note: str = "",
) -> HouseholdVisit:
    """Nobody answered: the visit is recorded and the household stays on the to-do list."""
    at = at or timezone.now()
    _check_on(actor, Perm.SCREENING_RECORD, household.grid)
    _check_recordable(campaign, household.grid, timezone.localdate(at))
    return _visit(
        actor=actor, campaign=campaign, household=household, answered=False, at=at, note=note
    )


@transaction.atomic
def record_household_checked(
    *,
    actor: User | None,
    campaign: Campaign,
    household: Household,
    at: dt.datetime | None = None,
    note: str = "",
) -> HouseholdVisit:
    """Someone answered at a household with nobody left to screen (an empty household, or a
    household whose members are all screened): it counts as visited."""
    at = at or timezone.now()
    _check_on(actor, Perm.SCREENING_RECORD, household.grid)
    _check_recordable(campaign, household.grid, timezone.localdate(at))
    return _visit(
        actor=actor, campaign=campaign, household=household, answered=True, at=at, note=note
    )


SCREENING_FIELDS = (
    "presence",
    "from_region",
    "departed_at",
    "arrived_at",
    "transport",
    "transport_no",
    "stopovers",
    "contact_kind",
    "contact_person",
    "contact_name",
    "contact_date",
    "contact_relation",
    "contact_mode",
    "symptoms",
    "temperature",
    "note",
)


def _clean_choice(
    values: dict[str, Any], name: str, choices: Any, errors: dict[str, list[str]]
) -> None:
    if values.get(name) and values[name] not in choices.values:
        errors.setdefault(name, []).append(_("Choose one of the listed values."))


def clean_screening_fields(values: dict[str, Any], *, at: dt.datetime) -> None:
    """Validate and normalise the findings about one person in place (every error at once,
    by field). ``at`` is when the screening took place: nothing found can be later."""
    errors: dict[str, list[str]] = {}
    values.setdefault("presence", Screening.Presence.PRESENT)
    _clean_choice(values, "presence", Screening.Presence, errors)
    _clean_choice(values, "transport", Transport, errors)
    _clean_choice(values, "contact_kind", ContactKind, errors)
    _clean_choice(values, "contact_relation", ContactRelation, errors)
    _clean_choice(values, "contact_mode", ContactMode, errors)
    for name in ("transport_no", "stopovers", "contact_name", "note"):
        values[name] = (values.get(name) or "").strip()
    values["transport_no"] = values["transport_no"].upper().replace(" ", "")
    limits = {"transport_no": 20, "stopovers": 200, "contact_name": 50, "note": 200}
    for name, limit in limits.items():
        if len(values[name]) > limit:
            errors.setdefault(name, []).append(
                _("At most %(limit)s characters.") % {"limit": limit}
            )
    departed, arrived = values.get("departed_at"), values.get("arrived_at")
    if values.get("from_region") is None and (departed or arrived or values.get("transport")):
        errors.setdefault("from_region", []).append(
            _("Say where the person came from (province, city or county).")
        )
    if values.get("from_region") is not None and arrived is None:
        errors.setdefault("arrived_at", []).append(
            _("Enter when the person arrived here from %(region)s.")
            % {"region": values["from_region"].name}
        )
    if arrived is not None and arrived > at:
        errors.setdefault("arrived_at", []).append(
            _("The arrival cannot be later than the screening (%(at)s).")
            % {"at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")}
        )
    if departed is not None and arrived is not None and departed > arrived:
        errors.setdefault("departed_at", []).append(
            _("The departure from there cannot be later than the arrival here.")
        )
    if values.get("contact_kind"):
        if values.get("contact_person") is None and not values["contact_name"]:
            errors.setdefault("contact_name", []).append(
                _("Name the person met, or choose them from the register.")
            )
        if values.get("contact_date") and values["contact_date"] > timezone.localdate(at):
            errors.setdefault("contact_date", []).append(
                _("The contact cannot be later than the screening day.")
            )
    elif values.get("contact_person") is not None or values["contact_name"]:
        errors.setdefault("contact_kind", []).append(
            _("Say who the contact was: a case, someone from a risk area or a fever patient.")
        )
    try:
        values["symptoms"] = clean_symptoms(values.get("symptoms"))
    except ValidationError as error:
        errors.setdefault("symptoms", []).extend(error.messages)
    try:
        values["temperature"] = clean_temperature(values.get("temperature"))
    except ValidationError as error:
        errors.setdefault("temperature", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)


def _classification(values: dict[str, Any], *, at: dt.datetime) -> Classification:
    region: Region | None = values.get("from_region")
    departed, arrived = values.get("departed_at"), values.get("arrived_at")
    facts = Facts(
        on=timezone.localdate(at),
        from_region=region.code if region else "",
        from_region_name=region.name if region else "",
        departed_on=timezone.localdate(departed) if departed else None,
        arrived_on=timezone.localdate(arrived) if arrived else None,
        contact_kind=values.get("contact_kind") or "",
        contact_date=values.get("contact_date"),
        symptoms=values.get("symptoms") or (),
        temperature=values.get("temperature"),
    )
    return classify(facts, rules=current_rules(), level_on=risk_level_on)


def _summary(prefix: str, screening: Screening) -> str:
    if screening.presence == Screening.Presence.MOVED_OUT:
        outcome = str(Screening.Presence.MOVED_OUT.label)
    elif screening.is_key:
        outcome = _("key person: %(category)s") % {"category": screening.get_category_display()}
    else:
        outcome = str(Screening.Category.NO_RISK.label)
    if screening.is_urgent:
        outcome += _(", urgent")
    return f"{prefix}: {outcome}"


def _default(name: str) -> Any:
    field = Screening._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_default()


def _link_contact(screening: Screening, actor: User | None) -> None:
    ContactLink.objects.filter(screening=screening).delete()
    if not screening.contact_kind:
        return
    ContactLink.objects.create(
        person_id=screening.person_id,
        source=screening.contact_person,
        source_name="" if screening.contact_person_id else screening.contact_name,
        kind=screening.contact_kind,
        relation=screening.contact_relation,
        mode=screening.contact_mode,
        last_contact=screening.contact_date,
        screening=screening,
        recorded_by=actor if actor is not None and actor.pk is not None else None,
    )


_STATUS_FOR_PRESENCE: dict[str, str] = {
    Screening.Presence.AWAY: Person.Status.AWAY,
    Screening.Presence.MOVED_OUT: Person.Status.MOVED_OUT,
}


def _follow_presence(actor: User | None, person: Person, presence: str, source: str) -> None:
    """The register follows what was found at the door: away, back, or moved out."""
    target = _STATUS_FOR_PRESENCE.get(presence)
    found_elsewhere = (Person.Status.AWAY, Person.Status.MOVED_OUT)
    if target is None and person.status in found_elsewhere:
        target = Person.Status.NORMAL  # back, or (a correction) had not moved out after all
    if target is None or person.status == target:
        return
    if person.status in org_services.EPISODE_STATUSES:
        return  # under observation, referred, …: set by the episodes, and says more
    org_services.update_person(actor=actor, person=person, status=target, source=source)


@transaction.atomic
def screen_person(
    *,
    actor: User | None,
    campaign: Campaign,
    person: Person,
    at: dt.datetime | None = None,
    **findings: Any,
) -> Screening:
    """Record (or correct) what was found about ``person`` in ``campaign``: one result per
    person and campaign, classified by the rules in force; the household counts as visited,
    the grid's counts move, the person's timeline and contact links follow."""
    unknown = set(findings) - set(SCREENING_FIELDS)
    if unknown:
        raise TypeError(f"unknown screening fields: {sorted(unknown)}")
    at = at or timezone.now()
    person = (
        Person.objects.select_for_update(of=("self",))
        .select_related("grid", "household")
        .get(pk=person.pk)
    )
    _check_on(actor, Perm.SCREENING_RECORD, person.grid)
    if not person.is_active:
        raise ValidationError(_("%(name)s is no longer in the register.") % {"name": person.name})
    _check_recordable(campaign, person.grid, timezone.localdate(at))
    values = dict(findings)
    clean_screening_fields(values, at=at)
    result = _classification(values, at=at)
    screening = (
        Screening.objects.select_for_update().filter(campaign=campaign, person=person).first()
    )
    before = (
        (screening.presence, screening.is_key, screening.is_urgent, screening.grid_id)
        if screening
        else None
    )
    if (
        screening is not None
        and screening.reasons == result.reason_data
        and _is_retry(screening, values, actor, at)
    ):
        return screening
    if screening is None:
        screening = Screening(kind=Screening.Kind.DOOR, campaign=campaign, person=person)
    for name in SCREENING_FIELDS:
        setattr(screening, name, values.get(name, _default(name)))
    screening.grid_id = person.grid_id
    screening.household_id = person.household_id
    screening.screened_at = at
    screening.screened_by = actor if actor is not None and actor.pk is not None else None
    screening.category = result.category
    screening.is_key = result.is_key
    screening.is_urgent = result.is_urgent
    screening.reasons = result.reason_data
    _history_actor(screening, actor)
    screening.save()
    moved = Screening.Presence.MOVED_OUT

    def counts(presence: str, is_key: bool, is_urgent: bool) -> dict[str, int]:
        return {
            "persons_screened": 1,
            "persons_moved_out": int(presence == moved),
            "key_persons": int(is_key),
            "urgent_persons": int(is_urgent),
        }

    now = counts(screening.presence, screening.is_key, screening.is_urgent)
    if before is None:
        _bump(campaign, person.grid_id, **now)
    elif before[3] == person.grid_id:
        was = counts(*before[:3])
        _bump(campaign, person.grid_id, **{name: now[name] - was[name] for name in now})
    else:  # moved to another grid since: the result (and its counts) moves with the person
        _bump(campaign, before[3], **{name: -n for name, n in counts(*before[:3]).items()})
        _bump(campaign, person.grid_id, **now)
    if person.household is not None:
        _visit(actor=actor, campaign=campaign, household=person.household, answered=True, at=at)
    _link_contact(screening, actor)
    add_timeline_event(
        person=person,
        kind="screening",
        summary=_summary(campaign.name, screening),
        actor=actor,
        data={
            "screening": screening.pk,
            "campaign": campaign.pk,
            "category": screening.category,
            "key": screening.is_key,
            "urgent": screening.is_urgent,
            "presence": screening.presence,
        },
        occurred_at=at,
    )
    _follow_presence(actor, person, screening.presence, campaign.name)
    return screening


def _is_retry(screening: Screening, values: dict[str, Any], actor: Any, at: dt.datetime) -> bool:
    """The same findings sent again by the same person within the hour (a phone retrying
    after a lost answer, a double tap): nothing new to record."""
    by = actor.pk if actor is not None else None
    return (
        screening.screened_by_id == by
        and abs(screening.screened_at - at) <= VISIT_MERGE
        and all(
            getattr(screening, name) == values.get(name, _default(name))
            for name in SCREENING_FIELDS
        )
    )


@transaction.atomic
def add_person_at_door(
    *, actor: User | None, campaign: Campaign, household: Household, **fields: Any
) -> org_services.PersonResult:
    """A person found at the door who is not in the register: added to the household."""
    _check_on(actor, Perm.SCREENING_RECORD, household.grid)
    _check_recordable(campaign, household.grid, timezone.localdate())
    return org_services.create_person(
        actor=actor, household=household, source=campaign.name, **fields
    )


@transaction.atomic
def register_arrival(
    *,
    actor: User | None,
    person: Person,
    from_region: Region | None,
    arrived_at: dt.datetime | None,
    registered_at: dt.datetime | None = None,
    **findings: Any,
) -> Screening:
    """Register a person arriving (or returning) between campaigns, classified like a
    screening. Registered more than the rules' limit after arriving: flagged late."""
    unknown = set(findings) - set(SCREENING_FIELDS)
    if unknown or "presence" in findings:
        raise TypeError(
            f"unknown arrival fields: {sorted(unknown | ({'presence'} & set(findings)))}"
        )
    registered_at = registered_at or timezone.now()
    person = Person.objects.select_related("grid").get(pk=person.pk)
    _check_on(actor, Perm.SCREENING_RECORD, person.grid)
    if not person.is_active:
        raise ValidationError(_("%(name)s is no longer in the register.") % {"name": person.name})
    values = dict(findings, from_region=from_region, arrived_at=arrived_at)
    errors: dict[str, list[str]] = {}
    if from_region is None:
        errors["from_region"] = [_("Say where the person came from (province, city or county).")]
    if arrived_at is None:
        errors["arrived_at"] = [_("Enter when the person arrived.")]
    if errors:
        raise ValidationError(errors)
    clean_screening_fields(values, at=registered_at)
    result = _classification(values, at=registered_at)
    rules = current_rules()
    assert arrived_at is not None
    screening = Screening(
        kind=Screening.Kind.ARRIVAL,
        campaign=None,
        person=person,
        grid_id=person.grid_id,
        household_id=person.household_id,
        screened_at=registered_at,
        screened_by=actor if actor is not None and actor.pk is not None else None,
        category=result.category,
        is_key=result.is_key,
        is_urgent=result.is_urgent,
        reasons=result.reason_data,
        late_registration=registered_at - arrived_at
        > dt.timedelta(hours=rules.arrival_report_hours),
    )
    for name in SCREENING_FIELDS:
        setattr(screening, name, values.get(name, _default(name)))
    _history_actor(screening, actor)
    screening.save()
    _link_contact(screening, actor)
    summary = _summary(_("New arrival"), screening)
    if screening.late_registration:
        summary += _(" (registered more than %(hours)s hours after arriving)") % {
            "hours": rules.arrival_report_hours
        }
    add_timeline_event(
        person=person,
        kind="arrival",
        summary=summary,
        actor=actor,
        data={
            "screening": screening.pk,
            "category": screening.category,
            "key": screening.is_key,
            "urgent": screening.is_urgent,
            "late": screening.late_registration,
        },
        occurred_at=registered_at,
    )
    if person.status == Person.Status.AWAY:
        org_services.update_person(
            actor=actor, person=person, status=Person.Status.NORMAL, source=_("New arrival")
        )
    return screening


@transaction.atomic
def recount_campaign(*, campaign: Campaign) -> None:
    """Rebuild the campaign's counts from its records (after a repair, or to check them)."""
    CampaignTally.objects.filter(campaign=campaign).delete()
    counts: dict[int, dict[str, int]] = {}

    def add(grid_id: int, name: str, n: int) -> None:
        counts.setdefault(grid_id, {})[name] = counts.get(grid_id, {}).get(name, 0) + n

    for grid_id, status, n in (
        CampaignHousehold.objects.filter(campaign=campaign)
        .values_list("grid", "status")
        .annotate(n=Count("pk"))
    ):
        name = (
            "households_visited"
            if status == CampaignHousehold.Status.VISITED
            else "households_nobody_home"
        )
        add(grid_id, name, n)
    moved = Screening.Presence.MOVED_OUT
    for grid_id, screened, moved_out, key, urgent in (
        Screening.objects.filter(campaign=campaign)
        .values_list("grid")
        .annotate(
            screened=Count("pk"),
            moved_out=Count("pk", filter=Q(presence=moved)),
            key=Count("pk", filter=Q(is_key=True)),
            urgent=Count("pk", filter=Q(is_urgent=True)),
        )
        .order_by()
    ):
        add(grid_id, "persons_screened", screened)
        add(grid_id, "persons_moved_out", moved_out)
        add(grid_id, "key_persons", key)
        add(grid_id, "urgent_persons", urgent)
    CampaignTally.objects.bulk_create(
        [CampaignTally(campaign=campaign, grid_id=g, **values) for g, values in counts.items()]
    )
