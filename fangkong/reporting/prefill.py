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
suspected or confirmed cases, or were referred to hospital that day.

Text rules (:data:`TEXT_RULES`) fill the day's work from the standing systems' records. Each
reads its records once for all org units, into a :class:`Tally` per org unit (counts that add
up, and keys that unite: one person on duty in two grids is one person); the tallies of a
unit's members are added up and the text is written from the sum, in the report's language
(the site's, Chinese: the report is a Chinese form), whatever the language of the page:

- ``disinfection``: the disinfections done that day and at how many places, and the places
  overdue at the END of the day; for today, overdue NOW (so a unit filing at 11:00 sees what
  is overdue while it can still be done). E.g. 消毒 6 次（3 处），逾期 1 处.
- ``publicity``: the publicity records of the day, by kind with their copies or times (a
  record without a number counts once), and the people reached. E.g. 宣传 2 次：张贴海报 20
  张，广播 3 次，覆盖约 300 人.
- ``duty``: the shifts starting that day (not cancelled) and the distinct staff on them, and
  the people logged at the checkpoints that day with those with a fever. E.g. 值班 3 班次，值班
  人员 5 人；检测点登记 120 人次，发热 1 人次.

A day with nothing recorded gives an empty text: the field stays open for the unit to write
by hand (nothing recorded is not the same as nothing done)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from fangkong.alerts.models import Alert, AlertKind
from fangkong.checkpoints.models import (
    Disinfection,
    DisinfectionPlace,
    EntryPerson,
    PublicityRecord,
    Shift,
)
from fangkong.checkpoints.rules_records import is_overdue
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
    """Every rule (counts, then texts) for the indicator form's drop-down."""
    return [(name, r.label) for name, r in RULES.items()] + [
        (name, r.label) for name, r in TEXT_RULES.items()
    ]


def rule_kind(name: str) -> str | None:
    """``"count"`` or ``"text"``: what the rule ``name`` fills (None: no such rule)."""
    if name in RULES:
        return "count"
    if name in TEXT_RULES:
        return "text"
    return None


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


# ---------------------------------------------------------------------------------------------
# Text rules: the day's work (消毒工作, 宣传工作, 值班值守)


@dataclass
class Tally:
    """What a text rule found for one org unit, or for several added up: ``counts`` add up,
    ``keys`` unite (a value is the number of distinct keys). ``tally["name"]`` reads either."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    keys: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))

    def add(self, other: Tally) -> None:
        for name, value in other.counts.items():
            self.counts[name] += value
        for name, keys in other.keys.items():
            self.keys[name] |= keys

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0) + len(self.keys.get(name, ()))

    def __bool__(self) -> bool:
        return any(self.counts.values()) or any(self.keys.values())


Tallies = dict[int, Tally]  # org unit id → tally


@dataclass(frozen=True)
class TextRule:
    name: str
    label: str | Promise
    compute: Callable[[dt.date, OrgUnits], Tallies]
    render: Callable[[Tally], str]


TEXT_RULES: dict[str, TextRule] = {}


def text_rule(
    name: str, label: str | Promise, render: Callable[[Tally], str]
) -> Callable[[Callable[..., Tallies]], Callable[..., Tallies]]:
    """Register a text rule under ``name`` (what ``Indicator.rule`` names): ``compute``
    reads the day's records into tallies per org unit, ``render`` writes a tally's text."""

    def register(compute: Callable[..., Tallies]) -> Callable[..., Tallies]:
        TEXT_RULES[name] = TextRule(name, label, compute, render)
        return compute

    return register


def register_texts(
    day: dt.date, rules: Iterable[str], org_units: OrgUnits = None
) -> dict[str, Tallies]:
    """The tallies of each named text rule for ``day`` per org unit (one query per rule; the
    duty reads the roster and the entry log: two)."""
    return {name: TEXT_RULES[name].compute(day, org_units) for name in dict.fromkeys(rules)}


def summed(tallies: Tallies, among: Iterable[int] | None = None) -> Tally:
    """The tallies of the org units ``among`` (all of them by default) added up."""
    total = Tally()
    for pk in tallies if among is None else among:
        found = tallies.get(pk)
        if found is not None:
            total.add(found)
    return total


def report_language() -> str:
    """The language the report's texts are written in: the site's (Chinese)."""
    return str(settings.LANGUAGE_CODE)


def render_text(name: str, tally: Tally) -> str:
    """The text of the rule ``name`` for ``tally``, in the report's language; empty when
    nothing was recorded."""
    if not tally:
        return ""
    with translation.override(report_language()):
        return TEXT_RULES[name].render(tally)


def day_work(day: dt.date, rules: Iterable[str], org_units: OrgUnits = None) -> dict[str, str]:
    """The texts of the named text rules for ``day`` over ``org_units`` taken together (the
    whole organisation by default): e.g. the branch's day's work."""
    tallies = register_texts(day, rules, org_units)
    return {name: render_text(name, summed(found)) for name, found in tallies.items()}


def _list(parts: Iterable[str]) -> str:
    return pgettext("day's work", ", ").join(part for part in parts if part)


def _disinfection_text(tally: Tally) -> str:
    parts = []
    if tally["times"]:
        parts.append(
            gettext("%(disinfections)s (%(places)s)")
            % {
                "disinfections": ngettext(
                    "%(n)d disinfection", "%(n)d disinfections", tally["times"]
                )
                % {"n": tally["times"]},
                "places": ngettext("%(n)d place", "%(n)d places", tally["places"])
                % {"n": tally["places"]},
            }
        )
    else:
        parts.append(gettext("no disinfection recorded"))
    if tally["overdue"]:
        parts.append(
            ngettext("%(n)d place overdue", "%(n)d places overdue", tally["overdue"])
            % {"n": tally["overdue"]}
        )
    return _list(parts)


@text_rule(
    "disinfection",
    _("Disinfections that day and places overdue (text)"),
    _disinfection_text,
)
def disinfection(day: dt.date, org_units: OrgUnits) -> Tallies:
    """Per place (of every place that existed that day): its disinfections of the day and,
    if active, whether it was overdue at the end of the day (for today: now). One query;
    each place's counts come from the disinfections' index (place, time)."""
    start, end = day_bounds(day)
    moment = min(end, timezone.now())
    on_day = (
        Disinfection.objects.filter(place=OuterRef("pk"), done_at__gte=start, done_at__lt=end)
        .order_by()
        .values("place")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last = (
        Disinfection.objects.filter(place=OuterRef("pk"), done_at__lte=moment)
        .order_by("-done_at")
        .values("done_at")[:1]
    )
    places = DisinfectionPlace.objects.filter(created_at__lt=end)
    if org_units is not None:
        places = places.filter(unit_id__in=list(org_units))
    rows = (
        places.annotate(
            n=Coalesce(Subquery(on_day, output_field=IntegerField()), 0), last=Subquery(last)
        )
        .order_by()
        .values_list("unit_id", "times_per_day", "created_at", "is_active", "n", "last")
    )
    found: Tallies = defaultdict(Tally)
    for unit_id, times, created_at, active, n, last_at in rows:
        overdue = active and is_overdue(
            times_per_day=times, last_done_at=last_at, created_at=created_at, now=moment
        )
        if not n and not overdue:
            continue
        tally = found[unit_id]
        tally.counts["times"] += n
        tally.counts["places"] += 1 if n else 0
        tally.counts["overdue"] += 1 if overdue else 0
    return dict(found)


PUBLICITY_KINDS: dict[str, Callable[[int], str]] = {
    PublicityRecord.Kind.NOTICE: lambda n: ngettext("%(n)d notice", "%(n)d notices", n),
    PublicityRecord.Kind.POSTER: lambda n: ngettext(
        "%(n)d poster or banner", "%(n)d posters or banners", n
    ),
    PublicityRecord.Kind.BROADCAST: lambda n: ngettext("%(n)d broadcast", "%(n)d broadcasts", n),
    PublicityRecord.Kind.MEETING: lambda n: ngettext("%(n)d meeting", "%(n)d meetings", n),
    PublicityRecord.Kind.MESSAGE: lambda n: ngettext(
        "%(n)d WeChat or text message", "%(n)d WeChat or text messages", n
    ),
    PublicityRecord.Kind.LEAFLET: lambda n: ngettext("%(n)d leaflet", "%(n)d leaflets", n),
    PublicityRecord.Kind.OTHER: lambda n: ngettext(
        "%(n)d other publicity", "%(n)d other publicity", n
    ),
}


def _publicity_text(tally: Tally) -> str:
    items = [
        words(tally[f"kind:{kind}"]) % {"n": tally[f"kind:{kind}"]}
        for kind, words in PUBLICITY_KINDS.items()
        if tally[f"kind:{kind}"]
    ]
    if tally["reach"]:
        items.append(
            ngettext("reaching about %(n)d person", "reaching about %(n)d people", tally["reach"])
            % {"n": tally["reach"]}
        )
    head = ngettext("%(n)d publicity activity", "%(n)d publicity activities", tally["records"]) % {
        "n": tally["records"]
    }
    return head + pgettext("day's work", ": ") + _list(items) if items else head


@text_rule("publicity", _("Publicity done that day (text)"), _publicity_text)
def publicity(day: dt.date, org_units: OrgUnits) -> Tallies:
    """Per org unit and kind: the records of the day, their copies or times (a record
    without a number counts once) and the people reached. One grouped query."""
    records = PublicityRecord.objects.filter(day=day)
    if org_units is not None:
        records = records.filter(unit_id__in=list(org_units))
    rows = (
        records.values_list("unit_id", "kind")
        .annotate(
            n=Count("pk"),
            quantity=Sum(Coalesce("quantity", 1)),
            reach=Coalesce(Sum("reach"), 0),
        )
        .order_by()
    )
    found: Tallies = defaultdict(Tally)
    for unit_id, kind, n, quantity, reach in rows:
        tally = found[unit_id]
        tally.counts["records"] += n
        tally.counts[f"kind:{kind}"] += quantity or 0
        tally.counts["reach"] += reach or 0
    return dict(found)


def _duty_text(tally: Tally) -> str:
    sections = []
    if tally["shifts"]:
        sections.append(
            _list(
                [
                    ngettext("%(n)d shift on duty", "%(n)d shifts on duty", tally["shifts"])
                    % {"n": tally["shifts"]},
                    ngettext("%(n)d person on duty", "%(n)d people on duty", tally["staff"])
                    % {"n": tally["staff"]}
                    if tally["staff"]
                    else "",
                ]
            )
        )
    if tally["logged"]:
        sections.append(
            _list(
                [
                    ngettext(
                        "%(n)d person logged at the checkpoints",
                        "%(n)d people logged at the checkpoints",
                        tally["logged"],
                    )
                    % {"n": tally["logged"]},
                    ngettext("%(n)d with a fever", "%(n)d with a fever", tally["fevers"])
                    % {"n": tally["fevers"]}
                    if tally["fevers"]
                    else "",
                ]
            )
        )
    return pgettext("day's work", "; ").join(sections)


@text_rule("duty", _("Shifts on duty and people at the checkpoints that day (text)"), _duty_text)
def duty(day: dt.date, org_units: OrgUnits) -> Tallies:
    """Per org unit: the shifts starting that day (not cancelled) with the distinct staff on
    them (a user by account, someone without one by name), from one query over the shifts
    and their staff; and the people logged at the checkpoints that day with those with a
    fever, from one grouped query over the entries' people (found by the entries' time)."""
    start, end = day_bounds(day)
    found: Tallies = defaultdict(Tally)
    shifts = Shift.objects.filter(start__gte=start, start__lt=end, is_cancelled=False)
    if org_units is not None:
        shifts = shifts.filter(post__unit_id__in=list(org_units))
    staff = shifts.order_by().values_list(
        "post__unit_id", "pk", "members__user_id", "members__name"
    )
    for unit_id, shift_id, user_id, name in staff:
        tally = found[unit_id]
        tally.keys["shifts"].add(shift_id)
        if user_id is not None:
            tally.keys["staff"].add(("user", user_id))
        elif name:
            tally.keys["staff"].add(("name", name))
    people = EntryPerson.objects.filter(entry__at__gte=start, entry__at__lt=end)
    if org_units is not None:
        people = people.filter(entry__unit_id__in=list(org_units))
    logged = (
        people.values_list("entry__unit_id")
        .annotate(n=Count("pk"), fevers=Count("pk", filter=Q(is_fever=True)))
        .order_by()
    )
    for unit_id, n, fevers in logged:
        tally = found[unit_id]
        tally.counts["logged"] += n
        tally.counts["fevers"] += fevers
    return dict(found)
