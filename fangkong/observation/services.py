"""Every write of key-group control: episodes and their decisions, readings, follow-up
visits, needs, self-report links, care visits, the rules and presets, and the scheduled jobs
that find missed checks, missed visits and unanswered needs.

Each call validates, checks the permission (``actor=None`` is the system itself: the
scheduler, the self-report page) and runs in one transaction; the audit trail
(simple-history) is attributed to the actor and the timeline is written explicitly."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.alerts.models import Alert, AlertKind
from fangkong.alerts.services import raise_alert, resolve_alert
from fangkong.core import fastpath
from fangkong.core.health import clean_symptoms, clean_temperature, symptom_labels
from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm, scope_for
from fangkong.core.services import acting_user as _user
from fangkong.core.services import attribute_history as _history_actor
from fangkong.core.services import check_actor_on as _check_on
from fangkong.core.services import clean_text as _clean_text
from fangkong.org import services as org_services
from fangkong.org.models import Household, OrgUnit, Person, User
from fangkong.org.services import add_timeline_event

from . import rules as period_rules
from .models import (
    CareItem,
    CareItemKind,
    CareVisit,
    EpisodeResponsible,
    FollowUpVisit,
    Need,
    ObservationEpisode,
    ObservationKind,
    ObservationRules,
    PeriodPreset,
    SelfReportLink,
    Slot,
    Source,
    TemperatureReading,
)

Status = ObservationEpisode.Status

# A reading or visit time this far in the future is a wrong clock or a typing mistake.
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
# The first run of a job (or after long downtime) looks back at most this far.
LOOKBACK = dt.timedelta(days=30)
FIRST_LOOKBACK = dt.timedelta(days=2)
NOTE_MAX = 300
# An episode may be planned ahead (a person arriving in a few days), this far at most.
START_AHEAD = dt.timedelta(days=7)

# What a decision may follow: released is final; referred and suspected can still be
# confirmed or excluded (released); a confirmed case is released when cured.
DECISIONS: dict[str, set[str]] = {
    Status.ACTIVE: {Status.RELEASED, Status.REFERRED, Status.SUSPECTED, Status.CONFIRMED},
    Status.REFERRED: {Status.RELEASED, Status.SUSPECTED, Status.CONFIRMED},
    Status.SUSPECTED: {Status.RELEASED, Status.CONFIRMED},
    Status.CONFIRMED: {Status.RELEASED},
    Status.RELEASED: set(),
}


def current_rules() -> ObservationRules:
    """The rules in force (the defaults until the office changes them)."""
    rules = fastpath.get(ObservationRules, ObservationRules.SINGLETON_PK)  # every reading asks
    return rules if rules is not None else ObservationRules(pk=ObservationRules.SINGLETON_PK)


def default_preset() -> PeriodPreset:
    preset = PeriodPreset.objects.filter(is_default=True, is_active=True).first()
    if preset is None:
        preset = PeriodPreset.objects.filter(is_active=True).order_by("order", "pk").first()
    if preset is None:
        raise ValidationError(
            {"preset": _("No period preset is active: ask the office to add one.")}
        )
    return preset


def _day(value: dt.date) -> str:
    return value.isoformat()


def _locked_episode(episode: ObservationEpisode) -> ObservationEpisode:
    return (
        ObservationEpisode.objects.select_for_update(of=("self",))
        .select_related("person", "person__grid")
        .get(pk=episode.pk)
    )


# ---------------------------------------------------------------------------------------------
# The person's status, in one place


def status_from_episodes(statuses: Sequence[str]) -> str | None:
    """The register status that the person's episodes imply (most serious first), or None
    when they imply nothing (all released, or none)."""
    order = (
        (Status.CONFIRMED, Person.Status.CONFIRMED),
        (Status.SUSPECTED, Person.Status.SUSPECTED),
        (Status.REFERRED, Person.Status.REFERRED),
        (Status.ACTIVE, Person.Status.UNDER_OBSERVATION),
    )
    for episode_status, person_status in order:
        if episode_status in statuses:
            return person_status
    return None


OBSERVATION_STATUSES = {
    Person.Status.UNDER_OBSERVATION,
    Person.Status.REFERRED,
    Person.Status.SUSPECTED,
    Person.Status.CONFIRMED,
}


def sync_person_status(*, actor: Any, person: Person, source: str) -> None:
    """Set the person's register status from their episodes: the only place it is derived.
    With nothing to imply, a status that came from observation goes back to normal; one
    found at the door (away, moved out) stays."""
    statuses = list(person.episodes.values_list("status", flat=True))
    target = status_from_episodes(statuses)
    if target is None:
        if person.status not in OBSERVATION_STATUSES:
            return
        target = Person.Status.NORMAL
    if person.status != target:
        org_services.update_person(
            actor=_user(actor), person=person, status=target, source=source, status_by_episodes=True
        )


# ---------------------------------------------------------------------------------------------
# Episodes


@dataclass
class EpisodeStart:
    """What starting one episode needs (the bulk start takes a list of them)."""

    person: Person
    reason: str
    counts_from: dt.date
    counts_from_kind: str
    kind: str = ObservationKind.HOME_ISOLATION
    start_date: dt.date | None = None
    preset: PeriodPreset | None = None
    screening: Any = None
    reason_note: str = ""
    place: str = ""
    responsible: list[dict[str, Any]] = field(default_factory=list)


def start_from_screening(screening: Any) -> dict[str, Any]:
    """Reason and the day counted from, as the screening found them: the arrival day for an
    arrival from a risk area, the last contact for a close contact."""
    category = screening.category
    if category == "risk_area_arrival" and screening.arrived_at is not None:
        return {
            "reason": ObservationEpisode.Reason.ARRIVAL,
            "counts_from": timezone.localtime(screening.arrived_at).date(),
            "counts_from_kind": ObservationEpisode.CountsFrom.ARRIVAL,
        }
    if category == "close_contact" and screening.contact_date is not None:
        return {
            "reason": ObservationEpisode.Reason.CONTACT,
            "counts_from": screening.contact_date,
            "counts_from_kind": ObservationEpisode.CountsFrom.LAST_CONTACT,
        }
    return {
        "reason": ObservationEpisode.Reason.OTHER,
        "counts_from": timezone.localtime(screening.screened_at).date(),
        "counts_from_kind": ObservationEpisode.CountsFrom.START,
    }


def _validate_start(entry: EpisodeStart, today: dt.date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if entry.reason not in ObservationEpisode.Reason.values:
        errors.setdefault("reason", []).append(_("Choose the reason from the list."))
    if entry.kind not in ObservationKind.values:
        errors.setdefault("kind", []).append(_("Choose the kind of observation from the list."))
    if entry.counts_from_kind not in ObservationEpisode.CountsFrom.values:
        errors.setdefault("counts_from_kind", []).append(
            _("Choose what the period counts from: the last contact, the arrival or the start.")
        )
    start = entry.start_date or today
    if start > today + START_AHEAD:
        errors.setdefault("start_date", []).append(
            _("Observation can be planned at most %(days)d days ahead: enter an earlier day.")
            % {"days": START_AHEAD.days}
        )
    if entry.counts_from is None:
        errors.setdefault("counts_from", []).append(
            _("Enter the day the period counts from (last contact or arrival).")
        )
    elif entry.counts_from > start:
        errors.setdefault("counts_from", []).append(
            _(
                "The day counted from (%(day)s) is after the start of observation: enter the "
                "day of the last contact or arrival, on or before %(start)s."
            )
            % {"day": _day(entry.counts_from), "start": _day(start)}
        )
    return errors


def _episode_url(episode: ObservationEpisode) -> str:
    return reverse("observation:episode_detail", kwargs={"episode_id": episode.pk})


def _create_episode(
    actor: Any, entry: EpisodeStart, today: dt.date, now: dt.datetime
) -> ObservationEpisode:
    person = entry.person
    preset = entry.preset or default_preset()
    period = period_rules.plan_period(
        entry.counts_from, preset.isolation_days, preset.monitoring_days
    )
    start = entry.start_date or today
    if period.planned_end < start:
        raise ValidationError(
            {
                "counts_from": _(
                    "Counted from %(day)s, the %(days)d days of the preset ended on %(end)s, "
                    "before observation starts: check the day counted from."
                )
                % {
                    "day": _day(entry.counts_from),
                    "days": preset.total_days,
                    "end": _day(period.planned_end),
                }
            }
        )
    if ObservationEpisode.objects.filter(person=person, status=Status.ACTIVE).exists():
        raise ValidationError(
            {
                "person": _("%(name)s is already under observation: open the running episode.")
                % {"name": person.name}
            }
        )
    episode = ObservationEpisode(
        person=person,
        kind=entry.kind,
        reason=entry.reason,
        reason_note=_clean_text(entry.reason_note, "reason_note", 200),
        screening=entry.screening,
        counts_from=entry.counts_from,
        counts_from_kind=entry.counts_from_kind,
        start_date=start,
        preset=preset,
        isolation_days=preset.isolation_days,
        monitoring_days=preset.monitoring_days,
        isolation_end=period.isolation_end,
        planned_end=period.planned_end,
        place=_clean_text(entry.place, "place", 100)
        or (person.household.address if person.household is not None else ""),
        created_by=_user(actor),
        created_at=now,
    )
    _history_actor(episode, actor)
    try:
        with transaction.atomic():
            episode.save()
    except IntegrityError:  # started at the same moment by someone else
        raise ValidationError(
            {
                "person": _("%(name)s is already under observation: open the running episode.")
                % {"name": person.name}
            }
        ) from None
    if entry.responsible:
        _set_responsible(actor, episode, entry.responsible)
    _issue_link(actor, episode, now)
    add_timeline_event(
        person=person,
        kind="observation_started",
        summary=_("Observation started: %(kind)s (%(reason)s), %(start)s to %(end)s")
        % {
            "kind": episode.get_kind_display(),
            "reason": episode.get_reason_display(),
            "start": _day(episode.start_date),
            "end": _day(episode.planned_end),
        },
        actor=_user(actor),
        data={"episode": episode.pk},
        occurred_at=now,
    )
    sync_person_status(actor=actor, person=person, source=_("observation"))
    return episode


def _lock_person(person: Person, actor: Any) -> Person:
    person = (
        Person.objects.select_for_update(of=("self",))
        .select_related("grid", "household")
        .get(pk=person.pk)
    )
    _check_on(actor, Perm.OBSERVATION_RECORD, person.grid)
    if not person.is_active:
        raise ValidationError(
            {"person": _("%(name)s is no longer in the register.") % {"name": person.name}}
        )
    return person


@transaction.atomic
def start_episode(
    *, actor: Any, entry: EpisodeStart, at: dt.datetime | None = None
) -> ObservationEpisode:
    """Put one person under observation; the period comes from the preset in force."""
    now = at or timezone.now()
    today = timezone.localdate(now)
    entry.person = _lock_person(entry.person, actor)
    errors = _validate_start(entry, today)
    if errors:
        raise ValidationError(errors)
    return _create_episode(actor, entry, today, now)


@transaction.atomic
def start_episodes(
    *, actor: Any, entries: Sequence[EpisodeStart], at: dt.datetime | None = None
) -> list[ObservationEpisode]:
    """Put several people under observation at once: all of them or, when any one cannot
    start, none (the error names the person)."""
    now = at or timezone.now()
    today = timezone.localdate(now)
    if not entries:
        raise ValidationError({"persons": _("Choose at least one person.")})
    seen: set[int] = set()
    episodes = []
    for entry in entries:
        if entry.person.pk in seen:
            raise ValidationError(
                {"persons": _("%(name)s is in the list twice.") % {"name": entry.person.name}}
            )
        seen.add(entry.person.pk)
        entry.person = _lock_person(entry.person, actor)
        try:
            errors = _validate_start(entry, today)
            if errors:
                raise ValidationError(errors)
            episodes.append(_create_episode(actor, entry, today, now))
        except ValidationError as error:
            raise ValidationError(
                {
                    "persons": [
                        message
                        if entry.person.name in message
                        else f"{entry.person.name}: {message}"
                        for message in error.messages
                    ]
                }
            ) from None
    return episodes


def _set_responsible(
    actor: Any, episode: ObservationEpisode, entries: list[dict[str, Any]]
) -> None:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, dict[str, Any]] = {}
    for entry in entries:
        role = entry.get("role", "")
        name = (entry.get("name") or "").strip()
        if role not in EpisodeResponsible.Role.values:
            errors.setdefault("responsible", []).append(_("Choose the role from the list."))
            continue
        if not name:
            continue  # an empty line of the form: nobody in that role
        phone = (entry.get("phone") or "").strip()
        if phone:
            try:
                phone = org_services._clean_phone(phone, "phone")
            except ValidationError:
                errors.setdefault("responsible", []).append(
                    _("%(name)s: enter an 11-digit mobile number, e.g. 13812345678.")
                    % {"name": name}
                )
                continue
        cleaned[role] = {"name": name[:50], "phone": phone, "user": entry.get("user")}
    if errors:
        raise ValidationError(errors)
    existing = {r.role: r for r in episode.responsible.all()}
    for role, values in cleaned.items():
        row = existing.pop(role, None) or EpisodeResponsible(episode=episode, role=role)
        for name, value in values.items():
            setattr(row, name, value)
        _history_actor(row, actor)
        row.save()
    for row in existing.values():
        _history_actor(row, actor)
        row.delete()


@transaction.atomic
def set_responsible(
    *, actor: Any, episode: ObservationEpisode, entries: list[dict[str, Any]]
) -> None:
    """The named people responsible ("五包一"): one per role; a role left empty is removed."""
    episode = _locked_episode(episode)
    _check_on(actor, Perm.OBSERVATION_RECORD, episode.person.grid)
    _set_responsible(actor, episode, entries)


@transaction.atomic
def change_period(
    *, actor: Any, episode: ObservationEpisode, planned_end: dt.date, reason: str
) -> ObservationEpisode:
    """Extend or shorten the episode to end on ``planned_end``; the reason is required and
    kept in the audit trail and on the timeline."""
    episode = _locked_episode(episode)
    _check_on(actor, Perm.OBSERVATION_DECIDE, episode.person.grid)
    reason = _clean_text(
        reason,
        "reason",
        NOTE_MAX,
        required=_("Say why the period changes, e.g. 'contact with a new case on 02-10'."),
    )
    if episode.status != Status.ACTIVE:
        raise ValidationError(_("Only a running episode can be extended or shortened."))
    if planned_end is None:
        raise ValidationError({"planned_end": _("Enter the new last day.")})
    if planned_end < episode.start_date:
        raise ValidationError(
            {
                "planned_end": _("The last day cannot be before the start (%(start)s).")
                % {"start": _day(episode.start_date)}
            }
        )
    if planned_end == episode.planned_end:
        raise ValidationError(
            {"planned_end": _("That is already the last day: enter another one.")}
        )
    old = episode.planned_end
    episode.planned_end = planned_end
    if episode.monitoring_days == 0 or planned_end < episode.isolation_end:
        episode.isolation_end = (
            min(planned_end, episode.isolation_end) if episode.monitoring_days else planned_end
        )
    episode._change_reason = reason  # type: ignore[attr-defined]
    _history_actor(episode, actor)
    episode.save(update_fields=["planned_end", "isolation_end"])
    verb = _("extended") if planned_end > old else _("shortened")
    add_timeline_event(
        person=episode.person,
        kind="observation_period",
        summary=_("Observation %(verb)s: last day %(old)s → %(new)s (%(reason)s)")
        % {"verb": verb, "old": _day(old), "new": _day(planned_end), "reason": reason},
        actor=_user(actor),
        data={"episode": episode.pk, "old": _day(old), "new": _day(planned_end)},
    )
    return episode


@transaction.atomic
def decide(
    *,
    actor: Any,
    episode: ObservationEpisode,
    outcome: str,
    note: str = "",
    on: dt.date | None = None,
) -> ObservationEpisode:
    """Release (解除), refer to hospital (转诊), or record a suspected or confirmed case.
    A release before the planned end, and every other decision, needs a note."""
    episode = _locked_episode(episode)
    _check_on(actor, Perm.OBSERVATION_DECIDE, episode.person.grid)
    now = timezone.now()
    today = timezone.localdate(now)
    on = on or today
    if outcome not in DECISIONS.get(episode.status, set()):
        raise ValidationError(
            {
                "outcome": _("A %(status)s episode cannot become %(outcome)s.")
                % {
                    "status": episode.get_status_display(),
                    "outcome": dict(Status.choices).get(outcome, outcome),
                }
            }
        )
    if on > today:
        raise ValidationError({"on": _("A decision cannot be dated in the future.")})
    if on < episode.start_date:
        raise ValidationError(
            {
                "on": _("The decision cannot be before the start (%(start)s).")
                % {"start": _day(episode.start_date)}
            }
        )
    early = (
        outcome == Status.RELEASED and episode.status == Status.ACTIVE and on < episode.planned_end
    )
    note = _clean_text(
        note,
        "note",
        NOTE_MAX,
        required=(
            _("Releasing before the planned end (%(end)s) needs a reason.")
            % {"end": _day(episode.planned_end)}
            if early
            else (
                _("Say what was decided and by whom, e.g. the doctor's finding.")
                if outcome != Status.RELEASED
                else ""
            )
        ),
    )
    previous = episode.status
    episode.status = outcome
    if previous == Status.ACTIVE:
        episode.ended_on = on
    episode.decided_at = now
    episode.decided_by = _user(actor)
    episode.decision_note = note
    episode._change_reason = note  # type: ignore[attr-defined]
    _history_actor(episode, actor)
    episode.save(update_fields=["status", "ended_on", "decided_at", "decided_by", "decision_note"])
    if previous == Status.ACTIVE:
        SelfReportLink.objects.filter(episode=episode, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=_user(actor)
        )
    add_timeline_event(
        person=episode.person,
        kind="observation_decision",
        summary=_("Observation: %(outcome)s on %(on)s%(note)s")
        % {
            "outcome": episode.get_status_display(),
            "on": _day(on),
            "note": f" ({note})" if note else "",
        },
        actor=_user(actor),
        data={"episode": episode.pk, "status": outcome},
        occurred_at=now,
    )
    sync_person_status(actor=actor, person=episode.person, source=_("observation"))
    return episode


# ---------------------------------------------------------------------------------------------
# Readings


@dataclass(frozen=True)
class ReadingResult:
    reading: TemperatureReading
    created: bool
    alert: Alert | None = None


def _reading_summary(reading: TemperatureReading) -> str:
    parts = [_("Temperature %(value)s °C") % {"value": reading.value}]
    if reading.symptoms:
        parts.append(symptom_labels(reading.symptoms))
    if reading.source == Source.SELF:
        parts.append(_("self-reported"))
    return "，".join(parts)


def _check_in_episode(
    episode: ObservationEpisode, when: dt.datetime, now: dt.datetime, field_name: str
) -> dt.date:
    if episode.status != Status.ACTIVE:
        raise ValidationError(
            _("%(name)s's observation has ended (%(status)s): nothing more can be recorded.")
            % {"name": episode.person.name, "status": episode.get_status_display()}
        )
    if when > now + FUTURE_TOLERANCE:
        raise ValidationError(
            {field_name: _("The time is in the future: check the date and time.")}
        )
    day = timezone.localtime(when).date()
    if not episode.start_date <= day <= episode.planned_end:
        raise ValidationError(
            {
                field_name: _("%(day)s is outside the observation period (%(start)s to %(end)s).")
                % {
                    "day": _day(day),
                    "start": _day(episode.start_date),
                    "end": _day(episode.planned_end),
                }
            }
        )
    return day


def _alert_for_reading(reading: TemperatureReading, episode: ObservationEpisode) -> Alert | None:
    if not reading.is_fever and not reading.symptoms:
        return None
    person = episode.person
    kind = AlertKind.FEVER if reading.is_fever else AlertKind.SYMPTOMS
    if reading.is_fever:
        summary = _("%(name)s: %(value)s °C") % {"name": person.name, "value": reading.value}
    else:
        summary = _("%(name)s: %(symptoms)s") % {
            "name": person.name,
            "symptoms": symptom_labels(reading.symptoms),
        }
    if reading.is_fever and reading.symptoms:
        summary += "，" + symptom_labels(reading.symptoms)
    if reading.source == Source.SELF:
        summary += _(" (self-reported)")
    alert, _created = raise_alert(
        kind=kind,
        key=f"reading:{reading.pk}",
        unit=person.grid,
        person=person,
        object_type="observation.episode",
        object_id=episode.pk,
        url=_episode_url(episode),
        summary=summary,
        at=reading.taken_at,
        data={"reading": reading.pk, "value": str(reading.value), "symptoms": reading.symptoms},
    )
    return alert


def _seen_reading(episode: ObservationEpisode, key: str) -> TemperatureReading | None:
    """The reading sent before with ``key`` (a retry), refused when it was another episode's."""
    if not key:
        return None
    seen = TemperatureReading.objects.filter(idempotency_key=key).first()
    if seen is not None and seen.episode_id != episode.pk:
        raise ValidationError(
            {"idempotency_key": _("This key was already used for another person: send a new key.")}
        )
    return seen


def _new_reading(
    actor: Any,
    episode: ObservationEpisode,
    *,
    value: Any,
    taken_at: dt.datetime | None,
    symptoms: Sequence[str],
    source: str,
    link: SelfReportLink | None,
    note: str,
    idempotency_key: str,
    now: dt.datetime,
    rules: ObservationRules,
) -> TemperatureReading:
    """The reading, validated and classified, not saved yet (no query)."""
    taken_at = taken_at or now
    day = _check_in_episode(episode, taken_at, now, "taken_at")
    try:
        cleaned_value = clean_temperature(value)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from None
    if cleaned_value is None:
        raise ValidationError({"value": _("Enter the temperature in °C, e.g. 36.5.")})
    try:
        cleaned_symptoms = clean_symptoms(symptoms)
    except ValidationError as error:
        raise ValidationError({"symptoms": error.messages}) from None
    _local_day, slot = period_rules.slot_of(taken_at, rules)
    reading = TemperatureReading(
        episode=episode,
        taken_at=taken_at,
        day=day,
        slot=slot,
        value=cleaned_value,
        symptoms=cleaned_symptoms,
        is_fever=period_rules.is_fever(cleaned_value, rules.fever_threshold),
        source=source,
        taken_by=_user(actor),
        link=link,
        note=_clean_text(note, "note", 200),
        idempotency_key=idempotency_key,
        created_at=now,
    )
    _history_actor(reading, actor)
    return reading


def _episode_for_reading(pk: Any) -> tuple[ObservationEpisode, ObservationRules]:
    """The episode with what recording a reading reads of its person (the name, for the
    timeline and the alert) and grid (the scope, the alert's unit), and the rules in force
    (:func:`current_rules`): one statement written once (see :mod:`fangkong.core.fastpath`);
    DoesNotExist when there is no such episode."""
    with connection.cursor() as cursor:
        cursor.execute(_episode_for_reading_sql(), [ObservationRules.SINGLETON_PK, pk])
        row = cursor.fetchone()
    if row is None:
        raise ObservationEpisode.DoesNotExist
    width = len(ObservationEpisode._meta.concrete_fields)
    episode = fastpath.from_row(ObservationEpisode, row[:width])
    name, grid_id, path = row[width : width + 3]
    rules_row = row[width + 3 :]
    rules = (
        fastpath.from_row(ObservationRules, rules_row)
        if rules_row[0] is not None
        else ObservationRules(pk=ObservationRules.SINGLETON_PK)
    )
    grid = fastpath.partial(OrgUnit, {"id": grid_id, "path": path})
    person = fastpath.partial(Person, {"id": episode.person_id, "name": name, "grid_id": grid_id})
    person.grid = grid
    episode.person = person
    return episode, rules


@functools.cache
def _episode_for_reading_sql() -> str:
    q = fastpath.quote
    return (
        f"SELECT {fastpath.columns(ObservationEpisode, 'e')}, p.{q('name')}, "
        f"g.{q('id')}, g.{q('path')}, {fastpath.columns(ObservationRules, 'r')} "
        f"FROM {q(ObservationEpisode._meta.db_table)} e "
        f"JOIN {q(Person._meta.db_table)} p ON p.{q('id')} = e.{q('person_id')} "
        f"JOIN {q(OrgUnit._meta.db_table)} g ON g.{q('id')} = p.{q('grid_id')} "
        f"LEFT JOIN {q(ObservationRules._meta.db_table)} r ON r.{q('id')} = %s "
        f"WHERE e.{q('id')} = %s"
    )


@functools.cache
def _reading_history() -> Any:
    """The readings' history manager, made once (simple-history makes a new manager class
    at every access to ``TemperatureReading.history``)."""
    return TemperatureReading.history


def _save_reading(actor: Any, reading: TemperatureReading) -> ReadingResult:
    """Save a new reading with its audit record, timeline event and alert: three inserts
    written once (see :mod:`fangkong.core.fastpath`; every phone's hot path, and SQLite's
    write lock is held meanwhile)."""
    episode = reading.episode
    written = fastpath.insert(reading)
    fastpath.insert_history(_reading_history().model, reading, written)
    fastpath.insert(
        org_services.timeline_event(
            person=episode.person,
            kind="temperature",
            summary=_reading_summary(reading),
            actor=_user(actor),
            data={"episode": episode.pk, "reading": reading.pk, "fever": reading.is_fever},
            occurred_at=reading.taken_at,
        )
    )
    return ReadingResult(reading, True, _alert_for_reading(reading, episode))


def _record_reading(actor: Any, episode: ObservationEpisode, **values: Any) -> ReadingResult:
    """Inside a transaction holding the episode's lock: a retry, or a new reading saved."""
    seen = _seen_reading(episode, values["idempotency_key"])
    if seen is not None:
        return ReadingResult(seen, False)
    return _save_reading(actor, _new_reading(actor, episode, **values))


def record_reading(
    *,
    actor: Any,
    episode: ObservationEpisode,
    value: Any,
    taken_at: dt.datetime | None = None,
    symptoms: Sequence[str] = (),
    note: str = "",
    idempotency_key: str = "",
) -> ReadingResult:
    """Record a temperature taken by staff. At or above the fever threshold, or with a
    symptom, an alert is raised at once. The same ``idempotency_key`` again returns the
    first reading and records nothing (a phone retrying). ``episode`` may be an unsaved
    ``ObservationEpisode(pk=…)``: it is read here (DoesNotExist when there is none).

    The hot path of every phone, so the write transaction (SQLite's write lock, taken by
    every writer in turn) holds the inserts only: the rules, the scope, a retried key and
    the episode are read, and the reading is validated, before it starts. The episode is
    not locked: a reading that arrives as the episode is being released is still kept."""
    key = (idempotency_key or "").strip()[:80]
    if actor is not None:
        scope_for(actor, Perm.OBSERVATION_RECORD)  # loaded (and cached) outside the lock
    episode, rules = _episode_for_reading(episode.pk)
    _check_on(actor, Perm.OBSERVATION_RECORD, episode.person.grid)
    seen = _seen_reading(episode, key)
    if seen is not None:  # a phone retrying: answered without taking the write lock
        return ReadingResult(seen, False)
    reading = _new_reading(
        actor,
        episode,
        value=value,
        taken_at=taken_at,
        symptoms=symptoms,
        source=Source.STAFF,
        link=None,
        note=note,
        idempotency_key=key,
        now=timezone.now(),
        rules=rules,
    )
    try:
        with transaction.atomic():
            return _save_reading(actor, reading)
    except IntegrityError:
        # The same key sent twice at the same moment: the other request saved it.
        seen = _seen_reading(episode, key) if key else None
        if seen is None:
            raise
        return ReadingResult(seen, False)


@dataclass(frozen=True)
class ReadingItem:
    episode: ObservationEpisode
    value: Any
    taken_at: dt.datetime | None = None
    symptoms: Sequence[str] = ()
    note: str = ""


@transaction.atomic
def record_readings(
    *, actor: Any, items: Sequence[ReadingItem], idempotency_key: str
) -> list[ReadingResult]:
    """Record a batch of readings (a phone sending what it collected): all or none. The
    batch's key makes each item's key (``key:0``, ``key:1``, …), so a retried batch records
    nothing twice. An error names the item (``items.2.value``)."""
    key = (idempotency_key or "").strip()
    if not key:
        raise ValidationError({"idempotency_key": _("Send a key with the batch, e.g. a UUID.")})
    if len(key) > 60:
        raise ValidationError({"idempotency_key": _("Keep the key under 60 characters.")})
    if not items:
        raise ValidationError({"items": _("The batch is empty.")})
    now = timezone.now()
    rules = current_rules()
    results = []
    for index, item in enumerate(items):
        try:
            episode = _locked_episode(item.episode)
            _check_on(actor, Perm.OBSERVATION_RECORD, episode.person.grid)
            results.append(
                _record_reading(
                    actor,
                    episode,
                    value=item.value,
                    taken_at=item.taken_at,
                    symptoms=item.symptoms,
                    source=Source.STAFF,
                    link=None,
                    note=item.note,
                    idempotency_key=f"{key}:{index}",
                    now=now,
                    rules=rules,
                )
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                raise ValidationError(
                    {
                        f"items.{index}.{name}": messages
                        for name, messages in error.message_dict.items()
                    }
                ) from None
            raise ValidationError({f"items.{index}": error.messages}) from None
    return results


# ---------------------------------------------------------------------------------------------
# Follow-up visits and needs


@transaction.atomic
def record_visit(
    *,
    actor: Any,
    episode: ObservationEpisode,
    mode: str,
    visited_at: dt.datetime | None = None,
    visitor_name: str = "",
    findings: str = "",
    needs: str = "",
    need_kind: str = "",
    abnormal: bool = False,
    idempotency_key: str = "",
) -> tuple[FollowUpVisit, bool]:
    """Record the day's follow-up visit. A need raised with a kind is tracked as a need.
    Returns (visit, created); the same key again returns the first visit."""
    episode = _locked_episode(episode)
    _check_on(actor, Perm.OBSERVATION_RECORD, episode.person.grid)
    key = (idempotency_key or "").strip()[:80]
    if key:
        existing = FollowUpVisit.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    visited_at = visited_at or now
    day = _check_in_episode(episode, visited_at, now, "visited_at")
    if mode not in FollowUpVisit.Mode.values:
        raise ValidationError(
            {"mode": _("Choose how the visit was made: in person, phone or WeChat.")}
        )
    user = _user(actor)
    visit = FollowUpVisit(
        episode=episode,
        visited_at=visited_at,
        day=day,
        mode=mode,
        visitor=user,
        visitor_name=_clean_text(visitor_name, "visitor_name", 50)
        or (user.get_full_name() or user.username if user else ""),
        findings=_clean_text(findings, "findings", 1000),
        needs=_clean_text(needs, "needs", 300),
        abnormal=bool(abnormal),
        idempotency_key=key,
        created_at=now,
    )
    if need_kind and not visit.needs:
        raise ValidationError({"needs": _("Describe the need, e.g. 'rice and cooking oil'.")})
    _history_actor(visit, actor)
    visit.save()
    add_timeline_event(
        person=episode.person,
        kind="follow_up",
        summary=_("Follow-up visit (%(mode)s) by %(who)s%(findings)s")
        % {
            "mode": visit.get_mode_display(),
            "who": visit.visitor_name,
            "findings": f": {visit.findings[:120]}" if visit.findings else "",
        },
        actor=user,
        data={"episode": episode.pk, "visit": visit.pk},
        occurred_at=visited_at,
    )
    if need_kind:
        _raise_need(
            actor,
            episode,
            kind=need_kind,
            description=visit.needs,
            source=Source.STAFF,
            link=None,
            at=visited_at,
        )
    return visit, True


def _raise_need(
    actor: Any,
    episode: ObservationEpisode,
    *,
    kind: str,
    description: str,
    source: str,
    link: SelfReportLink | None,
    at: dt.datetime,
) -> Need:
    if kind not in Need.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of need from the list.")})
    description = _clean_text(
        description,
        "description",
        300,
        required=_("Describe the need, e.g. 'rice and cooking oil'."),
    )
    need = Need(
        episode=episode,
        kind=kind,
        description=description,
        raised_at=at,
        source=source,
        raised_by=_user(actor),
        link=link,
    )
    _history_actor(need, actor)
    need.save()
    add_timeline_event(
        person=episode.person,
        kind="need",
        summary=_("Need raised: %(kind)s — %(text)s%(self)s")
        % {
            "kind": need.get_kind_display(),
            "text": description,
            "self": _(" (self-reported)") if source == Source.SELF else "",
        },
        actor=_user(actor),
        data={"episode": episode.pk, "need": need.pk},
        occurred_at=at,
    )
    return need


@transaction.atomic
def raise_need(*, actor: Any, episode: ObservationEpisode, kind: str, description: str) -> Need:
    """Record a difficulty of the household (supplies, medicine, psychological, …)."""
    episode = _locked_episode(episode)
    _check_on(actor, Perm.OBSERVATION_RECORD, episode.person.grid)
    return _raise_need(
        actor,
        episode,
        kind=kind,
        description=description,
        source=Source.STAFF,
        link=None,
        at=timezone.now(),
    )


@transaction.atomic
def update_need(
    *,
    actor: Any,
    need: Need,
    status: str,
    assigned_to: User | None = None,
    resolution: str = "",
) -> Need:
    """Take on (assign, in progress) or resolve a need; resolving says what was done and
    closes the need's 'unanswered' alert."""
    need = (
        Need.objects.select_for_update(of=("self",))
        .select_related("episode__person__grid")
        .get(pk=need.pk)
    )
    person = need.episode.person
    _check_on(actor, Perm.OBSERVATION_RECORD, person.grid)
    if status not in Need.Status.values:
        raise ValidationError({"status": _("Choose open, in progress or resolved.")})
    if need.status == Need.Status.RESOLVED:
        raise ValidationError(_("This need is already resolved."))
    resolution = _clean_text(
        resolution,
        "resolution",
        300,
        required=_("Say what was done, e.g. 'delivered 10 kg rice'.")
        if status == Need.Status.RESOLVED
        else "",
    )
    need.status = status
    if assigned_to is not None:
        need.assigned_to = assigned_to
    elif need.assigned_to is None and status == Need.Status.IN_PROGRESS:
        need.assigned_to = _user(actor)
    if status == Need.Status.RESOLVED:
        need.resolved_at = timezone.now()
        need.resolved_by = _user(actor)
        need.resolution = resolution
    _history_actor(need, actor)
    need.save()
    if status == Need.Status.RESOLVED:
        add_timeline_event(
            person=person,
            kind="need_resolved",
            summary=_("Need resolved: %(kind)s — %(text)s")
            % {"kind": need.get_kind_display(), "text": resolution},
            actor=_user(actor),
            data={"episode": need.episode_id, "need": need.pk},
        )
        for alert in Alert.objects.filter(key=f"need:{need.pk}").exclude(
            status=Alert.Status.RESOLVED
        ):
            resolve_alert(
                actor=None, alert=alert, note=_("Need resolved: %(text)s") % {"text": resolution}
            )
    return need


# ---------------------------------------------------------------------------------------------
# Self-report links


def _issue_link(actor: Any, episode: ObservationEpisode, now: dt.datetime) -> SelfReportLink:
    SelfReportLink.objects.filter(episode=episode, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=_user(actor)
    )
    link = SelfReportLink(
        episode=episode, token=secrets.token_urlsafe(24), issued_at=now, issued_by=_user(actor)
    )
    _history_actor(link, actor)
    link.save()
    return link


@transaction.atomic
def reissue_link(*, actor: Any, episode: ObservationEpisode) -> SelfReportLink:
    """Revoke the episode's link (if any) and issue a new one: the old QR code stops working."""
    episode = _locked_episode(episode)
    _check_on(actor, Perm.OBSERVATION_RECORD, episode.person.grid)
    if episode.status != Status.ACTIVE:
        raise ValidationError(_("The observation has ended: no new link is issued."))
    link = _issue_link(actor, episode, timezone.now())
    add_timeline_event(
        person=episode.person,
        kind="self_report_link",
        summary=_("New self-report link issued; the old one no longer works"),
        actor=_user(actor),
        data={"episode": episode.pk},
    )
    return link


@transaction.atomic
def revoke_link(*, actor: Any, episode: ObservationEpisode) -> int:
    """Stop the episode's link from working (without issuing another)."""
    episode = _locked_episode(episode)
    _check_on(actor, Perm.OBSERVATION_RECORD, episode.person.grid)
    revoked = SelfReportLink.objects.filter(episode=episode, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=_user(actor)
    )
    if revoked:
        add_timeline_event(
            person=episode.person,
            kind="self_report_link",
            summary=_("Self-report link revoked"),
            actor=_user(actor),
            data={"episode": episode.pk},
        )
    return revoked


class LinkRefused(Exception):
    """The self-report link cannot be used (now): the message says why, for the person."""


class RateLimited(LinkRefused):
    pass


def usable_link(token: str, now: dt.datetime | None = None) -> SelfReportLink:
    """The link for ``token`` if it may be used now, else LinkRefused with the reason."""
    now = now or timezone.now()
    link = (
        SelfReportLink.objects.select_related("episode", "episode__person", "episode__person__grid")
        .filter(token=token)
        .first()
        if token and len(token) <= 64
        else None
    )
    if link is None:
        raise LinkRefused(
            _("This link is not valid. Ask your grid worker for the link on your notice.")
        )
    episode = link.episode
    today = timezone.localdate(now)
    if episode.status != Status.ACTIVE or today > episode.planned_end:
        raise LinkRefused(
            _("Your observation period has ended: there is nothing more to report here.")
        )
    if link.revoked_at is not None:
        raise LinkRefused(
            _("This link has been replaced or stopped. Ask your grid worker for the new one.")
        )
    if today < episode.start_date:
        raise LinkRefused(
            _("Your observation starts on %(start)s: report from that day.")
            % {"start": _day(episode.start_date)}
        )
    return link


@dataclass(frozen=True)
class SelfReportResult:
    reading: TemperatureReading | None
    need: Need | None
    alert: Alert | None


@transaction.atomic
def self_report(
    *,
    token: str,
    value: Any = None,
    symptoms: Sequence[str] = (),
    need_kind: str = "",
    need_text: str = "",
    at: dt.datetime | None = None,
) -> SelfReportResult:
    """What the person under observation reports through their link: a temperature with
    symptoms, a request for help, or both. Refused (LinkRefused) outside the episode, on a
    revoked link, and beyond the hourly limit; bad input is a ValidationError."""
    now = at or timezone.now()
    link = usable_link(token, now)
    episode = _locked_episode(link.episode)
    rules = current_rules()
    hour_ago = now - dt.timedelta(hours=1)
    recent = (
        TemperatureReading.objects.filter(link=link, created_at__gt=hour_ago).count()
        + Need.objects.filter(link=link, raised_at__gt=hour_ago).count()
    )
    if recent >= rules.self_reports_per_hour:
        raise RateLimited(
            _(
                "You have reported %(count)d times in the last hour. Please try again later, or call your grid worker if it is urgent."
            )
            % {"count": recent}
        )
    has_value = value not in (None, "")
    if not has_value and not need_text and not need_kind:
        raise ValidationError(
            {"value": _("Enter your temperature, or describe what help you need.")}
        )
    if symptoms and not has_value:
        raise ValidationError({"value": _("Enter your temperature with the symptoms.")})
    reading_result = None
    if has_value:
        reading_result = _record_reading(
            None,
            episode,
            value=value,
            taken_at=now,
            symptoms=symptoms,
            source=Source.SELF,
            link=link,
            note="",
            idempotency_key="",
            now=now,
            rules=rules,
        )
    need = None
    if need_text or need_kind:
        need = _raise_need(
            None,
            episode,
            kind=need_kind or Need.Kind.OTHER,
            description=need_text,
            source=Source.SELF,
            link=link,
            at=now,
        )
    return SelfReportResult(
        reading_result.reading if reading_result else None,
        need,
        reading_result.alert if reading_result else None,
    )


# ---------------------------------------------------------------------------------------------
# Care visits


@transaction.atomic
def record_care_visit(
    *,
    actor: Any,
    household: Household,
    visited_on: dt.date,
    visitors: str,
    items: dict[int, Decimal],
    words: str = "",
    episode: ObservationEpisode | None = None,
) -> CareVisit:
    """A care visit with what it brought (item kind id → quantity; zero lines dropped)."""
    household = Household.objects.select_related("grid").get(pk=household.pk)
    _check_on(actor, Perm.OBSERVATION_RECORD, household.grid)
    if visited_on is None or visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("Enter the day of the visit (today or earlier).")})
    visitors = _clean_text(
        visitors, "visitors", 200, required=_("Name who went, e.g. '张书记、李网格员'.")
    )
    kinds = {k.pk: k for k in CareItemKind.objects.filter(pk__in=list(items))}
    lines = []
    for kind_id, quantity in items.items():
        if kind_id not in kinds:
            raise ValidationError({"items": _("Unknown care item: choose from the list.")})
        if quantity is None or quantity == 0:
            continue
        if quantity < 0:
            raise ValidationError(
                {
                    "items": _("%(item)s: a quantity cannot be negative.")
                    % {"item": kinds[kind_id].name}
                }
            )
        lines.append((kinds[kind_id], quantity))
    if episode is not None and episode.person.household_id != household.pk:
        raise ValidationError({"episode": _("That episode is of a person in another household.")})
    visit = CareVisit(
        household=household,
        episode=episode,
        visited_on=visited_on,
        visitors=visitors,
        words=_clean_text(words, "words", 1000),
        recorded_by=_user(actor),
    )
    _history_actor(visit, actor)
    visit.save()
    CareItem.objects.bulk_create(
        [CareItem(visit=visit, kind=kind, quantity=q) for kind, q in lines]
    )
    summary = _("Care visit by %(visitors)s%(items)s") % {
        "visitors": visitors,
        "items": (": " + "、".join(f"{k.name} {q.normalize():f} {k.unit}" for k, q in lines))
        if lines
        else "",
    }
    for person in household.members.filter(is_active=True):
        add_timeline_event(
            person=person,
            kind="care_visit",
            summary=summary,
            actor=_user(actor),
            data={"care_visit": visit.pk},
        )
    return visit


# ---------------------------------------------------------------------------------------------
# Rules and presets


def _check_manage(actor: Any) -> None:
    from django.core.exceptions import PermissionDenied

    if actor is not None and not has_perm(actor, Perm.OBSERVATION_MANAGE):
        raise PermissionDenied


@transaction.atomic
def update_rules(*, actor: Any, **values: Any) -> ObservationRules:
    _check_manage(actor)
    rules = (
        ObservationRules.objects.select_for_update()
        .filter(pk=ObservationRules.SINGLETON_PK)
        .first()
    )
    rules = rules or ObservationRules(pk=ObservationRules.SINGLETON_PK)
    for name, value in values.items():
        setattr(rules, name, value)
    errors: dict[str, list[str]] = {}
    if rules.morning_start >= rules.morning_end:
        errors["morning_end"] = [_("The morning window must end after it starts.")]
    if rules.afternoon_start >= rules.afternoon_end:
        errors["afternoon_end"] = [_("The afternoon window must end after it starts.")]
    if rules.morning_end > rules.afternoon_start:
        errors["afternoon_start"] = [
            _("The afternoon window must start after the morning one ends.")
        ]
    if not Decimal("36.0") <= Decimal(rules.fever_threshold) <= Decimal("39.0"):
        errors["fever_threshold"] = [
            _("Enter a fever threshold between 36.0 and 39.0 °C (37.3 in the national plan).")
        ]
    if rules.self_reports_per_hour < 1:
        errors["self_reports_per_hour"] = [_("Allow at least one self-report an hour.")]
    if errors:
        raise ValidationError(errors)
    _history_actor(rules, actor)
    rules.save()
    return rules


@transaction.atomic
def save_preset(
    *,
    actor: Any,
    preset: PeriodPreset | None = None,
    name: str,
    isolation_days: int,
    monitoring_days: int = 0,
    is_default: bool = False,
    is_active: bool = True,
    order: int = 0,
) -> PeriodPreset:
    """Add or change a period preset; making it the default takes that from the others.
    Running episodes keep the days they started with."""
    _check_manage(actor)
    name = _clean_text(name, "name", 40, required=_("Name the preset, e.g. '7+3'."))
    if not 1 <= int(isolation_days) <= 60:
        raise ValidationError({"isolation_days": _("Enter between 1 and 60 days of isolation.")})
    if not 0 <= int(monitoring_days) <= 60:
        raise ValidationError(
            {"monitoring_days": _("Enter between 0 and 60 days of health monitoring.")}
        )
    if is_default and not is_active:
        raise ValidationError({"is_default": _("A retired preset cannot be the one in force.")})
    clash = PeriodPreset.objects.filter(name=name)
    if preset is not None:
        clash = clash.exclude(pk=preset.pk)
    if clash.exists():
        raise ValidationError({"name": _("A preset with this name exists: choose another name.")})
    if is_default:
        others = PeriodPreset.objects.filter(is_default=True)
        if preset is not None:
            others = others.exclude(pk=preset.pk)
        for other in others:
            other.is_default = False
            _history_actor(other, actor)
            other.save(update_fields=["is_default"])
    preset = preset or PeriodPreset()
    preset.name = name
    preset.isolation_days = int(isolation_days)
    preset.monitoring_days = int(monitoring_days)
    preset.is_default = is_default
    preset.is_active = is_active
    preset.order = order
    _history_actor(preset, actor)
    preset.save()
    return preset


# ---------------------------------------------------------------------------------------------
# Scheduled jobs: missed checks, missed visits, unanswered needs


def _job_start(now: dt.datetime, since: dt.datetime | None) -> dt.datetime:
    if since is None:
        return now - FIRST_LOOKBACK
    return max(since, now - LOOKBACK)


def _running_at(moment: dt.datetime) -> Q:
    """Episodes running at ``moment``: active, or ended by a decision after it."""
    return Q(status=Status.ACTIVE) | Q(decided_at__gt=moment, ended_on__isnull=False)


def _raise_many(alerts: list[Alert]) -> int:
    """Insert the alerts whose keys are new; a key raised meanwhile is skipped."""
    if not alerts:
        return 0
    existing = set(
        Alert.objects.filter(key__in=[a.key for a in alerts]).values_list("key", flat=True)
    )
    fresh = [a for a in alerts if a.key not in existing]
    Alert.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=500)
    return len(fresh)


def _raise_missing(
    missing: Any, *, kind: str, key: str, summary: str, data: dict[str, Any], at: dt.datetime
) -> int:
    """An alert of ``kind`` for each episode of ``missing`` (rows of pk, person, grid and
    name); ``key`` and ``summary`` are templates of ``{pk}`` and ``{name}``."""
    alerts = [
        Alert(
            kind=kind,
            key=key.format(pk=pk),
            unit_id=grid_id,
            person_id=person_id,
            object_type="observation.episode",
            object_id=pk,
            url=reverse("observation:episode_detail", kwargs={"episode_id": pk}),
            summary=summary.replace("{name}", name),
            data=data,
            raised_at=at,
        )
        for pk, person_id, grid_id, name in missing.iterator(chunk_size=2000)
    ]
    return _raise_many(alerts)


def find_missed_checks(*, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """A 'missed check' alert for each check window that closed in (since, now] without a
    reading, for every episode running then that was recorded before the window opened.
    Keyed by episode, day and window: found once however often or late this runs."""
    rules = current_rules()
    raised = 0
    for day, slot, closed in period_rules.closed_windows(_job_start(now, since), now, rules):
        opened, _closed = period_rules.window_bounds(day, slot, rules)
        readings = TemperatureReading.objects.filter(episode=OuterRef("pk"), day=day, slot=slot)
        missing = (
            ObservationEpisode.objects.filter(
                _running_at(closed),
                start_date__lte=day,
                planned_end__gte=day,
                created_at__lte=opened,
            )
            .filter(~Exists(readings))
            .values_list("pk", "person_id", "person__grid_id", "person__name")
        )
        label = dict(Slot.choices)[slot]
        raised += _raise_missing(
            missing,
            kind=AlertKind.MISSED_CHECK,
            key=f"missed_check:{{pk}}:{day.isoformat()}:{slot}",
            summary=_("%(name)s: no %(slot)s temperature on %(day)s")
            % {"name": "{name}", "slot": label, "day": _day(day)},
            data={"day": day.isoformat(), "slot": slot},
            at=closed,
        )
    return raised


def find_missed_visits(*, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """A 'missed visit' alert for each day that ended in (since, now] without a follow-up
    visit, for every episode running then (from the day after it was recorded)."""
    start = _job_start(now, since)
    raised = 0
    day = timezone.localtime(start).date() - dt.timedelta(days=1)
    while True:
        ended = period_rules.day_end(day)
        if ended > now:
            break
        if ended > start:
            visits = FollowUpVisit.objects.filter(episode=OuterRef("pk"), day=day)
            day_start = ended - dt.timedelta(days=1)
            missing = (
                ObservationEpisode.objects.filter(
                    _running_at(ended),
                    start_date__lte=day,
                    planned_end__gte=day,
                    created_at__lt=day_start,
                )
                .filter(~Exists(visits))
                .values_list("pk", "person_id", "person__grid_id", "person__name")
            )
            raised += _raise_missing(
                missing,
                kind=AlertKind.MISSED_VISIT,
                key=f"missed_visit:{{pk}}:{day.isoformat()}",
                summary=_("%(name)s: no follow-up visit on %(day)s")
                % {"name": "{name}", "day": _day(day)},
                data={"day": day.isoformat()},
                at=ended,
            )
        day += dt.timedelta(days=1)
    return raised


def find_unanswered_needs(*, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """An 'unanswered need' alert for each need still open (nobody has taken it on) longer
    than the rules allow."""
    rules = current_rules()
    cutoff = now - dt.timedelta(hours=rules.need_answer_hours)
    needs = Need.objects.filter(status=Need.Status.OPEN, raised_at__lte=cutoff).values_list(
        "pk",
        "raised_at",
        "kind",
        "description",
        "episode_id",
        "episode__person_id",
        "episode__person__grid_id",
        "episode__person__name",
    )
    labels = dict(Need.Kind.choices)
    alerts = [
        Alert(
            kind=AlertKind.UNANSWERED_NEED,
            key=f"need:{pk}",
            unit_id=grid_id,
            person_id=person_id,
            object_type="observation.episode",
            object_id=episode_id,
            url=reverse("observation:episode_detail", kwargs={"episode_id": episode_id}),
            summary=_("%(name)s: %(kind)s not answered — %(text)s")
            % {"name": name, "kind": labels.get(kind, kind), "text": text},
            data={"need": pk},
            raised_at=raised_at + dt.timedelta(hours=rules.need_answer_hours),
        )
        for pk, raised_at, kind, text, episode_id, person_id, grid_id, name in needs.iterator(
            chunk_size=2000
        )
    ]
    return _raise_many(alerts)
