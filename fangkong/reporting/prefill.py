"""The auto-fill rules of the daily report: each computes one indicator from the register for
a day, for every org unit at once (one grouped query, whatever the number of units), keyed by
the org unit the records belong to (a person's grid, an alert's unit). The services add them
up per reporting unit (:mod:`fangkong.reporting.tree`).

Days are Asia/Shanghai days: a reading at 23:59:59 counts for that day, one at 00:00:00 for
the next. What each rule counts:

- ``registered``: persons on the register (active, not moved out), as the register stands
  when pre-filled (the grids' kept counts); ``away``, ``suspected``, ``confirmed``: persons of
  that status as the register stands then (the register keeps no dated status).
- ``arrivals``: persons whose arrival here (in a screening or an arrival registration) falls
  on the day; ``arrivals_key_areas``: those of them classified as arrivals from a risk area.
- ``home_isolation``: persons in home isolation at the END of the day (started on or before
  it, not ended on or before it), so that a day's figure is the previous day's plus those
  newly isolated (``home_isolation_new``: started that day) minus those released
  (``home_isolation_released``: released that day) and others ended (referred, a case).
  ``centralised`` likewise for centralised isolation; ``close_contacts``: persons observed as
  close contacts at the end of the day, whatever the kind of observation.
- ``fevers``: persons with a fever reading taken that day.

The abnormal cases of a day (:func:`abnormal_cases`) are the persons with a fever or symptoms
alert raised that day or still not resolved at the day's end, and the persons who are
suspected or confirmed cases, or were referred to hospital that day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from fangkong.alerts.models import Alert, AlertKind
from fangkong.observation.models import ObservationEpisode, ObservationKind, TemperatureReading
from fangkong.observation.rules import day_end
from fangkong.org.models import GridCount, Person
from fangkong.screening.models import Screening

Counts = dict[int, int]  # org unit id → value
OrgUnits = Collection[int] | None  # None: every org unit
EpisodeStatus = ObservationEpisode.Status


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The aware start (00:00) and end (the next 00:00) of ``day`` in local time."""
    return day_end(day - dt.timedelta(days=1)), day_end(day)


@dataclass(frozen=True)
class Rule:
    name: str
    label: str | Promise
    compute: Callable[[dt.date, OrgUnits], Counts]


RULES: dict[str, Rule] = {}


def rule(
    name: str, label: str | Promise
) -> Callable[[Callable[..., Counts]], Callable[..., Counts]]:
    """Register an auto-fill rule under ``name`` (what ``Indicator.rule`` names)."""

    def register(compute: Callable[..., Counts]) -> Callable[..., Counts]:
        RULES[name] = Rule(name, label, compute)
        return compute

    return register


def rule_choices() -> list[tuple[str, str | Promise]]:
    return [(name, r.label) for name, r in RULES.items()]


def _grouped(queryset: QuerySet[Any], unit_field: str, counted: str, org_units: OrgUnits) -> Counts:
    """``COUNT(DISTINCT counted)`` of ``queryset`` per org unit, in one query."""
    if org_units is not None:
        queryset = queryset.filter(**{f"{unit_field}__in": list(org_units)})
    rows = (
        queryset.values_list(unit_field)
        .annotate(n=Count(counted, distinct=counted != "pk"))
        .order_by()
    )
    return {unit: n for unit, n in rows if unit is not None}


def _persons(status: str, org_units: OrgUnits) -> Counts:
    persons = Person.objects.filter(status=status, is_active=True)
    return _grouped(persons, "grid_id", "pk", org_units)


def _running_at_end(day: dt.date) -> Q:
    """Episodes under way at the end of ``day``: started on or before it and not ended on or
    before it (an episode ends on the day of its release, referral or case decision)."""
    return Q(start_date__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def _episodes(condition: Q, org_units: OrgUnits) -> Counts:
    episodes = ObservationEpisode.objects.filter(condition)
    return _grouped(episodes, "person__grid_id", "person_id", org_units)


def _arrivals(day: dt.date, org_units: OrgUnits, **extra: Any) -> Counts:
    start, end = day_bounds(day)
    # An arrival is never recorded before it happened (the services refuse it), so the day's
    # arrivals are among the screenings recorded since the day began: the index on
    # screened_at finds them without reading the whole ledger.
    screenings = Screening.objects.filter(
        screened_at__gte=start, arrived_at__gte=start, arrived_at__lt=end, **extra
    )
    return _grouped(screenings, "grid_id", "person_id", org_units)


@rule("registered", _("Persons on the register"))
def registered(day: dt.date, org_units: OrgUnits) -> Counts:
    counts = GridCount.objects.all()
    if org_units is not None:
        counts = counts.filter(grid_id__in=list(org_units))
    return dict(counts.values_list("grid_id", "persons"))


@rule("away", _("Persons away"))
def away(day: dt.date, org_units: OrgUnits) -> Counts:
    return _persons(Person.Status.AWAY, org_units)


@rule("arrivals", _("New arrivals that day"))
def arrivals(day: dt.date, org_units: OrgUnits) -> Counts:
    return _arrivals(day, org_units)


@rule("arrivals_key_areas", _("New arrivals that day from risk areas"))
def arrivals_key_areas(day: dt.date, org_units: OrgUnits) -> Counts:
    return _arrivals(day, org_units, category=Screening.Category.RISK_AREA_ARRIVAL)


@rule("home_isolation", _("In home isolation at the end of the day"))
def home_isolation(day: dt.date, org_units: OrgUnits) -> Counts:
    return _episodes(Q(kind=ObservationKind.HOME_ISOLATION) & _running_at_end(day), org_units)


@rule("home_isolation_new", _("Home isolation started that day"))
def home_isolation_new(day: dt.date, org_units: OrgUnits) -> Counts:
    return _episodes(Q(kind=ObservationKind.HOME_ISOLATION, start_date=day), org_units)


@rule("home_isolation_released", _("Released from home isolation that day"))
def home_isolation_released(day: dt.date, org_units: OrgUnits) -> Counts:
    condition = Q(kind=ObservationKind.HOME_ISOLATION, status=EpisodeStatus.RELEASED, ended_on=day)
    return _episodes(condition, org_units)


@rule("centralised", _("In centralised isolation at the end of the day"))
def centralised(day: dt.date, org_units: OrgUnits) -> Counts:
    return _episodes(Q(kind=ObservationKind.CENTRALISED) & _running_at_end(day), org_units)


@rule("fevers", _("Persons with a fever reading that day"))
def fevers(day: dt.date, org_units: OrgUnits) -> Counts:
    readings = TemperatureReading.objects.filter(day=day, is_fever=True)
    return _grouped(readings, "episode__person__grid_id", "episode__person_id", org_units)


@rule("suspected", _("Suspected cases"))
def suspected(day: dt.date, org_units: OrgUnits) -> Counts:
    return _persons(Person.Status.SUSPECTED, org_units)


@rule("confirmed", _("Confirmed cases"))
def confirmed(day: dt.date, org_units: OrgUnits) -> Counts:
    return _persons(Person.Status.CONFIRMED, org_units)


@rule("close_contacts", _("Close contacts under observation at the end of the day"))
def close_contacts(day: dt.date, org_units: OrgUnits) -> Counts:
    condition = Q(reason=ObservationEpisode.Reason.CONTACT) & _running_at_end(day)
    return _episodes(condition, org_units)


def register_counts(
    day: dt.date, rules: Iterable[str], org_units: OrgUnits = None
) -> dict[str, Counts]:
    """The value of each named rule for ``day`` per org unit (one query per rule)."""
    return {name: RULES[name].compute(day, org_units) for name in dict.fromkeys(rules)}


# ---------------------------------------------------------------------------------------------
# Abnormal cases


@dataclass
class Case:
    """A person with something to report on the day: name, temperature, what and the action
    taken (what the alert's or the decision's note says)."""

    person_id: int
    name: str
    unit_id: int  # the org unit of the record (the person's grid)
    temperature: str = ""  # the highest of the day's alerts, e.g. "38.1"
    symptoms: list[str] = field(default_factory=list)
    what: str = ""  # fever, symptoms, referred, suspected, confirmed
    action: str = ""
    open: bool = False  # an alert about it is not resolved

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Most serious last: a person's case shows the most serious thing known about them.
SEVERITY = [
    "symptoms",
    "fever",
    EpisodeStatus.REFERRED,
    EpisodeStatus.SUSPECTED,
    EpisodeStatus.CONFIRMED,
]


def _higher(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    return a if SEVERITY.index(a) >= SEVERITY.index(b) else b


def _max_temperature(a: str, b: Any) -> str:
    try:
        value = Decimal(str(b))
    except (InvalidOperation, ValueError):
        return a
    if not a or value > Decimal(a):
        return str(value)
    return a


def abnormal_cases(day: dt.date, org_units: OrgUnits = None) -> dict[int, list[Case]]:
    """The abnormal cases of ``day`` per org unit, one per person, in two queries."""
    start, end = day_bounds(day)
    cases: dict[int, Case] = {}

    def case(person_id: int, name: str, unit_id: int) -> Case:
        if person_id not in cases:
            cases[person_id] = Case(person_id=person_id, name=name, unit_id=unit_id)
        return cases[person_id]

    alerts = Alert.objects.filter(
        kind__in=[AlertKind.FEVER, AlertKind.SYMPTOMS], person__isnull=False
    ).filter(
        Q(raised_at__gte=start, raised_at__lt=end)
        | Q(raised_at__lt=end, status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED])
    )
    if org_units is not None:
        alerts = alerts.filter(unit_id__in=list(org_units))
    alert_rows = alerts.order_by("raised_at", "pk").values_list(
        "person_id", "person__name", "unit_id", "kind", "data", "status", "note"
    )
    for person_id, name, unit_id, kind, data, status, note in alert_rows:
        found = case(person_id, name, unit_id)
        found.what = _higher(found.what, kind)
        data = data or {}
        if data.get("value") is not None:
            found.temperature = _max_temperature(found.temperature, data["value"])
        for symptom in data.get("symptoms") or []:
            if symptom not in found.symptoms:
                found.symptoms.append(symptom)
        found.open = found.open or status != Alert.Status.RESOLVED
        if note:
            found.action = note
    episodes = ObservationEpisode.objects.filter(
        Q(status__in=[EpisodeStatus.SUSPECTED, EpisodeStatus.CONFIRMED], ended_on__lte=day)
        | Q(status=EpisodeStatus.REFERRED, ended_on=day)
    )
    if org_units is not None:
        episodes = episodes.filter(person__grid_id__in=list(org_units))
    labels = dict(EpisodeStatus.choices)
    episode_rows = episodes.order_by("ended_on", "pk").values_list(
        "person_id", "person__name", "person__grid_id", "status", "decision_note"
    )
    for person_id, name, grid_id, episode_status, decision in episode_rows:
        found = case(person_id, name, grid_id)
        found.what = _higher(found.what, episode_status)
        found.action = decision or str(labels.get(episode_status, episode_status))
    by_unit: dict[int, list[Case]] = defaultdict(list)
    for found in cases.values():
        by_unit[found.unit_id].append(found)
    return dict(by_unit)
